"""Start-up figures: `trainer --version` and cold start to the first window.

    .venv/bin/python benchmarks/bench_startup.py [--runs 7] [--pack-steps 5000]

Prints medians and spreads over several runs (this machine is shared and noisy). The first-window time is
measured from launching the process until the window has been shown and the event loop has run once
(`trainer gui --exit-after-first-window` prints a line then quits; the time is taken when the line is read). It runs under Xvfb when available (a
real X11 window), else with Qt offscreen. `--pack-steps N` adds a site policy with a scenario pack of
one generated N-step scenario (benchmarks/bench_scenario_size.py): the packs are checked in the background,
so the first window should not wait for them.
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


def until_first_window(cmd, env) -> float:
    """Seconds from launch until the app prints its first-window line (its exit may come later: the
    thread pool finishes checking the scenario packs before the process ends)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    dt = None
    for line in proc.stdout:
        if line.startswith("first-window"):
            dt = time.perf_counter() - t0
    err = proc.stderr.read()
    if proc.wait(timeout=120) != 0 or dt is None:
        raise SystemExit(f"{' '.join(cmd)} failed: {err[-800:]}")
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
            times.append(until_first_window([TRAINER, "gui", "--exit-after-first-window"], env))
    finally:
        if xvfb is not None:
            xvfb.terminate()
    return times, how


def fmt(xs: list[float]) -> str:
    return f"median {statistics.median(xs) * 1000:.0f} ms (min {min(xs) * 1000:.0f}, max {max(xs) * 1000:.0f}, n={len(xs)})"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--pack-steps", type=int, default=0, help="also a scenario pack of one N-step scenario")
    args = ap.parse_args()
    env = {**os.environ, "TRAINER_DATA_DIR": tempfile.mkdtemp(prefix="trainer-bench-")}
    if args.pack_steps:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from bench_scenario_size import generated_scenario

        pack = Path(tempfile.mkdtemp(prefix="trainer-bench-pack-"))
        (pack / "big.yaml").write_text(generated_scenario(args.pack_steps), encoding="utf-8")
        policy = Path(tempfile.mkdtemp(prefix="trainer-bench-policy-")) / "policy.yaml"
        policy.write_text(f"version: 1\nscenario_packs:\n  - {pack}\n", encoding="utf-8")
        env["TRAINER_POLICY"] = str(policy)
    version = [timed([TRAINER, "--version"], env) for _ in range(args.runs)]
    print(f"trainer --version: {fmt(version)}")
    fw, how = first_window_times(args.runs, env)
    pack = f", with a {args.pack_steps}-step scenario pack" if args.pack_steps else ""
    print(f"cold start to first window [{how}{pack}]: {fmt(fw)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
