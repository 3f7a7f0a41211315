"""`trainer --self-test`: prove that this installation (source checkout or packaged app) can do its job.

Each check prints one line, OK / FAIL / WARN / SKIP with the reason, as soon as it finishes, so that even
a native crash (Qt or MediaPipe aborting the process) shows which check was running. The exit code is 1
when any check failed, else 0. WARN marks something the app can run without (e.g. no PortAudio: the
visit still runs without a microphone), SKIP a part that is not in this build.

The checks use the app's own code paths (model loader, FaceAnalyzer, SessionStore, scenario loader,
the patient view), not re-implementations, so a packaging mistake shows up here and not at a clinic.
"""

from __future__ import annotations

import json
import math
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, TextIO

OK, FAIL, WARN, SKIP = "OK", "FAIL", "WARN", "SKIP"
SELFTEST_IMAGE = "selftest/face.png"


class Skip(Exception):
    """A check does not apply to this build; the message says why."""


class Warn(Exception):
    """A check found something the app can run without; the message says what is affected."""


@dataclass
class CheckResult:
    name: str
    status: str
    detail: str
    seconds: float


# -- the checks ---------------------------------------------------------------------------------------

def check_policy() -> str:
    from trainer.core.policy import effective_settings, load_policy

    policy = load_policy()
    settings = effective_settings(policy)
    if not policy.files:
        looked = ", ".join(str(p) for p in policy.searched) or "nowhere (TRAINER_POLICY is empty)"
        return f"no site policy file (looked in: {looked})"
    locked = [s.key for s in settings if s.locked]
    files = ", ".join(str(f.path) for f in policy.files)
    return f"{files} is valid; locked: {', '.join(locked) or 'nothing'}"


def check_models() -> str:
    from trainer.analysis.models import model_status
    from trainer.resources import models_dir

    folder = models_dir()
    manifest_path = folder / "manifest.json"
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RuntimeError(f"cannot read {manifest_path}: {exc}") from None
    if not manifest:
        raise RuntimeError(f"{manifest_path} lists no models")
    problems = []
    for name in sorted(manifest):
        ok, text = model_status(name, folder)
        if not ok:
            problems.append(text)
    if problems:
        raise RuntimeError("; ".join(problems))
    return f"{len(manifest)} model(s) present, SHA-256 verified: {', '.join(sorted(manifest))}"


def check_landmarker() -> str:
    import cv2
    import numpy as np

    from trainer.analysis.face import FaceAnalyzer
    from trainer.capture.base import Frame
    from trainer.resources import assets_dir

    path = assets_dir() / SELFTEST_IMAGE
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise RuntimeError(f"the self-test image {path} is missing or unreadable")
    with FaceAnalyzer(max_faces=1) as analyzer:
        t0 = time.perf_counter()
        obs = analyzer.analyze(Frame(0.0, image, 0))
        ms = (time.perf_counter() - t0) * 1000
        if not obs.face:
            raise RuntimeError(f"no face found in {path.name} (the landmarker loads but does not detect)")
        if obs.landmarks is None or obs.landmarks.shape != (478, 3):
            shape = None if obs.landmarks is None else obs.landmarks.shape
            raise RuntimeError(f"expected 478 landmarks, got {shape}")
        if obs.yaw is None or abs(obs.yaw) > 25 or abs(obs.pitch) > 25:
            raise RuntimeError(f"head pose of the frontal test face is off: yaw {obs.yaw}, pitch {obs.pitch}")
        x0, y0, x1, y1 = obs.bbox
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        if not (0.3 < cx < 0.7 and 0.3 < cy < 0.7):
            raise RuntimeError(f"face found off-centre ({cx:.2f}, {cy:.2f}); the test face is centred")
        # A face in a plain grey frame would mean the detector reports noise.
        blank = np.full_like(image, 128)
        if analyzer.analyze(Frame(0.04, blank, 1)).face:
            raise RuntimeError("a face was reported in a blank grey frame")
    return (f"face found in {path.name} ({len(obs.landmarks)} landmarks, yaw {obs.yaw:+.0f}°, "
            f"pitch {obs.pitch:+.0f}°, {ms:.0f} ms), none in a blank frame")


def check_audio_decoding() -> str:
    import wave

    import numpy as np

    from trainer.capture.audio import decode_audio

    with tempfile.TemporaryDirectory(prefix="trainer-selftest-") as tmp:
        wav = Path(tmp) / "tone.wav"
        rate = 48000
        t = np.arange(rate // 2) / rate
        tone = (0.5 * np.sin(2 * math.pi * 440 * t) * 32767).astype("<i2")
        with wave.open(str(wav), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(rate)
            w.writeframes(tone.tobytes())
        samples = decode_audio(wav, 16000)
    n = len(samples)
    rms = float(np.sqrt(np.mean(np.square(samples)))) if n else 0.0
    if abs(n - 8000) > 160 or not 0.3 < rms < 0.4:
        raise RuntimeError(f"decoding a 0.5 s tone gave {n} samples at 16 kHz with RMS {rms:.3f} "
                           "(expected about 8000 and 0.35)")
    return f"a 0.5 s WAV tone decoded and resampled to 16 kHz ({n} samples)"


SELFTEST_LINE = "Hello doctor, can you hear me? I think the camera is working now."


def check_patient_voice() -> str:
    """The patient's voice (text-to-speech whose voice data ships inside its package) and the speech
    detector (Silero VAD on ONNX Runtime) together: the detector must hear the synthesised line."""
    import numpy as np

    from trainer.analysis.vad import RATE, create_vad, speech_probs
    from trainer.capture.patient_voice import PatientVoice, resample

    with tempfile.TemporaryDirectory(prefix="trainer-selftest-", ignore_cleanup_errors=True) as tmp:
        t0 = time.perf_counter()
        line = PatientVoice(cache_dir=tmp).render(SELFTEST_LINE)
        tts_s = time.perf_counter() - t0
    if not 1.5 < line.duration < 10.0:
        raise RuntimeError(f"the synthesised test line lasts {line.duration:.2f} s (expected 1.5 to 10 s)")
    vad = create_vad("silero")
    speech = float(np.mean(speech_probs(resample(line.samples, line.rate, RATE), vad) > 0.5))
    silence = float(np.mean(speech_probs(np.zeros(RATE, np.float32), vad) > 0.5))
    if speech < 0.3 or silence > 0.0:
        raise RuntimeError(f"the speech detector heard speech in {speech:.0%} of the synthesised line and "
                           f"{silence:.0%} of silence (expected most of the line, none of the silence)")
    return (f"{line.duration:.1f} s line synthesised in {tts_s:.1f} s; the speech detector hears "
            f"{speech:.0%} of it and nothing in silence")


def check_speech_to_text() -> str:
    """Speech-to-text (Whisper tiny.en on ONNX Runtime, its vendored model checked by SHA-256): the synthesised
    test line must come back as most of its words."""
    import re

    from trainer.analysis.stt import RATE, SpeechRecognizer
    from trainer.capture.patient_voice import PatientVoice, resample

    with tempfile.TemporaryDirectory(prefix="trainer-selftest-", ignore_cleanup_errors=True) as tmp:
        line = PatientVoice(cache_dir=tmp).render(SELFTEST_LINE)
    t0 = time.perf_counter()
    recognizer = SpeechRecognizer(threads=1)
    load_s = time.perf_counter() - t0
    heard = recognizer.transcribe(resample(line.samples, line.rate, RATE)).text

    def words(text: str) -> set[str]:
        return set(re.findall(r"[a-z']+", text.lower()))

    said = words(SELFTEST_LINE)
    share = len(said & words(heard)) / len(said)
    if share < 0.6:
        raise RuntimeError(f"the recogniser heard {heard!r} for {SELFTEST_LINE!r} ({share:.0%} of the words)")
    return f"model loaded in {load_s:.1f} s; heard {share:.0%} of the test line's words: {heard.strip()!r}"


def check_video_recording() -> str:
    """The consented self-view recording (PyAV's MPEG-4 and AAC encoders; in the Linux bundle PyAV runs
    on OpenCV's FFmpeg, docs/packaging.md): a second of the test face and a tone written, read back."""
    import cv2
    import numpy as np

    from trainer.capture.base import Frame
    from trainer.resources import assets_dir
    from trainer.store.recording import RecordingReader, VideoRecorder

    image = cv2.imread(str(assets_dir() / SELFTEST_IMAGE), cv2.IMREAD_COLOR)
    if image is None:
        raise RuntimeError("the self-test image is missing or unreadable")
    with tempfile.TemporaryDirectory(prefix="trainer-selftest-", ignore_cleanup_errors=True) as tmp:
        path = Path(tmp) / "recordings" / "selftest.mkv"
        recorder = VideoRecorder(path, audio_rate=16000, block=True)
        for i in range(16):
            recorder.add_frame(Frame(i / 15, image, i))
        t = np.arange(16000) / 16000
        recorder.add_audio(0.0, (0.3 * np.sin(2 * math.pi * 440 * t)).astype(np.float32), 16000)
        stats = recorder.close()
        if stats.error or stats.frames == 0:
            raise RuntimeError(f"the recorder wrote {stats.frames} frames ({stats.error or 'no error given'})")
        reader = RecordingReader(path)
        try:
            shown = reader.frame_at(0.5)
            has_audio = reader.has_audio
        finally:
            reader.close()
    if shown is None or not has_audio:
        raise RuntimeError(f"read back: picture {'missing' if shown is None else 'found'}, "
                           f"sound track {'found' if has_audio else 'missing'}")
    diff = float(np.abs(cv2.resize(shown, (image.shape[1], image.shape[0])).astype(np.int16)
                        - image.astype(np.int16)).mean())
    if diff > 20:
        raise RuntimeError(f"the picture read back differs from the one written (mean difference {diff:.0f})")
    return f"{stats.frames} frames and a sound track written (MPEG-4, AAC) and read back"


def check_portaudio() -> str:
    from trainer.core.errors import DeviceUnavailable

    try:
        from trainer.capture.audio import list_microphones

        mics = list_microphones()
    except DeviceUnavailable as exc:
        raise Warn(f"{exc.message} Visits still run, without talk-time feedback. {exc.hint or ''}".strip())
    return f"PortAudio loaded; {len(mics)} microphone(s) visible"


def check_sound_output() -> str:
    """The sound output the patient's voice plays on (the doctor's check, which opens the device)."""
    from trainer.doctor import OK, check_sound_output as probe

    status, text = probe()
    if status != OK:
        raise Warn(text)
    return f"sound output {text}"


def check_scenarios() -> str:
    from trainer.core.scenario import discover_scenarios
    from trainer.resources import builtin_scenarios_dir

    folder = builtin_scenarios_dir()
    scenarios, errors = discover_scenarios([folder])
    if errors:
        raise RuntimeError("; ".join(str(e).splitlines()[0] for e in errors))
    if not scenarios:
        raise RuntimeError(f"no scenario files found in {folder}")
    return f"{len(scenarios)} valid: {', '.join(s.id for s in scenarios)}"


def check_scenario_packs() -> str:
    from trainer.core.policy import effective_settings
    from trainer.core.scenario import discover_scenarios

    packs = effective_settings().scenario_packs
    if not packs:
        raise Skip("the site policy names no extra scenario folders")
    missing = [p for p in packs if not Path(p).is_dir()]
    if missing:
        raise RuntimeError(f"scenario folder(s) named by the site policy not found: {', '.join(missing)}")
    scenarios, errors = discover_scenarios([Path(p) for p in packs])
    if errors:
        raise RuntimeError("; ".join(str(e).splitlines()[0] for e in errors))
    return f"{len(scenarios)} valid scenario(s) in {len(packs)} folder(s)"


def check_store() -> str:
    from trainer.core.events import FrameSample
    from trainer.store.db import SessionStore

    with tempfile.TemporaryDirectory(prefix="trainer-selftest-", ignore_cleanup_errors=True) as tmp:
        store = SessionStore(Path(tmp) / "sessions.sqlite3")
        sid = store.create_session("self-test", "Self-test")
        writer = store.writer(sid)
        for i in range(4):
            writer.put(FrameSample(i * 0.25, i != 3, "camera" if i != 3 else "absent"))
        writer.close(duration_s=1.0)
        summary = store.summary(sid)
        status = store.session(sid)["status"]
    ratio = summary.face_present_ratio
    if summary.frames != 4 or ratio is None or abs(ratio - 0.75) > 1e-6 or status != "completed":
        raise RuntimeError(f"read back {summary.frames} frames, face ratio {summary.face_present_ratio}, "
                           f"status {status!r} (wrote 4 frames, 3 with a face, closed as completed)")
    return "created, wrote 4 frame samples, closed and read them back in a temporary folder"


def check_data_folder() -> str:
    """The folder sessions will really go to (a policy's data_dir included): a folder, writable, private."""
    from trainer.store.paths import data_dir, data_dir_problem

    problem = data_dir_problem()
    if problem:
        raise RuntimeError(problem)
    return f"{data_dir()} is writable and private"


def check_patient_view() -> str:
    import importlib.util

    from trainer.core.scenario import discover_scenarios
    from trainer.resources import builtin_scenarios_dir

    if importlib.util.find_spec("trainer.ui.patient_view") is None:
        raise Skip("trainer.ui.patient_view is not part of this build")
    scenarios, _ = discover_scenarios([builtin_scenarios_dir()])
    if not scenarios:
        raise RuntimeError("no built-in scenario to take a patient from")
    from trainer.ui.offscreen_render import render_patient_frame

    w, h, colours = render_patient_frame(scenarios[0].patient)
    return f"{scenarios[0].patient.name} rendered offscreen, {w}x{h} px, {colours} distinct colours sampled"


CHECKS: list[tuple[str, Callable[[], str]]] = [
    ("site policy", check_policy),
    ("models", check_models),
    ("face landmarker", check_landmarker),
    ("audio decoding", check_audio_decoding),
    ("patient voice", check_patient_voice),
    ("speech-to-text", check_speech_to_text),
    ("video recording", check_video_recording),
    ("audio devices", check_portaudio),
    ("sound output", check_sound_output),
    ("built-in scenarios", check_scenarios),
    ("scenario packs", check_scenario_packs),
    ("session store", check_store),
    ("data folder", check_data_folder),
    # Last: it starts Qt, which aborts the whole process if its platform plugin is missing.
    ("patient view", check_patient_view),
]


def run_check(name: str, fn: Callable[[], str]) -> CheckResult:
    t0 = time.perf_counter()
    try:
        detail, status = fn(), OK
    except Skip as exc:
        detail, status = str(exc), SKIP
    except Warn as exc:
        detail, status = str(exc), WARN
    except Exception as exc:  # noqa: BLE001 - every failure is reported with its reason, none is hidden
        from trainer.core.errors import TrainerError

        if isinstance(exc, (TrainerError, RuntimeError)):
            detail = str(exc).replace("\n", " ")
        else:
            # Unexpected: give the type and where it happened; the full traceback goes to stderr.
            tb = traceback.extract_tb(exc.__traceback__)
            where = f" (at {Path(tb[-1].filename).name}:{tb[-1].lineno})" if tb else ""
            text = " ".join(str(exc).split())
            if len(text) > 300:
                text = text[:300] + " ... (full message on stderr)"
            detail = f"{type(exc).__name__}: {text}{where}"
            traceback.print_exception(exc, file=sys.stderr)
        status = FAIL
    return CheckResult(name, status, detail, time.perf_counter() - t0)


def run_selftest(out: TextIO | None = None, checks: list[tuple[str, Callable[[], str]]] | None = None) -> int:
    """Run every check, printing one line each; return 1 if any failed, else 0."""
    from trainer import __version__

    out = out or sys.stdout
    frozen = "packaged app" if getattr(sys, "frozen", False) else "source install"
    print(f"trainer {__version__} self-test ({frozen}, Python {sys.version.split()[0]}, {sys.platform})",
          file=out, flush=True)
    results = []
    for name, fn in (CHECKS if checks is None else checks):
        # The name goes out before the check runs: if a native library aborts the process, the last
        # line shows which check it was.
        print(f"{name + ' ':.<22} ", end="", file=out, flush=True)
        r = run_check(name, fn)
        results.append(r)
        print(f"{r.status:<4} {r.detail} ({r.seconds:.1f} s)", file=out, flush=True)
    failed = [r.name for r in results if r.status == FAIL]
    if failed:
        print(f"self-test FAILED: {', '.join(failed)}", file=out, flush=True)
        return 1
    print(f"self-test passed ({len(results)} checks)", file=out, flush=True)
    return 0
