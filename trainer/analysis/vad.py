"""Voice activity detectors that work on fixed 32 ms frames of 16 kHz mono float32 audio.

The app uses `SileroVad` (the Silero VAD ONNX model on onnxruntime, no torch); it was chosen over WebRTC
VAD and the foundation's energy detector by measurement on the shared fixtures (see
docs/analysis-voice.md and benchmarks/vad_compare.py). `WebRtcVad` and `EnergyVad` stay here only as
candidates for that comparison.

Every detector has the same small interface: `frame_samples` (samples per frame at `rate`),
`prob(frame) -> float` (speech probability or a 0/1 decision), `reset()`. `FrameDecision` turns the
probabilities into speech / no-speech with hysteresis, and `speech_frames()` runs a detector over a
whole signal.
"""

from __future__ import annotations

import math
import threading

import numpy as np

from trainer.core.errors import ModelError

RATE = 16000
FRAME = 512  # 32 ms: the frame Silero VAD takes at 16 kHz
FRAME_S = FRAME / RATE

SILERO_MODEL = "silero_vad.onnx"


class SileroVad:
    """Streaming Silero VAD. Keeps the recurrent state and the 64-sample context the model expects
    between calls, so frames must be fed in order (call `reset()` after a gap in the audio)."""

    frame_samples = FRAME
    rate = RATE
    name = "silero"
    _CONTEXT = 64

    def __init__(self, model_file=None, threads: int = 1):
        try:
            import onnxruntime as ort
        except ImportError as exc:  # pragma: no cover - onnxruntime is a hard dependency
            raise ModelError(f"onnxruntime is not installed ({exc}).",
                             hint="Reinstall the trainer with its dependencies.") from None
        if model_file is None:
            from trainer.analysis.models import model_path

            model_file = model_path(SILERO_MODEL)
        opts = ort.SessionOptions()
        # One thread: a 32 ms frame is far too small to gain from parallelism, and the live session shares
        # the CPU with face analysis; extra threads would only spin.
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.log_severity_level = 3
        try:
            self._session = ort.InferenceSession(str(model_file), sess_options=opts,
                                                 providers=["CPUExecutionProvider"])
        except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own untyped errors
            raise ModelError(f"The speech-detection model {model_file} cannot be loaded: {exc}",
                             hint="Restore assets/models/silero_vad.onnx from the release.") from None
        self._sr = np.array(RATE, dtype=np.int64)
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Forget the recurrent state (start of a stream, or after a gap)."""
        self._state = np.zeros((2, 1, 128), dtype=np.float32)
        self._context = np.zeros(self._CONTEXT, dtype=np.float32)

    def prob(self, frame: np.ndarray) -> float:
        """Speech probability (0..1) of one 512-sample frame."""
        frame = np.asarray(frame, dtype=np.float32)
        if len(frame) != FRAME:
            raise ValueError(f"Silero VAD takes {FRAME} samples per frame at 16 kHz, got {len(frame)}")
        x = np.concatenate((self._context, frame))[None, :]
        with self._lock:
            out, state = self._session.run(None, {"input": x, "state": self._state, "sr": self._sr})
        self._state = state
        self._context = frame[-self._CONTEXT:]
        return float(out[0, 0])


class WebRtcVad:
    """WebRTC's GMM voice detector (webrtcvad-wheels), for the comparison benchmark only. It decides per
    10/20/30 ms; here a 32 ms frame is judged as 30 ms (the last 2 ms are dropped)."""

    frame_samples = FRAME
    rate = RATE

    def __init__(self, mode: int = 3):
        import webrtcvad  # comparison-only dependency ("test" extra)

        self.mode = mode
        self.name = f"webrtc-{mode}"
        self._vad = webrtcvad.Vad(mode)

    def reset(self) -> None:
        """WebRTC VAD adapts inside the C object; a new object is the reset."""
        import webrtcvad

        self._vad = webrtcvad.Vad(self.mode)

    def prob(self, frame: np.ndarray) -> float:
        """1.0 when WebRTC calls the frame speech, else 0.0."""
        pcm = (np.clip(frame[:480], -1.0, 1.0) * 32767.0).astype("<i2").tobytes()
        return 1.0 if self._vad.is_speech(pcm, RATE) else 0.0


class EnergyVad:
    """The foundation's adaptive energy detector behind the same interface (a baseline for the
    comparison): speech when the level is 12 dB above a tracked noise floor and above -50 dBFS."""

    frame_samples = FRAME
    rate = RATE
    name = "energy"

    def __init__(self, margin_db: float = 12.0, min_level_db: float = -50.0):
        self.margin_db = margin_db
        self.min_level_db = min_level_db
        self.reset()

    def reset(self) -> None:
        """Back to the initial noise-floor guess."""
        self.noise_db = -60.0

    def prob(self, frame: np.ndarray) -> float:
        """1.0 for a frame judged speech by level, else 0.0."""
        rms = float(np.sqrt(np.mean(np.square(frame, dtype=np.float64)))) if len(frame) else 0.0
        level = 20.0 * math.log10(rms) if rms > 1e-6 else -120.0
        speech = level > max(self.noise_db + self.margin_db, self.min_level_db)
        # The floor follows quiet frames quickly and loud ones very slowly, so speech does not lift it.
        alpha = 0.05 if level < self.noise_db + 3 else 0.002
        self.noise_db += alpha * (level - self.noise_db)
        return 1.0 if speech else 0.0


class FrameDecision:
    """Probability -> speech flag with hysteresis: switch on at `on`, off only below `off`, so a word's
    soft tail does not flicker."""

    def __init__(self, on: float = 0.5, off: float = 0.35):
        self.on = on
        self.off = off
        self.active = False

    def reset(self) -> None:
        self.active = False

    def __call__(self, p: float) -> bool:
        self.active = p >= self.on if not self.active else p >= self.off
        return self.active


def frames_of(samples: np.ndarray, frame: int = FRAME) -> np.ndarray:
    """The signal cut into whole frames (the last partial frame is zero-padded), shape (n, frame)."""
    samples = np.asarray(samples, dtype=np.float32).reshape(-1)
    n = int(math.ceil(len(samples) / frame)) if len(samples) else 0
    padded = np.zeros(n * frame, dtype=np.float32)
    padded[:len(samples)] = samples
    return padded.reshape(n, frame)


def speech_probs(samples: np.ndarray, vad) -> np.ndarray:
    """Per-frame speech probabilities of a whole 16 kHz signal (frame i covers i*32 ms ... (i+1)*32 ms)."""
    vad.reset()
    return np.array([vad.prob(f) for f in frames_of(samples, vad.frame_samples)], dtype=np.float32)


def create_vad(kind: str = "silero"):
    """The detector named `kind`: 'silero' (the app's), 'webrtc' / 'webrtc-N' or 'energy'."""
    if kind == "silero":
        return SileroVad()
    if kind.startswith("webrtc"):
        mode = int(kind.split("-")[1]) if "-" in kind else 3
        return WebRtcVad(mode)
    if kind == "energy":
        return EnergyVad()
    raise ValueError(f"unknown VAD '{kind}'")
