"""Typed events that flow from the pipeline and the scenario engine to the store and the UI.

Every event carries `t`: seconds since session start on the session clock, taken from the source (frame
capture time, audio block time) and never from "now" at processing time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


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
    """Something the scenario engine or the user did: patient line start/end, turn, action, end."""

    t: float
    kind: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Notice:
    """A condition the user should know about (device missing, source ended, quality too low)."""

    t: float
    code: str
    message: str
    level: str = "warning"  # info | warning | error


@dataclass(frozen=True, slots=True)
class SourceFinished:
    """A file source reached its end (or a device stopped); `kind` is 'camera' or 'mic'."""

    t: float
    kind: str
    reason: str = "end of file"


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
