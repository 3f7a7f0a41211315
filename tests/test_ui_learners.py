"""Learners on a shared workstation: the learner chosen at start owns the session; past sessions are listed
per learner in local time, sortable and filterable, short ones hidden by default, deleted only after a
confirmation; End call and closing the window mid-visit ask first."""

from datetime import datetime

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from conftest import settle

from trainer.store.db import SessionStore
from trainer.ui.history_page import local_time
from trainer.ui.main_window import MainWindow


def _answer(text: str) -> None:
    """Click the button labelled `text` in the next modal message box."""
    def click():
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(50, click)
            return
        next(b for b in box.buttons() if b.text() == text).click()
    QTimer.singleShot(50, click)


def _session(store, learner, title, seconds):
    sid = store.create_session(title.lower(), title, learner=learner)
    store.writer(sid).close(duration_s=seconds)
    return sid


def test_history_per_learner_sorting_short_sessions_and_delete(qtbot, tmp_path):
    store = SessionStore(tmp_path / "s.db")
    _session(store, "Amal", "Results call", 300.0)
    _session(store, "Amal", "First check-in", 95.0)
    _session(store, "Amal", "First check-in", 4.0)  # a test start: hidden by default
    _session(store, "Ben", "First check-in", 200.0)
    window = MainWindow(camera="7", mic=None, store=store)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.scenarios_ready, timeout=60000)  # loaded in the background
    assert window.scenario_page.learner() == "Ben"  # the most recently active learner
    assert window.scenario_page.list.hasFocus() or window.focusWidget() is window.scenario_page.list
    window.scenario_page.learner_box.setEditText("Amal")
    window.show_history()
    settle(qtbot, window)
    page = window.history_page
    table = page.table
    assert page.learner_filter.currentData() == "Amal"
    assert table.rowCount() == 2 and "1 shorter than 0:30 hidden" in page.count.text()
    started = store.history()[0]["started_at"]
    assert table.item(0, 0).text() == local_time(started)
    assert local_time(started) == datetime.fromisoformat(started).astimezone().strftime("%a %d %b %Y, %H:%M")
    assert {table.item(r, 4).text() for r in range(2)} == {"5:00", "1:35"}
    page.show_short.setChecked(True)
    assert table.rowCount() == 3
    table.sortItems(4)  # by length, numerically: 0:04 < 1:35 < 5:00
    assert [table.item(r, 4).text() for r in range(3)] == ["0:04", "1:35", "5:00"]
    page.learner_filter.setCurrentIndex(page.learner_filter.findData("\x00all"))
    page.scenario_filter.setCurrentIndex(page.scenario_filter.findData("First check-in"))
    assert sorted(table.item(r, 1).text() for r in range(table.rowCount())) == ["Amal", "Amal", "Ben"]

    table.selectRow(0)
    victim = page.current_session()
    _answer("Keep")
    page.delete_button.click()
    assert any(r["id"] == victim for r in store.history())
    _answer("Delete")
    page.delete_button.click()
    assert all(r["id"] != victim for r in store.history())
    settle(qtbot, window)  # the store announced the delete: the list reloaded itself
    assert table.rowCount() == 2
    window.close()


def test_end_call_and_closing_mid_visit_ask_first(qtbot, tmp_path):
    store = SessionStore(tmp_path / "s.db")
    window = MainWindow(camera="7", mic=None, store=store)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.scenarios_ready, timeout=60000)  # loaded in the background
    window.scenario_page.learner_box.setEditText("Chris")
    window.start_visit(window.scenario_page.scenarios[0])
    qtbot.waitUntil(lambda: window.visit_page is not None and not window._starting, timeout=30000)
    page = window.visit_page
    _answer("Keep going")
    page.end_button.click()
    assert window.runner is not None and window.stack.currentWidget() is page
    _answer("Keep going")
    window.close()
    assert window.isVisible() and window.runner is not None
    _answer("End call")
    page.end_button.click()
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.summary_page, timeout=15000)
    assert store.session(window.last_session_id)["learner"] == "Chris"
    window.close()
