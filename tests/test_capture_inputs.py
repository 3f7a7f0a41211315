"""Sources on real recordings, and the broken inputs users will hand us."""

import numpy as np
import pytest
from conftest import remux_to_transport_stream

from trainer.capture.audio import AudioFileSource, MicrophoneSource, decode_audio
from trainer.capture.video import VideoFileSource, open_frame_source
from trainer.core.errors import DeviceUnavailable, SourceError


def test_video_file_frames_carry_the_files_timestamps(fixtures):
    src = VideoFileSource(fixtures("video/talking_nods.mp4"), realtime=False)
    src.open()
    frames = list(src.frames())
    assert len(frames) == src.frame_count == 199
    ts = [f.t for f in frames]
    assert ts[0] == 0.0 and all(b > a for a, b in zip(ts, ts[1:]))
    assert ts[-1] == pytest.approx(198 / 30, abs=0.05)
    assert frames[0].image.shape == (700, 700, 3)
    assert src.error is None


def test_audio_track_of_a_video_decodes_at_16k(fixtures):
    x = decode_audio(fixtures("video/talking_nods.mp4"))
    assert x.dtype == np.float32 and abs(len(x) / 16000 - 6.6) < 0.1
    assert np.abs(x).max() > 0.05  # there is speech in it


def test_unreadable_video_is_a_clear_error(tmp_path):
    bad = tmp_path / "holiday.mp4"
    bad.write_bytes(b"\x00\x01 not a video at all " * 500)
    with pytest.raises(SourceError, match="Cannot read video file"):
        VideoFileSource(bad).open()
    with pytest.raises(SourceError, match="not found"):
        VideoFileSource(tmp_path / "missing.mp4").open()


def test_truncated_video_keeps_the_frames_before_the_damage(fixtures, tmp_path):
    whole = tmp_path / "whole.ts"
    remux_to_transport_stream(fixtures("video/steady_a.mp4"), whole)
    n_whole = sum(1 for _ in VideoFileSource(whole, realtime=False).frames())
    data = whole.read_bytes()
    cut = tmp_path / "cut.ts"
    cut.write_bytes(data[: len(data) // 2])
    src = VideoFileSource(cut, realtime=False)
    src.open()
    frames = list(src.frames())
    assert 0.2 * n_whole < len(frames) < 0.8 * n_whole
    assert [f.t for f in frames] == sorted(f.t for f in frames)


def test_audio_file_errors(tmp_path):
    txt = tmp_path / "notes.wav"
    txt.write_text("these are my notes, not a recording")
    with pytest.raises(SourceError):
        decode_audio(txt)
    with pytest.raises(SourceError, match="not found"):
        decode_audio(tmp_path / "missing.wav")


def test_video_without_audio_track_is_named(tmp_path):
    import cv2

    p = tmp_path / "mute.mp4"
    w = cv2.VideoWriter(str(p), cv2.VideoWriter_fourcc(*"mp4v"), 10, (64, 48))
    for _ in range(10):
        w.write(np.zeros((48, 64, 3), np.uint8))
    w.release()
    with pytest.raises(SourceError, match="no audio track"):
        decode_audio(p)


def test_silent_audio_gives_blocks_of_zeros(tmp_path):
    import wave

    p = tmp_path / "silence.wav"
    with wave.open(str(p), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(b"\x00\x00" * 16000)
    blocks = list(AudioFileSource(p, realtime=False).blocks())
    assert sum(len(b.samples) for b in blocks) == 16000
    assert all(float(np.abs(b.samples).max()) == 0.0 for b in blocks)


def _portaudio_without_inputs(monkeypatch):
    """The sounddevice boundary as PortAudio answers on a machine without any input device."""
    import sounddevice as sd

    def query_devices(device=None, kind=None):
        if kind is None and device is None:
            return []
        raise sd.PortAudioError(f"Error querying device {-1 if device is None else device}")

    monkeypatch.setattr(sd, "query_devices", query_devices)


def _portaudio_with_one_input(monkeypatch, rates=(48000,)):
    """The sounddevice boundary with one USB microphone that takes only `rates`; streams open but stay idle."""
    import sounddevice as sd

    opened = []

    def query_devices(device=None, kind=None):
        dev = {"name": "USB mic", "default_samplerate": 48000.0, "max_input_channels": 1}
        return [dev] if kind is None and device is None else dev

    def check_input_settings(device=None, samplerate=None, channels=None, dtype=None):
        if int(samplerate) not in rates:
            raise sd.PortAudioError("Invalid sample rate")

    class IdleStream:
        def __init__(self, **kw):
            opened.append(kw)
            self.active = False

        def start(self):
            self.active = True

        def stop(self):
            self.active = False

        close = stop

    monkeypatch.setattr(sd, "query_devices", query_devices)
    monkeypatch.setattr(sd, "check_input_settings", check_input_settings)
    monkeypatch.setattr(sd, "InputStream", IdleStream)
    return opened


def test_no_microphone_is_device_unavailable(monkeypatch):
    _portaudio_without_inputs(monkeypatch)
    with pytest.raises(DeviceUnavailable, match="No microphone found") as err:
        MicrophoneSource().open()
    assert "--mic FILE" in err.value.hint


def test_a_microphone_present_is_opened_at_a_rate_it_takes(monkeypatch):
    opened = _portaudio_with_one_input(monkeypatch)
    src = MicrophoneSource()
    src.open()
    try:
        assert src.name == "USB mic" and src.device_rate == 48000  # 16 kHz refused: resampled in blocks()
        assert opened[0]["samplerate"] == 48000 and opened[0]["blocksize"] == round(src.block_s * 48000)
    finally:
        src.close()


def test_portaudio_missing_is_device_unavailable(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "sounddevice", None)  # as if PortAudio/sounddevice cannot load
    with pytest.raises(DeviceUnavailable, match="PortAudio"):
        MicrophoneSource().open()


def test_camera_index_that_does_not_exist():
    src = open_frame_source("7")
    with pytest.raises(DeviceUnavailable, match="No camera"):
        src.open()
