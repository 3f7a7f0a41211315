"""The live pipeline: worker threads from sources to typed events.

    camera/file --capture thread--> [latest-frame slot] --analysis thread--> FaceAnalyzer -> FrameSample
    mic/file    --audio thread----> VoiceAnalyzer -> AudioLevel / SpeechStarted / SpeechSegment / TurnEnded

Every event goes to `sink(event)`, called on a worker thread (the store and the UI bridge both queue).
In live mode the capture thread keeps only the newest frame: when analysis falls behind, old frames are
dropped (counted in `frames_dropped`) instead of queued, so feedback latency stays bounded. Offline
analysis uses `drop_frames=False` and sees every frame.

A source that cannot be opened does not stop the visit: the pipeline emits a Notice saying what
feedback is unavailable and why, and runs with what it has.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import Callable

from trainer.capture.base import Frame
from trainer.core.errors import ModelError, TrainerError
from trainer.core.events import Notice, SourceFinished

Sink = Callable[[object], None]


class _LatestFrame:
    """A one-slot mailbox: put() replaces an unconsumed frame (counted as dropped)."""

    def __init__(self):
        self._cond = threading.Condition()
        self._frame: Frame | None = None
        self._closed = False
        self.dropped = 0

    def put(self, frame: Frame, block: bool = False) -> None:
        """Replace the waiting frame (live), or with block=True wait until it was taken (offline)."""
        with self._cond:
            while block and self._frame is not None and not self._closed:
                self._cond.wait(0.5)
            if self._frame is not None:
                self.dropped += 1
            self._frame = frame
            self._cond.notify_all()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify()

    def get(self) -> Frame | None:
        with self._cond:
            while self._frame is None and not self._closed:
                self._cond.wait(0.5)
            frame, self._frame = self._frame, None
            self._cond.notify_all()
            return frame


class VisitPipeline:
    """Runs the frame and audio workers of one session."""

    def __init__(self, frame_source, audio_source, clock, sink: Sink, *, drop_frames: bool = True,
                 analyzer_factory=None, voice_factory=None, on_frame: Callable[[Frame, object], None] | None = None):
        self.frame_source = frame_source
        self.audio_source = audio_source
        self.clock = clock
        self.sink = sink
        self.drop_frames = drop_frames
        self._analyzer_factory = analyzer_factory
        self._voice_factory = voice_factory
        self.on_frame = on_frame  # e.g. the UI's self-view (gets the frame and its observation)
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()
        self._slot = _LatestFrame()
        self.frames_analyzed = 0
        self._prepared = False
        self._analyzer = None
        self._voice = None
        self._voice_lock = threading.Lock()
        self.camera_ok = False
        self.mic_ok = False

    @property
    def frames_dropped(self) -> int:
        return self._slot.dropped

    def _notice(self, code: str, message: str, level: str = "warning") -> None:
        self.sink(Notice(round(self.clock.now(), 3), code, message, level))

    def prepare(self) -> None:
        """Open the sources (reporting those that fail) and load the face model, before the session clock
        starts, so the first seconds of a visit are not lost to model loading."""
        if self._prepared:
            return
        self._prepared = True
        if self.frame_source is not None:
            try:
                self.frame_source.open()
                self.camera_ok = True
            except TrainerError as exc:
                self._notice("camera_unavailable", f"{exc.message} Eye-contact and face feedback are off for "
                                                   "this visit.")
        else:
            self._notice("camera_unavailable", "No camera selected: eye-contact and face feedback are off.")
        if self.audio_source is not None:
            try:
                self.audio_source.open()
                self._voice = self._voice_factory() if self._voice_factory else _default_voice()
                self.mic_ok = True
            except TrainerError as exc:
                self._notice("mic_unavailable", f"{exc.message} Talk-time feedback is off for this visit.")
        else:
            self._notice("mic_unavailable", "No microphone selected: talk-time feedback is off.")
        if self.camera_ok:
            try:
                self._analyzer = self._analyzer_factory() if self._analyzer_factory else _default_analyzer()
            except ModelError as exc:
                self.camera_ok = False
                self._notice("face_model_unavailable", f"{exc.message} Face feedback is off.", "error")

    def start(self) -> None:
        """Start the worker threads (preparing first if needed)."""
        self.prepare()
        if self.camera_ok:
            self._spawn(self._capture_loop, "capture")
            self._spawn(self._analysis_loop, "face-analysis")
        if self.mic_ok:
            self._spawn(self._audio_loop, "voice-analysis")

    def _spawn(self, fn, name: str) -> None:
        th = threading.Thread(target=self._guard(fn, name), name=name, daemon=True)
        self._threads.append(th)
        th.start()

    def _guard(self, fn, name):
        def run():
            try:
                fn()
            except TrainerError as exc:
                self._notice(f"{name}_failed", exc.message, "error")
            except Exception as exc:  # noqa: BLE001 - report, then let threading.excepthook log it too
                self._notice(f"{name}_failed", f"{name} stopped unexpectedly: {exc!r}", "error")
                raise
        return run

    def _capture_loop(self) -> None:
        src = self.frame_source
        try:
            for frame in src.frames():
                if self._stop.is_set():
                    break
                self._slot.put(frame, block=not self.drop_frames)
        finally:
            err = getattr(src, "error", None)
            if err:
                self._notice("camera_error", err)
            self._slot.close()

    def _analysis_loop(self) -> None:
        analyzer = self._analyzer
        last_t = 0.0
        try:
            while True:
                frame = self._slot.get()
                if frame is None:
                    break
                sample, obs = analyzer.process(frame)
                latency = self.clock.now() - frame.t if self.clock.started else None
                sample = replace(sample, latency_s=latency)
                self.frames_analyzed += 1
                last_t = frame.t
                self.sink(sample)
                if self.on_frame is not None:
                    self.on_frame(frame, obs)
        finally:
            analyzer.close()
            self.sink(SourceFinished(round(last_t, 3), "camera"))

    def _audio_loop(self) -> None:
        voice = self._voice
        last_t = 0.0
        src = self.audio_source
        try:
            for block in src.blocks():
                if self._stop.is_set():
                    break
                last_t = block.t + block.duration
                with self._voice_lock:
                    events = voice.process(block)
                for ev in events:
                    self.sink(ev)
        finally:
            with self._voice_lock:
                events = voice.flush()
            for ev in events:  # sinks run outside the lock: they take the visit runner's lock
                self.sink(ev)
            err = getattr(src, "error", None)
            if err:
                self._notice("mic_error", err)
            self.sink(SourceFinished(round(last_t, 3), "mic"))

    def patient_segment(self, start: float, end: float) -> None:
        """Tell the voice side when the patient was speaking (known exactly from playback)."""
        voice = self._voice
        if voice is not None and hasattr(voice, "patient_segment"):
            with self._voice_lock:
                voice.patient_segment(start, end)

    def patient_audio(self, t: float, samples, rate: int) -> None:
        """The patient's playback signal as handed to the sound device (the echo reference), called from
        the playback thread; serialised with the microphone analysis."""
        voice = self._voice
        if voice is not None and hasattr(voice, "patient_audio"):
            with self._voice_lock:
                voice.patient_audio(t, samples, rate)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop sources and wait for the workers (flushing open speech segments)."""
        self._stop.set()
        for src in (self.frame_source, self.audio_source):
            if src is not None:
                src.stop()
        self._slot.close()
        for th in self._threads:
            th.join(timeout)
        for src in (self.frame_source, self.audio_source):
            if src is not None:
                try:
                    src.close()
                except Exception:  # noqa: BLE001 - closing a vanished device must not mask the session
                    pass

    def join(self, timeout: float | None = None) -> None:
        for th in self._threads:
            th.join(timeout)


def _default_analyzer():
    from trainer.analysis.face import create_face_processor

    return create_face_processor()


def _default_voice():
    from trainer.analysis.voice import create_voice_processor

    return create_voice_processor()
