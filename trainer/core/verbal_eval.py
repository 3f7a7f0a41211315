"""Scoring the verbal labeller against a labelled sentence set (tests and benchmarks share it).

Set format (tab-separated, header line): text, form (open/closed/statement), empathy (0/1), jargon
(unexplained terms, ';'-separated, empty for none), check, agenda, small_talk, name (0/1), patient
(the patient's full name).
"""

from __future__ import annotations

import csv
from pathlib import Path

from trainer.core.verbal import label_sentence

BINARY = ("empathy", "jargon", "check", "agenda", "small_talk", "name")
FORMS = ("open", "closed", "statement")


def load_set(path: str | Path) -> list[dict]:
    """Rows of a labelled set as dicts (binary labels as bool)."""
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    for r in rows:
        for k in BINARY:
            r[k] = bool(r[k].strip()) and r[k].strip() != "0"
    return rows


def _prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def evaluate(rows: list[dict]) -> dict:
    """form_macro_f1, form_f1 per class, binary {label: (precision, recall, F1, positives)}, errors."""
    errors = []
    conf = {(a, b): 0 for a in FORMS for b in FORMS}
    counts = {k: [0, 0, 0] for k in BINARY}
    for r in rows:
        lab = label_sentence(r["text"], (r["patient"],))
        conf[(r["form"], lab.form)] += 1
        wrong = []
        if r["form"] != lab.form:
            wrong.append(f"form {r['form']}->{lab.form}")
        for k in BINARY:
            got = bool(getattr(lab, k))
            if got and r[k]:
                counts[k][0] += 1
            elif got:
                counts[k][1] += 1
                wrong.append(f"+{k}({lab.why.get(k, '')})")
            elif r[k]:
                counts[k][2] += 1
                wrong.append(f"-{k}")
        if wrong:
            errors.append(f"{r['text']!r}: {', '.join(wrong)}")
    form_f1 = {}
    for c in FORMS:
        tp = conf[(c, c)]
        fp = sum(conf[(o, c)] for o in FORMS if o != c)
        fn = sum(conf[(c, o)] for o in FORMS if o != c)
        form_f1[c] = _prf(tp, fp, fn)[2]
    binary = {k: (*_prf(*v), v[0] + v[2]) for k, v in counts.items()}
    return {"form_macro_f1": sum(form_f1.values()) / len(FORMS), "form_f1": form_f1, "binary": binary,
            "errors": errors}
