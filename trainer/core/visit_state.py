"""What the call window shows at session time t, as a pure model built from events (no Qt).

Usage (live): `state = VisitState()`; `state.apply(ev)` for every event the runner delivers (scenario
events and pipeline events: FrameSample, AudioLevel, SpeechStarted, SpeechSegment, TurnEnded,
TalkBalance, Notice, SourceFinished, SourceStatus); `state.view(t)` -> `VisitView` for the session time t
being displayed. Replay: `state_at(events, t)` applies the events that happened by t, in time order,
and gives the same `VisitView` the live window had at t for the same events.

What a stored session can replay: the store keeps frames (without quality flags), speech segments,
scenario events, notices and source events - not meter levels (AudioLevel) or TalkBalance - so a replay
shows the same phase, line, turn, talk seconds, interruptions, face panel and notices, and the mic panel
without its level.

Rules the view follows (DESIGN.md section 8: anything shown live can be shown again in a replay):
- Talk seconds: the patient's from line playback up to t; the clinician's from closed speech segments
  plus the one under way (from its SpeechStarted up to t, so "You" counts up while the clinician talks
  instead of jumping when a long utterance ends); a replay gets a SpeechStarted at each stored segment's
  start (trainer.store.timeline), so both are reproducible from stored rows.
- Face panel: the newest frame's face / gaze / quality; "no camera signal since m:ss" when the camera
  source reported that it ended, failed or was lost (SourceStatus / SourceFinished: the pipeline watches
  capture, so a busy computer is not mistaken for a lost camera); "not analysed since m:ss" (signal
  'stale') when no analysed frame arrived for more than STALE_S of session time although the camera is
  live (the analysis is behind) - never the last state held on screen.
- Mic panel: likewise from AudioLevel events and the microphone's source events.
- Notices stay active NOTICE_S seconds (errors stay until the end).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from trainer.core.clock import clock_text  # noqa: F401 - m:ss, shown by the window from here
from trainer.core.events import SOURCE_STOPPED
from trainer.core.i18n import _

#: No analysed frame (or meter block) for this long while the source is live: the panel stops showing the
#: last state and says the analysis is behind (session seconds; capture gaps are the source's to report).
STALE_S = 2.0

#: How long a warning or info notice stays on screen (session seconds); errors stay.
NOTICE_S = 10.0

_DOWN = SOURCE_STOPPED


@dataclass(frozen=True)
class LineView:
    """The line being spoken: who (patient | caregiver), their name, text, emotion, cue, timing."""

    step: str
    speaker: str
    name: str
    text: str
    emotion: str
    cue: bool
    started: float
    duration: float


@dataclass(frozen=True)
class TurnView:
    """The clinician's open turn: prompt, cards, the card chosen, whether they are speaking, and the
    seconds left before the timeout (None once they speak, or when the turn has no time limit)."""

    step: str
    prompt: str
    cards: tuple[dict, ...]
    chosen_card: str | None
    speaking: bool
    time_left_s: float | None


@dataclass(frozen=True)
class FacePanel:
    """signal: 'waiting' (no frame yet), 'live', 'stale' (analysis behind) or 'lost' (see `since`, the time of the last frame or of
    the source's end). face / gaze / quality describe the newest frame while live."""

    signal: str
    face: bool | None = None
    gaze: str | None = None
    quality: tuple[str, ...] = ()
    since: float | None = None

    @property
    def text(self) -> str:
        """The panel's words."""
        if self.signal == "lost":
            return _("no camera signal since {t}").format(t=clock_text(self.since or 0.0))
        if self.signal == "stale":
            return _("not analysed since {t} (the computer is busy)").format(t=clock_text(self.since or 0.0))
        if self.signal == "waiting":
            return _("waiting for the camera")
        if not self.face:
            return _("no face in view")
        return {"camera": _("eye contact"), "screen": _("looking at the patient"), "away": _("looking away")}.get(
            self.gaze or "", _("gaze unclear"))


@dataclass(frozen=True)
class MicPanel:
    """signal: 'waiting', 'live', 'stale', 'lost' or 'none' (no microphone); level_db/speaking from the newest
    meter block while live (None in a replay of a stored session)."""

    signal: str
    level_db: float | None = None
    speaking: bool = False
    since: float | None = None

    @property
    def text(self) -> str:
        """The panel's words."""
        if self.signal == "lost":
            return _("no microphone signal since {t}").format(t=clock_text(self.since or 0.0))
        if self.signal == "stale":
            return _("not analysed since {t} (the computer is busy)").format(t=clock_text(self.since or 0.0))
        if self.signal == "none":
            return _("no microphone")
        if self.signal == "waiting":
            return _("waiting for the microphone")
        return _("speaking") if self.speaking else _("listening")


@dataclass(frozen=True)
class VisitView:
    """Everything the call window shows at session time `t`.

    phase: connecting | patient_speaking | clinician_turn | connection_problem | between | ended."""

    t: float
    phase: str
    line: LineView | None
    turn: TurnView | None
    connection: str
    caregiver_present: bool
    caregiver_name: str
    sharing_screen: bool
    clinician_talk_s: float
    patient_talk_s: float
    talk_share: float | None
    interruptions: int
    face: FacePanel
    mic: MicPanel
    notices: tuple = ()
    ended_reason: str | None = None


def _time(ev) -> float:
    t = getattr(ev, "t", None)
    return float(ev.end if t is None else t)  # a SpeechSegment is known when it closes


@dataclass
class VisitState:
    """The call window's state, built by applying events (see the module docstring)."""

    has_mic: bool = True
    started: bool = False
    ended: str | None = None
    ended_at: float | None = None
    line: LineView | None = None
    turn: dict | None = None
    connection: str = "ok"
    caregiver: str = ""
    caregiver_present: bool = False
    sharing: bool = False
    patient_done_s: float = 0.0
    clinician_s: float = 0.0
    clinician_open: float | None = None  # start of the clinician's segment under way
    interruptions: int = 0
    frame: object | None = None
    camera_down_at: float | None = None
    level: object | None = None
    mic_down_at: float | None = None
    notices: list = field(default_factory=list)

    def apply(self, ev) -> None:
        """Take one event into account (events arrive in time order; unknown kinds are ignored)."""
        kind = getattr(ev, "kind", None)
        name = type(ev).__name__
        if name == "FrameSample":
            if self.frame is None or ev.t >= self.frame.t:
                self.frame = ev
        elif name == "AudioLevel":
            if self.level is None or ev.t >= self.level.t:
                self.level = ev
        elif name == "SpeechStarted":
            if self.clinician_open is None:
                self.clinician_open = ev.t
        elif name == "SpeechSegment":
            if ev.speaker == "clinician":
                self.clinician_s += ev.duration
                self.clinician_open = None
        elif name == "Notice":
            self.notices.append(ev)
        elif name in ("SourceFinished", "SourceStatus"):
            source = ev.kind if name == "SourceFinished" else ev.source
            down = name == "SourceFinished" or ev.state in _DOWN
            attr = "camera_down_at" if source == "camera" else "mic_down_at" if source == "mic" else None
            if attr is not None:
                setattr(self, attr, ev.t if down else None)
        elif kind == "visit_start":
            self.started = True
        elif kind == "connection":
            self.connection = ev.state
        elif kind in ("caregiver_join", "caregiver_leave"):
            self.caregiver_present = kind == "caregiver_join"
            self.caregiver = ev.name
        elif kind == "patient_line":
            self.line = LineView(ev.step, ev.speaker, ev.name, ev.text, ev.emotion, ev.cue, ev.t, ev.duration)
        elif kind == "patient_line_end":
            if self.line is not None:
                self.patient_done_s += max(0.0, ev.t - self.line.started)
            self.line = None
        elif kind == "interruption":
            self.interruptions += 1
        elif kind == "clinician_turn":
            self.turn = {"step": ev.step, "prompt": ev.prompt, "cards": tuple(ev.cards), "card": None,
                         "started": ev.t, "timeout_s": ev.timeout_s, "speaking": False}
        elif kind == "card_chosen" and self.turn is not None:
            self.turn["card"] = ev.card
        elif kind == "clinician_speaking" and self.turn is not None:
            self.turn["speaking"] = True
        elif kind == "clinician_turn_end":
            self.turn = None
        elif kind == "ui_action":
            if ev.action in ("share_screen", "stop_share"):
                self.sharing = ev.action == "share_screen"
        elif kind == "visit_end":
            self.ended, self.ended_at = ev.reason, ev.t
            if self.line is not None:
                self.patient_done_s += max(0.0, ev.t - self.line.started)
            self.line, self.turn = None, None

    def view(self, t: float) -> VisitView:
        """The window at session time t (t at or after the last applied event)."""
        line = self.line
        patient_s = self.patient_done_s + (max(0.0, min(t, line.started + line.duration) - line.started)
                                           if line is not None else 0.0)
        clinician_s = self.clinician_s
        if self.clinician_open is not None and self.ended is None:
            clinician_s += max(0.0, t - self.clinician_open)
        total = patient_s + clinician_s
        turn = None
        if self.turn is not None:
            tr = self.turn
            left = None if tr["speaking"] or tr["timeout_s"] is None else max(0.0, tr["started"] + tr["timeout_s"] - t)
            turn = TurnView(tr["step"], tr["prompt"], tr["cards"], tr["card"], tr["speaking"], left)
        if self.ended is not None:
            phase = "ended"
        elif not self.started:
            phase = "connecting"
        elif self.connection != "ok":
            phase = "connection_problem"
        elif line is not None:
            phase = "patient_speaking"
        elif turn is not None:
            phase = "clinician_turn"
        else:
            phase = "between"
        active = tuple(n for n in self.notices if n.t <= t and (n.level == "error" or t - n.t <= NOTICE_S))
        return VisitView(t, phase, line, turn, self.connection, self.caregiver_present, self.caregiver,
                         self.sharing, round(clinician_s, 3), round(patient_s, 3),
                         None if total <= 0 else clinician_s / total, self.interruptions,
                         self._face(t), self._mic(t), active, self.ended)

    def _face(self, t: float) -> FacePanel:
        f = self.frame
        if self.camera_down_at is not None:
            return FacePanel("lost", since=min(self.camera_down_at, f.t) if f is not None else self.camera_down_at)
        if f is None:
            return FacePanel("waiting")
        if t - f.t > STALE_S:
            return FacePanel("stale", since=f.t)
        return FacePanel("live", f.face, f.gaze, tuple(getattr(f, "quality", ()) or ()), f.t)

    def _mic(self, t: float) -> MicPanel:
        if not self.has_mic:
            return MicPanel("none")
        lv = self.level
        if self.mic_down_at is not None:
            return MicPanel("lost", since=self.mic_down_at)
        if lv is None:
            return MicPanel("live")  # no meter events (a stored session): the signal is not known lost
        if t - lv.t > STALE_S:
            return MicPanel("stale", since=lv.t)
        return MicPanel("live", lv.rms_db, lv.speaking, lv.t)


def state_at(events: Iterable, t: float, *, has_mic: bool = True) -> VisitView:
    """The window at session time t, from any events (live or rebuilt from a stored session with
    core.events.event_from_row): those that happened by t are applied in time order."""
    state = VisitState(has_mic=has_mic)
    for ev in sorted((e for e in events if _time(e) <= t), key=_time):
        state.apply(ev)
    return state.view(t)
