"""The pre-visit check page: self-view, microphone meter, and a pass / fix-this result with a plain fix for
every problem (trainer.analysis.precheck does the checking, off the main thread).

Shown before every visit; once the check has passed today for this camera and microphone it can be
skipped. The visit can always be started anyway (missing devices never block a rehearsal), but the button
says so.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QProgressBar, QPushButton, QScrollArea, QSizePolicy,
                               QVBoxLayout, QWidget)

from trainer.core.i18n import N_, _
from trainer.ui.tasks import run_task
from trainer.ui.visit_page import SelfView

_ICON = {"pass": "✓", "warn": "!", "fix": "✗"}
_COLOUR = {"pass": "#1d7a46", "warn": "#8a6100", "fix": "#b3261e"}
_PART = {"camera": N_("Camera"), "microphone": N_("Microphone"), "speaker": N_("Speaker")}


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def report_html(report) -> str:
    """The findings grouped by part, each with its fix (what the page shows; also used by tests)."""
    rows = []
    for part in ("camera", "microphone", "speaker"):
        items = [i for i in report.items if i.part == part]
        if not items:
            continue
        rows.append(f"<h3 style='margin:8px 0 2px 0'>{_(_PART[part])}</h3>")
        for i in items:
            fix = (f"<br><span style='margin-left:18px'><b>{_('Fix:')}</b> {_esc(i.fix)}</span>"
                   if i.fix and i.status != "pass" else "")
            rows.append(f"<p style='margin:2px 0'><span style='color:{_COLOUR[i.status]};font-weight:600'>"
                        f"{_ICON[i.status]} {_esc(_(i.name).capitalize())}</span>: {_esc(i.message)}{fix}</p>")
    return "".join(rows)


class PrecheckPage(QWidget):
    start_requested = Signal()
    back_requested = Signal()
    frame_ready = Signal(object, object)  # emitted on the worker thread, delivered queued
    level_ready = Signal(float)
    check_finished = Signal(object)  # PrecheckReport (tests wait on it)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.camera = self.mic = None
        self.report = None
        self._task = None
        self._passed_at = None
        self._pending = None  # the signal to emit once a cancelled check has let go of the devices
        self.title = QLabel(_("Before the visit: camera, microphone and speaker"))
        self.title.setObjectName("pageTitle")
        self.title.setWordWrap(True)
        self.instruction = QLabel()
        self.instruction.setObjectName("instruction")
        self.instruction.setWordWrap(True)
        self.self_view = SelfView()
        self.self_view.setFixedSize(320, 240)
        self.meter = QProgressBar()
        self.meter.setRange(0, 60)
        self.meter.setTextVisible(False)
        self.meter.setAccessibleName(_("Microphone level"))
        self.meter.setAccessibleDescription(_("How loud the microphone hears you."))
        meter_label = QLabel(_("Microphone level"))
        meter_label.setObjectName("hint")
        self.result = QLabel()
        self.result.setObjectName("resultBanner")
        self.result.setWordWrap(True)
        self.result.hide()
        self.details = QLabel()
        self.details.setWordWrap(True)
        self.details.setTextFormat(Qt.RichText)
        self.details.setAlignment(Qt.AlignTop | Qt.AlignLeft)
        self.details.setSizePolicy(QSizePolicy.Preferred, QSizePolicy.Minimum)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.NoFrame)
        scroll.setWidget(self.details)
        self.back_button = QPushButton(_("Back"))
        self.back_button.setAccessibleDescription(_("Return to the list of scenarios."))
        self.back_button.clicked.connect(self._back)
        self.again_button = QPushButton(_("Check again"))
        self.again_button.setAccessibleDescription(_("Run the camera, microphone and speaker check again."))
        self.again_button.clicked.connect(self.run_check)
        self.skip_button = QPushButton(_("Skip check"))
        self.skip_button.clicked.connect(self._skip)
        self.start_button = QPushButton(_("Start visit"))
        self.start_button.setAccessibleDescription(_("Start the chosen visit."))
        self.start_button.setObjectName("primary")
        self.start_button.clicked.connect(self._start)

        left = QVBoxLayout()
        left.addWidget(self.self_view)
        left.addWidget(meter_label)
        left.addWidget(self.meter)
        left.addStretch(1)
        right = QVBoxLayout()
        right.addWidget(self.instruction)
        right.addWidget(self.result)
        right.addWidget(scroll, 1)
        body = QHBoxLayout()
        body.addLayout(left)
        body.addLayout(right, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.back_button)
        buttons.addStretch(1)
        buttons.addWidget(self.again_button)
        buttons.addWidget(self.skip_button)
        buttons.addWidget(self.start_button)
        lay = QVBoxLayout(self)
        lay.addWidget(self.title)
        lay.addLayout(body, 1)
        lay.addLayout(buttons)
        self.frame_ready.connect(self._show_frame)
        self.level_ready.connect(lambda db: self.meter.setValue(int(max(0.0, min(60.0, db + 60.0)))))

    # -- running ------------------------------------------------------------------------------------
    def prepare(self, camera, mic, passed_at=None) -> None:
        """Show the page for these devices; `passed_at` (a local datetime) when the check passed today."""
        self.camera, self.mic = camera, mic
        self._passed_at = passed_at
        self.skip_button.setEnabled(passed_at is not None)
        self.skip_button.setToolTip(_("The check passed today at {time}").format(time=f"{passed_at:%H:%M}")
                                    if passed_at else _("Available once the check has passed today"))
        self.skip_button.setText(_("Skip check (passed at {time})").format(time=f"{passed_at:%H:%M}")
                                 if passed_at else _("Skip check"))

    def run_check(self) -> None:
        from trainer.analysis.precheck import run_precheck

        if self._task is not None:
            return
        self.report = None
        self.result.hide()
        self.details.clear()
        self.start_button.setText(_("Start anyway"))
        self.start_button.setEnabled(False)  # the devices are busy until the check ends
        self.again_button.setEnabled(False)
        self.instruction.setText(_("Opening the camera and microphone…"))
        camera, mic = self.camera, self.mic
        self._task = run_task(
            lambda progress, cancelled: run_precheck(
                camera, mic, on_frame=lambda f, o: self.frame_ready.emit(f, o),
                on_level=lambda db: self.level_ready.emit(db), progress=lambda text: progress(0, 0, text),
                cancelled=cancelled),
            on_done=self._done, on_error=self._failed, on_progress=lambda _d, _t, text: self.instruction.setText(text))

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()

    def _done(self, report) -> None:
        from trainer.store.user_settings import record_precheck
        from trainer.visit import camera_key

        self._task = None
        self.start_button.setEnabled(True)
        self.again_button.setEnabled(True)
        if self._pending is not None:  # left while it ran: the partial result means nothing
            pending, self._pending = self._pending, None
            pending.emit()
            return
        self.report = report
        problems = sum(1 for i in report.items if i.status == "fix")
        if report.passed:
            self.instruction.setText(_("All set."))
            self.result.setText(_("✓ Ready for your visit."))
            self.result.setProperty("state", "pass")
            self.start_button.setText(_("Start visit"))
        else:
            self.instruction.setText(_("The check found something to fix. Fix it and check again, or start "
                                       "anyway (the affected feedback will be missing or less reliable)."))
            self.result.setText((_("✗ Fix this before your visit: 1 problem.") if problems == 1 else
                                 _("✗ Fix this before your visit: {n} problems.").format(n=problems)))
            self.start_button.setText(_("Start anyway"))
            self.result.setProperty("state", "fix")
        self.result.style().unpolish(self.result)
        self.result.style().polish(self.result)
        self.result.show()
        self.details.setText(report_html(report))
        record_precheck(camera_key(self.camera), str(self.mic), report.passed)
        self.start_button.setFocus()
        self.check_finished.emit(report)

    def _failed(self, exc) -> None:
        self._task = None
        self.start_button.setEnabled(True)
        self.again_button.setEnabled(True)
        if self._pending is not None:
            pending, self._pending = self._pending, None
            pending.emit()
            return
        self.instruction.setText(_("The check could not run: {error}").format(error=exc))
        self.check_finished.emit(None)

    def _show_frame(self, frame, obs) -> None:
        self.self_view.show_frame(frame.image, obs)

    # -- leaving --------------------------------------------------------------------------------------
    def _leave(self, signal) -> None:
        if self._task is not None:
            self._pending = signal
            self.cancel()
        else:
            signal.emit()

    def _back(self) -> None:
        self._leave(self.back_requested)

    def _skip(self) -> None:
        self._leave(self.start_requested)

    def _start(self) -> None:
        self._leave(self.start_requested)

    @property
    def running(self) -> bool:
        return self._task is not None
