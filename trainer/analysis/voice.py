"""Voice analysis of the microphone: who is talking, on the session clock.

    mic block --> 32 ms frames --[EchoGuard, when the patient's playback is known]--> Silero VAD
              --> FrameDecision (hysteresis) --> Segmenter --> SpeechStarted / SpeechSegment / TurnEnded
                                                           \\-> TalkTracker --> TalkBalance (4 per second)

The same `VoiceAnalyzer` serves the live pipeline and offline analysis (trainer/analysis/offline_voice.py),
so a recording analysed afterwards gives the segments the live session gave.

The patient's side comes from the playback, which the app knows exactly: `patient_segment(start, end)`
when a patient line has finished, and optionally `patient_audio(t, samples, rate)` with the playback
signal itself, stamped with the session time at which it is heard. With the signal, the echo guard
removes the patient's voice from the microphone (speakers instead of headphones) and the patient's
speech intervals are detected on it as it plays, so interruptions show up live.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from trainer.capture.audio import StreamResampler
from trainer.capture.base import AudioBlock
from trainer.analysis.vad import FRAME, FRAME_S, RATE, FrameDecision, SileroVad
from trainer.core.i18n import N_, figure, later
from trainer.core import talktime
from trainer.core.events import AudioLevel, Notice, SpeechSegment, SpeechStarted, TalkBalance, TurnEnded
from trainer.core.metrics import merge_intervals


#: Filled pauses ("uhh", "mmm") and laughter: Silero, trained on words, often calls them non-speech. A
#: frame still counts as the speaker's talk when it is clearly voiced (periodicity, `voicing`, at least
#: VOICED_MIN at a pitch of 70-400 Hz), at least FILLER_SNR_DB above the noise floor, and the speaker
#: spoke (words, or such sounds) at most FILLER_GAP_S before, within FILLER_MAX_S of the last words the
#: detector confirmed. A hum or a tone far from any speech is not talk.
VOICED_MIN = 0.85
FILLER_SNR_DB = 15.0
FILLER_GAP_S = 1.0
FILLER_MAX_S = 3.0
_LAGS = np.arange(RATE // 400, RATE // 70 + 1)  # pitch periods of a voice, in samples


def voicing(frame: np.ndarray) -> float:
    """Periodicity of one frame (0..1): the largest normalised autocorrelation at lags of a voice's pitch
    period (70-400 Hz). Vowels, hums and laughs' voiced bursts score 0.85-1; noise stays under 0.65 (the
    fixtures' noise.wav peaks at 0.63)."""
    x = np.asarray(frame, dtype=np.float64)
    x = x - x.mean()
    n = len(x)
    spec = np.fft.rfft(x, 2 * n)
    ac = np.fft.irfft(spec.real ** 2 + spec.imag ** 2, 2 * n)[:n]
    c = np.concatenate(([0.0], np.cumsum(x * x)))
    lags = _LAGS[_LAGS < n - 1]
    energy = (c[n - lags]) * (c[n] - c[lags])  # energy of the two overlapping parts
    r = ac[lags] / np.sqrt(np.maximum(energy, 1e-20))
    return float(r.max()) if len(r) else 0.0


def rms_db(samples: np.ndarray) -> float:
    """Root-mean-square level in dBFS (-120 for digital silence)."""
    if len(samples) == 0:
        return -120.0
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))
    return 20.0 * math.log10(rms) if rms > 1e-6 else -120.0


@dataclass
class SegmenterConfig:
    """Timing rules that turn per-frame decisions into segments and turns (seconds)."""

    # Speech must last this long to open a segment (drops clicks and coughs). Not shorter than
    # min_segment_s: a SpeechStarted for a segment that is then dropped as too short made the engine
    # count an interruption (or a spoken turn) that the stored session has no speech for.
    onset_s: float = 0.1
    hangover_s: float = 0.2  # a pause at least this long closes a segment (two words 0.25 s apart stay two)
    min_segment_s: float = 0.1  # shorter segments are dropped
    end_of_turn_s: float = 0.7  # from the end of speech to TurnEnded (the configurable hang-over)
    # Silero marks the end of speech about two frames after the voice stops (measured on the fixtures'
    # labels, benchmarks/bench_voice.py); TurnEnded waits that much less detected silence so that it
    # comes end_of_turn_s after the voice really stopped.
    release_lag_s: float = 0.064


class Segmenter:
    """Frame decisions -> SpeechStarted, SpeechSegment (closed) and TurnEnded events.

    `push(t, duration, speech)` takes one frame's decision; times are session seconds. `speaker` names
    whose segments these are ('clinician' for the microphone, 'patient' for the playback)."""

    def __init__(self, config: SegmenterConfig | None = None, speaker: str = "clinician",
                 turn_events: bool = True):
        self.cfg = config or SegmenterConfig()
        self.speaker = speaker
        self.turn_events = turn_events
        self._run_start: float | None = None  # start of the current run of speech frames
        self._seg_start: float | None = None  # open segment
        self._last_speech_end: float | None = None
        self._turn_open = False
        # Detected silence that ends a turn; never shorter than the pause that closes a segment.
        self._turn_wait = max(self.cfg.end_of_turn_s - self.cfg.release_lag_s, self.cfg.hangover_s)

    @property
    def speaking(self) -> bool:
        """True while a segment is open."""
        return self._seg_start is not None

    @property
    def open_since(self) -> float | None:
        """Start of the open segment, if any."""
        return self._seg_start

    @property
    def last_speech_end(self) -> float | None:
        return self._last_speech_end

    def push(self, t: float, duration: float, speech: bool, onset_s: float | None = None) -> list:
        """One frame's decision; returns the events it completes. `onset_s` overrides the configured
        onset for this frame (a longer one while the patient's playback may be echoing)."""
        out: list = []
        end = t + duration
        if speech:
            if self._run_start is None:
                self._run_start = t
            self._last_speech_end = end
            onset = self.cfg.onset_s if onset_s is None else max(onset_s, self.cfg.onset_s)
            if self._seg_start is None and end - self._run_start >= onset - 1e-9:
                self._seg_start = self._run_start
                if self.turn_events:
                    out.append(SpeechStarted(round(self._seg_start, 3)))
                self._turn_open = True
        else:
            # A longer onset (over playback) bridges single-frame dips of the detector, which are common at
            # the start of double talk; otherwise they restarted the onset and moved the segment's start
            # (an interruption's reported time) a few frames late.
            if self._seg_start is None and (onset_s is None or self._last_speech_end is None
                                            or end - self._last_speech_end > duration + 1e-9):
                self._run_start = None
            if self._seg_start is not None and end - self._last_speech_end >= self.cfg.hangover_s - 1e-9:
                out += self._close()
            if (self._turn_open and self._seg_start is None and self._last_speech_end is not None
                    and end - self._last_speech_end >= self._turn_wait - 1e-9):
                self._turn_open = False
                if self.turn_events:
                    out.append(TurnEnded(round(end, 3), round(self._last_speech_end, 3)))
        return out

    def _close(self) -> list:
        start, end = self._seg_start, self._last_speech_end
        self._seg_start = None
        self._run_start = None
        if end - start >= self.cfg.min_segment_s:
            return [SpeechSegment(round(start, 3), round(end, 3), self.speaker)]
        return []

    def cut(self) -> list:
        """Close an open segment now (end of input, or the signal was lost); the turn ends with it."""
        out = self._close() if self._seg_start is not None else []
        self._run_start = None
        if self._turn_open and self._last_speech_end is not None:
            self._turn_open = False
            if self.turn_events:
                out.append(TurnEnded(round(self._last_speech_end + self._turn_wait, 3),
                                     round(self._last_speech_end, 3)))
        return out

    flush = cut


class TalkTracker:
    """Running talk-time balance from the clinician's and the patient's segments (live display)."""

    def __init__(self):
        self.clinician: list[tuple[float, float]] = []
        self.patient_known: list[tuple[float, float]] = []  # from patient_segment(): exact
        self.patient_heard: list[tuple[float, float]] = []  # detected on the playback signal

    def patient(self, now: float | None = None, open_since: float | None = None) -> list[tuple[float, float]]:
        """The patient's intervals: the known ones, plus those detected on the playback that no known
        one covers yet (a line still playing is only reported when it ends)."""
        heard = list(self.patient_heard)
        if open_since is not None and now is not None and now > open_since:
            heard.append((open_since, now))
        if not self.patient_known:
            return heard
        last_known = max(e for _s, e in self.patient_known)
        return merge_intervals(self.patient_known + [(s, e) for s, e in heard if e > last_known])

    def balance(self, t: float, clinician_open: float | None = None,
                patient_open: float | None = None) -> TalkBalance:
        """TalkBalance at time t, counting segments still open up to t."""
        clin = list(self.clinician)
        if clinician_open is not None and t > clinician_open:
            clin.append((clinician_open, t))
        pat = self.patient(t, patient_open)
        c_s, p_s = talktime.total_duration(clin), talktime.total_duration(pat)
        return TalkBalance(round(t, 3), round(c_s, 3), round(p_s, 3), talktime.share(c_s, p_s),
                           len(talktime.interruptions(clin, pat)))


class PlaybackSpeech:
    """Is the patient speaking in this playback frame? Decided by the same speech detector as the
    microphone (Silero, its own instance and hysteresis), run only on frames that the playback's level
    (`PlaybackActivity`: within 30 dB of its recent peak, above -55 dBFS) does not already rule out. A
    recorded patient track (`trainer analyze --patient-audio`) carries room noise, breaths and clicks
    that loudness alone counts as talk. Used when the playback is a recording (`VoiceAnalyzer(...,
    recorded_playback=True)`); a live visit's playback is the app's own synthesised voice with digital
    silence between lines, whose level is exact, and keeps the cheaper level rule."""

    def __init__(self, vad=None):
        from trainer.analysis.echo import PlaybackActivity

        self.level = PlaybackActivity()
        self.vad = vad or SileroVad()
        self.decide = FrameDecision()
        self._gated = True

    def __call__(self, frame: np.ndarray) -> bool:
        if not self.level(frame):
            if not self._gated:
                # Silence between lines: the next line starts afresh, as a stream after a gap.
                self.vad.reset()
                self.decide.reset()
                self._gated = True
            return False
        self._gated = False
        return self.decide(self.vad.prob(frame))


@dataclass
class VoiceConfig:
    """Settings of the voice analyser."""

    on: float = 0.5  # Silero probability that starts speech
    off: float = 0.35  # ... and below which it ends (hysteresis)
    balance_every_s: float = 0.25  # TalkBalance rate (4 per second)
    gap_tolerance_s: float = 0.05  # a jump in block times larger than this is a gap in the signal
    # How long a frame may wait for late playback reference, counted in microphone audio received after
    # it (session time, never "until the reference comes": see _await_reference).
    ref_wait_s: float = 0.15
    # Frames analysed per wake-up. Run after 32 ms of idling, the neural detector costs ~7x more CPU
    # than back to back (caches and clocks have gone cold; measured in benchmarks/bench_voice.py), so
    # two frames at a time halve the live CPU share for 32 ms more latency.
    batch_frames: int = 2
    # Frames within this many dB of the tracked noise floor, with no speech under way, skip the detector.
    quiet_margin_db: float = 3.0
    skip_quiet: bool = True
    segmenter: SegmenterConfig | None = None
    # While the patient's playback may be echoing into the microphone, speech must last this long to open
    # a segment. What the echo guard lets through of the patient's voice, before its canceller has
    # converged or after double talk has disturbed it, comes as blips of 0.1-0.15 s (measured in the
    # simulated visits of tests/test_simulate.py); the clinician talking over the patient says more than a
    # syllable, and the segment still starts where the speech did.
    onset_over_playback_s: float = 0.25


class VoiceAnalyzer:
    """Microphone blocks -> AudioLevel per block, speech events, TalkBalance; see the module docstring.

    Blocks may come at any rate and size; frames of 512 samples at 16 kHz are cut on the session clock.
    A jump in block times (device lost, input overflow, dropped blocks) is recorded in `gaps` and
    reported once as a Notice; an empty block means "the device is gone for now".
    """

    def __init__(self, config: VoiceConfig | None = None, vad=None, *, end_of_turn_s: float | None = None,
                 recorded_playback: bool = False):
        self.cfg = config or VoiceConfig()
        # The patient's playback is a recording (offline --patient-audio): detect its speech with the
        # speech detector rather than by level (PlaybackSpeech).
        self.recorded_playback = recorded_playback
        seg_cfg = self.cfg.segmenter or SegmenterConfig()
        if end_of_turn_s is not None:
            seg_cfg = SegmenterConfig(seg_cfg.onset_s, seg_cfg.hangover_s, seg_cfg.min_segment_s, end_of_turn_s,
                                      seg_cfg.release_lag_s)
        self.vad = vad or SileroVad()
        self.decide = FrameDecision(self.cfg.on, self.cfg.off)
        self.segmenter = Segmenter(seg_cfg, "clinician")
        self.talk = TalkTracker()
        self.segments: list[SpeechSegment] = []
        self.gaps: list[tuple[float, float]] = []
        self.frames = 0
        self.skipped = 0  # frames at the noise floor the detector was not run on
        self._floor: float | None = None
        self._gate_ratio = 10 ** (self.cfg.quiet_margin_db / 10)
        self._floor_rise = 10 ** (1.0 * FRAME_S / 10)
        self._filler_ratio = 10 ** (FILLER_SNR_DB / 10)
        self._words_end: float | None = None  # end of the last frame the detector called speech
        self._talk_end: float | None = None  # ... or that counted as a filler
        self.filler_frames = 0
        self._resampler: StreamResampler | None = None
        self._pending = np.zeros(0, dtype=np.float32)
        self._pending_t: float | None = None  # session time of _pending[0]
        self._next_balance = 0.0
        self._lost_at: float | None = None
        # Patient playback (created on the first patient_audio call).
        self._reference = None
        self._guard = None
        self._ref_active = None
        self._ref_segmenter = None
        # Optional AudioTail (trainer.analysis.stt) that keeps the analysed 16 kHz signal, after the echo
        # guard, for speech-to-text of the segments (set by the pipeline when transcription is on).
        self.tail = None

    # -- patient side -------------------------------------------------------------------------------
    def patient_segment(self, start: float, end: float) -> None:
        """The patient spoke from `start` to `end` (session seconds), known from playback."""
        if end > start:
            self.talk.patient_known.append((float(start), float(end)))

    def patient_audio(self, t: float, samples: np.ndarray, rate: int) -> None:
        """The patient's playback signal, first sample heard at session time t. Feed it as it is handed
        to the audio device (before the microphone can hear it); any chunk size, mono or stereo."""
        reference = self._reference
        if reference is None:
            from trainer.analysis.echo import EchoGuard, PlaybackActivity, ReferenceTrack

            # Called from the player's thread while the microphone thread runs: build every part first
            # and publish the reference last, since the microphone thread starts using them when it
            # sees it.
            reference = ReferenceTrack()
            self._guard = EchoGuard(FRAME)
            self._ref_active = PlaybackSpeech() if self.recorded_playback else PlaybackActivity()
            self._ref_segmenter = Segmenter(SegmenterConfig(), "patient", turn_events=False)
            reference.add(t, samples, rate)
            self._reference = reference
            return
        reference.add(t, samples, rate)

    @property
    def backlog_s(self) -> float:
        """Microphone audio received but not analysed yet (seconds); bounded by about `ref_wait_s` plus
        one batch of frames, whatever the playback does."""
        return len(self._pending) / RATE

    @property
    def echo_guard_active(self) -> bool:
        """True once the playback signal has been fed (the echo guard is in use)."""
        return self._reference is not None

    # -- microphone -----------------------------------------------------------------------------------
    def process(self, block: AudioBlock) -> list:
        """Analyse one microphone block; returns the events it produced."""
        out: list = []
        if len(block.samples) == 0:
            return self._signal_lost(block.t)
        samples = np.asarray(block.samples, dtype=np.float32).reshape(-1)
        level = rms_db(samples)
        if block.rate != RATE:
            if self._resampler is None or self._resampler.src != block.rate:
                self._resampler = StreamResampler(block.rate, RATE)
            samples = self._resampler.process(samples)
        out += self._check_continuity(block.t)
        if self._pending_t is None:
            self._pending_t = block.t
        self._pending = np.concatenate((self._pending, samples)) if len(self._pending) else samples
        if len(self._pending) >= self.cfg.batch_frames * FRAME:
            out += self._drain()
        speaking = self.segmenter.speaking
        out.insert(0, AudioLevel(round(block.t, 3), round(level, 1), speaking))
        end = block.t + block.duration
        if end >= self._next_balance:
            out.append(self._balance(end))
            self._next_balance = end + self.cfg.balance_every_s
        return out

    def _drain(self) -> list:
        out: list = []
        while len(self._pending) >= FRAME and not self._await_reference():
            frame, self._pending = self._pending[:FRAME], self._pending[FRAME:]
            t = self._pending_t
            self._pending_t = t + FRAME_S
            out += self._frame(t, frame)
        return out

    def _await_reference(self) -> bool:
        """True when the next frame should wait for its playback reference: the patient may be playing
        but the player has not handed over the samples for this frame yet.

        The wait is bounded on the session clock, never by an event: once the microphone has delivered
        `ref_wait_s` of audio beyond the waiting frame, the frame is analysed with whatever reference
        there is (zeros where none came). Waiting "until the reference arrives" would hold the
        microphone back for as long as nothing is played, i.e. from the end of a patient line to the
        start of the next one: the clinician's whole turn (issue 9)."""
        if self._reference is None or self._pending_t is None:
            return False
        frame_end = int(round((self._pending_t + FRAME_S) * RATE))
        if self._reference.fed_until >= frame_end:
            return False  # the reference for this frame is in
        # Microphone audio already received beyond this frame: how long it has waited, in session time.
        mic_ahead = len(self._pending) - FRAME
        if mic_ahead >= self.cfg.ref_wait_s * RATE:
            return False
        # Only a reference that has been flowing up to just before this frame is worth waiting for; a
        # stream that stopped further back is a line that ended (or no line at all).
        return frame_end - self._reference.fed_until < self.cfg.ref_wait_s * RATE

    def _check_continuity(self, t: float) -> list:
        expected = None
        if self._pending_t is not None:
            expected = self._pending_t + len(self._pending) / RATE
        lost = self._lost_at
        if expected is None and lost is None:
            return []
        if lost is None and abs(t - expected) <= self.cfg.gap_tolerance_s:
            return []
        # The signal jumped (samples dropped) or is back after a loss: close what was open, restart
        # the frame grid at the new time and record the stretch we did not hear.
        start = lost if lost is not None else expected
        out = self._cut()
        self._lost_at = None
        if lost is not None:
            if t > start:
                self.gaps.append((round(start, 3), round(t, 3)))
            out.append(Notice.worded(round(t, 3), "mic_restored", later(
                N_("The microphone is back; nothing was heard from {start} s to {end} s and that stretch is left "
                   "out of the talk-time figures."), start=figure(start), end=figure(t))))
        elif t > start:
            self.gaps.append((round(start, 3), round(t, 3)))
            out.append(Notice.worded(round(t, 3), "mic_gap", later(
                N_("{ms} ms of microphone audio was lost at {start} s (the computer was too busy or the device "
                   "hiccupped)."), ms=figure((t - start) * 1000, 0), start=figure(start))))
        return out

    def _signal_lost(self, t: float) -> list:
        if self._lost_at is not None:
            return []
        start = t
        if self._pending_t is not None:
            start = self._pending_t + len(self._pending) / RATE
        out = self._cut()
        self._lost_at = start
        out.append(Notice.worded(round(t, 3), "mic_lost", later(
            N_("The microphone stopped delivering sound (unplugged or taken by another app). The visit goes on; "
               "talk-time feedback resumes when it is back."))))
        return out

    def _cut(self) -> list:
        """Close open segments and forget partial frames and detector state (a discontinuity)."""
        out = self._record(self.segmenter.cut())
        if self._ref_segmenter is not None:
            self._record(self._ref_segmenter.cut())
        self._pending = np.zeros(0, dtype=np.float32)
        self._pending_t = None
        self.vad.reset()
        self.decide.reset()
        self._words_end = self._talk_end = None
        if self._resampler is not None:
            self._resampler.reset()
        return out

    def _frame(self, t: float, frame: np.ndarray) -> list:
        self.frames += 1
        if self._reference is not None:
            i0 = int(round(t * RATE))
            ref = self._reference.get(i0, FRAME)
            # The playback heard now is speech of the patient: detect it for the live balance.
            self._record(self._ref_segmenter.push(t, FRAME_S, self._ref_active(ref)))
            frame = self._guard.process(frame, ref, self.decide.active or self.segmenter.speaking)
            t -= self._guard.delay / RATE  # the suppressor's output lags by its window hop
        if self.tail is not None:
            self.tail.add(t, frame)
        level = float(np.dot(frame, frame)) / FRAME + 1e-12
        quiet = self._floor is not None and level < self._floor * self._gate_ratio
        # Track the floor: down at once, up by 1 dB per second (the quietest recent frames).
        self._floor = level if self._floor is None else min(level, self._floor * self._floor_rise)
        if quiet and self.cfg.skip_quiet and not self.decide.active and not self.segmenter.speaking:
            # Background noise at its usual level while nobody speaks: no speech can start in this
            # frame, so the detector is not run (it is most of the CPU, and it is idle here).
            self.skipped += 1
            return self._record(self.segmenter.push(t, FRAME_S, False))
        p = self.vad.prob(frame)
        speech = self.decide(p)
        # The patient's playback may be echoing in this frame (the echo guard's span): see the filler rule
        # and VoiceConfig.onset_over_playback_s.
        echoing = self._guard is not None and self._guard.playing
        if speech:
            self._words_end = self._talk_end = t + FRAME_S
        elif not echoing and self._filler(t, frame, level):
            speech = True
            self.filler_frames += 1
            self._talk_end = t + FRAME_S
        return self._record(self.segmenter.push(t, FRAME_S, speech,
                                                self.cfg.onset_over_playback_s if echoing else None))

    def _filler(self, t: float, frame: np.ndarray, level: float) -> bool:
        """True when a frame the detector rejected is a filled pause or laughter (see VOICED_MIN). Not asked
        while the patient's voice may be echoing: what the echo guard leaves of it is voiced too, and counting
        it as a filled pause stretched a detector blip into stored clinician speech (issue 9, the first
        line's echo). Words over the patient still count; fillers do not."""
        if self._words_end is None or t - self._words_end > FILLER_MAX_S or t - self._talk_end > FILLER_GAP_S:
            return False
        if level < self._floor * self._filler_ratio:
            return False
        return voicing(frame) >= VOICED_MIN

    def _record(self, events: list) -> list:
        for ev in events:
            if isinstance(ev, SpeechSegment):
                if ev.speaker == "clinician":
                    self.segments.append(ev)
                    self.talk.clinician.append((ev.start, ev.end))
                else:
                    self.talk.patient_heard.append((ev.start, ev.end))
        return events

    def _balance(self, t: float) -> TalkBalance:
        pat_open = self._ref_segmenter.open_since if self._ref_segmenter is not None else None
        return self.talk.balance(t, self.segmenter.open_since, pat_open)

    def flush(self) -> list:
        """End of input: analyse what is still waiting, close open segments, emit the final TalkBalance."""
        out: list = []
        end = None
        if self._pending_t is not None:
            end = self._pending_t + len(self._pending) / RATE
            while len(self._pending) >= FRAME:
                frame, self._pending = self._pending[:FRAME], self._pending[FRAME:]
                t = self._pending_t
                self._pending_t = t + FRAME_S
                out += self._frame(t, frame)
        out += self._cut()
        if end is not None:
            out.append(self.talk.balance(round(end, 3)))
        return out

    # -- results --------------------------------------------------------------------------------------
    def clinician_intervals(self) -> list[tuple[float, float]]:
        """The clinician's speech intervals so far."""
        return [(s.start, s.end) for s in self.segments]

    def patient_intervals(self) -> list[tuple[float, float]]:
        """The patient's speech intervals: the known ones, else those detected on the playback."""
        return self.talk.patient()


def create_voice_processor(end_of_turn_s: float = 0.7, recorded_playback: bool = False) -> VoiceAnalyzer:
    """The voice processor the live pipeline uses (Silero VAD; echo guard once playback is fed).

    `end_of_turn_s` is the hang-over before TurnEnded; `recorded_playback` says the playback fed to
    `patient_audio` is a recording (offline analysis), whose speech is found by the speech detector."""
    return VoiceAnalyzer(end_of_turn_s=end_of_turn_s, recorded_playback=recorded_playback)
