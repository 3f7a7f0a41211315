"""Site policy in the GUI: extra scenario packs are offered, and the feedback mode hides live coaching."""

import shutil

from trainer.resources import builtin_scenarios_dir
from trainer.store.db import SessionStore
from trainer.ui.main_window import MainWindow


def test_policy_packs_and_after_action_mode(qtbot, tmp_path, monkeypatch):
    pack = tmp_path / "pack"
    pack.mkdir()
    src = sorted(builtin_scenarios_dir().glob("*.yaml"))[0]
    text = src.read_text(encoding="utf-8")
    import re

    text = re.sub(r"^id: .*$", "id: programme-pack-visit", text, count=1, flags=re.M)
    text = re.sub(r"^title: .*$", 'title: "Programme pack visit"', text, count=1, flags=re.M)
    (pack / "programme.yaml").write_text(text, encoding="utf-8")
    for extra in src.parent.iterdir():  # recorded clips a scenario may reference sit beside it
        if extra.is_dir():
            shutil.copytree(extra, pack / extra.name, dirs_exist_ok=True)
    policy = tmp_path / "policy.yaml"
    policy.write_text(f"version: 1\nscenario_packs:\n  - {pack}\ndefault_feedback_mode: after_action\n",
                      encoding="utf-8")
    monkeypatch.setenv("TRAINER_POLICY", str(policy))
    window = MainWindow(camera="7", mic=None, store=SessionStore(tmp_path / "s.db"))
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: window.scenarios_ready, timeout=60000)  # loaded in the background
    titles = [s.title for s in window.scenario_page.scenarios]
    assert "Programme pack visit" in titles
    assert window.settings.default_feedback_mode == "after_action" and window.settings.is_locked(
        "default_feedback_mode")
    window.show()
    window.start_visit(window.scenario_page.scenarios[0])
    qtbot.waitUntil(lambda: window.visit_page is not None, timeout=30000)
    assert not window.visit_page.share_bar.isVisible()
    assert window.visit_page.self_view.isVisible()
    window.end_visit()
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.summary_page, timeout=120000)
    window.close()
