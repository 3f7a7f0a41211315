"""Check a built one-folder app against packaging/bundle_data.py and print where its size goes.

    python packaging/verify_bundle.py DIST/trainer [--json OUT.json]

Fails (exit 1) when a data file the spec should carry is missing or differs from its source, when a model
in assets/models/manifest.json is missing, or when something meant to be left out is in the bundle.
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bundle_data as bd  # noqa: E402

#: Paths (relative to the data root) that must not be in the bundle.
MUST_BE_ABSENT = ("matplotlib", "PIL", "tkinter", "PySide6/Qt/translations", "PySide6/QtWebEngineCore.abi3.so",
                  "PySide6/Qt/lib/libQt6WebEngineCore.so.6", "PySide6/Qt/lib/libQt6Pdf.so.6",
                  "pytest", "_pytest", "hypothesis")


def tree_size(path: Path) -> int:
    total = 0
    for dirpath, _dirs, files in os.walk(path):
        for f in files:
            p = os.path.join(dirpath, f)
            if not os.path.islink(p):
                total += os.path.getsize(p)
    return total


def data_root(app: Path) -> Path:
    internal = app / "_internal"
    return internal if internal.is_dir() else app


def verify(app: Path, src_root: Path) -> list[str]:
    problems = []
    root = data_root(app)
    for src, dest in bd.data_files(src_root):
        target = root / dest / Path(src).name
        if not target.is_file():
            problems.append(f"missing: {dest}/{Path(src).name}")
        elif not filecmp.cmp(src, target, shallow=False):
            problems.append(f"differs from the source: {dest}/{Path(src).name}")
    manifest = json.loads((src_root / "assets" / "models" / "manifest.json").read_text(encoding="utf-8"))
    for name in manifest:
        if not (root / "assets" / "models" / name).is_file():
            problems.append(f"model missing: assets/models/{name}")
    for rel in MUST_BE_ABSENT:
        if (root / rel).exists():
            problems.append(f"should have been left out: {rel}")
    for dirpath, _dirs, files in os.walk(root):
        for f in files:
            rel = os.path.relpath(os.path.join(dirpath, f), root)
            why = bd.pruned(rel)
            if why:
                problems.append(f"should have been pruned ({why}): {rel}")
    return problems


def breakdown(app: Path, top: int = 12) -> list[tuple[str, int]]:
    root = data_root(app)
    sizes = []
    loose = 0
    for entry in root.iterdir():
        if entry.is_dir():
            sizes.append((entry.name + "/", tree_size(entry)))
        elif not entry.is_symlink():
            loose += entry.stat().st_size
    sizes.append(("(system and Python libraries at the top level)", loose))
    sizes.sort(key=lambda x: -x[1])
    return sizes[:top]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("app", type=Path, help="the one-folder app, e.g. build/linux/dist/trainer")
    ap.add_argument("--src", type=Path, default=bd.ROOT, help="the checkout the app was built from")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    problems = verify(args.app, args.src)
    size = tree_size(args.app)
    print(f"bundle: {args.app} {size / 1e6:.0f} MB unpacked ({size / 2**20:.0f} MiB)")
    for name, n in breakdown(args.app):
        print(f"  {n / 1e6:7.1f} MB  {name}")
    if args.json:
        args.json.write_text(json.dumps({"bundle_bytes": size, "problems": problems,
                                         "breakdown": breakdown(args.app, 30)}, indent=2) + "\n")
    if problems:
        print("bundle check FAILED:\n  " + "\n  ".join(problems))
        return 1
    print(f"bundle check OK: {len(bd.data_files(args.src))} data files present and identical, exclusions hold")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
