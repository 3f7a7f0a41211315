"""Cold start to the first window of a trainer executable, under a virtual X server.

    python packaging/measure_first_window.py DIST/trainer/trainer [--runs 3] [--json OUT.json]

Starts one Xvfb (so its own start-up is not counted), then launches `EXE gui --exit-after-first-window`
RUNS times. Each launch is timed from process start until the app prints its `first-window` line (the
main window has been shown and the event loop has run once). The first launch after a build is the
coldest this machine offers without dropping the page cache; the script says whether it could drop it
(root only, and only where /proc/sys/vm/drop_caches is writable).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def drop_page_cache() -> bool:
    try:
        os.sync()
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
        return True
    except OSError:
        return False


def launch(exe: str, env: dict, timeout: float) -> float:
    t0 = time.perf_counter()
    proc = subprocess.Popen([exe, "gui", "--exit-after-first-window"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    seen = None
    try:
        for line in proc.stdout:
            if line.startswith("first-window"):
                seen = time.perf_counter() - t0
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise SystemExit(f"{exe} did not exit within {timeout:.0f} s")
    err = proc.stderr.read()
    if proc.returncode != 0 or seen is None:
        raise SystemExit(f"{exe} gui --exit-after-first-window failed (exit {proc.returncode}); "
                         f"no first-window line. stderr tail:\n{err[-1500:]}")
    return seen


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("exe")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--drop-caches", action="store_true", help="try to drop the page cache before run 1")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    if not shutil.which("Xvfb"):
        print("Xvfb is not installed (apt-get install xvfb)", file=sys.stderr)
        return 2
    display = f":{90 + os.getpid() % 9}"
    xvfb = subprocess.Popen(["Xvfb", display, "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)
    if xvfb.poll() is not None:
        print(f"Xvfb could not start on {display}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="trainer-start-") as data:
        env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "PYTHONPATH", "PYTHONHOME")}
        env.update(DISPLAY=display, TRAINER_DATA_DIR=data)
        try:
            dropped = drop_page_cache() if args.drop_caches else False
            times = [launch(args.exe, env, args.timeout) for _ in range(args.runs)]
        finally:
            xvfb.terminate()
            xvfb.wait(timeout=10)
    result = {
        "first_launch_s": round(times[0], 3),
        "median_s": round(statistics.median(times), 3),
        "runs_s": [round(t, 3) for t in times],
        "page_cache_dropped": dropped,
        "display": "Xvfb (xcb)",
    }
    cache = "page cache dropped first" if dropped else "page cache not dropped"
    print(f"cold start to first window: first launch {times[0]:.2f} s ({cache}), "
          f"median of {len(times)} {statistics.median(times):.2f} s, runs "
          + ", ".join(f"{t:.2f}" for t in times))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
