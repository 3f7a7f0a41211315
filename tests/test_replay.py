"""Replay (core.replay, store.timeline): the state at any t equals the live state at t, seeking backwards
and across checkpoints, and a stored session reads back into the same window."""

from __future__ import annotations

import pytest

from trainer.core import replay as replay_mod
from trainer.core.events import AudioLevel, SourceStatus, SpeechSegment, SpeechStarted
from trainer.core.replay import ReplayModel, transcript
from trainer.core.visit_state import state_at
from trainer.store.db import SessionStore
from trainer.store.timeline import load_timeline

from test_visit_state import _time, _visit


@pytest.mark.parametrize("checkpoint", [7, 500])
def test_seeking_anywhere_in_any_order_gives_the_live_state(monkeypatch, checkpoint):
    monkeypatch.setattr(replay_mod, "CHECKPOINT_EVENTS", checkpoint)
    events = _visit()
    model = ReplayModel(events)
    end = max(_time(e) for e in events)
    times = [end * k / 37 for k in range(38)]
    for t in times[::-1] + times[::3]:  # backwards, then forwards in jumps
        assert model.view_at(t) == state_at(events, t), t
    assert model.duration_s == end
    lines = transcript(model.events)
    assert lines and lines[0][0] == 0.0 and all(text for _t, _who, text in lines)


def test_a_stored_session_replays_the_window_it_showed(tmp_path):
    """Write a visit through the real session writer, read it back: the replay's window at t is the live
    window at t, except the mic meter level and quality flags (not stored; documented in core.visit_state)."""
    # Only the camera's status event says it ended (no SourceFinished): the replay must read it back.
    events = [e for e in _visit() if type(e).__name__ != "SourceFinished"]
    events.append(SourceStatus(6.0, "camera", "ended", "end of file"))
    starts = [e.t for e in events if getattr(e, "kind", "") == "patient_line"]
    ends = [e.t for e in events if getattr(e, "kind", "") == "patient_line_end"]
    events += [SpeechSegment(a, b, "patient") for a, b in zip(starts, ends)]  # as VisitRunner stores them
    store = SessionStore(tmp_path / "s.sqlite3")
    sid = store.create_session("first-checkin", "Check-in", camera="clip.mp4", mic="clip.mp4")
    writer = store.writer(sid)
    for ev in events:
        writer.put(ev)
    end = max(_time(e) for e in events)
    writer.close("ended_early", duration_s=end)
    timeline = load_timeline(store, sid)
    assert timeline.duration_s == pytest.approx(end)
    no_meter = [e for e in events if not isinstance(e, AudioLevel)]
    # Live, the voice side announces each clinician segment when it starts (counted up to t by "You").
    no_meter += [SpeechStarted(e.start) for e in events if isinstance(e, SpeechSegment) and e.speaker == "clinician"]
    for k in range(0, 30):
        t = end * k / 29
        got, want = timeline.model.view_at(t), state_at(no_meter, t)
        # Quality flags are not stored per frame (docs/session-store.md): the panel is compared without them.
        assert (got.phase, got.line, got.turn, got.face.text, got.face.since, got.interruptions) == \
               (want.phase, want.line, want.turn, want.face.text, want.face.since, want.interruptions), t
        assert got.clinician_talk_s == pytest.approx(want.clinician_talk_s, abs=0.01)
        assert got.patient_talk_s == pytest.approx(want.patient_talk_s, abs=0.01)
    lanes = {lane.name: lane for lane in timeline.lanes}
    assert lanes["Gaze"].spans and lanes["Gaze"].spans[0][2] == "camera"
    assert lanes["You talk"].spans and lanes["Patient talk"].spans
    assert any(label == "no camera signal" and a == pytest.approx(6.0) for a, _b, label in lanes["Notices, gaps"].spans)
    assert any(label.startswith("card: ") for _t, label in lanes["Cards, actions"].marks)
