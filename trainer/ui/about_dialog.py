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
                               QLabel, QPushButton, QTableWidget, QTableWidgetItem, QTabWidget, QVBoxLayout, QWidget)

from trainer import __version__
from trainer.core.i18n import LANGUAGES, N_, _
from trainer.core.policy import (SETTINGS, EffectiveSettings, Policy, PolicyError, effective_settings, load_policy,
                                 policy_paths)

LOCKED = N_("Locked by policy")
_MODES = {"live": N_("Live (during the visit)"), "after_action": N_("After the visit (debrief only)"), "off": N_("Off")}
#: The settings a user may choose here (unless the policy locks them): key -> {value: label}.
USER_CHOICES = {
    "default_feedback_mode": _MODES,
    "language": {"system": N_("The computer's language"), **LANGUAGES},
    "caption_size": {"normal": N_("Normal"), "large": N_("Large"), "larger": N_("Larger"),
                     "largest": N_("Largest (twice normal)")},
    "caption_contrast": {"standard": N_("Standard"), "high": N_("High (yellow on black)")},
    "live_captions": {False: N_("Off"), True: N_("On")},
    "turn_time_limits": {"normal": N_("As the scenario sets them"), "extended": N_("Twice as long"),
                         "off": N_("Off: the patient waits for you")},
}


def format_value(key: str, value) -> str:
    """A setting's value in words."""
    if key in ("allow_video_recording", "allow_transcripts"):
        return _("Yes") if value else _("No")
    if key == "retention_days":
        return _("Until deleted") if value is None else _("{n} days").format(n=value)
    if key == "data_dir":
        return _("Per-user folder") if value is None else str(value)
    if key == "scenario_packs":
        return _("None") if not value else "\n".join(value)
    if key == "lms":
        return _("Not sent (nothing leaves this computer)") if value is None else value.endpoint
    if key in USER_CHOICES:
        return _(USER_CHOICES[key].get(value, str(value)))
    return str(value)


def shown_settings(settings: EffectiveSettings) -> list:
    """The settings About lists: those this version acts on."""
    return [s for s in settings if SETTINGS[s.key].in_effect]


def describe(setting) -> str:
    """What the setting does, then why it has its value."""
    return f"{_(SETTINGS[setting.key].help)} {setting.explanation(with_note=False)}"


def _status(setting) -> str:
    return _({"policy": LOCKED, "policy default": N_("Set by policy (changeable)"), "user": N_("Your setting"),
              "built-in": N_("Default")}[setting.origin])


class AboutDialog(QDialog):
    """Overview, plus the one control for settings the policy leaves to the user (feedback mode). `settings` and `policy_error` can be given (tests); by default the policy files on
    this machine are read, and an unreadable one is shown with its error instead of failing."""

    settings_changed = Signal()  # the user changed one of their settings (already saved)

    def __init__(self, parent: QWidget | None = None, *, settings: EffectiveSettings | None = None,
                 user: dict | None = None):
        super().__init__(parent)
        self.setWindowTitle(_("About and settings"))
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
        blurb = QLabel(_("Rehearse telehealth video visits with a virtual patient. Camera and microphone are "
                         "analysed on this computer; nothing leaves it.") if settings.lms is None else
                       _("Rehearse telehealth video visits with a virtual patient. Camera and microphone are "
                         "analysed on this computer; only the results named below are sent to your programme."))
        blurb.setWordWrap(True)
        layout.addWidget(blurb)

        form = QFormLayout()
        kind = _("packaged app") if getattr(sys, "frozen", False) else _("source install")
        self.version_label = QLabel(f"{__version__} ({kind}, Python {sys.version.split()[0]})")
        form.addRow(_("Version:"), self.version_label)
        self.data_label = QLabel(self._data_folder_text())
        self.data_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.data_label.setWordWrap(True)
        form.addRow(_("Data folder:"), self.data_label)
        self.policy_label = QLabel(self._policy_text())
        self.policy_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.policy_label.setWordWrap(True)
        if self.policy_error is not None:
            self.policy_label.setStyleSheet("color: #b00020;")
        form.addRow(_("Site policy:"), self.policy_label)
        notes = [f.note for f in settings.policy.files if f.note]
        self.note_label = QLabel("\n".join(notes))
        self.note_label.setWordWrap(True)
        if notes:
            form.addRow(_("Programme note:"), self.note_label)
        self.lms_label = QLabel(self._lms_text())
        self.lms_label.setWordWrap(True)
        self.lms_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        form.addRow(_("Results to your programme:"), self.lms_label)
        layout.addLayout(form)

        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels([_("Setting"), _("Value"), _("Status"),
                                              _("What it does, and why this value")])
        self.table.setAccessibleName(_("Settings"))
        self.table.setAccessibleDescription(_("Each setting, its value, whether the site policy locks it, what "
                                              "it does and why it has this value."))
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setWordWrap(True)
        header = self.table.horizontalHeader()
        # Fixed starting widths that wrap long names, values and statuses, so the explanation keeps room
        # (at the default size and in French, whose words are longer); the user can still drag them.
        for col, width in ((0, 190), (1, 170), (2, 150)):
            header.setSectionResizeMode(col, QHeaderView.Interactive)
            self.table.setColumnWidth(col, width)
        header.setSectionResizeMode(3, QHeaderView.Stretch)
        for s in shown_settings(settings):
            row = self.table.rowCount()
            self.table.insertRow(row)
            items = [QTableWidgetItem(_(s.label)), QTableWidgetItem(format_value(s.key, s.value)),
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
        # Two tabs, so the table keeps its height at the default size: what applies, and the user's choices.
        self.tabs = QTabWidget()
        self.tabs.addTab(self.table, _("Settings"))
        choices = QWidget()
        self.tabs.addTab(choices, _("Your choices"))
        layout.addWidget(self.tabs, 1)

        # The user's own choices, unless the policy locks them.
        self.combos: dict[str, QComboBox] = {}
        mode_form = QFormLayout(choices)
        for key, options in USER_CHOICES.items():
            setting = settings[key]
            combo = QComboBox()
            for value, label in options.items():
                combo.addItem(_(label), value)
            combo.setCurrentIndex(list(options).index(setting.value) if setting.value in options else 0)
            combo.setEnabled(not setting.locked)
            combo.setAccessibleName(_(setting.label))
            combo.setAccessibleDescription(_(SETTINGS[key].help))
            combo.setToolTip(f"{_(SETTINGS[key].help)} {setting.explanation()}")
            combo.currentIndexChanged.connect(lambda _i, k=key: self._choice_changed(k))
            label = QLabel(_("{setting}:").format(setting=_(setting.label)))
            label.setBuddy(combo)
            mode_form.addRow(label, combo)
            self.combos[key] = combo
        self.mode_combo = self.combos["default_feedback_mode"]
        restart = QLabel(_("A new language applies the next time the app starts; the other choices apply from "
                           "the next visit."))
        restart.setObjectName("hint")
        restart.setWordWrap(True)
        mode_form.addRow(restart)
        if any(s.locked for s in settings):
            hint = QLabel(_("Locked settings are fixed by your training programme's site policy. To change one, "
                            "contact the people named in the note above (or your IT staff)."))
            hint.setWordWrap(True)
            layout.addWidget(hint)

        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        self.copy_button = QPushButton(_("Copy details"))
        self.copy_button.setAccessibleDescription(_("Copy everything this window shows, as text, for a support "
                                                    "request."))
        close = buttons.button(QDialogButtonBox.Close)
        close.setAccessibleDescription(_("Close this window."))
        buttons.addButton(self.copy_button, QDialogButtonBox.ActionRole)
        self.copy_button.clicked.connect(self.copy_details)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def _choice_changed(self, key: str) -> None:
        from trainer.store.user_settings import save_user_setting

        save_user_setting(key, self.combos[key].currentData())
        self.settings_changed.emit()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        # Row heights depend on the final column widths, known only once the dialog is laid out.
        self.table.resizeRowsToContents()

    # -- text ---------------------------------------------------------------------------------------
    def _data_folder_text(self) -> str:
        env = os.environ.get("TRAINER_DATA_DIR")
        if env:
            return f"{env}\n" + _("(set by the TRAINER_DATA_DIR environment variable)")
        s = self.settings["data_dir"]
        if s.value:
            return f"{s.value}\n({s.explanation()})"
        from trainer.store.paths import data_dir

        if self.policy_error is not None:
            return _("Unknown until the site policy problem below is fixed.")
        return f"{data_dir()}\n" + _("(the per-user data folder)")

    def _policy_text(self) -> str:
        if self.policy_error is not None:
            return _("The policy file cannot be used: {error}").format(error=self.policy_error.message)
        files = self.settings.policy_files
        if files:
            return "\n".join(str(f) for f in files)
        looked = [str(p) for p in (self.settings.policy.searched or policy_paths())]
        return _("No site policy applies.") + " " + (_("Looked in: {paths}").format(paths=", ".join(looked)) if looked
                                                     else _("(TRAINER_POLICY is set to an empty value.)"))

    def _lms_text(self) -> str:
        lms = self.settings.lms
        if lms is None:
            return _("Not sent: the site policy names no learning record store, so nothing leaves this computer.")
        import sqlite3

        from trainer.core.errors import TrainerError

        try:
            from trainer.store.db import SessionStore
            from trainer.store.outbox import status
            from trainer.store.paths import default_db_path

            queue = status(SessionStore(default_db_path())).line()
        except (TrainerError, sqlite3.Error) as exc:  # shown here: About must open even then
            queue = _("The queue cannot be read: {error}").format(error=exc)
        return _("Sent as xAPI statements to {lrs}.").format(lrs=lms.describe()) + "\n" + queue

    def details_text(self) -> str:
        """Everything the dialog shows, as plain text (for support requests)."""
        lines = [f"Video-Visit Trainer {__version__}", _("Version:") + " " + self.version_label.text(),
                 _("Data folder:") + " " + self.data_label.text().replace("\n", " "),
                 _("Site policy:") + " " + self.policy_label.text().replace("\n", "; ")]
        if self.note_label.text():
            lines.append(_("Programme note:") + " " + self.note_label.text())
        lines.append(_("Results to your programme:") + " " + self.lms_label.text().replace("\n", " "))
        lines.append(_("Settings:"))
        for s in shown_settings(self.settings):
            value = format_value(s.key, s.value).replace("\n", ", ")
            lines.append(f"  {_(s.label)}: {value} [{_status(s)}] {s.explanation()}")
        return "\n".join(lines)

    def copy_details(self) -> None:
        QGuiApplication.clipboard().setText(self.details_text())


def add_about_action(window: QWidget, menu) -> QAction:
    """Add "About and settings…" to `menu` (the main window's Help menu), opening the dialog."""
    action = QAction(_("&About and settings…"), window)
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
