"""Ctrl+C (SIGINT) and SIGTERM during a visit end it like End call: the app exits cleanly (status 0, no
traceback) and the stored session is closed ('ended_early', with its end time), not left 'interrupted'."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX signals")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_ends_the_visit_like_end_call(sig, tmp_path, fixtures):
    video = str(fixtures("video/talking_nods.mp4"))
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", TRAINER_DATA_DIR=str(tmp_path / "data"))
    proc = subprocess.Popen([sys.executable, "-m", "trainer", "run", "first-checkin", "--camera", video,
                             "--mic", video], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    db = tmp_path / "data" / "sessions.sqlite3"
    deadline = time.monotonic() + 240
    frames = 0
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.5)
            if db.exists():
                try:
                    con = sqlite3.connect(db)
                    frames = con.execute("SELECT COUNT(*) FROM frames").fetchone()[0]
                    con.close()
                except sqlite3.Error:
                    frames = 0
                if frames > 10:
                    break
        assert frames > 10, "the visit did not start"
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err[-3000:]
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err[-3000:]
    con = sqlite3.connect(db)
    status, ended_at, duration = con.execute("SELECT status, ended_at, duration_s FROM sessions").fetchone()
    kinds = [r[0] for r in con.execute("SELECT kind FROM events ORDER BY t")]
    con.close()
    assert status == "ended_early" and ended_at and duration > 0
    assert "visit_end" in kinds
