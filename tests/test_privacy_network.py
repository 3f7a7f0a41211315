"""Nothing leaves the machine, proven by tracing system calls: `trainer --self-test`, `trainer analyze` on a
fixture and a short headless visit (`trainer run --headless`) run under `strace -f`, and the test fails on
any connect/send to an AF_INET or AF_INET6 address and on any name lookup (reading /etc/resolv.conf or
/etc/hosts, a query to port 53 or to systemd-resolved). The same runs, with HOME pointing at an empty
folder, must leave nothing in it outside the app's own folders, all of them private (0700 folders, 0600
files).

Without the switches of trainer/privacy.py these runs reach Google's logging endpoint (MediaPipe's usage
logger, via libcurl) and write onnxruntime's device id under ~/.cache/Microsoft.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import TINY_SCENARIO
from trainer.privacy import permission_problems

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="strace is Linux-only")

APP = "VideoVisitTrainer"
_INET = re.compile(r"^(\d+)\s+(connect|sendto|sendmsg|sendmmsg)\(.*sa_family=AF_INET6?\b")
# A name lookup shows as the resolver reading its configuration, a query to port 53 or to
# systemd-resolved. (nscd's socket is not counted: glibc also asks it for user names.)
_LOOKUP = re.compile(r"^(\d+)\s+(connect\(.*(htons\(53\)|systemd/resolve)"
                     r"|open(at)?\(.*\"/etc/(resolv\.conf|hosts|gai\.conf)\")")

_CALLS = "trace=connect,sendto,sendmsg,sendmmsg,open,openat"


def _strace() -> str:
    path = shutil.which("strace")
    if path is None:
        msg = "strace is not installed (scripts/bootstrap.sh installs it)"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    probe = subprocess.run([path, "-f", "-o", os.devnull, "true"], capture_output=True, text=True)
    if probe.returncode != 0:  # ptrace not permitted in this container
        msg = f"strace cannot trace here: {probe.stderr.strip()}"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    return path


def _env(home: Path) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TRAINER_DATA_DIR", "TRAINER_CONFIG_DIR", "TRAINER_CACHE_DIR", "XDG_"))}
    env.update(HOME=str(home), PYTHONDONTWRITEBYTECODE="1", QT_QPA_PLATFORM="offscreen")
    env.pop("ORT_DISABLE_TELEMETRY", None)  # the app must set it itself
    return env


def _traced(cmd: list[str], home: Path, log: Path) -> subprocess.CompletedProcess:
    return subprocess.run([_strace(), "-f", "-qq", "-e", _CALLS,
                           "-e", "signal=none", "-o", str(log), "--", *cmd],
                          env=_env(home), capture_output=True, text=True, timeout=600)


def _network_calls(log: Path) -> list[str]:
    return [line for line in log.read_text(errors="replace").splitlines()
            if _INET.search(line) or _LOOKUP.search(line)]


def _stray_files(home: Path) -> list[str]:
    allowed = [home / ".local" / "share" / APP, home / ".config" / APP, home / ".cache" / APP]
    stray = []
    for dirpath, _dirs, files in os.walk(home):
        for f in files:
            p = Path(dirpath) / f
            if not any(p.is_relative_to(a) for a in allowed):
                stray.append(str(p.relative_to(home)))
    return stray


def _check(home: Path, log: Path, proc: subprocess.CompletedProcess) -> None:
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    calls = _network_calls(log)
    assert not calls, "network use:\n" + "\n".join(calls[:20])
    assert not _stray_files(home), f"files written outside the app's folders: {_stray_files(home)}"
    problems = [p for a in (".local/share", ".config", ".cache") for p in permission_problems(home / a / APP)]
    assert not problems, problems


def test_self_test_makes_no_network_use(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    proc = _traced([sys.executable, "-m", "trainer", "--self-test"], home, tmp_path / "trace.txt")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    _check(home, tmp_path / "trace.txt", proc)


def test_analyze_makes_no_network_use(tmp_path, fixtures):
    home = tmp_path / "home"
    home.mkdir()
    out = tmp_path / "out"
    proc = _traced([sys.executable, "-m", "trainer", "analyze", str(fixtures("video/talking_nods.mp4")),
                    "--out", str(out), "--quiet"], home, tmp_path / "trace.txt")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (out / "summary.json").exists()
    _check(home, tmp_path / "trace.txt", proc)
    assert not permission_problems(out)  # the analysis output is the user's too


def test_visit_makes_no_network_use(tmp_path, fixtures):
    """A whole headless visit (`trainer run --headless`, the call window's code path without the window) of
    a one-turn scenario, a recording as camera and microphone."""
    home = tmp_path / "home"
    home.mkdir()
    scen = tmp_path / "tiny.yaml"
    scen.write_text(TINY_SCENARIO)
    clip = str(fixtures("video/talking_nods.mp4"))
    out = tmp_path / "out"
    proc = _traced([sys.executable, "-m", "trainer", "run", str(scen), "--headless", "--camera", clip,
                    "--mic", clip, "--out", str(out)], home, tmp_path / "trace.txt")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert json.loads((out / "summary.json").read_text())["reached_end"]
    _check(home, tmp_path / "trace.txt", proc)
    import sqlite3

    con = sqlite3.connect(home / ".local" / "share" / APP / "sessions.sqlite3")
    # Inputs are stored by file name, not by full path.
    assert con.execute("SELECT camera, mic FROM sessions").fetchall() == [("talking_nods.mp4",) * 2]
    con.close()


def test_the_tracer_sees_a_lookup():
    """The check itself: a plain name lookup in a child process is caught (so a silent pass is real)."""
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        log = Path(d) / "t.txt"
        subprocess.run([_strace(), "-f", "-qq", "-e", _CALLS, "-o", str(log),
                        "--", sys.executable, "-c",
                        "import socket\ntry: socket.getaddrinfo('example.invalid', 443)\nexcept OSError: pass"],
                       capture_output=True, timeout=60)
        assert _network_calls(log)
