"""A real learning record store for the tests: Ralph (the open-source Python LRS, `ralph-malph`), run with
uvicorn on 127.0.0.1 and its file-system backend, so the statements it stored can be read back in the
order it stored them (one JSON line each).

Ralph's file-system backend writes with its class default, "create", which refuses a file that already
exists, so only its first write would succeed. The launcher sets that default to "append" before Ralph
loads; the API (authentication, validation, the duplicate-id rule of xAPI) is Ralph's own, unchanged."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

USER, PASSWORD = "trainer-lrs", "s3cret-pass"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Lrs:
    def __init__(self, folder: Path, port: int | None = None):
        import bcrypt

        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}/xAPI/"
        auth = [{"agent": {"mbox": "mailto:lrs-admin@example.org"}, "scopes": ["all"], "username": USER,
                 "hash": bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(4)).decode()}]
        (self.folder / "auth.json").write_text(json.dumps(auth))
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> "Lrs":
        env = dict(os.environ, RALPH_AUTH_FILE=str(self.folder / "auth.json"), RALPH_RUNSERVER_BACKEND="fs",
                   RALPH_BACKENDS__LRS__FS__DEFAULT_DIRECTORY_PATH=str(self.folder), RALPH_APP_DIR=str(self.folder))
        launcher = ("import sys, uvicorn\n"
                    "from ralph.backends.data.base import BaseOperationType\n"
                    "from ralph.backends.lrs.fs import FSLRSBackend\n"
                    "FSLRSBackend.default_operation_type = BaseOperationType.APPEND\n"
                    "uvicorn.run('ralph.api:app', host='127.0.0.1', port=int(sys.argv[1]), log_level='warning')\n")
        self.proc = subprocess.Popen([sys.executable, "-c", launcher, str(self.port)],
                                     env=env, stdout=subprocess.DEVNULL, stderr=open(self.folder / "server.log", "ab"))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("the LRS exited: " + (self.folder / "server.log").read_text()[-2000:])
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/__heartbeat__", timeout=2):
                    return self
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("the LRS did not start within the time limit")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def stored(self) -> list[dict]:
        """Every statement the LRS stored, in storage order."""
        f = self.folder / "fs_lrs.jsonl"
        if not f.exists():
            return []
        return [json.loads(line) for line in f.read_text().splitlines() if line.strip()]
