"""The calibration dialog end to end with a fixture video as the camera."""

from trainer.analysis.calibration import MIN_SAMPLES, calibration_path
from trainer.store.db import SessionStore
from trainer.ui.main_window import MainWindow
from trainer.visit import camera_key, current_user


def test_calibration_with_a_clip_that_never_looks_away_explains_why_it_failed(qtbot, tmp_path, fixtures):
    # In steady_a the person looks into the lens throughout: "camera" and "patient" gaze coincide, which
    # the fit must refuse with an actionable message, saving nothing.
    video = str(fixtures("video/steady_a.mp4"))
    window = MainWindow(camera=video, mic=None, store=SessionStore(tmp_path / "s.db"))
    qtbot.addWidget(window)
    window.show()
    assert "not calibrated" in window.scenario_page.calibration_status.text()
    window.scenario_page.calibrate_button.click()
    dialog = window.calibration_dialog
    qtbot.waitUntil(lambda: dialog.result_text is not None, timeout=90000)
    assert dialog.counts()["camera"] >= MIN_SAMPLES and dialog.counts()["screen"] >= MIN_SAMPLES
    assert "did not work" in dialog.result_text and "same eye direction" in dialog.result_text
    assert not calibration_path(current_user(), camera_key(video)).exists()
    dialog.close()
    assert "not calibrated" in window.scenario_page.calibration_status.text()
    window.close()
