"""A setting the policy leaves changeable can be changed in About and settings, is saved per user and
applies to the next visit; a locked one cannot be changed."""

from trainer.store.db import SessionStore
from trainer.store.user_settings import load_user_settings
from trainer.ui.about_dialog import AboutDialog
from trainer.ui.main_window import MainWindow


def test_feedback_mode_is_changed_saved_and_applied(qtbot, tmp_path):
    window = MainWindow(camera="7", mic=None, store=SessionStore(tmp_path / "s.db"))
    qtbot.addWidget(window)
    assert window.settings.default_feedback_mode == "live"
    dialog = AboutDialog(window, user=load_user_settings())
    qtbot.addWidget(dialog)
    dialog.settings_changed.connect(window.reload_settings)
    assert dialog.mode_combo.isEnabled()
    dialog.mode_combo.setCurrentIndex(dialog.mode_combo.findData("after_action"))
    assert load_user_settings() == {"default_feedback_mode": "after_action"}
    assert window.settings.default_feedback_mode == "after_action"
    assert window.settings["default_feedback_mode"].origin == "user"


def test_locked_feedback_mode_cannot_be_changed(qtbot, tmp_path, monkeypatch):
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: 1\ndefault_feedback_mode: off\n", encoding="utf-8")
    monkeypatch.setenv("TRAINER_POLICY", str(policy))
    dialog = AboutDialog(None, user={"default_feedback_mode": "live"})
    qtbot.addWidget(dialog)
    assert not dialog.mode_combo.isEnabled()
    assert dialog.mode_combo.currentData() == "off"
    assert "Locked by site policy" in dialog.mode_combo.toolTip()


def test_live_captions_choice_is_saved_per_user_and_restored(qtbot, tmp_path, fixtures):
    store = SessionStore(tmp_path / "s.db")
    window = MainWindow(camera=str(fixtures("video/steady_a.mp4")), mic=str(fixtures("audio/noise.wav")), store=store)
    qtbot.addWidget(window)
    window.confirm = lambda *args: True
    window.start_visit_by_ref("first-checkin")
    qtbot.waitUntil(lambda: window.visit_page is not None, timeout=5000)
    assert not window.visit_page.captions_button.isChecked()  # off by default
    window.visit_page.captions_button.click()  # Captions on, during the visit
    assert load_user_settings() == {"live_captions": True}
    window.visit_page.end_button.click()
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.summary_page, timeout=60000)
    window.close()
    # The app is started again: its next visit starts with the captions on.
    again = MainWindow(camera=str(fixtures("video/steady_a.mp4")), mic=str(fixtures("audio/noise.wav")), store=store)
    qtbot.addWidget(again)
    again.confirm = lambda *args: True
    assert again.settings.value("live_captions") is True and again.settings["live_captions"].origin == "user"
    again.start_visit_by_ref("first-checkin")
    qtbot.waitUntil(lambda: again.visit_page is not None, timeout=5000)
    assert again.visit_page.captions_button.isChecked()
    again.visit_page.captions_button.click()  # and off again is remembered too
    assert load_user_settings() == {"live_captions": False}
    again.close()
