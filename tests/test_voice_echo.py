"""Echo guard: the patient's playback leaking into the microphone is not the clinician's talk time, while
the clinician talking over the patient still is. Microphone tracks are built from two real voices (the
speech of talking_a.mp4 as the clinician, of talking_nods.mp4 as the patient playback) plus real noise."""

import numpy as np
import pytest

from trainer.analysis.echo import ReferenceTrack
from trainer.analysis.echo_sim import build_scene
from trainer.analysis.voice import create_voice_processor
from trainer.capture.audio import decode_audio
from trainer.capture.base import AudioBlock
from trainer.core import talktime as tt


@pytest.fixture(scope="module")
def voices():
    from conftest import fixture

    return (decode_audio(fixture("video/talking_a.mp4")), decode_audio(fixture("video/talking_nods.mp4")),
            decode_audio(fixture("audio/noise.wav")))


def _run(mic, reference=None, ref_rate=16000, block=512):
    """Feed the mic in blocks; hand the playback over in 20 ms chunks shortly ahead, as the player does."""
    voice = create_voice_processor()
    ref = None
    if reference is not None:
        ref = reference if ref_rate == 16000 else _to_rate(reference, ref_rate)
    chunk = int(0.02 * ref_rate)
    fed = 0
    for i in range(0, len(mic), block):
        t = i / 16000
        while ref is not None and fed < len(ref) and fed / ref_rate < t + 0.1:
            voice.patient_audio(fed / ref_rate, ref[fed:fed + chunk], ref_rate)
            fed += chunk
        voice.process(AudioBlock(t, mic[i:i + block], 16000))
    voice.flush()
    return voice


def _to_rate(x, rate):
    from trainer.capture.audio import resample

    return resample(x, 16000, rate)


CASES = [
    # gain of the leak vs the clinician's voice (dB), delay (s), room tail, noise vs the voice (dB)
    (-6, 0.02, False, -35),
    (-6, 0.12, True, -30),
    (-12, 0.06, False, -25),
    (-20, 0.12, True, -35),
]


@pytest.mark.parametrize("gain_db,delay_s,room,noise_db", CASES)
def test_leak_is_not_clinician_speech(voices, gain_db, delay_s, room, noise_db):
    clin, pat, noise = voices
    scene = build_scene(clin, pat, noise, gain_db=gain_db, delay_s=delay_s, room=room, noise_db=noise_db)
    truth = _run(scene.clinician_only).clinician_intervals()  # the same detector, as with headphones
    voice = _run(scene.mic, scene.reference)
    hyp = voice.clinician_intervals()
    truth_s, hyp_s = tt.total_duration(truth), tt.total_duration(hyp)
    assert abs(hyp_s - truth_s) <= 0.05 * truth_s, (hyp_s, truth_s)
    patient_only = tt.subtract(scene.patient_placed, scene.clinician_placed)
    assert tt.seconds_within(hyp, patient_only) <= 0.3
    # Talking over the patient still counts.
    both = tt.intersect(scene.patient_placed, scene.clinician_placed)
    assert tt.seconds_within(hyp, both) >= 0.85 * tt.seconds_within(truth, both)
    # The clinician's onset while the patient speaks is an interruption.
    found = tt.interruptions(hyp, voice.patient_intervals())
    assert any(abs(t - 18.0) < 0.3 for t in found), found


def test_without_the_reference_the_leak_counts_as_speech(voices):
    # The same scene analysed without the playback signal: the patient's voice becomes "clinician".
    clin, pat, noise = voices
    scene = build_scene(clin, pat, noise, gain_db=-12, delay_s=0.06, noise_db=-35)
    hyp = _run(scene.mic).clinician_intervals()
    patient_only = tt.subtract(scene.patient_placed, scene.clinician_placed)
    assert tt.seconds_within(hyp, patient_only) > 5.0


def test_playback_at_another_rate_in_small_chunks(voices):
    # A TTS engine at 24 kHz, handed over in 20 ms chunks: resampled as one stream.
    clin, pat, noise = voices
    scene = build_scene(clin, pat, noise, gain_db=-6, delay_s=0.05, noise_db=-35)
    voice = _run(scene.mic, scene.reference, ref_rate=24000)
    truth = _run(scene.clinician_only).clinician_intervals()
    hyp = voice.clinician_intervals()
    patient_only = tt.subtract(scene.patient_placed, scene.clinician_placed)
    assert tt.seconds_within(hyp, patient_only) <= 0.3
    assert abs(tt.total_duration(hyp) - tt.total_duration(truth)) <= 0.05 * tt.total_duration(truth)
    # The patient's speech is detected on the playback itself (no patient_segment calls here).
    assert tt.seconds_within(voice.patient_intervals(), scene.patient_placed) > 15.0


def test_reference_track_keeps_a_steady_grid():
    rng = np.random.default_rng(1)
    x = rng.standard_normal(24000 * 2).astype(np.float32) * 0.1
    whole, parts = ReferenceTrack(), ReferenceTrack()
    whole.add(3.0, x, 24000)
    for i in range(0, len(x), 480):
        parts.add(3.0 + i / 24000, x[i:i + 480], 24000)
    a = whole.get(int(3.1 * 16000), 16000)
    b = parts.get(int(3.1 * 16000), 16000)
    assert np.abs(a - b).max() < 1e-4
    assert np.all(whole.get(0, 100) == 0)  # before the playback: silence


def test_live_threads_with_a_late_reporting_player(voices, tmp_path):
    """Real time, as in a visit: the pipeline's audio thread reads a paced 'microphone' while another
    thread reports the playback 20 ms at a time only after it has played (as the virtual player does).
    The patient's line is still not taken for the clinician, and the clinician's answer is found."""
    import threading
    from conftest import write_wav

    from trainer.analysis.pipeline import VisitPipeline
    from trainer.capture.audio import AudioFileSource
    from trainer.core.clock import SessionClock
    from trainer.core.events import SpeechSegment

    clin, pat, noise = voices
    scene = build_scene(clin, pat, noise, gain_db=-6, delay_s=0.04, noise_db=-35,
                        layout={"patient": [(0.3, 0.0, 4.0)], "clinician": [(5.0, 0.0, 2.4)], "duration": 7.6})
    mic = tmp_path / "mic.wav"
    write_wav(mic, scene.mic)
    clock = SessionClock()
    events = []
    pipe = VisitPipeline(None, AudioFileSource(mic, clock=clock, realtime=True), clock, events.append,
                         voice_factory=create_voice_processor)
    pipe.prepare()
    voice = pipe._voice
    stop = threading.Event()

    def player():
        ref, chunk, i = scene.reference, 320, 0
        while not stop.is_set() and i < len(ref):
            if clock.now() >= (i + chunk) / 16000:  # report a block once it has been heard
                voice.patient_audio(i / 16000, ref[i:i + chunk], 16000)
                i += chunk
            else:
                stop.wait(0.01)

    clock.start()
    th = threading.Thread(target=player, daemon=True)
    th.start()
    pipe.start()
    pipe.join(15)
    stop.set()
    th.join(2)
    segs = [(e.start, e.end) for e in events if isinstance(e, SpeechSegment)]
    assert tt.seconds_within(segs, [(0.3, 4.3)]) <= 0.3, segs
    assert tt.seconds_within(segs, [(5.0, 7.4)]) > 1.5  # the clinician's answer
