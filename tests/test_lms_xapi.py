"""xAPI results to a real learning record store (Ralph on 127.0.0.1, started by these tests): the outbox
keeps statements through an offline period, sends them once and in order, survives kill -9 mid-send, and a
wrong password leaves the queue intact with a clear message."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from trainer.core.events import FrameSample, SpeechSegment, VisitEnded
from trainer.core.policy import LmsPolicy, PolicyError, parse_policy
from trainer.store import outbox
from trainer.store.db import SessionStore
from trainer.store.xapi import EXT, VERBS

pytest.importorskip("ralph")
from lrs_server import PASSWORD, USER, Lrs  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


def _credentials(tmp_path: Path, password: str = PASSWORD, mode: int = 0o600) -> Path:
    f = tmp_path / "lrs-credentials"
    f.write_text(f"# LRS key and secret\n{USER}:{password}\n")
    f.chmod(mode)
    return f


def _lms(endpoint: str, creds: Path) -> LmsPolicy:
    return LmsPolicy(endpoint=endpoint, credentials_file=str(creds), learner="account",
                     account_homepage="https://lms.example.org")


def _policy_file(tmp_path: Path, endpoint: str, creds: Path) -> Path:
    p = tmp_path / "policy.yaml"
    p.write_text(f"version: 1\nlms:\n  endpoint: {endpoint}\n  credentials_file: {creds}\n  learner: account\n"
                 "  account_homepage: https://lms.example.org\n")
    return p


def _session(store: SessionStore, i: int) -> int:
    """A closed session with frames, speech and a completed visit_end, through the real writer."""
    sid = store.create_session("first-checkin", "First check-in", camera="file", mic="file")
    w = store.writer(sid)
    for k in range(20):
        w.put(FrameSample(t=k / 10, face=True, gaze="camera" if k % 3 else "screen", yaw=1.0, pitch=2.0, roll=0.0,
                          expressivity=0.2, smile=0.1, nod=k == 5))
    w.put(SpeechSegment(0.2, 1.1 + i / 1000, "clinician"))
    w.put(SpeechSegment(1.3, 1.9, "patient"))
    w.put(VisitEnded(2.0, reason="completed", behaviours=("eye_contact",)))
    w.close("completed", duration_s=2.0)
    return sid


def _ids_in_queue_order(db: Path) -> list[str]:
    with sqlite3.connect(db) as con:
        return [r[0] for r in con.execute("SELECT statement_id FROM outbox ORDER BY seq")]


@pytest.fixture
def lrs(tmp_path):
    """An LRS not started yet (the test starts it)."""
    server = Lrs(tmp_path / "lrs")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def running_lrs(tmp_path_factory):
    """One running LRS shared by the tests that need no start of their own (each uses its own statement ids)."""
    server = Lrs(tmp_path_factory.mktemp("lrs")).start()
    yield server
    server.stop()


def _stored_ids(lrs, db: Path) -> list[str]:
    mine = set(_ids_in_queue_order(db))
    return [s["id"] for s in lrs.stored() if s["id"] in mine]


def test_statement_profile(tmp_path):
    store = SessionStore(tmp_path / "s.db")
    sid = _session(store, 0)
    lms = _lms("http://127.0.0.1:9/xAPI/", _credentials(tmp_path))
    assert outbox.queue_session(store, sid, lms, "jdoe", behaviours=("eye_contact",)) == 3
    assert outbox.queue_session(store, sid, lms, "jdoe") == 0  # a session is queued once
    items = outbox.pending(store)
    assert [q.verb for q in items] == ["initialized", "completed", "terminated"]
    st = {q.verb: q.statement for q in items}
    assert st["completed"]["verb"]["id"] == VERBS["completed"]
    assert st["completed"]["actor"] == {"objectType": "Agent",
                                         "account": {"homePage": "https://lms.example.org", "name": "jdoe"}}
    obj = st["completed"]["object"]
    assert obj["definition"]["type"] == "http://adlnet.gov/expapi/activities/simulation"
    assert obj["id"].endswith("/first-checkin")
    result = st["completed"]["result"]
    assert result["completion"] is True and result["duration"] == "PT2S"
    measures = next(v for k, v in result["extensions"].items() if k.endswith("/measures"))
    summary = store.summary(sid)  # the very numbers the debrief shows (core.measures)
    assert summary.measures and all(measures[k] == v for k, v in summary.measures.items())
    assert measures["duration_s"] == 2.0
    assert len({q.statement["context"]["registration"] for q in items}) == 1
    assert len({q.statement_id for q in items}) == 3


def test_no_policy_means_nothing_queued(tmp_path):
    store = SessionStore(tmp_path / "s.db")
    assert outbox.queue_session(store, _session(store, 0), None, "jdoe") == 0
    assert outbox.status(store).pending == 0


def test_policy_lms_section_is_validated(tmp_path):
    good = parse_policy("lms:\n  endpoint: https://lrs.example.org/x\n  credentials_file: creds\n"
                        "  learner: mbox\n  mbox_domain: example.org\n", tmp_path / "p.yaml")
    lms = good.enforced["lms"].value
    assert lms.endpoint == "https://lrs.example.org/x/" and lms.credentials_file == str(tmp_path / "creds")
    with pytest.raises(PolicyError, match=r"p.yaml:2: lms: 'credentials_file' is required"):
        parse_policy("lms:\n  endpoint: https://lrs.example.org/x\n", tmp_path / "p.yaml")
    with pytest.raises(PolicyError, match="only be set at the top level"):
        parse_policy("defaults:\n  lms:\n    endpoint: https://a.b/\n    credentials_file: c\n", tmp_path / "p.yaml")
    with pytest.raises(PolicyError, match="account_homepage"):
        parse_policy("lms:\n  endpoint: https://a.b/\n  credentials_file: c\n", tmp_path / "p.yaml")


def test_hundred_sessions_offline_then_lrs_started_all_stored_once_in_order(tmp_path, lrs):
    from trainer.lms import LrsUnreachable, send_pending

    store = SessionStore(tmp_path / "s.db")
    lms = _lms(lrs.endpoint, _credentials(tmp_path))
    for i in range(100):
        outbox.queue_session(store, _session(store, i), lms, "jdoe")
    assert outbox.status(store).pending == 300
    with pytest.raises(LrsUnreachable, match="cannot be reached"):  # offline: the LRS is not running yet
        send_pending(store, lms, timeout=2)
    st = outbox.status(store)
    assert st.pending == 300 and st.last_error and "cannot be reached" in st.last_error
    lrs.start()
    report = send_pending(store, lms)
    assert (report.sent, report.already_there, report.pending) == (300, 0, 0)
    stored = [s["id"] for s in lrs.stored()]
    assert stored == _ids_in_queue_order(store.path)  # every statement once, in queue order
    # A crash after the LRS stored a batch but before it was marked sent: the batch goes again and the LRS
    # keeps the first copy.
    with sqlite3.connect(store.path) as con:
        con.execute("UPDATE outbox SET sent_at = NULL WHERE seq > 290")
    report = send_pending(store, lms)
    assert (report.sent, report.already_there, report.pending) == (0, 10, 0)
    assert [s["id"] for s in lrs.stored()] == stored


def test_kill_9_while_sending_loses_and_duplicates_nothing(tmp_path, running_lrs):
    lrs = running_lrs
    store = SessionStore(tmp_path / "data" / "sessions.sqlite3")
    creds = _credentials(tmp_path)
    lms = _lms(lrs.endpoint, creds)
    for i in range(40):
        outbox.queue_session(store, _session(store, i), lms, "jdoe")
    total = 120
    before = len(lrs.stored())
    env = dict(os.environ, TRAINER_DATA_DIR=str(tmp_path / "data"),
               TRAINER_POLICY=str(_policy_file(tmp_path, lrs.endpoint, creds)), PYTHONPATH=str(REPO))
    cmd = [sys.executable, "-m", "trainer", "lms", "send", "--batch", "3"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while len(lrs.stored()) < before + 12 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    mid = outbox.status(store)
    assert 0 < mid.pending < total, "the kill did not land while sending"
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "0 still queued" in done.stdout
    stored = _stored_ids(lrs, store.path)
    assert Counter(stored).most_common(1)[0][1] == 1  # nothing twice
    assert stored == _ids_in_queue_order(store.path)  # nothing lost, order kept


def test_wrong_password_gives_a_clear_notice_and_keeps_the_queue(tmp_path, running_lrs):
    from trainer.lms import LrsRejected, send_pending

    lrs = running_lrs
    store = SessionStore(tmp_path / "data" / "sessions.sqlite3")
    creds = _credentials(tmp_path, password="not-the-password")
    lms = _lms(lrs.endpoint, creds)
    outbox.queue_session(store, _session(store, 0), lms, "jdoe")
    with pytest.raises(LrsRejected) as info:
        send_pending(store, lms)
    assert info.value.status == 401
    assert "refused the key or password" in info.value.message and str(creds) in info.value.message
    assert outbox.status(store).pending == 3 and _stored_ids(lrs, store.path) == []
    env = dict(os.environ, TRAINER_DATA_DIR=str(tmp_path / "data"),
               TRAINER_POLICY=str(_policy_file(tmp_path, lrs.endpoint, creds)), PYTHONPATH=str(REPO))
    cli = subprocess.run([sys.executable, "-m", "trainer", "lms", "send"], env=env, capture_output=True, text=True)
    assert cli.returncode == 1 and "refused the key or password" in cli.stderr and "stay queued" in cli.stderr
    status = subprocess.run([sys.executable, "-m", "trainer", "lms", "status"], env=env, capture_output=True,
                            text=True)
    assert status.returncode == 0 and "3 statement(s) waiting" in status.stdout and "refused" in status.stdout
    _credentials(tmp_path)  # IT fixes the password: everything goes
    assert send_pending(store, lms).sent == 3 and len(_stored_ids(lrs, store.path)) == 3


def test_credentials_readable_by_others_are_refused(tmp_path):
    from trainer.lms import CredentialsError, read_credentials

    lms = _lms("http://127.0.0.1:9/xAPI/", _credentials(tmp_path, mode=0o644))
    with pytest.raises(CredentialsError, match="can be read by other users"):
        read_credentials(lms)
    lms = _lms("http://127.0.0.1:9/xAPI/", _credentials(tmp_path, mode=0o600))
    assert read_credentials(lms) == (USER, PASSWORD)


def test_a_visit_that_ends_queues_its_statements_when_the_policy_names_an_lrs(tmp_path):
    from trainer.core.scenario import discover_scenarios
    from trainer.resources import builtin_scenarios_dir
    from trainer.visit import VisitRunner

    scenario = discover_scenarios([builtin_scenarios_dir()])[0][0]
    store = SessionStore(tmp_path / "s.db")
    lms = _lms("http://127.0.0.1:9/xAPI/", _credentials(tmp_path))
    runner = VisitRunner(scenario, store, camera=None, mic=None, realtime=False, sound_output=False, lms=lms)
    sid = runner.start()
    time.sleep(0.3)
    runner.end()
    items = outbox.pending(store)
    assert [q.verb for q in items] == ["initialized", "terminated"]  # ended early: no `completed`
    assert items[1].statement["result"]["completion"] is False
    assert items[0].statement["object"]["id"].endswith("/" + scenario.id)
    assert {q.statement["context"]["extensions"][EXT["session"]]["id"] for q in items} == {sid}
    # Without an LRS in the policy (the tests' default: no policy), a visit queues nothing.
    runner = VisitRunner(scenario, SessionStore(tmp_path / "t.db"), camera=None, mic=None, realtime=False,
                         sound_output=False)
    runner.start()
    runner.end()
    assert outbox.status(runner.store).pending == 0
