"""Speak freely, whole visits: the simulated clinician says each turn's intent aloud in a text-to-speech
voice unlike the patient's, presses no card, and the real speech-to-text and intent recognition choose
the branches (trainer.sim profile speak-freely, on the virtual clock).

Two of the seven built-in scenarios run here (one through `trainer simulate`), to keep the suite within
its time on a 2-core machine; benchmarks/bench_speak_freely.py plays all seven the same way."""

from __future__ import annotations

import json
import math
import subprocess
import sys

from conftest import REPO
from trainer.capture.patient_voice import PatientVoice
from trainer.core.scenario import discover_scenarios, load_scenario
from trainer.resources import builtin_scenarios_dir
from trainer.sim.clinician import PROFILES
from trainer.sim.run import simulate
from trainer.sim.voice import CLINICIAN_TTS_VOICE
from trainer.store.db import SessionStore


def _check_intended_path(rep):
    intended = rep["simulation"]["intended_cards"]
    heard = rep["intents_heard"]
    assert rep["reached_end"], rep["end_reason"]
    assert heard, "no intent was heard"
    # Every turn reached with intent cards was decided by the words, and took the card whose phrasing
    # was said; no other card was chosen (nothing was pressed).
    assert all(intended[h["step"]] == h["card"] for h in heard), (heard, intended)
    assert rep["cards_chosen"] == [h["card"] for h in heard]
    reached = {e["data"]["step"] for e in rep["events"] if e["kind"] == "clinician_turn"}
    assert {h["step"] for h in heard} == {s for s in reached if s in intended}


def test_clinician_voice_is_clearly_unlike_every_patient():
    scenarios, _ = discover_scenarios([builtin_scenarios_dir()])
    pitches = [float((p.voice or {}).get("pitch", 1.0)) for s in scenarios
               for p in (s.patient, s.caregiver and s.caregiver.persona) if p]
    semitones = min(abs(12 * math.log2(CLINICIAN_TTS_VOICE[1] / p)) for p in pitches)
    assert semitones >= 3, semitones


def test_speak_freely_visit_takes_the_intended_branches(tmp_path):
    s = load_scenario(builtin_scenarios_dir() / "caregiver_daughter.yaml")
    res = simulate(s, SessionStore(tmp_path / "s.db"), profile=PROFILES["speak-freely"], voice=None, camera=None,
                   speed=0.0, patient_voice=PatientVoice(cache_dir=tmp_path / "voice"))
    _check_intended_path(res.report)
    assert len(res.report["intents_heard"]) >= 3
    assert not res.report["figures"]["interruptions_reported"]  # the spoken turns waited for the patient


def test_cli_simulate_speak_freely(tmp_path):
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "trainer", "simulate", "first-checkin", "--clinician", "speak-freely",
                           "--camera", "none", "--fast", "--out", str(out)], cwd=REPO, capture_output=True, text=True,
                          timeout=900)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "took the intended card by the words alone" in proc.stdout
    _check_intended_path(json.loads((out / "summary.json").read_text()))
