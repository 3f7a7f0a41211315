"""The animated virtual patient: a person at home on a video call.

`PatientView(persona)` paints, about 30 times a second, a head-and-shoulders figure built from the
persona's appearance (skin tone, hair colour and style, age cues, glasses, facial hair, clothing) in
front of a home background. The figure breathes and sways a little, blinks at irregular intervals,
looks at the clinician (with small glances away), moves its lips with the loudness envelope of the
line being spoken, and changes expression smoothly between seven emotions. A caption strip shows the
current line. When the scenario gives a recorded video clip, `play_clip(path)` shows that instead,
muted (the clip's sound is played with the other patient audio). Its frames are decoded by the app's
video-file reader (trainer.capture.video, OpenCV) on this widget's own timer, not by Qt Multimedia:
the packaged app leaves Qt Multimedia out (its FFmpeg plugin brings a third FFmpeg and Qt Quick/QML,
about 45 MB; docs/packaging.md).

API used by the visit window:
    view = PatientView(persona)              # trainer.core.scenario.Persona
    view.set_background("kitchen")           # from scenario.setting.background
    view.set_emotion("worried")
    view.speak(text, duration_s, envelope)   # envelope: mouth opening 0..1 at 100 Hz, or None
    view.stop_speaking(); view.set_caption(text)
    view.set_connection_state("frozen" | "audio_dropped" | "reconnecting" | "ok")
    view.set_caregiver(persona or None)      # a second person joins beside the patient
    view.speak(text, d, env, speaker="caregiver")
Painting is cached in layers: the background, the body, the head with its still features (eyes, brows,
lines, cheeks, glasses; redrawn only when one of them visibly moves) and the caption strip (laid out once
per line). Only the mouth is drawn live every frame, so a 1000x750 frame costs about 2.7 ms of the UI
thread's CPU instead of 5.9 ms (median over a visit, benchmarks/soak.py).
"""

from __future__ import annotations

import math
import random
import time
import zlib
from dataclasses import dataclass, fields

import numpy as np
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import (QColor, QFont, QFontMetrics, QImage, QLinearGradient, QPainter, QPainterPath, QPen,
                           QPixmap, QRadialGradient)
from PySide6.QtWidgets import QSizePolicy, QWidget

EMOTIONS = ("neutral", "worried", "sad", "relieved", "confused", "frustrated", "smiling")
FRAME_MS = 30  # ~33 frames a second: above 30 even when a timer tick comes late
ENVELOPE_HZ = 100
#: The still features are redrawn when a parameter of theirs moves by this much (about 0.1 px at 1000x750).
FEATURE_STEP = 0.005

SKIN = {"very_light": "#f2d8c6", "light": "#e8bf9f", "medium": "#cf9c78", "olive": "#bf9467", "brown": "#94603e",
        "dark": "#5f3a24"}
HAIR = {"black": "#1d1a18", "dark_brown": "#38271d", "brown": "#65452f", "auburn": "#7c3a21", "blonde": "#c4a062",
        "grey_brown": "#7a6c61", "grey": "#a39f99", "white": "#dcd8d1"}
TOPS = {"blue": "#3f6ea8", "navy": "#26344f", "green": "#4c7a55", "teal": "#2f7f7d", "red": "#a83a36",
        "burgundy": "#6d2434", "mustard": "#c29a3a", "grey": "#6d7075", "purple": "#6a4f8a", "white": "#e6e4df"}


@dataclass
class Face:
    """Expression parameters (roughly -1..1). Emotions are targets; the face eases towards them."""

    brow_inner: float = 0.0  # + raised inner ends (worry, sadness), - pulled down (anger)
    brow_height: float = 0.0  # + whole brow up
    brow_asym: float = 0.0  # + right brow up, left down (puzzlement)
    lid: float = 0.0  # + wide, - heavy lids
    squint: float = 0.0  # lower lids up (smile, tension)
    smile: float = 0.0  # + corners up, - down
    width: float = 0.0  # + wide mouth, - narrow
    press: float = 0.0  # lips pressed thin
    jaw: float = 0.0  # resting mouth opening
    tilt: float = 0.0  # head roll, degrees / 10
    nod: float = 0.0  # head pitch down (+), shows as a small drop
    gaze_down: float = 0.0  # eyes lowered
    cheek: float = 0.0  # cheek raise / blush


EMOTION_FACES: dict[str, Face] = {
    "neutral": Face(),
    "worried": Face(brow_inner=0.85, brow_height=0.15, lid=0.2, smile=-0.25, width=-0.15, press=0.25,
                    tilt=0.2, gaze_down=0.1),
    "sad": Face(brow_inner=0.9, brow_height=-0.1, lid=-0.45, smile=-0.55, width=-0.1, tilt=-0.35, nod=0.5,
                gaze_down=0.55),
    "relieved": Face(brow_inner=0.25, brow_height=0.2, lid=-0.1, squint=0.25, smile=0.45, width=0.15,
                     tilt=0.25, cheek=0.2),
    "confused": Face(brow_inner=0.2, brow_asym=0.85, lid=0.1, squint=0.2, smile=-0.15, width=-0.2, press=0.15,
                     tilt=0.8),
    "frustrated": Face(brow_inner=-0.9, brow_height=-0.35, lid=-0.1, squint=0.55, smile=-0.35, width=-0.05,
                       press=0.85, tilt=-0.1, cheek=0.15),
    "smiling": Face(brow_inner=0.1, brow_height=0.25, squint=0.6, smile=1.0, width=0.45, jaw=0.18, cheek=0.55,
                    tilt=0.15),
}


def _mix(a: QColor, b: QColor, t: float) -> QColor:
    return QColor(int(a.red() + (b.red() - a.red()) * t), int(a.green() + (b.green() - a.green()) * t),
                  int(a.blue() + (b.blue() - a.blue()) * t), int(a.alpha() + (b.alpha() - a.alpha()) * t))


@dataclass(frozen=True)
class Look:
    """Appearance resolved from a persona: colours and shapes the painter uses."""

    skin: QColor
    hair: QColor
    hair_style: str
    top: QColor
    glasses: bool
    facial_hair: str
    age: int
    feminine: bool

    @classmethod
    def from_persona(cls, persona) -> "Look":
        a = dict(getattr(persona, "appearance", {}) or {})
        age = int(persona.age) if getattr(persona, "age", None) else 45
        pron = (getattr(persona, "pronouns", "") or "").lower()
        feminine = pron.startswith("she")
        default_hair = "grey" if age >= 70 else "dark_brown"
        style = a.get("hair_style") or ("medium" if feminine else "short")
        return cls(QColor(SKIN.get(a.get("skin", "medium"), SKIN["medium"])),
                   QColor(HAIR.get(a.get("hair", default_hair), HAIR[default_hair])), style,
                   QColor(TOPS.get(a.get("top", "blue"), TOPS["blue"])), bool(a.get("glasses", False)),
                   a.get("facial_hair", "none"), age, feminine)


class PatientView(QWidget):
    """The patient's video tile. See the module docstring for the API."""

    def __init__(self, persona, parent=None, *, background: str = "living_room", animate: bool = True):
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.setMinimumSize(320, 180)
        self.setAttribute(Qt.WA_OpaquePaintEvent, True)  # we paint every pixel: skip clearing
        self.persona = persona
        self.background = background
        self.caregiver = None
        self.connection = "ok"
        self.caption = ""
        self.caption_speaker = ""
        # Caption settings (About › Your choices): size factor, and high contrast = yellow on opaque black.
        self.caption_scale = 1.0
        self.caption_high_contrast = False
        self.emotion = "neutral"
        self._figures = [_Figure(persona, seed=zlib.crc32(persona.name.encode()))]
        self._bg_cache: tuple[tuple, QPixmap] | None = None
        self._caption_cache: tuple[tuple, QPoint, QPixmap] | None = None
        self._frozen: QPixmap | None = None
        self._clip: _Clip | None = None  # while a recorded clip plays
        self._clip_image: QImage | None = None
        self._clip_timer = QTimer(self)
        self._clip_timer.timeout.connect(self._advance_clip)
        self._time_fn = time.monotonic
        self._t0 = self._time_fn()
        self._last = 0.0
        self.frames = 0
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.PreciseTimer)
        self._timer.timeout.connect(self._advance)
        if animate:
            self._timer.start(FRAME_MS)

    # -- API ----------------------------------------------------------------------------------------
    def set_emotion(self, name: str, speaker: str = "patient") -> None:
        """Ease the face towards one of EMOTIONS (unknown names fall back to neutral)."""
        fig = self._figure(speaker)
        fig.target = EMOTION_FACES.get(name, EMOTION_FACES["neutral"])
        if speaker == "patient":
            self.emotion = name if name in EMOTION_FACES else "neutral"

    def speak(self, text: str, duration_s: float, envelope: np.ndarray | None = None,
              speaker: str = "patient", start_t: float | None = None) -> None:
        """Start a line: lips follow `envelope` (0..1 at 100 Hz) for duration_s; without an envelope
        they follow a syllable rhythm. The caption shows the text. `start_t` is when the line started on
        this view's clock (with `follow_clock`, the line's session time), so lips stay with the voice
        even when the event reaches the window late."""
        fig = self._figure(speaker)
        env = None if envelope is None else np.clip(np.asarray(envelope, dtype=np.float32), 0.0, 1.0)
        fig.speech = (self._now() if start_t is None else float(start_t), float(duration_s), env,
                      len(text.split()))
        for other in self._figures:
            if other is not fig:
                other.speech = None
        name = fig.persona.name if speaker == "caregiver" else ""
        self.set_caption(text, name)

    def stop_speaking(self) -> None:
        for fig in self._figures:
            fig.speech = None

    def set_caption_style(self, scale: float = 1.0, high_contrast: bool = False) -> None:
        """Caption size (1 = default, 2 = twice) and contrast (True: yellow text on opaque black)."""
        self.caption_scale = scale
        self.caption_high_contrast = high_contrast
        self.update()

    def set_caption(self, text: str, speaker: str = "") -> None:
        self.caption = text or ""
        self.caption_speaker = speaker
        self.update()

    def set_background(self, name: str) -> None:
        self.background = name
        self._bg_cache = None
        self.update()

    def set_caregiver(self, persona) -> None:
        """Show a second person (a caregiver joining) beside the patient, or remove them (None)."""
        self.caregiver = persona
        self._figures = self._figures[:1]
        if persona is not None:
            self._figures.append(_Figure(persona, seed=zlib.crc32(persona.name.encode()) + 7))
        for f in self._figures:
            f.cache = f.face_cache = None
        self.update()

    def set_connection_state(self, state: str) -> None:
        """'frozen' holds the last picture, 'audio_dropped' shows a muted badge (the lips still move),
        'reconnecting' dims the picture, 'ok' restores the live picture."""
        if state == "frozen" and self.connection != "frozen":
            self._frozen = self.grab_frame()
        self.connection = state if state in ("frozen", "audio_dropped", "reconnecting") else "ok"
        if self.connection != "frozen":
            self._frozen = None
        self.update()

    def play_clip(self, path: str) -> bool:
        """Show a recorded video clip instead of the drawn patient (muted), each frame at its own time in
        the clip. Returns False if the file cannot be decoded, in which case the drawn patient stays."""
        from trainer.capture.video import VideoFileSource
        from trainer.core.errors import SourceError

        self.stop_clip()
        source = VideoFileSource(path, realtime=False)
        try:
            source.open()
        except SourceError:
            source.close()
            return False
        self._clip = _Clip(source, source.frames(), time.monotonic())
        # Twice the clip's frame rate, so no frame is shown much later than its time.
        self._clip_timer.start(max(5, int(500 / source.fps)))
        self._advance_clip()
        return True

    def stop_clip(self) -> None:
        self._clip_timer.stop()
        if self._clip is not None:
            self._clip.source.close()
        self._clip = None
        self._clip_image = None
        self.update()

    @property
    def clip_playing(self) -> bool:
        return self._clip_image is not None

    def mouth_open(self, speaker: str = "patient") -> float:
        """Current mouth opening 0..1 (for tests and the debrief replay)."""
        return self._figure(speaker).mouth

    def follow_clock(self, now) -> None:
        """Animate on the session clock: `now()` gives session seconds (the visit's SessionClock or a
        replay's playhead), so lip timing and idle motion match the session timeline."""
        self._time_fn = now
        self._t0 = 0.0
        self._last = now()

    def set_time_source(self, fn) -> None:
        """Drive the animation from another clock (tests step time by hand)."""
        self._time_fn = fn
        self._t0 = fn()

    def advance(self) -> None:
        """One animation step at the current time (the timer calls this ~30 times a second)."""
        self._advance()

    def grab_frame(self) -> QPixmap:
        """The current picture without the frozen overlay (for the freeze effect and screenshots)."""
        pix = QPixmap(self.size())
        p = QPainter(pix)
        self._paint_live(p)
        p.end()
        return pix

    # -- animation ----------------------------------------------------------------------------------
    def _now(self) -> float:
        return self._time_fn() - self._t0

    def _figure(self, speaker: str) -> "_Figure":
        if speaker == "caregiver" and len(self._figures) > 1:
            return self._figures[1]
        return self._figures[0]

    def _advance(self) -> None:
        if self.connection == "frozen":
            return
        now = self._now()
        dt = min(0.2, max(0.0, now - self._last))
        self._last = now
        for fig in self._figures:
            fig.step(now, dt, self.connection == "audio_dropped")
        self.update()

    # -- painting -----------------------------------------------------------------------------------
    def paintEvent(self, _event) -> None:
        p = QPainter(self)
        if self.connection == "frozen" and self._frozen is not None:
            p.drawPixmap(0, 0, self._frozen)
            self._paint_badge(p, "Poor connection: the picture is frozen")
        else:
            self._paint_live(p)
            if self.connection == "reconnecting":
                p.fillRect(self.rect(), QColor(0, 0, 0, 120))
                self._paint_badge(p, "Reconnecting…")
            elif self.connection == "audio_dropped":
                self._paint_badge(p, "Audio interrupted: you cannot hear the patient", muted=True)
        self._paint_caption(p)
        p.end()
        self.frames += 1

    def _paint_live(self, p: QPainter) -> None:
        w, h = self.width(), self.height()
        if self._clip_image is not None:
            p.fillRect(self.rect(), Qt.black)
            img = self._clip_image.scaled(w, h, Qt.KeepAspectRatio, Qt.SmoothTransformation)
            p.drawImage((w - img.width()) // 2, (h - img.height()) // 2, img)
        else:
            p.drawPixmap(0, 0, self._background_pixmap())
            p.setRenderHint(QPainter.Antialiasing)
            n = len(self._figures)
            for i, fig in enumerate(self._figures):
                if n == 1:
                    cx, scale = w * 0.5, h / 540
                else:
                    cx, scale = (w * 0.38, h / 540) if i == 0 else (w * 0.74, h / 540 * 0.86)
                fig.paint(p, cx, h, scale)
        self._paint_name(p)

    def _background_pixmap(self) -> QPixmap:
        key = (self.width(), self.height(), self.background)
        if self._bg_cache is None or self._bg_cache[0] != key:
            self._bg_cache = (key, paint_background(self.width(), self.height(), self.background))
        return self._bg_cache[1]

    def _paint_name(self, p: QPainter) -> None:
        names = self.persona.name + (f"  ·  {self.caregiver.name}" if self.caregiver is not None else "")
        f = QFont(self.font())
        f.setPointSizeF(max(9.0, self.height() / 48))
        p.setFont(f)
        fm = QFontMetrics(f)
        box = QRectF(12, 12, fm.horizontalAdvance(names) + 20, fm.height() + 10)
        p.setPen(Qt.NoPen)
        p.setBrush(QColor(0, 0, 0, 130))
        p.drawRoundedRect(box, 6, 6)
        p.setPen(QColor(255, 255, 255))
        p.drawText(box, Qt.AlignCenter, names)

    def _paint_caption(self, p: QPainter) -> None:
        """The caption strip, laid out and drawn once per line and size (a pixmap drawn every frame)."""
        if not self.caption:
            return
        key = (self.caption, self.caption_speaker, self.width(), self.height(), self.caption_scale,
               self.caption_high_contrast, self.font().toString())
        if self._caption_cache is None or self._caption_cache[0] != key:
            self._caption_cache = (key, *self._caption_pixmap())
        p.drawPixmap(self._caption_cache[1], self._caption_cache[2])

    def _caption_pixmap(self) -> tuple[QPoint, QPixmap]:
        """The caption strip on a transparent pixmap, and where it goes (whole pixels: the strip is drawn
        at its fractional place inside the pixmap, so the result is the same as drawing it directly)."""
        w, h = self.width(), self.height()
        f = QFont(self.font())
        f.setPointSizeF(max(10.0, h / 36) * self.caption_scale)
        text = f"{self.caption_speaker}: {self.caption}" if self.caption_speaker else self.caption
        margin = w * 0.06
        fm = QFontMetrics(f)
        bound = fm.boundingRect(QRectF(0, 0, w - 2 * margin - 32, h).toRect(), Qt.TextWordWrap | Qt.AlignCenter, text)
        box = QRectF(margin, h - bound.height() - 30, w - 2 * margin, bound.height() + 18)
        at = QPoint(math.floor(box.left()), math.floor(box.top()))
        pix = QPixmap(math.ceil(box.right()) - at.x() + 1, math.ceil(box.bottom()) - at.y() + 1)
        pix.fill(Qt.transparent)
        p = QPainter(pix)
        p.translate(-at.x(), -at.y())
        p.setFont(f)
        p.setRenderHint(QPainter.Antialiasing)
        p.setPen(Qt.NoPen)
        # Standard: white on 65 % black, at least 7:1 over any picture; high: yellow on black, 19.6:1.
        p.setBrush(QColor(0, 0, 0, 255 if self.caption_high_contrast else 165))
        p.drawRoundedRect(box, 8, 8)
        p.setPen(QColor(255, 255, 0) if self.caption_high_contrast else QColor(255, 255, 255))
        p.drawText(box.adjusted(16, 6, -16, -6), Qt.TextWordWrap | Qt.AlignCenter, text)
        p.end()
        return at, pix

    def _paint_badge(self, p: QPainter, text: str, muted: bool = False) -> None:
        f = QFont(self.font())
        f.setPointSizeF(max(9.0, self.height() / 44))
        f.setBold(True)
        p.setFont(f)
        fm = QFontMetrics(f)
        bw = fm.horizontalAdvance(text) + 48
        box = QRectF((self.width() - bw) / 2, self.height() * 0.08, bw, fm.height() + 14)
        p.setRenderHint(QPainter.Antialiasing)
        p.setPen(Qt.NoPen)
        p.setBrush(QColor(180, 40, 40, 210) if muted else QColor(30, 30, 30, 200))
        p.drawRoundedRect(box, 8, 8)
        p.setPen(QColor(255, 255, 255))
        p.drawText(box.adjusted(30, 0, -8, 0), Qt.AlignVCenter | Qt.AlignLeft, text)
        # A small icon: a slashed speaker or a broken-signal mark.
        c = QPointF(box.left() + 17, box.center().y())
        p.setPen(QPen(QColor(255, 255, 255), 2))
        if muted:
            p.drawRect(QRectF(c.x() - 6, c.y() - 3, 4, 6))
            p.drawLine(c + QPointF(-2, -3), c + QPointF(3, -7))
            p.drawLine(c + QPointF(-2, 3), c + QPointF(3, 7))
            p.drawLine(c + QPointF(-7, -7), c + QPointF(7, 7))
        else:
            for i in range(3):
                p.drawLine(c + QPointF(-6 + 5 * i, 6), c + QPointF(-6 + 5 * i, 6 - 4 * (i + 1)))

    # -- clip ---------------------------------------------------------------------------------------
    def _advance_clip(self) -> None:
        """Show the latest clip frame whose time has come; at the end of the clip, the drawn patient."""
        clip = self._clip
        if clip is None:
            return
        elapsed = time.monotonic() - clip.started
        frame = None
        try:
            while clip.pending is None or clip.pending.t <= elapsed:
                if clip.pending is not None:
                    frame = clip.pending
                clip.pending = next(clip.frames)
        except StopIteration:
            if frame is None:
                self.stop_clip()
                return
            clip.pending = None
        if frame is not None:
            h, w = frame.image.shape[:2]
            self._clip_image = QImage(frame.image.data, w, h, frame.image.strides[0], QImage.Format_BGR888).copy()
            self.update()


@dataclass
class _Clip:
    """A recorded clip being shown: its reader, its frame iterator, when it started (monotonic s) and the
    next frame, read but not yet due."""

    source: object  # trainer.capture.video.VideoFileSource
    frames: object  # iterator of trainer.capture.base.Frame
    started: float
    pending: object = None


class _Figure:
    """One animated person: appearance, expression state, idle motion, blinks, gaze, lips."""

    def __init__(self, persona, seed: int = 0):
        self.persona = persona
        self.look = Look.from_persona(persona)
        self.face = Face()
        self.target = EMOTION_FACES["neutral"]
        self.rng = random.Random(seed)
        self.phase = self.rng.random() * 100
        self.speech: tuple[float, float, np.ndarray | None, int] | None = None
        self.mouth = 0.0
        self.blink = 0.0  # 0 open .. 1 closed
        self._next_blink = 1.0 + self.rng.random() * 3
        self._blink_t = -1.0
        self.gaze = [0.0, 0.0]
        self._gaze_target = [0.0, 0.0]
        self._next_glance = 2.0 + self.rng.random() * 3
        self.t = 0.0
        self.cache: tuple[tuple, QPixmap, QPixmap, QPointF] | None = None
        self.face_cache: tuple[tuple, QPixmap] | None = None  # the head with its still features

    # -- state --------------------------------------------------------------------------------------
    def step(self, now: float, dt: float, silent_speech: bool) -> None:
        self.t = now
        # Expressions ease with a ~0.3 s time constant: fast enough to read, slow enough to look human.
        k = 1.0 - math.exp(-dt / 0.3) if dt > 0 else 0.0
        for f in fields(Face):
            cur, tgt = getattr(self.face, f.name), getattr(self.target, f.name)
            setattr(self.face, f.name, cur + (tgt - cur) * k)
        self.mouth = self._mouth_at(now)
        # Blinks: 120 ms close, 160 ms open, every 2-6 s, now and then a double blink.
        if now >= self._next_blink and self._blink_t < 0:
            self._blink_t = now
        if self._blink_t >= 0:
            e = now - self._blink_t
            self.blink = min(1.0, e / 0.12) if e < 0.12 else max(0.0, 1.0 - (e - 0.12) / 0.16)
            if e > 0.28:
                self._blink_t = -1.0
                self.blink = 0.0
                gap = 0.35 if self.rng.random() < 0.12 else 2.0 + self.rng.random() * 4.0
                self._next_blink = now + gap
        # Gaze: at the clinician, with short glances aside or down (more downwards when sad or worried).
        if now >= self._next_glance:
            if self.rng.random() < 0.35 and self.speech is None:
                self._gaze_target = [self.rng.uniform(-0.7, 0.7), self.rng.uniform(0.0, 0.5)]
                self._next_glance = now + 0.6 + self.rng.random() * 0.8
            else:
                self._gaze_target = [self.rng.uniform(-0.12, 0.12), self.rng.uniform(-0.08, 0.08)]
                self._next_glance = now + 1.5 + self.rng.random() * 3.0
        g = 1.0 - math.exp(-dt / 0.06) if dt > 0 else 0.0  # eye movements are quick (saccades)
        self.gaze[0] += (self._gaze_target[0] - self.gaze[0]) * g
        self.gaze[1] += (self._gaze_target[1] + self.face.gaze_down * 0.6 - self.gaze[1]) * g

    def _mouth_at(self, now: float) -> float:
        if self.speech is None:
            return 0.0
        start, duration, env, words = self.speech
        e = now - start
        if e < 0 or e > duration:
            if e > duration:
                self.speech = None
            return 0.0
        if env is not None and len(env):
            i = int(e * ENVELOPE_HZ)
            return float(env[min(i, len(env) - 1)])
        # No envelope: open and close at the syllable rate the line implies, fading at the edges.
        rate = max(2.5, min(6.0, 1.4 * words / max(duration, 0.5)))
        fade = min(1.0, e / 0.15, (duration - e) / 0.2)
        return max(0.0, fade * (0.5 + 0.5 * math.sin(2 * math.pi * rate * e)) ** 1.5 * 0.85)

    # -- painting -----------------------------------------------------------------------------------
    def paint(self, p: QPainter, cx: float, h: float, scale: float) -> None:
        u = 185 * scale  # face width in pixels
        t = self.t + self.phase
        breathe = math.sin(2 * math.pi * 0.23 * t)
        sway_x = (math.sin(2 * math.pi * 0.11 * t) * 0.6 + math.sin(2 * math.pi * 0.27 * t + 1.3) * 0.4) * u * 0.025
        sway_y = math.sin(2 * math.pi * 0.17 * t + 0.4) * u * 0.01
        talk_bob = self.mouth * u * 0.012
        body_cache, head_cache, head_anchor = self._cached(u)
        # Webcam framing: the chin sits about two thirds down the picture, the shoulders run off the
        # bottom edge.
        body_top = h * 0.69 - u * 0.08
        p.drawPixmap(QPointF(cx - body_cache.width() / 2 + sway_x * 0.3, body_top - breathe * u * 0.008),
                     body_cache)
        # The head pivots at the top of the neck.
        pivot = QPointF(cx + sway_x, body_top + u * 0.08 + sway_y - breathe * u * 0.012)
        angle = self.face.tilt * 6 + math.sin(2 * math.pi * 0.09 * t) * 1.5
        p.save()
        p.translate(pivot)
        p.rotate(angle)
        p.translate(0, self.face.nod * u * 0.05 + talk_bob)
        p.setRenderHint(QPainter.SmoothPixmapTransform)
        # Without antialiased edges: the pixmap's border is transparent, so they change nothing, and the
        # rotated blit is the frame's largest single cost with them (0.41 vs 0.24 ms at 1000x750).
        p.setRenderHint(QPainter.Antialiasing, False)
        p.drawPixmap(QPointF(-head_anchor.x(), -head_anchor.y()), self._face_pixmap(u, head_cache, head_anchor))
        p.setRenderHint(QPainter.Antialiasing)
        # The mouth, live every frame, in face coordinates: origin at the face centre, unit = face width.
        p.translate(0, -u * 0.6)
        p.scale(u, u)
        self._paint_mouth(p)
        p.restore()

    def _cached(self, u: float) -> tuple[QPixmap, QPixmap, QPointF]:
        key = (round(u, 1),)
        if self.cache is None or self.cache[0] != key:
            body = paint_body(self.look, u)
            head, anchor = paint_head(self.look, u)
            self.cache = (key, body, head, anchor)
        return self.cache[1], self.cache[2], self.cache[3]

    def _face_pixmap(self, u: float, head: QPixmap, anchor: QPointF) -> QPixmap:
        """The head with its still features (eyes, brows, lines, cheeks, glasses) drawn on, redrawn only
        when they visibly change: their parameters rounded to FEATURE_STEP are the cache key. Between
        blinks, glances and expression changes, most frames reuse it, and a frame then costs the mouth."""
        f, q = self.face, 1.0 / FEATURE_STEP
        key = (round(u, 1), *(round(v * q) for v in (f.brow_inner, f.brow_height, f.brow_asym, f.lid, f.squint,
                                                      f.gaze_down, f.cheek, self.blink, *self.gaze)))
        if self.face_cache is None or self.face_cache[0] != key:
            pix = QPixmap(head.size())
            pix.fill(Qt.transparent)
            p = QPainter(pix)
            p.drawPixmap(0, 0, head)
            p.setRenderHint(QPainter.Antialiasing)
            p.translate(anchor.x(), anchor.y() - u * 0.6)  # the face coordinates paint() uses for the mouth
            p.scale(u, u)
            self._paint_still_features(p)
            p.end()
            self.face_cache = (key, pix)
        return self.face_cache[1]

    def _paint_still_features(self, p: QPainter) -> None:
        """Everything on the face but the mouth (which paint() draws live; nothing here overlaps it)."""
        f, look = self.face, self.look
        skin = look.skin
        old = max(0.0, min(1.0, (look.age - 45) / 35))
        # Eyes.
        lid_open = max(0.0, 1.0 - self.blink) * (1.0 + 0.35 * f.lid) * (1.0 - 0.35 * f.squint)
        for side in (-1, 1):
            ex, ey = side * 0.205, -0.075
            ew, eh = 0.185, 0.085
            eye = QPainterPath()
            eye.moveTo(ex - ew / 2, ey)
            eye.cubicTo(ex - ew / 4, ey - eh * 0.75, ex + ew / 4, ey - eh * 0.75, ex + ew / 2, ey)
            eye.cubicTo(ex + ew / 4, ey + eh * 0.55, ex - ew / 4, ey + eh * 0.55, ex - ew / 2, ey)
            p.setPen(Qt.NoPen)
            p.setBrush(QColor(246, 242, 236))
            p.drawPath(eye)
            p.save()
            p.setClipPath(eye)
            gx, gy = self.gaze[0] * ew * 0.28, self.gaze[1] * eh * 0.35
            iris = QRadialGradient(QPointF(ex + gx, ey + gy), 0.04)
            iris.setColorAt(0, QColor(92, 64, 44))
            iris.setColorAt(1, QColor(52, 36, 26))
            p.setBrush(iris)
            p.drawEllipse(QPointF(ex + gx, ey + gy), 0.04, 0.04)
            p.setBrush(QColor(12, 10, 10))
            p.drawEllipse(QPointF(ex + gx, ey + gy), 0.017, 0.017)
            p.setBrush(QColor(255, 255, 255, 200))
            p.drawEllipse(QPointF(ex + gx + 0.009, ey + gy - 0.011), 0.0065, 0.0065)
            # Upper lid: skin coming down from above; lower lid rising with a smile or tension.
            top = ey - eh * 0.62 + eh * 1.15 * (1.0 - min(1.2, lid_open)) + eh * 0.18 * f.gaze_down
            lid = QPainterPath()
            lid.moveTo(ex - ew, ey - eh * 2)
            lid.lineTo(ex + ew, ey - eh * 2)
            lid.lineTo(ex + ew, top + eh * 0.25)
            lid.quadTo(ex, top - eh * 0.35, ex - ew, top + eh * 0.25)
            lid.closeSubpath()
            p.setBrush(_mix(skin, QColor(60, 30, 20), 0.12))
            p.drawPath(lid)
            low = ey + eh * 0.55 - eh * 0.45 * f.squint
            lower = QPainterPath()
            lower.moveTo(ex - ew, ey + eh * 2)
            lower.lineTo(ex + ew, ey + eh * 2)
            lower.lineTo(ex + ew, low)
            lower.quadTo(ex, low + eh * 0.3, ex - ew, low)
            lower.closeSubpath()
            p.setBrush(skin)
            p.drawPath(lower)
            p.restore()
            # Lash line along the upper lid edge, and the eye outline.
            p.setBrush(Qt.NoBrush)
            p.setPen(QPen(QColor(40, 28, 24), 0.011, Qt.SolidLine, Qt.RoundCap))
            edge = QPainterPath()
            edge_y = max(top, ey - eh * 0.62)
            edge.moveTo(ex - ew / 2, ey)
            edge.quadTo(ex, edge_y - eh * 0.3, ex + ew / 2, ey - eh * 0.05)
            p.drawPath(edge)
            # Crease above the eye; under-eye shadow with age or fatigue.
            p.setPen(QPen(_mix(skin, QColor(60, 30, 20), 0.3), 0.006))
            crease = QPainterPath()
            crease.moveTo(ex - ew * 0.45, ey - eh * 0.75)
            crease.quadTo(ex, ey - eh * (1.3 + 0.2 * f.lid), ex + ew * 0.5, ey - eh * 0.7)
            p.drawPath(crease)
            if old > 0.2 or f.lid < -0.2:
                p.setPen(QPen(_mix(skin, QColor(70, 40, 40), 0.25), 0.005))
                bag = QPainterPath()
                bag.moveTo(ex - ew * 0.35, ey + eh * 0.85)
                bag.quadTo(ex, ey + eh * 1.35, ex + ew * 0.4, ey + eh * 0.8)
                p.drawPath(bag)
            # Brows: inner end near the nose, outer end at the temple.
            inner_y = -0.19 - 0.05 * f.brow_inner - 0.035 * f.brow_height + 0.02 * (f.brow_inner < 0) * f.brow_inner
            outer_y = -0.2 - 0.035 * f.brow_height + 0.02 * max(0.0, f.brow_inner)
            asym = side * f.brow_asym * 0.045
            inner_y -= asym * 0.6
            outer_y -= asym
            if f.brow_inner < 0:  # anger: inner ends pulled down and together
                inner_y -= 0.045 * f.brow_inner
            brow = QPainterPath()
            ix, ox = side * 0.085, side * 0.31
            brow.moveTo(ix, inner_y)
            brow.quadTo(side * 0.2, min(inner_y, outer_y) - 0.03, ox, outer_y + 0.01)
            brow_col = look.hair if look.hair.lightness() < 170 else _mix(look.hair, QColor(90, 80, 70), 0.5)
            p.setPen(QPen(brow_col, 0.028 - 0.006 * old, Qt.SolidLine, Qt.RoundCap))
            p.drawPath(brow)
        # Worry lines between the brows; forehead lines with age.
        p.setPen(QPen(_mix(skin, QColor(60, 30, 20), 0.28), 0.005, Qt.SolidLine, Qt.RoundCap))
        if f.brow_inner < -0.3:
            for side in (-1, 1):
                p.drawLine(QPointF(side * 0.03, -0.2), QPointF(side * 0.04, -0.14))
        if f.brow_inner > 0.4 or old > 0.3:
            strength = max(old, f.brow_inner - 0.3)
            p.setPen(QPen(_mix(skin, QColor(60, 30, 20), 0.12 + 0.18 * strength), 0.005))
            for i in range(2 + int(old > 0.6)):
                y = -0.33 - i * 0.045
                line = QPainterPath()
                line.moveTo(-0.16, y + 0.01)
                line.quadTo(0, y - 0.02 * f.brow_inner, 0.16, y + 0.01)
                p.drawPath(line)
        # Cheeks: warmth when smiling or flushed when upset.
        if f.cheek > 0.05:
            blush = QColor(220, 90, 80, int(55 * min(1.0, f.cheek)))
            for side in (-1, 1):
                g = QRadialGradient(QPointF(side * 0.26, 0.1), 0.11)
                g.setColorAt(0, blush)
                g.setColorAt(1, QColor(220, 90, 80, 0))
                p.setPen(Qt.NoPen)
                p.setBrush(g)
                p.drawEllipse(QPointF(side * 0.26, 0.1), 0.11, 0.11)
        if look.glasses:
            p.setBrush(Qt.NoBrush)
            p.setPen(QPen(QColor(45, 40, 38), 0.014))
            for side in (-1, 1):
                p.drawRoundedRect(QRectF(side * 0.205 - 0.115, -0.145, 0.23, 0.15), 0.045, 0.045)
            bridge = QPainterPath()
            bridge.moveTo(-0.09, -0.1)
            bridge.quadTo(0, -0.13, 0.09, -0.1)
            p.drawPath(bridge)
            p.drawLine(QPointF(-0.32, -0.1), QPointF(-0.46, -0.085))
            p.drawLine(QPointF(0.32, -0.1), QPointF(0.46, -0.085))
            p.setPen(Qt.NoPen)
            p.setBrush(QColor(255, 255, 255, 28))
            for side in (-1, 1):
                p.drawRoundedRect(QRectF(side * 0.205 - 0.1, -0.135, 0.09, 0.05), 0.02, 0.02)

    def _paint_mouth(self, p: QPainter) -> None:
        f, look = self.face, self.look
        old = max(0.0, min(1.0, (look.age - 45) / 35))
        my = 0.34
        half = 0.15 * (1.0 + 0.22 * f.width - 0.1 * f.press)
        corner = -0.075 * f.smile  # corners up for a smile (negative y is up)
        opening = max(0.0, min(1.0, f.jaw + self.mouth * 0.95))
        gap = 0.012 + 0.1 * opening
        lip = _mix(look.skin, QColor(160, 60, 62), 0.4 if look.feminine else 0.26)
        upper_col = _mix(lip, QColor(60, 20, 20), 0.18)
        lip_dark = _mix(lip, QColor(50, 15, 15), 0.45)
        upper_thick = 0.03 * (1.0 - 0.6 * f.press) * (1.0 - 0.25 * old)
        lower_thick = 0.042 * (1.0 - 0.55 * f.press) * (1.0 - 0.25 * old)
        grin = max(0.0, f.smile)
        # The lip line: pulled up into a curve by a smile; the lower edge of the opening drops with the jaw.
        top_mid = my - gap * 0.3 + 0.012 * grin - 0.004 * min(0.0, f.smile)
        bot_mid = my + gap * 0.7 + 0.035 * grin
        cl = QPointF(-half, my + corner)
        cr = QPointF(half, my + corner)
        inner = QPainterPath()
        inner.moveTo(cl)
        inner.cubicTo(-half * 0.5, top_mid, half * 0.5, top_mid, cr.x(), cr.y())
        inner.cubicTo(half * 0.5, bot_mid, -half * 0.5, bot_mid, cl.x(), cl.y())
        is_open = opening > 0.04 or grin > 0.5
        if is_open:
            p.setPen(Qt.NoPen)
            p.setBrush(QColor(72, 28, 32))
            p.drawPath(inner)
            p.save()
            p.setClipPath(inner)
            # Upper teeth show first; the tongue's shadow sits low in the mouth.
            p.setBrush(QColor(238, 233, 222))
            p.drawRect(QRectF(-half, top_mid - 0.05, 2 * half, 0.05 + 0.028 + 0.01 * grin))
            p.setBrush(QColor(150, 70, 75, 160))
            p.drawEllipse(QPointF(0, bot_mid + 0.01), half * 0.55, 0.03)
            p.restore()
        # Upper lip: a Cupid's bow above the lip line.
        up = QPainterPath()
        up.moveTo(cl)
        up.cubicTo(-half * 0.55, top_mid - upper_thick * 0.7, -half * 0.2, top_mid - upper_thick * 1.35,
                   0, top_mid - upper_thick * 0.95)
        up.cubicTo(half * 0.2, top_mid - upper_thick * 1.35, half * 0.55, top_mid - upper_thick * 0.7, cr.x(), cr.y())
        up.cubicTo(half * 0.5, top_mid, -half * 0.5, top_mid, cl.x(), cl.y())
        p.setPen(Qt.NoPen)
        p.setBrush(upper_col)
        p.drawPath(up)
        # Lower lip: fuller, lit from above.
        lo_top = bot_mid if is_open else top_mid + 0.004
        low = QPainterPath()
        low.moveTo(cl.x() * 0.94, cl.y() + 0.002)
        low.cubicTo(-half * 0.5, lo_top, half * 0.5, lo_top, cr.x() * 0.94, cr.y() + 0.002)
        low.cubicTo(half * 0.45, lo_top + lower_thick * 1.25, -half * 0.45, lo_top + lower_thick * 1.25,
                    cl.x() * 0.94, cl.y() + 0.002)
        grad = QLinearGradient(0, lo_top, 0, lo_top + lower_thick)
        grad.setColorAt(0, lip.lighter(106))
        grad.setColorAt(1, lip)
        p.setBrush(grad)
        p.drawPath(low)
        # Shadow under the lower lip gives the chin its shape.
        shade = QColor(60, 30, 20, 40)
        p.setBrush(shade)
        p.drawEllipse(QPointF(0, lo_top + lower_thick * 1.35 + 0.012), half * 0.45, 0.014)
        if not is_open:
            p.setPen(QPen(lip_dark, 0.009, Qt.SolidLine, Qt.RoundCap))
            seam = QPainterPath()
            seam.moveTo(cl)
            seam.cubicTo(-half * 0.5, top_mid + 0.004, half * 0.5, top_mid + 0.004, cr.x(), cr.y())
            p.setBrush(Qt.NoBrush)
            p.drawPath(seam)
        p.setPen(QPen(_mix(look.skin, QColor(60, 30, 20), 0.3), 0.006, Qt.SolidLine, Qt.RoundCap))
        p.setBrush(Qt.NoBrush)
        for side in (-1, 1):
            # Smile folds from the nose wings to beyond the mouth corners (deeper with age and smiling).
            depth = 0.25 + 0.5 * old + 0.4 * max(0.0, f.smile)
            fold = QPainterPath()
            fold.moveTo(side * 0.1, 0.19)
            fold.quadTo(side * (0.2 + 0.02 * f.smile), 0.27, side * (half + 0.04), my + corner + 0.05)
            p.setPen(QPen(_mix(look.skin, QColor(60, 30, 20), 0.12 + 0.2 * min(1.0, depth)), 0.006))
            p.drawPath(fold)
        if look.facial_hair in ("moustache", "beard"):
            p.setPen(Qt.NoPen)
            p.setBrush(look.hair if look.hair.lightness() < 200 else _mix(look.hair, QColor(120, 110, 100), 0.3))
            tache = QPainterPath()
            base = top_mid - upper_thick * 1.05
            tache.moveTo(-half - 0.015, my + corner + 0.01)
            tache.cubicTo(-half * 0.7, base - 0.015, -half * 0.3, base - 0.032, 0, base - 0.028)
            tache.cubicTo(half * 0.3, base - 0.032, half * 0.7, base - 0.015, half + 0.015, my + corner + 0.01)
            tache.cubicTo(half * 0.6, base, half * 0.2, base + 0.004, 0, base)
            tache.cubicTo(-half * 0.2, base + 0.004, -half * 0.6, base, -half - 0.015, my + corner + 0.01)
            p.drawPath(tache)


# -- cached layers ----------------------------------------------------------------------------------

def paint_background(w: int, h: int, kind: str) -> QPixmap:
    """A softly lit home interior seen by a laptop camera (drawn once per size)."""
    pix = QPixmap(max(1, w), max(1, h))
    p = QPainter(pix)
    p.setRenderHint(QPainter.Antialiasing)
    walls = {"kitchen": ("#e7dcc6", "#c9b99b"), "living_room": ("#d9cbb5", "#b3a082"),
             "bedroom": ("#cfd6dd", "#a5adb5"), "home_office": ("#d3d9cc", "#a9b09f")}
    top, bottom = walls.get(kind, walls["living_room"])
    g = QLinearGradient(0, 0, 0, h)
    g.setColorAt(0, QColor(top))
    g.setColorAt(1, QColor(bottom))
    p.fillRect(0, 0, w, h, g)
    s = h / 540
    p.setPen(Qt.NoPen)
    if kind == "kitchen":
        # Wall cabinets, a tiled splash-back, a window with daylight, a kettle and a plant on the counter.
        p.setBrush(QColor("#f1ede4"))
        p.drawRect(QRectF(0, 0, w * 0.34, h * 0.3))
        p.drawRect(QRectF(w * 0.72, 0, w * 0.28, h * 0.3))
        p.setPen(QPen(QColor("#cfc7b8"), 2 * s))
        for x in (w * 0.17, w * 0.86):
            p.drawLine(QPointF(x, 0), QPointF(x, h * 0.3))
        p.setPen(Qt.NoPen)
        win = QRectF(w * 0.04, h * 0.36, w * 0.24, h * 0.3)
        sky = QLinearGradient(0, win.top(), 0, win.bottom())
        sky.setColorAt(0, QColor("#dbe9f3"))
        sky.setColorAt(1, QColor("#f4f1e6"))
        p.setBrush(QColor("#f7f4ee"))
        p.drawRect(win.adjusted(-8 * s, -8 * s, 8 * s, 8 * s))
        p.setBrush(sky)
        p.drawRect(win)
        p.setBrush(QColor("#f7f4ee"))
        p.drawRect(QRectF(win.center().x() - 3 * s, win.top(), 6 * s, win.height()))
        p.setBrush(QColor("#a7896a"))
        p.drawRect(QRectF(0, h * 0.72, w, h * 0.05))
        tile = QColor("#e9e4da")
        p.setPen(QPen(QColor("#d8d0c2"), 1))
        p.setBrush(tile)
        for yy in np.arange(h * 0.6, h * 0.72, 18 * s):
            p.drawLine(QPointF(w * 0.3, yy), QPointF(w, yy))
        p.setPen(Qt.NoPen)
        p.setBrush(QColor("#55606b"))
        p.drawRoundedRect(QRectF(w * 0.8, h * 0.6, w * 0.07, h * 0.12), 10 * s, 10 * s)
        _plant(p, QPointF(w * 0.93, h * 0.72), s)
    elif kind == "bedroom":
        p.setBrush(QColor("#8a6d55"))
        p.drawRoundedRect(QRectF(w * 0.15, h * 0.38, w * 0.7, h * 0.5), 30 * s, 30 * s)
        p.setBrush(QColor("#e8e2d6"))
        p.drawRect(QRectF(0, h * 0.72, w, h * 0.3))
        p.setBrush(QColor("#b9c6cf"))
        p.drawRect(QRectF(w * 0.86, 0, w * 0.14, h * 0.75))
        p.setBrush(QColor("#6e5a4a"))
        p.drawRect(QRectF(w * 0.02, h * 0.55, w * 0.1, h * 0.2))
        _lamp(p, QPointF(w * 0.07, h * 0.55), s)
    elif kind == "home_office":
        shelf = QRectF(w * 0.62, h * 0.08, w * 0.34, h * 0.7)
        p.setBrush(QColor("#7d6148"))
        p.drawRect(shelf)
        rng = random.Random(5)
        for row in range(4):
            y = shelf.top() + 10 * s + row * shelf.height() / 4
            x = shelf.left() + 8 * s
            p.setBrush(QColor("#5d4734"))
            p.drawRect(QRectF(shelf.left(), y + shelf.height() / 4 - 16 * s, shelf.width(), 6 * s))
            while x < shelf.right() - 20 * s:
                bw = rng.uniform(8, 18) * s
                bh = rng.uniform(0.55, 0.8) * (shelf.height() / 4 - 20 * s)
                p.setBrush(QColor.fromHsv(rng.randint(0, 359), rng.randint(60, 140), rng.randint(110, 190)))
                p.drawRect(QRectF(x, y + shelf.height() / 4 - 16 * s - bh, bw, bh))
                x += bw + 2 * s
        p.setBrush(QColor("#f4f2ec"))
        p.drawEllipse(QPointF(w * 0.16, h * 0.2), 34 * s, 34 * s)
        p.setPen(QPen(QColor("#333"), 3 * s))
        p.drawLine(QPointF(w * 0.16, h * 0.2), QPointF(w * 0.16, h * 0.2 - 20 * s))
        p.drawLine(QPointF(w * 0.16, h * 0.2), QPointF(w * 0.16 + 14 * s, h * 0.2 + 4 * s))
        p.setPen(Qt.NoPen)
        _plant(p, QPointF(w * 0.1, h * 0.8), s * 1.3)
    else:  # living room: framed picture, floor lamp, sofa back, a bookshelf corner
        p.setBrush(QColor("#f3efe6"))
        p.drawRect(QRectF(w * 0.07, h * 0.16, w * 0.2, h * 0.24))
        art = QLinearGradient(0, h * 0.18, 0, h * 0.38)
        art.setColorAt(0, QColor("#9fb7c9"))
        art.setColorAt(1, QColor("#c9b27f"))
        p.setBrush(art)
        p.drawRect(QRectF(w * 0.085, h * 0.18, w * 0.17, h * 0.2))
        _lamp(p, QPointF(w * 0.88, h * 0.42), s * 1.3)
        p.setBrush(QColor("#6f7f86"))
        p.drawRoundedRect(QRectF(-w * 0.05, h * 0.66, w * 1.1, h * 0.5), 40 * s, 40 * s)
        _plant(p, QPointF(w * 0.06, h * 0.68), s * 1.2)
    # Camera look: light from the screen, darker corners.
    vig = QRadialGradient(QPointF(w * 0.5, h * 0.45), max(w, h) * 0.75)
    vig.setColorAt(0.55, QColor(0, 0, 0, 0))
    vig.setColorAt(1.0, QColor(0, 0, 0, 90))
    p.setBrush(vig)
    p.drawRect(QRectF(0, 0, w, h))
    p.end()
    return pix


def _plant(p: QPainter, base: QPointF, s: float) -> None:
    p.setBrush(QColor("#9c6b4a"))
    p.drawRoundedRect(QRectF(base.x() - 16 * s, base.y() - 30 * s, 32 * s, 30 * s), 4 * s, 4 * s)
    p.setBrush(QColor("#4f7a45"))
    for i, (dx, dy, r) in enumerate([(-14, -48, 16), (10, -56, 18), (0, -70, 15), (-22, -62, 12), (20, -40, 12)]):
        p.drawEllipse(QPointF(base.x() + dx * s, base.y() + dy * s), r * s, r * s * 0.7)


def _lamp(p: QPainter, base: QPointF, s: float) -> None:
    glow = QRadialGradient(base + QPointF(0, -40 * s), 90 * s)
    glow.setColorAt(0, QColor(255, 236, 190, 120))
    glow.setColorAt(1, QColor(255, 236, 190, 0))
    p.setBrush(glow)
    p.drawEllipse(base + QPointF(0, -40 * s), 90 * s, 90 * s)
    p.setBrush(QColor("#efe3c6"))
    shade = QPainterPath()
    shade.moveTo(base.x() - 22 * s, base.y() - 20 * s)
    shade.lineTo(base.x() + 22 * s, base.y() - 20 * s)
    shade.lineTo(base.x() + 14 * s, base.y() - 58 * s)
    shade.lineTo(base.x() - 14 * s, base.y() - 58 * s)
    shade.closeSubpath()
    p.drawPath(shade)
    p.setBrush(QColor("#5a4a3c"))
    p.drawRect(QRectF(base.x() - 2 * s, base.y() - 20 * s, 4 * s, 200 * s))


def paint_body(look: Look, u: float) -> QPixmap:
    """Shoulders, chest and neck in the persona's clothing (transparent around)."""
    w, h = int(u * 2.7), int(u * 1.6)
    pix = QPixmap(w, h)
    pix.fill(Qt.transparent)
    p = QPainter(pix)
    p.setRenderHint(QPainter.Antialiasing)
    cx = w / 2
    neck_w = u * 0.5
    skin_shadow = _mix(look.skin, QColor(30, 15, 10), 0.28)
    neck = QLinearGradient(0, 0, 0, u * 0.5)
    neck.setColorAt(0, skin_shadow)
    neck.setColorAt(1, _mix(look.skin, QColor(30, 15, 10), 0.12))
    p.setPen(Qt.NoPen)
    p.setBrush(neck)
    p.drawRect(QRectF(cx - neck_w / 2, 0, neck_w, u * 0.55))
    top = u * 0.3
    body = QPainterPath()
    body.moveTo(cx - u * 1.3, h)
    body.cubicTo(cx - u * 1.28, top + u * 0.3, cx - u * 1.0, top + u * 0.06, cx - u * 0.36, top)
    body.lineTo(cx + u * 0.36, top)
    body.cubicTo(cx + u * 1.0, top + u * 0.06, cx + u * 1.28, top + u * 0.3, cx + u * 1.3, h)
    body.closeSubpath()
    cloth = QLinearGradient(0, top, 0, h)
    cloth.setColorAt(0, look.top.lighter(112))
    cloth.setColorAt(1, look.top.darker(135))
    p.setBrush(cloth)
    p.drawPath(body)
    # Neckline: a V for a cardigan/blouse, a shirt collar otherwise.
    v = QPainterPath()
    v.moveTo(cx - neck_w * 0.62, top - u * 0.01)
    v.lineTo(cx, top + u * (0.32 if look.feminine else 0.2))
    v.lineTo(cx + neck_w * 0.62, top - u * 0.01)
    v.closeSubpath()
    p.setBrush(_mix(look.skin, QColor(30, 15, 10), 0.1))
    p.drawPath(v)
    if not look.feminine:
        p.setBrush(look.top.lighter(125))
        for side in (-1, 1):
            collar = QPainterPath()
            collar.moveTo(cx + side * neck_w * 0.65, top - u * 0.03)
            collar.lineTo(cx + side * u * 0.02, top + u * 0.22)
            collar.lineTo(cx + side * u * 0.3, top + u * 0.12)
            collar.closeSubpath()
            p.drawPath(collar)
    p.setPen(QPen(look.top.darker(150), u * 0.012))
    p.drawLine(QPointF(cx - u * 0.85, top + u * 0.3), QPointF(cx - u * 0.8, h))
    p.drawLine(QPointF(cx + u * 0.85, top + u * 0.3), QPointF(cx + u * 0.8, h))
    p.end()
    return pix


def paint_head(look: Look, u: float) -> tuple[QPixmap, QPointF]:
    """The head without its moving parts: hair, face shape with shading, ears, nose, age lines.
    Returns the pixmap and the pivot (top of the neck) in its coordinates."""
    w, h = int(u * 1.7), int(u * 1.9)
    pix = QPixmap(w, h)
    pix.fill(Qt.transparent)
    p = QPainter(pix)
    p.setRenderHint(QPainter.Antialiasing)
    cx, cy = w / 2, u * 0.85  # face centre
    p.translate(cx, cy)
    p.scale(u, u)
    old = max(0.0, min(1.0, (look.age - 45) / 35))
    skin = look.skin
    shadow = _mix(skin, QColor(40, 20, 10), 0.25)
    hair = look.hair
    style = look.hair_style
    p.setPen(Qt.NoPen)
    # Hair behind the head (long styles fall to the shoulders).
    if style in ("long", "medium", "curly", "bun"):
        back = QPainterPath()
        length = {"long": 0.95, "medium": 0.5, "curly": 0.45, "bun": 0.05}[style]
        back.moveTo(-0.56, -0.2)
        back.cubicTo(-0.66, -0.9, 0.66, -0.9, 0.56, -0.2)
        back.lineTo(0.6 + 0.05 * (style == "curly"), length)
        back.quadTo(0, length + 0.12, -0.6 - 0.05 * (style == "curly"), length)
        back.closeSubpath()
        p.setBrush(hair.darker(118))
        p.drawPath(back)
    if style == "bun":
        p.setBrush(hair)
        p.drawEllipse(QPointF(0, -0.78), 0.2, 0.15)
    # Ears.
    for side in (-1, 1):
        p.setBrush(shadow)
        p.drawEllipse(QPointF(side * 0.485, -0.01), 0.065, 0.12)
        p.setBrush(_mix(shadow, QColor(90, 40, 30), 0.2))
        p.drawEllipse(QPointF(side * 0.49, -0.005), 0.03, 0.07)
    # Face shape: wide cheekbones, a softer jaw with age.
    face = QPainterPath()
    jaw = 0.2 + 0.03 * old + 0.03 * (not look.feminine)
    face.moveTo(0, -0.68)
    face.cubicTo(0.36, -0.68, 0.49, -0.45, 0.49, -0.12)
    face.cubicTo(0.49, 0.18, 0.4, 0.4, jaw, 0.52)
    face.quadTo(0, 0.62, -jaw, 0.52)
    face.cubicTo(-0.4, 0.4, -0.49, 0.18, -0.49, -0.12)
    face.cubicTo(-0.49, -0.45, -0.36, -0.68, 0, -0.68)
    shade = QRadialGradient(QPointF(-0.08, -0.15), 0.75)
    shade.setColorAt(0, skin.lighter(108))
    shade.setColorAt(0.7, skin)
    shade.setColorAt(1.0, shadow)
    p.setBrush(shade)
    p.drawPath(face)
    # Nose: a soft shadow along one side, a lit tip, nostril wings.
    side_shadow = QLinearGradient(0.0, 0.0, 0.09, 0.0)
    side_shadow.setColorAt(0, QColor(shadow.red(), shadow.green(), shadow.blue(), 0))
    side_shadow.setColorAt(1, QColor(shadow.red(), shadow.green(), shadow.blue(), 120))
    p.setBrush(side_shadow)
    nose = QPainterPath()
    nose.moveTo(0.03, -0.06)
    nose.quadTo(0.08, 0.08, 0.085, 0.17)
    nose.quadTo(0.05, 0.2, 0.02, 0.19)
    nose.quadTo(0.05, 0.1, 0.03, -0.06)
    p.drawPath(nose)
    tip = QRadialGradient(QPointF(-0.01, 0.15), 0.06)
    tip.setColorAt(0, QColor(255, 255, 255, 40))
    tip.setColorAt(1, QColor(255, 255, 255, 0))
    p.setBrush(tip)
    p.drawEllipse(QPointF(-0.01, 0.15), 0.06, 0.05)
    p.setBrush(_mix(skin, QColor(40, 15, 10), 0.4))
    for side in (-1, 1):
        p.drawEllipse(QPointF(side * 0.042, 0.2), 0.02, 0.01)
    p.setPen(QPen(_mix(skin, QColor(40, 20, 10), 0.28), 0.008, Qt.SolidLine, Qt.RoundCap))
    p.setBrush(Qt.NoBrush)
    for side in (-1, 1):
        wing = QPainterPath()
        wing.moveTo(side * 0.075, 0.15)
        wing.quadTo(side * 0.1, 0.19, side * 0.06, 0.21)
        p.drawPath(wing)
    # Age: jowl hints and a chin crease.
    if old > 0.3:
        p.setPen(QPen(_mix(skin, QColor(40, 20, 10), 0.12 + 0.15 * old), 0.006))
        for side in (-1, 1):
            jowl = QPainterPath()
            jowl.moveTo(side * 0.26, 0.42)
            jowl.quadTo(side * 0.24, 0.5, side * 0.16, 0.53)
            p.drawPath(jowl)
    if look.facial_hair in ("beard", "stubble"):
        # Along the jaw and chin, open around the mouth (the lips are drawn live on top).
        beard = QPainterPath()
        beard.moveTo(-0.485, 0.08)
        beard.cubicTo(-0.47, 0.3, -0.38, 0.46, -jaw, 0.56)
        beard.quadTo(0, 0.7, jaw, 0.56)
        beard.cubicTo(0.38, 0.46, 0.47, 0.3, 0.485, 0.08)
        beard.cubicTo(0.42, 0.2, 0.36, 0.27, 0.24, 0.3)
        beard.quadTo(0.2, 0.42, 0.1, 0.44)
        beard.quadTo(0, 0.47, -0.1, 0.44)
        beard.quadTo(-0.2, 0.42, -0.24, 0.3)
        beard.cubicTo(-0.36, 0.27, -0.42, 0.2, -0.485, 0.08)
        beard.closeSubpath()
        col = QColor(hair)
        col.setAlpha(225 if look.facial_hair == "beard" else 60)
        p.setPen(Qt.NoPen)
        p.setBrush(col)
        p.drawPath(beard)
    # Hair on top.
    p.setPen(Qt.NoPen)
    g = QLinearGradient(0, -0.75, 0, -0.2)
    g.setColorAt(0, hair.lighter(115))
    g.setColorAt(1, hair.darker(110))
    p.setBrush(g)
    top = QPainterPath()
    if style == "bald":
        top.moveTo(-0.5, -0.05)
        top.quadTo(-0.52, -0.3, -0.44, -0.32)
        top.lineTo(-0.46, -0.02)
        top.closeSubpath()
        top.moveTo(0.5, -0.05)
        top.quadTo(0.52, -0.3, 0.44, -0.32)
        top.lineTo(0.46, -0.02)
        top.closeSubpath()
    elif style == "receding":
        top.moveTo(-0.5, -0.02)
        top.cubicTo(-0.56, -0.45, -0.4, -0.7, -0.22, -0.74)
        top.quadTo(0, -0.78, 0.22, -0.74)
        top.cubicTo(0.4, -0.7, 0.56, -0.45, 0.5, -0.02)
        top.lineTo(0.45, -0.1)
        top.cubicTo(0.44, -0.38, 0.36, -0.52, 0.22, -0.56)
        top.quadTo(0, -0.5, -0.22, -0.56)
        top.cubicTo(-0.36, -0.52, -0.44, -0.38, -0.45, -0.1)
        top.closeSubpath()
    else:
        bulk = 0.08 if style == "curly" else 0.03
        top.moveTo(-0.5, 0.02 if style != "short" else -0.1)
        top.cubicTo(-0.58 - bulk, -0.5, -0.35, -0.8 - bulk, 0.0, -0.8 - bulk)
        top.cubicTo(0.35, -0.8 - bulk, 0.58 + bulk, -0.5, 0.5, 0.02 if style != "short" else -0.1)
        top.lineTo(0.45, -0.2)
        # Fringe / parting line across the forehead.
        top.cubicTo(0.4, -0.45, 0.2, -0.5, 0.05, -0.44)
        top.cubicTo(-0.1, -0.56, -0.36, -0.5, -0.45, -0.2)
        top.closeSubpath()
    p.drawPath(top)
    if style == "curly":
        rng = random.Random(3)
        p.setBrush(hair.lighter(112))
        for _ in range(40):
            a = rng.uniform(math.pi * 1.05, math.pi * 1.95)
            r = rng.uniform(0.6, 0.74)
            p.drawEllipse(QPointF(math.cos(a) * r * 0.85, math.sin(a) * r - 0.05), 0.055, 0.05)
    p.end()
    anchor = QPointF(cx, cy + u * 0.6 - u * 0.08)  # pivot: top of the neck, just under the chin
    return pix, anchor
