"""The small wrong answers of the privacy/reliability review, each with the answer it should give: usage
errors in one line with a non-zero exit, no traceback for `--out FILE`, a negative device index named as
such, a one-frame video analysed, no Infinity in summary.json, no Python class names in messages, the
self-test checking the real data folder, and purged sessions overwritten in the file."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest

from trainer.core.errors import ScenarioError


def _trainer(*args, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "trainer", *args], capture_output=True, text=True, timeout=300,
                          **kw)


@pytest.mark.parametrize("args, fragment", [
    (["analyze"], "the following arguments are required"),
    (["run", "first-checkin", "--camera", "-1"], "camera index is 0 or more"),
    (["gui", "--mic", "-2"], "microphone index is 0 or more"),
    (["validate"], "the following arguments are required"),
])
def test_usage_errors_are_one_line_with_exit_2(args, fragment):
    proc = _trainer(*args)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0], proc.stderr


def test_analyze_out_pointing_at_a_file_is_an_error_not_a_traceback(tmp_path, fixtures):
    target = tmp_path / "file.txt"
    target.write_text("x")
    proc = _trainer("analyze", str(fixtures("audio/speech_short.wav")), "--out", str(target), "--quiet")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "is a file" in proc.stderr and target.read_text() == "x"


def test_a_one_frame_video_is_analysed(tmp_path):
    import av
    import numpy as np

    clip = tmp_path / "one.mp4"
    out = av.open(str(clip), "w")
    s = out.add_stream("libx264", rate=30)
    s.width, s.height, s.pix_fmt = 320, 240, "yuv420p"
    for packet in s.encode(av.VideoFrame.from_ndarray(np.zeros((240, 320, 3), np.uint8), format="rgb24")):
        out.mux(packet)
    for packet in s.encode():
        out.mux(packet)
    out.close()
    proc = _trainer("analyze", str(clip), "--out", str(tmp_path / "out"), "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert json.loads((tmp_path / "out" / "summary.json").read_text())["frames"] == 1


def _strict(text: str):
    def refuse(name):
        raise ValueError(f"not JSON: {name}")
    return json.loads(text, parse_constant=refuse)


def test_an_infinite_patient_segment_is_refused_and_summary_json_stays_strict(tmp_path, fixtures):
    wav = str(fixtures("audio/speech_short.wav"))
    seg = tmp_path / "p.csv"
    seg.write_text("start,end\n0,inf\n")
    proc = _trainer("analyze", wav, "--out", str(tmp_path / "a"), "--patient-segments", str(seg), "--quiet")
    assert proc.returncode == 2 and "finite" in proc.stderr
    seg.write_text("start,end\n0.5,1.0\n")
    proc = _trainer("analyze", wav, "--out", str(tmp_path / "b"), "--patient-segments", str(seg), "--quiet")
    assert proc.returncode == 0, proc.stderr
    _strict((tmp_path / "b" / "summary.json").read_text())


def test_the_summary_writer_never_emits_nan_or_infinity():
    from trainer.analysis.offline import _finite

    out = json.dumps(_finite({"a": float("inf"), "b": [float("nan"), 1.5], "c": {"d": -float("inf")}}),
                     allow_nan=False)
    assert _strict(out) == {"a": None, "b": [None, 1.5], "c": {"d": None}}


def test_messages_name_kinds_of_values_not_python_classes():
    from trainer.core.scenario import parse_scenario

    with pytest.raises(ScenarioError) as info:
        parse_scenario("id: x\ntitle: 2024-05-01\n", "s.yaml")
    assert "a date" in str(info.value) and "datetime" not in str(info.value)


def test_self_test_checks_the_data_folder_the_app_will_use(monkeypatch):
    from trainer.selftest import check_data_folder

    monkeypatch.setenv("TRAINER_DATA_DIR", "/dev/null")
    with pytest.raises(RuntimeError, match="not a folder"):
        check_data_folder()


def test_purged_sessions_are_overwritten_in_the_file(tmp_path):
    from trainer.core.events import Notice
    from trainer.store.db import SessionStore

    path = tmp_path / "s.sqlite3"
    store = SessionStore(path)
    sid = store.create_session("old", "Old visit")
    w = store.writer(sid)
    w.put(Notice(1.0, "x", "PRIVATE-MARKER " * 50))
    w.close()
    con = sqlite3.connect(path)
    con.execute("UPDATE sessions SET started_at = ?",
                ((datetime.now(timezone.utc) - timedelta(days=400)).isoformat(timespec="seconds"),))
    con.commit()
    con.close()
    assert store.delete_older_than(30) == 1
    con = sqlite3.connect(path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    assert b"PRIVATE-MARKER" not in path.read_bytes()
