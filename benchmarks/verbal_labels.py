"""Verbal-label accuracy on the labelled sentence sets (definitions: docs/verbal-labels.md).

    .venv/bin/python benchmarks/verbal_labels.py [--set dev|heldout] [--errors]

Prints open/closed/statement macro-F1 and per-class F1, and precision/recall/F1 of empathy, jargon,
checking understanding, agenda/next steps, small talk and the patient's name.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from trainer.core.verbal_eval import evaluate, load_set  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", default="dev", choices=("dev", "heldout"))
    ap.add_argument("--errors", action="store_true", help="list the sentences labelled wrongly")
    args = ap.parse_args()
    path = Path(__file__).resolve().parent.parent / "tests" / "data" / f"verbal_{args.set}.tsv"
    rows = load_set(path)
    res = evaluate(rows)
    print(f"{path.name}: {len(rows)} sentences")
    print(f"form macro-F1 {res['form_macro_f1']:.3f}  " +
          "  ".join(f"{k} F1 {v:.3f}" for k, v in res["form_f1"].items()))
    for key, (p, r, f, n) in res["binary"].items():
        print(f"{key:11s} precision {p:.3f} recall {r:.3f} F1 {f:.3f} (positives {n})")
    if args.errors:
        for e in res["errors"]:
            print("  ", e)


if __name__ == "__main__":
    main()
