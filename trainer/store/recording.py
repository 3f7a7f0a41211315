"""The clinician's own video: recorded only with consent, kept beside the store, played in the replay.

A visit is recorded only when the site policy allows it (`allow_video_recording`) *and* the learner ticked
"Record this visit for my debrief" before it started (`VisitRunner(record_video=True)` checks the policy
again). Without both, nothing visual is written anywhere.

**Where.** ``<data folder>/recordings/<session uuid>.mkv`` (`recording_path`): the folder 0700 and the file
0600 like the database. The session's uuid names it, so a bundle carries it to another store unchanged.
Deleting a session (or retention) deletes its recording (`SessionStore.delete_session`,
`delete_older_than`).

**What.** One Matroska file written with PyAV (FFmpeg; already a dependency for reading audio):

- video: MPEG-4 Part 2 (``mpeg4``; every FFmpeg build has it and OpenCV decodes it; H.264 would be smaller but
  its encoder is not in every build), the longest side scaled to `RECORD_SIDE` px, at most `RECORD_FPS`
  frames per second (a keyframe every second, so a seek decodes at most `RECORD_FPS` frames): 0.28 MB per
  minute from a 640x480 camera, about 4 ms of one core per recorded frame (benchmarks/bench_recording.py);
- timestamps in milliseconds **on the session clock**: a frame's presentation time is its capture time
  ``Frame.t``, so the replay (and any player) seeks the file with session times;
- the patient's voice as it was played (AAC mono, the player's rate, 32 kbit/s), on the same clock,
  silence between lines filled so the track is continuous; with it a simulated visit's file is 0.43 MB per
  minute. The clinician's microphone is *not* recorded.

**Threads.** `VideoRecorder.add_frame` / `add_audio` only queue (a frame is dropped when the queue is full in
real time, and waits in stepped/fast runs); scaling and encoding happen on the recorder's own thread at a
slightly lower priority, so the face analysis and the UI do not wait for it. Dropped frames are counted and
the visit says how many (`VisitRunner`'s ``recording_dropped`` notice).

**Crashes.** The muxer flushes every packet (``flush_packets``), closes a cluster every 250 ms and the file
is unbuffered on our side, so a killed process leaves a file that plays up to about 1.3 s before the last
frame the store had (median, benchmarks/bench_recording.py on the shared machine; tests/test_recording.py
kills a recording process and decodes what is left). Such a file lacks the
seek index Matroska writes on close; `RecordingReader` then seeks by scanning, which is slower but right.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from trainer.core.errors import StoreError
from trainer.core.i18n import _
from trainer.privacy import private_dir, private_file

RECORDINGS_DIR = "recordings"
RECORDING_SUFFIX = ".mkv"
RECORD_FPS = 10.0  # enough to see nods, smiles and where the eyes go; a quarter of the CPU of 30 fps
RECORD_SIDE = 360  # longest side in pixels: a 640x480 camera becomes 360x270
VIDEO_QSCALE = 4  # MPEG-4 quantiser (2 = best, 31 = worst); 4 keeps faces clear at a few KB per frame
AUDIO_BITRATE = 32_000
QUEUE_FRAMES = 20  # two seconds at RECORD_FPS: beyond that the encoder is behind and frames are dropped
_MS = Fraction(1, 1000)
_AUDIO_LAG_S = 1.5  # silence is filled only this far behind the video (a line's audio may come late)


def recordings_dir(store_path: str | os.PathLike) -> Path:
    """The recordings folder beside the session database at `store_path`."""
    return Path(store_path).parent / RECORDINGS_DIR


def recording_path(store_path: str | os.PathLike, session_uuid: str) -> Path:
    """Where the recording of the session with this uuid lives (it may not exist)."""
    if not session_uuid or not all(c in "0123456789abcdef" for c in session_uuid):
        raise ValueError(f"not a session uuid: {session_uuid!r}")
    return recordings_dir(store_path) / f"{session_uuid}{RECORDING_SUFFIX}"


def recording_allowed() -> bool:
    """Whether the site policy allows keeping the camera video (the learner must still opt in)."""
    from trainer.core.policy import effective_settings
    from trainer.store.user_settings import load_user_settings

    return bool(effective_settings(user=load_user_settings()).allow_video_recording)


@dataclass
class RecordingStats:
    frames: int = 0  # frames written
    dropped: int = 0  # frames dropped because the encoder was behind
    audio_s: float = 0.0  # seconds of audio track written (silence included)
    last_t: float = 0.0  # session time of the last frame written
    cpu_s: float = 0.0  # CPU time of the recorder thread (scaling, encoding, muxing), for benchmarks
    error: str | None = None  # why the recording stopped early (the visit goes on without it)


def _even(n: float) -> int:
    return max(2, int(round(n / 2)) * 2)


class VideoRecorder:
    """Writes the self-view frames (and the patient's played audio at `audio_rate`) to `path` on its own
    thread.

    `block`: wait for room in the queue instead of dropping (stepped and faster-than-real-time runs, where
    the caller can wait). `close()` flushes and finishes the file; it is safe to call twice."""

    def __init__(self, path: str | os.PathLike, *, audio_rate: int | None = None, block: bool = False,
                 fps: float = RECORD_FPS, side: int = RECORD_SIDE):
        self.path = Path(path)
        self.audio_rate = audio_rate  # the patient player's rate; None: video only
        self.block = block
        self._last_slot = -1  # frames are kept one per 1/fps slot of session time (see add_frame)
        self.side = side
        self.fps = fps
        self.stats = RecordingStats()
        self._queue: queue.Queue = queue.Queue(maxsize=QUEUE_FRAMES)
        self._audio_queue: queue.SimpleQueue = queue.SimpleQueue()
        private_dir(self.path.parent, root=self.path.parent.parent)
        self._file = open(self.path, "xb", buffering=0)  # never overwrite; unbuffered: see the module docstring
        private_file(self.path)
        self._thread = threading.Thread(target=self._run, name="video-recorder", daemon=True)
        self._closed = False
        self._thread.start()

    # -- producers (any thread) ---------------------------------------------------------------------
    def add_frame(self, frame) -> None:
        """Queue a camera frame (trainer.capture.base.Frame) if it is due at the recording's frame rate."""
        if self._closed or self.stats.error:
            return
        t = float(frame.t)
        # The first frame of each 1/fps slot: `fps` frames a second from a 15, 25 or 30 fps camera alike
        # (a fixed minimum gap would keep only every second frame of a 15 fps source).
        slot = int(t * self.fps + 1e-6)
        if slot <= self._last_slot:
            return
        self._last_slot = slot
        try:
            self._queue.put((t, frame.image), block=self.block, timeout=5 if self.block else None)
        except queue.Full:
            self.stats.dropped += 1

    def add_audio(self, t: float, samples, rate: int) -> None:
        """Queue the patient's audio as played: mono float samples whose first was heard at session time t."""
        if not self._closed and not self.stats.error:
            self._audio_queue.put((float(t), np.asarray(samples, dtype=np.float32).copy(), int(rate)))

    def close(self) -> RecordingStats:
        """Finish the file (flush the encoders, write the index) and return what was written."""
        if not self._closed:
            self._closed = True
            self._queue.put(None)
            self._thread.join(30)
        return self.stats

    # -- the recorder thread ------------------------------------------------------------------------
    def _run(self) -> None:
        from trainer.core.threads import lower_thread_priority

        # Below the analysis, but not by much: a starved encoder would drop frames (about 5 ms a frame).
        lower_thread_priority(5)
        import av

        out = video = audio = None
        last_pts = -1
        self._audio_pos = 0  # samples written to the audio track (pts)
        self._audio_buf = np.zeros(0, dtype=np.float32)
        try:
            out = av.open(self._file, "w", format="matroska",
                          options={"flush_packets": "1", "cluster_time_limit": "250"},
                          container_options={"max_interleave_delta": "1000000"})
            while True:
                item = self._queue.get()
                if item is None:
                    break
                t, image = item
                pts = max(int(round(t * 1000)), last_pts + 1)  # two frames in one millisecond: still in order
                last_pts = pts
                if video is None:
                    video = self._open_video(out, image)
                    audio = self._open_audio(out) if self.audio_rate else None
                small = _scaled(image, video.width, video.height)
                vf = av.VideoFrame.from_ndarray(small, format="bgr24")
                vf.pts, vf.time_base = pts, _MS
                for p in video.encode(vf):
                    out.mux(p)
                self.stats.frames += 1
                self.stats.last_t = t
                if audio is not None:
                    self._write_audio(out, audio, upto=t - _AUDIO_LAG_S)
            if video is not None:
                for p in video.encode():
                    out.mux(p)
            if audio is not None:
                self._write_audio(out, audio, upto=self.stats.last_t, final=True)
        except Exception as exc:  # a full disk, an encoder failure: the visit goes on, the replay says so
            self.stats.error = f"{type(exc).__name__}: {exc}"
        finally:
            try:
                if out is not None:
                    out.close()
            except Exception as exc:
                self.stats.error = self.stats.error or f"{type(exc).__name__}: {exc}"
            self._file.close()
            self.stats.cpu_s = time.thread_time()
            while True:  # unblock a producer waiting for room
                try:
                    self._queue.get_nowait()
                except queue.Empty:
                    break

    def _open_video(self, out, image):
        h, w = image.shape[:2]
        scale = min(1.0, self.side / max(w, h))
        stream = out.add_stream("mpeg4", rate=int(self.fps))
        stream.width, stream.height = _even(w * scale), _even(h * scale)
        stream.pix_fmt = "yuv420p"
        stream.codec_context.time_base = _MS
        stream.options = {"qscale": str(VIDEO_QSCALE), "g": str(int(self.fps))}
        return stream

    def _open_audio(self, out):
        """The audio track (added with the video's, before the first packet: Matroska needs every track
        in its header)."""
        stream = out.add_stream("aac", rate=self.audio_rate)
        stream.layout = "mono"
        stream.bit_rate = AUDIO_BITRATE
        stream.codec_context.time_base = Fraction(1, self.audio_rate)
        return stream

    def _write_audio(self, out, stream, upto: float, final: bool = False) -> None:
        import av

        blocks = []
        while True:
            try:
                blocks.append(self._audio_queue.get_nowait())
            except queue.Empty:
                break
        rate = self.audio_rate
        for t, samples, r in blocks:
            if r != rate:
                continue  # the player's rate does not change within a visit
            start = int(round(t * rate))
            end_buf = self._audio_pos + len(self._audio_buf)
            if start > end_buf:  # silence between lines
                self._audio_buf = np.concatenate([self._audio_buf, np.zeros(start - end_buf, np.float32)])
            elif start < end_buf:  # overlaps what is already written or queued: keep only the new part
                samples = samples[end_buf - start:]
            self._audio_buf = np.concatenate([self._audio_buf, samples])
        target = int(round(max(0.0, upto) * rate))
        end_buf = self._audio_pos + len(self._audio_buf)
        if target > end_buf:
            self._audio_buf = np.concatenate([self._audio_buf, np.zeros(target - end_buf, np.float32)])
        chunk = 1024
        while len(self._audio_buf) >= chunk or (final and len(self._audio_buf)):
            part, self._audio_buf = self._audio_buf[:chunk], self._audio_buf[chunk:]
            af = av.AudioFrame.from_ndarray(np.clip(part, -1, 1).reshape(1, -1), format="flt", layout="mono")
            af.sample_rate, af.pts, af.time_base = rate, self._audio_pos, Fraction(1, rate)
            self._audio_pos += len(part)
            for p in stream.encode(af):
                out.mux(p)
        if final:
            for p in stream.encode():
                out.mux(p)
        self.stats.audio_s = self._audio_pos / rate


def _scaled(image: np.ndarray, w: int, h: int) -> np.ndarray:
    import cv2

    if image.shape[1] == w and image.shape[0] == h:
        return np.ascontiguousarray(image)
    return cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA)


class RecordingReader:
    """Frames of a recording by session time, for the replay: `frame_at(t)` is the BGR picture on show at
    time t. Sequential calls (playing) decode forward; a jump back or of more than 2 s seeks to a keyframe
    before t and decodes forward from there."""

    def __init__(self, path: str | os.PathLike):
        import av

        self.path = Path(path)
        try:
            self._c = av.open(str(self.path))
            self._s = self._c.streams.video[0]
        except (av.error.FFmpegError, IndexError, OSError) as exc:
            raise StoreError(_("The recording {name} cannot be read ({error}).").format(name=self.path.name, error=exc),
                             hint=_("The replay works from the measures without it.")) from None
        self._s.thread_type = "AUTO"
        self.has_audio = bool(self._c.streams.audio)
        self._frames = None  # the decoder's iterator
        self._cur: tuple[float, np.ndarray] | None = None  # the frame on show
        self._next: tuple[float, np.ndarray] | None = None  # the one after it, already decoded

    def _decode_next(self) -> tuple[float, np.ndarray] | None:
        import av

        if self._frames is None:
            self._frames = self._c.decode(self._s)
        try:
            for f in self._frames:
                if f.pts is None:
                    continue
                return float(f.pts * f.time_base), f.to_ndarray(format="bgr24")
        except av.error.FFmpegError:  # the cut-off end of a recording a crash left: nothing more to show
            pass
        return None

    def frame_at(self, t: float, max_age: float = 1.0) -> np.ndarray | None:
        """The picture at session time t: the last frame at or before t, or None when there is none within
        `max_age` seconds (before the first frame, or while the camera gave no picture)."""
        cur = self._cur
        if cur is None or t < cur[0] or t - cur[0] > 2.0:
            self._seek(t)
        while True:
            if self._next is None:
                self._next = self._decode_next()
            if self._next is None or self._next[0] > t:
                break
            self._cur, self._next = self._next, None
        if self._cur is None or not 0.0 <= t - self._cur[0] <= max_age:
            return None
        return self._cur[1]

    def _seek(self, t: float) -> None:
        self._cur = self._next = None
        self._frames = None
        target = max(0, int((t - 1.5) / self._s.time_base)) if self._s.time_base else 0
        try:
            self._c.seek(target, stream=self._s, backward=True, any_frame=False)
        except Exception:  # a file cut short by a crash may have no index: decode from the start
            self._c.seek(0, stream=self._s)

    def close(self) -> None:
        self._c.close()


def delete_recording(store_path: str | os.PathLike, session_uuid: str | None) -> None:
    """Remove a session's recording, if it has one: overwritten with zeros first, then unlinked, as the
    store overwrites deleted sessions (SQLite's secure_delete). On SSDs and copy-on-write file systems the
    old blocks may still survive; full-disk encryption is the answer there."""
    if not session_uuid:
        return
    try:
        path = recording_path(store_path, session_uuid)
    except ValueError:
        return
    try:
        with open(path, "r+b") as f:
            size = os.fstat(f.fileno()).st_size
            zeros = bytes(1 << 20)
            for offset in range(0, size, len(zeros)):
                f.write(zeros[:size - offset])
            f.flush()
            os.fsync(f.fileno())
    except FileNotFoundError:
        return
    except OSError:
        pass  # still unlinked below
    path.unlink(missing_ok=True)
