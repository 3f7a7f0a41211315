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
