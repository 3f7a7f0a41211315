"""xAPI 1.0.3 statements for one stored visit (the statement profile is documented in docs/xapi.md).

A visit that ended gives, in this order:
  1. `initialized`  (timestamp: when the session started);
  2. `completed`    (only when the scenario reached its end; result: completion, duration and the measures);
  3. `terminated`   (timestamp: when the session ended; result: duration, and the measures for a visit
                     ended early, which has no `completed` statement).
All three share a `context.registration` (one attempt), the scenario as an activity of type simulation, and
the learner as the site policy's identity scheme says. The measures are those the summary page shows, read
through `SessionStore.summary` (one definition per meaning): this module reshapes them, it never computes one.

Pure data: no network here. Sending is `trainer.lms` (the only package that opens a socket).
"""

from __future__ import annotations

import math
import uuid
from typing import Any

from trainer.core.policy import LmsPolicy

XAPI_VERSION = "1.0.3"
VERBS = {
    "initialized": "http://adlnet.gov/expapi/verbs/initialized",
    "completed": "http://adlnet.gov/expapi/verbs/completed",
    "terminated": "http://adlnet.gov/expapi/verbs/terminated",
}
SIMULATION = "http://adlnet.gov/expapi/activities/simulation"
# Our own extension and profile IRIs. The reserved .invalid domain says plainly that they do not resolve;
# docs/xapi.md is their definition.
PROFILE_BASE = "https://video-visit-trainer.invalid/xapi/"
PROFILE = PROFILE_BASE + "profile/1.0"
EXT = {
    "measures": PROFILE_BASE + "extensions/measures",
    "behaviours": PROFILE_BASE + "extensions/behaviours",
    "rubric": PROFILE_BASE + "extensions/rubric",
    "cues": PROFILE_BASE + "extensions/cue-responses",
    "ratings": PROFILE_BASE + "extensions/facilitator-ratings",
    "session": PROFILE_BASE + "extensions/session",
    "app_version": PROFILE_BASE + "extensions/app-version",
}


def actor(lms: LmsPolicy, login: str) -> dict:
    """The learner as the policy's identity scheme says (never the person's real name)."""
    if lms.learner == "mbox":
        return {"objectType": "Agent", "mbox": f"mailto:{login}@{lms.mbox_domain}"}
    return {"objectType": "Agent", "account": {"homePage": lms.account_homepage, "name": login}}


def activity(lms: LmsPolicy, scenario_id: str, title: str, description: str = "") -> dict:
    """The scenario as an xAPI activity of type simulation."""
    definition: dict[str, Any] = {"type": SIMULATION, "name": {"en": title}}
    if description:
        definition["description"] = {"en": description}
    return {"objectType": "Activity", "id": lms.activity_base + scenario_id, "definition": definition}


def iso_duration(seconds: float) -> str:
    """An ISO 8601 duration with at most 2 decimals (xAPI: 0.01 s precision), e.g. PT83.25S."""
    return f"PT{max(0.0, round(float(seconds), 2)):g}S"


def _clean(value: Any) -> Any:
    """JSON-safe copy: NaN/inf become null (JSON has neither), tuples become lists."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def measures(summary) -> dict:
    """The debrief's measures (`SessionSummary.measures`: core.measures.measure_all, each with its value,
    or null when there was not enough to judge, and its coverage), plus the visit's length, as one object."""
    return _clean({"duration_s": summary.duration_s, "frames": summary.frames, **summary.measures})


def session_statements(store, session_id: int, lms: LmsPolicy, login: str, *,
                       behaviours: tuple[str, ...] = (), description: str = "") -> list[tuple[str, dict]]:
    """(verb, statement) pairs for a closed session, in the order they must reach the LRS.

    Statement ids and the registration are random UUIDs made here, once: the outbox stores the statements
    as built, so a statement sent twice is byte-identical and the LRS keeps only the first."""
    from trainer import __version__

    meta = store.session(session_id)
    summary = store.summary(session_id)
    ends = store.events(session_id, "visit_end")
    end = ends[-1]["data"] if ends else {}
    rubric = end.get("rubric") or []
    ratings = [e["data"] for e in store.events(session_id, "facilitator_rating")]
    completed = meta["status"] == "completed"
    who = actor(lms, login)
    obj = activity(lms, meta["scenario_id"], meta["scenario_title"], description)
    context = {
        "registration": str(uuid.uuid4()),
        "platform": lms.platform,
        "language": "en",
        "contextActivities": {"category": [{"objectType": "Activity", "id": PROFILE}]},
        "extensions": {EXT["session"]: {"id": session_id, "status": meta["status"], "camera": meta["camera"],
                                        "calibrated": bool(meta["calibrated"])},
                       EXT["app_version"]: meta["app_version"] or __version__},
    }
    result_ext = {EXT["measures"]: measures(summary), EXT["behaviours"]: list(behaviours or end.get("behaviours") or []),
                  EXT["cues"]: _clean(summary.cues)}
    if rubric:
        result_ext[EXT["rubric"]] = _clean(rubric)
    if ratings:
        result_ext[EXT["ratings"]] = _clean(ratings)
    duration = iso_duration(meta["duration_s"] or 0.0)
    started = meta["started_at"]
    ended = meta["ended_at"] or started

    def statement(verb: str, timestamp: str, result: dict | None = None) -> dict:
        s = {"id": str(uuid.uuid4()), "actor": who, "verb": {"id": VERBS[verb], "display": {"en": verb}},
             "object": obj, "context": context, "timestamp": timestamp, "version": XAPI_VERSION}
        if result is not None:
            s["result"] = result
        return s

    out = [("initialized", statement("initialized", started))]
    if completed:
        out.append(("completed", statement("completed", ended, {"completion": True, "duration": duration,
                                                                 "extensions": result_ext})))
        out.append(("terminated", statement("terminated", ended, {"duration": duration})))
    else:
        out.append(("terminated", statement("terminated", ended, {"completion": False, "duration": duration,
                                                                   "extensions": result_ext})))
    return out
