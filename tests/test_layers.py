"""The layering rules of DESIGN.md section 2, checked by import-linter and by what `import trainer` loads."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HEAVY = ("cv2", "mediapipe", "PySide6", "numpy", "sounddevice", "av", "onnxruntime")


def test_import_linter_contracts_hold():
    exe = Path(sys.executable).with_name("lint-imports")
    proc = subprocess.run([str(exe)], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "broken" in proc.stdout and " 0 broken" in proc.stdout


def test_importing_trainer_and_the_cli_loads_nothing_heavy():
    code = ("import sys, trainer, trainer.cli\n"
            f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "", f"heavy modules imported at start-up: {proc.stdout}"


def test_version_command_works_without_heavy_imports():
    code = ("import sys, runpy\nsys.argv = ['trainer', '--version']\n"
            "try:\n    runpy.run_module('trainer', run_name='__main__')\nexcept SystemExit:\n    pass\n"
            f"print('HEAVY:' + ','.join(m for m in {HEAVY!r} if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "trainer 0." in proc.stdout
    assert "HEAVY:\n" in proc.stdout + "\n" and proc.stdout.strip().endswith("HEAVY:")


def test_no_qt_import_below_ui_by_source_scan():
    offenders = []
    for f in (REPO / "trainer").rglob("*.py"):
        if "ui" in f.relative_to(REPO / "trainer").parts[:1]:
            continue
        for line in f.read_text(encoding="utf-8").splitlines():
            s = line.strip()
            if s.startswith(("import PySide6", "from PySide6", "import shiboken6", "from shiboken6")):
                offenders.append(f"{f}: {s}")
    assert not offenders, offenders
