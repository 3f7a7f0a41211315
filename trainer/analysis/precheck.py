"""The pre-visit check: camera, microphone and speaker, each with a plain fix for every problem.

`run_precheck(camera, mic)` is what the app runs before a visit and what `trainer check --camera X
--mic Y [--json]` prints. It takes about 20 s with live devices (camera and microphone together for
`LIVE_SECONDS` while the clinician looks at the camera and says a sentence, then a patient phrase on the
speaker); a file given instead of a device is read as fast as it decodes, first `FILE_SECONDS` only.

Each part yields `CheckItem`s with a status:
  - "pass": fine;
  - "fix": the visit would give wrong or no feedback on this; `fix` says what to do;
  - "warn": the visit works, but something is worth knowing (no loudspeaker, an echo to guard against).
The report `passed` when no item is "fix".

Thresholds are the live analysis's own (QualityMonitor for framing and light, the Silero detector for
speech): the check judges the set-up by the same rules the visit will. The advice for each quality flag
is `trainer.analysis.quality.ADVICE`, shown in the call window too.

No Qt here; the UI passes `on_frame` (self-view) and `on_level` (meter) callbacks, called on the
worker thread.
"""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Callable

import numpy as np

from trainer.core.errors import TrainerError
from trainer.core.i18n import _, number

PASS, FIX, WARN = "pass", "fix", "warn"
LIVE_SECONDS = 8.0
FILE_SECONDS = 6.0
FILE_FPS = 10.0  # frames per second analysed from a file (the flags average over about a second)
SPEAKER_PHRASE = "Hello, can you hear me? I am ready when you are."

# Camera: share of analysed frames (after the first second, while the smoothing settles) in which a
# condition must hold to count as a problem of the set-up rather than a passing moment.
PROBLEM_SHARE = 0.4
MIN_FACE_SHARE = 0.6
# Microphone (dBFS of 64 ms blocks): below SILENT_DB the input carries no sound at all (muted, wrong
# device, a silent file); a noise floor above NOISY_DB masks quiet speech; a speaking level below
# QUIET_DB is too soft for the detector to follow reliably.
SILENT_DB = -70.0
NOISY_DB = -42.0
QUIET_DB = -38.0
CLIP_LEVEL = 0.99
CLIP_SHARE = 0.002
MIN_SPEECH_S = 0.8
# Speaker echo: the microphone level while the phrase plays, above the level just before it.
ECHO_RISE_DB = 10.0


@dataclass
class CheckItem:
    """One finding of the check: which part, a short name, status, what was seen and (if needed) the fix."""

    part: str  # camera | microphone | speaker
    name: str
    status: str  # pass | fix | warn
    message: str
    fix: str = ""


@dataclass
class PrecheckReport:
    """All findings, the measured figures of each part, and the overall result."""

    camera: str
    mic: str
    items: list[CheckItem] = field(default_factory=list)
    figures: dict = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return not any(i.status == FIX for i in self.items)

    def problems(self) -> list[CheckItem]:
        return [i for i in self.items if i.status != PASS]

    @classmethod
    def from_dict(cls, data: dict) -> "PrecheckReport":
        """Rebuild a report from `to_dict()` output (a saved `trainer check --json` result)."""
        return cls(data["camera"], data["mic"], [CheckItem(**i) for i in data["items"]], data.get("figures", {}),
                   data.get("seconds", 0.0))

    def to_dict(self) -> dict:
        return {"passed": self.passed, "camera": self.camera, "mic": self.mic, "seconds": round(self.seconds, 1),
                "items": [asdict(i) for i in self.items], "figures": self.figures}


def _is_device(spec) -> bool:
    return spec is None or spec == "default" or isinstance(spec, int) or (isinstance(spec, str) and spec.isdigit())


# -- camera ------------------------------------------------------------------------------------------

def check_camera(spec, seconds: float | None = None, on_frame: Callable | None = None,
                 cancelled: Callable[[], bool] = lambda: False) -> tuple[list[CheckItem], dict]:
    """Look at the camera (or video file) for a few seconds: face found, framing, light, camera height.

    Returns (items, figures). `on_frame(frame, observation)` is called for every analysed frame."""
    from trainer.analysis.face import create_face_processor
    from trainer.analysis.quality import ADVICE
    from trainer.capture.video import open_frame_source
    from trainer.core.clock import SessionClock

    if spec is None or spec == "":
        return [CheckItem("camera", "camera", FIX, _("No camera is chosen."),
                          _("Choose a webcam, or give a video file with --camera."))], {}
    live = _is_device(spec)
    seconds = seconds or (LIVE_SECONDS if live else FILE_SECONDS)
    clock = SessionClock()
    source = open_frame_source(spec, clock=clock, realtime=live)
    try:
        source.open()
    except TrainerError as exc:
        return [CheckItem("camera", "camera", FIX, _("The camera cannot be used: {error}").format(error=exc.message),
                          exc.hint or _("Close other apps that use the camera, or choose another one."))], {}
    processor = create_face_processor()
    frames = faces = 0
    flag_counts: dict[str, int] = {}
    judged = 0
    last_t = -1.0
    clock.start()
    t_start = time.monotonic()
    try:
        for frame in source.frames():
            if cancelled() or frame.t > seconds or (live and time.monotonic() - t_start > seconds + 2):
                break
            if not live and frame.t - last_t < 1.0 / FILE_FPS - 1e-3:
                continue  # a file: about FILE_FPS frames a second are plenty for the set-up
            last_t = frame.t
            sample, obs = processor.process(frame)
            frames += 1
            faces += bool(sample.face)
            if frame.t >= 1.0:
                judged += 1
                for flag in sample.quality:
                    flag_counts[flag] = flag_counts.get(flag, 0) + 1
            if on_frame is not None:
                on_frame(frame, obs)
    finally:
        source.stop()
        source.close()
        processor.close()
    figures = {"frames": frames, "face_share": round(faces / frames, 2) if frames else 0.0,
               "flag_shares": {k: round(v / judged, 2) for k, v in flag_counts.items()} if judged else {}}
    if frames == 0:
        return [CheckItem("camera", "camera", FIX, _("The camera gave no picture."),
                          _("Close other apps that use the camera, check its cable or privacy shutter, "
                          "or choose another camera."))], figures
    items: list[CheckItem] = []
    if faces / frames < MIN_FACE_SHARE:
        items.append(CheckItem("camera", "face found", FIX,
                               _("Your face was in view only {share} of the time.").format(share=f"{faces / frames:.0%}"),
                               _("Sit facing the camera with your whole face in view and nothing covering it.")))
        if not flag_counts.get("too_dark"):
            return items, figures
    else:
        items.append(CheckItem("camera", "face found", PASS, _("Your face was in view {share} of the time.").format(
            share=f"{faces / frames:.0%}")))
    problems = [f for f, n in flag_counts.items() if judged and n / judged >= PROBLEM_SHARE and f != "face_lost"]
    groups = {"framing": ("face_too_small", "off_centre", "multiple_faces"), "light": ("too_dark", "backlit"),
              "camera at eye level": ("camera_above_eye_level", "camera_below_eye_level")}
    for name, flags in groups.items():
        found = [f for f in flags if f in problems]
        if found:
            items.append(CheckItem("camera", name, FIX, " ".join(_(_CAMERA_SEEN[f]) for f in found),
                                   " ".join(_(ADVICE[f]) for f in found)))
        else:
            items.append(CheckItem("camera", name, PASS, _(_CAMERA_GOOD[name])))
    return items, figures


_CAMERA_SEEN = {  # translated where used (trainer.core.i18n)
    "face_too_small": "Your face is small in the picture.",
    "off_centre": "Your face is not in the middle of the picture.",
    "multiple_faces": "More than one face is in view.",
    "too_dark": "Your face is too dark to read.",
    "backlit": "The light behind you is much brighter than your face.",
    "camera_above_eye_level": "The camera looks down on you.",
    "camera_below_eye_level": "The camera looks up at you.",
}
_CAMERA_GOOD = {"framing": "Head and shoulders fill the picture, centred.",
                "light": "Your face is evenly lit.",
                "camera at eye level": "The camera is about level with your eyes."}


# -- microphone --------------------------------------------------------------------------------------

def _read_audio(spec, seconds: float, on_level: Callable | None, cancelled) -> tuple[np.ndarray, int]:
    """Up to `seconds` of mono 16 kHz audio from a device (in real time) or a file (its start)."""
    from trainer.analysis.voice import rms_db
    from trainer.capture.audio import DEFAULT_RATE, open_audio_source
    from trainer.core.clock import SessionClock

    clock = SessionClock()
    live = _is_device(spec)
    source = open_audio_source(spec, clock=clock, realtime=live)
    source.open()
    clock.start()
    chunks: list[np.ndarray] = []
    got = 0
    t0 = time.monotonic()
    try:
        for block in source.blocks():
            if cancelled() or (live and time.monotonic() - t0 > seconds + 2):
                break
            if len(block.samples) == 0:
                raise TrainerError(_("The microphone stopped while it was being checked."),
                                   hint=_("Check its cable, or close other apps that use it."))
            chunks.append(block.samples)
            got += len(block.samples)
            if on_level is not None:
                on_level(rms_db(block.samples))
            if got >= seconds * DEFAULT_RATE:
                break
    finally:
        source.stop()
        source.close()
    return (np.concatenate(chunks) if chunks else np.zeros(0, np.float32)), DEFAULT_RATE


def check_microphone(spec, seconds: float | None = None, on_level: Callable | None = None,
                     cancelled: Callable[[], bool] = lambda: False) -> tuple[list[CheckItem], dict]:
    """Listen while the clinician says a sentence: level, noise floor, clipping, and whether speech was heard."""
    from trainer.analysis.vad import RATE, create_vad, frames_of, speech_probs
    from trainer.analysis.voice import rms_db

    if spec is None:
        return [CheckItem("microphone", "microphone", FIX, _("No microphone is chosen."),
                          _("Choose a microphone, or give an audio file with --mic."))], {}
    seconds = seconds or (LIVE_SECONDS if _is_device(spec) else FILE_SECONDS)
    try:
        samples, rate = _read_audio(spec, seconds, on_level, cancelled)
    except TrainerError as exc:
        return [CheckItem("microphone", "microphone", FIX, _("The microphone cannot be used: {error}").format(error=exc.message),
                          exc.hint or _("Plug in a microphone or headset, or choose another one."))], {}
    if len(samples) < rate // 2:
        return [CheckItem("microphone", "microphone", FIX, _("The microphone gave less than half a second of sound."),
                          _("Check that it is plugged in and not used by another app."))], {}
    assert rate == RATE
    blocks = frames_of(samples, 1024)  # 64 ms, as the live meter
    levels = np.array([rms_db(b) for b in blocks])
    floor = float(np.percentile(levels, 10))
    peak_level = float(levels.max())
    clipped = float(np.mean(np.abs(samples) >= CLIP_LEVEL))
    probs = speech_probs(samples, create_vad("silero"))
    speech = probs > 0.5
    speech_s = float(speech.sum() * 512 / RATE)
    frame_levels = np.array([rms_db(f) for f in frames_of(samples, 512)])
    voice_db = float(np.median(frame_levels[speech[:len(frame_levels)]])) if speech.any() else None
    figures = {"seconds": round(len(samples) / rate, 1), "noise_floor_db": round(floor, 1),
               "loudest_db": round(peak_level, 1), "clipped_share": round(clipped, 4),
               "speech_s": round(speech_s, 1), "voice_db": None if voice_db is None else round(voice_db, 1)}
    items: list[CheckItem] = []
    if peak_level < SILENT_DB:
        items.append(CheckItem("microphone", "sound", FIX, _("The microphone gives no sound at all."),
                               _("Unmute it (a mute switch on the headset or in the system sound settings), "
                               "check the input level, or choose another microphone.")))
        return items, figures
    items.append(CheckItem("microphone", "level meter", PASS, _("Sound reaches the app (loudest {db} dB).").format(
        db=f"{peak_level:.0f}")))
    if floor > NOISY_DB:
        items.append(CheckItem("microphone", "background noise", FIX,
                               _("The room is noisy (background at {db} dB).").format(db=f"{floor:.0f}"),
                               _("Close the door or window, move away from fans, or use a headset microphone.")))
    else:
        items.append(CheckItem("microphone", "background noise", PASS, _("The room is quiet enough ({db} dB).").format(
            db=f"{floor:.0f}")))
    if clipped > CLIP_SHARE:
        items.append(CheckItem("microphone", "clipping", FIX, _("Your voice is too loud for the microphone and distorts."),
                               _("Turn the input level down in the system sound settings, or move the microphone "
                               "a little further away.")))
    else:
        items.append(CheckItem("microphone", "clipping", PASS, _("No distortion.")))
    if speech_s < MIN_SPEECH_S:
        items.append(CheckItem("microphone", "say a sentence", FIX, _("No speech was heard."),
                               _("Say a full sentence at your normal voice while the check listens; if you did, "
                               "move closer to the microphone or choose the right one.")))
    elif voice_db is not None and voice_db < QUIET_DB:
        items.append(CheckItem("microphone", "say a sentence", FIX,
                               _("Your voice was heard but is quiet ({db} dB).").format(db=f"{voice_db:.0f}"),
                               _("Move closer to the microphone or raise its input level.")))
    else:
        items.append(CheckItem("microphone", "say a sentence", PASS, _("Your speech was heard ({seconds} s).").format(
            seconds=number(speech_s))))
    return items, figures


# -- speaker -----------------------------------------------------------------------------------------

def check_speaker(mic_spec=None, cancelled: Callable[[], bool] = lambda: False,
                  voice=None) -> tuple[list[CheckItem], dict]:
    """Play a short patient phrase on the sound output; with a live microphone, listen for it at the same
    time: if the microphone hears the patient, suggest headphones (the echo guard keeps the patient's
    voice from counting as the clinician's either way)."""
    from trainer.capture.patient_voice import PatientPlayer, PatientVoice
    from trainer.core.clock import SessionClock

    try:
        line = (voice or PatientVoice()).render(SPEAKER_PHRASE)
    except TrainerError as exc:
        return [CheckItem("speaker", "patient voice", WARN, _("The patient's voice cannot be made: {error}").format(error=exc.message),
                          _("Their lines will show as captions; reinstall the app to get the voice back."))], {}
    clock = SessionClock()
    player = PatientPlayer(clock)
    mode = player.open()
    figures: dict = {"output": mode, "phrase_s": round(line.duration, 1)}
    if mode != "device":
        player.close()
        figures["reason"] = player.reason
        return [CheckItem("speaker", "sound output", WARN, _("No loudspeaker or headphones were found."),
                          _("Connect speakers or headphones and check the system's output device; until then the "
                          "patient's lines show as captions only."))], figures
    items = [CheckItem("speaker", "sound output", PASS, _("A patient phrase was played on the sound output."))]
    heard: list[tuple[float, float]] = []
    listener = None
    if mic_spec is not None and _is_device(mic_spec):
        listener = threading.Thread(target=_listen, args=(mic_spec, line.duration + 1.5, heard, cancelled),
                                    daemon=True)
        listener.start()
    clock.start()
    player.play(0.5, line)  # half a second of quiet first: the microphone's level before the phrase
    deadline = 0.5 + line.duration + 0.3
    while clock.now() < deadline and not cancelled():
        time.sleep(0.05)
    player.close()
    if listener is not None:
        listener.join(3)
        before = [db for t, db in heard if t < 0.45]
        during = [db for t, db in heard if 0.6 <= t <= 0.5 + line.duration]
        if before and during:
            rise = float(np.median(during) - np.median(before))
            figures["echo_rise_db"] = round(rise, 1)
            if rise >= ECHO_RISE_DB:
                items.append(CheckItem("speaker", "echo", WARN,
                                       _("Your microphone hears the patient's voice from the speakers."),
                                       _("Headphones are best. With speakers, the echo guard stays on and keeps the "
                                       "patient's voice from counting as yours; keep the volume moderate.")))
            else:
                items.append(CheckItem("speaker", "echo", PASS, _("The microphone does not pick up the patient's voice.")))
    return items, figures


def _listen(spec, seconds: float, out: list, cancelled) -> None:
    from trainer.analysis.voice import rms_db
    from trainer.capture.audio import open_audio_source
    from trainer.core.clock import SessionClock

    clock = SessionClock()
    try:
        source = open_audio_source(spec, clock=clock)
        source.open()
    except TrainerError:
        return
    clock.start()
    try:
        for block in source.blocks():
            if cancelled() or block.t > seconds or len(block.samples) == 0:
                break
            out.append((block.t, rms_db(block.samples)))
    finally:
        source.stop()
        source.close()


# -- all together ------------------------------------------------------------------------------------

def run_precheck(camera, mic, *, on_frame: Callable | None = None, on_level: Callable | None = None,
                 progress: Callable[[str], None] | None = None, cancelled: Callable[[], bool] = lambda: False,
                 speaker: bool = True, voice=None) -> PrecheckReport:
    """Camera and microphone together (the clinician looks at the camera and says a sentence), then the
    speaker. `progress(text)` says which step is running."""
    t0 = time.monotonic()
    report = PrecheckReport(str(camera), str(mic))
    say = progress or (lambda text: None)
    say(_("Look at the camera and say a sentence, as you would greet a patient."))
    results: dict[str, tuple[list[CheckItem], dict]] = {}

    def cam():
        results["camera"] = check_camera(camera, on_frame=on_frame, cancelled=cancelled)

    cam_thread = threading.Thread(target=cam, name="precheck-camera", daemon=True)
    cam_thread.start()
    results["microphone"] = check_microphone(mic, on_level=on_level, cancelled=cancelled)
    cam_thread.join()
    if speaker and not cancelled():
        say(_("Listen: the patient says a short phrase."))
        results["speaker"] = check_speaker(mic, cancelled=cancelled, voice=voice)
    for part in ("camera", "microphone", "speaker"):
        if part in results:
            items, figures = results[part]
            report.items += items
            report.figures[part] = figures
    report.seconds = time.monotonic() - t0
    return report


def format_report(report: PrecheckReport) -> str:
    """The report as plain text: one line per finding, fixes indented, and the result last."""
    mark = {PASS: "ok  ", FIX: "FIX ", WARN: "note"}
    lines = []
    for item in report.items:
        lines.append(f"[{mark[item.status]}] {item.part}, {item.name}: {item.message}")
        if item.fix and item.status != PASS:
            lines.append(f"       Fix: {item.fix}")
    lines.append("")
    lines.append("Ready for a visit." if report.passed else
                 f"Fix this before the visit: {sum(i.status == FIX for i in report.items)} problem(s).")
    return "\n".join(lines)
