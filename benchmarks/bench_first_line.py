"""Start to first patient line, with a cold voice cache (issue target: median <= 3 s on this machine).

    .venv/bin/python benchmarks/bench_first_line.py [--runs 5] [--scenario first-checkin]

Each run is a fresh process with an empty voice cache and data folder; it builds a VisitRunner and calls
`start()` (what pressing Start does), with a recorded clinician (`talking_a.mp4` as camera and
microphone) and no sound card. The time runs from constructing the runner until the engine starts the
first patient line with its rendered audio handed to the player. Two cases:
  - app: the synthesiser and a spare face landmarker were made ready first, as the app does in the
    background at launch, during the pre-visit check and after each visit; the voice cache is empty;
  - cold process: nothing loaded before Start (the worst case, e.g. `trainer run` straight into a visit).
Also printed once: how long rendering every line of the scenario first (the old start-up) takes.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

FIXTURES = Path(os.environ.get("TRAINER_FIXTURES", Path(__file__).resolve().parent.parent.parent / "shared" / "fixtures"))


def one_run(scenario, clip: str) -> tuple[float, bool]:
    from trainer.capture.patient_voice import PatientVoice
    from trainer.core.events import ScenarioEvent
    from trainer.store.db import SessionStore
    from trainer.visit import VisitRunner

    with tempfile.TemporaryDirectory(prefix="bench-first-line-", ignore_cleanup_errors=True) as tmp:
        first = threading.Event()
        got: dict = {}
        runner_box: dict = {}

        def listener(ev):
            if isinstance(ev, ScenarioEvent) and ev.kind == "patient_line" and not first.is_set():
                got["t"] = time.perf_counter()
                got["step"] = ev.data["step"]
                first.set()

        t0 = time.perf_counter()
        runner = VisitRunner(scenario, SessionStore(Path(tmp) / "s.sqlite3"), camera=clip, mic=clip,
                             listener=listener, voice=PatientVoice(cache_dir=Path(tmp) / "voices"),
                             sound_output=False, calibration=None)
        runner_box["r"] = runner
        runner.start()
        first.wait(60)
        audio = runner.patient_line_audio(got["step"]) is not None
        runner.end()
        return got["t"] - t0, audio


def child(scenario_id: str, warm: bool) -> None:
    from trainer.capture.patient_voice import warm_up
    from trainer.core.scenario import discover_scenarios
    from trainer.resources import builtin_scenarios_dir

    scenarios, _ = discover_scenarios([builtin_scenarios_dir()])
    scenario = next(s for s in scenarios if s.id == scenario_id)
    from trainer import visit  # noqa: F401 - imported before timing, as the app has it loaded
    if warm:
        from trainer.analysis import face

        warm_up()  # what MainWindow.prewarm does in the background before Start is pressed
        face.prewarm()
    dt, audio = one_run(scenario, str(FIXTURES / "video" / "talking_a.mp4"))
    print(f"RESULT {dt:.3f} {int(audio)}", flush=True)


def main() -> int:
    import subprocess

    from trainer.capture.patient_voice import PatientVoice
    from trainer.core.scenario import discover_scenarios
    from trainer.resources import builtin_scenarios_dir

    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--scenario", default="first-checkin")
    ap.add_argument("--child", choices=["warm", "cold"], help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.scenario, args.child == "warm")
        return 0
    os.environ.setdefault("TRAINER_DATA_DIR", tempfile.mkdtemp(prefix="bench-data-"))
    os.environ.setdefault("TRAINER_CONFIG_DIR", tempfile.mkdtemp(prefix="bench-config-"))
    scenarios, _ = discover_scenarios([builtin_scenarios_dir()])
    scenario = next(s for s in scenarios if s.id == args.scenario)
    for case in ("warm", "cold"):
        times = []
        for i in range(args.runs):
            proc = subprocess.run([sys.executable, __file__, "--scenario", scenario.id, "--child", case],
                                  capture_output=True, text=True, timeout=300)
            line = next((x for x in proc.stdout.splitlines() if x.startswith("RESULT ")), None)
            if line is None:
                raise SystemExit(f"run failed: {proc.stderr[-800:]}")
            dt, audio = float(line.split()[1]), line.split()[2] == "1"
            times.append(dt)
            print(f"{case} run {i + 1}: first patient line after {dt:.2f} s "
                  f"({'with' if audio else 'WITHOUT'} its voice)", flush=True)
        label = "app (synthesiser and landmarker ready)" if case == "warm" else "cold process"
        print(f"start to first patient line, empty voice cache, {label} [{scenario.id}]: median "
              f"{statistics.median(times):.2f} s (min {min(times):.2f}, max {max(times):.2f}, n={len(times)})",
              flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        PatientVoice(cache_dir=tmp).prepare(scenario)
        print(f"for comparison, rendering all {len(scenario.patient_lines)} lines first: "
              f"{time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
