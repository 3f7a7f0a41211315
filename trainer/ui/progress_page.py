"""The progress page: one small chart per measure across a learner's sessions (reference band shaded),
and a dot row per behaviour (shown / not shown), filterable by learner and visit. The figures are
core.progress's (SessionStore.progress), the same `trainer progress --json` prints. Below them, apart and
labelled as a person's view, the facilitators' ratings per session and how many notes each session has."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import (QComboBox, QGridLayout, QHBoxLayout, QLabel, QPushButton, QScrollArea, QSizePolicy,
                               QVBoxLayout, QWidget)

from trainer.core.debrief import value_text
from trainer.core.i18n import _, percent

ALL = "\x00all"


class TrendChart(QWidget):
    """A line of one measure's values over sessions; None values leave a gap; the band is shaded."""

    def __init__(self, series: dict, parent=None):
        super().__init__(parent)
        self.series = series
        self.setMinimumSize(240, 130)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        values = [v for v in series["values"] if v is not None]
        last = next((v for v in reversed(series["values"]) if v is not None), None)
        label = _(series["label"])
        self.setAccessibleName(_("{label}: latest {value}").format(
            label=label, value=value_text(series["id"], {"value": last, "measured_s": 1})) if last is not None else
            _("{label}: not enough to judge yet").format(label=label))
        self.setAccessibleDescription(_("A chart of this measure across the sessions, oldest on the left."))
        self._values = values

    def _scale(self) -> tuple[float, float]:
        s = self.series
        if s["unit"] == "ratio":
            return 0.0, 1.0
        top = max([v for v in s["values"] if v is not None] or [1.0])
        return 0.0, max(1.0, top * 1.2)

    def paintEvent(self, _event) -> None:
        s = self.series
        p = QPainter(self)
        p.setRenderHint(QPainter.Antialiasing)
        fm = p.fontMetrics()
        title_h = fm.height() + 4
        p.setPen(QColor("#1e2329"))
        p.drawText(QRectF(0, 0, self.width(), title_h), Qt.AlignLeft | Qt.AlignVCenter, _(s["label"]))
        axis_w = fm.horizontalAdvance("100%") + 6
        area = QRectF(axis_w + 4, title_h + 4, self.width() - axis_w - 12, self.height() - title_h - 14)
        p.fillRect(area, QColor("#ffffff"))
        lo, hi = self._scale()

        def y(v: float) -> float:
            return area.bottom() - (v - lo) / (hi - lo) * area.height()

        band = s.get("band")
        if band:
            p.fillRect(QRectF(area.left(), y(band["high"]), area.width(), y(band["low"]) - y(band["high"])),
                       QColor(76, 195, 138, 60))
        p.setPen(QPen(QColor("#c9d1db"), 1))
        p.drawRect(area)
        p.setPen(QColor("#555"))
        for v in (lo, hi):
            text = percent(v) if s["unit"] == "ratio" else f"{v:.0f}"
            p.drawText(QRectF(0, y(v) - fm.height() / 2, axis_w, fm.height()), Qt.AlignRight | Qt.AlignVCenter, text)
        n = len(s["values"])
        xs = [area.left() + (area.width() * (i + 0.5) / n) for i in range(n)]
        path, started = QPainterPath(), False
        for x, v in zip(xs, s["values"]):
            if v is None:
                started = False
                continue
            pt = QPointF(x, y(v))
            path.lineTo(pt) if started else path.moveTo(pt)
            started = True
        p.setPen(QPen(QColor("#2d6cdf"), 2))
        p.drawPath(path)
        for x, v in zip(xs, s["values"]):
            if v is None:
                p.setPen(QPen(QColor("#999"), 1, Qt.DashLine))
                p.drawLine(QPointF(x, area.top() + 4), QPointF(x, area.bottom() - 4))
            else:
                p.setPen(Qt.NoPen)
                p.setBrush(QColor("#2d6cdf"))
                p.drawEllipse(QPointF(x, y(v)), 4, 4)
        p.end()


class BehaviourDots(QWidget):
    """One row per behaviour: a filled dot where a session showed it, an open one where it did not."""

    def __init__(self, behaviours: list[dict], sessions: int, parent=None):
        super().__init__(parent)
        self.behaviours, self.sessions = behaviours, sessions
        self.setMinimumHeight(24 * max(1, len(behaviours)) + 8)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Minimum)

    def paintEvent(self, _event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.Antialiasing)
        label_w = min(self.width() // 2, 320)
        n = max(1, self.sessions)
        for row, b in enumerate(self.behaviours):
            top = 4 + row * 24
            p.setPen(QColor("#1e2329"))
            p.drawText(QRectF(0, top, label_w - 8, 22), Qt.AlignLeft | Qt.AlignVCenter,
                       p.fontMetrics().elidedText(_(b["label"]), Qt.ElideRight, label_w - 8))
            for i, shown in enumerate(b["shown"]):
                c = QPointF(label_w + (self.width() - label_w) * (i + 0.5) / n, top + 11)
                if shown is None:
                    p.setPen(QPen(QColor("#bbb"), 1))
                    p.setBrush(Qt.NoBrush)
                    p.drawLine(c - QPointF(4, 0), c + QPointF(4, 0))
                else:
                    p.setPen(QPen(QColor("#1d7a46"), 2))
                    p.setBrush(QColor("#1d7a46") if shown else Qt.NoBrush)
                    p.drawEllipse(c, 6, 6)
        p.end()


class ProgressPage(QWidget):
    back_requested = Signal()
    filters_changed = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.data: dict = {}
        title = QLabel(_("Progress"))
        title.setObjectName("pageTitle")
        self.learner_filter = QComboBox()
        self.learner_filter.setAccessibleName(_("Learner"))
        self.learner_filter.setAccessibleDescription(_("Whose sessions the charts show."))
        self.scenario_filter = QComboBox()
        self.scenario_filter.setAccessibleName(_("Visit"))
        self.scenario_filter.setAccessibleDescription(_("Which visit's sessions the charts show."))
        filters = QHBoxLayout()
        for text, box in ((_("Learner:"), self.learner_filter), (_("Visit:"), self.scenario_filter)):
            lab = QLabel(text)
            lab.setBuddy(box)
            box.setSizeAdjustPolicy(QComboBox.AdjustToContents)
            box.currentIndexChanged.connect(lambda _i: self.filters_changed.emit())
            filters.addWidget(lab)
            filters.addWidget(box)
        filters.addStretch(1)
        self.caption = QLabel()
        self.caption.setObjectName("hint")
        self.caption.setWordWrap(True)
        self.body = QWidget()
        self.grid = QGridLayout(self.body)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.NoFrame)
        scroll.setWidget(self.body)
        back = QPushButton(_("Back to past sessions"))
        back.setAccessibleDescription(_("Return to the list of past sessions."))
        back.clicked.connect(self.back_requested)
        buttons = QHBoxLayout()
        buttons.addWidget(back)
        buttons.addStretch(1)
        lay = QVBoxLayout(self)
        lay.addWidget(title)
        lay.addLayout(filters)
        lay.addWidget(self.caption)
        lay.addWidget(scroll, 1)
        lay.addLayout(buttons)
        self.back_button = back

    def set_filters(self, learners: list[str], scenarios: list[tuple[str, str]], learner: str | None,
                    scenario: str | None) -> None:
        """Fill the learner and visit filters ((id, title) pairs) without emitting filters_changed."""
        for box in (self.learner_filter, self.scenario_filter):
            box.blockSignals(True)
            box.clear()
        self.learner_filter.addItem(_("Everyone"), ALL)
        for name in learners:
            self.learner_filter.addItem(name or _("(no name)"), name)
        self.scenario_filter.addItem(_("Every visit"), ALL)
        for sid, title in scenarios:
            self.scenario_filter.addItem(title, sid)
        for box, value in ((self.learner_filter, learner), (self.scenario_filter, scenario)):
            i = box.findData(value if value is not None else ALL)
            box.setCurrentIndex(max(0, i))
            box.blockSignals(False)

    def learner(self) -> str | None:
        v = self.learner_filter.currentData()
        return None if v in (None, ALL) else v

    def scenario(self) -> str | None:
        v = self.scenario_filter.currentData()
        return None if v in (None, ALL) else v

    def show_progress(self, data: dict) -> None:
        """Draw core.progress output."""
        self.data = data
        while self.grid.count():
            w = self.grid.takeAt(0).widget()
            if w is not None:
                w.deleteLater()
        n = len(data.get("sessions") or ())
        if n == 0:
            self.caption.setText(_("No sessions of at least half a minute yet. Finished visits appear here."))
            return
        first, last = data["sessions"][0]["started_at"][:10], data["sessions"][-1]["started_at"][:10]
        self.caption.setText((_("1 session on {first}, oldest on the left.") if n == 1 else
                              _("{n} sessions from {first} to {last}, oldest on the left.")).format(
            n=n, first=first, last=last) + " " +
            _("Green bands: the usual range in published visit studies (sources in the summary). "
              "A dashed line: not enough to judge in that session."))
        for i, series in enumerate(data["measures"]):
            self.grid.addWidget(TrendChart(series), i // 2, i % 2)
        row = (len(data["measures"]) + 1) // 2
        if data.get("behaviours"):
            head = QLabel(_("<b>Behaviours</b> (filled: shown, open: not shown, dash: not measurable)"))
            self.grid.addWidget(head, row, 0, 1, 2)
            self.grid.addWidget(BehaviourDots(data["behaviours"], n), row + 1, 0, 1, 2)
            row += 2
        if data.get("ratings") or any(data.get("notes") or ()):
            self.facilitator = QLabel(facilitator_table(data))
            self.facilitator.setWordWrap(True)
            self.facilitator.setTextFormat(Qt.RichText)
            self.facilitator.setAccessibleName(_("Facilitators’ ratings and notes"))
            self.grid.addWidget(self.facilitator, row, 0, 1, 2)


def facilitator_table(data: dict) -> str:
    """core.progress's `ratings` and `notes` as a table: one row per rated behaviour, one column per session
    (oldest first, as the charts), "—" where a session was not rated."""
    from html import escape

    sessions = data.get("sessions") or []
    head = "".join(f"<th>{escape(s['started_at'][5:10])}</th>" for s in sessions)
    rows = [f"<tr><td>{escape(r['label'])}</td>" + "".join(f"<td>{escape(v) if v else '—'}</td>" for v in r["levels"])
            + "</tr>" for r in data.get("ratings") or ()]
    rows.append(f"<tr><td>{escape(_('Notes'))}</td>" + "".join(f"<td>{n}</td>" for n in data.get("notes") or ())
                + "</tr>")
    return (f"<b>{escape(_('Facilitators’ ratings and notes'))}</b> "
            f"({escape(_('a person’s view, beside the measures above; they do not change them'))})"
            f"<table cellpadding='3' border='1' cellspacing='0'><tr><th align='left'>{escape(_('Behaviour'))}</th>"
            f"{head}</tr>{''.join(rows)}</table>")
