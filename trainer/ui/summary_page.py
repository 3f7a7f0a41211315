"""Page 3: the summary that teaches (core.debrief, read back from the session store).

First a short self-reflection (what went well, what would you do differently), saved with the session
and skippable; then the moments to look at, what to try next time, each measure with its coverage and
reference band, and the behaviours the visit practised. A session whose reflection was saved or skipped
opens straight on the results (from Past sessions). Facilitators' notes and ratings follow, beside the
measures and labelled as theirs; the page refreshes itself when one is added (MainWindow listens to the store).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QStackedWidget, QTextBrowser,
                               QVBoxLayout, QWidget)

from trainer.core.i18n import N_, _

_VERDICT = {"within": N_("within the usual range"), "above": N_("above the usual range"),
            "below": N_("below the usual range")}


def _esc(text: str) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def debrief_html(d: dict, feedback: bool = True) -> str:
    """The results part of the summary as rich text (the page shows it; tests scan it)."""
    parts = []
    if d.get("reflection") and not d["reflection"].get("skipped"):
        r = d["reflection"]
        parts.append(f"<h3>{_('Your reflection')}</h3>")
        if r.get("went_well"):
            parts.append(f"<p><b>{_('What went well:')}</b> {_esc(r['went_well'])}</p>")
        if r.get("differently"):
            parts.append(f"<p><b>{_('What you would do differently:')}</b> {_esc(r['differently'])}</p>")
    if not feedback:
        parts.append("<p><i>" + _("Feedback is turned off by your site's policy; your facilitator can review "
                                  "this session.") + "</i></p>")
        parts.append(facilitator_html(d.get("facilitator") or {}))
        return "".join(parts)
    if d.get("moments"):
        parts.append(f"<h3>{_('Moments to look at')}</h3><table cellpadding='4'>")
        for mo in d["moments"]:
            parts.append(f"<tr><td valign='top'><b>{mo['time']}</b></td><td>{_esc(mo['text'])}</td></tr>")
        parts.append("</table>")
    if d.get("try_next"):
        parts.append(f"<h3>{_('Try next time')}</h3><ul>" + "".join(f"<li>{_esc(t)}</li>" for t in d["try_next"]) + "</ul>")
    parts.append(f"<h3>{_('Your measures')}</h3><table cellpadding='4' cellspacing='0' width='100%'>"
                 f"<tr><th align='left'>{_('Measure')}</th><th align='left'>{_('You')}</th>"
                 f"<th align='left'>{_('For reference')}</th></tr>")
    for m in d.get("measures") or ():
        value = f"<b>{_esc(m['value'])}</b>"
        if m.get("coverage"):
            value += f"<br><small>{_esc(m['coverage'])}</small>"
        ref = ""
        if m.get("band"):
            b = m["band"]
            verdict = _(_VERDICT[b["verdict"]]) if b.get("verdict") in _VERDICT else None
            ref = (f"{_esc(b['text'])} <small>({_esc(b['source'])})</small>" +
                   (f"<br><b>{_('You: {verdict}.').format(verdict=verdict)}</b>" if verdict else ""))
        parts.append(f"<tr><td valign='top'>{_esc(m['label'])}</td><td valign='top'>{value}</td>"
                     f"<td valign='top'>{ref}</td></tr>")
    parts.append("</table>")
    words = d.get("words")
    if words:
        parts.append(f"<h3>{_esc(_('What you said'))}</h3><ul>")
        parts.extend(f"<li>{_esc(c['label'])}: <b>{c['value']}</b></li>" for c in words["counts"])
        parts.append("</ul>")
        if words["jargon"]:
            parts.append(f"<p><b>{_esc(_('Words to say more simply'))}</b></p><ul>")
            parts.extend(f"<li>{_esc(j['advice'])} <small>({_esc(j['why'])})</small></li>" for j in words["jargon"])
            parts.append("</ul>")
        if words["said"]:
            parts.append("<table cellpadding='3'>")
            for u in words["said"]:
                labels = f"<br><small>{_esc(', '.join(u['labels']))}</small>" if u["labels"] else ""
                parts.append(f"<tr><td valign='top'><b>{u['time']}</b></td><td>“{_esc(u['text'])}”{labels}</td></tr>")
            parts.append("</table>")
        parts.extend(f"<p><small>{_esc(n)}</small></p>" for n in words["notes"])
    if d.get("behaviours"):
        parts.append(f"<h3>{_('The behaviours this visit practised')}</h3><ul>")
        for b in d["behaviours"]:
            checks = "".join(f"<br><small>{_esc(c)}</small>" for c in b.get("checks") or ())
            parts.append("<li>" + _("{name}: {status}").format(name=f"<b>{_esc(b['name'])}</b>",
                                                              status=_esc(b["status"])) + f"{checks}</li>")
        parts.append("</ul>")
    parts.append(facilitator_html(d.get("facilitator") or {}))
    return "".join(parts)


def facilitator_html(f: dict) -> str:
    """The facilitators' notes and ratings (core.debrief.facilitator_part), after the app's measures and
    marked as a person's view; empty when there are none."""
    notes, ratings = f.get("notes") or [], f.get("ratings") or []
    if not notes and not ratings:
        return ""
    parts = [f"<h3>{_esc(_('From your facilitator'))}</h3>",
             f"<p><small>{_esc(_('A facilitator’s notes and ratings, beside the measures above; they do not change them.'))}</small></p>"]
    if ratings:
        parts.append(f"<table cellpadding='4' cellspacing='0' width='100%'><tr><th align='left'>{_esc(_('Behaviour'))}"
                     f"</th><th align='left'>{_esc(_('Rating'))}</th><th align='left'>{_esc(_('Comment'))}</th>"
                     f"<th align='left'>{_esc(_('By'))}</th></tr>")
        for r in ratings:
            parts.append(f"<tr><td valign='top'>{_esc(r['name'])}</td><td valign='top'><b>{_esc(r['level'])}</b></td>"
                         f"<td valign='top'>{_esc(r['comment'])}</td><td valign='top'>{_esc(r['author'])}</td></tr>")
        parts.append("</table>")
    if notes:
        parts.append(f"<p><b>{_esc(_('Notes'))}</b></p><table cellpadding='4'>")
        for n in notes:
            parts.append(f"<tr><td valign='top'><b>{n['time']}</b></td><td valign='top'>{_esc(n['author'])}</td>"
                         f"<td>{_esc(n['text'])}</td></tr>")
        parts.append("</table>")
    return "".join(parts)


class SummaryPage(QWidget):
    back_requested = Signal()
    history_requested = Signal()
    replay_requested = Signal(int)  # session id
    reflection_saved = Signal(int, dict)  # session id, {"went_well", "differently"} or {"skipped": True}

    def __init__(self, parent=None):
        super().__init__(parent)
        self.session_id: int | None = None
        self.debrief: dict = {}
        self.feedback = True
        self.title = QLabel()
        self.title.setObjectName("pageTitle")
        self.title.setWordWrap(True)
        self.subtitle = QLabel()
        self.subtitle.setWordWrap(True)
        self.notices = QLabel()
        self.notices.setWordWrap(True)
        self.notices.setObjectName("noticeBox")
        self.notices.hide()

        # Step 1: the reflection, before any number is shown.
        self.reflect = QWidget()
        intro = QLabel(_("Before you see how it went: take a minute to reflect. Your answers are saved with "
                         "this session, only on this computer."))
        intro.setWordWrap(True)
        intro.setObjectName("instruction")
        self.went_well = QPlainTextEdit()
        self.went_well.setPlaceholderText(_("What went well?"))
        self.went_well.setAccessibleName(_("What went well?"))
        self.went_well.setAccessibleDescription(_("Your own words; Tab moves on."))
        self.differently = QPlainTextEdit()
        self.differently.setPlaceholderText(_("What would you do differently next time?"))
        self.differently.setAccessibleName(_("What would you do differently next time?"))
        self.differently.setAccessibleDescription(_("Your own words; Tab moves on."))
        for edit in (self.went_well, self.differently):
            edit.setTabChangesFocus(True)
            edit.setMinimumHeight(60)
        l1 = QLabel(_("What went well?"))
        l1.setBuddy(self.went_well)
        l2 = QLabel(_("What would you do differently next time?"))
        l2.setBuddy(self.differently)
        self.skip_button = QPushButton(_("Skip"))
        self.skip_button.setAccessibleDescription(_("Show the results without a reflection."))
        self.skip_button.clicked.connect(lambda: self._reflected(skipped=True))
        self.save_button = QPushButton(_("Save and show how it went"))
        self.save_button.setAccessibleDescription(_("Save your reflection with this session and show the results."))
        self.save_button.setObjectName("primary")
        self.save_button.clicked.connect(lambda: self._reflected(skipped=False))
        rb = QHBoxLayout()
        rb.addStretch(1)
        rb.addWidget(self.skip_button)
        rb.addWidget(self.save_button)
        rl = QVBoxLayout(self.reflect)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(intro)
        rl.addWidget(l1)
        rl.addWidget(self.went_well, 1)
        rl.addWidget(l2)
        rl.addWidget(self.differently, 1)
        rl.addLayout(rb)

        # Step 2: the results.
        self.results = QTextBrowser()
        self.results.setOpenExternalLinks(False)
        self.results.setMinimumHeight(120)
        self.results.setAccessibleName(_("How the visit went"))
        self.results.setAccessibleDescription(_("Moments to look at, what to try next time, your measures and "
                                                "the behaviours the visit practised."))
        self.steps = QStackedWidget()
        self.steps.addWidget(self.reflect)
        self.steps.addWidget(self.results)

        back = QPushButton(_("Choose another visit"))
        back.setAccessibleDescription(_("Return to the list of scenarios."))
        back.setObjectName("primary")
        back.clicked.connect(self.back_requested)
        hist = QPushButton(_("Past sessions"))
        hist.setAccessibleDescription(_("Your earlier sessions and their summaries (Ctrl+H)."))
        hist.clicked.connect(self.history_requested)
        self.replay_button = QPushButton(_("Replay this visit"))
        self.replay_button.setToolTip(_("Play the visit back on its timeline, with the moments marked"))
        self.replay_button.clicked.connect(
            lambda: self.session_id is not None and self.replay_requested.emit(self.session_id))
        self.buttons = QWidget()
        buttons = QHBoxLayout(self.buttons)
        buttons.setContentsMargins(0, 0, 0, 0)
        buttons.addWidget(hist)
        buttons.addWidget(self.replay_button)
        buttons.addStretch(1)
        buttons.addWidget(back)
        lay = QVBoxLayout(self)
        lay.addWidget(self.title)
        lay.addWidget(self.subtitle)
        lay.addWidget(self.notices)
        lay.addWidget(self.steps, 1)
        lay.addWidget(self.buttons)
        self.back_button = back

    def show_debrief(self, session_id: int, debrief: dict, feedback: bool = True) -> None:
        """Show a session's teaching summary; ask for the reflection first if it has not been given."""
        self.session_id, self.debrief, self.feedback = session_id, debrief, feedback
        self.title.setText(_("How the visit went: {title}").format(title=debrief.get("title", "")))
        who = f"{debrief['learner']} · " if debrief.get("learner") else ""
        self.subtitle.setText(who + _("{length} long.").format(length=debrief.get("length", "")) + " " +
                              debrief.get("status", ""))
        notices = debrief.get("notices") or []
        self.notices.setText(f"<b>{_('During the visit:')}</b><br>" + "<br>".join(_esc(_(n)) for n in notices))
        self.notices.setVisible(bool(notices))
        if debrief.get("reflection") is None:
            self.went_well.clear()
            self.differently.clear()
            self.steps.setCurrentWidget(self.reflect)
            self.buttons.hide()
            self.went_well.setFocus()
        else:
            self._show_results()

    def refresh(self, debrief: dict) -> None:
        """The same session read again (a note or rating was added): keep the step the learner is on (and
        anything typed into the reflection), update the results."""
        reflection = self.debrief.get("reflection")
        self.debrief = {**debrief, "reflection": reflection if reflection is not None else debrief.get("reflection")}
        if self.showing_results:
            bar = self.results.verticalScrollBar()
            at = bar.value()
            self.results.setHtml(debrief_html(self.debrief, self.feedback))
            bar.setValue(at)

    def _reflected(self, skipped: bool) -> None:
        reflection = {"skipped": True} if skipped else {
            "went_well": self.went_well.toPlainText().strip(), "differently": self.differently.toPlainText().strip()}
        self.debrief["reflection"] = reflection
        if self.session_id is not None:
            self.reflection_saved.emit(self.session_id, reflection)
        self._show_results()

    def _show_results(self) -> None:
        self.results.setHtml(debrief_html(self.debrief, self.feedback))
        self.steps.setCurrentWidget(self.results)
        self.buttons.show()
        self.back_button.setFocus()

    def learner_text(self) -> str:
        """Everything this page shows a learner as plain text (tests scan it for internal ids)."""
        notices = self.notices.text() if not self.notices.isHidden() else ""
        return "\n".join([self.title.text(), self.subtitle.text(), notices, self.results.toPlainText()])

    @property
    def showing_results(self) -> bool:
        return self.steps.currentWidget() is self.results
