"""The summary page: a reflection first (saved, skippable), then the teaching summary. No text a learner
sees contains an internal snake_case id, for real sessions of several scenarios."""

import re
import time

from conftest import settle

from trainer.core.debrief import learner_texts
from trainer.core.scenario import discover_scenarios
from trainer.resources import builtin_scenarios_dir
from trainer.store.db import SessionStore
from trainer.ui.main_window import MainWindow
from trainer.visit import VisitRunner

SNAKE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")


def _session(store, scenario, clip, seconds):
    runner = VisitRunner(scenario, store, camera=clip, mic=clip, realtime=False, sound_output=False,
                         calibration=None, learner="Amal")
    sid = runner.start()
    time.sleep(seconds)
    runner.end()
    return sid


def test_summary_reflection_then_plain_results(qtbot, tmp_path, fixtures):
    store = SessionStore(tmp_path / "s.db")
    clip = str(fixtures("video/talking_nods.mp4"))
    scenarios = {s.id: s for s in discover_scenarios([builtin_scenarios_dir()])[0]}
    sids = [_session(store, scenarios[name], clip, 10) for name in ("abnormal-results", "first-checkin")]
    window = MainWindow(camera="7", mic=None, store=store)
    qtbot.addWidget(window)
    window.show()
    page = window.summary_page
    window.show_summary(sids[0])
    settle(qtbot, window)
    assert not page.showing_results  # the reflection comes before the numbers
    page.went_well.setPlainText("I greeted her by name.")
    page.differently.setPlainText("Slow down when explaining the result.")
    page.save_button.click()
    assert page.showing_results
    assert store.reflection(sids[0]) == {"went_well": "I greeted her by name.",
                                         "differently": "Slow down when explaining the result."}
    assert "I greeted her by name." in page.learner_text()
    window.show_summary(sids[0])  # reopened (Past sessions): straight to the results
    settle(qtbot, window)
    assert page.showing_results
    window.show_summary(sids[1])
    settle(qtbot, window)
    page.skip_button.click()
    for sid in sids:
        window.show_summary(sid)
        settle(qtbot, window)
        text = page.learner_text()
        assert "Your measures" in text and "Your share of the talk" in text
        found = SNAKE.findall(text) + [w for t in learner_texts(store.debrief(sid)) for w in SNAKE.findall(t)]
        assert not found, found
    window.close()
