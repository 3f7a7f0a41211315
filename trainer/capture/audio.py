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
from trainer.core.errors import DeviceUnavailable, SourceError

DEFAULT_RATE = 16000
BLOCK_S = 0.032  # 512 samples at 16 kHz: the block size Silero VAD takes


def decode_audio(path: str | os.PathLike, rate: int = DEFAULT_RATE) -> np.ndarray:
    """Decode the first audio stream of a file to mono float32 at `rate` Hz.

    Raises SourceError for a missing file, a file without audio, or one FFmpeg cannot decode; a file
    that breaks off part-way returns what was decoded before the damage.
    """
    import av  # heavy: FFmpeg bindings

    p = Path(path)
    if not p.is_file():
        raise SourceError(f"Audio file not found: {p}", hint="Check the path given to --mic.")
    try:
        container = av.open(str(p))
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        raise SourceError(f"Cannot read audio from {p}: {exc}", hint="Use a WAV, FLAC or MP4/M4A file.") from None
    chunks: list[np.ndarray] = []
    try:
        if not container.streams.audio:
            raise SourceError(f"{p.name} has no audio track.", hint="Give a file with sound to --mic.")
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
        try:
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1))
        except (av.error.FFmpegError, EOFError) as exc:
            if not chunks:
                raise SourceError(f"Cannot decode audio from {p}: {exc}") from None
        for out in resampler.resample(None):
            chunks.append(out.to_ndarray().reshape(-1))
    finally:
        container.close()
    if not chunks:
        raise SourceError(f"{p.name} contains no decodable audio.")
    return np.clip(np.concatenate(chunks).astype(np.float32), -1.0, 1.0)


class AudioFileSource:
    """Blocks from an audio file (or a video's audio track), paced to the session clock if realtime."""

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
        self.samples: np.ndarray | None = None

    def open(self) -> None:
        if self.samples is None:
            self.samples = decode_audio(self.path, self.rate)

    @property
    def duration(self) -> float:
        return 0.0 if self.samples is None else len(self.samples) / self.rate

    def blocks(self) -> Iterator[AudioBlock]:
        self.open()
        pacer = Pacer(self.clock, self.realtime, self._stop)
        n = len(self.samples)
        for start in range(0, n, self.block):
            t = start / self.rate
            # A block is available once its last sample has been "captured".
            if not pacer.wait_until(t + self.block / self.rate):
                break
            yield AudioBlock(t, self.samples[start:start + self.block], self.rate)

    def stop(self) -> None:
        self._stop.set()

    def close(self) -> None:
        self.stop()


def _sounddevice():
    try:
        import sounddevice as sd
    except (OSError, ImportError) as exc:  # PortAudio's shared library (or sounddevice) is missing
        raise DeviceUnavailable(
            f"The audio system (PortAudio) is not available: {exc}",
            hint="Linux: install it with 'sudo apt install libportaudio2'. The visit runs without voice "
                 "feedback until then.") from None
    return sd


class MicrophoneSource:
    """Blocks from a microphone through sounddevice. The device is opened at a rate it supports and
    resampled to `rate`; block times come from PortAudio's ADC timestamps mapped onto the session clock."""

    kind = "microphone"

    def __init__(self, device: int | str | None = None, clock=None, rate: int = DEFAULT_RATE,
                 block_s: float = BLOCK_S):
        self.device = device
        self.clock = clock
        self.rate = rate
        self.block_s = block_s
        self.name = "default microphone" if device is None else f"microphone {device}"
        self._stop = threading.Event()
        self._queue: queue.Queue = queue.Queue(maxsize=200)
        self._stream = None
        self.device_rate = rate
        self.overflows = 0
        self.error: str | None = None

    def open(self) -> None:
        sd = _sounddevice()
        try:
            info = sd.query_devices(self.device, "input")
        except (ValueError, sd.PortAudioError) as exc:
            raise DeviceUnavailable(f"No microphone found ({exc}).",
                                    hint="Connect a microphone or pass --mic FILE to use a recording.") from None
        self.name = info["name"]
        # Prefer our rate; otherwise the device's default rate, resampled below.
        for candidate in (self.rate, int(info["default_samplerate"])):
            try:
                sd.check_input_settings(device=self.device, samplerate=candidate, channels=1, dtype="float32")
                self.device_rate = candidate
                break
            except (ValueError, sd.PortAudioError):
                continue
        else:
            raise DeviceUnavailable(f"The microphone '{self.name}' accepts no usable sample rate.")
        blocksize = int(round(self.block_s * self.device_rate))
        t_offset = {}

        def callback(indata, frames, time_info, status):
            if status.input_overflow:
                self.overflows += 1
            # Map PortAudio's stream clock onto the session clock once, then follow the ADC times.
            adc = time_info.inputBufferAdcTime
            if "d" not in t_offset:
                now = self.clock.now() if self.clock is not None else 0.0
                t_offset["d"] = now - adc - frames / self.device_rate if adc else None
            t = (adc + t_offset["d"]) if t_offset["d"] is not None else (
                self.clock.now() - frames / self.device_rate if self.clock is not None else 0.0)
            try:
                self._queue.put_nowait((t, indata[:, 0].copy()))
            except queue.Full:
                self.overflows += 1

        try:
            self._stream = sd.InputStream(device=self.device, samplerate=self.device_rate, channels=1,
                                          dtype="float32", blocksize=blocksize, callback=callback)
            self._stream.start()
        except (sd.PortAudioError, ValueError) as exc:
            raise DeviceUnavailable(f"Cannot open the microphone '{self.name}': {exc}") from None

    def blocks(self) -> Iterator[AudioBlock]:
        if self._stream is None:
            self.open()
        while not self._stop.is_set():
            try:
                t, samples = self._queue.get(timeout=0.5)
            except queue.Empty:
                if self._stream is not None and not self._stream.active:
                    self.error = f"The microphone '{self.name}' stopped (unplugged or taken by another app)"
                    break
                continue
            if self.device_rate != self.rate:
                samples = resample(samples, self.device_rate, self.rate)
            yield AudioBlock(t, samples, self.rate)

    def stop(self) -> None:
        self._stop.set()

    def close(self) -> None:
        self.stop()
        if self._stream is not None:
            try:
                self._stream.stop()
                self._stream.close()
            finally:
                self._stream = None


def resample(samples: np.ndarray, src_rate: int, dst_rate: int) -> np.ndarray:
    """Linear-interpolation resampling of one block (adequate for speech detection, not for playback)."""
    if src_rate == dst_rate or len(samples) == 0:
        return samples
    n_out = int(round(len(samples) * dst_rate / src_rate))
    x_old = np.arange(len(samples)) / src_rate
    x_new = np.arange(n_out) / dst_rate
    return np.interp(x_new, x_old, samples).astype(np.float32)


def open_audio_source(spec: str | int | None, clock=None, realtime: bool = True):
    """'default' / None -> the default microphone; a digit -> that input device; else an audio file."""
    if spec is None or spec == "default":
        return MicrophoneSource(None, clock=clock)
    if isinstance(spec, int) or (isinstance(spec, str) and spec.isdigit()):
        return MicrophoneSource(int(spec), clock=clock)
    return AudioFileSource(spec, clock=clock, realtime=realtime)


def list_microphones() -> list[dict]:
    """Input devices PortAudio reports (raises DeviceUnavailable when PortAudio itself is missing)."""
    sd = _sounddevice()
    out = []
    for i, dev in enumerate(sd.query_devices()):
        if dev["max_input_channels"] > 0:
            out.append({"index": i, "name": dev["name"], "rate": int(dev["default_samplerate"])})
    return out
