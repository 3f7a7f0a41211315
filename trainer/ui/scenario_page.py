"""Page 1: pick a scenario (list + details), with the camera and microphone that will be used."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (QApplication, QCheckBox, QComboBox, QHBoxLayout, QLabel, QListView, QListWidget, QListWidgetItem,
                               QPushButton, QStyledItemDelegate, QTextBrowser, QVBoxLayout, QWidget)

from trainer.core.i18n import _, is_french, localized, number
from trainer.core.scenario import BEHAVIOURS, Scenario


class _WrapDelegate(QStyledItemDelegate):
    """Item heights from the wrapped text at a slightly narrower width than the item gets, so the style's
    margins never make the painted text wrap once more than measured (which cut off a scenario's last
    line at some widths and scales)."""

    def sizeHint(self, option, index):
        text = index.data(Qt.DisplayRole) or ""
        width = max(80, self.parent().viewport().width() - 28)
        rect = option.fontMetrics.boundingRect(0, 0, width, 100000, Qt.TextWordWrap, text)
        return QSize(width, rect.height() + 18)


class ScenarioPage(QWidget):
    start_requested = Signal(object)  # Scenario
    history_requested = Signal()
    calibrate_requested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.scenarios: list[Scenario] = []
        title = QLabel(_("Choose a visit to rehearse"))
        title.setObjectName("pageTitle")
        # Shared workstations: whose session this is (a name or a pseudonym; sessions are listed per learner).
        self.learner_box = QComboBox()
        self.learner_box.setEditable(True)
        self.learner_box.setInsertPolicy(QComboBox.NoInsert)
        self.learner_box.setMinimumWidth(160)
        self.learner_box.lineEdit().setPlaceholderText(_("your name or a pseudonym"))
        self.learner_box.setAccessibleName(_("Learner"))
        self.learner_box.setToolTip(_("Sessions and progress are kept per learner on this computer"))
        self.learner_box.setAccessibleDescription(_("Sessions and progress are kept per learner on this computer"))
        self.learner_box.lineEdit().setAccessibleName(_("Learner"))
        self.learner_box.lineEdit().setAccessibleDescription(
            _("Sessions and progress are kept per learner on this computer"))
        learner_label = QLabel(_("&Learner:"))
        learner_label.setBuddy(self.learner_box)
        self.list = QListWidget()
        # Narrow enough for a 1366x768 screen at 150 % beside the details; wrapped titles stay whole.
        self.list.setMinimumWidth(260)
        self.list.setMaximumWidth(460)
        self.list.setMinimumHeight(120)
        self.list.setWordWrap(True)
        # Re-lay the items out when the width changes, so a wrapped title never cuts the line below it.
        self.list.setResizeMode(QListView.Adjust)
        self.list.setItemDelegate(_WrapDelegate(self.list))
        self.list.setSpacing(4)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.list.setAccessibleName(_("Scenarios"))
        self.list.setAccessibleDescription(_("The visits you can rehearse. Arrow keys choose one; Enter starts it."))
        self.list.currentRowChanged.connect(self._show_details)
        self.list.itemActivated.connect(lambda _item: self._start())
        self.details = QTextBrowser()
        self.details.setOpenExternalLinks(False)
        self.details.setMinimumSize(220, 100)
        self.details.setAccessibleName(_("Scenario details"))
        self.details.setAccessibleDescription(_("The patient, what happens and what the chosen visit practises."))
        self.errors = QLabel()
        self.errors.setWordWrap(True)
        self.errors.setObjectName("errorBox")
        self.errors.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.errors.hide()
        self.devices = QLabel()
        self.devices.setObjectName("hint")
        self.devices.setWordWrap(True)
        self.start_button = QPushButton(_("Start visit"))
        self.start_button.setAccessibleDescription(_("Start the chosen visit (Enter)."))
        self.start_button.setObjectName("primary")
        self.start_button.setDefault(True)
        self.start_button.clicked.connect(self._start)
        self.history_button = QPushButton(_("Past sessions"))
        self.history_button.setAccessibleDescription(_("Your earlier sessions and their summaries (Ctrl+H)."))
        self.history_button.clicked.connect(self.history_requested)
        self.calibrate_button = QPushButton(_("Calibrate eye contact…"))
        self.calibrate_button.setToolTip(_("Look at a dot by your camera, then at the patient (about 10 s)"))
        self.calibrate_button.setAccessibleDescription(_("Look at a dot by your camera, then at the patient "
                                                         "(about 10 s)"))
        self.calibrate_button.clicked.connect(self.calibrate_requested)
        self.calibration_status = QLabel()
        self.calibration_status.setObjectName("hint")
        self.calibration_status.setWordWrap(True)
        # The learner's consent to record their own video for the debrief: asked per visit, unticked by
        # default, and only offered when the site policy allows recording (set_recording_allowed).
        self.record_box = QCheckBox(_("&Record this visit for my debrief"))
        self.record_box.setToolTip(_("Your camera picture and the patient's voice are kept on this computer with "
                                     "the session, to watch in the replay; deleting the session deletes them"))
        self.record_note = QLabel()
        self.record_note.setObjectName("hint")
        self.record_note.setWordWrap(True)

        right = QVBoxLayout()
        right.addWidget(self.details, 1)
        right.addWidget(self.devices)
        right.addWidget(self.calibration_status)
        right.addWidget(self.record_box)
        right.addWidget(self.record_note)
        buttons = QHBoxLayout()
        buttons.addWidget(self.history_button)
        buttons.addWidget(self.calibrate_button)
        buttons.addStretch(1)
        buttons.addWidget(self.start_button)
        body = QHBoxLayout()
        body.addWidget(self.list, 2)
        body.addLayout(right, 3)
        top = QHBoxLayout()
        top.addWidget(title)
        top.addStretch(1)
        top.addWidget(learner_label)
        top.addWidget(self.learner_box)
        outer = QVBoxLayout(self)
        outer.addLayout(top)
        outer.addWidget(self.errors)
        outer.addLayout(body, 1)
        outer.addLayout(buttons)  # full width under both columns: fits a small screen at 200 %

    def set_loading(self) -> None:
        """While the scenarios are loaded and checked in the background: say so, nothing to start yet."""
        self.scenarios = []
        self.list.clear()
        item = QListWidgetItem(_("Loading scenarios…"))
        item.setFlags(Qt.NoItemFlags)
        self.list.addItem(item)
        self.details.clear()
        self.errors.hide()
        self.start_button.setEnabled(False)

    def set_scenarios(self, scenarios: list[Scenario], errors: list) -> None:
        self.scenarios = scenarios
        self.list.clear()
        for s in scenarios:
            french = " · FR" if is_french() and "fr_CA" in s.languages else ""
            item = QListWidgetItem(_("{title}\n{patient} · about {minutes} min · {difficulty}").format(
                title=localized(s, "title"), patient=s.patient.name, minutes=number(s.expected_minutes, None),
                difficulty=_(s.difficulty)) + french)
            item.setData(Qt.UserRole, s.id)
            self.list.addItem(item)
        if errors:
            self.errors.setText(_("Some scenario files could not be loaded and are not listed:") + "\n" +
                                "\n".join(f"• {e}" for e in errors))
            self.errors.show()
        else:
            self.errors.hide()
        if scenarios:
            self.list.setCurrentRow(0)
        self.start_button.setEnabled(bool(scenarios))
        # The list arrives from a background load: take the focus only when this page is what the user is
        # looking at, never from another page or from a dialog open over the window.
        if self.isVisible() and self.window().isActiveWindow() and QApplication.activeModalWidget() is None:
            self.list.setFocus()

    def set_learners(self, names: list[str]) -> None:
        """Offer the learners known on this computer, the most recently active first (and chosen)."""
        current = self.learner()
        self.learner_box.clear()
        self.learner_box.addItems([n for n in names if n])
        self.learner_box.setEditText(current or (names[0] if names else ""))

    def learner(self) -> str:
        """The learner name or pseudonym as typed ('' when none)."""
        return " ".join(self.learner_box.currentText().split())

    def set_recording_allowed(self, allowed: bool, reason: str = "") -> None:
        """Offer the recording tick-box, or show it disabled with why (the site policy forbids it)."""
        self.record_box.setChecked(False)
        self.record_box.setEnabled(allowed)
        self.record_note.setText("" if allowed else reason)
        self.record_note.setVisible(not allowed)

    def take_recording_consent(self) -> bool:
        """Whether the learner ticked recording for the visit that is starting; the box is unticked again,
        so every visit is asked for anew."""
        wanted = self.record_box.isEnabled() and self.record_box.isChecked()
        self.record_box.setChecked(False)
        return wanted

    def set_devices_text(self, text: str) -> None:
        self.devices.setText(text)

    def current(self) -> Scenario | None:
        row = self.list.currentRow()
        return self.scenarios[row] if 0 <= row < len(self.scenarios) else None

    def _show_details(self, row: int) -> None:
        if not 0 <= row < len(self.scenarios):
            self.details.clear()
            return
        s = self.scenarios[row]
        p = s.patient
        who = p.name + (f", {p.age}" if p.age else "") + (f" ({p.pronouns})" if p.pronouns else "")
        behaviours = "".join(f"<li>{_(BEHAVIOURS[b])}</li>" for b in s.behaviours)
        note = ""
        if is_french():
            note = (f"<p><i>{_('In French: captions and prompts are in French; the patient speaks English.')}</i></p>"
                    if "fr_CA" in s.languages else
                    f"<p><i>{_('This scenario is available in English only.')}</i></p>")
        self.details.setHtml(
            f"<h2>{_esc(localized(s, 'title'))}</h2><p><b>{_('Patient:')}</b> {_esc(who)}</p>"
            f"<p>{_esc(localized(s, 'summary'))}</p>"
            f"<p><b>{_('About {minutes} minutes').format(minutes=number(s.expected_minutes, None))}</b> · {_(s.difficulty)}</p>"
            f"<p><b>{_('What this visit practises:')}</b></p><ul>{behaviours}</ul>{note}")

    def _start(self) -> None:
        s = self.current()
        if s is not None:
            self.start_requested.emit(s)


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
