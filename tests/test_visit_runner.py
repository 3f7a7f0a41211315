"""A whole visit without the GUI: real fixture video and audio through the real pipeline into SQLite,
and the visit carrying on with clear notices when an input is missing or broken."""

import time

import pytest

from trainer.core.scenario import discover_scenarios
from trainer.resources import builtin_scenarios_dir
from trainer.store.db import SessionStore
from trainer.visit import VisitRunner


@pytest.fixture
def scenario():
    return discover_scenarios([builtin_scenarios_dir()])[0][0]


def _run(scenario, store, camera, mic, seconds):
    events = []
    runner = VisitRunner(scenario, store, camera=camera, mic=mic, listener=events.append, realtime=False)
    sid = runner.start()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(0.05)
        finished = {e.kind for e in events if type(e).__name__ == "SourceFinished"}
        if finished >= {k for k, spec in (("camera", camera), ("mic", mic)) if spec is not None} and \
                runner.pipeline.frames_analyzed + 1 >= 0:
            break
    runner.end()
    return sid, events


def test_fixture_visit_is_stored(scenario, tmp_path, fixtures):
    video = str(fixtures("video/talking_nods.mp4"))
    store = SessionStore(tmp_path / "s.db")
    sid, _ = _run(scenario, store, video, video, 30)
    s = store.summary(sid)
    assert s.frames == 199
    assert s.face_present_ratio >= 0.95
    assert s.clinician_talk_s > 3.0  # she speaks for most of the 6.6 s clip
    assert s.status == "ended_early"
    kinds = [e["kind"] for e in store.events(sid)]
    assert kinds[0] == "visit_start" and "patient_line" in kinds and kinds[-1] == "visit_end"
    frames = store.frames(sid)
    assert all(f["yaw"] is not None for f in frames if f["face"])


def test_missing_camera_and_microphone_leave_a_running_visit_with_notices(scenario, tmp_path, fixtures):
    store = SessionStore(tmp_path / "s.db")
    events = []
    # Index 7: no such camera here. "default" microphone: this machine has none (or PortAudio is absent).
    runner = VisitRunner(scenario, store, camera="7", mic="default", listener=events.append)
    sid = runner.start()
    time.sleep(0.5)
    runner.end()
    notices = {e["data"]["code"]: e["data"]["message"] for e in store.events(sid, "notice")}
    assert "camera_unavailable" in notices and "face feedback" in notices["camera_unavailable"].lower()
    import sounddevice as sd

    if not any(d["max_input_channels"] > 0 for d in sd.query_devices()):
        assert "mic_unavailable" in notices and "talk-time feedback is off" in notices["mic_unavailable"].lower()
    # The scenario itself ran: the patient's first line was played and stored.
    assert store.events(sid, "patient_line")
    assert store.summary(sid).status == "ended_early"


def test_unreadable_video_is_reported_and_the_rest_is_kept(scenario, tmp_path, fixtures):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"garbage" * 1000)
    store = SessionStore(tmp_path / "s.db")
    sid, _ = _run(scenario, store, str(bad), str(fixtures("audio/speech_short.wav")), 10)
    s = store.summary(sid)
    assert any("Cannot read video file" in n and "broken.mp4" in n for n in s.notices)
    assert s.frames == 0
    assert s.clinician_talk_s > 0.5  # the microphone side still worked


def _save_calibration_for(video_path):
    """A real calibration from the steady_b clip's gaze (camera) and the same track shifted 12 degrees down
    (standing in for looking at the patient below the lens), saved for this user and camera."""
    from dataclasses import replace

    from trainer.analysis.calibration import CalibrationRecorder, save_calibration
    from trainer.analysis.face import create_face_processor
    from trainer.capture.video import VideoFileSource
    from trainer.visit import camera_key, current_user

    rec = CalibrationRecorder()
    proc = create_face_processor()
    src = VideoFileSource(video_path, realtime=False)
    try:
        for frame in src.frames():
            rec.add("camera", proc.process(frame)[1])
    finally:
        proc.close()
        src.close()
    rec.samples["screen"] = [replace(m, pitch=m.pitch - 12.0) for m in rec.samples["camera"]]
    return save_calibration(rec.fit(current_user(), camera_key(str(video_path))))


def test_saved_calibration_is_used_and_recorded(scenario, tmp_path, fixtures):
    video = fixtures("video/steady_b.mp4")
    _save_calibration_for(video)
    store = SessionStore(tmp_path / "s.db")
    runner = VisitRunner(scenario, store, camera=str(video), mic=None, realtime=False)
    assert runner.calibration is not None
    sid = runner.start()
    time.sleep(0.5)
    runner.end()
    assert store.session(sid)["calibrated"] == 1


def test_damaged_calibration_falls_back_to_default_with_a_notice(scenario, tmp_path, fixtures):
    from trainer.analysis.calibration import calibration_path
    from trainer.visit import camera_key, current_user

    video = str(fixtures("video/steady_a.mp4"))
    p = calibration_path(current_user(), camera_key(video))
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text("{ not json", encoding="utf-8")
    store = SessionStore(tmp_path / "s.db")
    runner = VisitRunner(scenario, store, camera=video, mic=None, realtime=False)
    sid = runner.start()
    runner.end()
    assert store.session(sid)["calibrated"] == 0
    notes = [e["data"]["message"] for e in store.events(sid, "notice")]
    assert any("damaged" in n and "default camera position" in n for n in notes)
