"""The store announces its changes (one owner of the database; the GUI reloads from these), and a store
migrated from any earlier schema version ends up with exactly the schema of a new one."""

import sqlite3
import threading
from datetime import datetime, timedelta, timezone

from conftest import played_session, store_at_version

from trainer.store.bundle import export_sessions, import_bundle
from trainer.store.db import GLOBAL_RATING, MIGRATIONS, SessionStore, StoreChange


def test_every_change_is_announced_with_its_sessions_after_the_commit(tmp_path):
    store = SessionStore(tmp_path / "a.db")
    heard: list[tuple[StoreChange, str]] = []

    def listener(change):
        # Announced after the commit: another connection already sees the change.
        con = sqlite3.connect(tmp_path / "a.db")
        counts = con.execute("SELECT (SELECT COUNT(*) FROM sessions), (SELECT COUNT(*) FROM notes), "
                             "(SELECT COUNT(*) FROM ratings)").fetchone()
        con.close()
        heard.append((change, threading.current_thread().name, counts))

    remove = store.add_listener(listener)
    sid = played_session(store)  # create, writer close (on the writer's caller), 2 notes, 2 ratings
    kinds = [(c.kind, c.session_ids) for c, _t, _n in heard]
    assert kinds == [("session_started", (sid,)), ("session_saved", (sid,)), ("notes", (sid,)), ("notes", (sid,)),
                     ("ratings", (sid,)), ("ratings", (sid,))]
    assert heard[3][2] == (1, 2, 0) and heard[5][2] == (1, 2, 2)
    heard.clear()
    store.set_reflection(sid, {"skipped": True})
    note = store.notes(sid)[0]["id"]
    store.delete_note(note)
    store.set_rating(sid, GLOBAL_RATING, "5", "Peer")
    assert [c.kind for c, _t, _n in heard] == ["reflection", "notes", "ratings"]

    # A save finished on another thread (as the GUI ends a visit on a worker) is heard on that thread.
    heard.clear()
    other = store.create_session("sc", "Other")
    t = threading.Thread(target=lambda: store.writer(other).close("completed", duration_s=1.0), name="ender")
    t.start()
    t.join()
    assert [(c.kind, th) for c, th, _n in heard] == [("session_started", "MainThread"), ("session_saved", "ender")]

    # Import: one announcement for the sessions added; nothing when the bundle adds nothing.
    export_sessions(store, [sid], tmp_path / "b.zip")
    dst = SessionStore(tmp_path / "b.db")
    got: list[StoreChange] = []
    dst.add_listener(got.append)
    report = import_bundle(dst, tmp_path / "b.zip")
    import_bundle(dst, tmp_path / "b.zip")
    assert got == [StoreChange("sessions_imported", tuple(report.added))]

    heard.clear()
    store.delete_session(other)
    old = datetime.now(timezone.utc) + timedelta(days=30)
    assert store.delete_older_than(7, now=old) == 1
    assert [(c.kind, c.session_ids) for c, _t, _n in heard] == [("sessions_deleted", (other,)),
                                                                ("sessions_deleted", (sid,))]
    remove()
    store.create_session("sc", "Unheard")
    assert len(heard) == 2


def _schema(path) -> set[tuple]:
    """Tables with their columns (name, type, not null, default, primary key) and the indexes."""
    con = sqlite3.connect(path)
    out = set()
    for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"):
        out |= {(name, *col[1:]) for col in con.execute(f"PRAGMA table_info({name})")}
    out |= {("index", r[0], r[1]) for r in con.execute("SELECT name, tbl_name FROM sqlite_master WHERE type = 'index'")}
    con.close()
    return out


def test_a_store_migrated_from_every_earlier_version_has_the_new_schema_and_keeps_its_rows(tmp_path):
    fresh = tmp_path / "fresh.db"
    SessionStore(fresh)
    for version in range(len(MIGRATIONS)):
        p = tmp_path / f"v{version}.db"
        store_at_version(p, version)
        store = SessionStore(p)
        assert _schema(p) == _schema(fresh), version
        if version >= 1:
            assert store.history()[0]["clinician_s"] == 3 and store.session(1)["learner"] == ""
            store.set_rating(1, "eye_contact", "partly shown", "F")
            store.set_reflection(1, {"skipped": True})
            assert store.progress()["ratings"][0]["levels"] == ["partly shown"]


def test_a_failing_listener_is_reported_and_does_not_undo_or_stop_the_change(tmp_path, monkeypatch):
    import sys

    store = SessionStore(tmp_path / "a.db")
    sid = store.create_session("sc", "S")
    reported, heard = [], []

    def broken(change):
        raise RuntimeError("listener broke")

    store.add_listener(broken)
    store.add_listener(heard.append)
    monkeypatch.setattr(sys, "excepthook", lambda *info: reported.append(info[1]))
    store.add_note(sid, 1.0, "kept", "F")
    assert [n["text"] for n in store.notes(sid)] == ["kept"] and heard == [StoreChange("notes", (sid,))]
    assert [str(e) for e in reported] == ["listener broke"]
