"""The simulated clinician's source pair: a looping video as the camera and a virtual microphone.

Both implement the capture protocols (trainer.capture.base), so the VisitPipeline runs them exactly as
it runs a webcam and a microphone. Each is paced in one of two ways:

- real time (`gate=None`): against the session clock, like a file source (`Pacer`);
- stepped (`gate=StepGate`): nothing reaches the visit before the driver has released the session time
  it belongs to, and the driver waits until the pipeline has taken in everything released before it
  moves the virtual clock on. Nothing is dropped or reordered, whatever the CPU load, so the same inputs
  give the same session.

Stepped, the microphone hands over each block only once its time is released (what it hears depends on
the clinician's decisions up to then). The camera's frames depend on nothing but their index, so they
are decoded and analysed ahead: the pipeline's analysis thread holds each frame's result until the
driver releases its time (`begin_result` / `wait_result` / `result_delivered`; the pipeline analyses up
to a few frames ahead). The face analysis, the largest cost of a fast run, then stays busy on one core
while the driver and the microphone analysis use the other, and the visit gets the same results at the
same steps as when each frame itself was held back (the face analysis depends on the frames alone).
"""

from __future__ import annotations

import threading
from collections import deque
from pathlib import Path
from typing import Iterator

from trainer.capture.base import AudioBlock, Frame, Pacer
from trainer.core.errors import SourceError

RATE = 16000
BLOCK = 1024  # 64 ms at 16 kHz, the block size of the real audio sources (trainer.capture.audio.BLOCK_S)


class StepGate:
    """Session time released by the stepped driver, and where each gated source is waiting."""

    def __init__(self):
        self.cond = threading.Condition()
        self.until = 0.0
        self.stopped = False
        self.waiting: dict[str, float] = {}  # source name -> session time its next item needs

    def release(self, t: float) -> None:
        with self.cond:
            self.until = t
            self.cond.notify_all()

    def stop(self) -> None:
        with self.cond:
            self.stopped = True
            self.cond.notify_all()

    def wait(self, name: str, t: float, stop: threading.Event) -> bool:
        """Block until time t is released; False when the source or the gate was stopped."""
        with self.cond:
            self.waiting[name] = t
            self.cond.notify_all()
            while t > self.until + 1e-9 and not self.stopped and not stop.is_set():
                self.cond.wait(0.2)
            self.waiting.pop(name, None)
            return not (self.stopped or stop.is_set())

    def parked_beyond(self, name: str, t: float) -> bool:
        """True when `name` is waiting for an item after time t (everything up to t was handed over).
        Call with `cond` held."""
        w = self.waiting.get(name)
        return w is not None and w > t + 1e-9


class _GatedSource:
    """Stopping from another thread wakes a source waiting at the gate."""

    gate: StepGate | None = None
    _stop: threading.Event

    def stop(self) -> None:
        self._stop.set()
        if self.gate is not None:
            with self.gate.cond:
                self.gate.cond.notify_all()

    def close(self) -> None:
        self.stop()


#: A looped clip whose decoded frames fit in this much memory is decoded once and its frames reused.
CLIP_CACHE_BYTES = 512 * 1024 * 1024


class LoopingVideoSource(_GatedSource):
    """A video file played in a loop as the camera, analysed at `fps` frames per second of session time.

    Frame k is at session time k / fps and shows the clip's frame at that time modulo the clip's length,
    so a reduced analysis rate skips frames of the clip instead of slowing it down. The clip's frames are
    decoded during the first loop and reused after that when they fit in CLIP_CACHE_BYTES (a 7 s clip
    of 700x700 pixels at 30 fps is 290 MB); longer clips are decoded again on every loop. Reused frames
    are shared, read-only arrays. Stepped (`gate`), frames are read ahead without waiting and the
    pipeline holds their results (`begin_result` / `wait_result` / `result_delivered`, see the module
    docstring; None in real time)."""

    kind = "file"

    def __init__(self, path, clock=None, *, fps: float = 15.0, gate: StepGate | None = None):
        self.path = Path(path)
        self.name = f"{self.path.name} (looped)"
        self.description = f"{self.path} looped at {fps:g} fps (simulated camera)"
        self.clock = clock
        self.fps = float(fps)
        self.gate = gate
        self._stop = threading.Event()
        self._cap = None
        self.clip_fps = 0.0
        self.clip_frames = 0
        self.frame_bytes = 0
        self.frames_read = 0
        self.frames_decoded = 0  # clip frames decoded (not counting reused ones)
        self._pending: deque[float] = deque()  # stepped: frames being analysed or held, oldest first
        if gate is None:  # real time: the frames themselves are held to their time, results are not
            self.begin_result = self.wait_result = self.result_delivered = None

    def open(self) -> None:
        import cv2

        if not self.path.is_file():
            raise SourceError(f"Video file not found: {self.path}", hint="Check the path given to --camera.")
        cap = cv2.VideoCapture(str(self.path))
        ok, first = cap.read() if cap.isOpened() else (False, None)
        if not ok or first is None:
            cap.release()
            raise SourceError(f"Cannot read video file {self.path}.", hint="Use an MP4 (H.264), WebM or AVI file.")
        self.clip_fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0) or 30.0
        self.clip_frames = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        self.frame_bytes = int(first.nbytes)
        cap.release()
        if self.clip_frames < 2:
            raise SourceError(f"{self.path.name} is too short to loop.")

    def begin_result(self, t: float) -> None:
        """Stepped: the analysis of the frame at t has begun. The gate then shows the camera waiting at
        the oldest frame whose result is not delivered yet (everything before it was)."""
        gate = self.gate
        with gate.cond:
            self._pending.append(t)
            gate.waiting["camera"] = self._pending[0]
            gate.cond.notify_all()

    def wait_result(self, t: float) -> bool:
        """Stepped: block until the result of the frame at t may be delivered (its session time was
        released); False when the source or the gate was stopped."""
        gate = self.gate
        with gate.cond:
            while t > gate.until + 1e-9 and not gate.stopped and not self._stop.is_set():
                gate.cond.wait(0.2)
            return not (gate.stopped or self._stop.is_set())

    def result_delivered(self, t: float) -> None:
        """Stepped: the result of the frame at t went to the visit (results are delivered in order)."""
        gate = self.gate
        with gate.cond:
            if self._pending and abs(self._pending[0] - t) < 1e-9:
                self._pending.popleft()
            if self._pending:
                gate.waiting["camera"] = self._pending[0]
            else:
                gate.waiting.pop("camera", None)
            gate.cond.notify_all()

    def frames(self) -> Iterator[Frame]:
        import cv2

        if self.clip_frames == 0:
            self.open()
        pacer = Pacer(self.clock, True, self._stop)
        cap = None
        pos = -1  # index of the clip frame last decoded
        image = last = None
        keep = self.frame_bytes * self.clip_frames <= CLIP_CACHE_BYTES
        cache: dict[int, object] = {}
        k = 0
        try:
            while not self._stop.is_set():
                t = k / self.fps
                want = int(t * self.clip_fps) % self.clip_frames
                image = cache.get(want)
                if image is None:
                    if cap is None or want < pos:
                        if cap is not None:
                            cap.release()
                        cap = cv2.VideoCapture(str(self.path))  # back to the start: reopening always works
                        pos = -1
                    while pos < want:
                        grabbed = cap.grab()
                        if not grabbed:  # fewer frames than the header said: loop from here
                            self.clip_frames = max(2, pos + 1)
                            want = pos
                            break
                        pos += 1
                        if keep or pos == want:
                            ok, decoded = cap.retrieve()
                            if ok and decoded is not None:
                                self.frames_decoded += 1
                                last = decoded
                                if keep:
                                    decoded.flags.writeable = False  # shared by every loop from now on
                                    cache[pos] = decoded
                                if pos == want:
                                    image = decoded
                    if image is None:
                        image = cache.get(want, last)
                    if image is None:
                        raise SourceError(f"Cannot decode {self.path.name}.")
                # Stepped, the frame goes on at once (its result is held: wait_result); in real time it
                # waits for its time, decoded ahead so decoding overlaps the analysis of the frame before.
                if self.gate is None and not pacer.wait_until(t):
                    break
                self.frames_read += 1
                yield Frame(round(t, 6), image, k)
                k += 1
        finally:
            if cap is not None:
                cap.release()


class VirtualMicrophone(_GatedSource):
    """What the simulated room sounds like at the clinician's seat, in 64 ms blocks on the session clock.

    `render(i0, n)` gives the samples (trainer.sim.clinician.Room.render); `before_block(t)` runs before
    each block is rendered in real time (the clinician's decisions); in stepped mode the driver makes
    them between steps."""

    kind = "microphone"
    rate = RATE

    def __init__(self, render, clock=None, *, gate: StepGate | None = None, before_block=None):
        self.name = "virtual microphone (simulated clinician)"
        self.description = self.name
        self.render = render
        self.clock = clock
        self.gate = gate
        self.before_block = before_block
        self._stop = threading.Event()
        self.blocks_made = 0

    def open(self) -> None:
        pass

    def blocks(self) -> Iterator[AudioBlock]:
        pacer = Pacer(self.clock, True, self._stop)
        i = 0
        while not self._stop.is_set():
            end = (i + 1) * BLOCK / RATE
            ok = self.gate.wait("mic", end, self._stop) if self.gate is not None else pacer.wait_until(end)
            if not ok:
                break
            if self.before_block is not None:
                self.before_block(end)
            self.blocks_made += 1
            yield AudioBlock(round(i * BLOCK / RATE, 6), self.render(i * BLOCK, BLOCK), RATE)
            i += 1

