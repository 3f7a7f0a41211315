"""One visit, without any UI: session clock + scenario engine + analysis pipeline + session writer.

The GUI drives a `VisitRunner` and listens to its events; tests and `trainer run --headless` drive the
very same object. Threads: the pipeline's workers, one engine ticker, the store's writer. The engine is
only touched under `_lock`. `listener(event)` is called on those worker threads; the UI's bridge queues
events onto the Qt main thread.

A simulated visit (trainer.sim) uses the same object in *stepped* mode: the caller owns a virtual session
clock, passes ready-made sources (a looping video, a virtual microphone) and calls `advance()` once per
step instead of the engine ticker and the virtual player's thread running on wall time, so a whole visit
runs as fast as the CPU allows and the same inputs give the same session.

Speak freely (`speak_freely=True`, needs `speech_to_text`): in a clinician turn that has intent cards and
where no card was pressed, the end of the turn is held until the transcript of the turn's last speech
arrives (at most `intent_wait_s`), the words are matched to the turn's cards (trainer.core.intents) and,
when recognition is sure, that card is chosen as if pressed (an `intent_heard` event records the card,
its confidence and the runner-up score). When unsure, no card is chosen: the cards stay the fallback.

Layering: this module sits between `ui` and `store` (see the import-linter contract in pyproject.toml).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from trainer.analysis.calibration import load_calibration
from trainer.analysis.face import create_face_processor
from trainer.analysis.pipeline import VisitPipeline
from trainer.capture.audio import open_audio_source
from trainer.capture.patient_voice import VIRTUAL_LOOKAHEAD_S, PatientPlayer, PatientVoice, RenderedLine
from trainer.capture.video import open_frame_source
from trainer.core.i18n import N_, _, figure, later
from trainer.core.clock import SessionClock
from trainer.core.engine import ScenarioEngine
from trainer.core.errors import TrainerError
from trainer.core.events import (FrameSample, IntentHeard, Notice, ScenarioEvent, SpeechSegment, SpeechStarted,
                                 TurnEnded, Utterance)
from trainer.core.intents import recognise_intent
from trainer.core.scenario import ClinicianTurn, PatientLine, Scenario
from trainer.core.threads import lower_thread_priority
from trainer.store.db import SessionStore
from trainer.store.outbox import queue_session

TICK_S = 0.05
# Lines rendered before t = 0 in a real-time visit; the rest are rendered in the background while the
# visit runs (the first line plays for several seconds, time enough for the next ones). Start-up with an empty voice cache was
# about 40 s when every line was rendered first (benchmarks/bench_first_line.py).
FIRST_LINES = 1


@dataclass(frozen=True, slots=True)
class FramePreview:
    """The newest camera frame with its face observation, for the self-view (never stored)."""

    frame: object  # trainer.capture.base.Frame
    observation: object  # trainer.analysis.face.FaceObservation


def release_freed_memory() -> None:
    """Hand the memory freed by finished visits back to the operating system.

    A visit's threads (capture, analysis, voice, writer, playback) each allocate through their own C
    allocator arena (the landmarker's and the speech detector's buffers, decoded frames, audio blocks).
    When they end the memory is free but glibc keeps it mapped, so the process grew by 30-50 MB a visit
    for the first visits of a soak, with no Python object or native object left behind (a landmarker
    built, used and closed ten times stays flat once this runs; benchmarks/soak.py prints the growth).
    `malloc_trim(0)` returns the free pages of every arena; ctypes releases the GIL for the call, so
    other threads (the UI's) are not held up. A no-op where the C library has no such call (macOS,
    Windows, musl). Called at the end of `VisitRunner.end()` and again once the call window is gone."""
    import ctypes

    try:
        trim = ctypes.CDLL(None).malloc_trim  # the C library already loaded into the process
    except (OSError, AttributeError, TypeError):
        return
    trim.argtypes = [ctypes.c_size_t]
    trim(0)


class VisitRunner:
    """Runs one scenario with the given camera and microphone specs (index, file path, None, or a ready
    source object implementing the capture protocols).

    `clock`: the session clock (a SessionClock on a virtual time function for simulations); `stepped`:
    no ticker or playback thread, the caller calls `advance()` (see the module docstring);
    `on_playback(t, samples, rate)`: also receives the patient's played audio (a simulated room's
    speaker path)."""

    def __init__(self, scenario: Scenario, store: SessionStore, *, camera=0, mic="default",
                 listener: Callable[[object], None] | None = None,
                 realtime: bool = True, voice: PatientVoice | None = None, sound_output: bool = True,
                 calibration="auto", lms="policy", turn_time_scale="settings",
                 clock: SessionClock | None = None, stepped: bool = False,
                 on_playback: Callable[[float, object, int], None] | None = None, learner: str = "",
                 speech_to_text: bool = False, keep_transcripts: bool | None = None, recognizer_factory=None,
                 speak_freely: bool = False, intent_wait_s: float = 6.0, record_video: bool = False):
        self.scenario = scenario
        # The learner's consent to record their own video (ticked before the visit); honoured only when the
        # site policy allows it, checked here again so no caller can record against the policy.
        self.record_video = bool(record_video)
        self._record_refused: str | None = None
        if self.record_video:
            from trainer.store.recording import recording_allowed

            if not recording_allowed():
                self.record_video = False
                self._record_refused = _("This visit is not recorded: the site policy does not allow keeping "
                                         "camera video.")
        self.recorder = None  # trainer.store.recording.VideoRecorder while recording
        # Where results go when the visit ends: the site policy's LRS ("policy"), a given LmsPolicy, or
        # None; and the user's time limits for turns ("settings", a factor, or None for none). Read now, so
        # a policy problem shows before the visit rather than after it.
        if lms == "policy" or turn_time_scale == "settings":
            from trainer.core.policy import effective_settings
            from trainer.store.user_settings import load_user_settings

            settings = effective_settings(user=load_user_settings())
            lms = settings.lms if lms == "policy" else lms
            turn_time_scale = settings.turn_time_scale if turn_time_scale == "settings" else turn_time_scale
        self.lms = lms
        self.store = store
        self.learner = learner
        self.listener = listener or (lambda ev: None)
        self.clock = clock or SessionClock()
        self.stepped = stepped
        self._on_playback = on_playback
        # The first patient line is rendered before t = 0 (start()), the others in the background in play
        # order, so the engine knows each line's exact length; a line not rendered in time (or not at all)
        # falls back to the engine's word-count estimate and is shown as a caption.
        self.voice = voice or PatientVoice()
        self._rendered: dict[str, RenderedLine] = {}
        self._voice_thread: threading.Thread | None = None
        self._voice_stop = threading.Event()
        self.player = PatientPlayer(self.clock, self._on_patient_audio, use_device=sound_output and realtime,
                                    autopump=not stepped)
        self.engine = ScenarioEngine(scenario, line_duration=self._line_duration, turn_time_scale=turn_time_scale)
        if mic is None:
            self.engine.no_microphone()
        self._lock = threading.Lock()
        self._ticker: threading.Thread | None = None
        self._stopped = threading.Event()
        self._ended = threading.Event()  # set when end() has finished (or failed)
        self._patient_line: tuple[float, dict] | None = None
        self.session_id: int | None = None
        self.writer = None
        self.camera_spec, self.mic_spec = camera, mic
        self.realtime = realtime
        frame_source = camera if hasattr(camera, "frames") else \
            open_frame_source(camera, clock=self.clock, realtime=realtime)
        audio_source = mic if hasattr(mic, "blocks") else \
            (open_audio_source(mic, clock=self.clock, realtime=realtime) if mic is not None else None)
        # Eye-contact calibration: the one saved for this user and camera ("auto"), a given one, or None
        # for the default geometry (camera above the screen). The session records which.
        self._calibration_problem: str | None = None
        if calibration == "auto":
            try:
                calibration = load_calibration(current_user(), camera_key(camera))
            except TrainerError as exc:
                calibration, self._calibration_problem = None, exc.message + " " + _("Using the default camera position.")
        self.calibration = calibration
        if speech_to_text and keep_transcripts is None:
            from trainer.core.policy import effective_settings

            keep_transcripts = effective_settings().allow_transcripts
        self.pipeline = VisitPipeline(frame_source, audio_source, self.clock, self._on_pipeline_event,
                                      on_frame=self._on_frame, drop_frames=realtime,
                                      analyzer_factory=lambda: create_face_processor(calibration=calibration),
                                      speech_to_text=speech_to_text, patient_names=(scenario.patient.name,),
                                      keep_text=bool(keep_transcripts), recognizer_factory=recognizer_factory,
                                      on_capture=self._on_capture if self.record_video else None)
        self.finished = threading.Event()  # set when the scenario reached its end
        self.speak_freely = speak_freely and speech_to_text
        self.intent_wait_s = intent_wait_s
        self._turn_words: list[Utterance] = []  # transcripts heard in the current clinician turn
        self._held_turn_end: tuple[float, TurnEnded] | None = None  # (held since, event)
        self._pressed_steps: set[str] = set()
        self._turn_start = 0.0
        self._engine_t = 0.0

    # -- lifecycle ----------------------------------------------------------------------------------
    def start(self, progress: Callable[[int, int, str], None] | None = None) -> int:
        """Create the stored session, start the clock, the engine and the pipeline; returns session id.
        `progress(done, total, text)` reports the preparation steps (voice, devices and model)."""
        say = progress or (lambda done, total, text: None)
        self.session_id = self.store.create_session(
            self.scenario.id, self.scenario.title,
            camera=_describe(self.camera_spec), mic=_describe(self.mic_spec),
            calibrated=self.calibration is not None, learner=self.learner,
            scenario_text=_scenario_text(self.scenario))
        self.writer = self.store.writer(self.session_id, on_problem=self._on_store_problem)
        if self._calibration_problem:
            self.notice("calibration_unusable", self._calibration_problem)
        say(0, 2, _("Preparing the patient's voice, the camera and the microphone…"))
        # The first line's voice and the devices + face model are prepared side by side: each takes a
        # second or two, and they wait on different things (the synthesiser, device drivers, model load).
        voice = threading.Thread(target=self._prepare_voice, name="patient-voice-first", daemon=True)
        voice.start()
        self.pipeline.prepare()  # opens devices and loads the model before t = 0
        voice.join()
        if self.record_video:
            self._start_recording()
        elif self._record_refused:
            self.notice("recording_not_allowed", self._record_refused, level="info")
        say(1, 2, _("Starting the call…"))
        self.clock.start()
        with self._lock:
            self._dispatch(self.engine.start(0.0))
        self.pipeline.start()
        if not self.stepped:
            self._ticker = threading.Thread(target=self._tick_loop, name="scenario-ticker", daemon=True)
            self._ticker.start()
        return self.session_id

    def advance(self) -> None:
        """Stepped mode: bring the engine and the patient's playback up to the clock's time (what the
        ticker and the virtual player's thread do on wall time). Playback is handed over
        VIRTUAL_LOOKAHEAD_S ahead, as a sound card's buffer would."""
        with self._lock:
            self._release_if_waited()
            self._dispatch(self.engine.tick(self._now()))
        self.player.pump(self.clock.now() + VIRTUAL_LOOKAHEAD_S)

    def end(self, *, hurry: bool = False) -> int:
        """End the call (if still running), stop the pipeline, flush and close the session. hurry (closing
        the app): utterances still queued for speech-to-text are stored as not transcribed instead of
        waited for. A second call (e.g. closing the app while End call is saving) waits for the first."""
        if self._stopped.is_set():
            if hurry:
                self.pipeline.hurry_speech_to_text()
            self._ended.wait(120)
            return self.session_id
        with self._lock:
            t = self._now()
            self._dispatch(self.engine.end_call(t))
        self._stopped.set()
        try:
            if self._ticker is not None:
                self._ticker.join(2)
            self._voice_stop.set()
            self.player.close()
            self.pipeline.stop(hurry=hurry)
            self._stop_recording()
            with self._lock:  # every frame and speech segment is in now: the rubric on all of them
                self._dispatch(self.engine.close())
            completed = any(e.kind == "visit_end" and e.data.get("reason") == "completed" for e in self.engine.history)
            self.writer.close("completed" if completed else "ended_early", duration_s=round(t, 3),
                              calibrated=self.calibration is not None)
            # The xAPI outbox (only when the policy names an LRS); sending is trainer.lms's job, later.
            queue_session(self.store, self.session_id, self.lms, current_user(), behaviours=self.scenario.behaviours,
                          description=self.scenario.summary)
        finally:
            self._ended.set()
        release_freed_memory()
        return self.session_id

    # -- the consented recording ----------------------------------------------------------------------
    def _start_recording(self) -> None:
        """Open the recording file beside the store (trainer.store.recording); a failure is said and the
        visit goes on unrecorded."""
        from trainer.store.recording import VideoRecorder, recording_path

        try:
            path = recording_path(self.store.path, self.store.session(self.session_id)["uuid"])
            self.recorder = VideoRecorder(path, audio_rate=self.player.rate,
                                          block=self.stepped or not self.realtime)
        except (OSError, TrainerError, ValueError) as exc:
            self.notice("recording_failed", later(N_("This visit cannot be recorded ({error}); it goes on without "
                                                     "video."), error=str(getattr(exc, "strerror", None) or exc)),
                        level="warning")
            return
        self.notice("recording_on", later(N_("Your video and the patient's voice are being recorded on this "
                                             "computer for your debrief.")), level="info")

    def _on_capture(self, frame) -> None:
        rec = self.recorder
        if rec is not None:
            rec.add_frame(frame)

    def _stop_recording(self) -> None:
        rec, self.recorder = self.recorder, None
        if rec is None:
            return
        stats = rec.close()
        if stats.frames == 0:
            rec.path.unlink(missing_ok=True)
            self.notice("recording_empty", later(N_("No video was recorded: the camera gave no picture.")))
        elif stats.error:
            self.notice("recording_failed", later(N_("The recording stopped at {t} s ({error}); what was recorded "
                                                     "until then is kept."), t=figure(stats.last_t, 0),
                                                  error=str(stats.error)))
        elif stats.dropped:
            self.notice("recording_dropped", later(N_("{n} camera frames were left out of the recording (the "
                                                      "computer was busy)."), n=int(stats.dropped)), level="info")

    def ui_action(self, action: str) -> None:
        """A call-window action: share_screen, stop_share, invite_caregiver (see core.scenario.ACTIONS)."""
        with self._lock:
            self._dispatch(self.engine.ui_action(self._now(), action))

    def choose_card(self, card_id: str) -> None:
        """The clinician picked an intent card in the current turn (ids from the clinician_turn event)."""
        with self._lock:
            if self.engine.current is not None:
                self._pressed_steps.add(self.engine.current.id)
            self._dispatch(self.engine.choose_card(self._now(), card_id))

    def override(self, name: str) -> None:
        """A facilitator override (ids from available_overrides()); raises ValueError for unknown ids."""
        with self._lock:
            self._dispatch(self.engine.override(self._now(), name))

    def available_overrides(self) -> list[tuple[str, str]]:
        """(id, label) of the facilitator overrides this scenario offers."""
        return self.engine.available_overrides()

    def patient_line_audio(self, step_id: str) -> RenderedLine | None:
        """The rendered audio of a line (samples, rate, envelope at 100 Hz for the lips), or None when
        the line has no audio (the voice engine was unavailable). Safe from any thread."""
        return self._rendered.get(step_id)

    # -- patient voice ------------------------------------------------------------------------------
    def _prepare_voice(self) -> None:
        lines = self.scenario.lines_in_play_order()
        # Faster than real time or stepped (headless, simulated, tests) nobody waits for the first line, and every
        # line must have its exact length: render them all first.
        first = FIRST_LINES if self.realtime and not self.stepped else len(lines)
        mode = self.player.open()  # first: lines are converted to the output's rate as they are rendered
        try:
            for line in lines[:first]:
                self._rendered[line.id] = self._render(line)
        except TrainerError as exc:
            self.notice("voice_unavailable", later(N_("The patient's voice is off for this visit: {error} Their "
                                                      "lines are shown as captions."), error=exc.message))
        else:
            rest = lines[first:]
            if rest:
                self._voice_thread = threading.Thread(target=self._render_rest, args=(rest,),
                                                      name="patient-voice-render", daemon=True)
                self._voice_thread.start()
        self.player.preload(self._rendered.values())  # at the output's rate before t = 0
        if mode == "virtual" and self.player.reason != "sound output turned off":
            self.notice("sound_output_unavailable", f"{self.player.reason} " + _("Timing is kept as if it played."),
                        level="info")

    def _render(self, line: PatientLine) -> RenderedLine:
        persona = self.scenario.caregiver.persona if line.speaker == "caregiver" and self.scenario.caregiver \
            else self.scenario.patient
        return self.voice.render_line(line, persona)

    def _render_rest(self, lines: list[PatientLine]) -> None:
        """Background: render the remaining lines in play order (dict assignment is atomic, so the engine
        and the player see a line as soon as it is ready)."""
        lower_thread_priority()  # the live face and voice analysis come first on a 2-core machine
        for line in lines:
            if self._voice_stop.is_set():
                return
            try:
                rendered = self._render(line)
                self.player.preload([rendered])  # converted before it is published, so it starts on time
                self._rendered[line.id] = rendered
            except TrainerError as exc:
                self.notice("voice_unavailable", later(N_("Some of the patient's lines have no voice: {error} They "
                                                          "are shown as captions."), error=exc.message))
                return

    def wait_for_voices(self, timeout: float | None = None) -> bool:
        """Block until every line is rendered (tests, headless runs that want exact lengths throughout)."""
        if self._voice_thread is not None:
            self._voice_thread.join(timeout)
            return not self._voice_thread.is_alive()
        return True

    def _line_duration(self, line: PatientLine) -> float:
        from trainer.core.scenario import estimated_line_duration

        rendered = self._rendered.get(line.id)
        return rendered.duration if rendered is not None else estimated_line_duration(line.text)

    def _on_patient_audio(self, t: float, samples, rate: int) -> None:
        """Played patient samples: the echo reference for the voice analysis."""
        feed = getattr(self.pipeline, "patient_audio", None)
        if feed is not None:
            feed(t, samples, rate)
        if self._on_playback is not None:
            self._on_playback(t, samples, rate)
        rec = self.recorder
        if rec is not None:
            rec.add_audio(t, samples, rate)

    # -- event routing ------------------------------------------------------------------------------
    def _tick_loop(self) -> None:
        while not self._stopped.wait(TICK_S):
            with self._lock:
                self._release_if_waited()
                self._dispatch(self.engine.tick(self._now()))

    # -- speak freely ---------------------------------------------------------------------------------
    def _release_if_waited(self) -> None:
        """A held turn end whose words did not come within intent_wait_s goes on without them. Lock held."""
        held = self._held_turn_end
        if held is not None and self.clock.now() - held[0] >= self.intent_wait_s:
            self._release_turn_end()

    @property
    def awaiting_words(self) -> bool:
        """Speaking freely: a turn's end is held until its transcript comes in."""
        return self._held_turn_end is not None

    def _intent_turn(self) -> ClinicianTurn | None:
        """The current step when it is a clinician turn whose intent may be recognised from speech."""
        step = self.engine.current
        if self.speak_freely and isinstance(step, ClinicianTurn) and step.cards and \
                step.id not in self._pressed_steps:
            return step
        return None

    def _release_turn_end(self) -> None:
        """Recognise the held turn's intent from its words, then let the engine end the turn. Lock held."""
        _, ev = self._held_turn_end
        self._held_turn_end = None
        step = self._intent_turn()
        text = " ".join(u.text for u in self._turn_words if u.text)
        if step is not None and text:
            m = recognise_intent(text, step.cards, patient_names=(self.scenario.patient.name,))
            t = self._now()
            self._dispatch([IntentHeard(t, step.id, m.card, m.confidence, m.runner_up)])
            if m.card is not None:
                self._dispatch(self.engine.choose_card(t, m.card))
        self._turn_words = []
        self._dispatch(self.engine.clinician_turn_ended(self._now(), ev.speech_end))

    def _on_pipeline_event(self, ev) -> None:
        if isinstance(ev, FrameSample):
            with self._lock:
                self.engine.observe_frame(ev.t, ev.face, ev.gaze, ev.expressivity, ev.nod, ev.smile, ev.smile_above)
        elif isinstance(ev, SpeechStarted):
            with self._lock:
                self._dispatch(self.engine.clinician_speech_started(self._now(ev.t), onset=ev.t))
        elif isinstance(ev, SpeechSegment) and ev.speaker == "clinician":
            with self._lock:
                self._dispatch(self.engine.clinician_speech_segment(ev.start, ev.end))
        elif isinstance(ev, TurnEnded):
            with self._lock:
                if self._intent_turn() is not None:
                    # Wait for the words of this turn before the engine picks the branch.
                    self._held_turn_end = (self.clock.now(), ev)
                    if self._turn_words and self._turn_words[-1].end >= ev.speech_end - 0.3:
                        self._release_turn_end()
                else:
                    self._dispatch(self.engine.clinician_turn_ended(self._now(ev.t), ev.speech_end))
        elif isinstance(ev, Utterance):
            with self._lock:
                if self._intent_turn() is not None and ev.end > self._turn_start:
                    self._turn_words.append(ev)
                    held = self._held_turn_end
                    if held is not None and ev.end >= held[1].speech_end - 0.3:
                        self._release_turn_end()
            if not ev.text and ev.transcribed:
                self.listener(ev)
                return  # nothing was heard: no row to store
        elif type(ev).__name__ in ("SourceFinished", "SourceStatus"):
            with self._lock:  # the end of the microphone's coverage of the talk-time measures
                self.engine.source_changed(ev)
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
            if ev.kind == "clinician_turn":
                self._turn_words = []
                self._turn_start = ev.t
            if ev.kind == "patient_line":
                self._patient_line = (ev.t, ev.data)
                rendered = self._rendered.get(ev.data["step"])
                if rendered is not None:
                    self.player.play(ev.t, rendered)
            elif ev.kind == "visit_end":
                self.player.stop_line()
            if ev.kind == "patient_line_end" and ev.data.get("interrupted"):
                self.player.stop_line()  # cut short (call ended, facilitator skipped)
            if ev.kind == "patient_line_end" and self._patient_line is not None:
                seg = SpeechSegment(self._patient_line[0], ev.t, "patient")
                self._patient_line = None
                self.pipeline.patient_segment(seg.start, seg.end)
                self.writer.put(seg)
                self.listener(seg)
            self.writer.put(ev)
            self.listener(ev)
            if ev.kind == "visit_end":
                self.finished.set()

    def _on_store_problem(self, problem) -> None:
        """A storage fault (or its end) from the writer thread: said at once, in the call window too."""
        if problem is None:
            self.notice("storage_recovered", later(N_("Saving works again; what was recorded meanwhile has been "
                                                      "written.")), level="info")
        else:
            self.notice(f"storage_{problem.code}", later(N_("Saving is failing: {problem} {fix}"),
                                                         problem=problem.message, fix=problem.fix), level="error")

    def notice(self, code: str, message: str | dict, level: str = "warning") -> None:
        """Raise a notice: `message` as worded now, or a core.i18n.later(...) form, stored so that the replay
        and summary word it in the language they are read in."""
        t = round(self.clock.now(), 3)
        ev = Notice.worded(t, code, message, level) if isinstance(message, dict) else Notice(t, code, message, level)
        if self.writer is not None:
            self.writer.put(ev)
        self.listener(ev)


def _scenario_text(scenario) -> str | None:
    """The scenario file's text as played (stored with the session for replay, reports and bundles)."""
    try:
        return Path(scenario.path).read_text(encoding="utf-8") if scenario.path else None
    except (OSError, UnicodeDecodeError):
        return None


def current_user() -> str:
    """The OS account name: calibrations are kept per user and camera."""
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user database entry (some containers)
        return "default"


def camera_key(spec) -> str:
    """A stable name for a camera spec: 'camera 0' for a webcam index, the file name for a video file."""
    if spec is None:
        return "none"
    if hasattr(spec, "frames"):
        return f"source {getattr(spec, 'name', type(spec).__name__)}"
    if isinstance(spec, int) or (isinstance(spec, str) and spec.isdigit()):
        return f"camera {int(spec)}"
    from pathlib import Path

    return f"file {Path(str(spec)).name}"


def _describe(spec) -> str:
    """What the stored session says about an input: a device index or name, or a file's name without
    its folder (a full path can say more about the user than the session needs)."""
    if spec is None:
        return "none"
    if hasattr(spec, "frames") or hasattr(spec, "blocks"):  # a source object (simulated visits)
        return str(getattr(spec, "name", type(spec).__name__))
    text = str(spec)
    if text.isdigit() or text == "default":
        return text
    from pathlib import Path

    return Path(text).name or text


__all__ = ["VisitRunner", "FramePreview", "TrainerError", "release_freed_memory"]
