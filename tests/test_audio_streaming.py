"""Audio files are streamed in blocks, never loaded whole: reading a 10-minute recording keeps the
memory it allocates to a few blocks (loading it whole would take 38 MB as float32), and the blocks are
the same samples the whole-file decoder gives."""

from __future__ import annotations

import tracemalloc
import wave

import numpy as np

from trainer.capture.audio import AudioFileSource, decode_audio


def _long_wav(path, minutes: float, rate: int = 16000) -> None:
    rng = np.random.default_rng(0)
    n = int(minutes * 60 * rate)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        for start in range(0, n, rate * 10):  # written 10 s at a time, so the test itself stays small
            chunk = (rng.standard_normal(min(rate * 10, n - start)) * 3000).astype("<i2")
            w.writeframes(chunk.tobytes())


def test_a_long_file_is_read_with_flat_memory(tmp_path):
    path = tmp_path / "long.wav"
    _long_wav(path, 10)
    src = AudioFileSource(path, realtime=False)
    src.open()
    assert abs(src.duration - 600) < 0.1  # known from the file before reading it
    tracemalloc.start()
    n = 0
    for block in src.blocks():
        n += len(block.samples)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert n == 600 * 16000 and src.duration == 600.0
    assert peak < 8_000_000, f"peak {peak / 1e6:.1f} MB while streaming"


def test_streamed_blocks_equal_the_whole_file(fixtures):
    path = fixtures("audio/speech_short.wav")
    whole = decode_audio(path)
    streamed = np.concatenate([b.samples for b in AudioFileSource(path, realtime=False).blocks()])
    assert len(streamed) == len(whole) and np.allclose(streamed, whole, atol=1e-6)


def test_patient_audio_is_streamed_beside_the_microphone(tmp_path, fixtures):
    """`analyze --patient-audio`: the playback is read block by block as far as the microphone track goes
    (the whole-file decoder took 38 MB for this 10-minute track before the first block was analysed), and
    the streamed playback gives the same analysis as the same samples handed over whole."""
    from trainer.analysis.offline_voice import PlaybackFeed, analyze_voice, open_patient_audio

    patient = tmp_path / "patient.wav"
    _long_wav(patient, 10)
    feed = PlaybackFeed.from_file(open_patient_audio(patient))

    class Sink:
        got = 0

        def patient_audio(self, t, samples, rate):
            assert t * rate == self.got and rate == 16000  # contiguous, on the session clock
            self.got += len(samples)

    sink = Sink()
    steps = range(0, 60 * 16000, 5000)  # as the microphone advances
    for upto in steps:
        feed.feed(sink, upto)
    assert sink.got == feed.fed == steps[-1]
    assert feed.max_held <= 1024  # one block of the file, never the recording

    mic = fixtures("audio/speech_short.wav")
    tracemalloc.start()
    streamed = analyze_voice(mic, tmp_path / "a", patient_audio=patient)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 12_000_000, f"peak {peak / 1e6:.1f} MB"
    whole = analyze_voice(mic, tmp_path / "b", patient_audio=decode_audio(patient)[:16000 * 30])
    for key in ("speech_s", "clinician_talk_s", "patient_talk_s", "overlaps", "_segments"):
        assert streamed[key] == whole[key], key
