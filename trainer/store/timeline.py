"""A stored session as a replay timeline: typed events on the session clock plus the lanes a facilitator
reads (pure data; the replay page in trainer/ui draws it).

`load_timeline(store, session_id)` turns the stored rows back into the events the live window had (frames
as FrameSample, speech as SpeechSegment, scenario events, notices and source events through
core.events.event_from_row), builds a `core.replay.ReplayModel` for seeking, and derives the lanes:

- gaze: runs of the per-frame gaze state; where no frame came for over a second, nothing is drawn (a gap);
- expressivity and smile: the per-frame scores (0..1) as curves;
- nods: the frames the nod detector marked;
- clinician talk and patient talk: the speech segments; interruptions (core.talktime) marked on the
  clinician's lane;
- cues: the end of each cue line, labelled with whether the face responded (core.measures.cue_responded);
- cards, actions and overrides: what the clinician chose and did, and what the facilitator overrode;
- notices and gaps: notices, and the stretches when the camera or microphone delivered nothing
  (core.measures.source_live_intervals);
- facilitator notes: each stored note (SessionStore.notes) at its time, labelled "author: text".
Every lane reuses the measure definitions of core; nothing here is a second definition.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from trainer.core import talktime
from trainer.core.debrief import localized_card
from trainer.core.errors import TrainerError
from trainer.core.i18n import _, localized
from trainer.core.events import FrameSample, SpeechSegment, SpeechStarted, event_from_row
from trainer.core.measures import cue_responded, source_live_intervals
from trainer.core.replay import Lane, ReplayModel, transcript
from trainer.core.scenario import BUILTIN_OVERRIDES

#: Frames further apart than this (seconds) leave a gap in the gaze lane.
GAZE_GAP_S = 1.0


@dataclass
class Timeline:
    """One session ready to replay."""

    session_id: int
    title: str
    scenario_id: str
    duration_s: float
    model: ReplayModel
    lanes: list[Lane]
    lines: list[tuple[float, str, str]]  # (t, speaker name, text) of the patient's side
    notes: list[dict] = field(default_factory=list)  # SessionStore.notes rows when it was read


def _frame_event(row: dict) -> FrameSample:
    return FrameSample(float(row["t"]), bool(row["face"]), row["gaze"] or "unknown", row.get("yaw"),
                       row.get("pitch"), row.get("roll"), row.get("expressivity"), row.get("smile"),
                       bool(row.get("nod")), smile_above=row.get("smile_above"))


def _gaze_lane(frames: list[dict]) -> Lane:
    spans: list[tuple[float, float, str]] = []
    for row in frames:
        t, state = float(row["t"]), (row["gaze"] or "unknown") if row["face"] else "absent"
        if spans and spans[-1][2] == state and t - spans[-1][1] <= GAZE_GAP_S:
            spans[-1] = (spans[-1][0], t, state)
        elif spans and t - spans[-1][1] <= GAZE_GAP_S:
            spans[-1] = (spans[-1][0], t, spans[-1][2])
            spans.append((t, t, state))
        else:
            spans.append((t, t, state))
    return Lane("Gaze", spans=tuple(spans))


def _curve(frames: list[dict], key: str, step_s: float = 0.25) -> tuple[tuple[float, float], ...]:
    """The highest value in each step (a response shows even when short), None frames skipped."""
    out: dict[int, float] = {}
    for row in frames:
        v = row.get(key)
        if v is None or not row["face"]:
            continue
        k = int(float(row["t"]) / step_s)
        out[k] = max(out.get(k, 0.0), float(v))
    return tuple((k * step_s, min(1.0, max(0.0, v))) for k, v in sorted(out.items()))


def _gaps(intervals: list[tuple[float, float]], end_s: float, label: str) -> list[tuple[float, float, str]]:
    out, t = [], 0.0
    for a, b in sorted(intervals):
        if a > t + 1e-6:
            out.append((t, a, label))
        t = max(t, b)
    if end_s > t + 1e-6:
        out.append((t, end_s, label))
    return out


#: The name of the facilitator notes lane (the replay page replaces it when a note is added).
NOTES_LANE = "Facilitator notes"


def notes_lane(notes: list[dict]) -> Lane:
    """The facilitator notes lane from SessionStore.notes rows."""
    return Lane(NOTES_LANE, marks=tuple((float(n["t"]), _("{speaker}: {text}").format(speaker=n["author"], text=n["text"]))
                                       for n in notes))


def load_timeline(store, session_id: int) -> Timeline:
    """Read a stored session into a replayable Timeline (see the module docstring)."""
    meta = store.session(session_id)
    rec = store.visit_record(session_id)
    rows = store.events(session_id)
    frames = [f for f in store.frames(session_id)]
    events: list = [_frame_event(f) for f in frames]
    con_segments = store.speech(session_id, "clinician")
    pat_segments = store.speech(session_id, "patient")
    events += [SpeechSegment(a, b, "clinician") for a, b in con_segments]
    events += [SpeechStarted(a) for a, _b in con_segments]  # "You" counts up during a segment, as it did live
    events += [SpeechSegment(a, b, "patient") for a, b in pat_segments]
    typed = [ev for ev in (event_from_row(r["t"], r["kind"], r["data"]) for r in rows) if ev is not None]
    events += typed
    has_mic = (meta.get("mic") or "none") != "none"
    end_s = max(rec.end_s, float(meta.get("duration_s") or 0.0))
    model = ReplayModel(events, has_mic=has_mic, duration_s=end_s)
    end_s = model.duration_s

    inter = talktime.interruptions(con_segments, pat_segments)
    cue_marks = []
    for c in rec.cues:
        r = cue_responded(rec, c)
        cue_marks.append((c, "face responded" if r else "no visible response" if r is False else "face not seen"))
    cards: dict[str, str] = {}
    acts: list[tuple[float, str]] = []
    try:  # the scenario as played names its own overrides (in French when it gives their French)
        played = store.stored_scenario(session_id)
    except TrainerError:
        played = None
    overrides = {o.id: localized(o, "label") for o in (played.overrides if played is not None else ())}
    for ev in typed:
        kind = getattr(ev, "kind", "")
        if kind == "clinician_turn":
            cards.update({c["id"]: localized_card(c) for c in ev.cards})
        elif kind == "card_chosen":
            # Worded here, in the language the timeline is read in (the other labels are words the
            # replay page and the report translate where they show them).
            acts.append((ev.t, _("card: {label}").format(label=cards.get(ev.card, ev.card))))
        elif kind == "ui_action":
            acts.append((ev.t, {"share_screen": "shared the screen", "stop_share": "stopped sharing",
                                "invite_caregiver": "invited the caregiver"}.get(ev.action, ev.action)))
        elif kind == "override":
            name = (_(BUILTIN_OVERRIDES[ev.name]) if ev.name in BUILTIN_OVERRIDES else
                    overrides.get(ev.name) or ev.name.replace("_", " "))
            acts.append((ev.t, _("facilitator: {name}").format(name=name)))
    sources = [r for r in rows if r["kind"] in ("source_finished", "source_status")]
    gaps = _gaps(source_live_intervals(sources, "camera", end_s, (meta.get("camera") or "none") != "none"),
                 end_s, "no camera signal")
    if has_mic:
        gaps += _gaps(source_live_intervals(sources, "mic", end_s, True), end_s, "no microphone signal")
    notices = [(ev.t, ev.shown()) for ev in typed if type(ev).__name__ == "Notice"]
    notes = store.notes(session_id)
    lanes = [
        _gaze_lane(frames),
        Lane("Expressivity", values=_curve(frames, "expressivity")),
        Lane("Smile", values=_curve(frames, "smile")),
        Lane("Nods", marks=tuple((float(f["t"]), "nod") for f in frames if f.get("nod"))),
        Lane("You talk", spans=tuple((a, b, "you") for a, b in con_segments),
             marks=tuple((t, "interruption") for t in inter)),
        Lane("Patient talk", spans=tuple((a, b, "patient") for a, b in pat_segments)),
        Lane("Cues", marks=tuple(cue_marks)),
        Lane("Cards, actions", marks=tuple(acts)),
        Lane("Notices, gaps", spans=tuple(gaps), marks=tuple(notices)),
        notes_lane(notes),
    ]
    return Timeline(session_id, meta["scenario_title"], meta["scenario_id"], end_s, model, lanes,
                    transcript(model.events), notes)


__all__ = ["Timeline", "load_timeline", "notes_lane", "GAZE_GAP_S", "NOTES_LANE"]
