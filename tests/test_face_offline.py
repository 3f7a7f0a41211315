"""Offline video analysis: no-face input, unreadable and truncated files, progress and cancel, and the
same per-frame path as the live pipeline."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from trainer.analysis.offline_video import analyze_video
from trainer.core.errors import SourceError


def _rows(folder):
    with open(folder / "frames.csv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _write_video(path, frames, fps=15.0):
    import cv2

    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    assert writer.isOpened()
    for f in frames:
        writer.write(f)
    writer.release()


def test_a_video_without_a_face_gives_only_absent(tmp_path):
    # A room-like picture without anyone: a lit wall gradient, a "window", a moving "plant", noise.
    rng = np.random.default_rng(7)
    frames = []
    for i in range(40):
        img = np.zeros((240, 320, 3), np.uint8)
        img[:] = np.linspace(70, 170, 320, dtype=np.uint8)[None, :, None]
        img[30:110, 200:290] = (235, 230, 220)
        x = 40 + i * 2
        img[120:220, x:x + 40] = (40, 120, 50)
        img = np.clip(img.astype(np.int16) + rng.integers(-12, 12, img.shape), 0, 255).astype(np.uint8)
        frames.append(img)
    video = tmp_path / "empty_room.mp4"
    _write_video(video, frames)
    summary = analyze_video(video, tmp_path / "out")
    rows = _rows(tmp_path / "out")
    assert len(rows) == 40
    assert {r["gaze"] for r in rows} == {"absent"}
    assert {r["face"] for r in rows} == {"0"}
    assert all(r["yaw"] == "" and r["expressivity"] == "" for r in rows)
    assert summary["eye_contact_ratio"] is None and summary["engaged_ratio"] is None
    assert summary["face_present_ratio"] == 0.0 and summary["nods"] == 0 and summary["smiles"] == 0
    # "Face lost" is raised once the face has been missing for a moment, and stays.
    assert summary["quality"]["face_lost"] > 0.7
    assert "face_lost" in rows[-1]["quality"].split("|")


def test_unreadable_input_is_a_source_error(tmp_path):
    with pytest.raises(SourceError, match="not found"):
        analyze_video(tmp_path / "missing.mp4", tmp_path / "out")
    fake = tmp_path / "notes.mp4"
    fake.write_text("this is not a video\n" * 100, encoding="utf-8")
    with pytest.raises(SourceError):
        analyze_video(fake, tmp_path / "out2")
    assert not (tmp_path / "out2" / "frames.csv").exists()


def test_truncated_file_keeps_partial_results(fixtures, tmp_path):
    # wide_framing.mp4 has its index at the front, so a cut-off copy still decodes up to the cut.
    data = fixtures("video/wide_framing.mp4").read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])
    summary = analyze_video(cut, tmp_path / "out")
    rows = _rows(tmp_path / "out")
    assert summary["truncated"] is True and "truncated" in summary["message"]
    assert 50 < len(rows) == summary["frames"] < summary["video"]["frames_in_container"]
    assert summary["engaged_ratio"] is not None and summary["duration_s"] < 9.0


def test_truncated_file_without_index_is_unreadable(fixtures, tmp_path):
    # steady_a.mp4 keeps its index at the end: cut off, nothing can be decoded - a clear error.
    data = fixtures("video/steady_a.mp4").read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) * 6 // 10])
    with pytest.raises(SourceError):
        analyze_video(cut, tmp_path / "out")


def test_progress_and_cancel(fixtures, tmp_path):
    calls = []
    summary = analyze_video(fixtures("video/talking_a.mp4"), tmp_path / "a",
                            progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (summary["frames"], summary["frames"])
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)

    asked = 0

    def cancel():
        nonlocal asked
        asked += 1  # asked once before each frame
        return asked > 30

    summary = analyze_video(fixtures("video/talking_a.mp4"), tmp_path / "b", cancel=cancel)
    assert summary["cancelled"] is True and "cancelled" in summary["message"]
    assert summary["frames"] == len(_rows(tmp_path / "b")) == 30


def test_live_pipeline_and_offline_analysis_share_the_per_frame_path(fixtures, tmp_path):
    """The live pipeline (VisitPipeline with the default face processor) fed every frame gives the same
    samples as analyze_video."""
    from trainer.analysis.pipeline import VisitPipeline
    from trainer.capture.video import VideoFileSource
    from trainer.core.clock import SessionClock
    from trainer.core.events import FrameSample

    video = fixtures("video/nods_lookaways.mp4")
    analyze_video(video, tmp_path)
    offline = _rows(tmp_path)
    clock = SessionClock()
    got = []
    pipe = VisitPipeline(VideoFileSource(video, clock=clock, realtime=False), None, clock,
                         lambda ev: got.append(ev) if isinstance(ev, FrameSample) else None,
                         drop_frames=False)
    pipe.prepare()
    clock.start()
    pipe.start()
    pipe.join(60)
    pipe.stop()
    assert len(got) == len(offline)
    for s, r in zip(got, offline):
        assert (round(s.t, 4), s.gaze, "1" if s.nod else "0") == (float(r["t"]), r["gaze"], r["nod"])
        assert "|".join(s.quality) == r["quality"]
        assert s.latency_s is not None


def test_cue_responses_and_speech_keys_in_the_summary(fixtures, tmp_path):
    summary = analyze_video(fixtures("video/talking_nods.mp4"), tmp_path, cue_times=[1.0],
                            speech_segments=[(0.0, 3.0)], patient_segments=[(3.0, 6.6)])
    (cue,) = summary["cue_responses"]
    assert cue["responded"] is True and cue["latency_s"] < 2.0
    assert summary["eye_contact_ratio_speaking"] is not None
    assert summary["eye_contact_ratio_listening"] is not None
    # Two of the three nods fall while the "patient" speaks (3.0-6.6 s).
    assert summary["nods_per_min_patient_speaking"] > 0
