"""The one bridge from worker threads to the Qt main thread.

Workers call `post(event)` (thread-safe, never blocks, never touches widgets). A timer on the main thread
drains the queue ~30 times a second and emits typed signals. Display-only streams are throttled: per
drain only the newest camera preview, frame sample, audio level and talk balance are delivered, while
scenario events, notices, speech segments and source-finished events are all delivered in order.
(The store receives every sample directly from the pipeline; the bridge only feeds the display.)
`prepare(type, fn)` moves display work off the UI thread: a newest-only event of that type is replaced
by `fn(event)` on the thread that posts it (the call window scales camera frames for the self-view so).
"""

from __future__ import annotations

import threading
from collections import deque

from PySide6.QtCore import QObject, QTimer, Signal

from trainer.core.events import (AudioLevel, FrameSample, Notice, ScenarioEvent, SourceFinished, SpeechSegment,
                                 TalkBalance, Utterance)
from trainer.visit import FramePreview

DRAIN_INTERVAL_MS = 33


class EventBridge(QObject):
    preview = Signal(object)  # FramePreview (newest only)
    frame_sample = Signal(object)  # FrameSample (newest only)
    audio_level = Signal(object)  # AudioLevel (newest only)
    talk_balance = Signal(object)  # TalkBalance (newest only)
    scenario_event = Signal(object)  # ScenarioEvent (all)
    notice = Signal(object)  # Notice (all)
    speech_segment = Signal(object)  # SpeechSegment (all)
    source_finished = Signal(object)  # SourceFinished (all)
    other_event = Signal(object)  # any other event of the visit with a session time (e.g. SourceStatus), all
    utterance = Signal(object)  # Utterance (all): what the clinician said, transcribed

    _LATEST_ONLY = {FramePreview: "preview", FrameSample: "frame_sample", AudioLevel: "audio_level",
                    TalkBalance: "talk_balance"}
    _ALL = {ScenarioEvent: "scenario_event", Notice: "notice", SpeechSegment: "speech_segment",
            SourceFinished: "source_finished", Utterance: "utterance"}

    def __init__(self, parent=None):
        super().__init__(parent)
        self._lock = threading.Lock()
        self._latest: dict[str, object] = {}
        self._ordered: deque = deque()
        self._prepare: dict[type, object] = {}
        self.posted = 0
        self.delivered = 0
        self._timer = QTimer(self)
        self._timer.setInterval(DRAIN_INTERVAL_MS)
        self._timer.timeout.connect(self.drain)
        self._timer.start()

    @classmethod
    def _signal_for(cls, event) -> str | None:
        # Scenario events are typed subclasses of ScenarioEvent (core.events): all go out on one signal.
        name = cls._ALL.get(ScenarioEvent if isinstance(event, ScenarioEvent) else type(event))
        if name is None and hasattr(event, "t"):
            return "other_event"  # typed events added later (source status, ...) still reach the window
        return name

    def prepare(self, kind: type, fn) -> None:
        """Deliver `fn(event)` instead of each newest-only event of type `kind`, computed on the posting
        thread (it must not touch widgets or QPixmaps; QImage is fine). If fn fails, the event itself is
        delivered: the posting thread is a worker that must not fail for the display's sake."""
        self._prepare[kind] = fn

    def post(self, event) -> None:
        """Called from any thread."""
        name = self._LATEST_ONLY.get(type(event))
        fn = self._prepare.get(type(event)) if name is not None else None
        if fn is not None:
            try:
                event = fn(event)
            except Exception:  # noqa: BLE001 - shown unprepared (the UI thread prepares it) rather than lost
                pass
        with self._lock:
            self.posted += 1
            if name is not None:
                self._latest[name] = event
            elif self._signal_for(event) is not None:
                self._ordered.append(event)

    def drain(self) -> None:
        with self._lock:
            latest, self._latest = self._latest, {}
            ordered, self._ordered = self._ordered, deque()
        for ev in ordered:
            self.delivered += 1
            getattr(self, self._signal_for(ev)).emit(ev)
        for name, ev in latest.items():
            self.delivered += 1
            getattr(self, name).emit(ev)

    def stop(self) -> None:
        self._timer.stop()
        self.drain()
