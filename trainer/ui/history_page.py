"""Page 4: past sessions from the store, per learner, newest first. Enter or double-click opens a summary.

Shared workstations: the list shows one learner's sessions (or everyone's), filterable by visit, with
local start times; every column sorts. Sessions shorter than SHORT_SESSION_S (a test start, a call ended
at once) are hidden unless asked for. Delete asks first.
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QComboBox, QHBoxLayout, QHeaderView, QLabel,
                               QMessageBox, QPushButton, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from trainer.core.i18n import N_, _, is_french, percent
from trainer.core.visit_state import clock_text

COLUMNS = [N_("Started"), N_("Learner"), N_("Visit"), N_("Status"), N_("Length"), N_("Face visible"),
           N_("You talked"), N_("From")]
SHORT_SESSION_S = 30.0
ALL = "\x00all"  # item data of the "everyone" / "every visit" filter entries
NO_NAME = N_("(no name)")


def mmss(seconds: float | None) -> str:
    """Seconds as m:ss (core.visit_state.clock_text, how every time is shown), "—" when unknown."""
    return "—" if seconds is None else clock_text(seconds)


def local_time(iso_utc: str) -> str:
    """A stored UTC timestamp in this computer's local time, e.g. 'Mon 30 Nov 2026, 09:14'."""
    try:
        when = datetime.fromisoformat(iso_utc).astimezone()
    except ValueError:
        return iso_utc
    if is_french():  # day and month names in French ('lun. 30 nov. 2026, 09:14')
        from PySide6.QtCore import QDateTime, QLocale

        stamp = QDateTime.fromSecsSinceEpoch(int(when.timestamp()))
        return QLocale(QLocale.French, QLocale.Canada).toString(stamp, "ddd d MMM yyyy, HH:mm")
    return when.strftime("%a %d %b %Y, %H:%M")


class _Item(QTableWidgetItem):
    """A cell that sorts by a key (a time, a number) instead of its text."""

    def __init__(self, text: str, key, session_id: int):
        super().__init__(text)
        self.key = key
        self.setData(Qt.UserRole, session_id)

    def __lt__(self, other) -> bool:
        a, b = self.key, getattr(other, "key", None)
        if a is None or b is None:
            return (a is None) and (b is not None)
        return a < b


class HistoryPage(QWidget):
    open_requested = Signal(int)  # session id
    replay_requested = Signal(int)  # session id
    delete_requested = Signal(int)  # session id (already confirmed by the user)
    back_requested = Signal()
    progress_requested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self._rows: list[dict] = []
        title = QLabel(_("Past sessions"))
        title.setObjectName("pageTitle")
        self.learner_filter = QComboBox()
        self.learner_filter.setAccessibleName(_("Learner"))
        self.learner_filter.setAccessibleDescription(_("Show the sessions of one learner, or everyone's."))
        self.scenario_filter = QComboBox()
        self.scenario_filter.setAccessibleName(_("Visit"))
        self.scenario_filter.setAccessibleDescription(_("Show the sessions of one visit, or every visit."))
        self.show_short = QCheckBox(_("Show sessions under {length}").format(length=mmss(SHORT_SESSION_S)))
        self.show_short.setAccessibleDescription(_("Very short sessions are hidden unless this is ticked."))
        for w in (self.learner_filter, self.scenario_filter):
            w.setSizeAdjustPolicy(QComboBox.AdjustToContents)
            w.currentIndexChanged.connect(self._fill)
        self.show_short.toggled.connect(self._fill)
        filters = QHBoxLayout()
        for label, w in ((_("Learner:"), self.learner_filter), (_("Visit:"), self.scenario_filter)):
            lab = QLabel(label)
            lab.setBuddy(w)
            filters.addWidget(lab)
            filters.addWidget(w)
        filters.addWidget(self.show_short)
        filters.addStretch(1)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels([_(c) for c in COLUMNS])
        self.table.setAccessibleName(_("Past sessions"))
        self.table.setAccessibleDescription(_("One row per session, newest first; Enter opens its summary."))
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.Stretch)
        self.table.verticalHeader().hide()
        self.table.setSortingEnabled(True)
        self.table.sortItems(0, Qt.DescendingOrder)  # newest first
        self.table.setColumnWidth(len(COLUMNS) - 1, 300)  # where an imported session came from
        self.table.itemActivated.connect(self._open)
        self.count = QLabel()
        self.count.setObjectName("hint")
        self.empty = QLabel(_("No sessions yet. Finished visits appear here."))
        self.empty.setObjectName("hint")
        back = QPushButton(_("Back to scenarios"))
        back.setAccessibleDescription(_("Return to the list of scenarios."))
        back.clicked.connect(self.back_requested)
        self.progress_button = QPushButton(_("Progress"))
        self.progress_button.setToolTip(_("Trends across this learner's sessions (Ctrl+P)"))
        self.progress_button.clicked.connect(self.progress_requested)
        self.delete_button = QPushButton(_("Delete…"))
        self.delete_button.setAccessibleDescription(_("Delete the chosen session from this computer (asks first)."))
        self.delete_button.clicked.connect(self._delete)
        self.replay_button = QPushButton(_("Replay"))
        self.replay_button.setToolTip(_("Play the visit back on its timeline (Ctrl+R)"))
        self.replay_button.clicked.connect(self._replay)
        QShortcut(QKeySequence("Ctrl+R"), self, activated=self.replay_button.click)
        self.open_button = QPushButton(_("Open summary"))
        self.open_button.setAccessibleDescription(_("Show the chosen session's summary (Enter)."))
        self.open_button.setObjectName("primary")
        self.open_button.clicked.connect(lambda: self._open(self.table.currentItem()))
        buttons = QHBoxLayout()
        buttons.addWidget(back)
        buttons.addWidget(self.progress_button)
        buttons.addStretch(1)
        buttons.addWidget(self.delete_button)
        buttons.addWidget(self.replay_button)
        buttons.addWidget(self.open_button)
        lay = QVBoxLayout(self)
        lay.addWidget(title)
        lay.addLayout(filters)
        lay.addWidget(self.empty)
        lay.addWidget(self.table, 1)
        lay.addWidget(self.count)
        lay.addLayout(buttons)

    def set_rows(self, rows: list[dict], learner: str | None = None) -> None:
        """rows: dicts with id, started_at, learner, scenario_title, status, duration_s, face_ratio,
        clinician_s (SessionStore.history), origin ('' = made here, else the bundle it came from). `learner` preselects that learner's sessions."""
        self._rows = rows
        current_scenario = self.scenario_filter.currentData()
        for box in (self.learner_filter, self.scenario_filter):
            box.blockSignals(True)
            box.clear()
        self.learner_filter.addItem(_("Everyone"), ALL)
        for name in sorted({r.get("learner") or "" for r in rows}, key=str.casefold):
            self.learner_filter.addItem(name or _(NO_NAME), name)
        self.scenario_filter.addItem(_("Every visit"), ALL)
        for title in sorted({r["scenario_title"] for r in rows}, key=str.casefold):
            self.scenario_filter.addItem(title, title)
        if learner is not None and self.learner_filter.findData(learner) >= 0:
            self.learner_filter.setCurrentIndex(self.learner_filter.findData(learner))
        if current_scenario is not None and self.scenario_filter.findData(current_scenario) >= 0:
            self.scenario_filter.setCurrentIndex(self.scenario_filter.findData(current_scenario))
        for box in (self.learner_filter, self.scenario_filter):
            box.blockSignals(False)
        self._fill()

    def visible_rows(self, include_short: bool | None = None) -> list[dict]:
        """The sessions the filters let through, in the store's order (newest first)."""
        learner, scenario = self.learner_filter.currentData(), self.scenario_filter.currentData()
        include_short = self.show_short.isChecked() if include_short is None else include_short
        out = []
        for r in self._rows:
            if learner not in (None, ALL) and (r.get("learner") or "") != learner:
                continue
            if scenario not in (None, ALL) and r["scenario_title"] != scenario:
                continue
            if not include_short and (r.get("duration_s") or 0.0) < SHORT_SESSION_S:
                continue
            out.append(r)
        return out

    def _fill(self) -> None:
        rows = self.visible_rows()
        self.table.setSortingEnabled(False)
        self.table.setRowCount(len(rows))
        for i, row in enumerate(rows):
            face = row.get("face_ratio")
            talked = row.get("clinician_s") or 0.0
            cells = [(local_time(row["started_at"]), row["started_at"]),
                     (row.get("learner") or _(NO_NAME), (row.get("learner") or "").casefold()),
                     (row["scenario_title"], row["scenario_title"].casefold()),
                     (_(_STATUS.get(row["status"], row["status"])), row["status"]),
                     (mmss(row.get("duration_s")), row.get("duration_s")),
                     ("—" if face is None else percent(face), face),
                     (mmss(talked), talked),
                     (row.get("origin") or _("this computer"), row.get("origin") or "")]
            for c, (text, key) in enumerate(cells):
                item = _Item(text, key, row["id"])
                if c == len(cells) - 1 and row.get("origin"):
                    item.setToolTip(_("Imported from {origin}").format(origin=row["origin"]))
                self.table.setItem(i, c, item)
        self.table.setSortingEnabled(True)
        hidden = len(self.visible_rows(include_short=True)) - len(rows)
        self.count.setText(_("{n} session(s) shown").format(n=len(rows)) +
                           (_("; {hidden} shorter than {length} hidden").format(hidden=hidden,
                                                                               length=mmss(SHORT_SESSION_S))
                            if hidden and not self.show_short.isChecked() else ""))
        self.empty.setVisible(not self._rows)
        self.table.setVisible(bool(self._rows))
        for b in (self.open_button, self.delete_button):
            b.setEnabled(bool(rows))
        if rows:
            self.table.selectRow(0)
            self.table.setFocus()

    def current_session(self) -> int | None:
        item = self.table.currentItem()
        return int(item.data(Qt.UserRole)) if item is not None else None

    def _replay(self) -> None:
        sid = self.current_session()
        if sid is not None:
            self.replay_requested.emit(sid)

    def _open(self, item) -> None:
        if item is not None:
            self.open_requested.emit(int(item.data(Qt.UserRole)))

    def _delete(self) -> None:
        sid = self.current_session()
        if sid is None:
            return
        row = next(r for r in self._rows if r["id"] == sid)
        box = QMessageBox(QMessageBox.Warning, _("Delete this session?"),
                          _("Delete the session of {learner}, “{visit}”, started {when}?\n\nIts summary and all "
                            "its recorded measurements are removed from this computer. This cannot be undone.")
                          .format(learner=row.get("learner") or _(NO_NAME), visit=row["scenario_title"],
                                  when=local_time(row["started_at"])), parent=self)
        delete = box.addButton(_("Delete"), QMessageBox.DestructiveRole)
        keep = box.addButton(_("Keep"), QMessageBox.RejectRole)
        box.setDefaultButton(keep)
        box.exec()
        if box.clickedButton() is delete:
            self.delete_requested.emit(sid)


_STATUS = {"completed": N_("completed"), "ended_early": N_("ended early"), "interrupted": N_("interrupted")}
