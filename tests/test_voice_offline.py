"""Offline voice analysis: voice.csv, the talk-time summary keys, patient segment / audio inputs, errors."""

import csv
import json

import numpy as np
import pytest
from conftest import write_wav

from trainer.analysis.echo_sim import build_scene
from trainer.analysis.offline_voice import analyze_voice, open_patient_audio, parse_patient_segments
from trainer.capture.audio import decode_audio
from trainer.core import talktime as tt
from trainer.core.errors import SourceError


def test_speech_only_without_patient_info(fixtures, tmp_path):
    s = analyze_voice(fixtures("video/talking_a.mp4"), tmp_path)  # a video's audio track
    assert 3.0 < s["speech_s"] < 4.5
    assert "clinician_share" not in s
    rows = (tmp_path / "voice.csv").read_text().splitlines()
    assert rows[0] == "start,end" and len(rows) >= 2
    json.dumps({k: v for k, v in s.items() if not k.startswith("_")})  # summary.json-ready


def test_patient_audio_gives_clinician_segments_and_talk_keys(fixtures, tmp_path):
    clin, pat, noise = (decode_audio(fixtures(p)) for p in
                        ("video/talking_a.mp4", "video/talking_nods.mp4", "audio/noise.wav"))
    scene = build_scene(clin, pat, noise, gain_db=-10, delay_s=0.08, noise_db=-35)
    mic, ref = tmp_path / "mic.wav", tmp_path / "patient.wav"
    write_wav(mic, scene.mic)
    write_wav(ref, scene.reference)
    progress = []
    s = analyze_voice(mic, tmp_path / "out", patient_audio=ref, progress=lambda d, t: progress.append((d, t)))
    for key in ("speech_s", "clinician_talk_s", "patient_talk_s", "clinician_share", "interruptions",
                "longest_monologue_s", "response_latencies_s", "overlaps", "turns", "silence_after_cues_s"):
        assert key in s
    assert s["echo_guard"] is True and s["patient_source"] == "audio"
    assert s["speech_s"] == s["clinician_talk_s"]
    assert 5.5 < s["clinician_talk_s"] < 6.6
    # 19.8 s of patient clips, of which the detector on the playback hears 16.8 s as speech (the
    # pauses between phrases are not talk).
    assert 15.5 < s["patient_talk_s"] < 20.0
    assert any(abs(t - 18.0) < 0.3 for t in s["interruptions"])
    # The clinician answered the first line (ends ~7.1 s) at 8.0 s.
    assert s["response_latencies_s"] and 0.5 < s["response_latencies_s"][0] < 1.2
    assert progress[-1][0] == progress[-1][1]
    rows = [tuple(map(float, r.split(","))) for r in (tmp_path / "out" / "voice.csv").read_text().splitlines()[1:]]
    patient_only = tt.subtract(scene.patient_placed, scene.clinician_placed)
    assert tt.seconds_within(rows, patient_only) <= 0.3


def test_noisy_patient_recording_counts_its_speech_not_its_noise(fixtures, tmp_path):
    """A real patient track carries room noise: the speech detector on it, not its loudness, says when the
    patient talks (the level rule counted 30.0 s instead of 18.5 s here, 6.4 s of overlap instead of 2.4 s
    and four interruptions instead of one)."""
    clin, pat, noise = (decode_audio(fixtures(p)) for p in
                        ("video/talking_a.mp4", "video/talking_nods.mp4", "audio/noise.wav"))
    scene = build_scene(clin, pat, noise, gain_db=-60, delay_s=0.05, noise_db=-35)
    ref = scene.reference.astype(np.float64)
    speech_rms = np.sqrt(np.mean(ref[np.abs(ref) > 1e-4] ** 2))
    nz = np.resize(noise, len(ref)).astype(np.float64)
    nz *= speech_rms * 10 ** (-20 / 20) / np.sqrt(np.mean(nz ** 2))  # room noise 20 dB under the voice
    mic = tmp_path / "mic.wav"
    write_wav(mic, scene.mic)
    clean = analyze_voice(mic, tmp_path / "clean", patient_audio=scene.reference)
    noisy = analyze_voice(mic, tmp_path / "noisy", patient_audio=(ref + nz).astype(np.float32))
    assert noisy["patient_talk_s"] <= 1.15 * clean["patient_talk_s"]
    assert noisy["patient_talk_s"] <= tt.total_duration(scene.patient_placed)
    assert noisy["overlap_s"] <= clean["overlap_s"] + 1.0
    assert len(noisy["interruptions"]) == len(clean["interruptions"]) == 1


def test_segments_only_with_the_patient_audible_in_the_mic(fixtures, tmp_path):
    # The call recording holds both voices: with only the RTTM, overlaps cannot be measured and the
    # clinician is counted outside the patient's turns.
    s = analyze_voice(fixtures("audio/call_two_speakers.wav"), tmp_path,
                      patient_segments=fixtures("audio/call_two_speakers.rttm"))
    assert s["overlap_measurable"] is False and s["patient_source"] == "segments"
    assert s["patient_talk_s"] == pytest.approx(11.85)
    # Clinician time outside the patient's turns in the reference: 12.5 - 1.89 s of overlap.
    assert s["clinician_talk_s"] == pytest.approx(12.5 - 1.89, abs=0.4)


def test_segments_from_a_headset_recording_keep_overlaps(fixtures, tmp_path):
    # A mic that never heard the patient (headset): the patient's turns are given as CSV.
    csv = tmp_path / "patient.csv"
    csv.write_text("start,end\n0.0,0.2\n0.55,0.78\n")
    s = analyze_voice(fixtures("audio/speech_short.wav"), tmp_path / "o", patient_segments=csv)
    assert s["overlap_measurable"] is True
    # "front" (0.42 s) starts over the patient, who goes on at 0.55 s: a backchannel, not an interruption.
    assert s["interruptions"] == []
    assert len(s["backchannels"]) == 1 and abs(s["backchannels"][0] - 0.08) < 0.1
    assert s["response_latencies_s"] and 0 <= s["response_latencies_s"][0] < 0.1  # "center" right after


def test_segment_file_formats_and_errors(tmp_path):
    p = tmp_path / "a.csv"
    p.write_text("# patient lines\n1.5,2.0\n0.5\t1.0\n")
    assert parse_patient_segments(p) == [(0.5, 1.0), (1.5, 2.0)]
    p.write_text("start,end\n1,x\n")
    with pytest.raises(SourceError, match=r"a.csv:2"):
        parse_patient_segments(p)
    p.write_text("3,2\n")
    with pytest.raises(SourceError, match="not a valid time span"):
        parse_patient_segments(p)
    p.write_text("")
    with pytest.raises(SourceError, match="no patient intervals"):
        parse_patient_segments(p)
    r = tmp_path / "a.rttm"
    r.write_text("SPEAKER f 1 0.5 1.0 <NA> <NA> bob <NA> <NA>\nSPEAKER f 1 2.0 1.0 <NA> <NA> ann <NA> <NA>\n")
    assert parse_patient_segments(r) == [(0.5, 1.5)]
    with pytest.raises(SourceError, match="no speaker 'eve'"):
        parse_patient_segments(r, speaker="eve")
    with pytest.raises(SourceError, match="not found"):
        parse_patient_segments(tmp_path / "missing.rttm")


def test_unreadable_inputs_raise_source_error(tmp_path, fixtures):
    bad = tmp_path / "broken.wav"
    bad.write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt garbage")
    with pytest.raises(SourceError):
        analyze_voice(bad, tmp_path / "o")
    with pytest.raises(SourceError, match="not found"):
        analyze_voice(tmp_path / "nope.wav", tmp_path / "o")
    with pytest.raises(SourceError, match="Patient audio"):
        open_patient_audio(tmp_path / "nope.wav")
    with pytest.raises(SourceError, match="Patient audio"):
        analyze_voice(fixtures("audio/noise.wav"), tmp_path / "o", patient_audio=bad)
    with pytest.raises(SourceError, match="Patient audio"):
        analyze_voice(fixtures("audio/noise.wav"), tmp_path / "o", patient_audio=tmp_path / "nope.wav")


def test_truncated_recording_keeps_what_was_decoded(fixtures, tmp_path):
    # A recording cut off part-way (its index at the front, so the head stays readable): the speech in
    # the part that survived is kept exactly as the whole recording gives it there.
    from conftest import remux_faststart

    whole = tmp_path / "whole.mp4"
    remux_faststart(fixtures("video/talking_a.mp4"), whole)
    cut = tmp_path / "cut.mp4"
    data = whole.read_bytes()
    cut.write_bytes(data[: len(data) * 2 // 3])
    w = analyze_voice(whole, tmp_path / "w")
    s = analyze_voice(cut, tmp_path / "o")
    kept = s["audio_duration_s"]
    assert 0.4 * w["audio_duration_s"] < kept < 0.9 * w["audio_duration_s"]
    expected = [(a, min(b, kept)) for a, b in w["_segments"] if a < kept - 0.1]
    assert len(s["_segments"]) == len(expected) >= 1, (s["_segments"], expected)
    for (a, b), (ea, eb) in zip(s["_segments"], expected):
        assert a == pytest.approx(ea, abs=0.05) and b == pytest.approx(eb, abs=0.1)
    with open(tmp_path / "o" / "voice.csv", newline="") as fh:
        rows = [(float(r["start"]), float(r["end"])) for r in csv.DictReader(fh)]
    assert [x for r in rows for x in r] == pytest.approx([x for seg in s["_segments"] for x in seg], abs=1e-3)
