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
           "sessions", "visit", "eye", "camera", "talk", "about"}
# Text that is the same in both languages or is data, not wording: names, numbers, paths, units.
ALLOWED = re.compile(r"^((<b>)?Video-Visit Trainer.*|[\d\s.,:%/()·–—+-]*(s|min|ms|MB|%)?|/.*|[A-Z]:\\.*|https?://.*)$")


def english_words(text: str) -> set[str]:
    text = re.sub(r"<[^>]+>", " ", text)  # rich-text tags
    text = re.sub(r"\S*[/\\]\S*", " ", text)  # paths and addresses are data
    text = re.sub(r"\S*_\S*", " ", text)  # identifiers (flags, ids) are data
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
