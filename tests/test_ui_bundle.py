"""Export and import of session bundles from the app: Past sessions shows where an imported session came
from; a damaged bundle is refused with a message and nothing changes."""

import os

from conftest import played_session, settle

from trainer.store.db import SessionStore
from trainer.ui.main_window import MainWindow


def test_export_selected_then_import_on_another_machine(qtbot, tmp_path):
    learner = MainWindow(camera="7", mic=None, store=SessionStore(tmp_path / "learner.db"))
    qtbot.addWidget(learner)
    sid = played_session(learner.store)
    learner.show_history()
    settle(qtbot, learner)
    assert learner.selected_session_ids() == [sid]
    assert learner.history_page.table.item(0, learner.history_page.table.columnCount() - 1).text() == "this computer"
    ok, message = learner.export_to(str(tmp_path / "visit.trainerbundle"), learner.selected_session_ids())
    assert ok and "Exported 1 session" in message

    facilitator = MainWindow(camera="7", mic=None, store=SessionStore(tmp_path / "facilitator.db"))
    qtbot.addWidget(facilitator)
    ok, message = facilitator.import_from(str(tmp_path / "visit.trainerbundle"))
    assert ok and "Imported 1 session" in message
    settle(qtbot, facilitator)
    table = facilitator.history_page.table
    assert facilitator.stack.currentWidget() is facilitator.history_page and table.rowCount() == 1
    assert table.item(0, table.columnCount() - 1).text().startswith("visit.trainerbundle, exported from")
    ok, message = facilitator.import_from(str(tmp_path / "visit.trainerbundle"))
    settle(qtbot, facilitator)
    assert ok and message.startswith("Nothing new") and table.rowCount() == 1

    (tmp_path / "bad.trainerbundle").write_bytes((tmp_path / "visit.trainerbundle").read_bytes()[:-40])
    ok, message = facilitator.import_from(str(tmp_path / "bad.trainerbundle"))
    assert not ok and "damaged or incomplete" in message and len(facilitator.store.sessions()) == 1
    facilitator.resize(1200, 500)
    facilitator.show()
    qtbot.waitExposed(facilitator)
    if os.environ.get("TRAINER_SHOTS"):
        facilitator.grab().save(os.path.join(os.environ["TRAINER_SHOTS"], "history_imported.png"))


def test_imported_session_of_a_scenario_not_installed_replays_from_its_stored_text(qtbot, tmp_path):
    from trainer.resources import builtin_scenarios_dir

    src = SessionStore(tmp_path / "learner.db")
    text = (builtin_scenarios_dir() / "first_checkin.yaml").read_text(encoding="utf-8")
    assert "id: first-checkin" in text
    sid = src.create_session("pack-only-visit", "Pack-only visit",
                             scenario_text=text.replace("id: first-checkin", "id: pack-only-visit", 1))
    src.writer(sid).close("completed", duration_s=5.0)
    from trainer.store.bundle import export_sessions

    export_sessions(src, [sid], tmp_path / "b.trainerbundle")
    window = MainWindow(camera="7", mic=None, store=SessionStore(tmp_path / "facilitator.db"))
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: window.scenarios_ready, timeout=60000)  # loaded in the background
    ok, _message = window.import_from(str(tmp_path / "b.trainerbundle"))
    assert ok and all(s.id != "pack-only-visit" for s in window.scenario_page.scenarios)
    window.show_replay(window.store.sessions()[0]["id"])
    qtbot.waitUntil(lambda: window.replay_page is not None, timeout=30000)
    assert window.stack.currentWidget() is window.replay_page
