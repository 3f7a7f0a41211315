"""Frame sources: a webcam by index, or a video file standing in for one.

Timestamps: a camera frame is stamped with the session clock when OpenCV hands it over; a file frame
with its own presentation time (CAP_PROP_POS_MSEC), so a file replays on the same timeline it was
recorded on. A paced file source waits for the session clock to reach each frame's time.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path
from typing import Iterator

from trainer.capture.base import Frame, Pacer
from trainer.core.i18n import _
from trainer.core.errors import DeviceUnavailable, SourceError


def _cv2():
    import cv2  # heavy: imported on first use, not at `import trainer`

    return cv2


class _OpenCvSource:
    """What both OpenCV sources share: stopping from another thread and releasing the capture."""

    _cap = None

    def stop(self) -> None:
        self._stop.set()

    def close(self) -> None:
        self.stop()
        if self._cap is not None:
            self._cap.release()
            self._cap = None


class VideoFileSource(_OpenCvSource):
    """Frames from a video file. realtime=True paces them to the session clock (live stand-in)."""

    kind = "file"

    def __init__(self, path: str | os.PathLike, clock=None, realtime: bool = True, speed: float = 1.0):
        self.path = Path(path)
        self.name = self.path.name
        self.clock = clock
        self.realtime = realtime
        self.speed = speed
        self._cap = None
        self._pending = None
        self._stop = threading.Event()
        self.fps = 0.0
        self.frame_count = 0
        self.size = (0, 0)
        self.frames_read = 0
        self.error: str | None = None  # set when the file ends early because it is damaged

    def open(self) -> None:
        if not self.path.is_file():
            raise SourceError(_("Video file not found: {path}").format(path=self.path),
                              hint=_("Check the path given to --camera."))
        cv2 = _cv2()
        cap = cv2.VideoCapture(str(self.path))
        if not cap.isOpened():
            cap.release()
            raise SourceError(_("Cannot read video file {path}: it is not a video OpenCV can decode.").format(
                path=self.path), hint=_("Use an MP4 (H.264), WebM or AVI file."))
        ok, first = cap.read()
        if not ok or first is None:
            cap.release()
            raise SourceError(_("Cannot read video file {path}: no frame could be decoded.").format(path=self.path),
                              hint=_("The file may be damaged or empty."))
        # Keep the probe frame instead of seeking back: seeking fails on index-less streams (MPEG-TS,
        # recordings cut off by a crash).
        self._pending = (first, cap.get(cv2.CAP_PROP_POS_MSEC))
        self.fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0) or 30.0
        self.frame_count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        self.size = (first.shape[1], first.shape[0])
        self._cap = cap

    @property
    def duration(self) -> float:
        return self.frame_count / self.fps if self.fps else 0.0

    def frames(self) -> Iterator[Frame]:
        if self._cap is None:
            self.open()
        cv2 = _cv2()
        pacer = Pacer(self.clock, self.realtime, self._stop, self.speed)
        index = 0
        while not self._stop.is_set():
            if self._pending is not None:
                (image, pos_ms), self._pending = self._pending, None
                ok = True
            else:
                ok, image = self._cap.read()
                pos_ms = self._cap.get(cv2.CAP_PROP_POS_MSEC) if ok else 0.0
            if not ok or image is None:
                if self.frame_count and index < self.frame_count - 2:
                    self.error = (f"{self.name} ended after {index} of {self.frame_count} frames; the file "
                                  "looks truncated or damaged")
                break
            # Some containers report 0 for every frame; fall back to the nominal rate then.
            t = pos_ms / 1000.0 if (pos_ms > 0 or index == 0) else index / self.fps
            if not pacer.wait_until(t):
                break
            self.frames_read += 1
            yield Frame(t, image, index)
            index += 1


class CameraSource(_OpenCvSource):
    """Frames from a webcam (OpenCV index). Stamped with the session clock at capture."""

    kind = "camera"

    def __init__(self, index: int = 0, clock=None, width: int = 640, height: int = 480):
        self.index = index
        self.name = f"camera {index}"
        self.clock = clock
        self.width = width
        self.height = height
        self._cap = None
        self._stop = threading.Event()
        self.frames_read = 0
        self.error: str | None = None

    def open(self) -> None:
        cv2 = _cv2()
        cap = cv2.VideoCapture(self.index)
        if not cap.isOpened():
            cap.release()
            raise DeviceUnavailable(
                _("No camera found at index {n}.").format(n=self.index),
                hint=_("Connect a webcam, close other apps that use it, or pass --camera FILE to use a video."))
        cap.set(cv2.CAP_PROP_FRAME_WIDTH, self.width)
        cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self.height)
        self._cap = cap

    def frames(self) -> Iterator[Frame]:
        if self._cap is None:
            self.open()
        index = 0
        failures = 0
        while not self._stop.is_set():
            ok, image = self._cap.read()
            t = self.clock.now() if self.clock is not None else 0.0
            if not ok or image is None:
                failures += 1
                if failures > 30:  # about a second of failed reads: the camera went away
                    self.error = f"{self.name} stopped delivering frames (unplugged or taken by another app)"
                    break
                continue
            failures = 0
            self.frames_read += 1
            yield Frame(t, image, index)
            index += 1


def open_frame_source(spec: str | int | None, clock=None, realtime: bool = True):
    """A camera index ("0", 0) or a video file path -> an unopened frame source; None -> None."""
    if spec is None or spec == "":
        return None
    if isinstance(spec, int) or (isinstance(spec, str) and spec.isdigit()):
        return CameraSource(int(spec), clock=clock)
    return VideoFileSource(spec, clock=clock, realtime=realtime)


def list_cameras(max_index: int = 4) -> list[dict]:
    """Cameras that open and deliver a frame, probing indexes 0..max_index-1."""
    found = []
    if sys.platform.startswith("linux") and not any(Path("/dev").glob("video*")):
        return found  # Linux without V4L devices: nothing to probe (and no noisy OpenCV warnings)
    cv2 = _cv2()
    for i in range(max_index):
        cap = cv2.VideoCapture(i)
        try:
            if cap.isOpened():
                ok, image = cap.read()
                if ok and image is not None:
                    found.append({"index": i, "width": image.shape[1], "height": image.shape[0]})
        finally:
            cap.release()
    return found
