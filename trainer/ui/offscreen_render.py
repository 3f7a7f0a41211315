"""Render one frame of the patient view without a screen (used by `trainer --self-test`).

Lives in trainer.ui because it is Qt code; the self-test reaches it lazily.
"""

from __future__ import annotations

import os
import sys


def _application():
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        # The offscreen platform needs no display, so the self-test runs on a headless machine, over SSH
        # and in CI alike. Only set when no application exists yet: an open app keeps its own platform.
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        app = QApplication(sys.argv[:1])
    return app


def render_patient_frame(persona, width: int = 640, height: int = 480) -> tuple[int, int, int]:
    """Build the patient view for `persona`, grab one frame and return (width, height, distinct colours in
    a 16x16 sample grid). Raises RuntimeError when the frame is empty or a single flat colour."""
    app = _application()
    from trainer.ui.patient_view import PatientView

    view = PatientView(persona)
    try:
        view.resize(width, height)
        app.processEvents()
        image = view.grab().toImage()
        if image.isNull() or image.width() == 0 or image.height() == 0:
            raise RuntimeError("the patient view rendered an empty image")
        colours = {
            image.pixel(int((i + 0.5) * image.width() / 16), int((j + 0.5) * image.height() / 16))
            for i in range(16) for j in range(16)
        }
        if len(colours) < 2:
            raise RuntimeError("the patient view rendered a single flat colour (nothing was drawn)")
        return image.width(), image.height(), len(colours)
    finally:
        view.close()
        view.deleteLater()
