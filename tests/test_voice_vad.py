"""Speech detection on the real fixtures, through the same VoiceAnalyzer the live pipeline uses."""

import json

import numpy as np
import pytest

from trainer.analysis import vad as V
from trainer.analysis.models import model_path
from trainer.analysis.voice import create_voice_processor
from trainer.capture.audio import AudioFileSource, decode_audio
from trainer.core import talktime as tt
from trainer.core.events import SpeechSegment


def _segments(path):
    voice = create_voice_processor()
    events = []
    for block in AudioFileSource(path, realtime=False).blocks():
        events += voice.process(block)
    events += voice.flush()
    return [(e.start, e.end) for e in events if isinstance(e, SpeechSegment)]


def test_call_agrees_with_the_rttm_union(fixtures):
    rttm = fixtures("audio/call_two_speakers.rttm").read_text().splitlines()
    ref = [(float(r.split()[3]), float(r.split()[3]) + float(r.split()[4])) for r in rttm if r.startswith("SPEAKER")]
    hyp = _segments(fixtures("audio/call_two_speakers.wav"))
    agreement = tt.frame_agreement(hyp, ref, 30.0, frame_s=0.01, collar_s=0.25)
    assert agreement >= 0.95, agreement


def test_noise_is_not_speech(fixtures):
    hyp = _segments(fixtures("audio/noise.wav"))
    assert tt.total_duration(hyp) < 0.1


def test_both_words_found_within_a_tenth_of_a_second(fixtures):
    labels = json.loads(fixtures("labels.json").read_text())["audio/speech_short.wav"]["speech"]
    hyp = _segments(fixtures("audio/speech_short.wav"))  # a 48 kHz file: decoded and resampled to 16 kHz
    assert len(hyp) == len(labels) == 2
    for (hs, he), (ls, le) in zip(hyp, labels):
        assert abs(hs - ls) <= 0.1 and abs(he - le) <= 0.1, (hyp, labels)


def test_silero_is_vendored_and_verified():
    p = model_path(V.SILERO_MODEL)
    assert p.stat().st_size == 2327524


def test_silero_wants_32ms_frames():
    vad = V.SileroVad()
    with pytest.raises(ValueError, match="512"):
        vad.prob(np.zeros(480, dtype=np.float32))


def test_silero_state_carries_across_frames(fixtures):
    # The detector is recurrent: the same frame scores differently with and without its history,
    # which is why the analyser resets it after a gap.
    x = decode_audio(fixtures("audio/speech_short.wav"))
    vad = V.SileroVad()
    probs = V.speech_probs(x, vad)
    assert probs.max() > 0.9 and probs[:2].max() < 0.5
    vad.reset()
    k = int(np.argmax(probs))
    alone = vad.prob(V.frames_of(x)[k])
    assert alone != pytest.approx(float(probs[k]), abs=1e-6)
