"""Check a built one-folder app against packaging/bundle_data.py and print where its size goes.

    python packaging/verify_bundle.py DIST/trainer [--json OUT.json] [--limit-mb 400]

Prints the unpacked size, the speech-to-text model's share of it (the files marked "speech_model" in
assets/models/manifest.json) and the size without that model, which is held to bundle_data.SIZE_LIMIT_MB.
Fails (exit 1) when a data file the spec should carry is missing or differs from its source, when a model
in assets/models/manifest.json is missing, when something meant to be left out is in the bundle (with --lean:
OpenBLAS too), or when the bundle without the speech model is over the limit.
"""

from __future__ import annotations

import argparse
import filecmp
import fnmatch
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bundle_data as bd  # noqa: E402

#: Paths (relative to the data root) that must not be in the bundle.
MUST_BE_ABSENT = ("matplotlib", "PIL", "tkinter", "PySide6/QtWebEngineCore.abi3.so",
                  "PySide6/Qt/lib/libQt6WebEngineCore.so.6", "PySide6/Qt/lib/libQt6Pdf.so.6",
                  "PySide6/Qt/lib/libQt6Multimedia.so.6", "PySide6/Qt/plugins/multimedia",
                  "PySide6/Qt/lib/libQt6Quick.so.6", "PySide6/Qt/lib/libavcodec.so.61", "hf_xet",
                  "pytest", "_pytest", "hypothesis",
                  # the speech-to-text engine before ONNX Runtime (docs/speech-to-text.md)
                  "ctranslate2", "ctranslate2.libs", "faster_whisper", "tokenizers")
#: File names that must not occur anywhere in a bundle built with --lean: the lean NumPy and OpenCV builds
#: (packaging/lean_wheels.py) carry no BLAS/LAPACK, so neither OpenBLAS nor its Fortran runtime.
LEAN_MUST_NOT_MATCH = ("*openblas*", "libgfortran*", "libquadmath*")


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


def verify(app: Path, src_root: Path, lean: bool = False) -> list[str]:
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
    for rel in bd.PRUNE_KEEP:
        if not (root / rel).is_file():
            problems.append(f"missing (kept on purpose): {rel}")
    for rel in MUST_BE_ABSENT:
        if (root / rel).exists():
            problems.append(f"should have been left out: {rel}")
    for dirpath, _dirs, files in os.walk(root):
        for f in files:
            rel = os.path.relpath(os.path.join(dirpath, f), root)
            why = bd.pruned(rel)
            if why:
                problems.append(f"should have been pruned ({why}): {rel}")
            if lean and any(fnmatch.fnmatch(f, pattern) for pattern in LEAN_MUST_NOT_MATCH):
                problems.append(f"should not be in the bundle (lean NumPy/OpenCV carry no BLAS): {rel}")
    return problems


def speech_model_files(src_root: Path) -> list[str]:
    """Paths under the data root of the speech-to-text model's files (marked "speech_model" in
    assets/models/manifest.json), whose size is stated apart from the limit."""
    manifest = json.loads((src_root / "assets" / "models" / "manifest.json").read_text(encoding="utf-8"))
    return [f"assets/models/{name}" for name, entry in manifest.items() if entry.get("speech_model")]


def speech_model_bytes(app: Path, src_root: Path) -> int:
    root = data_root(app)
    return sum((root / rel).stat().st_size for rel in speech_model_files(src_root) if (root / rel).is_file())


def breakdown(app: Path, top: int = 15) -> list[tuple[str, int]]:
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
    ap.add_argument("--limit-mb", type=float, default=bd.SIZE_LIMIT_MB,
                    help="most MB (10^6 bytes) the bundle may hold, the speech model not counted")
    ap.add_argument("--lean", action="store_true",
                    help="built with build_linux.sh --lean: no OpenBLAS may be in it")
    args = ap.parse_args()
    problems = verify(args.app, args.src, lean=args.lean)
    size = tree_size(args.app)
    model = speech_model_bytes(args.app, args.src)
    print(f"bundle: {args.app} {size / 1e6:.0f} MB unpacked ({size / 2**20:.0f} MiB)")
    for name, n in breakdown(args.app):
        print(f"  {n / 1e6:7.1f} MB  {name}")
    print(f"size: {size / 1e6:.1f} MB unpacked = {(size - model) / 1e6:.1f} MB app + {model / 1e6:.1f} MB "
          f"speech-to-text model (limit without the model: {args.limit_mb:.0f} MB)")
    if size - model > args.limit_mb * 1e6:
        problems.append(f"over the size limit: {(size - model) / 1e6:.1f} MB without the speech model, "
                        f"limit {args.limit_mb:.0f} MB")
    if args.json:
        args.json.write_text(json.dumps({"bundle_bytes": size, "speech_model_bytes": model,
                                         "limit_mb": args.limit_mb, "problems": problems,
                                         "breakdown": breakdown(args.app, 30)}, indent=2) + "\n")
    if problems:
        print("bundle check FAILED:\n  " + "\n  ".join(problems))
        return 1
    print(f"bundle check OK: {len(bd.data_files(args.src))} data files present and identical, exclusions hold")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
