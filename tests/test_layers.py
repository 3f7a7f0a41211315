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


def test_the_acyclic_contract_catches_a_cycle(tmp_path):
    """The cycle contract of pyproject.toml is of a kind this import-linter enforces: a two-module cycle
    in a scratch package breaks it (so 'KEPT' above means something)."""
    pkg = tmp_path / "cyc" / "core"
    pkg.mkdir(parents=True)
    (tmp_path / "cyc" / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "engine.py").write_text("from cyc.core import scenario\n")
    (pkg / "scenario.py").write_text("def f():\n    from cyc.core import engine  # lazy, still a cycle\n")
    cfg = tmp_path / "cfg.toml"
    cfg.write_text('[tool.importlinter]\nroot_package = "cyc"\n[[tool.importlinter.contracts]]\n'
                   'name = "acyclic"\ntype = "acyclic_siblings"\nancestors = ["cyc.core"]\n')
    exe = Path(sys.executable).with_name("lint-imports")
    proc = subprocess.run([str(exe), "--config", str(cfg)], cwd=tmp_path, capture_output=True, text=True,
                          env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert proc.returncode != 0 and "BROKEN" in proc.stdout, proc.stdout + proc.stderr
