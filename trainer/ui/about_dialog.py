"""Help › About and settings: version, data folder, the site policy that applies and each setting, with a
"Locked by policy" marker and the reason (file, line and the programme's note).

Only settings this version acts on are listed (`SettingSpec.in_effect`): a row must never promise an effect
that does not exist. Each row says what the setting does and why it has its value. Where results go (xAPI)
gets its own line with the queue, since it is the one setting that sends anything off the computer."""

from __future__ import annotations

import os
import sys

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QDialog, QDialogButtonBox, QFormLayout, QHeaderView,
                               QLabel, QPushButton, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from trainer import __version__
from trainer.core.policy import (SETTINGS, EffectiveSettings, Policy, PolicyError, effective_settings, load_policy,
                                 policy_paths)

LOCKED = "Locked by policy"
_MODES = {"live": "Live (during the visit)", "after_action": "After the visit (debrief only)", "off": "Off"}


def format_value(key: str, value) -> str:
    """A setting's value in words."""
    if key == "allow_video_recording":
        return "Yes" if value else "No"
    if key == "retention_days":
        return "Until deleted" if value is None else f"{value} days"
    if key == "data_dir":
        return "Per-user folder" if value is None else str(value)
    if key == "scenario_packs":
        return "None" if not value else "\n".join(value)
    if key == "default_feedback_mode":
        return _MODES.get(value, str(value))
    if key == "lms":
        return "Not sent (nothing leaves this computer)" if value is None else value.endpoint
    return str(value)


def shown_settings(settings: EffectiveSettings) -> list:
    """The settings About lists: those this version acts on."""
    return [s for s in settings if SETTINGS[s.key].in_effect]


def describe(setting) -> str:
    """What the setting does, then why it has its value."""
    return f"{SETTINGS[setting.key].help} {setting.explanation(with_note=False)}"


def _status(setting) -> str:
    return {"policy": LOCKED, "policy default": "Set by policy (changeable)", "user": "Your setting",
            "built-in": "Default"}[setting.origin]


class AboutDialog(QDialog):
    """Overview, plus the one control for settings the policy leaves to the user (feedback mode). `settings` and `policy_error` can be given (tests); by default the policy files on
    this machine are read, and an unreadable one is shown with its error instead of failing."""

    settings_changed = Signal()  # the user changed one of their settings (already saved)

    def __init__(self, parent: QWidget | None = None, *, settings: EffectiveSettings | None = None,
                 user: dict | None = None):
        super().__init__(parent)
        self.setWindowTitle("About and settings")
        self.setMinimumSize(900, 600)
        self.policy_error: PolicyError | None = None
        if settings is None:
            try:
                settings = effective_settings(load_policy(), user)
            except PolicyError as exc:
                # Show the problem; the table then shows what the app would use without a policy.
                self.policy_error = exc
                settings = effective_settings(Policy(), user)
        self.settings = settings

        layout = QVBoxLayout(self)
        title = QLabel(f"<b>Video-Visit Trainer</b> {__version__}")
        title.setObjectName("aboutTitle")
        layout.addWidget(title)
        blurb = QLabel("Rehearse telehealth video visits with a virtual patient. Camera and microphone "
                       "are analysed on this computer; " + ("nothing leaves it." if settings.lms is None else
                                                            "only the results named below are sent to your "
                                                            "programme."))
        blurb.setWordWrap(True)
        layout.addWidget(blurb)

        form = QFormLayout()
        self.version_label = QLabel(f"{__version__} ({'packaged app' if getattr(sys, 'frozen', False) else 'source install'}, "
                                    f"Python {sys.version.split()[0]})")
        form.addRow("Version:", self.version_label)
        self.data_label = QLabel(self._data_folder_text())
        self.data_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.data_label.setWordWrap(True)
        form.addRow("Data folder:", self.data_label)
        self.policy_label = QLabel(self._policy_text())
        self.policy_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.policy_label.setWordWrap(True)
        if self.policy_error is not None:
            self.policy_label.setStyleSheet("color: #b00020;")
        form.addRow("Site policy:", self.policy_label)
        notes = [f.note for f in settings.policy.files if f.note]
        self.note_label = QLabel("\n".join(notes))
        self.note_label.setWordWrap(True)
        if notes:
            form.addRow("Programme note:", self.note_label)
        self.lms_label = QLabel(self._lms_text())
        self.lms_label.setWordWrap(True)
        self.lms_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        form.addRow("Results to your programme:", self.lms_label)
        layout.addLayout(form)

        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["Setting", "Value", "Status", "What it does, and why this value"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setWordWrap(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.Interactive)
        self.table.setColumnWidth(1, 190)  # long values (folders, addresses) wrap instead of squeezing "What"
        header.setSectionResizeMode(2, QHeaderView.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.Stretch)
        for s in shown_settings(settings):
            row = self.table.rowCount()
            self.table.insertRow(row)
            items = [QTableWidgetItem(s.label), QTableWidgetItem(format_value(s.key, s.value)),
                     QTableWidgetItem(_status(s)), QTableWidgetItem(describe(s))]
            if s.locked:
                font = items[2].font()
                font.setBold(True)
                items[2].setFont(font)
            for col, item in enumerate(items):
                item.setToolTip(s.explanation())
                item.setData(Qt.UserRole, s.key)
                self.table.setItem(row, col, item)
        self.table.resizeRowsToContents()
        layout.addWidget(self.table, 1)

        # The feedback mode is the user's to choose unless the policy locks it.
        mode = settings["default_feedback_mode"]
        self.mode_combo = QComboBox()
        for key, label in _MODES.items():
            self.mode_combo.addItem(label, key)
        self.mode_combo.setCurrentIndex(list(_MODES).index(mode.value) if mode.value in _MODES else 0)
        self.mode_combo.setEnabled(not mode.locked)
        self.mode_combo.setToolTip(mode.explanation())
        self.mode_combo.currentIndexChanged.connect(self._mode_changed)
        mode_form = QFormLayout()
        mode_form.addRow("Feedback mode:", self.mode_combo)
        layout.addLayout(mode_form)
        if any(s.locked for s in settings):
            hint = QLabel("Locked settings are fixed by your training programme's site policy. To change one, "
                          "contact the people named in the note above (or your IT staff).")
            hint.setWordWrap(True)
            layout.addWidget(hint)

        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        self.copy_button = QPushButton("Copy details")
        buttons.addButton(self.copy_button, QDialogButtonBox.ActionRole)
        self.copy_button.clicked.connect(self.copy_details)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def _mode_changed(self, _index: int) -> None:
        from trainer.store.user_settings import save_user_setting

        save_user_setting("default_feedback_mode", self.mode_combo.currentData())
        self.settings_changed.emit()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        # Row heights depend on the final column widths, known only once the dialog is laid out.
        self.table.resizeRowsToContents()

    # -- text ---------------------------------------------------------------------------------------
    def _data_folder_text(self) -> str:
        env = os.environ.get("TRAINER_DATA_DIR")
        if env:
            return f"{env}\n(set by the TRAINER_DATA_DIR environment variable)"
        s = self.settings["data_dir"]
        if s.value:
            return f"{s.value}\n({s.explanation()})"
        from trainer.store.paths import data_dir

        if self.policy_error is not None:
            return "Unknown until the site policy problem below is fixed."
        return f"{data_dir()}\n(the per-user data folder)"

    def _policy_text(self) -> str:
        if self.policy_error is not None:
            return f"The policy file cannot be used: {self.policy_error.message}"
        files = self.settings.policy_files
        if files:
            return "\n".join(str(f) for f in files)
        looked = [str(p) for p in (self.settings.policy.searched or policy_paths())]
        return ("No site policy applies." + (f" Looked in: {', '.join(looked)}" if looked else
                                             " (TRAINER_POLICY is set to an empty value.)"))

    def _lms_text(self) -> str:
        lms = self.settings.lms
        if lms is None:
            return "Not sent: the site policy names no learning record store, so nothing leaves this computer."
        import sqlite3

        from trainer.core.errors import TrainerError

        try:
            from trainer.store.db import SessionStore
            from trainer.store.outbox import status
            from trainer.store.paths import default_db_path

            queue = status(SessionStore(default_db_path())).line()
        except (TrainerError, sqlite3.Error) as exc:  # shown here: About must open even then
            queue = f"The queue cannot be read: {exc}"
        return f"Sent as xAPI statements to {lms.describe()}.\n{queue}"

    def details_text(self) -> str:
        """Everything the dialog shows, as plain text (for support requests)."""
        lines = [f"Video-Visit Trainer {__version__}", f"Version: {self.version_label.text()}",
                 "Data folder: " + self.data_label.text().replace("\n", " "),
                 "Site policy: " + self.policy_label.text().replace("\n", "; ")]
        if self.note_label.text():
            lines.append("Programme note: " + self.note_label.text())
        lines.append("Results to your programme: " + self.lms_label.text().replace("\n", " "))
        lines.append("Settings:")
        for s in shown_settings(self.settings):
            value = format_value(s.key, s.value).replace("\n", ", ")
            lines.append(f"  {s.label}: {value} [{_status(s)}] {s.explanation()}")
        return "\n".join(lines)

    def copy_details(self) -> None:
        QGuiApplication.clipboard().setText(self.details_text())


def add_about_action(window: QWidget, menu) -> QAction:
    """Add "About and settings…" to `menu` (the main window's Help menu), opening the dialog."""
    action = QAction("&About and settings…", window)
    action.setMenuRole(QAction.AboutRole)  # macOS moves it to the application menu
    def open_dialog():
        from trainer.store.user_settings import load_user_settings

        dialog = AboutDialog(window, user=load_user_settings())
        if hasattr(window, "reload_settings"):
            dialog.settings_changed.connect(window.reload_settings)
        dialog.exec()

    action.triggered.connect(open_dialog)
    menu.addAction(action)
    return action
