"""One visit, without any UI: session clock + scenario engine + analysis pipeline + session writer.

The GUI drives a `VisitRunner` and listens to its events; tests and `trainer run --headless` drive the
very same object. Threads: the pipeline's workers, one engine ticker, the store's writer. The engine is
only touched under `_lock`. `listener(event)` is called on those worker threads; the UI's bridge queues
events onto the Qt main thread.

Layering: this module sits between `ui` and `store` (see the import-linter contract in pyproject.toml).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Callable

from trainer.analysis.pipeline import VisitPipeline
from trainer.capture.audio import open_audio_source
from trainer.capture.video import open_frame_source
from trainer.core.clock import SessionClock
from trainer.core.engine import ScenarioEngine
from trainer.core.errors import TrainerError
from trainer.core.events import Notice, ScenarioEvent, SpeechSegment, SpeechStarted, TurnEnded
from trainer.core.scenario import Scenario
from trainer.store.db import SessionStore

TICK_S = 0.05


@dataclass(frozen=True, slots=True)
class FramePreview:
    """The newest camera frame with its face observation, for the self-view (never stored)."""

    frame: object  # trainer.capture.base.Frame
    observation: object  # trainer.analysis.face.FaceObservation


class VisitRunner:
    """Runs one scenario with the given camera and microphone specs (index, file path or None)."""

    def __init__(self, scenario: Scenario, store: SessionStore, *, camera: str | int | None = 0,
                 mic: str | int | None = "default", listener: Callable[[object], None] | None = None,
                 realtime: bool = True):
        self.scenario = scenario
        self.store = store
        self.listener = listener or (lambda ev: None)
        self.clock = SessionClock()
        self.engine = ScenarioEngine(scenario)
        self._lock = threading.Lock()
        self._ticker: threading.Thread | None = None
        self._stopped = threading.Event()
        self._patient_line: tuple[float, dict] | None = None
        self.session_id: int | None = None
        self.writer = None
        self.camera_spec, self.mic_spec = camera, mic
        frame_source = open_frame_source(camera, clock=self.clock, realtime=realtime)
        audio_source = open_audio_source(mic, clock=self.clock, realtime=realtime) if mic is not None else None
        self.pipeline = VisitPipeline(frame_source, audio_source, self.clock, self._on_pipeline_event,
                                      on_frame=self._on_frame, drop_frames=realtime)
        self.finished = threading.Event()  # set when the scenario reached its end
        self._engine_t = 0.0

    # -- lifecycle ----------------------------------------------------------------------------------
    def start(self) -> int:
        """Create the stored session, start the clock, the engine and the pipeline; returns session id."""
        self.session_id = self.store.create_session(
            self.scenario.id, self.scenario.title,
            camera=_describe(self.camera_spec), mic=_describe(self.mic_spec))
        self.writer = self.store.writer(self.session_id)
        self.pipeline.prepare()  # opens devices and loads the model before t = 0
        self.clock.start()
        with self._lock:
            self._dispatch(self.engine.start(0.0))
        self.pipeline.start()
        self._ticker = threading.Thread(target=self._tick_loop, name="scenario-ticker", daemon=True)
        self._ticker.start()
        return self.session_id

    def end(self) -> int:
        """End the call (if still running), stop the pipeline, flush and close the session."""
        if self._stopped.is_set():
            return self.session_id
        with self._lock:
            t = self._now()
            self._dispatch(self.engine.end_call(t))
        self._stopped.set()
        if self._ticker is not None:
            self._ticker.join(2)
        self.pipeline.stop()
        completed = any(e.kind == "visit_end" and e.data.get("reason") == "completed" for e in self.engine.history)
        self.writer.close("completed" if completed else "ended_early", duration_s=round(t, 3), calibrated=False)
        return self.session_id

    def ui_action(self, action: str) -> None:
        with self._lock:
            self._dispatch(self.engine.ui_action(self._now(), action))

    # -- event routing ------------------------------------------------------------------------------
    def _tick_loop(self) -> None:
        while not self._stopped.wait(TICK_S):
            with self._lock:
                self._dispatch(self.engine.tick(self._now()))

    def _on_pipeline_event(self, ev) -> None:
        if isinstance(ev, SpeechStarted):
            with self._lock:
                self._dispatch(self.engine.clinician_speech_started(self._now(ev.t)))
        elif isinstance(ev, TurnEnded):
            with self._lock:
                self._dispatch(self.engine.clinician_turn_ended(self._now(ev.t)))
        if self.writer is not None:
            self.writer.put(ev)
        self.listener(ev)

    def _now(self, t: float | None = None) -> float:
        """Engine time: the session clock or an event's source time, never going backwards (a file source
        running faster than real time stamps events ahead of the wall clock). Call with _lock held."""
        self._engine_t = max(self._engine_t, self.clock.now() if t is None else t)
        return self._engine_t

    def _on_frame(self, frame, observation) -> None:
        self.listener(FramePreview(frame, observation))

    def _dispatch(self, events: list[ScenarioEvent]) -> None:
        """Store and forward engine output; derive the patient's exact speech segments from it."""
        for ev in events:
            if ev.kind == "patient_line":
                self._patient_line = (ev.t, ev.data)
            elif ev.kind == "patient_line_end" and self._patient_line is not None:
                seg = SpeechSegment(self._patient_line[0], ev.t, "patient")
                self._patient_line = None
                self.pipeline.patient_segment(seg.start, seg.end)
                self.writer.put(seg)
                self.listener(seg)
            self.writer.put(ev)
            self.listener(ev)
            if ev.kind == "visit_end":
                self.finished.set()

    def notice(self, code: str, message: str) -> None:
        ev = Notice(round(self.clock.now(), 3), code, message)
        if self.writer is not None:
            self.writer.put(ev)
        self.listener(ev)


def _describe(spec) -> str:
    if spec is None:
        return "none"
    return str(spec)


__all__ = ["VisitRunner", "FramePreview", "TrainerError"]
