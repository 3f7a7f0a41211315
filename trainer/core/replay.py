"""Replay of a stored session on the session clock: the call window's state at any time, fast to seek.

A replay reads the same typed events the live window had (scenario events, notices, source events, the
stored frames as FrameSample and speech segments as SpeechSegment; see `trainer.store.timeline`) and
answers `view_at(t)` with the `VisitView` of trainer.core.visit_state, so what a facilitator sees at t is
what the learner saw at t (DESIGN.md section 8). Meter levels and talk-balance ticks are not stored, so
the microphone panel of a replay has no level (documented in visit_state).

Seeking: `VisitState` is built by applying events in time order. To answer any t quickly, the model keeps
a snapshot of the state every `CHECKPOINT_EVENTS` events and applies only the events between the nearest
snapshot and t (a 10-minute session with ~18,000 frames seeks in a few milliseconds; measured by
benchmarks/bench_replay.py).
"""

from __future__ import annotations

import bisect
import copy
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from trainer.core.events import ScenarioEvent
from trainer.core.visit_state import VisitState, VisitView

#: A state snapshot is kept every this many events (memory vs seek time).
CHECKPOINT_EVENTS = 500


def event_time(ev) -> float:
    """When an event is known on the session clock (a speech segment when it closes)."""
    t = getattr(ev, "t", None)
    return float(ev.end if t is None else t)


@dataclass(frozen=True)
class Lane:
    """One row of the replay timeline: `spans` are (start, end, label) intervals, `marks` are (t, label)
    instants, `values` are (t, value 0..1) points of a curve."""

    name: str
    spans: tuple[tuple[float, float, str], ...] = ()
    marks: tuple[tuple[float, str], ...] = ()
    values: tuple[tuple[float, float], ...] = ()


class ReplayModel:
    """The call window's state at any session time of a stored (or just played) session."""

    def __init__(self, events: Iterable, *, has_mic: bool = True, duration_s: float | None = None):
        self.events = sorted(events, key=event_time)
        self._times = [event_time(e) for e in self.events]
        self.has_mic = has_mic
        last = self._times[-1] if self._times else 0.0
        self.duration_s = max(float(duration_s or 0.0), last)
        self._checkpoints: list[tuple[int, VisitState]] = [(0, VisitState(has_mic=has_mic))]
        state = VisitState(has_mic=has_mic)
        for i, ev in enumerate(self.events, start=1):
            state.apply(ev)
            if i % CHECKPOINT_EVENTS == 0:
                self._checkpoints.append((i, copy.deepcopy(state)))

    def state_at(self, t: float) -> VisitState:
        """A fresh VisitState with every event that happened by t applied (safe to keep or change)."""
        n = bisect.bisect_right(self._times, t)
        k = bisect.bisect_right([i for i, _ in self._checkpoints], n) - 1
        start, snap = self._checkpoints[k]
        state = copy.deepcopy(snap)
        for ev in self.events[start:n]:
            state.apply(ev)
        return state

    def view_at(self, t: float) -> VisitView:
        """What the call window showed at session time t."""
        return self.state_at(t).view(t)

    def times_of(self, kind: str) -> list[float]:
        """Session times of the scenario events of one kind (e.g. 'patient_line'), in order."""
        return [event_time(e) for e in self.events if isinstance(e, ScenarioEvent) and e.kind == kind]


def transcript(events: Sequence) -> list[tuple[float, str, str]]:
    """The patient's (and caregiver's) lines as (start time, speaker name, text), in order."""
    return [(event_time(e), e.name or e.speaker, e.text) for e in events
            if isinstance(e, ScenarioEvent) and e.kind == "patient_line"]


__all__ = ["ReplayModel", "Lane", "transcript", "event_time", "CHECKPOINT_EVENTS"]
