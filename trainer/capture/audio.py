"""Audio sources: the microphone (sounddevice/PortAudio) and audio files (PyAV: WAV, FLAC, MP3, and the
audio track of a video file). Both deliver mono float32 blocks at `rate` Hz (16 kHz by default, what the
speech detectors use), stamped in session seconds.
"""

from __future__ import annotations

import os
import queue
import threading
from pathlib import Path
from typing import Iterator

import numpy as np

from trainer.capture.base import AudioBlock, Pacer
from trainer.core.i18n import _, number
from trainer.core.errors import DeviceUnavailable, SourceError

DEFAULT_RATE = 16000
# 64 ms blocks (two of the 32 ms frames Silero VAD takes): a live analysis thread woken half as often
# uses clearly less CPU (benchmarks/bench_voice.py), and ~16 level readings a second are plenty for a meter.
BLOCK_S = 0.064


def decode_audio(path: str | os.PathLike, rate: int = DEFAULT_RATE) -> np.ndarray:
    """Decode the first audio stream of a file to mono float32 at `rate` Hz.

    Raises SourceError for a missing file, a file without audio, or one FFmpeg cannot decode; a file
    that breaks off part-way returns what was decoded before the damage.
    """
    import av  # heavy: FFmpeg bindings

    p = Path(path)
    if not p.is_file():
        raise SourceError(_("Audio file not found: {path}").format(path=p),
                              hint=_("Check the path given to --mic."))
    try:
        container = av.open(str(p))
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        raise SourceError(_("Cannot read audio from {path}: {error}").format(path=p, error=exc),
                          hint=_("Use a WAV, FLAC or MP4/M4A file.")) from None
    chunks: list[np.ndarray] = []
    try:
        if not container.streams.audio:
            raise SourceError(_("{name} has no audio track.").format(name=p.name),
                                  hint=_("Give a file with sound to --mic."))
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
        try:
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1))
        except (av.error.FFmpegError, EOFError) as exc:
            if not chunks:
                raise SourceError(_("Cannot decode audio from {path}: {error}").format(path=p, error=exc)) from None
        for out in resampler.resample(None):
            chunks.append(out.to_ndarray().reshape(-1))
    finally:
        container.close()
    if not chunks:
        raise SourceError(_("{name} contains no decodable audio.").format(name=p.name))
    return np.clip(np.concatenate(chunks).astype(np.float32), -1.0, 1.0)


class AudioFileSource:
    """Blocks from an audio file (or a video's audio track), paced to the session clock if realtime.

    The file is decoded as it is played, a few blocks ahead, never loaded whole (an hour of audio would
    take about 0.6 GB as float32): memory stays flat whatever the file's length."""

    kind = "file"

    def __init__(self, path: str | os.PathLike, clock=None, realtime: bool = True, rate: int = DEFAULT_RATE,
                 block_s: float = BLOCK_S):
        self.path = Path(path)
        self.name = self.path.name
        self.clock = clock
        self.realtime = realtime
        self.rate = rate
        self.block = int(round(block_s * rate))
        self._stop = threading.Event()
        self._opened = False
        self._estimate = 0.0  # seconds, from the container's metadata
        self._emitted = 0  # samples delivered so far
        self._finished = False

    def open(self) -> None:
        """Check that the file exists and has a decodable audio track (SourceError otherwise)."""
        if self._opened:
            return
        av = _av()
        if not self.path.is_file():
            raise SourceError(_("Audio file not found: {path}").format(path=self.path),
                              hint=_("Check the path given to --mic."))
        try:
            container = av.open(str(self.path))
        except (av.error.FFmpegError, OSError, ValueError) as exc:
            raise SourceError(_("Cannot read audio from {path}: {error}").format(path=self.path, error=exc),
                              hint=_("Use a WAV, FLAC or MP4/M4A file.")) from None
        try:
            if not container.streams.audio:
                raise SourceError(_("{name} has no audio track.").format(name=self.path.name),
                                  hint=_("Give a file with sound to --mic."))
            stream = container.streams.audio[0]
            if stream.duration is not None and stream.time_base is not None:
                self._estimate = float(stream.duration * stream.time_base)
            elif container.duration is not None:
                self._estimate = container.duration / 1_000_000
        finally:
            container.close()
        self._opened = True

    @property
    def duration(self) -> float:
        """The file's length: exact once every block has been read, else the container's own figure."""
        return self._emitted / self.rate if self._finished else self._estimate

    def _chunks(self) -> Iterator[np.ndarray]:
        """Decoded mono float32 pieces at `rate`, in order; a file that breaks off part-way ends early."""
        av = _av()
        container = av.open(str(self.path))
        got = False
        try:
            stream = container.streams.audio[0]
            resampler = av.AudioResampler(format="flt", layout="mono", rate=self.rate)
            try:
                for frame in container.decode(stream):
                    for out in resampler.resample(frame):
                        got = True
                        yield np.clip(out.to_ndarray().reshape(-1).astype(np.float32), -1.0, 1.0)
            except (av.error.FFmpegError, EOFError) as exc:
                if not got:
                    raise SourceError(_("Cannot decode audio from {path}: {error}").format(path=self.path, error=exc)) from None
            for out in resampler.resample(None):
                got = True
                yield np.clip(out.to_ndarray().reshape(-1).astype(np.float32), -1.0, 1.0)
        finally:
            container.close()
        if not got:
            raise SourceError(_("{name} contains no decodable audio.").format(name=self.path.name))

    def blocks(self) -> Iterator[AudioBlock]:
        self.open()
        pacer = Pacer(self.clock, self.realtime, self._stop)
        self._emitted, self._finished = 0, False
        pending: list[np.ndarray] = []
        have = 0
        for chunk in self._chunks():
            pending.append(chunk)
            have += len(chunk)
            while have >= self.block:
                buf = np.concatenate(pending)
                block, rest = buf[:self.block], buf[self.block:]
                pending, have = ([rest] if len(rest) else []), len(rest)
                t = self._emitted / self.rate
                # A block is available once its last sample has been "captured".
                if not pacer.wait_until(t + self.block / self.rate):
                    return
                self._emitted += len(block)
                yield AudioBlock(t, block, self.rate)
        if have:
            block = np.concatenate(pending)
            t = self._emitted / self.rate
            if not pacer.wait_until(t + len(block) / self.rate):
                return
            self._emitted += len(block)
            yield AudioBlock(t, block, self.rate)
        self._finished = True

    def stop(self) -> None:
        self._stop.set()

    def close(self) -> None:
        self.stop()


def _av():
    import av  # heavy: FFmpeg bindings, loaded when a file is first opened

    return av


def _sounddevice():
    try:
        import sounddevice as sd
    except (OSError, ImportError) as exc:  # PortAudio's shared library (or sounddevice) is missing
        raise DeviceUnavailable(
            _("The audio system (PortAudio) is not available: {error}").format(error=exc),
            hint=_("Linux: install it with 'sudo apt install libportaudio2'. The visit runs without voice "
                   "feedback until then.")) from None
    return sd


class MicrophoneSource:
    """Blocks from a microphone through sounddevice. The device is opened at a rate it supports and
    resampled to `rate`; block times come from PortAudio's ADC timestamps mapped onto the session clock.

    Trouble during a session does not end it: when the stream stops (device unplugged, taken by another
    app) `blocks()` yields one empty block at the time of the loss (the voice analyser reports it),
    then tries to reopen the device every `retry_s` seconds until it is back or the source is stopped.
    Input overflows are counted; the samples lost show up as a jump in block times, which the voice
    analyser records as a gap. `gaps` lists (start, end) session seconds without microphone audio.
    """

    kind = "microphone"

    def __init__(self, device: int | str | None = None, clock=None, rate: int = DEFAULT_RATE,
                 block_s: float = BLOCK_S, retry_s: float = 1.0):
        self.device = device
        self.clock = clock
        self.rate = rate
        self.block_s = block_s
        self.retry_s = retry_s
        self.name = "default microphone" if device is None else f"microphone {device}"
        self._stop = threading.Event()
        self._queue: queue.Queue = queue.Queue(maxsize=200)
        self._stream = None
        self._stream_failed = threading.Event()
        self._resampler: StreamResampler | None = None
        self.device_rate = rate
        self.overflows = 0
        self.gaps: list[tuple[float, float]] = []
        self.error: str | None = None

    def _now(self) -> float:
        return self.clock.now() if self.clock is not None else 0.0

    def open(self) -> None:
        """Find the device, negotiate a sample rate and start the input stream."""
        sd = _sounddevice()
        try:
            info = sd.query_devices(self.device, "input")
        except (ValueError, sd.PortAudioError) as exc:
            raise DeviceUnavailable(_("No microphone found ({error}).").format(error=exc),
                                    hint=_("Connect a microphone or pass --mic FILE to use a recording.")) from None
        self.name = info["name"]
        # Prefer our rate; otherwise the device's default rate, resampled in blocks().
        for candidate in (self.rate, int(info["default_samplerate"]), 48000, 44100):
            try:
                sd.check_input_settings(device=self.device, samplerate=candidate, channels=1, dtype="float32")
                self.device_rate = candidate
                break
            except (ValueError, sd.PortAudioError):
                continue
        else:
            raise DeviceUnavailable(_("The microphone '{name}' accepts no usable sample rate.").format(name=self.name))
        blocksize = int(round(self.block_s * self.device_rate))
        t_offset = {}
        failed = self._stream_failed
        failed.clear()

        def callback(indata, frames, time_info, status):
            if status.input_overflow:
                self.overflows += 1
            # Map PortAudio's stream clock onto the session clock once, then follow the ADC times, so
            # the block times reflect when the sound was captured, not when this thread ran.
            adc = time_info.inputBufferAdcTime
            if "d" not in t_offset:
                t_offset["d"] = self._now() - adc - frames / self.device_rate if adc else None
            t = (adc + t_offset["d"]) if t_offset["d"] is not None else self._now() - frames / self.device_rate
            try:
                self._queue.put_nowait((t, indata[:, 0].copy()))
            except queue.Full:  # the analysis thread fell behind: drop (recorded as a gap downstream)
                self.overflows += 1

        def finished():
            failed.set()

        try:
            self._stream = sd.InputStream(device=self.device, samplerate=self.device_rate, channels=1,
                                          dtype="float32", blocksize=blocksize, callback=callback,
                                          finished_callback=finished)
            self._stream.start()
        except (sd.PortAudioError, ValueError) as exc:
            self._stream = None
            raise DeviceUnavailable(_("Cannot open the microphone '{name}': {error}").format(name=self.name,
                                                                                            error=exc)) from None
        self._resampler = StreamResampler(self.device_rate, self.rate) if self.device_rate != self.rate else None

    def _stream_alive(self) -> bool:
        st = self._stream
        if st is None or self._stream_failed.is_set():
            return False
        try:
            return bool(st.active)
        except Exception:  # noqa: BLE001 - a vanished device can make PortAudio raise on any query
            return False

    def _close_stream(self) -> None:
        st, self._stream = self._stream, None
        if st is None:
            return
        try:
            st.stop()
            st.close()
        except Exception:  # noqa: BLE001 - closing a vanished device must not end the session
            pass

    def _reopen(self) -> bool:
        """Try to get the device back; True when it is streaming again."""
        try:
            self.open()
            return True
        except DeviceUnavailable:
            return False

    def blocks(self) -> Iterator[AudioBlock]:
        """Mono float32 blocks at `rate` on the session clock; an empty block marks a lost device."""
        if self._stream is None:
            self.open()
        lost_at: float | None = None
        empty_polls = 0
        while not self._stop.is_set():
            try:
                t, samples = self._queue.get(timeout=0.25)
                empty_polls = 0
            except queue.Empty:
                empty_polls += 1
                # Some backends keep a dead stream "active" but stop calling back: 2 s of nothing is a loss.
                if lost_at is None and (not self._stream_alive() or empty_polls >= 8):
                    lost_at = self._now()
                    self.error = _("The microphone '{name}' stopped (unplugged or taken by another app) at "
                                   "{t} s").format(name=self.name, t=number(lost_at))
                    self._close_stream()
                    yield AudioBlock(lost_at, np.zeros(0, dtype=np.float32), self.rate)
                if lost_at is not None and not self._stop.wait(self.retry_s) and self._reopen():
                    self.gaps.append((round(lost_at, 3), round(self._now(), 3)))
                    self.error = _("The microphone '{name}' was lost for {lost} s at {t} s; that stretch has "
                                   "no talk-time data").format(name=self.name, lost=number(self._now() - lost_at),
                                                               t=number(lost_at))
                    lost_at = None
                continue
            if self._resampler is not None:
                samples = self._resampler.process(samples)
            yield AudioBlock(t, samples, self.rate)
        if lost_at is not None:
            self.gaps.append((round(lost_at, 3), round(self._now(), 3)))

    def stop(self) -> None:
        self._stop.set()

    def close(self) -> None:
        self.stop()
        self._close_stream()


def resample(samples: np.ndarray, src_rate: int, dst_rate: int) -> np.ndarray:
    """Resample one self-contained chunk (anti-aliased; see StreamResampler for a continuous stream)."""
    if src_rate == dst_rate or len(samples) == 0:
        return np.asarray(samples, dtype=np.float32)
    return StreamResampler(src_rate, dst_rate).process(samples, final=True)


def _lowpass_taps(cutoff: float, taps: int) -> np.ndarray:
    """Windowed-sinc low-pass FIR; `cutoff` as a fraction of the sample rate (0 .. 0.5)."""
    k = np.arange(taps) - (taps - 1) / 2
    h = 2 * cutoff * np.sinc(2 * cutoff * k) * np.blackman(taps)
    return (h / h.sum()).astype(np.float64)


class StreamResampler:
    """Sample-rate conversion of a continuous stream delivered in blocks of any size.

    A windowed-sinc low-pass (when going down: so a 48 kHz microphone's 8-24 kHz content does not fold
    into the speech band) followed by linear interpolation whose phase carries over from block to block,
    so block boundaries leave no clicks or drift. Output sample k is input time k / dst.
    """

    def __init__(self, src: int, dst: int):
        self.src = int(src)
        self.dst = int(dst)
        self.step = self.src / self.dst  # input samples per output sample
        if self.dst < self.src:
            taps = int(16 * self.step) | 1
            self._h = _lowpass_taps(0.45 * self.dst / self.src, taps)
        else:
            self._h = None
        self.reset()

    def reset(self) -> None:
        """Start a new stream (after a gap)."""
        n = 0 if self._h is None else len(self._h) - 1
        self._fir_state = np.zeros(n)
        self._delay = n / 2  # FIR group delay in input samples, taken out by starting the phase later
        self._prev: np.ndarray = np.zeros(0)
        self._pos = self._delay

    def process(self, samples: np.ndarray, final: bool = False) -> np.ndarray:
        """Resample the next block; with `final`, also flush the filter's tail."""
        x = np.asarray(samples, dtype=np.float64).reshape(-1)
        if self.src == self.dst:
            return x.astype(np.float32)
        if self._h is not None:
            if final:
                x = np.concatenate((x, np.zeros(len(self._h) // 2)))
            full = np.concatenate((self._fir_state, x))
            y = np.convolve(full, self._h, mode="valid") if len(full) >= len(self._h) else np.zeros(0)
            keep = len(self._h) - 1
            self._fir_state = full[-keep:] if keep else np.zeros(0)
            x = y
        buf = np.concatenate((self._prev, x))
        if len(buf) < 2:
            self._prev = buf
            return np.zeros(0, dtype=np.float32)
        last = len(buf) - 1
        n = int(np.floor((last - self._pos) / self.step)) + 1 if self._pos <= last else 0
        pos = self._pos + self.step * np.arange(n)
        out = np.interp(pos, np.arange(len(buf)), buf)
        # Keep the last input sample so the next block interpolates across the boundary.
        self._pos = self._pos + self.step * n - last
        self._prev = buf[-1:]
        return out.astype(np.float32)


def open_audio_source(spec: str | int | None, clock=None, realtime: bool = True):
    """'default' / None -> the default microphone; a digit -> that input device; else an audio file."""
    if spec is None or spec == "default":
        return MicrophoneSource(None, clock=clock)
    if isinstance(spec, int) or (isinstance(spec, str) and spec.isdigit()):
        return MicrophoneSource(int(spec), clock=clock)
    return AudioFileSource(spec, clock=clock, realtime=realtime)


def list_microphones() -> list[dict]:
    """Input devices PortAudio reports (raises DeviceUnavailable when PortAudio itself is missing)."""
    return _devices("max_input_channels")


def list_speakers() -> list[dict]:
    """Output devices (speakers, headphones) PortAudio reports; raises DeviceUnavailable without PortAudio."""
    return _devices("max_output_channels")


def _devices(channels_key: str) -> list[dict]:
    sd = _sounddevice()
    out = []
    for i, dev in enumerate(sd.query_devices()):
        if dev[channels_key] > 0:
            out.append({"index": i, "name": dev["name"], "rate": int(dev["default_samplerate"])})
    return out
