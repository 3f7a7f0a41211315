"""How scenario checking scales: generated scenarios of 500 to 5,000 steps, each validated the way
`trainer validate` does (parse, references, graph), median of --repeat runs in this process.

    .venv/bin/python benchmarks/bench_scenario_size.py

Target (docs/scenarios.md, Limits): 5,000 steps, the most a scenario may have, in under 2 s.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from trainer.core.scenario import load_scenario


def generated_scenario(n: int) -> str:
    """A valid scenario of `n` steps: patient lines with a clinician turn (two cards, a branch) every third
    step. Also used by tests/test_scenario_limits.py."""
    out = ["id: big", "title: Big", "behaviours: [small_talk]", "patient: {name: Ann}", "rubric:",
           "  small_talk:", "    counts: chat", "    evidence: [{card: chat}]", "steps:"]
    for i in range(n):
        if i % 3 == 1 and i < n - 1:
            card = "chat" if i == 1 else f"c{i}"
            out += [f"  - id: s{i}", "    clinician:", "      prompt: say hi", "      cards:",
                    f"        - {{id: {card}, label: Chat}}", f"        - {{id: k{i}, label: Skip}}",
                    "      branches:", f"        - when: {{card: {card}}}", f"          next: s{i + 1}"]
        else:
            out += [f"  - id: s{i}", f"    patient: line number {i} of a long visit"]
    out.append("    end: true")
    return "\n".join(out) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        for n in (500, 1000, 2000, 5000):
            path = Path(d) / f"s{n}.yaml"
            path.write_text(generated_scenario(n))
            times, cpu = [], []
            for _ in range(args.repeat):
                t0, c0 = time.perf_counter(), time.process_time()
                load_scenario(path)
                times.append(time.perf_counter() - t0)
                cpu.append(time.process_time() - c0)
            med, cmed = statistics.median(times), statistics.median(cpu)
            # CPU time as well: on a shared, busy machine the wall-clock time mostly measures the others.
            print(f"{n:5d} steps: median {med:.2f} s wall, {cmed:.2f} s CPU ({cmed / n * 1e3:.2f} ms CPU per step)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
