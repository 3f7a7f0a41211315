"""Inputs that stop are said to have stopped (issue 9): SourceStatus events and notices from the pipeline,
judged on the session clock, stored by the session writer.

The monitor's rules run on a hand-driven clock; the pipeline runs with real fixture files (a 7 s video as
the camera beside a longer microphone recording, a microphone track with digital silence in it)."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from conftest import write_wav

from trainer.analysis.pipeline import SourceMonitor, VisitPipeline
from trainer.analysis.voice import create_voice_processor
from trainer.capture.audio import AudioFileSource, decode_audio
from trainer.capture.video import VideoFileSource
from trainer.core.clock import SessionClock, clock_text
from trainer.core.events import Notice, SourceStatus


def _states(events, source=None):
    return [(e.source, e.state, e.t) for e in events if isinstance(e, SourceStatus)
            and (source is None or e.source == source)]


def test_monitor_states_on_the_session_clock():
    m = SourceMonitor("camera", started_at=0.0)
    assert m.check(2.0) == []  # a device may take a while to start
    out = m.data(0.5, 0.5)
    assert _states(out) == [("camera", "live", 0.5)]
    for k in range(1, 30):
        assert m.data(0.5 + k / 30, 0.5 + k / 30) == []
        assert m.check(0.5 + k / 30 + 0.1) == []
    last = 0.5 + 29 / 30
    assert m.check(last + 0.99) == []
    out = m.check(last + 1.01)  # over a second without a frame
    assert _states(out) == [("camera", "lost", round(last, 3))]
    note = [e for e in out if isinstance(e, Notice)][0]
    assert note.code == "camera_lost" and f"since {clock_text(last)}" in note.message
    assert "Eye-contact and face feedback" in note.message and note.t == pytest.approx(last + 1.01, abs=1e-3)
    assert m.check(last + 5) == []  # said once
    out = m.data(9.0, 9.0)
    assert _states(out) == [("camera", "restored", 9.0)]
    assert [e.code for e in out if isinstance(e, Notice)] == ["camera_restored"]
    out = m.finished("ended", "end of file", now=12.05)
    assert _states(out) == [("camera", "ended", 9.0)]
    assert "the video file ended" in [e for e in out if isinstance(e, Notice)][0].message
    assert m.data(13.0, 13.0) == [] and m.check(20.0) == []  # final


def test_monitor_digital_silence_and_back():
    m = SourceMonitor("mic")
    blocks = [(i * 0.064, False) for i in range(20)] + [(i * 0.064, True) for i in range(20, 50)] + \
             [(i * 0.064, False) for i in range(50, 55)]
    out = []
    for t, silent in blocks:
        out += m.data(t, t + 0.064, silent)
    states = _states(out)
    assert [s for _, s, _ in states] == ["live", "silent", "restored"]
    assert states[1][2] == pytest.approx(20 * 0.064, abs=1e-3)  # since the silence began
    assert states[2][2] == pytest.approx(50 * 0.064, abs=1e-3)
    codes = [e.code for e in out if isinstance(e, Notice)]
    assert codes == ["mic_silent", "mic_restored"]
    silent_note = [e for e in out if isinstance(e, Notice)][0]
    # Noticed once a second of silence has gone by, not later.
    assert silent_note.t - states[1][2] <= 1.0 + 0.064 + 1e-6
    out = m.gone(4.0)  # the device reports itself gone
    assert _states(out) == [("mic", "lost", round(55 * 0.064, 3))]
    assert m.gone(4.5) == [] and m.check(9.0) == []  # said once


def test_camera_file_ends_mid_visit_notice_at_once_and_stored(tmp_path, fixtures):
    """A 7 s video as the camera beside a 30 s microphone recording, in real time: the camera's end is
    reported within a second of session time, names the feedback that stopped and since when, and is
    stored; the microphone goes on."""
    from trainer.store.db import SessionStore

    clock = SessionClock()
    store = SessionStore(tmp_path / "s.db")
    sid = store.create_session("x", "x", camera="steady_a.mp4", mic="call", calibrated=False)
    writer = store.writer(sid)
    events, arrived = [], []

    def sink(ev):
        arrived.append((clock.now(), ev))
        events.append(ev)
        writer.put(ev)

    video = VideoFileSource(fixtures("video/steady_a.mp4"), clock=clock)
    pipe = VisitPipeline(video, AudioFileSource(fixtures("audio/call_two_speakers.wav"),
                                                                              clock=clock),
                         clock, sink, voice_factory=create_voice_processor)
    pipe.prepare()
    clock.start()
    pipe.start()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not any(s == ("camera", "ended") for s, _ in
                                                  [((e.source, e.state), 0) for e in list(events)
                                                   if isinstance(e, SourceStatus)]):
        time.sleep(0.1)
    time.sleep(0.5)
    pipe.stop()
    writer.close()
    cam = _states(events, "camera")
    assert [s for _, s, _ in cam] == ["live", "ended"], cam
    ended_t = cam[1][2]
    assert video.duration - 0.2 <= ended_t <= video.duration  # the last frame of the 7 s clip
    note = next(e for e in events if isinstance(e, Notice) and e.code == "camera_ended")
    assert f"No camera signal since {clock_text(ended_t)}" in note.message and "face feedback" in note.message
    assert note.t - ended_t <= 1.0  # at once, on the session clock
    assert [s for _, s, _ in _states(events, "mic")] == ["live"]  # the microphone still runs
    stored = store.events(sid, "source_status")
    assert sorted((r["data"]["source"], r["data"]["state"]) for r in stored) == \
        [("camera", "ended"), ("camera", "live"), ("mic", "live")]
    row = next(r for r in stored if r["data"]["state"] == "ended")
    assert row["t"] == pytest.approx(ended_t) and row["data"]["reason"] == "end of file"


def test_microphone_of_digital_silence_is_reported_and_back(tmp_path, fixtures):
    speech = decode_audio(fixtures("video/talking_a.mp4"))[:int(2.0 * 16000)]
    track = np.concatenate([speech, np.zeros(3 * 16000, np.float32), speech])
    path = tmp_path / "muted.wav"
    write_wav(path, track)
    events = []
    clock = SessionClock()
    pipe = VisitPipeline(None, AudioFileSource(path, clock=clock, realtime=False), clock, events.append,
                         drop_frames=False, voice_factory=create_voice_processor)
    pipe.start()
    pipe.join(30)
    mic = _states(events, "mic")
    assert [s for _, s, _ in mic] == ["live", "silent", "restored", "ended"], mic
    assert mic[1][2] == pytest.approx(2.0, abs=0.07) and mic[2][2] == pytest.approx(5.0, abs=0.07)
    codes = [e.code for e in events if isinstance(e, Notice)]
    assert "mic_silent" in codes and "mic_restored" in codes and "mic_ended" in codes


class _StallingSource:
    """A real video file whose frames stop coming for a while without the source ending (a camera driver
    that hangs), then resume: the protocol's frames(), delivered from VideoFileSource."""

    kind = "camera"

    def __init__(self, path, clock, stall_at: int, stall_s: float):
        self._src = VideoFileSource(path, clock=clock)
        self.name = "stalling camera"
        self._stall_at, self._stall_s = stall_at, stall_s
        self._stop = threading.Event()

    def open(self):
        self._src.open()

    def frames(self):
        for frame in self._src.frames():
            if frame.index == self._stall_at and self._stop.wait(self._stall_s):
                return
            yield frame

    def stop(self):
        self._stop.set()
        self._src.stop()

    def close(self):
        self._src.close()


def test_camera_that_stops_sending_is_lost_within_a_second_then_restored(fixtures):
    clock = SessionClock()
    events = []
    src = _StallingSource(fixtures("video/steady_b.mp4"), clock, stall_at=30, stall_s=2.5)
    pipe = VisitPipeline(src, None, clock, events.append)
    pipe.prepare()
    clock.start()
    pipe.start()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not any(isinstance(e, SourceStatus) and e.state == "restored"
                                                  for e in list(events)):
        time.sleep(0.1)
    pipe.stop()
    cam = _states(events, "camera")
    assert [s for _, s, _ in cam[:3]] == ["live", "lost", "restored"], cam
    lost_note = next(e for e in events if isinstance(e, Notice) and e.code == "camera_lost")
    assert lost_note.t - cam[1][2] <= 1.0 + 0.25 + 0.3  # stall limit + one watchdog look + scheduling
    restored_note = next(e for e in events if isinstance(e, Notice) and e.code == "camera_restored")
    assert events.index(lost_note) < events.index(restored_note)
