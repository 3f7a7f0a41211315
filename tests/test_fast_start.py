"""A fast start: a real-time visit renders only its first patient line before t = 0 and the rest in the
background, in the order the visit can reach them; a spare face landmarker built ahead of time is used by
the next face processor. (Speed figures: benchmarks/bench_first_line.py.)"""

from __future__ import annotations

from trainer.analysis import face
from trainer.core.events import ScenarioEvent
from trainer.core.scenario import PatientLine, discover_scenarios
from trainer.resources import builtin_scenarios_dir
from trainer.store.db import SessionStore
from trainer.visit import FIRST_LINES, VisitRunner


def _scenarios():
    return discover_scenarios([builtin_scenarios_dir()])[0]


def test_play_order_starts_with_the_first_line_and_covers_every_line_once():
    for s in _scenarios():
        order = s.lines_in_play_order()
        assert sorted(line.id for line in order) == sorted(line.id for line in s.patient_lines)
        first_line = next(step for step in s.steps if isinstance(step, PatientLine))
        # The first line the visit reaches along its default path is rendered first.
        step = s.steps[0]
        while not isinstance(step, PatientLine):
            step = s.successor(step)
        assert order[0].id == step.id, s.id
        assert first_line.id in {line.id for line in order}


def test_real_time_visit_has_its_first_line_at_start_and_the_rest_later(tmp_path):
    scenario = min(_scenarios(), key=lambda s: len(s.patient_lines))
    events = []
    runner = VisitRunner(scenario, SessionStore(tmp_path / "s.db"), camera=None, mic=None, listener=events.append,
                         sound_output=False, calibration=None)
    runner.start()
    try:
        order = scenario.lines_in_play_order()
        assert all(runner.patient_line_audio(line.id) is not None for line in order[:FIRST_LINES])
        first = next(e for e in events if isinstance(e, ScenarioEvent) and e.kind == "patient_line")
        assert runner.patient_line_audio(first.data["step"]) is not None  # the first line plays with its voice
        assert runner.wait_for_voices(300)
        assert all(runner.patient_line_audio(line.id) is not None for line in order)
    finally:
        runner.end()


def test_a_prewarmed_landmarker_is_taken_by_the_next_face_processor():
    face.prewarm()
    assert len(face._spare) == 1
    spare = face._spare[0]
    processor = face.create_face_processor()
    try:
        assert processor.analyzer is spare and not face._spare
    finally:
        processor.close()
