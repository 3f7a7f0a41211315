"""Progress across a learner's sessions: one series per measure and per behaviour (issue 10, part 4).

`progress(sessions)` takes the stored sessions in time order, each a dict with `id`, `started_at`,
`scenario_id`, `scenario_title`, `measures` (core.measures as stored summaries have them) and `rubric`
(the visit's rubric items), and returns JSON-ready series: for each measure the points (session, value,
or None when that session had not enough to judge) with the measure's reference band
(core.debrief.REFERENCE_BANDS), and for each behaviour whether each session showed it. The progress page
plots these and `trainer progress --json` prints them. Values are the stored measures, never recomputed.

Beside them (never mixed in), when the sessions carry `ratings` and `notes` (SessionStore.progress gives
them): `ratings`, per rated behaviour (and the global rating) the level each session was given (the most
recent rating when several facilitators rated), and `notes`, how many facilitator notes each session has.
"""

from __future__ import annotations

from trainer.core.debrief import REFERENCE_BANDS, SHOWN, rating_label
from trainer.core.measures import MEASURES
from trainer.core.scenario import BEHAVIOURS, GLOBAL_RATING

#: The measures plotted (a subset of the summary's: those that trend meaningfully across visits).
PLOTTED = ("talk_share", "eye_contact", "cue_response", "interruptions", "longest_monologue_s",
           "response_latency_s")


def progress(sessions: list[dict]) -> dict:
    """Series per measure and per behaviour over `sessions` (oldest first); see the module docstring."""
    labels = dict(SHOWN)
    points = [{"session": s["id"], "started_at": s["started_at"], "scenario": s.get("scenario_title", "")}
              for s in sessions]
    measures = []
    for mid in PLOTTED:
        band = REFERENCE_BANDS.get(mid)
        values = [((s.get("measures") or {}).get(mid) or {}).get("value") for s in sessions]
        measures.append({"id": mid, "label": labels.get(mid, MEASURES[mid].label), "unit": MEASURES[mid].unit,
                         "values": values,
                         "band": None if band is None or band.low is None else
                         {"low": band.low, "high": band.high, "source": band.source}})
    behaviours: dict[str, list] = {}
    for i, s in enumerate(sessions):
        for item in s.get("rubric") or ():
            b = item.get("behaviour")
            if b not in BEHAVIOURS:
                continue
            status = str(item.get("status", ""))
            shown = True if status.startswith("met") else False if status == "not_met" else None
            behaviours.setdefault(b, [None] * len(sessions))[i] = shown
    rated: dict[str, list] = {}
    for i, s in enumerate(sessions):
        for r in sorted(s.get("ratings") or (), key=lambda r: r.get("rated_at") or ""):  # the latest wins
            rated.setdefault(r["behaviour"], [None] * len(sessions))[i] = r["level"]
    order = [b for b in BEHAVIOURS if b in rated] + sorted(b for b in rated if b not in BEHAVIOURS and
                                                          b != GLOBAL_RATING) + \
        ([GLOBAL_RATING] if GLOBAL_RATING in rated else [])
    return {"sessions": points, "measures": measures,
            "behaviours": [{"id": b, "label": BEHAVIOURS[b], "shown": v} for b, v in behaviours.items()],
            "ratings": [{"id": b, "label": rating_label(b), "levels": rated[b]} for b in order],
            "notes": [len(s.get("notes") or ()) for s in sessions]}
