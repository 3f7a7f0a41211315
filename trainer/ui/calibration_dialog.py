"""Eye-contact calibration: look at a dot by the camera, then at the patient's face on screen.

The dialog fills the screen (so the targets sit where they will during a visit: the camera dot at the top
centre, next to a typical laptop or monitor webcam; the patient's face in the middle of the call area),
runs the chosen camera through the same face processor a visit uses (on a worker thread), collects
usable gaze measurements per target with `CalibrationRecorder`, fits and saves the calibration for this
user and camera. Esc cancels at any time; nothing is saved unless the fit succeeds.
"""

from __future__ import annotations

import threading

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QPainter
from PySide6.QtWidgets import QDialog

from trainer.analysis.calibration import MIN_SAMPLES, CalibrationRecorder, save_calibration
from trainer.analysis.pipeline import VisitPipeline
from trainer.capture.video import open_frame_source
from trainer.core.clock import SessionClock
from trainer.core.errors import TrainerError
from trainer.visit import camera_key, current_user
from trainer.core.i18n import N_, _

#: (target, instruction, seconds on target); the first SETTLE_S of each are not used (eyes travelling).
STEPS = (("camera", N_("Look at the blue dot next to your camera"), 3.5),
         ("screen", N_("Now look at the patient's face"), 3.5))
SETTLE_S = 0.7
#: A target stays up past its seconds until MIN_SAMPLES usable frames were seen there (a busy or slow
#: computer analyses fewer frames per second), but never longer than this many times its seconds.
MAX_STRETCH = 3.0


class CalibrationDialog(QDialog):
    finished_with = Signal(str)  # a message for the user (success or what went wrong)

    def __init__(self, camera, parent=None):
        super().__init__(parent)
        self.setWindowTitle(_("Calibrate eye contact"))
        self.camera = camera
        self.user = current_user()
        self.key = camera_key(camera)
        self.recorder = CalibrationRecorder()
        self._lock = threading.Lock()
        self._target: str | None = None
        self._step = -1
        self._elapsed = 0.0
        self.message = _("Preparing the camera…")
        self.setAccessibleDescription(self.message)
        self.result_text: str | None = None
        self.saved_path = None
        self.clock = SessionClock()
        self.pipeline = VisitPipeline(open_frame_source(camera, clock=self.clock), None, self.clock,
                                      self._on_event, on_frame=self._on_frame)
        self._timer = QTimer(self)
        self._timer.setInterval(50)
        self._timer.timeout.connect(self._tick)
        self._problem: str | None = None

    # -- running --------------------------------------------------------------------------------------
    def start(self) -> None:
        """Open the camera and load the model (a moment), then walk through the targets."""
        self.pipeline.prepare()
        if not self.pipeline.camera_ok:
            self._finish(self._problem or _("The camera could not be opened, so calibration is not possible."))
            return
        self.clock.start()
        self.pipeline.start()
        self._next_step()
        self._timer.start()

    def _on_event(self, ev) -> None:  # worker threads
        if type(ev).__name__ == "Notice" and ev.code in ("camera_unavailable", "face_model_unavailable"):
            self._problem = ev.message

    def _on_frame(self, frame, obs) -> None:  # the face-analysis worker thread
        with self._lock:
            target, settled = self._target, self._elapsed >= SETTLE_S
        if target is not None and settled:
            self.recorder.add(target, obs)

    def _next_step(self) -> None:
        self._step += 1
        with self._lock:
            self._elapsed = 0.0
            self._target = STEPS[self._step][0] if self._step < len(STEPS) else None
        if self._step < len(STEPS):
            self.message = _(STEPS[self._step][1])
            self.setAccessibleDescription(self.message)  # the painted instruction, for screen readers
        self.update()

    def _tick(self) -> None:
        with self._lock:
            self._elapsed += self._timer.interval() / 1000.0
            elapsed = self._elapsed
        if self._step < len(STEPS) and self._step_done(elapsed):
            self._next_step()
            if self._step >= len(STEPS):
                self._fit()
        self.update()

    def _step_done(self, elapsed: float) -> bool:
        target, seconds = STEPS[self._step][0], STEPS[self._step][2]
        if elapsed >= seconds * MAX_STRETCH:
            return True
        return elapsed >= seconds and self.counts().get(target, 0) >= MIN_SAMPLES

    def _fit(self) -> None:
        self._timer.stop()
        self.pipeline.stop()
        try:
            cal = self.recorder.fit(self.user, self.key)
            self.saved_path = save_calibration(cal)
        except TrainerError as exc:
            self._finish(_("Calibration did not work: {error}").format(error=exc))
            return
        self._finish(_("Calibrated for {camera}. Eye contact now uses where your camera and the patient "
                       "really are.").format(camera=self.key))

    def _finish(self, text: str) -> None:
        self._timer.stop()
        self.result_text = text
        self.message = text + "\n\n" + _("Press Enter or Esc to close.")
        self.setAccessibleDescription(self.message)
        self.update()
        self.finished_with.emit(text)

    # -- dialog plumbing ------------------------------------------------------------------------------
    def keyPressEvent(self, event) -> None:
        if event.key() in (Qt.Key_Escape,) or (self.result_text and event.key() in (Qt.Key_Return, Qt.Key_Enter)):
            self.close()
            return
        super().keyPressEvent(event)

    def closeEvent(self, event) -> None:
        self._timer.stop()
        self.pipeline.stop()
        super().closeEvent(event)
        self.done(0)

    def counts(self) -> dict[str, int]:
        return self.recorder.counts()

    def paintEvent(self, _event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.Antialiasing)
        r = self.rect()
        p.fillRect(r, QColor(30, 35, 41))
        target = STEPS[self._step][0] if 0 <= self._step < len(STEPS) else None
        if target == "camera":
            # Top centre, right under a typical webcam.
            c = QPointF(r.width() / 2, 18)
            pulse = 10 + 4 * abs(((self._elapsed * 2) % 2) - 1)
            p.setPen(Qt.NoPen)
            p.setBrush(QColor(45, 108, 223))
            p.drawEllipse(c, pulse, pulse)
        elif target == "screen":
            c = QPointF(r.width() * 0.42, r.height() * 0.45)  # the patient's face in the call window
            p.setPen(Qt.NoPen)
            p.setBrush(QColor(196, 150, 120))
            p.drawEllipse(c, 60, 76)
            p.setBrush(QColor(40, 40, 40))
            p.drawEllipse(QPointF(c.x() - 22, c.y() - 10), 6, 6)
            p.drawEllipse(QPointF(c.x() + 22, c.y() - 10), 6, 6)
        p.setPen(QColor(255, 255, 255))
        p.setFont(QFont(self.font().family(), 16))
        # Under a target, the instruction at the bottom; without one (the result), the whole dialog, so a
        # long explanation is never cut off.
        box = (QRectF(40, r.height() - 190, r.width() - 80, 150) if target is not None
               else QRectF(r.adjusted(40, 40, -40, -40)))
        p.drawText(box, Qt.AlignCenter | Qt.TextWordWrap, self.message)
        if target is not None:
            got = self.recorder.counts().get(target, 0)
            p.setFont(QFont(self.font().family(), 11))
            p.setPen(QColor(170, 180, 190))
            p.drawText(QRectF(40, r.height() - 50, r.width() - 80, 30), Qt.AlignCenter,
                       _("{count} usable frames · Esc cancels").format(count=got))
        p.end()
