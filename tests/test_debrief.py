"""The summary that teaches (core.debrief): plain words and m:ss, coverage and "not enough to judge",
reference bands, moments with times, kind suggestions tied to them, rubric ids replaced by labels."""

import re

from trainer.core.debrief import build_debrief, learner_texts

SNAKE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")


def _m(value, measured, base, shown=""):
    return {"value": value, "measured_s": measured, "base_s": base, "enough": value is not None, "shown": shown,
            "coverage": None if not base else measured / base}


def _visit():
    measures = {"talk_share": _m(0.74, 280, 300, "74 %"), "eye_contact": _m(0.41, 250, 300, "41 %"),
                "eye_contact_speaking": _m(0.2, 100, 110, "20 %"), "interruptions": _m(2.0, 280, 300, "2"),
                "longest_monologue_s": _m(72.4, 280, 300), "nods_per_min": _m(None, 3, 60),
                "cue_response": _m(0.5, 6, 6, "50 %"), "face_present": _m(0.97, 290, 300, "97 %")}
    events = [
        {"t": 10.0, "kind": "patient_line", "data": {"step": "hello", "text": "Hi doctor, thanks for calling.",
                                                     "name": "Maria Lopez", "speaker": "patient"}},
        {"t": 14.0, "kind": "patient_line_end", "data": {"step": "hello"}},
        {"t": 20.0, "kind": "clinician_turn", "data": {"step": "t1", "cards": [
            {"id": "acknowledge_worry", "label": "Acknowledge her worry", "detail": ""}]}},
        {"t": 60.0, "kind": "patient_line", "data": {"step": "sleep", "text": "I lie awake at night listening to "
                                                     "him breathe, just in case something happens.",
                                                     "name": "Maria Lopez", "cue": True}},
        {"t": 71.0, "kind": "patient_line_end", "data": {"step": "sleep"}},
        {"t": 200.0, "kind": "clinician_turn_end", "data": {"step": "t3", "talk_s": 72.4}},
        {"t": 240.0, "kind": "patient_line", "data": {"step": "fear", "text": "Is it serious?", "name": "Maria Lopez",
                                                      "cue": True}},
        {"t": 242.0, "kind": "patient_line_end", "data": {"step": "fear"}},
        {"t": 300.0, "kind": "visit_end", "data": {"reason": "completed", "rubric": [
            {"behaviour": "acknowledge_expressions", "status": "not_met", "evidence": [
                {"check": "card 'acknowledge_worry' chosen and answered aloud", "result": False}]}]}},
    ]
    summary = {"scenario_title": "Check-in", "duration_s": 300.4, "measures": measures, "notices": [],
               "talk": {"interruptions": [12.5, 130.0]},
               "cues": [{"t": 71.0, "responded": False}, {"t": 242.0, "responded": True, "kind": "nod"}]}
    return summary, events


def test_debrief_teaches_in_plain_words():
    d = build_debrief(*_visit(), status="completed")
    assert d["length"] == "5:00"
    shown = {m["label"]: m for m in d["measures"]}
    share = shown["Your share of the talk"]
    assert share["value"] == "74 %" and share["coverage"] == "measured over 4:40 of 5:00"
    assert share["band"]["verdict"] == "above" and "Ratanawongsa" in share["band"]["source"]
    assert shown["Your longest stretch of talk"]["value"] == "1:12"  # durations as m:ss
    nods = shown["Nods while the patient spoke"]
    assert nods["value"] == "not enough to judge" and nods["coverage"].startswith("only 0:03 of 1:00")
    assert "Singh Ospina" in shown["Times you started while the patient was talking"]["band"]["source"]
    kinds = [mo["kind"] for mo in d["moments"]]
    assert 3 <= len(d["moments"]) <= 5 and "missed cue" in kinds and "cue acknowledged" in kinds
    assert "talked over" in kinds and "long monologue" in kinds
    missed = next(mo for mo in d["moments"] if mo["kind"] == "missed cue")
    assert missed["time"] == "1:11" and "I lie awake at night" in missed["text"]
    assert [mo["t"] for mo in d["moments"]] == sorted(mo["t"] for mo in d["moments"])
    assert 1 <= len(d["try_next"]) <= 3 and "1:11" in d["try_next"][0]  # tied to the moment
    assert d["behaviours"][0]["checks"][0].startswith("card “Acknowledge her worry” chosen")
    for text in learner_texts(d):
        assert not SNAKE.search(text), text


def test_not_enough_coverage_hides_interruption_moments():
    summary, events = _visit()
    summary["measures"]["interruptions"] = _m(None, 5, 300)
    d = build_debrief(summary, events)
    assert "talked over" not in [mo["kind"] for mo in d["moments"]]
    assert next(m for m in d["measures"] if m["label"].startswith("Times you started"))["value"] == \
        "not enough to judge"


def _utterance(t, text, keep, **extra):
    from trainer.core.events import Utterance
    from trainer.core.verbal import label_utterance, merge_labels

    labels = merge_labels(label_utterance(text, ("Maria Lopez",))) if text else {}
    u = Utterance(t + 0.5, t - 2.0, t, text, labels, 0.9, keep, **extra)
    return {"t": u.t, "kind": "utterance", "data": u.stored_data()}


def test_what_was_said_is_shown_with_the_why_and_only_labels_without_permission():
    said = [(30.0, "Hello Maria, how have you been since we last spoke?"),
            (95.0, "Your hypertension is not under control yet."),
            (150.0, "That sounds really hard. Does that make sense so far?")]
    for keep in (True, False):
        summary, events = _visit()
        events = sorted(events + [_utterance(t, text, keep) for t, text in said]
                        + [_utterance(170.0, "", keep, transcribed=False)], key=lambda e: e["t"])
        d = build_debrief(summary, events)
        w = d["words"]
        counts = {c["label"].split(" (")[0]: c["value"] for c in w["counts"]}
        assert counts["Open questions"] == 1 and counts["Closed questions"] == 1
        assert counts["Times you acknowledged feelings"] == 1
        assert counts["Times you checked understanding or invited questions"] == 1
        assert counts["Times you used Maria Lopez's name"] == 1
        # Jargon with its lay alternative and why, also when the words themselves were not kept.
        assert [j["advice"] for j in w["jargon"]] == ["'hypertension' - try 'high blood pressure'"]
        assert "not explained in the same sentence" in w["jargon"][0]["why"] and "1:33" in w["jargon"][0]["why"]
        assert any("'hypertension' - try 'high blood pressure'" in t for t in d["try_next"]) or len(d["try_next"]) == 3
        assert any("not transcribed" in n for n in w["notes"])
        if keep:
            assert [u["text"] for u in w["said"]] == [t for _, t in said]
            assert "open question" in w["said"][0]["labels"] and "used the patient's name" in w["said"][0]["labels"]
        else:
            assert w["said"] == [] and any("not stored" in n for n in w["notes"])
            assert not any("hypertension is not" in s for s in learner_texts(d))  # no words leak through
        assert not [s for s in learner_texts(d) if SNAKE.search(s)]


def test_repeated_notices_are_shown_once_with_their_times():
    """A microphone that went silent nine times gives two summary lines (silent, back), each with how many
    times and when, not eighteen; notices of other kinds keep their own line, in order of first showing."""
    from trainer.core.debrief import condensed_notices

    events = [{"t": 1.0, "kind": "notice", "data": {"code": "camera_ended", "message": "No camera signal since 0:01."}}]
    for k in range(9):
        t = 6.0 + 20 * k
        events.append({"t": t, "kind": "notice", "data": {"code": "mic_silent", "message": f"Silent since {t:.0f}."}})
        events.append({"t": t + 7, "kind": "notice", "data": {"code": "mic_restored", "message": f"Back at {t + 7:.0f}."}})
    events.append({"t": 3.0, "kind": "patient_line", "data": {}})
    lines = condensed_notices(events, fallback=["unused"])
    assert lines[0] == "No camera signal since 0:01."
    assert lines[1] == "Silent since 6. (9 times in all: 0:06, 0:26, 0:46, 1:06, 1:26, 1:46, …)"
    assert lines[2].startswith("Back at 13. (9 times in all: 0:13,") and len(lines) == 3
    assert condensed_notices([{"t": 0.0, "kind": "patient_line", "data": {}}], fallback=["a", "b"]) == ["a", "b"]
