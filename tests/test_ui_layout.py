"""Layout at 100, 150 and 200 % scaling on 1366x768 and 1440x900 screens: every button and input of every
page lies inside the screen (scrolled into view where the page scrolls), no button is narrower than its
text and no label is cut. Each scaling is its own process (Qt reads the scale factor at start-up); the
tool is trainer.ui.layout_check, which also writes the screenshots in docs/images."""

import json
import os
import subprocess
import sys

import pytest

CONFIGS = [(scale, screen) for scale in ("1", "1.5", "2") for screen in ("1366x768", "1440x900")]


@pytest.mark.parametrize("scale,screen", CONFIGS)
def test_every_control_fits_the_screen(scale, screen, tmp_path):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "QT_SCALE_FACTOR": scale}
    proc = subprocess.run([sys.executable, "-m", "trainer.ui.layout_check", "--screen", screen], env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout)
    assert set(result["pages"]) >= {"scenarios", "precheck", "visit", "summary", "history"}
    problems = {page: v["problems"] for page, v in result["pages"].items() if v["problems"]}
    assert not problems, problems
    if screen == "1440x900" and scale == "1.5":
        # The case: at 150 % on 1440x900 the call window's End call and self-view must not need
        # scrolling, nor should the scenario list or the pre-visit check.
        assert not any(result["pages"][p]["scrolls"] for p in ("scenarios", "precheck", "visit"))
