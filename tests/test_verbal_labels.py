"""Verbal labels: the issue's targets on the labelled development set, the held-out set, and the
explanations the debrief shows."""

from pathlib import Path

import pytest

from trainer.core.verbal import find_jargon, label_sentence, label_utterance, merge_labels, split_sentences
from trainer.core.verbal_eval import evaluate, load_set

DATA = Path(__file__).parent / "data"


@pytest.mark.parametrize("name", ["verbal_dev.tsv", "verbal_heldout.tsv"])
def test_label_targets(name):
    rows = load_set(DATA / name)
    res = evaluate(rows)
    assert res["form_macro_f1"] >= 0.85, res["errors"]
    for key in ("empathy", "jargon", "check"):
        p, r, _f, n = res["binary"][key]
        assert n >= 5, f"{key}: too few positives in {name} to measure"
        assert p >= 0.8 and r >= 0.8, (key, p, r, res["errors"])


def test_dev_set_is_large_and_covers_every_label():
    rows = load_set(DATA / "verbal_dev.tsv")
    assert len(rows) >= 200
    assert {r["form"] for r in rows} == {"open", "closed", "statement"}
    for key in ("empathy", "jargon", "check", "agenda", "small_talk", "name"):
        assert sum(r[key] for r in rows) >= 15, key


def test_jargon_advice_and_explanations():
    hits = find_jargon("Your numbers suggest the hypertension is not controlled.")
    assert [h.advice() for h in hits] == ["'hypertension' - try 'high blood pressure'"]
    assert find_jargon("Hypertension, which means high blood pressure, has no symptoms.") == ()
    assert find_jargon("Your blood pressure is high, what doctors call hypertension.") == ()
    # the longer term wins over the one inside it, abbreviations only in capitals
    assert [h.term for h in find_jargon("It may be orthostatic hypotension.")] == ["orthostatic hypotension"]
    assert find_jargon("I bid you good day.") == ()
    assert [h.term for h in find_jargon("Take it BID.")] == ["BID"]


def test_labels_say_why():
    lab = label_sentence("Maria, that sounds exhausting.", ("Maria Lopez",))
    assert lab.form == "statement" and lab.empathy and lab.name
    assert "sounds exhausting" in lab.why["empathy"] and lab.why["name"] == "Maria"
    assert label_sentence("Sorry, you froze for a second.").empathy is False
    assert label_sentence("Can you tell me more about the pain?").form == "open"
    assert label_sentence("Do you wake up at night?").form == "closed"
    assert label_sentence("How are you feeling today").form == "open"  # speech-to-text without '?'


def test_utterance_rows_merge_sentences():
    text = "Good morning. How have you been? Your HbA1c is 6.2. Does that make sense?"
    assert len(split_sentences(text)) == 4
    row = merge_labels(label_utterance(text))
    assert row["open_questions"] == 1 and row["closed_questions"] == 1 and row["statements"] == 2
    assert row["small_talk"] == 1 and row["check"] == 1 and row["jargon"] == "HbA1c"
    assert "average blood sugar" in row["jargon_advice"]
