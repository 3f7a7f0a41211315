"""The self-test's patient-view check: one frame rendered offscreen (Qt; runs in the GUI pass)."""

from __future__ import annotations

import importlib.util
import sys
import types

import pytest

from trainer.selftest import FAIL, OK, SKIP, check_patient_view, run_check


def test_patient_view_check_on_this_build(qtbot):
    r = run_check("patient view", check_patient_view)
    if importlib.util.find_spec("trainer.ui.patient_view") is None:
        assert r.status == SKIP and "not part of this build" in r.detail
    else:
        assert r.status == OK, r.detail
        assert "rendered offscreen, 640x480 px" in r.detail


def _fake_view_module(paint):
    from PySide6.QtGui import QColor, QPainter
    from PySide6.QtWidgets import QWidget

    class PatientView(QWidget):
        def __init__(self, persona):
            super().__init__()
            self.persona = persona

        def paintEvent(self, event):
            p = QPainter(self)
            p.fillRect(self.rect(), QColor("#203040"))
            if paint:
                p.setBrush(QColor("#e0b090"))
                p.drawEllipse(self.rect().center(), 80, 100)
            p.end()

    mod = types.ModuleType("trainer.ui.patient_view")
    mod.PatientView = PatientView
    return mod


@pytest.mark.parametrize("paint, status", [(True, OK), (False, FAIL)])
def test_render_detects_a_frame_with_nothing_drawn(qtbot, monkeypatch, paint, status):
    import trainer.ui

    mod = _fake_view_module(paint)
    monkeypatch.setitem(sys.modules, "trainer.ui.patient_view", mod)
    monkeypatch.setattr(trainer.ui, "patient_view", mod, raising=False)
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: object() if name == "trainer.ui.patient_view" else real_find_spec(name, *a))
    r = run_check("patient view", check_patient_view)
    assert r.status == status, r.detail
    if status == FAIL:
        assert "single flat colour" in r.detail
