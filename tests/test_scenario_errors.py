"""Broken scenario files: every error names file:line:column and what was expected."""

from __future__ import annotations

import textwrap

import pytest

from trainer.core.errors import ScenarioError
from trainer.core.scenario import load_scenario, parse_scenario

BASE = """\
id: t
title: T
behaviours: [small_talk]
patient: {name: Ann}
rubric:
  small_talk:
    counts: chat
    evidence: [{card: chat}]
steps:
  - id: a
    patient: hello
  - id: b
    clinician:
      prompt: say hi
      cards:
        - {id: chat, label: Chat, set: [chatted]}
        - {id: skip, label: Skip}
      branches:
        - when: {card: chat}
          next: c
  - id: c
    patient: bye
    end: true
"""


def test_the_base_document_is_valid():
    s = parse_scenario(BASE, "base.yaml")
    assert [st.id for st in s.steps] == ["a", "b", "c"]


def _err(text: str, path: str = "s.yaml") -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, path)
    return info.value


CASES = [
    # (replace old, new, expected line, message fragment)
    ("          next: c\n", "          next: nowhere\n", 20, "unknown step 'nowhere'"),
    ("        - when: {card: chat}", "        - when: {card: other}", 19, "not one of this turn's cards"),
    ("        - when: {card: chat}", "        - when: {loudness: 3}", 19, "unknown condition 'loudness'"),
    ("        - when: {card: chat}", "        - when: {cue_response_at_least: 0.5}", 19, "only be used in rubric"),
    ("        - when: {card: chat}", "        - when: {eye_contact_below: 1.5}", 19, "from 0 to 1"),
    ("        - when: {card: chat}", "        - when: {action: dance}", 19, "unknown call-window action"),
    ("        - when: {card: chat}", "        - when: {flag: never_set}", 19, "flag 'never_set' is never set"),
    ("        - when: {card: chat}", "        - when: {override: nope}", 19, "unknown override"),
    ("    evidence: [{card: chat}]", "    evidence: [{card: nope}]", 8, "unknown card 'nope'"),
    ("    evidence: [{card: chat}]", "    evidence: [{timed_out: true}]", 8, "only be used in clinician-turn"),
    ("  small_talk:\n", "  eye_contact:\n", 6, "not one of this scenario's behaviours"),
    ("behaviours: [small_talk]", "behaviours: [small_talk, flirting]", 3, "unknown behaviour id 'flirting'"),
    ("    patient: bye\n", "    patient: bye\n    emotion: ecstatic\n", 23, "'emotion' must be one of"),
    ("    patient: hello\n", "    patient: hello\n    cue: maybe\n", 12, "'cue' must be true or false"),
    ("  - id: c\n", "  - id: a\n", 21, "step id 'a' is already used on line 10"),
    ("        - {id: skip, label: Skip}", "        - {id: chat, label: Skip}", 17, "card id 'chat' is already used"),
    ("        - {id: skip, label: Skip}\n", "", 16, "at least two intent cards"),
    ("    patient: bye\n", "    caregiver: bye\n", 22, "needs a caregiver"),
    ("    patient: hello\n", "    patient: hello\n    clinician: {prompt: x}\n", 10, "exactly one of"),
    ("    patient: hello\n", "    patient: hello\n    audio: missing.wav\n", 12, "audio file not found"),
    ("    patient: hello\n", "    patient: hello\n    audio: notes.txt\n", 12, "must be a .wav"),
    ("    patient: hello\n", "    patient: hello\n    colour: red\n", 12, "unknown key 'colour'"),
    ("      prompt: say hi\n", "      prompt: say hi\n      timeout_s: 9000\n", 15, "timeout_s"),
    ("patient: {name: Ann}", "patient: {name: Ann, appearance: {skin: green}}", 4, "skin"),
    ("patient: {name: Ann}", "patient: {name: Ann, voice: {pitch: 3}}", 4, "pitch"),
    ("patient: {name: Ann}", "patient: {name: Ann, age: -3}", 4, "age"),
    ("id: t\n", "id: t\nexpected_minutes: .nan\n", 2, "expected_minutes"),
    ("id: t\n", "id: t\nsetting: {background: beach}\n", 2, "background"),
    ("id: t\n", "id: t\nsetting: {connection_events: [{at_step: zz, state: frozen, duration_s: 4}]}\n", 2,
     "unknown step 'zz'"),
    ("id: t\n", "id: t\noverrides: [{id: skip, label: x}]\n", 2, "already used"),
    ("rubric:\n  small_talk:\n    counts: chat\n    evidence: [{card: chat}]\n", "", 3, "need a 'rubric'"),
    ("title: T\n", "title: T\ntitle: again\n", 3, "appears twice"),
    ("    patient: hello\n", "    patient: [hello\n", 12, "YAML syntax error"),
    ("    patient: hello\n", "    patient: hello\n    set: &a [*a]\n", 12, "alias"),
    ("    patient: hello\n", "    patient: 2024-13-45\n", None, "cannot read"),
]


@pytest.mark.parametrize("old,new,line,fragment", CASES)
def test_broken_documents_name_the_line(old, new, line, fragment):
    assert old in BASE, old
    err = _err(BASE.replace(old, new, 1))
    assert fragment in err.detail, str(err)
    if line is not None:
        assert err.line == line, str(err)
        assert err.column is not None
        assert str(err).startswith(f"s.yaml:{line}:{err.column}: ")


def test_unreachable_step_is_an_error():
    text = BASE.replace("          next: c\n", "          next: c\n    end: true\n")
    text = text.replace("  - id: c\n", "  - id: orphan\n    patient: nobody hears this\n  - id: c\n")
    err = _err(text)
    assert "orphan" in err.detail and "never be reached" in err.detail and err.line == 22


def test_a_loop_with_no_way_out_is_an_error():
    text = textwrap.dedent("""\
        id: loop
        title: L
        patient: {name: Ann}
        steps:
          - id: a
            patient: hi
          - id: b
            clinician:
              prompt: talk
              branches: [{when: {action: share_screen}, next: e}]
          - id: c
            patient: again
            next: d
          - id: d
            clinician: {prompt: talk more}
            next: c
          - id: e
            patient: bye
    """)
    err = _err(text)
    assert "loop" in err.detail and "'c'" in err.detail and err.line == 11


def test_a_loop_of_instant_steps_is_an_error():
    text = textwrap.dedent("""\
        id: spin
        title: S
        patient: {name: Ann}
        steps:
          - id: a
            patient: hi
          - id: d1
            decide:
              - when: {action: share_screen}
                next: z
            next: d2
          - id: d2
            decide:
              - when: {action: stop_share}
                next: z
            next: d1
          - id: z
            patient: bye
    """)
    err = _err(text)
    assert "takes no time" in err.detail


def test_file_errors_name_the_file(tmp_path):
    f = tmp_path / "latin1.yaml"
    f.write_bytes("id: caf\xe9\n".encode("latin-1"))
    with pytest.raises(ScenarioError, match="UTF-8") as info:
        load_scenario(f)
    assert str(f) in str(info.value)
    with pytest.raises(ScenarioError, match="folder"):
        load_scenario(tmp_path)
    empty = tmp_path / "empty.yaml"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(ScenarioError, match="empty") as info:
        load_scenario(empty)
    assert info.value.line == 1


def test_relative_media_paths_resolve_next_to_the_scenario(tmp_path):
    clip = tmp_path / "clips" / "hello.wav"
    clip.parent.mkdir()
    clip.write_bytes(b"RIFF")
    f = tmp_path / "s.yaml"
    f.write_text(BASE.replace("    patient: hello\n", "    patient: hello\n    audio: clips/hello.wav\n"),
                 encoding="utf-8")
    s = load_scenario(f)
    assert s.steps[0].audio == str(clip)


def test_billion_laughs_is_refused_quickly():
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    err = _err("\n".join(lines) + "\n")
    assert "expands" in err.detail


def test_on_timeout_and_silence_are_checked_and_played():
    from trainer.core.engine import ScenarioEngine

    text = BASE.replace("      prompt: say hi\n", "      prompt: say hi\n      timeout_s: 5\n      on_timeout: hello\n")
    text += "  - id: hello\n    patient: Hello? Did I lose you?\n    next: b\n"
    s = parse_scenario(text, "t.yaml")
    engine = ScenarioEngine(s)
    engine.start(0.0)
    engine.tick(engine._line_ends_at)
    engine.choose_card(3.0, "chat")
    out = engine.tick(20.0)
    assert [e.kind for e in out][:3] == ["clinician_turn_end", "branch", "patient_line"]
    assert out[1].to == "hello" and out[1].branch == 0 and not out[0].credited and "chatted" not in engine.flags
    with pytest.raises(ScenarioError, match="unknown step 'nowhere'"):
        parse_scenario(text.replace("on_timeout: hello", "on_timeout: nowhere"), "t.yaml")
    with pytest.raises(ScenarioError, match="silence: 'checks'"):
        parse_scenario(BASE + "silence:\n  checks: []\n", "t.yaml")


def test_rating_scales_from_the_rubric_and_their_errors(tmp_path, capsys):
    from trainer.core.scenario import DEFAULT_RATING_SCALE
    from trainer.resources import builtin_scenarios_dir

    assert parse_scenario(BASE, "s.yaml").scale_for("small_talk") == DEFAULT_RATING_SCALE
    own = BASE.replace("id: t\n", "id: t\nrating_scale: [not yet, partly, consistently, 4]\n")
    assert parse_scenario(own, "s.yaml").scale_for("small_talk") == ("not yet", "partly", "consistently", "4")
    item = own.replace("    counts: chat\n", "    counts: chat\n    rating_scale: [no chat, some chat]\n")
    assert parse_scenario(item, "s.yaml").scale_for("small_talk") == ("no chat", "some chat")  # the behaviour's wins
    first = load_scenario(builtin_scenarios_dir() / "first_checkin.yaml")  # a built-in with its own scales
    assert first.scale_for("open_questions")[-1] == "open questions throughout"
    assert first.scale_for("eye_contact") == DEFAULT_RATING_SCALE
    for bad, line, fragment in (("rating_scale: [only]", 2, "needs 2 to 7 levels"),
                                ("rating_scale: [a, b, c, d, e, f, g, h]", 2, "needs 2 to 7 levels"),
                                ("rating_scale: [low, Low]", 2, "listed twice"),
                                ("rating_scale: [low, '']", 2, "must be a word or a number"),
                                ("rating_scale: [low, [high]]", 2, "must be a word or a number"),
                                ("rating_scale: low to high", 2, "must be a list")):
        err = _err(BASE.replace("id: t\n", f"id: t\n{bad}\n"))
        assert fragment in err.detail and err.line == line, str(err)
    err = _err(BASE.replace("    counts: chat\n", "    counts: chat\n    rating_scale: [x]\n"))
    assert "rubric: small_talk: 'rating_scale' needs 2 to 7 levels" in err.detail and err.line == 8, str(err)
    # `trainer validate` reports it with the file and line.
    from trainer.cli import main

    (tmp_path / "bad.yaml").write_text(BASE.replace("id: t\n", "id: t\nrating_scale: [only]\n"), encoding="utf-8")
    assert main(["validate", str(tmp_path / "bad.yaml")]) == 1
    assert f"{tmp_path / 'bad.yaml'}:2:" in capsys.readouterr().err
