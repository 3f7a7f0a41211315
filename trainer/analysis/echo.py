"""Keeping the patient's voice out of the clinician's talk time when the patient plays over speakers.

The microphone then hears the clinician plus the patient's playback after the room's echo path (a delay
of tens of milliseconds, a gain, some reverberation). The playback signal itself is known exactly: the
app produced it. `EchoGuard` uses it as a reference in two stages, on 32 ms frames on the session clock:

1. `EchoCanceller`: a partitioned-block frequency-domain adaptive filter (MDF) learns the echo path and
   subtracts the predicted echo from the microphone. Two copies of the filter run: a *background* one
   that adapts on every frame and a *foreground* one that produces the output and is only replaced by
   the background when that demonstrably predicts the echo better. Double talk (clinician and patient
   at once) makes the background filter wander; the foreground then keeps the last good echo path and
   the background is reset to it. No double-talk detector has to be tuned.
2. `ResidualEchoSuppressor`: the linear filter leaves some echo (right after a change of echo path,
   before it has converged, most of it). Band by band, the residual is compared with the echo that is
   still expected in it, and bands the echo explains are attenuated, so the speech detector that follows
   hears the clinician (whose voice the echo cannot explain, also when talking over the patient) and not
   the patient.

`ReferenceTrack` stores the playback on the session clock so the microphone thread can fetch the
reference for any frame, whichever thread fed it and in whatever chunk sizes and sample rates.
`PlaybackActivity` tells when the patient's voice is in the playback (for the live talk balance).
"""

from __future__ import annotations

import threading

import numpy as np

from trainer.capture.audio import StreamResampler

RATE = 16000


class ReferenceTrack:
    """The patient's playback signal on the session clock at 16 kHz, thread-safe.

    `add(t, samples, rate)` stores a chunk whose first sample is heard at session time t (later chunks
    overwrite overlapping older ones); `get(start_index, n)` returns samples start_index ... +n at 16 kHz
    (zeros where nothing was played). Samples older than `keep_s` before the newest read are dropped.
    """

    def __init__(self, keep_s: float = 4.0):
        self._lock = threading.Lock()
        self._buf = np.zeros(0, dtype=np.float32)
        self._start = 0  # sample index of _buf[0]
        self._keep = int(keep_s * RATE)
        self._resampler: StreamResampler | None = None
        self._rate = RATE
        self._next_t: float | None = None  # where a chunk continuing the last one would start
        self._write = 0  # sample index where that chunk's first sample goes
        self.fed_any = False
        self.fed_until = 0  # sample index just after the newest sample fed

    def add(self, t: float, samples: np.ndarray, rate: int = RATE) -> None:
        """Store a chunk of playback (mono; stereo is averaged) heard from session time t on."""
        x = np.asarray(samples, dtype=np.float32)
        if x.ndim == 2:
            x = x.mean(axis=1) if x.shape[1] <= 8 else x.mean(axis=0)
        x = x.reshape(-1)
        with self._lock:
            # Chunks that continue the previous one go through the same resampler and are written right
            # after it, so the reference keeps a steady sample grid (the echo filter depends on it).
            contiguous = (self._next_t is not None and rate == self._rate
                          and abs(t - self._next_t) < 2.0 / min(rate, RATE))
            if not contiguous:
                self._resampler = StreamResampler(rate, RATE) if rate != RATE else None
                self._write = int(round(t * RATE))
            self._rate = rate
            self._next_t = t + len(x) / rate
            if self._resampler is not None:
                x = self._resampler.process(x)
            i0 = self._write
            self._write += len(x)
            self.fed_until = max(self.fed_until, self._write)
            if not self.fed_any:
                self._start = i0
                self.fed_any = True
            if i0 < self._start:  # older than what is kept: only the still-relevant tail matters
                x = x[self._start - i0:]
                i0 = self._start
            if len(x) == 0:
                return
            end = i0 + len(x)
            need = end - self._start
            if need > len(self._buf):
                grown = np.zeros(max(need, len(self._buf) + RATE), dtype=np.float32)
                grown[:len(self._buf)] = self._buf
                self._buf = grown
            self._buf[i0 - self._start:end - self._start] = x

    def get(self, start: int, n: int) -> np.ndarray:
        """Reference samples [start, start + n) as a new array (zeros where no playback)."""
        out = np.zeros(n, dtype=np.float32)
        with self._lock:
            lo = max(start, self._start)
            hi = min(start + n, self._start + len(self._buf))
            if hi > lo:
                out[lo - start:hi - start] = self._buf[lo - self._start:hi - self._start]
            # Forget what no future frame can need (the echo filter looks back at most keep_s).
            drop = start - self._keep - self._start
            if drop > RATE:
                self._buf = self._buf[drop:].copy()
                self._start += drop
        return out


class EchoCanceller:
    """Linear acoustic echo canceller on 512-sample frames at 16 kHz (stage 1 in the module docstring).

    `process(mic, ref) -> (residual, echo_estimate)`, both float64 arrays of one frame. The filter spans
    `partitions` x 32 ms of echo path: the default 8 (256 ms) covers loudspeaker-to-microphone delays up
    to about 150 ms plus the room's reverberation.
    """

    def __init__(self, frame: int = 512, partitions: int = 8, mu: float = 0.8):
        self.n = frame
        self.p = partitions
        self.mu = mu
        bins = frame + 1  # rfft of 2N samples
        self._x_hist = np.zeros((partitions, bins), dtype=np.complex128)
        self._x_prev = np.zeros(frame)
        self._wb = np.zeros((partitions, bins), dtype=np.complex128)  # background: adapts every frame
        self._wf = np.zeros((partitions, bins), dtype=np.complex128)  # foreground: produces the output
        self._davg1 = self._davg2 = self._dvar1 = self._dvar2 = 0.0
        self.foreground_updates = 0
        self.background_resets = 0
        self._silent = 0  # consecutive all-zero reference frames
        self._frames = 0
        self._pxx = np.zeros(bins)
        self._w = np.zeros((2, partitions, bins), dtype=np.complex128)
        self._zeros = np.zeros(frame)

    def process(self, mic: np.ndarray, ref: np.ndarray, step: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
        """Subtract the predicted echo of `ref` from `mic`; returns (residual, echo estimate). `step`
        scales the background filter's adaptation for this frame (smaller while the clinician talks)."""
        n = self.n
        d = np.asarray(mic, dtype=np.float64)
        x = np.asarray(ref, dtype=np.float64)
        if not x.any():
            self._silent += 1
            if self._silent > self.p + 1:  # the filter's whole history is zeros by now
                # No playback anywhere in the filter's span: the echo estimate is exactly zero and the
                # filters cannot learn from a zero reference. Skip the transforms (most of a visit's
                # frames), letting the arbitration statistics decay as they would.
                self._davg1 *= 0.6
                self._davg2 *= 0.85
                self._dvar1 *= 0.36
                self._dvar2 *= 0.7225
                return d, np.zeros(n)
        else:
            self._silent = 0
        # Overlap-save: each partition multiplies the spectrum of the last 2N reference samples.
        X = np.fft.rfft(np.concatenate((self._x_prev, x)))
        self._x_prev = x
        old = self._x_hist[-1].copy()
        self._x_hist[1:] = self._x_hist[:-1]
        self._x_hist[0] = X
        # Reference power per bin held in the filter, kept as a running sum (recomputed now and then so
        # rounding cannot drift).
        self._frames += 1
        if self._frames % 256 == 0:
            self._pxx = np.sum(self._x_hist.real ** 2 + self._x_hist.imag ** 2, axis=0)
        else:
            self._pxx += (X.real ** 2 + X.imag ** 2) - (old.real ** 2 + old.imag ** 2)
            np.maximum(self._pxx, 0.0, out=self._pxx)
        # Both filters' echo predictions in one product and one inverse transform.
        self._w[0] = self._wb
        self._w[1] = self._wf
        y2 = np.fft.irfft(np.einsum("fpk,pk->fk", self._w, self._x_hist), axis=1)[:, n:]
        yb, yf = y2[0], y2[1]
        eb = d - yb
        ef = d - yf

        # Background: normalised LMS per frequency bin, normalised by the reference power the filter
        # holds, so the step is the same for loud and quiet playback and for every part of the spectrum.
        pxx = self._pxx + (1e-6 * float(self._pxx.mean()) + 1e-10)
        Eb = np.fft.rfft(np.concatenate((self._zeros, eb)))
        g = np.fft.irfft(np.conj(self._x_hist) * (Eb / pxx)[None, :], axis=1)
        g[:, n:] = 0.0  # gradient constraint: keeps each partition a linear (not circular) convolution
        self._wb += (self.mu * step) * np.fft.rfft(g, axis=1)

        # Foreground/background arbitration on smoothed error energies (the two-path scheme of Speex's
        # MDF canceller): copy the background when it has clearly predicted the echo better, reset the
        # background when it has clearly diverged (typically during double talk).
        sff = float(ef @ ef)
        see = float(eb @ eb)
        diff = ef - eb
        dbf = float(diff @ diff) + 1e-12
        self._davg1 = 0.6 * self._davg1 + 0.4 * (sff - see)
        self._dvar1 = 0.36 * self._dvar1 + 0.16 * sff * dbf
        self._davg2 = 0.85 * self._davg2 + 0.15 * (sff - see)
        self._dvar2 = 0.7225 * self._dvar2 + 0.0225 * sff * dbf
        if (self._davg1 > 0 and self._davg1 ** 2 > 0.5 * self._dvar1) or \
                (self._davg2 > 0 and self._davg2 ** 2 > 0.25 * self._dvar2):
            self._wf = self._wb.copy()
            self.foreground_updates += 1
            self._davg1 = self._davg2 = self._dvar1 = self._dvar2 = 0.0
            yf, ef = yb, eb
        elif self._davg1 < 0 and self._davg1 ** 2 > 4.0 * self._dvar1:
            self._wb = self._wf.copy()
            self.background_resets += 1
            self._davg1 = self._davg2 = self._dvar1 = self._dvar2 = 0.0
        return ef, yf


# Bands for the residual-echo statistics: 257 rfft bins of a 512-sample frame (31.25 Hz apart), about
# four bands per octave above 250 Hz; fine enough to separate two voices' formants, coarse enough that a
# band's power is a stable statistic.
_EDGES = np.array([0, 2, 4, 6, 8, 10, 12, 14, 16, 19, 22, 26, 30, 35, 40, 46, 53, 61, 70, 80, 92, 106,
                   122, 140, 162, 188, 218, 257])
_NBANDS = len(_EDGES) - 1
_BAND_OF_BIN = np.repeat(np.arange(_NBANDS), np.diff(_EDGES))


class ResidualEchoSuppressor:
    """Stage 2: attenuates the echo the linear filter left, band by band, on 512-sample windows with
    50 % overlap (square-root Hann analysis and synthesis, so an untouched signal is reconstructed
    exactly). The output lags the input by `delay` = 256 samples (16 ms).

    The residual echo in a band is predicted as leak x (echo estimate power); `leak` is the median of
    residual / echo-estimate power over the last second of playback. Double talk does not bias it much:
    the median ignores the minority of frames in which the clinician speaks. Bands whose residual is not
    well above that prediction (factor `beta`) are attenuated down to `floor`. Until the linear filter
    has produced an estimate at all (the first fraction of a second of the first playback), bands are
    simply attenuated while the patient plays: nothing yet separates echo from the clinician there.
    """

    delay = 256

    def __init__(self, frame: int = 512, beta: float = 3.0, floor_db: float = -30.0, history: int = 64,
                 warmup: int = 64):
        self.n = frame
        self.hop = frame // 2
        self.beta = beta
        self.floor = 10 ** (floor_db / 20)
        self.history = history
        self.warmup = warmup
        self._win = np.sqrt(np.hanning(frame + 1)[:frame])  # periodic: sums to 1 squared at 50 % overlap
        self._e_prev = np.zeros(self.hop)
        self._y_prev = np.zeros(self.hop)
        self._tail = np.zeros(self.hop)
        self._bands = np.zeros((frame // 2 + 1, _NBANDS))  # bin -> band summing matrix
        self._bands[np.arange(frame // 2 + 1), _BAND_OF_BIN] = 1.0
        self._ratios = np.zeros((history, _NBANDS))
        self._n_ratios = 0
        self._leak: np.ndarray | None = None
        self._active = 0

    def process(self, residual: np.ndarray, echo: np.ndarray, playing: bool) -> np.ndarray:
        """One frame of the linear canceller's output (and its echo estimate) -> suppressed frame,
        `delay` samples late. `playing`: the reference had sound within the echo filter's span."""
        n, hop = self.n, self.hop
        e = np.concatenate((self._e_prev, residual))
        self._e_prev = residual[-hop:]
        # The two half-overlapping windows that complete this frame, transformed together.
        E = np.fft.rfft(np.stack((e[:n], e[hop:hop + n])) * self._win, axis=1)
        if playing:
            y = np.concatenate((self._y_prev, echo))
            Y = np.fft.rfft(np.stack((y[:n], y[hop:hop + n])) * self._win, axis=1)
            Eb = (E.real ** 2 + E.imag ** 2) @ self._bands + 1e-12
            Yb = (Y.real ** 2 + Y.imag ** 2) @ self._bands + 1e-12
            gains = np.empty_like(Eb)
            for w in range(2):
                self._active += 1
                has_estimate = Yb[w].sum() > 1e-4 * Eb[w].sum()
                if has_estimate:
                    self._ratios[self._n_ratios % self.history] = Eb[w] / Yb[w]
                    self._n_ratios += 1
                if self._active <= self.warmup and (not has_estimate or self._n_ratios < 4):
                    gains[w] = self.floor
                else:
                    # The median is the costliest step; every fourth window (64 ms) follows the leak
                    # closely enough, since it changes over seconds.
                    if self._leak is None or (has_estimate and self._n_ratios % 4 == 0):
                        k = min(self._n_ratios, self.history)
                        self._leak = np.median(self._ratios[:k], axis=0) if k else np.zeros(_NBANDS)
                    gains[w] = np.clip(1.0 - self.beta * self._leak * Yb[w] / Eb[w], self.floor, 1.0)
            E = E * gains[:, _BAND_OF_BIN]
        self._y_prev = echo[-hop:]
        frames = np.fft.irfft(E, n, axis=1) * self._win
        out = np.empty(n)
        out[:hop] = self._tail + frames[0, :hop]
        out[hop:] = frames[0, hop:] + frames[1, :hop]
        self._tail = frames[1, hop:].copy()
        return out


class PlaybackActivity:
    """Is the patient's voice in this playback frame? The playback is a clean signal (synthesised or
    recorded speech, digital silence between lines), so its level says it: speech when the frame is
    within `range_db` of the loudest recent playback and above `floor_db`. Cheaper than a second neural
    detector by an order of magnitude, and exact on a clean signal."""

    def __init__(self, floor_db: float = -55.0, range_db: float = 30.0):
        self.floor = 10 ** (floor_db / 10)
        self.range = 10 ** (-range_db / 10)
        self.peak = 0.0

    def __call__(self, frame: np.ndarray) -> bool:
        x = np.asarray(frame, dtype=np.float64)
        p = float(x @ x) / max(1, len(x))
        # The peak follows loud frames at once and forgets over ~10 s (a quieter persona or volume).
        self.peak = max(p, self.peak * 0.997)
        return p > self.floor and p > self.peak * self.range


class EchoGuard:
    """Both stages for one microphone: `process(mic_frame, ref_frame) -> cleaned frame`, `delay` samples
    late (the suppressor's 16 ms). Holds the recent reference power to know whether the patient's
    playback can still be echoing within the filter's span."""

    def __init__(self, frame: int = 512, partitions: int = 8, ref_floor_db: float = -70.0):
        self.canceller = EchoCanceller(frame, partitions)
        self.suppressor = ResidualEchoSuppressor(frame)
        self.delay = self.suppressor.delay
        self._ref_pow = np.zeros(partitions)
        self._floor = 10 ** (ref_floor_db / 10)
        self.talking_step = 0.1
        self.playing = False  # the latest frame's playback can still be echoing (within the filter's span)

    def process(self, mic: np.ndarray, ref: np.ndarray, talking: bool = False) -> np.ndarray:
        """One microphone frame and its playback reference -> the cleaned frame. `talking`: the speech
        detector heard the clinician in the previous frame; the background filter then adapts at a tenth
        of its step (double talk makes it learn the clinician's voice as echo and diverge)."""
        x = np.asarray(ref, dtype=np.float64)
        self._ref_pow[1:] = self._ref_pow[:-1]
        self._ref_pow[0] = float(x @ x) / len(x)
        playing = bool(self._ref_pow.max() > self._floor)
        self.playing = playing
        e, y = self.canceller.process(mic, x, self.talking_step if talking else 1.0)
        return self.suppressor.process(e, y, playing).astype(np.float32)
