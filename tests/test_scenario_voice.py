"""Every scenario line is spoken: offline text-to-speech per persona, cache, recorded clips first, and
playback on the session clock that reports exactly what was played (the echo reference)."""

from __future__ import annotations

import socket
import time
import wave

import numpy as np
import pytest

from trainer.capture.patient_voice import (ENVELOPE_HZ, TTS_RATE, HibariEngine, PatientPlayer, PatientVoice,
                                           RenderedLine, Voice, default_cache_dir, mouth_envelope, resample)
from trainer.core.clock import ManualClock, SessionClock
from trainer.core.engine import ScenarioEngine, estimated_line_duration
from trainer.core.scenario import load_scenario, parse_scenario
from trainer.resources import builtin_scenarios_dir


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("voice-cache")


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*_a, **_k):
        raise OSError("network disabled in this test")
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def f0(samples: np.ndarray, rate: int) -> float:
    """Median pitch over voiced 40 ms frames (autocorrelation), in Hz."""
    hop, win = int(rate * 0.02), int(rate * 0.04)
    lo, hi = int(rate / 400), int(rate / 70)
    out = []
    for i in range(0, len(samples) - win, hop):
        seg = samples[i:i + win] - samples[i:i + win].mean()
        if np.sqrt(np.mean(seg ** 2)) < 0.02:
            continue
        ac = np.correlate(seg, seg, "full")[win - 1:]
        lag = lo + int(np.argmax(ac[lo:hi]))
        if ac[lag] > 0.5 * ac[0]:
            out.append(rate / lag)
    return float(np.median(out))


def test_a_builtin_scenario_speaks_with_no_network(no_network, shared_cache):
    s = load_scenario(builtin_scenarios_dir() / "first_checkin.yaml")
    voice = PatientVoice(cache_dir=shared_cache)
    rendered = voice.prepare(s)
    # Every line, the silence checks included (a silent clinician hears them in the patient's voice).
    assert set(rendered) == {ln.id for ln in s.spoken_lines} and "~silence_1" in rendered
    for ln in s.spoken_lines:
        r = rendered[ln.id]
        assert r.rate == TTS_RATE and r.samples.dtype == np.float32
        est = estimated_line_duration(ln.text)
        assert 0.5 * est < r.duration < 2.0 * est, (ln.id, r.duration, est)
        assert np.sqrt(np.mean(r.samples ** 2)) > 0.02  # not silent
        assert abs(len(r.envelope) - r.duration * ENVELOPE_HZ) <= 1
        assert r.envelope.min() >= 0 and r.envelope.max() <= 1
        # Lips move: open on words, nearly closed in pauses and at the end.
        assert r.envelope.max() > 0.8 and np.mean(r.envelope < 0.1) > 0.05 and r.envelope[-3:].max() < 0.2


def test_the_engine_takes_line_lengths_from_the_rendered_audio(shared_cache):
    s = load_scenario(builtin_scenarios_dir() / "first_checkin.yaml")
    rendered = PatientVoice(cache_dir=shared_cache).prepare(s)
    engine = ScenarioEngine(s, line_duration=lambda ln: rendered[ln.id].duration)
    first = [e for e in engine.start(0.0) if e.kind == "patient_line"][0]
    assert first.data["duration"] == pytest.approx(rendered["hello"].duration, abs=1e-3)
    end = engine.tick(100.0)[0]
    assert end.kind == "patient_line_end" and end.t == pytest.approx(rendered["hello"].duration, abs=1e-3)


def test_persona_voice_changes_pitch_and_speed(shared_cache):
    voice = PatientVoice(cache_dir=shared_cache)
    text = "I've been taking my pressure every morning, like you asked me to last time."
    base = voice.render(text, Voice(1.0, 1.0))
    low = voice.render(text, Voice(1.0, 0.75))
    fast = voice.render(text, Voice(1.3, 1.0))
    assert f0(low.samples, low.rate) == pytest.approx(0.75 * f0(base.samples, base.rate), rel=0.12)
    # Pitch alone keeps the speed; rate changes it.
    assert low.duration == pytest.approx(base.duration, rel=0.12)
    assert fast.duration < 0.88 * base.duration


def test_cache_is_used_and_survives_a_new_process_object(shared_cache, monkeypatch):
    text = "Is that bad? My mother had a stroke when she was sixty."
    first = PatientVoice(cache_dir=shared_cache).render(text, Voice(0.9, 1.1))
    assert first.source in ("tts", "cache")
    fresh = PatientVoice(cache_dir=shared_cache, engine=HibariEngine())  # as a new process has it
    again = fresh.render(text, Voice(0.9, 1.1))
    assert again.source == "cache"
    assert fresh.engine._tts is None  # served from the file: the speech model was never loaded
    assert np.max(np.abs(again.samples - first.samples)) < 2 / 32767  # 16-bit storage
    files = list(shared_cache.glob("*.wav"))
    assert files and not list(shared_cache.glob("*.tmp"))
    monkeypatch.setenv("TRAINER_CACHE_DIR", str(shared_cache / "elsewhere"))
    assert default_cache_dir() == shared_cache / "elsewhere" / "patient_voice"


def test_a_damaged_cache_entry_is_rendered_again(tmp_path):
    voice = PatientVoice(cache_dir=tmp_path)
    text = "Thank you, doctor."
    voice.render(text)
    (entry,) = list(tmp_path.glob("*.wav"))
    entry.write_bytes(b"RIFF\x00garbage")
    fresh = PatientVoice(cache_dir=tmp_path).render(text)
    assert fresh.source == "tts" and fresh.duration > 0.5


def test_a_recorded_clip_takes_precedence(tmp_path):
    rate = 16000
    tone = (0.3 * np.sin(2 * np.pi * 220 * np.arange(int(1.5 * rate)) / rate)).astype(np.float32)
    clip = tmp_path / "hello.wav"
    with wave.open(str(clip), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((tone * 32767).astype("<i2").tobytes())
    text = (builtin_scenarios_dir() / "first_checkin.yaml").read_text(encoding="utf-8")
    text = text.replace('    patient: "Hello? Can you see me? I think the camera is working now."\n',
                        '    patient: "Hello? Can you see me? I think the camera is working now."\n    audio: hello.wav\n')
    s = parse_scenario(text, str(tmp_path / "s.yaml"))
    line = s.step("hello")
    r = PatientVoice(cache_dir=tmp_path / "cache").render_line(line, s.patient)
    assert r.source == "clip" and r.duration == pytest.approx(1.5, abs=0.02)
    assert f0(r.samples, r.rate) == pytest.approx(220, rel=0.03)
    assert not (tmp_path / "cache").exists()  # nothing synthesised


def test_resample_keeps_frequency_and_length():
    rate = 24000
    x = np.sin(2 * np.pi * 440 * np.arange(rate) / rate).astype(np.float32)
    y = resample(x, rate, 16000)
    assert len(y) == 16000
    spectrum = np.abs(np.fft.rfft(y * np.hanning(len(y))))
    assert np.argmax(spectrum) == pytest.approx(440, abs=1)
    # Content above the new Nyquist is removed, not folded back.
    hf = np.sin(2 * np.pi * 11000 * np.arange(rate) / rate).astype(np.float32)
    assert np.sqrt(np.mean(resample(hf, rate, 16000)[200:-200] ** 2)) < 0.05


def test_envelope_follows_loudness():
    rate = 24000
    x = np.zeros(rate, np.float32)
    x[6000:12000] = 0.5 * np.sin(2 * np.pi * 200 * np.arange(6000) / rate)
    env = mouth_envelope(x, rate)
    assert len(env) == 100
    assert env[10:20].max() < 0.05 and env[30:45].min() > 0.8 and env[60:].max() < 0.05


def _line(seconds: float, rate: int = TTS_RATE) -> RenderedLine:
    s = np.linspace(-0.5, 0.5, int(seconds * rate), dtype=np.float32)
    return RenderedLine(s, rate, mouth_envelope(s, rate))


def test_virtual_playback_reports_every_sample_at_its_exact_session_time():
    manual = ManualClock()
    clock = SessionClock(manual)
    clock.start()
    played = []
    player = PatientPlayer(clock, lambda t, s, r: played.append((t, s, r)), use_device=False, block_s=0.02)
    assert player.open() == "virtual" and player.reason
    try:
        line = _line(0.5)
        player.play(1.0, line)
        assert player.pump(0.99) == 0  # nothing before the line starts
        manual.advance(1.25)
        player.pump(clock.now())
        manual.advance(10.0)
        player.pump(clock.now())
        times = [t for t, _, _ in played]
        assert times[0] == pytest.approx(1.0) and all(b > a for a, b in zip(times, times[1:]))
        assert np.allclose(np.diff(times), 0.02)
        assert np.array_equal(np.concatenate([s for _, s, _ in played]), line.samples)
        assert {r for _, _, r in played} == {TTS_RATE}
        # A cut line stops reporting at once.
        played.clear()
        player.play(clock.now(), _line(2.0))
        manual.advance(0.3)
        player.pump(clock.now())
        n = len(played)
        player.stop_line()
        manual.advance(2.0)
        player.pump(clock.now())
        assert len(played) == n and n == pytest.approx(15, abs=1)
    finally:
        player.close()


def test_virtual_playback_thread_runs_on_the_real_clock():
    clock = SessionClock()
    clock.start()
    played = []
    player = PatientPlayer(clock, lambda t, s, r: played.append((t, len(s))), use_device=False)
    player.open()
    try:
        player.play(clock.now() + 0.05, _line(0.3))
        deadline = time.monotonic() + 30.0
        while sum(n for _, n in played) < int(0.3 * TTS_RATE) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert sum(n for _, n in played) == int(0.3 * TTS_RATE)
    finally:
        player.close()


def test_open_falls_back_to_virtual_without_an_output_device(monkeypatch):
    import sounddevice as sd

    def query_devices(device=None, kind=None):  # as PortAudio answers on a machine without outputs
        raise sd.PortAudioError(f"Error querying device {-1 if device is None else device}")

    monkeypatch.setattr(sd, "query_devices", query_devices)
    player = PatientPlayer(SessionClock(), None)
    try:
        assert player.open() == "virtual"
        assert "output" in player.reason
    finally:
        player.close()


def test_output_device_present_plays_and_reports_what_the_card_plays(monkeypatch):
    """The sounddevice boundary with one output at 48 kHz: the real callback fills the card's buffers from
    the line by stream time and reports each block with the session time it is heard."""
    import threading

    import sounddevice as sd
    from types import SimpleNamespace

    streams = []

    def query_devices(device=None, kind=None):
        return {"name": "Speakers", "default_samplerate": 48000.0, "max_output_channels": 2}

    def check_output_settings(device=None, samplerate=None, channels=None, dtype=None):
        if int(samplerate) != 48000:
            raise sd.PortAudioError("Invalid sample rate")

    class CardStream:
        """Calls the callback as a sound card does: block after block, the DAC 30 ms after the call."""

        def __init__(self, samplerate=None, blocksize=None, callback=None, **kw):
            self.rate, self.block, self.callback = samplerate, blocksize, callback
            self.out = []
            self._stop = threading.Event()
            streams.append(self)

        def start(self):
            threading.Thread(target=self._run, daemon=True).start()

        def _run(self):
            t0 = time.monotonic()
            k = 0
            while not self._stop.is_set():
                now = t0 + k * self.block / self.rate
                buf = np.zeros((self.block, 1), np.float32)
                self.callback(buf, self.block, SimpleNamespace(outputBufferDacTime=now + 0.03, currentTime=now),
                              None)
                self.out.append(buf[:, 0].copy())
                k += 1
                self._stop.wait(max(0.0, t0 + k * self.block / self.rate - time.monotonic()))

        def stop(self):
            self._stop.set()

        close = stop

    monkeypatch.setattr(sd, "query_devices", query_devices)
    monkeypatch.setattr(sd, "check_output_settings", check_output_settings)
    monkeypatch.setattr(sd, "OutputStream", CardStream)
    clock = SessionClock()
    clock.start()
    played = []
    player = PatientPlayer(clock, lambda t, x, r: played.append((t, len(x), r)))
    try:
        assert player.open() == "device" and player.rate == 48000
        line = _line(0.3)
        player.preload([line])  # converted to the card's 48 kHz before the visit, so play() is on time
        start = clock.now() + 0.1
        player.play(start, line)
        deadline = time.monotonic() + 30
        while sum(n for _, n, _ in played) < int(0.3 * 48000) - 2 and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        player.close()
    assert sum(n for _, n, _ in played) == pytest.approx(0.3 * 48000, abs=2), (start, played)
    # Each block starts where the previous one ended, on the card's clock: no skipped or repeated samples.
    for (t0, n0, _), (t1, _, _) in zip(played, played[1:]):
        assert t1 == pytest.approx(t0 + n0 / 48000, abs=1e-5)
    assert {r for _, _, r in played} == {48000}
    assert played[0][0] == pytest.approx(start, abs=1.5 / 48000)  # heard from the line's start time
    heard = np.concatenate(streams[0].out)
    assert np.count_nonzero(heard) >= 0.9 * 0.3 * 48000  # the card really got the line's samples
