"""The maths around the landmarker: gaze smoothing, nod and smile detection, session metrics and cue
response (the last on real clip samples)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trainer.analysis.expressivity import NodDetector
from trainer.analysis.gaze import BLINK, DWELL_S, GazeSmoother
from trainer.core.events import FrameSample
from trainer.core.face_metrics import SmileDetector, cue_response, frame_durations, gaze_time, summarise_face

FPS = 30.0


def smooth(raws, fps=FPS):
    sm = GazeSmoother()
    return [sm.update(i / fps, r) for i, r in enumerate(raws)]


def test_single_odd_frames_do_not_flicker():
    raws = ["camera"] * 20 + ["away"] + ["camera"] * 10 + ["screen", "screen"] + ["camera"] * 10
    assert set(smooth(raws)) == {"camera"}


def test_a_real_change_comes_through_after_the_dwell():
    raws = ["camera"] * 20 + ["away"] * 20
    out = smooth(raws)
    first_away = out.index("away")
    assert (first_away - 20) / FPS == pytest.approx(DWELL_S, abs=1.5 / FPS)
    assert out[-1] == "away"


def test_blinks_keep_the_state_and_long_closure_is_unknown():
    out = smooth(["screen"] * 10 + [BLINK] * 6 + ["screen"] * 5)
    assert set(out) == {"screen"}
    out = smooth(["camera"] * 10 + [BLINK] * 30)
    assert out[15] == "camera" and out[-1] == "unknown"
    # A blink while looking away is not "away" (nor a guess that they looked back).
    out = smooth(["away"] * 10 + [BLINK] * 5 + ["away"] * 5)
    assert out[10:15] == ["unknown"] * 5 and out[-1] == "away"


def test_return_from_away_continues_across_a_blink():
    out = smooth(["away"] * 10 + ["screen"] * 3 + [BLINK] * 8 + ["camera"] * 3)
    assert out[-3] == "camera"  # the return began before the blink: no second dwell after it


def test_absent_is_immediate_and_the_next_face_starts_fresh():
    out = smooth(["camera"] * 5 + ["absent"] * 3 + ["away"] * 2)
    assert out[5:8] == ["absent"] * 3 and out[8] == "away"


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(["camera", "screen", "away", BLINK]), min_size=2, max_size=200),
       st.floats(10.0, 60.0))
def test_smoothed_state_never_changes_faster_than_the_dwell(raws, fps):
    out = smooth(raws, fps)
    changes = [i for i in range(1, len(out)) if out[i] != out[i - 1]
               and out[i] in ("camera", "screen", "away") and out[i - 1] in ("camera", "screen", "away")]
    # Between two changes among camera/screen/away there is at least the dwell time.
    for a, b in zip(changes, changes[1:]):
        assert (b - a) / fps >= DWELL_S - 1e-6
    # Every smoothed engaged/away state was actually seen in the raw input at or before that frame.
    for i, s in enumerate(out):
        if s in ("camera", "screen", "away"):
            assert s in raws[: i + 1]


def _pitch_track(nods_at, amp=12.0, fps=FPS, dur=6.0, jitter=0.0, seed=1):
    import random

    rnd = random.Random(seed)
    out = []
    for i in range(int(dur * fps)):
        t = i / fps
        p = 0.0
        for n in nods_at:
            # down over 0.25 s, back up over 0.35 s
            if n <= t < n + 0.25:
                p -= amp * (t - n) / 0.25
            elif n + 0.25 <= t < n + 0.6:
                p -= amp * (1 - (t - n - 0.25) / 0.35)
        out.append((t, p + rnd.uniform(-jitter, jitter)))
    return out


def test_nod_detector_finds_nods_and_dates_their_onsets():
    det = NodDetector()
    found = [n for t, p in _pitch_track([1.0, 2.5, 4.0], jitter=0.4) for n in [det.update(t, p)] if n]
    assert len(found) == 3
    for n, onset in zip(found, [1.0, 2.5, 4.0]):
        assert abs(n.onset - onset) < 0.15 and 0 < n.t - n.onset < 0.8 and n.depth_deg > 8


def test_speech_paced_head_dips_are_not_nods():
    """Dips of 4-7 degrees (the head bobbing with the rhythm of speech) stay under the nod size."""
    det = NodDetector()
    for amp in (4.0, 5.5, 7.0):
        assert not [t for t, p in _pitch_track([1.0, 2.5, 4.0], amp=amp, jitter=0.3) if det.update(t, p)]


def test_rigid_pitch_follows_the_head_and_ignores_the_jaw():
    """RigidPitch recovers a head rotation from the rigid landmarks; moving jaw, lips and lids does not
    change it."""
    import math

    import numpy as np

    from trainer.analysis.face import RIGID_POINTS, RigidPitch

    rng = np.random.default_rng(3)
    base = rng.uniform(0.3, 0.7, size=(478, 3))
    base[:, 2] -= 0.5
    size = (640, 480)
    rp = RigidPitch()
    assert rp.update(base, size, 2.0) == pytest.approx(2.0)

    def pitched(deg):
        # Rotate in pixel space (x right, y up, z towards the camera) about the centroid of the rigid set,
        # chin down for positive degrees, then back to normalised landmark coordinates.
        w, h = size
        p = np.stack((base[:, 0] * w, -base[:, 1] * h, -base[:, 2] * w), axis=1)
        c = p[list(RIGID_POINTS)].mean(axis=0)
        a = math.radians(deg)
        rx = np.array([[1, 0, 0], [0, math.cos(a), -math.sin(a)], [0, math.sin(a), math.cos(a)]])
        q = (p - c) @ rx.T + c
        return np.stack((q[:, 0] / w, -q[:, 1] / h, -q[:, 2] / w), axis=1)

    assert rp.update(pitched(10.0), size, 99.0) == pytest.approx(-8.0, abs=0.01)
    moved = pitched(10.0)
    others = [i for i in range(478) if i not in RIGID_POINTS]
    moved[others, 1] += rng.uniform(0.0, 0.05, size=len(others))  # jaw drops, lids close
    assert rp.update(moved, size, 99.0) == pytest.approx(-8.0, abs=0.01)


def test_looking_down_and_staying_is_not_a_nod():
    det = NodDetector()
    track = [(i / FPS, 0.0 if i < 30 else -15.0) for i in range(150)] + [(5.0 + i / FPS, 0.0) for i in range(30)]
    assert not [t for t, p in track if det.update(t, p)]


@settings(max_examples=60, deadline=None)
@given(st.floats(0.0, 1.8), st.integers(0, 10_000))
def test_jitter_below_the_nod_size_is_never_a_nod(jitter, seed):
    det = NodDetector()
    assert not any(det.update(t, p) for t, p in _pitch_track([], jitter=jitter, seed=seed))


def test_smile_detector_needs_a_held_smile():
    det = SmileDetector()
    scores = [0.0] * 10 + [0.8] * 3 + [0.0] * 10 + [0.7] * 15 + [0.1] * 5
    started = [i for i, s in enumerate(scores) if det.update(i / FPS, s)]
    assert len(started) == 1 and len(det.events) == 1
    (smile,) = det.events
    assert smile.start == pytest.approx(23 / FPS) and smile.end == pytest.approx(38 / FPS)
    assert smile.peak == pytest.approx(0.7)


def _samples(states, fps=FPS, **kw):
    return [FrameSample(i / fps, s != "absent", s, **kw) for i, s in enumerate(states)]


def test_ratios_are_time_weighted_and_count_away_and_unknown_as_present():
    s = _samples(["camera"] * 30 + ["screen"] * 30 + ["away"] * 30 + ["unknown"] * 30 + ["absent"] * 30)
    out = summarise_face(s)
    assert out["eye_contact_ratio"] == pytest.approx(0.25, abs=0.01)
    assert out["engaged_ratio"] == pytest.approx(0.5, abs=0.01)
    assert out["face_present_ratio"] == pytest.approx(0.8, abs=0.01)
    assert out["gaze_unknown_ratio"] == pytest.approx(0.25, abs=0.01)
    # Dropped frames (a live session falling behind) do not tilt the ratio: drop every other away frame.
    thinned = [x for i, x in enumerate(s) if not (x.gaze == "away" and i % 2)]
    assert summarise_face(thinned)["engaged_ratio"] == pytest.approx(out["engaged_ratio"], abs=0.01)


def test_speaking_and_listening_split_and_nods_while_the_patient_speaks():
    s = _samples(["camera"] * 60 + ["away"] * 60)
    out = summarise_face(s, speech_segments=[(0.0, 1.99)], patient_segments=[(2.0, 4.0)],
                         nod_times=[0.5, 2.5, 3.0])
    assert out["eye_contact_ratio_speaking"] == 1.0
    assert out["eye_contact_ratio_listening"] == 0.0
    assert out["nods_per_min"] == pytest.approx(3 / (4 / 60), rel=0.02)
    assert out["nods_per_min_patient_speaking"] == pytest.approx(2 / (2 / 60), rel=0.05)


def test_frame_durations_cap_gaps():
    assert frame_durations([0.0, 0.1, 0.2, 5.0]) == pytest.approx([0.1, 0.1, 0.5, 0.1])
    assert gaze_time([])["camera"] == 0.0


@pytest.fixture(scope="module")
def clip_samples():
    """FrameSamples of two real clips: talking_nods (nods, brows) and wide_framing (a still face)."""
    from conftest import fixture

    from trainer.analysis.face import create_face_processor
    from trainer.capture.video import VideoFileSource

    out = {}
    for clip in ("talking_nods", "wide_framing"):
        src = VideoFileSource(fixture(f"video/{clip}.mp4"), realtime=False)
        proc = create_face_processor()
        try:
            out[clip] = [proc.process(f)[0] for f in src.frames()]
        finally:
            proc.close()
            src.close()
    return out


def test_cue_response_on_real_faces(clip_samples):
    # talking_nods: she nods at about 1.3 s; a cue at 1.0 s is answered within the window.
    (r,) = cue_response([1.0], clip_samples["talking_nods"])
    assert r.responded is True and 0.0 <= r.latency_s <= 1.5 and r.kind in ("nod", "expression", "smile")
    # wide_framing: a still, neutral face for 9 s: no response to a cue at 3 s.
    (r,) = cue_response([3.0], clip_samples["wide_framing"])
    assert r.responded is False and r.latency_s is None
    # Past the end of the recording: nothing seen, so no verdict.
    (r,) = cue_response([30.0], clip_samples["wide_framing"])
    assert r.responded is None


def test_cue_response_wait_before_speaking(clip_samples):
    (r,) = cue_response([2.0], clip_samples["wide_framing"], speech_segments=[(0.5, 1.0), (4.5, 6.0)])
    assert r.wait_s == pytest.approx(2.5)
    assert not math.isnan(r.to_dict()["wait_s"])


def test_a_glance_of_015_s_is_kept_and_saccade_frames_do_not_count():
    from trainer.analysis.gaze import MOVING

    out = smooth(["camera"] * 20 + ["away"] * 5 + ["camera"] * 20)  # 5 frames at 30 fps: 0.167 s
    assert "away" in out
    # Frames in flight neither confirm a change nor break one under way.
    out = smooth(["camera"] * 20 + [MOVING] * 4 + ["screen"] + ["camera"] * 20)
    assert set(out) == {"camera"}
    out = smooth(["camera"] * 20 + ["away", MOVING, "away", "away", "away", "away"] + ["away"] * 5)
    assert out[-1] == "away"


def _eyes(h=(0.05, -0.05), v=(-0.06, -0.06), ap=(0.33, 0.33), lid=-0.22, widths=(40.0, 40.0)):
    from trainer.analysis.gaze import EyeFeatures

    return EyeFeatures(sum(h) / 2, sum(v) / 2, sum(ap) / 2, min(widths), 0.1, h, v, widths, ap, lid)


def test_eye_tracker_trusts_the_better_seen_eye_or_gives_up():
    from trainer.analysis.gaze import EyeTracker

    tr = EyeTracker()
    for i in range(60):
        tr.learn(i / FPS, _eyes())
    # One iris jumps into its corner while the other stays: the mean would say "slightly aside".
    odd = _eyes(h=(0.05, 0.20))
    assert not tr.agree(odd)
    assert tr.combine(odd) is None  # both eyes equally well seen: no verdict
    better_left = _eyes(h=(0.05, 0.20), widths=(25.0, 40.0))
    # The left eye moved 0.25 from its usual place (-0.05): so did the gaze.
    assert tr.combine(better_left).h == pytest.approx(0.25, abs=1e-6)
    assert tr.combine(_eyes()).h == pytest.approx(0.0)


def test_lowered_lids_with_the_iris_visible_read_as_looking_down():
    """Reading notes: the upper lids drop 0.2 eye widths (the eyes 30 degrees down), the iris landmarks stay near the rest position
    (the model pulls them back up) and the head is 10 degrees down: that is `away`, not the camera."""
    from trainer.analysis.gaze import DEFAULT_GEOMETRY, EyeTracker, classify_gaze, gaze_angles

    tr = EyeTracker()
    for i in range(60):
        tr.learn(i / FPS, _eyes())
    down = tr.combine(_eyes(ap=(0.13, 0.13), lid=-0.02))
    m = gaze_angles(down, 0.0, -10.0)
    assert m.pitch < -26.0 and classify_gaze(m, DEFAULT_GEOMETRY) == "away"
    # A squint or a smile lowers the lid a little: still the camera.
    squint = tr.combine(_eyes(ap=(0.28, 0.28), lid=-0.19))
    assert classify_gaze(gaze_angles(squint, 0.0, 0.0), DEFAULT_GEOMETRY) == "camera"
