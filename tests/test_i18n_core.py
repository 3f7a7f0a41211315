"""Translations below the UI: the .po reader, the language choice, French scenario text, adjustable turn time."""

from __future__ import annotations

import pytest

from trainer.core import i18n
from trainer.core.errors import ScenarioError
from trainer.core.scenario import discover_scenarios, load_scenario, parse_scenario
from trainer.resources import builtin_scenarios_dir


def test_read_po_handles_continuations_escapes_and_fuzzy(tmp_path):
    po = tmp_path / "x.po"
    po.write_text('msgid ""\nmsgstr "Content-Type: text/plain; charset=UTF-8\\n"\n\n'
                  '#: a.py:1\nmsgid "Start visit"\nmsgstr "Commencer la visite"\n\n'
                  'msgid "Two "\n"lines"\nmsgstr "Deux "\n"lignes \\"ok\\""\n\n'
                  '#, fuzzy\nmsgid "Unsure"\nmsgstr "Incertain"\n\n'
                  'msgid "Empty"\nmsgstr ""\n', encoding="utf-8")
    assert i18n.read_po(po) == {"Start visit": "Commencer la visite", "Two lines": 'Deux lignes "ok"'}


def test_system_language():
    assert i18n.system_language({"LANG": "fr_CA.UTF-8"}) == "fr_CA"
    assert i18n.system_language({"LANGUAGE": "fr_FR:en", "LANG": "en_US.UTF-8"}) == "fr_CA"
    assert i18n.system_language({"LANG": "en_CA.UTF-8"}) == "en"
    assert i18n.system_language({}) in ("en", "fr_CA")


def test_the_french_catalogue_loads_and_translates():
    try:
        assert i18n.set_language("fr_CA") == "fr_CA"
        assert i18n.is_french() and len(i18n._catalog) > 50
        assert all("{" not in k or set(_fields(k)) == set(_fields(v)) for k, v in i18n._catalog.items()), \
            "a translation must keep the {placeholders} of its English text"
    finally:
        i18n.set_language("en")
    assert i18n._("Start visit") == "Start visit"


def _fields(text: str) -> list[str]:
    import string

    return [f for _, f, _, _ in string.Formatter().parse(text) if f]


def test_two_built_in_scenarios_are_complete_in_french():
    scenarios = {s.id: s for s in discover_scenarios([builtin_scenarios_dir()])[0]}
    french = [sid for sid, s in scenarios.items() if "fr_CA" in s.languages]
    assert {"first-checkin", "connection-freeze"} <= set(french)
    s = scenarios["first-checkin"]
    assert i18n.localized(s.steps[0], "text", "fr_CA").startswith("Allô?")
    assert i18n.localized(s.steps[0], "text", "en").startswith("Hello?")
    card = s.steps[1].cards[0]
    assert i18n.localized(card, "label", "fr_CA") != card.label


def test_a_french_key_needs_its_english_key():
    text = ("id: a\ntitle: T\npatient: {name: X}\nsteps:\n"
            "  - id: s\n    patient: \"Hello\"\n    patient_fr: \"Bonjour\"\n"
            "  - id: t\n    clinician:\n      prompt: Greet\n      cards:\n"
            "        - {id: a, label: A, detail_fr: \"Bonjour\"}\n        - {id: b, label: B}\n")
    with pytest.raises(ScenarioError, match="'detail_fr' without 'detail'"):
        parse_scenario(text, "x.yaml")


def test_turn_time_limits_can_be_extended_or_turned_off():
    from trainer.core.engine import ScenarioEngine

    scenario = load_scenario(builtin_scenarios_dir() / "first_checkin.yaml")
    turn = scenario.steps[1]
    for scale, expected in ((1.0, turn.timeout_s), (2.0, 2 * turn.timeout_s), (None, None)):
        engine = ScenarioEngine(scenario, line_duration=lambda line: 1.0, turn_time_scale=scale)
        events = engine.start(0.0) + engine.tick(1.0)
        opened = next(e for e in events if e.kind == "clinician_turn")
        assert opened.data["timeout_s"] == expected
        later = engine.tick(1.0 + turn.timeout_s * 1.5)
        ended = [e for e in later if e.kind == "clinician_turn_end"]
        assert bool(ended) == (scale == 1.0)  # 1.5x the limit: only the normal limit has run out
        if scale is None:
            assert not [e for e in engine.tick(10_000.0) if e.kind == "clinician_turn_end"]
