"""Facial responsiveness from blendshapes and head pitch: expressivity against the person's own neutral
baseline, smile events and head nods. Pure numpy/Python, causal (usable live, frame by frame).

- `ExpressivityTracker.update(t, blendshapes)` -> (expressivity 0..1, smile 0..1). The neutral baseline is
  the lower envelope of each blendshape (follows a relaxing face within seconds, rises only over tens
  of seconds of a held expression), so a person whose resting face scores 0.3 on some shape is not
  "expressive" for that. Mouth shapes that speech drives (jaw opening, lip rounding, ...) count at a
  small weight, so talking alone does not read as an expressive face.
- Smile events: `trainer.core.face_metrics.SmileDetector` over the smile score above this baseline
  (`smile_above_baseline`), the one definition the live engine, the stored summary and offline analysis
  share.
- `NodDetector.update(t, pitch, yaw)` -> a `Nod` on the frame where a nod is recognised: the head went
  down by at least `MIN_NOD_DEG` (8 degrees) in 0.08-0.8 s and came back up within 0.8 s, without a
  larger sideways turn. Smaller, speech-paced head dips are not nods.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

#: Shapes that show expression (brows, eyes narrowing/widening, cheeks, nose, smile and frown) at full
#: weight; shapes that articulation drives at a small weight; gaze and blink shapes not at all (they are
#: where and whether the eyes look, not expression).
EXPRESSIVE = {
    "browDownLeft": 1.0, "browDownRight": 1.0, "browInnerUp": 1.0, "browOuterUpLeft": 1.0,
    "browOuterUpRight": 1.0, "cheekSquintLeft": 1.0, "cheekSquintRight": 1.0, "eyeSquintLeft": 0.7,
    "eyeSquintRight": 0.7, "eyeWideLeft": 0.7, "eyeWideRight": 0.7, "noseSneerLeft": 1.0,
    "noseSneerRight": 1.0, "mouthSmileLeft": 1.0, "mouthSmileRight": 1.0, "mouthFrownLeft": 1.0,
    "mouthFrownRight": 1.0, "mouthDimpleLeft": 0.7, "mouthDimpleRight": 0.7, "cheekPuff": 0.7,
    "mouthPressLeft": 0.5, "mouthPressRight": 0.5, "mouthShrugUpper": 0.5,
}
SPEECH_WEIGHT = 0.15
SPEECH_DRIVEN = (
    "jawOpen", "jawForward", "jawLeft", "jawRight", "mouthClose", "mouthFunnel", "mouthPucker",
    "mouthRollLower", "mouthRollUpper", "mouthLowerDownLeft", "mouthLowerDownRight", "mouthUpperUpLeft",
    "mouthUpperUpRight", "mouthStretchLeft", "mouthStretchRight", "mouthShrugLower", "mouthLeft",
    "mouthRight",
)
WEIGHTS = {**EXPRESSIVE, **{k: SPEECH_WEIGHT for k in SPEECH_DRIVEN}}
#: Eye-region shapes that a blink drags along (the lids squeeze, then relax over about half a second):
#: ignored while the eyes are closing and for `BLINK_HOLD_S` after, so blinking is not "expression".
BLINK_COUPLED = ("eyeSquintLeft", "eyeSquintRight", "eyeWideLeft", "eyeWideRight", "cheekSquintLeft",
                 "cheekSquintRight")
BLINK_ON = 0.3
BLINK_HOLD_S = 0.6
#: Scores within this much of the baseline are the landmarker's jitter, not movement.
DEAD_ZONE = 0.05
#: Weighted excess at which expressivity reaches 1 - 1/e (~0.63): about one full-strength shape.
SCALE = 1.0


class ExpressivityTracker:
    """Per-person neutral baseline of the blendshapes and the expressivity of each frame against it."""

    def __init__(self, relax_s: float = 2.0, adapt_s: float = 30.0):
        self.relax_s = relax_s  # baseline follows the face down (relaxing) with this time constant
        self.adapt_s = adapt_s  # ... and up (a held expression becoming the new neutral) with this one
        self.baseline: dict[str, float] = {}
        self._t: float | None = None
        self._blink_t = -1e9  # last time the eyes were closing

    def update(self, t: float, shapes: dict[str, float]) -> tuple[float, float]:
        """(expressivity, smile) for one frame's blendshape scores; both 0..1."""
        dt = 0.0 if self._t is None else max(0.0, t - self._t)
        self._t = t
        down = 1.0 - math.exp(-dt / self.relax_s)
        up = 1.0 - math.exp(-dt / self.adapt_s)
        total = 0.0
        base = self.baseline
        if 0.5 * (shapes.get("eyeBlinkLeft", 0.0) + shapes.get("eyeBlinkRight", 0.0)) >= BLINK_ON:
            self._blink_t = t
        blinking = t - self._blink_t <= BLINK_HOLD_S
        for name, w in WEIGHTS.items():
            x = shapes.get(name)
            if x is None:
                continue
            b = base.get(name)
            if blinking and name in BLINK_COUPLED:
                # Neither expression nor a sample of the neutral face.
                if b is None:
                    base[name] = x
                continue
            if b is None:
                b = x
            else:
                b += (x - b) * (down if x < b else up)
            base[name] = b
            excess = x - b - DEAD_ZONE
            if excess > 0:
                total += w * excess
        expressivity = 1.0 - math.exp(-total / SCALE)
        smile = 0.5 * (shapes.get("mouthSmileLeft", 0.0) + shapes.get("mouthSmileRight", 0.0))
        return expressivity, smile

    def smile_above_baseline(self, smile: float) -> float:
        """The smile score minus the person's resting level of it (0 when no baseline yet)."""
        b = 0.5 * (self.baseline.get("mouthSmileLeft", 0.0) + self.baseline.get("mouthSmileRight", 0.0))
        return max(0.0, smile - b)


@dataclass(frozen=True, slots=True)
class Nod:
    """A head nod: `onset` when the head started down (the preceding top), `t` when it was recognised,
    `depth_deg` how far it went down."""

    onset: float
    t: float
    depth_deg: float


#: Smallest nod: the head goes down at least this far (degrees, top to bottom of the rigid-head pitch).
#: Speech-paced head dips are smaller: 4-7 degrees on the talking fixture clips (talking_steady's dips
#: reach 7.3 degrees from the highest to the lowest point), while deliberate nods there and in
#: nods_lookaways go down 8-20 degrees (most 9-13).
MIN_NOD_DEG = 8.0
#: The fall from top to bottom takes at least this long (a one-frame jump is a landmark glitch) and at
#: most `MAX_NOD_FALL_S`; the head comes back up within `MAX_NOD_HOLD_S` of the bottom.
MIN_NOD_FALL_S = 0.08
MAX_NOD_FALL_S = 0.8
MAX_NOD_HOLD_S = 0.8


class NodDetector:
    """Head nods from the pitch track (degrees, + = chin up), causal. FaceProcessor feeds it the pitch of
    the rigid part of the head (`trainer.analysis.face.RigidPitch`), not the mesh-fitted pose.

    The pitch is lightly low-passed, then turned into alternating tops and bottoms (a turn counts once
    the pitch has come back by `turn_deg`, which rejects jitter). A top followed by a bottom is a nod when
    the drop is at least `min_drop_deg`, took `min_fall_s` to `max_fall_s`, the head came back up within
    `max_hold_s` of the bottom (looking down at notes and staying there is not a nod), and the head did
    not turn sideways more than it went down.
    """

    def __init__(self, min_drop_deg: float = MIN_NOD_DEG, max_fall_s: float = MAX_NOD_FALL_S,
                 max_hold_s: float = MAX_NOD_HOLD_S, turn_deg: float = 1.5, smooth_s: float = 0.05,
                 min_fall_s: float = MIN_NOD_FALL_S):
        self.min_drop_deg = min_drop_deg
        self.min_fall_s = min_fall_s
        self.max_fall_s = max_fall_s
        self.max_hold_s = max_hold_s
        self.turn_deg = turn_deg
        self.smooth_s = smooth_s
        self.reset()

    def reset(self) -> None:
        """Forget the track (after the face was lost: the next pitch is not continuous with the last)."""
        self._t: float | None = None
        self._p = 0.0
        self._seeking = "top"
        self._ext_t = 0.0
        self._ext_p = 0.0
        self._ext_yaw = 0.0
        self._top: tuple[float, float, float] | None = None  # (t, pitch, yaw) of the last top
        self._bottom_last = 0.0  # last time the pitch was near the current bottom

    def update(self, t: float, pitch: float | None, yaw: float | None = None) -> Nod | None:
        """Feed one frame (pitch None = no face); returns a `Nod` on the frame one is recognised."""
        if pitch is None:
            self.reset()
            return None
        yaw = 0.0 if yaw is None else yaw
        if self._t is None:
            self._t, self._p = t, pitch
            self._ext_t, self._ext_p, self._ext_yaw = t, pitch, yaw
            return None
        dt = max(0.0, t - self._t)
        self._t = t
        k = 1.0 - math.exp(-dt / self.smooth_s) if self.smooth_s > 0 else 1.0
        self._p += (pitch - self._p) * k
        p = self._p
        tol = self.turn_deg / 3.0
        if self._seeking == "top":
            if p >= self._ext_p:
                self._ext_p, self._ext_yaw = p, yaw
            if p >= self._ext_p - tol:
                # The onset is the last moment near the top, not the highest jitter of a still stretch.
                self._ext_t = t
            elif p <= self._ext_p - self.turn_deg:
                self._top = (self._ext_t, self._ext_p, self._ext_yaw)
                self._seeking = "bottom"
                self._ext_t, self._ext_p, self._ext_yaw = t, p, yaw
                self._bottom_last = t
            return None
        if p <= self._ext_p:
            self._ext_t, self._ext_p, self._ext_yaw = t, p, yaw
        if p <= self._ext_p + tol:
            self._bottom_last = t
            return None
        if p < self._ext_p + self.turn_deg:
            return None
        # A bottom is confirmed: the head is coming back up.
        bottom = (self._ext_t, self._ext_p, self._ext_yaw)
        top = self._top
        held = t - self._bottom_last
        self._seeking = "top"
        self._ext_t, self._ext_p, self._ext_yaw = t, p, yaw
        if top is None:
            return None
        drop = top[1] - bottom[1]
        fall = bottom[0] - top[0]
        turn = abs(bottom[2] - top[2])
        if drop >= self.min_drop_deg and self.min_fall_s <= fall <= self.max_fall_s and held <= self.max_hold_s and turn < drop:
            return Nod(top[0], t, drop)
        return None
