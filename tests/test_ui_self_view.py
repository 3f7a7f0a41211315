"""The self-view's frames are scaled and mirrored on the thread that posts them (EventBridge.prepare), and
show the same picture, face box and head arrow as a frame prepared on the UI thread."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import numpy as np
from PySide6.QtGui import QImage

from trainer.ui.bridge import EventBridge
from trainer.ui.visit_page import SELF_VIEW_H, SELF_VIEW_W, SelfView, SelfViewFrame, prepare_preview, prepare_self_view
from trainer.visit import FramePreview


def _rgb(img: QImage) -> np.ndarray:
    img = img.convertToFormat(QImage.Format_RGB888)
    a = np.frombuffer(img.constBits(), np.uint8, img.sizeInBytes()).reshape(img.height(), img.bytesPerLine())
    return a[:, :3 * img.width()].reshape(img.height(), img.width(), 3)


def _camera_frame(w=700, h=700) -> np.ndarray:
    """BGR: red on the camera's left half, blue on its right half."""
    img = np.zeros((h, w, 3), np.uint8)
    img[:, : w // 2] = (0, 0, 255)
    img[:, w // 2:] = (255, 0, 0)
    return img


def test_frames_are_mirrored_scaled_to_cover_and_the_face_box_follows(qtbot):
    face = SimpleNamespace(face=True, bbox=(0.1, 0.4, 0.3, 0.6), yaw=10.0, pitch=0.0)  # on the camera's left
    for w, h in ((700, 700), (1280, 720), (640, 480)):
        frame = prepare_self_view(_camera_frame(w, h), face)
        assert (frame.image.width(), frame.image.height()) == (SELF_VIEW_W, SELF_VIEW_H)
        rgb = _rgb(frame.image)
        assert rgb[:, :40].mean(axis=(0, 1)).argmax() == 2  # mirrored: the camera's right (blue) on the left
        assert rgb[:, -40:].mean(axis=(0, 1)).argmax() == 0
        assert frame.box is not None and frame.box.center().x() > SELF_VIEW_W / 2  # the box is mirrored too
        assert abs(frame.box.center().y() - SELF_VIEW_H / 2) < 2
    assert prepare_self_view(_camera_frame(), SimpleNamespace(face=False, bbox=None)).box is None
    view = SelfView()
    qtbot.addWidget(view)
    view.show_frame(_camera_frame(), face)
    shown = _rgb(view.pixmap().toImage())
    assert shown.shape == (SELF_VIEW_H, SELF_VIEW_W, 3)
    assert (np.abs(shown.astype(int) - (80, 220, 140)).sum(axis=2) < 60).any()  # the green face box


def test_the_bridge_prepares_frames_on_the_posting_thread(qtbot):
    bridge = EventBridge()
    got, threads = [], []

    def prepare(ev):
        threads.append(threading.get_ident())
        return prepare_preview(ev)

    bridge.prepare(FramePreview, prepare)
    bridge.preview.connect(got.append)
    preview = FramePreview(SimpleNamespace(image=_camera_frame()), None)
    worker = threading.Thread(target=bridge.post, args=(preview,))
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: bool(got), timeout=10000)
    assert isinstance(got[0], SelfViewFrame) and threads == [worker.ident]
    # A preparation that fails never fails the worker: the frame itself is delivered (the UI prepares it).
    bridge.prepare(FramePreview, lambda ev: 1 / 0)
    bridge.post(preview)
    qtbot.waitUntil(lambda: len(got) == 2, timeout=10000)
    assert got[1] is preview
    bridge.stop()
