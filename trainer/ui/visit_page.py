"""Page 2: the visit window, laid out like a video-visit app.

    +------------------------------------------------------------+
    | notices (what feedback is unavailable and why)             |
    | +--------------------------------------------+ +--------+ |
    | | patient (animated, trainer.ui.patient_view)                               | |self-view| |
    | |                                            | +--------+ |
    | | caption: the patient's current line         |            |
    | | your captions (optional): what you said     |            |
    | +--------------------------------------------+            |
    | your turn: prompt            face/head   mic meter  00:42 |
    |                    [ End call ]                            |
    +------------------------------------------------------------+

Everything shown comes through the EventBridge into a `VisitState` (trainer/core/visit_state.py, no Qt), and
the page draws that state at the session time ~10 times a second (`render`). Nothing on screen is held from
an earlier event: when the camera or microphone stops, the panels say since when. The clock, the turn's
time left and the patient's animation follow the session clock (`follow_clock`), so a replay can show the
same window from stored events. This page never reads worker state directly.
Camera frames for the self-view are mirrored and scaled on the thread that posts them (`prepare_preview`
through `EventBridge.prepare`): the UI thread only draws the face box on a 256x192 picture.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QImage, QKeySequence, QPainter, QPen, QPixmap, QShortcut
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QMenu, QProgressBar, QPushButton, QSizePolicy, QToolButton,
                               QVBoxLayout, QWidget)

from trainer.core.events import (AudioLevel, CaregiverJoined, CaregiverLeft, ConnectionChanged, FrameSample, Notice,
                                 PatientLineEnded, PatientLineStarted, Utterance, VisitEnded)
from trainer.core.i18n import N_, _, is_french, localized
from trainer.analysis.quality import ADVICE  # the plain fix for each picture-quality flag (one copy)
from trainer.core.scenario import ClinicianTurn, Scenario
from trainer.core.visit_state import VisitState, clock_text
from trainer.ui.a11y import Announcer
from trainer.ui.patient_view import PatientView
from trainer.visit import FramePreview, release_freed_memory

SELF_VIEW_W, SELF_VIEW_H = 256, 192


#: How often the window is redrawn from the visit state (ms of wall time).
RENDER_MS = 100
#: Your own captions: utterances this close together (s) stay on the line together, up to this many characters.
CAPTION_JOIN_S = 2.0
CAPTION_CHARS = 160

CONNECTION_TEXT = {
    "frozen": N_("The patient's picture has frozen…"),
    "audio_dropped": N_("The patient's sound has dropped…"),
    "reconnecting": N_("Reconnecting…"),
}

GAZE_TEXT = {"camera": N_("You are looking into the camera"), "screen": N_("You are looking at the patient"),
             "away": N_("You are looking away")}


def head_direction_text(yaw: float | None, pitch: float | None) -> str:
    """Plain words for where the head points (mirror view: the clinician's own left/right)."""
    if yaw is None or pitch is None:
        return _("head direction unknown")
    parts = []
    if yaw > 12:
        parts.append(_("turned left {deg}°").format(deg=f"{yaw:.0f}"))
    elif yaw < -12:
        parts.append(_("turned right {deg}°").format(deg=f"{-yaw:.0f}"))
    if pitch > 12:
        parts.append(_("up {deg}°").format(deg=f"{pitch:.0f}"))
    elif pitch < -12:
        parts.append(_("down {deg}°").format(deg=f"{-pitch:.0f}"))
    return _("head {direction}").format(direction=", ".join(parts) if parts else _("facing the screen"))


@dataclass(frozen=True, slots=True)
class SelfViewFrame:
    """A camera frame made ready for the self-view: mirrored, scaled to cover the self-view and cropped to
    it (RGB), with the face box in its pixels (None without a face) and the head's yaw and pitch."""

    image: QImage
    box: QRectF | None
    yaw: float | None = None
    pitch: float | None = None


def prepare_self_view(image_bgr: np.ndarray, obs, size: tuple[int, int] = (SELF_VIEW_W, SELF_VIEW_H)) -> SelfViewFrame:
    """Make a camera frame ready for the self-view. Safe on any thread (no widget, no QPixmap) and mostly
    spent in OpenCV, which lets other threads run meanwhile: the bridge calls it on the thread that posts
    the frame (`EventBridge.prepare`), so the UI thread only draws a small picture. Scaled as Qt's
    keep-aspect-ratio-by-expanding would, centred: an exact whole-number area reduction, then a linear
    one by less than two (a non-whole area reduction of a 700x700 frame cost 2.5 ms, this 0.3 ms)."""
    import cv2  # heavy: imported on first use (trainer.capture.video has it loaded by then)

    out_w, out_h = size
    h, w = image_bgr.shape[:2]
    s = max(out_w / w, out_h / h)
    k = max(1, int(1 / s))  # the whole-number part of the reduction, done first
    cw = min(w, max(k, int(round(out_w / s / k)) * k))
    ch = min(h, max(k, int(round(out_h / s / k)) * k))
    x0, y0 = (w - cw) // 2, (h - ch) // 2
    part = image_bgr[y0:y0 + ch, x0:x0 + cw]
    if k > 1:
        part = cv2.resize(part, (cw // k, ch // k), interpolation=cv2.INTER_AREA)
    part = cv2.resize(part, (out_w, out_h), interpolation=cv2.INTER_LINEAR)
    rgb = cv2.cvtColor(cv2.flip(part, 1), cv2.COLOR_BGR2RGB)  # mirror + BGR->RGB
    qimg = QImage(rgb.data, out_w, out_h, rgb.strides[0], QImage.Format_RGB888).copy()  # owns its pixels
    box = None
    if obs is not None and getattr(obs, "face", False) and obs.bbox is not None:
        bx0, by0, bx1, by1 = obs.bbox
        sx, sy = out_w / cw, out_h / ch
        # Mirror the normalised box to match the mirrored picture (the crop is centred, so it mirrors too).
        box = QRectF(((1 - bx1) * w - (w - x0 - cw)) * sx, (by0 * h - y0) * sy, (bx1 - bx0) * w * sx,
                     (by1 - by0) * h * sy)
    return SelfViewFrame(qimg, box, getattr(obs, "yaw", None), getattr(obs, "pitch", None))


def prepare_preview(preview) -> SelfViewFrame:
    """`prepare_self_view` for a FramePreview (what `EventBridge.prepare` is given for the self-view)."""
    return prepare_self_view(preview.frame.image, preview.observation)


class SelfView(QLabel):
    """The clinician's mirrored camera picture with the face box and a head-direction arrow."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setFixedSize(SELF_VIEW_W, SELF_VIEW_H)
        self.setAlignment(Qt.AlignCenter)
        self.setObjectName("selfView")
        self.setText(_("Camera\nstarting…"))
        self.setAccessibleName(_("Your camera picture"))
        self.setAccessibleDescription(_("Your own video, mirrored, with a box around your face and an arrow "
                                        "showing where your head points."))

    def show_unavailable(self, text: str) -> None:
        self.clear()
        self.setText(text)

    def show_frame(self, image_bgr: np.ndarray, obs) -> None:
        """Show a camera frame (BGR) with its face observation (or None)."""
        self.show_prepared(prepare_self_view(image_bgr, obs, (self.width(), self.height())))

    def show_prepared(self, frame: SelfViewFrame) -> None:
        """Show a frame `prepare_self_view` made: only the face box and the arrow are drawn here."""
        pix = QPixmap.fromImage(frame.image)
        if frame.box is not None:
            painter = QPainter(pix)
            painter.setRenderHint(QPainter.Antialiasing)
            rect = frame.box
            painter.setPen(QPen(QColor(80, 220, 140), 2))
            painter.drawRoundedRect(rect, 6, 6)
            if frame.yaw is not None and frame.pitch is not None:
                c = rect.center()
                length = rect.width() * 0.6
                # Mirror view: the clinician's left is the picture's left.
                dx = -math.sin(math.radians(frame.yaw)) * length
                dy = -math.sin(math.radians(frame.pitch)) * length
                painter.setPen(QPen(QColor(255, 210, 60), 3))
                end = QPointF(c.x() + dx, c.y() + dy)
                painter.drawLine(c, end)
                painter.setBrush(QColor(255, 210, 60))
                painter.drawEllipse(end, 4, 4)
            painter.end()
        self.setPixmap(pix)


def close_visit_page(stack, page) -> None:
    """Take a finished visit's page out of `stack` and delete it; a second later, once Qt has deleted it,
    give the memory it and the visit freed back to the system (on a short-lived thread, so the UI thread
    never waits for it)."""
    from trainer.ui.tasks import start_background

    stack.removeWidget(page)
    page.deleteLater()
    QTimer.singleShot(1000, lambda: start_background(release_freed_memory, "release-memory"))


class VisitPage(QWidget):
    end_requested = Signal()
    action_requested = Signal(str)  # call-window action id (core.scenario.ACTIONS)
    card_chosen = Signal(str)  # intent card id of the current turn
    override_requested = Signal(str)  # facilitator override id
    note_requested = Signal(float)  # a facilitator note, at this session time (when it was asked for)

    def __init__(self, scenario: Scenario, feedback_mode: str = "live", parent=None, *, line_audio=None,
                 overrides: list[tuple[str, str]] | None = None, caption_scale: float = 1.0,
                 caption_contrast: str = "standard"):
        super().__init__(parent)
        self.scenario = scenario
        # Screen readers hear each patient line once and the odd coaching hint, never a stream (ui.a11y).
        self.announcer = Announcer(self)
        self._announced_quality: tuple[str, ...] = ()
        self._announced_notices = 0
        # "live": coaching cues during the visit; "after_action"/"off": none during the visit (the self-view
        # and device status stay, because a clinician needs them in any real call).
        self.feedback_mode = feedback_mode
        self.setObjectName("visitPage")
        self.setAttribute(Qt.WA_StyledBackground, True)  # let the style sheet paint the dark call background
        self.notices_label = QLabel()
        self.notices_label.setObjectName("noticeBox")
        self.notices_label.setWordWrap(True)
        self.notices_label.hide()

        self.patient = PatientView(scenario.patient, background=scenario.setting.background)
        self.patient.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.patient.set_caption_style(caption_scale, caption_contrast == "high")  # About › Your choices
        self.patient.setAccessibleName(_("Video of {name}").format(name=scenario.patient.name))
        self.patient.setAccessibleDescription(_("The patient's video; their words appear as captions and are "
                                                "announced to screen readers."))
        # No offline French voice ships: say so plainly when the captions are French.
        self.voice_note = QLabel(_("The patient speaks English (no French voice is available offline); "
                                   "the captions are in French."))
        self.voice_note.setObjectName("status")
        self.voice_note.setWordWrap(True)
        self.voice_note.setVisible(is_french())
        self._line_audio = line_audio or (lambda step_id: None)
        self.share_banner = QLabel(_("You are sharing your screen (the patient sees your results page)."))
        self.share_banner.setObjectName("shareBanner")
        self.share_banner.hide()
        self.self_view = SelfView()
        tile = QWidget()
        tile_lay = QHBoxLayout(tile)
        tile_lay.setContentsMargins(0, 0, 0, 0)
        patient_col = QVBoxLayout()
        patient_col.addWidget(self.voice_note)
        patient_col.addWidget(self.share_banner)
        patient_col.addWidget(self.patient, 1)
        # The clinician's own words, transcribed on this machine (off by default; Ctrl+K or the button).
        self.captions_label = QLabel()
        self.captions_label.setObjectName("ownCaptions")
        self.captions_label.setWordWrap(True)
        self.captions_label.setAlignment(Qt.AlignCenter)
        self.captions_label.setStyleSheet("background: rgba(0,0,0,0.65); color: #ffffff; font-size: 15px; "
                                          "padding: 6px 12px; border-radius: 6px;")
        self.captions_label.hide()
        patient_col.addWidget(self.captions_label)
        tile_lay.addLayout(patient_col, 1)
        side = QVBoxLayout()
        side.addWidget(self.self_view)
        # Shown while the learner's consented recording runs (trainer.store.recording): never a secret.
        self.recording_label = QLabel("\u25cf " + _("Recording for your debrief"))
        self.recording_label.setObjectName("recording")
        self.recording_label.setStyleSheet("color: #ff6b6b; font-weight: bold;")
        self.recording_label.setAccessibleName(_("This visit is being recorded on this computer for your debrief"))
        self.recording_label.setAccessibleDescription(_("You agreed to this recording; it stays on this computer."))
        self.recording_label.hide()
        side.addWidget(self.recording_label)
        self.face_label = QLabel(_("Face: waiting for the camera"))
        self.face_label.setObjectName("status")
        self.face_label.setWordWrap(True)
        self.face_label.setFixedWidth(SELF_VIEW_W)
        side.addWidget(self.face_label)
        mic_row = QHBoxLayout()
        self.mic_label = QLabel(_("Mic"))
        self.mic_label.setObjectName("status")
        self.mic_meter = QProgressBar()
        self.mic_meter.setAccessibleName(_("Microphone level"))
        self.mic_meter.setAccessibleDescription(_("How loud the microphone hears you."))
        self.mic_meter.setRange(0, 60)
        self.mic_meter.setTextVisible(False)
        self.mic_meter.setFixedHeight(10)
        mic_row.addWidget(self.mic_label)
        mic_row.addWidget(self.mic_meter, 1)
        side.addLayout(mic_row)
        self.talk_label = QLabel(_("You: {you} · Patient: {patient}").format(you="0:00", patient="0:00"))
        self.talk_label.setObjectName("status")
        side.addWidget(self.talk_label)
        self.share_bar = QProgressBar()
        self.share_bar.setRange(0, 100)
        self.share_bar.setFormat(_("Your share of the talk: %p%"))
        self.share_bar.setAccessibleName(_("Your share of the talk"))
        self.share_bar.setAccessibleDescription(_("The part of the talking done by you so far, in percent."))
        self.share_bar.setFixedWidth(SELF_VIEW_W)
        self.share_bar.setObjectName("shareBar")
        side.addWidget(self.share_bar)
        self.quality_label = QLabel()
        self.quality_label.setObjectName("qualityBox")
        self.quality_label.setWordWrap(True)
        self.quality_label.setFixedWidth(SELF_VIEW_W)
        self.quality_label.hide()
        side.addWidget(self.quality_label)
        side.addStretch(1)
        tile_lay.addLayout(side)
        if feedback_mode != "live":
            for w in (self.talk_label, self.share_bar, self.quality_label):
                w.hide()
            self.talk_label.setProperty("feedbackHidden", True)

        self.prompt_label = QLabel(_("Connecting…"))
        self.prompt_label.setObjectName("prompt")
        if caption_scale != 1.0:  # the coaching text follows the caption size setting
            self.prompt_label.setStyleSheet(f"font-size: {round(15 * caption_scale)}px;")
        self.prompt_label.setWordWrap(True)
        self.clock_label = QLabel("0:00")
        self.clock_label.setObjectName("clock")
        self.end_button = QPushButton(_("End call"))
        self.end_button.setObjectName("endCall")
        self.end_button.setToolTip(_("End the call (Ctrl+E)"))
        self.end_button.setAccessibleDescription(_("End the call and save the session (Ctrl+E)."))
        self.end_button.clicked.connect(self.end_requested)
        QShortcut(QKeySequence("Ctrl+E"), self, activated=self.end_button.click)
        # Intent cards of the current turn: pick one (or a number key) before answering aloud.
        self.cards_row = QHBoxLayout()
        self.cards_box = QWidget()
        self.cards_box.setLayout(self.cards_row)
        self.cards_box.hide()
        self.cards_hint = QLabel(_("Choose what you will do (or press its number), then say it:"))
        self.cards_hint.setObjectName("status")
        self.cards_row.addWidget(self.cards_hint)
        self._card_buttons: list[QPushButton] = []
        # Call-window actions.
        self.share_button = QPushButton(_("Share screen"))
        self.share_button.setObjectName("callAction")
        self.share_button.setCheckable(True)
        self.share_button.setToolTip(_("Share your screen with the patient (Ctrl+S)"))
        self.share_button.setAccessibleDescription(_("Share your screen with the patient (Ctrl+S)"))
        self.share_button.toggled.connect(self._share_toggled)
        QShortcut(QKeySequence("Ctrl+S"), self, activated=self.share_button.toggle)
        self.invite_button = QPushButton(_("Invite caregiver"))
        self.invite_button.setObjectName("callAction")
        self.invite_button.setToolTip(_("Invite the patient's caregiver into the call (Ctrl+I)"))
        self.invite_button.setAccessibleDescription(_("Invite the patient's caregiver into the call (Ctrl+I)"))
        self.invite_button.clicked.connect(lambda: self.action_requested.emit("invite_caregiver"))
        QShortcut(QKeySequence("Ctrl+I"), self, activated=self.invite_button.click)
        self.invite_button.setVisible(scenario.caregiver is not None and scenario.caregiver.joins == "on_invite")
        self.captions_button = QPushButton(_("Captions"))
        self.captions_button.setObjectName("callAction")
        self.captions_button.setCheckable(True)
        self.captions_button.setToolTip(_("Show your own words as live captions (Ctrl+K); transcribed on this "
                                          "computer, a few seconds behind"))
        self.captions_button.toggled.connect(self._captions_toggled)
        QShortcut(QKeySequence("Ctrl+K"), self, activated=self.captions_button.toggle)
        self._last_words = ""
        self._last_end: float | None = None
        self.facilitator_button = QToolButton()
        self.facilitator_button.setText(_("Facilitator"))
        self.facilitator_button.setObjectName("callAction")
        self.facilitator_button.setPopupMode(QToolButton.InstantPopup)
        self.facilitator_button.setFocusPolicy(Qt.StrongFocus)
        self.facilitator_button.setAccessibleDescription(_("A facilitator's menu: move the scenario on or "
                                                           "change what the patient does."))
        menu = QMenu(self.facilitator_button)
        # A live note is stamped with the session time at the moment it is asked for (typing takes a while).
        self.note_action = menu.addAction(_("Add note…"), lambda: self.note_requested.emit(float(self._now())))
        self.note_action.setShortcut(QKeySequence("Ctrl+N"))
        self.note_action.setToolTip(_("Note what you saw at this moment; it appears in the replay (Ctrl+N)"))
        self.note_action.setShortcutContext(Qt.WidgetWithChildrenShortcut)
        self.addAction(self.note_action)  # the shortcut works while the call window has focus, menu closed
        if overrides:
            menu.addSeparator()
        for oid, label in overrides or []:
            menu.addAction(self._override_label(oid, label), lambda oid=oid: self.override_requested.emit(oid))
        self.facilitator_button.setMenu(menu)
        self.facilitator_button.setToolTip(_("Facilitator: add a note (Ctrl+N) or steer the visit"))
        bottom = QHBoxLayout()
        bottom.addWidget(self.prompt_label, 1)
        bottom.addWidget(self.share_button)
        bottom.addWidget(self.captions_button)
        bottom.addWidget(self.invite_button)
        bottom.addWidget(self.facilitator_button)
        bottom.addWidget(self.clock_label)
        bottom.addWidget(self.end_button)

        lay = QVBoxLayout(self)
        lay.addWidget(self.notices_label)
        lay.addWidget(tile, 1)
        lay.addWidget(self.cards_box)
        lay.addLayout(bottom)

        # What the window shows is drawn from a Qt-free visit state (trainer.core.visit_state) at the
        # session time, ~10 times a second; events only update that state (and drive the patient view).
        self.state = VisitState(has_mic=True)
        self.view = None
        self._now = lambda: 0.0
        self._camera_lost = False  # the state says the camera signal is gone: keep its notice, not a frame
        self._camera_off: str | None = None
        self._cards_step: str | None = None
        self._status: str | None = None  # replaces the prompt while the call is being ended
        self._replay = False
        self._all_notices: list[Notice] = []
        self._render_timer = QTimer(self)
        self._render_timer.timeout.connect(self.render)
        self._render_timer.start(RENDER_MS)  # also while connecting: device notices show at once

    # -- wiring --------------------------------------------------------------------------------------
    def follow_clock(self, now) -> None:
        """Show the visit at the session time `now()` returns (the runner's SessionClock, or a replay's
        playhead): the clock, the turn's time left, stale-signal checks and the patient's animation all
        read it, so what is on screen can be shown again in a replay."""
        self._now = now
        self.patient.follow_clock(now)

    def attach(self, bridge, runner) -> None:
        """Show the live visit `runner` runs: follow its clock, take its events from `bridge` (an
        EventBridge the runner posts to) and send the clinician's actions, cards and overrides to it."""
        self.follow_clock(runner.clock.now)
        bridge.prepare(FramePreview, prepare_preview)  # scaled for the self-view off the UI thread
        bridge.preview.connect(self.on_preview)
        bridge.frame_sample.connect(self.on_sample)
        bridge.audio_level.connect(self.on_level)
        bridge.scenario_event.connect(self.on_scenario_event)
        bridge.notice.connect(self.on_notice)
        bridge.speech_segment.connect(self.on_event)
        bridge.source_finished.connect(self.on_event)
        bridge.other_event.connect(self.on_event)
        bridge.utterance.connect(self.on_utterance)
        self.action_requested.connect(runner.ui_action)
        self.card_chosen.connect(runner.choose_card)
        self.override_requested.connect(runner.override)

    def _override_label(self, oid: str, label: str) -> str:
        own = self.scenario.override(oid)
        return localized(own, "label") if own is not None else _(label)

    def visit_started(self, recording: bool = False) -> None:
        self.recording_label.setVisible(recording)
        self.render()
        self.end_button.setFocus()

    def set_speak_freely(self, on: bool) -> None:
        """Speaking freely, the words choose the card: the cards are the way to be sure."""
        self.cards_hint.setText(_("Just say it - or pick what you mean to be sure:") if on else
                                _("Choose what you will do (or press its number), then say it:"))

    def _captions_toggled(self, on: bool) -> None:
        self.captions_label.setVisible(on and bool(self._last_words))

    def on_utterance(self, u: Utterance) -> None:
        """What the clinician just said (speech-to-text); shown only when captions are on. Utterances
        that follow each other within CAPTION_JOIN_S stay on the line together (a sentence split at a
        pause reads as one), the newest CAPTION_CHARS characters of them."""
        if not u.text:
            return
        joined = self._last_words and self._last_end is not None and u.start - self._last_end < CAPTION_JOIN_S
        words = f"{self._last_words} {u.text}" if joined else u.text
        if len(words) > CAPTION_CHARS:
            words = "…" + words[-CAPTION_CHARS:].split(" ", 1)[-1]
        self._last_words, self._last_end = words, u.end
        self.captions_label.setText(_("You: {words}").format(words=words))
        self.captions_label.setVisible(self.captions_button.isChecked() and bool(u.text))

    # -- bridge slots: every event goes into the visit state; a few also drive the patient view -------
    def on_event(self, ev) -> None:
        """Any event of the visit (scenario, pipeline, notices, source status), in session-time order."""
        self.state.apply(ev)

    def on_preview(self, preview) -> None:
        """The newest camera frame: a SelfViewFrame the bridge prepared on the posting thread, or a raw
        FramePreview (prepared here)."""
        if self._camera_lost:
            return
        if isinstance(preview, SelfViewFrame):
            self.self_view.show_prepared(preview)
        else:
            self.self_view.show_frame(preview.frame.image, preview.observation)

    def on_sample(self, s: FrameSample) -> None:
        self.state.apply(s)

    def on_level(self, lv: AudioLevel) -> None:
        self.state.apply(lv)

    def on_notice(self, n: Notice) -> None:
        self.state.apply(n)
        self._all_notices.append(n)
        if n.code in ("camera_unavailable", "face_model_unavailable"):
            self._camera_off = _("No camera\n(face feedback off)")
        if n.code == "mic_unavailable":
            self.state.has_mic = False

    def localized_line(self, text: str) -> str:
        """A patient line known only by its English text (a stored session's lines) in the app's language."""
        silence = self.scenario.silence
        lines = [*self.scenario.steps, *((*silence.checks, silence.give_up) if silence is not None else ())]
        line = next((x for x in lines if getattr(x, "text", None) == text), None)
        return localized(line, "text") if line is not None else text

    def _line(self, step_id: str):
        """The scenario's step or silence-check line with this id (None when there is none)."""
        try:
            return self.scenario.step(step_id)
        except KeyError:  # a silence check line
            silence = self.scenario.silence
            lines = (*silence.checks, silence.give_up) if silence is not None else ()
            return next((x for x in lines if x.id == step_id), None)

    def line_text(self, step_id: str, text: str) -> str:
        """A patient line in the app's language: its French text (the scenario's `_fr`) in French."""
        line = self._line(step_id)
        return localized(line, "text") if line is not None else text

    def on_scenario_event(self, ev) -> None:
        self.state.apply(ev)
        if isinstance(ev, PatientLineStarted):
            speaker = ev.speaker
            text = self.line_text(ev.step, ev.text)
            self.patient.set_emotion(ev.emotion, speaker=speaker)
            if ev.video and self.patient.play_clip(ev.video):
                self.patient.set_caption(text, ev.name if speaker == "caregiver" else "")
            else:
                rendered = self._line_audio(ev.step)
                self.patient.speak(text, ev.duration, rendered.envelope if rendered is not None else None,
                                   speaker=speaker, start_t=ev.t)
            self.announcer.patient_line(f"{ev.step}@{ev.t}", ev.name or self.scenario.patient.name, text)
        elif isinstance(ev, PatientLineEnded):
            self.patient.stop_speaking()
        elif isinstance(ev, CaregiverJoined) and self.scenario.caregiver is not None:
            self.patient.set_caregiver(self.scenario.caregiver.persona)
            self.invite_button.setEnabled(False)
            self.invite_button.setText(_("{name} joined").format(name=ev.name or _("Caregiver")))
        elif isinstance(ev, CaregiverLeft):
            self.patient.set_caregiver(None)
        elif isinstance(ev, ConnectionChanged):
            self.patient.set_connection_state(ev.state)
        elif isinstance(ev, VisitEnded):
            self.render()
            self._render_timer.stop()

    # -- rendering from the visit state ---------------------------------------------------------------
    def render(self) -> None:
        """Draw the window from the visit state at the current session time (called ~10 times a second)."""
        view = self.state.view(self._now())
        self.view = view
        self.clock_label.setText(clock_text(view.t))
        self.prompt_label.setText(self._prompt_text(view))
        self._render_cards(view.turn)
        self._render_face(view)
        self._render_mic(view)
        if self.feedback_mode == "live":
            self.talk_label.setText(_("You: {you} · Patient: {patient}").format(
                you=clock_text(view.clinician_talk_s), patient=clock_text(view.patient_talk_s)) +
                (" · " + _("talked over: {n}").format(n=view.interruptions) if view.interruptions else ""))
            if view.talk_share is not None:
                self.share_bar.setValue(int(round(view.talk_share * 100)))
        shown = [_(n.shown()) for n in view.notices]
        self.notices_label.setText("\n".join(shown[-4:]))
        self.notices_label.setVisible(bool(shown))
        if len(shown) > self._announced_notices:  # a new notice: one announcement, rate-limited
            self.announcer.nudge(shown[-1])
        self._announced_notices = len(shown)

    def show_status(self, text: str) -> None:
        """Show `text` in place of the turn prompt from now on (ending and saving the call)."""
        self._status = text
        self.prompt_label.setText(text)

    def _prompt_text(self, view) -> str:
        if self._status is not None:
            return self._status
        if view.phase == "connecting":
            return _("Connecting…")
        if view.phase == "ended":
            return _("The visit has ended.")
        if view.phase == "connection_problem":
            return _(CONNECTION_TEXT.get(view.connection, N_("Connection problem…")))
        if view.phase == "patient_speaking" and view.line is not None:
            return _("{name} is speaking…").format(name=view.line.name or self.scenario.patient.name)
        if view.phase == "clinician_turn" and view.turn is not None:
            turn = view.turn
            prompt = self._turn_prompt(turn.step, turn.prompt)
            if turn.speaking:
                return _("Your turn: {prompt}   (you are speaking; pause to let the patient answer)").format(
                    prompt=prompt)
            if turn.time_left_s is None:
                return _("Your turn: {prompt}").format(prompt=prompt)
            return _("Your turn: {prompt}   ({left} left)").format(prompt=prompt, left=clock_text(turn.time_left_s))
        return _("You are connected with {name}.").format(name=self.scenario.patient.name)

    def _turn_prompt(self, step_id: str, prompt: str) -> str:
        step = self._line(step_id)
        return localized(step, "prompt") if isinstance(step, ClinicianTurn) else prompt

    def _render_cards(self, turn) -> None:
        step = turn.step if turn is not None and turn.cards else None
        if step != self._cards_step:
            self._cards_step = step
            self._show_cards(list(turn.cards) if step is not None else [])
        if step is not None:
            for b in self._card_buttons:
                b.setChecked(b.property("card_id") == turn.chosen_card)

    def _render_face(self, view) -> None:
        face = view.face
        self._camera_lost = face.signal == "lost" or self._camera_off is not None
        if self._camera_off and not self._replay:
            self.self_view.show_unavailable(self._camera_off)
            self.face_label.setText(_("Face feedback is off for this visit."))
            self.quality_label.hide()
            return
        if self._replay:
            self.self_view.show_unavailable(self._camera_off or "")
        if face.signal == "lost":
            self.self_view.show_unavailable(_("No camera signal\nsince {t}").format(t=clock_text(face.since or 0.0)))
            self.face_label.setText(_("Face: no camera signal since {t}").format(t=clock_text(face.since or 0.0)))
            self.quality_label.hide()
            return
        if face.signal == "stale":
            self.face_label.setText(_("Face: {state}").format(state=face.text))
            self.quality_label.hide()
            return
        if face.signal == "waiting":
            self.face_label.setText(_("Face: waiting for the camera"))
            return
        if not face.face:
            self.face_label.setText(_("Face: not found — are you in front of the camera?"))
        else:
            gaze = GAZE_TEXT.get(face.gaze or "") if self.feedback_mode == "live" else None
            self.face_label.setText(_("Face: found · {head}").format(head=head_direction_text(*self._head())) +
                                    ("\n" + _(gaze) if gaze else ""))
        if self.feedback_mode == "live":
            advice = [_(ADVICE.get(q, q.replace("_", " "))) for q in face.quality]
            self.quality_label.setText("\n".join(advice))
            self.quality_label.setVisible(bool(advice))
            if advice and tuple(face.quality) != self._announced_quality:
                self.announcer.nudge(advice[0])  # a nudge: at most one per NUDGE_GAP_S
            self._announced_quality = tuple(face.quality)

    def _head(self) -> tuple[float | None, float | None]:
        f = self.state.frame
        return (None, None) if f is None else (f.yaw, f.pitch)

    def set_replay(self, note: str) -> None:
        """Replay mode: the same window, read-only (no call controls), the self-view showing `note`."""
        self._render_timer.stop()  # the replay page renders on each move of its playhead
        for w in (self.end_button, self.share_button, self.invite_button, self.facilitator_button):
            w.hide()
        self._camera_off = note
        self._replay = True

    def _render_mic(self, view) -> None:
        mic = view.mic
        live = mic.signal == "live"
        self.mic_meter.setEnabled(live)
        if live and mic.level_db is not None:
            self.mic_meter.setValue(int(max(0.0, min(60.0, mic.level_db + 60.0))))
        else:
            self.mic_meter.setValue(0)
        if mic.signal == "none":
            self.mic_label.setText(_("No mic"))
        elif mic.signal in ("lost", "stale"):
            self.mic_label.setText(mic.text[0].upper() + mic.text[1:])
        else:
            self.mic_label.setText(_("Speaking") if mic.speaking else _("Mic"))
        self.mic_label.setProperty("active", live and mic.speaking)

    def _show_cards(self, cards: list[dict]) -> None:
        for b in self._card_buttons:
            self.cards_row.removeWidget(b)
            b.deleteLater()
        self._card_buttons = []
        if not cards:
            self.cards_box.hide()
            return
        step = self._line(self._cards_step) if self._cards_step else None
        own = {c.id: c for c in step.cards} if isinstance(step, ClinicianTurn) else {}
        for i, card in enumerate(cards, start=1):
            label = localized(own[card["id"]], "label") if card["id"] in own else card["label"]
            detail = (localized(own[card["id"]], "detail") if card["id"] in own else card.get("detail")) or label
            b = QPushButton(f"{i}. {label}")
            b.setObjectName("intentCard")
            b.setCheckable(True)
            b.setToolTip(detail)
            b.setAccessibleDescription(_("Intent card {n}: {detail}").format(n=i, detail=detail))
            b.setProperty("card_id", card["id"])
            b.setShortcut(QKeySequence(str(i)))
            b.clicked.connect(lambda _=False, cid=card["id"]: self.card_chosen.emit(cid))
            b.setEnabled(not self._replay)
            self.cards_row.addWidget(b)
            self._card_buttons.append(b)
        self.cards_box.show()

    def _share_toggled(self, on: bool) -> None:
        self.share_button.setText(_("Stop sharing") if on else _("Share screen"))
        self.share_banner.setVisible(on)
        self.action_requested.emit("share_screen" if on else "stop_share")

    def all_notices_text(self) -> str:
        """Every notice of the visit so far (the window shows only the active ones)."""
        return "\n".join(n.shown() for n in self._all_notices)
