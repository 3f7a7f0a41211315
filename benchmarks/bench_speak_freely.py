"""Speak freely, whole visits: every built-in scenario played by the simulated clinician that says each
turn's intent aloud (trainer.sim, profile speak-freely: text-to-speech voice at 1.3x the patient voice's
pitch, no card pressed), through the real speech-to-text and intent recognition.

    .venv/bin/python benchmarks/bench_speak_freely.py [SCENARIO ...] [--camera FILE]

Prints per scenario: whether the visit completed, how many turns reached took the intended card (the
one whose phrasing was spoken) by the words alone, the cards chosen, and the wall time of the --fast
run. tests/test_simulate.py plays two of the scenarios the same way; this runs all seven (too long for
the suite on a 2-core machine).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from trainer.capture.patient_voice import PatientVoice  # noqa: E402
from trainer.core.scenario import discover_scenarios  # noqa: E402
from trainer.resources import builtin_scenarios_dir  # noqa: E402
from trainer.sim.clinician import PROFILES  # noqa: E402
from trainer.sim.run import simulate  # noqa: E402
from trainer.store.db import SessionStore  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenarios", nargs="*", help="scenario ids (default: all built-in)")
    ap.add_argument("--camera", help="a face video looped as the camera (default: none)")
    args = ap.parse_args()
    library, errors = discover_scenarios([builtin_scenarios_dir()])
    assert not errors, errors
    chosen = [s for s in library if not args.scenarios or s.id in args.scenarios]
    print(f"load average before: {os.getloadavg()}")
    failures = 0
    with tempfile.TemporaryDirectory() as d:
        voice = PatientVoice(cache_dir=Path(d) / "voice")
        for s in chosen:
            t0 = time.monotonic()
            res = simulate(s, SessionStore(Path(d) / f"{s.id}.db"), profile=PROFILES["speak-freely"], voice=None,
                           camera=args.camera, speed=0.0, patient_voice=voice)
            rep = res.report
            intended = rep["simulation"]["intended_cards"]
            heard = rep["intents_heard"]
            taken = sum(1 for h in heard if intended.get(h["step"]) == h["card"])
            ok = rep["reached_end"] and heard and taken == len(heard) and rep["cards_chosen"] == [h["card"] for h in heard]
            failures += not ok
            print(f"{s.id:22s} {'completed' if rep['reached_end'] else rep['end_reason']:10s} "
                  f"intended cards taken by words {taken}/{len(heard)}  cards {rep['cards_chosen']}  "
                  f"{rep['duration_s']:.0f} s of visit in {time.monotonic() - t0:.0f} s  {'OK' if ok else 'FAIL'}")
    print(f"load average after: {os.getloadavg()}")
    print(f"{len(chosen) - failures} of {len(chosen)} scenarios completed on the intended branches")


if __name__ == "__main__":
    main()
