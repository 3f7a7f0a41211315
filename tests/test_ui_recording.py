"""The recording in the app: the consent tick-box (policy, per visit), the recorded self-view in the replay
following the playhead, and the export choice."""

from conftest import played_session, recorded_session

from trainer.store.db import SessionStore
from trainer.ui.main_window import ExportChoices, MainWindow


def _image(label):
    pix = label.pixmap()
    return None if pix is None or pix.isNull() else pix.toImage()


def test_tick_box_is_offered_unticked_and_asked_anew_each_visit(qtbot, tmp_path):
    window = MainWindow(camera="7", mic=None, store=SessionStore(tmp_path / "s.db"))
    qtbot.addWidget(window)
    box = window.scenario_page.record_box
    assert box.isEnabled() and not box.isChecked() and window.scenario_page.record_note.isHidden()
    box.setChecked(True)
    assert window.scenario_page.take_recording_consent() is True
    assert not box.isChecked() and window.scenario_page.take_recording_consent() is False


def test_tick_box_disabled_with_the_reason_when_the_policy_forbids(qtbot, tmp_path, monkeypatch):
    p = tmp_path / "policy.yaml"
    p.write_text("note: No stored video here; ask the simulation lab.\nallow_video_recording: false\n")
    monkeypatch.setenv("TRAINER_POLICY", str(p))
    window = MainWindow(camera="7", mic=None, store=SessionStore(tmp_path / "s.db"))
    qtbot.addWidget(window)
    page = window.scenario_page
    page.record_box.setChecked(True)  # even if something ticks it, no consent is taken from a disabled box
    assert not page.record_box.isEnabled() and page.take_recording_consent() is False
    note = page.record_note.text()
    assert "not allowed" in note and f"{p}:2" in note and "simulation lab" in note


def test_replay_shows_the_recorded_frame_at_the_playhead(qtbot, tmp_path):
    window = MainWindow(camera="7", mic=None, store=SessionStore(tmp_path / "s.db"))
    qtbot.addWidget(window)
    sid = recorded_session(window.store)
    plain = played_session(window.store)
    window.resize(1440, 900)
    window.show_replay(sid)
    qtbot.waitUntil(lambda: window.replay_page is not None, timeout=30000)
    page = window.replay_page
    view = page.window_view.self_view
    assert page.video is not None
    page.seek(0.6)
    first = _image(view)
    page.seek(2.6)
    later = _image(view)
    assert first is not None and later is not None and first != later
    page.step(-2.0)  # stepping back shows the same picture as seeking there
    assert _image(view) == first
    page.seek(20.0)  # after the recording ends the measures speak alone
    assert _image(view) is None and "No picture recorded" in view.text()

    window._close_replay()
    window.show_replay(plain)  # a session without a recording replays from the measures, as before
    qtbot.waitUntil(lambda: window.replay_page is not None, timeout=30000)
    assert window.replay_page.video is None
    window.replay_page.seek(1.0)
    assert "no video was recorded" in window.replay_page.window_view.self_view.text()


def test_export_leaves_the_video_out_unless_ticked(qtbot):
    none = ExportChoices(0)
    qtbot.addWidget(none)
    assert not none.video.isEnabled() and not none.video.isChecked()
    some = ExportChoices(2)
    qtbot.addWidget(some)
    assert some.video.isEnabled() and not some.video.isChecked() and not some.reflection.isChecked()
    assert "2 of the selected sessions have one" in some.video.text()
