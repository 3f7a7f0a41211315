"""The built-in library: every file validates, together they target all 13 behaviours, each is a
plausible 5-12 minute primary-care video visit with cards, branches, cues and a rubric."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from trainer.core.scenario import (BEHAVIOURS, EMOTIONS, ClinicianTurn, Decision, PatientLine, estimate_minutes,
                                   validate_paths)
from trainer.resources import builtin_scenarios_dir

REPO = Path(__file__).resolve().parent.parent


def _library():
    found, errors = validate_paths([builtin_scenarios_dir()])
    assert not errors, "\n".join(str(e) for e in errors)
    return found


def test_all_builtin_scenarios_validate_and_there_are_at_least_six():
    found = _library()
    assert len(found) >= 6
    assert len({s.id for s in found}) == len(found)


def test_the_library_targets_all_thirteen_behaviours():
    targeted = set()
    for s in _library():
        targeted |= set(s.behaviours)
    assert targeted == set(BEHAVIOURS), f"not targeted: {sorted(set(BEHAVIOURS) - targeted)}"
    assert len(BEHAVIOURS) == 13


def test_each_behaviour_has_a_rubric_and_something_that_can_show_it():
    for s in _library():
        assert {r.behaviour for r in s.rubric} == set(s.behaviours), s.id
        for r in s.rubric:
            assert r.counts and (r.evidence or r.facilitator_rating), (s.id, r.behaviour)
        # Card-judged behaviours must be offered by some card.
        offered = {b for c in s.cards for b in c.behaviours}
        for r in s.rubric:
            card_leaves = [leaf for ev in r.evidence for leaf in ev.leaves() if leaf.op == "card"]
            for leaf in card_leaves:
                assert any(c.id in leaf.value for c in s.cards), (s.id, r.behaviour)
        assert offered, s.id


def test_lengths_are_five_to_twelve_minutes():
    for s in _library():
        assert 5 <= s.expected_minutes <= 12, s.id
        shortest, longest = estimate_minutes(s)
        assert 5 <= longest <= 12, f"{s.id}: longest path {longest:.1f} min"
        assert shortest <= s.expected_minutes <= longest + 3, (s.id, shortest, longest)


def test_scenarios_use_the_format_richly():
    used_emotions = set()
    kinds = {"card_branch": 0, "measure_branch": 0, "action_branch": 0, "override": 0, "connection": 0,
             "caregiver": 0}
    measures = {"eye_contact_below", "eye_contact_at_least", "interrupted", "wait_s_at_least", "wait_s_below",
                "talk_s_at_least", "talk_s_below", "face_responded"}
    for s in _library():
        lines = [st for st in s.steps if isinstance(st, PatientLine)]
        turns = [st for st in s.steps if isinstance(st, ClinicianTurn)]
        assert len(lines) >= 10 and len(turns) >= 8, s.id
        assert any(ln.cue for ln in lines), f"{s.id}: no emotional cue"
        assert len({ln.emotion for ln in lines}) >= 4, s.id
        assert any(t.cards for t in turns), s.id
        assert s.overrides, f"{s.id}: no facilitator override"
        used_emotions |= {ln.emotion for ln in lines}
        for st in s.steps:
            for br in getattr(st, "branches", ()):
                ops = {leaf.op for leaf in br.when.leaves()}
                kinds["card_branch"] += "card" in ops
                kinds["measure_branch"] += bool(ops & measures)
                kinds["action_branch"] += bool(ops & {"action", "action_in_turn", "caregiver_present"})
                kinds["override"] += "override" in ops
        kinds["override"] += sum(1 for o in s.overrides if o.goto)
        kinds["connection"] += len(s.setting.connection_events)
        kinds["caregiver"] += s.caregiver is not None
    assert used_emotions == set(EMOTIONS)
    assert all(v > 0 for v in kinds.values()), kinds


def test_no_decide_or_line_is_orphaned_from_the_rubric_flags():
    """Every flag a rubric checks is set by some card or line (the loader enforces it; this guards the
    library against a card being renamed without its rubric)."""
    for s in _library():
        set_flags = {f for c in s.cards for f in c.set_flags} | {f for st in s.steps if isinstance(st, PatientLine)
                                                                   for f in st.set_flags}
        for r in s.rubric:
            for ev in r.evidence:
                for leaf in ev.leaves():
                    if leaf.op == "flag":
                        assert set(leaf.value) <= set_flags, (s.id, leaf.value)
        assert not any(isinstance(st, Decision) and not st.branches for st in s.steps)


def test_cli_validate_passes_on_the_library_and_fails_with_positions(tmp_path):
    ok = subprocess.run([sys.executable, "-m", "trainer", "validate", str(builtin_scenarios_dir())],
                        capture_output=True, text=True, cwd=REPO, timeout=60)
    assert ok.returncode == 0, ok.stderr
    assert "0 with errors" in ok.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\ntitle: y\npatient: {name: A}\nsteps:\n  - id: a\n    patient: hi\n    next: nowhere\n",
                   encoding="utf-8")
    empty = tmp_path / "empty_folder"
    empty.mkdir()
    res = subprocess.run([sys.executable, "-m", "trainer", "validate", str(bad), str(empty),
                          str(builtin_scenarios_dir() / "first_checkin.yaml")],
                         capture_output=True, text=True, cwd=REPO, timeout=60)
    assert res.returncode == 1
    assert f"{bad}:7:11: unknown step 'nowhere'" in res.stderr
    assert str(empty) in res.stderr
    assert "first_checkin.yaml" in res.stdout


def test_json_schema_matches_the_loader():
    """The editor schema lists the same choices the loader accepts (guards against drift)."""
    import json

    from trainer.core.scenario import ACTIONS, APPEARANCE_CHOICES, CONDITION_KEYS

    schema = json.loads((REPO / "docs" / "scenario.schema.json").read_text(encoding="utf-8"))
    props = schema["properties"]
    assert props["rubric"]["propertyNames"]["enum"] == list(BEHAVIOURS)
    line = schema["properties"]["steps"]["items"]["oneOf"][0]
    assert line["properties"]["emotion"]["enum"] == list(EMOTIONS)
    for key, choices in APPEARANCE_CHOICES.items():
        assert props["patient"]["properties"]["appearance"]["properties"][key]["enum"] == list(choices)
    turn = set(schema["$defs"]["condition_turn"]["properties"]) - {"any", "all", "not"}
    visit = set(schema["$defs"]["condition_visit"]["properties"]) - {"any", "all", "not"}
    assert turn == {k for k, (_, s) in CONDITION_KEYS.items() if "turn" in s}
    assert visit == {k for k, (_, s) in CONDITION_KEYS.items() if "visit" in s}
    action = schema["$defs"]["condition_turn"]["properties"]["action"]["oneOf"][0]["enum"]
    assert action == list(ACTIONS)


def test_a_pack_reusing_a_built_in_id_is_an_error_naming_both_files_and_is_not_offered(tmp_path):
    from trainer.core.scenario import discover_scenarios

    src = builtin_scenarios_dir() / "first_checkin.yaml"
    (tmp_path / "dup.yaml").write_text(src.read_text(encoding="utf-8"), encoding="utf-8")
    found, errors = discover_scenarios([builtin_scenarios_dir(), tmp_path])
    assert [s.id for s in found].count("first-checkin") == 1
    assert next(s for s in found if s.id == "first-checkin").path == str(src)
    assert len(errors) == 1 and errors[0].path == str(tmp_path / "dup.yaml") and str(src) in errors[0].detail
