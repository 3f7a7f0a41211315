"""Offline speech-to-text of the clinician's utterances (the voice detector's speech segments).

Model: OpenAI Whisper tiny.en (MIT weights) as two ONNX graphs run by ONNX Runtime, vendored in
assets/models (`whisper-tiny.en-encoder.onnx`, `whisper-tiny.en-decoder.onnx`, SHA-256 checked against
manifest.json before loading; built by tools/whisper_onnx.py from the CTranslate2 conversion of the same
weights, int8 matrices). Around them, in numpy and plain Python: the log-mel front end (`log_mel`,
`mel_filters`), greedy decoding with Whisper's token suppression, and the byte-level BPE decoding of
token ids (`SpeechRecognizer._text`). Nothing is downloaded. Whisper tiny.en was chosen over Whisper base
and PocketSphinx by measurement, and moved from CTranslate2/faster-whisper to ONNX Runtime to leave
CTranslate2 and tokenizers out of the installer (docs/speech-to-text.md).

    VoiceAnalyzer --SpeechSegment--> pipeline --(start, end, samples)--> TranscriptionWorker thread
        --> SpeechRecognizer.transcribe --> verbal labels --> Utterance event --> sink

The worker runs on its own thread with one CPU thread for the model, so the face and voice paths keep
their cores; utterances queue up in order and each `Utterance` carries its latency (transcript time
minus the end of speech). Latency is kept down by decoding a window the length of the utterance rather
than Whisper's 30 s (SpeechRecognizer) and by starting to decode when the voice pauses, before the
detector closes the segment (TranscriptionWorker, speculative jobs). Utterances longer than `MAX_UTTERANCE_S` are transcribed in windows of
that length (Whisper's context is 30 s; shorter windows keep latency bounded).

`AudioTail` keeps the last seconds of the (echo-guarded) 16 kHz microphone signal the voice detector
saw, so the worker transcribes exactly the sound that was classed as the clinician's speech.
"""

from __future__ import annotations

import json
import math
import os
import queue
import re
import threading
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
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
FULL_FRAMES = 3000  # Whisper's 30 s input, in 10 ms mel frames
RETRY_FRAMES = 1000  # the second try's window (10 s)
FULL_MAX_NEW = 224  # tokens of a 30 s window's decoding (what CTranslate2 4.8 returned at most, used before)
SHORT_MARGIN_S = 1.0  # silence after the speech in the first try's window
SHORT_MIN_FRAMES = 500  # shorter first windows made tiny.en loop on short words ("Hello Hello Hello")
#: Silence after speech before the segment's words are decoded speculatively (the detector closes the
#: segment after 0.2 s; TranscriptionWorker): earlier means more decodings thrown away at short pauses.
SPECULATE_AFTER_S = 0.064
WORKER_NICE = 10  # added to the speech-to-text thread's nice value (lower priority), where supported


@dataclass(frozen=True)
class Transcript:
    """What the recogniser heard in one stretch of sound."""

    text: str
    confidence: float | None  # geometric mean token probability (exp of the average log-probability)
    compute_s: float  # wall time spent transcribing
    cpu_s: float  # CPU time of the whole process meanwhile (the model computes on its own threads)


class SpeechRecognizer:
    """Whisper tiny.en on ONNX Runtime on the CPU, `threads` CPU threads, greedy decoding in numpy.

    Whisper's encoder is built for a 30 s input and costs the same whatever the utterance's length, which
    was most of the latency (about 3 s of CPU on a busy core for a 0.4 s "Hello."). The encoder graph
    takes a shorter input too, so an utterance is first decoded from a window of its own length plus
    `SHORT_MARGIN_S` (rounded up to 1 s steps, at least `SHORT_MIN_FRAMES`): 3-8 times faster on the
    fixtures. Whisper was never trained on short windows and then sometimes loops ("and this latest
    crisis, and this latest crisis, ...") once the words run out; such a result (a phrase repeated back
    to back, the token limit reached, or a low average log-probability) is thrown away and the utterance
    decoded again from a 10 s window, and if that fails too from the full 30 s window with a temperature
    fallback (`_decode_full`). Word error rates: docs/speech-to-text.md (benchmarks/stt_compare.py).

    `model_dir` is a folder holding the two ONNX files and a manifest.json listing them (default: the
    vendored assets/models, checked by SHA-256 before loading)."""

    def __init__(self, model_dir: str | None = None, *, threads: int = 1, beam_size: int = 1,
                 short_window: bool = True):
        if beam_size != 1:
            raise ValueError("only greedy decoding (beam_size=1) is implemented")
        from trainer.analysis.models import model_path

        try:
            import onnxruntime as ort
        except ImportError as exc:  # pragma: no cover - onnxruntime is a hard dependency
            raise ModelError(f"onnxruntime is not installed ({exc}).",
                             hint="Run scripts/bootstrap.sh to install the trainer's dependencies.") from None
        folder = None if model_dir is None else Path(model_dir)
        files = [model_path(f"{MODEL_NAME}-{part}.onnx", folder) for part in ("encoder", "decoder")]
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.log_severity_level = 3
        # No busy-waiting between operators: the other core belongs to the face path.
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self._enc, self._dec = (ort.InferenceSession(str(f), sess_options=opts,
                                                         providers=["CPUExecutionProvider"]) for f in files)
            meta = self._dec.get_modelmeta().custom_metadata_map
            info = json.loads(meta["whisper"])
            self._vocab = meta["vocabulary"].split("\n")
        except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own untyped errors
            raise ModelError(f"The speech-to-text model {files[0].parent} cannot be loaded: {exc}",
                             hint="Restore the whisper-tiny.en ONNX files in assets/models from the release.") from None
        self.beam_size = beam_size
        self.short_window = short_window
        self._layers = int(info["layers"])
        self._eot, self._no_speech = int(info["eot"]), int(info["no_speech"])
        self._prompt = [int(info["sot"]), int(info["no_timestamps"])]
        n_vocab = len(self._vocab)
        # Never generated: the special tokens after end-of-text (start, language, task, timestamps) and
        # Whisper's non-speech symbols; at the first step also a blank and end-of-text (suppress_blank).
        self._mask = np.zeros(n_vocab, np.float32)
        self._mask[self._eot + 1:] = -np.inf
        self._mask[[t for t in info["suppress"] if 0 <= t < n_vocab]] = -np.inf
        self._mask_first = self._mask.copy()
        self._mask_first[info["suppress_begin"]] = -np.inf
        self._bytes = _byte_decoder()
        self._mel = mel_filters()
        self.windows_used: list[int] = []  # encoder window (mel frames) of each decode, for benchmarks

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
            decoded = self._decode_short(window) if self.short_window else None
            if decoded is None:
                decoded = self._decode_full(window)
            for text, avg_logprob, n_tokens in decoded:
                texts.append(text)
                logprobs.append((avg_logprob, n_tokens))
        conf = None
        if logprobs:
            n = sum(k for _, k in logprobs)
            conf = round(math.exp(sum(lp * k for lp, k in logprobs) / n), 3)
        return Transcript(" ".join(texts), conf, time.perf_counter() - t0, time.process_time() - c0)

    def _encode(self, feats: np.ndarray, frames: int) -> dict[str, np.ndarray]:
        """Cross-attention keys and values of the log-mel `feats` in a window of `frames` (zero-padded
        features, as CTranslate2 was given them before)."""
        seg = np.zeros((1, feats.shape[0], frames), np.float32)
        n = min(frames, feats.shape[1])
        seg[0, :, :n] = feats[:, :n]
        self.windows_used.append(frames)
        outs = self._enc.run(None, {"mel": seg})
        return {o.name: v for o, v in zip(self._enc.get_outputs(), outs)}

    def _generate(self, cross: dict[str, np.ndarray], max_new: int, temperature: float = 0.0,
                  rng: np.random.Generator | None = None) -> tuple[list[int], float, float, bool]:
        """(tokens, sum of their log-probabilities and end-of-text's, no-speech probability, ended):
        one decoding from the prompt, greedy or (temperature > 0) sampled; ended is False when
        `max_new` tokens came without an end-of-text."""
        feed = dict(cross)
        for i in range(self._layers):
            feed[f"past_k{i}"] = np.zeros((1, 6, 64, 0), np.float32)
            feed[f"past_v{i}"] = np.zeros((1, 6, 0, 64), np.float32)
        names = [o.name for o in self._dec.get_outputs()]
        no_speech = 0.0
        tokens: list[int] = []
        total = 0.0
        token = self._prompt[0]
        for step in range(len(self._prompt) + max_new):
            feed["token"] = np.array([[token]], np.int64)
            outs = dict(zip(names, self._dec.run(None, feed)))
            for i in range(self._layers):
                feed[f"past_k{i}"], feed[f"past_v{i}"] = outs[f"present_k{i}"], outs[f"present_v{i}"]
            logits = outs["logits"][0]
            if step == 0:  # at the start-of-transcript token: how likely "no speech" is
                no_speech = float(_softmax(logits)[self._no_speech])
            if step + 1 < len(self._prompt):
                token = self._prompt[step + 1]
                continue
            logits = logits + (self._mask_first if not tokens else self._mask)
            logp = logits - _logsumexp(logits)
            if temperature > 0 and rng is not None:
                token = int(rng.choice(len(logp), p=_softmax(logits / temperature)))
            else:
                token = int(np.argmax(logp))
            total += float(logp[token])
            if token == self._eot:
                return tokens, total, no_speech, True
            tokens.append(token)
        return tokens, total, no_speech, False

    def _text(self, tokens: list[int]) -> str:
        """Byte-level BPE: each token is a string of stand-in characters, one per byte."""
        data = bytes(self._bytes[c] for t in tokens if t < self._eot for c in self._vocab[t])
        return data.decode("utf-8", errors="replace").strip()

    def _decode_full(self, window: np.ndarray) -> list[tuple[str, float, int]]:
        """A 30 s window (the features of the samples, its last frame dropped, zero-padded), greedy, then
        if the text is too repetitive (zlib compression ratio above 2.4) or unlikely (average
        log-probability below -1) once more sampled at temperature 0.4, best of 5, fixed seed; the
        result with the best average log-probability is kept (as faster-whisper's fallback did when it
        ran here)."""
        feats = log_mel(window, self._mel)[:, :-1]
        cross = self._encode(feats, FULL_FRAMES)
        results = []
        for temperature in (0.0, 0.4):
            rng = np.random.default_rng(0) if temperature else None
            tries = [self._generate(cross, FULL_MAX_NEW, temperature, rng) for _ in range(5 if temperature else 1)]
            tokens, total, no_speech, _ = max(tries, key=lambda r: r[1] / max(1, len(r[0])))
            avg = total / (len(tokens) + 1)
            text = self._text(tokens)
            ratio = _compression_ratio(text)
            results.append((ratio <= 2.4, avg, text, tokens, no_speech))
            if no_speech > NO_SPEECH_PROB and avg < NO_SPEECH_LOGPROB:
                break  # silence
            if ratio <= 2.4 and avg >= NO_SPEECH_LOGPROB:
                break
        else:
            results = [max([r for r in results if r[0]] or results, key=lambda r: r[1])]
        _, avg, text, tokens, no_speech = results[-1]
        if (no_speech > NO_SPEECH_PROB and avg < NO_SPEECH_LOGPROB) or not text:
            return []
        return [(text, avg, max(1, len(tokens)))]

    def _decode_short(self, window: np.ndarray) -> list[tuple[str, float, int]] | None:
        """Greedy decoding from a window just longer than the speech, then from a 10 s one; None when
        neither gives a result to trust (the caller then decodes the full 30 s window)."""
        feats = log_mel(window, self._mel)
        n = feats.shape[1]
        if n > FULL_FRAMES:
            return None
        short = int(math.ceil((n + SHORT_MARGIN_S * 100) / 100.0)) * 100
        seconds = len(window) / RATE
        # Generous for speech (about 3 tokens per second of fast talk): a loop runs into it.
        max_new = int(12 + 6 * seconds)
        short = min(max(short, SHORT_MIN_FRAMES), FULL_FRAMES)
        for frames in dict.fromkeys((short, max(short, RETRY_FRAMES))):
            if frames >= FULL_FRAMES:
                return None
            tokens, total, no_speech, ended = self._generate(self._encode(feats, frames), max_new)
            avg_logprob = total / (len(tokens) + 1)
            if no_speech > NO_SPEECH_PROB and avg_logprob < NO_SPEECH_LOGPROB:
                return []  # no speech in it
            text = self._text(tokens)
            if not ended or avg_logprob < NO_SPEECH_LOGPROB or looping(text):
                continue
            return [(text, avg_logprob, max(1, len(tokens)))] if text else []
        return None


# -- Whisper's front end and vocabulary, in numpy and plain Python -------------------------------------

N_FFT = 400  # 25 ms analysis window
HOP = 160  # 10 ms between frames
N_MELS = 80


def mel_filters(rate: int = RATE, n_fft: int = N_FFT, n_mels: int = N_MELS) -> np.ndarray:
    """[n_mels, n_fft // 2 + 1] triangular filters on the Slaney mel scale (linear 0-1000 Hz at 200/3 Hz
    per mel, logarithmic above with 27 mels per factor 6.4), 0 Hz to rate / 2, each scaled to unit area
    (2 / its width in Hz): the filter bank Whisper was trained with."""
    def to_mel(f):
        f = np.asarray(f, np.float64)
        return np.where(f < 1000.0, f * 3.0 / 200.0, 15.0 + np.log(np.maximum(f, 1e-9) / 1000.0) * 27.0 / np.log(6.4))

    def to_hz(m):
        return np.where(m < 15.0, m * 200.0 / 3.0, 1000.0 * np.exp((m - 15.0) * np.log(6.4) / 27.0))

    edges = to_hz(np.linspace(0.0, to_mel(rate / 2), n_mels + 2))
    bins = np.arange(n_fft // 2 + 1) * rate / n_fft
    lo, mid, hi = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    tri = np.maximum(0.0, np.minimum((bins - lo) / (mid - lo), (hi - bins) / (hi - mid)))
    return (tri * (2.0 / (hi - lo))).astype(np.float32)


def log_mel(samples: np.ndarray, filters: np.ndarray) -> np.ndarray:
    """Whisper's input features [80, len // 160 + 1]: power spectra of 25 ms periodic-Hann frames every
    10 ms (the signal zero-padded by one hop at the end, then reflected by half a frame at both ends),
    the last frame dropped, through `filters`, log10 (floor 1e-10), floored 8 below the maximum, then
    (x + 4) / 4."""
    x = np.pad(np.asarray(samples, np.float32), (0, HOP))
    x = np.pad(x, (N_FFT // 2, N_FFT // 2), mode="reflect")
    n = 1 + (len(x) - N_FFT) // HOP
    frames = np.lib.stride_tricks.as_strided(x, (n, N_FFT), (HOP * x.strides[0], x.strides[0]))
    window = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)).astype(np.float32)
    spec = np.fft.rfft(frames * window, axis=-1)[:-1]
    power = (spec.real ** 2 + spec.imag ** 2).astype(np.float32)
    logs = np.log10(np.maximum(filters @ power.T, 1e-10))
    logs = np.maximum(logs, logs.max() - 8.0)
    return ((logs + 4.0) / 4.0).astype(np.float32)


def _byte_decoder() -> dict[str, int]:
    """Stand-in character -> byte of the byte-level BPE vocabulary: printable Latin-1 bytes stand for
    themselves, the other 68 bytes (controls, space, 0x7f-0xa0, 0xad) for the characters from U+0100 on,
    in byte order."""
    direct = set(range(0x21, 0x7F)) | set(range(0xA1, 0xAD)) | set(range(0xAE, 0x100))
    table, extra = {}, 0
    for b in range(256):
        if b in direct:
            table[chr(b)] = b
        else:
            table[chr(0x100 + extra)] = b
            extra += 1
    return table


def _logsumexp(x: np.ndarray) -> float:
    m = float(np.max(x))
    return m + math.log(float(np.sum(np.exp(x - m))))


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - np.max(x))
    return e / e.sum()


def _compression_ratio(text: str) -> float:
    data = text.encode("utf-8")
    return len(data) / len(zlib.compress(data)) if data else 0.0


def looping(text: str) -> bool:
    """True when a run of words is immediately repeated: three or more words twice, or two words three
    times ("the pain, the pain, the pain"). Whisper does this when decoding a window shorter than it was
    trained on runs out of speech; people rarely do it in one utterance."""
    w = normalize_words(text)
    for n in range(2, len(w) // 2 + 1):
        need = 2 if n >= 3 else 3
        for i in range(0, len(w) - need * n + 1):
            if all(w[i:i + n] == w[i + k * n:i + (k + 1) * n] for k in range(1, need)):
                return True
    return False


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

    @property
    def end_t(self) -> float | None:
        """Session time just after the newest sample (None before the first)."""
        with self._lock:
            return None if self._end_i is None else self._end_i / RATE

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
    #: Started while the segment is still open (the voice has paused, the detector has not yet closed
    #: the segment): its result is held until `confirm` says the segment closed with the same end.
    speculative: bool = False


class TranscriptionWorker:
    """A thread that transcribes queued utterances in order and hands each result to `on_result(job,
    transcript, done_t)`, where done_t is `clock()` when the transcript was ready; `transcript` is None
    for an utterance left untranscribed because the worker was closed in a hurry (`close(hurry=True)`).

    Speculation: `submit(job)` with a speculative job starts decoding as soon as the voice pauses,
    while the detector still waits for the pause to last long enough to close the segment. If the
    segment then closes with the same (start, end), `confirm` makes that result the utterance's (handed
    over when both the decoding and the closing are done, so the latency counts from the end of
    speech as always); if the speech went on instead, the result is thrown away.

    The model is loaded on the worker thread (about a second), so starting the worker never blocks the
    caller; `ready` is set once it is loaded and `error` holds a ModelError if it could not be."""

    def __init__(self, on_result: Callable[[TranscriptionJob, Transcript | None, float], None],
                 clock: Callable[[], float], *, recognizer_factory=None, threads: int = 1):
        self._on_result = on_result
        self._clock = clock
        self._factory = recognizer_factory or (lambda: SpeechRecognizer(threads=threads))
        self._jobs: queue.Queue[TranscriptionJob | None] = queue.Queue()
        self.ready = threading.Event()
        self.error: ModelError | None = None
        self.latencies: list[float] = []
        # Where the latency went, per utterance: (end of speech, queued, decoding started, done), clock s.
        self.timings: list[tuple[float, float, float, float]] = []
        self.speculation = {"confirmed": 0, "discarded": 0}
        self._submitted: dict[int, float] = {}
        self._lock = threading.Lock()
        self._spec: TranscriptionJob | None = None  # the unconfirmed speculative job still wanted, if any
        self._confirmed: set[int] = set()  # ids of speculative jobs confirmed before their decoding ended
        self._spec_result: tuple[Transcript, float, float] | None = None  # (transcript, started, done)
        self._hurry = threading.Event()
        self.busy = threading.Event()  # set while a decoding is running
        self._thread = threading.Thread(target=self._run, name="speech-to-text", daemon=True)
        self._thread.start()

    def submit(self, job: TranscriptionJob) -> None:
        """Queue an utterance (returns at once). A speculative job replaces the one before it."""
        self._submitted[id(job)] = self._clock()
        if job.speculative:
            with self._lock:
                if self._spec is not None:
                    self.speculation["discarded"] += 1
                self._spec, self._spec_result = job, None
        self._jobs.put(job)

    def confirm(self, start: float, end: float) -> bool:
        """The segment (start, end) closed: True if the speculative job was that segment (its result
        becomes the utterance's), False if there was none or it was of speech that went on (thrown
        away; the caller then submits the segment)."""
        deliver = None
        with self._lock:
            job = self._spec
            if job is None:
                return False
            if (round(job.start, 3), round(job.end, 3)) != (round(start, 3), round(end, 3)):
                self._spec = None
                self.speculation["discarded"] += 1
                return False
            self.speculation["confirmed"] += 1
            if self._spec_result is not None:
                deliver = (job, self._spec_result)
            else:
                self._confirmed.add(id(job))
            self._spec, self._spec_result = None, None
        if deliver is not None:
            (job, (transcript, started, _done)) = deliver
            self._deliver(job, transcript, started, self._clock())
        return True

    def _deliver(self, job: TranscriptionJob, transcript: Transcript | None, started: float, done: float) -> None:
        if transcript is not None:
            self.latencies.append(done - job.end)
            self.timings.append((job.end, self._submitted.pop(id(job), started), started, done))
        self._on_result(job, transcript, done)

    def _run(self) -> None:
        # Below the face and voice paths and the UI: speech-to-text may lag, they must not. On Linux a
        # thread's nice value is its own and the model's compute threads, created from this thread while
        # loading, inherit it.
        if hasattr(os, "setpriority") and hasattr(threading, "get_native_id"):
            try:
                tid = threading.get_native_id()
                # Relative to the process: a visit started at nice -15 keeps its transcription ahead of
                # other programs (an absolute 10 put it behind everything at nice 0).
                os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + WORKER_NICE))
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
            if job.speculative:
                with self._lock:
                    if job is not self._spec and id(job) not in self._confirmed:
                        continue  # superseded or thrown away before it started
            if self._hurry.is_set():
                if job.speculative:
                    with self._lock:
                        if id(job) not in self._confirmed:
                            continue
                        self._confirmed.discard(id(job))
                self._deliver(job, None, self._clock(), self._clock())  # left untranscribed
                continue
            started = self._clock()
            self.busy.set()
            try:
                transcript = recognizer.transcribe(job.samples)
            finally:
                self.busy.clear()
            done = self._clock()
            if job.speculative:
                with self._lock:
                    if id(job) in self._confirmed:
                        self._confirmed.discard(id(job))
                    elif job is self._spec:
                        self._spec_result = (transcript, started, done)
                        continue  # confirm() hands it over
                    else:
                        continue  # the speech went on meanwhile
            self._deliver(job, transcript, started, done)

    @property
    def idle(self) -> bool:
        """Nothing queued and nothing being decoded (a stepped simulation waits for this, on wall time,
        before its virtual clock may run past a transcript the visit is waiting for)."""
        return self._jobs.empty() and not self.busy.is_set()

    def hurry(self) -> None:
        """Finish the decoding under way and hand the queued utterances back untranscribed."""
        self._hurry.set()

    def close(self, timeout: float | None = 30.0, *, hurry: bool = False) -> bool:
        """Stop the thread after the queued utterances (hurry: after the one being decoded; the others
        are handed over untranscribed, with transcript None). True if the thread has ended."""
        if hurry:
            self._hurry.set()
        self._jobs.put(None)
        self._thread.join(timeout)
        return not self._thread.is_alive()


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
