"""Speech detection on the microphone: a per-block detector plus a segmenter that turns block decisions
into speech segments, speech-start and end-of-turn events.

The detector here is an adaptive energy detector (noise floor tracked from the quiet blocks). It is the
foundation's detector; the segmenter's contract (blocks in, SpeechStarted / SpeechSegment / TurnEnded
out, all on the session clock) is what the rest of the app relies on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from trainer.capture.base import AudioBlock
from trainer.core.events import AudioLevel, SpeechSegment, SpeechStarted, TurnEnded


def rms_db(samples: np.ndarray) -> float:
    """Root-mean-square level in dBFS (-120 for digital silence)."""
    if len(samples) == 0:
        return -120.0
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))
    return 20.0 * math.log10(rms) if rms > 1e-6 else -120.0


class EnergyDetector:
    """Speech when the block's level is well above the tracked noise floor and above an absolute floor."""

    def __init__(self, margin_db: float = 12.0, min_level_db: float = -50.0):
        self.margin_db = margin_db
        self.min_level_db = min_level_db
        self.noise_db = -60.0

    def is_speech(self, level_db: float) -> bool:
        speech = level_db > max(self.noise_db + self.margin_db, self.min_level_db)
        # Track the floor: follow quiet blocks quickly, loud ones very slowly (so speech does not raise it).
        alpha = 0.05 if level_db < self.noise_db + 3 else 0.002
        self.noise_db += alpha * (level_db - self.noise_db)
        return speech


@dataclass
class SegmenterConfig:
    onset_s: float = 0.10  # speech must last this long to open a segment (drops clicks)
    hangover_s: float = 0.30  # silence shorter than this does not close a segment
    min_segment_s: float = 0.20
    end_of_turn_s: float = 0.70  # silence after speech before the turn counts as ended


class Segmenter:
    """Block decisions -> SpeechStarted, SpeechSegment (closed) and TurnEnded events."""

    def __init__(self, config: SegmenterConfig | None = None):
        self.cfg = config or SegmenterConfig()
        self._run_start: float | None = None  # start of the current run of speech blocks
        self._seg_start: float | None = None  # open segment
        self._last_speech_end: float | None = None
        self._turn_open = False

    @property
    def speaking(self) -> bool:
        return self._seg_start is not None

    def push(self, t: float, duration: float, speech: bool) -> list:
        out: list = []
        end = t + duration
        if speech:
            if self._run_start is None:
                self._run_start = t
            self._last_speech_end = end
            if self._seg_start is None and end - self._run_start >= self.cfg.onset_s:
                self._seg_start = self._run_start
                out.append(SpeechStarted(self._seg_start))
                self._turn_open = True
        else:
            if self._seg_start is None:
                self._run_start = None
            silence = end - self._last_speech_end if self._last_speech_end is not None else 0.0
            if self._seg_start is not None and silence >= self.cfg.hangover_s:
                out += self._close()
            if (self._turn_open and self._seg_start is None and self._last_speech_end is not None
                    and end - self._last_speech_end >= self.cfg.end_of_turn_s):
                self._turn_open = False
                out.append(TurnEnded(self._last_speech_end + self.cfg.end_of_turn_s, self._last_speech_end))
        return out

    def _close(self) -> list:
        start, end = self._seg_start, self._last_speech_end
        self._seg_start = None
        self._run_start = None
        if end - start >= self.cfg.min_segment_s:
            return [SpeechSegment(round(start, 3), round(end, 3), "clinician")]
        return []

    def flush(self) -> list:
        """Close an open segment at the end of the input."""
        out = self._close() if self._seg_start is not None else []
        if self._turn_open and self._last_speech_end is not None:
            self._turn_open = False
            out.append(TurnEnded(self._last_speech_end + self.cfg.end_of_turn_s, self._last_speech_end))
        return out


class VoiceAnalyzer:
    """Microphone blocks -> level events for the meter plus segmenter events."""

    def __init__(self, detector: EnergyDetector | None = None, segmenter: Segmenter | None = None):
        self.detector = detector or EnergyDetector()
        self.segmenter = segmenter or Segmenter()

    def process(self, block: AudioBlock) -> list:
        level = rms_db(block.samples)
        speech = self.detector.is_speech(level)
        out: list = [AudioLevel(block.t, level, speech)]
        out += self.segmenter.push(block.t, block.duration, speech)
        return out

    def flush(self) -> list:
        return self.segmenter.flush()


def create_voice_processor() -> VoiceAnalyzer:
    """The voice processor the live pipeline uses."""
    return VoiceAnalyzer()
