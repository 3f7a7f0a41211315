"""The app in a real X11 window under Xvfb (not offscreen): `trainer run` plays the fixture video as the
camera, saves a screenshot of the visit window and quits. Needs Xvfb (the bootstrap installs it)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtGui import QImage


def test_visit_window_under_xvfb(tmp_path, fixtures):
    if not shutil.which("xvfb-run"):
        if os.environ.get("CI"):
            pytest.fail("xvfb-run missing: scripts/bootstrap.sh should have installed xvfb")
        pytest.skip("xvfb-run not installed")
    video = str(fixtures("video/talking_nods.mp4"))
    shot = tmp_path / "visit.png"
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}  # real xcb platform
    trainer = Path(sys.executable).with_name("trainer")
    proc = subprocess.run(
        ["xvfb-run", "-a", "-s", "-screen 0 1280x800x24", str(trainer), "run", "first-checkin",
         "--camera", video, "--mic", video, "--screenshot", str(shot), "--screenshot-delay", "3"],
        env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "screenshot saved" in proc.stdout
    img = QImage(str(shot))
    assert img.width() >= 800 and img.height() >= 500
    # The self-view (top right) shows the camera picture: many distinct colours, not a flat placeholder.
    colours = {img.pixel(x, y) for x in range(img.width() - 250, img.width() - 10, 7) for y in range(90, 250, 7)}
    assert len(colours) > 50
    # The session was stored in the user's data folder (TRAINER_DATA_DIR from conftest).
    from trainer.store.db import SessionStore
    from trainer.store.paths import default_db_path

    sessions = SessionStore(default_db_path()).history()
    assert sessions and sessions[0]["face_ratio"] > 0.9
