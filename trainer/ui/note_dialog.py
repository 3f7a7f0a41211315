"""A facilitator's note at one time of the session clock: from the call window's Facilitator menu during a
visit (Ctrl+N; the time is taken when the dialog opens, so typing does not move the note later).

The author is remembered between uses (store.user_settings.recall/remember, "note_author"); the note is
stored by SessionStore.add_note, beside the automatic measures, and appears on the replay's notes lane.
"""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QPlainTextEdit, QVBoxLayout

from trainer.core.i18n import _
from trainer.core.visit_state import clock_text
from trainer.store.user_settings import recall, remember


def note_author(fallback: str = "") -> str:
    """The name notes and ratings are signed with: the one used last, else `fallback`."""
    return recall("note_author", fallback)


class NoteDialog(QDialog):
    """Asks for a note's text and author; `t` is the session time it belongs to."""

    def __init__(self, t: float, author: str = "", parent=None):
        super().__init__(parent)
        self.t = float(t)
        self.setWindowTitle(_("Add a note"))
        self.setAccessibleName(_("Add a note"))
        when = QLabel(_("Note at {time} of the visit").format(time=clock_text(self.t)))
        when.setObjectName("hint")
        self.author = QLineEdit(note_author(author))
        self.author.setPlaceholderText(_("Your name"))
        self.author.setAccessibleName(_("Note author"))
        self.author.setAccessibleDescription(_("The name stored with your notes and ratings."))
        self.text = QPlainTextEdit()
        self.text.setPlaceholderText(_("What you noticed at this moment"))
        self.text.setAccessibleName(_("Note"))
        self.text.setAccessibleDescription(_("What you noticed; Tab moves on, the visit keeps running."))
        self.text.setTabChangesFocus(True)
        form = QFormLayout()
        form.addRow(_("By"), self.author)
        form.addRow(_("Note"), self.text)
        self.buttons = QDialogButtonBox(QDialogButtonBox.Save | QDialogButtonBox.Cancel)
        self.buttons.button(QDialogButtonBox.Save).setAccessibleDescription(_("Store the note at this time."))
        self.buttons.button(QDialogButtonBox.Cancel).setAccessibleDescription(_("Close without storing."))
        self.buttons.accepted.connect(self._save)
        self.buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(when)
        lay.addLayout(form)
        lay.addWidget(self.buttons)
        self.resize(460, 240)
        self.text.setFocus()

    def note_text(self) -> str:
        return self.text.toPlainText().strip()

    def author_name(self) -> str:
        return self.author.text().strip() or _("facilitator")

    def _save(self) -> None:
        if not self.note_text():
            self.text.setFocus()
            return
        remember("note_author", self.author.text())
        self.accept()
