"""Microphone tracks with the patient's playback leaking in, built from real recordings, for the echo
tests and benchmarks (not used by the app itself).

A call is laid out on a timeline: the clinician's voice where the clinician speaks, the patient's voice
(the playback reference) where the patient speaks, some of it overlapping. The microphone hears the
clinician, plus the playback through an echo path (delay, gain, optionally a short decaying room tail),
plus background noise.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

RATE = 16000


@dataclass
class EchoScene:
    """The tracks of one simulated call (16 kHz float32) and where each voice was placed."""

    mic: np.ndarray  # what the microphone hears: clinician + echo + noise
    reference: np.ndarray  # the patient's playback signal, time-aligned with mic
    clinician_only: np.ndarray  # clinician + noise: what the mic would hear with headphones
    clinician_placed: list[tuple[float, float]] = field(default_factory=list)
    patient_placed: list[tuple[float, float]] = field(default_factory=list)
    gain_db: float = 0.0
    delay_s: float = 0.0

    @property
    def duration(self) -> float:
        return len(self.mic) / RATE


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if len(x) else 0.0


def _place(total: int, clip: np.ndarray, t: float) -> np.ndarray:
    out = np.zeros(total, dtype=np.float64)
    i = int(round(t * RATE))
    n = max(0, min(len(clip), total - i))
    out[i:i + n] = clip[:n]
    return out


DEFAULT_LAYOUT = {
    # (start in the call, start in the clip, length) in seconds
    "patient": [(0.5, 0.0, 6.6), (15.0, 0.0, 6.6), (22.5, 0.0, 6.6)],
    # The clinician answers after the first line, then talks over the second one (from 18 s).
    "clinician": [(8.0, 0.0, 6.2), (18.0, 0.0, 3.0)],
    "duration": 30.0,
}


def build_scene(clinician_voice: np.ndarray, patient_voice: np.ndarray, noise: np.ndarray, *,
                gain_db: float = -12.0, delay_s: float = 0.06, noise_db: float = -35.0, room: bool = False,
                seed: int = 0, layout: dict | None = None) -> EchoScene:
    """Lay out a call and simulate what the microphone hears.

    `gain_db`: level of the leaking patient voice relative to the clinician's voice in the microphone;
    `delay_s`: playback-to-microphone delay; `noise_db`: background noise (the noise recording, looped)
    relative to the clinician's voice; `room`: add a 150 ms decaying reverberant tail to the echo path.
    """
    lay = layout or DEFAULT_LAYOUT
    total = int(lay["duration"] * RATE)
    clin = np.zeros(total)
    pat = np.zeros(total)
    c_placed, p_placed = [], []
    for start, off, length in lay["clinician"]:
        piece = clinician_voice[int(off * RATE):int((off + length) * RATE)]
        clin += _place(total, piece, start)
        c_placed.append((start, start + len(piece) / RATE))
    for start, off, length in lay["patient"]:
        piece = patient_voice[int(off * RATE):int((off + length) * RATE)]
        pat += _place(total, piece, start)
        p_placed.append((start, start + len(piece) / RATE))
    d = int(round(delay_s * RATE))
    h = np.zeros(d + 1)
    h[d] = 1.0
    if room:
        rng = np.random.default_rng(seed)
        n_tail = int(0.15 * RATE)
        tail = rng.standard_normal(n_tail) * np.exp(-np.arange(n_tail) / (0.03 * RATE)) * 0.3
        h = np.concatenate((h, tail))
    echo = np.convolve(pat, h)[:total]
    # Levels are set on the voices themselves (their active parts), not on the mostly silent timeline.
    clin_level = _rms(clinician_voice[np.abs(clinician_voice) > 1e-4])
    echo_level = _rms(np.convolve(patient_voice, h)[:len(patient_voice)])
    echo *= clin_level / echo_level * 10 ** (gain_db / 20)
    reps = int(np.ceil(total / len(noise)))
    nz = np.tile(np.asarray(noise, dtype=np.float64), reps)[:total]
    nz *= clin_level * 10 ** (noise_db / 20) / max(_rms(nz), 1e-12)
    mic = np.clip(clin + echo + nz, -1, 1)
    return EchoScene(mic.astype(np.float32), pat.astype(np.float32), (clin + nz).astype(np.float32),
                     c_placed, p_placed, gain_db, delay_s)
