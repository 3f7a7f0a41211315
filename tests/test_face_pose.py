"""Head-pose sign conventions (trainer/analysis/face.py docstring) checked against the landmarks
themselves and against frames whose pose is plain to see."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="module")
def observations():
    """{clip: [FaceObservation]} from the bare analyzer (no processor state involved)."""
    from conftest import fixture

    from trainer.analysis.face import FaceAnalyzer
    from trainer.capture.video import VideoFileSource

    out = {}
    for clip in ("nods_lookaways", "talking_nods"):
        # One analyzer per clip: VIDEO mode tracks across frames and needs increasing timestamps.
        with FaceAnalyzer() as analyzer:
            src = VideoFileSource(fixture(f"video/{clip}.mp4"), realtime=False)
            try:
                out[clip] = [analyzer.analyze(f) for f in src.frames()]
            finally:
                src.close()
    return out


def _corr(a, b):
    return float(np.corrcoef(a, b)[0, 1])


@pytest.mark.parametrize("clip", ["nods_lookaways", "talking_nods"])
def test_angles_follow_the_landmarks_with_the_documented_signs(observations, clip):
    obs = [o for o in observations[clip] if o.face]
    lm = np.stack([o.landmarks for o in obs])
    # yaw > 0 = turned to the person's left = nose tip towards the picture's right of the face's middle.
    width = lm[:, 454, 0] - lm[:, 234, 0]
    nose_x = (lm[:, 1, 0] - (lm[:, 234, 0] + lm[:, 454, 0]) / 2) / width
    # pitch > 0 = chin up = chin nearer the camera than the forehead (landmark z: smaller is nearer).
    chin_fwd = lm[:, 10, 2] - lm[:, 152, 2]
    # roll > 0 = towards the left shoulder = the person's left eye (picture right) lower in the picture.
    eye_slope = np.degrees(np.arctan2(lm[:, 263, 1] - lm[:, 33, 1], lm[:, 263, 0] - lm[:, 33, 0]))
    assert _corr([o.yaw for o in obs], nose_x) > 0.9
    assert _corr([o.pitch for o in obs], chin_fwd) > 0.9
    assert _corr([o.roll for o in obs], eye_slope) > 0.9


def test_frames_with_an_obvious_pose(observations):
    by_t = {round(o.t, 2): o for o in observations["talking_nods"]}
    assert by_t[1.33].pitch > 8  # head thrown back before the first nod
    assert by_t[2.03].pitch < -5  # chin down at the bottom of it
    assert by_t[0.13].roll > 5  # head tilted towards her left shoulder (picture right side lower)
    assert by_t[4.87].roll < -5  # towards her right shoulder
    la = {round(o.t, 2): o for o in observations["nods_lookaways"]}
    assert la[4.56].yaw > 5  # turned towards the picture's right (her left) while looking that way
    assert la[8.16].yaw < -5  # and the other way


def test_selftest_face_and_blank_frame():
    from trainer.analysis.face import FaceAnalyzer
    from trainer.capture.base import Frame
    from trainer.resources import assets_dir

    import cv2

    image = cv2.imread(str(assets_dir() / "selftest" / "face.png"), cv2.IMREAD_COLOR)
    with FaceAnalyzer(max_faces=1) as analyzer:
        obs = analyzer.analyze(Frame(0.0, image, 0))
        assert obs.face and obs.landmarks.shape == (478, 3) and obs.matrix.shape == (4, 4)
        assert abs(obs.yaw) < 25 and abs(obs.pitch) < 25
        assert not analyzer.analyze(Frame(0.04, np.full_like(image, 128), 1)).face
