"""Replay speed: open a 10-minute session and seek anywhere; prints load time and seek times (median, p90, max).

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_replay.py [--minutes 10] [--seeks 200]

The session is made by the real scenario engine (first-checkin, repeated visits back to back until the
length is reached) with frames at 30 per second, meter levels, speech segments and patient lines, written
through the real SessionWriter into a temporary store; the replay reads it back with store.timeline. Two
figures per seek: the state model alone (core.replay) and the whole replay page (model + call window
render + patient re-enactment + timeline repaint), the latter being what a facilitator waits for.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))


def make_session(store, minutes: float) -> int:
    from trainer.core.engine import ScenarioEngine
    from trainer.core.events import AudioLevel, FrameSample, SpeechSegment
    from trainer.core.scenario import ClinicianTurn, PatientLine, load_scenario
    from trainer.resources import builtin_scenarios_dir

    scenario = load_scenario(builtin_scenarios_dir() / "first_checkin.yaml")
    sid = store.create_session(scenario.id, scenario.title, camera="clip.mp4", mic="clip.mp4")
    writer = store.writer(sid)
    rng = random.Random(1)
    end = minutes * 60
    t = 0.0
    offset = 0.0

    def pipeline(t0, t1):
        n = int((t1 - t0) * 30)
        for i in range(n):
            tt = t0 + i / 30
            writer.put(FrameSample(tt, True, rng.choice(("camera", "camera", "screen", "away")), 2.0, -3.0, 0.0,
                                   rng.random() * 0.4, rng.random() * 0.3, rng.random() < 0.002))
            if i % 2 == 0:
                writer.put(AudioLevel(tt, -40.0, False))

    while t < end:
        engine = ScenarioEngine(scenario)
        evs = engine.start(0.0)
        local = 0.0
        while not engine.finished and offset + local < end:
            step = engine.current
            if isinstance(step, PatientLine):
                pipeline(offset + local, offset + engine._line_ends_at)
                local = engine._line_ends_at
                evs += engine.tick(local)
            elif isinstance(step, ClinicianTurn):
                if step.cards:
                    evs += engine.choose_card(local + 0.5, step.cards[0].id)
                pipeline(offset + local, offset + local + 6.0)
                evs += engine.clinician_speech_started(local + 1.0)
                writer.put(SpeechSegment(offset + local + 1.0, offset + local + 5.3, "clinician"))
                engine.clinician_speech_segment(local + 1.0, local + 5.3)
                evs += engine.clinician_turn_ended(local + 6.0, local + 5.3)
                local += 6.0
            else:
                evs += engine.tick(local + 0.1)
                local += 0.1
        if offset == 0.0:  # one visit's scenario events (later repeats add frames and speech only)
            for ev in evs:
                writer.put(ev)
        offset += max(local, 1.0)
        t = offset
    writer.close("completed", duration_s=end)
    return sid


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--seeks", type=int, default=200)
    args = ap.parse_args(argv)
    from trainer.store.db import SessionStore
    from trainer.store.timeline import load_timeline

    import os

    print(f"replay benchmark: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} (1 min), "
          f"nice {os.nice(0)}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        store = SessionStore(Path(tmp) / "s.sqlite3")
        sid = make_session(store, args.minutes)
        t0 = time.perf_counter()
        timeline = load_timeline(store, sid)
        load_s = time.perf_counter() - t0
        print(f"session: {timeline.duration_s / 60:.1f} min, {len(timeline.model.events)} events; "
              f"load {load_s * 1000:.0f} ms")
        rng = random.Random(2)
        targets = [rng.uniform(0, timeline.duration_s) for _ in range(args.seeks)]
        model_ms = []
        for t in targets:
            a = time.perf_counter()
            timeline.model.view_at(t)
            model_ms.append((time.perf_counter() - a) * 1000)
        _report("seek, state model", model_ms)

        from PySide6.QtWidgets import QApplication

        from trainer.core.scenario import load_scenario
        from trainer.resources import builtin_scenarios_dir
        from trainer.ui.replay_page import ReplayPage

        app = QApplication.instance() or QApplication([])
        page = ReplayPage(timeline, load_scenario(builtin_scenarios_dir() / "first_checkin.yaml"))
        page.resize(1200, 780)
        page.show()
        app.processEvents()
        page_ms = []
        for t in targets:
            a = time.perf_counter()
            page.seek(t)
            page.repaint()  # draw now, as the screen would
            page_ms.append((time.perf_counter() - a) * 1000)
        _report("seek, whole replay page (model + window + timeline drawn)", page_ms)
    return 0


def _report(name: str, ms: list[float]) -> None:
    ms = sorted(ms)
    p90 = ms[int(0.9 * (len(ms) - 1))]
    print(f"{name}: median {statistics.median(ms):.1f} ms, p90 {p90:.1f} ms, max {ms[-1]:.1f} ms (n={len(ms)})")


if __name__ == "__main__":
    sys.exit(main())
