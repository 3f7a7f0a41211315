"""Microphone trouble during a session. This machine has no audio device, so the sounddevice boundary is
replaced by a fake stream that plays a real recording through the real callback and then fails the way
devices do; everything above it (MicrophoneSource, the voice analyser, the pipeline) is the real code."""

import threading
import time
from types import SimpleNamespace

import numpy as np
import pytest
import sounddevice as sd

from trainer.analysis.pipeline import VisitPipeline
from trainer.analysis.voice import create_voice_processor
from trainer.capture.audio import MicrophoneSource, decode_audio
from trainer.core.clock import SessionClock
from trainer.core.events import Notice, SourceFinished, SpeechSegment


class FakeDevice:
    """What the fake PortAudio knows: the rates the device takes and, per open, how the stream behaves."""

    def __init__(self, audio, rate, plans, rates=(48000,), start_s=6.5, realtime=False):
        self.audio = audio  # at `rate`
        self.rate = rate
        self.plans = list(plans)  # per open: ("fail",) | ("run", n_blocks, overflow_at or None)
        self.rates = rates
        self.pos = int(start_s * rate)  # where the "room" is in the recording (speech from 6.7 s)
        self.realtime = realtime  # deliver blocks at the pace a real device does
        self.opens = 0


def install(monkeypatch, dev: FakeDevice):
    def query_devices(device=None, kind=None):
        return {"name": "Fake USB mic", "default_samplerate": float(dev.rate), "max_input_channels": 1}

    def check_input_settings(device=None, samplerate=None, channels=None, dtype=None):
        if int(samplerate) not in dev.rates:
            raise sd.PortAudioError("Invalid sample rate")

    class FakeInputStream:
        def __init__(self, device=None, samplerate=None, channels=None, dtype=None, blocksize=None,
                     callback=None, finished_callback=None, **kw):
            dev.opens += 1
            plan = dev.plans.pop(0) if dev.plans else ("fail",)
            if plan[0] == "fail":
                raise sd.PortAudioError("Device unavailable")
            self.plan = plan
            self.callback, self.finished = callback, finished_callback
            self.blocksize = blocksize
            self.active = False
            self._thread = threading.Thread(target=self._run, daemon=True)

        def start(self):
            self.active = True
            self._thread.start()

        def _run(self):
            _kind, n_blocks, overflow_at = self.plan
            adc0 = 1000.0 + dev.pos / dev.rate
            k = 0
            for b in range(n_blocks):
                if not self.active:
                    return
                if overflow_at is not None and b == overflow_at:
                    dev.pos += 20 * self.blocksize  # the driver lost these samples
                    k += 20
                chunk = dev.audio[dev.pos:dev.pos + self.blocksize]
                if len(chunk) < self.blocksize:
                    chunk = np.concatenate((chunk, np.zeros(self.blocksize - len(chunk), np.float32)))
                dev.pos += self.blocksize
                status = SimpleNamespace(input_overflow=overflow_at is not None and b == overflow_at)
                t = SimpleNamespace(inputBufferAdcTime=adc0 + k * self.blocksize / dev.rate)
                self.callback(chunk.reshape(-1, 1), self.blocksize, t, status)
                k += 1
                time.sleep(self.blocksize / dev.rate if dev.realtime else 0.002)
            # The device vanishes: PortAudio stops the stream and calls the finished callback.
            self.active = False
            if self.finished:
                self.finished()

        def stop(self):
            self.active = False

        def close(self):
            self.active = False

    monkeypatch.setattr(sd, "query_devices", query_devices)
    monkeypatch.setattr(sd, "check_input_settings", check_input_settings)
    monkeypatch.setattr(sd, "InputStream", FakeInputStream)


@pytest.fixture
def call48(fixtures):
    return decode_audio(fixtures("audio/call_two_speakers.wav"), rate=48000)


def _collect(src, until_blocks, stop_after_s=5.0):
    blocks = []
    t_end = time.monotonic() + stop_after_s
    for b in src.blocks():
        blocks.append(b)
        if len([x for x in blocks if len(x.samples)]) >= until_blocks or time.monotonic() > t_end:
            break
    return blocks


def test_rate_negotiation_and_resampling(monkeypatch, call48):
    dev = FakeDevice(call48, 48000, [("run", 30, None)])
    install(monkeypatch, dev)
    clock = SessionClock()
    clock.start()
    src = MicrophoneSource(clock=clock)
    src.open()
    assert src.device_rate == 48000 and src.name == "Fake USB mic"
    blocks = _collect(src, 25)
    src.close()
    assert all(b.rate == 16000 for b in blocks)
    # Device blocks at 48 kHz become blocks of the same duration at 16 kHz on an even time grid.
    n = round(src.block_s * 16000)
    assert abs(np.median([len(b.samples) for b in blocks]) - n) <= 8
    steps = np.diff([b.t for b in blocks])
    assert np.allclose(steps, src.block_s, atol=1e-6)


def test_device_vanishes_and_returns_the_session_goes_on(monkeypatch, call48):
    dev = FakeDevice(call48, 48000, [("run", 25, None), ("fail",), ("run", 200, None)], realtime=True)
    install(monkeypatch, dev)
    clock = SessionClock()
    clock.start()
    src = MicrophoneSource(clock=clock, retry_s=0.05)
    events = []
    pipe = VisitPipeline(None, src, clock, events.append, voice_factory=create_voice_processor)
    pipe.start()
    deadline = time.monotonic() + 20
    while dev.pos < int(6.5 * 48000) + 54 * 3072 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    pipe.stop()
    codes = [e.code for e in events if isinstance(e, Notice)]
    assert "mic_lost" in codes and "mic_restored" in codes
    assert dev.opens == 3  # lost, one failed retry, back
    assert len(src.gaps) == 1 and src.gaps[0][1] > src.gaps[0][0]
    voice = pipe._voice
    assert len(voice.gaps) == 1
    # Speech before and after the loss was analysed; nothing is claimed inside the gap.
    segs = [e for e in events if isinstance(e, SpeechSegment)]
    g0, g1 = voice.gaps[0]
    assert any(s.end <= g0 + 1e-6 for s in segs) and any(s.start >= g1 - 1e-6 for s in segs)
    assert not any(s.start < g1 - 1e-6 and s.end > g0 + 1e-6 for s in segs)
    assert any(isinstance(e, SourceFinished) for e in events)
    assert "mic_error" in codes  # the closing notice says what happened


def test_device_gone_for_good_is_reported_and_recorded(monkeypatch, call48):
    dev = FakeDevice(call48, 48000, [("run", 20, None)])  # every later open fails
    install(monkeypatch, dev)
    clock = SessionClock()
    clock.start()
    src = MicrophoneSource(clock=clock, retry_s=0.05)
    src.open()
    got = []
    th = threading.Thread(target=lambda: got.extend(src.blocks()), daemon=True)
    th.start()
    time.sleep(1.2)
    src.stop()
    th.join(3)
    assert not th.is_alive()
    assert any(len(b.samples) == 0 for b in got)  # the loss marker
    assert dev.opens >= 3  # it kept trying
    assert src.error and "stopped" in src.error
    assert len(src.gaps) == 1


def test_input_overflow_is_counted_and_the_gap_recorded(monkeypatch, call48):
    dev = FakeDevice(call48, 48000, [("run", 60, 30)])
    install(monkeypatch, dev)
    clock = SessionClock()
    clock.start()
    src = MicrophoneSource(clock=clock)
    src.open()
    blocks = _collect(src, 58)
    src.close()
    assert src.overflows == 1
    voice = create_voice_processor()
    events = [ev for b in blocks for ev in voice.process(b)]
    notices = [e for e in events if isinstance(e, Notice)]
    assert [n.code for n in notices] == ["mic_gap"]
    assert voice.gaps[0][1] - voice.gaps[0][0] == pytest.approx(20 * src.block_s, abs=0.02)


def test_no_usable_rate_is_device_unavailable(monkeypatch, call48):
    from trainer.core.errors import DeviceUnavailable

    install(monkeypatch, FakeDevice(call48, 22050, [], rates=()))
    with pytest.raises(DeviceUnavailable, match="no usable sample rate"):
        MicrophoneSource().open()
