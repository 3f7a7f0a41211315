"""Help › About and settings: version, data folder, the policy that applies, locked settings and why."""

from __future__ import annotations

import os

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMainWindow

from trainer import __version__
from trainer.ui.about_dialog import LOCKED, AboutDialog, add_about_action


def rows(dialog) -> dict[str, list[str]]:
    t = dialog.table
    return {t.item(r, 0).data(Qt.UserRole): [t.item(r, c).text() for c in range(4)] for r in range(t.rowCount())}


@pytest.fixture
def policy_file(tmp_path, monkeypatch):
    p = tmp_path / "policy.yaml"
    p.write_text("version: 1\n"
                 "note: No stored video on shared workstations; ask the simulation lab.\n"
                 "allow_video_recording: false\n"
                 "retention_days: 30\n"
                 "defaults:\n"
                 "  default_feedback_mode: after_action\n", encoding="utf-8")
    monkeypatch.setenv("TRAINER_POLICY", str(p))
    return p


def test_locked_settings_are_marked_with_file_line_and_note(qtbot, policy_file):
    d = AboutDialog()
    qtbot.addWidget(d)
    r = rows(d)
    # The learner's own recording (with their tick) is what this key allows or forbids: listed, locked.
    label, value, status, why = r["allow_video_recording"]
    assert (label, value, status) == ("Video recording allowed", "No", LOCKED)
    assert "ticks" in why and why.endswith(f"Locked by site policy ({policy_file}:3).")
    label, value, status, why = r["retention_days"]
    assert (label, value, status) == ("Keep sessions for (days)", "30 days", LOCKED)
    assert why.startswith("Sessions older than this are deleted") and why.endswith(
        f"Locked by site policy ({policy_file}:4).")
    # The programme's note is shown once above the table, and with every locked setting on hover.
    assert "ask the simulation lab" in d.table.item(0, 3).toolTip()
    assert r["retention_days"][1:3] == ["30 days", LOCKED] and f"{policy_file}:4" in r["retention_days"][3]
    # A policy default is shown, but not as locked.
    assert r["default_feedback_mode"][1:3] == ["After the visit (debrief only)", "Set by policy (changeable)"]
    assert r["data_dir"][1:3] == ["Per-user folder", "Default"]
    assert str(policy_file) in d.policy_label.text()
    assert "simulation lab" in d.note_label.text()
    assert d.table.item(0, 0).toolTip()  # the reason is also on hover


def test_version_and_data_folder(qtbot, monkeypatch):
    monkeypatch.setenv("TRAINER_POLICY", "")
    d = AboutDialog()
    qtbot.addWidget(d)
    assert __version__ in d.version_label.text() and "source install" in d.version_label.text()
    assert os.environ["TRAINER_DATA_DIR"] in d.data_label.text()
    assert "TRAINER_DATA_DIR" in d.data_label.text()
    assert "No site policy applies" in d.policy_label.text()
    assert not any(row[2] == LOCKED for row in rows(d).values())


def test_policy_data_folder_is_explained(qtbot, tmp_path, monkeypatch):
    p = tmp_path / "policy.yaml"
    p.write_text(f"data_dir: {tmp_path / 'programme'}\n")
    monkeypatch.setenv("TRAINER_POLICY", str(p))
    monkeypatch.delenv("TRAINER_DATA_DIR")
    d = AboutDialog()
    qtbot.addWidget(d)
    assert str(tmp_path / "programme") in d.data_label.text()
    assert f"Locked by site policy ({p}:1)" in d.data_label.text()


def test_a_broken_policy_is_shown_not_fatal(qtbot, tmp_path, monkeypatch):
    p = tmp_path / "policy.yaml"
    p.write_text("allow_video_recording: maybe\n")
    monkeypatch.setenv("TRAINER_POLICY", str(p))
    monkeypatch.delenv("TRAINER_DATA_DIR")
    d = AboutDialog()
    qtbot.addWidget(d)
    assert d.policy_error is not None
    assert f"{p}:1: allow_video_recording" in d.policy_label.text()
    assert "Unknown until the site policy problem" in d.data_label.text()


def test_copy_details_puts_everything_on_the_clipboard(qtbot, policy_file):
    d = AboutDialog()
    qtbot.addWidget(d)
    qtbot.mouseClick(d.copy_button, Qt.LeftButton)
    text = QApplication.clipboard().text()
    assert text == d.details_text()
    assert f"Keep sessions for (days): 30 days [{LOCKED}] Locked by site policy ({policy_file}:4)" in text
    assert "Results to your programme: Not sent" in text
    assert "Data folder: " in text and "Site policy: " in text


def test_help_menu_action_opens_the_dialog(qtbot, monkeypatch, policy_file):
    w = QMainWindow()
    qtbot.addWidget(w)
    menu = w.menuBar().addMenu("&Help")
    action = add_about_action(w, menu)
    assert action in menu.actions() and "About and settings" in action.text()
    opened = []
    monkeypatch.setattr(AboutDialog, "exec", lambda self: opened.append(self) or 0)
    action.trigger()
    assert len(opened) == 1 and rows(opened[0])["retention_days"][2] == LOCKED


def test_main_window_help_menu_has_the_action(qtbot):
    from trainer.ui.main_window import MainWindow

    w = MainWindow(camera="none.mp4", mic="none.wav")
    qtbot.addWidget(w)
    assert any("About and settings" in a.text() for a in w.help_menu.actions())


def test_lms_line_shows_the_queue(qtbot, tmp_path, monkeypatch):
    creds = tmp_path / "creds"
    p = tmp_path / "policy.yaml"
    p.write_text(f"lms:\n  endpoint: https://lrs.example.org/xapi\n  credentials_file: {creds}\n"
                 "  learner: mbox\n  mbox_domain: example.org\n", encoding="utf-8")
    monkeypatch.setenv("TRAINER_POLICY", str(p))
    d = AboutDialog()
    qtbot.addWidget(d)
    assert "https://lrs.example.org/xapi/" in d.lms_label.text() and "No results queued yet" in d.lms_label.text()
    assert rows(d)["lms"][1:3] == ["https://lrs.example.org/xapi/", LOCKED]
