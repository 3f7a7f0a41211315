"""One definition per measure (DESIGN.md section 4; docs/measures.md for people).

Every consumer - the live engine's conditions and rubric, the stored summary (store.db), `trainer
analyze`, reports - calls `measure(record, id)` on a `VisitRecord`, so a learner never reads two
different numbers for one thing. The maths underneath stays where it was: gaze time and cue responses in
core.face_metrics, talk time, interruptions and latencies in core.talktime; this module decides which
samples each measure looks at, over which time base, and whether there is enough of them to judge.

Coverage: each measure has a *base* (the seconds it is about: the visit, the clinician's speech, the
patient's speech, the windows after cues) and *measured* seconds (the part of the base the inputs
covered: camera frames with a face for gaze, frames for face presence, microphone signal for talk
time). A frame covers the time to the next frame, capped at face_metrics.MAX_FRAME_S, so a camera that
stops covers nothing after its last frame. The microphone covers the visit except where its source
ended, failed, was lost or went silent (SourceFinished / SourceStatus events). Below `COVERAGE` the
value is withheld: `Measured.value` is None and the learner reads "not enough to judge".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from statistics import median

from trainer.core.i18n import _, number, percent, seconds
from trainer.core import talktime
from trainer.core.events import SOURCE_LIVE, SOURCE_STOPPED
from trainer.core.face_metrics import cue_response, frame_durations, gaze_time, ratios, smile_onsets
from trainer.core.metrics import merge_intervals, total_duration

Interval = tuple[float, float]


@dataclass(frozen=True, slots=True)
class CoverageRule:
    """Enough to judge: at least `min_share` of the base measured and at least `min_s` seconds of it
    (`window_min_s` for short windows: one clinician turn, the seconds after cues)."""

    min_share: float
    min_s: float
    window_min_s: float

    def enough(self, measured_s: float, base_s: float, window: bool = False) -> bool:
        """True when `measured_s` of `base_s` seconds is enough to report a value."""
        if base_s <= 0:
            return False
        return measured_s >= self.min_share * base_s - 1e-9 and \
            measured_s >= (self.window_min_s if window else self.min_s) - 1e-9


#: The one coverage threshold (docs/measures.md): below half the base, or under 20 measured seconds
#: for a visit-long measure (1 s for one turn or the windows after cues), "not enough to judge".
COVERAGE = CoverageRule(min_share=0.5, min_s=20.0, window_min_s=1.0)

#: A card credits its behaviours only when the clinician then speaks at least this long in the turn.
MIN_CREDIT_SPEECH_S = 1.5

#: Seconds after a cue in which a face response counts (core.face_metrics.cue_response).
CUE_WINDOW_S = 3.0

GAZE_PRESENT = ("camera", "screen", "away", "unknown")
_DOWN, _UP = SOURCE_STOPPED, SOURCE_LIVE


@dataclass(frozen=True, slots=True)
class MeasureSpec:
    """How a measure is named and shown to the learner. unit: ratio (shown as %), seconds, count,
    per_min or index (0..1). source: face, mic or both (what its coverage comes from)."""

    id: str
    label: str
    unit: str
    source: str
    about: str  # one line for people: what it is over

    def show(self, value: float | None) -> str:
        """The value as the learner reads it ("72 %", "3.4 s", "2"); None -> "not enough to judge"."""
        if value is None:
            return _("not enough to judge")
        # Numbers as the language in use writes them (French: "1,5 s", "80 %" with a non-breaking space).
        if self.unit == "ratio":
            return percent(value)
        if self.unit == "seconds":
            return seconds(value)
        if self.unit == "count":
            return f"{value:.0f}"
        if self.unit == "per_min":
            return _("{value} per minute").format(value=number(value))
        return number(value, 2)


MEASURES: dict[str, MeasureSpec] = {m.id: m for m in (
    MeasureSpec("eye_contact", "eye contact", "ratio", "face", "camera time / face-present time, whole visit"),
    MeasureSpec("eye_contact_speaking", "eye contact while speaking", "ratio", "face",
                "camera time / face-present time while the clinician speaks"),
    MeasureSpec("eye_contact_listening", "eye contact while listening", "ratio", "face",
                "camera time / face-present time while the clinician is silent"),
    MeasureSpec("engaged", "engaged gaze", "ratio", "face", "(camera + screen) / face-present time"),
    MeasureSpec("engaged_speaking", "engaged gaze while speaking", "ratio", "face",
                "(camera + screen) / face-present time while the clinician speaks"),
    MeasureSpec("engaged_listening", "engaged gaze while listening", "ratio", "face",
                "(camera + screen) / face-present time while the clinician is silent"),
    MeasureSpec("face_present", "face in view", "ratio", "face", "face-present time / camera time"),
    MeasureSpec("expressivity", "expressivity", "index", "face",
                "mean expressivity beyond the clinician's neutral, face-present time"),
    MeasureSpec("smiles", "smiles", "count", "face",
                "smile onsets: face_metrics.SmileDetector over each frame's smile above the resting level"),
    MeasureSpec("nods_per_min", "nods while the patient speaks", "per_min", "face",
                "nods per minute of face-present time while the patient speaks"),
    MeasureSpec("cue_response", "face responses to cues", "ratio", "face",
                "share of judged cues with a nod, smile or expression rise within 3 s"),
    MeasureSpec("cue_wait_s", "shortest wait after a cue", "seconds", "mic",
                "cue to the clinician's answer, over cues that were answered"),
    MeasureSpec("talk_share", "clinician share of talk", "ratio", "mic", "clinician / (clinician + patient) seconds"),
    MeasureSpec("clinician_talk_s", "clinician talk", "seconds", "mic", "seconds of clinician speech"),
    MeasureSpec("patient_talk_s", "patient talk", "seconds", "patient", "seconds the patient's lines played"),
    MeasureSpec("longest_monologue_s", "longest monologue", "seconds", "mic", "longest clinician turn"),
    MeasureSpec("interruptions", "interruptions", "count", "mic",
                "clinician onsets while the patient speaks (core.talktime)"),
    MeasureSpec("response_latency_s", "typical response pause", "seconds", "mic",
                "median silence from the patient's end of turn to the clinician's answer"),
)}


@dataclass(frozen=True, slots=True)
class Measured:
    """One measure's result: `value` (None when not measured or not enough to judge), the seconds of
    its base that were measured, the base seconds, and whether that is enough (see COVERAGE)."""

    id: str
    value: float | None
    measured_s: float
    base_s: float
    enough: bool

    @property
    def coverage(self) -> float | None:
        """measured_s / base_s (None when the base is empty)."""
        return None if self.base_s <= 0 else min(1.0, self.measured_s / self.base_s)

    def show(self) -> str:
        """The value as the learner reads it; "not measured" when nothing was measured at all. (Stored as
        `shown` for other tools; the app words a stored measure again with `shown_text`, in its language.)"""
        if self.value is None and self.measured_s <= 0:
            return _("not measured")
        return MEASURES[self.id].show(self.value)

    def as_dict(self) -> dict:
        """JSON-ready form (what the summary and the rubric quote)."""
        return {"value": rounded(self.value), "measured_s": round(self.measured_s, 3),
                "base_s": round(self.base_s, 3), "coverage": rounded(self.coverage),
                "enough": self.enough, "shown": self.show()}


def shown_text(mid: str, m: dict | None) -> str:
    """A stored measure (`Measured.as_dict`) as the learner reads it in the language in use now (the stored
    `shown` is in the language the session was recorded in)."""
    if not m:
        return _("not measured")
    if m.get("value") is None:
        return _("not enough to judge") if (m.get("measured_s") or 0) > 0 else _("not measured")
    return MEASURES[mid].show(m["value"]) if mid in MEASURES else str(m.get("shown", ""))


def rounded(v: float | None, nd: int = 3) -> float | None:
    """The precision every consumer quotes a measure at (so live and stored numbers compare equal)."""
    return None if v is None else round(float(v), nd)


@dataclass
class VisitRecord:
    """The inputs of every measure for one visit, live (grown by the engine) or read back from the store.

    frames: FrameSample-likes or mappings with t, face, gaze, expressivity, smile, smile_above, nod, in
    time order; clinician / patient: speech intervals; cues: cue times (end of each cue line); end_s: the
    visit's length so far; mic: intervals the microphone delivered (None = throughout; [] = no microphone).
    """

    frames: list = field(default_factory=list)
    clinician: list[Interval] = field(default_factory=list)
    patient: list[Interval] = field(default_factory=list)
    cues: list[float] = field(default_factory=list)
    end_s: float = 0.0
    mic: list[Interval] | None = None


def source_live_intervals(events: Iterable, source: str, end_s: float, present: bool = True) -> list[Interval]:
    """When a source ('camera' or 'mic') delivered, from its status events: live from 0 if `present`,
    down from a SourceFinished or a SourceStatus ended/failed/lost/silent, up again on live/restored.
    Events are typed events or mappings {t, kind, data} (stored rows)."""
    out: list[Interval] = []
    since = 0.0 if present else None
    for ev in sorted(events, key=lambda e: _field(e, "t")):
        t = float(_field(ev, "t"))
        name, state = _source_change(ev)
        if name != source or state is None:
            continue
        if state == "down" and since is not None:
            if t > since:
                out.append((since, min(t, end_s)))
            since = None
        elif state == "up" and since is None:
            since = t
    if since is not None and end_s > since:
        out.append((since, end_s))
    return out


def _field(ev, key):
    return ev[key] if isinstance(ev, Mapping) else getattr(ev, key)


def _source_change(ev) -> tuple[str | None, str | None]:
    """(source, 'up' | 'down' | None) for a source event in typed or stored form."""
    if isinstance(ev, Mapping):
        kind, data = ev.get("kind"), ev.get("data") or {}
        if kind == "source_finished":
            return data.get("source"), "down"
        if kind == "source_status":
            st = data.get("state")
            return data.get("source"), "down" if st in _DOWN else "up" if st in _UP else None
        return None, None
    name = type(ev).__name__
    if name == "SourceFinished":
        return ev.kind, "down"
    if name == "SourceStatus":
        st = getattr(ev, "state", None)
        return getattr(ev, "source", None), "down" if st in _DOWN else "up" if st in _UP else None
    return None, None


# -- the measures -----------------------------------------------------------------------------------

def _get(s, key, default=None):
    return s.get(key, default) if isinstance(s, Mapping) else getattr(s, key, default)


def _face(s) -> bool:
    v = _get(s, "face", False)
    return v.strip().lower() in ("1", "true", "yes") if isinstance(v, str) else bool(v)


def _base(rec: VisitRecord, window: Interval | None) -> list[Interval]:
    lo, hi = (0.0, rec.end_s) if window is None else (max(0.0, window[0]), min(rec.end_s, window[1]))
    return [(lo, hi)] if hi > lo else []


def _frame_seconds(rec: VisitRecord, during: Sequence[Interval]) -> tuple[float, float]:
    """(camera-covered seconds, face-present seconds) of the frames inside `during`."""
    secs = gaze_time(rec.frames, during)
    covered = sum(secs.values())
    return covered, covered - secs["absent"]


def _gaze(rec: VisitRecord, mid: str, during: list[Interval], window: bool) -> Measured:
    secs = gaze_time(rec.frames, during) if rec.frames else {}
    present = sum(secs.get(k, 0.0) for k in GAZE_PRESENT)
    eye, engaged = ratios(secs) if secs else (None, None)
    if not sum(secs.get(k, 0.0) for k in ("camera", "screen", "away")):
        eye = engaged = None  # only unknown gaze: feedback withheld, not zero
    value = eye if mid.startswith("eye_contact") else engaged
    return _result(mid, value, present, total_duration(during), window)


def _result(mid: str, value: float | None, measured_s: float, base_s: float, window: bool) -> Measured:
    ok = COVERAGE.enough(measured_s, base_s, window)
    return Measured(mid, value if ok else None, measured_s, base_s, ok)


def _mic(rec: VisitRecord, base: list[Interval]) -> list[Interval]:
    return base if rec.mic is None else talktime.intersect(base, rec.mic)


def measure(rec: VisitRecord, mid: str, window: Interval | None = None) -> Measured:
    """The measure `mid` (a key of MEASURES) over the visit so far, or only within `window` (one
    clinician turn, say; judged with the shorter window coverage). See docs/measures.md."""
    if mid not in MEASURES:
        raise KeyError(f"unknown measure '{mid}'")
    short = window is not None
    if rec.frames and float(_get(rec.frames[-1], "t")) > rec.end_s:
        # Frames after the visit's end are not part of it (and must not lengthen the last frame's time).
        rec = replace(rec, frames=[f for f in rec.frames if float(_get(f, "t")) <= rec.end_s])
    base = _base(rec, window)
    clin = talktime.intersect(rec.clinician, base)
    pat = talktime.intersect(rec.patient, base)
    if mid.startswith(("eye_contact", "engaged")):
        if mid.endswith("_speaking"):
            during = clin
        elif mid.endswith("_listening"):
            during = talktime.subtract(base, clin)
        else:
            during = base
        return _gaze(rec, mid, during, short)
    if mid == "face_present":
        covered, present = _frame_seconds(rec, base) if rec.frames else (0.0, 0.0)
        return _result(mid, present / covered if covered > 0 else None, covered, total_duration(base), short)
    if mid == "expressivity":
        durs = frame_durations([float(_get(s, "t")) for s in rec.frames])
        lo_hi = base[0] if base else (0.0, 0.0)
        vals = [(float(_get(s, "expressivity")), d) for s, d in zip(rec.frames, durs)
                if lo_hi[0] <= float(_get(s, "t")) <= lo_hi[1] and _face(s)
                and _get(s, "expressivity") not in (None, "")]
        w = sum(d for _, d in vals)
        return _result(mid, sum(e * d for e, d in vals) / w if w > 0 else None, w, total_duration(base), short)
    if mid == "smiles":
        covered, present = _frame_seconds(rec, base) if rec.frames else (0.0, 0.0)
        onsets = smile_onsets(rec.frames)  # over the whole visit: a smile's start depends on the frames before
        if onsets is None:  # frames without the score above the resting level (stored before it was kept)
            return Measured(mid, None, 0.0, total_duration(base), False)
        n = sum(1 for t in onsets if any(a <= t <= b for a, b in base))
        return _result(mid, float(n), present, total_duration(base), short)
    if mid == "nods_per_min":
        _covered, present = _frame_seconds(rec, pat) if rec.frames else (0.0, 0.0)
        n = sum(1 for s in rec.frames if bool(_get(s, "nod", False)) and _get(s, "nod") not in ("0", "")
                and any(a <= float(_get(s, "t")) <= b for a, b in pat))
        return _result(mid, n / (present / 60.0) if present > 0 else None, present, total_duration(pat), short)
    if mid == "cue_response":
        cues = [c for c in rec.cues if any(a <= c <= b for a, b in base)]
        results = cue_response(cues, rec.frames, window_s=CUE_WINDOW_S) if rec.frames else []
        judged = [r.responded for r in results if r.responded is not None]
        value = sum(judged) / len(judged) if judged else None
        return _result(mid, value, CUE_WINDOW_S * len(judged), CUE_WINDOW_S * len(cues), True)
    mic_base = _mic(rec, base)
    measured, base_s = total_duration(mic_base), total_duration(base)
    clin = talktime.intersect(clin, mic_base)
    if mid == "patient_talk_s":
        return _result(mid, total_duration(pat), base_s, base_s, short)
    if mid == "clinician_talk_s":
        return _result(mid, total_duration(clin), measured, base_s, short)
    if mid == "talk_share":
        # Both sides over the same (microphone-covered) time, so a dead mic does not look like silence.
        return _result(mid, talktime.share(total_duration(clin), total_duration(talktime.intersect(pat, mic_base))),
                       measured, base_s, short)
    if mid == "interruptions":
        return _result(mid, float(len(talktime.interruptions(clin, pat))), measured, base_s, short)
    if mid == "longest_monologue_s":
        return _result(mid, talktime.longest_monologue(clin, pat), measured, base_s, short)
    if mid == "response_latency_s":
        lat = talktime.response_latencies(clin, pat)
        return _result(mid, median(lat) if lat else None, measured, base_s, short)
    assert mid == "cue_wait_s"
    waits = [w for w in (talktime.wait_after_cue(c, clin, pat) for c in rec.cues
                         if any(a <= c <= b for a, b in base)) if w is not None]
    return _result(mid, min(waits) if waits else None, measured, base_s, short)


def measure_all(rec: VisitRecord) -> dict[str, Measured]:
    """Every measure of MEASURES over the whole visit (the summary's `measures`)."""
    return {mid: measure(rec, mid) for mid in MEASURES}


def card_credited(talk_s: float | None) -> bool:
    """A picked card counts only when the clinician then spoke at least MIN_CREDIT_SPEECH_S in the turn."""
    return talk_s is not None and talk_s >= MIN_CREDIT_SPEECH_S - 1e-9


def cue_responded(rec: VisitRecord, cue: float) -> bool | None:
    """Whether the face responded to one cue (core.face_metrics.cue_response, CUE_WINDOW_S); None when
    the face was not seen enough after it to tell."""
    if not rec.frames:
        return None
    (r,) = cue_response([cue], rec.frames, window_s=CUE_WINDOW_S)
    return r.responded
