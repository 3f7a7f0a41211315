"""Live facilitator notes: Facilitator › Add note… (Ctrl+N) in the call window, stamped at the session time
when it was opened, signed with the last author used; Past sessions and the replay pick changes up by
themselves (the store announces them)."""

from conftest import settle
from PySide6.QtCore import Qt

from trainer.store.db import SessionStore
from trainer.ui.main_window import MainWindow
from trainer.ui.note_dialog import NoteDialog


def test_note_during_the_visit_is_stamped_when_asked_for_and_shows_in_the_replay(qtbot, tmp_path):
    store = SessionStore(tmp_path / "s.db")
    window = MainWindow(camera="7", mic=None, store=store)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.scenarios_ready, timeout=60000)  # loaded in the background
    window.start_visit(window.scenario_page.scenarios[0])
    qtbot.waitUntil(lambda: window.visit_page is not None and not window._starting, timeout=30000)
    page, runner = window.visit_page, window.runner
    assert page.facilitator_button.isVisibleTo(window)
    assert page.note_action in page.facilitator_button.menu().actions()
    qtbot.waitUntil(lambda: runner.clock.now() > 1.0, timeout=10000)
    page.end_button.setFocus()
    before = runner.clock.now()
    qtbot.keyClick(page.end_button, Qt.Key_N, Qt.ControlModifier)  # the menu item's shortcut
    qtbot.waitUntil(lambda: getattr(window, "note_dialog", None) is not None, timeout=5000)
    after = runner.clock.now()
    dialog = window.note_dialog
    assert before <= dialog.t <= after
    dialog.author.setText("Dr Live")
    dialog.text.setPlainText("Warm greeting, good eye contact.")
    qtbot.waitUntil(lambda: runner.clock.now() > after + 0.5, timeout=5000)  # typing takes time
    dialog.buttons.button(dialog.buttons.StandardButton.Save).click()
    sid = runner.session_id
    assert [(n["t"], n["author"], n["text"]) for n in store.notes(sid)] == [
        (dialog.t, "Dr Live", "Warm greeting, good eye contact.")]
    assert NoteDialog(0.0, "someone else").author.text() == "Dr Live"  # remembered for next time

    window.end_visit()
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.summary_page, timeout=20000)
    window.summary_page.skip_button.click()
    assert "Warm greeting, good eye contact." in window.summary_page.learner_text()
    window.show_history()
    settle(qtbot, window)
    assert window.stack.currentWidget() is window.history_page
    rows = window.history_page.table.rowCount()
    window.history_page.show_short.setChecked(True)  # the visit was short
    assert window.history_page.table.rowCount() == rows + 1

    # Another session saved while Past sessions is on show appears without asking for a refresh.
    other = store.create_session("first-checkin", "First check-in")
    store.writer(other).close("completed", duration_s=45.0)
    settle(qtbot, window)
    assert window.history_page.table.rowCount() == rows + 2

    window.show_replay(sid)
    qtbot.waitUntil(lambda: window.replay_page is not None, timeout=30000)
    replay = window.replay_page
    assert replay.notes_list.count() == 1 and "Dr Live" in replay.notes_list.item(0).text()
    assert replay.author_edit.text() == "Dr Live"
    store.add_note(sid, 0.5, "Added from elsewhere", "Peer")  # e.g. the live window of another facilitator
    settle(qtbot, window)
    assert replay.notes_list.count() == 2
    store.delete_session(sid)  # e.g. by retention: the replay of a session that is gone closes
    settle(qtbot, window)
    assert window.replay_page is None and window.stack.currentWidget() is window.history_page
    window.close()
