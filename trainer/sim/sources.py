"""The simulated clinician's source pair: a looping video as the camera and a virtual microphone.

Both implement the capture protocols (trainer.capture.base), so the VisitPipeline runs them exactly as
it runs a webcam and a microphone. Each is paced in one of two ways:

- real time (`gate=None`): against the session clock, like a file source (`Pacer`);
- stepped (`gate=StepGate`): an item is handed over only once the driver has released the session time
  it needs, and the driver waits until the pipeline has consumed everything released before it moves
  the virtual clock on. Nothing is dropped or reordered, whatever the CPU load, so the same inputs
  give the same session.
"""

from __future__ import annotations

import threading
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


class LoopingVideoSource(_GatedSource):
    """A video file played in a loop as the camera, analysed at `fps` frames per second of session time.

    Frame k is at session time k / fps and shows the clip's frame at that time modulo the clip's length,
    so a reduced analysis rate skips frames of the clip instead of slowing it down."""

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
        self.frames_read = 0

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
        cap.release()
        if self.clip_frames < 2:
            raise SourceError(f"{self.path.name} is too short to loop.")

    def frames(self) -> Iterator[Frame]:
        import cv2

        if self.clip_frames == 0:
            self.open()
        pacer = Pacer(self.clock, True, self._stop)
        cap = None
        pos = -1  # index of the clip frame last decoded
        image = None
        k = 0
        try:
            while not self._stop.is_set():
                t = k / self.fps
                # Decode first, then wait for the frame's time: which clip frame it shows depends on k alone,
                # so decoding the next frame overlaps the analysis of this one (in a stepped run the driver
                # waits for the analysis, which the decoding then no longer adds to), and nothing changes in
                # what is delivered or when.
                want = int(t * self.clip_fps) % self.clip_frames
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
                    if pos == want:
                        ok, image = cap.retrieve()
                if image is None:
                    raise SourceError(f"Cannot decode {self.path.name}.")
                ok = self.gate.wait("camera", t, self._stop) if self.gate is not None else pacer.wait_until(t)
                if not ok:
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

