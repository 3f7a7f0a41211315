"""Private by default: the session store, settings, calibrations and voice cache are created 0700/0600 even
with a permissive umask, also under a site policy's data_dir, and an older, looser store is tightened
when it is opened."""

from __future__ import annotations

import os
import stat
import sys

import numpy as np
import pytest

from trainer.privacy import permission_problems, private_dir

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")


@pytest.fixture(autouse=True)
def _loose_umask():
    old = os.umask(0o022)  # what a desktop session usually has: files 0644, folders 0755
    yield
    os.umask(old)


def _mode(p) -> int:
    return stat.S_IMODE(os.stat(p).st_mode)


def test_store_under_a_policy_data_dir_is_private(tmp_path, monkeypatch):
    from trainer.core.events import Notice
    from trainer.store.db import SessionStore
    from trainer.store.paths import default_db_path

    policy = tmp_path / "policy.yaml"
    policy.write_text(f"data_dir: {tmp_path / 'programme' / 'data'}\n")
    monkeypatch.setenv("TRAINER_POLICY", str(policy))
    monkeypatch.delenv("TRAINER_DATA_DIR")
    store = SessionStore(default_db_path())
    sid = store.create_session("s", "S")
    con = store.connect()  # an open reader keeps the -wal and -shm files in place
    try:
        w = store.writer(sid)
        w.put(Notice(0.1, "x", "a notice"))
        w.close()
        folder = tmp_path / "programme" / "data"
        assert _mode(folder) == 0o700 and _mode(tmp_path / "programme") == 0o700
        files = sorted(p.name for p in folder.iterdir())
        assert {"sessions.sqlite3", "sessions.sqlite3-wal", "sessions.sqlite3-shm"} <= set(files)
        assert not permission_problems(folder), permission_problems(folder)
    finally:
        con.close()


def test_an_older_loose_store_is_tightened_on_open(tmp_path):
    from trainer.store.db import SessionStore

    folder = tmp_path / "data"
    folder.mkdir(mode=0o755)
    SessionStore(folder / "sessions.sqlite3")
    os.chmod(folder, 0o755)
    os.chmod(folder / "sessions.sqlite3", 0o644)
    SessionStore(folder / "sessions.sqlite3").sessions()
    assert _mode(folder) == 0o700 and _mode(folder / "sessions.sqlite3") == 0o600


def test_settings_calibration_and_voice_cache_are_private(tmp_path, monkeypatch):
    from trainer.analysis.calibration import Calibration, save_calibration
    from trainer.analysis.gaze import DEFAULT_GEOMETRY
    from trainer.capture.patient_voice import _write_wav_atomic, default_cache_dir
    from trainer.store.user_settings import save_user_setting

    monkeypatch.setenv("TRAINER_CONFIG_DIR", str(tmp_path / "config" / "app"))
    monkeypatch.setenv("TRAINER_CACHE_DIR", str(tmp_path / "cache" / "app"))
    save_user_setting(next(iter(__import__("trainer.core.policy", fromlist=["SETTINGS"]).SETTINGS)), None)
    save_calibration(Calibration(user="u", camera="c", geometry=DEFAULT_GEOMETRY))
    _write_wav_atomic(default_cache_dir() / "x.wav", np.zeros(160, np.float32), 16000)
    for root in (tmp_path / "config", tmp_path / "cache"):
        assert not permission_problems(root / "app"), permission_problems(root / "app")
        assert any(root.rglob("*.json")) or any(root.rglob("*.wav"))


def test_private_dir_leaves_folders_of_others_alone(tmp_path):
    # A shared folder an administrator owns (here: one we cannot chmod because we do not own it) is used
    # as is; only the folders the app creates inside it are made private.
    if os.getuid() == 0:
        target = private_dir(tmp_path / "a" / "b", root=tmp_path / "a")
        assert _mode(tmp_path / "a") == 0o700 and _mode(target) == 0o700
    else:  # pragma: no cover - depends on the account running the tests
        assert _mode(private_dir("/tmp")) & 0o777 == _mode("/tmp") & 0o777


def test_analyze_output_is_private(tmp_path, fixtures):
    import subprocess

    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "trainer", "analyze", str(fixtures("audio/speech_short.wav")),
                           "--out", str(out), "--quiet"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in out.iterdir()) and not permission_problems(out), permission_problems(out)
    import json

    assert json.loads((out / "summary.json").read_text())["input"] == "speech_short.wav"  # no folder
