"""Typed events that flow from the pipeline and the scenario engine to the store and the UI.

Every event carries `t`: seconds since session start on the session clock, taken from the source (frame
capture time, audio block time) and never from "now" at processing time.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, ClassVar


@dataclass(frozen=True, slots=True)
class FrameSample:
    """Result of analysing one camera frame."""

    t: float
    face: bool
    gaze: str = "unknown"  # camera | screen | away | absent | unknown (DESIGN.md section 4)
    yaw: float | None = None  # degrees, positive = head turned to the person's left (camera's right)
    pitch: float | None = None  # degrees, positive = head tilted up
    roll: float | None = None  # degrees
    expressivity: float | None = None
    smile: float | None = None
    nod: bool = False
    quality: tuple[str, ...] = ()  # quality flags in force on this frame (DESIGN.md section 4), e.g. "too_dark"
    latency_s: float | None = None  # capture to result, for monitoring only (not stored)
    # The smile score above the person's resting level (trainer.analysis.expressivity), rounded as stored:
    # what core.face_metrics.SmileDetector counts smiles in, live and from the store alike.
    smile_above: float | None = None


@dataclass(frozen=True, slots=True)
class AudioLevel:
    """Microphone level and the detector's decision for one block (for the live meter)."""

    t: float
    rms_db: float
    speaking: bool


@dataclass(frozen=True, slots=True)
class SpeechSegment:
    """A closed interval of speech. speaker is 'clinician' or 'patient'."""

    start: float
    end: float
    speaker: str = "clinician"

    @property
    def duration(self) -> float:
        return max(0.0, self.end - self.start)


@dataclass(frozen=True, slots=True)
class ScenarioEvent:
    """Base of the scenario engine's typed events (one subclass per kind, below).

    Each subclass has a `kind` (the string stored in the session store's `events` table) and its own
    fields; `data` is the JSON-able dict stored beside the kind, and `event_from_row(t, kind, data)`
    rebuilds the typed event from a stored row, so a replay reads back exactly what the live visit saw.
    """

    t: float
    kind: ClassVar[str] = ""

    @property
    def data(self) -> dict[str, Any]:
        """The stored form of the fields (all but `t`): JSON-able (tuples become lists)."""
        return {f.name: _jsonable(getattr(self, f.name)) for f in fields(self) if f.name != "t"}


def _jsonable(v: Any) -> Any:
    if isinstance(v, (tuple, list)):
        return [_jsonable(x) for x in v]
    if isinstance(v, dict):
        return {k: _jsonable(x) for k, x in v.items()}
    return v


@dataclass(frozen=True, slots=True)
class VisitStarted(ScenarioEvent):
    """The visit began (t = 0 on a live visit)."""

    scenario: str = ""
    kind: ClassVar[str] = "visit_start"


@dataclass(frozen=True, slots=True)
class ConnectionChanged(ScenarioEvent):
    """A scripted connection problem began (`state` frozen | audio_dropped | reconnecting, lasting
    `duration_s`, before `step`) or ended (`state` ok)."""

    state: str = "ok"
    step: str = ""
    duration_s: float | None = None
    kind: ClassVar[str] = "connection"


@dataclass(frozen=True, slots=True)
class CaregiverJoined(ScenarioEvent):
    """The scenario's caregiver came into the call."""

    name: str = ""
    relation: str = ""
    kind: ClassVar[str] = "caregiver_join"


@dataclass(frozen=True, slots=True)
class CaregiverLeft(ScenarioEvent):
    """The caregiver left the call."""

    name: str = ""
    relation: str = ""
    kind: ClassVar[str] = "caregiver_leave"


@dataclass(frozen=True, slots=True)
class PatientLineStarted(ScenarioEvent):
    """The patient (or caregiver: `speaker`) began a line lasting `duration` seconds; `cue` marks an
    emotional cue the clinician should acknowledge; `audio`/`video` are recorded clips, if any."""

    step: str = ""
    text: str = ""
    emotion: str = "neutral"
    cue: bool = False
    duration: float = 0.0
    speaker: str = "patient"
    name: str = ""
    audio: str | None = None
    video: str | None = None
    kind: ClassVar[str] = "patient_line"


@dataclass(frozen=True, slots=True)
class PatientLineEnded(ScenarioEvent):
    """A line finished, or was cut short (`interrupted`: call ended, facilitator skipped)."""

    step: str = ""
    interrupted: bool = False
    kind: ClassVar[str] = "patient_line_end"


@dataclass(frozen=True, slots=True)
class Interruption(ScenarioEvent):
    """The clinician took the floor while a patient line was playing: they started speaking at `onset`
    and were still speaking core.talktime.BACKCHANNEL_MAX_S later (or the patient did not go on). `t` is
    when that was known, so the live window and a replay count it at the same moment."""

    step: str = ""
    onset: float | None = None
    kind: ClassVar[str] = "interruption"


@dataclass(frozen=True, slots=True)
class Backchannel(ScenarioEvent):
    """A short utterance during a patient line that did not take the floor ("mm-hm", "right"; definition
    in core.talktime): counted apart, never as an interruption. `t` is when it ended."""

    step: str = ""
    onset: float | None = None
    kind: ClassVar[str] = "backchannel"


@dataclass(frozen=True, slots=True)
class ClinicianTurnStarted(ScenarioEvent):
    """The clinician's turn opened: the prompt, the timeout and the intent cards ({id, label, detail})."""

    step: str = ""
    prompt: str = ""
    timeout_s: float | None = 0.0  # None: no time limit (the user turned turn time limits off)
    cards: tuple[dict, ...] = ()
    kind: ClassVar[str] = "clinician_turn"


@dataclass(frozen=True, slots=True)
class CardChosen(ScenarioEvent):
    """The clinician picked an intent card (what they intend; credited only if they then speak)."""

    step: str = ""
    card: str = ""
    kind: ClassVar[str] = "card_chosen"


@dataclass(frozen=True, slots=True)
class IntentHeard(ScenarioEvent):
    """Speaking freely: the turn's intent as recognised from the clinician's words (trainer.core.intents):
    the card (None when unsure, so no card was chosen), its score as the confidence, the runner-up's."""

    step: str = ""
    card: str | None = None
    confidence: float = 0.0
    runner_up: float = 0.0
    kind: ClassVar[str] = "intent_heard"


@dataclass(frozen=True, slots=True)
class ClinicianSpeaking(ScenarioEvent):
    """The clinician's first speech in the turn (stops the turn's timeout)."""

    step: str = ""
    kind: ClassVar[str] = "clinician_speaking"


@dataclass(frozen=True, slots=True)
class ClinicianTurnEnded(ScenarioEvent):
    """The turn closed. reason: spoke | timeout | override | cut. `card` is the card picked, `credited`
    whether it counts (the clinician spoke long enough in the turn, see core.measures); the rest are the
    turn's measures (None when not measurable)."""

    step: str = ""
    reason: str = ""
    card: str | None = None
    credited: bool = False
    wait_s: float | None = None
    talk_s: float | None = None
    eye_contact: float | None = None
    face_responded: bool | None = None
    interrupted: bool = False
    kind: ClassVar[str] = "clinician_turn_end"


@dataclass(frozen=True, slots=True)
class BranchTaken(ScenarioEvent):
    """Branch number `branch` (1-based; 0 for the turn's `on_timeout`) of `step` was taken, to `to`."""

    step: str = ""
    to: str = ""
    branch: int = 0
    kind: ClassVar[str] = "branch"


@dataclass(frozen=True, slots=True)
class UiActionTaken(ScenarioEvent):
    """A call-window action: share_screen, stop_share, invite_caregiver (core.scenario.ACTIONS)."""

    action: str = ""
    kind: ClassVar[str] = "ui_action"


@dataclass(frozen=True, slots=True)
class OverrideGiven(ScenarioEvent):
    """A facilitator override (built-in or declared by the scenario)."""

    name: str = ""
    kind: ClassVar[str] = "override"


@dataclass(frozen=True, slots=True)
class VisitEnded(ScenarioEvent):
    """The visit ended. reason: completed | ended_by_user | ended_by_facilitator | no_response; the
    rubric report (engine.rubric_report) travels with it."""

    reason: str = ""
    behaviours: tuple[str, ...] = ()
    rubric: tuple[dict, ...] = ()
    kind: ClassVar[str] = "visit_end"


@dataclass(frozen=True, slots=True)
class RubricFinal(ScenarioEvent):
    """The rubric report once every input of the visit is in (frames still in the pipeline when the
    visit ended included), dated at the visit's end; it supersedes the one sent with `visit_end`."""

    rubric: tuple[dict, ...] = ()
    kind: ClassVar[str] = "rubric"


#: Every typed scenario event class by its stored kind.
SCENARIO_EVENTS: dict[str, type[ScenarioEvent]] = {
    c.kind: c for c in (VisitStarted, ConnectionChanged, CaregiverJoined, CaregiverLeft, PatientLineStarted,
                        PatientLineEnded, Interruption, Backchannel, ClinicianTurnStarted, CardChosen, IntentHeard,
                        ClinicianSpeaking,
                        ClinicianTurnEnded, BranchTaken, UiActionTaken, OverrideGiven, VisitEnded, RubricFinal)
}


@dataclass(frozen=True, slots=True)
class Notice:
    """A condition the user should know about (device missing, source ended, quality too low)."""

    t: float
    code: str
    message: str  # in the language of the visit
    level: str = "warning"  # info | warning | error
    #: The same text as core.i18n.later(...), when it was made that way: stored, so that a replay or summary
    #: read in another language words the notice in that language (`shown()`).
    text: dict | None = field(default=None, compare=False)  # a dict: left out of hashing and comparison

    @classmethod
    def worded(cls, t: float, code: str, text: dict, level: str = "warning") -> "Notice":
        """A notice from a core.i18n.later(...) form: worded now, and kept to be worded again when read."""
        from trainer.core.i18n import wording

        return cls(t, code, wording(text), level, text)

    def shown(self) -> str:
        """The notice in the language in use (its stored wording when it has no `text`)."""
        from trainer.core.i18n import wording

        return wording(self.text) if self.text else self.message


@dataclass(frozen=True, slots=True)
class SourceFinished:
    """A file source reached its end (or a device stopped); `kind` is 'camera' or 'mic'."""

    t: float
    kind: str
    reason: str = "end of file"


#: SourceStatus states. "live": the source delivers (first data, or back after a stop: then "restored");
#: "ended": a file ran out; "failed": reading it broke; "lost": a device delivered nothing for over a second;
#: "silent": a microphone delivered only digital silence (muted, or a dead input) for over a second.
SOURCE_STATES = ("live", "ended", "failed", "lost", "silent", "restored")
#: States in which the source gives no feedback (coverage stops at the event's t) ...
SOURCE_STOPPED = ("ended", "failed", "lost", "silent")
#: ... and those in which it delivers again.
SOURCE_LIVE = ("live", "restored")
#: No frame (or mic block) for longer than this (session seconds) means the signal is gone ("lost").
SIGNAL_GAP_S = 1.0


@dataclass(frozen=True, slots=True)
class SourceStatus:
    """A change in what an input delivers, during the visit (emitted by the pipeline, stored as kind
    "source_status"). `t` is when the new state began on the session clock: the end of the last frame or
    block before a stop, the first new sample on "live"/"restored", the start of the silence on "silent".
    It may be up to about a second before the event is emitted (a stop is only known after a while)."""

    t: float
    source: str  # "camera" | "mic"
    state: str  # one of SOURCE_STATES
    reason: str = ""


@dataclass(frozen=True, slots=True)
class SpeechStarted:
    """The clinician started speaking (onset of a speech segment)."""

    t: float


@dataclass(frozen=True, slots=True)
class TurnEnded:
    """End of the clinician's turn: speech stopped and `hangover_s` of silence followed. `t` is the
    moment the silence had lasted the hang-over (when the engine may let the patient answer)."""

    t: float
    speech_end: float


@dataclass(frozen=True, slots=True)
class TalkBalance:
    """Running talk-time balance for the live display (emitted a few times a second by the voice side)."""

    t: float
    clinician_s: float
    patient_s: float
    share: float | None  # clinician / (clinician + patient); None before anyone spoke
    interruptions: int = 0


def _build(cls, t: float, data: dict) -> Any:
    names = {f.name: f for f in fields(cls) if f.name != "t"}
    kw = {}
    for k, v in data.items():
        if k in names:  # keys a later version added are ignored, missing ones take their defaults
            kw[k] = tuple(v) if isinstance(v, list) else v
    return cls(float(t), **kw)


def event_from_row(t: float, kind: str, data: dict | None) -> Any:
    """Rebuild the typed event of a stored `events` row (kind, data as stored): scenario events, notices
    and source events. Returns None for a kind this version does not know."""
    data = data or {}
    cls = SCENARIO_EVENTS.get(kind)
    if cls is not None:
        return _build(cls, t, data)
    if kind == "notice":
        return Notice(float(t), data.get("code", ""), data.get("message", ""), data.get("level", "warning"),
                      data.get("text"))
    if kind == "source_finished":
        return SourceFinished(float(t), data.get("source", ""), data.get("reason", ""))
    if kind == "source_status":
        return SourceStatus(float(t), data.get("source", ""), data.get("state", ""), data.get("reason", ""))
    return None


@dataclass(frozen=True, slots=True)
class Utterance:
    """What the clinician said in one speech segment (offline speech-to-text) and its verbal labels
    (trainer.core.verbal.merge_labels keys). `t` is when the transcript was ready, so `t - end` is its
    latency. `keep_text` says whether the site policy lets the words be stored (docs/policy.md,
    `allow_transcripts`); the live captions show them either way."""

    t: float
    start: float
    end: float
    text: str
    labels: dict[str, Any] = field(default_factory=dict)
    confidence: float | None = None
    keep_text: bool = False
    speaker: str = "clinician"
    #: False for speech the visit ended before it could be transcribed (closing in a hurry): no words.
    transcribed: bool = True

    def stored_data(self) -> dict[str, Any]:
        """The event row's data: times, labels, confidence, and the words only when they may be kept."""
        data: dict[str, Any] = {"start": self.start, "end": self.end, "latency_s": round(self.t - self.end, 3),
                                "confidence": self.confidence, "labels": self.labels}
        if not self.transcribed:
            data["transcribed"] = False
        elif self.keep_text:
            data["text"] = self.text
        return data
