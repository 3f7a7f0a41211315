"""Facilitator notes at the replay's playhead (stored, on the notes lane and in the list) and the rating
form (each targeted behaviour on the scale, a comment, the global rating; the measures stay as they were)."""

import os

from conftest import played_session, settle

from trainer.store.db import GLOBAL_RATING, SessionStore
from trainer.store.timeline import NOTES_LANE
from trainer.ui.main_window import MainWindow
from trainer.ui.rating_dialog import RatingDialog


def test_note_at_the_playhead_and_ratings(qtbot, tmp_path):
    window = MainWindow(camera="7", mic=None, store=SessionStore(tmp_path / "s.db"))
    qtbot.addWidget(window)
    sid = played_session(window.store)
    measures = window.store.summary(sid).measures
    window.resize(1440, 900)
    window.show_replay(sid)
    qtbot.waitUntil(lambda: window.replay_page is not None, timeout=30000)
    page = window.replay_page
    assert page.notes_list.count() == 2  # the two stored notes
    page.seek(6.5)
    page.author_edit.setText("Dr Review")
    page.note_edit.setText("Long silence after the cue")
    page.add_note()
    settle(qtbot, window)  # the store announced the note: the list and the lane reloaded themselves
    notes = window.store.notes(sid)
    assert [(n["t"], n["author"], n["text"]) for n in notes if n["author"] == "Dr Review"] == [
        (6.5, "Dr Review", "Long silence after the cue")]
    assert page.note_edit.text() == "" and page.notes_list.count() == 3
    lane = next(lane for lane in page.timeline.lanes if lane.name == NOTES_LANE)
    assert (6.5, "Dr Review: Long silence after the cue") in lane.marks
    page.notes_list.setCurrentRow(0)
    page._jump_item(page.notes_list.item(0))
    assert page.t == notes[0]["t"]

    dialog = RatingDialog(window.store, sid, page.scenario, "Dr Review", page)
    qtbot.addWidget(dialog)
    first = page.scenario.behaviours[0]
    box, comment = dialog.rows[first]
    assert [box.itemText(i) for i in range(box.count())] == ["—", "not shown", "partly shown", "clearly shown"]
    # The rubric's own scale for a behaviour (first-checkin rates open questions on its own words).
    opened = dialog.rows["open_questions"][0]
    assert [opened.itemData(i) for i in range(1, opened.count())] == list(page.scenario.scale_for("open_questions"))
    assert "open question" in opened.toolTip()  # the rubric's "what counts" sentence
    box.setCurrentIndex(box.findData("clearly shown"))
    comment.setText("asked early")
    dialog.choose("open_questions", "open questions throughout")
    dialog.rows[GLOBAL_RATING][0].setCurrentIndex(dialog.rows[GLOBAL_RATING][0].findData("4"))
    dialog.save()
    mine = {r["behaviour"]: r for r in window.store.ratings(sid) if r["author"] == "Dr Review"}
    assert mine[first]["level"] == "clearly shown" and mine[first]["comment"] == "asked early"
    assert mine["open_questions"]["level"] == "open questions throughout"
    assert mine[GLOBAL_RATING]["level"] == "4" and len(mine) == 3  # unrated behaviours stay unrated
    assert window.store.summary(sid).measures == measures
    if os.environ.get("TRAINER_SHOTS"):
        window.show()
        qtbot.waitExposed(window)
        window.grab().save(os.path.join(os.environ["TRAINER_SHOTS"], "replay_notes.png"))
        dialog.show()
        dialog.grab().save(os.path.join(os.environ["TRAINER_SHOTS"], "rating_dialog.png"))
