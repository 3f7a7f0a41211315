"""Talk-time maths (DESIGN.md section 4): who talked how much, who took the floor when.

Inputs are lists of (start, end) intervals in session seconds: the clinician's speech (from the
microphone's voice detector) and the patient's (known exactly from playback). Pure Python, so the live
display, offline analysis, reports and tests share one set of definitions:

- **talk seconds**: the union of each speaker's intervals (overlapping intervals counted once);
  **clinician share** = clinician / (clinician + patient), None when nobody spoke.
- **overlap**: time when both speak.
- **backchannel**: a short clinician utterance ("mm-hm", "right", a laugh) during the patient's turn that
  does not take the floor: it starts while the patient is mid-turn (the patient going on for at least
  `MIN_OVERLAP_S` after its onset), lasts at most `BACKCHANNEL_MAX_S` (1.0 s), and the patient is still
  speaking when it ends or speaks again within `BACKCHANNEL_RESUME_S` (1.0 s) of its end. Listed
  separately and never counted as an interruption (docs/analysis-voice.md gives the literature). Short
  utterances in the patient's pauses overlap nothing: they are neither.
- **mid-turn**: inside the patient's turn, i.e. the patient's speech with pauses of at most
  `MID_TURN_PAUSE_S` (0.5 s) bridged (a clinician starting in a breath pause of the patient's sentence
  and talking on while the patient resumes started mid-turn).
- **interruption**: the clinician starting to speak while the patient is mid-turn, counted when the
  patient's turn goes on for at least `MIN_OVERLAP_S` (0.05 s) after the onset, unless the utterance is
  a backchannel. Shorter overlaps are
  latching (the clinician answering on the patient's last syllable), within the detector's onset
  precision of one 32 ms frame; they are not interruptions. The time reported is the clinician's onset.
- **turn**: a maximal run of one speaker's intervals. A clinician turn continues across pauses of at
  most `max_pause_s` (2 s) unless the patient starts speaking in the pause; patient speech that merely
  overlaps a clinician interval does not end the clinician's turn (and vice versa).
- **longest monologue**: the longest clinician turn, from its first onset to its last offset.
- **response latency**: for each patient turn, the silence from its end to the clinician's next onset,
  when the clinician speaks next (not the patient) and started after the patient had finished. A
  clinician who was already talking when the patient finished shows up as an interruption or overlap,
  not as a latency.
- **silence after a cue**: for each patient cue (a time, normally the end of a patient line the scenario
  marks as an emotional cue), the silence left before anyone speaks again; 0 when the clinician was
  already speaking at the cue.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from trainer.core.metrics import merge_intervals, total_duration

Interval = tuple[float, float]

MIN_OVERLAP_S = 0.05
MAX_PAUSE_S = 2.0
#: Longest pause inside one patient turn (shorter silences are pauses in a sentence, not the floor
#: offered; Heldner & Edlund 2010 measure within-speaker pauses mostly below half a second).
MID_TURN_PAUSE_S = 0.5
#: Backchannel: the longest clinician utterance that can be one, and the longest wait after it for the
#: patient to go on.
BACKCHANNEL_MAX_S = 1.0
BACKCHANNEL_RESUME_S = 1.0


def intersect(a: Iterable[Interval], b: Iterable[Interval]) -> list[Interval]:
    """Intervals where both interval sets are active (each set is merged first)."""
    a, b = merge_intervals(a), merge_intervals(b)
    out: list[Interval] = []
    i = j = 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if hi > lo:
            out.append((lo, hi))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def seconds_within(intervals: Iterable[Interval], windows: Iterable[Interval]) -> float:
    """Seconds of `intervals` that fall inside `windows`."""
    return total_duration(intersect(intervals, windows))


def subtract(a: Iterable[Interval], b: Iterable[Interval]) -> list[Interval]:
    """Parts of `a` not covered by `b`."""
    out: list[Interval] = []
    b = merge_intervals(b)
    for s, e in merge_intervals(a):
        cur = s
        for bs, be in b:
            if be <= cur or bs >= e:
                continue
            if bs > cur:
                out.append((cur, bs))
            cur = max(cur, be)
            if cur >= e:
                break
        if cur < e:
            out.append((cur, e))
    return out


def patient_turns(patient: Iterable[Interval], max_pause_s: float = MID_TURN_PAUSE_S) -> list[Interval]:
    """The patient's intervals with pauses of at most `max_pause_s` bridged (the span of each turn)."""
    out: list[Interval] = []
    for s, e in merge_intervals(patient):
        if out and s - out[-1][1] <= max_pause_s:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def overlap_kinds(clinician: Iterable[Interval], patient: Iterable[Interval],
                  min_overlap_s: float = MIN_OVERLAP_S) -> tuple[list[float], list[float]]:
    """(interruption onsets, backchannel onsets) of the clinician (see the module docstring)."""
    pat = patient_turns(patient)
    ints: list[float] = []
    backs: list[float] = []
    for start, end in merge_intervals(clinician):
        if not any(ps < start < pe and pe - start >= min_overlap_s for ps, pe in pat):
            continue
        goes_on = any(ps <= end < pe or 0.0 <= ps - end <= BACKCHANNEL_RESUME_S for ps, pe in pat)
        (backs if end - start <= BACKCHANNEL_MAX_S and goes_on else ints).append(start)
    return ints, backs


def interruptions(clinician: Iterable[Interval], patient: Iterable[Interval],
                  min_overlap_s: float = MIN_OVERLAP_S) -> list[float]:
    """Clinician onsets taking the floor while the patient was speaking (backchannels excluded; see the
    module docstring)."""
    return overlap_kinds(clinician, patient, min_overlap_s)[0]


def backchannels(clinician: Iterable[Interval], patient: Iterable[Interval],
                 min_overlap_s: float = MIN_OVERLAP_S) -> list[float]:
    """Onsets of the clinician's backchannels during the patient's turns (see the module docstring)."""
    return overlap_kinds(clinician, patient, min_overlap_s)[1]


@dataclass(frozen=True, slots=True)
class Turn:
    """One speaker's turn: `speaker` is 'clinician' or 'patient'."""

    speaker: str
    start: float
    end: float

    @property
    def duration(self) -> float:
        return self.end - self.start


def turns(clinician: Iterable[Interval], patient: Iterable[Interval],
          max_pause_s: float = MAX_PAUSE_S) -> list[Turn]:
    """The conversation as a list of turns in order of onset (see the module docstring)."""
    segs = [(s, e, "clinician") for s, e in merge_intervals(clinician)]
    segs += [(s, e, "patient") for s, e in merge_intervals(patient)]
    segs.sort(key=lambda x: (x[0], x[1]))
    out: list[Turn] = []
    for s, e, who in segs:
        if out and out[-1].speaker == who and s - out[-1].end <= max_pause_s:
            out[-1] = Turn(who, out[-1].start, max(out[-1].end, e))
        else:
            out.append(Turn(who, s, e))
    return out


def longest_monologue(clinician: Iterable[Interval], patient: Iterable[Interval],
                      max_pause_s: float = MAX_PAUSE_S) -> float:
    """Duration of the longest clinician turn (0 when the clinician never spoke)."""
    return max((t.duration for t in turns(clinician, patient, max_pause_s) if t.speaker == "clinician"),
               default=0.0)


def response_latencies(clinician: Iterable[Interval], patient: Iterable[Interval],
                       max_pause_s: float = MAX_PAUSE_S) -> list[float]:
    """Silence between the end of each patient turn and the clinician's reply (see the module docstring)."""
    clin = merge_intervals(clinician)
    seq = turns(clin, patient, max_pause_s)
    patient_onsets = [t.start for t in seq if t.speaker == "patient"]
    out: list[float] = []
    for t in seq:
        if t.speaker != "patient":
            continue
        # Still talking when the patient finished (an interval overlapping the end): no latency.
        if any(s < t.end < e for s, e in clin):
            continue
        reply = next((s for s, _e in clin if s >= t.end), None)
        if reply is None or any(t.end < p < reply for p in patient_onsets):
            continue  # nobody replied, or the patient spoke again first
        out.append(reply - t.end)
    return out


def silence_after_cues(clinician: Iterable[Interval], patient: Iterable[Interval],
                       cues: Iterable[float], session_end: float | None = None) -> list[float | None]:
    """Silence left after each cue time before anyone spoke; None when nothing followed and the
    session end is unknown."""
    speech = merge_intervals(list(clinician) + list(patient))
    clin = merge_intervals(clinician)
    out: list[float | None] = []
    for cue in cues:
        if any(s <= cue < e for s, e in clin):
            out.append(0.0)
            continue
        nxt = [s for s, _e in speech if s >= cue]
        if nxt:
            out.append(min(nxt) - cue)
        else:
            out.append(None if session_end is None else max(0.0, session_end - cue))
    return out


@dataclass
class TalkSummary:
    """All talk-time figures of one session (the talk-time keys of summary.json, DESIGN.md section 5)."""

    clinician_talk_s: float
    patient_talk_s: float
    clinician_share: float | None
    interruptions: list[float]
    overlaps: list[Interval]
    overlap_s: float
    longest_monologue_s: float
    response_latencies_s: list[float]
    turns: int
    clinician_turns: int
    silence_after_cues_s: list[float | None] = field(default_factory=list)
    backchannels: list[float] = field(default_factory=list)

    def as_dict(self, ndigits: int = 3) -> dict:
        """JSON-ready dict with times rounded to milliseconds."""
        r = lambda x: None if x is None else round(float(x), ndigits)  # noqa: E731
        return {
            "clinician_talk_s": r(self.clinician_talk_s),
            "patient_talk_s": r(self.patient_talk_s),
            "clinician_share": None if self.clinician_share is None else round(self.clinician_share, 4),
            "interruptions": [r(t) for t in self.interruptions],
            "backchannels": [r(t) for t in self.backchannels],
            "overlaps": [[r(a), r(b)] for a, b in self.overlaps],
            "overlap_s": r(self.overlap_s),
            "longest_monologue_s": r(self.longest_monologue_s),
            "response_latencies_s": [r(x) for x in self.response_latencies_s],
            "turns": self.turns,
            "clinician_turns": self.clinician_turns,
            "silence_after_cues_s": [r(x) for x in self.silence_after_cues_s],
        }


def share(clinician_s: float, patient_s: float) -> float | None:
    """Clinician share of talk; None when neither spoke."""
    total = clinician_s + patient_s
    return None if total <= 0 else clinician_s / total


def summarize(clinician: Iterable[Interval], patient: Iterable[Interval], *, cues: Sequence[float] = (),
              session_end: float | None = None, min_overlap_s: float = MIN_OVERLAP_S,
              max_pause_s: float = MAX_PAUSE_S) -> TalkSummary:
    """Every talk-time metric for one session's clinician and patient intervals."""
    clin = merge_intervals(clinician)
    pat = merge_intervals(patient)
    c_s, p_s = total_duration(clin), total_duration(pat)
    ov = intersect(clin, pat)
    seq = turns(clin, pat, max_pause_s)
    ints, backs = overlap_kinds(clin, pat, min_overlap_s)
    return TalkSummary(
        clinician_talk_s=c_s,
        patient_talk_s=p_s,
        clinician_share=share(c_s, p_s),
        interruptions=ints,
        overlaps=ov,
        overlap_s=total_duration(ov),
        longest_monologue_s=max((t.duration for t in seq if t.speaker == "clinician"), default=0.0),
        response_latencies_s=response_latencies(clin, pat, max_pause_s),
        turns=len(seq),
        clinician_turns=sum(1 for t in seq if t.speaker == "clinician"),
        silence_after_cues_s=silence_after_cues(clin, pat, cues, session_end),
        backchannels=backs,
    )


def frame_labels(intervals: Iterable[Interval], duration: float, frame_s: float = 0.01) -> np.ndarray:
    """Boolean speech flag per frame of `frame_s` (a frame is speech when its centre is inside an interval)."""
    n = int(round(duration / frame_s))
    centres = (np.arange(n) + 0.5) * frame_s
    out = np.zeros(n, dtype=bool)
    for s, e in merge_intervals(intervals):
        out |= (centres >= s) & (centres < e)
    return out


def frame_agreement(hyp: Iterable[Interval], ref: Iterable[Interval], duration: float, *,
                    frame_s: float = 0.01, collar_s: float = 0.25) -> float:
    """Share of frames where hypothesis and reference agree on speech / no speech, not scoring frames
    within `collar_s` of a reference boundary (where hand labels themselves are uncertain)."""
    ref = merge_intervals(ref)
    h = frame_labels(hyp, duration, frame_s)
    r = frame_labels(ref, duration, frame_s)
    centres = (np.arange(len(r)) + 0.5) * frame_s
    scored = np.ones(len(r), dtype=bool)
    for s, e in ref:
        for b in (s, e):
            scored &= np.abs(centres - b) > collar_s
    if not scored.any():
        return float("nan")
    return float(np.mean(h[scored] == r[scored]))


#: A clinician onset later than this after a cue is not an answer to it.
MAX_CUE_WAIT_S = 60.0


def wait_after_cue(cue: float, clinician: Iterable[Interval], patient: Iterable[Interval] = (),
                   max_wait_s: float = MAX_CUE_WAIT_S) -> float | None:
    """How long the clinician waited after a cue (a time, normally the end of a cue line) before
    answering: 0 when already speaking at the cue; None when no answer followed - the clinician stayed
    silent, spoke only after `max_wait_s`, or the patient spoke again first (a silence the patient had
    to fill is not a considerate pause)."""
    clin = merge_intervals(clinician)
    if any(s <= cue < e for s, e in clin):
        return 0.0
    onset = next((s for s, _e in clin if s >= cue), None)
    if onset is None or onset - cue > max_wait_s:
        return None
    if any(cue < ps < onset for ps, _pe in merge_intervals(patient)):
        return None
    return onset - cue
