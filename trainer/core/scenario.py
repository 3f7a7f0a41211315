"""Scenario model, loader and validator.

A scenario is a YAML file (format documented in docs/scenarios.md, JSON Schema in
docs/scenario.schema.json): metadata, a patient persona, a home setting with optional connection
events, an optional caregiver, facilitator overrides, a rubric per targeted behaviour, and a graph of
steps. A step is one of

- a patient line (`patient:` text) or a caregiver line (`caregiver:` text), spoken by the virtual
  patient or the caregiver, with an emotion, an emotional-cue flag and optional recorded audio/video;
- a clinician turn (`clinician:` mapping): the engine waits for the clinician to speak and finish;
  optional intent cards the clinician picks before answering, and branches on the card, on measured
  behaviour during the turn, on call-window actions and on facilitator overrides;
- a decision (`decide:` list of branches), taken instantly on the state of the visit so far;
- an event (`event: caregiver_joins | caregiver_leaves`).

Steps run in list order unless a step names its successor (`next:`) or ends the visit (`end: true`).

Every error is a ScenarioError naming file:line:column and what was expected. Dangling references
(steps, cards, flags, overrides, media files) and unreachable steps are errors, and so is a step from
which the visit can never end.
"""

from __future__ import annotations

import gc
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from trainer.core.conditions import KEYS
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

#: The facilitator's rating scale when the rubric defines none (lowest first): each targeted behaviour is
#: rated on it, with a comment (docs/scenarios.md, Rubric).
DEFAULT_RATING_SCALE = ("not shown", "partly shown", "clearly shown")
#: Levels a rating scale may have (at least two to choose between; beyond seven nobody rates consistently).
RATING_SCALE_LEVELS = (2, 7)
#: The behaviour key under which the optional global rating of a session is stored.
GLOBAL_RATING = "_global"
#: The global rating's scale (1 = needs work, 5 = excellent).
GLOBAL_RATING_SCALE = ("1", "2", "3", "4", "5")

EMOTIONS = ("neutral", "worried", "sad", "relieved", "confused", "frustrated", "smiling")
DIFFICULTIES = ("introductory", "intermediate", "advanced")

#: Call-window actions a scenario can branch on (the visit window offers them as buttons).
ACTIONS: dict[str, str] = {
    "share_screen": "Share screen",
    "stop_share": "Stop sharing",
    "invite_caregiver": "Invite caregiver",
}

BACKGROUNDS = ("kitchen", "living_room", "bedroom", "home_office")
CONNECTION_STATES = ("frozen", "audio_dropped", "reconnecting")
EVENTS = ("caregiver_joins", "caregiver_leaves")
CAREGIVER_JOINS = ("on_invite", "scripted")

APPEARANCE_CHOICES: dict[str, tuple[str, ...]] = {
    "skin": ("very_light", "light", "medium", "olive", "brown", "dark"),
    "hair": ("black", "dark_brown", "brown", "auburn", "blonde", "grey_brown", "grey", "white"),
    "hair_style": ("short", "medium", "long", "bun", "curly", "receding", "bald"),
    "facial_hair": ("none", "stubble", "moustache", "beard"),
    "top": ("blue", "navy", "green", "teal", "red", "burgundy", "mustard", "grey", "purple", "white"),
}
APPEARANCE_FLAGS = ("glasses",)
#: Voice ranges: rate is relative speaking speed, pitch a frequency ratio (both 1.0 = the engine's voice).
VOICE_RANGES: dict[str, tuple[float, float]] = {"rate": (0.7, 1.4), "pitch": (0.6, 1.5)}

#: Default length a clinician is expected to talk in a turn, for length estimates (seconds).
DEFAULT_EXPECT_S = 25.0
#: Documented limits (docs/scenarios.md), enforced by `trainer validate` and when scenarios load: they keep
#: a broken or hostile file from stalling the app.
MAX_STEPS = 5_000
MAX_TEXT_CHARS = 2_000  # any text value (a patient line: about two minutes of speech)
MAX_FILE_BYTES = 4_000_000

MEDIA_SUFFIXES = {"audio": (".wav", ".flac", ".mp3", ".m4a", ".ogg"), "video": (".mp4", ".mov", ".mkv", ".webm")}


# -- model ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Persona:
    """Who is on screen: name, age, pronouns, appearance (see APPEARANCE_CHOICES) and voice (rate, pitch)."""

    name: str
    age: int | None = None
    pronouns: str = ""
    appearance: dict[str, Any] = field(default_factory=dict)
    voice: dict[str, Any] = field(default_factory=dict)
    relation: str = ""  # for a caregiver: "daughter", "husband", ...


@dataclass(frozen=True)
class Caregiver:
    """A relative or carer who can join the call, on the clinician's invitation or at a scripted step."""

    persona: Persona
    joins: str = "on_invite"  # on_invite | scripted


@dataclass(frozen=True)
class ConnectionEvent:
    """A simulated connection problem that happens just before `at_step` starts and lasts duration_s."""

    at_step: str
    state: str
    duration_s: float
    line: int = 0


@dataclass(frozen=True)
class Setting:
    background: str = "living_room"
    connection_events: tuple[ConnectionEvent, ...] = ()


@dataclass(frozen=True)
class Condition:
    """A test on the state of the visit.

    `op` is "all", "any" or "not" (then `args` holds sub-conditions) or a leaf key from CONDITION_KEYS
    (then `value` holds its argument). Evaluated by trainer.core.engine with three-valued logic: a
    measured condition with no measurement (no face seen, say) is unknown, and unknown never takes a branch.
    """

    op: str
    value: Any = None
    args: tuple["Condition", ...] = ()
    line: int = 0

    def leaves(self) -> Iterator["Condition"]:
        if self.op in ("all", "any", "not"):
            for a in self.args:
                yield from a.leaves()
        else:
            yield self


@dataclass(frozen=True)
class Branch:
    when: Condition
    next: str
    line: int = 0


@dataclass(frozen=True)
class Card:
    """An intent card the clinician may pick before answering aloud ("ask an open question", ...)."""

    id: str
    label: str
    detail: str = ""
    behaviours: tuple[str, ...] = ()
    set_flags: tuple[str, ...] = ()
    fr: tuple[tuple[str, str], ...] = ()  # French text: (field, text) pairs, e.g. ("label", "...")
    say: tuple[str, ...] = ()  # example phrasings of this intent, for speaking freely (trainer.core.intents)


@dataclass(frozen=True)
class PatientLine:
    id: str
    text: str
    emotion: str = "neutral"
    cue: bool = False  # an emotional cue the clinician should acknowledge
    next: str | None = None
    end: bool = False
    line: int = 0  # source line, for messages
    speaker: str = "patient"  # patient | caregiver
    audio: str | None = None  # absolute path of a recorded clip (takes precedence over text-to-speech)
    video: str | None = None  # absolute path of a recorded video clip (its sound is the line's audio)
    set_flags: tuple[str, ...] = ()
    fr: tuple[tuple[str, str], ...] = ()  # French text: (("text", "..."),)

    kind = "patient"


@dataclass(frozen=True)
class ClinicianTurn:
    id: str
    prompt: str
    timeout_s: float = 20.0
    next: str | None = None
    end: bool = False
    line: int = 0
    cards: tuple[Card, ...] = ()
    branches: tuple[Branch, ...] = ()
    expect_s: float = DEFAULT_EXPECT_S
    on_timeout: str | None = None  # step taken when the clinician stays silent until the timeout
    fr: tuple[tuple[str, str], ...] = ()  # French text: (("prompt", "..."),)

    kind = "clinician"

    def card(self, card_id: str) -> Card | None:
        return next((c for c in self.cards if c.id == card_id), None)


@dataclass(frozen=True)
class Decision:
    id: str
    branches: tuple[Branch, ...]
    next: str | None = None
    end: bool = False
    line: int = 0

    kind = "decide"


@dataclass(frozen=True)
class EventStep:
    id: str
    event: str
    next: str | None = None
    end: bool = False
    line: int = 0

    kind = "event"


Step = PatientLine | ClinicianTurn | Decision | EventStep

#: What the patient says when a clinician turn times out in silence and the scenario says nothing else.
DEFAULT_SILENCE_CHECKS = ("Hello? Can you hear me?",
                          "I'm not sure you can hear me... Is your sound working? Are you still there?")
DEFAULT_SILENCE_GIVE_UP = "I can't hear you at all, I'm afraid. I'll hang up and call the clinic back."
DEFAULT_SILENCE_CHECKS_FR = ("Allô? Vous m'entendez?",
                             "Je ne suis pas certaine que vous m'entendiez... Votre son fonctionne? Êtes-vous encore là?")
DEFAULT_SILENCE_GIVE_UP_FR = "Je ne vous entends pas du tout, j'ai bien peur. Je vais raccrocher et rappeler la clinique."


@dataclass(frozen=True)
class Silence:
    """How the patient handles a clinician who says nothing until a turn's timeout (turns without their
    own `on_timeout` and without a `timed_out` branch): each check line in turn, the turn opening again
    after each; after the last, the give-up line, and the visit ends ("no_response")."""

    checks: tuple[PatientLine, ...]
    give_up: PatientLine


@dataclass(frozen=True)
class Override:
    """A facilitator override: a named nudge (branches can test it) that may jump to a step at once."""

    id: str
    label: str
    goto: str | None = None
    fr: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class RubricItem:
    """What counts for one behaviour: a sentence for people and evidence the app can check.

    `evidence` conditions are evaluated over the whole visit; `facilitator_rating` says a facilitator
    rating is (also) needed because the app cannot judge it (jargon, say)."""

    behaviour: str
    counts: str
    evidence: tuple[Condition, ...] = ()
    facilitator_rating: bool = False
    rating_scale: tuple[str, ...] | None = None  # this behaviour's own scale (else the scenario's)
    fr: tuple[tuple[str, str], ...] = ()  # French text: ("counts", "...") from counts_fr
    rating_scale_fr: tuple[str, ...] | None = None  # the French words of rating_scale, level for level


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
    setting: Setting = field(default_factory=Setting)
    caregiver: Caregiver | None = None
    overrides: tuple[Override, ...] = ()
    rubric: tuple[RubricItem, ...] = ()
    silence: Silence | None = None
    fr: tuple[tuple[str, str], ...] = ()  # French title and summary
    rating_scale: tuple[str, ...] = DEFAULT_RATING_SCALE  # the facilitator's scale for every behaviour

    def scale_for(self, behaviour: str) -> tuple[str, ...]:
        """The levels (lowest first) a facilitator rates `behaviour` on: its rubric entry's own
        `rating_scale`, else the scenario's, else DEFAULT_RATING_SCALE."""
        item = self.rubric_for(behaviour)
        return (item.rating_scale if item is not None and item.rating_scale else None) or self.rating_scale

    @property
    def languages(self) -> tuple[str, ...]:
        """'en', plus 'fr_CA' when every patient line, prompt and card has its French text."""
        silence = (*self.silence.checks, self.silence.give_up) if self.silence else ()
        items = [self, *self.steps, *self.cards, *self.overrides, *silence]
        complete = all(f in dict(x.fr) for x in items for f in _TRANSLATED.get(type(x).__name__, ())
                       if getattr(x, f))
        return ("en", "fr_CA") if complete else ("en",)

    def step(self, step_id: str) -> Step:
        for s in self.steps:
            if s.id == step_id:
                return s
        raise KeyError(step_id)

    def successor(self, step: Step) -> Step | None:
        """The default step after `step` (no branch taken), or None when the visit ends after it."""
        if step.end:
            return None
        if step.next:
            return self.step(step.next)
        idx = self.steps.index(step)
        return self.steps[idx + 1] if idx + 1 < len(self.steps) else None

    def targets(self, step: Step) -> list[str]:
        """Every step id that may follow `step` (default successor, branch targets, the on_timeout step)."""
        out = [b.next for b in getattr(step, "branches", ())]
        if getattr(step, "on_timeout", None):
            out.append(step.on_timeout)
        nxt = self.successor(step)
        if nxt is not None:
            out.append(nxt.id)
        return out

    @property
    def patient_lines(self) -> list[PatientLine]:
        """Every spoken line (patient and caregiver)."""
        return [s for s in self.steps if isinstance(s, PatientLine)]

    def lines_in_play_order(self) -> list[PatientLine]:
        """Every spoken line, those the visit can reach soonest first (breadth-first from the first step
        along the default path and every branch): the order to render voices in so the first lines are
        ready first. Lines no path reaches (overrides jump to them) come last, in file order."""
        seen: set[str] = set()
        order: list[PatientLine] = []
        queue = [self.steps[0]] if self.steps else []
        while queue:
            step = queue.pop(0)
            if step.id in seen:
                continue
            seen.add(step.id)
            if isinstance(step, PatientLine):
                order.append(step)
            for nxt in self.targets(step):
                if nxt not in seen:
                    queue.append(self.step(nxt))
        return order + [line for line in self.patient_lines if line.id not in seen]

    @property
    def spoken_lines(self) -> list[PatientLine]:
        """Every line the patient side may say: the steps' lines and the silence checks."""
        extra = [*self.silence.checks, self.silence.give_up] if self.silence is not None else []
        return self.patient_lines + extra

    @property
    def cards(self) -> list[Card]:
        return [c for s in self.steps if isinstance(s, ClinicianTurn) for c in s.cards]

    def override(self, override_id: str) -> Override | None:
        return next((o for o in self.overrides if o.id == override_id), None)

    def rubric_for(self, behaviour: str) -> RubricItem | None:
        return next((r for r in self.rubric if r.behaviour == behaviour), None)

    def level_text(self, behaviour: str, level: str, lang: str | None = None) -> str:
        """A rating level as the form shows it: the rubric's French word (`rating_scale_fr`) in French, a
        word of the default scale translated by the catalogue, else the level as written. The stored level
        is always the scale's own (English) word."""
        from trainer.core.i18n import _, language

        if (lang or language()).startswith("fr"):
            item = self.rubric_for(behaviour)
            if item is not None and item.rating_scale and item.rating_scale_fr and level in item.rating_scale:
                return item.rating_scale_fr[item.rating_scale.index(level)]
        return _(level) if level in DEFAULT_RATING_SCALE else level


# -- conditions -------------------------------------------------------------------------------------

#: Leaf condition keys: (value kind, where allowed), from their one declaration in core.conditions (what
#: each measures: docs/scenarios.md). Where: "turn" = branches of clinician turns and decide steps;
#: "visit" = rubric evidence.
CONDITION_KEYS: dict[str, tuple[str, frozenset[str]]] = {k: (c.kind, c.scopes) for k, c in KEYS.items()}

#: Speaking rate used when a line has no rendered audio yet (words per second, calm conversational speech).
WORDS_PER_SECOND = 2.6


def estimated_line_duration(text: str) -> float:
    """Seconds a patient line takes when spoken at a calm conversational rate (min 1.5 s)."""
    words = len(text.split())
    return max(1.5, words / WORDS_PER_SECOND + 0.4)


# -- reading located YAML ---------------------------------------------------------------------------

class _Reader:
    """Typed access to located YAML with errors that carry positions."""

    def __init__(self, path: str):
        self.path = path

    def fail(self, pos: tuple[int, int], message: str) -> ScenarioError:
        return ScenarioError(self.path, message, line=pos[0], column=pos[1])

    def mapping(self, value: Any, pos: tuple[int, int], what: str) -> LDict:
        if not isinstance(value, LDict):
            raise self.fail(pos, f"{what} must be a mapping (key: value lines), got {_typename(type(value))}")
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

    def text(self, m: LDict, key: str, what: str, *, required: bool = True, default: str = "",
             nonempty: bool = True) -> str:
        value = self.get(m, key, str, what, required=required, default=None)
        if value is None:
            return default
        value = value.strip()
        if nonempty and not value:
            raise self.fail(m.where(key), f"{what}: '{key}' is empty")
        if len(value) > MAX_TEXT_CHARS:
            raise self.fail(m.where(key), f"{what}: '{key}' is {len(value):,} characters long; the limit is "
                                          f"{MAX_TEXT_CHARS:,} (split a long line into several steps)")
        return value

    def number(self, m: LDict, key: str, what: str, lo: float, hi: float, *, required: bool = False,
               default: float | None = None) -> float | None:
        value = self.get(m, key, (int, float), what, required=required, default=None)
        if value is None:
            return default
        if not math.isfinite(value) or not lo <= value <= hi:
            raise self.fail(m.where(key), f"{what}: '{key}' must be a number from {lo:g} to {hi:g}, got {value}")
        return float(value)

    def ident(self, m: LDict, key: str, what: str, *, required: bool = True) -> str | None:
        value = self.get(m, key, str, what, required=required, default=None)
        if value is None:
            return None
        if not _is_ident(value):
            raise self.fail(m.where(key), f"{what}: '{key}' must be a name of letters, digits, '_' or '-', "
                                          f"got '{value}'")
        return value

    def choice(self, m: LDict, key: str, what: str, choices: tuple[str, ...], *, default: str | None = None,
               required: bool = False) -> str | None:
        value = self.get(m, key, str, what, required=required, default=None)
        if value is None:
            return default
        norm = value.strip().lower().replace("-", "_").replace(" ", "_")
        if norm not in choices:
            raise self.fail(m.where(key), f"{what}: '{key}' must be one of {', '.join(choices)}; got '{value}'")
        return norm

    def names(self, m: LDict, key: str, what: str) -> tuple[tuple[str, tuple[int, int]], ...]:
        """A name or a list of names, each with its position."""
        if key not in m or m[key] is None:
            return ()
        value = m[key]
        if isinstance(value, str):
            items = [(value, m.where(key))]
        elif isinstance(value, LList):
            items = [(v, value.where(i)) for i, v in enumerate(value)]
        else:
            raise self.fail(m.where(key), f"{what}: '{key}' must be a name or a list of names")
        for v, pos in items:
            if not isinstance(v, str) or not _is_ident(v):
                raise self.fail(pos, f"{what}: '{key}' must list names (letters, digits, '_' or '-'), got {v!r}")
        return tuple(items)

    def no_unknown(self, m: LDict, allowed: set[str] | frozenset[str], what: str) -> None:
        for key in m:
            if key not in allowed:
                raise self.fail(m.where_key(key), f"{what}: unknown key '{key}' (expected one of: "
                                              f"{', '.join(sorted(allowed))})")


def _is_ident(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value) <= 80 and all(c.isalnum() or c in "_-" for c in value) \
        and value.isascii()


def _typename(typ: Any) -> str:
    names = {str: "text", int: "a whole number", float: "a number", bool: "true or false", LDict: "a mapping",
             LList: "a list", list: "a list", dict: "a mapping", type(None): "nothing"}
    import datetime

    # Never a Python class name in a message for scenario authors (YAML reads 2024-05-01 as a date).
    names.update({datetime.date: "a date", datetime.datetime: "a date and time", bytes: "binary data"})
    if isinstance(typ, tuple):
        return " or ".join(names.get(t, "another kind of value") for t in typ)
    return names.get(typ, "another kind of value")


_TOP_KEYS = {"id", "title", "summary", "behaviours", "expected_minutes", "difficulty", "patient", "setting",
             "caregiver", "overrides", "rubric", "steps", "silence", "title_fr", "summary_fr", "rating_scale"}
_SILENCE_KEYS = {"checks", "give_up", "emotion", "checks_fr", "give_up_fr"}
# Text a scenario may give in French too, as a sibling key with the suffix _fr (docs/scenarios.md).
FRENCH_SUFFIX = "_fr"
_TRANSLATED = {"Scenario": ("title", "summary"), "PatientLine": ("text",), "ClinicianTurn": ("prompt",),
               "Card": ("label", "detail"), "Override": ("label",)}
_PERSONA_KEYS = {"name", "age", "pronouns", "appearance", "voice"}
_CAREGIVER_KEYS = _PERSONA_KEYS | {"relation", "joins"}
_SETTING_KEYS = {"background", "connection_events"}
_CONNECTION_KEYS = {"at_step", "state", "duration_s"}
_COMMON_STEP_KEYS = {"id", "next", "end"}
_LINE_KEYS = _COMMON_STEP_KEYS | {"emotion", "cue", "audio", "video", "set", "patient_fr", "caregiver_fr"}
_CLINICIAN_KEYS = {"prompt", "timeout_s", "expect_s", "cards", "branches", "on_timeout", "prompt_fr"}
_CARD_KEYS = {"id", "label", "detail", "behaviours", "set", "label_fr", "detail_fr", "say"}
_BRANCH_KEYS = {"when", "next"}
_OVERRIDE_KEYS = {"id", "label", "goto", "label_fr"}
_RUBRIC_KEYS = {"counts", "evidence", "facilitator_rating", "rating_scale", "counts_fr", "rating_scale_fr"}
_STEP_KINDS = ("patient", "caregiver", "clinician", "decide", "event")


class _Parser:
    """One parse of one file. Collects references and checks them after all steps are read."""

    def __init__(self, text: str, path: str):
        self.r = _Reader(path)
        self.path = path
        self.text = text
        self.base = Path(path).parent if path and not path.startswith("<") else None
        # references to check once everything is known: (kind, name, pos, extra)
        self.refs: list[tuple[str, str, tuple[int, int], Any]] = []
        self.flags_set: set[str] = set()

    # -- persona and setting ------------------------------------------------------------------------
    def persona(self, pm: LDict, what: str, keys: set[str]) -> Persona:
        r = self.r
        r.no_unknown(pm, keys, what)
        age = r.get(pm, "age", int, what, required=False)
        if age is not None and not 0 <= age <= 120:
            raise r.fail(pm.where("age"), f"{what}: age must be from 0 to 120, got {age}")
        appearance: dict[str, Any] = {}
        if pm.get("appearance") is not None:
            am = r.mapping(pm["appearance"], pm.where("appearance"), f"{what}: appearance")
            r.no_unknown(am, set(APPEARANCE_CHOICES) | set(APPEARANCE_FLAGS), f"{what}: appearance")
            for key, choices in APPEARANCE_CHOICES.items():
                v = r.choice(am, key, f"{what}: appearance", choices)
                if v is not None:
                    appearance[key] = v
            for key in APPEARANCE_FLAGS:
                v = r.get(am, key, bool, f"{what}: appearance", required=False)
                if v is not None:
                    appearance[key] = v
        voice: dict[str, Any] = {}
        if pm.get("voice") is not None:
            vm = r.mapping(pm["voice"], pm.where("voice"), f"{what}: voice")
            r.no_unknown(vm, set(VOICE_RANGES), f"{what}: voice")
            for key, (lo, hi) in VOICE_RANGES.items():
                v = r.number(vm, key, f"{what}: voice", lo, hi)
                if v is not None:
                    voice[key] = v
        return Persona(name=r.text(pm, "name", what), age=age,
                       pronouns=r.text(pm, "pronouns", what, required=False, nonempty=False),
                       appearance=appearance, voice=voice,
                       relation=r.text(pm, "relation", what, required=False) if "relation" in keys else "")

    def setting(self, top: LDict) -> Setting:
        r = self.r
        if top.get("setting") is None:
            return Setting()
        sm = r.mapping(top["setting"], top.where("setting"), "setting")
        r.no_unknown(sm, _SETTING_KEYS, "setting")
        background = r.choice(sm, "background", "setting", BACKGROUNDS, default="living_room")
        events: list[ConnectionEvent] = []
        raw = r.get(sm, "connection_events", LList, "setting", required=False, default=LList())
        for i, item in enumerate(raw):
            what = f"setting: connection event {i + 1}"
            em = r.mapping(item, raw.where(i), what)
            r.no_unknown(em, _CONNECTION_KEYS, what)
            at = r.ident(em, "at_step", what)
            self.refs.append(("step", at, em.where("at_step"), None))
            if any(e.at_step == at for e in events):
                raise r.fail(em.where("at_step"), f"{what}: step '{at}' already has a connection event")
            events.append(ConnectionEvent(at, r.choice(em, "state", what, CONNECTION_STATES, required=True),
                                          r.number(em, "duration_s", what, 1.0, 60.0, required=True),
                                          raw.where(i)[0]))
        return Setting(background, tuple(events))

    # -- conditions ---------------------------------------------------------------------------------
    def condition(self, value: Any, pos: tuple[int, int], what: str, scope: str, turn: dict | None,
                  depth: int = 0) -> Condition:
        r = self.r
        if depth > 8:
            raise r.fail(pos, f"{what}: conditions nest too deeply (at most 8 levels)")
        cm = r.mapping(value, pos, what)
        if not cm:
            raise r.fail(pos, f"{what}: the condition is empty")
        parts: list[Condition] = []
        for key in cm:
            kpos = cm.where(key)
            v = cm[key]
            if key in ("any", "all"):
                if not isinstance(v, LList) or not v:
                    raise r.fail(kpos, f"{what}: '{key}' must be a non-empty list of conditions")
                subs = tuple(self.condition(item, v.where(i), what, scope, turn, depth + 1)
                             for i, item in enumerate(v))
                parts.append(Condition(key, args=subs, line=kpos[0]))
                continue
            if key == "not":
                parts.append(Condition("not", args=(self.condition(v, kpos, what, scope, turn, depth + 1),),
                                       line=kpos[0]))
                continue
            spec = CONDITION_KEYS.get(key)
            if spec is None:
                raise r.fail(cm.where_key(key), f"{what}: unknown condition '{key}' (expected any, all, not or one of: "
                                   f"{', '.join(k for k, s in CONDITION_KEYS.items() if scope in s[1])})")
            kind, scopes = spec
            if scope not in scopes:
                where = "clinician-turn or decide branches" if "turn" in scopes else "rubric evidence"
                raise r.fail(kpos, f"{what}: '{key}' can only be used in {where}")
            parts.append(Condition(key, self.condition_value(cm, key, kind, what, turn), line=kpos[0]))
        return parts[0] if len(parts) == 1 else Condition("all", args=tuple(parts), line=pos[0])

    def condition_value(self, cm: LDict, key: str, kind: str, what: str, turn: dict | None) -> Any:
        r = self.r
        if kind == "bool":
            return r.get(cm, key, bool, what)
        if kind == "ratio":
            return r.number(cm, key, what, 0.0, 1.0, required=True)
        if kind == "seconds":
            return r.number(cm, key, what, 0.0, 600.0, required=True)
        if kind == "count":
            v = r.get(cm, key, int, what)
            if v < 0:
                raise r.fail(cm.where(key), f"{what}: '{key}' must be 0 or more")
            return v
        names = r.names(cm, key, what)
        if not names:
            raise r.fail(cm.where(key), f"{what}: '{key}' needs a name")
        for name, npos in names:
            if kind == "action" and name not in ACTIONS:
                raise r.fail(npos, f"{what}: unknown call-window action '{name}' (expected one of: "
                                   f"{', '.join(ACTIONS)})")
            if kind == "card" and turn is not None and name not in turn["cards"]:
                raise r.fail(npos, f"{what}: card '{name}' is not one of this turn's cards "
                                   f"({', '.join(turn['cards']) or 'it has none'})")
            if kind in ("card", "flag", "step", "override"):
                self.refs.append((kind, name, npos, None))
        return tuple(n for n, _ in names)

    def branches(self, raw: Any, pos: tuple[int, int], what: str, turn: dict | None) -> tuple[Branch, ...]:
        r = self.r
        if not isinstance(raw, LList) or not raw:
            raise r.fail(pos, f"{what}: branches must be a non-empty list of 'when: ... next: step' items")
        out = []
        for i, item in enumerate(raw):
            bwhat = f"{what}: branch {i + 1}"
            bm = r.mapping(item, raw.where(i), bwhat)
            r.no_unknown(bm, _BRANCH_KEYS, bwhat)
            if bm.get("when") is None:
                raise r.fail(bm.pos, f"{bwhat}: missing required key 'when'")
            cond = self.condition(bm["when"], bm.where("when"), bwhat, "turn", turn)
            nxt = r.ident(bm, "next", bwhat)
            self.refs.append(("step", nxt, bm.where("next"), None))
            out.append(Branch(cond, nxt, raw.where(i)[0]))
        return tuple(out)

    # -- steps --------------------------------------------------------------------------------------
    def media(self, sm: LDict, key: str, what: str) -> str | None:
        r = self.r
        value = r.text(sm, key, what, required=False, default="")
        if not value:
            return None
        p = Path(value)
        if p.suffix.lower() not in MEDIA_SUFFIXES[key]:
            raise r.fail(sm.where(key), f"{what}: {key} must be a {'/'.join(MEDIA_SUFFIXES[key])} file, "
                                        f"got '{value}'")
        # Media must live in the scenario's own folder (its pack): a scenario file must not be able to
        # make the app open any file on the machine. Symlinks are resolved before the check.
        if p.is_absolute():
            raise r.fail(sm.where(key), f"{what}: {key} must be a path relative to the scenario's folder "
                                        f"(for example clips/{p.name}), got '{value}'")
        if self.base is None:
            raise r.fail(sm.where(key), f"{what}: a relative {key} path needs the scenario to be a file")
        folder = self.base.resolve()
        p = (self.base / p).resolve()
        if not p.is_relative_to(folder):
            raise r.fail(sm.where(key), f"{what}: {key} '{value}' is outside the scenario's folder {folder}; "
                                        f"keep media beside the scenario file (links are followed)")
        if not p.is_file():
            raise r.fail(sm.where(key), f"{what}: {key} file not found: {p}")
        return str(p)

    def french(self, m: LDict, what: str, pairs: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
        """The French texts of `pairs` ((yaml key, field name)): key_fr needs its English key."""
        out = []
        for key, name in pairs:
            fkey = key + FRENCH_SUFFIX
            if fkey in m and m[fkey] is not None:
                if key not in m:
                    raise self.r.fail(m.where_key(fkey), f"{what}: '{fkey}' without '{key}' (the English text)")
                out.append((name, self.r.text(m, fkey, what)))
        return tuple(out)

    def flags(self, m: LDict, key: str, what: str) -> tuple[str, ...]:
        names = tuple(n for n, _ in self.r.names(m, key, what))
        self.flags_set.update(names)
        return names

    def step(self, sm: LDict, i: int, pos: tuple[int, int]) -> Step:
        r = self.r
        step_id = r.ident(sm, "id", f"step {i + 1}")
        what = f"step '{step_id}'"
        kinds = [k for k in _STEP_KINDS if k in sm]
        if len(kinds) != 1:
            detail = "has none" if not kinds else f"has {' and '.join(kinds)}"
            raise r.fail(pos, f"{what}: a step needs exactly one of {', '.join(_STEP_KINDS)} ({detail})")
        kind = kinds[0]
        nxt = r.ident(sm, "next", what, required=False)
        end = r.get(sm, "end", bool, what, required=False, default=False)
        if nxt is not None and end:
            raise r.fail(sm.where("end"), f"{what}: has both 'next' and 'end: true'; choose one")
        if nxt is not None:
            self.refs.append(("step", nxt, sm.where("next"), None))
        if kind in ("patient", "caregiver"):
            r.no_unknown(sm, _LINE_KEYS | {kind}, what)
            text = r.text(sm, kind, what)
            if kind == "caregiver":
                self.refs.append(("caregiver", step_id, sm.where(kind), None))
            return PatientLine(step_id, text,
                               r.choice(sm, "emotion", what, EMOTIONS, default="neutral"),
                               r.get(sm, "cue", bool, what, required=False, default=False), nxt, end, pos[0],
                               speaker=kind, audio=self.media(sm, "audio", what), video=self.media(sm, "video", what),
                               set_flags=self.flags(sm, "set", what), fr=self.french(sm, what, ((kind, "text"),)))
        if kind == "clinician":
            r.no_unknown(sm, _COMMON_STEP_KEYS | {"clinician"}, what)
            cm = r.mapping(sm["clinician"], sm.where("clinician"), f"{what}: clinician")
            cwhat = f"{what}: clinician"
            r.no_unknown(cm, _CLINICIAN_KEYS, cwhat)
            timeout = r.number(cm, "timeout_s", cwhat, 1.0, 600.0, default=20.0)
            expect = r.number(cm, "expect_s", cwhat, 1.0, 600.0, default=min(DEFAULT_EXPECT_S, timeout + 30.0))
            cards = self.cards(cm, cwhat)
            turn = {"cards": [c.id for c in cards]}
            branches = self.branches(cm["branches"], cm.where("branches"), cwhat, turn) \
                if cm.get("branches") is not None else ()
            on_timeout = r.ident(cm, "on_timeout", cwhat, required=False)
            if on_timeout is not None:
                self.refs.append(("step", on_timeout, cm.where("on_timeout"), None))
            return ClinicianTurn(step_id, r.text(cm, "prompt", cwhat), timeout, nxt, end, pos[0], cards, branches,
                                 expect, on_timeout, fr=self.french(cm, cwhat, (("prompt", "prompt"),)))
        if kind == "decide":
            r.no_unknown(sm, _COMMON_STEP_KEYS | {"decide"}, what)
            return Decision(step_id, self.branches(sm["decide"], sm.where("decide"), what, None), nxt, end, pos[0])
        r.no_unknown(sm, _COMMON_STEP_KEYS | {"event"}, what)
        event = r.choice(sm, "event", what, EVENTS, required=True)
        self.refs.append(("caregiver", step_id, sm.where("event"), None))
        return EventStep(step_id, event, nxt, end, pos[0])

    def cards(self, cm: LDict, what: str) -> tuple[Card, ...]:
        r = self.r
        raw = r.get(cm, "cards", LList, what, required=False, default=LList())
        out: list[Card] = []
        for i, item in enumerate(raw):
            cwhat = f"{what}: card {i + 1}"
            m = r.mapping(item, raw.where(i), cwhat)
            r.no_unknown(m, _CARD_KEYS, cwhat)
            cid = r.ident(m, "id", cwhat)
            behaviours = r.names(m, "behaviours", cwhat)
            for b, bpos in behaviours:
                if b not in BEHAVIOURS:
                    raise r.fail(bpos, f"{cwhat}: unknown behaviour id '{b}' (expected one of: {', '.join(BEHAVIOURS)})")
            card = Card(cid, r.text(m, "label", cwhat), r.text(m, "detail", cwhat, required=False),
                        tuple(b for b, _ in behaviours), self.flags(m, "set", cwhat),
                        fr=self.french(m, cwhat, (("label", "label"), ("detail", "detail"))),
                        say=self.phrasings(m, cwhat))
            self.refs.append(("card-def", cid, m.where("id"), None))
            out.append(card)
        if len(out) == 1:
            raise r.fail(raw.pos, f"{what}: give at least two intent cards (or none): one card is no choice")
        return tuple(out)

    def phrasings(self, m: LDict, what: str) -> tuple[str, ...]:
        """`say:` example phrasings of a card: one text or a list of texts."""
        r = self.r
        if "say" not in m or m["say"] is None:
            return ()
        value = m["say"]
        items = [(value, m.where("say"))] if isinstance(value, str) else \
            [(v, value.where(i)) for i, v in enumerate(value)] if isinstance(value, LList) else None
        if items is None:
            raise r.fail(m.where("say"), f"{what}: 'say' must be a phrase or a list of phrases")
        for v, pos in items:
            if not isinstance(v, str) or not v.strip():
                raise r.fail(pos, f"{what}: 'say' must list phrases (non-empty texts), got {v!r}")
        return tuple(v.strip() for v, _ in items)

    # -- whole file ---------------------------------------------------------------------------------
    def parse(self) -> Scenario:
        r = self.r
        doc = load_located(self.text, self.path)
        top = r.mapping(doc, getattr(doc, "pos", (1, 1)), "the scenario file")
        r.no_unknown(top, _TOP_KEYS, "scenario")

        sid = r.ident(top, "id", "scenario")
        title = r.text(top, "title", "scenario")
        summary = r.text(top, "summary", "scenario", required=False)
        behaviours = r.names(top, "behaviours", "scenario")
        seen_b: set[str] = set()
        for b, bpos in behaviours:
            if b not in BEHAVIOURS:
                raise r.fail(bpos, f"unknown behaviour id '{b}' (expected one of: {', '.join(BEHAVIOURS)})")
            if b in seen_b:
                raise r.fail(bpos, f"behaviour '{b}' is listed twice")
            seen_b.add(b)
        minutes = r.number(top, "expected_minutes", "scenario", 1.0, 60.0, default=5.0)
        difficulty = r.choice(top, "difficulty", "scenario", DIFFICULTIES, default="introductory")

        persona = self.persona(r.mapping(r.get(top, "patient", LDict, "scenario"), top.where("patient"), "patient"),
                               "patient", _PERSONA_KEYS)
        setting = self.setting(top)
        caregiver = None
        if top.get("caregiver") is not None:
            gm = r.mapping(top["caregiver"], top.where("caregiver"), "caregiver")
            caregiver = Caregiver(self.persona(gm, "caregiver", _CAREGIVER_KEYS),
                                  r.choice(gm, "joins", "caregiver", CAREGIVER_JOINS, default="on_invite"))

        overrides = self.overrides(top)

        raw_steps = r.get(top, "steps", LList, "scenario")
        if not raw_steps:
            raise r.fail(top.where("steps"), "steps: the list is empty; a scenario needs at least one patient line")
        if len(raw_steps) > MAX_STEPS:
            raise r.fail(top.where("steps"), f"steps: {len(raw_steps):,} steps; the limit is {MAX_STEPS:,}")
        steps: list[Step] = []
        seen: dict[str, int] = {}
        for i, raw in enumerate(raw_steps):
            pos = raw_steps.where(i)
            sm = r.mapping(raw, pos, f"step {i + 1}")
            step = self.step(sm, i, pos)
            if step.id in seen:
                raise r.fail(sm.where("id"), f"step id '{step.id}' is already used on line {seen[step.id]}")
            seen[step.id] = pos[0]
            steps.append(step)

        rubric = self.rubric(top, tuple(b for b, _ in behaviours))
        scale = self.rating_scale(top, "scenario") or DEFAULT_RATING_SCALE
        scenario = Scenario(sid, title, summary, tuple(b for b, _ in behaviours), minutes, difficulty, persona,
                            tuple(steps), self.path, setting, caregiver, overrides, rubric, self.silence(top),
                            fr=self.french(top, "scenario", (("title", "title"), ("summary", "summary"))),
                            rating_scale=scale)
        self.check_references(scenario, top)
        self.check_graph(scenario, raw_steps)
        return scenario

    def silence(self, top: LDict) -> Silence:
        """The `silence:` block (or the default lines): what the patient says to a silent clinician."""
        r = self.r
        checks: tuple[str, ...] = DEFAULT_SILENCE_CHECKS
        give_up, emotion, line = DEFAULT_SILENCE_GIVE_UP, "confused", 0
        checks_fr: tuple[str, ...] = DEFAULT_SILENCE_CHECKS_FR
        give_up_fr = DEFAULT_SILENCE_GIVE_UP_FR
        if top.get("silence") is not None:
            m = r.mapping(top["silence"], top.where("silence"), "silence")
            r.no_unknown(m, _SILENCE_KEYS, "silence")
            line = m.pos[0]
            raw = r.get(m, "checks", LList, "silence", required=False, default=None)
            if raw is not None:
                if not raw or not all(isinstance(x, str) and x.strip() for x in raw):
                    raise r.fail(m.where("checks"), "silence: 'checks' must be a non-empty list of lines the "
                                                    "patient says")
                checks = tuple(x.strip() for x in raw)
                checks_fr = ()  # the defaults' French would not match the file's own lines
            raw_fr = r.get(m, "checks_fr", LList, "silence", required=False, default=None)
            if raw_fr is not None:
                if raw is None or len(raw_fr) != len(raw) or not all(isinstance(x, str) and x.strip() for x in raw_fr):
                    raise r.fail(m.where("checks_fr"), "silence: 'checks_fr' must give one French line for each "
                                                       "line of 'checks'")
                checks_fr = tuple(x.strip() for x in raw_fr)
            if "give_up" in m:
                give_up_fr = ""
            give_up = r.text(m, "give_up", "silence", required=False, default=give_up)
            give_up_fr = dict(self.french(m, "silence", (("give_up", "text"),))).get("text", give_up_fr)
            emotion = r.choice(m, "emotion", "silence", EMOTIONS, default=emotion)
        lines = tuple(PatientLine(f"~silence_{i + 1}", text, emotion, line=line,
                                  fr=(("text", checks_fr[i]),) if i < len(checks_fr) else ())
                      for i, text in enumerate(checks))
        return Silence(lines, PatientLine("~silence_give_up", give_up, emotion, end=True, line=line,
                                          fr=(("text", give_up_fr),) if give_up_fr else ()))

    def overrides(self, top: LDict) -> tuple[Override, ...]:
        r = self.r
        raw = r.get(top, "overrides", LList, "scenario", required=False, default=LList())
        out: list[Override] = []
        for i, item in enumerate(raw):
            what = f"override {i + 1}"
            m = r.mapping(item, raw.where(i), what)
            r.no_unknown(m, _OVERRIDE_KEYS, what)
            oid = r.ident(m, "id", what)
            if any(o.id == oid for o in out) or oid in BUILTIN_OVERRIDES:
                raise r.fail(m.where("id"), f"{what}: override id '{oid}' is already used")
            goto = r.ident(m, "goto", what, required=False)
            if goto is not None:
                self.refs.append(("step", goto, m.where("goto"), None))
            out.append(Override(oid, r.text(m, "label", what), goto, fr=self.french(m, what, (("label", "label"),))))
        return tuple(out)

    def rubric(self, top: LDict, behaviours: tuple[str, ...]) -> tuple[RubricItem, ...]:
        r = self.r
        if top.get("rubric") is None:
            if behaviours:
                raise r.fail(top.where("behaviours"), "scenario: targeted behaviours need a 'rubric' saying what "
                                                      "counts for each")
            return ()
        rm = r.mapping(top["rubric"], top.where("rubric"), "rubric")
        out: list[RubricItem] = []
        for key in rm:
            if key not in behaviours:
                raise r.fail(rm.where_key(key), f"rubric: '{key}' is not one of this scenario's behaviours "
                                            f"({', '.join(behaviours) or 'none listed'})")
            what = f"rubric: {key}"
            im = r.mapping(rm[key], rm.where(key), what)
            r.no_unknown(im, _RUBRIC_KEYS, what)
            raw = r.get(im, "evidence", LList, what, required=False, default=LList())
            evidence = tuple(self.condition(item, raw.where(i), f"{what}: evidence {i + 1}", "visit", None)
                             for i, item in enumerate(raw))
            rating = r.get(im, "facilitator_rating", bool, what, required=False, default=False)
            if not evidence and not rating:
                raise r.fail(rm.where(key), f"{what}: give evidence the app can check or facilitator_rating: true")
            scale = self.rating_scale(im, what)
            out.append(RubricItem(key, r.text(im, "counts", what), evidence, rating, scale,
                                  fr=self.french(im, what, (("counts", "counts"),)),
                                  rating_scale_fr=self.rating_scale_fr(im, what, scale)))
        for b in behaviours:
            if b not in rm:
                raise r.fail(top.where("rubric"), f"rubric: behaviour '{b}' is targeted but has no rubric entry")
        return tuple(out)

    def rating_scale(self, m: LDict, what: str) -> tuple[str, ...] | None:
        """An optional `rating_scale:` list: the levels a facilitator rates on, lowest first, distinct."""
        r = self.r
        raw = r.get(m, "rating_scale", LList, what, required=False, default=None)
        if raw is None:
            return None
        lo, hi = RATING_SCALE_LEVELS
        where = m.where("rating_scale")
        if not lo <= len(raw) <= hi:
            raise r.fail(where, f"{what}: 'rating_scale' needs {lo} to {hi} levels (lowest first), got {len(raw)}")
        levels = []
        for i, level in enumerate(raw):
            if not isinstance(level, (str, int)) or isinstance(level, bool) or not str(level).strip():
                raise r.fail(raw.where(i), f"{what}: rating_scale level {i + 1} must be a word or a number")
            text = str(level).strip()
            if len(text) > 60:
                raise r.fail(raw.where(i), f"{what}: rating_scale level {i + 1} is longer than 60 characters")
            if text.casefold() in (x.casefold() for x in levels):
                raise r.fail(raw.where(i), f"{what}: rating_scale level '{text}' is listed twice")
            levels.append(text)
        return tuple(levels)

    def rating_scale_fr(self, m: LDict, what: str, scale: tuple[str, ...] | None) -> tuple[str, ...] | None:
        """An optional `rating_scale_fr:` list: the French words of `rating_scale`, one for each level."""
        r = self.r
        raw = r.get(m, "rating_scale_fr", LList, what, required=False, default=None)
        if raw is None:
            return None
        if scale is None:
            raise r.fail(m.where_key("rating_scale_fr"), f"{what}: 'rating_scale_fr' without 'rating_scale'")
        if len(raw) != len(scale) or not all(isinstance(x, (str, int)) and str(x).strip() for x in raw):
            raise r.fail(m.where("rating_scale_fr"), f"{what}: 'rating_scale_fr' must give one French word for "
                                                    f"each of the {len(scale)} levels of 'rating_scale'")
        return tuple(str(x).strip() for x in raw)

    def check_references(self, s: Scenario, top: LDict) -> None:
        r = self.r
        ids = {st.id for st in s.steps}
        card_ids: dict[str, tuple[int, int]] = {}
        for kind, name, pos, _ in self.refs:
            if kind == "card-def":
                if name in card_ids:
                    raise r.fail(pos, f"card id '{name}' is already used on line {card_ids[name][0]}; card ids "
                                      f"must be unique in a scenario")
                card_ids[name] = pos
        override_ids = {o.id for o in s.overrides}
        for kind, name, pos, _ in self.refs:
            if kind == "step" and name not in ids:
                raise r.fail(pos, f"unknown step '{name}' (no step has this id)")
            if kind == "card" and name not in card_ids:
                raise r.fail(pos, f"unknown card '{name}' (no clinician turn offers it)")
            if kind == "flag" and name not in self.flags_set:
                raise r.fail(pos, f"flag '{name}' is never set (set it with 'set:' on a card or a line)")
            if kind == "override" and name not in override_ids:
                raise r.fail(pos, f"unknown override '{name}' (declare it under 'overrides:')")
            if kind == "caregiver" and s.caregiver is None:
                raise r.fail(pos, "this step needs a caregiver, but the scenario declares none ('caregiver:')")
        if not s.patient_lines or not any(ln.speaker == "patient" for ln in s.patient_lines):
            raise r.fail(top.where("steps"), "steps: a scenario needs at least one patient line")

    def check_graph(self, s: Scenario, raw_steps: LList) -> None:
        """Reachability, a way to the end from every step, and no loop of instant steps; linear in the
        number of steps and branches (the follow-on map is built once, not asked of the scenario per step,
        so a 5,000-step pack checks in well under a second)."""
        r = self.r
        steps = s.steps
        index = {st.id: i for i, st in enumerate(steps)}
        follow, ends = _follow_map(s, index)
        # Reachable from the first step, counting branch targets and override jumps.
        reachable = [False] * len(steps)
        todo = [0] + [index[o.goto] for o in s.overrides if o.goto]
        while todo:
            i = todo.pop()
            if reachable[i]:
                continue
            reachable[i] = True
            todo.extend(j for j in follow[i] if not reachable[j])
        for i, st in enumerate(steps):
            if not reachable[i]:
                raise r.fail(raw_steps.where(i), f"step '{st.id}' can never be reached from the first step")
        # From every step the visit must be able to end (no trap loops): walk back from the final steps.
        before: list[list[int]] = [[] for _ in steps]
        for i, out in enumerate(follow):
            for j in out:
                before[j].append(i)
        can_end = list(ends)
        todo = [i for i, e in enumerate(ends) if e]
        while todo:
            j = todo.pop()
            for i in before[j]:
                if not can_end[i]:
                    can_end[i] = True
                    todo.append(i)
        for i, st in enumerate(steps):
            if not can_end[i]:
                raise r.fail(raw_steps.where(i), f"step '{st.id}' leads only into a loop: the visit could never end")
        # Decide and event steps take no time: a loop made only of them would spin forever. One
        # depth-first pass over the instant steps finds such a loop (an edge back onto the current path).
        instant = [isinstance(st, (Decision, EventStep)) for st in steps]
        state = [0] * len(steps)  # 0 unseen, 1 on the current path, 2 done
        for root in range(len(steps)):
            if not instant[root] or state[root]:
                continue
            stack = [(root, iter(follow[root]))]
            state[root] = 1
            while stack:
                node, it = stack[-1]
                for j in it:
                    if not instant[j]:
                        continue
                    if state[j] == 1:
                        raise r.fail(raw_steps.where(j),
                                     f"step '{steps[j].id}' is in a loop of decide/event steps that takes no time")
                    if state[j] == 0:
                        state[j] = 1
                        stack.append((j, iter(follow[j])))
                        break
                else:
                    state[node] = 2
                    stack.pop()


def _follow_map(s: Scenario, index: dict[str, int]) -> tuple[list[list[int]], list[bool]]:
    """`Scenario.targets` for every step at once, as indexes, plus whether the visit may end after each
    step; built in one pass (`targets` looks the successor up by scanning the steps)."""
    follow: list[list[int]] = []
    ends: list[bool] = []
    steps = s.steps
    for i, st in enumerate(steps):
        out = [index[b.next] for b in getattr(st, "branches", ())]
        if getattr(st, "on_timeout", None):
            out.append(index[st.on_timeout])
        if st.end:
            succ = None
        elif st.next:
            succ = index[st.next]
        else:
            succ = i + 1 if i + 1 < len(steps) else None
        if succ is not None:
            out.append(succ)
        follow.append(out)
        ends.append(succ is None)
    return follow, ends


#: Overrides every scenario has: skip the current step; end the visit now.
BUILTIN_OVERRIDES: dict[str, str] = {"skip": "Skip to the next step", "end_visit": "End the visit now"}


def parse_scenario(text: str, path: str = "<scenario>") -> Scenario:
    """Parse and validate scenario YAML text; raises ScenarioError naming path:line:column."""
    # The cyclic garbage collector would rescan the tens of thousands of fresh nodes of a large pack
    # many times over (it doubled the time of a 5,000-step file); nothing built here is cyclic garbage.
    paused = gc.isenabled()
    gc.disable()
    try:
        return _Parser(text, path).parse()
    finally:
        if paused:
            gc.enable()


def load_scenario(path: str | Path) -> Scenario:
    """Load a scenario file; unreadable files and bad content raise ScenarioError naming the file."""
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ScenarioError(str(p), f"the file is {size / 1e6:.1f} MB; the limit for a scenario file is "
                                        f"{MAX_FILE_BYTES / 1e6:.0f} MB", line=1, column=1)
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(str(p), "file not found") from None
    except IsADirectoryError:
        raise ScenarioError(str(p), "is a folder, not a scenario file") from None
    except UnicodeDecodeError as exc:
        raise ScenarioError(str(p), f"not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise ScenarioError(str(p), f"cannot read the file: {exc.strerror or exc}") from None
    return parse_scenario(text, str(p))


def scenario_files(paths: list[str | Path]) -> list[Path]:
    """Expand files and folders into the scenario files to check (folders: their *.yaml / *.yml)."""
    out: list[Path] = []
    for item in paths:
        p = Path(item)
        if p.is_dir():
            out += sorted(p.glob("*.yaml")) + sorted(p.glob("*.yml"))
        else:
            out.append(p)
    return out


def _same_file(a: str, b: str) -> bool:
    try:
        return Path(a).resolve() == Path(b).resolve()
    except OSError:
        return a == b


def _duplicate_id_error(s: Scenario, other_path: str) -> ScenarioError:
    return ScenarioError(s.path, f"scenario id '{s.id}' is also used by {other_path}; ids must be unique across "
                                 "the built-in scenarios and every scenario pack, so this file is not offered",
                         line=1, column=1)


def validate_paths(paths: list[str | Path], against: list[Path] = ()) -> tuple[list[Scenario], list[ScenarioError]]:
    """Load every scenario file named (or found in the folders named); errors are collected, not raised.

    A folder with no scenario files is itself an error, so a typo in a path cannot pass silently. Ids must
    be unique among the files named and also against the scenarios in `against` (the built-in folder and
    the policy's packs: what the app would offer next to them)."""
    found: list[Scenario] = []
    errors: list[ScenarioError] = []
    for item in paths:
        p = Path(item)
        files = scenario_files([p])
        if p.is_dir() and not files:
            errors.append(ScenarioError(str(p), "the folder has no .yaml scenario files"))
        for f in files:
            try:
                found.append(load_scenario(f))
            except ScenarioError as exc:
                errors.append(exc)
    seen: dict[str, str] = {}
    for s in found:
        if s.id in seen and not _same_file(seen[s.id], s.path):
            errors.append(_duplicate_id_error(s, seen[s.id]))
        seen.setdefault(s.id, s.path)
    if against:
        offered, _ = discover_scenarios(list(against))
        for s in found:
            other = next((o for o in offered if o.id == s.id and not _same_file(o.path, s.path)), None)
            if other is not None and not any(e.path == s.path and "also used by" in e.detail for e in errors):
                errors.append(_duplicate_id_error(s, other.path))
    return found, errors


def discover_scenarios(folders: list[Path]) -> tuple[list[Scenario], list[ScenarioError]]:
    """Load every *.yaml scenario in the folders; broken files are returned as errors, not raised.

    A scenario whose id an earlier folder (the built-in one comes first) already uses is an error naming
    both files, and is left out: two entries with one id would mix their sessions and progress."""
    found: list[Scenario] = []
    errors: list[ScenarioError] = []
    seen: dict[str, str] = {}
    for folder in folders:
        if not folder.is_dir():
            continue
        for f in scenario_files([folder]):
            try:
                s = load_scenario(f)
            except ScenarioError as exc:
                errors.append(exc)
                continue
            if s.id in seen:
                if not _same_file(seen[s.id], s.path):
                    errors.append(_duplicate_id_error(s, seen[s.id]))
                continue
            seen[s.id] = s.path
            found.append(s)
    return found, errors


def estimate_minutes(scenario: Scenario, line_seconds=None) -> tuple[float, float]:
    """Shortest and longest length of a visit through the scenario, in minutes (over all loop-free paths).

    Patient lines take `line_seconds(line)` (default: estimated from the word count); clinician turns
    take their `expect_s`; connection events add their duration. Used to check that a scenario's stated
    length is plausible: a clinician who misses every opening may finish sooner than the stated length."""
    line_seconds = line_seconds or (lambda ln: estimated_line_duration(ln.text))
    index = {st.id: st for st in scenario.steps}
    delay = {e.at_step: e.duration_s for e in scenario.setting.connection_events}

    def cost(st: Step) -> float:
        c = delay.get(st.id, 0.0)
        if isinstance(st, PatientLine):
            c += line_seconds(st)
        elif isinstance(st, ClinicianTurn):
            c += st.expect_s
        return c

    best = [math.inf, 0.0]
    budget = [50_000]  # paths explored; scenario graphs are small, this only guards odd hand-made ones

    def walk(st: Step, total: float, on_path: set[str]) -> None:
        budget[0] -= 1
        if budget[0] < 0:
            return
        total += cost(st)
        targets = [t for t in dict.fromkeys(scenario.targets(st)) if t not in on_path]
        if scenario.successor(st) is None:
            best[0], best[1] = min(best[0], total), max(best[1], total)
        for t in targets:
            on_path.add(t)
            walk(index[t], total, on_path)
            on_path.discard(t)

    first = scenario.steps[0]
    walk(first, 0.0, {first.id})
    if best[0] == math.inf:
        best[0] = best[1]
    return best[0] / 60.0, best[1] / 60.0
