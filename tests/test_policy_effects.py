"""Site policy reaching the running app: retention deletes old sessions, scenario packs are listed."""

from datetime import datetime, timedelta, timezone

from trainer.core.events import FrameSample
from trainer.store.db import SessionStore


def test_retention_deletes_only_sessions_older_than_the_limit(tmp_path):
    store = SessionStore(tmp_path / "s.db")
    old = store.create_session("a", "Old")
    w = store.writer(old)
    w.put(FrameSample(0.0, True))
    w.close("completed")
    new = store.create_session("b", "New")
    store.writer(new).close("completed")
    con = store.connect()
    con.execute("UPDATE sessions SET started_at = ? WHERE id = ?",
                ((datetime.now(timezone.utc) - timedelta(days=40)).isoformat(timespec="seconds"), old))
    con.close()
    assert store.delete_older_than(30) == 1
    assert [s["id"] for s in store.sessions()] == [new]
    assert store.frames(old) == []  # samples went with the session
