"""Crash-safe speech and honest lengths: the clinician's speech in progress is in the database before it
ends (a crash keeps it up to the last commit); a session never closed is 'interrupted' with the length
of what was stored, or, if its visit had already ended, says how it ended; a real SIGKILL mid-visit
leaves such a record."""

from __future__ import annotations

import sqlite3
import sys
import time
from pathlib import Path

from trainer.core.events import AudioLevel, FrameSample, SpeechSegment, SpeechStarted, VisitEnded
from trainer.store.db import COMMIT_INTERVAL_S, SessionStore

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from bench_crash import one_run  # noqa: E402


def _stored_speech(path):
    con = sqlite3.connect(path)  # what a crash at this moment would leave: committed rows only
    try:
        return con.execute('SELECT speaker, start, "end" FROM speech').fetchall()
    finally:
        con.close()


def test_speech_in_progress_is_stored_as_it_grows_and_closed_in_place(tmp_path):
    store = SessionStore(tmp_path / "s.sqlite3")
    sid = store.create_session("x", "X")
    w = store.writer(sid)
    w.put(SpeechStarted(1.0))
    for i in range(16):
        w.put(AudioLevel(1.0 + i * 0.064, -20.0, True))
    time.sleep(COMMIT_INTERVAL_S * 4 + 0.3)
    rows = _stored_speech(tmp_path / "s.sqlite3")
    assert rows == [("clinician", 1.0, 1.0 + 15 * 0.064)]  # open, up to the last speaking block
    for i in range(16, 30):
        w.put(AudioLevel(1.0 + i * 0.064, -20.0, True))
    time.sleep(COMMIT_INTERVAL_S * 4 + 0.3)
    assert _stored_speech(tmp_path / "s.sqlite3")[0][2] == 1.0 + 29 * 0.064  # it grew
    w.put(SpeechSegment(0.98, 2.9, "clinician"))
    w.close()
    assert store.speech(sid, "clinician") == [(0.98, 2.9)]  # the same row, now closed


def test_a_session_never_closed_gets_the_length_of_what_was_stored(tmp_path):
    store = SessionStore(tmp_path / "s.sqlite3")
    crashed = store.create_session("x", "X")
    w = store.writer(crashed)
    for i in range(150):
        w.put(FrameSample(i / 30, True, "camera"))
    w.put(SpeechSegment(1.0, 5.2, "clinician"))
    time.sleep(COMMIT_INTERVAL_S * 4 + 0.3)  # committed, then "the process dies" (the writer is abandoned)
    meta = store.session(crashed)
    assert meta["status"] == "interrupted" and meta["duration_s"] == 5.2
    assert store.summary(crashed).duration_s == 5.2
    finished = store.create_session("x", "X")
    w2 = store.writer(finished)
    w2.put(VisitEnded(61.5, reason="completed"))
    time.sleep(COMMIT_INTERVAL_S * 4 + 0.3)  # the visit ended; the process died before closing
    meta = store.session(finished)
    assert meta["status"] == "completed" and meta["duration_s"] == 61.5
    assert [h["status"] for h in store.history()] == ["completed", "interrupted"]


def test_a_real_kill_leaves_an_interrupted_session_with_its_speech(tmp_path):
    import os

    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent))
    r = one_run(tmp_path / "d", 4.5, env)
    assert r["status"] == "interrupted"
    assert r["segments_missing"] == 0, r
    assert r["speech_rows"] >= 1 and r["lost_s"] < r["killed_at"]
