"""The facilitator's rating form for one session: each targeted behaviour on the rating scale the scenario's
rubric defines for it (core.scenario.Scenario.scale_for: the behaviour's own `rating_scale`, else the
scenario's, else not shown / partly shown / clearly shown) with a comment, and an optional global rating
(1-5). Ratings are stored beside the automatic measures (SessionStore.set_rating) and never change them.
The rubric's "what counts" sentence is the tooltip of each behaviour, so raters judge against the same words.
"""

from __future__ import annotations

from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit,
                               QVBoxLayout, QWidget)

from trainer.core.debrief import rating_label
from trainer.core.i18n import _, localized
from trainer.core.scenario import GLOBAL_RATING, GLOBAL_RATING_SCALE
from trainer.store.user_settings import remember

NOT_RATED = "—"


class RatingDialog(QDialog):
    def __init__(self, store, session_id: int, scenario, author: str, parent=None):
        super().__init__(parent)
        self.setWindowTitle(_("Rate this session"))
        self.store, self.session_id = store, session_id
        self.author = QLineEdit(author)
        self.author.setAccessibleName(_("Rated by"))
        self.author.setAccessibleDescription(_("The name stored with these ratings."))
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.AllNonFixedFieldsGrow)  # room for the comments
        form.addRow(_("Rated by"), self.author)
        self.rows: dict[str, tuple[QComboBox, QLineEdit]] = {}
        mine = {r["behaviour"]: r for r in store.ratings(session_id) if r["author"] == author}
        for b in (*scenario.behaviours, GLOBAL_RATING):
            levels = GLOBAL_RATING_SCALE if b == GLOBAL_RATING else scenario.scale_for(b)
            box = QComboBox()
            box.addItem(NOT_RATED, None)
            for level in levels:
                box.addItem(scenario.level_text(b, level), level)  # the stored level is the scale's own word
            comment = QLineEdit()
            comment.setPlaceholderText(_("comment (optional)"))
            label = rating_label(b)
            box.setAccessibleName(label)
            box.setAccessibleDescription(_("Your rating; a dash leaves it unrated."))
            comment.setAccessibleName(_("Comment on {behaviour}").format(behaviour=label))
            comment.setAccessibleDescription(_("An optional comment kept with the rating."))
            item = scenario.rubric_for(b) if b != GLOBAL_RATING else None
            if item is not None:
                box.setToolTip(_("What counts: {counts}").format(counts=localized(item, "counts")))
            if b in mine:
                i = box.findData(mine[b]["level"])
                if i < 0:  # rated on another scale (an older version of the scenario): keep it visible
                    box.addItem(mine[b]["level"], mine[b]["level"])
                    i = box.count() - 1
                box.setCurrentIndex(i)
                comment.setText(mine[b]["comment"])
            row = QWidget()
            lay = QHBoxLayout(row)
            lay.setContentsMargins(0, 0, 0, 0)
            lay.addWidget(box)
            lay.addWidget(comment, 1)
            form.addRow(label, row)
            self.rows[b] = (box, comment)
        buttons = QDialogButtonBox(QDialogButtonBox.Save | QDialogButtonBox.Cancel)
        buttons.button(QDialogButtonBox.Save).setAccessibleDescription(_("Store these ratings with the session."))
        buttons.button(QDialogButtonBox.Cancel).setAccessibleDescription(_("Close without storing."))
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        hint = QLabel(_("Your ratings are kept beside the app's measures; they do not change them."))
        hint.setObjectName("hint")
        lay.addWidget(hint)
        lay.addLayout(form)
        lay.addWidget(buttons)
        self.resize(900, self.sizeHint().height())

    def choose(self, behaviour: str, level: str, comment: str = "") -> None:
        """Pick `level` (a level of the behaviour's scale) and type `comment` (keyboard users and tests)."""
        box, edit = self.rows[behaviour]
        i = box.findData(level)
        if i < 0:
            raise ValueError(f"{level!r} is not on the scale for {behaviour}")
        box.setCurrentIndex(i)
        edit.setText(comment)

    def save(self) -> None:
        """Store every behaviour that has a level; '—' leaves it unrated."""
        author = self.author.text().strip() or _("facilitator")
        remember("note_author", self.author.text())
        for b, (box, comment) in self.rows.items():
            if box.currentData() is not None:
                self.store.set_rating(self.session_id, b, box.currentData(), author, comment.text())
        self.accept()
