"""Gaze calibration: a few seconds of looking at a dot by the camera and at the patient's face on screen
(optionally at one's notes) turn the default geometry into a per-user, per-camera one.

Procedure (what the UI runs; see docs/analysis-face.md):
  1. "Look at the dot next to the camera" - show a dot at the lens for ~3 s; feed every frame's
     observation to `CalibrationRecorder.add("camera", obs)` after the first ~0.7 s (eyes settle).
  2. "Look at the patient's face" - same with target "screen" while the patient's face is shown where the
     call window puts it.
  3. Optional: "Look at your notes" - target "notes".
  4. `recorder.fit(user, camera)` -> `Calibration`; `save_calibration(cal)`; next time
     `load_calibration(user, camera)` and pass it to `create_face_processor(calibration=...)`.

What is fitted: for each target, the mean and covariance of the measured gaze angles (robust: samples
beyond 3 median absolute deviations are dropped), widened by `DRIFT_SD_DEG` because a live session
drifts more than three still seconds do. Gaze is measured relative to the line to the camera, so moving
in the picture later does not invalidate the calibration (moving much nearer or further does change the
angles to the screen: calibrate again after changing the set-up).

Storage: JSON at <config dir>/calibration/<user>--<camera>.json, config dir = $TRAINER_CONFIG_DIR or the
platform's per-user config folder for "VideoVisitTrainer".
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from trainer.analysis.gaze import DEFAULT_GEOMETRY, GazeGeometry, GazeMeasurement, Target
from trainer.core.errors import TrainerError
from trainer.core.i18n import N_, _, number

APP_NAME = "VideoVisitTrainer"
FORMAT_VERSION = 1
TARGETS = ("camera", "screen", "notes")
#: Fewest usable frames per target (about a second at 15-30 fps).
MIN_SAMPLES = 12
#: Smallest spread (degrees, one SD) a fitted target gets, and the drift (one SD, added in quadrature)
#: a session shows beyond a few still seconds: smiles and squints narrow the lids, which moves the iris
#: landmarks by 2-4 degrees on the fixture clips, and people shift in their seat.
MIN_SD_DEG = 1.8
DRIFT_SD_DEG = 1.5
#: Camera and patient's face closer than this (in pooled standard deviations) cannot be told apart.
MIN_SEPARATION_SD = 2.0


class CalibrationError(TrainerError):
    """Calibration could not be fitted, saved or read."""

    title = N_("Calibration problem")


@dataclass(frozen=True, slots=True)
class Calibration:
    """A fitted gaze calibration for one user and one camera."""

    user: str
    camera: str
    geometry: GazeGeometry
    created: str = ""  # ISO 8601 UTC
    samples: dict[str, int] = field(default_factory=dict)  # usable frames per target
    separation_sd: float | None = None  # camera-to-face distance in pooled SDs (how well they separate)

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return {"version": FORMAT_VERSION, "user": self.user, "camera": self.camera, "created": self.created,
                "samples": dict(self.samples), "separation_sd": self.separation_sd,
                "geometry": self.geometry.to_dict()}

    @staticmethod
    def from_dict(d: dict) -> "Calibration":
        """Inverse of `to_dict`; raises CalibrationError for data it cannot use."""
        try:
            if int(d.get("version", 0)) != FORMAT_VERSION:
                raise CalibrationError(_("Calibration format {found} is not supported (expected {expected}).").format(
                    found=repr(d.get("version")), expected=FORMAT_VERSION), hint=_("Run the calibration again."))
            geometry = GazeGeometry.from_dict(d["geometry"])
            return Calibration(str(d["user"]), str(d["camera"]), GazeGeometry(
                geometry.camera, geometry.face, geometry.screen, geometry.notes, True),
                str(d.get("created", "")), {str(k): int(v) for k, v in d.get("samples", {}).items()},
                None if d.get("separation_sd") is None else float(d["separation_sd"]))
        except CalibrationError:
            raise
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise CalibrationError(_("The calibration data is damaged ({error}).").format(error=repr(exc)),
                                   hint=_("Run the calibration again.")) from None


def _fit_target(points: np.ndarray) -> Target:
    med = np.median(points, axis=0)
    mad = np.median(np.abs(points - med), axis=0) * 1.4826
    scale = np.maximum(mad, 0.5)
    keep = np.all(np.abs(points - med) <= 3.0 * scale, axis=1)
    pts = points[keep] if keep.sum() >= max(3, len(points) // 2) else points
    mean = pts.mean(axis=0)
    cov = np.cov(pts.T) if len(pts) > 2 else np.zeros((2, 2))
    # Widen to the floor along each principal axis (keeps the orientation of an elongated cloud).
    vals, vecs = np.linalg.eigh(cov)
    vals = np.maximum(vals + DRIFT_SD_DEG ** 2, MIN_SD_DEG ** 2)
    cov = vecs @ np.diag(vals) @ vecs.T
    return Target(float(mean[0]), float(mean[1]), ((float(cov[0, 0]), float(cov[0, 1])),
                                                    (float(cov[1, 0]), float(cov[1, 1]))))


def fit_calibration(samples: dict[str, list[GazeMeasurement]], *, user: str = "default",
                    camera: str = "default", screen_deg: tuple[float, float] | None = None) -> Calibration:
    """Fit a calibration from gaze measurements per target ("camera" and "screen" required, "notes"
    optional). `screen_deg` is the half-size (yaw, pitch) of the screen in degrees (default: the default
    geometry's). Raises CalibrationError when a target has too few samples or camera and face coincide."""
    for target in ("camera", "screen"):
        if len(samples.get(target, ())) < MIN_SAMPLES:
            where = _("the camera dot") if target == "camera" else _("the patient")
            raise CalibrationError(
                _("Not enough usable frames while looking at {target} ({got}, need {need}).").format(
                    target=where, got=len(samples.get(target, ())), need=MIN_SAMPLES),
                hint=_("Keep your face in view and your eyes open on the target for about three seconds."))
    unknown = set(samples) - set(TARGETS)
    if unknown:
        raise CalibrationError(f"Unknown calibration target(s): {', '.join(sorted(unknown))}.")
    fitted: dict[str, Target] = {}
    for target, ms in samples.items():
        if not ms:
            continue
        pts = np.array([(m.yaw, m.pitch) for m in ms], dtype=np.float64)
        if target == "notes" and len(ms) < MIN_SAMPLES:
            continue
        fitted[target] = _fit_target(pts)
    cam, face = fitted["camera"], fitted["screen"]
    diff = np.array([face.yaw - cam.yaw, face.pitch - cam.pitch])
    pooled = (np.array(cam.cov) + np.array(face.cov)) / 2.0
    sep = float(np.sqrt(diff @ np.linalg.solve(pooled, diff)))
    if sep < MIN_SEPARATION_SD:
        raise CalibrationError(
            _("Looking at the camera and at the patient gave the same eye direction (separation {sep} SD).").format(
                sep=number(sep)),
            hint=_("The camera may be right next to the patient's picture (then eye contact needs no "
                   "calibration), or the eyes did not move between the two targets: try again."))
    geometry = GazeGeometry(cam, face, tuple(screen_deg or DEFAULT_GEOMETRY.screen),
                            (fitted["notes"],) if "notes" in fitted else (), calibrated=True)
    created = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
    return Calibration(user, camera, geometry, created, {k: len(v) for k, v in samples.items()}, round(sep, 2))


class CalibrationRecorder:
    """Collects usable gaze measurements per target from `FaceProcessor` observations.

    A frame is used when a face was found, gaze could be judged (quality) and the eyes were open.
    """

    def __init__(self):
        self.samples: dict[str, list[GazeMeasurement]] = {t: [] for t in TARGETS}

    def add(self, target: str, obs) -> bool:
        """Add one observation for `target`; returns whether it was usable."""
        if target not in self.samples:
            raise ValueError(f"unknown calibration target {target!r}; use one of {TARGETS}")
        if not getattr(obs, "face", False) or getattr(obs, "gaze", None) is None:
            return False
        if getattr(obs, "raw_gaze", None) in ("unknown", "blink", "absent"):
            return False
        self.samples[target].append(obs.gaze)
        return True

    def counts(self) -> dict[str, int]:
        """Usable frames per target so far."""
        return {k: len(v) for k, v in self.samples.items()}

    def fit(self, user: str = "default", camera: str = "default",
            screen_deg: tuple[float, float] | None = None) -> Calibration:
        """Fit from what was collected (see `fit_calibration`)."""
        return fit_calibration({k: v for k, v in self.samples.items() if v}, user=user, camera=camera,
                               screen_deg=screen_deg)


def config_dir() -> Path:
    """The per-user config folder: $TRAINER_CONFIG_DIR if set, else the platform's (platformdirs)."""
    env = os.environ.get("TRAINER_CONFIG_DIR")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def _slug(text: str) -> str:
    s = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.")[:40] or "x"
    # A short hash keeps two names that slug alike ("cam 1", "cam:1") apart.
    return f"{s}-{hashlib.sha1(text.encode('utf-8')).hexdigest()[:8]}"


def calibration_path(user: str, camera: str) -> Path:
    """Where the calibration of `user` with `camera` is stored."""
    return config_dir() / "calibration" / f"{_slug(user)}--{_slug(camera)}.json"


def save_calibration(cal: Calibration) -> Path:
    """Write the calibration (atomically: a crash leaves the old file or the new one); returns the path."""
    path = calibration_path(cal.user, cal.camera)
    try:
        from trainer.privacy import private_dir, private_file

        private_dir(path.parent, root=config_dir())
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(cal.to_dict(), indent=2), encoding="utf-8")
        private_file(tmp)
        os.replace(tmp, path)
    except OSError as exc:
        raise CalibrationError(_("The calibration could not be saved to {path}: {error}.").format(
            path=path, error=exc.strerror or exc), hint=_("Check that the settings folder is writable.")) from None
    return path


def load_calibration(user: str, camera: str) -> Calibration | None:
    """The stored calibration of `user` with `camera`, or None if there is none. A damaged file raises
    CalibrationError (the caller can say so and fall back to uncalibrated)."""
    path = calibration_path(user, camera)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise CalibrationError(_("The calibration file {path} cannot be read: {error}.").format(
            path=path, error=exc.strerror or exc)) from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise CalibrationError(_("The calibration file {path} is damaged ({error}).").format(path=path, error=exc),
                               hint=_("Run the calibration again.")) from None
    if not isinstance(data, dict):
        raise CalibrationError(_("The calibration file {path} is damaged ({error}).").format(
            path=path, error=_("not an object")), hint=_("Run the calibration again."))
    return Calibration.from_dict(data)


def delete_calibration(user: str, camera: str) -> bool:
    """Remove a stored calibration; True if there was one."""
    try:
        calibration_path(user, camera).unlink()
        return True
    except FileNotFoundError:
        return False
