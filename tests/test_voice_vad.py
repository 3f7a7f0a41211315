"""Speech detection on the real fixtures, through the same VoiceAnalyzer the live pipeline uses."""

import json

import numpy as np
import pytest

from trainer.analysis import vad as V
from trainer.analysis.models import model_path
from trainer.analysis.voice import create_voice_processor
from trainer.capture.audio import AudioFileSource, decode_audio
from trainer.capture.base import AudioBlock
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


def _hum_after_the_words(x, level):
    """speech_short.wav ("front ... center"), then from 1.5 s a 1 s "mmm": one pitch period of the
    speaker's own vowel in "center", repeated with 1 % period jitter and low-passed at 1 kHz (a nasal
    murmur), at `level` times the words' RMS, over the real noise recording 35 dB down."""
    from trainer.analysis.voice import voicing

    rate = 16000
    starts = range(int(0.8 * rate), int(1.3 * rate) - 512, 128)
    i = max(starts, key=lambda s: voicing(x[s:s + 512]))
    seg = x[i:i + 512].astype(np.float64)
    ac = np.correlate(seg, seg, "full")[511:]
    k = 40 + int(np.argmax(ac[40:228]))
    rng = np.random.default_rng(0)
    pieces, total = [], 0
    while total < rate:
        n = int(round(k * (1 + rng.uniform(-0.01, 0.01))))
        pieces.append(np.interp(np.linspace(0, k - 1, n), np.arange(k), seg[:k]))
        total += n
    hum = np.concatenate(pieces)[:rate]
    spec = np.fft.rfft(hum)
    spec[np.fft.rfftfreq(rate, 1 / rate) > 1000] = 0
    hum = np.fft.irfft(spec, rate) * np.minimum(1, np.minimum(np.arange(rate), rate - np.arange(rate)) / 800)
    words_rms = np.sqrt(np.mean(x[x != 0] ** 2))
    out = np.concatenate([x, np.zeros(3 * rate)]).astype(np.float64)
    out[int(1.5 * rate):int(2.5 * rate)] += hum * level * words_rms / np.sqrt(np.mean(hum ** 2))
    return out, words_rms


def test_a_filled_pause_after_words_is_talk(fixtures):
    """Silero, trained on words, calls a sustained "mmm" non-speech (it covered 0.07 s of this one); the
    voicing rule keeps it as the speaker's talk, while the noise and the silence after it stay silent."""
    x = decode_audio(fixtures("audio/speech_short.wav"))
    sig, words_rms = _hum_after_the_words(x, 0.5)
    noise = decode_audio(fixtures("audio/noise.wav"))
    noise = np.resize(noise, len(sig)) * words_rms * 10 ** (-35 / 20) / np.sqrt(np.mean(noise ** 2))
    v = create_voice_processor()
    for i in range(0, len(sig), 1024):
        v.process(AudioBlock(i / 16000, (sig + noise)[i:i + 1024].astype(np.float32), 16000))
    v.flush()
    segs = v.clinician_intervals()
    assert tt.seconds_within(segs, [(1.5, 2.5)]) >= 0.9, segs
    assert tt.seconds_within(segs, [(2.8, 4.4)]) == 0.0, segs
    assert v.filler_frames > 0
