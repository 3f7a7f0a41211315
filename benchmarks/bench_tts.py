"""Benchmark: how long until the patient's voice for a 10-second line is ready.

    .venv/bin/python benchmarks/bench_tts.py [--repeats 5]

Prints, as medians over repeats (each with a fresh engine and an empty cache folder):
- cold: first line after start-up (loads the model, then synthesises a ~10 s line);
- warm: another ~10 s line with the model loaded;
- cached: the same line again from a new PatientVoice (the WAV cache on disk);
and the whole built-in library's lines (first render, warm engine). Target: a 10 s line in < 1 s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from trainer.capture.patient_voice import HibariEngine, PatientVoice, Voice  # noqa: E402
from trainer.core.scenario import discover_scenarios  # noqa: E402
from trainer.resources import builtin_scenarios_dir  # noqa: E402

TEN_SECONDS = ("Honestly, I haven't been sleeping much. My husband had his surgery three weeks ago, and I lie awake "
               "at night listening to him breathe, just in case.")
OTHER = ("So it's an average of my sugar over three months, it's a little high, and if I walk more and cut back "
         "on sweet drinks, it can come down again.")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    cold, warm, cached, durations = [], [], [], []
    voice = Voice(0.95, 0.8)
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as d:
            pv = PatientVoice(cache_dir=d, engine=HibariEngine())
            t0 = time.perf_counter()
            line = pv.render(TEN_SECONDS, voice)
            cold.append(time.perf_counter() - t0)
            durations.append(line.duration)
            t0 = time.perf_counter()
            pv.render(OTHER, voice)
            warm.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            again = PatientVoice(cache_dir=d, engine=HibariEngine()).render(TEN_SECONDS, voice)
            cached.append(time.perf_counter() - t0)
            assert again.source == "cache"
    print(f"line length            {statistics.median(durations):6.2f} s of speech")
    print(f"cold (load + render)   {statistics.median(cold) * 1000:6.0f} ms   (median of {args.repeats})")
    print(f"warm render            {statistics.median(warm) * 1000:6.0f} ms")
    print(f"cached                 {statistics.median(cached) * 1000:6.1f} ms")
    scenarios, _ = discover_scenarios([builtin_scenarios_dir()])
    with tempfile.TemporaryDirectory() as d:
        pv = PatientVoice(cache_dir=d)
        pv.render("Warm up.")
        t0 = time.perf_counter()
        n = speech = 0
        for s in scenarios:
            for r in pv.prepare(s).values():
                n += 1
                speech += r.duration
        total = time.perf_counter() - t0
    print(f"library: {n} lines, {speech / 60:.1f} min of speech rendered in {total:.1f} s "
          f"({speech / total:.0f}x real time)")
    ok = statistics.median(cold) < 1.0
    print("target (10 s line ready in < 1 s):", "met" if ok else "NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
