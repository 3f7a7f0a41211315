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


def code_msgids() -> dict[str, str]:
    """Every literal marked for translation in the app's code (`_("...")` or `N_("...")`), with where."""
    import ast
    from pathlib import Path

    root = Path(i18n.__file__).resolve().parents[1]
    found: dict[str, str] = {}
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            # _("...") / N_("..."), and the names shown from data: a pre-visit check item's name
            # (CheckItem(part, name, ...)) and a timeline lane's (Lane(name, ...)).
            arg = {"_": 0, "N_": 0, "CheckItem": 1, "Lane": 0}.get(getattr(getattr(node, "func", None), "id", None))
            if (isinstance(node, ast.Call) and arg is not None and len(node.args) > arg
                    and isinstance(node.args[arg], ast.Constant) and isinstance(node.args[arg].value, str)):
                found.setdefault(node.args[arg].value, f"{path.relative_to(root.parent)}:{node.lineno}")
    found.update({text: where for where, texts in _tables_shown_translated().items() for text in texts})
    return found


def _tables_shown_translated() -> dict[str, list[str]]:
    """Tables of English words the app passes through `_()` where it shows them (kept as data elsewhere:
    JSON output, stored rows), so the catalogue must have each."""
    from trainer.analysis.precheck import _CAMERA_GOOD, _CAMERA_SEEN
    from trainer.analysis.quality import ADVICE
    from trainer.core.measures import MEASURES
    from trainer.core.policy import SETTINGS
    from trainer.core.scenario import BEHAVIOURS, DIFFICULTIES
    from trainer.store.db import DEFAULT_RATING_SCALE
    from trainer.store.timeline import NOTES_LANE

    return {"core.scenario.BEHAVIOURS": list(BEHAVIOURS.values()), "core.scenario.DIFFICULTIES": list(DIFFICULTIES),
            "core.measures.MEASURES labels": [m.label for m in MEASURES.values()],
            "analysis.quality.ADVICE": list(ADVICE.values()),
            "analysis.precheck tables": [*_CAMERA_SEEN.values(), *_CAMERA_GOOD.values(), *_CAMERA_GOOD],
            "store.db.DEFAULT_RATING_SCALE": list(DEFAULT_RATING_SCALE), "store.timeline.NOTES_LANE": [NOTES_LANE],
            "core.policy.SETTINGS shown in About": [t for spec in SETTINGS.values() if spec.in_effect
                                                    for t in (spec.label, spec.help)],
            "store.timeline marks": ["face responded", "no visible response", "face not seen", "no camera signal",
                                     "no microphone signal", "shared the screen", "stopped sharing",
                                     "invited the caregiver", "interruption"]}


def test_the_french_catalogue_is_complete():
    """Every string the code marks for translation has a French entry (a new string without one fails here,
    with where it is)."""
    french = i18n.read_po(i18n.locale_dir() / "fr_CA.po")
    missing = [f"{where}: {text!r}" for text, where in code_msgids().items() if text.strip() and text not in french]
    assert not missing, f"{len(missing)} strings have no French translation:\n" + "\n".join(sorted(missing))


def test_the_catalogue_has_each_entry_once():
    import re

    ids = re.findall(r'^msgid "(.*)"$', (i18n.locale_dir() / "fr_CA.po").read_text(encoding="utf-8"), re.M)
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})


def test_language_order_of_precedence(tmp_path, monkeypatch):
    """Strongest first: a language the site policy enforces; the user's own setting; the policy's default;
    the system's language (the built-in default is 'system'). docs/translation.md states the same order."""
    from trainer.core.policy import Policy, effective_settings, read_policy_file

    def language(policy_text: str | None, user: dict, lang_env: str) -> str:
        monkeypatch.setenv("LANGUAGE", lang_env)
        policy = Policy()
        if policy_text is not None:
            path = tmp_path / "policy.yaml"
            path.write_text(policy_text, encoding="utf-8")
            policy = Policy((read_policy_file(path),), (path,))
        return i18n.resolve_language(effective_settings(policy, user).language)

    assert language(None, {}, "fr_CA.UTF-8") == "fr_CA"  # nothing set: the system's language
    assert language(None, {}, "en_CA.UTF-8") == "en"
    assert language("version: 1\ndefaults: {language: fr_CA}\n", {}, "en_CA.UTF-8") == "fr_CA"  # policy default
    assert language("version: 1\ndefaults: {language: fr_CA}\n", {"language": "en"}, "fr_CA") == "en"  # user wins
    assert language("version: 1\ndefaults: {language: en}\n", {"language": "system"}, "fr_CA") == "fr_CA"
    assert language("version: 1\nlanguage: en\n", {"language": "fr_CA"}, "fr_CA") == "en"  # enforced: strongest


def test_rubric_sentences_and_rating_scales_in_french():
    """A rubric entry's counts_fr and rating_scale_fr: the form shows the French words, the store keeps the
    scale's own (English) level; a French scale of the wrong length is an error naming the file."""
    s = load_scenario(builtin_scenarios_dir() / "first_checkin.yaml")
    item = s.rubric_for("open_questions")
    assert i18n.localized(item, "counts", "fr_CA").startswith("Pose une question ouverte")
    assert s.level_text("open_questions", "one open question", "fr_CA") == "une question ouverte"
    assert s.level_text("open_questions", "one open question", "en") == "one open question"
    text = ("id: a\ntitle: T\nbehaviours: [eye_contact]\npatient: {name: X}\nsteps:\n  - id: s\n    patient: Hi\n"
            "rubric:\n  eye_contact:\n    counts: Looks\n    facilitator_rating: true\n"
            "    rating_scale: [low, high]\n    rating_scale_fr: [bas]\n")
    with pytest.raises(ScenarioError, match="rating_scale_fr.*one French word for each"):
        parse_scenario(text, "x.yaml")


def test_french_numbers_and_wording_stored_language_neutral():
    """French (Canada) writes 1,5 s and 80 % (non-breaking space); a rubric check and a notice stored while
    English was in use are worded in French when read in French (the stored form is language-neutral)."""
    from trainer.core.conditions import condition_data, describe
    from trainer.core.events import Notice, event_from_row
    from trainer.core.scenario import Condition

    cond = Condition("any", args=(Condition("flag", ("small_talk_done", "av_checked")),
                                  Condition("cue_wait_s_at_least", 1.5), Condition("face_present_at_least", 0.8)))
    i18n.set_language("en")
    stored = condition_data(cond)
    notice = Notice.worded(29.0, "mic_ended", i18n.later(
        "No {name} signal since {t} ({why}). {feedback}: {then}", name=i18n.later("microphone"), t="0:29",
        why=i18n.later("the audio file ended"), feedback=i18n.later("Talk-time feedback"),
        then=i18n.later("stopped; the visit goes on without it.")))
    assert describe(stored) == describe(cond) == ("('small_talk_done' or 'av_checked' happened or shortest wait after a cue "
                                                  "≥ 1.5 s or face in view ≥ 80 %)")
    assert notice.message.startswith("No microphone signal since 0:29 (the audio file ended)")
    row = {"code": notice.code, "message": notice.message, "level": notice.level, "text": notice.text}
    try:
        i18n.set_language("fr_CA")
        assert (i18n.number(1.5), i18n.percent(0.8), i18n.seconds(12.25)) == ("1,5", "80\u00a0%", "12,2\u00a0s")
        assert describe(stored) == ("('small_talk_done' ou 'av_checked' s'est produit ou attente la plus courte "
                                    "après un signal ≥ 1,5\u00a0s ou visage dans le champ ≥ 80\u00a0%)")
        shown = event_from_row(29.0, "notice", row).shown()
        assert shown.startswith("Aucun signal (microphone) depuis 0:29 (le fichier audio est terminé)"), shown
        assert event_from_row(29.0, "notice", {"message": "Old wording."}).shown() == "Old wording."
    finally:
        i18n.set_language("en")


def test_the_command_line_speaks_the_language_in_use(monkeypatch, capsys, tmp_path):
    """The command line follows the app's language (here the computer's): its error lines are French."""
    from trainer import cli

    monkeypatch.setenv("LANGUAGE", "fr_CA.UTF-8")
    try:
        assert cli.main(["export", "999", "--out", str(tmp_path / "x.trainerbundle")]) == 1
        assert i18n.language() == "fr_CA"
    finally:
        i18n.set_language("en")
    assert "erreur : La séance 999 n'existe pas." in capsys.readouterr().err
