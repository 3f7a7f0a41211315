"""Shared test set-up.

- Fixtures (real recordings) come from $TRAINER_FIXTURES or ../shared/fixtures beside the checkout.
  With CI set, a missing fixture is a failure, never a skip.
- With TRAINER_BLOCK_QT=1 (pass 1 of scripts/run-tests.sh) PySide6 cannot be imported at all.
- Every test gets its own data folder (TRAINER_DATA_DIR), so nothing touches the user's sessions.
"""

from __future__ import annotations

import importlib.abc
import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

# The shortest whole visit (one line, one turn answered by a recording's speech, one line): for tests
# that need a complete real-time visit but not a long one.
TINY_SCENARIO = """id: tiny
title: "Tiny visit"
summary: "One line, one turn, one line."
behaviours: [eye_contact]
expected_minutes: 1
patient: {name: Ann Example, age: 50}
steps:
  - id: hello
    patient: "Hello, can you hear me?"
  - id: answer
    clinician:
      prompt: "Say hello."
      timeout_s: 20
  - id: bye
    patient: "Good, thank you."
    end: true
rubric:
  eye_contact:
    counts: "Looks into the camera while speaking."
    evidence:
      - eye_contact_at_least: 0.4
"""


class _BlockQt(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        if fullname.split(".")[0] in ("PySide6", "shiboken6"):
            raise ModuleNotFoundError(f"{fullname} is blocked: non-UI tests must run without Qt")
        return None


if os.environ.get("TRAINER_BLOCK_QT") == "1":
    sys.meta_path.insert(0, _BlockQt())
    # GUI test modules import Qt at the top; they belong to pass 2 and are not even collected here.
    collect_ignore_glob = ["test_ui_*.py"]


def fixtures_dir() -> Path:
    env = os.environ.get("TRAINER_FIXTURES")
    return Path(env) if env else REPO.parent / "shared" / "fixtures"


def fixture(rel: str) -> Path:
    """Path of a shared fixture; skips locally, fails under CI, when it is missing."""
    p = fixtures_dir() / rel
    if not p.exists():
        msg = f"fixture missing: {p} (set TRAINER_FIXTURES or put ../shared beside the checkout)"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    return p


@pytest.fixture
def fixtures():
    """Call with a path relative to the fixtures folder, e.g. fixtures('video/steady_a.mp4')."""
    return fixture


@pytest.fixture(scope="session")
def _shared_cache_dir(tmp_path_factory):
    # Rendered patient voices are cached across the whole run (rendering each line again per test is slow).
    return tmp_path_factory.mktemp("trainer-cache")


@pytest.fixture(autouse=True)
def _isolated_data_dir(tmp_path, monkeypatch, _shared_cache_dir):
    monkeypatch.setenv("TRAINER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TRAINER_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("TRAINER_CACHE_DIR", str(_shared_cache_dir))
    # A policy installed on the test machine must not leak into tests (empty = no policy applies).
    monkeypatch.setenv("TRAINER_POLICY", "")
    yield


def pytest_collection_modifyitems(config, items):
    # Tests in files named test_ui_*.py (or using qtbot) are GUI tests: they run in pass 2.
    for item in items:
        if item.fspath.basename.startswith("test_ui_") or "qtbot" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.gui)


def remux_to_transport_stream(src_path, dst_path) -> None:
    """Copy a file's H.264 video into MPEG-TS, a container without a global index (like a recording cut
    off by a crash), so that cutting the copy leaves a decodable head."""
    import av

    src = av.open(str(src_path))
    out = av.open(str(dst_path), "w", format="mpegts")
    vs = src.streams.video[0]
    o = out.add_stream_from_template(vs)
    for packet in src.demux(vs):
        if packet.dts is None:
            continue
        packet.stream = o
        out.mux(packet)
    out.close()
    src.close()


def write_wav(path, samples, rate: int = 16000) -> None:
    """Write mono float samples in [-1, 1] as a 16-bit WAV (a recording built from fixture audio)."""
    import wave

    import numpy as np

    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())


def remux_faststart(src_path, dst_path) -> None:
    """Copy a file's streams into an MP4 with its index at the front (as recorders that write "faststart"
    files do), so that cutting the copy leaves a readable head whose index still promises the whole
    length: the reader then knows the file ended early."""
    import av

    src = av.open(str(src_path))
    out = av.open(str(dst_path), "w", format="mp4", options={"movflags": "faststart"})
    streams = {s.index: out.add_stream_from_template(s) for s in src.streams if s.type in ("video", "audio")}
    for packet in src.demux(*[s for s in src.streams if s.index in streams]):
        if packet.dts is None:
            continue
        packet.stream = streams[packet.stream.index]
        out.mux(packet)
    out.close()
    src.close()


def played_session(store) -> int:
    """A short visit of a built-in scenario written through the real writer: frames, both speakers, a cue
    line, a notice and the final rubric, then notes and ratings."""
    from trainer.core.events import (FrameSample, Notice, PatientLineEnded, PatientLineStarted, RubricFinal,
                                     SpeechSegment)
    from trainer.resources import builtin_scenarios_dir
    from trainer.store.db import GLOBAL_RATING

    path = builtin_scenarios_dir() / "first_checkin.yaml"
    sid = store.create_session("first-checkin", "First check-in", camera="cam.mp4", mic="mic.wav",
                               scenario_text=path.read_text(encoding="utf-8"))
    w = store.writer(sid)
    for i in range(120):
        t = i / 10
        w.put(FrameSample(t, i % 17 != 0, "camera" if i % 3 else "screen", 2.0, -1.0, 0.5, 0.3 + i / 500,
                          0.1 * (i % 5), i == 40))
    w.put(PatientLineStarted(0.5, text="Hello doctor, I have been worried.", step="s1", cue=True))
    w.put(PatientLineEnded(3.0, step="s1"))
    w.put(SpeechSegment(0.5, 3.0, "patient"))
    w.put(SpeechSegment(3.6, 7.2, "clinician"))
    w.put(SpeechSegment(8.0, 11.0, "clinician"))
    w.put(Notice(5.0, "low_light", "The room is dark."))
    w.put(RubricFinal(11.5, rubric=({"behaviour": "eye_contact", "met": True},)))
    w.close("completed", duration_s=40.0)  # over the 0:30 under which Past sessions hides a session
    store.add_note(sid, 3.2, "Good pause after the worry.", author="Dr Facil")
    store.add_note(sid, 8.0, "Check the jargon here.", author="Dr Facil")
    store.set_rating(sid, "eye_contact", "partly shown", "Dr Facil", comment="looked down at notes")
    store.set_rating(sid, GLOBAL_RATING, "4", "Dr Facil")
    return sid


def settle(qtbot, window, timeout: int = 20000) -> None:
    """Let the window's background store reads finish: the store's change announcements (queued signals)
    are delivered, the reloads they start run, and their results are shown."""
    from PySide6.QtWidgets import QApplication

    for _ in range(3):
        QApplication.processEvents()
        qtbot.waitUntil(lambda: window.data.pending == 0, timeout=timeout)


def store_at_version(path, version: int, sessions: int = 1) -> None:
    """Write an SQLite store as an app of schema `version` (the first `version` migrations) left it, with
    `sessions` sessions (from version 1 on), the first with one frame and one clinician speech segment."""
    import sqlite3

    from trainer.store.db import MIGRATIONS

    con = sqlite3.connect(path, isolation_level=None)
    for i in range(version):
        con.executescript(MIGRATIONS[i])
    con.execute(f"PRAGMA user_version = {version}")
    if version >= 1:
        for _ in range(sessions):
            con.execute("INSERT INTO sessions (scenario_id, scenario_title, started_at, status, duration_s) "
                        "VALUES ('first-checkin', 'First', '2026-01-01T00:00:00+00:00', 'completed', 60)")
        con.execute("INSERT INTO frames (session_id, t, face, gaze) VALUES (1, 0.5, 1, 'camera')")
        con.execute("INSERT INTO speech (session_id, speaker, start, \"end\") VALUES (1, 'clinician', 1, 4)")
    con.close()


def recorded_session(store) -> int:
    """`played_session` with a 3-second video recording written by the real recorder from a fixture video
    (frames at 20 fps on the session clock from t = 0, and a tone as the patient's voice at 0.5-1.5 s)."""
    import cv2
    import numpy as np

    from trainer.capture.base import Frame
    from trainer.store.recording import VideoRecorder, recording_path

    sid = played_session(store)
    rec = VideoRecorder(recording_path(store.path, store.session(sid)["uuid"]), audio_rate=24000, block=True)
    cap = cv2.VideoCapture(str(fixture("video/nods_lookaways.mp4")))
    for i in range(60):
        ok, img = cap.read()
        if not ok:
            break
        rec.add_frame(Frame(i / 20, img, i))
    cap.release()
    rec.add_audio(0.5, (np.sin(np.arange(24000) / 10) * 0.3).astype(np.float32), 24000)
    stats = rec.close()
    assert stats.frames >= 25 and stats.error is None, stats
    return sid
