"""Progress across sessions (core.progress, SessionStore.progress, `trainer progress`): one series per
measure with its reference band, per behaviour whether each session showed it, short sessions left out."""

import json
import subprocess
import sys

from trainer.core.events import VisitEnded
from trainer.core.progress import PLOTTED, progress
from trainer.store.db import SessionStore


def test_series_per_measure_and_behaviour():
    sessions = [
        {"id": 1, "started_at": "2026-11-01T09:00:00+00:00", "scenario_title": "A",
         "measures": {"talk_share": {"value": 0.8}}, "rubric": [{"behaviour": "eye_contact", "status": "not_met"}]},
        {"id": 2, "started_at": "2026-11-08T09:00:00+00:00", "scenario_title": "A",
         "measures": {"talk_share": {"value": None}}, "rubric": [{"behaviour": "eye_contact", "status": "met"}]},
        {"id": 3, "started_at": "2026-11-15T09:00:00+00:00", "scenario_title": "A",
         "measures": {"talk_share": {"value": 0.6}}, "rubric": []},
    ]
    d = progress(sessions)
    assert [m["id"] for m in d["measures"]] == list(PLOTTED)
    share = d["measures"][0]
    assert share["values"] == [0.8, None, 0.6] and share["band"]["low"] == 0.55 and share["band"]["high"] == 0.65
    assert d["behaviours"] == [{"id": "eye_contact", "label": "Making eye contact", "shown": [False, True, None]}]


def _stored(store, learner, seconds, status):
    sid = store.create_session("first-checkin", "Check-in", learner=learner)
    w = store.writer(sid)
    w.put(VisitEnded(seconds, reason="completed", rubric=({"behaviour": "small_talk", "status": status},)))
    w.close(duration_s=seconds)
    return sid


def test_store_and_cli_progress(tmp_path, monkeypatch):
    monkeypatch.setenv("TRAINER_DATA_DIR", str(tmp_path))
    store = SessionStore(tmp_path / "sessions.sqlite3")
    a1 = _stored(store, "Amal", 200.0, "not_met")
    _stored(store, "Amal", 4.0, "met")  # a test start: left out
    a3 = _stored(store, "Amal", 250.0, "met")
    _stored(store, "Ben", 300.0, "met")
    d = store.progress("Amal")
    assert [s["session"] for s in d["sessions"]] == [a1, a3]
    assert d["behaviours"][0]["shown"] == [False, True]
    proc = subprocess.run([sys.executable, "-m", "trainer", "progress", "--learner", "Amal", "--json"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["behaviours"][0]["shown"] == [False, True]
    text = subprocess.run([sys.executable, "-m", "trainer", "progress", "--learner", "Amal"],
                          capture_output=True, text=True, timeout=120).stdout
    assert "2 session(s)" in text and "Engaging in small talk: o+" in text
