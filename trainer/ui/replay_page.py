"""The replay page: a stored session played back on the session clock, for debriefs.

    +---------------------------------------------------+------------------+
    | the call window as it was at the playhead          | moments          |
    | (VisitPage in replay mode: patient re-enacting     | (click to jump)  |
    |  each line, turn prompt, cards, panels; the        | patient's lines  |
    |  recorded self-view frame, if the learner recorded)|                  |
    +---------------------------------------------------+------------------+
    | timeline: lanes for gaze, expressivity, smile, nods, talk (interruptions), cues,     |
    | cards/actions/overrides, notices and gaps; moments as flags; the playhead            |
    +--------------------------------------------------------------------------------------+
    | [Play] [-10 s] [-1 s]  1:23 / 6:02  [+1 s] [+10 s]  speed        [Back]              |

Keyboard: Space play/pause, Left/Right 1 s, Shift+Left/Right 10 s, Home/End, Page Up/Page Down the
previous/next moment, Escape back. The timeline takes clicks and drags. Everything shown is computed from
the stored session by trainer.store.timeline and trainer.core.replay; this page only draws it.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QKeySequence, QPainter, QPen, QPixmap, QShortcut
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QLineEdit, QListWidget, QListWidgetItem,
                               QPushButton, QSplitter, QVBoxLayout, QWidget)

from trainer.core.i18n import _, localized, number, seconds
from trainer.core.visit_state import clock_text
from trainer.store.timeline import NOTES_LANE, notes_lane
from trainer.ui.visit_page import VisitPage

LANE_H = 20
REPLAY_VIEW_W, REPLAY_VIEW_H = 320, 240  # the recorded self-view: larger than live, it is what is watched
LABEL_W = 118
GAZE_COLOURS = {"camera": "#2e9e62", "screen": "#7cc59b", "away": "#d9822b", "unknown": "#9aa3ad",
                "absent": "#c94b4b"}
MARK_COLOURS = {"interruption": "#d93b3b", "nod": "#2d6cdf", "face responded": "#2e9e62",
                "no visible response": "#d9822b", "face not seen": "#9aa3ad"}


def _scenario_title(scenario, stored: str) -> str:
    """The scenario's title in the app's language when the stored title is the scenario's own."""
    return localized(scenario, "title") if scenario is not None and scenario.title == stored else stored


class TimelineView(QWidget):
    """Lanes of a Timeline with a playhead; click or drag to seek (emits `seek(t)`)."""

    seek = Signal(float)

    def __init__(self, timeline, moments=(), parent=None):
        super().__init__(parent)
        self.timeline = timeline
        self.moments = list(moments)  # (t, title)
        self.t = 0.0
        self._lanes_pixmap: QPixmap | None = None
        self.setMinimumHeight(LANE_H * (len(timeline.lanes) + 1) + 8)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.NoFocus)  # the page handles the keyboard
        self.setAccessibleName(_("Session timeline"))
        self.setAccessibleDescription(_("Lanes for gaze, expressivity, smiles, nods, talk, cues, actions and "
                                        "notices; click to move the playhead"))

    def set_time(self, t: float) -> None:
        self.t = t
        self.update()

    def set_moments(self, moments) -> None:
        self.moments = list(moments)
        self._lanes_pixmap = None
        self.update()

    def _x(self, t: float) -> float:
        w = max(1.0, self.width() - LABEL_W - 8)
        return LABEL_W + w * (t / max(1e-6, self.timeline.duration_s))

    def _t(self, x: float) -> float:
        w = max(1.0, self.width() - LABEL_W - 8)
        return min(self.timeline.duration_s, max(0.0, (x - LABEL_W) / w * self.timeline.duration_s))

    def mousePressEvent(self, ev) -> None:
        if ev.position().x() >= LABEL_W:
            self.seek.emit(self._t(ev.position().x()))

    def mouseMoveEvent(self, ev) -> None:
        if ev.buttons() & Qt.LeftButton and ev.position().x() >= LABEL_W:
            self.seek.emit(self._t(ev.position().x()))
        else:
            self.setToolTip(self._tip(ev.position()))

    def _tip(self, pos) -> str:
        row = int((pos.y() - LANE_H) // LANE_H)
        if not 0 <= row < len(self.timeline.lanes) or pos.x() < LABEL_W:
            return ""
        return self.tip_at(row, self._t(pos.x()))

    def tips(self) -> list[str]:
        """Every tooltip the lanes can show: one at each mark and span (what hovering over it reads)."""
        return [self.tip_at(row, t) for row, lane in enumerate(self.timeline.lanes)
                for t in [m for m, _lab in lane.marks] + [(a + b) / 2 for a, b, _lab in lane.spans]]

    def tip_at(self, row: int, t: float) -> str:
        """The tooltip of lane `row` at session time `t`: the time, the lane and what is there."""
        lane = self.timeline.lanes[row]
        tol = 3 * self.timeline.duration_s / max(1, self.width())
        words = [lab for m, lab in lane.marks if abs(m - t) <= tol]
        words += [lab for a, b, lab in lane.spans if a - tol <= t <= b + tol]
        if not words:
            return ""
        return _("{time}  {lane}: {what}").format(time=clock_text(t), lane=_(lane.name),
                                                 what=", ".join(dict.fromkeys(_(w) for w in words)))

    def paintEvent(self, _ev) -> None:
        # The lanes do not change while the playhead moves: drawn once per size, then only the playhead.
        if self._lanes_pixmap is None or self._lanes_pixmap.size() != self.size():
            self._lanes_pixmap = QPixmap(self.size())
            lp = QPainter(self._lanes_pixmap)
            self._paint_lanes(lp)
            lp.end()
        p = QPainter(self)
        p.drawPixmap(0, 0, self._lanes_pixmap)
        x = self._x(self.t)
        p.setPen(QPen(QColor("#d93b3b"), 2))
        p.drawLine(QPointF(x, 0), QPointF(x, self.height()))
        p.end()

    def _paint_lanes(self, p: QPainter) -> None:
        p.setRenderHint(QPainter.Antialiasing)
        p.fillRect(self.rect(), QColor("#ffffff"))
        small = QFont(self.font())
        small.setPointSizeF(max(7.0, small.pointSizeF() * 0.8))
        p.setFont(small)
        # Minute ticks on the top row.
        p.setPen(QColor("#55606b"))
        step = 60 if self.timeline.duration_s > 150 else 15
        t = 0.0
        while t <= self.timeline.duration_s:
            x = self._x(t)
            p.drawLine(QPointF(x, LANE_H - 4), QPointF(x, self.height()))
            p.drawText(QPointF(x + 2, LANE_H - 6), clock_text(t))
            t += step
        for i, lane in enumerate(self.timeline.lanes):
            y = LANE_H * (i + 1)
            p.setPen(QColor("#1e2329"))
            p.drawText(QRectF(4, y, LABEL_W - 8, LANE_H), Qt.AlignVCenter | Qt.AlignLeft, _(lane.name))
            p.fillRect(QRectF(LABEL_W, y + 2, self.width() - LABEL_W - 8, LANE_H - 4), QColor("#f1f3f6"))
            for a, b, label in lane.spans:
                colour = GAZE_COLOURS.get(label, "#c94b4b" if label.startswith("no ") else "#5b7fbf")
                if lane.name == "Patient talk":
                    colour = "#8e6bbf"
                x0, x1 = self._x(a), max(self._x(b), self._x(a) + 1.5)
                p.fillRect(QRectF(x0, y + 4, x1 - x0, LANE_H - 8), QColor(colour))
            if lane.values:
                p.setPen(QPen(QColor("#2d6cdf"), 1.2))
                pts = [QPointF(self._x(t), y + LANE_H - 3 - v * (LANE_H - 6)) for t, v in lane.values]
                for a, b in zip(pts, pts[1:]):
                    p.drawLine(a, b)
            for t, label in lane.marks:
                p.setPen(QPen(QColor("#7a3db8" if lane.name == NOTES_LANE else MARK_COLOURS.get(label, "#1e2329")),
                              3 if lane.name == NOTES_LANE else 2))
                x = self._x(t)
                p.drawLine(QPointF(x, y + 3), QPointF(x, y + LANE_H - 3))
        # Moments: flags across all lanes.
        for t, _title in self.moments:
            x = self._x(t)
            p.setPen(QPen(QColor("#b58b00"), 1, Qt.DashLine))
            p.drawLine(QPointF(x, LANE_H), QPointF(x, self.height()))
            p.setBrush(QColor("#f0c23b"))
            p.setPen(Qt.NoPen)
            p.drawPolygon([QPointF(x, LANE_H - 12), QPointF(x + 8, LANE_H - 8), QPointF(x, LANE_H - 4)])


class ReplayPage(QWidget):
    """Plays a `trainer.store.timeline.Timeline` back; `back_requested` when the user leaves."""

    back_requested = Signal()

    def __init__(self, timeline, scenario, moments=(), parent=None, store=None, author: str = "", data=None,
                 recording=None):
        super().__init__(parent)
        self.timeline = timeline
        self.store = store  # where facilitator notes and ratings go (None: a read-only replay)
        # ui.store_data.StoreData: notes are re-read off the main thread whenever the store says they changed
        # (here, from the live visit's menu, or by an import); without it they are read here.
        self.data = data
        self.scenario = scenario
        self.model = timeline.model
        self.moments = sorted(moments)  # (t, title)
        self.t = 0.0
        self.speed = 1.0
        self._playing = False
        self._last_wall = 0.0
        self._shown_line = None
        self._caregiver = None
        self._connection = "ok"
        self.setObjectName("replayPage")
        self.setFocusPolicy(Qt.StrongFocus)

        title = QLabel(_("Replay — {title} (session {n})").format(title=_scenario_title(scenario, timeline.title),
                                                                 n=timeline.session_id))
        title.setObjectName("pageTitle")
        self.window_view = VisitPage(scenario, feedback_mode="live")
        # The learner's consented recording (trainer.store.recording), if the session has one: its frame at
        # the playhead fills the self-view, beside the patient; without one the panels show the measures.
        self.video = None
        note = _("Replay\n(no video was recorded;\nthe panels show the measures)")
        if recording is not None:
            from trainer.core.errors import TrainerError
            from trainer.store.recording import RecordingReader

            try:
                self.video = RecordingReader(recording)
            except TrainerError:
                note = _("Replay\n(the recording cannot be read;\nthe panels show the measures)")
        if self.video is not None:
            self.window_view.self_view.setFixedSize(REPLAY_VIEW_W, REPLAY_VIEW_H)
            for w in (self.window_view.face_label, self.window_view.share_bar, self.window_view.quality_label):
                w.setFixedWidth(REPLAY_VIEW_W)
            self.window_view.self_view.setAccessibleName(_("Your recorded video at the playhead"))
            note = _("No picture recorded\nat this moment")
        self.window_view.set_replay(note)
        self.window_view.follow_clock(lambda: self.t)
        self.window_view.setFocusPolicy(Qt.NoFocus)

        self.moment_list = QListWidget()
        self.moment_list.setAccessibleName(_("Moments"))
        self.moment_list.setAccessibleDescription(_("Moments worth a look; Enter moves the playhead there."))
        for t, text in self.moments:
            item = QListWidgetItem(f"{clock_text(t)}  {text}")
            item.setData(Qt.UserRole, t)
            self.moment_list.addItem(item)
        if not self.moments:
            self.moment_list.addItem(_("No moments were picked out for this session."))
        self.moment_list.itemActivated.connect(self._jump_item)
        self.moment_list.itemClicked.connect(self._jump_item)
        self.lines_list = QListWidget()
        self.lines_list.setAccessibleName(_("The patient's lines"))
        self.lines_list.setAccessibleDescription(_("What the patient said, with times; Enter moves the playhead there."))
        self.lines_list.setWordWrap(True)
        for t, who, text in timeline.lines:
            item = QListWidgetItem(f"{clock_text(t)}  " + _("{speaker}: {text}").format(
                speaker=who, text=self.window_view.localized_line(text)))
            item.setData(Qt.UserRole, t)
            self.lines_list.addItem(item)
        self.lines_list.itemActivated.connect(self._jump_item)
        self.lines_list.itemClicked.connect(self._jump_item)
        side = QWidget()
        side_lay = QVBoxLayout(side)
        side_lay.setContentsMargins(0, 0, 0, 0)
        side_lay.addWidget(QLabel(_("Moments")))
        side_lay.addWidget(self.moment_list, 1)
        side_lay.addWidget(QLabel(_("What the patient said")))
        side_lay.addWidget(self.lines_list, 2)
        # Facilitator notes at the playhead (stored at once; shown on the notes lane and in this list).
        self.notes_list = QListWidget()
        self.notes_list.setAccessibleName(_("Facilitator notes"))
        self.notes_list.setAccessibleDescription(_("Notes at times of the visit; Enter moves the playhead there."))
        self.notes_list.setWordWrap(True)
        self.notes_list.itemActivated.connect(self._jump_item)
        self.notes_list.itemClicked.connect(self._jump_item)
        self.note_edit = QLineEdit()
        self.note_edit.setPlaceholderText(_("Note at the playhead…"))
        self.note_edit.setAccessibleName(_("New note at the playhead"))
        self.note_edit.setAccessibleDescription(_("Type a note and press Enter to add it at the playhead's time."))
        self.note_edit.returnPressed.connect(self.add_note)
        from trainer.ui.note_dialog import note_author

        self.author_edit = QLineEdit(note_author(author))
        self.author_edit.setPlaceholderText(_("Your name"))
        self.author_edit.setAccessibleName(_("Note author"))
        self.author_edit.setAccessibleDescription(_("The name stored with your notes and ratings."))
        self.author_edit.setMaximumWidth(110)
        add = QPushButton(_("Add note"))
        add.setToolTip(_("Add the note at the playhead's time (Enter)"))
        add.clicked.connect(self.add_note)
        note_row = QHBoxLayout()
        note_row.addWidget(self.author_edit)
        note_row.addWidget(self.note_edit, 1)
        note_row.addWidget(add)
        if store is not None:
            side_lay.addWidget(QLabel(_("Facilitator notes")))
            side_lay.addWidget(self.notes_list, 1)
            side_lay.addLayout(note_row)
            if data is not None:
                data.changed.connect(self._store_changed)
            self.show_notes(timeline.notes)  # as read with the timeline (off the main thread)
        split = QSplitter()
        split.addWidget(self.window_view)
        split.addWidget(side)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        side.setMinimumWidth(260)
        self.moment_list.setWordWrap(True)
        split.setSizes([900, 320])

        self.lanes = TimelineView(timeline, self.moments)
        self.lanes.seek.connect(self.seek)
        self.play_button = QPushButton(_("Play"))
        self.play_button.setToolTip(_("Play or pause (Space)"))
        self.play_button.clicked.connect(self.toggle_play)
        self.time_label = QLabel()
        self.time_label.setAccessibleName(_("Playhead time"))
        self.speed_box = QComboBox()
        for s in (0.5, 1.0, 2.0, 4.0):
            self.speed_box.addItem(f"{number(s, None)}x", s)
        self.speed_box.setCurrentIndex(1)
        self.speed_box.setAccessibleName(_("Playback speed"))
        self.speed_box.setAccessibleDescription(_("How fast the replay plays."))
        self.speed_box.currentIndexChanged.connect(lambda i: setattr(self, "speed", self.speed_box.itemData(i)))
        back = QPushButton(_("Back"))
        back.setToolTip(_("Leave the replay (Escape)"))
        back.clicked.connect(self.back_requested)
        controls = QHBoxLayout()
        controls.addWidget(self.play_button)
        for dt in (-10.0, -1.0):
            b = QPushButton("−" + seconds(-dt, None))
            b.setToolTip(_("Move the playhead back {n} s").format(n=number(-dt, None)))
            b.clicked.connect(lambda _=False, dt=dt: self.step(dt))
            controls.addWidget(b)
        controls.addWidget(self.time_label)
        for dt in (1.0, 10.0):
            b = QPushButton("+" + seconds(dt, None))
            b.setToolTip(_("Move the playhead on {n} s").format(n=number(dt, None)))
            b.clicked.connect(lambda _=False, dt=dt: self.step(dt))
            controls.addWidget(b)
        speed_label = QLabel(_("Speed"))
        speed_label.setBuddy(self.speed_box)
        controls.addWidget(speed_label)
        controls.addWidget(self.speed_box)
        controls.addStretch(1)
        if store is not None:
            rate = QPushButton(_("Rate…"))
            rate.setToolTip(_("Rate each targeted behaviour and the visit overall"))
            rate.clicked.connect(self.rate)
            controls.addWidget(rate)
            report = QPushButton(_("Report…"))
            report.setToolTip(_("Write this session's report (PDF or HTML) with the measures, timeline, notes "
                                "and ratings"))
            report.clicked.connect(self.report)
            controls.addWidget(report)
        controls.addWidget(back)

        lay = QVBoxLayout(self)
        lay.addWidget(title)
        lay.addWidget(split, 1)
        lay.addWidget(self.lanes)
        lay.addLayout(controls)
        for key, fn in (("Space", self.toggle_play), ("Left", lambda: self.step(-1)), ("Right", lambda: self.step(1)),
                        ("Shift+Left", lambda: self.step(-10)), ("Shift+Right", lambda: self.step(10)),
                        ("Home", lambda: self.seek(0.0)), ("End", lambda: self.seek(self.timeline.duration_s)),
                        ("PgUp", lambda: self.jump_moment(-1)), ("PgDown", lambda: self.jump_moment(1)),
                        ("Escape", self.back_requested.emit)):
            QShortcut(QKeySequence(key), self, activated=fn, context=Qt.WidgetWithChildrenShortcut)
        self._timer = QTimer(self)
        self._timer.setInterval(50)
        self._timer.timeout.connect(self._advance)
        self.seek(0.0)

    # -- transport ----------------------------------------------------------------------------------
    def seek(self, t: float) -> None:
        """Show the session at time t (clamped to the session)."""
        self.t = min(self.timeline.duration_s, max(0.0, float(t)))
        page = self.window_view
        page.state = self.model.state_at(self.t)
        page.render()
        if self.video is not None:
            image = self.video.frame_at(self.t)
            if image is not None:
                page.self_view.show_frame(image, None)
        self._reenact(page.view)
        self.lanes.set_time(self.t)
        self.time_label.setText(f"{clock_text(self.t)} / {clock_text(self.timeline.duration_s)}")

    def step(self, dt: float) -> None:
        self.seek(self.t + dt)

    def toggle_play(self) -> None:
        self._playing = not self._playing
        if self._playing and self.t >= self.timeline.duration_s:
            self.seek(0.0)
        self.play_button.setText(_("Pause") if self._playing else _("Play"))
        self._last_wall = time.monotonic()
        (self._timer.start if self._playing else self._timer.stop)()

    def jump_moment(self, direction: int) -> None:
        """The previous (-1) or next (+1) moment from the playhead."""
        times = [t for t, _ in self.moments]
        if direction > 0:
            later = [t for t in times if t > self.t + 0.05]
            if later:
                self.seek(later[0])
        else:
            earlier = [t for t in times if t < self.t - 0.05]
            if earlier:
                self.seek(earlier[-1])

    def _jump_item(self, item) -> None:
        t = item.data(Qt.UserRole)
        if t is not None:
            self.seek(float(t))

    def _advance(self) -> None:
        now = time.monotonic()
        dt, self._last_wall = now - self._last_wall, now
        if self.t >= self.timeline.duration_s:
            self.toggle_play()
            return
        self.seek(self.t + dt * self.speed)
        self.window_view.patient.advance()

    # -- facilitator notes and ratings ---------------------------------------------------------------
    def add_note(self, text: str | None = None) -> None:
        """Store the note typed (or `text`) at the playhead, by the author in the name field."""
        text = (self.note_edit.text() if not isinstance(text, str) else text).strip()
        if not text or self.store is None:
            return
        from trainer.store.user_settings import remember

        self.store.add_note(self.timeline.session_id, self.t, text, self.author_edit.text().strip() or _("facilitator"))
        remember("note_author", self.author_edit.text())
        self.note_edit.clear()
        if self.data is None:
            self._refresh_notes()  # with StoreData the store's change signal brings them back

    def _store_changed(self, change) -> None:
        if change.kind in ("notes", "sessions_imported") and self.timeline.session_id in change.session_ids:
            self._refresh_notes()

    def _refresh_notes(self) -> None:
        sid = self.timeline.session_id
        if self.data is not None:
            self.data.read(f"replay-notes-{sid}", lambda store: store.notes(sid), self.show_notes)
        else:
            self.show_notes(self.store.notes(sid))

    def show_notes(self, notes: list[dict]) -> None:
        """List the session's notes (SessionStore.notes) and put them on the notes lane."""
        self.notes_list.clear()
        for n in notes:
            item = QListWidgetItem(f"{clock_text(n['t'])}  " + _("{speaker}: {text}").format(speaker=n["author"],
                                                                                       text=n["text"]))
            item.setData(Qt.UserRole, n["t"])
            self.notes_list.addItem(item)
        lanes = self.timeline.lanes
        for i, lane in enumerate(lanes):
            if lane.name == NOTES_LANE:
                lanes[i] = notes_lane(notes)
        if hasattr(self, "lanes"):  # the timeline view exists once the page is built
            self.lanes.set_moments(self.moments)  # redraws the lanes (the notes lane changed)

    def rate(self) -> None:
        from trainer.ui.rating_dialog import RatingDialog

        self.rating_dialog = RatingDialog(self.store, self.timeline.session_id, self.scenario,
                                          self.author_edit.text().strip() or _("facilitator"), self)
        self.rating_dialog.exec()

    def report(self) -> None:
        from PySide6.QtWidgets import QFileDialog, QMessageBox

        from trainer.core.errors import TrainerError
        from trainer.store.report import report_data
        from trainer.ui.report_pdf import check_report_path, write_report, write_report_data

        sid = self.timeline.session_id
        path, _filter = QFileDialog.getSaveFileName(self, _("Write the report"), f"report-session-{sid}.pdf",
                                                    _("PDF (*.pdf);;Web page (*.html)"))
        if not path:
            return

        def failed(exc: BaseException) -> None:
            if not isinstance(exc, (TrainerError, OSError)):
                raise exc
            QMessageBox.warning(self, _("Report"), str(exc))

        def write(data) -> None:  # drawn here: Qt's painter and text layout belong to the main thread
            try:
                write_report_data(data, path)
            except (TrainerError, OSError) as exc:
                failed(exc)

        try:
            check_report_path(path)
            if self.data is None:
                write_report(self.store, sid, path)
                return
        except (TrainerError, OSError) as exc:
            failed(exc)
            return
        # The report's content (summary, timeline, notes, ratings) is read off the main thread.
        self.data.read(f"report-{sid}", lambda store: report_data(store, sid), write, on_error=failed)

    # -- the patient's side -------------------------------------------------------------------------
    def _reenact(self, view) -> None:
        """Put the patient view in the state of the session at the playhead (line, emotion, caregiver,
        connection); a line already being shown keeps going instead of restarting."""
        patient = self.window_view.patient
        scenario = self.window_view.scenario
        caregiver = scenario.caregiver.persona if (view.caregiver_present and scenario.caregiver) else None
        if caregiver is not self._caregiver:
            self._caregiver = caregiver
            patient.set_caregiver(caregiver)
        if view.connection != self._connection:
            self._connection = view.connection
            patient.set_connection_state(view.connection)
        line = view.line
        key = (line.step, line.started) if line is not None else None
        if key == self._shown_line:
            return
        self._shown_line = key
        if line is not None:
            patient.set_emotion(line.emotion, speaker=line.speaker)
            patient.speak(self.window_view.line_text(line.step, line.text), line.duration, None, speaker=line.speaker, start_t=line.started)
        else:
            patient.stop_speaking()
            said = [(t, text) for t, _who, text in self.timeline.lines if t <= self.t]
            patient.set_caption(self.window_view.localized_line(said[-1][1]) if said else "")  # as live: the last line stays as a caption
