"""What a simulated or headless visit writes next to the stored session: `summary.json` and `turns.csv`.

Both are built from the stored session (the same rows the app's summary reads), plus, for a simulated
clinician, what it really said (the ground truth the turn timing is checked against).

turns.csv columns: turn (1-based), step, start, end (session seconds), reason (spoke | timeout |
override | cut), card, credited, talk_s (as the engine measured it), speech_end (end of the clinician's
last speech in the turn: what the simulated clinician said, or for a headless visit the detected
speech), end_latency_s (end minus speech_end, for turns that ended because the clinician spoke).
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from dataclasses import asdict, is_dataclass
from pathlib import Path

TURN_COLUMNS = ("turn", "step", "start", "end", "reason", "card", "credited", "talk_s", "speech_end",
                "end_latency_s")


def turn_table(events: list[dict], speech: list[tuple[float, float]]) -> list[dict]:
    """One row per clinician turn from stored events ({t, kind, data}); `speech` = the clinician's speech
    intervals to measure the end latency against."""
    rows: list[dict] = []
    open_rows: dict[str, dict] = {}
    for ev in events:
        kind, data = ev["kind"], ev["data"]
        if kind == "clinician_turn":
            row = {"turn": len(rows) + 1, "step": data.get("step"), "start": round(ev["t"], 3), "end": None,
                   "reason": None, "card": None, "credited": None, "talk_s": None, "speech_end": None,
                   "end_latency_s": None}
            rows.append(row)
            open_rows[data.get("step")] = row
        elif kind == "clinician_turn_end":
            row = open_rows.pop(data.get("step"), None)
            if row is None:
                continue
            row.update(end=round(ev["t"], 3), reason=data.get("reason"), card=data.get("card"),
                       credited=data.get("credited"), talk_s=data.get("talk_s"))
            ends = [e for s, e in speech if e > row["start"] and s < row["end"]]
            if ends:
                row["speech_end"] = round(max(ends), 3)
                if row["reason"] == "spoke":
                    row["end_latency_s"] = round(row["end"] - row["speech_end"], 3)
    return rows


def write_turns_csv(path: Path, rows: list[dict]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=TURN_COLUMNS)
        w.writeheader()
        for r in rows:
            w.writerow({k: "" if r.get(k) is None else r.get(k) for k in TURN_COLUMNS})


def _jsonable(x):
    if is_dataclass(x):
        return _jsonable(asdict(x))
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, float):
        return round(x, 4)
    return x


def session_report(store, session_id: int, *, speech: list[tuple[float, float]] | None = None,
                   end_of_turn_s: float = 0.7) -> dict:
    """The summary of a stored visit (JSON-ready): the app's session summary, the rubric, the turn
    table and the figures the trustworthiness checks read (issue 9)."""
    meta = store.session(session_id)
    events = store.events(session_id)
    if speech is None:
        speech = store.speech(session_id, "clinician")
    turns = turn_table(events, speech)
    end = next((e for e in events if e["kind"] == "visit_end"), None)
    # The final rubric (computed once every input was in) when the engine sends one, else visit_end's.
    final = next((e for e in events if e["kind"] == "rubric"), None) or end
    duration = float(meta.get("duration_s") or 0.0)
    frames = store.frames(session_id)
    not_engine_output = {"notice", "source_finished", "source_status", "rubric"}
    per_instant = Counter(round(e["t"], 3) for e in events if e["kind"] not in not_engine_output)
    spoken = [r for r in turns if r["speech_end"] is not None]
    latencies = [r["end_latency_s"] for r in spoken if r["end_latency_s"] is not None]
    rubric = (final or {}).get("data", {}).get("rubric") or []
    summary = store.summary(session_id)
    return _jsonable({
        "session_id": session_id,
        "scenario": meta.get("scenario_id"),
        "status": meta.get("status"),
        "duration_s": duration,
        "end_reason": (end or {}).get("data", {}).get("reason"),
        "reached_end": bool(end and end["data"].get("reason") == "completed"),
        "turns": turns,
        "figures": {
            "turns": len(turns),
            "spoken_turns": len(spoken),
            "spoken_turns_timed_out": sum(1 for r in spoken if r["reason"] == "timeout"),
            "end_of_turn_s": end_of_turn_s,
            "end_latency_max_s": max(latencies) if latencies else None,
            "end_latency_median_s": sorted(latencies)[len(latencies) // 2] if latencies else None,
            "interruptions_reported": [e["data"].get("onset", e["t"]) if e["data"].get("onset") is not None
                                       else e["t"] for e in events if e["kind"] == "interruption"],
            "backchannels_reported": [e["data"].get("onset") for e in events if e["kind"] == "backchannel"],
            "events_max_at_one_instant": max(per_instant.values()) if per_instant else 0,
            "face_samples": len(frames),
            "face_samples_per_s": round(len(frames) / duration, 2) if duration > 0 else None,
            "behaviours_met": [r.get("behaviour") for r in rubric if str(r.get("status", "")).startswith("met")],
        },
        "rubric": rubric,
        # Speaking freely: the card the words chose in each turn (None: unsure), and the cards chosen.
        "intents_heard": [{"step": e["data"].get("step"), "card": e["data"].get("card"),
                           "confidence": e["data"].get("confidence")} for e in events if e["kind"] == "intent_heard"],
        "cards_chosen": [e["data"].get("card") for e in events if e["kind"] == "card_chosen"],
        "summary": summary,
        "events": events,
    })


def write_report(out_dir: Path, report: dict) -> None:
    """summary.json and turns.csv in out_dir."""
    out_dir.mkdir(parents=True, exist_ok=True)
    write_turns_csv(out_dir / "turns.csv", report["turns"])
    (out_dir / "summary.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
