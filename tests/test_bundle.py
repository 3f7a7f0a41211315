"""Session bundles (store/bundle.py), facilitator notes and ratings, and the debrief migration."""

import dataclasses
import json
import sqlite3
import stat
import zipfile

import pytest
from conftest import played_session as _played_session
from conftest import store_at_version

from trainer.cli import main
from trainer.store.bundle import FORMAT_VERSION, BundleError, export_sessions, import_bundle
from trainer.store.db import GLOBAL_RATING, MIGRATIONS, SessionStore


def _dump(path) -> list[str]:
    con = sqlite3.connect(path)
    try:
        return list(con.iterdump())
    finally:
        con.close()


def _without_ids(rows):
    return [{k: v for k, v in r.items() if k != "id"} for r in rows]


def test_round_trip_into_an_empty_store_and_twice_adds_nothing(tmp_path):
    src = SessionStore(tmp_path / "a.db")
    sid = _played_session(src)
    out = export_sessions(src, [sid], tmp_path / "visit.trainerbundle")
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    dst = SessionStore(tmp_path / "b.db")
    report = import_bundle(dst, out)
    assert len(report.added) == 1 and not report.skipped
    new = report.added[0]
    a = dataclasses.asdict(src.summary(sid))
    b = dataclasses.asdict(dst.summary(new))
    a.pop("session_id"), b.pop("session_id")
    assert a == b and a["frames"] == 120 and a["notices"] == ["The room is dark."]
    assert _without_ids(dst.notes(new)) == _without_ids(src.notes(sid)) and len(dst.notes(new)) == 2
    assert dst.ratings(new) == src.ratings(sid) and dst.ratings(new)[-1]["behaviour"] == GLOBAL_RATING
    assert dst.rubric(new) == src.rubric(sid)
    meta_a, meta_b = src.session(sid), dst.session(new)
    assert meta_b["uuid"] == meta_a["uuid"] and meta_a["origin"] == ""
    assert "visit.trainerbundle, exported from" in meta_b["origin"]
    assert dst.stored_scenario(new).id == "first-checkin"  # replay works without the pack
    before = _dump(tmp_path / "b.db")
    again = import_bundle(dst, out)
    assert again.added == [] and again.skipped == [meta_a["uuid"]]
    assert _dump(tmp_path / "b.db") == before


def test_reflection_travels_only_when_chosen(tmp_path):
    store = SessionStore(tmp_path / "a.db")
    sid = _played_session(store)
    con = store.connect()
    cols = [r[1] for r in con.execute("PRAGMA table_info(sessions)")]
    if "reflection" not in cols:  # the reflection column comes with the learner migration (issue 10)
        con.close()
        pytest.skip("this store has no reflection column")
    con.execute("UPDATE sessions SET reflection = 'I rushed the ending.' WHERE id = ?", (sid,))
    con.close()
    for include in (False, True):
        out = export_sessions(store, [sid], tmp_path / f"r{include}.zip", include_reflection=include)
        with zipfile.ZipFile(out) as z:
            text = b"".join(z.read(n) for n in z.namelist())
        assert (b"I rushed the ending." in text) is include


def _rewrite(src, dst, edit_manifest):
    with zipfile.ZipFile(src) as z:
        members = {n: z.read(n) for n in z.namelist()}
    manifest = json.loads(members["manifest.json"])
    edit_manifest(manifest)
    members["manifest.json"] = json.dumps(manifest).encode()
    with zipfile.ZipFile(dst, "w") as z:
        for n, data in members.items():
            z.writestr(n, data)


def test_damaged_tampered_truncated_and_newer_bundles_are_refused_and_write_nothing(tmp_path):
    src = SessionStore(tmp_path / "a.db")
    out = export_sessions(src, [_played_session(src)], tmp_path / "good.zip")
    good = out.read_bytes()
    dst = SessionStore(tmp_path / "b.db")
    _played_session(dst)  # a store with something in it: it must stay exactly as it is
    before = _dump(tmp_path / "b.db")

    bad = {}
    for pos in (len(good) // 3, len(good) // 2, len(good) - 30):  # one altered byte, in data and directory
        b = bytearray(good)
        b[pos] ^= 0x01
        bad[f"byte{pos}"] = bytes(b)
    bad["truncated"] = good[: len(good) * 2 // 3]
    for name, blob in bad.items():
        (tmp_path / name).write_bytes(blob)
    # Tampered with care: a member edited and the ZIP rebuilt with valid CRCs; only the checksum catches it.
    with zipfile.ZipFile(out) as z:
        members = {n: z.read(n) for n in z.namelist()}
    key = next(n for n in members if n.endswith("session.json"))
    members[key] = members[key].replace(b'"completed"', b'"Completed"')
    with zipfile.ZipFile(tmp_path / "tampered", "w") as z:
        for n, data in members.items():
            z.writestr(n, data)
    _rewrite(out, tmp_path / "future", lambda m: m.update(format_version=FORMAT_VERSION + 1))

    messages = {}
    for name in [*bad, "tampered", "future"]:
        with pytest.raises(BundleError) as err:
            import_bundle(dst, tmp_path / name)
        messages[name] = str(err.value)
        assert _dump(tmp_path / "b.db") == before, name
    assert "does not match its checksum" in messages["tampered"]
    assert "damaged or incomplete" in messages["truncated"]
    assert f"format {FORMAT_VERSION + 1}" in messages["future"] and "Update the trainer" in messages["future"]


def test_cli_export_and_import(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TRAINER_DATA_DIR", str(tmp_path / "here"))
    from trainer.store.paths import default_db_path

    sid = _played_session(SessionStore(default_db_path()))
    assert main(["export", str(sid), "--out", str(tmp_path / "x.zip")]) == 0
    monkeypatch.setenv("TRAINER_DATA_DIR", str(tmp_path / "there"))
    assert main(["import", str(tmp_path / "x.zip")]) == 0
    assert "imported 1 session(s)" in capsys.readouterr().out
    assert main(["import", str(tmp_path / "x.zip")]) == 0
    assert "already in this store" in capsys.readouterr().out
    (tmp_path / "bad.zip").write_bytes((tmp_path / "x.zip").read_bytes()[:200])
    assert main(["import", str(tmp_path / "bad.zip")]) == 1
    assert "damaged or incomplete" in capsys.readouterr().err
    assert len(SessionStore(default_db_path()).sessions()) == 1


def test_debrief_migration_from_every_earlier_schema_version(tmp_path):
    debrief = next(i for i, m in enumerate(MIGRATIONS) if "CREATE TABLE notes" in m)
    for version in range(len(MIGRATIONS)):
        p = tmp_path / f"v{version}.db"
        store_at_version(p, version, sessions=2)
        store = SessionStore(p)
        rows = store.sessions()
        if version >= 1:
            assert len(rows) == 2 and store.frames(1)[0]["gaze"] == "camera"
            if version <= debrief:  # rows older than the uuid column get distinct ids
                assert len({r["uuid"] for r in rows}) == 2 and all(len(r["uuid"]) == 32 for r in rows)
            store.add_note(1, 0.5, "note", "F")
            assert store.notes(1)[0]["text"] == "note" and store.session(1)["origin"] == ""
        con = sqlite3.connect(p)
        assert con.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        con.close()


def test_notes_and_ratings_sit_beside_the_measures(tmp_path):
    store = SessionStore(tmp_path / "a.db")
    sid = _played_session(store)
    measures = store.summary(sid).measures
    store.set_rating(sid, "eye_contact", "clearly shown", "Dr Facil", comment="better on second look")
    store.set_rating(sid, "eye_contact", "not shown", "Peer")
    assert store.summary(sid).measures == measures
    eye = [r for r in store.ratings(sid) if r["behaviour"] == "eye_contact"]
    assert {(r["author"], r["level"]) for r in eye} == {("Dr Facil", "clearly shown"), ("Peer", "not shown")}
    with pytest.raises(Exception, match="needs some text"):
        store.add_note(sid, 1.0, "  ", "F")
    con = store.connect()
    con.execute("DELETE FROM sessions WHERE id = ?", (sid,))
    assert con.execute("SELECT COUNT(*) FROM notes").fetchone()[0] == 0
    assert con.execute("SELECT COUNT(*) FROM ratings").fetchone()[0] == 0
    con.close()
