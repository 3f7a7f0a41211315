"""Learners and reflections in the session store: an older store gains the columns by migration, sessions
are kept per learner, a session can be deleted with everything it recorded, and the self-reflection is
saved with its session."""

import sqlite3

from trainer.core.events import FrameSample
from trainer.store.db import MIGRATIONS, SessionStore


def test_an_older_store_is_migrated_and_keeps_its_sessions(tmp_path):
    path = tmp_path / "old.sqlite3"
    con = sqlite3.connect(path)
    con.executescript(MIGRATIONS[0] + "\nPRAGMA user_version = 1;")
    con.execute("INSERT INTO sessions (scenario_id, scenario_title, started_at) VALUES ('a', 'A', '2026-01-01T10:00:00+00:00')")
    con.commit()
    con.close()
    store = SessionStore(path)
    old = store.session(1)
    assert old["learner"] == "" and old["reflection"] is None and store.reflection(1) is None
    assert store.learners() == [""]


def test_sessions_per_learner_delete_and_reflection(tmp_path):
    store = SessionStore(tmp_path / "s.sqlite3")
    a = store.create_session("v", "Visit", learner="  Dr Amal ")
    b = store.create_session("v", "Visit", learner="Ben")
    w = store.writer(a)
    w.put(FrameSample(0.0, True, "camera"))
    w.close(duration_s=120.0)
    assert store.session(a)["learner"] == "Dr Amal"
    assert set(store.learners()) == {"Dr Amal", "Ben"}
    assert [r["id"] for r in store.history(learner="Ben")] == [b]
    store.set_reflection(a, {"went_well": "I let her finish.", "differently": "Ask about sleep sooner."})
    assert store.reflection(a)["went_well"] == "I let her finish."
    store.delete_session(a)
    assert [r["id"] for r in store.history()] == [b] and store.frames(a) == []
