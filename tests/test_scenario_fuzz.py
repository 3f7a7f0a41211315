"""Property-based: random mutations of valid scenario files never raise anything but ScenarioError, and
whatever still loads plays through the engine to an end."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trainer.core.engine import ScenarioEngine
from trainer.core.errors import ScenarioError
from trainer.core.scenario import parse_scenario
from trainer.resources import builtin_scenarios_dir

SOURCES = {p.name: p.read_text(encoding="utf-8") for p in sorted(builtin_scenarios_dir().glob("*.yaml"))}

TOKENS = ["0", "-1", "3.5", "1e309", ".nan", ".inf", "true", "false", "null", "~", "''", '""', "[", "]", "{", "}",
          ":", "- ", "-", "&a", "*a", "&a [*a]", "!!binary zz", "!!python/object:os.system", "!foo", "2024-13-45",
          "2024-01-01", "0x1F", "? [a]", "|", ">-", "#", "\t", "\\", "é", "💬", "x" * 300, "next", "end", "cue",
          "emotion", "clinician", "patient", "caregiver", "decide", "event", "when", "card", "branches", "cards",
          "rubric", "evidence", "id", "hello", "open", "t_open", "share_screen", "invite_caregiver", "<<: *a",
          "sad", "smiling", "frozen", "on_invite", "caregiver_joins", "not", "any", "all"]


@st.composite
def mutated(draw):
    name = draw(st.sampled_from(sorted(SOURCES)))
    lines = SOURCES[name].split("\n")
    for _ in range(draw(st.integers(1, 4))):
        if not lines:
            break
        i = draw(st.integers(0, len(lines) - 1))
        op = draw(st.sampled_from(["delete", "duplicate", "swap", "token", "indent", "insert", "truncate",
                                   "value"]))
        if op == "delete":
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "token":
            words = lines[i].split(" ")
            k = draw(st.integers(0, len(words) - 1))
            words[k] = draw(st.sampled_from(TOKENS))
            lines[i] = " ".join(words)
        elif op == "indent":
            delta = draw(st.sampled_from([-4, -2, -1, 1, 2, 4]))
            lines[i] = " " * max(0, delta) + lines[i][max(0, -delta):]
        elif op == "insert":
            pos = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:pos] + draw(st.text(max_size=6)) + lines[i][pos:]
        elif op == "truncate":
            lines = lines[:i]
        else:  # replace whatever follows the first ': ' with a token
            if ": " in lines[i]:
                head = lines[i].split(": ", 1)[0]
                lines[i] = f"{head}: {draw(st.sampled_from(TOKENS))}"
    return name, "\n".join(lines)


@settings(max_examples=int(__import__("os").environ.get("FUZZ_EXAMPLES", "300")), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutations_raise_only_scenario_errors(case):
    name, text = case
    path = str(builtin_scenarios_dir() / name)
    try:
        scenario = parse_scenario(text, path)
    except ScenarioError as exc:
        assert exc.path == path
        assert str(exc).startswith(path)
        return
    # Still valid: the engine must play it to an end with a silent clinician (every turn times out).
    engine = ScenarioEngine(scenario)
    engine.start(0.0)
    t = 0.0
    while not engine.finished:
        t += 5.0
        engine.tick(t)
        assert t < 24 * 3600, "a valid scenario never ended"
    assert engine.history[-1].kind == "visit_end"


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=400))
def test_arbitrary_text_raises_only_scenario_errors(text):
    try:
        parse_scenario(text, "fuzz.yaml")
    except ScenarioError as exc:
        assert str(exc).startswith("fuzz.yaml")


def test_sources_are_the_real_library():
    assert len(SOURCES) >= 6 and all(Path(builtin_scenarios_dir() / n).is_file() for n in SOURCES)
