"""Accessibility helpers (WCAG 2.2 read for desktop software, WCAG2ICT): screen-reader announcements
without flooding, text contrast, and an audit of a page's widget tree that the tests run on every page.

Announcements: Qt's `QAccessibleAnnouncementEvent` (Qt 6.8+) asks the screen reader to speak a message
without moving focus. Patient lines are announced once each, politely; nudges assertively but at most one
per `NUDGE_GAP_S` and never the same text twice in a row, so a screen-reader user hears the patient and
the odd coaching hint, not a stream of alerts.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass

from PySide6.QtGui import QAccessible, QColor, QGuiApplication
from PySide6.QtWidgets import (QAbstractButton, QAbstractItemView, QAbstractSlider, QAbstractSpinBox, QComboBox,
                               QHeaderView, QLabel, QLineEdit, QScrollBar, QTextEdit, QWidget)

NUDGE_GAP_S = 8.0
CONTROL_TYPES = (QAbstractButton, QComboBox, QLineEdit, QAbstractItemView, QAbstractSlider, QAbstractSpinBox,
                 QTextEdit)


def announce(widget: QWidget, text: str, assertive: bool = False) -> bool:
    """Ask the screen reader to speak `text` (no focus change). False when this Qt cannot announce."""
    try:
        from PySide6.QtGui import QAccessibleAnnouncementEvent
    except ImportError:  # Qt before 6.8
        return False
    event = QAccessibleAnnouncementEvent(widget, text)
    if assertive:
        event.setPoliteness(QAccessible.AnnouncementPoliteness.Assertive)
    QAccessible.updateAccessibility(event)
    return True


class Announcer:
    """Rate-limited announcements for one visit window (see the module docstring)."""

    def __init__(self, widget: QWidget, clock=time.monotonic):
        self.widget = widget
        self.clock = clock
        self.spoken: list[str] = []  # what was announced, in order (tests read it)
        self._last_nudge: tuple[float, str] | None = None
        self._lines: set[str] = set()

    def patient_line(self, key: str, name: str, text: str) -> None:
        """A patient (or caregiver) line, once per line id."""
        if key in self._lines:
            return
        self._lines.add(key)
        self._say(f"{name}: {text}", assertive=False)

    def nudge(self, text: str) -> None:
        """A live coaching hint: dropped if another was announced less than NUDGE_GAP_S ago or repeats it."""
        now = self.clock()
        if self._last_nudge is not None:
            at, last = self._last_nudge
            if now - at < NUDGE_GAP_S or last == text:
                return
        self._last_nudge = (now, text)
        self._say(text, assertive=True)

    def _say(self, text: str, assertive: bool) -> None:
        self.spoken.append(text)
        announce(self.widget, text, assertive)


# -- contrast ---------------------------------------------------------------------------------------

def _linear(c: float) -> float:
    c /= 255.0
    return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4


def luminance(color: QColor) -> float:
    """WCAG relative luminance of an opaque colour."""
    return 0.2126 * _linear(color.red()) + 0.7152 * _linear(color.green()) + 0.0722 * _linear(color.blue())


def contrast_ratio(a: QColor, b: QColor) -> float:
    """WCAG contrast ratio, 1 to 21."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


# -- the audit --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Problem:
    widget: str
    what: str

    def __str__(self) -> str:
        return f"{self.widget}: {self.what}"


def describe(w: QWidget) -> str:
    name = w.objectName() or type(w).__name__
    text = getattr(w, "text", None)
    shown = text() if callable(text) else ""
    return f"{type(w).__name__}#{name}" + (f" '{shown[:40]}'" if shown else "")


def visible_widgets(root: QWidget) -> list[QWidget]:
    out = [root] if root.isVisible() else []
    for w in root.findChildren(QWidget):
        if w.isVisible() and w.isVisibleTo(root):
            out.append(w)
    return out


def accessible_text(w: QWidget, which) -> str:
    iface = QAccessible.queryAccessibleInterface(w)
    return (iface.text(which) or "").strip() if iface is not None else ""


def _background_from(image, rect) -> QColor | None:
    """The most frequent colour in rect of the page's picture: the background behind the text."""
    counts: Counter = Counter()
    step = max(1, min(rect.width(), rect.height()) // 12)
    for x in range(rect.left(), rect.right() + 1, step):
        for y in range(rect.top(), rect.bottom() + 1, step):
            if 0 <= x < image.width() and 0 <= y < image.height():
                counts[image.pixel(x, y) & 0xFFFFFF] += 1
    if not counts:
        return None
    rgb = counts.most_common(1)[0][0]
    return QColor((rgb >> 16) & 255, (rgb >> 8) & 255, rgb & 255)


def audit(root: QWidget, min_contrast: float = 4.5) -> list[Problem]:
    """What a screen-reader or low-vision user would trip on in root's visible widget tree:
    - a control (button, list, combo box, field, slider...) without an accessible name or description;
    - a control that cannot be reached with the keyboard (no Tab focus);
    - text whose colour has less than `min_contrast` against the background drawn behind it."""
    problems: list[Problem] = []
    QGuiApplication.processEvents()
    picture = root.grab().toImage()
    for w in visible_widgets(root):
        # Header sections and scroll bars belong to their table or scroll area, which screen readers and the
        # keyboard (arrow keys, Page Up/Down) reach; they are not controls of their own.
        if isinstance(w, CONTROL_TYPES) and w.isEnabled() and not isinstance(w, (QHeaderView, QScrollBar)):
            if not accessible_text(w, QAccessible.Name):
                problems.append(Problem(describe(w), "no accessible name"))
            if not accessible_text(w, QAccessible.Description):
                problems.append(Problem(describe(w), "no accessible description"))
            if not w.focusPolicy() & w.focusPolicy().TabFocus and not w.focusProxy():
                problems.append(Problem(describe(w), "cannot be reached with the Tab key"))
        # WCAG 1.4.3 exempts the text of an inactive (disabled) control from the contrast minimum.
        text = w.text() if isinstance(w, (QLabel, QAbstractButton)) and w.isEnabled() else ""
        if text and w.width() > 2 and w.height() > 2:
            top_left = w.mapTo(root, w.rect().topLeft())
            rect = w.rect().translated(top_left)
            bg = _background_from(picture, rect)
            fg = w.palette().color(w.foregroundRole())
            if bg is not None:
                ratio = contrast_ratio(fg, bg)
                if ratio < min_contrast:
                    problems.append(Problem(describe(w), f"text contrast {ratio:.2f}:1 ({fg.name()} on {bg.name()})"))
    return problems
