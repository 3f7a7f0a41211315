"""Accessibility and French on every page and dialog (WCAG 2.2 read for desktop software): one walk per
language through the whole app (tests/ui_pages.py) fails on a control without an accessible name or
description, a control Tab cannot reach, text with contrast under 4.5:1 and, in French, any English text
left (test_ui_i18n.untranslated_texts), the visit report included."""

from __future__ import annotations

import pytest

from trainer.ui.a11y import audit, contrast_ratio


@pytest.mark.parametrize("lang", ["en", "fr_CA"])
def test_every_page_and_dialog_is_accessible_and_translated(qtbot, tmp_path, fixtures, lang):
    from test_ui_i18n import html_texts, untranslated_texts, untranslated_words
    from ui_pages import all_pages

    from trainer.store.report import report_data, report_html
    from trainer.ui.app import apply_language

    apply_language(lang)
    problems, english, walked = [], [], []
    try:
        for name, root in all_pages(qtbot, tmp_path, str(fixtures("video/talking_nods.mp4"))):
            walked.append(name)
            problems += [f"{name}: {p}" for p in audit(root)]
            if lang != "en":
                english += [f"{name} / {t}" for t in untranslated_texts(root)]
            if name == "replay":
                page = root.replay_page
                report = report_html(report_data(page.store, page.timeline.session_id))
        if lang != "en":
            english += [hit for text in html_texts(report) for hit in untranslated_words(text, "report")]
    finally:
        apply_language("en")
    assert {"scenario page", "pre-visit check", "visit window", "summary: results", "past sessions", "progress",
            "replay", "rating dialog", "note dialog"} <= set(walked)
    assert not problems and not english, ("accessibility problems:\n" + "\n".join(problems) +
                                          "\nuntranslated text in French:\n" + "\n".join(english))


def test_the_checks_catch_a_broken_widget(qtbot):
    """The walk's checks are not vacuous: an unnamed control, grey-on-white text and English left in French
    are each reported."""
    from PySide6.QtWidgets import QLabel, QLineEdit, QVBoxLayout, QWidget
    from test_ui_i18n import untranslated_texts

    from trainer.ui.app import apply_language

    apply_language("fr_CA")
    try:
        root = QWidget()
        qtbot.addWidget(root)
        root.setStyleSheet("QWidget { background: #ffffff; }")
        lay = QVBoxLayout(root)
        faint = QLabel("Commencer la visite")
        faint.setStyleSheet("color: #aaaaaa;")
        lay.addWidget(faint)
        lay.addWidget(QLineEdit())
        english = QLabel("Choose a visit to rehearse")
        lay.addWidget(english)
        root.resize(400, 200)
        root.show()
        qtbot.waitExposed(root)
        found = [str(p) for p in audit(root)]
        left = untranslated_texts(root)
    finally:
        apply_language("en")
    assert any("QLineEdit" in p and "no accessible name" in p for p in found), found
    assert any("Commencer" in p and "text contrast" in p for p in found), found
    assert any("Choose a visit to rehearse" in t for t in left), left
    assert not any("Commencer" in t for t in left)


def test_contrast_ratio_matches_wcag():
    from PySide6.QtGui import QColor

    assert round(contrast_ratio(QColor("#000000"), QColor("#ffffff")), 1) == 21.0
    assert round(contrast_ratio(QColor("#767676"), QColor("#ffffff")), 2) == 4.54  # the usual 4.5:1 grey


def test_focus_is_visible_on_every_kind_of_control():
    from trainer.ui.style import STYLE

    for selector in ("QPushButton:focus", "QListWidget:focus", "QComboBox:focus", "QTableWidget:focus",
                     "QTextBrowser:focus", "QLineEdit:focus", "QTabBar::tab:focus", "QToolButton:focus"):
        assert selector in STYLE, f"no visible focus style for {selector}"
