"""A session report for the debrief: what `trainer report SESSION --out FILE.pdf|.html` and the replay's
Report button write.

`report_data(store, sid)` gathers the content from the store's own functions (summary and its core.measures
numbers, the final rubric, the timeline's lanes from store.timeline, notes, ratings, the reflection when the
session has one) — nothing here computes a measure. `report_html(data)` renders it as one HTML file with the
timeline as inline SVG; trainer/ui/report_pdf.py draws the same content into a PDF with Qt.

Printed in grey: the gaze states use fills of clearly different lightness (FILLS), every lane is labelled
and marks are drawn as black/dark ticks, so nothing depends on hue.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone

from trainer.core.errors import TrainerError
from trainer.core.i18n import N_, _, language, percent
from trainer.core.measures import MEASURES, shown_text
from trainer.core.visit_state import clock_text

#: Lane fills by label, chosen so that their grey levels differ (dark = on the camera, white = absent).
FILLS = {"camera": "#1f4e79", "screen": "#6f9fd1", "away": "#d0d0d0", "unknown": "#eeeeee", "absent": "#ffffff",
         "you": "#404040", "patient": "#a0a0a0"}
GAP_FILL = "#000000"  # no camera/microphone signal: solid black, the strongest mark on the page
#: The measures a report lists, in order (ids of core.measures.MEASURES).
REPORT_MEASURES = ("eye_contact", "eye_contact_listening", "engaged", "face_present", "expressivity", "smiles",
                   "nods_per_min", "cue_response", "cue_wait_s", "talk_share", "longest_monologue_s",
                   "interruptions", "response_latency_s")


@dataclass
class ReportData:
    session: dict
    summary: object  # store.db.SessionSummary
    rubric: list[dict]
    timeline: object  # store.timeline.Timeline
    notes: list[dict]
    ratings: list[dict]
    moments: list[tuple[float, str]] = field(default_factory=list)
    reflection: str | None = None
    behaviour_labels: dict = field(default_factory=dict)
    scenario: object = None  # core.scenario.Scenario as played (store.stored_scenario), or None


def report_data(store, session_id: int, include_reflection: bool = True) -> ReportData:
    """Everything a report shows, read from the store."""
    from trainer.core.scenario import BEHAVIOURS
    from trainer.store.timeline import load_timeline

    meta = store.session(session_id)
    # The summary's instructive moments (core.debrief), the same the summary page and the replay list.
    moments = [(float(m["t"]), str(m["text"])) for m in store.debrief(session_id)["moments"]]
    try:  # the scenario as played gives its own rating words in French; without it, the catalogue's
        scenario = store.stored_scenario(session_id)
    except TrainerError:
        scenario = None
    return ReportData(meta, store.summary(session_id), store.rubric(session_id), load_timeline(store, session_id),
                      store.notes(session_id), store.ratings(session_id), moments,
                      _reflection_text(meta.get("reflection")) if include_reflection else None, dict(BEHAVIOURS),
                      scenario)


def _reflection_text(stored: str | None) -> str | None:
    """The learner's self-reflection (stored as JSON: went_well, differently, or skipped) as one paragraph."""
    if not stored:
        return None
    try:
        r = json.loads(stored)
    except ValueError:
        return stored
    if not isinstance(r, dict) or r.get("skipped"):
        return None
    parts = [_("What went well: {text}").format(text=r["went_well"]) if r.get("went_well") else "",
             _("What I would do differently: {text}").format(text=r["differently"]) if r.get("differently") else ""]
    return " — ".join(p for p in parts if p) or None


def measure_rows(data: ReportData) -> list[tuple[str, str, str]]:
    """(label, value as shown, coverage) for the report's measures."""
    out = []
    for mid in REPORT_MEASURES:
        m = data.summary.measures.get(mid)
        if m is None:
            continue
        cov = m.get("coverage")
        out.append((_(MEASURES[mid].label), shown_text(mid, m), "—" if cov is None else percent(cov)))
    return out


def rating_rows(data: ReportData) -> list[tuple[str, str, str, str]]:
    """(behaviour, level, comment, author) with the global rating last (core.debrief.facilitator_part, as
    the summary page lists them)."""
    from trainer.core.debrief import facilitator_part

    return [(r["name"], r["level"], r["comment"], r["author"])
            for r in facilitator_part([], data.ratings, data.scenario)["ratings"]]


def report_title(data: ReportData) -> str:
    """The visit's title in the app's language when its scenario is installed with a translation."""
    from trainer.core.i18n import localized

    title = data.summary.scenario_title
    try:
        from trainer.core.scenario import discover_scenarios
        from trainer.resources import builtin_scenarios_dir

        for sc in discover_scenarios([builtin_scenarios_dir()])[0]:
            if sc.id == data.session.get("scenario_id") and sc.title == title:
                return localized(sc, "title")
    except Exception:  # noqa: BLE001 - the stored title is always a correct fallback
        pass
    return title


def header_line(data: ReportData) -> str:
    s = data.session
    parts = [_("started {time} UTC").format(time=s["started_at"].replace("T", " ")[:16]),
             _("length {length}").format(length=clock_text(data.summary.duration_s)),
             _(_SESSION_STATUS.get(s["status"], s["status"].replace("_", " ")))]
    if s.get("learner"):
        parts.insert(0, _("learner {name}").format(name=s["learner"]))
    if s.get("origin"):
        parts.append(_("imported from {origin}").format(origin=s["origin"]))
    return " · ".join(parts)


def timeline_svg(timeline, width: int = 900, lane_h: int = 18, label_w: int = 120) -> str:
    """The timeline's lanes as an SVG figure (the same lanes as the replay page)."""
    dur = max(1e-6, timeline.duration_s)
    plot_w = width - label_w - 10
    height = lane_h * (len(timeline.lanes) + 1) + 6

    def x(t: float) -> float:
        return label_w + plot_w * max(0.0, min(1.0, t / dur))

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="10" role="img" '
           f'aria-label="{html.escape(_("Session timeline"))}">']
    step = 60 if dur > 150 else 15
    t = 0.0
    while t <= dur + 1e-6:
        out.append(f'<line x1="{x(t):.1f}" y1="{lane_h - 4}" x2="{x(t):.1f}" y2="{height}" stroke="#bbbbbb"/>'
                   f'<text x="{x(t) + 2:.1f}" y="{lane_h - 6}">{clock_text(t)}</text>')
        t += step
    for i, lane in enumerate(timeline.lanes):
        y = lane_h * (i + 1)
        out.append(f'<text x="2" y="{y + lane_h - 5}">{html.escape(_(lane.name))}</text>'
                   f'<rect x="{label_w}" y="{y + 2}" width="{plot_w}" height="{lane_h - 4}" fill="none" '
                   f'stroke="#999999" stroke-width="0.5"/>')
        for a, b, label in lane.spans:
            fill = GAP_FILL if label.startswith("no ") else FILLS.get(label, "#606060")
            w = max(x(b) - x(a), 1.0)
            out.append(f'<rect x="{x(a):.1f}" y="{y + 4}" width="{w:.1f}" height="{lane_h - 8}" fill="{fill}">'
                       f'<title>{html.escape(_(label))}</title></rect>')
        if lane.values:
            pts = " ".join(f"{x(t):.1f},{y + lane_h - 3 - v * (lane_h - 6):.1f}" for t, v in lane.values)
            out.append(f'<polyline points="{pts}" fill="none" stroke="#000000" stroke-width="0.8"/>')
        for t, label in lane.marks:
            out.append(f'<line x1="{x(t):.1f}" y1="{y + 3}" x2="{x(t):.1f}" y2="{y + lane_h - 3}" stroke="#000000" '
                       f'stroke-width="1.5"><title>{html.escape(_(label))}</title></line>')
    out.append("</svg>")
    return "".join(out)


LEGEND = N_("Gaze: dark = at the camera, mid = at the screen, light grey = away, white = face not seen; "
             "black bars = no camera or microphone signal; ticks = nods, interruptions, cues, actions, notices, "
             "notes.")
_SESSION_STATUS = {"completed": N_("completed"), "ended_early": N_("ended early"), "interrupted": N_("interrupted")}


def report_html(data: ReportData, with_svg: bool = True, css: str | None = None) -> str:
    """The report as one self-contained HTML page (the PDF writer uses it without the SVG and with its own
    `css`, in device pixels)."""
    e = html.escape
    s = data.summary
    parts = [f"<h1>{e(_('Visit report — {title}').format(title=report_title(data)))}</h1>",
             f"<p class='meta'>{e(header_line(data))}</p>"]
    parts.append(f"<h2>{e(_('Measures'))}</h2><table border='1' cellspacing='0'><tr><th>{e(_('Measure'))}</th>"
                 f"<th>{e(_('Result'))}</th><th>{e(_('Measured'))}</th></tr>"
                 + "".join(f"<tr><td>{e(a)}</td><td>{e(b)}</td><td>{e(c)}</td></tr>" for a, b, c in measure_rows(data))
                 + "</table>")
    if data.rubric:
        parts.append(f"<h2>{e(_('Behaviours (the app’s checks)'))}</h2><ul>" + "".join(
            "<li>" + e(_("{name}: {status}").format(
                name=_(data.behaviour_labels.get(r.get("behaviour", ""), r.get("behaviour", ""))),
                status=_rubric_word(r))) + "</li>" for r in data.rubric) + "</ul>")
    if with_svg:
        parts.append(f"<h2>{e(_('Timeline'))}</h2>" + timeline_svg(data.timeline) + f"<p class='legend'>{e(_(LEGEND))}</p>")
    parts.append(f"<h2>{e(_('Moments'))}</h2>" + (
        ("<ul>" + "".join(f"<li>{clock_text(t)} {e(m)}</li>" for t, m in data.moments) + "</ul>")
        if data.moments else f"<p>{e(_('No moments were picked out.'))}</p>"))
    if data.reflection:
        parts.append(f"<h2>{e(_('The learner’s reflection'))}</h2><p>{e(data.reflection)}</p>")
    parts.append(f"<h2>{e(_('Facilitator notes'))}</h2>" + (
        f"<table border='1' cellspacing='0'><tr><th>{e(_('Time'))}</th><th>{e(_('By'))}</th>"
        f"<th>{e(_('Note'))}</th></tr>" + "".join(
            f"<tr><td>{clock_text(n['t'])}</td><td>{e(n['author'])}</td><td>{e(n['text'])}</td></tr>"
            for n in data.notes) + "</table>" if data.notes else f"<p>{e(_('No notes.'))}</p>"))
    rows = rating_rows(data)
    parts.append(f"<h2>{e(_('Facilitator ratings'))}</h2>" + (
        f"<table border='1' cellspacing='0'><tr><th>{e(_('Behaviour'))}</th><th>{e(_('Rating'))}</th>"
        f"<th>{e(_('Comment'))}</th><th>{e(_('By'))}</th></tr>" + "".join(
            f"<tr><td>{e(a)}</td><td>{e(b)}</td><td>{e(c)}</td><td>{e(d)}</td></tr>" for a, b, c, d in rows)
        + "</table>" if rows else f"<p>{e(_('Not rated yet.'))}</p>"))
    made = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    parts.append("<p class='meta'>" + e(_("Session {uuid} · report made {made}. Measures are the app’s; notes and "
                                          "ratings are the facilitators’ and sit beside them.").format(
        uuid=data.session.get("uuid") or "", made=made)) + "</p>")
    style = css or ("body{font-family:sans-serif;color:#000;max-width:60em;margin:1em auto;font-size:10pt}"
             "h1{font-size:15pt}h2{font-size:11.5pt;margin:0.8em 0 0.2em;border-bottom:1px solid #555}"
             "table{border-collapse:collapse}td,th{border:1px solid #777;padding:1px 6px;text-align:left}"
             ".meta,.legend{color:#333;font-size:8.5pt}")
    lang = "fr-CA" if language().startswith("fr") else "en"
    return (f"<!DOCTYPE html><html lang='{lang}'><head><meta charset='utf-8'><title>{e(_('Visit report'))}</title>"
            f"<style>{style}</style></head><body>{''.join(parts)}</body></html>")


_STATUS_WORDS = {"met": N_("shown"), "not_met": N_("not shown"), "unknown": N_("not enough to judge"),
                 "needs_rating": N_("needs a facilitator's rating"),
                 "met_pending_rating": N_("met; facilitator's rating due")}


def _rubric_word(r: dict) -> str:
    if r.get("status"):
        return _(_STATUS_WORDS.get(r["status"], str(r["status"]).replace("_", " ")))
    if "met" in r:
        return _("shown") if r["met"] else _("not shown")
    return _("needs rating")
