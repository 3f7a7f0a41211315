"""A background read of the session store that finishes after the window closed (trainer/ui/store_data.py).
The whole-visit GUI test once ended with the progress page's read still running: its result reached the
deleted page ("Internal C++ object already deleted", CI of 30 Nov). The result is dropped instead."""

from __future__ import annotations

import threading

import shiboken6
from PySide6.QtCore import QThreadPool

import pytest

from trainer.store.db import SessionStore
from trainer.ui.main_window import MainWindow


@pytest.mark.parametrize("closed", [True, False], ids=["closed-then-deleted", "deleted"])
def test_a_read_finishing_after_the_window_is_gone_is_dropped(qtbot, tmp_path, closed):
    store = SessionStore(tmp_path / "s.db")
    window = MainWindow(camera="7", mic=None, store=store)
    window.show()
    qtbot.waitUntil(lambda: window.data.pending == 0, timeout=30000)
    release, shown, ran = threading.Event(), [], []

    def slow_progress(s):  # the store read, held until the window is gone
        release.wait(30)
        ran.append(True)
        return s.progress(None, None)

    page = window.progress_page
    window.data.read("progress", slow_progress, lambda data: (shown.append(data), page.show_progress(data)))
    if closed:
        window.close()
    shiboken6.delete(window)  # the pages' C++ objects are gone, as after the window's teardown
    assert not shiboken6.isValid(page)
    release.set()
    assert QThreadPool.globalInstance().waitForDone(30000)
    qtbot.wait(200)  # the finished read's queued result is delivered here (pytest-qt fails on an exception)
    assert ran and shown == []
