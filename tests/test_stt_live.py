"""Speech-to-text during a visit: the clinician's segments from a real recording are transcribed on the
worker thread, labelled, and stored as `utterance` events (words only when the policy allows)."""

import time

import pytest

from conftest import fixture
from trainer.analysis.stt import SpeechRecognizer
from trainer.core.events import Utterance
from trainer.core.scenario import discover_scenarios
from trainer.resources import builtin_scenarios_dir
from trainer.store.db import SessionStore
from trainer.visit import VisitRunner


@pytest.fixture(scope="module")
def recognizer():
    return SpeechRecognizer()


def _visit(tmp_path, recognizer, keep):
    scenario = discover_scenarios([builtin_scenarios_dir()])[0][0]
    store = SessionStore(tmp_path / f"s{keep}.db")
    events = []
    runner = VisitRunner(scenario, store, camera=None, mic=str(fixture("video/talking_glasses.mp4")),
                         listener=events.append, realtime=False, speech_to_text=True, keep_transcripts=keep,
                         recognizer_factory=lambda: recognizer)
    sid = runner.start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any(type(e).__name__ == "SourceFinished" for e in events):
        time.sleep(0.05)
    runner.end()  # waits for the queued utterances
    return store, sid, [e for e in events if isinstance(e, Utterance)], runner


def test_visit_transcribes_and_stores_words_when_allowed(tmp_path, recognizer):
    store, sid, utts, runner = _visit(tmp_path, recognizer, keep=True)
    words = " ".join(u.text for u in utts).lower()
    assert "reforms" in words and "regulation" in words
    assert all(u.t >= u.end and u.labels["statements"] >= 0 for u in utts)
    rows = store.events(sid, "utterance")
    assert len(rows) == len(utts) and all("text" in r["data"] for r in rows)
    assert len(runner.pipeline.stt_latencies) >= len(utts)


def test_without_permission_only_labels_are_stored(tmp_path, recognizer):
    store, sid, utts, _ = _visit(tmp_path, recognizer, keep=False)
    assert utts and any(u.text for u in utts)  # the live captions still get the words
    rows = store.events(sid, "utterance")
    assert rows and all("text" not in r["data"] and "labels" in r["data"] for r in rows)


_CLOSE_WHILE_BUSY = r"""
import json, sys, threading, time
from trainer.core.scenario import discover_scenarios
from trainer.resources import builtin_scenarios_dir
from trainer.store.db import SessionStore
from trainer.visit import VisitRunner

scenario = discover_scenarios([builtin_scenarios_dir()])[0][0]
store = SessionStore(sys.argv[1])
runner = VisitRunner(scenario, store, camera=None, mic=sys.argv[2], realtime=False, speech_to_text=True,
                     keep_transcripts=True)
sid = runner.start()
deadline = time.monotonic() + 120
while time.monotonic() < deadline and not (runner.pipeline._stt and runner.pipeline._stt.busy.is_set()):
    time.sleep(0.01)
busy = runner.pipeline._stt.busy.is_set()
# End call (the window's background task) and, while it is still saving, the app is closed.
ending = threading.Thread(target=runner.end)
ending.start()
time.sleep(0.05)
runner.end(hurry=True)
ending.join()
print(json.dumps({"sid": sid, "busy": busy}))
"""


def test_closing_while_a_word_is_being_transcribed_exits_cleanly(tmp_path):
    # A separate process, because what failed was the process ending under CTranslate2's threads
    # ("terminate called without an active exception").
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    db = tmp_path / "s.db"
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent))
    proc = subprocess.run([sys.executable, "-c", _CLOSE_WHILE_BUSY, str(db), str(fixture("audio/call_two_speakers.wav"))],
                          capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "terminate called" not in proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["busy"]
    store = SessionStore(db)
    rows = store.events(out["sid"], "utterance")
    assert rows and store.speech(out["sid"], "clinician")
    # Every utterance is stored with its words or marked not transcribed, never half-written.
    assert all(("text" in r["data"]) != (r["data"].get("transcribed") is False) for r in rows)
    assert store.session(out["sid"])["status"] in ("completed", "ended_early")
