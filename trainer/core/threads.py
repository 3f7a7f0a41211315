"""Thread priorities: background work (voice rendering, video encoding) yields to the live analysis; and
the allocator setting that keeps the threads' memory from fragmenting (`fix_mmap_threshold`)."""

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


#: Blocks from this size up get their own mapping from glibc's allocator and go back to the system when
#: freed: decoded camera frames (640x480x3 = 0.9 MB) and the analysis's frame-sized arrays.
MMAP_THRESHOLD = 512 * 1024


def fix_mmap_threshold(nbytes: int = MMAP_THRESHOLD) -> bool:
    """Fix glibc's mmap threshold at `nbytes` for this process (call it before threads start). By default
    glibc raises the threshold to the size of the largest block freed so far (up to 32 MB), after which
    every decoded frame and frame-sized array of a visit comes from the threads' arenas, which fragment:
    in a 60-minute soak the arenas kept about 40 MB more resident by the 7th visit that malloc_trim could
    not give back (benchmarks/soak.py; with the threshold fixed, 78 MB less after the first visit and
    flat). The cost is a fresh mapping per large block (page faults, under 1 % of a core at 15 frames a
    second). Returns False where the C library has no mallopt (macOS, Windows, musl ignore it)."""
    import ctypes

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError, TypeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    return bool(mallopt(-3, nbytes))  # M_MMAP_THRESHOLD in glibc's malloc.h
