"""The animated patient, offscreen: every built-in persona renders; emotions, blinks, gaze, lips,
captions, caregiver, connection states and a recorded clip all change what is on screen."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QRect
from PySide6.QtGui import QImage

from trainer.core.scenario import discover_scenarios, load_scenario
from trainer.resources import builtin_scenarios_dir
from trainer.ui.patient_view import EMOTION_FACES, EMOTIONS, PatientView


def _arr(img: QImage, rect: QRect | None = None) -> np.ndarray:
    img = img.convertToFormat(QImage.Format_RGB32)
    if rect is not None:
        img = img.copy(rect)
    ptr = img.constBits()
    bgrx = np.frombuffer(ptr, np.uint8, img.sizeInBytes()).reshape(img.height(), img.bytesPerLine() // 4, 4)
    return bgrx[:, :img.width(), [2, 1, 0]].astype(np.int16)  # RGB32 is B, G, R, x in memory


class Stepper:
    def __init__(self, view: PatientView):
        self.t = 0.0
        self.view = view
        view.set_time_source(lambda: self.t)

    def run(self, seconds: float, dt: float = 1 / 30):
        for _ in range(int(round(seconds / dt))):
            self.t += dt
            self.view.advance()


@pytest.fixture
def maria(qtbot):
    s = load_scenario(builtin_scenarios_dir() / "first_checkin.yaml")
    view = PatientView(s.patient, background=s.setting.background, animate=False)
    qtbot.addWidget(view)
    view.resize(960, 540)
    return view, Stepper(view)


FACE = QRect(330, 150, 300, 260)
MOUTH = QRect(420, 290, 120, 60)


def test_every_builtin_persona_and_background_renders(qtbot):
    scenarios, _ = discover_scenarios([builtin_scenarios_dir()])
    means = []
    for s in scenarios:
        view = PatientView(s.patient, background=s.setting.background, animate=False)
        qtbot.addWidget(view)
        view.resize(640, 360)
        Stepper(view).run(0.5)
        img = view.grab().toImage()
        assert img.width() == 640 and img.height() == 360
        face = _arr(img, QRect(290, 120, 60, 60))
        means.append(face.reshape(-1, 3).mean(axis=0))
    # Skin tones differ between personas (light to dark).
    brightness = [m.mean() for m in means]
    assert max(brightness) - min(brightness) > 60


def test_emotions_change_the_face_smoothly(maria):
    view, clock = maria
    clock.run(1.0)
    pics = {}
    for emotion in EMOTIONS:
        view.set_emotion(emotion)
        clock.run(0.1)
        partial = view._figures[0].face.smile
        clock.run(1.5)
        settled = view._figures[0].face.smile
        target = EMOTION_FACES[emotion].smile
        assert abs(settled - target) < 0.02
        if abs(target) > 0.2:
            # After 0.1 s the face is only part of the way there: a transition, not a jump.
            assert 0.05 < abs(partial - target) < abs(target) * 1.5 + 0.5
        fig = view._figures[0]
        fig.blink, fig.gaze = 0.0, [0.0, 0.0]
        pics[emotion] = _arr(view.grab().toImage(), FACE)
    assert len(EMOTIONS) >= 6
    for a in EMOTIONS:
        for b in EMOTIONS:
            if a < b:
                diff = np.abs(pics[a] - pics[b]).mean()
                assert diff > 0.5, f"{a} and {b} look the same ({diff:.2f})"


def test_blinks_are_irregular_and_gaze_stays_mostly_on_the_clinician(maria):
    view, clock = maria
    fig = view._figures[0]
    closed_at, on_clinician, last_closed = [], 0, False
    steps = 30 * 30
    for i in range(steps):
        clock.run(1 / 30)
        closed = fig.blink > 0.9
        if closed and not last_closed:
            closed_at.append(clock.t)
        last_closed = closed
        on_clinician += abs(fig.gaze[0]) < 0.2 and abs(fig.gaze[1]) < 0.25
    gaps = np.diff(closed_at)
    assert 5 <= len(closed_at) <= 20  # a blink every 2-6 s
    assert gaps.std() > 0.3  # not a metronome
    assert on_clinician / steps > 0.6


def test_idle_motion_moves_the_picture(maria):
    view, clock = maria
    clock.run(0.5)
    fig = view._figures[0]
    fig.blink = 0.0
    a = _arr(view.grab().toImage(), FACE)
    clock.run(2.3)
    fig.blink = 0.0
    b = _arr(view.grab().toImage(), FACE)
    assert np.abs(a - b).mean() > 0.3


def test_lips_follow_the_audio_envelope(maria):
    view, clock = maria
    env = np.concatenate([np.zeros(50), np.ones(50), np.zeros(50)]).astype(np.float32)
    view.speak("Hello there, doctor.", 1.5, env)
    clock.run(0.2)
    closed_value = view.mouth_open()
    fig = view._figures[0]
    fig.blink = 0.0
    closed = _arr(view.grab().toImage(), MOUTH)
    clock.run(0.5)
    open_value = view.mouth_open()
    fig.blink = 0.0
    opened = _arr(view.grab().toImage(), MOUTH)
    assert closed_value == 0.0 and open_value == 1.0
    assert np.abs(opened - closed).mean() > 3
    clock.run(1.0)
    assert view.mouth_open() == 0.0  # the line is over
    # Without an envelope the lips still move with a syllable rhythm.
    view.speak("I have been taking my pressure every morning.", 3.0, None)
    values = []
    for _ in range(60):
        clock.run(1 / 30)
        values.append(view.mouth_open())
    assert max(values) > 0.5 and min(values) < 0.1


def test_caption_strip_shows_the_line(maria):
    view, clock = maria
    strip = QRect(100, 470, 760, 60)
    clock.run(0.2)
    before = _arr(view.grab().toImage(), strip)
    view.speak("Honestly, I haven't been sleeping much.", 2.0, None)
    after = _arr(view.grab().toImage(), strip)
    assert view.caption.startswith("Honestly")
    assert np.abs(after - before).mean() > 10


def test_caregiver_joins_and_speaks_separately(maria, qtbot):
    s = load_scenario(builtin_scenarios_dir() / "caregiver_daughter.yaml")
    view = PatientView(s.patient, background=s.setting.background, animate=False)
    qtbot.addWidget(view)
    view.resize(960, 540)
    clock = Stepper(view)
    clock.run(0.3)
    alone = _arr(view.grab().toImage(), QRect(620, 150, 300, 250))
    view.set_caregiver(s.caregiver.persona)
    view.speak("Hi, I'm Denise.", 2.0, np.ones(200, np.float32), speaker="caregiver")
    clock.run(0.3)
    together = _arr(view.grab().toImage(), QRect(620, 150, 300, 250))
    assert np.abs(together - alone).mean() > 10
    assert view.mouth_open("caregiver") == 1.0 and view.mouth_open("patient") == 0.0
    assert view.caption_speaker == "Denise Brooks"
    view.set_caregiver(None)
    assert len(view._figures) == 1


def test_connection_states(maria):
    view, clock = maria
    clock.run(0.5)
    view.set_connection_state("frozen")
    a = _arr(view.grab().toImage(), FACE)
    clock.run(2.0)
    b = _arr(view.grab().toImage(), FACE)
    assert np.array_equal(a, b)  # the picture holds still
    view.set_connection_state("ok")
    clock.run(1.0)
    assert not np.array_equal(_arr(view.grab().toImage(), FACE), b)
    view.set_connection_state("audio_dropped")
    badge = _arr(view.grab().toImage(), QRect(200, 30, 560, 50))
    assert badge[..., 0].mean() - badge[..., 2].mean() > 20  # the red "audio interrupted" badge
    view.set_connection_state("reconnecting")
    dim = _arr(view.grab().toImage(), FACE).mean()
    view.set_connection_state("ok")
    assert _arr(view.grab().toImage(), FACE).mean() - dim > 20


def test_recorded_clip_replaces_the_drawn_patient(maria, qtbot, fixtures):
    view, _ = maria
    drawn = _arr(view.grab().toImage(), FACE)
    assert view.play_clip(str(fixtures("video/talking_nods.mp4")))
    qtbot.waitUntil(lambda: view.clip_playing, timeout=10000)
    shown = _arr(view.grab().toImage(), FACE)
    assert np.abs(shown - drawn).mean() > 20  # the recorded person, not the drawing
    view.stop_clip()
    assert not view.clip_playing
    assert np.abs(_arr(view.grab().toImage(), FACE) - drawn).mean() < 5


def test_a_clip_ends_by_itself_and_an_unreadable_one_is_refused(maria, qtbot, tmp_path):
    import cv2

    view, _ = maria
    short = tmp_path / "short.avi"  # 0.4 s of a plain blue picture
    writer = cv2.VideoWriter(str(short), cv2.VideoWriter_fourcc(*"MJPG"), 10, (320, 240))
    for _ in range(4):
        writer.write(np.full((240, 320, 3), (200, 40, 20), np.uint8))
    writer.release()
    assert view.play_clip(str(short))
    assert view.clip_playing
    centre = _arr(view.grab().toImage(), QRect(470, 260, 20, 20)).mean(axis=(0, 1))
    assert centre[2] > 150 and centre[0] < 80  # blue, as written (BGR in the file, RGB on screen)
    qtbot.waitUntil(lambda: not view.clip_playing, timeout=10000)
    not_video = tmp_path / "notes.mp4"
    not_video.write_text("not a video")
    assert not view.play_clip(str(not_video))
    assert not view.clip_playing


def test_runs_on_its_own_timer(qtbot):
    s = load_scenario(builtin_scenarios_dir() / "phone_preferred.yaml")
    view = PatientView(s.patient, background=s.setting.background)
    qtbot.addWidget(view)
    view.resize(640, 360)
    view.show()
    qtbot.waitUntil(lambda: view.frames >= 10, timeout=20000)


def test_cached_layers_never_show_a_stale_face_or_caption(maria):
    """The head with its eyes, brows and glasses, and the caption strip, are drawn once and reused until
    they change: after an expression change, a blink, a new line or a new caption size, the picture is
    the one drawn afresh (up to the rounding that decides when the features are redrawn)."""
    view, clock = maria
    fig = view._figures[0]
    view.speak("Honestly, I haven't been sleeping much.", 4.0, None)
    clock.run(0.5)
    view.grab()
    kept = fig.face_cache
    view.grab()
    assert fig.face_cache is kept  # nothing moved: reused, not redrawn

    def cached_vs_fresh() -> int:
        """Pixels that differ clearly (a rounding shows as a faint edge, a stale feature as a clear one)."""
        cached = _arr(view.grab().toImage())
        fig.face_cache = view._caption_cache = None
        return int((np.abs(cached - _arr(view.grab().toImage())).max(axis=2) > 48).sum())

    # Each change is made right after a frame was drawn, so the cache holds the picture from before it.
    changes = [lambda: (view.set_emotion("worried"), clock.run(0.4)), lambda: setattr(fig, "gaze", [0.7, 0.4]),
               lambda: setattr(fig, "blink", 1.0), lambda: view.set_caption_style(1.6, True),
               lambda: view.set_caption("Another line, shorter.")]
    for change in changes:
        view.grab()
        change()
        assert cached_vs_fresh() < 10  # a stale eye or caption differs in hundreds of pixels
