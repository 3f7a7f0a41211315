"""Verbal behaviours of one clinician sentence, by transparent rules (definitions: docs/verbal-labels.md).

Each label comes with the words that triggered it, so the debrief can say why ("'hypertension': try
'high blood pressure'"). Labels:

- `form`: `open` (invites the patient to tell in their own words: what/how/why questions, "tell me",
  "describe", "walk me through", "I wonder what..."), `closed` (answerable with yes/no, a choice or a
  fact: auxiliary-first questions, when/which/how many/how long, declarative questions), or
  `statement`.
- `empathy`: names or acknowledges the patient's feelings or experience, or appreciates them.
- `jargon`: medical terms from `JARGON` not explained in the same sentence (an explanation marker such as
  "which means", "what we call", an appositive, or the lay words themselves).
- `check`: checks the patient's understanding or invites questions (teach-back included).
- `agenda`: sets the visit's agenda, asks for the patient's, or states next steps after the visit
  (follow-up, referral, tests, what is sent, when to call).
- `small_talk`: greetings, farewells and social talk not about the health problem.
- `name`: uses the patient's name.

The rules were written against the development set in tests/data/verbal_dev.tsv and checked on
tests/data/verbal_heldout.tsv (figures in docs/verbal-labels.md). Pure Python: runs anywhere in core.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# -- jargon lexicon: term -> lay alternative the debrief suggests ------------------------------------
# Lower-case terms match case-insensitively as whole words; terms written in capitals (abbreviations)
# match only in capitals, so "bid" (an offer) or "ct" inside words never count.
JARGON: dict[str, str] = {
    "hypertension": "high blood pressure",
    "hypotension": "low blood pressure",
    "orthostatic hypotension": "blood pressure dropping when you stand up",
    "hyperlipidemia": "high cholesterol",
    "hyperglycemia": "high blood sugar",
    "hypoglycemia": "low blood sugar",
    "HbA1c": "average blood sugar over the last three months",
    "A1c": "average blood sugar over the last three months",
    "prediabetes": "blood sugar higher than normal, but not diabetes",
    "glycemic control": "keeping your blood sugar in a healthy range",
    "fasting glucose": "blood sugar before eating",
    "glucose": "blood sugar",
    "insomnia": "trouble sleeping",
    "photophobia": "light hurting your eyes",
    "migraine with aura": "migraine with warning signs such as flashing lights",
    "tension-type headache": "tension headache (a tight band around the head)",
    "prophylaxis": "medicine to prevent it",
    "prophylactic": "preventive",
    "rebound headache": "headaches caused by taking painkillers too often",
    "rebound headaches": "headaches caused by taking painkillers too often",
    "titrate": "adjust the dose step by step",
    "edema": "swelling",
    "oedema": "swelling",
    "peripheral edema": "swelling of the ankles and legs",
    "diuretic": "water tablet",
    "renal function": "how your kidneys are working",
    "renal": "kidney",
    "erythematous": "red",
    "erythema": "redness",
    "dermatitis": "skin irritation",
    "contact dermatitis": "skin reacting to something it touched",
    "topical": "put on the skin",
    "corticosteroid": "steroid",
    "pruritus": "itching",
    "lesion": "spot or patch",
    "sputum": "phlegm",
    "dyspnea": "shortness of breath",
    "dyspnoea": "shortness of breath",
    "on exertion": "when you are active",
    "COPD": "long-term lung condition that makes breathing hard",
    "exacerbation": "flare-up",
    "bronchodilator": "inhaler that opens your airways",
    "spirometry": "breathing test",
    "oxygen saturation": "oxygen level in your blood",
    "pulmonary rehabilitation": "breathing exercise programme",
    "pulmonary": "lung",
    "radiculopathy": "trapped nerve",
    "neuropathy": "nerve damage",
    "MRI": "scan",
    "CT": "scan",
    "NSAID": "anti-inflammatory painkiller such as ibuprofen",
    "NSAIDs": "anti-inflammatory painkillers such as ibuprofen",
    "benign": "harmless",
    "malignant": "cancerous",
    "metastasis": "spread of the cancer",
    "biopsy": "taking a small piece of tissue to test",
    "cellulitis": "skin infection",
    "febrile": "having a fever",
    "afebrile": "without a fever",
    "chronic": "long-lasting",
    "acute": "sudden",
    "adverse effects": "side effects",
    "adverse effect": "side effect",
    "contraindicated": "not safe to take with",
    "BID": "twice a day",
    "TID": "three times a day",
    "PRN": "when you need it",
    "PO": "by mouth",
    "BMI": "weight for your height",
    "lipid panel": "cholesterol blood test",
    "lipids": "cholesterol",
    "systolic": "top number",
    "diastolic": "bottom number",
    "neurology": "brain and nerve specialists",
    "syncope": "fainting",
    "anticoagulant": "blood thinner",
    "lumbar": "lower back",
    "lumbar spine": "lower back",
    "tachycardia": "fast heartbeat",
    "bradycardia": "slow heartbeat",
    "arrhythmia": "irregular heartbeat",
    "atrial fibrillation": "irregular heartbeat",
    "myocardial infarction": "heart attack",
    "ischemia": "reduced blood flow",
    "stenosis": "narrowing",
    "idiopathic": "of unknown cause",
    "prognosis": "what is likely to happen",
    "etiology": "cause",
    "asymptomatic": "without symptoms",
    "comorbidity": "other health condition",
    "comorbidities": "other health conditions",
    "analgesic": "painkiller",
    "analgesia": "pain relief",
    "ECG": "heart tracing",
    "EKG": "heart tracing",
    "eGFR": "kidney blood test",
    "creatinine": "kidney blood test",
    "CBC": "blood count",
    "GERD": "acid reflux",
    "dysphagia": "trouble swallowing",
    "dysuria": "pain when passing urine",
    "hematuria": "blood in the urine",
    "UTI": "bladder infection",
    "otitis media": "middle ear infection",
    "pharyngitis": "sore throat",
    "sinusitis": "sinus infection",
    "hypothyroidism": "underactive thyroid",
    "hyperthyroidism": "overactive thyroid",
    "osteoarthritis": "wear-and-tear arthritis",
    "osteoporosis": "thinning bones",
    "sedentary": "not very active",
    "contraindication": "reason not to use it",
}


def _term_pattern(term: str) -> re.Pattern:
    body = r"\s+".join(re.escape(w) for w in term.split())
    if any(c.isupper() for c in term):
        # as written or in capitals ("HbA1c" or "HBA1C", as speech-to-text may write it)
        body = f"(?:{body}|{re.escape(term.upper())})"
        return re.compile(rf"(?<![\w-]){body}(?![\w-])")
    return re.compile(rf"(?<![\w-]){body}(?![\w-])", re.IGNORECASE)


# Longest terms first, so "orthostatic hypotension" is found before (and instead of) "hypotension".
_TERMS = [(t, _term_pattern(t)) for t in sorted(JARGON, key=len, reverse=True)]

# An explanation in the same sentence: a marker near the term, or the lay words themselves.
_EXPLAIN = re.compile(
    r"\b(which|that)\s+(just\s+|simply\s+|basically\s+)?(means?|is|are)\b|\bmeaning\b|\bin other words\b|"
    r"\b(what|which)\s+(we|doctors|they)\s+call\b|\bcalled\b|\bthat's\b|\bthat is\b|\bi\.e\.|"
    r"\bwhere\s+(you|we|your|the)\b|\bthe one\s+(where|that)\b|\bthe kind that\b|[(\u2014]|\s-\s",
    re.IGNORECASE)


@dataclass(frozen=True)
class JargonHit:
    term: str
    lay: str

    def advice(self) -> str:
        return f"'{self.term}' - try '{self.lay}'"


@dataclass(frozen=True)
class VerbalLabels:
    """The labels of one sentence and, per label, the words that triggered it."""

    form: str  # open | closed | statement
    empathy: bool = False
    jargon: tuple[JargonHit, ...] = ()
    check: bool = False
    agenda: bool = False
    small_talk: bool = False
    name: bool = False
    why: dict = field(default_factory=dict, compare=False)

    def flags(self) -> tuple[str, ...]:
        """Names of the labels that are on, form included (e.g. ("open", "empathy"))."""
        out = [self.form]
        for k in LABEL_KEYS[1:]:
            if getattr(self, k):
                out.append(k)
        return tuple(out)


LABEL_KEYS = ("form", "empathy", "jargon", "check", "agenda", "small_talk", "name")


def _lay_present(lay: str, text: str) -> bool:
    words = [w for w in re.findall(r"[a-z]+", lay.lower()) if len(w) >= 3 and w not in _STOP]
    low = text.lower()
    return bool(words) and all(re.search(rf"\b{w}", low) for w in words)


_STOP = {"your", "that", "with", "such", "when", "than", "what", "over", "last", "three", "from", "about",
         "take", "have", "they", "this", "there", "ibuprofen"}


def find_jargon(text: str) -> tuple[JargonHit, ...]:
    """Lexicon terms in `text` that the same sentence does not explain."""
    hits: list[JargonHit] = []
    taken: list[tuple[int, int]] = []
    for term, pat in _TERMS:
        for m in pat.finditer(text):
            if any(m.start() < e and s < m.end() for s, e in taken):
                continue
            taken.append((m.start(), m.end()))
            lay = JARGON[term]
            if _explained(text, m.start(), m.end(), lay):
                continue
            hits.append(JargonHit(m.group(0), lay))
    return tuple(hits)


def _explained(text: str, start: int, end: int, lay: str) -> bool:
    if _EXPLAIN.search(text) or _lay_present(lay, text):
        return True
    # An appositive: "a lipid panel, a blood test for ..." or "the top number, the systolic, ...".
    after = text[end:end + 8].lower()
    before = text[max(0, start - 6):start].lower()
    if re.match(r",\s+(a|an|the|your)\s", after):
        return True
    return bool(re.search(r",\s+(the\s+)?$", before)) and after.startswith(",")


# -- sentence form -----------------------------------------------------------------------------------

_WH = {"what", "how", "why", "when", "where", "which", "who", "whose", "whom"}
_AUX = {"do", "does", "did", "is", "are", "was", "were", "have", "has", "had", "can", "could", "would",
        "will", "shall", "should", "may", "might", "any", "anything", "anyone", "am", "isn't", "aren't",
        "don't", "doesn't", "didn't", "haven't", "hasn't", "won't", "wouldn't", "couldn't", "can't",
        "is there", "are there"}
_ELABORATE = re.compile(
    r"\b(tell me|tell us|walk me through|talk me through|say more|in your own words|tell me back)\b|"
    r"\byou\s+(\w+\s+)?(describe|explain)\b", re.IGNORECASE)
_OPEN_START = re.compile(r"^(please\s+)?(tell me|describe|walk me through|talk me through|say more|"
                         r"help me understand)\b", re.IGNORECASE)
_WONDER = re.compile(r"\b(i'm curious|i am curious|i wonder|i'd like to hear|i would like to hear)\b\s*"
                     r"(about\s+)?(what|how|why|whether)?", re.IGNORECASE)
_CLOSED_WH = re.compile(
    r"\bhow\s+(many|much|long|often|old|far|soon|bad|severe)\b|"
    r"\bwhat\s+(colou?r|time|day|date|number|dose|size|year|month)\b|"
    r"\bwhat('s| is)\s+(his|her|your|their|its)\s+name\b", re.IGNORECASE)


def _clause_starts(text: str) -> list[str]:
    """Words that start the sentence or follow a comma/colon ("what's" counts as "what")."""
    return [m.group(1).lower().split("'")[0] for m in re.finditer(r"(?:^|[,;:]\s*)([A-Za-z']+)", text)]


def sentence_form(text: str) -> tuple[str, str]:
    """('open' | 'closed' | 'statement', the words that decided it)."""
    t = text.strip()
    m = _OPEN_START.search(t)
    if m:
        return "open", m.group(0)
    wonder = _WONDER.search(t)
    if wonder and wonder.group(3):
        return "open", wonder.group(0)
    starts = _clause_starts(t)
    if not t.endswith("?"):
        # Without a question mark only a wh-word at the very start makes a question ("How are you
        # feeling" from speech-to-text that dropped the "?"); "Have a good day." is not one.
        if not starts or starts[0] not in _WH or starts[0] in ("which",):
            return "statement", ""
        first = starts[0]
    else:
        first = next((w for w in starts if w in _WH or w in _AUX), None)
    if first in _WH:
        closed = _CLOSED_WH.search(t)
        if first in ("when", "where", "which", "who", "whose", "whom") or closed:
            return "closed", closed.group(0) if closed else first
        return "open", first
    ela = _ELABORATE.search(t)
    if ela:
        return "open", ela.group(0)
    return "closed", first or "?"


# -- empathy -------------------------------------------------------------------------------------------

_EMOTION = (r"(worr\w*|anxious|anxiety|scar\w*|frighten\w*|afraid|fear\w*|frustrat\w*|upset\w*|hard|difficult|"
            r"tough|exhaust\w*|tiring|tired|miserable|fed up|struggl\w*|stress\w*|overwhelm\w*|uncomfortable|"
            r"annoy\w*|rough|unhappy|happy|sad|lonely|angry|concern\w*|painful|cope|coping|a lot|"
            r"value|means to you|disappoint\w*|embarrass\w*|confus\w*)")
_EMPATHY = [re.compile(p, re.IGNORECASE) for p in (
    rf"\b(that|this|it)\s+(sounds|must be|must have been|seems)\s+(\w+\s+){{0,3}}{_EMOTION}",
    rf"\bsounds like\b.*\b{_EMOTION}\b",
    rf"\bmust (be|have been|feel)\s+(\w+\s+){{0,2}}{_EMOTION}",
    r"\bsorry\s+(to hear|you|that|these|this|about|your|for what)\b",
    rf"\bi\s+(can\s+)?(only\s+)?(see|hear|tell|understand|imagine|know|appreciate)\b.*\b{_EMOTION}\b",
    r"\bi\s+(can\s+)?(see|tell|understand|imagine)\s+(how much|why you)\b",
    r"\bi hear you\b",
    r"\bi\s+(really\s+)?appreciate\b",
    r"\bit's\s+(completely\s+|totally\s+|perfectly\s+|very\s+)?(understandable|natural|normal)\b",
    r"\b(it\s+)?makes\s+(total\s+|complete\s+|a lot of\s+)?sense\s+(that\s+you|you'd|you would|to feel)\b",
    r"\banyone would\b",
    r"\bevery right\b",
    r"\b(it's|that's)\s+a lot to (take in|deal with|cope with)\b",
    r"\bthat's a big change\b",
    r"\bthank(s| you) for\s+(sharing|telling|being|trusting|your (patience|honesty)|letting me know|"
    r"bringing|opening up)\b",
    r"\bwell done\b",
    r"\b(great|good|fantastic|brilliant)\s+(job|effort|work|questions|technique)\b",
    r"\byou've\s+(clearly\s+|really\s+)?(been|done)\s+(so\s+|really\s+)?(patient|brave|great|brilliant|"
    r"amazing|well|looking after)",
    r"\bworking (really |so )?hard\b",
    r"\bi'm glad you\b",
)]

# -- checking understanding / inviting questions -----------------------------------------------------------

_CHECK = [re.compile(p, re.IGNORECASE) for p in (
    r"\b(does|did)\s+(that|this|it|all that|that all|all of that|any of that)\s+(all\s+)?make sense\b",
    r"\bmake sense so far\b",
    r"\b(any|what|do you have any|have you got any|other)\s+(other\s+|more\s+)?questions\b",
    r"\byou('d| would)? (want|like) to ask\b",
    r"\b(is|was)\s+(that|this|it|any of (this|that)|anything|everything)\s+(\w+\s+)?(clear|unclear|confusing)\b",
    r"\bwhat's\s+(still\s+)?unclear\b|\bwhat is\s+(still\s+)?unclear\b",
    r"\b(explain|go over|go through)\s+(that|it|this|anything|any of that)?\s*again\b",
    r"\b(me|you)\s+to\s+(explain|go over)\b.*\bagain\b",
    r"\bin your own words\b", r"\btell me back\b",
    r"\b(tell|show) me\s+(back\s+)?(what|how) you('ll| will| are going to)\b",
    r"\bexplained (it|that|this|things)\s+(well|properly|clearly)\b", r"\bi('ve)? explained it\b",
    r"\bfeel free to ask\b", r"\bask me anything\b", r"\bstop me if\b",
    r"\bdoes that answer your question\b",
)]

# -- agenda and next steps ---------------------------------------------------------------------------------

_DAY = r"(monday|tuesday|wednesday|thursday|friday|saturday|sunday|tomorrow|tonight)"
_SPAN = r"((in|within)\s+(a|an|one|two|three|four|five|six|\d+|a few|a couple of)\s+(days?|weeks?|months?))"
_AGENDA = [re.compile(p, re.IGNORECASE) for p in (
    # this visit's agenda
    r"\btoday\s*,?\s*(i'd|i would|i want|we'll|we will|we're going to|let's)\b",
    r"\b(i'd|i would|i want to|let's)\s+(like to\s+)?(start|begin)\s+(with|by)\b",
    r"\b(want|like)\s+to\s+(spend|cover|use today|go over)\b",
    r"\b(use|spend)\s+(most of\s+)?today\b",
    r"\bleave (some )?time\b",
    r"\b(first|then)\s*,?\s+(we'll|we will|i'd|let's|we can)\b",
    r"\bwe have\s+(about\s+)?(two|three|four|a few|\d+|fifteen|twenty|ten)\s+(things|minutes|topics)\b",
    r"\b(things|topics)\s+to\s+cover\b", r"\bcover today\b", r"\bour list\b",
    r"\bwhat would you like to\s+(cover|talk about|discuss|make sure|focus on)\b",
    r"\bon (the|our) agenda\b",
    # next steps
    r"\bnext steps?\b", r"\b(do|happen|happens)\s+next\b",
    r"\bthe plan (is|for)\b", r"\bhere's\s+(the plan|what (i suggest|we'll|will happen))\b",
    r"\b(i'll|i will|we'll|we will|i'm going to|we're going to|i can|they'll|the \w+ will|\w+ will)\s+"
    r"(send|call|phone|ring|refer|book|arrange|order|see you|touch base|talk|speak|review|message|"
    r"follow up|put in|check (your|on|in|how)|visit|look at it)\b",
    r"\b(i'd|i would)\s+(also\s+)?like to\s+(refer|order|book|arrange|send)\b",
    r"\b(need|needs) to check\b",
    r"\breferral\b", r"\bfollow[- ]up\b", r"\b(next|follow[- ]up)\s+(appointment|visit|call)\b",
    r"\bcheck in again\b", r"\bin the meantime\b", r"\bemergency department\b", r"\bwhen to (call|come|go|ring|contact)\b",
    r"\brepeat\s+(the\s+)?(test|blood|scan)\b|\ba repeat test\b",
    rf"\b(will|'ll|going to|let's|shall)\b.*(\bon\s+{_DAY}|\bnext\s+({_DAY}|week|month)\b|\b{_SPAN}\b|\btomorrow\b)",
    r"\bif\b.*\b(call|message|contact|ring|phone|come in|go to|see you|let (me|us) know)\b",
    r"^(message|call|ring|phone)\s+(me|us)\b",
)]

# -- small talk ----------------------------------------------------------------------------------------------

_SMALL = [re.compile(p, re.IGNORECASE) for p in (
    r"^(and\s+)?(hi|hello|hey|good (morning|afternoon|evening)|morning|afternoon)\b", r"\bhello\b",
    r"\b(nice|lovely|good|great)\s+to\s+(see|meet|catch up|hear from)\b", r"\bhow (nice|lovely) to\b",
    r"\bthanks?( you)? for\s+(joining|making the time|coming|taking the time)\b",
    r"\bsorry (for|about) the (wait|delay)\b", r"\bit's been a while\b",
    r"\btake care\b", r"\benjoy (the|your)\b", r"\bhave a (good|great|nice|restful|lovely|safe)\b",
    r"\bgood luck\b", r"\bcongratulations\b", r"\bi hope (you|your|the rest)\b", r"\bsay hello to\b",
    r"\bstay warm\b", r"\bwork been treating\b", r"\bwhat are you up to\b",
    r"\b(weekend|holiday|holidays|vacation|trip|weather|snow\w*|rain\w*|storm|sunshine|sunny|garden|roses|"
    r"dog|cat|puppy|kitten|game|concert|football|soccer|coaching|the move)\b",
)]


def label_sentence(text: str, patient_names: tuple[str, ...] | list[str] = ()) -> VerbalLabels:
    """Labels of one clinician sentence. `patient_names`: the patient's names ("Maria Lopez" counts
    "Maria", "Lopez" and "Mrs Lopez")."""
    why: dict[str, str] = {}
    form, cue = sentence_form(text)
    if cue:
        why["form"] = cue
    out: dict = {"form": form}
    for key, pats in (("empathy", _EMPATHY), ("check", _CHECK), ("agenda", _AGENDA), ("small_talk", _SMALL)):
        for p in pats:
            m = p.search(text)
            if m:
                out[key] = True
                why[key] = m.group(0)
                break
    hits = find_jargon(text)
    if hits:
        out["jargon"] = hits
        why["jargon"] = "; ".join(h.advice() for h in hits)
    for full in patient_names:
        for part in full.split():
            if len(part) > 1 and re.search(rf"\b{re.escape(part)}\b", text):
                out["name"] = True
                why["name"] = part
                break
    return VerbalLabels(why=why, **out)


_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'])")


def split_sentences(text: str) -> list[str]:
    """Sentences of a transcript (on . ! ? followed by a capital)."""
    return [s.strip() for s in _SPLIT.split(text.strip()) if s.strip()]


def label_utterance(text: str, patient_names=()) -> list[tuple[str, VerbalLabels]]:
    """(sentence, labels) for each sentence of an utterance."""
    return [(s, label_sentence(s, patient_names)) for s in split_sentences(text)]


def merge_labels(labelled: list[tuple[str, VerbalLabels]]) -> dict:
    """One row of labels for a whole utterance (several sentences): form counts and any-of flags, the
    jargon terms and their advice. Keys as in utterances.csv."""
    forms = [lab.form for _, lab in labelled]
    row = {"open_questions": forms.count("open"), "closed_questions": forms.count("closed"),
           "statements": forms.count("statement")}
    for key in LABEL_KEYS[1:]:
        if key == "jargon":
            terms = [h for _, lab in labelled for h in lab.jargon]
            row["jargon"] = "; ".join(h.term for h in terms)
            row["jargon_advice"] = "; ".join(h.advice() for h in terms)
        else:
            row[key] = int(any(getattr(lab, key) for _, lab in labelled))
    return row
