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


_PROBE = """
import ctypes, sys
import numpy as np
from trainer.core.threads import fix_mmap_threshold

class MallInfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
                                               "fsmblks", "uordblks", "fordblks", "keepcost")]

libc = ctypes.CDLL(None)
libc.mallinfo2.restype = MallInfo2
if sys.argv[1] == "fixed":
    assert fix_mmap_threshold()
big = np.ones(4_000_000 // 8)  # a 4 MB block freed: glibc's own threshold rises to 4 MB
del big
before = libc.mallinfo2().hblks
frame = np.ones(921_600, dtype=np.uint8)  # a 640x480 colour frame
print(libc.mallinfo2().hblks - before)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator")
def test_frames_get_their_own_mapping_once_the_threshold_is_fixed():
    """With glibc's own threshold a frame-sized block comes from the arena once a larger block has been
    freed (and fragments it); with the app's fixed threshold it is mapped on its own (returned when
    freed). Each case in a fresh process: the threshold is process-wide."""
    import subprocess

    def mapped(mode: str) -> int:
        out = subprocess.run([sys.executable, "-c", _PROBE, mode], capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        return int(out.stdout.strip())

    assert mapped("glibc") == 0
    assert mapped("fixed") == 1
