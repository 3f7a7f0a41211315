"""Benchmark: the animated patient's frame rate and CPU cost.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_patient.py [--seconds 10] [--runs 3]

Shows a PatientView (960x540, a speaking patient changing emotion every 2 s, as in a visit) driven by its
own 33 ms timer, and measures frames painted per second and process CPU time per wall second
(% of one core) for each run; prints the medians. Offscreen, painting is real (raster) but nothing is
composited to a screen; a window manager would add its own cost on top.
Target: >= 30 fps using <= 20 % of one core.

    ... bench_patient.py --screenshots docs/images   also saves docs/images/patient_<emotion>.png (one per
    emotion, 960x540, after the expression has settled) plus patient_caregiver.png and patient_frozen.png.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from PySide6.QtCore import QEventLoop, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from trainer.core.scenario import load_scenario  # noqa: E402
from trainer.resources import builtin_scenarios_dir  # noqa: E402
from trainer.ui.patient_view import EMOTIONS, PatientView  # noqa: E402


def run_once(app: QApplication, seconds: float, scenario: str, caregiver: bool) -> tuple[float, float, float]:
    s = load_scenario(builtin_scenarios_dir() / scenario)
    view = PatientView(s.patient, background=s.setting.background)
    if caregiver and s.caregiver is not None:
        view.set_caregiver(s.caregiver.persona)
    view.resize(960, 540)
    view.show()
    rng = np.random.default_rng(0)
    envelope = np.clip(0.5 + 0.5 * np.sin(np.arange(1000) / 3.0) + rng.normal(0, 0.1, 1000), 0, 1)
    state = {"i": 0}

    def next_line():
        state["i"] += 1
        view.set_emotion(EMOTIONS[state["i"] % len(EMOTIONS)])
        view.speak("I've been taking my pressure every morning, like you asked me to.", 1.8, envelope)

    lines = QTimer()
    lines.timeout.connect(next_line)
    lines.start(2000)
    next_line()
    loop = QEventLoop()
    QTimer.singleShot(500, loop.quit)  # warm-up: caches, fonts
    loop.exec()
    f0, c0, t0 = view.frames, time.process_time(), time.perf_counter()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()
    wall = time.perf_counter() - t0
    fps = (view.frames - f0) / wall
    cpu = (time.process_time() - c0) / wall * 100
    # Painting cost alone: render frames back to back.
    t1 = time.perf_counter()
    n = 60
    for _ in range(n):
        view.advance()
        view.grab_frame()
    paint_ms = (time.perf_counter() - t1) / n * 1000
    lines.stop()
    view.close()
    view.deleteLater()
    return fps, cpu, paint_ms


def screenshots(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    s = load_scenario(builtin_scenarios_dir() / "first_checkin.yaml")
    lines = {ln.emotion: ln.text for ln in s.patient_lines}
    view = PatientView(s.patient, background=s.setting.background, animate=False)
    view.resize(960, 540)
    t = [0.0]
    view.set_time_source(lambda: t[0])

    def settle(seconds: float = 1.5) -> None:
        for _ in range(int(seconds / 0.033)):
            t[0] += 0.033
            view.advance()

    for emotion in EMOTIONS:
        view.set_emotion(emotion)
        view.set_caption(lines.get(emotion, ""))
        settle()
        # Eyes open and on the clinician for the still picture (blinks and glances are animated).
        fig = view._figures[0]
        fig.blink, fig.gaze = 0.0, [0.0, 0.0]
        view.grab().save(str(folder / f"patient_{emotion}.png"))
        print("saved", folder / f"patient_{emotion}.png")
    c = load_scenario(builtin_scenarios_dir() / "caregiver_daughter.yaml")
    both = PatientView(c.patient, background=c.setting.background, animate=False)
    both.resize(960, 540)
    both.set_time_source(lambda: t[0])
    both.set_caregiver(c.caregiver.persona)
    both.set_emotion("relieved")
    both.set_emotion("smiling", speaker="caregiver")
    both.speak(c.step("denise_hello").text, 6.0, None, speaker="caregiver")
    for _ in range(45):
        t[0] += 0.033
        both.advance()
    both.grab().save(str(folder / "patient_caregiver.png"))
    view.set_emotion("confused")
    view.set_caption("")
    settle()
    view.set_connection_state("frozen")
    view.grab().save(str(folder / "patient_frozen.png"))
    print("saved caregiver and frozen pictures")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--screenshots", type=Path, metavar="DIR")
    args = ap.parse_args()
    app = QApplication.instance() or QApplication(sys.argv)
    if args.screenshots:
        screenshots(args.screenshots)
        return 0
    ok = True
    for scenario, caregiver, label in (("first_checkin.yaml", False, "patient alone"),
                                       ("caregiver_daughter.yaml", True, "patient + caregiver")):
        results = [run_once(app, args.seconds, scenario, caregiver) for _ in range(args.runs)]
        fps = statistics.median(r[0] for r in results)
        cpu = statistics.median(r[1] for r in results)
        paint = statistics.median(r[2] for r in results)
        print(f"{label:22s} {fps:5.1f} fps   {cpu:5.1f} % of one core   {paint:5.2f} ms per frame painted "
              f"(medians of {args.runs} x {args.seconds:g} s; runs: "
              + ", ".join(f"{r[0]:.1f} fps/{r[1]:.0f}%" for r in results) + ")")
        ok = ok and fps >= 29.0 and cpu <= 20.0
    print("target (>= 30 fps, <= 20 % of one core):", "met" if ok else "NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
