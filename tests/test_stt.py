"""Speech-to-text: the shipped Whisper tiny.en model (checked by SHA-256), word error rate on the real
speech in the fixture clips, the audio tail the live pipeline cuts utterances from, the worker thread."""

import json
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest

from conftest import fixture
from trainer.analysis.stt import (FULL_FRAMES, RATE, AudioTail, SpeechRecognizer, TranscriptionJob,
                                  TranscriptionWorker, _byte_decoder, log_mel, mel_filters, looping,
                                  word_error_rate, word_errors)
from trainer.capture.audio import decode_audio
from trainer.core.errors import ModelError
from trainer.resources import models_dir

REFS = json.loads((Path(__file__).parent / "data" / "stt_references.json").read_text())


@pytest.fixture(scope="module")
def recognizer():
    return SpeechRecognizer()


def test_word_error_rate():
    assert word_error_rate("Front center.", "front, centre") == 0.0
    assert word_errors("the cat sat on the mat", "the cat sat on mat") == (1, 6)
    assert word_errors("a b", "a x b y") == (2, 2)
    assert word_error_rate("", "") == 0.0


@pytest.mark.parametrize("clip", [k for k in REFS if not k.startswith("_")])
def test_fixture_speech_within_target(recognizer, clip):
    audio = decode_audio(fixture(clip))
    tr = recognizer.transcribe(audio)
    assert word_error_rate(REFS[clip], tr.text) <= 0.15, tr.text
    assert tr.confidence is not None and 0 < tr.confidence <= 1


def test_short_window_is_used_and_a_loop_is_decoded_again(recognizer):
    # talking_glasses loops on a window of its own length + 1 s here ("and this latest crisis, and this
    # latest crisis, ..."): the recogniser must notice and decode it again from a longer window (whether
    # it loops depends on the CPU's int8 kernels, so the outcome is checked, not the number of tries).
    assert looping("bringing in reforms. And this latest crisis, and this latest crisis, and this")
    assert looping("the pain, the pain, the pain")
    assert not looping("Hello. Oh, hello. I didn't know you were there.")
    assert not looping("no, no, I'm fine")
    recognizer.windows_used.clear()
    tr = recognizer.transcribe(decode_audio(fixture("video/talking_glasses.mp4")))
    assert not looping(tr.text) and word_error_rate(REFS["video/talking_glasses.mp4"], tr.text) <= 0.15
    recognizer.windows_used.clear()
    recognizer.transcribe(decode_audio(fixture("audio/speech_short.wav")))
    assert recognizer.windows_used and max(recognizer.windows_used) < FULL_FRAMES  # never the 30 s window


def test_full_window_decoding(recognizer):
    # The last resort when the short windows fail: the 30 s window with the temperature fallback.
    recognizer.windows_used.clear()
    recognizer.short_window = False
    try:
        tr = recognizer.transcribe(decode_audio(fixture("audio/speech_short.wav")))
        silent = recognizer.transcribe(np.zeros(RATE * 2, np.float32))
    finally:
        recognizer.short_window = True
    assert word_error_rate("front center", tr.text) == 0 and 0 < tr.confidence <= 1
    assert silent.text == "" and silent.confidence is None
    assert set(recognizer.windows_used) == {FULL_FRAMES}


def test_silence_and_noise_give_no_words(recognizer):
    assert recognizer.transcribe(np.zeros(RATE * 2, np.float32)).text == ""
    noise = decode_audio(fixture("audio/noise.wav"))[: RATE * 3]
    assert word_errors("", recognizer.transcribe(noise).text)[0] <= 1


def test_altered_or_missing_model_is_refused(tmp_path):
    # A copy of the Whisper files with one byte of the decoder changed: loading must stop, naming it.
    folder = tmp_path / "models"
    shutil.copytree(models_dir(), folder, ignore=shutil.ignore_patterns("*.task", "silero*"))
    data = bytearray((folder / "whisper-tiny.en-decoder.onnx").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (folder / "whisper-tiny.en-decoder.onnx").write_bytes(bytes(data))
    with pytest.raises(ModelError, match="altered.*decoder"):
        SpeechRecognizer(str(folder))
    (folder / "whisper-tiny.en-encoder.onnx").unlink()
    with pytest.raises(ModelError, match="missing.*encoder"):
        SpeechRecognizer(str(folder))


def test_front_end_and_vocabulary(recognizer):
    # Whisper's mel filters: 80 triangles over 201 FFT bins, unit area on the Slaney scale (so each
    # filter's weights sum to about 2 / (width in Hz) * (width / 2) / 40 Hz = 1 / 40 per bin).
    f = mel_filters()
    assert f.shape == (80, 201) and (f >= 0).all()
    assert np.allclose(f.sum(axis=1) * 40.0, 1.0, atol=0.15)
    assert log_mel(np.zeros(RATE, np.float32), f).shape == (80, 101)
    # Byte-level BPE: every byte has one stand-in character; a token with "Ġ" starts with a space.
    table = _byte_decoder()
    assert sorted(table.values()) == list(range(256)) and table["\u0120"] == 32
    ids = {t: i for i, t in enumerate(recognizer._vocab)}
    assert recognizer._text([ids["Ġcaf"], ids["Ã©"], ids["Ġworld"], recognizer._eot]) == "café world"


def test_audio_tail_keeps_recent_samples_in_place():
    tail = AudioTail(seconds=1.0)
    x = np.arange(RATE * 2, dtype=np.float32)
    for i in range(0, len(x), 512):
        tail.add(i / RATE, x[i:i + 512])
    got = tail.between(1.5, 1.75)
    assert np.array_equal(got, x[int(1.5 * RATE):int(1.75 * RATE)])
    assert len(tail.between(0.0, 0.5)) == 0  # older than the tail holds
    tail.add(2.5, np.ones(160, np.float32))  # a jump leaves silence
    gap = tail.between(2.0, 2.5)
    assert len(gap) == RATE // 2 and not gap.any()


def test_worker_transcribes_in_order_on_its_thread(recognizer):
    speech = decode_audio(fixture("audio/speech_short.wav"))
    results, done = [], threading.Event()

    def on_result(job, tr, t):
        results.append((job.start, tr.text, threading.current_thread().name))
        if len(results) == 2:
            done.set()

    worker = TranscriptionWorker(on_result, clock=lambda: 0.0, recognizer_factory=lambda: recognizer)
    worker.submit(TranscriptionJob(1.0, 2.4, speech))
    worker.submit(TranscriptionJob(5.0, 5.5, np.zeros(RATE // 2, np.float32)))
    assert done.wait(120)
    worker.close()
    assert [r[0] for r in results] == [1.0, 5.0]
    assert word_error_rate("front center", results[0][1]) == 0 and results[1][1] == ""
    assert results[0][2] == "speech-to-text"


def test_worker_reports_a_missing_model():
    def broken():
        raise ModelError("no model here")

    worker = TranscriptionWorker(lambda *a: None, clock=lambda: 0.0, recognizer_factory=broken)
    assert worker.ready.wait(10)
    worker.submit(TranscriptionJob(0, 1, np.zeros(10, np.float32)))
    worker.close(10)
    assert isinstance(worker.error, ModelError)


def test_speculative_decoding_is_kept_only_for_the_segment_that_closed_there(recognizer):
    speech = decode_audio(fixture("audio/speech_short.wav"))
    results = []
    worker = TranscriptionWorker(lambda job, tr, t: results.append((job.start, job.end, tr and tr.text)),
                                 clock=lambda: 0.0, recognizer_factory=lambda: recognizer)
    # The voice paused at 2.0 (decoding starts), then went on: that result must never come out.
    worker.submit(TranscriptionJob(1.0, 2.0, speech[: RATE // 2], speculative=True))
    worker.submit(TranscriptionJob(1.0, 2.4, speech, speculative=True))  # paused again at 2.4
    assert worker.confirm(1.0, 2.4)  # and the segment closed there
    assert not worker.confirm(3.0, 3.5)  # nothing was started for this one: the caller submits it
    worker.submit(TranscriptionJob(3.0, 3.5, np.zeros(RATE // 2, np.float32)))
    worker.submit(TranscriptionJob(4.0, 4.4, speech, speculative=True))
    assert not worker.confirm(4.0, 4.9)  # closed elsewhere: thrown away
    assert worker.close(120)
    assert [r[:2] for r in results] == [(1.0, 2.4), (3.0, 3.5)]
    assert word_error_rate("front center", results[0][2]) == 0 and results[1][2] == ""
    assert worker.speculation == {"confirmed": 1, "discarded": 2}


def test_closing_in_a_hurry_hands_back_the_rest_untranscribed(recognizer):
    speech = decode_audio(fixture("video/talking_a.mp4"))
    results = []
    worker = TranscriptionWorker(lambda job, tr, t: results.append((job.start, tr)), clock=lambda: 0.0,
                                 recognizer_factory=lambda: recognizer)
    assert worker.ready.wait(30)
    for i in range(4):
        worker.submit(TranscriptionJob(float(i), i + 0.5, speech))
    assert worker.busy.wait(30)  # the first one is being decoded
    assert worker.close(60, hurry=True)  # returns once that decoding is done
    assert [r[0] for r in results] == [0.0, 1.0, 2.0, 3.0]  # every utterance handed back, in order
    assert results[0][1] is not None and "help" in results[0][1].text
    assert all(tr is None for _, tr in results[1:])  # the queued ones are marked not transcribed
