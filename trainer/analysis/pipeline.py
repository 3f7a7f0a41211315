"""The live pipeline: worker threads from sources to typed events.

    camera/file --capture thread--> [latest-frame slot] --analysis thread--> FaceAnalyzer -> FrameSample
    mic/file    --audio thread----> VoiceAnalyzer -> AudioLevel / SpeechStarted / SpeechSegment / TurnEnded
                                        SpeechSegment(clinician) --speech-to-text thread--> Utterance

Every event goes to `sink(event)`, called on a worker thread (the store and the UI bridge both queue).
In live mode the capture thread keeps only the newest frame: when analysis falls behind, old frames are
dropped (counted in `frames_dropped`) instead of queued, so feedback latency stays bounded. Offline
analysis uses `drop_frames=False` and sees every frame.

With `speech_to_text` on, each clinician SpeechSegment's sound (kept by an AudioTail on the voice
analyser) is queued to a TranscriptionWorker; its Utterance events (text, verbal labels, latency) reach
the sink when ready, possibly seconds later (docs/speech-to-text.md). `stop()` waits up to
`stt_drain_s` for queued utterances.

A source that cannot be opened does not stop the visit: the pipeline emits a Notice saying what
feedback is unavailable and why, and runs with what it has.

Inputs that stop are said to have stopped (issue 9). Each source has a `SourceMonitor`: the workers
report every frame or block, a watchdog thread (live mode) checks the session clock four times a second,
and a change of state becomes a `SourceStatus` event (live, ended, failed, lost, silent, restored), plus a
Notice naming the feedback that stopped and since when. "lost" means the worker has waited over `STALL_S`
of session time for the source's next frame or block; "silent" a microphone sending only digital silence
for over `SILENCE_S`. Both are judged on the session clock only, so the notice comes within about a second
whatever else the pipeline is doing.

Why "waited for", not "the newest data is over a second old": on a loaded machine the analysis falls
behind and a backlog of frames or blocks builds up (a device's queue, a file read at real time), so the
newest data handled is old although the source never stopped. Judged by the data's age, the watchdog then
said "lost" at every look and each next block said "back": about 40 notices in 2 s of one visit. A source
that keeps the worker waiting has stopped; a worker busy with a backlog says nothing about the source.
Once lost, a source counts as back only when data has come for `RESTORE_S` of its own time, so a
sputtering device gives one notice pair rather than one per frame.
"""

from __future__ import annotations

import queue
import sys
import threading
from dataclasses import replace
from typing import Callable

import numpy as np

from trainer.capture.base import Frame
from trainer.core.clock import clock_text
from trainer.core.i18n import N_, _, later
from trainer.core.errors import ModelError, TrainerError
from trainer.core.events import (SIGNAL_GAP_S, SOURCE_STOPPED, Notice, SourceFinished, SourceStatus, SpeechSegment,
                                 Utterance)

Sink = Callable[[object], None]

STALL_S = SIGNAL_GAP_S  # no frame / block for this long on the session clock: the source is "lost"
SILENCE_S = 1.0  # only digital silence from the microphone for this long: "silent"
STARTUP_S = 3.0  # a device may take this long to deliver its first data before it counts as lost
RESTORE_S = 0.5  # a lost source is back once it has delivered this much (session seconds of its data)
WATCH_S = 0.25  # how often the watchdog looks
HELD_RESULTS = 4  # stepped runs: face results analysed ahead of the visit, waiting for their time
# A block whose every sample is below one 16-bit step is digital silence: a muted or dead input. A real
# microphone in a quiet room still has a noise floor tens of dB above this.
DIGITAL_SILENCE = 1.0 / 32768

_FEEDBACK = {"camera": N_("Eye-contact and face feedback"), "mic": N_("Talk-time feedback")}
_NAME = {"camera": N_("camera"), "mic": N_("microphone")}


class SourceMonitor:
    """Whether one input (camera or mic) still delivers, judged on the session clock only.

    The worker calls `waiting(now)` each time it asks the source for the next item, `data(t, end, silent)`
    for every frame or block it gets (session seconds; `silent`: a block of digital silence), and
    `finished(state, reason)` when the source ends ("ended") or breaks ("failed"); the watchdog calls
    `check(now)`. Each returns the events to emit: a SourceStatus on every change of state, with a Notice
    when feedback stops or comes back. Thread-safe."""

    def __init__(self, source: str, started_at: float = 0.0):
        self.source = source
        self.state: str | None = None  # None until the first data
        self.since: float | None = None  # when the current state began
        self.last_end: float | None = None  # end of the newest frame/block
        self._started_at = started_at
        self._silent_from: float | None = None
        self._waiting_since: float | None = None  # session time the worker asked for the next item
        self._back_from: float | None = None  # lost: the start of the data that came back since
        self._lock = threading.Lock()

    def waiting(self, now: float) -> None:
        """The worker is done with the last item and waits for the source's next one."""
        with self._lock:
            self._waiting_since = now

    def data(self, t: float, end: float, silent: bool = False) -> list:
        """A frame or block covering session time t..end arrived."""
        with self._lock:
            self._waiting_since = None  # busy with this item until the next waiting()
            if self.state in ("ended", "failed"):
                return []
            previous_end = self.last_end
            self.last_end = end if self.last_end is None else max(self.last_end, end)
            out: list = []
            if self.state is None:
                out += self._set("live", t, "")
            elif self.state == "lost":
                if self._back_from is None or (previous_end is not None and t - previous_end > STALL_S):
                    self._back_from = t  # (again) after a gap: a sputtering source is not back yet
                if end - self._back_from >= RESTORE_S - 1e-9:
                    out += self._set("restored", self._back_from, "", notice_t=end)
                    self._back_from = None
                    self._silent_from = None
                else:
                    return out
            elif self.state == "silent" and not silent:
                out += self._set("restored", t, "")
                self._silent_from = None
            if not silent:
                self._silent_from = None
            elif self.state != "silent":
                if self._silent_from is None:
                    self._silent_from = t
                if end - self._silent_from >= SILENCE_S:
                    out += self._set("silent", self._silent_from, "only digital silence (muted or a dead input)",
                                     notice_t=end)
            return out

    def check(self, now: float) -> list:
        """The watchdog's look at session time `now`: a source that kept the worker waiting for too long
        is lost. A worker busy with an item (a slow analysis, a backlog) is not waiting, so load alone
        never makes a source lost."""
        with self._lock:
            if self.state in ("ended", "failed"):
                return []
            waited = self._waiting_since
            if self.state == "lost":
                if waited is not None and self._back_from is not None and now - waited > STALL_S:
                    self._back_from = None  # what came back stopped again before it counted as back
                return []
            if self.last_end is None:
                if now - self._started_at > STARTUP_S:
                    return self._set("lost", self._started_at, "nothing received since the visit started",
                                     notice_t=now)
                return []
            if waited is not None and now - waited > STALL_S:
                return self._set("lost", self.last_end, "nothing received (unplugged, or taken by another app)",
                                 notice_t=now)
            return []

    def gone(self, now: float) -> list:
        """The device itself reported that it stopped (e.g. an empty block from the microphone)."""
        with self._lock:
            if self.state in ("ended", "failed", "lost"):
                return []
            since = self.last_end if self.last_end is not None else self._started_at
            return self._set("lost", since, "the device stopped", notice_t=max(now, since))

    def finished(self, state: str, reason: str, now: float = 0.0) -> list:
        """The source ended ("ended": a file ran out) or broke ("failed"), after its last data."""
        with self._lock:
            if self.state in ("ended", "failed"):
                return []
            since = self.last_end if self.last_end is not None else self._started_at
            return self._set(state, since, reason, notice_t=max(now, since))

    def _set(self, state: str, t: float, reason: str, notice_t: float | None = None) -> list:
        previous, was = self.state, self.since
        self.state = "live" if state == "restored" else state
        self.since = t
        out: list = [SourceStatus(round(t, 3), self.source, state, reason)]
        # Each notice keeps its language-neutral form (core.i18n.later), so a replay or summary read in
        # another language than the visit's words it in that language.
        name, feedback = later(_NAME[self.source]), later(_FEEDBACK[self.source])
        nt = round(max(t, notice_t if notice_t is not None else t), 3)
        text = None
        if state == "restored" and previous in SOURCE_STOPPED:
            code, level = f"{self.source}_restored", "info"
            text = later(N_("The {name} is back; nothing was received from {start} to {end} and that stretch "
                            "is left out of the feedback."), name=name, start=clock_text(was), end=clock_text(t))
        elif state == "silent":
            code, level = "mic_silent", "warning"
            text = later(N_("The microphone has sent only silence since {t} (muted, or the wrong input?). "
                            "{feedback}: paused until it hears sound again."), t=clock_text(t), feedback=feedback)
        elif state in SOURCE_STOPPED:
            code, level = f"{self.source}_{state}", "warning"
            why = {"ended": later(N_("the video file ended")) if self.source == "camera" else
                   later(N_("the audio file ended")),
                   "lost": later(N_("unplugged, or taken by another app"))}.get(state, reason)
            then = later(N_("paused until it is back.") if state == "lost" else
                         N_("stopped; the visit goes on without it."))
            text = later(N_("No {name} signal since {t} ({why}). {feedback}: {then}"), name=name, t=clock_text(t),
                         why=why, feedback=feedback, then=then)
        if text is not None:
            out.append(Notice.worded(nt, code, text, level))
        return out


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
                 analyzer_factory=None, voice_factory=None, on_frame: Callable[[Frame, object], None] | None = None,
                 speech_to_text: bool = False, patient_names: tuple[str, ...] = (), keep_text: bool = False,
                 recognizer_factory=None, stt_drain_s: float = 20.0,
                 on_capture: Callable[[Frame], None] | None = None):
        self.frame_source = frame_source
        self.audio_source = audio_source
        self.clock = clock
        self.sink = sink
        self.drop_frames = drop_frames
        self._analyzer_factory = analyzer_factory
        self._voice_factory = voice_factory
        self.on_frame = on_frame  # e.g. the UI's self-view (gets the frame and its observation)
        # Every captured frame, analysed or not (the consented video recording; stepped, once its time is
        # released); must not block for long.
        self.on_capture = on_capture
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
        self.camera_monitor = SourceMonitor("camera")
        self.mic_monitor = SourceMonitor("mic")
        # The watchdog judges "no data for a second" on the session clock; it runs when sources are paced to
        # that clock (live), not when files are read as fast as possible.
        self.watch = drop_frames
        self.speech_to_text = speech_to_text
        self.patient_names = tuple(patient_names)
        self.keep_text = keep_text
        self._recognizer_factory = recognizer_factory
        self.stt_drain_s = stt_drain_s
        self._stt = None
        self._tail = None
        self._spec_key = None  # (start, end) of the open segment last decoded speculatively
        self._hurry = False

    @property
    def frames_dropped(self) -> int:
        return self._slot.dropped

    def _notice(self, code: str, message: str, level: str = "warning") -> None:
        self.sink(Notice(round(self.clock.now(), 3), code, message, level))

    def _emit(self, events: list) -> None:
        for ev in events:
            self.sink(ev)

    def _failed_to_open(self, source: str, reason: str) -> None:
        self.sink(SourceStatus(round(self.clock.now(), 3), source, "failed", reason))

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
                self._notice("camera_unavailable", f"{exc.message} " + _("Eye-contact and face feedback are off "
                                                                         "for this visit."))
                self._failed_to_open("camera", exc.message)
        else:
            self._notice("camera_unavailable", _("No camera selected: eye-contact and face feedback are off."))
        if self.audio_source is not None:
            try:
                self.audio_source.open()
                self._voice = self._voice_factory() if self._voice_factory else _default_voice()
                self.mic_ok = True
            except TrainerError as exc:
                self._notice("mic_unavailable", f"{exc.message} " + _("Talk-time feedback is off for this visit."))
                self._failed_to_open("mic", exc.message)
            if self.mic_ok and self.speech_to_text:
                self._start_stt()
        else:
            self._notice("mic_unavailable", _("No microphone selected: talk-time feedback is off."))
        if self.camera_ok:
            try:
                self._analyzer = self._analyzer_factory() if self._analyzer_factory else _default_analyzer()
            except ModelError as exc:
                self.camera_ok = False
                self._notice("face_model_unavailable", f"{exc.message} " + _("Face feedback is off."), "error")
                self._failed_to_open("camera", exc.message)

    def _start_stt(self) -> None:
        from trainer.analysis.stt import AudioTail, SpeechRecognizer, TranscriptionWorker

        # Loaded here, before the session clock starts, like the face model: loading holds the
        # interpreter for a second or more, which must not stall the capture threads mid-visit.
        try:
            recognizer = self._recognizer_factory() if self._recognizer_factory else SpeechRecognizer()
        except ModelError as exc:
            self._notice("speech_to_text_unavailable",
                         f"{exc.message} What you say is not transcribed in this visit.", "error")
            return
        self._tail = AudioTail()
        self._voice.tail = self._tail
        self._stt = TranscriptionWorker(self._on_transcript, self.clock.now, recognizer_factory=lambda: recognizer)

    def _on_transcript(self, job, transcript, done_t: float) -> None:
        from trainer.core.verbal import label_utterance, merge_labels

        # Known when transcribed, and never before its speech ended (a file source ahead of the clock).
        done_t = max(done_t, job.end)
        if transcript is None:  # the visit was closed before its turn came: kept as not transcribed
            self.sink(Utterance(round(done_t, 3), job.start, job.end, "", {}, None, self.keep_text,
                                transcribed=False))
            return
        # An empty text (breath or noise with no words) still tells listeners the segment was heard.
        labels = merge_labels(label_utterance(transcript.text, self.patient_names)) if transcript.text else {}
        self.sink(Utterance(round(done_t, 3), job.start, job.end, transcript.text, labels,
                            transcript.confidence, self.keep_text))

    def _transcribe(self, events: list) -> None:
        from trainer.analysis.stt import PAD_S, TranscriptionJob

        for ev in events:
            if isinstance(ev, SpeechSegment) and ev.speaker == "clinician":
                if self._stt.confirm(ev.start, ev.end):
                    continue  # already being decoded since the voice paused
                samples = self._tail.between(ev.start - PAD_S, ev.end + PAD_S)
                if len(samples):
                    self._stt.submit(TranscriptionJob(ev.start, ev.end, samples))

    def _speculate(self, segmenter) -> None:
        """Start decoding an open segment once its voice has paused for SPECULATE_AFTER_S (the worker
        keeps the result only if the segment then closes there: TranscriptionWorker)."""
        from trainer.analysis.stt import PAD_S, SPECULATE_AFTER_S, TranscriptionJob

        if not self._stt.idle:
            return  # behind already: a speculative decoding would only delay the utterances queued
        start, end, now = segmenter.open_since, segmenter.last_speech_end, self._tail.end_t
        if start is None or end is None or now is None or now - end < SPECULATE_AFTER_S - 1e-9:
            return
        key = (round(start, 3), round(end, 3))
        if key == self._spec_key:
            return
        self._spec_key = key
        samples = self._tail.between(start - PAD_S, end + PAD_S)
        if len(samples):
            self._stt.submit(TranscriptionJob(key[0], key[1], samples, speculative=True))

    @property
    def stt_latencies(self) -> list[float]:
        """End of speech to transcript, seconds, for each utterance transcribed so far."""
        return list(self._stt.latencies) if self._stt is not None else []

    def start(self) -> None:
        """Start the worker threads (preparing first if needed)."""
        self.prepare()
        if self.camera_ok:
            self._spawn(self._capture_loop, "capture")
            self._spawn(self._analysis_loop, "face-analysis")
        if self.mic_ok:
            self._spawn(self._audio_loop, "voice-analysis")
        if self.watch and (self.camera_ok or self.mic_ok):
            now = self.clock.now()
            self.camera_monitor._started_at = self.mic_monitor._started_at = now
            self._spawn(self._watch_loop, "source-watch")

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

    def _watch_loop(self) -> None:
        monitors = [m for m, ok in ((self.camera_monitor, self.camera_ok), (self.mic_monitor, self.mic_ok)) if ok]
        while not self._stop.wait(WATCH_S):
            now = self.clock.now()
            for m in monitors:
                self._emit(m.check(now))

    def _source_finished(self, monitor: SourceMonitor, src, error: str | None) -> None:
        """A worker's source loop ended: say so, unless the visit itself is stopping."""
        if self._stop.is_set():
            return
        if error:
            self._emit(monitor.finished("failed", error, self.clock.now()))
        elif getattr(src, "kind", "") == "file":
            self._emit(monitor.finished("ended", "end of file", self.clock.now()))
        else:
            self._emit(monitor.finished("failed", f"the {_NAME[monitor.source]} stopped", self.clock.now()))

    def _watched(self, items, monitor: SourceMonitor):
        """A source's frames or blocks, telling `monitor` each time the worker waits for the next one (what
        the watchdog judges a stop by)."""
        it = iter(items)
        try:
            while True:
                monitor.waiting(self.clock.now())
                try:
                    item = next(it)
                except StopIteration:
                    return
                yield item
        finally:
            close = getattr(it, "close", None)
            if close is not None:
                close()

    @property
    def _stepped_camera(self) -> bool:
        """The camera is a stepped source (trainer.sim.sources): it holds results, not frames."""
        return getattr(self.frame_source, "begin_result", None) is not None

    def _capture_loop(self) -> None:
        src = self.frame_source
        monitor = self.camera_monitor
        # A stepped source reads frames ahead of the visit's time; they reach on_capture (the recording) when
        # their time is released instead, so a recording never holds frames from after the call ended.
        stepped = self._stepped_camera
        try:
            for frame in self._watched(src.frames(), monitor):
                if self._stop.is_set():
                    break
                self._emit(monitor.data(frame.t, frame.t))
                if self.on_capture is not None and not stepped:
                    self.on_capture(frame)
                self._slot.put(frame, block=not self.drop_frames)
        finally:
            err = getattr(src, "error", None)
            if err:
                self._notice("camera_error", err)
            self._source_finished(monitor, src, err or _failure_in_flight("camera"))
            self._slot.close()

    def _analysis_loop(self) -> None:
        if self._stepped_camera:
            self._analysis_ahead()
            return
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

    def _analysis_ahead(self) -> None:
        """A stepped source (trainer.sim.sources) holds each frame's result, not the frame, until the
        driver releases its session time: the analysis runs up to HELD_RESULTS frames ahead of the visit
        while a delivery thread hands each result on, in order, once its time is released. The visit sees
        the same results at the same session times as when each frame was held back."""
        src, analyzer = self.frame_source, self._analyzer
        held: queue.Queue = queue.Queue(maxsize=HELD_RESULTS)
        given_up = threading.Event()
        last_t = [0.0]

        def deliver() -> None:
            while True:
                item = held.get()
                if item is None:
                    return
                frame, sample, obs = item
                if not src.wait_result(frame.t):
                    given_up.set()
                    return
                self.frames_analyzed += 1
                last_t[0] = frame.t
                if self.on_capture is not None:
                    self.on_capture(frame)
                self.sink(replace(sample, latency_s=self.clock.now() - frame.t))
                if self.on_frame is not None:
                    self.on_frame(frame, obs)
                src.result_delivered(frame.t)

        th = threading.Thread(target=self._guard(deliver, "face-delivery"), name="face-delivery", daemon=True)
        th.start()
        try:
            while not given_up.is_set():
                frame = self._slot.get()
                if frame is None:
                    break
                src.begin_result(frame.t)
                item = (frame, *analyzer.process(frame))
                while not given_up.is_set() and th.is_alive():
                    try:
                        held.put(item, timeout=0.2)
                        break
                    except queue.Full:
                        continue
        finally:
            while th.is_alive():
                try:
                    held.put(None, timeout=0.2)
                    break
                except queue.Full:
                    continue
            th.join()
            analyzer.close()
            self.sink(SourceFinished(round(last_t[0], 3), "camera"))

    def _audio_loop(self) -> None:
        voice = self._voice
        last_t = 0.0
        src = self.audio_source
        monitor = self.mic_monitor
        try:
            for block in self._watched(src.blocks(), monitor):
                if self._stop.is_set():
                    break
                if len(block.samples) == 0:  # the device reports itself gone
                    status = monitor.gone(self.clock.now())
                else:
                    last_t = block.t + block.duration
                    silent = float(np.max(np.abs(block.samples))) < DIGITAL_SILENCE
                    status = monitor.data(block.t, last_t, silent)
                self._emit(status)
                with self._voice_lock:
                    events = voice.process(block)
                for ev in events:
                    # The monitor reports a lost and restored device (with SourceStatus); the analyser's own
                    # notices about it would say the same twice.
                    if isinstance(ev, Notice) and ev.code in ("mic_lost", "mic_restored"):
                        continue
                    self.sink(ev)
                if self._stt is not None:
                    self._transcribe(events)
                    segmenter = getattr(voice, "segmenter", None)
                    if segmenter is not None:
                        with self._voice_lock:
                            self._speculate(segmenter)
        finally:
            failure = _failure_in_flight("microphone")
            with self._voice_lock:
                events = voice.flush()
            for ev in events:  # sinks run outside the lock: they take the visit runner's lock
                self.sink(ev)
            if self._stt is not None:
                self._transcribe(events)
            err = getattr(src, "error", None)
            if err:
                self._notice("mic_error", err)
            # A microphone that comes back clears its error text's urgency but not the text; only a source
            # that ends while lost or failing is "failed".
            self._source_finished(monitor, src, failure or (err if monitor.state == "lost" else None))
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

    @property
    def speech_to_text_idle(self) -> bool:
        """No utterance queued or being transcribed (True without speech-to-text)."""
        return self._stt is None or self._stt.idle

    def hurry_speech_to_text(self) -> None:
        """Transcribe no more queued utterances (the one being decoded finishes): they come out as
        Utterance(transcribed=False). For closing the app; safe from any thread."""
        self._hurry = True
        if self._stt is not None:
            self._stt.hurry()

    def stop(self, timeout: float = 5.0, *, hurry: bool = False) -> None:
        """Stop sources and wait for the workers (flushing open speech segments). hurry: see
        hurry_speech_to_text; the decoding under way is still waited for (up to a minute), because ending
        the process under native code still running aborts it (seen with CTranslate2, the earlier engine)."""
        self._stop.set()
        for src in (self.frame_source, self.audio_source):
            if src is not None:
                src.stop()
        self._slot.close()
        for th in self._threads:
            th.join(timeout)
        if self._stt is not None:
            hurry = hurry or self._hurry
            if not self._stt.close(max(self.stt_drain_s, 60.0) if hurry else self.stt_drain_s, hurry=hurry):
                # Still transcribing after stt_drain_s (a backlog on a busy machine): the rest is stored as
                # not transcribed, and the decoding under way is waited for, so the process never ends
                # under a decoding's native code ("terminate called without an active exception").
                self._stt.close(60.0, hurry=True)
        for src in (self.frame_source, self.audio_source):
            if src is not None:
                try:
                    src.close()
                except Exception:  # noqa: BLE001 - closing a vanished device must not mask the session
                    pass

    def join(self, timeout: float | None = None) -> None:
        for th in self._threads:
            th.join(timeout)


def _failure_in_flight(what: str) -> str | None:
    """In a worker's `finally`: what broke, if an exception is on its way to the thread guard (which
    reports it too), else None."""
    exc = sys.exc_info()[1]
    if exc is None:
        return None
    return exc.message if isinstance(exc, TrainerError) else f"the {what} input broke: {exc!r}"


def _default_analyzer():
    from trainer.analysis.face import create_face_processor

    return create_face_processor()


def _default_voice():
    from trainer.analysis.voice import create_voice_processor

    return create_voice_processor()
