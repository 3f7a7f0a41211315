"""The scenario engine: a deterministic state machine driven by events and a clock.

Inputs (methods, each taking session time): `start`, `tick`, `clinician_speech_started`,
`clinician_speech_segment`, `clinician_turn_ended`, `choose_card`, `ui_action`, `override`,
`observe_frame` and `end_call`. Each returns the ScenarioEvents it produced (also kept in `history`):

- `visit_start` {scenario}
- `connection` {state: frozen | audio_dropped | reconnecting | ok, duration_s, step}
- `caregiver_join` / `caregiver_leave` {name, relation}
- `patient_line` {step, text, emotion, cue, duration, speaker, name, audio, video}; `patient_line_end`
  {step, interrupted?}
- `interruption` {step}: the clinician started speaking while a line was playing
- `clinician_turn` {step, prompt, timeout_s, cards: [{id, label, detail}]}; `card_chosen` {step, card};
  `clinician_speaking` {step}; `clinician_turn_end` {step, reason: spoke | timeout | override, card,
  wait_s, talk_s, eye_contact, face_responded, interrupted}
- `branch` {step, to, branch}: a branch of a turn or a decide step was taken
- `ui_action` {action}; `override` {name}
- `visit_end` {reason: completed | ended_by_user | ended_by_facilitator, behaviours, rubric}

The engine never reads a clock itself: callers pass session time, so tests replay whole scenarios in
milliseconds and a live visit and a recorded one follow the same path. It is not thread-safe: the
caller serialises calls (VisitRunner holds a lock).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from trainer.core.events import ScenarioEvent
from trainer.core.scenario import (BEHAVIOURS, BUILTIN_OVERRIDES, Branch, ClinicianTurn, Condition, Decision,
                                   EventStep, PatientLine, Scenario, Step)

#: Speaking rate used when a line has no rendered audio yet (words per second, calm conversational speech).
WORDS_PER_SECOND = 2.6
#: After an emotional cue line, a face response (nod, expression) counts if it starts before the line's
#: end plus this many seconds (DESIGN.md section 4, "cue response").
CUE_WINDOW_S = 4.0
#: Expressivity (0..1, beyond the clinician's own neutral) that counts as a visible facial response.
CUE_EXPRESSIVITY = 0.3


def estimated_line_duration(text: str) -> float:
    """Seconds a patient line takes when spoken at a calm conversational rate (min 1.5 s)."""
    words = len(text.split())
    return max(1.5, words / WORDS_PER_SECOND + 0.4)


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
    card: str | None = None
    actions: list[str] = field(default_factory=list)
    interrupted: bool = False  # the clinician cut into a line since the previous turn
    cue_line: tuple[float, float] | None = None  # the cue line just before this turn (start, end)
    wait_s: float | None = None
    talk_s: float | None = None
    eye_contact: float | None = None
    face_responded: bool | None = None


class ScenarioEngine:
    """Plays a Scenario step by step."""

    def __init__(self, scenario: Scenario, line_duration: Callable[[PatientLine], float] | None = None):
        self.scenario = scenario
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
        self.interruptions: list[float] = []
        self._interrupted_since_turn = False
        self._last_cue: tuple[float, float] | None = None  # cue line since the previous turn
        self.cue_lines: list[tuple[float, float]] = []
        self.patient_talk: list[tuple[float, float]] = []
        self.clinician_segments: list[tuple[float, float]] = []
        self._frames: list[tuple[float, bool, bool, float, bool]] = []  # t, face, camera, expressivity, nod

    # -- inputs -------------------------------------------------------------------------------------
    def start(self, t: float) -> list[ScenarioEvent]:
        """Begin the visit at session time t with the first step."""
        if self.started or self.finished:
            return []
        self.started = True
        out = [self._emit(t, "visit_start", scenario=self.scenario.id)]
        out += self._enter(self.scenario.steps[0], t)
        return out

    def tick(self, t: float) -> list[ScenarioEvent]:
        """Advance time: ends connection holds, patient lines whose audio ended and timed-out turns."""
        out: list[ScenarioEvent] = []
        # A loop, because one tick may pass several short timed steps.
        while not self.finished and self.started:
            step = self.current
            if self._hold is not None:
                held, until = self._hold
                if t < until:
                    break
                self._hold = None
                out.append(self._emit(until, "connection", state="ok", step=held.id))
                out += self._begin(held, until)
            elif isinstance(step, PatientLine) and t >= self._line_ends_at:
                out += self._end_line(step, self._line_ends_at)
                out += self._go(self._line_ends_at, self.scenario.successor(step))
            elif (isinstance(step, ClinicianTurn) and self._turn is not None and not self._turn.spoke
                  and self._speaking_since is None and t >= self._step_started + step.timeout_s):
                end_t = self._step_started + step.timeout_s
                out += self._end_turn(step, end_t, "timeout")
            else:
                break
        return out

    def clinician_speech_started(self, t: float) -> list[ScenarioEvent]:
        """The clinician started speaking. During a turn this stops its timeout; during a line it is an
        interruption."""
        out = self.tick(t)
        if self.finished:
            return out
        self._speaking_since = t
        if isinstance(self.current, PatientLine) and self._hold is None:
            self.interruptions.append(t)
            self._interrupted_since_turn = True
            out.append(self._emit(t, "interruption", step=self.current.id))
        elif isinstance(self.current, ClinicianTurn) and self._turn is not None and not self._turn.spoke:
            self._turn.spoke = True
            self._turn.first_speech = t
            out.append(self._emit(t, "clinician_speaking", step=self.current.id))
        return out

    def clinician_speech_segment(self, start: float, end: float) -> list[ScenarioEvent]:
        """A closed segment of clinician speech (from the voice pipeline), for talk length and share."""
        if end > start:
            self.clinician_segments.append((start, end))
        return []

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
        out.append(self._emit(t, "card_chosen", step=step.id, card=card_id))
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
        out.append(self._emit(t, "ui_action", action=action))
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
        out.append(self._emit(t, "override", name=name))
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
                out += self._go(t, self.scenario.successor(step))
            elif isinstance(self.current, ClinicianTurn):
                out += self._end_turn(self.current, t, "override")
        elif declared is not None and declared.goto:
            out += self._cut_current(t)
            self._hold = None
            out += self._enter(self.scenario.step(declared.goto), t)
        return out

    def observe_frame(self, t: float, face: bool, gaze: str = "unknown", expressivity: float | None = None,
                      nod: bool = False) -> None:
        """One analysed camera frame (gaze state per DESIGN.md section 4), for measured branches."""
        self._frames.append((t, bool(face), gaze == "camera", float(expressivity or 0.0), bool(nod)))

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

    # -- queries ------------------------------------------------------------------------------------
    def available_overrides(self) -> list[tuple[str, str]]:
        """(id, label) of every override a facilitator may give in this scenario."""
        return list(BUILTIN_OVERRIDES.items()) + [(o.id, o.label) for o in self.scenario.overrides]

    def talk_share(self) -> float | None:
        """Clinician share of talk so far: clinician / (clinician + patient) seconds; None before any talk."""
        clin = self._clinician_talk()
        pat = sum(e - s for s, e in self.patient_talk)
        return None if clin + pat <= 0 else clin / (clin + pat)

    def eye_contact(self) -> float | None:
        """Camera share of face-present frames while the clinician answered in turns; None if unseen."""
        windows = [(tr.first_speech, tr.ended) for tr in self.turns if tr.first_speech is not None and tr.ended]
        return self._eye_contact(windows)

    def face_present(self) -> float | None:
        """Share of analysed frames with the clinician's face in view; None if no frame was analysed."""
        if not self._frames:
            return None
        return sum(1 for f in self._frames if f[1]) / len(self._frames)

    def cue_response(self) -> float | None:
        """Share of cue lines the clinician's face visibly responded to; None if no cue had face data."""
        results = [r for r in (self._face_response(c) for c in self.cue_lines) if r is not None]
        return None if not results else sum(results) / len(results)

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
        return self._leaf(cond.op, cond.value, scope, turn if turn is not None else self.last_turn)

    def rubric_report(self) -> list[dict]:
        """Per targeted behaviour: what counts, each evidence item's result and an overall status
        (met | not_met | unknown | needs_rating). JSON-ready; also sent with `visit_end`."""
        out = []
        for b in self.scenario.behaviours:
            item = self.scenario.rubric_for(b)
            evidence = []
            for c in (item.evidence if item else ()):
                evidence.append({"check": describe_condition(c), "result": self.evaluate(c, "visit")})
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
    def _emit(self, t: float, kind: str, **data) -> ScenarioEvent:
        ev = ScenarioEvent(round(t, 4), kind, data)
        self.history.append(ev)
        return ev

    def _finish(self, t: float, reason: str) -> ScenarioEvent:
        self.finished = True
        self.current = None
        self._hold = None
        return self._emit(t, "visit_end", reason=reason, behaviours=list(self.scenario.behaviours),
                          rubric=self.rubric_report())

    def _cut_current(self, t: float) -> list[ScenarioEvent]:
        """Stop whatever is in progress (a line mid-way, an open turn) without choosing a successor."""
        out: list[ScenarioEvent] = []
        if isinstance(self.current, PatientLine):
            out += self._end_line(self.current, t, interrupted=True)
        elif isinstance(self.current, ClinicianTurn) and self._turn is not None:
            out.append(self._emit(t, "clinician_turn_end", step=self.current.id, reason="cut", card=self._turn.card))
            self._close_turn(self._turn, t, "cut")
        self.current = None
        return out

    def _end_line(self, step: PatientLine, t: float, interrupted: bool = False) -> list[ScenarioEvent]:
        self.patient_talk.append((self._line_started, t))
        if step.cue:
            self.cue_lines.append((self._line_started, t))
            self._last_cue = (self._line_started, t)
        data = {"step": step.id}
        if interrupted:
            data["interrupted"] = True
        return [self._emit(t, "patient_line_end", **data)]

    def _close_turn(self, turn: TurnStats, t: float, reason: str) -> None:
        turn.ended = t
        turn.timed_out = reason == "timeout"
        if turn.spoke and turn.first_speech is not None:
            turn.wait_s = max(0.0, turn.first_speech - turn.started)
            window = (turn.started, t)
            segs = [(max(s, window[0]), min(e, window[1])) for s, e in self.clinician_segments
                    if e > window[0] and s < window[1]]
            if segs:
                turn.talk_s = sum(e - s for s, e in segs)
            else:  # no segments from the voice side: from the first word to the end of speech
                turn.talk_s = max(0.0, (turn.speech_end or t) - turn.first_speech)
            turn.eye_contact = self._eye_contact([(turn.first_speech, t)])
        elif turn.timed_out:
            turn.wait_s = t - turn.started
            turn.talk_s = 0.0
        if turn.cue_line is not None:
            turn.face_responded = self._face_response(turn.cue_line)
        self.turns.append(turn)
        self.last_turn = turn
        self._turn = None

    def _end_turn(self, step: ClinicianTurn, t: float, reason: str) -> list[ScenarioEvent]:
        turn = self._turn
        assert turn is not None
        self._close_turn(turn, t, reason)
        card = step.card(turn.card) if turn.card else None
        if card is not None:
            self.cards_chosen[card.id] = step.id
            self.flags.update(card.set_flags)
        out = [self._emit(t, "clinician_turn_end", step=step.id, reason=reason, card=turn.card,
                          wait_s=_r(turn.wait_s), talk_s=_r(turn.talk_s), eye_contact=_r(turn.eye_contact),
                          face_responded=turn.face_responded, interrupted=turn.interrupted)]
        out += self._follow(step, step.branches, t, "turn", turn)
        return out

    def _follow(self, step: Step, branches: tuple[Branch, ...], t: float, scope: str,
                turn: TurnStats | None) -> list[ScenarioEvent]:
        out: list[ScenarioEvent] = []
        for i, br in enumerate(branches):
            if self.evaluate(br.when, scope, turn) is True:
                out.append(self._emit(t, "branch", step=step.id, to=br.next, branch=i + 1))
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
            return [self._emit(t, "connection", state=ev.state, duration_s=ev.duration_s, step=step.id)]
        return self._begin(step, t)

    def _begin(self, step: Step, t: float) -> list[ScenarioEvent]:
        self.current = step
        self._step_started = t
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
            out.append(self._emit(t, "patient_line", step=step.id, text=step.text, emotion=step.emotion,
                                  cue=step.cue, duration=round(duration, 3), speaker=step.speaker, name=who.name,
                                  audio=step.audio, video=step.video))
            return out
        if isinstance(step, ClinicianTurn):
            self._turn = TurnStats(step.id, t, interrupted=self._interrupted_since_turn, cue_line=self._last_cue)
            self._interrupted_since_turn = False
            self._last_cue = None
            out = [self._emit(t, "clinician_turn", step=step.id, prompt=step.prompt, timeout_s=step.timeout_s,
                              cards=[{"id": c.id, "label": c.label, "detail": c.detail} for c in step.cards])]
            if self._speaking_since is not None:  # already talking as the turn opens
                self._turn.spoke = True
                self._turn.first_speech = t
                out.append(self._emit(t, "clinician_speaking", step=step.id))
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
        return [self._emit(t, "caregiver_join" if joins else "caregiver_leave", name=cg.persona.name,
                           relation=cg.persona.relation)]

    def _clinician_talk(self) -> float:
        if self.clinician_segments:
            return sum(e - s for s, e in self.clinician_segments)
        return sum(tr.talk_s or 0.0 for tr in self.turns)

    def _eye_contact(self, windows: list[tuple[float, float]]) -> float | None:
        face = camera = 0
        for ft, f, cam, _, _ in self._frames:
            if f and any(a <= ft <= b for a, b in windows):
                face += 1
                camera += cam
        return None if face == 0 else camera / face

    def _face_response(self, cue: tuple[float, float]) -> bool | None:
        lo, hi = cue[0], cue[1] + CUE_WINDOW_S
        seen = False
        for ft, f, _, expr, nod in self._frames:
            if lo <= ft <= hi and f:
                seen = True
                if nod or expr >= CUE_EXPRESSIVITY:
                    return True
        return False if seen else None

    def _leaf(self, key: str, value, scope: str, turn: TurnStats | None) -> bool | None:
        if key == "card":
            if scope == "turn":
                return turn is not None and turn.card in value
            return any(c in self.cards_chosen for c in value)
        if key == "action":
            done = {a for _, a in self.actions}
            return any(a in done for a in value)
        if key == "action_in_turn":
            return turn is not None and any(a in turn.actions for a in value)
        if key == "flag":
            return any(f in self.flags for f in value)
        if key == "reached":
            return any(s in self.reached for s in value)
        if key == "override":
            return any(o in self.overrides_given for o in value)
        if key == "caregiver_present":
            return self.caregiver_present == value
        if key == "timed_out":
            return None if turn is None else turn.timed_out == value
        if key == "interrupted":
            if scope == "visit":
                return bool(self.interruptions) == value
            return None if turn is None else turn.interrupted == value
        if key == "interruptions_at_most":
            return len(self.interruptions) <= value
        measured = {
            "wait_s": turn.wait_s if turn else None,
            "talk_s": turn.talk_s if turn else None,
            "talk_share": self.talk_share(),
            "eye_contact": (turn.eye_contact if turn else None) if scope != "visit" else self.eye_contact(),
            "cue_response": self.cue_response(),
            "face_present": self.face_present(),
            "cue_wait_s": self._cue_wait(),
        }
        if key == "face_responded":
            return None if turn is None or turn.face_responded is None else turn.face_responded == value
        for name, v in measured.items():
            if key == f"{name}_at_least":
                return None if v is None else v >= value
            if key == f"{name}_below":
                return None if v is None else v < value
        raise ValueError(f"unknown condition key '{key}'")  # the loader rejects these; a bug if reached

    def _cue_wait(self) -> float | None:
        waits = [tr.wait_s for tr in self.turns if tr.cue_line is not None and tr.wait_s is not None]
        return min(waits) if waits else None


def _r(v: float | None) -> float | None:
    return None if v is None else round(v, 3)


def describe_condition(c: Condition) -> str:
    """Plain words for a condition, for the debrief ("card 'ask_preference' chosen", ...)."""
    if c.op in ("all", "any"):
        joiner = " and " if c.op == "all" else " or "
        return "(" + joiner.join(describe_condition(a) for a in c.args) + ")"
    if c.op == "not":
        return "not " + describe_condition(c.args[0])
    v = c.value
    names = " or ".join(f"'{x}'" for x in v) if isinstance(v, tuple) else v
    text = {
        "card": f"card {names} chosen",
        "action": f"call action {names} used",
        "action_in_turn": f"call action {names} used in the turn",
        "flag": f"{names} happened",
        "reached": f"the visit reached {names}",
        "override": f"facilitator override {names}",
        "caregiver_present": "caregiver in the call" if v else "caregiver not in the call",
        "timed_out": "the turn timed out" if v else "the clinician answered",
        "interrupted": "the clinician interrupted" if v else "no interruptions",
        "interruptions_at_most": f"at most {v} interruption(s)",
        "face_responded": "face responded to the cue" if v else "no visible face response to the cue",
    }.get(c.op)
    if text is not None:
        return text
    pretty = {"wait_s": "wait before speaking", "talk_s": "talk in the turn", "talk_share": "clinician share of talk",
              "eye_contact": "eye contact while speaking", "cue_response": "face responses to cues",
              "face_present": "face in view",
              "cue_wait_s": "shortest wait after a cue"}
    for name, label in pretty.items():
        for suffix, sym in (("_at_least", "≥"), ("_below", "<")):
            if c.op == name + suffix:
                unit = " s" if name.endswith("_s") else ""
                shown = f"{v:g}{unit}" if unit else f"{v * 100:.0f} %"
                return f"{label} {sym} {shown}"
    return c.op
