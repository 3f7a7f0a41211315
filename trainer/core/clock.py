"""The session clock: one time base (seconds since session start) for every sample and event."""

from __future__ import annotations

import time
from typing import Callable


class SessionClock:
    """Monotonic seconds since `start()`.

    Live sources stamp data with `now()` at capture; file sources stamp data with the file's own
    timestamps and pace themselves against this clock, so live and recorded inputs share one timeline.
    `time_fn` is injectable so the engine and tests can run on a simulated clock.
    """

    def __init__(self, time_fn: Callable[[], float] = time.monotonic):
        self._time_fn = time_fn
        self._t0: float | None = None

    def start(self) -> None:
        self._t0 = self._time_fn()

    @property
    def started(self) -> bool:
        return self._t0 is not None

    def now(self) -> float:
        if self._t0 is None:
            return 0.0
        return self._time_fn() - self._t0

    def to_session(self, monotonic_t: float) -> float:
        """Convert a reading of the underlying time function into session seconds."""
        return 0.0 if self._t0 is None else monotonic_t - self._t0


def clock_text(t: float) -> str:
    """Session time as the call window's clock shows it: 'm:ss' (whole seconds, rounded down)."""
    s = max(0, int(t))
    return f"{s // 60}:{s % 60:02d}"


class ManualClock:
    """A clock the caller advances by hand; used by the engine tests and offline analysis."""

    def __init__(self, t: float = 0.0):
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, dt: float) -> None:
        self.t += dt
