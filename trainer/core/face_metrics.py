"""Face metrics over a session's per-frame samples (DESIGN.md section 4), shared by offline analysis, the
live summary and reports. Pure Python: samples are `FrameSample`s or mappings with the same keys
(t, face, gaze, expressivity, smile, smile_above, nod), e.g. rows read back from frames.csv or the store.

Smiles are events, found by `SmileDetector` in each frame's `smile_above` (the smile score above the
person's resting level, trainer.analysis.expressivity): the face analysis runs it live, and
`smile_onsets` runs the same detector over stored or recorded samples on their session times, so the
live engine and the stored summary count the same smiles.

Time, not frame counts: every frame stands for the time until the next one (capped, so a gap in the
recording is not credited to the frame before it), so dropped frames in a live session do not bias the
ratios.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from statistics import median

from trainer.core.metrics import merge_intervals, total_duration
from trainer.core.talktime import wait_after_cue

GAZE_STATES = ("camera", "screen", "away", "absent", "unknown")
#: Longest time one frame may stand for (a gap longer than this is a hole in the recording).
MAX_FRAME_S = 0.5


def _get(s, key, default=None):
    if isinstance(s, Mapping):
        return s.get(key, default)
    return getattr(s, key, default)


def _truthy(v) -> bool:
    if isinstance(v, str):
        return v.strip().lower() in ("1", "true", "yes")
    return bool(v)


def frame_durations(times: Sequence[float], cap: float = MAX_FRAME_S) -> list[float]:
    """Seconds each frame stands for: the gap to the next frame (at most `cap`); the last frame gets the
    median gap."""
    n = len(times)
    if n == 0:
        return []
    gaps = [max(0.0, times[i + 1] - times[i]) for i in range(n - 1)]
    typical = median(gaps) if gaps else 0.0
    return [min(g, cap) for g in gaps] + [min(typical, cap)]


def _inside(t: float, intervals: Sequence[tuple[float, float]]) -> bool:
    # `intervals` are merged and sorted: binary search for the first one ending at or after t.
    lo, hi = 0, len(intervals)
    while lo < hi:
        mid = (lo + hi) // 2
        if intervals[mid][1] < t:
            lo = mid + 1
        else:
            hi = mid
    return lo < len(intervals) and intervals[lo][0] <= t <= intervals[lo][1]


def gaze_time(samples: Sequence, during: Sequence[tuple[float, float]] | None = None,
              outside: bool = False) -> dict[str, float]:
    """Seconds spent in each gaze state, optionally only during (or, with outside=True, outside) the
    given intervals."""
    times = [float(_get(s, "t")) for s in samples]
    out = {k: 0.0 for k in GAZE_STATES}
    iv = merge_intervals(during) if during is not None else None
    for s, t, d in zip(samples, times, frame_durations(times)):
        if iv is not None and _inside(t, iv) == outside:
            continue
        state = _get(s, "gaze", "unknown")
        if not _truthy(_get(s, "face", False)):
            state = "absent"
        out[state if state in out else "unknown"] += d
    return out


def ratios(seconds: Mapping[str, float]) -> tuple[float | None, float | None]:
    """(eye_contact_ratio, engaged_ratio) from seconds per state: camera / face-present and
    (camera + screen) / face-present, where face-present time includes `away` and `unknown`.
    None when the face was never present."""
    present = sum(seconds.get(k, 0.0) for k in ("camera", "screen", "away", "unknown"))
    if present <= 0:
        return None, None
    return seconds.get("camera", 0.0) / present, (seconds.get("camera", 0.0) + seconds.get("screen", 0.0)) / present


def _round(v, nd=3):
    return None if v is None else round(v, nd)


def summarise_face(samples: Sequence, *, nod_times: Iterable[float] | None = None,
                   smiles: Iterable[tuple[float, float | None]] | None = None,
                   speech_segments: Iterable[tuple[float, float]] | None = None,
                   patient_segments: Iterable[tuple[float, float]] | None = None) -> dict:
    """Session-level face metrics (the video keys of summary.json, DESIGN.md section 5).

    `nod_times` default to the sample times flagged nod; `smiles` are (start, end) pairs (counted);
    `speech_segments` are the clinician's speech (eye contact while speaking / listening);
    `patient_segments` when the patient spoke (nods per minute while the patient speaks).
    """
    times = [float(_get(s, "t")) for s in samples]
    durs = frame_durations(times)
    duration = (times[-1] - times[0] + durs[-1]) if times else 0.0
    secs = gaze_time(samples)
    eye, engaged = ratios(secs)
    present_s = sum(secs[k] for k in ("camera", "screen", "away", "unknown"))
    nods = sorted(nod_times) if nod_times is not None else [t for s, t in zip(samples, times)
                                                           if _truthy(_get(s, "nod", False))]
    expr = [(float(_get(s, "expressivity")), d) for s, d in zip(samples, durs)
            if _truthy(_get(s, "face", False)) and _get(s, "expressivity") not in (None, "")]
    wsum = sum(d for _, d in expr)
    known = sum(secs[k] for k in ("camera", "screen", "away"))
    out = {
        "duration_s": round(duration, 3),
        "frames": len(samples),
        "face_present_ratio": _round(present_s / duration if duration > 0 else None),
        "eye_contact_ratio": _round(eye),
        "engaged_ratio": _round(engaged),
        # Share of face-present time when feedback was withheld (blinks held over are not in it).
        "gaze_unknown_ratio": _round(secs["unknown"] / present_s if present_s > 0 else None),
        "gaze_s": {k: round(v, 3) for k, v in secs.items()},
        "nods": len(nods),
        "nods_per_min": _round(len(nods) / (present_s / 60.0) if present_s > 0 else None, 2),
        "expressivity_index": _round(sum(e * d for e, d in expr) / wsum if wsum > 0 else None),
        "smiles": len(list(smiles)) if smiles is not None else None,
    }
    if not known:
        out["eye_contact_ratio"] = out["engaged_ratio"] = None
    if speech_segments is not None:
        speech = merge_intervals(speech_segments)
        e_speak, _ = ratios(gaze_time(samples, speech))
        e_listen, _ = ratios(gaze_time(samples, speech, outside=True))
        out["eye_contact_ratio_speaking"] = _round(e_speak)
        out["eye_contact_ratio_listening"] = _round(e_listen)
    if patient_segments is not None:
        patient = merge_intervals(patient_segments)
        listen = gaze_time(samples, patient)
        listen_present = sum(listen[k] for k in ("camera", "screen", "away", "unknown"))
        n_during = sum(1 for t in nods if _inside(t, patient))
        out["patient_speaking_s"] = round(total_duration(patient), 3)
        out["nods_per_min_patient_speaking"] = _round(
            n_during / (listen_present / 60.0) if listen_present > 0 else None, 2)
    return out


@dataclass(frozen=True, slots=True)
class Smile:
    """A smile: when it started and (once over) ended, and its peak score."""

    start: float
    end: float | None
    peak: float


class SmileDetector:
    """Smile events from the per-frame smile score above the person's baseline (`smile_above`).

    A smile starts when the score has stayed at or above `on` for `min_s` seconds (it is dated from the
    first frame above), and ends when the score falls below `off` or the face is lost. `events` lists
    the smiles so far; the last one has end=None while it lasts.
    """

    def __init__(self, on: float = 0.45, off: float = 0.25, min_s: float = 0.25):
        self.on, self.off, self.min_s = on, off, min_s
        self.events: list[Smile] = []
        self._active = False
        self._above_since: float | None = None
        self._peak = 0.0

    def update(self, t: float, score: float | None) -> bool:
        """Feed one frame (score None = no face); True on the frame a smile is confirmed."""
        if self._active:
            last = self.events[-1]
            if score is None or score < self.off:
                self._active = False
                self.events[-1] = Smile(last.start, t, self._peak)
            else:
                self._peak = max(self._peak, score)
            return False
        if score is not None and score >= self.on:
            if self._above_since is None:
                self._above_since, self._peak = t, score
            self._peak = max(self._peak, score)
            if t - self._above_since >= self.min_s - 1e-6:
                self._active = True
                self.events.append(Smile(self._above_since, None, self._peak))
                self._above_since = None
                return True
        else:
            self._above_since = None
        return False


def smile_onsets(samples: Sequence) -> list[float] | None:
    """Start times of the smiles in `samples` (time order): SmileDetector over each frame's `smile_above`
    (a frame without a face ends a smile). None when no frame with a face has that score (sessions
    stored before it was kept: their smiles cannot be counted)."""
    det = SmileDetector()
    scored = False
    for s in samples:
        t = float(_get(s, "t"))
        above = _get(s, "smile_above")
        if above in (None, "") or not _truthy(_get(s, "face", False)):
            det.update(t, None)
        else:
            scored = True
            det.update(t, float(above))
    return [e.start for e in det.events] if scored else None


@dataclass(frozen=True, slots=True)
class CueResponse:
    """How the face answered one emotional cue.

    responded: True/False, or None when the face was not visible enough in the window to tell.
    latency_s: cue to first response; kind: "nod", "smile" or "expression".
    wait_s: cue to the clinician's next speech onset (None without speech data or if they never spoke).
    """

    t: float
    responded: bool | None
    latency_s: float | None = None
    kind: str | None = None
    wait_s: float | None = None

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return {"t": self.t, "responded": self.responded, "latency_s": self.latency_s, "kind": self.kind,
                "wait_s": self.wait_s}


def cue_response(cue_times: Iterable[float], samples: Sequence, *, window_s: float = 3.0,
                 baseline_s: float = 1.0, min_rise: float = 0.15, smile_rise: float = 0.3,
                 min_face_ratio: float = 0.5, min_hold_s: float = 0.2,
                 speech_segments: Iterable[tuple[float, float]] | None = None,
                 patient_segments: Iterable[tuple[float, float]] = ()) -> list[CueResponse]:
    """For each cue time, whether the face responded within `window_s` seconds, and how fast.

    A response is a nod, a smile rising by `smile_rise` over its level in the `baseline_s` before the cue,
    or expressivity rising by `min_rise` over that level, the rises held for `min_hold_s` (latency counts
    from the start of the rise). Samples need t, face, expressivity, smile, nod.
    With `speech_segments` (clinician speech), `wait_s` is how long the clinician waited before answering
    (core.talktime.wait_after_cue; `patient_segments` tell when the patient had to speak again first).
    """
    times = [float(_get(s, "t")) for s in samples]
    speech = merge_intervals(speech_segments) if speech_segments is not None else None
    patient = merge_intervals(patient_segments)
    out = []
    for cue in sorted(float(c) for c in cue_times):
        i0 = bisect.bisect_left(times, cue - baseline_s)
        i1 = bisect.bisect_left(times, cue)
        i2 = bisect.bisect_right(times, cue + window_s)

        def vals(a, b, key):
            return [float(_get(samples[i], key)) for i in range(a, b)
                    if _truthy(_get(samples[i], "face", False)) and _get(samples[i], key) not in (None, "")]

        pre_e = vals(i0, i1, "expressivity")
        pre_s = vals(i0, i1, "smile")
        window = range(i1, i2)
        seen = sum(1 for i in window if _truthy(_get(samples[i], "face", False)))
        wait = None
        if speech is not None:
            w = wait_after_cue(cue, speech, patient)
            wait = None if w is None else round(w, 3)
        if not window or seen < min_face_ratio * len(window):
            out.append(CueResponse(cue, None, wait_s=wait))
            continue
        base_e = median(pre_e) if pre_e else None
        base_s = median(pre_s) if pre_s else None
        found = None
        since = {"smile": None, "expression": None}  # when the current rise began
        for i in window:
            s = samples[i]
            if not _truthy(_get(s, "face", False)):
                continue
            if _truthy(_get(s, "nod", False)):
                found = (times[i], "nod")
                break
            sm, ex = _get(s, "smile"), _get(s, "expressivity")
            if base_e is None and ex not in (None, ""):
                base_e = float(ex)  # no frame before the cue: compare with the first one after it
            if base_s is None and sm not in (None, ""):
                base_s = float(sm)
            risen = {"smile": sm not in (None, "") and base_s is not None and float(sm) - base_s >= smile_rise,
                     "expression": ex not in (None, "") and base_e is not None
                     and float(ex) - base_e >= min_rise}
            for kind in ("smile", "expression"):
                if not risen[kind]:
                    since[kind] = None
                    continue
                if since[kind] is None:
                    since[kind] = times[i]
                # A response is held for a moment; a one-frame twitch is landmark noise.
                if times[i] - since[kind] >= min_hold_s - 1e-6:
                    found = (since[kind], kind)
                    break
            if found is not None:
                break
        if found is None:
            out.append(CueResponse(cue, False, wait_s=wait))
        else:
            out.append(CueResponse(cue, True, round(max(0.0, found[0] - cue), 3), found[1], wait))
    return out
