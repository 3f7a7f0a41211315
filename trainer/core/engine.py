"""The scenario engine: a deterministic state machine driven by events and a clock.

Inputs (methods, each taking session time): `start`, `tick`, `clinician_speech_started`,
`clinician_speech_segment`, `clinician_turn_ended`, `choose_card`, `ui_action`, `override`,
`observe_frame`, `source_changed` and `end_call`. Each returns the typed events it produced (core.events:
VisitStarted, ConnectionChanged, CaregiverJoined/Left, PatientLineStarted/Ended, Interruption,
ClinicianTurnStarted, CardChosen, ClinicianSpeaking, ClinicianTurnEnded, BranchTaken, UiActionTaken,
OverrideGiven, VisitEnded), also kept in `history`.

Measures come from core.measures over the engine's `record` (the same VisitRecord the stored summary
rebuilds), and condition keys from core.conditions, so branches, the rubric and the summary agree.
Credit only for what was done: a card counts when the clinician then speaks at least
measures.MIN_CREDIT_SPEECH_S in the turn; a silent timeout credits nothing and leads to the turn's
`on_timeout` step, a `timed_out` branch, or the scenario's silence checks ("Hello? Can you hear me?").

The engine never reads a clock itself: callers pass session time, so tests replay whole scenarios in
milliseconds and a live visit and a recorded one follow the same path. It is not thread-safe: the
caller serialises calls (VisitRunner holds a lock).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field, replace
from typing import Callable

from trainer.core import conditions, talktime
from trainer.core.events import (BranchTaken, CardChosen, CaregiverJoined, CaregiverLeft, ClinicianSpeaking,
                                 ClinicianTurnEnded, ClinicianTurnStarted, ConnectionChanged, FrameSample,
                                 Backchannel, Interruption, OverrideGiven, PatientLineEnded, PatientLineStarted, ScenarioEvent,
                                 RubricFinal, UiActionTaken, VisitEnded, VisitStarted)
from trainer.core.measures import (Measured, VisitRecord, card_credited, cue_responded, measure, rounded,
                                   source_live_intervals)
from trainer.core.scenario import (BEHAVIOURS, BUILTIN_OVERRIDES, Branch, ClinicianTurn, Condition, Decision,
                                   EventStep, PatientLine, Scenario, Step, estimated_line_duration)

__all__ = ["ScenarioEngine", "TurnStats", "describe_condition", "estimated_line_duration"]


@dataclass
class TurnStats:
    """What happened in one clinician turn; branches and decide steps test these."""

    step: str
    started: float
    ended: float | None = None
    spoke: bool = False
    first_speech: float | None = None
    speech_end: float | None = None
    timed_out: bool = False
    card: str | None = None  # the card picked (what the clinician intends)
    credited_card: str | None = None  # the card, once the clinician spoke long enough to count it
    actions: list[str] = field(default_factory=list)
    interrupted: bool | None = None  # the clinician cut into a line since the previous turn (core.talktime)
    since: float = 0.0  # end of the previous turn: interruptions after it belong to this turn
    cue: float | None = None  # end of the cue line just before this turn
    wait_s: float | None = None  # turn start to first speech; None when the clinician never spoke
    talk_s: float | None = None
    eye_contact: float | None = None
    face_responded: bool | None = None


class ScenarioEngine:
    """Plays a Scenario step by step."""

    def __init__(self, scenario: Scenario, line_duration: Callable[[PatientLine], float] | None = None,
                 turn_time_scale: float | None = 1.0):
        self.scenario = scenario
        # Adjustable timing (WCAG 2.2.1): every turn's timeout_s times this factor; None = no time limit,
        # the patient waits until the clinician speaks, picks a card or a facilitator moves on.
        self.turn_time_scale = turn_time_scale
        self._line_duration = line_duration or (lambda line: estimated_line_duration(line.text))
        self.history: list[ScenarioEvent] = []
        self.current: Step | None = None
        self.finished = False
        self.started = False
        self._step_started = 0.0
        self._line_ends_at = 0.0
        self._line_started = 0.0
        self._hold: tuple[Step, float] | None = None  # a connection problem delays this step until t
        self._fired_connections: set[str] = set()
        self._speaking_since: float | None = None
        self._turn: TurnStats | None = None
        self.last_turn: TurnStats | None = None
        self.turns: list[TurnStats] = []
        # Visit state that conditions test.
        self.cards_chosen: dict[str, str] = {}  # card id -> step id
        self.actions: list[tuple[float, str]] = []
        self.flags: set[str] = set()
        self.reached: set[str] = set()
        self.overrides_given: list[str] = []
        self.caregiver_present = False
        self.sharing_screen = False
        self.interruptions: list[float] = []  # live onsets during lines (for display; measures use talktime)
        self.backchannels: list[float] = []  # onsets of short utterances that did not take the floor
        self._overlap: tuple[float, str] | None = None  # onset and line of speech not yet classified
        self._last_cue: float | None = None  # end of a cue line since the previous turn
        self._last_turn_end = 0.0
        # What every measure is computed from (core.measures): frames, speech, cues, microphone coverage.
        self.record = VisitRecord()
        self._source_events: list = []
        self._mic_present = True
        self._silences: dict[str, int] = {}  # turn id -> silent timeouts in a row
        self._return_to: Step | None = None  # the turn a silence check line goes back to
        self._silence_line = False

    def turn_timeout(self, step: ClinicianTurn) -> float | None:
        """Seconds the patient waits in this turn (the scenario's limit times the user's factor), or None."""
        if self.turn_time_scale is None:
            return None
        return step.timeout_s * self.turn_time_scale

    # -- inputs -------------------------------------------------------------------------------------
    def start(self, t: float) -> list[ScenarioEvent]:
        """Begin the visit at session time t with the first step."""
        if self.started or self.finished:
            return []
        self.started = True
        out = [self._emit(VisitStarted(t, scenario=self.scenario.id))]
        out += self._enter(self.scenario.steps[0], t)
        return out

    def tick(self, t: float) -> list[ScenarioEvent]:
        """Advance time: ends connection holds, patient lines whose audio ended and timed-out turns."""
        out: list[ScenarioEvent] = []
        if self._speaking_since is not None:
            out += self._resolve_overlap(t)
        # A loop, because one tick may pass several short timed steps.
        while not self.finished and self.started:
            step = self.current
            if self._hold is not None:
                held, until = self._hold
                if t < until:
                    break
                self._hold = None
                out.append(self._emit(ConnectionChanged(until, state="ok", step=held.id)))
                out += self._begin(held, until)
            elif isinstance(step, PatientLine) and t >= self._line_ends_at:
                out += self._end_line(step, self._line_ends_at)
                out += self._after_line(step, self._line_ends_at)
            elif (isinstance(step, ClinicianTurn) and self._turn is not None and not self._turn.spoke
                  and self._speaking_since is None and self.turn_timeout(step) is not None
                  and t >= self._step_started + self.turn_timeout(step)):
                end_t = self._step_started + self.turn_timeout(step)
                out += self._end_turn(step, end_t, "timeout")
            else:
                break
        return out

    def clinician_speech_started(self, t: float, onset: float | None = None) -> list[ScenarioEvent]:
        """The clinician started speaking. During a turn this stops its timeout; during a line it is an
        interruption. `t` is the engine's time now; `onset` where the speech began, when it is earlier
        (the detector confirms speech some frames after its start, more of them over the patient's
        playback): an interruption's onset and a turn's first speech are taken from it, as the stored
        summary takes them from the segment's start."""
        out = self.tick(t)
        if self.finished:
            return out
        onset = t if onset is None else min(onset, t)
        self._speaking_since = onset
        if isinstance(self.current, PatientLine) and self._hold is None:
            # Interruption or backchannel? Known once the utterance outlasts a backchannel or ends.
            self._overlap = (onset, self.current.id)
        elif isinstance(self.current, ClinicianTurn) and self._turn is not None and not self._turn.spoke:
            self._turn.spoke = True
            self._turn.first_speech = max(onset, self._step_started)
            out.append(self._emit(ClinicianSpeaking(t, step=self.current.id)))
        return out

    def clinician_speech_segment(self, start: float, end: float) -> list[ScenarioEvent]:
        """A closed segment of clinician speech (from the voice pipeline), for talk length and share. A
        segment that began during a patient line and ends within talktime.BACKCHANNEL_MAX_S while the
        patient goes on is a backchannel; otherwise it took the floor (an interruption)."""
        if end > start:
            self.record.clinician.append((start, end))
        out: list[ScenarioEvent] = []
        if self._overlap is not None and start <= self._overlap[0] + 0.05:
            onset, step = self._overlap
            self._overlap = None
            if end - onset <= talktime.BACKCHANNEL_MAX_S and isinstance(self.current, PatientLine):
                self.backchannels.append(onset)
                out.append(self._emit(Backchannel(end, step=step, onset=onset)))
            else:
                out += self._interrupted(min(end, onset + talktime.BACKCHANNEL_MAX_S), onset, step)
        return out

    def _interrupted(self, t: float, onset: float, step: str) -> list[ScenarioEvent]:
        self.interruptions.append(onset)
        return [self._emit(Interruption(t, step=step, onset=onset))]

    def _resolve_overlap(self, t: float) -> list[ScenarioEvent]:
        """Still speaking past a backchannel's length: the clinician took the floor at the onset."""
        if self._overlap is None or t - self._overlap[0] <= talktime.BACKCHANNEL_MAX_S:
            return []
        onset, step = self._overlap
        self._overlap = None
        return self._interrupted(onset + talktime.BACKCHANNEL_MAX_S, onset, step)

    def clinician_turn_ended(self, t: float, speech_end: float | None = None) -> list[ScenarioEvent]:
        """End-of-turn from the voice pipeline (the clinician stopped talking, hang-over elapsed)."""
        out = self.tick(t)
        self._speaking_since = None
        step = self.current
        if isinstance(step, ClinicianTurn) and self._turn is not None and self._turn.spoke:
            self._turn.speech_end = speech_end if speech_end is not None else t
            out += self._end_turn(step, t, "spoke")
        return out

    def choose_card(self, t: float, card_id: str) -> list[ScenarioEvent]:
        """The clinician picked an intent card in the current turn (a later pick replaces it).

        A pick that no longer applies (the turn already ended, say) is ignored and returns []."""
        out = self.tick(t)
        step = self.current
        if not isinstance(step, ClinicianTurn) or self._turn is None or step.card(card_id) is None:
            return out
        self._turn.card = card_id
        out.append(self._emit(CardChosen(t, step=step.id, card=card_id)))
        return out

    def ui_action(self, t: float, action: str) -> list[ScenarioEvent]:
        """A call-window action (share_screen, stop_share, invite_caregiver...), kept for branches and the
        debrief. Inviting the caregiver brings them into the call if the scenario has one."""
        out = self.tick(t)
        if self.finished:
            return out
        self.actions.append((t, action))
        if self._turn is not None:
            self._turn.actions.append(action)
        if action == "share_screen":
            self.sharing_screen = True
        elif action == "stop_share":
            self.sharing_screen = False
        out.append(self._emit(UiActionTaken(t, action=action)))
        if action == "invite_caregiver" and self.scenario.caregiver is not None and not self.caregiver_present:
            out += self._caregiver(t, True)
        return out

    def override(self, t: float, name: str) -> list[ScenarioEvent]:
        """A facilitator override: 'skip' (finish the current step now), 'end_visit', or one the scenario
        declares (recorded for branches; jumps to its `goto` step at once if it has one)."""
        declared = self.scenario.override(name)
        if name not in BUILTIN_OVERRIDES and declared is None:
            raise ValueError(f"unknown override '{name}' for scenario {self.scenario.id}")
        out = self.tick(t)
        if self.finished or not self.started:
            return out
        self.overrides_given.append(name)
        out.append(self._emit(OverrideGiven(t, name=name)))
        if name == "end_visit":
            out += self._cut_current(t)
            out.append(self._finish(t, "ended_by_facilitator"))
        elif name == "skip":
            if self._hold is not None:
                self._hold = (self._hold[0], t)
                out += self.tick(t)
            elif isinstance(self.current, PatientLine):
                step = self.current
                out += self._end_line(step, t, interrupted=True)
                out += self._after_line(step, t)
            elif isinstance(self.current, ClinicianTurn):
                out += self._end_turn(self.current, t, "override")
        elif declared is not None and declared.goto:
            out += self._cut_current(t)
            self._hold = None
            self._return_to = None
            out += self._enter(self.scenario.step(declared.goto), t)
        return out

    def observe_frame(self, t: float, face: bool, gaze: str = "unknown", expressivity: float | None = None,
                      nod: bool = False, smile: float | None = None, smile_above: float | None = None) -> None:
        """One analysed camera frame (gaze state per DESIGN.md section 4), for measured branches."""
        f = FrameSample(t, bool(face), gaze, expressivity=expressivity, smile=smile, nod=bool(nod),
                        smile_above=smile_above)
        frames = self.record.frames
        if frames and t < frames[-1].t:  # measures need time order (core.face_metrics.frame_durations)
            bisect.insort(frames, f, key=lambda x: x.t)
        else:
            frames.append(f)

    def source_changed(self, ev) -> None:
        """A source event from the pipeline (SourceFinished, SourceStatus): the microphone's coverage of
        the talk-time measures ends (or resumes) there."""
        self._source_events.append(ev)

    def no_microphone(self) -> None:
        """The visit runs without a microphone: talk-time measures are not measured at all."""
        self._mic_present = False

    def end_call(self, t: float) -> list[ScenarioEvent]:
        """The clinician ended the call."""
        if self.finished:
            return []
        out = self.tick(t)
        if self.finished:
            return out
        out += self._cut_current(t)
        out.append(self._finish(t, "ended_by_user"))
        return out

    def close(self) -> list[ScenarioEvent]:
        """After the visit ended and every input is in (the pipeline stopped): the final rubric report
        (RubricFinal, dated at the visit's end), computed with the frames and speech that were still on
        their way when `visit_end` went out. [] while the visit has not ended."""
        end = next((e for e in reversed(self.history) if isinstance(e, VisitEnded)), None)
        if end is None:
            return []
        return [self._emit(RubricFinal(end.t, rubric=tuple(self.rubric_report())))]

    # -- queries ------------------------------------------------------------------------------------
    def available_overrides(self) -> list[tuple[str, str]]:
        """(id, label) of every override a facilitator may give in this scenario."""
        return list(BUILTIN_OVERRIDES.items()) + [(o.id, o.label) for o in self.scenario.overrides]

    def visit_measure(self, mid: str, t: float | None = None) -> Measured:
        """A core.measures measure over the visit so far (up to t, default the latest input)."""
        return measure(self._sync(t), mid)

    def turn_measure(self, turn: TurnStats, name: str) -> Measured | None:
        """A turn-level figure for a condition key name (wait_s, talk_s, eye_contact) as a Measured."""
        window = (turn.started, turn.ended if turn.ended is not None else self.record.end_s)
        if name == "wait_s":
            # Silence is not a wait: only a turn the clinician answered has one.
            return Measured("wait_s", turn.wait_s, 0.0, 0.0, turn.wait_s is not None)
        if name == "talk_s":
            return measure(self.record, "clinician_talk_s", window)
        return measure(self.record, "eye_contact_speaking", window)

    def talk_share(self) -> float | None:
        """Clinician share of talk so far (core.measures 'talk_share'); None when not enough to judge."""
        return self.visit_measure("talk_share").value

    def eye_contact(self) -> float | None:
        """Eye contact while speaking so far (core.measures 'eye_contact_speaking')."""
        return self.visit_measure("eye_contact_speaking").value

    def _sync(self, t: float | None = None) -> VisitRecord:
        rec = self.record
        if t is not None:
            rec.end_s = max(rec.end_s, t)
        if not self._mic_present or self._source_events:
            rec.mic = source_live_intervals(self._source_events, "mic", rec.end_s, self._mic_present)
        return rec

    def evaluate(self, cond: Condition, scope: str = "visit", turn: TurnStats | None = None) -> bool | None:
        """Evaluate a condition: True, False, or None when it cannot be measured (no face data, say).

        scope: "turn" (a clinician turn's own branches: `card` means this turn's card), "decide"
        (a decide step: turn-level keys refer to the latest turn) or "visit" (rubric evidence)."""
        if cond.op == "all":
            vals = [self.evaluate(a, scope, turn) for a in cond.args]
            return False if False in vals else (None if None in vals else True)
        if cond.op == "any":
            vals = [self.evaluate(a, scope, turn) for a in cond.args]
            return True if True in vals else (None if None in vals else False)
        if cond.op == "not":
            v = self.evaluate(cond.args[0], scope, turn)
            return None if v is None else not v
        return conditions.evaluate_leaf(self, cond.op, cond.value, scope, turn if turn is not None else self.last_turn)

    def rubric_report(self) -> list[dict]:
        """Per targeted behaviour: what counts, each evidence item's result and an overall status
        (met | not_met | unknown | needs_rating). JSON-ready; also sent with `visit_end`."""
        out = []
        for b in self.scenario.behaviours:
            item = self.scenario.rubric_for(b)
            evidence = []
            for c in (item.evidence if item else ()):
                quotes = {mid: self.visit_measure(mid).as_dict() for mid in conditions.quoted_measures(c)}
                # "check" is worded in the language of the visit; "condition" is the language-neutral form the
                # summary words again in the language it is read in (core.conditions.describe).
                evidence.append({"check": describe_condition(c), "condition": conditions.condition_data(c),
                                 "result": self.evaluate(c, "visit"), "measures": quotes})
            results = [e["result"] for e in evidence]
            if False in results:
                status = "not_met"
            elif None in results:
                status = "unknown"
            elif item is not None and item.facilitator_rating:
                status = "needs_rating" if not results else "met_pending_rating"
            else:
                status = "met"
            out.append({"behaviour": b, "name": BEHAVIOURS[b], "counts": item.counts if item else "",
                        "evidence": evidence, "facilitator_rating": bool(item and item.facilitator_rating),
                        "status": status})
        return out

    # -- internals ----------------------------------------------------------------------------------
    def _emit(self, ev: ScenarioEvent) -> ScenarioEvent:
        ev = replace(ev, t=round(ev.t, 4))
        self._sync(ev.t)
        self.history.append(ev)
        return ev

    def _finish(self, t: float, reason: str) -> ScenarioEvent:
        self.finished = True
        self.current = None
        self._hold = None
        self._sync(t)
        return self._emit(VisitEnded(t, reason=reason, behaviours=tuple(self.scenario.behaviours),
                                     rubric=tuple(self.rubric_report())))

    def _cut_current(self, t: float) -> list[ScenarioEvent]:
        """Stop whatever is in progress (a line mid-way, an open turn) without choosing a successor."""
        out: list[ScenarioEvent] = []
        if isinstance(self.current, PatientLine):
            out += self._end_line(self.current, t, interrupted=True)
        elif isinstance(self.current, ClinicianTurn) and self._turn is not None:
            self._close_turn(self._turn, t, "cut")
            out.append(self._turn_end_event(self.current, self.last_turn, t, "cut"))
        self.current = None
        return out

    def _end_line(self, step: PatientLine, t: float, interrupted: bool = False) -> list[ScenarioEvent]:
        t = round(t, 4)  # the events' precision: the stored session must rebuild the very same record
        self.record.patient.append((round(self._line_started, 4), t))
        if step.cue:
            self.record.cues.append(t)
            self._last_cue = t
        return [self._emit(PatientLineEnded(t, step=step.id, interrupted=interrupted))]

    def _after_line(self, step: PatientLine, t: float) -> list[ScenarioEvent]:
        """Where the visit goes when a line ends: back to the turn a silence check came from, the end of
        the visit after the silence give-up line, or the line's successor."""
        if self._silence_line:
            self._silence_line = False
            back, self._return_to = self._return_to, None
            if step.end or back is None:
                return [self._finish(t, "no_response")]
            return self._enter(back, t)
        return self._go(t, self.scenario.successor(step))

    def _close_turn(self, turn: TurnStats, t: float, reason: str) -> None:
        turn.ended = t
        turn.timed_out = reason == "timeout"
        self._sync(t)
        window = (turn.started, t)
        if turn.spoke and turn.first_speech is not None:
            turn.wait_s = max(0.0, turn.first_speech - turn.started)
        turn.talk_s = measure(self.record, "clinician_talk_s", window).value
        if not turn.spoke:
            turn.talk_s = 0.0 if turn.talk_s is not None else None
        turn.eye_contact = measure(self.record, "eye_contact_speaking", window).value
        if turn.card is not None and turn.spoke and card_credited(turn.talk_s):
            turn.credited_card = turn.card
        if self.record.mic is None or self.record.mic:
            onsets = talktime.interruptions(self.record.clinician, self.record.patient)
            turn.interrupted = any(turn.since < o <= turn.started for o in onsets)
        if turn.cue is not None:
            turn.face_responded = cue_responded(self.record, turn.cue)
        self.turns.append(turn)
        self.last_turn = turn
        self._last_turn_end = t
        self._turn = None

    def _turn_end_event(self, step: ClinicianTurn, turn: TurnStats, t: float, reason: str) -> ScenarioEvent:
        return self._emit(ClinicianTurnEnded(
            t, step=step.id, reason=reason, card=turn.card, credited=turn.credited_card is not None,
            wait_s=rounded(turn.wait_s), talk_s=rounded(turn.talk_s), eye_contact=rounded(turn.eye_contact),
            face_responded=turn.face_responded, interrupted=bool(turn.interrupted)))

    def _end_turn(self, step: ClinicianTurn, t: float, reason: str) -> list[ScenarioEvent]:
        turn = self._turn
        assert turn is not None
        self._close_turn(turn, t, reason)
        card = step.card(turn.credited_card) if turn.credited_card else None
        if card is not None:
            self.cards_chosen[card.id] = step.id
            self.flags.update(card.set_flags)
        out = [self._turn_end_event(step, turn, t, reason)]
        if reason == "timeout":
            return out + self._silent(step, t, turn)
        self._silences.pop(step.id, None)
        out += self._follow(step, step.branches, t, "turn", turn)
        return out

    def _silent(self, step: ClinicianTurn, t: float, turn: TurnStats) -> list[ScenarioEvent]:
        """A turn timed out in silence: the turn's on_timeout step, an explicit timed_out branch, or the
        scenario's silence checks - never carrying on as if the clinician had answered."""
        if step.on_timeout:
            self._silences.pop(step.id, None)
            return [self._emit(BranchTaken(t, step=step.id, to=step.on_timeout, branch=0))] + \
                self._go(t, self.scenario.step(step.on_timeout))
        if any(leaf.op == "timed_out" for br in step.branches for leaf in br.when.leaves()) \
                or self.scenario.silence is None:
            return self._follow(step, step.branches, t, "turn", turn)
        n = self._silences.get(step.id, 0)
        self._silences[step.id] = n + 1
        checks = self.scenario.silence.checks
        line = checks[n] if n < len(checks) else self.scenario.silence.give_up
        self._silence_line = True
        self._return_to = step
        return self._begin(line, t)

    def _follow(self, step: Step, branches: tuple[Branch, ...], t: float, scope: str,
                turn: TurnStats | None) -> list[ScenarioEvent]:
        out: list[ScenarioEvent] = []
        for i, br in enumerate(branches):
            if self.evaluate(br.when, scope, turn) is True:
                out.append(self._emit(BranchTaken(t, step=step.id, to=br.next, branch=i + 1)))
                return out + self._go(t, self.scenario.step(br.next))
        return out + self._go(t, self.scenario.successor(step))

    def _go(self, t: float, nxt: Step | None) -> list[ScenarioEvent]:
        if nxt is None:
            self.current = None
            return [self._finish(t, "completed")]
        return self._enter(nxt, t)

    def _enter(self, step: Step, t: float) -> list[ScenarioEvent]:
        ev = next((e for e in self.scenario.setting.connection_events if e.at_step == step.id), None)
        if ev is not None and step.id not in self._fired_connections:
            self._fired_connections.add(step.id)
            self.current = None
            self._hold = (step, t + ev.duration_s)
            return [self._emit(ConnectionChanged(t, state=ev.state, duration_s=ev.duration_s, step=step.id))]
        return self._begin(step, t)

    def _begin(self, step: Step, t: float) -> list[ScenarioEvent]:
        self.current = step
        self._step_started = t
        if not step.id.startswith("~"):  # silence checks are not steps of the scenario
            self.reached.add(step.id)
        if isinstance(step, PatientLine):
            out: list[ScenarioEvent] = []
            if step.speaker == "caregiver" and not self.caregiver_present:
                out += self._caregiver(t, True)
            self.flags.update(step.set_flags)
            duration = max(0.05, float(self._line_duration(step)))
            self._line_started = t
            self._line_ends_at = t + duration
            who = self.scenario.caregiver.persona if step.speaker == "caregiver" else self.scenario.patient
            out.append(self._emit(PatientLineStarted(t, step=step.id, text=step.text, emotion=step.emotion,
                                                     cue=step.cue, duration=round(duration, 3), speaker=step.speaker,
                                                     name=who.name, audio=step.audio, video=step.video)))
            return out
        if isinstance(step, ClinicianTurn):
            self._turn = TurnStats(step.id, t, since=self._last_turn_end, cue=self._last_cue)
            self._last_cue = None
            out = [self._emit(ClinicianTurnStarted(t, step=step.id, prompt=step.prompt, timeout_s=self.turn_timeout(step),
                                                   cards=tuple(_card_data(c) for c in step.cards)))]
            if self._speaking_since is not None:  # already talking as the turn opens
                self._turn.spoke = True
                self._turn.first_speech = t
                out.append(self._emit(ClinicianSpeaking(t, step=step.id)))
            return out
        if isinstance(step, EventStep):
            out = self._caregiver(t, step.event == "caregiver_joins")
            return out + self._go(t, self.scenario.successor(step))
        assert isinstance(step, Decision)
        return self._follow(step, step.branches, t, "decide", self.last_turn)

    def _caregiver(self, t: float, joins: bool) -> list[ScenarioEvent]:
        cg = self.scenario.caregiver
        if cg is None or self.caregiver_present == joins:
            return []
        self.caregiver_present = joins
        cls = CaregiverJoined if joins else CaregiverLeft
        return [self._emit(cls(t, name=cg.persona.name, relation=cg.persona.relation))]


def describe_condition(c: Condition) -> str:
    """Plain words for a condition, for the debrief (core.conditions.describe)."""
    return conditions.describe(c)


def _card_data(card) -> dict:
    """A card as the clinician_turn event carries it: id, label and detail, the French label when the
    scenario gives one, and the flags choosing it sets (so a summary can name a flag by its card)."""
    data = {"id": card.id, "label": card.label, "detail": card.detail}
    fr = dict(card.fr)
    if fr.get("label"):
        data["label_fr"] = fr["label"]
    if card.set_flags:
        data["sets"] = list(card.set_flags)
    return data
