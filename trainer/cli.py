"""The `trainer` command.

    trainer                         open the app (same as `trainer gui`)
    trainer gui [--camera X] [--mic Y]
    trainer run SCENARIO [--camera X] [--mic Y]   open the app straight into a visit
    trainer run SCENARIO --headless --camera F --mic F --out DIR [--record-video]   the same visit without a window
    trainer simulate SCENARIO --clinician PROFILE --voice F --camera F [--speed N|--fast] [--record-video] --out DIR
    trainer doctor                  check cameras, microphones, sound output, Qt, PortAudio and the model
    trainer check [--camera X] [--mic Y] [--json]   the pre-visit check (camera, microphone, speaker)
    trainer progress [--learner NAME] [--scenario ID] [--json]   trends across a learner's sessions
    trainer validate PATH...        check scenario files or folders (errors as file:line:column)
    trainer lms status [--json]     results queued for the programme's learning record store (xAPI)
    trainer lms send                send them now (only when the site policy names an LRS)
    trainer export SESSION... --out FILE [--include-reflection] [--include-video]   sessions as one bundle file
    trainer report SESSION --out FILE.pdf|FILE.html   the debrief report of a session
    trainer import FILE             add a bundle's sessions to this machine's store (twice adds nothing)
    trainer --self-test             check this installation (models, landmarker, store, scenarios, UI)
    trainer --version

Only argparse and the standard library are imported at start-up: `trainer --version` must stay fast.
Qt is imported lazily, only for the GUI commands.
"""

from __future__ import annotations

import argparse
import sys

from trainer import __version__


class _Parser(argparse.ArgumentParser):
    """Usage errors as one line on stderr (exit status 2), not the usage block plus a message."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _use_language() -> None:
    """The command line speaks the app's language (site policy, the user's setting, the computer's language;
    README, French): errors and what the app's checks, summaries and reports say. Its --help, usage errors
    and its own progress lines stay English; JSON keys and ids are never translated."""
    from trainer.core.errors import TrainerError
    from trainer.core.i18n import set_language
    from trainer.core.policy import effective_settings
    from trainer.store.user_settings import load_user_settings

    try:
        set_language(effective_settings(user=load_user_settings()).language)
    except (TrainerError, OSError, ValueError):
        set_language("system")  # an unreadable policy or settings file is reported by the command itself


def _error(exc) -> str:
    """An error line for the terminal, in the language in use."""
    from trainer.core.i18n import _

    return _("error: {message}").format(message=exc)


def _input_spec(kind: str):
    def check(value: str) -> str:
        if value.lstrip("-").isdigit() and int(value) < 0:
            raise argparse.ArgumentTypeError(f"a {kind} index is 0 or more (trainer doctor lists them), got {value}")
        return value
    check.__name__ = kind  # argparse names the converter in some messages
    return check


def _add_io_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--camera", default=None, metavar="INDEX|FILE", type=_input_spec("camera"),
                   help="webcam index (default 0) or a video file to use instead of a webcam")
    p.add_argument("--mic", default=None, metavar="INDEX|FILE", type=_input_spec("microphone"),
                   help="microphone device index (default: the system default) or an audio/video file whose "
                        "sound is used instead of a microphone")
    p.add_argument("--captions", action="store_true",
                   help="show your own words as live captions during visits (transcribed on this computer; "
                        "Ctrl+K toggles them in the call window)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="trainer",
        description="Video-visit simulation trainer: rehearse telehealth visits with a virtual patient. "
                    "Everything is analysed on this machine; nothing leaves it.")
    parser.add_argument("--version", action="version", version=f"trainer {__version__}")
    parser.add_argument("--self-test", action="store_true",
                        help="check that this installation works (models, face landmarker, session store, "
                             "scenarios, patient view) and exit; non-zero exit status on any failure")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("gui", help="open the app (the default command)")
    _add_io_args(p)
    p.add_argument("--exit-after-first-window", action="store_true", help=argparse.SUPPRESS)

    p = sub.add_parser("run", help="open the app straight into a visit of SCENARIO (an id or a .yaml file)")
    p.add_argument("scenario")
    _add_io_args(p)
    p.add_argument("--screenshot", metavar="PNG",
                   help="save a picture of the visit window a few seconds in, then end the visit and quit")
    p.add_argument("--screenshot-delay", type=float, default=4.0, metavar="S", help=argparse.SUPPRESS)
    p.add_argument("--headless", action="store_true",
                   help="run the visit without a window (real time; the session is stored as usual) and write "
                        "summary.json and turns.csv to --out")
    p.add_argument("--out", metavar="DIR", help="with --headless: folder for summary.json and turns.csv")
    p.add_argument("--record-video", action="store_true",
                   help="record the camera video for the debrief, as the tick-box does (only if the site policy "
                        "allows it; kept beside the session store)")

    p = sub.add_parser("simulate", help="run a whole visit with a simulated clinician (for tests and benchmarks)")
    p.add_argument("scenario", help="a built-in scenario id or a .yaml file")
    p.add_argument("--clinician", required=True, metavar="PROFILE",
                   help="attentive, silent, interrupter, monologue or speak-freely (says each turn's intent "
                        "aloud with a text-to-speech voice, presses no card; the words choose the branches)")
    p.add_argument("--voice", action="append", default=[], metavar="FILE",
                   help="a recording of someone talking (audio file, video with sound, or a folder of them): "
                        "the clinician's voice; repeat for more (not needed by speak-freely)")
    p.add_argument("--camera", metavar="FILE", help="a video of a face, looped as the camera ('none': no camera)")
    pace = p.add_mutually_exclusive_group()
    pace.add_argument("--fast", action="store_true", help="as fast as the CPU allows (virtual clock, deterministic)")
    pace.add_argument("--speed", type=float, metavar="N", help="virtual clock held to N times real time")
    p.add_argument("--out", required=True, metavar="DIR",
                   help="folder for sessions.sqlite3 (the session, in the app's format), summary.json, turns.csv")
    p.add_argument("--record-video", action="store_true",
                   help="record the camera video with the session (only if the site policy allows it)")
    p.add_argument("--face-fps", type=float, default=None, metavar="N",
                   help="camera frames analysed per second of session time (default 10 with --fast or "
                        "--speed, where none is dropped; 15 in real time, where some may be)")
    p.add_argument("--headphones", action="store_true", help="no speaker path: the microphone does not hear "
                                                           "the patient")
    p.add_argument("--speaker-gain", type=float, default=-12.0, metavar="DB",
                   help="patient's voice in the microphone relative to the clinician's (default -12 dB)")
    p.add_argument("--speaker-delay", type=float, default=60.0, metavar="MS",
                   help="playback-to-microphone delay (default 60 ms)")
    p.add_argument("--noise", type=float, default=-40.0, metavar="DB",
                   help="background noise relative to the clinician's speech (default -40 dB)")

    p = sub.add_parser("replay", help="open the app on the replay of a stored session (its number in Past sessions)")
    p.add_argument("session", type=int, metavar="SESSION")
    p.add_argument("--screenshot", metavar="PNG", help=argparse.SUPPRESS)  # picture of the replay, then quit
    p.add_argument("--at", type=float, default=0.0, metavar="S", help="start at this session time (seconds)")

    p = sub.add_parser("doctor", help="check cameras, microphones, Qt, PortAudio and the face model")
    p.add_argument("--qt-probe", action="store_true", help=argparse.SUPPRESS)  # child process of the Qt check

    p = sub.add_parser("check", help="the pre-visit check: camera (face, framing, light, height), microphone "
                                     "(level, noise, clipping, a spoken sentence) and speaker, with a fix for "
                                     "each problem; exit status 1 when something needs fixing")
    _add_io_args(p)
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--no-speaker", action="store_true", help="do not play the patient phrase")

    p = sub.add_parser("progress", help="trends per measure and behaviour across a learner's sessions")
    p.add_argument("--learner", default=None, metavar="NAME", help="whose sessions (default: everyone's)")
    p.add_argument("--scenario", default=None, metavar="ID", help="only sessions of this scenario")
    p.add_argument("--json", action="store_true", help="print the series as JSON")

    p = sub.add_parser("analyze", help="analyse a recording (video and/or audio) or a time-aligned transcript "
                                       "into CSV files and summary.json")
    p.add_argument("input", metavar="INPUT", nargs="?",
                   help="a video file (with or without sound) or an audio file")
    p.add_argument("--out", required=True, metavar="DIR",
                   help="folder for frames.csv, voice.csv, utterances.csv, summary.json")
    p.add_argument("--transcript", metavar="FILE",
                   help="analyse a time-aligned transcript instead of a recording: Praat TextGrid (a tier "
                        "per speaker), WebVTT, SRT or CSV start,end,speaker,text; writes utterances.csv")
    p.add_argument("--transcribe", action="store_true",
                   help="also transcribe the clinician's speech offline and label it (utterances.csv)")
    p.add_argument("--clinician", metavar="SPEAKER",
                   help="the clinician's speaker name in --transcript (default: a name like 'Doctor' or "
                        "'Clinician', else the first speaker)")
    p.add_argument("--patient-name", action="append", default=[], metavar="NAME",
                   help="the patient's name, to credit using it (repeatable)")
    p.add_argument("--patient-segments", metavar="FILE",
                   help="when the patient was heard: an RTTM file (first speaker = patient) or a start,end CSV")
    p.add_argument("--patient-audio", metavar="FILE",
                   help="the patient's playback signal, time-aligned with the microphone track")
    p.add_argument("--quiet", action="store_true", help="no progress bar")

    p = sub.add_parser("validate", help="check scenario files or folders; prints every error as file:line:column")
    p.add_argument("paths", nargs="+", metavar="PATH")

    p = sub.add_parser("lms", help="results for the programme's learning record store (xAPI): status or send")
    lms = p.add_subparsers(dest="lms_command", metavar="status|send", required=True)
    q = lms.add_parser("status", help="how many statements are queued and sent, and the last error")
    q.add_argument("--json", action="store_true", help="machine-readable output")
    q = lms.add_parser("send", help="send the queued statements now, oldest first")
    q.add_argument("--batch", type=int, default=None, metavar="N", help=argparse.SUPPRESS)

    p = sub.add_parser("export", help="write sessions (ids as in Past sessions) to one bundle file")
    p.add_argument("sessions", nargs="+", type=int, metavar="SESSION")
    p.add_argument("--out", required=True, metavar="FILE", help="the bundle to write (e.g. visit.trainerbundle)")
    p.add_argument("--include-reflection", action="store_true",
                   help="include the learner's self-reflection (left out unless the learner chooses)")
    p.add_argument("--include-video", action="store_true",
                   help="include the sessions' video recordings, if they have one (left out unless the learner "
                        "chooses)")
    p = sub.add_parser("report", help="write a session's debrief report as PDF or HTML")
    p.add_argument("session", type=int, metavar="SESSION")
    p.add_argument("--out", required=True, metavar="FILE", help="FILE.pdf or FILE.html")
    p.add_argument("--no-reflection", action="store_true", help="leave the learner's reflection out")
    p = sub.add_parser("import", help="add the sessions of a bundle file to this machine's store")
    p.add_argument("bundle", metavar="FILE")
    return parser


def _bundle(args) -> int:
    from trainer.core.errors import TrainerError
    from trainer.store.bundle import export_sessions, import_bundle
    from trainer.store.db import SessionStore
    from trainer.store.paths import default_db_path

    try:
        store = SessionStore(default_db_path())
        if args.command == "export":
            out = export_sessions(store, args.sessions, args.out, include_reflection=args.include_reflection,
                                  include_video=args.include_video)
            videos = sum(1 for sid in args.sessions if store.recording(sid) is not None) if args.include_video else 0
            print(f"wrote {out}: {len(args.sessions)} session(s)"
                  + (", reflection included" if args.include_reflection else "")
                  + (f", {videos} video recording(s) included" if args.include_video else ""))
        else:
            report = import_bundle(store, args.bundle)
            print(report.line() + (": " + ", ".join(map(str, report.added)) if report.added else ""))
    except TrainerError as exc:
        print(_error(exc), file=sys.stderr)
        return 1
    return 0


def _report(args) -> int:
    from trainer.core.errors import TrainerError
    from trainer.store.db import SessionStore
    from trainer.store.paths import default_db_path
    from trainer.ui.report_pdf import write_report  # Qt draws the PDF (no window is opened)

    try:
        out = write_report(SessionStore(default_db_path()), args.session, args.out,
                           include_reflection=not args.no_reflection)
    except TrainerError as exc:
        print(_error(exc), file=sys.stderr)
        return 1
    print(f"wrote {out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    from trainer.privacy import restrict_umask

    restrict_umask()  # every file and folder the app creates is the user's alone (README, Privacy)
    from trainer.core.threads import fix_mmap_threshold

    fix_mmap_threshold()  # before any thread starts: frames must not fragment the threads' arenas
    parser = build_parser()
    # Bare `trainer` and `trainer --camera FILE` open the GUI.
    if not argv or argv[0].startswith("--") and argv[0] not in ("--version", "--self-test", "-h", "--help"):
        argv = ["gui", *argv]
    args = parser.parse_args(argv)
    _use_language()
    if args.self_test:
        from trainer.selftest import run_selftest

        return run_selftest()
    if args.command == "doctor" and args.qt_probe:
        from trainer.ui.probe import print_platform_name

        return print_platform_name()
    if args.command == "doctor":
        from trainer.doctor import run_doctor

        return run_doctor()
    if args.command == "analyze":
        return _analyze(args)
    if args.command == "simulate":
        return _simulate(args)
    if args.command == "run" and args.headless:
        return _headless(args)
    if args.command == "lms":
        return _lms(args)
    if args.command == "check":
        return _check(args)
    if args.command == "progress":
        return _progress(args)
    if args.command in ("export", "import"):
        return _bundle(args)
    if args.command == "report":
        return _report(args)
    if args.command == "run":
        # Check the scenario before opening any window, so an unknown id or a broken file is reported here.
        from trainer.core.errors import TrainerError

        try:
            _resolve_scenario(args.scenario)
        except TrainerError as exc:
            print(_error(exc).splitlines()[0], file=sys.stderr)
            return 2
    if args.command == "validate":
        from pathlib import Path

        from trainer.core.errors import TrainerError
        from trainer.core.policy import effective_settings
        from trainer.core.scenario import validate_paths
        from trainer.resources import builtin_scenarios_dir

        try:  # a pack must not reuse an id of what the app already offers
            packs = [Path(p) for p in effective_settings().scenario_packs]
        except TrainerError as exc:
            print(f"warning: the site policy cannot be read, checking against the built-in scenarios only: "
                  f"{exc}".splitlines()[0], file=sys.stderr)
            packs = []
        found, errors = validate_paths(args.paths, against=[builtin_scenarios_dir(), *packs])
        for s in found:
            print(f"ok: {s.path} ({s.id}, {len(s.steps)} steps)")
        for e in errors:
            print(e, file=sys.stderr)
        print(f"{len(found)} valid, {len(errors)} with errors", file=sys.stderr if errors else sys.stdout)
        return 1 if errors else 0
    if args.command == "replay":
        from trainer.core.errors import TrainerError
        from trainer.store.db import SessionStore
        from trainer.store.paths import default_db_path

        try:
            SessionStore(default_db_path()).session(args.session)
        except TrainerError as exc:
            print(_error(exc).splitlines()[0], file=sys.stderr)
            return 2
    if args.command in ("gui", "run", "replay"):
        from trainer.ui.app import run_gui  # the only place the CLI reaches into Qt

        return run_gui(args)
    parser.print_help()
    return 2


def _resolve_scenario(ref: str):
    """A scenario id (built-in or from the policy's packs) or a .yaml path; ScenarioError when unknown."""
    from pathlib import Path

    from trainer.core.errors import ScenarioError
    from trainer.core.policy import effective_settings
    from trainer.core.scenario import discover_scenarios, load_scenario
    from trainer.resources import builtin_scenarios_dir

    if ref.endswith((".yaml", ".yml")) or Path(ref).is_file():
        return load_scenario(ref)
    folders = [builtin_scenarios_dir(), *(Path(p) for p in effective_settings().scenario_packs)]
    scenarios, _errors = discover_scenarios(folders)
    for s in scenarios:
        if s.id == ref:
            return s
    from trainer.core.i18n import _

    raise ScenarioError(ref, _("no scenario has this id (known: {ids})").format(ids=", ".join(s.id for s in scenarios)))


def _lms(args) -> int:
    import json

    from trainer.core.errors import TrainerError
    from trainer.core.policy import effective_settings
    from trainer.store.db import SessionStore
    from trainer.store.outbox import status
    from trainer.store.paths import default_db_path

    try:
        lms = effective_settings().lms
        store = SessionStore(default_db_path())
        if args.lms_command == "status":
            st = status(store)
            if args.json:
                print(json.dumps({"lrs": lms.endpoint if lms else None, **st.as_dict()}, indent=2))
            else:
                print("LRS: " + (lms.describe() if lms else "none (the site policy names no learning record "
                                                            "store, so nothing is sent)"))
                print(st.line())
            return 0
        if lms is None:
            print("error: the site policy names no learning record store (lms: in policy.yaml); nothing is sent",
                  file=sys.stderr)
            return 1
        from trainer.lms import send_pending  # the only package that opens a network connection

        kwargs = {"batch": args.batch} if args.batch else {}
        report = send_pending(store, lms, **kwargs)
    except TrainerError as exc:
        print(_error(exc), file=sys.stderr)
        return 1
    print(f"sent {report.sent} statement(s) to {lms.endpoint}"
          + (f" ({report.already_there} the LRS already had)" if report.already_there else "")
          + f"; {report.pending} still queued")
    return 0


class _ProgressBar:
    """Progress on stderr: a redrawn one-line bar on a terminal, a line per quarter when redirected."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.tty = sys.stderr.isatty()
        self._last: tuple[str, int] | None = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        pct = int(100 * done / total) if total else 0
        step = pct if self.tty else pct // 25 * 25
        if self._last == (stage, step):
            return
        self._last = (stage, step)
        if not self.tty:
            sys.stderr.write(f"{stage}: {step}% ({done}/{total})\n")
            return
        filled = pct * 30 // 100
        sys.stderr.write(f"\r{stage:>5} [{'#' * filled}{'.' * (30 - filled)}] {pct:3d}% ({done}/{total})")
        if pct >= 100:
            sys.stderr.write("\n")
        sys.stderr.flush()


def _analyze(args) -> int:
    from trainer.core.errors import TrainerError

    if (args.input is None) == (args.transcript is None):
        print("error: give either a recording (INPUT) or --transcript FILE", file=sys.stderr)
        return 2
    if args.transcript is not None:
        return _analyze_transcript(args)
    try:
        from trainer.analysis.offline import analyze_recording

        summary = analyze_recording(args.input, args.out, patient_segments=args.patient_segments,
                                    patient_audio=args.patient_audio, progress=_ProgressBar(not args.quiet),
                                    transcribe=args.transcribe, patient_names=args.patient_name)
    except TrainerError as exc:
        print(f"{chr(10) if sys.stderr.isatty() and not args.quiet else ''}{_error(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ncancelled: partial results (if any) are in " + args.out, file=sys.stderr)
        return 130
    keys = [k for k in ("duration_s", "frames", "eye_contact_ratio", "engaged_ratio", "nods_per_min", "smiles",
                        "speech_s", "clinician_share", "processing_fps") if k in summary]
    print(f"wrote {args.out}: " + ", ".join(f"{k}={summary[k]}" for k in keys))
    if summary.get("truncated"):
        # The analysis says why and what the results cover (analysis/offline_video.py, key "message").
        print(f"warning: {summary.get('message') or 'the input ended early; partial results kept'}",
              file=sys.stderr)
        return 1
    return 0


def _usage(msg: str) -> int:
    print(f"error: {msg}", file=sys.stderr)
    return 2


def _simulate(args) -> int:
    from pathlib import Path

    from trainer.core.errors import TrainerError
    from trainer.sim.clinician import PROFILES, SpeakerPath

    profile = PROFILES.get(args.clinician)
    if profile is None:
        return _usage(f"unknown clinician profile '{args.clinician}' (choose from {', '.join(PROFILES)})")
    if profile.speaks and not profile.says_intent and not args.voice:
        return _usage("trainer simulate needs --voice FILE: a recording of someone talking, used as the "
                      "clinician's voice (the app ships none)")
    if not args.camera:
        return _usage("trainer simulate needs --camera FILE: a video of a face, looped as the camera "
                      "(or --camera none)")
    if (args.face_fps is not None and args.face_fps <= 0) or (args.speed is not None and args.speed <= 0):
        return _usage("--face-fps and --speed must be positive")
    try:
        from trainer.sim.run import simulate
        from trainer.sim.voice import ClinicianVoice
        from trainer.store.db import SessionStore

        scenario = _resolve_scenario(args.scenario)
        voice = ClinicianVoice.from_files(args.voice) if profile.speaks and args.voice else None
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        store = SessionStore(out / "sessions.sqlite3")
        speed = 0.0 if args.fast else args.speed
        result = simulate(scenario, store, profile=profile, voice=voice,
                          camera=None if args.camera == "none" else args.camera,
                          speaker=SpeakerPath(on=not args.headphones, gain_db=args.speaker_gain,
                                              delay_s=args.speaker_delay / 1000.0, noise_db=args.noise),
                          face_fps=args.face_fps, speed=speed, out_dir=out, record_video=args.record_video)
    except TrainerError as exc:
        return _usage(str(exc))
    rep = result.report
    fig = rep["figures"]
    print(f"wrote {args.out}: session {result.session_id} ({rep['end_reason']}), {rep['duration_s']:.1f} s of visit "
          f"in {result.wall_s:.1f} s, {fig['turns']} turns ({fig['spoken_turns_timed_out']} spoken turns timed out), "
          f"end latency max {fig['end_latency_max_s']} s, {len(fig['interruptions_reported'])} interruptions")
    intended = rep["simulation"].get("intended_cards")
    if intended is not None:
        heard = {e["step"]: e["card"] for e in rep.get("intents_heard", [])}
        taken = sum(1 for step, card in heard.items() if intended.get(step) == card)
        print(f"speaking freely: {taken} of {len(heard)} turns reached took the intended card by the words alone")
    return 0


def _headless(args) -> int:
    from trainer.core.errors import TrainerError

    if not args.out:
        return _usage("trainer run --headless needs --out DIR (where summary.json and turns.csv go)")
    if not args.camera or not args.mic:
        return _usage("trainer run --headless needs --camera and --mic (files or device indexes)")
    try:
        from trainer.sim.run import run_headless
        from trainer.store.db import SessionStore
        from trainer.store.paths import default_db_path

        scenario = _resolve_scenario(args.scenario)
        report = run_headless(scenario, SessionStore(default_db_path()), camera=args.camera, mic=args.mic,
                              out_dir=args.out, record_video=args.record_video)
    except TrainerError as exc:
        return _usage(str(exc))
    fig = report["figures"]
    print(f"wrote {args.out}: session {report['session_id']} ({report['end_reason']}), {report['duration_s']:.1f} s, "
          f"{fig['turns']} turns, end latency max {fig['end_latency_max_s']} s")
    return 0


def _check(args) -> int:
    import json

    from trainer.analysis.precheck import format_report, run_precheck

    camera = args.camera if args.camera is not None else "0"
    mic = args.mic if args.mic is not None else "default"
    # The instructions go to stderr, so that --json output stays clean.
    report = run_precheck(camera, mic, speaker=not args.no_speaker,
                          progress=lambda text: print(text, file=sys.stderr, flush=True))
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print(format_report(report))
    return 0 if report.passed else 1


def _progress(args) -> int:
    import json

    from trainer.core.debrief import value_text
    from trainer.core.errors import TrainerError
    from trainer.store.db import SessionStore
    from trainer.store.paths import default_db_path

    try:
        data = SessionStore(default_db_path()).progress(args.learner, args.scenario)
    except TrainerError as exc:
        print(_error(exc), file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(data, indent=2, ensure_ascii=False))
        return 0
    sessions = data["sessions"]
    if not sessions:
        print("No sessions yet" + (f" for {args.learner}" if args.learner else "") + ".")
        return 0
    print(f"{len(sessions)} session(s), oldest first: " +
          ", ".join(s["started_at"][:10] for s in sessions))
    for m in data["measures"]:
        shown = [value_text(m["id"], {"value": v, "measured_s": 1}) if v is not None else "-" for v in m["values"]]
        band = m["band"]
        ref = f"  (reference {band['low'] * 100:.0f}-{band['high'] * 100:.0f} %, {band['source']})" if band else ""
        print(f"{m['label']}: {' -> '.join(shown)}{ref}")
    for b in data["behaviours"]:
        marks = "".join({True: "+", False: "o", None: "."}[v] for v in b["shown"])
        print(f"{b['label']}: {marks}   (+ shown, o not shown, . not practised or not measurable)")
    return 0


def _analyze_transcript(args) -> int:
    import json
    from pathlib import Path

    from trainer.analysis.offline_transcript import analyze_transcript
    from trainer.core.errors import TrainerError

    try:
        summary = analyze_transcript(args.transcript, args.out, clinician=args.clinician,
                                     patient_names=args.patient_name)
    except TrainerError as exc:
        print(_error(exc), file=sys.stderr)
        return 2
    (Path(args.out) / "summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n",
                                                 encoding="utf-8")
    v = summary["verbal"]
    print(f"wrote {args.out}: clinician={summary['clinician_speaker']!r}, "
          f"clinician_share={summary['clinician_share']}, utterances={v['utterances']}, "
          f"open_questions={v['open_questions']}, closed_questions={v['closed_questions']}")
    for advice in v["jargon_unexplained"]:
        print(f"  jargon: {advice}")
    return 0


def gui_main() -> int:
    """Entry point of the `trainer-gui` launcher (no console window on Windows)."""
    return main(["gui", *sys.argv[1:]])


if __name__ == "__main__":
    raise SystemExit(main())
