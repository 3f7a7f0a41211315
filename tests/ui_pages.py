"""Every page and dialog of the app, built for real (offscreen Qt, a real store, a real visit with a fixture
clip), for the walk that checks untranslated text and accessibility (test_ui_accessibility.py).

The walk follows a learner through the app: scenario list, pre-visit check, the visit window, the summary
(reflection, then results), past sessions, progress, the replay with its notes, the facilitator's note
and rating dialogs, the report, and every tab of About and settings."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from trainer.store.db import SessionStore
from trainer.ui.main_window import MainWindow

TRANSLATED_SCENARIO = "first-checkin"  # complete in French (scenarios/first_checkin.yaml)


def all_pages(qtbot, tmp_path, video: str, scenario_id: str = TRANSLATED_SCENARIO, extra=None):
    """Yield (name, root widget) for every page and dialog, the window at a common laptop size.

    `extra(window)`, when given, is called once the scenario page is up (tests use it to plant a widget)."""
    from trainer.ui.about_dialog import AboutDialog
    from trainer.ui.rating_dialog import RatingDialog

    store = SessionStore(tmp_path / "sessions.sqlite3")
    window = MainWindow(camera=video, mic=None, store=store)
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    qtbot.waitUntil(lambda: window.scenarios_ready, timeout=60000)  # scenarios load in the background
    page = window.scenario_page
    page.learner_box.setEditText("Alex")
    row = next(i for i, s in enumerate(page.scenarios) if s.id == scenario_id)
    page.list.setCurrentRow(row)
    if extra is not None:
        extra(window)
    yield "scenario page", window

    with qtbot.waitSignal(window.precheck_page.check_finished, timeout=120000):
        window.request_visit(page.scenarios[row])
    yield "pre-visit check", window

    window.start_visit(page.scenarios[row])
    qtbot.waitUntil(lambda: window.visit_page is not None and window.runner is not None, timeout=10000)
    visit = window.visit_page
    qtbot.waitUntil(lambda: bool(visit.patient.caption) and not window._starting, timeout=120000)
    visit.captions_button.setChecked(True)
    yield "visit window", window
    from trainer.ui.note_dialog import NoteDialog

    note = NoteDialog(1.0, "Dr Facil", window)
    qtbot.addWidget(note)
    note.show()
    yield "note dialog", note
    note.close()

    window.end_visit()
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.summary_page, timeout=60000)
    yield "summary: reflection", window
    window.summary_page.skip_button.click()
    yield "summary: results", window
    sid = window.summary_page.session_id

    window.show_history()
    window.history_page.show_short.setChecked(True) if hasattr(window.history_page, "show_short") else None
    yield "past sessions", window
    window.show_progress()
    yield "progress", window

    store.add_note(sid, 1.0, "Note", author="Dr Facil")
    window.show_replay(sid)
    qtbot.waitUntil(lambda: window.replay_page is not None, timeout=60000)
    yield "replay", window

    replay = window.replay_page
    rating = RatingDialog(store, sid, replay.scenario, "Dr Facil", replay)
    qtbot.addWidget(rating)
    rating.show()
    yield "rating dialog", rating
    rating.close()

    about = AboutDialog(window)
    qtbot.addWidget(about)
    about.show()
    for i in range(about.tabs.count()):
        about.tabs.setCurrentIndex(i)
        yield f"about and settings: tab {i + 1}", about
    about.close()


def texts(root: QWidget) -> list[tuple[str, str]]:
    """(where, text) for every piece of text a user can see or hear in root's visible widget tree: labels,
    buttons, placeholders, tooltips, accessible names and descriptions, list, tree and table items and
    headers, combo-box items, tabs, group boxes, window titles and menus."""
    from PySide6.QtWidgets import (QAbstractButton, QComboBox, QGroupBox, QLabel, QLineEdit, QListWidget, QMenuBar,
                                   QPlainTextEdit, QTableWidget, QTabWidget, QTextBrowser, QTreeWidget)

    from trainer.ui.a11y import describe, visible_widgets

    out: list[tuple[str, str]] = []
    if root.isWindow():
        out.append(("window title", root.windowTitle()))
    for w in visible_widgets(root):
        where = describe(w)
        if isinstance(w, (QLabel, QAbstractButton)):
            out.append((where, w.text()))
        if isinstance(w, QGroupBox):
            out.append((where, w.title()))
        if isinstance(w, QTextBrowser):  # raw: toPlainText() would turn non-breaking spaces into spaces
            out.append((where, w.document().toRawText().replace("\u2029", "\n")))
        if isinstance(w, (QLineEdit, QPlainTextEdit)):
            out.append((where, w.placeholderText()))
        for t in (w.toolTip(), w.accessibleName(), w.accessibleDescription()):
            out.append((where, t))
        if callable(getattr(w, "tips", None)):  # the replay timeline: the tooltip of every mark and span
            out += [(where + " tooltip", t) for t in w.tips()]
        if isinstance(w, QComboBox):
            out += [(where, w.itemText(i)) for i in range(w.count())]
        if isinstance(w, QListWidget):
            out += [(where, w.item(i).text()) for i in range(w.count())]
        if isinstance(w, QTreeWidget):
            for r in range(w.topLevelItemCount()):
                it = w.topLevelItem(r)
                out += [(where, it.text(c)) for c in range(w.columnCount())]
        if isinstance(w, QTableWidget):
            for c in range(w.columnCount()):
                h = w.horizontalHeaderItem(c)
                out.append((where, h.text() if h else ""))
            for r in range(w.rowCount()):
                for c in range(w.columnCount()):
                    it = w.item(r, c)
                    out.append((where, it.text() if it else ""))
                    out.append((where, it.toolTip() if it else ""))
        if isinstance(w, QTabWidget):
            out += [(where, w.tabText(i)) for i in range(w.count())]
        if isinstance(w, QMenuBar):
            for a in w.actions():
                out.append((where, a.text()))
                if a.menu():
                    out += [(where, b.text()) for b in a.menu().actions()]
        for a in w.actions():  # tool-button menus (the facilitator's) and context actions
            out.append((where, a.text()))
        menu = getattr(w, "menu", None)
        if callable(menu) and not isinstance(w, QMenuBar) and menu() is not None:
            out += [(where, b.text()) for b in menu().actions()]
    return [(where, t) for where, t in out if t and t.strip()]
