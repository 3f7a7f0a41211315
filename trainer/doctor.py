"""`trainer doctor`: what this machine offers the trainer, each problem with a plain-language fix.

Checks: cameras, microphones, sound output and PortAudio, the Qt platform (probed in a child process, because Qt aborts
the whole process when it cannot reach a display), the vendored face model, the data folder (writable, private)
and the switches that keep the app off the network.
"""

from __future__ import annotations

import os
import subprocess
import sys

from trainer.core.errors import DeviceUnavailable

OK, WARN, FAIL = "ok", "warning", "problem"

def _qt_probe_command() -> list[str]:
    # In a packaged build sys.executable is the trainer itself, not a Python interpreter.
    if getattr(sys, "frozen", False):
        return [sys.executable, "doctor", "--qt-probe"]
    return [sys.executable, "-m", "trainer", "doctor", "--qt-probe"]


def check_qt() -> tuple[str, str]:
    """(status, text) for the Qt platform plugin Qt would use here."""
    try:
        proc = subprocess.run(_qt_probe_command(), capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return FAIL, f"could not start the Qt probe: {exc}"
    if proc.returncode == 0:
        name = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else "?"
        if name in ("offscreen", "minimal"):
            return WARN, f"Qt platform '{name}': windows will not be visible (QT_QPA_PLATFORM is set)."
        return OK, f"Qt platform '{name}'"
    err = (proc.stderr or "").strip().splitlines()
    detail = next((line for line in err if "could not" in line.lower() or "error" in line.lower()),
                  err[-1] if err else "unknown error")
    fix = ("No display: run from a desktop session, or use scripts/run-app.sh, which starts a virtual screen."
           if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")) else
           "Install Qt's X11 libraries: sudo apt install libxkbcommon-x11-0 libxcb-cursor0 libegl1 libgl1")
    return FAIL, f"Qt cannot start: {detail}\n      Fix: {fix}"


def check_audio() -> list[tuple[str, str, str]]:
    from trainer.capture.audio import list_microphones

    try:
        mics = list_microphones()
    except DeviceUnavailable as exc:
        return [("PortAudio", FAIL, f"{exc.message}\n      Fix: {exc.hint}"),
                ("Microphones", FAIL, "cannot be listed without PortAudio")]
    rows = [("PortAudio", OK, "loaded")]
    if mics:
        rows.append(("Microphones", OK, "; ".join(f"[{m['index']}] {m['name']} ({m['rate']} Hz)" for m in mics)))
    else:
        rows.append(("Microphones", WARN, "none found. Fix: plug in a microphone or headset, or rehearse with "
                                          "--mic FILE (talk-time feedback needs one)."))
    return rows


def check_sound_output() -> tuple[str, str]:
    """Whether the patient's voice can be heard: an output device that opens (the patient player's own path)."""
    from trainer.capture.patient_voice import PatientPlayer
    from trainer.core.clock import SessionClock

    player = PatientPlayer(SessionClock())
    mode = player.open()
    reason = player.reason
    player.close()
    if mode == "device":
        from trainer.capture.audio import list_speakers

        names = "; ".join(f"[{d['index']}] {d['name']}" for d in list_speakers())
        return OK, f"opens ({names or 'default device'})"
    return WARN, (f"{reason} Fix: connect speakers or headphones and choose them as the system's output; "
                  "until then the patient's lines show as captions only.")


def check_cameras() -> tuple[str, str]:
    from trainer.capture.video import list_cameras

    try:
        cams = list_cameras()
    except ImportError as exc:
        return FAIL, f"OpenCV cannot be imported: {exc}"
    if cams:
        return OK, "; ".join(f"[{c['index']}] {c['width']}x{c['height']}" for c in cams)
    return WARN, ("none found. Fix: connect a webcam and close other apps using it, or use --camera FILE "
                  "(eye-contact and face feedback need one).")


def check_model() -> tuple[str, str]:
    from trainer.analysis.models import model_status

    ok, text = model_status("face_landmarker.task")
    return (OK, text) if ok else (FAIL, text)


def check_data_dir() -> tuple[str, str]:
    from trainer.privacy import permission_problems
    from trainer.store.paths import data_dir, data_dir_problem

    d = data_dir()
    problem = data_dir_problem(d)
    if problem:
        return FAIL, problem
    loose = permission_problems(d)
    if loose:
        return WARN, (f"{d}: readable by other users: {'; '.join(loose[:3])}. "
                      f"Fix: chmod -R go-rwx '{d}' (the app tightens what it owns when it opens it)")
    return OK, f"{d} (sessions stay on this machine, readable by you only)"


def check_network() -> tuple[str, str]:
    """The switches that keep the native libraries off the network (trainer/privacy.py)."""
    from trainer.privacy import offline_switches_active

    missing = offline_switches_active()
    if missing:
        return FAIL, "; ".join(missing) + ". Fix: start the trainer with its own `trainer` command."
    return OK, ("no connections: onnxruntime telemetry off, MediaPipe's usage logger blocked, nothing "
                "written outside the app's folders (proven by tests/test_privacy_network.py)")


def run_doctor(out=None) -> int:
    """Print every check; exit code 1 when something the app needs is broken (warnings do not count)."""
    out = out or sys.stdout
    rows: list[tuple[str, str, str]] = []
    rows.append(("Cameras", *check_cameras()))
    rows += check_audio()
    rows.append(("Sound output", *check_sound_output()))
    rows.append(("Qt", *check_qt()))
    rows.append(("Face model", *check_model()))
    rows.append(("Data folder", *check_data_dir()))
    rows.append(("Network", *check_network()))
    mark = {OK: "OK  ", WARN: "WARN", FAIL: "FAIL"}
    for name, status, text in rows:
        print(f"[{mark[status]}] {name}: {text}", file=out)
    failed = [r for r in rows if r[1] == FAIL]
    print(f"\n{len(failed)} problem(s), {sum(1 for r in rows if r[1] == WARN)} warning(s).", file=out)
    return 1 if failed else 0
