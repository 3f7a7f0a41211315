"""Scenarios are loaded and checked off the main thread: with a large pack the window shows at once, says
"Loading scenarios...", keeps handling events while the pack is checked, and then lists the pack."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer

from trainer.store.db import SessionStore
from trainer.ui.main_window import MainWindow

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from bench_scenario_size import generated_scenario  # noqa: E402

pytestmark = pytest.mark.gui


def test_window_shows_and_stays_responsive_while_a_large_pack_loads(qtbot, tmp_path, monkeypatch):
    pack = tmp_path / "pack"
    pack.mkdir()
    for k in range(3):  # 15,000 steps to check in all (5,000 is the most one scenario may have)
        (pack / f"big{k}.yaml").write_text(generated_scenario(5000).replace("id: big", f"id: big-{k}")
                                           .replace("title: Big", f"title: Big pack visit {k}"), encoding="utf-8")
    policy = tmp_path / "policy.yaml"
    policy.write_text(f"version: 1\nscenario_packs:\n  - {pack}\n", encoding="utf-8")
    monkeypatch.setenv("TRAINER_POLICY", str(policy))

    window = MainWindow(camera="7", mic=None, store=SessionStore(tmp_path / "s.db"))
    qtbot.addWidget(window)
    window.show()
    page = window.scenario_page
    # The window exists and is shown before any scenario has been checked.
    assert not window.scenarios_ready
    assert page.list.count() == 1 and page.list.item(0).text().startswith("Loading scenarios")
    assert not page.start_button.isEnabled() and page.current() is None
    if os.environ.get("TRAINER_SHOTS"):
        window.grab().save(os.path.join(os.environ["TRAINER_SHOTS"], "scenarios_loading.png"))

    # The main thread keeps running its event loop while the pack is checked: a timer fires before the list
    # is filled, and the user can go to Past sessions (itself read in the background) and back.
    ticks = {"n": 0, "at_load": None}
    timer = QTimer()
    timer.setInterval(0)
    timer.timeout.connect(lambda: ticks.__setitem__("n", ticks["n"] + 1))
    window.scenarios_loaded.connect(lambda: ticks.__setitem__("at_load", ticks["n"]))
    timer.start()
    page.history_button.click()
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.history_page, timeout=60000)
    window.show_scenarios()
    qtbot.waitUntil(lambda: window.scenarios_ready, timeout=180000)
    timer.stop()
    assert ticks["at_load"] is not None and ticks["at_load"] > 0

    titles = [s.title for s in page.scenarios]
    assert {"Big pack visit 0", "Big pack visit 1", "Big pack visit 2"} <= set(titles)
    assert page.list.count() == len(page.scenarios) and page.start_button.isEnabled()
    assert page.current() is page.scenarios[0]


def test_trainer_run_waits_for_the_list_and_a_newer_reload_wins(qtbot, tmp_path):
    window = MainWindow(camera="7", mic=None, store=SessionStore(tmp_path / "s.db"))
    qtbot.addWidget(window)
    started = []
    window.start_visit = started.append  # only which scenario `trainer run` would start
    window.start_visit_by_ref("phone-preferred")  # before the list is loaded: deferred, not an error
    assert started == []
    window.reload_scenarios()  # a second load while the first runs: only the newest fills the list
    qtbot.waitUntil(lambda: window.scenarios_ready, timeout=60000)
    assert [s.id for s in started] == ["phone-preferred"]
    n = window.scenario_page.list.count()
    qtbot.wait(200)  # the superseded load's result, if it came later, changes nothing
    assert window.scenario_page.list.count() == n == len(window.scenario_page.scenarios)
