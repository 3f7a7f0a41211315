"""The scenario engine: a deterministic state machine driven by events and a clock.

Inputs (methods): `start`, `tick`, `clinician_speech_started`, `clinician_turn_ended`, `ui_action`,
`end_call`. Output: the ScenarioEvents each call produces (also kept in `history`), e.g.
`patient_line` (the patient starts a line; `data` has step, text, emotion, cue, duration),
`patient_line_end`, `clinician_turn` (waiting for the clinician; prompt, timeout_s),
`clinician_turn_end` (reason: spoke | timeout), `visit_end` (reason: completed | ended_by_user).

The engine never reads a clock itself: callers pass session time, so tests replay whole scenarios in
milliseconds and a live visit and a recorded one follow the same path.
"""

from __future__ import annotations

from typing import Callable

from trainer.core.events import ScenarioEvent
from trainer.core.scenario import ClinicianTurn, PatientLine, Scenario, Step

#: Speaking rate used when a line has no rendered audio yet (words per second, calm conversational speech).
WORDS_PER_SECOND = 2.6


def estimated_line_duration(text: str) -> float:
    """Seconds a patient line takes when spoken at a calm conversational rate (min 1.5 s)."""
    words = len(text.split())
    return max(1.5, words / WORDS_PER_SECOND + 0.4)


class ScenarioEngine:
    """Plays a Scenario step by step."""

    def __init__(self, scenario: Scenario, line_duration: Callable[[PatientLine], float] | None = None):
        self.scenario = scenario
        self._line_duration = line_duration or (lambda line: estimated_line_duration(line.text))
        self.history: list[ScenarioEvent] = []
        self.current: Step | None = None
        self.finished = False
        self._step_started = 0.0
        self._line_ends_at = 0.0
        self._clinician_spoke = False

    # -- inputs -------------------------------------------------------------------------------------
    def start(self, t: float) -> list[ScenarioEvent]:
        """Begin the visit at session time t with the first step."""
        if self.current is not None or self.finished:
            return []
        out = [self._emit(t, "visit_start", scenario=self.scenario.id)]
        out += self._enter(self.scenario.steps[0], t)
        return out

    def tick(self, t: float) -> list[ScenarioEvent]:
        """Advance time: finishes patient lines whose audio ended and clinician turns that timed out."""
        out: list[ScenarioEvent] = []
        # A loop, because one tick may pass several short timed steps.
        while not self.finished and self.current is not None:
            step = self.current
            if isinstance(step, PatientLine) and t >= self._line_ends_at:
                out.append(self._emit(self._line_ends_at, "patient_line_end", step=step.id))
                out += self._advance(step, self._line_ends_at)
            elif (isinstance(step, ClinicianTurn) and not self._clinician_spoke
                  and t >= self._step_started + step.timeout_s):
                end_t = self._step_started + step.timeout_s
                out.append(self._emit(end_t, "clinician_turn_end", step=step.id, reason="timeout"))
                out += self._advance(step, end_t)
            else:
                break
        return out

    def clinician_speech_started(self, t: float) -> list[ScenarioEvent]:
        """The clinician started speaking; during their turn this stops the timeout."""
        out = self.tick(t)
        if isinstance(self.current, ClinicianTurn) and not self._clinician_spoke:
            self._clinician_spoke = True
            out.append(self._emit(t, "clinician_speaking", step=self.current.id))
        return out

    def clinician_turn_ended(self, t: float) -> list[ScenarioEvent]:
        """End-of-turn from the voice pipeline (the clinician stopped talking, hang-over elapsed)."""
        out = self.tick(t)
        step = self.current
        if isinstance(step, ClinicianTurn) and self._clinician_spoke:
            out.append(self._emit(t, "clinician_turn_end", step=step.id, reason="spoke"))
            out += self._advance(step, t)
        return out

    def ui_action(self, t: float, action: str) -> list[ScenarioEvent]:
        """A call-window action (share screen, invite caregiver...). Recorded for the debrief."""
        out = self.tick(t)
        out.append(self._emit(t, "ui_action", action=action))
        return out

    def end_call(self, t: float) -> list[ScenarioEvent]:
        """The clinician ended the call."""
        if self.finished:
            return []
        out = self.tick(t)
        if self.finished:
            return out
        if isinstance(self.current, PatientLine):
            out.append(self._emit(t, "patient_line_end", step=self.current.id, interrupted=True))
        out.append(self._finish(t, "ended_by_user"))
        return out

    # -- internals ----------------------------------------------------------------------------------
    def _emit(self, t: float, kind: str, **data) -> ScenarioEvent:
        ev = ScenarioEvent(round(t, 4), kind, data)
        self.history.append(ev)
        return ev

    def _finish(self, t: float, reason: str) -> ScenarioEvent:
        self.finished = True
        self.current = None
        return self._emit(t, "visit_end", reason=reason)

    def _advance(self, step: Step, t: float) -> list[ScenarioEvent]:
        nxt = self.scenario.successor(step)
        if nxt is None:
            return [self._finish(t, "completed")]
        return self._enter(nxt, t)

    def _enter(self, step: Step, t: float) -> list[ScenarioEvent]:
        self.current = step
        self._step_started = t
        if isinstance(step, PatientLine):
            duration = float(self._line_duration(step))
            self._line_ends_at = t + duration
            return [self._emit(t, "patient_line", step=step.id, text=step.text, emotion=step.emotion,
                               cue=step.cue, duration=round(duration, 3))]
        self._clinician_spoke = False
        return [self._emit(t, "clinician_turn", step=step.id, prompt=step.prompt, timeout_s=step.timeout_s)]
