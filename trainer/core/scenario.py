"""Scenario model and loader.

A scenario is a YAML file: metadata, a patient persona and an ordered list of steps. A step is either a
patient line (`patient:` text, spoken by the virtual patient) or a clinician turn (`clinician:` with a
prompt and a timeout: the engine waits for the clinician to speak and finish). Steps run in order unless
a step names its successor with `next:`; the step with `end: true` (or the last one) ends the visit.
The full format is documented in docs/scenarios.md.

Every error names file:line:column and what was expected.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trainer.core.errors import ScenarioError
from trainer.core.yamlpos import LDict, LList, load_located

#: Behaviour ids from DESIGN.md section 1 (JMIR Formative Research 2023, compassionate technology-based care).
BEHAVIOURS: dict[str, str] = {
    "modality_preference": "Asking the patient's modality preference",
    "video_presence": "Using video to establish presence",
    "screen_share": "Sharing the screen",
    "avoid_jargon": "Avoiding jargon",
    "eye_contact": "Making eye contact",
    "open_questions": "Asking open-ended questions",
    "set_expectations": "Setting expectations for the visit",
    "small_talk": "Engaging in small talk",
    "clear_doubts": "Understanding and clearing doubts",
    "include_caregivers": "Including caregivers",
    "follow_up": "Following up on prior concerns",
    "probing_questions": "Asking probing questions",
    "acknowledge_expressions": "Acknowledging facial expressions and body language",
}

EMOTIONS = ("neutral", "worried", "sad", "relieved", "confused", "frustrated", "smiling")
DIFFICULTIES = ("introductory", "intermediate", "advanced")


@dataclass(frozen=True)
class Persona:
    name: str
    age: int | None = None
    pronouns: str = ""
    appearance: dict[str, Any] = field(default_factory=dict)
    voice: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PatientLine:
    id: str
    text: str
    emotion: str = "neutral"
    cue: bool = False  # an emotional cue the clinician should acknowledge
    next: str | None = None
    end: bool = False
    line: int = 0  # source line, for messages

    kind = "patient"


@dataclass(frozen=True)
class ClinicianTurn:
    id: str
    prompt: str
    timeout_s: float = 20.0
    next: str | None = None
    end: bool = False
    line: int = 0

    kind = "clinician"


Step = PatientLine | ClinicianTurn


@dataclass(frozen=True)
class Scenario:
    id: str
    title: str
    summary: str
    behaviours: tuple[str, ...]
    expected_minutes: float
    difficulty: str
    patient: Persona
    steps: tuple[Step, ...]
    path: str = ""

    def step(self, step_id: str) -> Step:
        for s in self.steps:
            if s.id == step_id:
                return s
        raise KeyError(step_id)

    def successor(self, step: Step) -> Step | None:
        """The step that follows `step`, or None when the visit ends after it."""
        if step.end:
            return None
        if step.next:
            return self.step(step.next)
        idx = self.steps.index(step)
        return self.steps[idx + 1] if idx + 1 < len(self.steps) else None

    @property
    def patient_lines(self) -> list[PatientLine]:
        return [s for s in self.steps if isinstance(s, PatientLine)]


class _Reader:
    """Typed access to located YAML with errors that carry positions."""

    def __init__(self, path: str):
        self.path = path

    def fail(self, pos: tuple[int, int], message: str) -> ScenarioError:
        return ScenarioError(self.path, message, line=pos[0], column=pos[1])

    def mapping(self, value: Any, pos: tuple[int, int], what: str) -> LDict:
        if not isinstance(value, LDict):
            raise self.fail(pos, f"{what} must be a mapping (key: value lines)")
        return value

    def get(self, m: LDict, key: str, typ: type | tuple[type, ...], what: str, *, required: bool = True,
            default: Any = None) -> Any:
        if key not in m or m[key] is None:
            if required:
                raise self.fail(m.pos, f"{what}: missing required key '{key}'")
            return default
        value = m[key]
        if typ is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        types = typ if isinstance(typ, tuple) else (typ,)
        if isinstance(value, bool) and bool not in types:  # bool is an int subclass in Python
            raise self.fail(m.where(key), f"{what}: '{key}' must be {_typename(typ)}, got true/false")
        if not isinstance(value, typ):
            raise self.fail(m.where(key), f"{what}: '{key}' must be {_typename(typ)}, got {_typename(type(value))}")
        return value

    def no_unknown(self, m: LDict, allowed: set[str], what: str) -> None:
        for key in m:
            if key not in allowed:
                raise self.fail(m.where(key), f"{what}: unknown key '{key}' (expected one of: "
                                              f"{', '.join(sorted(allowed))})")


def _typename(typ: Any) -> str:
    names = {str: "text", int: "a whole number", float: "a number", bool: "true or false", LDict: "a mapping",
             LList: "a list", list: "a list", dict: "a mapping", type(None): "nothing"}
    if isinstance(typ, tuple):
        return " or ".join(names.get(t, t.__name__) for t in typ)
    return names.get(typ, getattr(typ, "__name__", str(typ)))


_TOP_KEYS = {"id", "title", "summary", "behaviours", "expected_minutes", "difficulty", "patient", "steps"}
_PERSONA_KEYS = {"name", "age", "pronouns", "appearance", "voice"}
_PATIENT_STEP_KEYS = {"id", "patient", "emotion", "cue", "next", "end"}
_CLINICIAN_STEP_KEYS = {"id", "clinician", "next", "end"}
_CLINICIAN_KEYS = {"prompt", "timeout_s"}


def parse_scenario(text: str, path: str = "<scenario>") -> Scenario:
    """Parse and validate scenario YAML text; raises ScenarioError naming path:line:column."""
    r = _Reader(path)
    doc = load_located(text, path)
    top = r.mapping(doc, getattr(doc, "pos", (1, 1)), "the scenario file")
    r.no_unknown(top, _TOP_KEYS, "scenario")

    sid = r.get(top, "id", str, "scenario")
    title = r.get(top, "title", str, "scenario")
    summary = r.get(top, "summary", str, "scenario", required=False, default="")
    behaviours = r.get(top, "behaviours", LList, "scenario", required=False, default=LList())
    for i, b in enumerate(behaviours):
        if b not in BEHAVIOURS:
            raise r.fail(behaviours.where(i), f"unknown behaviour id '{b}' (expected one of: "
                                              f"{', '.join(BEHAVIOURS)})")
    minutes = r.get(top, "expected_minutes", (int, float), "scenario", required=False, default=5)
    if minutes <= 0:
        raise r.fail(top.where("expected_minutes"), "expected_minutes must be above 0")
    difficulty = r.get(top, "difficulty", str, "scenario", required=False, default="introductory")
    if difficulty not in DIFFICULTIES:
        raise r.fail(top.where("difficulty"), f"difficulty must be one of {', '.join(DIFFICULTIES)}")

    pm = r.mapping(r.get(top, "patient", LDict, "scenario"), top.where("patient"), "patient")
    r.no_unknown(pm, _PERSONA_KEYS, "patient")
    persona = Persona(
        name=r.get(pm, "name", str, "patient"),
        age=r.get(pm, "age", int, "patient", required=False),
        pronouns=r.get(pm, "pronouns", str, "patient", required=False, default=""),
        appearance=dict(r.get(pm, "appearance", LDict, "patient", required=False, default={})),
        voice=dict(r.get(pm, "voice", LDict, "patient", required=False, default={})),
    )

    raw_steps = r.get(top, "steps", LList, "scenario")
    if not raw_steps:
        raise r.fail(top.where("steps"), "steps: the list is empty; a scenario needs at least one patient line")
    steps: list[Step] = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(raw_steps):
        pos = raw_steps.where(i)
        sm = r.mapping(raw, pos, f"step {i + 1}")
        what = f"step {i + 1}"
        step_id = r.get(sm, "id", str, what)
        what = f"step '{step_id}'"
        if step_id in seen:
            raise r.fail(sm.where("id"), f"step id '{step_id}' is already used on line {seen[step_id]}")
        seen[step_id] = pos[0]
        nxt = r.get(sm, "next", str, what, required=False)
        end = r.get(sm, "end", bool, what, required=False, default=False)
        if "patient" in sm and "clinician" in sm:
            raise r.fail(pos, f"{what}: has both 'patient' and 'clinician'; a step is one or the other")
        if "patient" in sm:
            r.no_unknown(sm, _PATIENT_STEP_KEYS, what)
            text = r.get(sm, "patient", str, what).strip()
            if not text:
                raise r.fail(sm.where("patient"), f"{what}: the patient line is empty")
            emotion = r.get(sm, "emotion", str, what, required=False, default="neutral")
            if emotion not in EMOTIONS:
                raise r.fail(sm.where("emotion"), f"{what}: emotion must be one of {', '.join(EMOTIONS)}")
            steps.append(PatientLine(step_id, text, emotion, r.get(sm, "cue", bool, what, required=False,
                                                                   default=False), nxt, end, pos[0]))
        elif "clinician" in sm:
            r.no_unknown(sm, _CLINICIAN_STEP_KEYS, what)
            cm = r.mapping(sm["clinician"], sm.where("clinician"), f"{what}: clinician")
            r.no_unknown(cm, _CLINICIAN_KEYS, f"{what}: clinician")
            timeout = r.get(cm, "timeout_s", float, f"{what}: clinician", required=False, default=20.0)
            if not 1.0 <= timeout <= 600.0:
                raise r.fail(cm.where("timeout_s"), f"{what}: timeout_s must be between 1 and 600 seconds")
            steps.append(ClinicianTurn(step_id, r.get(cm, "prompt", str, f"{what}: clinician"), timeout, nxt,
                                       end, pos[0]))
        else:
            raise r.fail(pos, f"{what}: expected a 'patient' line or a 'clinician' turn")

    ids = {s.id for s in steps}
    for i, s in enumerate(steps):
        if s.next is not None and s.next not in ids:
            sm = raw_steps[i]
            raise r.fail(sm.where("next"), f"step '{s.id}': next names unknown step '{s.next}'")
    scenario = Scenario(sid, title, summary, tuple(behaviours), float(minutes), difficulty, persona, tuple(steps),
                        path)
    # Every step must be reachable from the first one.
    reachable: set[str] = set()
    cur: Step | None = steps[0]
    while cur is not None and cur.id not in reachable:
        reachable.add(cur.id)
        cur = scenario.successor(cur)
    for i, s in enumerate(steps):
        if s.id not in reachable:
            raise r.fail(raw_steps.where(i), f"step '{s.id}' can never be reached from the first step")
    if not scenario.patient_lines:
        raise r.fail(top.where("steps"), "steps: a scenario needs at least one patient line")
    return scenario


def load_scenario(path: str | Path) -> Scenario:
    """Load a scenario file; unreadable files and bad content raise ScenarioError naming the file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(str(p), "file not found") from None
    except UnicodeDecodeError as exc:
        raise ScenarioError(str(p), f"not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise ScenarioError(str(p), f"cannot read the file: {exc.strerror or exc}") from None
    return parse_scenario(text, str(p))


def discover_scenarios(folders: list[Path]) -> tuple[list[Scenario], list[ScenarioError]]:
    """Load every *.yaml scenario in the folders; broken files are returned as errors, not raised."""
    found: list[Scenario] = []
    errors: list[ScenarioError] = []
    for folder in folders:
        if not folder.is_dir():
            continue
        for f in sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml")):
            try:
                found.append(load_scenario(f))
            except ScenarioError as exc:
                errors.append(exc)
    return found, errors
