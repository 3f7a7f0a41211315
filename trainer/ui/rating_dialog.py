"""The facilitator's rating form for one session: each targeted behaviour on the rating scale (default: not
shown / partly shown / clearly shown) with a comment, and an optional global rating (1-5). Ratings are
stored beside the automatic measures (SessionStore.set_rating) and never change them."""

from __future__ import annotations

from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit,
                               QVBoxLayout, QWidget)

from trainer.core.scenario import BEHAVIOURS
from trainer.store.db import DEFAULT_RATING_SCALE, GLOBAL_RATING

NOT_RATED = "—"
GLOBAL_SCALE = ("1", "2", "3", "4", "5")


class RatingDialog(QDialog):
    def __init__(self, store, session_id: int, behaviours: tuple[str, ...], author: str, parent=None,
                 scale: tuple[str, ...] = DEFAULT_RATING_SCALE):
        super().__init__(parent)
        self.setWindowTitle("Rate this session")
        self.store, self.session_id = store, session_id
        self.author = QLineEdit(author)
        self.author.setAccessibleName("Rated by")
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.AllNonFixedFieldsGrow)  # room for the comments
        form.addRow("Rated by", self.author)
        self.rows: dict[str, tuple[QComboBox, QLineEdit]] = {}
        mine = {r["behaviour"]: r for r in store.ratings(session_id) if r["author"] == author}
        for b in (*behaviours, GLOBAL_RATING):
            levels = GLOBAL_SCALE if b == GLOBAL_RATING else scale
            box = QComboBox()
            box.addItems([NOT_RATED, *levels])
            comment = QLineEdit()
            comment.setPlaceholderText("comment (optional)")
            label = "Overall (1 = needs work, 5 = excellent)" if b == GLOBAL_RATING else BEHAVIOURS.get(b, b)
            box.setAccessibleName(label)
            comment.setAccessibleName(f"Comment on {label}")
            if b in mine:
                box.setCurrentText(mine[b]["level"])
                comment.setText(mine[b]["comment"])
            row = QWidget()
            lay = QHBoxLayout(row)
            lay.setContentsMargins(0, 0, 0, 0)
            lay.addWidget(box)
            lay.addWidget(comment, 1)
            form.addRow(label, row)
            self.rows[b] = (box, comment)
        buttons = QDialogButtonBox(QDialogButtonBox.Save | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        hint = QLabel("Your ratings are kept beside the app's measures; they do not change them.")
        hint.setObjectName("hint")
        lay.addWidget(hint)
        lay.addLayout(form)
        lay.addWidget(buttons)
        self.resize(900, self.sizeHint().height())

    def save(self) -> None:
        """Store every behaviour that has a level; '—' leaves it unrated."""
        author = self.author.text().strip() or "facilitator"
        for b, (box, comment) in self.rows.items():
            if box.currentText() != NOT_RATED:
                self.store.set_rating(self.session_id, b, box.currentText(), author, comment.text())
        self.accept()
