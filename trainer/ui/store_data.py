"""The GUI's side of the session store: reads off the main thread, and a signal when the store changes.

The app has one SessionStore (trainer.store.db), the owner of the database. `StoreData` wraps it for the
pages: `read(key, fn, on_done)` runs `fn(store)` on the thread pool (trainer.ui.tasks.run_task) and hands
the result to `on_done` on the main thread; a newer read with the same key supersedes an older one still
running, so a page never shows stale rows after a quick series of changes. A read that finishes after the
window closed (or was deleted) is dropped: its pages are gone. `changed` carries each
store.db.StoreChange (a visit saved, an import, a delete, a note or a rating), always queued to the main
thread, whichever thread made the change: pages that show the session(s) concerned reload themselves.
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QObject, Qt, Signal

from trainer.store.db import SessionStore, StoreChange
from trainer.ui.tasks import run_task


class StoreData(QObject):
    changed = Signal(object)  # store.db.StoreChange, on the main thread
    _posted = Signal(object)  # emitted on whichever thread changed the store

    def __init__(self, store: SessionStore, parent=None):
        super().__init__(parent)
        self.store = store
        self.pending = 0  # reads still running (tests wait for 0)
        self._latest: dict[str, object] = {}
        self._closed = False
        self._posted.connect(self.changed, Qt.QueuedConnection)
        self._remove = store.add_listener(self._posted.emit)
        self.destroyed.connect(lambda *_: self.close())

    def close(self) -> None:
        """Stop hearing about changes and drop the results of reads still running (the window is going
        away; a result handed to a deleted page raised "Internal C++ object already deleted")."""
        self._closed = True
        self._remove()

    def read(self, key: str, fn: Callable[[SessionStore], object], on_done: Callable[[object], None],
             on_error: Callable[[BaseException], None] | None = None):
        """Run fn(store) in the background; on_done(result) on the main thread unless a newer read with the
        same key was asked for meanwhile. Errors go to on_error (else to the app's excepthook)."""
        store = self.store
        self.pending += 1
        token = object()
        self._latest[key] = token

        def current() -> bool:
            return not self._closed and self._latest.get(key) is token

        def done(result) -> None:
            self.pending -= 1
            if current():
                on_done(result)

        def failed(exc: BaseException) -> None:
            self.pending -= 1
            if not current():
                return
            if on_error is None:
                raise exc
            on_error(exc)

        return run_task(lambda progress, cancelled: fn(store), on_done=done, on_error=failed)


def concerns(change: StoreChange, session_id: int | None) -> bool:
    """Whether a change touches the session a page shows."""
    return session_id is not None and session_id in change.session_ids
