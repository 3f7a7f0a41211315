"""Face landmarks and head pose from the MediaPipe Face Landmarker (VIDEO mode, source timestamps).

`FaceAnalyzer.analyze(frame)` returns a `FaceObservation`: whether a face was found, the chosen face's
landmarks (when several faces are present, the largest, most central one), blendshape scores and head
pose in degrees from the facial transformation matrix.

Head-pose convention (as the clinician sees themself in a mirrored self-view):
  yaw   > 0: head turned to the clinician's left  (towards the right edge of the raw camera image)
  pitch > 0: head tilted up (chin up)
  roll  > 0: head tilted towards the clinician's left shoulder
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

import numpy as np

from trainer.analysis.models import model_path
from trainer.capture.base import Frame
from trainer.core.errors import ModelError
from trainer.core.events import FrameSample

MODEL_NAME = "face_landmarker.task"


@dataclass(slots=True)
class FaceObservation:
    t: float
    face: bool
    faces: int = 0
    landmarks: np.ndarray | None = None  # (478, 3) normalised x, y (0..1 of width/height), z
    blendshapes: dict[str, float] = field(default_factory=dict)
    yaw: float | None = None
    pitch: float | None = None
    roll: float | None = None
    bbox: tuple[float, float, float, float] | None = None  # normalised x0, y0, x1, y1


def euler_from_matrix(m: np.ndarray) -> tuple[float, float, float]:
    """(yaw, pitch, roll) in degrees from MediaPipe's 4x4 facial transformation matrix.

    The matrix maps the canonical face (x to the face's left... as seen by the camera: +x image right,
    +y up, +z towards the camera) into camera space; we decompose its rotation as R = Ry(yaw) Rx(pitch)
    Rz(roll).
    """
    r = np.asarray(m, dtype=np.float64)[:3, :3]
    # Remove any scale the matrix carries.
    r = r / np.linalg.norm(r, axis=0, keepdims=True)
    pitch = math.degrees(math.asin(max(-1.0, min(1.0, -r[1, 2]))))
    yaw = math.degrees(math.atan2(r[0, 2], r[2, 2]))
    roll = math.degrees(math.atan2(r[1, 0], r[1, 1]))
    return yaw, pitch, roll


class FaceAnalyzer:
    """One MediaPipe Face Landmarker in VIDEO mode. Not thread-safe: use it from one worker thread."""

    def __init__(self, max_faces: int = 3):
        self._last_ts_ms = -1
        # MediaPipe's native logging (glog/TFLite) floods stderr with INFO lines; keep warnings and up.
        os.environ.setdefault("GLOG_minloglevel", "2")
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        try:
            import mediapipe as mp
            from mediapipe.tasks.python import BaseOptions, vision
        except ImportError as exc:  # pragma: no cover - the install provides it
            raise ModelError(f"MediaPipe is not installed: {exc}") from None
        self._mp = mp
        options = vision.FaceLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(model_path(MODEL_NAME))),
            running_mode=vision.RunningMode.VIDEO,
            num_faces=max_faces,
            output_face_blendshapes=True,
            output_facial_transformation_matrixes=True,
        )
        try:
            self._landmarker = vision.FaceLandmarker.create_from_options(options)
        except (RuntimeError, ValueError) as exc:
            raise ModelError(f"The face model could not be loaded: {exc}") from None

    def analyze(self, frame: Frame) -> FaceObservation:
        """Landmarks, blendshapes and head pose for one BGR frame."""
        import cv2

        rgb = cv2.cvtColor(frame.image, cv2.COLOR_BGR2RGB)
        image = self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=rgb)
        # VIDEO mode needs strictly increasing timestamps (ms); a camera can deliver two frames in one ms.
        ts = max(int(round(frame.t * 1000)), self._last_ts_ms + 1)
        self._last_ts_ms = ts
        result = self._landmarker.detect_for_video(image, ts)
        n = len(result.face_landmarks)
        if n == 0:
            return FaceObservation(frame.t, False, 0)
        idx = self._pick_face(result.face_landmarks)
        pts = np.array([(p.x, p.y, p.z) for p in result.face_landmarks[idx]], dtype=np.float32)
        shapes = {c.category_name: float(c.score) for c in result.face_blendshapes[idx]} \
            if result.face_blendshapes else {}
        yaw = pitch = roll = None
        if result.facial_transformation_matrixes:
            yaw, pitch, roll = euler_from_matrix(result.facial_transformation_matrixes[idx])
        x0, y0 = pts[:, 0].min(), pts[:, 1].min()
        x1, y1 = pts[:, 0].max(), pts[:, 1].max()
        return FaceObservation(frame.t, True, n, pts, shapes, yaw, pitch, roll,
                               (float(x0), float(y0), float(x1), float(y1)))

    @staticmethod
    def _pick_face(faces) -> int:
        """The largest face, discounted by its distance from the image centre."""
        best, best_score = 0, -1.0
        for i, lms in enumerate(faces):
            xs = [p.x for p in lms]
            ys = [p.y for p in lms]
            area = (max(xs) - min(xs)) * (max(ys) - min(ys))
            cx, cy = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2
            off = math.hypot(cx - 0.5, cy - 0.5)
            score = area * (1.0 - min(off, 0.7))
            if score > best_score:
                best, best_score = i, score
        return best

    def close(self) -> None:
        if self._landmarker is not None:
            self._landmarker.close()
            self._landmarker = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class FaceProcessor:
    """The per-frame path shared by the live pipeline and offline analysis: frame -> landmarks -> sample.

    `process(frame)` returns (FrameSample, FaceObservation).
    """

    def __init__(self, analyzer: FaceAnalyzer | None = None):
        self.analyzer = analyzer or FaceAnalyzer()

    def process(self, frame: Frame) -> tuple[FrameSample, FaceObservation]:
        obs = self.analyzer.analyze(frame)
        return sample_from_observation(obs), obs

    def close(self) -> None:
        self.analyzer.close()


def create_face_processor() -> FaceProcessor:
    """The face processor the live pipeline uses."""
    return FaceProcessor()


def sample_from_observation(obs) -> FrameSample:
    """The stored per-frame sample for one face observation."""
    if not obs.face:
        return FrameSample(obs.t, False, "absent")
    return FrameSample(obs.t, True, "unknown", _r(obs.yaw), _r(obs.pitch), _r(obs.roll),
                       smile=_r(_smile(obs.blendshapes), 3))


def _smile(shapes: dict) -> float | None:
    if not shapes:
        return None
    return (shapes.get("mouthSmileLeft", 0.0) + shapes.get("mouthSmileRight", 0.0)) / 2.0


def _r(v, nd: int = 2):
    return None if v is None else round(float(v), nd)


