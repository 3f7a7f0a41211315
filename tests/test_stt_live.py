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
