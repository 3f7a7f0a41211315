"""Drive whole built-in scenarios through the engine with a scripted clinician, branch by branch.

The scripted clinician is a plain function of the turn: which card to pick, which call-window action to
use, how long to wait and talk, where to look, whether the face responds to cues, whether to cut into
the patient's line. Nothing here sleeps: a whole 8-minute visit replays in milliseconds.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import pytest

from trainer.core.engine import ScenarioEngine
from trainer.core.scenario import ClinicianTurn, PatientLine, Scenario, discover_scenarios
from trainer.resources import builtin_scenarios_dir

HANGOVER_S = 0.7
FPS = 10.0


@dataclass
class Plan:
    """What the scripted clinician does in one turn."""

    card: str | None = None
    actions: tuple[str, ...] = ()
    speak: bool = True
    wait: float = 1.0
    talk: float = 8.0
    camera: float = 0.7  # share of frames looking into the lens
    face_response: bool = True  # expression/nod during and after cue lines
    interrupt_next_line: bool = False  # cut into the patient's next line
    override: str | None = None  # given by the facilitator at the start of the turn


@dataclass
class Run:
    engine: ScenarioEngine
    kinds: list[str] = field(default_factory=list)

    @property
    def reached(self) -> set[str]:
        return set(self.engine.reached)

    def path(self) -> list[str]:
        return [e.data["step"] for e in self.engine.history if e.kind in ("patient_line", "clinician_turn")]


def _frames(engine: ScenarioEngine, t0: float, t1: float, camera: float, responsive: bool) -> None:
    n = max(0, int((t1 - t0) * FPS))
    for i in range(n):
        t = t0 + i / FPS
        looking = (i % 10) < round(camera * 10)
        engine.observe_frame(t, True, "camera" if looking else "screen",
                             expressivity=0.55 if responsive and i % 5 == 2 else 0.1, nod=responsive and i % 10 == 4)


def drive(scenario: Scenario, policy, *, max_t: float = 3600.0, interrupt_first: bool = False) -> Run:
    """Play `scenario` to the end. policy(step, engine) -> Plan for each clinician turn."""
    engine = ScenarioEngine(scenario)
    engine.start(0.0)
    t = 0.0
    pending_interrupt = interrupt_first
    last_plan = Plan()
    guard = 0
    while not engine.finished and t < max_t:
        guard += 1
        assert guard < 5000, "the scenario never ends"
        step = engine.current
        if step is None:  # a connection problem is holding the next step
            _frames(engine, t, t + 0.5, last_plan.camera, False)
            t += 0.5
            engine.tick(t)
            continue
        if isinstance(step, PatientLine):
            start, end = t, engine._line_ends_at
            responsive = last_plan.face_response and step.cue
            if pending_interrupt:
                cut = start + min(1.0, (end - start) / 2)
                engine.clinician_speech_started(cut)
                engine.clinician_speech_segment(cut, cut + 1.5)
                engine.clinician_turn_ended(cut + 1.5 + HANGOVER_S, cut + 1.5)
                pending_interrupt = False
            _frames(engine, start, end + 2.0, last_plan.camera, responsive)
            t = end
            engine.tick(t)
            continue
        assert isinstance(step, ClinicianTurn)
        plan = policy(step, engine)
        last_plan = plan
        turn_start = t
        if plan.override:
            engine.override(t + 0.05, plan.override)
            t += 0.05
            if engine.current is not step:  # the override jumped elsewhere
                pending_interrupt = plan.interrupt_next_line
                continue
        if plan.card:
            engine.choose_card(t + 0.2, plan.card)
        for i, a in enumerate(plan.actions):
            engine.ui_action(t + 0.3 + 0.01 * i, a)
        if not plan.speak:
            t = turn_start + step.timeout_s + 0.01
            engine.tick(t)
        else:
            s0 = turn_start + plan.wait
            engine.clinician_speech_started(s0)
            _frames(engine, s0, s0 + plan.talk, plan.camera, False)
            engine.clinician_speech_segment(s0, s0 + plan.talk)
            t = s0 + plan.talk + HANGOVER_S
            engine.clinician_turn_ended(t, s0 + plan.talk)
        pending_interrupt = plan.interrupt_next_line
    run = Run(engine, [e.kind for e in engine.history])
    return run


@pytest.fixture(scope="module")
def library() -> dict[str, Scenario]:
    scenarios, errors = discover_scenarios([builtin_scenarios_dir()])
    assert not errors, [str(e) for e in errors]
    return {s.id: s for s in scenarios}


def good_clinician(step: ClinicianTurn, engine) -> Plan:
    """Picks the first card (the authors list the compassionate option first), shares/invites when
    prompted, waits, looks into the lens, responds to cues."""
    actions = []
    if "share" in step.prompt.lower() and not engine.sharing_screen:
        actions.append("share_screen")
    if "invite" in step.prompt.lower() and not engine.caregiver_present:
        actions.append("invite_caregiver")
    return Plan(card=step.cards[0].id if step.cards else None, actions=tuple(actions), wait=2.0, talk=step.expect_s,
                camera=0.8)


def poor_clinician(step: ClinicianTurn, engine) -> Plan:
    """Picks the last card, never uses call actions, answers at once, reads notes, no face response."""
    return Plan(card=step.cards[-1].id if step.cards else None, wait=0.2, talk=30.0, camera=0.1,
                face_response=False)


def random_clinician(seed: int):
    rng = random.Random(seed)

    def policy(step: ClinicianTurn, engine) -> Plan:
        overrides = [o for o, _ in engine.available_overrides() if o not in ("end_visit",)]
        return Plan(card=rng.choice([None, *[c.id for c in step.cards]]),
                    actions=tuple(a for a in ("share_screen", "invite_caregiver", "stop_share") if rng.random() < 0.15),
                    speak=rng.random() > 0.12, wait=rng.choice([0.0, 0.3, 1.0, 2.0, 4.0]),
                    talk=rng.choice([2.0, 6.0, 15.0, 40.0]), camera=rng.choice([0.0, 0.1, 0.5, 0.9]),
                    face_response=rng.random() < 0.5, interrupt_next_line=rng.random() < 0.15,
                    override=rng.choice(overrides) if rng.random() < 0.05 else None)
    return policy


def test_every_builtin_plays_to_completion_with_a_good_clinician(library):
    for s in library.values():
        run = drive(s, good_clinician)
        assert run.engine.history[-1].kind == "visit_end"
        assert run.engine.history[-1].data["reason"] == "completed", s.id
        times = [e.t for e in run.engine.history]
        assert times == sorted(times), s.id
        minutes = run.engine.history[-1].t / 60
        assert 5.0 <= minutes <= 12.0, f"{s.id}: a good run lasts {minutes:.1f} min"


def test_good_clinician_meets_the_rubric_and_poor_one_does_not(library):
    for s in library.values():
        good = {r["behaviour"]: r["status"] for r in drive(s, good_clinician).engine.rubric_report()}
        poor = {r["behaviour"]: r["status"] for r in drive(s, poor_clinician).engine.rubric_report()}
        assert set(good) == set(s.behaviours)
        assert all(v in ("met", "met_pending_rating") for v in good.values()), (s.id, good)
        assert sum(v == "not_met" for v in poor.values()) >= len(s.behaviours) // 2, (s.id, poor)


def test_good_and_poor_clinicians_take_different_paths(library):
    for s in library.values():
        assert drive(s, good_clinician).path() != drive(s, poor_clinician).path(), s.id


def test_random_clinicians_reach_every_step_of_every_scenario(library):
    """Branch coverage: across seeded scripted visits, every step (so every branch target) is reached."""
    for s in library.values():
        reached: set[str] = set()
        for seed in range(150):
            run = drive(s, random_clinician(seed), interrupt_first=seed % 4 == 1)
            assert run.kinds[-1] == "visit_end"
            reached |= run.reached
            if len(reached) == len(s.steps):
                break
        missing = {st.id for st in s.steps} - reached
        assert not missing, f"{s.id}: never reached {sorted(missing)}"


def test_same_inputs_give_the_same_visit(library):
    for s in library.values():
        a = drive(s, random_clinician(7)).engine.history
        b = drive(s, random_clinician(7)).engine.history
        assert a == b


# -- branch by branch on specific scenarios --------------------------------------------------------

def scripted(plans: dict[str, Plan], default: Plan | None = None):
    default = default or Plan()
    return lambda step, engine: plans.get(step.id, default)


def test_card_choice_branches(library):
    s = library["abnormal-results"]
    plain = drive(s, scripted({"t_explain": Plan(card="plain_words")}))
    technical = drive(s, scripted({"t_explain": Plan(card="technical")}))
    assert "not_seen" in plain.reached and "lost" not in plain.reached
    assert "lost" in technical.reached and "not_seen" not in technical.reached


def test_share_screen_action_branches_and_counts_for_the_rubric(library):
    s = library["abnormal-results"]
    shared = drive(s, scripted({"t_explain": Plan(card="plain_words", actions=("share_screen",))}))
    assert "sees_chart" in shared.reached and "not_seen" not in shared.reached
    status = {r["behaviour"]: r for r in shared.engine.rubric_report()}
    assert status["screen_share"]["status"] == "met"
    never = drive(s, scripted({}))
    assert {r["behaviour"]: r["status"] for r in never.engine.rubric_report()}["screen_share"] == "not_met"


def test_invite_caregiver_brings_the_daughter_in(library):
    s = library["caregiver-daughter"]
    run = drive(s, scripted({"t_invite": Plan(card="ask_permission", actions=("invite_caregiver",)),
                             "t_both": Plan(card="both_in"), "t_check": Plan(card="teach_back")}))
    joins = [e for e in run.engine.history if e.kind == "caregiver_join"]
    assert len(joins) == 1 and joins[0].data["name"] == "Denise Brooks" and joins[0].data["relation"] == "daughter"
    assert {"denise_hello", "denise_notes", "both_teach_back"} <= run.reached
    assert "alone" not in run.reached
    speakers = {e.data["step"]: e.data["speaker"] for e in run.engine.history if e.kind == "patient_line"}
    assert speakers["denise_hello"] == "caregiver" and speakers["hello"] == "patient"
    alone = drive(s, scripted({"t_invite": Plan(card="carry_on")}))
    assert "alone" in alone.reached and not alone.engine.caregiver_present


def test_interruption_is_measured_and_branches(library):
    s = library["frustrated-unheard"]
    # Cutting into Linda's opening line: the engine sees speech while she is talking.
    engine = ScenarioEngine(s)
    engine.start(0.0)
    assert engine.clinician_speech_started(2.0) == []  # not yet known: it could be a backchannel
    # Still speaking past a backchannel's length: the clinician took the floor at 2.0 (known at 3.0).
    ev = engine.tick(3.1)
    assert [(e.kind, e.t, e.onset) for e in ev] == [("interruption", 3.0, 2.0)]
    assert engine.clinician_speech_segment(2.0, 3.3) == []  # the voice side closes the segment, as in a visit
    engine.clinician_turn_ended(4.0, 3.3)
    line_end = engine._line_ends_at
    engine.tick(line_end)
    engine.clinician_speech_started(line_end + 1.0)
    engine.clinician_speech_segment(line_end + 1.0, line_end + 5.3)
    out = engine.clinician_turn_ended(line_end + 6.0, line_end + 5.3)
    assert any(e.kind == "branch" and e.data["to"] == "interrupted_again" for e in out)
    assert engine.current.id == "interrupted_again"


def test_a_short_utterance_during_a_line_is_a_backchannel_not_an_interruption(library):
    """'Mm-hm' while the patient goes on (core.talktime: at most BACKCHANNEL_MAX_S) never scolds."""
    s = library["frustrated-unheard"]
    engine = ScenarioEngine(s)
    engine.start(0.0)
    assert engine.clinician_speech_started(2.0) == []
    engine.tick(2.5)
    ev = engine.clinician_speech_segment(2.0, 2.6)
    assert [(e.kind, e.t, e.onset) for e in ev] == [("backchannel", 2.6, 2.0)]
    engine.clinician_turn_ended(3.3, 2.6)
    engine.tick(4.0)
    assert engine.interruptions == [] and engine.backchannels == [2.0]


def test_measured_eye_contact_branches_and_unknown_never_branches(library):
    s = library["frustrated-unheard"]
    base = {"t_open": Plan(card="acknowledge_invite")}
    away = drive(s, scripted({**base, "t_story": Plan(card="probe_broad", camera=0.0, talk=10.0)}))
    assert "not_looking" in away.reached
    looking = drive(s, scripted({**base, "t_story": Plan(card="probe_broad", camera=0.9, talk=10.0)}))
    assert "not_looking" not in looking.reached and "snoring" in looking.reached
    # No camera at all: eye contact is unknown, so the measured branch is not taken (never guessed).
    engine = ScenarioEngine(s)
    engine.start(0.0)
    t = 0.0
    while engine.current is None or engine.current.id != "t_story":
        step = engine.current
        if isinstance(step, ClinicianTurn):
            if step.id == "t_open":
                engine.choose_card(t + 0.1, "acknowledge_invite")
            engine.clinician_speech_started(t + 1.0)
            engine.clinician_speech_segment(t + 1.0, t + 5.3)
            t += 6.0
            engine.clinician_turn_ended(t)
        else:
            t = engine._line_ends_at
            engine.tick(t)
    engine.choose_card(t + 0.1, "probe_broad")
    engine.clinician_speech_started(t + 1.0)
    engine.clinician_speech_segment(t + 1.0, t + 11.3)
    out = engine.clinician_turn_ended(t + 12.0, t + 11.3)
    end = next(e for e in out if e.kind == "clinician_turn_end")
    assert end.data["eye_contact"] is None
    assert engine.current.id == "snoring"


def test_wait_time_and_face_response_branch(library):
    s = library["first-checkin"]
    attentive = drive(s, scripted({"acknowledge": Plan(wait=2.5, face_response=True)},
                                  Plan(face_response=True)))
    assert "more" in attentive.reached
    hasty = drive(s, scripted({"acknowledge": Plan(wait=0.2, face_response=False)}, Plan(face_response=False)))
    assert "more" not in hasty.reached and "relief" in hasty.reached


def test_talk_length_branch(library):
    s = library["follow-up-concern"]
    chatty = drive(s, scripted({"t_hello": Plan(talk=15.0)}))
    brief = drive(s, scripted({"t_hello": Plan(talk=4.0)}))
    assert "chat" in chatty.reached and "readings_first" not in chatty.reached
    assert "readings_first" in brief.reached and "chat" not in brief.reached


def test_a_silent_clinician_is_never_answered_as_if_they_had_spoken(library):
    for s in library.values():
        # Picks a card but never says a word: the patient checks the connection, then gives up.
        run = drive(s, lambda step, engine: Plan(card=step.cards[0].id if step.cards else None, speak=False))
        hist = run.engine.history
        ends = [e for e in hist if e.kind == "clinician_turn_end"]
        assert ends and all(e.reason == "timeout" and not e.credited for e in ends), s.id
        assert not run.engine.cards_chosen and not any(e.kind == "branch" and e.branch > 0 for e in hist), s.id
        first_turn = ends[0].step
        after = [e for e in hist if e.kind == "patient_line" and e.t >= ends[0].t]
        assert after[0].step.startswith("~silence") or after[0].step == next(
            st for st in s.steps if st.id == first_turn).on_timeout, s.id
        assert hist[-1].kind == "visit_end" and hist[-1].reason in ("no_response", "completed"), s.id
        rubric = run.engine.rubric_report()
        assert not any(r["status"] in ("met", "met_pending_rating") for r in rubric), (s.id, rubric)


def test_connection_events_freeze_then_recover(library):
    s = library["connection-freeze"]
    run = drive(s, good_clinician)
    conn = [e for e in run.engine.history if e.kind == "connection"]
    assert [c.data["state"] for c in conn] == ["frozen", "ok", "audio_dropped", "ok"]
    assert conn[1].t - conn[0].t == pytest.approx(6.0)
    assert conn[3].t - conn[2].t == pytest.approx(5.0)
    # The held step starts exactly when the connection recovers.
    after = run.engine.history[run.engine.history.index(conn[1]) + 1]
    assert after.kind == "clinician_turn" and after.data["step"] == "t_after_freeze" and after.t == conn[1].t


def test_facilitator_overrides(library):
    s = library["follow-up-concern"]
    run = drive(s, scripted({"t_readings": Plan(override="brother_news")}))
    assert "brother_raised" in run.reached
    assert any(e.kind == "override" and e.data["name"] == "brother_news" for e in run.engine.history)
    report = {r["behaviour"]: r["status"] for r in run.engine.rubric_report()}
    assert report["follow_up"] == "not_met"  # the patient raised it, not the clinician
    engine = ScenarioEngine(s)
    engine.start(0.0)
    out = engine.override(1.0, "skip")
    assert [e.kind for e in out][:3] == ["override", "patient_line_end", "clinician_turn"]
    out = engine.override(2.0, "end_visit")
    assert out[-1].kind == "visit_end" and out[-1].data["reason"] == "ended_by_facilitator"
    with pytest.raises(ValueError):
        ScenarioEngine(s).override(0.0, "no-such-override")


def test_end_call_mid_line_and_visit_end_carries_the_rubric(library):
    s = library["phone-preferred"]
    engine = ScenarioEngine(s)
    engine.start(0.0)
    out = engine.end_call(1.0)
    assert [e.kind for e in out] == ["patient_line_end", "visit_end"]
    assert out[0].data["interrupted"] is True
    end = out[-1].data
    assert end["reason"] == "ended_by_user" and end["behaviours"] == list(s.behaviours)
    assert {r["behaviour"] for r in end["rubric"]} == set(s.behaviours)
    assert engine.end_call(2.0) == [] and engine.tick(3.0) == []
