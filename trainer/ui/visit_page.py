"""Page 2: the visit window, laid out like a video-visit app.

    +------------------------------------------------------------+
    | notices (what feedback is unavailable and why)             |
    | +--------------------------------------------+ +--------+ |
    | | patient (animated, trainer.ui.patient_view)                               | |self-view| |
    | |                                            | +--------+ |
    | | caption: the patient's current line         |            |
    | +--------------------------------------------+            |
    | your turn: prompt            face/head   mic meter  00:42 |
    |                    [ End call ]                            |
    +------------------------------------------------------------+

Everything shown comes through the EventBridge; this page never reads worker state directly.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QImage, QKeySequence, QPainter, QPen, QPixmap, QShortcut
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QMenu, QProgressBar, QPushButton, QSizePolicy, QToolButton,
                               QVBoxLayout, QWidget)

from trainer.core.events import AudioLevel, FrameSample, Notice, ScenarioEvent
from trainer.core.scenario import Scenario
from trainer.ui.patient_view import PatientView

SELF_VIEW_W, SELF_VIEW_H = 256, 192

#: Plain-language advice for the video-quality flags of the face pipeline (DESIGN.md section 4).
QUALITY_ADVICE = {
    "face_too_small": "Move closer to the camera.",
    "off_centre": "Centre yourself in the picture.",
    "too_dark": "Your face is too dark: add light in front of you.",
    "backlit": "Strong light behind you: face the light or close the blind.",
    "camera_above_eye_level": "The camera is well above your eyes: lower it or raise your seat.",
    "camera_below_eye_level": "The camera is well below your eyes: raise it to eye level.",
    "face_lost": "Your face is not visible to the camera.",
    "multiple_faces": "More than one face is in view.",
}

GAZE_TEXT = {"camera": "looking into the camera", "screen": "looking at the patient", "away": "looking away"}


def head_direction_text(yaw: float | None, pitch: float | None) -> str:
    """Plain words for where the head points (mirror view: the clinician's own left/right)."""
    if yaw is None or pitch is None:
        return "head direction unknown"
    parts = []
    if yaw > 12:
        parts.append(f"turned left {yaw:.0f}°")
    elif yaw < -12:
        parts.append(f"turned right {-yaw:.0f}°")
    if pitch > 12:
        parts.append(f"up {pitch:.0f}°")
    elif pitch < -12:
        parts.append(f"down {-pitch:.0f}°")
    return "head " + (", ".join(parts) if parts else "facing the screen")


class SelfView(QLabel):
    """The clinician's mirrored camera picture with the face box and a head-direction arrow."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setFixedSize(SELF_VIEW_W, SELF_VIEW_H)
        self.setAlignment(Qt.AlignCenter)
        self.setObjectName("selfView")
        self.setText("Camera\nstarting…")

    def show_unavailable(self, text: str) -> None:
        self.clear()
        self.setText(text)

    def show_frame(self, image_bgr: np.ndarray, obs) -> None:
        h, w = image_bgr.shape[:2]
        rgb = np.ascontiguousarray(image_bgr[:, ::-1, ::-1])  # mirror + BGR->RGB
        qimg = QImage(rgb.data, w, h, 3 * w, QImage.Format_RGB888)
        pix = QPixmap.fromImage(qimg).scaled(self.size(), Qt.KeepAspectRatioByExpanding, Qt.SmoothTransformation)
        sx, sy = pix.width() / w, pix.height() / h
        painter = QPainter(pix)
        painter.setRenderHint(QPainter.Antialiasing)
        if obs is not None and getattr(obs, "face", False) and obs.bbox is not None:
            x0, y0, x1, y1 = obs.bbox
            # Mirror the normalised box to match the mirrored picture.
            rect = QRectF((1 - x1) * w * sx, y0 * h * sy, (x1 - x0) * w * sx, (y1 - y0) * h * sy)
            painter.setPen(QPen(QColor(80, 220, 140), 2))
            painter.drawRoundedRect(rect, 6, 6)
            if obs.yaw is not None and obs.pitch is not None:
                c = rect.center()
                length = rect.width() * 0.6
                # Mirror view: the clinician's left is the picture's left.
                dx = -math.sin(math.radians(obs.yaw)) * length
                dy = -math.sin(math.radians(obs.pitch)) * length
                painter.setPen(QPen(QColor(255, 210, 60), 3))
                end = QPointF(c.x() + dx, c.y() + dy)
                painter.drawLine(c, end)
                painter.setBrush(QColor(255, 210, 60))
                painter.drawEllipse(end, 4, 4)
        painter.end()
        # Crop the centre to the label size.
        x = (pix.width() - self.width()) // 2
        y = (pix.height() - self.height()) // 2
        self.setPixmap(pix.copy(x, y, self.width(), self.height()))


class VisitPage(QWidget):
    end_requested = Signal()
    action_requested = Signal(str)  # call-window action id (core.scenario.ACTIONS)
    card_chosen = Signal(str)  # intent card id of the current turn
    override_requested = Signal(str)  # facilitator override id

    def __init__(self, scenario: Scenario, feedback_mode: str = "live", parent=None, *, line_audio=None,
                 overrides: list[tuple[str, str]] | None = None):
        super().__init__(parent)
        self.scenario = scenario
        # "live": coaching cues during the visit; "after_action"/"off": none during the visit (the self-view
        # and device status stay, because a clinician needs them in any real call).
        self.feedback_mode = feedback_mode
        self.setObjectName("visitPage")
        self.setAttribute(Qt.WA_StyledBackground, True)  # let the style sheet paint the dark call background
        self.notices_label = QLabel()
        self.notices_label.setObjectName("noticeBox")
        self.notices_label.setWordWrap(True)
        self.notices_label.hide()
        self._notices: list[str] = []

        self.patient = PatientView(scenario.patient, background=scenario.setting.background)
        self.patient.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self._line_audio = line_audio or (lambda step_id: None)
        self.share_banner = QLabel("You are sharing your screen (the patient sees your results page).")
        self.share_banner.setObjectName("shareBanner")
        self.share_banner.hide()
        self.self_view = SelfView()
        tile = QWidget()
        tile_lay = QHBoxLayout(tile)
        tile_lay.setContentsMargins(0, 0, 0, 0)
        patient_col = QVBoxLayout()
        patient_col.addWidget(self.share_banner)
        patient_col.addWidget(self.patient, 1)
        tile_lay.addLayout(patient_col, 1)
        side = QVBoxLayout()
        side.addWidget(self.self_view)
        self.face_label = QLabel("Face: waiting for camera")
        self.face_label.setObjectName("status")
        self.face_label.setWordWrap(True)
        self.face_label.setFixedWidth(SELF_VIEW_W)
        side.addWidget(self.face_label)
        mic_row = QHBoxLayout()
        self.mic_label = QLabel("Mic")
        self.mic_label.setObjectName("status")
        self.mic_meter = QProgressBar()
        self.mic_meter.setRange(0, 60)
        self.mic_meter.setTextVisible(False)
        self.mic_meter.setFixedHeight(10)
        mic_row.addWidget(self.mic_label)
        mic_row.addWidget(self.mic_meter, 1)
        side.addLayout(mic_row)
        self.talk_label = QLabel("You: 0 s · Patient: 0 s")
        self.talk_label.setObjectName("status")
        side.addWidget(self.talk_label)
        self.share_bar = QProgressBar()
        self.share_bar.setRange(0, 100)
        self.share_bar.setFormat("Your share of the talk: %p%")
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

        self.prompt_label = QLabel("Connecting…")
        self.prompt_label.setObjectName("prompt")
        self.prompt_label.setWordWrap(True)
        self.clock_label = QLabel("00:00")
        self.clock_label.setObjectName("clock")
        self.end_button = QPushButton("End call")
        self.end_button.setObjectName("endCall")
        self.end_button.setToolTip("End the call (Ctrl+E)")
        self.end_button.clicked.connect(self.end_requested)
        QShortcut(QKeySequence("Ctrl+E"), self, activated=self.end_button.click)
        # Intent cards of the current turn: pick one (or a number key) before answering aloud.
        self.cards_row = QHBoxLayout()
        self.cards_box = QWidget()
        self.cards_box.setLayout(self.cards_row)
        self.cards_box.hide()
        hint = QLabel("Choose what you will do (or press its number), then say it:")
        hint.setObjectName("status")
        self.cards_row.addWidget(hint)
        self._card_buttons: list[QPushButton] = []
        # Call-window actions.
        self.share_button = QPushButton("Share screen")
        self.share_button.setObjectName("callAction")
        self.share_button.setCheckable(True)
        self.share_button.setToolTip("Share your screen with the patient (Ctrl+S)")
        self.share_button.toggled.connect(self._share_toggled)
        QShortcut(QKeySequence("Ctrl+S"), self, activated=self.share_button.toggle)
        self.invite_button = QPushButton("Invite caregiver")
        self.invite_button.setObjectName("callAction")
        self.invite_button.setToolTip("Invite the patient's caregiver into the call (Ctrl+I)")
        self.invite_button.clicked.connect(lambda: self.action_requested.emit("invite_caregiver"))
        QShortcut(QKeySequence("Ctrl+I"), self, activated=self.invite_button.click)
        self.invite_button.setVisible(scenario.caregiver is not None and scenario.caregiver.joins == "on_invite")
        self.facilitator_button = QToolButton()
        self.facilitator_button.setText("Facilitator")
        self.facilitator_button.setObjectName("callAction")
        self.facilitator_button.setPopupMode(QToolButton.InstantPopup)
        menu = QMenu(self.facilitator_button)
        for oid, label in overrides or []:
            menu.addAction(label, lambda oid=oid: self.override_requested.emit(oid))
        self.facilitator_button.setMenu(menu)
        self.facilitator_button.setVisible(bool(overrides))
        bottom = QHBoxLayout()
        bottom.addWidget(self.prompt_label, 1)
        bottom.addWidget(self.share_button)
        bottom.addWidget(self.invite_button)
        bottom.addWidget(self.facilitator_button)
        bottom.addWidget(self.clock_label)
        bottom.addWidget(self.end_button)

        lay = QVBoxLayout(self)
        lay.addWidget(self.notices_label)
        lay.addWidget(tile, 1)
        lay.addWidget(self.cards_box)
        lay.addLayout(bottom)

        self._elapsed = 0
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._tick)

    # -- bridge slots -------------------------------------------------------------------------------
    def visit_started(self) -> None:
        self.prompt_label.setText(f"You are connected with {self.scenario.patient.name}.")
        self._timer.start(1000)
        self.end_button.setFocus()

    def on_preview(self, preview) -> None:
        self.self_view.show_frame(preview.frame.image, preview.observation)

    def on_sample(self, s: FrameSample) -> None:
        if not s.face:
            self.face_label.setText("Face: not found — are you in front of the camera?")
        else:
            gaze = GAZE_TEXT.get(s.gaze) if self.feedback_mode == "live" else None
            self.face_label.setText(f"Face: found · {head_direction_text(s.yaw, s.pitch)}" +
                                    (f"\nYou are {gaze}" if gaze else ""))
        if self.feedback_mode != "live":
            return
        advice = [QUALITY_ADVICE.get(q, q.replace("_", " ")) for q in s.quality]
        self.quality_label.setText("\n".join(advice))
        self.quality_label.setVisible(bool(advice))

    def on_talk_balance(self, tb) -> None:
        if self.feedback_mode != "live":
            return
        self.talk_label.setText(f"You: {tb.clinician_s:.0f} s · Patient: {tb.patient_s:.0f} s" +
                                (f" · talked over: {tb.interruptions}" if tb.interruptions else ""))
        if tb.share is not None:
            self.share_bar.setValue(int(round(tb.share * 100)))

    def on_level(self, lv: AudioLevel) -> None:
        self.mic_meter.setValue(int(max(0.0, min(60.0, lv.rms_db + 60.0))))
        self.mic_label.setText("Speaking" if lv.speaking else "Mic")
        self.mic_label.setProperty("active", lv.speaking)

    def on_scenario_event(self, ev: ScenarioEvent) -> None:
        d = ev.data
        if ev.kind == "patient_line":
            speaker = d.get("speaker", "patient")
            self.patient.set_emotion(d.get("emotion", "neutral"), speaker=speaker)
            if d.get("video") and self.patient.play_clip(d["video"]):
                self.patient.set_caption(d["text"], d.get("name", "") if speaker == "caregiver" else "")
            else:
                rendered = self._line_audio(d["step"])
                self.patient.speak(d["text"], d.get("duration", 3.0),
                                   rendered.envelope if rendered is not None else None, speaker=speaker)
            self.prompt_label.setText(f"{d.get('name') or self.scenario.patient.name} is speaking…")
        elif ev.kind == "patient_line_end":
            self.patient.stop_speaking()
        elif ev.kind == "clinician_turn":
            self.prompt_label.setText(f"Your turn: {d['prompt']}")
            self._show_cards(d.get("cards") or [])
        elif ev.kind == "card_chosen":
            for b in self._card_buttons:
                b.setChecked(b.property("card_id") == d.get("card"))
                b.setEnabled(False)
        elif ev.kind == "clinician_turn_end":
            self._show_cards([])
        elif ev.kind == "caregiver_join" and self.scenario.caregiver is not None:
            self.patient.set_caregiver(self.scenario.caregiver.persona)
            self.invite_button.setEnabled(False)
            self.invite_button.setText(f"{d.get('name', 'Caregiver')} joined")
        elif ev.kind == "caregiver_leave":
            self.patient.set_caregiver(None)
        elif ev.kind == "connection":
            self.patient.set_connection_state(d.get("state", "ok"))
        elif ev.kind == "visit_end":
            self._timer.stop()
            self._show_cards([])
            self.prompt_label.setText("The visit has ended.")

    def _show_cards(self, cards: list[dict]) -> None:
        for b in self._card_buttons:
            self.cards_row.removeWidget(b)
            b.deleteLater()
        self._card_buttons = []
        if not cards:
            self.cards_box.hide()
            return
        for i, card in enumerate(cards, start=1):
            b = QPushButton(f"{i}. {card['label']}")
            b.setObjectName("intentCard")
            b.setCheckable(True)
            b.setToolTip(card.get("detail") or card["label"])
            b.setProperty("card_id", card["id"])
            b.setShortcut(QKeySequence(str(i)))
            b.clicked.connect(lambda _=False, cid=card["id"]: self.card_chosen.emit(cid))
            self.cards_row.addWidget(b)
            self._card_buttons.append(b)
        self.cards_box.show()

    def _share_toggled(self, on: bool) -> None:
        self.share_button.setText("Stop sharing" if on else "Share screen")
        self.share_banner.setVisible(on)
        self.action_requested.emit("share_screen" if on else "stop_share")

    def on_notice(self, n: Notice) -> None:
        self._notices.append(n.message)
        self.notices_label.setText("\n".join(self._notices[-4:]))
        self.notices_label.show()
        if n.code == "camera_unavailable" or n.code == "face_model_unavailable":
            self.self_view.show_unavailable("No camera\n(face feedback off)")
            self.face_label.setText("Face feedback is off for this visit.")
        if n.code == "mic_unavailable":
            self.mic_label.setText("No mic")
            self.mic_meter.setEnabled(False)

    def on_source_finished(self, ev) -> None:
        if ev.kind == "camera":
            self.face_label.setText(self.face_label.text() + "\n(camera input ended)")

    def _tick(self) -> None:
        self._elapsed += 1
        self.clock_label.setText(f"{self._elapsed // 60:02d}:{self._elapsed % 60:02d}")
