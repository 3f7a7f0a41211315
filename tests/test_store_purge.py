"""README: "Deleted sessions (site-policy retention) are overwritten in the file, not just unlinked." A
session deleted by the retention rule or by Delete... leaves none of its text in the database file or its
write-ahead log."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from trainer.store.db import SessionStore

MARK = "Quillfeather-Unique-Learner-Name"


def _file_bytes(path) -> bytes:
    out = b""
    for p in (path, path.with_name(path.name + "-wal")):
        if p.exists():
            out += p.read_bytes()
    return out


def test_deleted_sessions_leave_no_trace_in_the_file(tmp_path):
    path = tmp_path / "sessions.sqlite3"
    store = SessionStore(path)
    old = store.create_session("first-checkin", "First check-in", learner=MARK, camera="cam.mp4")
    kept = store.create_session("first-checkin", "First check-in", learner="Someone else")
    gone = store.create_session("first-checkin", "First check-in", learner=MARK + "-two")
    con = store.connect()
    con.execute("UPDATE sessions SET started_at = ? WHERE id = ?",
                ((datetime.now(timezone.utc) - timedelta(days=40)).isoformat(timespec="seconds"), old))
    con.close()
    assert MARK.encode() in _file_bytes(path)  # the check below can see the text when it is there

    assert store.delete_older_than(30) == 1  # retention
    store.delete_session(gone)  # Delete... in Past sessions
    assert MARK.encode() not in _file_bytes(path)
    assert [s["id"] for s in store.sessions()] == [kept]
