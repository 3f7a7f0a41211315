"""The patient's voice: lines rendered offline by a local text-to-speech engine, cached, and played on the
session clock.

- `PatientVoice.render(text, voice, clip)` returns a `RenderedLine` (mono float32 samples, their rate and
  a mouth-opening envelope at 100 Hz for the animated patient). A recorded clip named by the scenario
  (audio file, or the sound of a video clip) takes precedence over synthesis.
- Synthesis uses hibari (an ONNX model whose default voice ships inside its wheel, so built-in scenarios
  speak with no network). Personas vary the voice by `rate` (speaking speed) and `pitch` (a frequency
  ratio): the synthesiser speaks at rate/pitch and the result is resampled by pitch, which moves pitch and
  formants together (a lower, "larger" voice for pitch < 1) while the final speed is `rate`.
- Rendered audio is cached by engine, text and voice in the per-user cache folder
  (platformdirs user_cache_dir("VideoVisitTrainer"), or $TRAINER_CACHE_DIR), as 16-bit WAV.
- `PatientPlayer` plays lines through a sounddevice output stream, stamping what was played in session
  seconds; with no output device it falls back to "virtual" playback that keeps exact timing. Either
  way it hands every played block to `on_played(t, samples, rate)`, the echo reference for the voice
  analysis (the microphone hears the patient when the clinician uses speakers).

No Qt here (capture layer).
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import tempfile
import threading
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from trainer.core.i18n import N_, _
from trainer.core.errors import DeviceUnavailable, SourceError, TrainerError

ENVELOPE_HZ = 100
TTS_RATE = 24000
CACHE_FORMAT = 1
VIRTUAL_LOOKAHEAD_S = 0.1  # bump when the cached audio would change for the same inputs


class VoiceUnavailable(TrainerError):
    """The text-to-speech engine cannot be loaded; the visit can run with captions only."""

    title = N_("Patient voice unavailable")


@dataclass(frozen=True)
class Voice:
    """How a persona sounds: rate (speaking speed, 1.0 = engine default) and pitch (frequency ratio)."""

    rate: float = 1.0
    pitch: float = 1.0

    @classmethod
    def from_persona(cls, persona) -> "Voice":
        v = getattr(persona, "voice", None) or {}
        return cls(float(v.get("rate", 1.0)), float(v.get("pitch", 1.0)))


@dataclass(frozen=True)
class RenderedLine:
    """One spoken line, ready to play: samples (mono float32 in [-1, 1]) at `rate` Hz and the mouth
    opening (0..1) at ENVELOPE_HZ. `source` is "tts", "cache" or "clip"."""

    samples: np.ndarray
    rate: int
    envelope: np.ndarray
    source: str = "tts"

    @property
    def duration(self) -> float:
        return len(self.samples) / float(self.rate)


# -- signal helpers ---------------------------------------------------------------------------------

def resample(x: np.ndarray, src_rate: float, dst_rate: float, half_taps: int = 16) -> np.ndarray:
    """Band-limited resampling (windowed sinc) from src_rate to dst_rate; any ratio, mono float32."""
    x = np.asarray(x, dtype=np.float32)
    if len(x) == 0 or abs(src_rate - dst_rate) < 1e-9:
        return x.copy()
    ratio = dst_rate / src_rate
    n_out = int(round(len(x) * ratio))
    cutoff = min(1.0, ratio) * 0.94  # below the lower Nyquist, with room for the window's transition
    offsets = np.arange(-half_taps + 1, half_taps + 1)
    padded = np.concatenate([np.zeros(half_taps, np.float32), x, np.zeros(half_taps + 1, np.float32)])
    out = np.empty(n_out, dtype=np.float32)
    chunk = 16384
    for j0 in range(0, n_out, chunk):
        pos = np.arange(j0, min(n_out, j0 + chunk)) / ratio
        base = np.floor(pos).astype(np.int64)
        frac = pos - base
        # Common rate pairs (24 -> 48 kHz, 22.05 -> 16 kHz) have few distinct source phases: compute the
        # filter once per phase instead of once per output sample (the sinc is most of the cost; playback
        # resamples a line when it starts, and a slow start would cut off the line's beginning).
        phases, which = np.unique(np.round(frac, 9), return_inverse=True)
        if len(phases) * 4 > len(frac):
            phases, which = frac, np.arange(len(frac))
        dist = offsets[None, :] - phases[:, None]  # distance of each tap from the exact source position
        window = 0.5 + 0.5 * np.cos(np.pi * dist / half_taps)
        weights = (cutoff * np.sinc(cutoff * dist) * window).astype(np.float32)
        taps = padded[base[:, None] + offsets[None, :] + half_taps]
        out[j0:j0 + len(pos)] = np.einsum("ij,ij->i", taps, weights[which])
    return out


def mouth_envelope(samples: np.ndarray, rate: int, hz: int = ENVELOPE_HZ) -> np.ndarray:
    """Mouth opening 0..1 per 1/hz s from the loudness of speech (what an animator reads off the track).

    RMS over 20 ms windows, relative to the line's own loud parts, mapped from -20..-2 dB to 0..1 (with a
    slight curve so quiet syllables stay nearly closed), then a fast-open/slightly slower-close smoothing
    so the lips neither flicker nor lag behind the syllables."""
    hop = max(1, int(round(rate / hz)))
    n = int(np.ceil(len(samples) / hop))
    if n == 0:
        return np.zeros(0, np.float32)
    win = max(1, int(rate * 0.02))
    padded = np.concatenate([np.asarray(samples, np.float32), np.zeros(win, np.float32)])
    sq = np.concatenate([[0.0], np.cumsum(padded.astype(np.float64) ** 2)])
    starts = np.arange(n) * hop
    rms = np.sqrt(np.maximum(0.0, (sq[starts + win] - sq[starts]) / win))
    ref = np.percentile(rms[rms > 1e-5], 95) if np.any(rms > 1e-5) else 1.0
    db = 20 * np.log10(np.maximum(rms, 1e-9) / max(ref, 1e-9))
    raw = np.clip((db + 20.0) / 18.0, 0.0, 1.0) ** 1.3
    env = np.empty(n, np.float32)
    level = 0.0
    for i, v in enumerate(raw):
        level += (v - level) * (0.7 if v > level else 0.6)
        env[i] = level
    return env


# -- synthesis ---------------------------------------------------------------------------------------

class HibariEngine:
    """hibari text-to-speech, loaded on first use (about 0.5 s), default voice from its wheel."""

    name = "hibari"

    def __init__(self, threads: int = 1):
        self._threads = threads
        self._tts = None
        self._lock = threading.Lock()
        self.version = "?"

    def _load(self):
        if self._tts is None:
            try:
                from hibari import Hibari
            except ImportError as exc:
                raise VoiceUnavailable(_("The text-to-speech engine (hibari) is not installed: {error}").format(error=exc),
                                       hint=_("Reinstall the app; the patient's lines will show as captions.")) from None
            try:
                self._tts = Hibari(threads=self._threads)
            except Exception as exc:  # noqa: BLE001 - onnxruntime raises plain RuntimeErrors
                raise VoiceUnavailable(f"The text-to-speech model could not be loaded: {exc}") from None
        return self._tts

    def identity(self) -> str:
        """Engine, version and voice: part of the cache key, read without loading the model (so a
        cached line is instant)."""
        if self.version == "?":
            from importlib import metadata

            try:
                self.version = metadata.version("hibari-tts")
            except metadata.PackageNotFoundError:
                self.version = "missing"
        return f"{self.name}-{self.version}-heart"

    def synthesize(self, text: str, speed: float) -> np.ndarray:
        """Mono float32 audio at TTS_RATE. A fixed seed makes a line sound the same every time."""
        tts = self._load()
        with self._lock:  # one ONNX session; calls from several threads queue here
            audio = tts(text, speed=float(np.clip(speed, 0.5, 2.0)), seed=0)
        return np.asarray(audio, dtype=np.float32)


_SHARED: dict[str, HibariEngine] = {}
_SHARED_LOCK = threading.Lock()


def shared_engine() -> HibariEngine:
    """The process's one synthesiser: its model is loaded once, not once per visit."""
    with _SHARED_LOCK:
        if "hibari" not in _SHARED:
            _SHARED["hibari"] = HibariEngine()
        return _SHARED["hibari"]


def warm_up() -> None:
    """Load the synthesiser and run it once on a word, so that the first line of a visit is rendered at
    full speed (the app calls this in the background at launch; a failure shows later, at the visit)."""
    try:
        shared_engine().synthesize("Hello.", 1.0)
    except TrainerError:
        pass


def default_cache_dir() -> Path:
    """$TRAINER_CACHE_DIR, else the per-user cache folder; voices live in its patient_voice/ subfolder."""
    from trainer.privacy import cache_root

    return cache_root() / "patient_voice"


class PatientVoice:
    """Renders patient lines (recorded clip > cache > synthesis)."""

    def __init__(self, cache_dir: str | os.PathLike | None = None, engine=None):
        self.cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        self.engine = engine or shared_engine()
        self._memory: dict[str, RenderedLine] = {}

    def cache_key(self, text: str, voice: Voice) -> str:
        blob = json.dumps({"engine": self.engine.identity(), "format": CACHE_FORMAT, "text": text,
                           "rate": round(voice.rate, 4), "pitch": round(voice.pitch, 4)}, sort_keys=True)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:32]

    def render(self, text: str, voice: Voice = Voice(), clip: str | os.PathLike | None = None) -> RenderedLine:
        """The audio of one line. A clip wins; else the cache; else synthesis (then cached)."""
        if clip is not None:
            try:
                return self._from_clip(Path(clip))
            except SourceError:
                if Path(clip).suffix.lower() in (".wav", ".flac", ".mp3", ".m4a", ".ogg"):
                    raise
                # A silent video clip: its picture plays, the voice is synthesised.
        key = self.cache_key(text, voice)
        hit = self._memory.get(key)
        if hit is not None:
            return hit
        path = self.cache_dir / f"{key}.wav"
        samples = _read_wav(path)
        if samples is not None:
            line = RenderedLine(samples, TTS_RATE, mouth_envelope(samples, TTS_RATE), "cache")
        else:
            # Quantised as the cache stores it, so the first visit hears exactly what later ones do
            # (the same inputs give the same session; trainer.sim relies on it).
            samples = _as_stored(self._synthesize(text, voice))
            _write_wav_atomic(path, samples, TTS_RATE)
            line = RenderedLine(samples, TTS_RATE, mouth_envelope(samples, TTS_RATE), "tts")
        self._memory[key] = line
        return line

    def render_line(self, line, persona) -> RenderedLine:
        """Render a scenario PatientLine in the voice of `persona` (patient or caregiver)."""
        return self.render(line.text, Voice.from_persona(persona), line.audio or line.video)

    def prepare(self, scenario, progress: Callable[[int, int], None] | None = None,
                cancelled: Callable[[], bool] | None = None) -> dict[str, RenderedLine]:
        """Render every line of a scenario before the visit, so line lengths are exact from the start."""
        lines = scenario.spoken_lines
        out: dict[str, RenderedLine] = {}
        for i, line in enumerate(lines):
            if cancelled is not None and cancelled():
                break
            persona = scenario.caregiver.persona if line.speaker == "caregiver" and scenario.caregiver else \
                scenario.patient
            out[line.id] = self.render_line(line, persona)
            if progress is not None:
                progress(i + 1, len(lines))
        return out

    def _synthesize(self, text: str, voice: Voice) -> np.ndarray:
        pitch = float(np.clip(voice.pitch, 0.5, 2.0))
        audio = self.engine.synthesize(text, voice.rate / pitch)
        if abs(pitch - 1.0) > 1e-3:
            # Played `pitch` times faster: frequencies scale by pitch, duration by 1/pitch.
            audio = resample(audio, TTS_RATE * pitch, TTS_RATE)
        peak = float(np.max(np.abs(audio))) if len(audio) else 0.0
        if peak > 0.98:
            audio = audio * (0.98 / peak)
        # 60 ms of silence after the last word, so the line does not end on a click.
        return np.concatenate([audio, np.zeros(int(0.06 * TTS_RATE), np.float32)]).astype(np.float32)

    def _from_clip(self, path: Path) -> RenderedLine:
        from trainer.capture.audio import decode_audio

        samples = decode_audio(path, rate=TTS_RATE)
        return RenderedLine(samples, TTS_RATE, mouth_envelope(samples, TTS_RATE), "clip")


def _as_stored(samples: np.ndarray) -> np.ndarray:
    """The samples as they come back from a 16-bit cache file."""
    return (np.clip(samples, -1.0, 1.0) * 32767.0).astype("<i2").astype(np.float32) / 32767.0


def _read_wav(path: Path) -> np.ndarray | None:
    try:
        with wave.open(str(path), "rb") as w:
            if w.getnchannels() != 1 or w.getsampwidth() != 2 or w.getframerate() != TTS_RATE:
                return None
            data = w.readframes(w.getnframes())
    except (FileNotFoundError, EOFError, wave.Error):
        return None
    except OSError:
        return None  # unreadable cache entry: render again
    if not data:
        return None
    return (np.frombuffer(data, dtype="<i2").astype(np.float32) / 32767.0)


def _write_wav_atomic(path: Path, samples: np.ndarray, rate: int) -> None:
    """Write to a temporary file and rename, so a crash never leaves half a WAV in the cache.
    A cache that cannot be written (read-only home, full disk) only costs speed, so it is skipped."""
    try:
        from trainer.privacy import cache_root, private_dir

        private_dir(path.parent, root=cache_root())
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as f, wave.open(f, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(rate)
            w.writeframes((np.clip(samples, -1.0, 1.0) * 32767.0).astype("<i2").tobytes())
        os.replace(tmp, path)
    except OSError:
        try:
            os.unlink(tmp)  # type: ignore[possibly-undefined]
        except (OSError, NameError):
            pass


# -- playback ---------------------------------------------------------------------------------------

class PatientPlayer:
    """Plays rendered lines at given session times; reports every played block as (t, samples, rate).

    `open()` tries the sound card (sounddevice); without one it runs "virtual" playback: nothing is
    heard, but blocks are reported at exactly the times they would have played, so talk-time and the
    echo reference stay correct. `mode` says which ("device" or "virtual"), `reason` why not a device.
    """

    def __init__(self, clock, on_played: Callable[[float, np.ndarray, int], None] | None = None, *,
                 device: int | str | None = None, use_device: bool = True, block_s: float = 0.02,
                 autopump: bool = True):
        self.clock = clock
        # Virtual playback normally reports blocks from its own thread, on the clock; a caller that steps
        # a virtual session clock itself (trainer.sim) turns this off and calls pump(now) at each step.
        self.autopump = autopump
        self.on_played = on_played or (lambda t, s, r: None)
        self.device = device
        self.use_device = use_device
        self.block_s = block_s
        self.mode = "closed"
        self.reason = ""
        self.rate = TTS_RATE
        self._lock = threading.Lock()
        self._line: tuple[float, np.ndarray] | None = None  # (session start time, samples at self.rate)
        self._next_t: float | None = None  # virtual: start time of the next block to report
        self._stream = None
        self._dac_offset: float | None = None  # session time minus PortAudio stream time
        self._converted: dict[int, tuple[RenderedLine, np.ndarray]] = {}  # id(line) -> (line, at self.rate)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._queue: queue.Queue = queue.Queue(maxsize=500)
        self.blocks_played = 0

    def open(self) -> str:
        """Open the output device, or fall back to virtual playback; returns the mode."""
        if self.use_device:
            try:
                self._open_device()
                self.mode = "device"
            except DeviceUnavailable as exc:
                self.reason = exc.message
                self.mode = "virtual"
        else:
            self.reason = "sound output turned off"
            self.mode = "virtual"
        if self.mode == "virtual" and not self.autopump:
            return self.mode
        target = self._virtual_loop if self.mode == "virtual" else self._deliver_loop
        self._thread = threading.Thread(target=target, name=f"patient-voice-{self.mode}", daemon=True)
        self._thread.start()
        return self.mode

    def preload(self, lines) -> None:
        """Convert lines to the output's sample rate ahead of the visit (call after open()), so `play()`
        starts each on time: converting at play time would skip the line's first ~0.1 s."""
        for line in lines:
            if line.rate != self.rate and id(line) not in self._converted:
                self._converted[id(line)] = (line, resample(line.samples, line.rate, self.rate))

    def play(self, t_start: float, line: RenderedLine) -> None:
        """Play `line` from session time t_start (replacing any line still playing)."""
        done = self._converted.get(id(line))
        if line.rate == self.rate:
            samples = line.samples
        elif done is not None and done[0] is line:
            samples = done[1]
        else:
            samples = resample(line.samples, line.rate, self.rate)
        with self._lock:
            self._line = (t_start, samples)
            if self.mode == "virtual":
                self._next_t = t_start

    def stop_line(self) -> None:
        """Cut the current line short (the call ended, the facilitator skipped it)."""
        with self._lock:
            self._line = None

    def close(self) -> None:
        self.stop_line()
        self._stop.set()
        if self._stream is not None:
            try:
                self._stream.stop()
                self._stream.close()
            except Exception:  # noqa: BLE001 - a vanished device must not mask the end of the session
                pass
            self._stream = None
        if self._thread is not None:
            self._thread.join(2)
        self.mode = "closed"

    # -- virtual ------------------------------------------------------------------------------------
    def pump(self, now: float) -> int:
        """Report every block of the current line that has played by session time `now`; returns the
        number of blocks. Virtual mode calls this from its thread; tests call it with a manual clock."""
        n = 0
        while True:
            with self._lock:
                if self._line is None or self._next_t is None:
                    return n
                t0, samples = self._line
                bt = self._next_t
                block = int(round(self.block_s * self.rate))
                i0 = int(round((bt - t0) * self.rate))
                if i0 >= len(samples):
                    self._line = None
                    self._next_t = None
                    return n
                i1 = min(len(samples), i0 + block)
                if t0 + i1 / self.rate > now + 1e-9:
                    return n
                chunk = samples[i0:i1]
                self._next_t = t0 + i1 / self.rate
            self.blocks_played += 1
            self.on_played(round(bt, 6), chunk, self.rate)
            n += 1

    def _virtual_loop(self) -> None:
        # Hand blocks over a little ahead of time, as a sound card's buffer would: the echo reference
        # must reach the voice side before the microphone block that could contain the same sound.
        while not self._stop.wait(self.block_s / 2):
            self.pump(self.clock.now() + VIRTUAL_LOOKAHEAD_S)

    # -- device -------------------------------------------------------------------------------------
    def _open_device(self) -> None:
        try:
            import sounddevice as sd
        except (OSError, ImportError) as exc:
            raise DeviceUnavailable(_("The audio system (PortAudio) is not available: {error}").format(error=exc)) from None
        try:
            info = sd.query_devices(self.device, "output")
        except (ValueError, sd.PortAudioError) as exc:
            raise DeviceUnavailable(_("No sound output device ({error}); the patient's voice is silent and shown "
                                      "as captions.").format(error=exc)) from None
        rate = TTS_RATE
        try:
            sd.check_output_settings(device=self.device, samplerate=rate, channels=1, dtype="float32")
        except (ValueError, sd.PortAudioError):
            rate = int(info["default_samplerate"])
        self.rate = rate
        try:
            self._stream = sd.OutputStream(samplerate=rate, channels=1, dtype="float32", device=self.device,
                                           blocksize=int(rate * self.block_s), latency="low",
                                           callback=self._callback)
            self._stream.start()
        except (ValueError, sd.PortAudioError) as exc:
            self._stream = None
            raise DeviceUnavailable(f"The sound output '{info.get('name', '?')}' could not be opened: {exc}") \
                from None

    def _callback(self, outdata, frames, time_info, status) -> None:  # PortAudio's thread: keep it short
        # Map PortAudio's stream clock onto the session clock once, then follow the DAC times, so the
        # samples played (and reported as the echo reference) follow the card's own clock: taking "now"
        # on every call would let this thread's scheduling jitter skip or repeat samples.
        dac = time_info.outputBufferDacTime
        if dac and time_info.currentTime:
            if self._dac_offset is None:
                self._dac_offset = self.clock.now() - time_info.currentTime
            t_dac = dac + self._dac_offset
        else:  # a backend without stream times
            t_dac = self.clock.now()
        with self._lock:
            line = self._line
        outdata.fill(0)
        if line is None:
            return
        t0, samples = line
        i0 = int(round((t_dac - t0) * self.rate))
        if i0 >= len(samples):
            with self._lock:
                if self._line is line:
                    self._line = None
            return
        lo = max(0, -i0)
        if lo >= frames:
            return
        chunk = samples[max(0, i0):max(0, i0) + frames - lo]
        outdata[lo:lo + len(chunk), 0] = chunk
        try:
            self._queue.put_nowait((t_dac + lo / self.rate, chunk.copy(), self.rate))
        except queue.Full:
            pass  # the analysis side stalled; dropping echo reference is better than glitching audio

    def _deliver_loop(self) -> None:
        while not self._stop.is_set():
            try:
                t, chunk, rate = self._queue.get(timeout=0.1)
            except queue.Empty:
                continue
            self.blocks_played += 1
            self.on_played(round(t, 6), chunk, rate)
