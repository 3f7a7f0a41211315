"""Start-up figures: `trainer --version` and cold start to the first window.

    .venv/bin/python benchmarks/bench_startup.py [--runs 7]

Prints medians and spreads over several runs (this machine is shared and noisy). The first-window time is
measured from launching the process until the window has been shown and the event loop has run once
(`trainer gui --exit-after-first-window` prints a line then quits). It runs under Xvfb when available (a
real X11 window), else with Qt offscreen.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TRAINER = str(Path(sys.executable).with_name("trainer"))


def timed(cmd, env) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    dt = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {proc.stderr[-800:]}")
    return dt


def first_window_times(runs: int, env) -> tuple[list[float], str]:
    times = []
    if shutil.which("Xvfb"):
        # One X server for all runs so that its own start-up is not counted.
        display = ":97"
        xvfb = subprocess.Popen(["Xvfb", display, "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.0)
        env = {**env, "DISPLAY": display}
        env.pop("QT_QPA_PLATFORM", None)
        how = "Xvfb (xcb)"
    else:
        xvfb = None
        env = {**env, "QT_QPA_PLATFORM": "offscreen"}
        how = "Qt offscreen"
    try:
        for _ in range(runs):
            times.append(timed([TRAINER, "gui", "--exit-after-first-window"], env))
    finally:
        if xvfb is not None:
            xvfb.terminate()
    return times, how


def fmt(xs: list[float]) -> str:
    return f"median {statistics.median(xs) * 1000:.0f} ms (min {min(xs) * 1000:.0f}, max {max(xs) * 1000:.0f}, n={len(xs)})"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    env = {**os.environ, "TRAINER_DATA_DIR": tempfile.mkdtemp(prefix="trainer-bench-")}
    version = [timed([TRAINER, "--version"], env) for _ in range(args.runs)]
    print(f"trainer --version: {fmt(version)}")
    fw, how = first_window_times(args.runs, env)
    print(f"cold start to first window [{how}]: {fmt(fw)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
