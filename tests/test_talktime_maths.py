"""Talk-time maths (trainer.core.talktime) on the reference turns of call_two_speakers, plus properties."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trainer.analysis.offline_voice import parse_patient_segments
from trainer.core import talktime as tt
from trainer.core.metrics import total_duration


def _rttm_turns(path):
    rows = [ln.split() for ln in path.read_text().splitlines() if ln.startswith("SPEAKER")]
    first = rows[0][7]
    patient = [(float(r[3]), float(r[3]) + float(r[4])) for r in rows if r[7] == first]
    clinician = [(float(r[3]), float(r[3]) + float(r[4])) for r in rows if r[7] != first]
    return clinician, patient


@pytest.fixture
def call_turns(fixtures):
    return _rttm_turns(fixtures("audio/call_two_speakers.rttm"))


def test_exact_talk_seconds_and_share(call_turns):
    clinician, patient = call_turns
    s = tt.summarize(clinician, patient)
    # Sums of the RTTM durations per speaker (no speaker overlaps itself).
    assert s.clinician_talk_s == pytest.approx(0.80 + 1.11 + 3.43 + 0.44 + 6.72, abs=1e-9)
    assert s.patient_talk_s == pytest.approx(0.43 + 1.70 + 4.13 + 3.44 + 2.15, abs=1e-9)
    assert s.clinician_share == pytest.approx(12.5 / (12.5 + 11.85))


def test_interruptions_and_backchannels_on_the_reference_turns(call_turns):
    clinician, patient = call_turns
    found = tt.interruptions(clinician, patient)
    # 9.92 (1.11 s) and 14.49 (3.43 s) take the floor: the patient stops during them. 18.15 is 0.44 s
    # inside the patient's 18.05-21.49 line, which goes on: a backchannel, not an interruption.
    assert found == pytest.approx([9.92, 14.49])
    assert tt.backchannels(clinician, patient) == pytest.approx([18.15])
    s = tt.summarize(clinician, patient).as_dict()
    assert s["interruptions"] == pytest.approx([9.92, 14.49]) and s["backchannels"] == pytest.approx([18.15])
    # The second speaker's starts after the first had finished are not interruptions.
    for t in (7.55, 21.78):
        assert all(abs(t - x) > 0.05 for x in found)


def test_minimum_overlap_drops_short_latching(call_turns):
    clinician, patient = call_turns
    # 9.92 overlaps the patient's line by 0.10 s, 14.49 by 0.21 s, 18.15 by 0.44 s.
    assert tt.interruptions(clinician, patient, min_overlap_s=0.15) == pytest.approx([14.49])
    assert tt.interruptions(clinician, patient, min_overlap_s=0.3) == []


def test_backchannel_definition_edges():
    patient = [(0.0, 5.0), (5.6, 9.0)]
    # In a pause of the patient's turn it overlaps nothing: neither.
    assert tt.overlap_kinds([(5.05, 5.45)], patient) == ([], [])
    # Over the patient, short, patient goes on: backchannel; exactly the stated length still is one.
    assert tt.overlap_kinds([(2.0, 2.0 + tt.BACKCHANNEL_MAX_S)], patient) == ([], [2.0])
    # Longer than the stated length: an interruption even though the patient goes on.
    assert tt.overlap_kinds([(2.0, 3.5)], patient) == ([2.0], [])
    # Short, but the patient stops and does not come back: the clinician took the floor.
    assert tt.overlap_kinds([(8.6, 9.4)], patient) == ([8.6], [])
    # Starting in a breath pause (0.3 s) of the patient's sentence and talking on while the patient
    # resumes: mid-turn, an interruption.
    assert tt.overlap_kinds([(5.2, 7.0)], [(0.0, 5.0), (5.3, 9.0)]) == ([5.2], [])
    # Short reply well after the patient finished: neither.
    assert tt.overlap_kinds([(11.0, 11.5)], patient) == ([], [])


def test_overlaps_turns_monologue_latencies(call_turns):
    clinician, patient = call_turns
    s = tt.summarize(clinician, patient, cues=[7.12, 14.70, 29.99], session_end=30.0)
    assert s.overlap_s == pytest.approx(0.03 + 0.10 + 0.46 + 0.21 + 0.44 + 0.65)
    assert len(s.overlaps) == 6
    assert s.longest_monologue_s == pytest.approx(6.72)
    # Replies after the patient's turns ending at 7.12 (-> 7.55) and 21.49 (-> 21.78); at 10.02 and 14.70
    # the clinician was already talking.
    assert s.response_latencies_s == pytest.approx([0.43, 0.29])
    assert s.turns == 10 and s.clinician_turns == 5
    # Silence after cues: 0.43 s after 7.12; 0 at 14.70 (clinician talking); at 29.99 nobody speaks again.
    assert s.silence_after_cues_s[:2] == pytest.approx([0.43, 0.0])
    assert s.silence_after_cues_s[2] == pytest.approx(0.01)


def test_rttm_parser_takes_the_first_speaker_as_patient(fixtures, call_turns):
    _clinician, patient = call_turns
    got = parse_patient_segments(fixtures("audio/call_two_speakers.rttm"))
    assert [x for iv in got for x in iv] == pytest.approx([x for iv in patient for x in iv])
    other = parse_patient_segments(fixtures("audio/call_two_speakers.rttm"), speaker="speaker91")
    assert total_duration(other) == pytest.approx(12.5)


def test_nobody_spoke():
    s = tt.summarize([], [])
    assert s.clinician_share is None and s.interruptions == [] and s.longest_monologue_s == 0.0
    assert s.turns == 0


def test_monologue_breaks_when_the_patient_speaks_in_a_pause():
    clinician = [(0, 4), (5, 9)]
    assert tt.longest_monologue(clinician, []) == 9  # a 1 s pause keeps the turn
    assert tt.longest_monologue(clinician, [(4.2, 4.8)]) == 4  # the patient took the floor in the pause
    assert tt.longest_monologue([(0, 4), (7, 9)], []) == 4  # 3 s of silence ends a turn


def test_frame_agreement_scores_outside_collars():
    ref = [(1.0, 2.0)]
    assert tt.frame_agreement(ref, ref, 3.0) == 1.0
    assert tt.frame_agreement([], ref, 3.0) == pytest.approx(0.75)  # 1.5 s of scored silence, 0.5 s missed
    # Boundary errors inside the 0.25 s collar are not scored.
    assert tt.frame_agreement([(1.2, 1.8)], ref, 3.0) == 1.0
    assert tt.frame_agreement([(1.3, 1.8)], ref, 3.0) < 1.0


intervals = st.lists(st.tuples(st.floats(0, 100, allow_nan=False), st.floats(0, 20, allow_nan=False))
                     .map(lambda p: (p[0], p[0] + p[1])), max_size=12)


@settings(max_examples=150, deadline=None)
@given(intervals, intervals)
def test_set_algebra_and_bounds(a, b):
    inter = total_duration(tt.intersect(a, b))
    rest = total_duration(tt.subtract(a, b))
    assert inter + rest == pytest.approx(total_duration(a), abs=1e-6)
    assert inter <= min(total_duration(a), total_duration(b)) + 1e-6
    s = tt.summarize(a, b)
    assert s.clinician_share is None or 0.0 <= s.clinician_share <= 1.0
    assert s.overlap_s == pytest.approx(inter, abs=1e-6)
    assert all(x >= 0 for x in s.response_latencies_s)
    assert s.longest_monologue_s <= (max((e for _s, e in a), default=0) - min((s0 for s0, _e in a), default=0)) + 1e-9
    for t in s.interruptions:
        assert any(ps < t < pe for ps, pe in tt.patient_turns(b))
    assert not set(s.interruptions) & set(s.backchannels)
    assert not math.isnan(s.clinician_talk_s)
