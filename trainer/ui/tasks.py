"""The one helper for background work in the GUI.

`run_task(fn, on_done, on_error, on_progress)` runs `fn(progress, cancelled)` on Qt's thread pool;
`progress(done, total, text)` and the result or exception come back to the main thread through queued
signals. Returns a Task whose `cancel()` sets the flag `cancelled()` reads.

`start_background(fn, name)` is for work whose result nothing in the UI waits for (the visit pre-warm).
`wait_for_background(timeout_s)` is the quit path's half: the app calls it once, after its event loop has
ended and its window is hidden, so no background work is still inside native code (ONNX Runtime, MediaPipe)
when the interpreter finalises. A daemon thread caught there is ended with pthread_exit, and
unwinding through a C++ frame that cannot unwind calls std::terminate ("terminate called without an active
exception", exit status 134: the packaged app's cold start hit it every time).
"""

from __future__ import annotations

import threading
import time
import traceback
from typing import Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal


class _Signals(QObject):
    done = Signal(object)
    failed = Signal(object)
    progress = Signal(int, int, str)


class Task(QRunnable):
    def __init__(self, fn: Callable):
        super().__init__()
        self.fn = fn
        self.signals = _Signals()
        self._cancel = threading.Event()
        self.setAutoDelete(False)  # we keep a reference; Qt must not delete the C++ side under us

    def cancel(self) -> None:
        self._cancel.set()

    def run(self) -> None:  # on a pool thread
        try:
            result = self.fn(lambda d, t, text="": self._emit(self.signals.progress, int(d), int(t), str(text)),
                             self._cancel.is_set)
        except BaseException as exc:  # noqa: BLE001 - delivered to on_error on the main thread
            exc.__traceback_text__ = traceback.format_exc()
            self._emit(self.signals.failed, exc)
            return
        self._emit(self.signals.done, result)

    @staticmethod
    def _emit(signal, *args) -> None:
        try:
            signal.emit(*args)
        except RuntimeError:  # the app quit while the task ran (e.g. scenarios still loading): nobody to tell
            pass


_running: set[Task] = set()
_threads: list[threading.Thread] = []
_threads_lock = threading.Lock()


def run_task(fn: Callable, on_done: Callable[[object], None] | None = None,
             on_error: Callable[[BaseException], None] | None = None,
             on_progress: Callable[[int, int, str], None] | None = None) -> Task:
    """Run fn(progress, cancelled) in the background; callbacks run on the main thread."""
    task = Task(fn)
    _running.add(task)

    def finished(_=None):
        _running.discard(task)

    if on_done:
        task.signals.done.connect(on_done)
    if on_error:
        task.signals.failed.connect(on_error)
    else:
        def reraise(exc):
            raise exc
        task.signals.failed.connect(reraise)
    if on_progress:
        task.signals.progress.connect(on_progress)
    task.signals.done.connect(finished)
    task.signals.failed.connect(finished)
    QThreadPool.globalInstance().start(task)
    return task


def start_background(fn: Callable[[], None], name: str) -> threading.Thread:
    """Run fn() on a thread of its own that `wait_for_background` waits for at quit. Daemon only so that a
    hung one cannot keep the process alive; the quit path joins it before the interpreter finalises."""
    th = threading.Thread(target=fn, name=name, daemon=True)
    with _threads_lock:
        _threads[:] = [t for t in _threads if t.is_alive()]
        _threads.append(th)
    th.start()
    return th


def wait_for_background(timeout_s: float) -> bool:
    """Wait up to timeout_s in all for run_task's pool and start_background's threads to finish; cancel
    the run_task tasks first. True if nothing is left running."""
    deadline = time.monotonic() + timeout_s
    for task in list(_running):
        task.cancel()
    with _threads_lock:
        threads = list(_threads)
    for th in threads:
        th.join(max(0.0, deadline - time.monotonic()))
    pool_done = QThreadPool.globalInstance().waitForDone(int(max(0.0, deadline - time.monotonic()) * 1000))
    return pool_done and not any(th.is_alive() for th in threads)
