"""Video quality flags (DESIGN.md section 4): framing, lighting, camera height, face lost, several faces.

`QualityMonitor.update(t, image, obs)` returns the flags in force on this frame and whether gaze can be
judged at all (`gaze_ok`). Each flag is smoothed over about a second (an exponential average of the
per-frame condition, switched on above 0.7 and off below 0.3) so a notice neither flickers nor appears
for a single odd frame; the camera-height flags use the median head pitch of the last seconds, because
they describe the set-up, not a moment.

Flag names: face_too_small, off_centre, too_dark, backlit, camera_above_eye_level,
camera_below_eye_level, face_lost, multiple_faces. `ADVICE` holds the plain fix for each, shown by the
call window and the pre-visit check alike.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np

FLAGS = ("face_too_small", "off_centre", "too_dark", "backlit", "camera_above_eye_level",
         "camera_below_eye_level", "face_lost", "multiple_faces")

ADVICE = {
    "face_too_small": "Move closer to the camera.",
    "off_centre": "Centre yourself in the picture.",
    "too_dark": "Your face is too dark: add light in front of you.",
    "backlit": "Strong light behind you: face the light or close the blind.",
    "camera_above_eye_level": "The camera is well above your eyes: lower it or raise your seat.",
    "camera_below_eye_level": "The camera is well below your eyes: raise it to eye level.",
    "face_lost": "Your face is not visible to the camera.",
    "multiple_faces": "More than one face is in view.",
}


@dataclass(frozen=True, slots=True)
class QualityThresholds:
    """Limits of acceptable video, with the reason for each value."""

    # Face box (landmark extent, brow to chin) below 8% of the picture: head-and-shoulders framing that
    # fills the picture gives 10-30%; below 8% the patient mostly sees the room.
    min_face_area: float = 0.08
    # Iris position needs the eye at least this wide in pixels; below it gaze is not judged at all.
    min_eye_px: float = 10.0
    # Face centre further than this from the picture centre (fraction of width), or its centre outside
    # this vertical band (fraction of height; eyes near the upper third put the centre at ~0.35-0.5).
    max_centre_dx: float = 0.15
    centre_band_y: tuple[float, float] = (0.25, 0.7)
    # Face brightness (median luma 0-255 of the central face area) below which the face is too dark; at
    # about 45 the webcam noise and the landmarker's eye detail break down.
    min_face_luma: float = 50.0
    # Backlit: background at least this much brighter than a face that is itself not bright.
    backlit_delta: float = 50.0
    backlit_face_max: float = 110.0
    # Head pitch relative to the line to the camera, median over `level_window_s`: a face seen from 15
    # degrees above or below (a laptop on the desk, a webcam on a tall monitor).
    max_level_deg: float = 15.0
    level_window_s: float = 8.0
    # Head pose beyond which landmarks (and so gaze) are not trustworthy.
    max_head_yaw: float = 60.0
    max_head_pitch: float = 45.0


class _Flag:
    """Exponential average of a per-frame condition with on/off hysteresis."""

    __slots__ = ("level", "on", "tau")

    def __init__(self, tau: float):
        self.level = 0.0
        self.on = False
        self.tau = tau

    def update(self, dt: float, cond: bool) -> bool:
        k = 1.0 - math.exp(-dt / self.tau) if dt > 0 else 0.0
        self.level += ((1.0 if cond else 0.0) - self.level) * k
        if self.on and self.level < 0.3:
            self.on = False
        elif not self.on and self.level > 0.7:
            self.on = True
        return self.on


def luma(image: np.ndarray, step: int) -> np.ndarray:
    """Subsampled luma (0-255, float32) of a BGR image: every `step`-th pixel is plenty for brightness."""
    small = image[::step, ::step].astype(np.float32)
    if small.ndim == 2:
        return small
    return small[..., 0] * 0.114 + small[..., 1] * 0.587 + small[..., 2] * 0.299


def face_and_background_luma(image: np.ndarray, bbox) -> tuple[float, float]:
    """(median luma of the central face area, mean luma of the picture beside and above the face)."""
    h, w = image.shape[:2]
    step = max(1, int(max(h, w) // 160))
    y = luma(image, step)
    gh, gw = y.shape
    x0, y0, x1, y1 = bbox
    bw, bh = x1 - x0, y1 - y0
    # Cheeks, nose and eyes: inside the jaw line and below the hair.
    fx0, fx1 = int((x0 + 0.2 * bw) * gw), int(math.ceil((x1 - 0.2 * bw) * gw))
    fy0, fy1 = int((y0 + 0.25 * bh) * gh), int(math.ceil((y1 - 0.2 * bh) * gh))
    fx0, fy0 = max(0, fx0), max(0, fy0)
    face = y[fy0:max(fy0 + 1, fy1), fx0:max(fx0 + 1, fx1)]
    face_l = float(np.median(face)) if face.size else float(y.mean())
    # Background: everything except the column below the face's top (face, neck and body).
    mask = np.ones(y.shape, dtype=bool)
    mask[max(0, int(y0 * gh)):, max(0, int(x0 * gw)):max(0, int(math.ceil(x1 * gw)))] = False
    bg = y[mask]
    bg_l = float(bg.mean()) if bg.size else face_l
    return face_l, bg_l


class QualityMonitor:
    """Per-frame quality flags with smoothing, and whether the gaze can be judged."""

    def __init__(self, thresholds: QualityThresholds | None = None, tau_s: float = 0.6):
        self.th = thresholds or QualityThresholds()
        self._flags = {name: _Flag(tau_s) for name in FLAGS if not name.startswith("camera_")}
        self._t: float | None = None
        self._pitch: deque[tuple[float, float]] = deque()
        self._level = {"camera_above_eye_level": False, "camera_below_eye_level": False}
        self.last_face_luma: float | None = None
        self.last_background_luma: float | None = None

    def update(self, t: float, image: np.ndarray | None, obs) -> tuple[tuple[str, ...], bool]:
        """(flags in force, gaze_ok) for one frame and its `FaceObservation`.

        gaze_ok is False when the gaze must not be judged: face too dark, eyes too small to find the
        iris, or the head turned beyond the landmarker's reliable range.
        """
        dt = 0.0 if self._t is None else max(0.0, t - self._t)
        self._t = t
        th = self.th
        f = self._flags
        face = bool(obs is not None and obs.face and obs.bbox is not None)
        f["face_lost"].update(dt, not face)
        f["multiple_faces"].update(dt, bool(obs is not None and obs.faces > 1))
        gaze_ok = face
        if face:
            x0, y0, x1, y1 = obs.bbox
            area = max(0.0, min(x1, 1.0) - max(x0, 0.0)) * max(0.0, min(y1, 1.0) - max(y0, 0.0))
            eyes = getattr(obs, "eyes", None)
            eye_px = getattr(eyes, "eye_px", None)
            f["face_too_small"].update(dt, area < th.min_face_area)
            cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
            cut = x0 < 0.0 or y0 < 0.0 or x1 > 1.0 or y1 > 1.0  # part of the face outside the picture
            f["off_centre"].update(dt, cut or abs(cx - 0.5) > th.max_centre_dx
                                   or not (th.centre_band_y[0] <= cy <= th.centre_band_y[1]))
            if image is not None:
                face_l, bg_l = face_and_background_luma(image, obs.bbox)
                self.last_face_luma, self.last_background_luma = face_l, bg_l
                f["too_dark"].update(dt, face_l < th.min_face_luma)
                f["backlit"].update(dt, bg_l - face_l >= th.backlit_delta and face_l < th.backlit_face_max)
            if eye_px is not None and eye_px < th.min_eye_px:
                gaze_ok = False
            if obs.yaw is not None and (abs(obs.yaw) > th.max_head_yaw or abs(obs.pitch) > th.max_head_pitch):
                gaze_ok = False
            self._update_level(t, obs)
        elif image is not None:
            # No face: a very dark picture is the likely reason, and the advice is the same.
            whole = float(luma(image, max(1, int(max(image.shape[:2]) // 80))).mean())
            self.last_face_luma, self.last_background_luma = None, whole
            f["too_dark"].update(dt, whole < th.min_face_luma * 0.6)
        if f["too_dark"].on:
            gaze_ok = False
        flags = [name for name in FLAGS if (self._flags[name].on if name in self._flags else self._level[name])]
        return tuple(flags), gaze_ok

    def _update_level(self, t: float, obs) -> None:
        if obs.pitch is None:
            return
        cam_pitch = 0.0
        matrix = getattr(obs, "matrix", None)
        if matrix is not None:
            from trainer.analysis.gaze import HEAD_LEAK, camera_direction

            cam_pitch = HEAD_LEAK * camera_direction(matrix)[1]
        # Head pitch relative to the line to the camera: a camera above the eyes sees the face pitched
        # down (the top of the head), one below sees it pitched up (under the chin), wherever the face is
        # in the picture.
        self._pitch.append((t, obs.pitch - cam_pitch))
        while self._pitch and self._pitch[0][0] < t - self.th.level_window_s:
            self._pitch.popleft()
        # Judge the set-up only with a few seconds of evidence.
        if self._pitch[-1][0] - self._pitch[0][0] < min(3.0, self.th.level_window_s / 2):
            return
        med = float(np.median([p for _, p in self._pitch]))
        lim, back = self.th.max_level_deg, self.th.max_level_deg - 3.0
        above, below = self._level["camera_above_eye_level"], self._level["camera_below_eye_level"]
        # A face seen from above (pitched down relative to the line to the camera): camera above the eyes.
        self._level["camera_above_eye_level"] = med < -lim or (above and med < -back)
        self._level["camera_below_eye_level"] = med > lim or (below and med > back)
