"""The engine inside a real (headless) VisitRunner: line lengths come from the rendered voice, playback
runs on the session clock, cards, overrides and call actions reach the engine, and measured clinician
speech from a real recording drives the turns."""

from __future__ import annotations

import time

import pytest

from trainer.capture.patient_voice import PatientVoice
from trainer.core.scenario import load_scenario
from trainer.resources import builtin_scenarios_dir
from trainer.store.db import SessionStore
from trainer.visit import VisitRunner


@pytest.fixture(scope="module")
def voice(tmp_path_factory):
    return PatientVoice(cache_dir=tmp_path_factory.mktemp("voice"))


def _wait(pred, seconds=10.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.02)
    return False


def test_patient_speaks_with_rendered_lengths_and_cards_and_overrides_reach_the_engine(tmp_path, voice):
    s = load_scenario(builtin_scenarios_dir() / "caregiver_daughter.yaml")
    store = SessionStore(tmp_path / "s.db")
    events = []
    played = []
    runner = VisitRunner(s, store, camera=None, mic=None, listener=events.append, voice=voice)
    echo_feed = runner.player.on_played  # the echo reference path of the voice analysis, kept intact

    def observe(t, x, r):
        played.append((t, len(x), r))
        echo_feed(t, x, r)
    runner.player.on_played = observe
    sid = runner.start()
    try:
        first = runner.patient_line_audio("hello")
        assert first is not None and first.duration > 2 and len(first.envelope) > 100
        line = next(e for e in events if getattr(e, "kind", None) == "patient_line")
        assert line.data["duration"] == pytest.approx(first.duration, abs=1e-3)
        # Playback is virtual here (no sound card) but keeps exact time from the line's start.
        assert _wait(lambda: sum(n for _, n, _ in played) > 0.5 * first.rate, 5)
        assert played[0][0] == pytest.approx(line.t, abs=1e-3)
        runner.override("skip")  # facilitator: skip the greeting line
        assert _wait(lambda: runner.engine.current is not None and runner.engine.current.id == "t_hello")
        runner.choose_card("check_av")
        runner.override("skip")
        assert _wait(lambda: runner.engine.current is not None and runner.engine.current.id == "dizzy_intro")
        runner.ui_action("invite_caregiver")
        assert runner.engine.caregiver_present
        # The card was picked but the turn was skipped without a word: it is not credited.
        assert "av_checked" not in runner.engine.flags and not runner.engine.cards_chosen
    finally:
        runner.end()
    kinds = [e["kind"] for e in store.events(sid)]
    assert "card_chosen" in kinds and "caregiver_join" in kinds and kinds.count("override") == 2
    end = store.events(sid, "visit_end")[-1]["data"]
    assert end["reason"] == "ended_by_user" and {r["behaviour"] for r in end["rubric"]} == set(s.behaviours)
    # The stored patient speech segments match what the engine played.
    segs = [e for e in events if type(e).__name__ == "SpeechSegment" and e.speaker == "patient"]
    assert segs and segs[0].start == pytest.approx(line.t, abs=1e-3)


def test_recorded_clinician_speech_drives_the_turns(tmp_path, voice, fixtures):
    """A real recording as the microphone: the voice pipeline's speech start/turn end reach the engine."""
    audio = str(fixtures("audio/speech_short.wav"))
    s = load_scenario(builtin_scenarios_dir() / "first_checkin.yaml")
    store = SessionStore(tmp_path / "s.db")
    events = []
    runner = VisitRunner(s, store, camera=None, mic=audio, listener=events.append, voice=voice)
    runner.start()
    try:
        # "Front, center": two short words while the patient's first line plays are backchannels.
        assert _wait(lambda: any(getattr(e, "kind", None) in ("interruption", "backchannel", "clinician_speaking")
                                 for e in events), 20)
    finally:
        runner.end()
    assert runner.engine.record.clinician
    assert runner.engine.backchannels and not runner.engine.interruptions
