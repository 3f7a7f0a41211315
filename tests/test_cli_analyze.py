"""`trainer analyze` as other tools use it (DESIGN.md section 5): files, columns, keys, exit codes."""

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

TRAINER = str(Path(sys.executable).with_name("trainer"))
VIDEO_KEYS = {"duration_s", "eye_contact_ratio", "engaged_ratio", "nods_per_min", "expressivity_index", "smiles",
              "speech_s", "frames", "processing_fps", "calibrated", "quality"}
TALK_KEYS = {"clinician_talk_s", "patient_talk_s", "clinician_share", "interruptions", "longest_monologue_s",
             "response_latencies_s"}


def analyze(*args):
    return subprocess.run([TRAINER, "analyze", *map(str, args)], capture_output=True, text=True, timeout=300,
                          env={**os.environ})


@pytest.fixture(scope="module")
def talking(tmp_path_factory):
    from conftest import fixture

    out = tmp_path_factory.mktemp("talking")
    proc = analyze(fixture("video/talking_nods.mp4"), "--out", out)
    return proc, out


def test_video_with_sound_gives_frames_voice_and_summary(talking):
    proc, out = talking
    assert proc.returncode == 0, proc.stderr[-1500:]
    assert "100%" in proc.stderr  # progress was shown
    with open(out / "frames.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 199
    assert {"t", "face", "gaze", "yaw", "pitch", "roll", "expressivity", "smile", "nod"} <= set(rows[0])
    assert all(r["gaze"] in ("camera", "screen", "away", "absent", "unknown") for r in rows)
    assert float(rows[-1]["t"]) == pytest.approx(198 / 30, abs=0.05)
    assert sum(int(r["nod"]) for r in rows) >= 3
    with open(out / "voice.csv", newline="") as fh:
        segs = [(float(r["start"]), float(r["end"])) for r in csv.DictReader(fh)]
    assert segs and sum(e - s for s, e in segs) > 4.0
    summary = json.loads((out / "summary.json").read_text())
    assert VIDEO_KEYS <= set(summary)
    assert summary["calibrated"] is False and summary["frames"] == 199
    assert summary["processing_fps"] > 0
    # The 6.6 s clip is under the 20 s coverage minimum: measures say so instead of a percentage.
    eye = summary["measures"]["eye_contact"]
    assert eye["value"] is None and eye["shown"] == "not enough to judge" and 6.0 < eye["measured_s"] < 7.0


def test_audio_file_with_patient_segments_gives_talk_time_keys(tmp_path, fixtures):
    proc = analyze(fixtures("audio/call_two_speakers.wav"), "--out", tmp_path,
                   "--patient-segments", fixtures("audio/call_two_speakers.rttm"), "--quiet")
    assert proc.returncode == 0, proc.stderr[-1500:]
    assert not (tmp_path / "frames.csv").exists()
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert TALK_KEYS <= set(summary)
    assert 0.0 < summary["clinician_share"] < 1.0
    assert isinstance(summary["interruptions"], list)
    # The same talk share as a live visit's summary would show (core.measures), when long enough.
    share = summary["measures"]["talk_share"]
    assert share["coverage"] == 1.0 and (share["value"] is None or
                                         share["value"] == pytest.approx(summary["clinician_share"], abs=1e-3))


def test_unreadable_input_exits_non_zero_with_a_message(tmp_path):
    bad = tmp_path / "clip.mp4"
    bad.write_bytes(b"definitely not a video" * 100)
    proc = analyze(bad, "--out", tmp_path / "out")
    assert proc.returncode == 2
    assert "error:" in proc.stderr and "clip.mp4" in proc.stderr
    missing = analyze(tmp_path / "nope.mp4", "--out", tmp_path / "out2")
    assert missing.returncode == 2 and "not found" in missing.stderr


def _first_half(remux, src, tmp_path, ext):
    """`src` copied by `remux` into a .ext file, cut after half its bytes (a recording cut off)."""
    whole = tmp_path / f"whole.{ext}"
    remux(src, whole)
    cut = tmp_path / f"cut.{ext}"
    data = whole.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    return cut


def test_truncated_video_keeps_partial_results_and_says_so(tmp_path, fixtures):
    from conftest import remux_to_transport_stream

    cut = _first_half(remux_to_transport_stream, fixtures("video/steady_a.mp4"), tmp_path, "ts")
    proc = analyze(cut, "--out", tmp_path / "out", "--quiet")
    # A transport stream has no index: a cut one cannot be told from a short recording, so the head is
    # analysed as a whole file (exit 0, no warning). An indexed file says so: the next test.
    assert proc.returncode == 0, proc.stderr[-1500:]
    with open(tmp_path / "out" / "frames.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert 30 < len(rows) < 216
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["frames"] == len(rows)


def test_truncated_indexed_video_exits_1_with_the_analysis_message(tmp_path, fixtures):
    from conftest import remux_faststart

    cut = _first_half(remux_faststart, fixtures("video/steady_a.mp4"), tmp_path, "mp4")
    proc = analyze(cut, "--out", tmp_path / "out", "--quiet")
    assert proc.returncode == 1, proc.stderr[-1500:]
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["truncated"] is True and 30 < summary["frames"] < 216
    # The warning is the analysis's own message: what broke and what the results cover.
    assert f"warning: {summary['message']}" in proc.stderr
    assert "cut.mp4 ended after" in summary["message"] and "the results cover the first" in summary["message"]
