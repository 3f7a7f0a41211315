"""French (Canada): the catalogue, and how English text left on a page is found (the page walk itself is
test_ui_accessibility.test_every_page_in_french_is_translated_and_accessible)."""

from __future__ import annotations

import functools
import re

from trainer.core import i18n

# Words that only English text uses (French shares "on", "a", "me"...). A visible string with one of these
# is English that escaped translation.
ENGLISH = {"the", "and", "you", "your", "with", "is", "are", "this", "that", "of", "to", "for", "what", "how",
           "when", "will", "not", "be", "it", "was", "have", "has", "her", "his", "she", "he", "they", "their",
           "from", "at", "by", "or", "no", "yes", "start", "back", "open", "close", "settings", "session",
           "sessions", "visit", "eye", "camera", "talk", "about", "happened", "since", "enough", "judge",
           "measured", "shortest", "wait", "after", "view", "ended", "card"}
# Numbers written the English way: a decimal point ("1.5 s"; versions such as 1.0.3 are data), or an
# ordinary space before a unit or a percent sign (French Canada writes "1,5 s" and "80 %" with a
# non-breaking space).
ENGLISH_NUMBER = re.compile(r"(?<![\w.])\d+\.\d+(?![\w.])|\d (%|s\b(?!'))")
# Text that is the same in both languages or is data, not wording: names, numbers, paths, units.
ALLOWED = re.compile(r"^((<b>)?Video-Visit Trainer.*|[\d\s.,:%/()·–—+-]*(s|min|ms|MB|%)?|/.*|[A-Z]:\\.*|https?://.*)$")


def english_words(text: str) -> set[str]:
    text = re.sub(r"<[^>]+>", " ", text)  # rich-text tags
    text = re.sub(r"\S*[/\\]\S*", " ", text)  # paths and addresses are data
    text = re.sub(r"\S*_\S*", " ", text)  # identifiers (flags, ids) are data
    text = re.sub(r"\b[a-z0-9]+(?:-[a-z0-9]+)+\b", " ", text)  # so are scenario ids (first-checkin)
    text = re.sub(r"\(Error [^)]*\)", " ", text)  # the sound system's own error text, quoted as is
    return {w for w in re.findall(r"\b[A-Za-z']+\b", text.lower()) if w in ENGLISH}


def _around(text: str, words: set[str]) -> str:
    """The part of `text` (tags left out) around its first English word, for a readable failure."""
    plain = re.sub(r"<[^>]+>", " ", text)
    hit = re.search(r"\b(" + "|".join(map(re.escape, sorted(words))) + r")\b", plain, re.I) if words else None
    start = max(0, hit.start() - 40) if hit else 0
    return plain[start:start + 90]


@functools.lru_cache(maxsize=1)
def english_only_content() -> tuple[str, ...]:
    """Titles, summaries and lines of the scenarios that have no French (shown in English, and said so)."""
    from trainer.core.scenario import discover_scenarios
    from trainer.resources import builtin_scenarios_dir

    out = []
    for s in discover_scenarios([builtin_scenarios_dir()])[0]:
        if "fr_CA" not in s.languages:
            out += [s.title, s.summary]
    return tuple(sorted(out, key=len, reverse=True))


def untranslated_words(text: str, where: str = "") -> list[str]:
    """`text` as 'where: text (words)' when it reads as English (after leaving out the English-only
    scenarios' own titles and summaries and data such as paths and numbers), else nothing."""
    for own in english_only_content():
        text = text.replace(own, "")
    numbers = [m.group(0) for m in ENGLISH_NUMBER.finditer(re.sub(r"<[^>]+>", " ", text))] if i18n.is_french() else []
    if numbers:
        return [f"{where}: {text.strip()[:90]!r} (number written the English way: {', '.join(numbers)})"]
    if ALLOWED.match(text.strip()):
        return []
    catalogue = i18n._catalog
    words = english_words(text)
    if words or catalogue.get(text.strip(), text.strip()) != text.strip():
        shown = ", ".join(sorted(words)) or "in the catalogue, not translated where shown"
        return [f"{where}: {_around(text, words)!r} ({shown})"]
    return []


def html_texts(page: str) -> list[str]:
    """The text pieces of an HTML page (between tags; style and script left out)."""
    page = re.sub(r"(?s)<(style|script)[^>]*>.*?</\1>", " ", page)
    return [t.strip() for t in re.split(r"<[^>]+>", page) if t.strip()]


def untranslated_texts(root) -> list[str]:
    """Visible or spoken text under root that reads as English ('where: text (words)')."""
    from ui_pages import texts

    return [hit for where, text in texts(root) for hit in untranslated_words(text, where)]


# The walk through every page in French is in test_ui_accessibility.py (one visit for both checks).


def test_the_catalogue_has_no_stale_placeholders():
    entries = i18n.read_po(i18n.locale_dir() / "fr_CA.po")
    assert len(entries) > 100
    for en, fr in entries.items():
        assert set(re.findall(r"\{\w*\}", en)) == set(re.findall(r"\{\w*\}", fr)), en


def _modal_texts(qtbot, open_it) -> list[tuple[str, str]]:
    """Call `open_it()`, which opens a modal message box, and return the box's texts (it is then closed)."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    from ui_pages import texts

    found: list[tuple[str, str]] = []

    def grab() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(50, grab)
            return
        found.extend(texts(box))
        box.done(0)
    QTimer.singleShot(50, grab)
    open_it()
    qtbot.waitUntil(lambda: bool(found), timeout=20000)
    return found


def test_a_session_recorded_in_english_reads_in_french(qtbot, tmp_path, fixtures):
    """A session stored in English (by the command line, or by the app in English) and read in French: the
    summary's rubric checks and measures, the notices the visit raised (a file camera and microphone end
    mid-visit), the replay timeline's tooltips, the report with a scenario's own rating word, a message box
    and the calibration dialog are all French, with numbers written the French way."""
    import time

    from conftest import settle

    from trainer.core.scenario import load_scenario
    from trainer.resources import builtin_scenarios_dir
    from trainer.store.db import SessionStore
    from trainer.store.report import report_data, report_html
    from trainer.ui.app import apply_language
    from trainer.ui.main_window import MainWindow
    from trainer.visit import VisitRunner

    store = SessionStore(tmp_path / "s.db")
    clip = str(fixtures("video/talking_nods.mp4"))  # 6.6 s: camera and microphone end during the visit
    apply_language("en")
    runner = VisitRunner(load_scenario(builtin_scenarios_dir() / "first_checkin.yaml"), store, camera=clip,
                         mic=clip, realtime=False, sound_output=False, calibration=None, learner="Amal")
    sid = runner.start()
    time.sleep(4)
    runner.override("skip")  # a facilitator's override, on the timeline
    time.sleep(5)
    runner.end()
    store.set_rating(sid, "open_questions", "one open question", "Dr Facil")
    events = store.events(sid)
    stored = [e["data"] for e in events if e["kind"] == "notice"]
    assert any("signal since" in n["message"] for n in stored), stored  # stored in English...
    checks = [c for e in events if e["kind"] == "visit_end" for r in e["data"]["rubric"] for c in r["evidence"]]
    assert any(c["check"].endswith(" happened") for c in checks), checks

    english: list[str] = []
    apply_language("fr_CA")
    try:
        window = MainWindow(camera=str(fixtures("video/steady_a.mp4")), mic=None, store=store)
        qtbot.addWidget(window)
        window.resize(1280, 800)
        window.show()
        window.show_summary(sid)
        settle(qtbot, window)
        window.summary_page.skip_button.click()
        settle(qtbot, window)
        summary = window.summary_page.learner_text()
        assert "Aucun signal" in summary and "s'est produit" in summary  # ...read in French
        english += [f"summary / {t}" for t in untranslated_texts(window)]

        window.show_replay(sid)
        qtbot.waitUntil(lambda: window.replay_page is not None, timeout=60000)
        tips = window.replay_page.lanes.tips()
        assert any("Aucun signal" in t for t in tips) and any("animateur : " in t for t in tips), tips
        english += [f"replay / {t}" for t in untranslated_texts(window)]
        report = report_html(report_data(store, sid))
        assert "une question ouverte" in report  # the scenario's own French rating word
        english += [hit for text in html_texts(report) for hit in untranslated_words(text, "report")]

        qtbot.waitUntil(lambda: window.scenarios_ready, timeout=60000)
        box = _modal_texts(qtbot, lambda: window.start_visit_by_ref("no-such-visit"))
        assert any("no-such-visit" in t for _w, t in box), box
        english += [hit for where, t in box for hit in untranslated_words(t, "message box / " + where)]

        window.show_scenarios()
        window.scenario_page.calibrate_button.click()
        dialog = window.calibration_dialog
        qtbot.waitUntil(lambda: dialog.result_text is not None, timeout=90000)
        assert re.search(r"séparation : \d+,\d fois l'écart-type", dialog.result_text)  # the fit's refusal, its figure
        english += [f"calibration / {t}" for t in untranslated_texts(dialog)]
        dialog.close()
        window.close()
    finally:
        apply_language("en")
    assert not english, "untranslated text in French:\n" + "\n".join(english)
