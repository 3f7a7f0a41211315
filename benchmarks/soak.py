"""Soak: visits back to back in real time for N minutes, with the real call window; memory growth and UI stalls.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/soak.py --minutes 60
    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/soak.py --minutes 8 --scenario first-checkin

Each visit is the simulated clinician (`attentive` profile, fixture voices) on the live code path
(`trainer.sim.run.simulate` with speed=None: wall clock, ticker and playback threads, frames dropped when
analysis falls behind), with a fixture video looping as the camera. Its events go through a new
`EventBridge` into a new `VisitPage`, wired as MainWindow wires them, on the Qt main thread; the page is
torn down after the visit as MainWindow does. The last visit is cut at the deadline.

Printed (targets from the privacy and reliability issue):
- memory: RSS after the first visit (after its teardown) and at the end, and the growth in MB (target
  < 50 MB over 60 minutes), also from the third visit on (what grows after that is not warm-up); after
  every visit the RSS split into private memory and mapped files (library code and fonts read in as
  code paths are first used), and glibc's arenas: how many, what they hold and how much of it is free
  (`--tracemalloc` adds the Python allocation sites that grew most since the first visit);
- UI stalls: a 10 ms QTimer on the main thread records how late each tick fires (in a fixed 1 ms
  histogram, so the meter itself does not grow); p50, p99, max and the number over 100 ms (target: none);
- the main thread's own work: its CPU time per wall second, and per call of each piece of per-frame work
  (the patient view's paint, the self-view's frame, the window's render from the visit state, the event
  drain, the patient's animation step) the median and p99 CPU ms, each without the pieces it calls.
  Thread CPU time leaves out time spent waiting for a CPU or for the GIL, so these figures hold on a busy
  machine; the stalls include both waits.
On a loaded machine the stalls include time the main thread waited for a CPU, not only the app's own work.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QObject, QTimer, Signal  # noqa: E402
from PySide6.QtWidgets import QApplication, QStackedWidget  # noqa: E402

from trainer.cli import _resolve_scenario as load_scenario_ref  # noqa: E402
from trainer.core.threads import MMAP_THRESHOLD, fix_mmap_threshold  # noqa: E402
from trainer.sim.clinician import PROFILES, SpeakerPath  # noqa: E402
from trainer.sim.run import simulate  # noqa: E402
from trainer.sim.voice import ClinicianVoice  # noqa: E402
from trainer.store.db import SessionStore  # noqa: E402
from trainer.ui.bridge import EventBridge  # noqa: E402
from trainer.ui.patient_view import PatientView  # noqa: E402
from trainer.ui.visit_page import VisitPage, close_visit_page  # noqa: E402
from trainer.visit import release_freed_memory  # noqa: E402

FIXTURES = Path(os.environ.get("TRAINER_FIXTURES", REPO.parent / "shared" / "fixtures"))
VOICES = ("video/talking_steady.mp4", "video/talking_glasses.mp4", "video/talking_a.mp4")
CAMERA = "video/talking_nods.mp4"
TICK_MS = 10
STALL_LIMIT_MS = 100


def status_mb(field: str = "VmRSS") -> float:
    """A memory line of /proc/self/status in MB (VmRSS; RssAnon: the heap and other private memory; RssFile:
    pages of mapped files such as shared libraries and fonts, read in as code paths are first used)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def rss_mb() -> float:
    return status_mb("VmRSS")


def malloc_arenas() -> tuple[int, float, float, float] | None:
    """glibc's allocator: (arenas, MB they hold from the system, MB of that free, MB in chunks mapped on
    their own), from malloc_info(); None where the C library has no malloc_info (not glibc). Free memory
    stays counted as held after malloc_trim, which only gives its pages back (they leave the RSS)."""
    import ctypes
    import re

    try:
        libc = ctypes.CDLL(None)
        libc.open_memstream.restype = ctypes.c_void_p
        libc.open_memstream.argtypes = [ctypes.POINTER(ctypes.c_char_p), ctypes.POINTER(ctypes.c_size_t)]
        libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
        libc.fclose.argtypes = [ctypes.c_void_p]
    except (OSError, AttributeError):
        return None
    buf, size = ctypes.c_char_p(), ctypes.c_size_t()
    stream = libc.open_memstream(ctypes.byref(buf), ctypes.byref(size))
    libc.malloc_info(0, stream)
    libc.fclose(stream)
    xml = ctypes.string_at(buf, size.value).decode()
    libc.free(buf)
    tail = xml[xml.rindex("</heap>"):]  # the totals over all arenas follow the last heap
    free = sum(int(m) for m in re.findall(r'<total type="(?:fast|rest)" count="\d+" size="(\d+)"', tail))
    held = int(re.search(r'<system type="current" size="(\d+)"', tail).group(1))
    mapped = re.search(r'<total type="mmap" count="\d+" size="(\d+)"', tail)
    return xml.count("<heap nr="), held / 2**20, free / 2**20, int(mapped.group(1)) / 2**20 if mapped else 0.0


def private_by_kind() -> dict[str, float]:
    """Private resident memory (MB) by kind of mapping, from /proc/self/smaps: malloc's heaps (the main
    heap and the threads' arenas, mapped 64 MB-aligned), thread stacks (8 MB mappings behind a guard
    page) and other anonymous memory (Python's object arenas, large malloc chunks, libraries' own pools)."""
    kinds = {"malloc heaps": 0, "thread stacks": 0, "other anonymous": 0}
    prev_guard = False
    kind = None
    with open("/proc/self/smaps") as f:
        for line in f:
            head = line.split()
            if "-" in head[0] and len(head) >= 5 and not head[0].endswith(":"):
                lo, hi = (int(x, 16) for x in head[0].split("-"))
                path = head[5] if len(head) > 5 else ""
                if path == "[heap]" or (not path and lo % (64 << 20) == 0 and "rw" in head[1]):
                    kind = "malloc heaps"
                elif not path and prev_guard and hi - lo == 8 << 20:
                    kind = "thread stacks"
                elif not path or path.startswith("[anon"):
                    kind = "other anonymous"
                else:
                    kind = None
                prev_guard = head[1] == "---p" and hi - lo == 4096
            elif head[0] == "Anonymous:" and kind is not None:
                kinds[kind] += int(head[1]) / 1024
    return kinds


def memory_text() -> str:
    kinds = ", ".join(f"{k} {v:.1f}" for k, v in private_by_kind().items())
    text = (f"RSS {rss_mb():.1f} MB (private {status_mb('RssAnon'):.1f}: {kinds}; "
            f"mapped files {status_mb('RssFile'):.1f}); Python: {sys.getallocatedblocks():,} blocks")
    arenas = malloc_arenas()
    if arenas is not None:
        text += (f"; malloc: {arenas[0]} arenas holding {arenas[1]:.1f} MB, {arenas[2]:.1f} MB of it free,"
                 f" {arenas[3]:.1f} MB in large chunks")
    return text


def load_text() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


class StallMeter:
    """A TICK_MS timer on the main thread; lateness of each tick in a 1 ms histogram (up to 60 s)."""

    def __init__(self):
        self.hist = np.zeros(60_001, dtype=np.int64)
        self.max_ms = 0.0
        self._last = None
        self.timer = QTimer()
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._tick)

    def start(self):
        self._last = time.monotonic()
        self.timer.start()

    def skip(self):
        """Forget the current interval (around a deliberate screenshot)."""
        self._last = time.monotonic()

    def _tick(self):
        now = time.monotonic()
        late_ms = max(0.0, (now - self._last) * 1000 - TICK_MS)
        self._last = now
        self.hist[min(int(late_ms), len(self.hist) - 1)] += 1
        self.max_ms = max(self.max_ms, late_ms)

    def percentile(self, q: float) -> float:
        n = int(self.hist.sum())
        if n == 0:
            return float("nan")
        return float(np.searchsorted(np.cumsum(self.hist), q / 100 * n))

    def over(self, ms: float) -> int:
        return int(self.hist[int(ms) + 1:].sum())


class StallSampler:
    """Where the main thread is while a tick is overdue: a thread wakes every 10 ms and, once the meter's
    current interval is past STALL_LIMIT_MS, samples the main thread's Python stack (sys._current_frames).
    A stall spent inside one C call holding the GIL is sampled as soon as the call lets the GIL go, so its
    innermost Python frame is the caller. Printed: the stacks seen most, with how many samples each."""

    def __init__(self, meter: "StallMeter", verbose: bool = True):
        import collections

        self.verbose = verbose
        self.meter = meter
        self.main_id = threading.main_thread().ident
        self.counts: collections.Counter = collections.Counter()
        self.stalls: list[tuple[float, float, tuple]] = []  # (monotonic start, ms overdue, first stack)
        self.others: list[list] = []  # per stall, the other threads' stacks when it was first sampled
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="stall-sampler", daemon=True)

    def start(self):
        self._thread.start()

    def stop(self):
        self._stop.set()
        self._thread.join()

    def _stack(self, frame=None) -> tuple:
        if frame is None:
            frame = sys._current_frames().get(self.main_id)
        out = []
        while frame is not None and len(out) < 14:
            code = frame.f_code
            out.append(f"{Path(code.co_filename).name}:{frame.f_lineno} {code.co_name}")
            frame = frame.f_back
        return tuple(out)

    def _run(self):
        seen = None
        while not self._stop.wait(0.01):
            last = self.meter._last
            if last is None:
                continue
            overdue = (time.monotonic() - last) * 1000 - TICK_MS
            if overdue > STALL_LIMIT_MS:
                stack = self._stack()
                self.counts[stack] += 1
                if seen != last:
                    seen = last
                    self.stalls.append((last, overdue, stack))
                    names = {t.ident: t.name for t in threading.enumerate()}
                    self.others.append([(names.get(ident, str(ident)), self._stack(frame)[:5])
                                        for ident, frame in sys._current_frames().items()
                                        if ident not in (self.main_id, threading.get_ident())])
                else:
                    self.stalls[-1] = (last, overdue, self.stalls[-1][2])

    def lines(self, t0: float, top: int = 6) -> list[str]:
        out = [f"  {len(self.stalls)} stalls sampled (start in s from the run's start, ms overdue when last"
               " sampled, innermost frame first):"]
        for (start, ms, stack), others in list(zip(self.stalls, self.others))[:40]:
            out.append(f"    {start - t0:7.1f} s  {ms:5.0f} ms  " + " < ".join(stack[:6]))
            if self.verbose:
                for name, st in others:
                    if st and not st[0].startswith(("threading.py", "queue.py")):
                        out.append(f"        {name}: " + " < ".join(st))
        out.append("  stacks sampled most during stalls (10 ms samples):")
        for stack, n in self.counts.most_common(top):
            out.append(f"    {n} x " + " < ".join(stack))
        return out


class CostMeter:
    """Main-thread CPU time per call of named methods (wrapped on their classes before any instance is
    made), exclusive of the other wrapped methods they call, in fixed 0.02 ms histograms."""

    BIN_MS = 0.02

    def __init__(self):
        self.hists: dict[str, np.ndarray] = {}
        self._stack: list[float] = []  # CPU time of wrapped callees, per open call

    def wrap(self, cls, name: str, label: str) -> None:
        orig = getattr(cls, name)
        hist = self.hists[label] = np.zeros(50_000, dtype=np.int64)  # up to 1 s
        stack, bin_ms = self._stack, self.BIN_MS

        def timed(obj, *args, **kwargs):
            stack.append(0.0)
            t0 = time.thread_time()
            try:
                return orig(obj, *args, **kwargs)
            finally:
                spent = time.thread_time() - t0
                inner = stack.pop()
                if stack:
                    stack[-1] += spent
                hist[min(int((spent - inner) * 1000 / bin_ms), len(hist) - 1)] += 1

        setattr(cls, name, timed)

    def lines(self) -> list[str]:
        out = []
        for label, hist in self.hists.items():
            n = int(hist.sum())
            if n == 0:
                continue
            cum = np.cumsum(hist)
            med, p99 = (float(np.searchsorted(cum, q * n)) * self.BIN_MS for q in (0.5, 0.99))
            out.append(f"  {label}: {n} calls, median {med:.2f} ms, p99 {p99:.2f} ms")
        return out


class Window(QObject):
    """The main-thread side: one bridge and one call page per visit, as MainWindow builds them."""

    setup = Signal(object)
    teardown = Signal()
    done = Signal()  # from the visits thread (a QTimer started there would never fire: it has no event loop)

    def __init__(self, meter: StallMeter, shot: Path | None):
        super().__init__()
        self.stack = QStackedWidget()
        self.stack.resize(1280, 800)
        self.stack.show()
        self.meter = meter
        self.shot = shot
        self.bridge: EventBridge | None = None
        self.page: VisitPage | None = None
        self.ready = threading.Event()
        self.setup.connect(self._setup)
        self.teardown.connect(self._teardown)

    def post(self, ev) -> None:  # worker threads
        b = self.bridge
        if b is not None:
            b.post(ev)

    def _setup(self, runner) -> None:
        b = self.bridge = EventBridge(self)
        page = self.page = VisitPage(runner.scenario, line_audio=runner.patient_line_audio,
                                     overrides=runner.available_overrides())
        self.stack.addWidget(page)
        self.stack.setCurrentWidget(page)
        page.attach(b, runner)  # wired as MainWindow wires it
        page.visit_started()
        if self.shot is not None:
            shot, self.shot = self.shot, None
            QTimer.singleShot(20_000, lambda: self._grab(page, shot))
        self.ready.set()

    def _grab(self, page, path: Path) -> None:
        if self.page is page:
            page.grab().save(str(path))
            print(f"  screenshot of the call window: {path}", flush=True)
        self.meter.skip()

    def _teardown(self) -> None:
        if self.bridge is not None:
            self.bridge.stop()
            self.bridge.deleteLater()
            self.bridge = None
        if self.page is not None:
            close_visit_page(self.stack, self.page)  # as MainWindow closes it
            self.page = None
        self.ready.set()


def print_growth(snapshots, top: int = 8) -> None:
    """The Python allocation sites that grew most between the first and the latest snapshot."""
    if len(snapshots) < 2:
        return
    first, last = snapshots[0], snapshots[-1]
    total = sum(st.size for st in last.statistics("filename")) - sum(st.size for st in first.statistics("filename"))
    print(f"    Python allocations (traced) since visit 1: {total / 2**20:+.2f} MB; largest growth:")
    for st in last.compare_to(first, "lineno")[:top]:
        frame = st.traceback[0]
        print(f"      {st.size_diff / 2**20:+.2f} MB ({st.count_diff:+d} blocks) {frame.filename}:{frame.lineno}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--scenario", default="first-checkin")
    ap.add_argument("--profile", default="attentive", choices=sorted(PROFILES))
    ap.add_argument("--camera", default=str(FIXTURES / CAMERA), help="video looped as the camera")
    ap.add_argument("--screenshot", metavar="PNG", help="save the call window 20 s into the first visit")
    ap.add_argument("--malloc-arenas", type=int, metavar="N",
                    help="limit glibc's allocator to N arenas (mallopt M_ARENA_MAX) before any thread starts; "
                         "its default is 8 per core, 16 here")
    ap.add_argument("--malloc-mmap-threshold", type=int, metavar="BYTES",
                    help="glibc's mmap threshold, fixed as the app fixes it at start (trainer.core.threads."
                         f"fix_mmap_threshold, default {MMAP_THRESHOLD}); 0 leaves glibc's own, which rises to the "
                         "size of the largest block freed (up to 32 MB), so decoded frames come from the arenas")
    ap.add_argument("--tracemalloc", action="store_true",
                    help="trace Python allocations and print the lines whose memory grew most since the first "
                         "visit (a diagnosis run: tracing slows Python down, so the stalls are not comparable)")
    ap.add_argument("--stall-stacks", action="store_true",
                    help="sample the main thread's Python stack while a tick is over 100 ms late, and print the "
                         "stalls and the stacks seen most (a diagnosis run)")
    args = ap.parse_args()

    if args.malloc_arenas:
        import ctypes

        ctypes.CDLL(None).mallopt(-8, args.malloc_arenas)  # M_ARENA_MAX, from glibc's malloc.h
    if args.malloc_mmap_threshold != 0:
        fix_mmap_threshold(args.malloc_mmap_threshold or MMAP_THRESHOLD)  # as trainer.cli.main does
    app = QApplication.instance() or QApplication(sys.argv)
    cost = CostMeter()
    for cls, name, label in ((PatientView, "paintEvent", "patient view paint"),
                             (PatientView, "_advance", "patient animation step"),
                             (VisitPage, "on_preview", "self-view frame"),
                             (VisitPage, "render", "window render"),
                             (EventBridge, "drain", "event drain (the rest)")):
        cost.wrap(cls, name, label)
    scenario = load_scenario_ref(args.scenario)
    voice = ClinicianVoice.from_files([FIXTURES / v for v in VOICES])
    meter = StallMeter()
    win = Window(meter, Path(args.screenshot) if args.screenshot else None)
    win.done.connect(app.quit)
    tmp = tempfile.TemporaryDirectory(prefix="soak-")
    store = SessionStore(Path(tmp.name) / "sessions.sqlite3")
    deadline = time.monotonic() + args.minutes * 60
    out = {"visits": [], "rss": [], "error": None}
    snapshots = []
    if args.tracemalloc:
        import tracemalloc

        tracemalloc.start(4)

    def on_runner(runner):
        if args.stall_stacks:
            print(f"  visit {len(out['visits']) + 1} starts at {time.monotonic() - wall0:.1f} s", flush=True)
        win.ready.clear()
        win.setup.emit(runner)
        win.ready.wait()  # the bridge exists before the runner posts its first event

    def worker():
        try:
            while time.monotonic() < deadline:
                left = deadline - time.monotonic()
                res = simulate(scenario, store, profile=PROFILES[args.profile], voice=voice,
                               camera=Path(args.camera), speaker=SpeakerPath(), speed=None,
                               listener=win.post, on_runner=on_runner, max_session_s=max(left, 1.0))
                duration, wall = res.report["duration_s"], res.wall_s
                # Only the figures printed are kept: a visit's whole report (turns, events) is 1-2 MB of
                # Python objects, and keeping every one grew this process by about 35 MB over 60 minutes.
                del res  # the finished runner, as MainWindow drops it after the visit
                if args.stall_stacks:
                    print(f"  teardown at {time.monotonic() - wall0:.1f} s", flush=True)
                win.ready.clear()
                win.teardown.emit()
                win.ready.wait()
                time.sleep(1.5)  # let the deleteLater()s and the memory release after them run
                gc.collect()
                release_freed_memory()  # what this collection freed goes back too: the RSS is what is kept
                out["rss"].append(rss_mb())
                out["visits"].append(duration)
                print(f"  visit {len(out['visits'])}: {duration:.0f} s session, wall {wall:.0f} s,"
                      f" {memory_text()}", flush=True)
                if args.tracemalloc:
                    snapshots.append(tracemalloc.take_snapshot())
                    print_growth(snapshots)
        except BaseException as exc:  # noqa: BLE001 - reported below
            out["error"] = exc
        finally:
            win.done.emit()

    print(f"soak: {args.minutes:g} min of '{scenario.id}' visits ({args.profile}), camera {Path(args.camera).name},"
          f"{f' malloc arenas at most {args.malloc_arenas},' if args.malloc_arenas else ''}"
          f" mmap threshold {'glibc' if args.malloc_mmap_threshold == 0 else args.malloc_mmap_threshold or MMAP_THRESHOLD},"
          f" pid {os.getpid()}, nice {os.nice(0)}, RSS at start {rss_mb():.1f} MB, load average {load_text()}",
          flush=True)
    meter.start()
    sampler = StallSampler(meter) if args.stall_stacks else None
    if sampler is not None:
        sampler.start()
    t = threading.Thread(target=worker, name="soak-visits", daemon=True)
    QTimer.singleShot(0, t.start)
    cpu0, proc0, wall0 = time.thread_time(), time.process_time(), time.monotonic()
    app.exec()
    wall = time.monotonic() - wall0
    ui_cpu, proc_cpu = (time.thread_time() - cpu0) / wall * 100, (time.process_time() - proc0) / wall * 100
    t.join()
    meter.timer.stop()
    if sampler is not None:
        sampler.stop()
    if out["error"] is not None:
        print(f"FAILED: {type(out['error']).__name__}: {out['error']}")
        return 1
    gc.collect()
    release_freed_memory()
    end = rss_mb()
    rss = out["rss"]
    n = int(meter.hist.sum())
    print(f"visits: {len(out['visits'])} (the last cut at the deadline if it was still running)")
    print(f"memory at the end: {memory_text()}")
    print(f"memory: RSS after the first visit {rss[0]:.1f} MB, at the end {end:.1f} MB, "
          f"growth {end - rss[0]:+.1f} MB (target < 50 MB)" +
          (f"; after the third visit {rss[2]:.1f} MB, growth since {end - rss[2]:+.1f} MB" if len(rss) >= 3 else ""))
    print(f"UI stalls ({n} ticks of a {TICK_MS} ms timer, lateness): p50 {meter.percentile(50):.0f} ms, "
          f"p99 {meter.percentile(99):.0f} ms, max {meter.max_ms:.0f} ms, "
          f"over {STALL_LIMIT_MS} ms: {meter.over(STALL_LIMIT_MS)} (target none)")
    print(f"CPU over the run, in % of one core: the whole process {proc_cpu:.0f} %, its main thread {ui_cpu:.1f} %;"
          " the main thread per call (CPU ms, own work):")
    print("\n".join(cost.lines()))
    if sampler is not None:
        print("\n".join(sampler.lines(wall0)))
    print(f"load average at the end: {load_text()} (1, 5, 15 min; this machine has {os.cpu_count()} cores)")
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
