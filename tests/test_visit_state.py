"""The call window's state model (core.visit_state): built live from events, the same at any t when
rebuilt with state_at (replay), and honest about lost signals."""

from __future__ import annotations

from trainer.core.engine import ScenarioEngine
from trainer.core.events import (AudioLevel, FrameSample, Notice, SourceFinished, SourceStatus, SpeechSegment,
                                 SpeechStarted, event_from_row)
from trainer.core.scenario import ClinicianTurn, PatientLine, load_scenario
from trainer.core.visit_state import VisitState, state_at
from trainer.resources import builtin_scenarios_dir


def _visit():
    """A scripted visit of first_checkin: every event in the order a live window receives them, the
    camera ending at 6 s, the mic meter running throughout."""
    s = load_scenario(builtin_scenarios_dir() / "first_checkin.yaml")
    engine = ScenarioEngine(s)
    out = list(engine.start(0.0))
    t = 0.0

    def pipeline(t0, t1):
        for i in range(int((t1 - t0) * 10)):
            tt = t0 + i / 10
            if tt < 6.0:
                out.append(FrameSample(tt, True, "camera", quality=("too_dark",) if tt > 5 else ()))
            out.append(AudioLevel(tt, -30.0, False))
        if t0 <= 6.0 < t1:
            out.append(SourceFinished(6.0, "camera"))

    while not engine.finished and t < 200:
        step = engine.current
        if isinstance(step, PatientLine):
            pipeline(t, engine._line_ends_at)
            t = engine._line_ends_at
            out += engine.tick(t)
        elif isinstance(step, ClinicianTurn):
            if step.cards:
                out += engine.choose_card(t + 0.5, step.cards[0].id)
            pipeline(t, t + 1.0)
            out += engine.clinician_speech_started(t + 1.0)
            pipeline(t + 1.0, t + 7.0)
            out.append(SpeechSegment(t + 1.0, t + 7.0, "clinician"))
            engine.clinician_speech_segment(t + 1.0, t + 7.0)
            t += 7.7
            out += engine.clinician_turn_ended(t, t - 0.7)
            if len([e for e in out if getattr(e, "kind", "") == "clinician_turn_end"]) == 2:
                out.append(Notice(t, "mic_clipping", "Your microphone is clipping."))
                out += engine.end_call(t + 1.0)
        else:
            t += 0.5
            out += engine.tick(t)
    return sorted(out, key=_time)  # the order a live window receives them in (stable for ties)


def _time(e):
    return e.end if type(e).__name__ == "SpeechSegment" else e.t


def test_live_state_equals_state_at_every_moment():
    events = _visit()
    end = max(_time(e) for e in events)
    live = VisitState()
    i = 0
    for k in range(int(end * 4) + 4):
        t = k / 4
        while i < len(events) and _time(events[i]) <= t:
            live.apply(events[i])
            i += 1
        assert live.view(t) == state_at(events, t), t


def test_the_window_shows_what_happens_and_never_a_stale_camera():
    events = _visit()
    first = state_at(events, 1.0)
    assert first.phase == "patient_speaking" and first.line.speaker == "patient" and first.line.text
    assert first.face.signal == "live" and first.face.gaze == "camera" and first.mic.signal == "live"
    turn_start = next(e.t for e in events if getattr(e, "kind", "") == "clinician_turn")
    in_turn = state_at(events, turn_start + 0.7)
    assert in_turn.phase == "clinician_turn" and in_turn.turn.prompt and in_turn.turn.chosen_card
    assert in_turn.turn.time_left_s is not None and 0 < in_turn.turn.time_left_s < 60
    speaking = state_at(events, turn_start + 3.0)
    assert speaking.turn.speaking and speaking.turn.time_left_s is None
    # The camera ended at 6 s: from then on the panel says so, whatever the last frame showed.
    later = state_at(events, turn_start + 3.0)
    assert later.face.signal == "lost" and later.face.text == "no camera signal since 0:05"
    after = state_at(events, turn_start + 8.0)
    assert after.clinician_talk_s == 6.0 and after.patient_talk_s > 0 and 0 < after.talk_share < 1
    done = state_at(events, max(_time(e) for e in events))
    assert done.phase == "ended" and done.ended_reason == "ended_by_user"
    assert [n.code for n in done.notices] == ["mic_clipping"]


def test_a_stored_session_replays_through_event_from_row():
    events = [e for e in _visit() if hasattr(e, "data")]
    rebuilt = [event_from_row(e.t, e.kind, e.data) for e in events]
    assert rebuilt == events
    t = events[len(events) // 2].t
    assert state_at(rebuilt, t) == state_at(events, t)


def test_analysis_behind_is_said_and_only_the_source_declares_a_lost_signal():
    """A busy computer delays analysed frames; that is 'not analysed since', never 'no camera signal'."""
    s = VisitState()
    s.apply(FrameSample(2.0, True, "screen"))
    assert s.view(2.9).face.signal == "live" and s.view(3.5).face.signal == "live"
    assert s.view(4.5).face.text == "not analysed since 0:02 (the computer is busy)"
    assert s.view(4.5).face.gaze is None  # the old gaze is not shown as current
    s.apply(AudioLevel(2.0, -20.0, True))
    assert s.view(2.5).mic.speaking and s.view(4.5).mic.signal == "stale" and not s.view(4.5).mic.speaking
    s.apply(SourceStatus(4.6, "camera", "ended", "end of file"))
    assert s.view(4.7).face.text == "no camera signal since 0:02"  # since the last frame it sent


def test_a_turn_without_time_limit_has_no_countdown():
    s = load_scenario(builtin_scenarios_dir() / "first_checkin.yaml")
    engine = ScenarioEngine(s, turn_time_scale=None)
    events = list(engine.start(0.0))
    events += engine.tick(engine._line_ends_at)
    view = state_at(events, engine._line_ends_at + 100.0)
    assert view.phase == "clinician_turn" and view.turn.time_left_s is None


def test_you_counts_up_while_the_clinician_talks():
    """The issue's "You: 6 s stood still": a long utterance counts from its onset, not only when it ends;
    the segment that closes it then replaces the running count. A replay rebuilt from the stored segments
    (with a SpeechStarted at each start, as trainer.store.timeline adds them) shows the same numbers."""
    live = [SpeechStarted(1.0), SpeechSegment(1.0, 3.0, "clinician"), SpeechStarted(10.0),
            SpeechSegment(10.0, 18.0, "clinician")]
    s = VisitState()
    for ev in live[:3]:
        s.apply(ev)
    assert s.view(10.0).clinician_talk_s == 2.0
    assert s.view(14.5).clinician_talk_s == 6.5  # 2 s closed + 4.5 s under way
    s.apply(live[3])
    assert s.view(18.0).clinician_talk_s == 10.0 and s.view(30.0).clinician_talk_s == 10.0
    stored = [SpeechSegment(1.0, 3.0, "clinician"), SpeechSegment(10.0, 18.0, "clinician"), SpeechStarted(1.0),
              SpeechStarted(10.0)]
    for t in (0.5, 2.0, 5.0, 14.5, 18.0, 30.0):
        assert state_at(stored, t).clinician_talk_s == state_at(live, t).clinician_talk_s, t
    assert state_at(stored, 2.0).clinician_talk_s == 1.0 and state_at(stored, 14.5).clinician_talk_s == 6.5
