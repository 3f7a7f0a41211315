"""The condition keys of the scenario format, each declared once: what its value is, where it may be
used, how it is evaluated and how it is described to the learner (docs/scenarios.md lists them).

The scenario loader (core.scenario) validates against `KEYS`; the engine (core.engine) evaluates with
`evaluate_leaf`, passing itself as the `VisitContext`; the debrief describes with `describe`. Measured
keys take their number from core.measures, so a rubric verdict quotes the summary's number.

Value kinds: card / action / flag / step / override (a name or list of names), bool, ratio (0..1),
seconds (>= 0), count (whole number >= 0). Scopes: "turn" (branches of clinician turns and decide
steps) and "visit" (rubric evidence).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from trainer.core.i18n import N_, _, percent, seconds
from trainer.core.measures import MEASURES, Measured


class VisitContext(Protocol):
    """What a condition can look at (implemented by core.engine.ScenarioEngine)."""

    cards_chosen: dict[str, str]
    actions: list[tuple[float, str]]
    flags: set[str]
    reached: set[str]
    overrides_given: list[str]
    caregiver_present: bool

    def visit_measure(self, mid: str) -> Measured: ...

    def turn_measure(self, turn: Any, name: str) -> Measured | None: ...


@dataclass(frozen=True)
class ConditionKey:
    """One leaf key. `evaluate(ctx, value, scope, turn)` -> True / False / None (cannot be measured).
    `measure` names the core.measures id (or turn figure) a verdict quotes; `describe(value)` words it."""

    key: str
    kind: str
    scopes: frozenset[str]
    describe: Callable[[Any], str]
    evaluate: Callable[[VisitContext, Any, str, Any], bool | None]
    measure: str | None = None


def _names(v) -> str:
    return f" {_('or')} ".join(f"'{x}'" for x in v) if isinstance(v, (tuple, list)) else str(v)


_BOTH = frozenset({"turn", "visit"})
_TURN = frozenset({"turn"})
_VISIT = frozenset({"visit"})


def _card(ctx, v, scope, turn):
    # A card counts only when it was credited: the clinician spoke long enough after picking it.
    if scope == "turn":
        return turn is not None and turn.credited_card in v
    return any(c in ctx.cards_chosen for c in v)


def _interrupted(ctx, v, scope, turn):
    if scope == "visit":
        m = ctx.visit_measure("interruptions")
        return None if m.value is None else (m.value > 0) == v
    return None if turn is None or turn.interrupted is None else turn.interrupted == v


_PLAIN: tuple[ConditionKey, ...] = (
    ConditionKey("card", "card", _BOTH, lambda v: _("card {names} chosen and answered aloud").format(names=_names(v)), _card),
    ConditionKey("action", "action", _BOTH, lambda v: _("call action {names} used").format(names=_names(v)),
                 lambda ctx, v, s, t: any(a in {x for _, x in ctx.actions} for a in v)),
    ConditionKey("action_in_turn", "action", _TURN, lambda v: _("call action {names} used in the turn").format(names=_names(v)),
                 lambda ctx, v, s, t: t is not None and any(a in t.actions for a in v)),
    ConditionKey("flag", "flag", _BOTH, lambda v: _("{names} happened").format(names=_names(v)),
                 lambda ctx, v, s, t: any(f in ctx.flags for f in v)),
    ConditionKey("reached", "step", _BOTH, lambda v: _("the visit reached {names}").format(names=_names(v)),
                 lambda ctx, v, s, t: any(x in ctx.reached for x in v)),
    ConditionKey("override", "override", _BOTH, lambda v: _("facilitator override {names}").format(names=_names(v)),
                 lambda ctx, v, s, t: any(o in ctx.overrides_given for o in v)),
    ConditionKey("caregiver_present", "bool", _BOTH,
                 lambda v: _("caregiver in the call") if v else _("caregiver not in the call"),
                 lambda ctx, v, s, t: ctx.caregiver_present == v),
    ConditionKey("timed_out", "bool", _TURN, lambda v: _("the turn timed out") if v else _("the clinician answered"),
                 lambda ctx, v, s, t: None if t is None else t.timed_out == v),
    ConditionKey("interrupted", "bool", _BOTH, lambda v: _("the clinician interrupted") if v else _("no interruptions"),
                 _interrupted, "interruptions"),
    ConditionKey("interruptions_at_most", "count", _VISIT, lambda v: _("at most {n} interruption(s)").format(n=v),
                 lambda ctx, v, s, t: (lambda m: None if m.value is None else m.value <= v)(
                     ctx.visit_measure("interruptions")), "interruptions"),
    ConditionKey("face_responded", "bool", _TURN,
                 lambda v: _("face responded to the cue") if v else _("no visible face response to the cue"),
                 lambda ctx, v, s, t: None if t is None or t.face_responded is None else t.face_responded == v),
)

#: Measured keys: name -> (scopes, label, the measure quoted at visit scope, turn-level in a turn).
#: `<name>_at_least` / `<name>_below` compare the number; unknown (not enough to judge) never holds.
_MEASURED: dict[str, tuple[frozenset[str], str, str, bool]] = {
    "wait_s": (_TURN, N_("wait before speaking"), "", True),
    "talk_s": (_TURN, N_("talk in the turn"), "clinician_talk_s", True),
    "talk_share": (_BOTH, N_("clinician share of talk"), "talk_share", False),
    "eye_contact": (_BOTH, N_("eye contact while speaking"), "eye_contact_speaking", True),
    "face_present": (_BOTH, N_("face in view"), "face_present", False),
    "cue_response": (_VISIT, N_("face responses to cues"), "cue_response", False),
    "cue_wait_s": (_VISIT, N_("shortest wait after a cue"), "cue_wait_s", False),
}
#: Which suffixes each measured name has (the format's long-standing set).
_SUFFIXES = {"wait_s": ("_at_least", "_below"), "talk_s": ("_at_least", "_below"),
             "talk_share": ("_at_least", "_below"), "eye_contact": ("_at_least", "_below"),
             "face_present": ("_at_least",), "cue_response": ("_at_least",), "cue_wait_s": ("_at_least",)}


def measured_for(ctx: VisitContext, name: str, scope: str, turn) -> Measured | None:
    """The Measured a measured key compares: turn-level names use the turn in turn/decide scope."""
    scopes, _label, mid, turn_level = _MEASURED[name]
    if turn_level and scope != "visit":
        return None if turn is None else ctx.turn_measure(turn, name)
    return ctx.visit_measure(mid)


def _measured_key(name: str, suffix: str) -> ConditionKey:
    scopes, label, mid, _turn_level = _MEASURED[name]
    sym = "≥" if suffix == "_at_least" else "<"

    def describe(v, _label=label, _name=name):
        shown = seconds(v, None) if _name.endswith("_s") else percent(v)
        return f"{_(_label)} {sym} {shown}"

    def evaluate(ctx, v, scope, turn, _name=name):
        m = measured_for(ctx, _name, scope, turn)
        if m is None or m.value is None:
            return None
        # Compared at the precision the learner reads it ("1.5 s", "40 %"), so a verdict never
        # contradicts the number quoted beside it.
        x = round(m.value, 1) if _name.endswith("_s") else round(m.value, 2)
        return x >= v - 1e-9 if suffix == "_at_least" else x < v - 1e-9

    return ConditionKey(name + suffix, "seconds" if name.endswith("_s") else "ratio", scopes, describe, evaluate,
                        mid or None)


KEYS: dict[str, ConditionKey] = {k.key: k for k in _PLAIN}
KEYS.update({name + sfx: _measured_key(name, sfx) for name, sfxs in _SUFFIXES.items() for sfx in sfxs})


def evaluate_leaf(ctx: VisitContext, key: str, value: Any, scope: str, turn) -> bool | None:
    """Evaluate one leaf condition (three-valued: None = cannot be measured)."""
    spec = KEYS.get(key)
    if spec is None:
        raise ValueError(f"unknown condition key '{key}'")  # the loader rejects these; a bug if reached
    return spec.evaluate(ctx, value, scope, turn)


def describe(cond) -> str:
    """Plain words for a condition, in the language in use, for the debrief: a core.scenario.Condition
    (op/value/args) or its stored form (`condition_data`)."""
    if isinstance(cond, dict):
        op, value, args = cond.get("op", ""), cond.get("value"), cond.get("args") or ()
    else:
        op, value, args = cond.op, cond.value, cond.args
    if op in ("all", "any"):
        joiner = " " + (_("and") if op == "all" else _("or")) + " "
        return "(" + joiner.join(describe(a) for a in args) + ")"
    if op == "not":
        return _("not {condition}").format(condition=describe(args[0]))
    spec = KEYS.get(op)
    return spec.describe(value) if spec is not None else op


def condition_data(cond) -> dict:
    """A condition as language-neutral JSON ({op, value} or {op, args}): rubric evidence stores this beside
    its wording, so a summary read later is worded in the reader's language (`describe` takes it)."""
    if cond.op in ("all", "any", "not"):
        return {"op": cond.op, "args": [condition_data(a) for a in cond.args]}
    value = cond.value
    return {"op": cond.op, "value": list(value) if isinstance(value, tuple) else value}


def quoted_measures(cond) -> list[str]:
    """The core.measures ids a condition's verdict quotes (visit scope), in order, without repeats."""
    out: list[str] = []
    for leaf in cond.leaves():
        spec = KEYS.get(leaf.op)
        if spec is not None and spec.measure and spec.measure in MEASURES and spec.measure not in out:
            out.append(spec.measure)
    return out
