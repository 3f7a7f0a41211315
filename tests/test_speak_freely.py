"""Speak freely: intents recognised from the clinician's words choose the turn's card, so every built-in
scenario can be played without pressing a card and takes the branches the words intend; unsure words
leave the cards as the fallback; the runner holds the end of a turn for its transcript."""

from __future__ import annotations

import time
import wave

import pytest

from test_engine_paths import Plan, drive, good_clinician, poor_clinician
from test_engine_visit import _wait
from trainer.capture.patient_voice import PatientVoice
from trainer.core.events import SpeechSegment, SpeechStarted, TurnEnded, Utterance
from trainer.core.intents import recognise_intent
from trainer.core.scenario import ClinicianTurn, discover_scenarios, load_scenario
from trainer.resources import builtin_scenarios_dir
from trainer.store.db import SessionStore
from trainer.visit import VisitRunner


@pytest.fixture(scope="module")
def voice(tmp_path_factory):
    return PatientVoice(cache_dir=tmp_path_factory.mktemp("voice"))  # lines rendered once for the module


@pytest.fixture(scope="module")
def library():
    scenarios, errors = discover_scenarios([builtin_scenarios_dir()])
    assert not errors
    return scenarios


def speaking(pick):
    """A clinician who never presses a card but says `pick(step)`'s first phrasing; the recogniser
    chooses the card."""
    heard = []

    def policy(step: ClinicianTurn, engine) -> Plan:
        plan = pick(step, engine)
        if not step.cards:
            return plan
        said = step.card(plan.card)
        m = recognise_intent(said.say[0], step.cards)
        heard.append((step.id, plan.card, m.card))
        return Plan(card=m.card, actions=plan.actions, wait=plan.wait, talk=plan.talk, camera=plan.camera,
                    face_response=plan.face_response)

    policy.heard = heard
    return policy


@pytest.mark.parametrize("pick", [good_clinician, poor_clinician], ids=["first-cards", "last-cards"])
def test_every_builtin_completes_by_words_alone_on_the_intended_path(library, pick):
    for s in library:
        spoken = speaking(pick)
        run = drive(s, spoken)
        assert run.engine.finished, s.id
        assert spoken.heard and all(want == got for _, want, got in spoken.heard), (s.id, spoken.heard)
        assert run.path() == drive(s, pick).path(), s.id


def test_every_card_has_phrasings(library):
    for s in library:
        for st in s.steps:
            if isinstance(st, ClinicianTurn):
                for c in st.cards:
                    assert len(c.say) >= 2, (s.id, st.id, c.id)


def test_unsure_words_choose_nothing(library):
    s = next(x for x in library if x.id == "first-checkin")
    greet = s.step("greet")
    assert recognise_intent("Mm.", greet.cards).card is None
    assert recognise_intent("", greet.cards).card is None
    m = recognise_intent("Hello Maria, I can hear you well. Is that your kitchen behind you?", greet.cards)
    assert m.card == "see_hear_chat" and m.confidence > m.runner_up


@pytest.mark.parametrize("said,card", [
    ("Let's look at your blood pressure readings.", "straight_to_readings"),
    ("Hello Maria, I can see and hear you well. Is that your kitchen?", "see_hear_chat"),
])
def test_runner_holds_the_turn_end_for_the_words(tmp_path, voice, said, card):
    s = load_scenario(builtin_scenarios_dir() / "first_checkin.yaml")
    store = SessionStore(tmp_path / "s.db")
    events = []
    # A quiet microphone (90 s of silence), so talk is measured: the speech itself is fed below.
    mic = tmp_path / "quiet.wav"
    with wave.open(str(mic), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(b"\0\0" * 16000 * 90)
    runner = VisitRunner(s, store, camera=None, mic=str(mic), listener=events.append,
                         voice=voice, speech_to_text=True, speak_freely=True)
    sid = runner.start()
    try:
        runner.override("skip")  # skip the patient's opening line
        assert _wait(lambda: runner.engine.current is not None and runner.engine.current.id == "greet", 20)
        t0 = runner.clock.now()
        feed = runner._on_pipeline_event  # what the pipeline's threads call
        feed(SpeechStarted(t0 + 0.1))
        feed(SpeechSegment(t0 + 0.1, t0 + 2.0))
        feed(TurnEnded(t0 + 2.7, t0 + 2.0))
        time.sleep(0.3)
        assert runner.engine.current.id == "greet"  # held: the words are not in yet
        feed(Utterance(t0 + 3.5, t0 + 0.1, t0 + 2.0, said, {}, 0.9, False))
        assert _wait(lambda: runner.engine.current is None or runner.engine.current.id != "greet", 20)
        # Which branch follows depends on the card being credited, which needs speech the pipeline
        # measured (the speech here is fed, not heard): the branches are checked by the engine-level
        # test above; here, that the held turn was resolved by the words.
    finally:
        runner.end()
    heard = store.events(sid, "intent_heard")
    assert heard and heard[0]["data"]["card"] == card and heard[0]["data"]["confidence"] > 0.34
    assert [e["data"]["card"] for e in store.events(sid, "card_chosen")] == [card]
