"""Writes a session report (trainer.store.report) to PDF with Qt: the text through QTextDocument, the
timeline drawn with QPainter from the same lanes and fills as the HTML report's SVG. A4, 1-2 pages."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QMarginsF, QPointF, QRectF, QSizeF, Qt
from PySide6.QtGui import QColor, QFont, QGuiApplication, QPageLayout, QPageSize, QPainter, QPdfWriter, QPen, QTextDocument

from trainer.core.i18n import _
from trainer.core.visit_state import clock_text
from trainer.store.report import FILLS, GAP_FILL, LEGEND, ReportData, report_html, report_title


def paint_timeline(p: QPainter, rect: QRectF, timeline, font: QFont) -> None:
    """Draw the lanes into `rect` (the figure of the report), greys only."""
    lanes = timeline.lanes
    lane_h = rect.height() / (len(lanes) + 1)
    label_w = rect.width() * 0.2  # room for the longest lane name in French ("Notes de l'animateur")
    plot_w = rect.width() - label_w - 4
    dur = max(1e-6, timeline.duration_s)

    def x(t: float) -> float:
        return rect.left() + label_w + plot_w * max(0.0, min(1.0, t / dur))

    p.setFont(font)
    step = 60 if dur > 150 else 15
    t = 0.0
    while t <= dur + 1e-6:
        p.setPen(QPen(QColor("#bbbbbb"), 0))
        p.drawLine(QPointF(x(t), rect.top() + lane_h * 0.7), QPointF(x(t), rect.bottom()))
        p.setPen(QColor("#000000"))
        p.drawText(QPointF(x(t) + 2, rect.top() + lane_h * 0.6), clock_text(t))
        t += step
    for i, lane in enumerate(lanes):
        y = rect.top() + lane_h * (i + 1)
        p.setPen(QColor("#000000"))
        p.drawText(QRectF(rect.left(), y, label_w - 4, lane_h), Qt.AlignVCenter | Qt.AlignLeft, _(lane.name))
        p.setPen(QPen(QColor("#999999"), 0))
        p.setBrush(Qt.NoBrush)
        p.drawRect(QRectF(rect.left() + label_w, y + lane_h * 0.1, plot_w, lane_h * 0.8))
        for a, b, label in lane.spans:
            fill = GAP_FILL if label.startswith("no ") else FILLS.get(label, "#606060")
            p.fillRect(QRectF(x(a), y + lane_h * 0.2, max(x(b) - x(a), 0.8), lane_h * 0.6), QColor(fill))
        if lane.values:
            p.setPen(QPen(QColor("#000000"), lane_h * 0.05))
            pts = [QPointF(x(t), y + lane_h * 0.85 - v * lane_h * 0.7) for t, v in lane.values]
            for a, b in zip(pts, pts[1:]):
                p.drawLine(a, b)
        p.setPen(QPen(QColor("#000000"), max(1.0, lane_h * 0.08)))
        for t, _label in lane.marks:
            p.drawLine(QPointF(x(t), y + lane_h * 0.15), QPointF(x(t), y + lane_h * 0.85))


def write_report(store, session_id: int, out: str | Path, include_reflection: bool = True) -> Path:
    """Write the session's report as PDF or HTML, by the extension of `out` (.pdf, .html/.htm)."""
    from trainer.store.report import report_data

    check_report_path(out)
    if QGuiApplication.instance() is None:  # from the command line: Qt's painter needs an application, no screen
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        write_report._app = QGuiApplication([])  # kept alive for the process
    return write_report_data(report_data(store, session_id, include_reflection=include_reflection), out)


def check_report_path(out: str | Path) -> None:
    """Raise StoreError unless `out` names a .pdf or .html/.htm file."""
    from trainer.core.errors import StoreError

    if Path(out).suffix.lower() not in (".pdf", ".html", ".htm"):
        raise StoreError(f"A report is written as .pdf or .html, not '{Path(out).suffix or Path(out).name}'.")


def write_report_data(data: ReportData, out: str | Path) -> Path:
    """Write gathered report data (store.report.report_data, which the app reads off the main thread) as PDF
    or HTML, by the extension of `out`."""
    check_report_path(out)
    out = Path(out)
    if out.suffix.lower() in (".html", ".htm"):
        out.write_text(report_html(data), encoding="utf-8")
        return out
    return write_pdf(data, out)


def write_pdf(data: ReportData, out: str | Path) -> Path:
    """Write the report as an A4 PDF; returns its path."""
    out = Path(out)
    writer = QPdfWriter(str(out))
    writer.setPageLayout(QPageLayout(QPageSize(QPageSize.A4), QPageLayout.Portrait, QMarginsF(15, 15, 15, 15),
                                     QPageLayout.Millimeter))
    writer.setResolution(300)
    writer.setTitle(_("Visit report — {title}").format(title=report_title(data)))
    page = QRectF(writer.pageLayout().paintRectPixels(writer.resolution()))
    page.moveTo(0, 0)
    p = QPainter(writer)
    try:
        # Page 1: heading and measures (the HTML up to the timeline), then the figure.
        u = page.width() / 180.0  # device pixels per millimetre of the printed width
        css = (f"body{{font-size:{3.6 * u:.0f}px}} h1{{font-size:{6 * u:.0f}px}} "
               f"h2{{font-size:{4.4 * u:.0f}px;margin-top:{2 * u:.0f}px}} .meta{{font-size:{3 * u:.0f}px}} "
               f"td,th{{padding:{0.6 * u:.0f}px {1.5 * u:.0f}px}}")
        html = report_html(data, with_svg=False, css=css)
        head, _sep, rest = html.partition("<h2>Moments</h2>")
        doc = _doc(head + "</body></html>", page.width())
        doc.setDocumentMargin(0)
        doc.drawContents(p, QRectF(0, 0, page.width(), page.height()))
        top = min(doc.size().height() + 6 * u, page.height() * 0.62)
        font = QFont("sans-serif")
        font.setPixelSize(int(3.2 * u))
        fig = QRectF(0, top + 3 * u, page.width(), page.height() * 0.3)
        heading = QFont("sans-serif")
        heading.setPixelSize(int(4.4 * u))
        heading.setBold(True)
        p.setFont(heading)
        p.drawText(QPointF(0, top), _("Timeline"))
        paint_timeline(p, fig, data.timeline, font)
        legend = _doc(f"<p style='font-size:{3 * u:.0f}px'>{_(LEGEND)}</p>", page.width())
        p.save()
        p.translate(0, fig.bottom() + 10)
        legend.drawContents(p)
        p.restore()
        # Page 2 (and on, if long): moments, reflection, notes, ratings.
        doc2 = _doc(html[: html.index("<body>") + 6] + "<h2>Moments</h2>" + rest, page.width())
        doc2.setPageSize(QSizeF(page.width(), page.height()))
        for i in range(doc2.pageCount()):
            writer.newPage()
            p.save()
            p.translate(0, -i * page.height())
            doc2.drawContents(p, QRectF(0, i * page.height(), page.width(), page.height()))
            p.restore()
    finally:
        p.end()
    return out


def _doc(html: str, width: float) -> QTextDocument:
    doc = QTextDocument()
    font = QFont("sans-serif")
    font.setPixelSize(int(width * 0.016))
    doc.setDefaultFont(font)
    doc.setTextWidth(width)
    doc.setHtml(html)
    return doc
