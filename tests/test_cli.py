"""The `trainer` command as a user runs it."""

import os
import subprocess
import sys
from pathlib import Path

TRAINER = str(Path(sys.executable).with_name("trainer"))


def run(*args, env=None, timeout=60):
    return subprocess.run([TRAINER, *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def test_version():
    p = run("--version")
    assert p.returncode == 0 and p.stdout.startswith("trainer ")


def test_python_dash_m_works():
    p = subprocess.run([sys.executable, "-m", "trainer", "--version"], capture_output=True, text=True)
    assert p.returncode == 0 and "trainer" in p.stdout


def test_doctor_lists_every_check_with_a_fix():
    p = run("doctor", env={"QT_QPA_PLATFORM": "offscreen"})
    out = p.stdout
    for name in ("Cameras", "PortAudio", "Microphones", "Qt", "Face model", "Data folder"):
        assert f"] {name}:" in out, out
    assert "Face model: " in out and "SHA-256 verified" in out
    # README: "`trainer doctor` shows the switches" that keep the native libraries off the network.
    assert "] Network: no connections" in out and "onnxruntime telemetry off" in out and "usage logger blocked" in out
    # On this machine (no devices) the device lines are warnings with a fix, not crashes.
    if "[WARN] Cameras" in out:
        assert "Fix:" in out.split("[WARN] Cameras")[1].splitlines()[0]
    assert p.returncode in (0, 1)


def test_gui_without_a_display_explains_what_to_do():
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    p = subprocess.run([TRAINER], capture_output=True, text=True, env=env, timeout=60)
    assert p.returncode == 3
    assert "No screen found" in p.stderr and "xvfb-run" in p.stderr


def test_run_with_a_broken_scenario_file_names_file_and_line(tmp_path):
    f = tmp_path / "mine.yaml"
    f.write_text("id: a\ntitle: b\npatient: {name: X}\nsteps:\n  - id: s\n    patient: 12\n", encoding="utf-8")
    p = run("run", str(f), env={"QT_QPA_PLATFORM": "offscreen"})
    assert p.returncode == 2
    assert f"{f}:6" in p.stderr


def test_usage_errors_and_unknown_ids_exit_non_zero_with_one_line(tmp_path):
    p = run("run", "no-such-scenario", env={"QT_QPA_PLATFORM": "offscreen"})
    assert p.returncode == 2 and p.stderr.startswith("error: no-such-scenario: no scenario has this id")
    assert len(p.stderr.strip().splitlines()) == 1 and "first-checkin" in p.stderr
    for args in (["lms"], ["lms", "upload"], ["no-such-command"], ["validate"], ["analyze"]):
        assert run(*args).returncode == 2, args
    p = run("lms", "send")  # the tests' default: no policy, so no LRS
    assert p.returncode == 1 and "names no learning record store" in p.stderr
    p = run("lms", "status")
    assert p.returncode == 0 and "nothing is sent" in p.stdout


def test_validate_reports_a_pack_reusing_a_built_in_id_naming_both_files(tmp_path):
    from trainer.resources import builtin_scenarios_dir

    src = builtin_scenarios_dir() / "first_checkin.yaml"
    (tmp_path / "pack").mkdir()
    (tmp_path / "pack" / "mine.yaml").write_text(src.read_text(encoding="utf-8"), encoding="utf-8")
    p = run("validate", str(tmp_path / "pack"))
    assert p.returncode == 1
    assert f"{tmp_path / 'pack' / 'mine.yaml'}:1:1: scenario id 'first-checkin' is also used by {src}" in p.stderr
    assert run("validate", str(builtin_scenarios_dir())).returncode == 0  # the built-ins against themselves
