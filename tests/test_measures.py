"""One definition per measure (core.measures): coverage, "not enough to judge", typed events that survive
the store, and the rubric quoting exactly the summary's numbers."""

from __future__ import annotations

import pytest

from trainer.core.engine import ScenarioEngine
from trainer.core.events import (SCENARIO_EVENTS, ClinicianTurnEnded, FrameSample, PatientLineStarted,
                                 SourceFinished, SpeechSegment, event_from_row)
from trainer.core.measures import COVERAGE, MEASURES, VisitRecord, measure, measure_all
from trainer.core.scenario import ClinicianTurn, PatientLine, load_scenario
from trainer.resources import builtin_scenarios_dir
from trainer.store.db import SessionStore


def _frames(t0, t1, fps=10.0, gaze="camera", nod_every=0):
    n = int(round((t1 - t0) * fps))
    return [FrameSample(t0 + i / fps, True, gaze, expressivity=0.1, nod=bool(nod_every and i % nod_every == 3))
            for i in range(n)]


def test_camera_that_ends_at_6_s_of_a_6_minute_visit_is_not_enough_to_judge():
    rec = VisitRecord(frames=_frames(0.0, 6.0), clinician=[(10.0, 40.0)], patient=[(0.0, 9.0)], end_s=360.0)
    for mid in ("eye_contact", "engaged", "face_present", "expressivity"):
        m = measure(rec, mid)
        assert m.value is None and not m.enough, mid
        assert m.measured_s == pytest.approx(6.0, abs=0.15) and m.base_s == pytest.approx(360.0), mid
        assert m.show() == "not enough to judge"
    # The same frames over a 10 s visit are plenty: 100 % eye contact.
    short = VisitRecord(frames=_frames(0.0, 6.0), end_s=10.0)
    assert measure(short, "face_present").enough is False  # 6 s < 20 s minimum
    whole = VisitRecord(frames=_frames(0.0, 60.0), end_s=60.0)
    assert measure(whole, "eye_contact").value == pytest.approx(1.0)
    assert measure(whole, "eye_contact").as_dict()["shown"] == "100 %"


def test_a_microphone_that_ends_takes_talk_measures_with_it():
    clin = [(5.0, 15.0), (30.0, 50.0)]
    pat = [(0.0, 5.0), (16.0, 29.0)]
    rec = VisitRecord(clinician=clin, patient=pat, end_s=300.0)
    assert measure(rec, "talk_share").value == pytest.approx(30.0 / 48.0)
    assert measure(rec, "interruptions").value == 0.0
    # The mic stops at 20 s: talk share is no longer judged (20 of 300 s covered).
    from trainer.core.measures import source_live_intervals
    rec.mic = source_live_intervals([SourceFinished(20.0, "mic")], "mic", 300.0)
    m = measure(rec, "talk_share")
    assert rec.mic == [(0.0, 20.0)] and m.value is None and m.measured_s == pytest.approx(20.0)
    # No microphone at all: nothing measured, and the learner reads so.
    rec.mic = []
    assert measure(rec, "clinician_talk_s").show() == "not measured"
    # Patient talk is known exactly from playback, whatever the mic did.
    assert measure(rec, "patient_talk_s").value == pytest.approx(18.0)


def test_a_wait_after_a_cue_counts_only_when_the_clinician_answers():
    rec = VisitRecord(patient=[(0.0, 4.0), (30.0, 33.0)], cues=[4.0], end_s=60.0, clinician=[])
    assert measure(rec, "cue_wait_s").value is None  # silence, then the patient spoke again
    rec.clinician = [(6.5, 12.0)]
    assert measure(rec, "cue_wait_s").value == pytest.approx(2.5)


def test_coverage_rule_is_one_constant():
    assert COVERAGE.min_share == 0.5 and COVERAGE.min_s == 20.0
    assert COVERAGE.enough(20.0, 40.0) and not COVERAGE.enough(19.0, 38.0) and not COVERAGE.enough(30.0, 100.0)
    assert COVERAGE.enough(1.5, 3.0, window=True)


def test_typed_events_round_trip_through_their_stored_form():
    ev = ClinicianTurnEnded(12.5, step="t1", reason="spoke", card="c", credited=True, wait_s=1.2, talk_s=5.0)
    assert ev.kind == "clinician_turn_end" and event_from_row(ev.t, ev.kind, ev.data) == ev
    line = PatientLineStarted(1.0, step="l1", text="Hi", cue=True, duration=2.0)
    assert event_from_row(1.0, "patient_line", dict(line.data, extra_key=1)) == line  # unknown keys ignored
    assert event_from_row(3.0, "source_finished", {"source": "camera", "reason": "x"}) == SourceFinished(3.0, "camera", "x")
    for kind, cls in SCENARIO_EVENTS.items():  # every kind the engine can emit reads back as itself
        ev = cls(4.0)
        assert ev.kind == kind and event_from_row(ev.t, kind, ev.data) == ev, kind
    assert event_from_row(0.0, "no_such_kind", {}) is None


def _scripted_visit(engine: ScenarioEngine, writer):
    """A whole built-in visit driven with scripted inputs; every input also goes to the store."""
    def put(ev):
        writer.put(ev)
        return ev

    line_start = []

    def record(events):  # as trainer.visit does: a line's playback is the patient's speech segment
        for e in events:
            put(e)
            if e.kind == "patient_line":
                line_start.append(e.t)
            if e.kind == "patient_line_end":
                put(SpeechSegment(line_start.pop(), e.t, "patient"))

    def frames(t0, t1, looking=True):
        for i in range(int((t1 - t0) * 10)):
            t = t0 + i / 10
            f = put(FrameSample(t, True, "camera" if (looking and i % 4) else "screen", expressivity=0.1,
                                nod=i % 15 == 3))
            engine.observe_frame(f.t, f.face, f.gaze, f.expressivity, f.nod)

    record(engine.start(0.0))
    t = 0.0
    while not engine.finished and t < 3000:
        step = engine.current
        if isinstance(step, PatientLine):
            end = engine._line_ends_at
            frames(t, end, looking=False)
            t = end
            record(engine.tick(t))
        elif isinstance(step, ClinicianTurn):
            if step.cards:
                record(engine.choose_card(t + 0.3, step.cards[0].id))
            s0 = t + 1.5
            frames(t, s0 + 9.0)
            record(engine.clinician_speech_started(s0))
            put(SpeechSegment(s0, s0 + 9.0, "clinician"))
            engine.clinician_speech_segment(s0, s0 + 9.0)
            t = s0 + 9.7
            record(engine.clinician_turn_ended(t, s0 + 9.0))
        else:
            t += 0.5
            record(engine.tick(t))
    return t


@pytest.mark.parametrize("name", ["first_checkin.yaml", "caregiver_daughter.yaml"])
def test_every_number_a_rubric_verdict_quotes_equals_the_summary(tmp_path, name):
    s = load_scenario(builtin_scenarios_dir() / name)
    store = SessionStore(tmp_path / "s.db")
    sid = store.create_session(s.id, s.title, mic="file.wav")
    writer = store.writer(sid)
    engine = ScenarioEngine(s)
    t = _scripted_visit(engine, writer)
    # Frames still in the pipeline when the visit ended arrive late (and one after the end, not counted).
    for ft in (t - 0.25, t - 0.15, t - 0.05, t + 0.05):
        f = FrameSample(ft, True, "away")
        writer.put(f)
        engine.observe_frame(f.t, f.face, f.gaze)
    for ev in engine.close():  # as VisitRunner.end() does once the pipeline has stopped
        writer.put(ev)
    writer.close("completed", duration_s=t + 2.0)
    summary = store.summary(sid)
    assert set(summary.measures) == set(MEASURES)
    quoted = [(mid, q) for item in store.rubric(sid) for ev in item["evidence"]
              for mid, q in ev["measures"].items()]
    assert quoted, "the rubric quotes no number"
    for mid, q in quoted:
        assert q["value"] == summary.measures[mid]["value"], mid
        assert q["shown"] == summary.measures[mid]["shown"], mid
    # The live measures over the whole visit equal the stored ones, measure by measure.
    live = {k: m.as_dict() for k, m in measure_all(engine.record).items()}
    assert live == summary.measures
