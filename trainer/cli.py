"""The `trainer` command.

    trainer                         open the app (same as `trainer gui`)
    trainer gui [--camera X] [--mic Y]
    trainer run SCENARIO [--camera X] [--mic Y]   open the app straight into a visit
    trainer doctor                  check cameras, microphones, Qt, PortAudio and the model
    trainer validate PATH...        check scenario files or folders (errors as file:line:column)
    trainer --self-test             check this installation (models, landmarker, store, scenarios, UI)
    trainer --version

Only argparse and the standard library are imported at start-up: `trainer --version` must stay fast.
Qt is imported lazily, only for the GUI commands.
"""

from __future__ import annotations

import argparse
import sys

from trainer import __version__


def _add_io_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--camera", default=None, metavar="INDEX|FILE",
                   help="webcam index (default 0) or a video file to use instead of a webcam")
    p.add_argument("--mic", default=None, metavar="INDEX|FILE",
                   help="microphone device index (default: the system default) or an audio/video file whose "
                        "sound is used instead of a microphone")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
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

    p = sub.add_parser("doctor", help="check cameras, microphones, Qt, PortAudio and the face model")
    p.add_argument("--qt-probe", action="store_true", help=argparse.SUPPRESS)  # child process of the Qt check

    p = sub.add_parser("analyze", help="analyse a recording (video and/or audio) into CSV files and summary.json")
    p.add_argument("input", metavar="INPUT", help="a video file (with or without sound) or an audio file")
    p.add_argument("--out", required=True, metavar="DIR", help="folder for frames.csv, voice.csv, summary.json")
    p.add_argument("--patient-segments", metavar="FILE",
                   help="when the patient was heard: an RTTM file (first speaker = patient) or a start,end CSV")
    p.add_argument("--patient-audio", metavar="FILE",
                   help="the patient's playback signal, time-aligned with the microphone track")
    p.add_argument("--quiet", action="store_true", help="no progress bar")

    p = sub.add_parser("validate", help="check scenario files or folders; prints every error as file:line:column")
    p.add_argument("paths", nargs="+", metavar="PATH")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    # Bare `trainer` and `trainer --camera FILE` open the GUI.
    if not argv or argv[0].startswith("--") and argv[0] not in ("--version", "--self-test", "-h", "--help"):
        argv = ["gui", *argv]
    args = parser.parse_args(argv)
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
    if args.command == "run" and args.scenario.endswith((".yaml", ".yml")):
        # Check the file before opening any window, so a broken scenario is reported here, with its line.
        from trainer.core.errors import TrainerError
        from trainer.core.scenario import load_scenario

        try:
            load_scenario(args.scenario)
        except TrainerError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    if args.command == "validate":
        from trainer.core.scenario import validate_paths

        found, errors = validate_paths(args.paths)
        for s in found:
            print(f"ok: {s.path} ({s.id}, {len(s.steps)} steps)")
        for e in errors:
            print(e, file=sys.stderr)
        print(f"{len(found)} valid, {len(errors)} with errors", file=sys.stderr if errors else sys.stdout)
        return 1 if errors else 0
    if args.command in ("gui", "run"):
        from trainer.ui.app import run_gui  # the only place the CLI reaches into Qt

        return run_gui(args)
    parser.print_help()
    return 2


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

    try:
        from trainer.analysis.offline import analyze_recording

        summary = analyze_recording(args.input, args.out, patient_segments=args.patient_segments,
                                    patient_audio=args.patient_audio, progress=_ProgressBar(not args.quiet))
    except TrainerError as exc:
        print(f"\nerror: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ncancelled: partial results (if any) are in " + args.out, file=sys.stderr)
        return 130
    keys = [k for k in ("duration_s", "frames", "eye_contact_ratio", "engaged_ratio", "nods_per_min", "smiles",
                        "speech_s", "clinician_share", "processing_fps") if k in summary]
    print(f"wrote {args.out}: " + ", ".join(f"{k}={summary[k]}" for k in keys))
    if summary.get("truncated"):
        print(f"warning: {summary.get('truncated_message', 'the input ended early; partial results kept')}",
              file=sys.stderr)
        return 1
    return 0


def gui_main() -> int:
    """Entry point of the `trainer-gui` launcher (no console window on Windows)."""
    return main(["gui", *sys.argv[1:]])


if __name__ == "__main__":
    raise SystemExit(main())
