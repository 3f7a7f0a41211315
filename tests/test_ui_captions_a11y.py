"""The visit window's captions in French, the caption size and contrast settings, and screen-reader
announcements of patient lines without flooding (ui.a11y)."""

from __future__ import annotations

from PySide6.QtGui import QColor

from trainer.core.events import PatientLineStarted
from trainer.core.scenario import load_scenario
from trainer.resources import builtin_scenarios_dir
from trainer.ui.a11y import Announcer, contrast_ratio


def test_french_captions_largest_size_high_contrast_and_one_announcement_per_line(qtbot):
    from trainer.ui.app import apply_language
    from trainer.ui.visit_page import VisitPage

    scenario = load_scenario(builtin_scenarios_dir() / "first_checkin.yaml")
    apply_language("fr_CA")
    try:
        page = VisitPage(scenario, caption_scale=2.0, caption_contrast="high")
        qtbot.addWidget(page)
        page.show()
        line = scenario.steps[0]
        ev = PatientLineStarted(0.5, step=line.id, text=line.text, duration=2.0, name="Maria Lopez")
        page.on_scenario_event(ev)
        page.on_scenario_event(ev)  # the same event again (a replay, a repaint): announced once
        assert page.patient.caption.startswith("Allô?")
        assert page.voice_note.isVisible() and "anglais" in page.voice_note.text()
        assert page.patient.caption_scale == 2.0 and page.patient.caption_high_contrast
        assert page.announcer.spoken == ["Maria Lopez: " + page.patient.caption]
        assert page.patient.accessibleName() == "Vidéo de Maria Lopez"
    finally:
        apply_language("en")
    page = VisitPage(scenario)
    qtbot.addWidget(page)
    page.on_scenario_event(PatientLineStarted(0.5, step=line.id, text=line.text, duration=2.0, name="Maria Lopez"))
    assert page.patient.caption == line.text and not page.voice_note.isVisible()


def test_caption_colours_meet_the_contrast_target():
    # High contrast: yellow on opaque black; standard: white on 65 % black over the brightest picture.
    assert contrast_ratio(QColor(255, 255, 0), QColor(0, 0, 0)) > 19
    over_white = QColor(round(255 * (1 - 165 / 255)), round(255 * (1 - 165 / 255)), round(255 * (1 - 165 / 255)))
    assert contrast_ratio(QColor(255, 255, 255), over_white) >= 4.5


def test_announcements_do_not_flood(qtbot):
    from PySide6.QtWidgets import QWidget

    now = [0.0]
    w = QWidget()
    qtbot.addWidget(w)
    a = Announcer(w, clock=lambda: now[0])
    a.patient_line("l1", "Maria", "Hello?")
    a.patient_line("l1", "Maria", "Hello?")
    for _i in range(20):  # a burst of nudges within two seconds: one is spoken
        now[0] += 0.1
        a.nudge("Look at the camera")
    now[0] += 10
    a.nudge("Look at the camera")  # the same words again: not repeated
    a.nudge("Give her time to answer")  # new words, long after the last spoken nudge
    assert a.spoken == ["Maria: Hello?", "Look at the camera", "Give her time to answer"]


def test_own_captions_join_a_sentence_split_at_a_pause(qtbot):
    from trainer.core.events import Utterance
    from trainer.ui.visit_page import CAPTION_CHARS, VisitPage

    page = VisitPage(load_scenario(builtin_scenarios_dir() / "first_checkin.yaml"))
    qtbot.addWidget(page)
    page.show()
    page.on_utterance(Utterance(3.0, 1.0, 2.5, "I can see and hear you well."))
    assert page.captions_label.isHidden()  # captions are off by default
    page.captions_button.click()
    page.on_utterance(Utterance(4.0, 2.8, 3.6, "Is that your kitchen?"))
    assert page.captions_label.isVisible()
    assert page.captions_label.text() == "You: I can see and hear you well. Is that your kitchen?"
    page.on_utterance(Utterance(12.0, 10.0, 11.0, "How have you been?"))  # a new turn, seconds later
    assert page.captions_label.text() == "You: How have you been?"
    for i in range(30):
        page.on_utterance(Utterance(13.0 + i, 11.5 + i, 12.0 + i, f"word{i} and more words"))
    assert len(page.captions_label.text()) <= len("You: …") + CAPTION_CHARS
    assert page.captions_label.text().endswith("word29 and more words")
