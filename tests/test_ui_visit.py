"""End-to-end GUI tests (pytest-qt, Qt offscreen): a whole visit driven through the real window with a
fixture video as the camera and its audio track as the microphone, checked from the store."""

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from trainer.store.db import SessionStore
from trainer.ui.main_window import MainWindow


@pytest.fixture
def store(tmp_path):
    return SessionStore(tmp_path / "sessions.sqlite3")


def _start_first_scenario(qtbot, window):
    window.confirm = lambda *args: True  # End call asks first (tested in test_ui_learners.py)
    qtbot.waitUntil(lambda: window.scenarios_ready, timeout=60000)  # loaded in the background
    window.scenario_page.list.setFocus()
    window.scenario_page.list.setCurrentRow(0)
    qtbot.keyClick(window.scenario_page.list, Qt.Key_Return)  # keyboard: Enter starts the visit...
    page = window.precheck_page  # ...after the pre-visit check, whose Start button then has the focus
    assert window.stack.currentWidget() is page
    qtbot.waitUntil(lambda: page.report is not None, timeout=240000)  # the check runs on the session clock
    qtbot.waitUntil(lambda: page.start_button.hasFocus(), timeout=30000)
    qtbot.keyClick(page.start_button, Qt.Key_Space)
    qtbot.waitUntil(lambda: window.runner is not None and window.visit_page is not None, timeout=30000)


def test_whole_visit_with_fixture_camera_and_mic(qtbot, store, fixtures):
    """Waits are for events, never for an amount of CPU: on a busy machine the visit is slower, not different."""
    video = str(fixtures("video/talking_nods.mp4"))
    window = MainWindow(camera=video, mic=video, store=store)
    qtbot.addWidget(window)
    window.show()
    _start_first_scenario(qtbot, window)
    page = window.visit_page
    finished = set()
    window.bridge.source_finished.connect(lambda ev: finished.add(ev.kind))
    qtbot.waitUntil(lambda: not window._starting, timeout=120000)
    # The self-view shows camera frames and the face status updates while the clip plays.
    # Generous: loading the face model takes several seconds on a busy shared machine.
    qtbot.waitUntil(lambda: page.self_view.pixmap() is not None and not page.self_view.pixmap().isNull(),
                    timeout=60000)
    qtbot.waitUntil(lambda: page.face_label.text().startswith("Face: found"), timeout=60000)
    assert page.patient.caption  # the patient's first line is on screen
    qtbot.waitUntil(lambda: finished >= {"camera", "mic"}, timeout=120000)
    # The clip has ended: the window says so instead of holding the last face state.
    qtbot.waitUntil(lambda: "no camera signal since 0:0" in page.face_label.text(), timeout=30000)
    assert "No camera signal" in page.self_view.text()
    assert page.clock_label.text().startswith("0:")  # the session clock, m:ss
    qtbot.mouseClick(page.end_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.summary_page, timeout=60000)

    sid = window.last_session_id
    frames = store.frames(sid)
    # Frames are dropped, not queued, when the machine is busy: check what they cover, not how many.
    assert frames and frames[0]["t"] < 1.0 and frames[-1]["t"] > 5.5  # the clip is 6.6 s long
    face_ratio = sum(f["face"] for f in frames) / len(frames)
    assert face_ratio >= 0.95
    clinician = store.speech(sid, "clinician")
    assert clinician and sum(e - s for s, e in clinician) > 3.0
    # The page shows the stored summary's measures: a percentage only when the camera covered enough of
    # the visit (docs/measures.md), otherwise "not enough to judge" with what was measured.
    face = store.summary(sid).measures["face_present"]
    # The summary asks for a reflection first (skippable), then shows the measures in plain words.
    page = window.summary_page
    assert not page.showing_results
    page.skip_button.click()
    assert page.showing_results and "Your face in view of the camera" in page.learner_text()
    shown = next(m for m in store.debrief(sid)["measures"] if m["label"] == "Your face in view of the camera")
    assert shown["value"] == face["shown"] if face["enough"] else shown["value"] == "not enough to judge"
    assert store.reflection(sid) == {"skipped": True}

    # The replay shows the window as it was at any time of the session, from the stored rows.
    window.summary_page.replay_button.click()  # "Replay this visit" from the summary
    qtbot.waitUntil(lambda: window.replay_page is not None and window.stack.currentWidget() is window.replay_page,
                    timeout=30000)
    replay = window.replay_page
    t = frames[len(frames) // 2]["t"]  # a moment the camera was delivering
    replay.seek(t)
    view, label = replay.model.view_at(t), replay.window_view.face_label.text()
    if view.face.signal == "live" and view.face.face:
        assert label.startswith("Face: found")
    else:  # a busy machine can make the pipeline call the camera lost for a while: shown as it was live
        assert view.face.text in label
    assert replay.time_label.text().startswith(f"0:0{int(t)} /")
    assert replay.lines_list.count() >= 1 and replay.window_view.patient.caption
    qtbot.keyClick(replay, Qt.Key_End)
    assert "no camera signal since 0:0" in replay.window_view.face_label.text()  # the clip ended at 6.6 s
    qtbot.keyClick(replay, Qt.Key_Home)
    assert replay.t == 0.0
    qtbot.keyClick(replay, Qt.Key_Escape)
    qtbot.waitUntil(lambda: window.replay_page is None, timeout=30000)

    # History lists the session (Ctrl+H), Enter opens its summary again.
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=30000)
    qtbot.keyClick(window, Qt.Key_H, Qt.ControlModifier)
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.history_page, timeout=30000)
    table = window.history_page.table
    assert table.rowCount() == 0 and "hidden" in window.history_page.count.text()  # a short test visit
    window.history_page.show_short.setChecked(True)
    assert table.rowCount() == 1 and table.item(0, 2).text() == store.session(sid)["scenario_title"]
    table.selectRow(0)
    window.history_page.replay_button.click()  # Replay from Past sessions too
    qtbot.waitUntil(lambda: window.replay_page is not None, timeout=30000)
    window.close()


def test_unreadable_video_shows_a_notice_and_the_visit_goes_on(qtbot, store, fixtures, tmp_path):
    bad = tmp_path / "not_a_video.mp4"
    bad.write_bytes(b"\x00garbage" * 4000)
    window = MainWindow(camera=str(bad), mic=str(fixtures("audio/speech_short.wav")), store=store)
    qtbot.addWidget(window)
    window.show()
    _start_first_scenario(qtbot, window)
    page = window.visit_page
    qtbot.waitUntil(lambda: "Cannot read video file" in page.notices_label.text(), timeout=60000)
    assert page.notices_label.isVisible() and "not_a_video.mp4" in page.notices_label.text()
    qtbot.waitUntil(lambda: bool(page.patient.caption), timeout=30000)
    page.end_button.click()
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.summary_page, timeout=10000)
    assert "Cannot read video file" in window.summary_page.notices.text()
    window.summary_page.save_button.click()
    assert store.summary(window.last_session_id).frames == 0
    window.close()


def test_broken_scenario_file_is_named_with_its_line(qtbot, store, tmp_path, monkeypatch):
    folder = tmp_path / "scenarios"
    folder.mkdir()
    from trainer.resources import _root

    good = (_root() / "scenarios").glob("*.yaml")
    for f in good:
        (folder / f.name).write_text(f.read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "zz_broken.yaml").write_text("id: broken\ntitle: Broken\npatient:\n  name: 'unclosed\n",
                                           encoding="utf-8")
    monkeypatch.setenv("TRAINER_SCENARIOS", str(folder))
    window = MainWindow(camera="7", mic=None, store=store)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.scenarios_ready, timeout=60000)  # loaded in the background
    assert window.scenario_page.errors.isVisible()
    text = window.scenario_page.errors.text()
    assert "zz_broken.yaml:" in text and any(f"zz_broken.yaml:{n}" in text for n in range(3, 7))
    assert window.scenario_page.list.count() >= 1  # the good scenarios are still offered
    window.close()


def test_intent_cards_and_call_actions_reach_the_engine_and_the_store(qtbot, store, fixtures):
    video = str(fixtures("video/steady_a.mp4"))
    window = MainWindow(camera=video, mic=str(fixtures("audio/noise.wav")), store=store)
    qtbot.addWidget(window)
    window.show()
    window.confirm = lambda *args: True
    window.start_visit_by_ref("abnormal-results")  # started once the scenario list is loaded
    qtbot.waitUntil(lambda: window.visit_page is not None, timeout=60000)
    page = window.visit_page
    # The first clinician turn offers intent cards once the patient's opening line has been spoken.
    qtbot.waitUntil(lambda: page.cards_box.isVisible() and bool(page._card_buttons), timeout=60000)
    labels = [b.text() for b in page._card_buttons]
    assert labels[0].startswith("1. ") and len(labels) == 3
    page._card_buttons[0].click()
    qtbot.waitUntil(lambda: bool(page._card_buttons) and page._card_buttons[0].isChecked(), timeout=30000)
    page.share_button.click()  # share the results on screen
    assert page.share_banner.isVisible() and page.share_button.text() == "Stop sharing"
    page.end_button.click()
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.summary_page, timeout=15000)
    sid = window.last_session_id
    cards = store.events(sid, "card_chosen")
    assert cards and cards[0]["data"]["card"] == "acknowledge_worry"
    assert [e["data"]["action"] for e in store.events(sid, "ui_action")] == ["share_screen"]
    # The summary lists the scenario's behaviours with their rubric status.
    window.summary_page.skip_button.click()
    assert "Sharing the screen" in window.summary_page.learner_text()
    window.close()


def test_camera_file_ending_is_shown_and_stale_readings_stop(qtbot, store, fixtures):
    """Issue 9: a 7 s video as the camera beside a 30 s microphone recording. When the video ends, the call
    window says since when there is no camera signal, and a late face reading does not overwrite it."""
    window = MainWindow(camera=str(fixtures("video/steady_a.mp4")),
                        mic=str(fixtures("audio/call_two_speakers.wav")), store=store)
    qtbot.addWidget(window)
    window.show()
    _start_first_scenario(qtbot, window)
    page = window.visit_page
    # Generous limits: the visit starts once the patient's lines are rendered (slow on a busy machine).
    qtbot.waitUntil(lambda: page.face_label.text().startswith("Face: found"), timeout=60000)
    qtbot.waitUntil(lambda: "no camera signal since 0:07" in page.face_label.text().lower(), timeout=20000)
    assert "No camera signal" in page.self_view.text()
    assert "No camera signal since 0:07" in page.notices_label.text()  # the pipeline's notice
    qtbot.wait(1200)  # frames analysed after the end are not shown as current
    assert "no camera signal since 0:07" in page.face_label.text().lower()
    assert "No microphone signal" not in page.mic_label.text()  # the microphone still runs
    page.end_button.click()
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.summary_page, timeout=60000)
    stored = store.events(window.last_session_id, "source_status")
    assert ("camera", "ended") in {(r["data"]["source"], r["data"]["state"]) for r in stored}
    window.close()
