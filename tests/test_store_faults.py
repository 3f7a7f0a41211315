"""Storage faults are loud and lose nothing they need not: a file locked by another program and a full
disk (a real, small tmpfs mounted in a private mount namespace) mid-visit give a notice naming the cause
within 2 s, the samples are held in memory and written once storage works again; at start-up a full disk,
a read-only folder, a lock and a damaged file each get their own diagnosis, and a damaged file is set
aside as a byte-for-byte copy (a healthy one never is)."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from trainer.core.errors import StoreError
from trainer.core.events import FrameSample
from trainer.store.db import SessionStore

REPO = Path(__file__).resolve().parent.parent


class _Feeder:
    """Puts 30 frame samples a second into a writer (as the pipeline does) on its own thread."""

    def __init__(self, writer):
        self.writer, self.n, self._stop = writer, 0, threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def _run(self):
        while not self._stop.wait(1 / 30):
            self.writer.put(FrameSample(self.n / 30, True, "camera", 1.0, 2.0, 0.0, 0.1, 0.0))
            self.n += 1

    def stop(self) -> int:
        self._stop.set()
        self._t.join()
        return self.n


def test_a_lock_held_by_another_program_is_reported_at_once_and_nothing_is_lost(tmp_path):
    store = SessionStore(tmp_path / "s.sqlite3")
    sid = store.create_session("x", "X")
    problems: list[tuple[float, object]] = []
    w = store.writer(sid, on_problem=lambda p: problems.append((time.monotonic(), p)))
    feeder = _Feeder(w)
    time.sleep(0.6)
    other = sqlite3.connect(tmp_path / "s.sqlite3", isolation_level=None)  # "another program"
    other.execute("BEGIN IMMEDIATE")
    locked_at = time.monotonic()
    deadline = locked_at + 4
    while not problems and time.monotonic() < deadline:
        time.sleep(0.05)
    assert problems and problems[0][1].code == "locked", problems
    assert problems[0][0] - locked_at < 2.0
    assert "s.sqlite3" in problems[0][1].message and "Close other" in problems[0][1].fix
    time.sleep(1.5)
    other.execute("ROLLBACK")
    other.close()
    time.sleep(1.5)
    n = feeder.stop()
    w.close()
    assert problems[-1][1] is None  # recovered, and said so
    assert len(store.frames(sid)) == n
    assert store.session(sid)["status"] == "completed"


# -- a real full disk and a real read-only folder, in a private mount namespace ------------------------

_CHILD = r"""
import json, os, sys, time, threading
sys.path.insert(0, sys.argv[2])
from pathlib import Path
from trainer.core.errors import StoreError
from trainer.core.events import FrameSample
from trainer.store.db import SessionStore
mnt = Path(sys.argv[1]); mode = sys.argv[3]
out = {}
def fill_disk():
    with open(mnt / "filler", "wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536); f.flush()
        except OSError:
            pass
if mode == "full-mid-visit":
    store = SessionStore(mnt / "data" / "s.sqlite3")
    sid = store.create_session("x", "X")
    problems = []
    w = store.writer(sid, on_problem=lambda p: problems.append((time.monotonic(), p and p.code, p and p.message)))
    n = 0
    def feed(seconds):
        global n
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            w.put(FrameSample(n / 30, True, "camera", 1.0, 2.0, 0.0, 0.1, 0.0)); n += 1
            time.sleep(1 / 30)
    feed(1.0)
    fill_disk()
    full_at = time.monotonic()
    feed(3.0)
    os.unlink(mnt / "filler")
    feed(2.0)
    w.close()
    out = {"notice_after_s": (problems[0][0] - full_at) if problems else None,
           "codes": [p[1] for p in problems], "message": problems[0][2] if problems else "",
           "put": n, "stored": len(store.frames(sid)), "status": store.session(sid)["status"]}
elif mode == "full-at-start":
    fill_disk()
    try:
        SessionStore(mnt / "new" / "s.sqlite3")
        out = {"error": None}
    except StoreError as exc:
        out = {"error": str(exc)}
elif mode == "read-only":
    SessionStore(mnt / "data" / "s.sqlite3")  # a healthy store...
    os.system(f"mount -o remount,ro {mnt}")  # ...on a folder that became read-only
    try:
        store = SessionStore(mnt / "data" / "s.sqlite3")
        store.create_session("x", "X")
        out = {"error": None}
    except StoreError as exc:
        out = {"error": str(exc)}
    out["files"] = sorted(os.listdir(mnt / "data"))
print("RESULT " + json.dumps(out))
"""


def _in_namespace(tmp_path: Path, mode: str) -> dict:
    if shutil.which("unshare") is None:
        pytest.skip("unshare is not available")
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    cmd = ["unshare", "-Urm", "sh", "-c",
           f"mount -t tmpfs -o size=3m tmpfs '{mnt}' && exec '{sys.executable}' -c \"$0\" \"$@\"",
           _CHILD, str(mnt), str(REPO), mode]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if "RESULT " not in proc.stdout:
        if "mount" in proc.stderr or "unshare" in proc.stderr:
            pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.strip()[:200]}")
        raise AssertionError(proc.stdout[-2000:] + proc.stderr[-3000:])
    return json.loads(proc.stdout.split("RESULT ", 1)[1])


def test_a_full_disk_mid_visit_is_reported_within_2_s_and_the_held_samples_are_written(tmp_path):
    r = _in_namespace(tmp_path, "full-mid-visit")
    assert r["codes"][0] == "disk_full" and r["codes"][-1] is None, r
    assert r["notice_after_s"] < 2.0, r
    assert "is full" in r["message"] and "/data" in r["message"]
    assert r["stored"] == r["put"], r  # every sample, including those taken while the disk was full
    assert r["status"] == "completed"


def test_full_disk_at_start_is_not_called_damage(tmp_path):
    r = _in_namespace(tmp_path, "full-at-start")
    assert r["error"] and "is full" in r["error"] and "damaged" not in r["error"], r


def test_read_only_folder_at_start_names_the_folder_and_the_fix(tmp_path):
    r = _in_namespace(tmp_path, "read-only")
    assert r["error"] and "cannot be written" in r["error"] and "/data" in r["error"], r
    assert "chmod" in r["error"] and "move" not in r["error"].lower()
    assert not any("damaged" in f for f in r["files"])  # a healthy file is never set aside


def test_a_damaged_store_is_found_on_open_and_set_aside_as_a_copy(tmp_path):
    path = tmp_path / "s.sqlite3"
    store = SessionStore(path)
    sid = store.create_session("x", "X")
    w = store.writer(sid)
    for i in range(3000):
        w.put(FrameSample(i / 30, True, "camera", 1.0, 2.0, 0.0, 0.1, 0.0))
    w.close()
    con = sqlite3.connect(path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    data = bytearray(path.read_bytes())
    page = 4096
    assert len(data) > 8 * page
    data[5 * page: 5 * page + 1000] = os.urandom(1000)  # a page inside the file overwritten with noise
    path.write_bytes(bytes(data))
    fresh = SessionStore(path)
    assert fresh.set_aside is not None and fresh.set_aside.read_bytes() == bytes(data)
    assert "damaged" in fresh.set_aside.name
    assert fresh.sessions() == []  # a new, working store
    sid2 = fresh.create_session("y", "Y")
    assert fresh.session(sid2)["scenario_id"] == "y"


def test_a_lock_at_start_is_diagnosed_as_a_lock(tmp_path):
    store = SessionStore(tmp_path / "s.sqlite3")
    other = sqlite3.connect(tmp_path / "s.sqlite3", isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StoreError, match="Another program is holding"):
            store.create_session("x", "X")
    finally:
        other.execute("ROLLBACK")
        other.close()
