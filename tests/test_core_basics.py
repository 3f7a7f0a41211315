"""Foundation checks of the core: the built-in scenario loads and plays to the end; broken files are named."""

from pathlib import Path

import pytest

from trainer.core.engine import ScenarioEngine
from trainer.core.errors import ScenarioError
from trainer.core.metrics import face_present_ratio, merge_intervals, total_duration
from trainer.core.scenario import discover_scenarios, load_scenario, parse_scenario
from trainer.resources import builtin_scenarios_dir


def test_builtin_scenarios_load_with_at_least_five_patient_lines():
    scenarios, errors = discover_scenarios([builtin_scenarios_dir()])
    assert not errors, [str(e) for e in errors]
    assert scenarios
    assert any(len(s.patient_lines) >= 5 for s in scenarios)


def test_engine_plays_a_builtin_scenario_to_the_end_with_a_speaking_clinician():
    scenario = discover_scenarios([builtin_scenarios_dir()])[0][0]
    engine = ScenarioEngine(scenario)
    events = engine.start(0.0)
    t = 0.0
    while not engine.finished and t < 3600:
        t += 0.1
        events += engine.tick(t)
        if engine.current is not None and engine.current.kind == "clinician":
            events += engine.clinician_speech_started(t)
            events += engine.clinician_turn_ended(t + 2.0)
            t += 2.0
    kinds = [e.kind for e in events]
    assert kinds[-1] == "visit_end" and events[-1].data["reason"] in ("completed",)
    assert kinds.count("patient_line") >= 1
    # Every clinician turn ended because the clinician spoke, never by timeout.
    assert all(e.data["reason"] == "spoke" for e in events if e.kind == "clinician_turn_end")
    # Times never go backwards.
    times = [e.t for e in events]
    assert times == sorted(times)


def test_broken_yaml_names_file_and_line(tmp_path: Path):
    f = tmp_path / "broken.yaml"
    f.write_text("id: x\ntitle: y\npatient:\n  name: [unclosed\nsteps: []\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as err:
        load_scenario(f)
    assert str(f) in str(err.value)
    assert err.value.line is not None and err.value.line >= 4


def test_wrong_type_error_points_at_the_value(tmp_path: Path):
    text = "id: x\ntitle: y\npatient: {name: Ann}\nsteps:\n  - id: a\n    patient: hello\n    cue: maybe\n"
    with pytest.raises(ScenarioError) as err:
        parse_scenario(text, "s.yaml")
    assert err.value.line == 7 and "cue" in str(err.value)


def test_missing_file_is_a_scenario_error(tmp_path: Path):
    with pytest.raises(ScenarioError, match="not found"):
        load_scenario(tmp_path / "nope.yaml")


def test_metric_maths():
    assert face_present_ratio([1, 1, 0, 1]) == 0.75
    assert face_present_ratio([]) is None
    assert merge_intervals([(2, 3), (0, 1), (0.5, 1.5)]) == [(0, 1.5), (2, 3)]
    assert total_duration([(0, 1), (0.5, 2), (3, 4)]) == pytest.approx(3.0)
