"""Whole visits with the simulated clinician (trainer.sim), on the virtual clock (--fast).

The real VisitRunner runs: engine, voice analysis with the echo guard (speaker path on: the patient's
playback leaks into the microphone at -12 dB, 60 ms late, with noise), store writer; one test adds the
face analysis of a looped fixture video. The clinician's voice is the fixtures' recorded speech. Matrix
(kept lean for a busy 2-core machine): every built-in scenario attentive and silent without a camera,
interrupter and monologue on one scenario each, a camera run twice for determinism. No timing asserted.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, TINY_SCENARIO as TINY, fixture
from trainer.core.scenario import load_scenario
from trainer.sim.clinician import PROFILES, SpeakerPath
from trainer.sim.run import simulate
from trainer.sim.voice import ClinicianVoice
from trainer.store.db import SessionStore

SCENARIOS = sorted(p.name for p in (REPO / "scenarios").glob("*.yaml"))
VOICES = ("video/talking_steady.mp4", "video/talking_glasses.mp4", "video/talking_a.mp4")
TOLERANCE_S = 0.3  # issue 9: a spoken turn ends within the hang-over + 0.3 s of the end of speech


# The first line of a visit is where the echo guard's canceller has not converged yet; the silent and
# interrupter tests below are what found its echo taken for clinician speech (fixed: docs/analysis-voice.md,
# "the echo guard").


@pytest.fixture(scope="module")
def voice():
    return ClinicianVoice.from_files([fixture(v) for v in VOICES])


_RUNS: dict = {}


@pytest.fixture(scope="module")
def silent_run(tmp_path_factory):
    """One silent visit per scenario, shared by the tests that read it."""
    def get(scenario):
        if scenario not in _RUNS:
            _RUNS[scenario] = _run(tmp_path_factory.mktemp("silent"), scenario, "silent", None)
        return _RUNS[scenario]
    return get


def _run(tmp_path, scenario: str, profile: str, voice, **kw):
    store = SessionStore(tmp_path / "sessions.sqlite3")
    return simulate(load_scenario(REPO / "scenarios" / scenario), store, profile=PROFILES[profile],
                    voice=voice, speed=0.0, out_dir=tmp_path / "out", **kw)


def _overlap(spans, a, b):
    return sum(max(0.0, min(e, b) - max(s, a)) for s, e in spans)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_attentive_clinician_turns_follow_the_speech(tmp_path, scenario, voice):
    res = _run(tmp_path, scenario, "attentive", voice)
    rep = res.report
    fig = rep["figures"]
    assert rep["reached_end"], rep["end_reason"]
    assert rep["status"] == "completed"
    assert fig["turns"] >= 5 and fig["spoken_turns"] == fig["turns"]  # it answered every turn
    assert fig["spoken_turns_timed_out"] == 0
    for row in rep["turns"]:
        assert row["reason"] == "spoke", row
        assert 0 <= row["end_latency_s"] <= fig["end_of_turn_s"] + TOLERANCE_S, row
    # No burst: the engine never emits a pile of events at one instant, and nobody interrupted.
    assert fig["events_max_at_one_instant"] <= 4
    assert fig["interruptions_reported"] == []
    # What was stored as the clinician's speech is what it said: the echo of the patient is not counted.
    said = rep["simulation"]["clinician_speech"]
    stored = rep["summary"]["clinician_talk_s"]
    truth = sum(e - s for s, e in said)
    assert abs(stored - truth) <= 0.1 * truth
    patient = res.report["summary"]["patient_talk_s"]
    assert patient > 30
    # The learner's summary of a simulated visit speaks plain words: no internal id anywhere in it.
    import re

    from trainer.core.debrief import learner_texts

    debrief = SessionStore(tmp_path / "sessions.sqlite3").debrief(res.session_id)
    ids = {w for text in learner_texts(debrief) for w in re.findall(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b", text)}
    assert not ids, ids
    # Files beside the session: the turn table has a row per turn.
    lines = (tmp_path / "out" / "turns.csv").read_text().splitlines()
    assert lines[0].startswith("turn,step,start,end,reason") and len(lines) == fig["turns"] + 1
    assert json.loads((tmp_path / "out" / "summary.json").read_text())["session_id"] == res.session_id


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_silent_clinician_is_not_heard(scenario, silent_run):
    rep = silent_run(scenario).report
    assert rep["summary"]["clinician_talk_s"] <= 0.3  # the patient's echo is not taken for speech
    assert rep["figures"]["interruptions_reported"] == []
    assert all(row["reason"] in ("timeout", "cut") for row in rep["turns"])
    assert rep["summary"]["patient_talk_s"] > 10
    # The scenario handles silence (asks again, checks the connection) rather than carrying on.
    assert rep["end_reason"] in ("no_response", "completed")


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_silent_clinician_earns_nothing(scenario, silent_run):
    rep = silent_run(scenario).report
    assert rep["figures"]["behaviours_met"] == []
    assert not any(row["credited"] for row in rep["turns"])


def test_first_line_echo_is_not_taken_for_speech(silent_run):
    # A silent clinician says nothing: no interruption and no backchannel may be reported either (since
    # short overlaps are backchannels, the first line's echo shows up as one of those).
    found = {s: silent_run(s).report["figures"]["interruptions_reported"] +
             silent_run(s).report["figures"].get("backchannels_reported", []) for s in SCENARIOS}
    assert not any(found.values()), found


@pytest.mark.parametrize("path", [None, SpeakerPath(gain_db=-6.0, delay_s=0.12)],
                         ids=["default_path", "loud_late_echo"])
def test_interrupter_interruptions_are_reported_when_they_happen(tmp_path, voice, path):
    """Live (the engine's events) and stored (the summary) interruptions at the simulated clinician's onsets,
    none elsewhere: after double talk the echo canceller must not take the patient's voice for the clinician's
    (docs/analysis-voice.md). Also with the loudest, latest echo of the issue's speaker-path range."""
    res = _run(tmp_path, "frustrated_unheard.yaml", "interrupter", voice, **({"speaker": path} if path else {}))
    rep = res.report
    simulated = rep["simulation"]["interruptions_simulated"]
    reported = rep["figures"]["interruptions_reported"]
    summarised = rep["summary"]["talk"]["interruptions"]
    assert len(simulated) >= 2
    for times in (reported, summarised):
        assert len(times) == len(simulated), (simulated, times)
        for s, r in zip(simulated, sorted(times)):
            assert abs(r - s) <= TOLERANCE_S, (simulated, times)
    assert rep["reached_end"]


def test_monologue_holds_the_turn(tmp_path, voice):
    res = _run(tmp_path, "connection_freeze.yaml", "monologue", voice)
    rep = res.report
    assert rep["reached_end"]
    assert rep["figures"]["spoken_turns_timed_out"] == 0
    assert all(row["talk_s"] >= 40 for row in rep["turns"]), rep["turns"]
    assert rep["summary"]["talk"]["longest_monologue_s"] >= 40


def _tables(store, sid):
    con = store.connect()
    try:
        return {t: [tuple(r) for r in con.execute(f"SELECT * FROM {t} WHERE session_id = ? ORDER BY rowid", (sid,))]
                for t in ("frames", "speech", "events")}
    finally:
        con.close()


def test_camera_run_is_stored_and_repeats_exactly(tmp_path, voice):
    """With the looped video as camera: face samples at the analysis rate; two fast runs of the same
    inputs store the same session (frames, speech, events)."""
    tables = []
    for i in range(2):
        d = tmp_path / str(i)
        store = SessionStore(d / "sessions.sqlite3")
        res = simulate(load_scenario(REPO / "scenarios" / "first_checkin.yaml"), store,
                       profile=PROFILES["attentive"], voice=voice, camera=fixture("video/talking_nods.mp4"),
                       face_fps=10.0, speed=0.0, max_session_s=30.0)
        rep = res.report
        assert rep["figures"]["face_samples_per_s"] >= 9.9
        assert rep["figures"]["turns"] >= 1
        tables.append(_tables(store, res.session_id))
    assert len(tables[0]["frames"]) >= 290
    assert sum(1 for f in tables[0]["frames"] if f[2]) > 0.9 * len(tables[0]["frames"])  # the face is seen
    assert tables[0] == tables[1]


def _cli(*args, env_extra=None, timeout=600):
    import os

    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-m", "trainer", *args], capture_output=True, text=True, env=env,
                          timeout=timeout)


def test_cli_simulate_usage_errors(tmp_path):
    r = _cli("simulate", "first-checkin", "--clinician", "attentive", "--camera", "none", "--out", str(tmp_path))
    assert r.returncode == 2 and "--voice" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    r = _cli("simulate", "first-checkin", "--clinician", "chatty", "--out", str(tmp_path))
    assert r.returncode == 2 and "attentive" in r.stderr
    r = _cli("simulate", "no-such-visit", "--clinician", "silent", "--camera", "none", "--out", str(tmp_path))
    assert r.returncode == 2 and "first-checkin" in r.stderr


def test_cli_simulate_writes_session_and_tables(tmp_path):
    out = tmp_path / "sim"
    r = _cli("simulate", "phone-preferred", "--clinician", "attentive", "--fast", "--camera", "none",
             "--voice", str(fixture("video/talking_steady.mp4")), "--voice", str(fixture("video/talking_a.mp4")),
             "--out", str(out))
    assert r.returncode == 0, r.stderr
    rep = json.loads((out / "summary.json").read_text())
    assert rep["reached_end"] and rep["simulation"]["pace"] == "fast"
    store = SessionStore(out / "sessions.sqlite3")
    assert store.session(rep["session_id"])["status"] == "completed"
    assert (out / "turns.csv").read_text().count("\n") == rep["figures"]["turns"] + 1


def test_cli_headless_run_from_recordings(tmp_path):
    """`trainer run --headless` with a recording as camera and microphone: the same visit, no window,
    the same summary.json; the recording's speech answers the turn."""
    scen = tmp_path / "tiny.yaml"
    scen.write_text(TINY)
    out = tmp_path / "out"
    clip = str(fixture("video/talking_nods.mp4"))
    r = _cli("run", str(scen), "--headless", "--camera", clip, "--mic", clip, "--out", str(out),
             env_extra=None)
    assert r.returncode == 0, r.stderr
    rep = json.loads((out / "summary.json").read_text())
    assert rep["reached_end"]
    assert rep["figures"]["face_samples"] > 0
    assert [row["reason"] for row in rep["turns"]] == ["spoke"]


def test_speech_start_only_for_speech_that_is_kept():
    """A blip long enough to open a segment but too short to keep must not be announced: the engine
    would count an interruption the stored session has no speech for (found by the simulated clinician:
    an echo blip at the start of a line)."""
    from trainer.analysis.vad import FRAME_S
    from trainer.analysis.voice import Segmenter
    from trainer.core.events import SpeechSegment, SpeechStarted

    def events(speech_frames):
        seg = Segmenter()
        out = []
        flags = [False] * 5 + [True] * speech_frames + [False] * 40
        for i, f in enumerate(flags):
            out += seg.push(i * FRAME_S, FRAME_S, f)
        return out

    for n in (2, 3):  # 64 and 96 ms: dropped, and never announced
        assert not [e for e in events(n) if isinstance(e, (SpeechStarted, SpeechSegment))]
    kept = events(4)  # 128 ms: announced and stored
    assert [type(e) for e in kept if isinstance(e, (SpeechStarted, SpeechSegment))] == [SpeechStarted, SpeechSegment]


def test_smiles_live_and_stored_are_the_same_count(tmp_path, voice):
    """One definition of a smile: a fast visit with a smiling face as the camera (steady_a.mp4, labelled
    smiling 4.0-5.0 s of its 7.2 s, looped) counts the same smiles in the live engine's measure and in
    the stored session's summary, and finds the labelled ones (one per loop of the clip)."""
    from trainer.core.face_metrics import smile_onsets

    runners = []
    store = SessionStore(tmp_path / "sessions.sqlite3")
    res = simulate(load_scenario(REPO / "scenarios" / "first_checkin.yaml"), store, profile=PROFILES["attentive"],
                   voice=voice, camera=fixture("video/steady_a.mp4"), face_fps=10.0, speed=0.0,
                   max_session_s=24.0, on_runner=runners.append)
    live = runners[0].engine.visit_measure("smiles")
    stored = store.summary(res.session_id).measures["smiles"]
    # 24 s (a visit-long measure needs 20 s of face): the labelled smile at 4.0, 11.2 and 18.4 s.
    assert live.value is not None and live.value >= 2
    assert stored["value"] == live.value and stored["shown"] == live.show()
    onsets = smile_onsets(store.frames(res.session_id))
    clip_s = 216 / 30
    assert all(3.7 <= t % clip_s <= 5.0 for t in onsets), onsets  # within the labelled smile (+-0.3 s)


def test_looped_camera_decodes_the_clip_once_and_repeats_its_frames():
    """The looping camera keeps a short clip's decoded frames: the second loop shows exactly the frames of
    the first, without decoding them again, and no consumer can change a shared frame."""
    import numpy as np

    from trainer.sim.sources import LoopingVideoSource, StepGate

    src = LoopingVideoSource(fixture("video/talking_nods.mp4"), fps=30.0, gate=StepGate())  # stepped: no waiting
    src.open()
    n = src.clip_frames
    frames = []
    for frame in src.frames():
        frames.append(frame)
        if len(frames) == 2 * n + 3:
            break
    assert src.frames_decoded == n
    assert [f.t for f in frames[:3]] == [0.0, round(1 / 30, 6), round(2 / 30, 6)]
    for k in (0, 1, n // 2, n - 1):
        assert np.array_equal(frames[k].image, frames[n + k].image)
    assert not np.array_equal(frames[0].image, frames[n // 2].image)
    with pytest.raises(ValueError):
        frames[0].image[0, 0, 0] = 1
