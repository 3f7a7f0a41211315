"""Thread priorities: background work (voice rendering, video encoding) yields to the live analysis."""

from __future__ import annotations

import os
import threading


def lower_thread_priority(niceness: int = 15) -> None:
    """Run the calling thread at a lower priority where the OS allows it per thread (Linux): background
    work must not take CPU from the real-time analysis it shares the machine with. Does nothing where
    per-thread priorities are not available."""
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + niceness))
    except (AttributeError, OSError):
        pass
