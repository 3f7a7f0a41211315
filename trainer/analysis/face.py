"""Face analysis per frame: MediaPipe Face Landmarker (VIDEO mode, source timestamps) and everything
derived from it.

`FaceAnalyzer.analyze(frame)` returns a `FaceObservation`: whether a face was found, the chosen face's
landmarks (when several faces are present, the largest, most central one), blendshape scores and head
pose in degrees from the facial transformation matrix.

`FaceProcessor.process(frame)` (made by `create_face_processor`) is the one per-frame path that live
visits and `trainer analyze` share: it adds gaze (trainer.analysis.gaze), quality flags
(trainer.analysis.quality), expressivity and nods (trainer.analysis.expressivity), smiles
(trainer.core.face_metrics.SmileDetector) and returns a `FrameSample` with the observation.

Head-pose convention (as the clinician sees themself in a mirrored self-view):
  yaw   > 0: head turned to the clinician's left  (towards the right edge of the raw camera image)
  pitch > 0: head tilted up (chin up)
  roll  > 0: head tilted towards the clinician's left shoulder
"""

from __future__ import annotations

import atexit
import contextlib
import math
import os
import threading
from dataclasses import dataclass, field

import numpy as np

from trainer.analysis.expressivity import ExpressivityTracker, Nod, NodDetector
from trainer.analysis.gaze import (BLINK, DEFAULT_GEOMETRY, MOVING, SACCADE_DEG_S, EyeTracker, GazeGeometry, GazeMeasurement,
                                   GazeSmoother, classify_gaze, eye_features, gaze_angles)
from trainer.analysis.models import model_path
from trainer.analysis.quality import QualityMonitor, QualityThresholds
from trainer.capture.base import Frame
from trainer.core.errors import ModelError
from trainer.core.events import FrameSample
from trainer.core.face_metrics import Smile, SmileDetector

MODEL_NAME = "face_landmarker.task"


@dataclass(slots=True)
class FaceObservation:
    """What the landmarker saw in one frame, for the chosen face (plus the derived per-frame features).

    `landmarks` are normalised (x, y in 0..1 of width/height, z on the scale of x); `bbox` is the
    normalised (x0, y0, x1, y1) box of the landmarks; angles are in degrees (module docstring).
    """

    t: float
    face: bool
    faces: int = 0
    landmarks: np.ndarray | None = None  # (478, 3)
    blendshapes: dict[str, float] = field(default_factory=dict)
    yaw: float | None = None
    pitch: float | None = None
    roll: float | None = None
    bbox: tuple[float, float, float, float] | None = None
    matrix: np.ndarray | None = None  # 4x4 facial transformation matrix (canonical face -> camera, cm)
    image_size: tuple[int, int] = (0, 0)  # width, height in pixels
    other_boxes: tuple[tuple[float, float, float, float], ...] = ()  # boxes of faces not chosen
    # Filled in by FaceProcessor (None when the analyzer is used on its own):
    eyes: object | None = None  # trainer.analysis.gaze.EyeFeatures
    gaze: object | None = None  # trainer.analysis.gaze.GazeMeasurement
    raw_gaze: str | None = None  # per-frame class before smoothing (or "blink")
    quality: tuple[str, ...] = ()  # quality flags in force


def euler_from_matrix(m: np.ndarray) -> tuple[float, float, float]:
    """(yaw, pitch, roll) in degrees from MediaPipe's 4x4 facial transformation matrix.

    The matrix maps the canonical face into camera space (OpenGL axes: +x image right, +y image up,
    +z from the face towards the camera). Its rotation is decomposed as R = Ry(a) Rx(b) Rz(c); the signs
    are then chosen for the module's convention, which was checked against landmark geometry on the
    fixture clips (tests/test_face_pose.py): with these axes a positive Rx(b) turns the face's forward
    axis downwards and a positive Rz(c) lowers the face's left side, so pitch = -b and roll = -c.
    """
    r = np.asarray(m, dtype=np.float64)[:3, :3]
    # Remove any scale the matrix carries.
    r = r / np.linalg.norm(r, axis=0, keepdims=True)
    b = math.degrees(math.asin(max(-1.0, min(1.0, -r[1, 2]))))
    yaw = math.degrees(math.atan2(r[0, 2], r[2, 2]))
    c = math.degrees(math.atan2(r[1, 0], r[1, 1]))
    return yaw, -b, -c


@contextlib.contextmanager
def _native_stderr_silenced():
    """Hide what MediaPipe's native code prints while it builds its graph (a dozen INFO/WARNING lines per
    landmarker that GLOG_minloglevel does not stop and users cannot act on). Python errors still raise."""
    try:
        saved = os.dup(2)
    except OSError:  # no usable stderr (e.g. a windowed app on Windows)
        yield
        return
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
            try:
                yield
            finally:
                os.dup2(saved, 2)
    finally:
        os.close(saved)


class FaceAnalyzer:
    """One MediaPipe Face Landmarker in VIDEO mode. Not thread-safe: use it from one worker thread."""

    def __init__(self, max_faces: int = 3):
        self._last_ts_ms = -1
        self._landmarker = None
        # MediaPipe's native logging (glog/TFLite) floods stderr with INFO lines; keep warnings and up.
        os.environ.setdefault("GLOG_minloglevel", "2")
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        # MediaPipe's usage logger must meet the blocked proxy, and the matplotlib it imports must find
        # its (private) cache folder in ours: see trainer/privacy.py.
        from trainer.privacy import apply_offline_switches, cache_root, private_dir

        apply_offline_switches()
        try:
            private_dir(os.environ["MPLCONFIGDIR"], root=cache_root())
        except OSError:
            pass  # matplotlib then falls back to a temporary folder of its own
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
            with _native_stderr_silenced():
                self._landmarker = vision.FaceLandmarker.create_from_options(options)
        except (RuntimeError, ValueError) as exc:
            raise ModelError(f"The face model could not be loaded: {exc}") from None

    def analyze(self, frame: Frame) -> FaceObservation:
        """Landmarks, blendshapes and head pose for one BGR frame (timestamps from `frame.t`)."""
        import cv2

        rgb = cv2.cvtColor(frame.image, cv2.COLOR_BGR2RGB)
        image = self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=rgb)
        # VIDEO mode needs strictly increasing timestamps (ms); a camera can deliver two frames in one ms.
        ts = max(int(round(frame.t * 1000)), self._last_ts_ms + 1)
        self._last_ts_ms = ts
        result = self._landmarker.detect_for_video(image, ts)
        size = (int(frame.image.shape[1]), int(frame.image.shape[0]))
        n = len(result.face_landmarks)
        if n == 0:
            return FaceObservation(frame.t, False, 0, image_size=size)
        all_pts = [np.array([(p.x, p.y, p.z) for p in lms], dtype=np.float32) for lms in result.face_landmarks]
        boxes = [_box(p) for p in all_pts]
        idx = pick_face(boxes)
        pts = all_pts[idx]
        shapes = {c.category_name: float(c.score) for c in result.face_blendshapes[idx]} \
            if result.face_blendshapes else {}
        yaw = pitch = roll = None
        matrix = None
        if result.facial_transformation_matrixes:
            matrix = np.asarray(result.facial_transformation_matrixes[idx], dtype=np.float64)
            yaw, pitch, roll = euler_from_matrix(matrix)
        others = tuple(b for i, b in enumerate(boxes) if i != idx)
        return FaceObservation(frame.t, True, n, pts, shapes, yaw, pitch, roll, boxes[idx], matrix, size,
                               others)

    def close(self) -> None:
        """Release the landmarker (idempotent)."""
        if self._landmarker is not None:
            self._landmarker.close()
            self._landmarker = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _box(pts: np.ndarray) -> tuple[float, float, float, float]:
    return (float(pts[:, 0].min()), float(pts[:, 1].min()), float(pts[:, 0].max()), float(pts[:, 1].max()))


def pick_face(boxes) -> int:
    """Index of the face to analyse: the largest, discounted by its distance from the image centre
    (a colleague passing behind the clinician is smaller and off to the side)."""
    best, best_score = 0, -1.0
    for i, (x0, y0, x1, y1) in enumerate(boxes):
        area = (x1 - x0) * (y1 - y0)
        off = math.hypot((x0 + x1) / 2 - 0.5, (y0 + y1) / 2 - 0.5)
        score = area * (1.0 - min(off, 0.7))
        if score > best_score:
            best, best_score = i, score
    return best


class FaceProcessor:
    """The per-frame path shared by the live pipeline and offline analysis:
    frame -> landmarks -> eye features and gaze angles -> gaze state, quality flags, expressivity, smile,
    nod -> `FrameSample`.

    `process(frame)` returns (FrameSample, FaceObservation). Frames must come in time order (the
    smoothing, baselines and nod detection keep state). Events found along the way are kept for the
    caller: `nods` (list of `Nod`) and `smiles` (list of `Smile`, each with its end once it ended).
    """

    def __init__(self, analyzer: FaceAnalyzer | None = None, calibration=None,
                 thresholds: QualityThresholds | None = None):
        self.analyzer = analyzer or FaceAnalyzer()
        self.geometry = geometry_of(calibration)
        self.calibrated = self.geometry.calibrated
        self.smoother = GazeSmoother()
        self.quality = QualityMonitor(thresholds)
        self.expressivity = ExpressivityTracker()
        self.smile_detector = SmileDetector()
        self.nod_detector = NodDetector()
        self.rigid_pitch = RigidPitch()
        self.nods: list[Nod] = []
        self.eye_tracker = EyeTracker()
        self._lowered_since: float | None = None
        self._last_gaze: tuple[float, float, float] | None = None  # t, yaw, pitch of the last measured gaze

    def process(self, frame: Frame) -> tuple[FrameSample, FaceObservation]:
        """Analyse one frame (see the class docstring)."""
        obs = self.analyzer.analyze(frame)
        t = frame.t
        eyes = None
        if obs.face and obs.landmarks is not None and obs.yaw is not None:
            obs.eyes = eye_features(obs.landmarks, obs.image_size, obs.blendshapes)
            eyes = self.eye_tracker.combine(obs.eyes)
            if eyes is not None:
                obs.gaze = gaze_angles(eyes, obs.yaw, obs.pitch, obs.matrix)
        flags, gaze_ok = self.quality.update(t, frame.image, obs)
        obs.quality = flags
        lids = self._lids(t, obs.eyes) if obs.eyes is not None else "open"
        if lids != "lowered":
            self._lowered_since = None
        elif self._lowered_since is None:
            self._lowered_since = t
        if not obs.face:
            raw = "absent"
        elif obs.eyes is None or not gaze_ok:
            raw = "unknown"
        elif lids == "shut" or (lids == "lowered" and t - self._lowered_since < LOWERED_AFTER_S):
            # Shut, or closing/opening in a blink: the iris cannot be judged (a blink holds the state).
            raw = self._closed_eyes(obs.yaw, obs.pitch, obs.matrix)
        elif obs.gaze is None:
            raw = "unknown"  # the eyes disagree and neither is clearly better seen
        else:
            # Open, or lids lowered for longer than a blink with the iris still visible: a look down
            # (the lid-corrected vertical offset from EyeTracker.combine measures how far).
            raw = classify_gaze(obs.gaze, self.geometry, self.smoother.state)
            if self._saccade(t, obs.gaze):
                raw = MOVING
        if raw not in ("camera", "screen", "away", MOVING):
            self._last_gaze = None
        obs.raw_gaze = raw
        gaze = self.smoother.update(t, raw)
        expressivity = smile = smile_above = None
        nod = False
        if obs.face:
            expressivity, smile = self.expressivity.update(t, obs.blendshapes)
            # Rounded as stored, so core.face_metrics.smile_onsets over the stored frames finds these smiles.
            smile_above = _r(self.expressivity.smile_above_baseline(smile), 3)
            self.smile_detector.update(t, smile_above)
            pitch = self.rigid_pitch.update(obs.landmarks, obs.image_size, obs.pitch)
            found = self.nod_detector.update(t, pitch, obs.yaw)
            if found is not None:
                self.nods.append(found)
                nod = True
        else:
            self.smile_detector.update(t, None)
            self.nod_detector.update(t, None)
            self.rigid_pitch.reset()
        sample = FrameSample(t, obs.face, gaze, _r(obs.yaw), _r(obs.pitch), _r(obs.roll),
                             _r(expressivity, 3), _r(smile, 3), nod, flags, smile_above=smile_above)
        return sample, obs

    @property
    def smiles(self) -> list[Smile]:
        """Smiles found so far (the last has end=None while it lasts)."""
        return self.smile_detector.events

    def _saccade(self, t: float, g: GazeMeasurement) -> bool:
        """True when the gaze moved faster than SACCADE_DEG_S since the previous measured frame."""
        last = self._last_gaze
        self._last_gaze = (t, g.yaw, g.pitch)
        if last is None or t <= last[0] or t - last[0] > 0.2:
            return False
        return math.hypot(g.yaw - last[1], g.pitch - last[2]) / (t - last[0]) > SACCADE_DEG_S

    def _lids(self, t: float, eyes) -> str:
        """'open', 'lowered' (narrowed, iris still visible: a look down, or a blink under way) or 'shut'.

        Shut: the blink blendshape says so and the lids are under SHUT_AP_RATIO of this person's open
        opening, or the lids are under that share whatever the blendshape says. Lowered: the blendshape
        or a lid opening under CLOSED_AP_RATIO of the open one (the blendshape misses some half-blinks).
        Open frames teach the person's baselines (EyeTracker)."""
        if eyes.blink < OPEN_SCORE:
            self.eye_tracker.learn(t, eyes)
        open_ap = self.eye_tracker.open_ap
        ratio = 1.0 if not open_ap else eyes.aperture / open_ap
        if ratio < SHUT_AP_RATIO or (eyes.blink >= BLINK_SCORE and ratio < CLOSED_AP_RATIO):
            return "shut"
        if eyes.blink >= BLINK_SCORE or ratio < CLOSED_AP_RATIO:
            return "lowered"
        return "open"

    def _closed_eyes(self, yaw: float, pitch: float, matrix) -> str:
        """Class for a frame with the eyes shut: a blink keeps the current state, unless the head alone
        points clearly outside the camera and screen (lids drop when looking down at the desk)."""
        m = gaze_angles(_STRAIGHT, yaw, pitch, matrix)
        head = GazeMeasurement(m.head_yaw, m.head_pitch, m.head_yaw, m.head_pitch, m.cam_yaw, m.cam_pitch)
        if classify_gaze(head, self.geometry) == "away":
            return "away"
        return BLINK

    def close(self) -> None:
        """Release the landmarker."""
        self.analyzer.close()


#: Mean eyeBlink score from which the eyes count as closed (the iris landmarks are then guesses), and
#: below which they count as open for learning the person's open-eye lid opening.
BLINK_SCORE = 0.45
OPEN_SCORE = 0.3
#: Lid opening below this share of the person's open-eye opening counts as narrowed ("lowered"), below
#: SHUT_AP_RATIO as shut (no iris to measure: a blink at its deepest is 0.05-0.2 of the open opening on the
#: fixture clips).
CLOSED_AP_RATIO = 0.45
SHUT_AP_RATIO = 0.25
#: Lids lowered (not shut) for longer than a blink's closing and opening are a look down, measured from the
#: iris and the lid (EyeTracker); shorter, they are treated as part of a blink.
LOWERED_AFTER_S = 0.3
_STRAIGHT = None  # set below (eye features of an eye looking straight ahead in the head)


#: Landmarks that jaw, lips, cheeks and lids leave in place (forehead, nose bridge and tip, eye corners,
#: temples): the rigid part of the head that nods are measured on. MediaPipe's transformation matrix is
#: fitted to the whole mesh, so an opening jaw or closing lids tilt it by a few degrees (on the talking
#: fixture clips its pitch swung 1-2 degrees more than this set's with the head still).
RIGID_POINTS = (10, 151, 9, 8, 168, 6, 197, 195, 5, 4, 1, 33, 133, 362, 263, 234, 454, 127, 356, 109, 338,
                67, 297, 21, 251)


class RigidPitch:
    """Whole-head pitch from the rigid landmarks only (RIGID_POINTS), for nod detection.

    The first face frame after a reset is the reference: its rigid points (in pixels, z on the x scale,
    axes x right, y up, z towards the camera) and its matrix pitch. Each later frame's pitch is the
    reference pitch plus the pitch of the rotation that best maps the reference points onto the current
    ones (Kabsch least squares, centroids removed), so what the jaw, lips and lids do does not enter.
    """

    def __init__(self):
        self.reset()

    def reset(self) -> None:
        """Forget the reference (after the face was lost: the next face may be someone else or moved)."""
        self._ref: np.ndarray | None = None
        self._ref_pitch = 0.0

    def update(self, landmarks: np.ndarray | None, size: tuple[int, int], pitch: float | None) -> float | None:
        """Rigid pitch in degrees (+ = chin up) of one frame; None without landmarks or pose."""
        if landmarks is None or pitch is None:
            return pitch
        w, h = size
        pts = landmarks[RIGID_POINTS_IDX].astype(np.float64)
        pts = np.stack((pts[:, 0] * w, -pts[:, 1] * h, -pts[:, 2] * w), axis=1)
        pts -= pts.mean(axis=0)
        if self._ref is None:
            self._ref, self._ref_pitch = pts, float(pitch)
            return float(pitch)
        u, _s, vt = np.linalg.svd(self._ref.T @ pts)
        d = 1.0 if np.linalg.det(vt.T @ u.T) >= 0 else -1.0
        r = vt.T @ np.diag((1.0, 1.0, d)) @ u.T
        # Rotation about the x axis (y up, z towards the camera): + turns the face's front downwards.
        return self._ref_pitch - math.degrees(math.atan2(r[2, 1], r[2, 2]))


RIGID_POINTS_IDX = np.array(RIGID_POINTS)


def _straight_eyes():
    from trainer.analysis.gaze import IRIS_REST_V, EyeFeatures

    return EyeFeatures(0.0, IRIS_REST_V, 0.3, 20.0, 0.0)


_STRAIGHT = _straight_eyes()


def geometry_of(calibration) -> GazeGeometry:
    """The gaze geometry for a `Calibration`, a `GazeGeometry`, or None (the default geometry)."""
    if calibration is None:
        return DEFAULT_GEOMETRY
    if isinstance(calibration, GazeGeometry):
        return calibration
    return calibration.geometry


def create_face_processor(calibration=None) -> FaceProcessor:
    """The face processor the live pipeline and offline analysis use. `calibration` is a
    `trainer.analysis.calibration.Calibration` (or None for the default geometry, camera above screen).
    Uses the spare landmarker `prewarm()` built, if there is one."""
    return FaceProcessor(analyzer=_take_spare(), calibration=calibration)


# -- a spare landmarker, built ahead of time ---------------------------------------------------------
# Building MediaPipe's graph takes seconds (about 2 s on an idle 2-core machine, 5-10 s on a busy one) and
# was most of the wait between Start and the first patient line. The app builds one unused landmarker in
# the background while a visit is chosen; the next visit (or pre-visit check) takes it and the app builds
# the next. An unused landmarker has seen no timestamps, so VIDEO mode starts cleanly at t = 0.

_spare_cond = threading.Condition()
_spare: list = []  # at most one FaceAnalyzer
_building = [False]


def prewarm() -> None:
    """Build a spare landmarker (in the calling thread, normally a background one) unless one exists or is
    being built. Errors are left for the visit to report."""
    with _spare_cond:
        if _spare or _building[0]:
            return
        _building[0] = True
    analyzer = None
    try:
        analyzer = FaceAnalyzer()
    except ModelError:
        pass
    finally:
        with _spare_cond:
            if analyzer is not None:
                _spare.append(analyzer)
            _building[0] = False
            _spare_cond.notify_all()


def _take_spare(wait_s: float = 30.0) -> FaceAnalyzer | None:
    """The spare landmarker (waiting for one being built: finishing it is quicker than starting another)."""
    with _spare_cond:
        _spare_cond.wait_for(lambda: not _building[0], timeout=wait_s)
        return _spare.pop() if _spare else None


def _close_spare() -> None:
    analyzer = _take_spare()
    if analyzer is not None:
        analyzer.close()


atexit.register(_close_spare)  # a native graph must not be torn down mid-build at exit


def _r(v, nd: int = 2):
    return None if v is None else round(float(v), nd)
