"""Speak freely: which of a clinician turn's intents (its cards) the clinician's words express.

A card's intent is described by example phrasings (`say:` in the scenario, docs/scenarios.md), the
example quoted in its `detail`, its label, and the behaviours it shows. The score of a card is the best
similarity between the words said and one of its phrasings (content words, light stemming, cosine of the
word sets), plus small agreements: the same sentence form as the phrasing (open/closed question or
statement) and the verbal labels the card's behaviours imply (trainer.core.verbal). The card is taken
only when its score reaches `MIN_SCORE` and beats the runner-up by `MIN_MARGIN`; otherwise recognition
is unsure and the cards stay the way to say what was meant. Transparent on purpose: the debrief can show
which phrasing matched.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from trainer.core.verbal import label_utterance, merge_labels, sentence_form

MIN_SCORE = 0.34
MIN_MARGIN = 0.08

_STOP = set("""a an the and or but so to of in on at for with from by about as is are was were be been being am
i you he she it we they me him her us them my your his its our their this that these those there here
do does did have has had will would can could shall should may might must just really very quite
okay ok well oh um uh er yes no not now then than too also again any some what how why when where
which who let let's i'm you're it's that's we'll i'll i'd you've i've don't""".split())

# Card behaviours (DESIGN.md section 1) that a verbal label shows, for the agreement bonus.
_BEHAVIOUR_LABEL = {"open_questions": "open", "probing_questions": "open", "small_talk": "small_talk",
                    "clear_doubts": "check", "set_expectations": "agenda",
                    "acknowledge_expressions": "empathy", "avoid_jargon": "no_jargon"}


def _stem(w: str) -> str:
    for suf in ("ing", "ed", "es", "s", "ly"):
        if len(w) > len(suf) + 3 and w.endswith(suf):
            return w[: -len(suf)]
    return w


def content_words(text: str) -> set[str]:
    """Lower-case stems of the words that carry meaning (function words dropped)."""
    words = re.findall(r"[a-z']+", text.lower().replace("\u2019", "'"))
    words = [w for w in words if w not in _STOP]
    words = [re.sub(r"'s$", "", w).strip("'") for w in words]  # "brother's" -> "brother"
    return {_stem(w) for w in words if len(w) > 1 and w not in _STOP}


def similarity(a: str, b: str) -> float:
    """Cosine similarity of the content-word sets of two texts (0..1)."""
    x, y = content_words(a), content_words(b)
    if not x or not y:
        return 0.0
    return len(x & y) / math.sqrt(len(x) * len(y))


def card_phrasings(card) -> list[str]:
    """The phrasings that describe a card: its `say` examples, a quote in its detail, its label."""
    out = list(getattr(card, "say", ()) or ())
    out += re.findall(r"['\u2018\"]([^'\u2019\"]{6,})['\u2019\"]", card.detail or "")
    out.append(card.label)
    return out


@dataclass(frozen=True)
class IntentMatch:
    """The recognised card (None when unsure), its score as the confidence, and why."""

    card: str | None
    confidence: float
    runner_up: float
    phrasing: str = ""
    scores: tuple[tuple[str, float], ...] = ()


def recognise_intent(text: str, cards, *, min_score: float = MIN_SCORE, min_margin: float = MIN_MARGIN,
                     patient_names=()) -> IntentMatch:
    """Which of `cards` (trainer.core.scenario.Card) the words `text` express."""
    if not text.strip() or not cards:
        return IntentMatch(None, 0.0, 0.0)
    labelled = label_utterance(text, patient_names)
    row = merge_labels(labelled) if labelled else {}
    forms = {lab.form for _, lab in labelled}
    scored = []
    for card in cards:
        best, best_p = 0.0, ""
        for p in card_phrasings(card):
            s = similarity(text, p)
            if s > 0 and sentence_form(p)[0] in forms:
                s += 0.05
            if s > best:
                best, best_p = s, p
        for b in getattr(card, "behaviours", ()):
            want = _BEHAVIOUR_LABEL.get(b)
            if want == "open" and row.get("open_questions"):
                best += 0.1
            elif want == "no_jargon" and row and not row.get("jargon"):
                best += 0.03
            elif want and row.get(want):
                best += 0.1
        scored.append((card.id, round(min(best, 1.0), 3), best_p))
    scored.sort(key=lambda x: -x[1])
    top, second = scored[0], (scored[1] if len(scored) > 1 else ("", 0.0, ""))
    ok = top[1] >= min_score and top[1] - second[1] >= min_margin
    return IntentMatch(top[0] if ok else None, top[1], second[1], top[2],
                       tuple((c, s) for c, s, _ in scored))
