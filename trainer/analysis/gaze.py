"""Gaze from MediaPipe face landmarks: eye features, gaze angles relative to the camera, and the gaze-state
classifier `camera / screen / away / absent / unknown` with its smoothing.

Pipeline per frame (all numpy, no cv2/mediapipe here):

1. `eye_features(landmarks, size, blendshapes)`: where each iris sits between its eye corners (in the
   head-aligned image frame, in units of the eye's width), how open the eyes are, how wide they are in
   pixels, and the blink blendshapes.
2. `gaze_angles(eyes, yaw, pitch, matrix)`: the gaze direction as (yaw, pitch) in degrees relative to the
   line from the face to the camera, so (0, 0) means "looking into the lens" wherever the face sits in
   the picture (see HEAD_LEAK / GAZE_LEAK). Model: an eyeball of radius R behind eye corners that sit C
   in front of its centre (both in eye widths). With head yaw a and gaze yaw g, the iris appears
   h = (R sin g - C sin a) / cos a eye widths from the corner midpoint, so sin g = (h cos a + C sin a) / R;
   likewise vertically (eye width is not foreshortened by pitch). The `eyeLook*` blendshapes are not used
   for direction: they carry a large per-person bias on the fixture clips (e.g. 0.3-0.7 "look in" while
   looking into the lens), whereas the iris geometry is consistent across people.
3. `classify_gaze(measurement, geometry)`: camera / screen / away from a target geometry (the default
   one, camera above the screen, or a fitted `trainer.analysis.calibration.Calibration`), then
   `GazeSmoother` (dwell time; blinks neither confirm nor contradict). Blinks, low quality and the
   closed-eye rule are decided in `trainer.analysis.face.FaceProcessor`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: Gaze states (DESIGN.md section 4).
STATES = ("camera", "screen", "away", "absent", "unknown")

# MediaPipe Face Mesh indices (478-point model with irises). "r" is the person's right eye (image left).
R_OUTER, R_INNER, R_UPPER, R_LOWER, R_IRIS = 33, 133, 159, 145, 468
L_INNER, L_OUTER, L_UPPER, L_LOWER, L_IRIS = 362, 263, 386, 374, 473

#: Eyeball radius and forward offset of the eye-corner midpoint from the eyeball centre, in eye widths
#: (adult eyes: ~12 mm radius, ~29 mm corner to corner, corners ~4 mm in front of the rotation centre).
EYE_RADIUS = 0.40
CORNER_DEPTH = 0.14
#: Where the iris centre sits relative to the corner line (in eye widths, + = lower in the picture) when
#: the eye looks straight ahead in the head: the corner line runs below the iris centre. The value is
#: the one that puts the median gaze of the six people in the fixture clips, all looking into the lens,
#: at pitch 0 (their medians then lie within 3.5 degrees of it, and within 5 of yaw 0); a calibration
#: absorbs it per person.
IRIS_REST_V = -0.06


#: How much of the face's off-axis angle (its direction from the optical axis, `camera_direction`) shows
#: up in the head pose and in the gaze measured here. A pinhole camera would put all of it into an
#: unchanged-looking face moved across the picture; MediaPipe's pose follows mostly the face's look, so
#: measured by placing the steady_a.mp4 face left, right, above and below in a 1440x1080 picture: the head
#: angles moved by 0.25-0.33 of the off-axis angle, the gaze by 0.06-0.17. Subtracting that share leaves
#: directions relative to the line to the camera, which is what "looking into the lens" means wherever
#: the person sits in the picture.
HEAD_LEAK = 0.28
GAZE_LEAK = 0.11


@dataclass(frozen=True, slots=True)
class EyeFeatures:
    """Eye measurements of one frame (image-plane, head-aligned, in eye widths unless stated).

    `h`, `v` are the width-weighted mean of both eyes; the per-eye values (person's right eye first) are
    kept for the consistency check (`EyeTracker.combine`), which may replace the mean by one eye."""

    h: float  # iris offset along the eye axis, + towards the picture's right (the person's left)
    v: float  # iris offset across the eye axis, + downwards in the picture
    aperture: float  # lid opening / eye width, mean of both eyes
    eye_px: float  # width of the smaller eye in pixels (resolution available for the iris)
    blink: float  # mean eyeBlink blendshape (0 open .. 1 closed)
    hs: tuple[float, float] = (0.0, 0.0)  # per eye: h
    vs: tuple[float, float] = (0.0, 0.0)  # per eye: v
    widths: tuple[float, float] = (1.0, 1.0)  # per eye: width in pixels
    apertures: tuple[float, float] = (0.0, 0.0)  # per eye: lid opening / eye width
    lid: float = 0.0  # upper-lid midpoint across the eye axis (mean of both eyes, + downwards)


@dataclass(frozen=True, slots=True)
class GazeMeasurement:
    """One frame's gaze direction in degrees relative to the line from the face to the camera (+yaw =
    towards the picture's right, i.e. the person's left; +pitch = up), the head direction on the same
    axes, and the direction of that line from the optical axis (where the face is in the picture)."""

    yaw: float
    pitch: float
    head_yaw: float
    head_pitch: float
    cam_yaw: float = 0.0
    cam_pitch: float = 0.0


def eye_features(landmarks: np.ndarray, size: tuple[int, int], blendshapes: dict | None = None) -> EyeFeatures:
    """Iris position between the eye corners, eye opening and blink score from 478 normalised landmarks."""
    w, h = size
    p = landmarks[:, :2].astype(np.float64) * (float(w), float(h))
    axis = p[L_OUTER] - p[R_OUTER]
    norm = float(np.hypot(axis[0], axis[1])) or 1.0
    ex = axis / norm
    ey = np.array([-ex[1], ex[0]])  # picture-down when the head is upright
    hs, vs, aps, ws, lids = [], [], [], [], []
    for a, b, up, lo, iris in ((R_OUTER, R_INNER, R_UPPER, R_LOWER, R_IRIS),
                               (L_INNER, L_OUTER, L_UPPER, L_LOWER, L_IRIS)):
        mid = (p[a] + p[b]) * 0.5
        width = float(np.hypot(*(p[b] - p[a]))) or 1.0
        d = p[iris] - mid
        hs.append(float(d @ ex) / width)
        vs.append(float(d @ ey) / width)
        aps.append(float(np.hypot(*(p[up] - p[lo]))) / width)
        lids.append(float((p[up] - mid) @ ey) / width)
        ws.append(width)
    # Weight by eye width: with the head turned, the far eye is foreshortened and its iris less precise.
    wsum = ws[0] + ws[1]
    hm = (hs[0] * ws[0] + hs[1] * ws[1]) / wsum
    vm = (vs[0] * ws[0] + vs[1] * ws[1]) / wsum
    blink = 0.0
    if blendshapes:
        blink = 0.5 * (blendshapes.get("eyeBlinkLeft", 0.0) + blendshapes.get("eyeBlinkRight", 0.0))
    return EyeFeatures(hm, vm, 0.5 * (aps[0] + aps[1]), min(ws), blink, (hs[0], hs[1]), (vs[0], vs[1]),
                       (ws[0], ws[1]), (aps[0], aps[1]), 0.5 * (lids[0] + lids[1]))


#: Eyes whose iris offsets differ from the person's usual left-right difference by more than this (eye
#: widths; 0.12 is about 17 degrees of eye rotation) disagree: one iris landmark is off (an eye turned
#: into its corner, half hidden by the nose or a lid, a reflection on glasses). The two eyes' iris offsets
#: are not equal even when both look at the lens: each person's iris sits nearer one corner than the other
#: (on the fixture clips the per-eye difference at the lens ranges from 0.02 to 0.17 eye widths), which is
#: why the difference is compared with the person's own.
EYE_DISAGREE_H = 0.12
EYE_DISAGREE_V = 0.08
#: When the eyes disagree, the better-seen eye (width x lid opening) is trusted if it is seen at least
#: this much better; otherwise the frame is `unknown`.
BETTER_EYE_RATIO = 1.3
#: Time constant (s) of the person's open-eye baselines (lid opening, upper-lid position, eye difference).
EYE_BASELINE_TAU_S = 3.0
#: The upper lid follows the eye down (lid-eye coordination): a lid lowered by x eye widths below the
#: person's open-eye position means the eye turned down by about asin(x / EYE_RADIUS). The iris landmark
#: of a lowered eye is unreliable (the lid covers its top and the model pulls it back up), so the
#: vertical iris offset used is at least the lid's estimate minus this slack (eye widths), which keeps
#: squints and smiles (upper lid 0.02-0.04 lower on the fixture clips) from reading as looking down.
LID_SLACK = 0.04


class EyeTracker:
    """Per-person eye baselines, learned causally on frames with the eyes open: the lid opening, the
    upper-lid position and the usual difference between the two eyes' iris offsets. `combine(eyes)`
    returns the eye features to measure gaze from (both eyes, or the better-seen one when they
    disagree, or None when they disagree and neither is clearly better seen), with the vertical offset
    corrected by the lid position (LID_SLACK)."""

    def __init__(self, tau_s: float = EYE_BASELINE_TAU_S):
        self.tau_s = tau_s
        self.open_ap: float | None = None
        self.open_lid: float | None = None
        self.diff_h: float | None = None
        self.diff_v: float | None = None
        self._t: float | None = None

    def learn(self, t: float, eyes: EyeFeatures) -> None:
        """Feed a frame whose eyes are open (not blinking)."""
        dt = 0.0 if self._t is None else max(0.0, t - self._t)
        self._t = t
        k = 1.0 - math.exp(-dt / self.tau_s)
        dh, dv = eyes.hs[0] - eyes.hs[1], eyes.vs[0] - eyes.vs[1]
        if self.open_ap is None:
            self.open_ap, self.open_lid, self.diff_h, self.diff_v = eyes.aperture, eyes.lid, dh, dv
            return
        self.open_ap += (eyes.aperture - self.open_ap) * k
        self.open_lid += (eyes.lid - self.open_lid) * k
        if self.agree(eyes):
            self.diff_h += (dh - self.diff_h) * k
            self.diff_v += (dv - self.diff_v) * k

    def agree(self, eyes: EyeFeatures) -> bool:
        """True when the two eyes' iris offsets differ as usual for this person."""
        if self.diff_h is None:
            return True
        return (abs(eyes.hs[0] - eyes.hs[1] - self.diff_h) <= EYE_DISAGREE_H
                and abs(eyes.vs[0] - eyes.vs[1] - self.diff_v) <= EYE_DISAGREE_V)

    def combine(self, eyes: EyeFeatures) -> EyeFeatures | None:
        """The features to measure gaze from (see the class docstring)."""
        h, v = eyes.h, eyes.v
        if not self.agree(eyes):
            seen = [w * max(a, 1e-3) for w, a in zip(eyes.widths, eyes.apertures)]
            best = 0 if seen[0] >= seen[1] else 1
            if seen[best] < BETTER_EYE_RATIO * seen[1 - best]:
                return None
            # The one eye, moved by half the person's usual difference to where the mean would be.
            sign = -0.5 if best == 0 else 0.5
            h = eyes.hs[best] + sign * self.diff_h
            v = eyes.vs[best] + sign * self.diff_v
        if self.open_lid is not None:
            v = max(v, IRIS_REST_V + (eyes.lid - self.open_lid) - LID_SLACK)
        if h == eyes.h and v == eyes.v:
            return eyes
        return EyeFeatures(h, v, eyes.aperture, eyes.eye_px, eyes.blink, eyes.hs, eyes.vs, eyes.widths,
                           eyes.apertures, eyes.lid)


def camera_direction(matrix: np.ndarray | None) -> tuple[float, float]:
    """(yaw, pitch) in degrees of the line from the face to the camera, from the transformation matrix's
    translation (OpenGL camera axes, face at negative z); (0, 0) without a matrix."""
    if matrix is None:
        return 0.0, 0.0
    tx, ty, tz = (float(v) for v in np.asarray(matrix)[:3, 3])
    dx, dy, dz = -tx, -ty, -tz
    if dz <= 1e-6:
        return 0.0, 0.0
    return math.degrees(math.atan2(dx, dz)), math.degrees(math.atan2(dy, math.hypot(dx, dz)))


def _asin_deg(x: float) -> float:
    return math.degrees(math.asin(max(-1.0, min(1.0, x))))


def gaze_angles(eyes: EyeFeatures, head_yaw: float, head_pitch: float,
                matrix: np.ndarray | None = None) -> GazeMeasurement:
    """Gaze and head direction relative to the line to the camera (module docstring for the model)."""
    a = math.radians(head_yaw)
    b = math.radians(head_pitch)
    g_yaw = _asin_deg((eyes.h * math.cos(a) + CORNER_DEPTH * math.sin(a)) / EYE_RADIUS)
    up = -(eyes.v - IRIS_REST_V)
    g_pitch = _asin_deg((up + CORNER_DEPTH * math.sin(b)) / EYE_RADIUS)
    cy, cp = camera_direction(matrix)
    return GazeMeasurement(g_yaw - GAZE_LEAK * cy, g_pitch - GAZE_LEAK * cp,
                           head_yaw - HEAD_LEAK * cy, head_pitch - HEAD_LEAK * cp, cy, cp)


# ---------------------------------------------------------------------------------------------------------
# Targets and per-frame classification


@dataclass(frozen=True, slots=True)
class Target:
    """Where the gaze goes when the person looks at one thing: a 2-D normal distribution over measured
    (yaw, pitch) in degrees, described by its mean and covariance."""

    yaw: float
    pitch: float
    cov: tuple[tuple[float, float], tuple[float, float]]

    def d2(self, yaw: float, pitch: float) -> float:
        """Squared Mahalanobis distance of a measurement from this target."""
        (a, b), (c, d) = self.cov
        det = a * d - b * c
        dy, dp = yaw - self.yaw, pitch - self.pitch
        if det <= 1e-9:
            return float("inf")
        return (d * dy * dy - (b + c) * dy * dp + a * dp * dp) / det

    @staticmethod
    def round(yaw: float, pitch: float, sd_yaw: float, sd_pitch: float | None = None) -> "Target":
        sp = sd_yaw if sd_pitch is None else sd_pitch
        return Target(yaw, pitch, ((sd_yaw * sd_yaw, 0.0), (0.0, sp * sp)))


@dataclass(frozen=True, slots=True)
class GazeGeometry:
    """Where the camera, the patient's face and the screen are, as seen in gaze measurements.

    `camera` and `face` are the gaze distributions when looking into the lens and at the patient's face;
    `screen` is the half-size (yaw, pitch) in degrees of the screen around the face target (the rest of
    the call window still counts as `screen`); `notes` are optional places that count as `away`.
    """

    camera: Target
    face: Target
    screen: tuple[float, float]
    notes: tuple[Target, ...] = ()
    calibrated: bool = False

    def to_dict(self) -> dict:
        """Plain JSON-ready form (see `from_dict`)."""
        def t(x: Target) -> dict:
            return {"yaw": x.yaw, "pitch": x.pitch, "cov": [list(x.cov[0]), list(x.cov[1])]}
        return {"camera": t(self.camera), "face": t(self.face), "screen": list(self.screen),
                "notes": [t(n) for n in self.notes], "calibrated": self.calibrated}

    @staticmethod
    def from_dict(d: dict) -> "GazeGeometry":
        """Inverse of `to_dict`; raises KeyError/TypeError/ValueError on malformed input."""
        def t(x: dict) -> Target:
            (a, b), (c, e) = x["cov"]
            return Target(float(x["yaw"]), float(x["pitch"]), ((float(a), float(b)), (float(c), float(e))))
        return GazeGeometry(t(d["camera"]), t(d["face"]), (float(d["screen"][0]), float(d["screen"][1])),
                            tuple(t(n) for n in d.get("notes", ())), bool(d.get("calibrated", False)))


#: Measurement spread (degrees, one standard deviation) of uncalibrated gaze around a fixed target: the
#: per-person bias seen on the fixture clips (medians within +-3 degrees, occasional +-5) plus frame noise.
DEFAULT_SD = 4.0
#: Default set-up, camera above the screen: a laptop or a monitor with the webcam on its top edge, the
#: patient's face in the middle of the call window about 12 degrees below the lens (10-15 cm at 50-70 cm),
#: the screen about 48 x 28 degrees.
DEFAULT_GEOMETRY = GazeGeometry(camera=Target.round(0.0, 0.0, DEFAULT_SD),
                                face=Target.round(0.0, -12.0, DEFAULT_SD * 1.5, DEFAULT_SD),
                                screen=(24.0, 14.0))

#: Squared Mahalanobis radius of a target (2.5 standard deviations).
TARGET_D2 = 6.25
#: Extra room (degrees) the current state's region gets, so a gaze on a boundary does not flicker.
HYSTERESIS_DEG = 2.0


def classify_gaze(m: GazeMeasurement, geometry: GazeGeometry = DEFAULT_GEOMETRY, current: str | None = None) -> str:
    """`camera`, `screen` or `away` for one measurement (no smoothing; blinks are handled by the caller).

    Camera vs screen goes to the nearer of the two targets (Mahalanobis distance); a gaze far from both
    is still `screen` while it lies within the screen rectangle around the face target, and `away` beyond.
    Calibrated note positions win over the screen rectangle.
    """
    yaw, pitch = m.yaw, m.pitch
    # Hysteresis: distances to the target of the current state are measured as if the gaze were a little
    # closer to it.
    def d2(target: Target, state: str) -> float:
        if current != state:
            return target.d2(yaw, pitch)
        dy, dp = yaw - target.yaw, pitch - target.pitch
        n = math.hypot(dy, dp)
        if n <= HYSTERESIS_DEG:
            return 0.0
        k = (n - HYSTERESIS_DEG) / n
        return target.d2(target.yaw + dy * k, target.pitch + dp * k)

    dc = d2(geometry.camera, "camera")
    df = d2(geometry.face, "screen")
    if dc <= TARGET_D2 and dc <= df:
        return "camera"
    for note in geometry.notes:
        dn = note.d2(yaw, pitch)
        if dn <= TARGET_D2 and dn < df:
            return "away"
    if df <= TARGET_D2:
        return "screen"
    margin = HYSTERESIS_DEG if current == "screen" else 0.0
    fy, fp = geometry.face.yaw, geometry.face.pitch
    sw, sh = geometry.screen
    left, right, bottom, top = fy - sw, fy + sw, fp - sh, fp + sh
    # The camera sits on an edge of the screen: beyond the lens (above it, for a camera on top) is not
    # screen. Which edge: the direction in which the camera lies furthest from the face.
    cy, cp = geometry.camera.yaw, geometry.camera.pitch
    if abs(cp - fp) >= abs(cy - fy):
        top, bottom = (min(top, cp), bottom) if cp > fp else (top, max(bottom, cp))
    else:
        left, right = (left, min(right, cy)) if cy > fy else (max(left, cy), right)
    if left - margin <= yaw <= right + margin and bottom - margin <= pitch <= top + margin:
        return "screen"
    if dc <= TARGET_D2:
        return "camera"
    return "away"


# ---------------------------------------------------------------------------------------------------------
# Smoothing

#: A new state must hold this long (and two frames) before it replaces the current one: a glance of
#: 0.15 s (a short fixation) still shows, while a single noisy frame (0.033 s at 30 fps) or a saccade
#: across the camera (2-3 frames) does not.
DWELL_S = 0.12
#: Eyes closed longer than this are no longer a blink: the state becomes `unknown` (eyes shut, not away).
MAX_BLINK_S = 0.6
#: Raw value the caller passes for a frame on which the eyes are closed (a blink): it neither confirms
#: nor contradicts the current state.
BLINK = "blink"
#: Raw value for a frame on which the eyes are in flight (a saccade): where they are is no fixation,
#: so it neither confirms nor contradicts the current state either.
MOVING = "moving"
#: Gaze speed (degrees per second between consecutive frames) from which a frame is part of a saccade.
#: Velocity-threshold fixation detection (I-VT, Salvucci & Goldberg 2000) uses 30-100 deg/s on eye
#: trackers; webcam landmarks jitter by 1-2 degrees per frame (30-60 deg/s at 30 fps), hence the top of
#: that range.
SACCADE_DEG_S = 100.0


def _group(state: str) -> str:
    return "engaged" if state in ("camera", "screen") else state


class GazeSmoother:
    """Turns per-frame gaze classes into a state without flicker.

    - A change of state needs `dwell_s` seconds and at least two frames agreeing on it (times come from
      the frames, so the result does not depend on the frame rate). Coming back from `away`, camera and
      screen frames agree with each other (both are "engaged"); the state becomes the latest of them.
    - `moving` frames (a saccade in flight) neither confirm nor contradict anything.
    - `blink` frames neither confirm nor contradict: a blink keeps camera or screen, and a change that
      was under way continues across it. While the state is `away`, closed eyes give `unknown`: a blink is
      not a look-away, and where the eyes point cannot be seen; the first open frame after it sets the
      state. Eyes closed for more than `max_blink_s` give `unknown` too.
    - `absent` (no face) and `unknown` from low quality are passed through at once: they are facts about
      the frame, not guesses, and the next state after them is taken from the first good frame.
    """

    def __init__(self, dwell_s: float = DWELL_S, max_blink_s: float = MAX_BLINK_S):
        self.dwell_s = dwell_s
        self.max_blink_s = max_blink_s
        self.state: str | None = None
        self._cand: str | None = None  # group of the pending change ("engaged" or "away")
        self._cand_t = 0.0
        self._cand_n = 0
        self._closed_since: float | None = None

    def reset(self) -> None:
        """Forget the current state (e.g. after the face was lost)."""
        self.state = None
        self._cand = None
        self._closed_since = None

    def update(self, t: float, raw: str) -> str:
        """Feed one frame's class (a state name or `BLINK`); returns the smoothed state."""
        if raw in ("absent", "unknown"):
            self.reset()
            self.state = raw
            return raw
        if raw == MOVING:
            return self.state if self.state in ("camera", "screen", "away") else "unknown"
        if raw == BLINK:
            if self._closed_since is None:
                self._closed_since = t
            if self.state in (None, "absent", "unknown", "away") or t - self._closed_since > self.max_blink_s:
                return "unknown"
            return self.state
        if self._closed_since is not None and self.state == "away":
            # The closure was reported as `unknown`: like after any unknown stretch, the first open frame
            # says where the eyes are now.
            self.state = None
        self._closed_since = None
        if self.state in (None, "absent", "unknown"):
            self.state, self._cand = raw, None
            return raw
        if raw == self.state:
            self._cand = None
            return raw
        # camera <-> screen is a change within the engaged group and needs its own dwell.
        key = raw if _group(raw) == _group(self.state) else _group(raw)
        if key != self._cand:
            self._cand, self._cand_t, self._cand_n = key, t, 1
        else:
            self._cand_n += 1
            if self._cand_n >= 2 and t - self._cand_t >= self.dwell_s - 1e-6:
                self.state, self._cand = raw, None
        return self.state
