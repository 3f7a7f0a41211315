"""Memory a finished visit's threads freed goes back to the system (trainer.visit.release_freed_memory,
called at the end of every VisitRunner.end()): without it glibc keeps each thread arena's freed pages and
the process grows visit after visit (benchmarks/soak.py prints the growth over an hour)."""

from __future__ import annotations

import sys
import threading

import numpy as np
import pytest

from trainer.visit import release_freed_memory


def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc and glibc's allocator")
def test_memory_freed_by_ended_threads_is_returned():
    survivors = []

    def work():  # many small buffers, as a visit's audio blocks and frames are (below glibc's mmap size),
        # then one small object that outlives the thread (a result, an event): it sits at the top of the
        # thread's heap, so the allocator cannot shrink the heap by itself
        buffers = [np.ones(4096 + i % 512) for i in range(1600)]  # about 55 MB per thread
        survivors.append(np.ones(16))
        del buffers

    release_freed_memory()  # what earlier work in this process left is not counted
    base = _rss_mb()
    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    held = _rss_mb()
    release_freed_memory()
    after = _rss_mb()
    # The four threads allocated about 220 MB; without the release glibc kept about 130 MB of it here.
    assert after - base < 40, f"RSS {base:.0f} MB, {held:.0f} MB after the threads, {after:.0f} MB after release"
