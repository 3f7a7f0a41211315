"""Bounded scenario input: the documented limits (steps, text length, file size) are enforced with a clear
message, a 5,000-step scenario is accepted, and media must stay inside the scenario's folder (absolute
paths, `..` and symlinks pointing out are refused)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from trainer.core.errors import ScenarioError
from trainer.core.scenario import MAX_STEPS, MAX_TEXT_CHARS, load_scenario, validate_paths

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from bench_scenario_size import generated_scenario  # noqa: E402


def test_the_largest_allowed_scenario_is_accepted_and_one_more_step_is_refused(tmp_path):
    ok = tmp_path / "ok.yaml"
    ok.write_text(generated_scenario(MAX_STEPS))
    assert len(load_scenario(ok).steps) == MAX_STEPS
    big = tmp_path / "big.yaml"
    big.write_text(generated_scenario(MAX_STEPS + 1))
    with pytest.raises(ScenarioError, match=f"the limit is {MAX_STEPS:,}"):
        load_scenario(big)


def test_a_100_kb_line_is_refused_by_validate(tmp_path):
    f = tmp_path / "long.yaml"
    f.write_text(generated_scenario(4).replace("patient: line number 0 of a long visit",
                                               "patient: " + "word " * 20_000))
    found, errors = validate_paths([f])
    assert not found and len(errors) == 1
    assert f"the limit is {MAX_TEXT_CHARS:,}" in str(errors[0]) and errors[0].line is not None


def test_an_oversized_file_is_refused_before_it_is_read(tmp_path):
    f = tmp_path / "huge.yaml"
    with open(f, "wb") as fh:
        fh.truncate(5_000_000)
    with pytest.raises(ScenarioError, match="limit for a scenario file"):
        load_scenario(f)


def _with_clip(value: str) -> str:
    return generated_scenario(4).replace("    patient: line number 0 of a long visit",
                                         f"    patient: line number 0\n    audio: {value}")


def test_media_must_stay_inside_the_scenario_folder(tmp_path, fixtures):
    pack = tmp_path / "pack"
    (pack / "clips").mkdir(parents=True)
    wav = fixtures("audio/speech_short.wav")
    (pack / "clips" / "ok.wav").write_bytes(wav.read_bytes())
    (tmp_path / "outside.wav").write_bytes(wav.read_bytes())
    os.symlink(tmp_path / "outside.wav", pack / "clips" / "link.wav")
    f = pack / "s.yaml"
    f.write_text(_with_clip("clips/ok.wav"))
    assert load_scenario(f).patient_lines[0].audio == str((pack / "clips" / "ok.wav").resolve())
    for value, fragment in ((str(wav), "relative to the scenario's folder"), ("../outside.wav", "outside"),
                            ("clips/link.wav", "outside")):
        f.write_text(_with_clip(value))
        with pytest.raises(ScenarioError, match=fragment):
            load_scenario(f)


def test_the_fast_graph_check_follows_the_same_steps_as_the_engine():
    from trainer.core.scenario import _follow_map, discover_scenarios
    from trainer.resources import builtin_scenarios_dir

    scenarios, _ = discover_scenarios([builtin_scenarios_dir()])
    assert scenarios
    for s in scenarios:
        index = {st.id: i for i, st in enumerate(s.steps)}
        follow, ends = _follow_map(s, index)
        for i, st in enumerate(s.steps):
            assert [s.steps[j].id for j in follow[i]] == s.targets(st), (s.id, st.id)
            assert ends[i] == (s.successor(st) is None)
