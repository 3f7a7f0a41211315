"""Layout check and screenshots of every page at a given screen size and scaling (developer tool).

    QT_QPA_PLATFORM=offscreen QT_SCALE_FACTOR=1.5 python -m trainer.ui.layout_check --screen 1440x900 \\
        [--shots docs/images] [--precheck-json FILE]

The scale factor must be in the environment before Qt starts, so each scaling is its own process
(tests/test_ui_layout.py runs them). The main window is given the screen's usable area in logical pixels
(screen size / scale, less TASKBAR_PX for a task bar and the window title) and each page is shown in
turn. Printed as JSON, per page: whether it needs scrolling to fit, and its problems: buttons or inputs
not wholly inside the window even when scrolled into view (as keyboard focus does), buttons narrower
than their text, labels whose text does not fit, the window forced beyond the screen. With --shots each page is saved as
`<page>-<W>x<H>-<scale>.png` at the screen's physical pixel size.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

TASKBAR_PX = 80  # physical pixels: a task bar (about 40) plus the window's title bar (about 30) and borders


def _problems(window, app) -> list[str]:
    """Controls that cannot be brought wholly onto the screen (scrolled into view where they sit in a scroll
    area), buttons narrower than their text, labels whose text does not fit."""
    from PySide6.QtCore import QPoint, QRect
    from PySide6.QtWidgets import QAbstractButton, QComboBox, QLabel, QLineEdit, QScrollArea

    out = []
    frame = QRect(QPoint(0, 0), window.size())
    for w in window.findChildren(QAbstractButton) + window.findChildren(QComboBox) + \
            window.findChildren(QLineEdit):
        if not w.isVisibleTo(window) or w.window() is not window or w.width() == 0:
            continue
        if isinstance(w, QLineEdit) and isinstance(w.parent(), QComboBox):
            continue
        p = w.parentWidget()
        while p is not None:  # scroll it into view, as keyboard focus would
            if isinstance(p, QScrollArea) and p.widget() is not None:
                c = w.mapTo(p.widget(), QPoint(w.width() // 2, w.height() // 2))
                p.ensureVisible(c.x(), c.y(), w.width() // 2 + 2, w.height() // 2 + 2)
            p = p.parentWidget()
        app.processEvents()
        rect = QRect(w.mapTo(window, QPoint(0, 0)), w.size())
        if not frame.contains(rect):
            out.append(f"{_name(w)} at {rect.x()},{rect.y()} {rect.width()}x{rect.height()} is outside the "
                       f"{frame.width()}x{frame.height()} window")
        elif w.visibleRegion().boundingRect() != w.rect():
            out.append(f"{_name(w)} is partly hidden even when scrolled to")
        if isinstance(w, QAbstractButton) and w.text() and w.width() < w.sizeHint().width() - 2:
            out.append(f"{_name(w)} is narrower ({w.width()} px) than its text ({w.sizeHint().width()} px)")
    for label in window.findChildren(QLabel):
        if not label.isVisibleTo(window) or not label.text() or label.pixmap() is not None and \
                not label.pixmap().isNull():
            continue
        if label.wordWrap():
            need = label.heightForWidth(label.width())
            if need > label.height() + 2:
                out.append(f"label '{_short(label.text())}' needs {need} px height, has {label.height()}")
        elif label.width() < label.minimumSizeHint().width() - 2:
            out.append(f"label '{_short(label.text())}' is cut ({label.width()} of "
                       f"{label.minimumSizeHint().width()} px)")
    return out


def _scrolls(window) -> bool:
    """Whether the page on show needs the window's scroll bars (it does not fit without scrolling)."""
    area = window.centralWidget()
    return area.verticalScrollBar().maximum() > 0 or area.horizontalScrollBar().maximum() > 0


def _scroll_parent(w, kind):
    p = w.parentWidget()
    while p is not None:
        if isinstance(p, kind):
            return p
        p = p.parentWidget()
    return None


def _name(w) -> str:
    text = getattr(w, "text", lambda: "")() if not w.__class__.__name__ == "QComboBox" else w.currentText()
    return f"{w.__class__.__name__} '{_short(text) or w.objectName() or w.accessibleName()}'"


def _short(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= 40 else text[:37] + "..."


def _demo_store(path: Path):
    """A store with a few sessions of two learners (for the history and progress pages)."""
    from trainer.store.db import SessionStore

    store = SessionStore(path)
    for learner, title, seconds in [("Amal", "Results call: a borderline blood sugar test", 310),
                                    ("Amal", "Check-in: blood pressure and poor sleep", 95),
                                    ("Amal", "Check-in: blood pressure and poor sleep", 3),
                                    ("Ben", "Third visit for tiredness: a patient who feels unheard", 250)]:
        sid = store.create_session("demo", title, learner=learner)
        store.writer(sid).close(duration_s=seconds)
    return store


def pages(window, precheck_report=None):
    """(name, callable that shows the page) for every page of the main window."""
    from trainer.ui.visit_page import VisitPage

    def scenarios():
        window.show_scenarios()

    def precheck():
        window.precheck_page.prepare(window.camera, window.mic)
        window.stack.setCurrentWidget(window.precheck_page)
        if precheck_report is not None:
            window.precheck_page._done(precheck_report)

    def visit():
        s = window.scenario_page.scenarios[0]
        page = VisitPage(s, overrides=[("skip", "Skip the patient's line")])
        window.stack.addWidget(page)
        window.stack.setCurrentWidget(page)
        page.prompt_label.setText(f"You are connected with {s.patient.name}.")

    def history():
        window.show_history()

    def summary():
        sid = window.store.history()[0]["id"]
        window.show_summary(sid)

    out = [("scenarios", scenarios), ("precheck", precheck), ("visit", visit), ("summary", summary),
           ("history", history)]
    if hasattr(window, "show_progress"):
        out.append(("progress", window.show_progress))
    return out


def _settle(window, app, timeout_s: float = 60.0) -> None:
    """Let the page's background reads (ui.store_data) finish and their results be shown."""
    import time

    deadline = time.monotonic() + timeout_s
    for _ in range(3):
        app.processEvents()
        while window.data.pending and time.monotonic() < deadline:
            app.processEvents()
            time.sleep(0.01)
    for _ in range(3):
        app.processEvents()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--screen", default="1440x900")
    ap.add_argument("--shots", metavar="DIR")
    ap.add_argument("--precheck-json", metavar="FILE", help="a saved PrecheckReport.to_dict() to show")
    args = ap.parse_args(argv)
    sw, sh = (int(x) for x in args.screen.lower().split("x"))
    scale = float(os.environ.get("QT_SCALE_FACTOR", "1") or 1)
    os.environ.setdefault("TRAINER_CONFIG_DIR", tempfile.mkdtemp(prefix="layout-config-"))
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    from trainer.analysis.precheck import PrecheckReport
    from trainer.ui.main_window import MainWindow

    report = PrecheckReport.from_dict(json.loads(Path(args.precheck_json).read_text())) \
        if args.precheck_json else None
    store = _demo_store(Path(tempfile.mkdtemp(prefix="layout-")) / "s.sqlite3")
    window = MainWindow(camera="0", mic="default", store=store)
    w, h = int(sw / scale), int((sh - TASKBAR_PX) / scale)
    window.resize(w, h)
    window.show()
    while not window.scenarios_ready:  # loaded in the background
        app.processEvents()
        time.sleep(0.01)
    result = {"screen": args.screen, "scale": scale, "window": [w, h], "pages": {}}
    for name, show in pages(window, report):
        show()
        _settle(window, app)
        scrolls = _scrolls(window)
        if args.shots:
            Path(args.shots).mkdir(parents=True, exist_ok=True)
            window.grab().save(str(Path(args.shots) / f"{name}-{sw}x{sh}-{int(round(scale * 100))}.png"))
        problems = _problems(window, app)
        if window.width() > w or window.height() > h:
            problems.insert(0, f"the window grew to {window.width()}x{window.height()} (screen allows {w}x{h})")
        result["pages"][name] = {"problems": problems, "scrolls": scrolls}
    print(json.dumps(result, indent=1))
    window._close_confirmed = True
    window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
