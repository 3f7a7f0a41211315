"""The summary that teaches: what a learner reads after a visit, in plain words (issue 10).

`build_debrief(summary, events, status)` turns a stored session (the numbers of core.measures in
`summary["measures"]`, the talk-time and cue details, and the scenario events) into a JSON-ready dict:

  - `measures`: each measure with its plain label, the shown value, its coverage ("measured over 4:12 of
    5:00") or "not enough to judge", and, where published figures exist, a reference band with its source
    (REFERENCE_BANDS; the studies are named in docs/debrief.md);
  - `moments`: the three to five most instructive moments with their times (m:ss): a missed emotional
    cue, talking over the patient, a long monologue, a cue well acknowledged, each with one sentence;
  - `try_next`: one to three kind, concrete suggestions tied to those moments;
  - `behaviours`: the scenario's rubric in plain words;
  - `facilitator` (added by the store, `facilitator_part`): the facilitators' notes and ratings, shown beside
    the measures and never mixed into them;
  - `words`: what the clinician said, from the stored `utterance` events (speech-to-text, verbal labels of
    core.verbal): counts of open/closed questions and the other labels, each jargon term with its lay
    alternative and why it was flagged, and, only when the words were stored (site policy
    `allow_transcripts`), each utterance with its labels; None when nothing was transcribed.

No number is computed here: every value comes from core.measures (via the stored summary) or from the
engine's own events; this module only chooses, orders and words them. The same dict is shown by the
app's summary page and written to summary.json, so reports can use it too. Pure Python (core layer).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from trainer.core.conditions import describe
from trainer.core.i18n import N_, _, number, seconds, wording
from trainer.core.measures import MEASURES, shown_text
from trainer.core.scenario import BEHAVIOURS, GLOBAL_RATING
from trainer.core.visit_state import clock_text

#: A clinician turn at least this long is a "long monologue" moment (a minute of uninterrupted
#: explanation is where primary-care patients stop following; docs/debrief.md).
LONG_TURN_S = 45.0
MAX_MOMENTS = 5


@dataclass(frozen=True)
class Band:
    """A published reference range for a measure (values in the measure's own unit)."""

    low: float | None
    high: float | None
    text: str
    source: str


REFERENCE_BANDS: dict[str, Band] = {
    "talk_share": Band(0.55, 0.65, N_("In primary-care visits clinicians typically talk 55-65 % of the time."),
                       "Ratanawongsa et al. 2012"),
    "cue_response": Band(0.10, 0.38, N_("Published visit studies find empathic responses to 10-38 % of patients' "
                                        "emotional cues."), "Morse et al. 2008; Levinson et al. 2000"),
    "interruptions": Band(None, None, N_("Patients' uninterrupted opening statements last a median of 11 s before "
                                         "the clinician redirects them."), "Singh Ospina et al. 2019"),
}

#: The measures shown, in order, with the learner's wording (core.measures keeps the definitions).
SHOWN: tuple[tuple[str, str], ...] = (
    ("talk_share", N_("Your share of the talk")),
    ("eye_contact", N_("Eye contact (looking into the camera)")),
    ("eye_contact_speaking", N_("Eye contact while you spoke")),
    ("eye_contact_listening", N_("Eye contact while you listened")),
    ("cue_response", N_("Emotional moments your face responded to")),
    ("interruptions", N_("Times you started while the patient was talking")),
    ("longest_monologue_s", N_("Your longest stretch of talk")),
    ("response_latency_s", N_("Typical pause before you answered")),
    ("nods_per_min", N_("Nods while the patient spoke")),
    ("face_present", N_("Your face in view of the camera")),
)

# Learner wording is translated when the debrief is built (trainer.core.i18n: the app's language; English
# for the command line and summary.json unless a language was set).
_STATUS = {"completed": N_("You completed the visit."),
           "ended_early": N_("You ended the call before the visit's end; this covers what happened until then."),
           "interrupted": N_("This session was interrupted (the app closed before the visit ended).")}
_RUBRIC = {"met": N_("shown"), "not_met": N_("not shown this time"), "unknown": N_("could not be measured"),
           "needs_rating": N_("for your facilitator to rate"),
           "met_pending_rating": N_("shown (facilitator to confirm)")}
_SNAKE = re.compile(r"'([a-z][a-z0-9]*(?:_[a-z0-9]+)+)'|\b([a-z][a-z0-9]*(?:_[a-z0-9]+)+)\b")


def value_text(mid: str, m: dict | None) -> str:
    """A measure's value as the learner reads it: durations as m:ss, "not enough to judge", "not measured"."""
    v = (m or {}).get("value")
    if v is None:
        return shown_text(mid, m)
    unit = MEASURES[mid].unit
    if unit == "seconds":
        return clock_text(v) if v >= 10 else seconds(v)
    if unit == "count":
        return _("none") if v == 0 else f"{v:.0f}"
    return MEASURES[mid].show(v)


def coverage_text(m: dict | None) -> str:
    """How much of what a measure is about was measured, in plain words."""
    if not m or not m.get("base_s"):
        return ""
    measured, base = m.get("measured_s") or 0.0, m["base_s"]
    if m.get("value") is None and measured > 0:
        return _("only {measured} of {base} could be measured").format(measured=clock_text(measured),
                                                                      base=clock_text(base))
    return _("measured over {measured} of {base}").format(measured=clock_text(measured), base=clock_text(base))


def band_verdict(mid: str, m: dict | None) -> str | None:
    """"within" / "above" / "below" the reference band, or None (no band, or no value)."""
    band = REFERENCE_BANDS.get(mid)
    v = (m or {}).get("value")
    if band is None or v is None or band.low is None:
        return None
    if v < band.low - 1e-9:
        return "below"
    if v > band.high + 1e-9:
        return "above"
    return "within"


def plain(text: str, names: dict[str, str]) -> str:
    """Replace internal ids ('av_checked', sees_chart) in a sentence with their labels from the visit
    (card labels, action names), or with spaced words when the visit gives no label."""
    def repl(mt):
        key = mt.group(1) or mt.group(2)
        label = names.get(key) or key.replace("_", " ")
        return _("“{label}”").format(label=label) if mt.group(1) else label
    return _SNAKE.sub(repl, text)


def _names(events: list[dict]) -> dict[str, str]:
    names = {"share_screen": _("Share screen"), "stop_share": _("Stop sharing"), "invite_caregiver": _("Invite caregiver")}
    for e in events:
        d = e.get("data") or {}
        if e["kind"] == "clinician_turn":
            for c in d.get("cards") or ():
                names[c["id"]] = localized_card(c)
                for flag in c.get("sets") or ():  # a flag reads as the card that sets it
                    names.setdefault(flag, localized_card(c))
    return names


def scenario_names(scenario) -> dict[str, str]:
    """Labels for a scenario's internal ids, in the app's language: each card's label, and each flag a card
    sets named by that card (a summary then never shows 'small_talk_done', even for a turn never reached)."""
    from trainer.core.i18n import localized
    from trainer.core.scenario import ClinicianTurn

    names: dict[str, str] = {}
    for step in getattr(scenario, "steps", ()) or ():
        if isinstance(step, ClinicianTurn):
            for card in step.cards:
                names[card.id] = localized(card, "label")
                for flag in card.set_flags:
                    names.setdefault(flag, names[card.id])
    return names


def scenario_lines(scenario) -> dict[str, str]:
    """The patient's lines of a scenario by step id, in the app's language (silence checks included)."""
    from trainer.core.i18n import localized

    if scenario is None:
        return {}
    silence = getattr(scenario, "silence", None)
    extra = (*silence.checks, silence.give_up) if silence is not None else ()
    return {x.id: localized(x, "text") for x in (*scenario.steps, *extra) if getattr(x, "text", None)}


def build_debrief(summary: dict, events: list[dict], status: str = "completed", title: str = "",
                  rubric: list[dict] | None = None, scenario=None) -> dict:
    """The teaching summary of one stored visit (module docstring). `summary`: SessionSummary as a dict
    (measures, talk, cues, duration_s); `events`: the stored events ({t, kind, data}) in time order;
    `rubric`: the final rubric report (default: the one sent with visit_end); `scenario`: the scenario played,
    when known, for the labels of its cards and flags (scenario_names)."""
    m = summary.get("measures") or {}
    names = {**_names(events), **scenario_names(scenario)}
    patient = next((e["data"].get("name") for e in events if e["kind"] == "patient_line"
                    and e["data"].get("speaker", "patient") == "patient"), None) or _("the patient")
    measures = []
    for mid, label in SHOWN:
        if mid not in m:
            continue
        band = REFERENCE_BANDS.get(mid)
        measures.append({"label": _(label), "value": value_text(mid, m[mid]), "coverage": coverage_text(m[mid]),
                         "enough": bool(m[mid].get("enough")),
                         "band": None if band is None else {"text": _(band.text), "source": band.source,
                                                            "verdict": band_verdict(mid, m[mid])}})
    moments = _moments(summary, events, patient, scenario_lines(scenario))
    words = _words(events, patient)
    return {
        "title": title or summary.get("scenario_title", ""),
        "status": _(_STATUS[status]) if status in _STATUS else "",
        "length": clock_text(summary.get("duration_s") or 0.0),
        "measures": measures,
        "moments": moments,
        "try_next": _suggestions(moments, m, patient, words),
        "behaviours": _behaviours(events, names, rubric),
        "words": words,
        "notices": condensed_notices(events, summary.get("notices") or ()),
    }


def condensed_notices(events: list[dict], fallback=()) -> list[str]:
    """The visit's notices for the summary, one line per kind: a notice that came back several times (a
    microphone that kept going silent, a camera that kept dropping out) is shown once, with how many times
    and when, so the measures are not pushed off the page by a wall of repeats. `events` are the stored
    events; without notice events among them, `fallback` (the summary's list of texts) is used as it is."""
    rows = [e for e in events if e.get("kind") == "notice"]
    if not rows:
        return list(fallback)
    groups: dict[str, list[tuple[float, str]]] = {}
    for e in rows:
        data = e.get("data") or {}
        text = wording(data["text"]) if data.get("text") else data.get("message", "")
        groups.setdefault(data.get("code") or text, []).append((float(e["t"]), text))
    out = []
    for items in groups.values():
        t0, text = items[0]
        if len(items) > 1:
            times = ", ".join(clock_text(t) for t, _x in items[:6]) + (", …" if len(items) > 6 else "")
            text += " " + _("({n} times in all: {times})").format(n=len(items), times=times)
        out.append(text)
    return out


def localized_card(card: dict) -> str:
    """A card's label in the app's language (the event carries the French label as `label_fr`, if any)."""
    from trainer.core.i18n import is_french

    return card.get("label_fr") or card["label"] if is_french() else card["label"]


def _localized_line(line: dict) -> str:
    """A stored patient line's words in the app's language (`text_fr` when the event has it)."""
    from trainer.core.i18n import is_french

    return line.get("text_fr") or line.get("text", "") if is_french() else line.get("text", "")


def _line_before(events: list[dict], t: float) -> dict | None:
    """The patient line that ended at (about) t."""
    ends = [e for e in events if e["kind"] == "patient_line_end" and abs(e["t"] - t) < 0.05]
    if not ends:
        return None
    step = ends[0]["data"].get("step")
    return next((e["data"] for e in reversed(events) if e["kind"] == "patient_line" and e["data"].get("step") == step
                 and e["t"] <= t), None)


def _quote(text: str, words: int = 10) -> str:
    parts = (text or "").split()
    return " ".join(parts[:words]) + ("…" if len(parts) > words else "")


def _moments(summary: dict, events: list[dict], patient: str, lines: dict[str, str] | None = None) -> list[dict]:
    found: list[tuple[int, dict]] = []  # (priority: lower teaches more, moment)
    for c in summary.get("cues") or ():
        line = _line_before(events, c["t"]) or {}
        said = (lines or {}).get(line.get("step")) or _localized_line(line)
        who, quote = line.get("name") or patient, _quote(said)
        if c.get("responded") is False:
            found.append((0, {"t": c["t"], "kind": "missed cue",
                              "text": _("{name} said “{quote}”, an emotional moment; your face did not visibly "
                                        "respond.").format(name=who, quote=quote)}))
        elif c.get("responded"):
            how = {"nod": _("you nodded"), "smile": _("you smiled"), "expression": _("your expression softened")}.get(
                c.get("kind"), _("your face responded"))
            found.append((3, {"t": c["t"], "kind": "cue acknowledged",
                              "text": _("{name} said “{quote}”, and {how}. Well done.").format(name=who, quote=quote,
                                                                                              how=how)}))
    counted = ((summary.get("measures") or {}).get("interruptions") or {}).get("value") is not None
    for t in ((summary.get("talk") or {}).get("interruptions") or ()) if counted else ():
        found.append((1, {"t": t, "kind": "talked over",
                          "text": _("You started speaking while {name} was still talking.").format(name=patient)}))
    turns = [e for e in events if e["kind"] == "clinician_turn_end" and (e["data"].get("talk_s") or 0) >= LONG_TURN_S]
    if turns:
        longest = max(turns, key=lambda e: e["data"]["talk_s"])
        found.append((2, {"t": longest["t"] - longest["data"]["talk_s"], "kind": "long monologue",
                          "text": _("You spoke for {length} without a pause for {name}.").format(
                              length=clock_text(longest["data"]["talk_s"]), name=patient)}))
    found.sort(key=lambda pm: (pm[0], pm[1]["t"]))
    chosen, kinds = [], {}
    for _p, mo in found:  # at most two of a kind, so one habit does not fill the list
        if kinds.get(mo["kind"], 0) < 2 and len(chosen) < MAX_MOMENTS:
            chosen.append(mo)
            kinds[mo["kind"]] = kinds.get(mo["kind"], 0) + 1
    positives = [mo for _p, mo in found if mo["kind"] == "cue acknowledged"]
    if positives and all(mo["kind"] != "cue acknowledged" for mo in chosen):
        chosen[-1 if len(chosen) == MAX_MOMENTS else len(chosen):] = [positives[0]]  # always one thing done well
    chosen.sort(key=lambda mo: mo["t"])
    for mo in chosen:
        mo["time"] = clock_text(mo["t"])
        mo["t"] = round(mo["t"], 2)
    return chosen


def _suggestions(moments: list[dict], m: dict, patient: str, words: dict | None = None) -> list[str]:
    out = []
    first = {mo["kind"]: mo["time"] for mo in reversed(moments)}
    if "missed cue" in first:
        out.append(_("When {name} shares a worry (as at {time}), pause and let your face show you heard it, a nod "
                     "or a softer look, before you answer.").format(name=patient, time=first["missed cue"]))
    if "talked over" in first:
        out.append(_("Let {name} finish before you come in (as at {time}): a two-second pause after they stop "
                     "often brings out what matters most to them.").format(name=patient, time=first["talked over"]))
    if "long monologue" in first and len(out) < 3:
        out.append(_("Break longer explanations into short pieces and check in, for example “Does that make sense "
                     "so far?” (your longest stretch began at {time}).").format(time=first["long monologue"]))
    if words and words["jargon"] and len(out) < 3:
        j = words["jargon"][0]
        out.append(_("Say medical terms in everyday words, or explain them in the same sentence: {advice}.").format(
            advice=j["advice"]))
    share = (m.get("talk_share") or {}).get("value")
    if share is not None and share > REFERENCE_BANDS["talk_share"].high and len(out) < 3:
        out.append(_("You did {share} % of the talking. An open question such as “What worries you most about "
                     "this?” gives the conversation back to the patient.").format(share=number(share * 100, 0)))
    speaking = (m.get("eye_contact_speaking") or {}).get("value")
    if speaking is not None and speaking < 0.3 and len(out) < 3:
        out.append(_("When you say something important, look into the camera for that sentence: on the patient's "
                     "screen that is eye contact."))
    if not out and not any((m.get(mid) or {}).get("value") is not None for mid, _label in SHOWN):
        out.append(_("Keep the camera and microphone on for the whole visit next time, so this summary can "
                     "show how it went."))
    elif not out:
        out.append(_("Keep doing what worked in this visit, and try a harder scenario next time."))
    return out[:3]


def _behaviours(events: list[dict], names: dict[str, str], rubric: list[dict] | None = None) -> list[dict]:
    if rubric is None:
        ends = [e for e in events if e["kind"] == "visit_end"]
        rubric = (ends[-1]["data"].get("rubric") if ends else None) or []
    out = []
    for item in rubric:
        name = _(BEHAVIOURS[item["behaviour"]]) if item.get("behaviour") in BEHAVIOURS else item.get("name") or ""
        checks = []
        for e in item.get("evidence") or ():
            result = {True: _("yes"), False: _("not yet"), None: _("could not be measured")}.get(e.get("result"), "")
            quotes = [shown_text(mid, q) for mid, q in (e.get("measures") or {}).items() if q.get("value") is not None]
            # Worded in the reader's language from the stored condition (sessions stored before it was kept:
            # the wording of the visit's own language).
            check = describe(e["condition"]) if e.get("condition") else _(e.get("check", ""))
            checks.append(_("{name}: {status}").format(name=plain(check, names), status=result) +
                          (" " + _("(measured {numbers})").format(numbers=", ".join(quotes)) if quotes else ""))
        status = item.get("status")
        out.append({"name": plain(name, names), "status": _(_RUBRIC[status]) if status in _RUBRIC else "",
                    "checks": checks})
    return out


#: How the global rating is named wherever ratings are listed.
GLOBAL_RATING_LABEL = N_("Overall (1 = needs work, 5 = excellent)")


def rating_label(behaviour: str) -> str:
    """The words for a rated behaviour id (or GLOBAL_RATING) as summaries, reports and the form show them."""
    return _(GLOBAL_RATING_LABEL) if behaviour == GLOBAL_RATING else _(BEHAVIOURS.get(behaviour, behaviour))


def facilitator_part(notes: list[dict], ratings: list[dict], scenario=None) -> dict:
    """Facilitators' notes ({t, author, text} in time order) and ratings ({behaviour, level, comment,
    author}; by behaviour, the global rating last) as the summary and reports show them: {"notes": [{time, t, author,
    text}], "ratings": [{name, level, comment, author}]}. Nothing here touches a measure."""
    return {"notes": [{"time": clock_text(n["t"]), "t": float(n["t"]), "author": n["author"], "text": n["text"]}
                      for n in notes],
            "ratings": [{"name": rating_label(r["behaviour"]), "level": _level_text(scenario, r["behaviour"], r["level"]),
                         "comment": r.get("comment") or "",
                         "author": r["author"]}
                        for r in sorted(ratings, key=_rating_order)]}


def _rating_order(r: dict) -> tuple:
    """Behaviours in the order of DESIGN.md's table (as the rubric lists them), the global rating last."""
    order = list(BEHAVIOURS)
    b = r["behaviour"]
    return (b == GLOBAL_RATING, order.index(b) if b in order else len(order), b, r.get("author") or "")


def _level_text(scenario, behaviour: str, level: str) -> str:
    """A stored rating level in the app's language (Scenario.level_text; the catalogue without a scenario)."""
    from trainer.core.scenario import DEFAULT_RATING_SCALE

    if scenario is not None:
        return scenario.level_text(behaviour, level)
    return _(level) if level in DEFAULT_RATING_SCALE else level


def learner_texts(debrief: dict) -> list[str]:
    """Every string of a debrief a learner can read (tests scan these for internal ids)."""
    out: list[str] = []

    def walk(x):
        if isinstance(x, str):
            out.append(x)
        elif isinstance(x, dict):
            for k, v in x.items():
                if k not in ("kind", "verdict"):  # machine keys for styling, never shown
                    walk(v)
        elif isinstance(x, (list, tuple)):
            for v in x:
                walk(v)
    walk(debrief)
    return out


#: The verbal labels of an utterance in the learner's words (core.verbal.merge_labels keys).
_LABEL_WORDS = {"open_questions": "open question", "closed_questions": "closed question", "statements": "statement",
                "empathy": "acknowledged feelings", "jargon": "medical term not explained",
                "check": "checked understanding", "agenda": "agenda or next steps", "small_talk": "small talk",
                "name": "used the patient's name"}


def _words(events: list[dict], patient: str) -> dict | None:
    """The `words` part of the debrief (module docstring) from the stored utterance events."""
    rows = [e for e in events if e["kind"] == "utterance"]
    if not rows:
        return None
    labelled = [r for r in rows if r["data"].get("labels")]

    def total(key: str) -> int:
        return sum(int(r["data"]["labels"].get(key) or 0) for r in labelled)

    counts = [
        (_("Open questions (inviting {patient} to tell in their own words)").format(patient=patient),
         total("open_questions")),
        (_("Closed questions (yes/no or a fact)"), total("closed_questions")),
        (_("Times you acknowledged feelings"), total("empathy")),
        (_("Times you checked understanding or invited questions"), total("check")),
        (_("Times you set the agenda or the next steps"), total("agenda")),
        (_("Times you used {patient}'s name").format(patient=patient), total("name")),
    ]
    jargon: dict[str, dict] = {}
    for r in labelled:
        lab = r["data"]["labels"]
        terms = [t for t in str(lab.get("jargon") or "").split("; ") if t]
        advice = [a for a in str(lab.get("jargon_advice") or "").split("; ") if a]
        for term, adv in zip(terms, advice):
            hit = jargon.setdefault(term.lower(), {"term": term, "advice": adv, "times": []})
            hit["times"].append(clock_text(r["data"].get("start", r["t"])))
    for hit in jargon.values():
        hit["why"] = _("a medical term not explained in the same sentence (said at {times})").format(
            times=", ".join(hit["times"]))
    said = []
    for r in rows:
        d = r["data"]
        if "text" not in d or not d.get("text"):
            continue
        lab = d.get("labels") or {}
        flags = [_(_LABEL_WORDS[k]) for k in _LABEL_WORDS if lab.get(k)]
        said.append({"time": clock_text(d.get("start", r["t"])), "text": d["text"], "labels": flags})
    untranscribed = sum(1 for r in rows if r["data"].get("transcribed") is False)
    notes = []
    if not said:
        notes.append(_("Your words were not stored (your site's policy); these counts were made from them during "
                       "the visit."))
    if untranscribed:
        notes.append(_("{n} of the things you said were not transcribed: the app was closed before their turn "
                       "came.").format(n=untranscribed))
    return {"counts": [{"label": lbl, "value": n} for lbl, n in counts],
            "jargon": sorted(jargon.values(), key=lambda h: h["times"][0]), "said": said, "notes": notes}
