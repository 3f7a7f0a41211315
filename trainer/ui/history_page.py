"""Page 4: past sessions from the store, newest first. Enter or double-click opens a summary."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QHeaderView, QLabel, QPushButton, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)
from trainer.core.i18n import N_, _

COLUMNS = [N_("Started (UTC)"), N_("Scenario"), N_("Status"), N_("Length"), N_("Face visible"), N_("You talked")]
STATUSES = {"completed": N_("completed"), "ended_early": N_("ended early"), "interrupted": N_("interrupted")}


class HistoryPage(QWidget):
    open_requested = Signal(int)  # session id
    back_requested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        title = QLabel(_("Past sessions"))
        title.setObjectName("pageTitle")
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels([_(c) for c in COLUMNS])
        self.table.setAccessibleName(_("Past sessions"))
        self.table.setAccessibleDescription(_("One row per session, newest first. Press Enter to open its summary."))
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.Stretch)
        self.table.verticalHeader().hide()
        self.table.itemActivated.connect(self._open)
        self.empty = QLabel(_("No sessions yet. Finished visits appear here."))
        self.empty.setObjectName("hint")
        back = QPushButton(_("Back to scenarios"))
        back.setAccessibleDescription(_("Return to the list of scenarios."))
        back.clicked.connect(self.back_requested)
        open_btn = QPushButton(_("Open summary"))
        open_btn.setAccessibleDescription(_("Show the summary of the selected session."))
        open_btn.clicked.connect(lambda: self._open(self.table.currentItem()))
        buttons = QHBoxLayout()
        buttons.addWidget(back)
        buttons.addStretch(1)
        buttons.addWidget(open_btn)
        lay = QVBoxLayout(self)
        lay.addWidget(title)
        lay.addWidget(self.empty)
        lay.addWidget(self.table, 1)
        lay.addLayout(buttons)

    def set_rows(self, rows: list[dict]) -> None:
        """rows: dicts with id, started_at, scenario_title, status, duration_s, face_ratio, clinician_s."""
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            face = row.get("face_ratio")
            cells = [row["started_at"].replace("T", " ")[:19], row["scenario_title"], _(STATUSES.get(row["status"], row["status"].replace("_", " "))),
                     f"{row['duration_s']:.0f} s" if row.get("duration_s") is not None else "—",
                     "—" if face is None else f"{face * 100:.0f} %", f"{row.get('clinician_s', 0):.1f} s"]
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(Qt.UserRole, row["id"])
                self.table.setItem(r, c, item)
        self.empty.setVisible(not rows)
        self.table.setVisible(bool(rows))
        if rows:
            self.table.selectRow(0)
            self.table.setFocus()

    def _open(self, item) -> None:
        if item is not None:
            self.open_requested.emit(int(item.data(Qt.UserRole)))
