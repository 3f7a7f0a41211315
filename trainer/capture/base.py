"""The two source protocols: frames and audio blocks, both stamped in session seconds."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Iterator, Protocol

import numpy as np


@dataclass(frozen=True, slots=True)
class Frame:
    """One video frame: BGR uint8 image (OpenCV layout) captured at session time t."""

    t: float
    image: np.ndarray
    index: int


@dataclass(frozen=True, slots=True)
class AudioBlock:
    """Mono float32 samples in [-1, 1] at `rate` Hz, whose first sample was captured at session time t."""

    t: float
    samples: np.ndarray
    rate: int

    @property
    def duration(self) -> float:
        return len(self.samples) / float(self.rate)


class FrameSource(Protocol):
    """A camera or a video file. `frames()` ends when the source ends or `stop()` is called."""

    name: str
    kind: str  # "camera" | "file"

    def open(self) -> None: ...
    def frames(self) -> Iterator[Frame]: ...
    def stop(self) -> None: ...
    def close(self) -> None: ...


class AudioSource(Protocol):
    """A microphone or an audio file. `blocks()` ends when the source ends or `stop()` is called."""

    name: str
    kind: str  # "microphone" | "file"
    rate: int

    def open(self) -> None: ...
    def blocks(self) -> Iterator[AudioBlock]: ...
    def stop(self) -> None: ...
    def close(self) -> None: ...


class Pacer:
    """Holds a file source back to real time against the session clock (or not at all when `realtime` is
    False). `wait_until(t)` returns False when the source was stopped while waiting."""

    def __init__(self, clock, realtime: bool, stop_event: threading.Event, speed: float = 1.0):
        self.clock = clock
        self.realtime = realtime
        self.stop_event = stop_event
        self.speed = speed

    def wait_until(self, t: float) -> bool:
        if not self.realtime or self.clock is None:
            return not self.stop_event.is_set()
        delay = t / self.speed - self.clock.now()
        if delay > 0:
            return not self.stop_event.wait(delay)
        return not self.stop_event.is_set()
