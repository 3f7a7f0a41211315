"""The SQLite session store.

Schema (version in PRAGMA user_version; `MIGRATIONS[i]` upgrades version i to i+1):
  sessions(id, scenario_id, scenario_title, started_at, ended_at, duration_s, status, camera, mic,
           calibrated, app_version)
  frames(session_id, t, face, gaze, yaw, pitch, roll, expressivity, smile, nod)   one row per analysed frame
  speech(session_id, speaker, start, end)                                          closed speech segments
  events(session_id, t, kind, data)                                                scenario events, notices
  outbox(seq, statement_id, session_id, verb, created_at, statement, sent_at, ...)  xAPI statements to send

A session is created with status 'interrupted' and only becomes 'completed' when it is closed properly,
so a crash or power cut leaves an honest record. Writes go through one `SessionWriter` thread that
commits at least every `COMMIT_INTERVAL_S` (a crash loses at most that much).
"""

from __future__ import annotations

import json
import os
import queue
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from trainer.core.errors import StoreError
from trainer.core.events import FrameSample, Notice, ScenarioEvent, SourceFinished, SourceStatus, SpeechSegment
from trainer.core.face_metrics import cue_response, summarise_face
from trainer.core.measures import VisitRecord, measure_all, source_live_intervals
from trainer.core.metrics import face_present_ratio, total_duration
from trainer.core.talktime import summarize
from trainer.privacy import private_dir, private_file

COMMIT_INTERVAL_S = 0.5

MIGRATIONS = [
    """
    CREATE TABLE sessions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        scenario_id TEXT NOT NULL,
        scenario_title TEXT NOT NULL,
        started_at TEXT NOT NULL,
        ended_at TEXT,
        duration_s REAL,
        status TEXT NOT NULL DEFAULT 'interrupted',
        camera TEXT,
        mic TEXT,
        calibrated INTEGER NOT NULL DEFAULT 0,
        app_version TEXT
    );
    CREATE TABLE frames (
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        t REAL NOT NULL, face INTEGER NOT NULL, gaze TEXT NOT NULL,
        yaw REAL, pitch REAL, roll REAL, expressivity REAL, smile REAL, nod INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX frames_session_t ON frames(session_id, t);
    CREATE TABLE speech (
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        speaker TEXT NOT NULL, start REAL NOT NULL, "end" REAL NOT NULL
    );
    CREATE INDEX speech_session ON speech(session_id, start);
    CREATE TABLE events (
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        t REAL NOT NULL, kind TEXT NOT NULL, data TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX events_session_t ON events(session_id, t);
    """,
    # 1 -> 2: the xAPI outbox (trainer.store.outbox). No foreign key to sessions: a statement already queued
    # is still sent when retention deletes its session.
    """
    CREATE TABLE outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        statement_id TEXT NOT NULL UNIQUE,
        session_id INTEGER NOT NULL,
        verb TEXT NOT NULL,
        created_at TEXT NOT NULL,
        statement TEXT NOT NULL,
        sent_at TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_attempt_at TEXT,
        last_error TEXT,
        UNIQUE (session_id, verb)
    );
    CREATE INDEX outbox_pending ON outbox(sent_at, seq);
    """,
]


def _make_private(path: Path) -> None:
    """The folder 0700 and the database (with its -wal/-shm files) 0600: sessions are the user's alone.
    The file is created 0600 before SQLite opens it, and SQLite gives -wal/-shm the database's mode."""
    private_dir(path.parent)
    if not path.exists():
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            pass
    for suffix in ("", "-wal", "-shm", "-journal"):
        private_file(f"{path}{suffix}")


def _connect(path: Path) -> sqlite3.Connection:
    try:
        _make_private(path)
        con = sqlite3.connect(str(path), timeout=10, isolation_level=None)
    except (OSError, sqlite3.Error) as exc:
        raise StoreError(f"Cannot open the session store at {path}: {exc}",
                         hint="Check that the folder exists and that you may write to it.") from None
    con.row_factory = sqlite3.Row
    try:
        con.execute("PRAGMA foreign_keys = ON")
        con.execute("PRAGMA journal_mode = WAL")  # readers (history, summary) never block the writer
        con.execute("PRAGMA synchronous = NORMAL")
    except sqlite3.DatabaseError as exc:
        con.close()
        raise StoreError(f"The session store {path} is damaged or not a trainer database: {exc}",
                         hint="Move the file aside; the app will create a new one.") from None
    return con


@dataclass(frozen=True)
class SessionSummary:
    """What the end-of-visit summary shows, computed from stored rows."""

    session_id: int
    scenario_title: str
    status: str
    duration_s: float
    frames: int
    face_present_ratio: float | None
    clinician_talk_s: float
    patient_talk_s: float
    speech_segments: int
    notices: list[str]
    face: dict = field(default_factory=dict)  # core.face_metrics.summarise_face keys (eye contact, nods...)
    talk: dict = field(default_factory=dict)  # core.talktime.TalkSummary.as_dict (interruptions, latencies...)
    cues: list[dict] = field(default_factory=list)  # core.face_metrics.CueResponse per patient cue line
    #: core.measures.measure_all as dicts: value (None = not enough to judge), measured_s, base_s, coverage.
    #: The one set of numbers the debrief shows; the rubric quotes the same ones.
    measures: dict = field(default_factory=dict)


class SessionStore:
    """Opens (creating and migrating) the database at `path`."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        con = _connect(self.path)
        try:
            self._migrate(con)
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"The session store {self.path} is damaged or not a trainer database: {exc}",
                             hint="Move the file aside; the app will create a new one.") from None
        finally:
            con.close()

    @staticmethod
    def _migrate(con: sqlite3.Connection) -> None:
        version = con.execute("PRAGMA user_version").fetchone()[0]
        if version > len(MIGRATIONS):
            raise StoreError(f"The session store was written by a newer version of the app (schema {version}).",
                             hint="Update the trainer to open it.")
        for i in range(version, len(MIGRATIONS)):
            # One transaction per step: a failed migration leaves the previous version intact.
            con.executescript(f"BEGIN;\n{MIGRATIONS[i]}\nPRAGMA user_version = {i + 1};\nCOMMIT;")

    def connect(self) -> sqlite3.Connection:
        return _connect(self.path)

    # -- writing ------------------------------------------------------------------------------------
    def create_session(self, scenario_id: str, scenario_title: str, *, camera: str = "", mic: str = "",
                       calibrated: bool = False) -> int:
        """Insert a session row (status 'interrupted' until closed) and return its id."""
        from trainer import __version__

        con = self.connect()
        try:
            cur = con.execute(
                "INSERT INTO sessions (scenario_id, scenario_title, started_at, camera, mic, calibrated, "
                "app_version) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (scenario_id, scenario_title, datetime.now(timezone.utc).isoformat(timespec="seconds"),
                 camera, mic, int(calibrated), __version__))
            return int(cur.lastrowid)
        finally:
            con.close()

    def writer(self, session_id: int) -> "SessionWriter":
        return SessionWriter(self, session_id)

    # -- reading ------------------------------------------------------------------------------------
    def sessions(self, limit: int = 200) -> list[dict]:
        """Past sessions, newest first."""
        con = self.connect()
        try:
            rows = con.execute("SELECT * FROM sessions ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
            return [dict(r) for r in rows]
        finally:
            con.close()

    def history(self, limit: int = 200) -> list[dict]:
        """Past sessions, newest first, each with its face-present ratio and clinician talk seconds."""
        con = self.connect()
        try:
            rows = con.execute(
                "SELECT s.*, (SELECT AVG(face) FROM frames f WHERE f.session_id = s.id) AS face_ratio, "
                "(SELECT COALESCE(SUM(\"end\" - start), 0) FROM speech p WHERE p.session_id = s.id "
                " AND p.speaker = 'clinician') AS clinician_s "
                "FROM sessions s ORDER BY s.id DESC LIMIT ?", (limit,)).fetchall()
            return [dict(r) for r in rows]
        finally:
            con.close()

    def delete_older_than(self, days: int, now: datetime | None = None) -> int:
        """Delete sessions that started more than `days` days ago (site-policy retention); returns how many.
        Their frames, speech and events go with them (foreign keys cascade)."""
        now = now or datetime.now(timezone.utc)
        cutoff = (now - timedelta(days=days)).isoformat(timespec="seconds")
        con = self.connect()
        try:
            cur = con.execute("DELETE FROM sessions WHERE started_at < ?", (cutoff,))
            return cur.rowcount
        finally:
            con.close()

    def session(self, session_id: int) -> dict:
        con = self.connect()
        try:
            row = con.execute("SELECT * FROM sessions WHERE id = ?", (session_id,)).fetchone()
        finally:
            con.close()
        if row is None:
            raise StoreError(f"Session {session_id} does not exist.")
        return dict(row)

    def frames(self, session_id: int) -> list[dict]:
        con = self.connect()
        try:
            return [dict(r) for r in con.execute(
                "SELECT * FROM frames WHERE session_id = ? ORDER BY t", (session_id,))]
        finally:
            con.close()

    def speech(self, session_id: int, speaker: str | None = None) -> list[tuple[float, float]]:
        con = self.connect()
        try:
            if speaker is None:
                rows = con.execute('SELECT start, "end" FROM speech WHERE session_id = ? ORDER BY start',
                                   (session_id,))
            else:
                rows = con.execute('SELECT start, "end" FROM speech WHERE session_id = ? AND speaker = ? '
                                   'ORDER BY start', (session_id, speaker))
            return [(r[0], r[1]) for r in rows]
        finally:
            con.close()

    def events(self, session_id: int, kind: str | None = None) -> list[dict]:
        con = self.connect()
        try:
            q = "SELECT t, kind, data FROM events WHERE session_id = ?"
            args: tuple = (session_id,)
            if kind is not None:
                q += " AND kind = ?"
                args += (kind,)
            return [{"t": r[0], "kind": r[1], "data": json.loads(r[2])} for r in con.execute(q + " ORDER BY t",
                                                                                             args)]
        finally:
            con.close()

    def rubric(self, session_id: int) -> list[dict]:
        """The session's rubric report: the final one (kind 'rubric', written once every input was in),
        else the one sent with visit_end; [] when the visit never ended."""
        for kind in ("rubric", "visit_end"):
            rows = self.events(session_id, kind)
            if rows:
                return list(rows[-1]["data"].get("rubric") or [])
        return []

    def summary(self, session_id: int) -> SessionSummary:
        """Face-present ratio, talk seconds and notices, read back from the stored rows."""
        meta = self.session(session_id)
        con = self.connect()
        try:
            faces = [r[0] for r in con.execute("SELECT face FROM frames WHERE session_id = ?", (session_id,))]
        finally:
            con.close()
        clinician = self.speech(session_id, "clinician")
        patient = self.speech(session_id, "patient")
        notices = [e["data"].get("message", "") for e in self.events(session_id, "notice")]
        frames = self.frames(session_id) if faces else []
        # A cue is the moment the patient finishes an emotionally loaded line: from then on the clinician's
        # face response and the silence they leave are measured.
        lines = self.events(session_id, "patient_line")
        cue_steps = {e["data"].get("step") for e in lines if e["data"].get("cue")}
        cue_times = [e["t"] for e in self.events(session_id, "patient_line_end") if e["data"].get("step") in cue_steps]
        face = summarise_face(frames, speech_segments=clinician, patient_segments=patient) if frames else {}
        talk = summarize(clinician, patient, cues=cue_times, session_end=meta["duration_s"]).as_dict() \
            if (clinician or patient) else {}
        cues = [c.to_dict() for c in cue_response(cue_times, frames, speech_segments=clinician,
                                                  patient_segments=patient)] if frames else []
        measures = {k: m.as_dict() for k, m in measure_all(self.visit_record(session_id)).items()}
        return SessionSummary(session_id, meta["scenario_title"], meta["status"], meta["duration_s"] or 0.0,
                              len(faces), face_present_ratio(faces), round(total_duration(clinician), 2),
                              round(total_duration(patient), 2), len(clinician), notices, face, talk, cues,
                              measures)

    def visit_record(self, session_id: int) -> VisitRecord:
        """The inputs of core.measures for a stored session, as the live engine had them: frames, speech,
        cue times, the visit's length (its visit_end, else the stored duration) and the microphone's
        coverage (none when the session had no microphone; cut where the source ended or failed)."""
        meta = self.session(session_id)
        ends = self.events(session_id, "visit_end")
        end_s = float(ends[-1]["t"]) if ends else float(meta["duration_s"] or 0.0)
        lines = self.events(session_id, "patient_line")
        cue_steps = {e["data"].get("step") for e in lines if e["data"].get("cue")}
        cues = [e["t"] for e in self.events(session_id, "patient_line_end") if e["data"].get("step") in cue_steps]
        sources = self.events(session_id, "source_finished") + self.events(session_id, "source_status")
        has_mic = (meta.get("mic") or "none") != "none"
        mic = source_live_intervals(sources, "mic", end_s, has_mic) if (sources or not has_mic) else None
        frames = [f for f in self.frames(session_id) if f["t"] <= end_s]
        return VisitRecord(frames, self.speech(session_id, "clinician"), self.speech(session_id, "patient"), cues,
                           end_s, mic)


class SessionWriter:
    """The single writer of one session: `put()` from any thread; a background thread inserts in batches
    and commits at least every COMMIT_INTERVAL_S."""

    def __init__(self, store: SessionStore, session_id: int):
        self.store = store
        self.session_id = session_id
        self._queue: queue.Queue = queue.Queue()
        self._closed = threading.Event()
        self.error: Exception | None = None
        self.rows_written = 0
        self._thread = threading.Thread(target=self._run, name=f"store-writer-{session_id}", daemon=True)
        self._thread.start()

    def put(self, event) -> None:
        """Queue an event for storage (FrameSample, SpeechSegment, ScenarioEvent, Notice, SourceFinished,
        SourceStatus); other event types (live meter levels) are ignored."""
        if isinstance(event, (FrameSample, SpeechSegment, ScenarioEvent, Notice, SourceFinished, SourceStatus)):
            self._queue.put(event)

    def _rows(self, ev):
        sid = self.session_id
        if isinstance(ev, FrameSample):
            return ("INSERT INTO frames VALUES (?,?,?,?,?,?,?,?,?,?)",
                    (sid, ev.t, int(ev.face), ev.gaze, ev.yaw, ev.pitch, ev.roll, ev.expressivity, ev.smile,
                     int(ev.nod)))
        if isinstance(ev, SpeechSegment):
            return ("INSERT INTO speech VALUES (?,?,?,?)", (sid, ev.speaker, ev.start, ev.end))
        if isinstance(ev, ScenarioEvent):
            return ("INSERT INTO events VALUES (?,?,?,?)", (sid, ev.t, ev.kind, json.dumps(ev.data)))
        if isinstance(ev, Notice):
            return ("INSERT INTO events VALUES (?,?,?,?)",
                    (sid, ev.t, "notice", json.dumps({"code": ev.code, "message": ev.message, "level": ev.level})))
        if isinstance(ev, SourceStatus):
            return ("INSERT INTO events VALUES (?,?,?,?)",
                    (sid, ev.t, "source_status",
                     json.dumps({"source": ev.source, "state": ev.state, "reason": ev.reason})))
        return ("INSERT INTO events VALUES (?,?,?,?)",
                (sid, ev.t, "source_finished", json.dumps({"source": ev.kind, "reason": ev.reason})))

    def _run(self) -> None:
        try:
            con = self.store.connect()
        except StoreError as exc:
            self.error = exc
            return
        last_commit = time.monotonic()
        pending = 0
        try:
            con.execute("BEGIN")
            while True:
                timeout = max(0.0, COMMIT_INTERVAL_S - (time.monotonic() - last_commit))
                try:
                    ev = self._queue.get(timeout=timeout)
                except queue.Empty:
                    ev = None
                if ev is _CLOSE:
                    break
                if ev is not None:
                    sql, args = self._rows(ev)
                    con.execute(sql, args)
                    pending += 1
                if time.monotonic() - last_commit >= COMMIT_INTERVAL_S:
                    if pending:
                        con.execute("COMMIT")
                        self.rows_written += pending
                        pending = 0
                        con.execute("BEGIN")
                    last_commit = time.monotonic()
            con.execute("COMMIT")
            self.rows_written += pending
        except sqlite3.Error as exc:
            self.error = StoreError(f"Writing the session failed: {exc}")
        finally:
            con.close()

    def close(self, status: str = "completed", duration_s: float | None = None, calibrated: bool | None = None) -> None:
        """Flush everything queued, then mark the session closed with `status`."""
        if self._closed.is_set():
            return
        self._closed.set()
        self._queue.put(_CLOSE)
        self._thread.join()
        if self.error is not None:
            raise self.error
        con = self.store.connect()
        try:
            con.execute("UPDATE sessions SET status = ?, ended_at = ?, duration_s = COALESCE(?, duration_s), "
                        "calibrated = COALESCE(?, calibrated) WHERE id = ?",
                        (status, datetime.now(timezone.utc).isoformat(timespec="seconds"), duration_s,
                         None if calibrated is None else int(calibrated), self.session_id))
        finally:
            con.close()


_CLOSE = object()
