"""The SQLite session store.

Schema (version in PRAGMA user_version; `MIGRATIONS[i]` upgrades version i to i+1):
  sessions(id, scenario_id, scenario_title, started_at, ended_at, duration_s, status, camera, mic,
           calibrated, app_version, learner, reflection)
           learner: the name or pseudonym chosen at start ('' when none); reflection: JSON of the learner's
           self-reflection ({"went_well", "differently"} or {"skipped": true}), NULL until asked
  frames(session_id, t, face, gaze, yaw, pitch, roll, expressivity, smile, nod, smile_above)
                                                  one row per analysed frame; smile_above: the smile score
                                                  above the resting level, what smiles are counted in
                                                  (core.face_metrics.smile_onsets; NULL before version 5)
  speech(session_id, speaker, start, end)                                          closed speech segments
  events(session_id, t, kind, data)                                                scenario events, notices, utterances (kind 'utterance')
  outbox(seq, statement_id, session_id, verb, created_at, statement, sent_at, ...)  xAPI statements to send
  sessions.uuid / origin / scenario_text                                           bundles (store/bundle.py)
  notes(id, session_id, t, author, text, created_at)                               facilitator notes
  ratings(session_id, behaviour, level, comment, author, rated_at)                 facilitator ratings;
                                                  behaviour GLOBAL_RATING = the optional global rating
Beside the database: recordings/<uuid>.mkv, the consented video of a session (trainer.store.recording).

A session is created with status 'interrupted' and only becomes 'completed' when it is closed properly,
so a crash or power cut leaves an honest record. Writes go through one `SessionWriter` thread that
commits at least every `COMMIT_INTERVAL_S` (a crash loses at most that much).

Change announcements: the app has one SessionStore (the owner of the database); every change made through
it (a session started or saved, deleted, imported, a reflection, a note or a rating) is announced to the
listeners given to `add_listener` as a `StoreChange`, on the thread that made the change, after the commit.
The GUI turns them into a queued Qt signal (trainer/ui/store_data.py) so its pages reload themselves; this
module stays free of Qt.
"""

from __future__ import annotations

import errno
import functools
import json
import os
import shutil
import queue
import sqlite3
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from trainer.core.errors import StoreError, TrainerError
from trainer.core.events import (AudioLevel, FrameSample, Notice, ScenarioEvent, SourceFinished, SourceStatus,
                                 SpeechSegment, SpeechStarted, Utterance)
from trainer.core.face_metrics import cue_response, summarise_face
from trainer.core.i18n import _, localized, wording
from trainer.core.measures import VisitRecord, measure_all, source_live_intervals
from trainer.core.metrics import face_present_ratio, total_duration
# The ratings table's global-rating key and the default scale belong to the scenario format.
from trainer.core.scenario import DEFAULT_RATING_SCALE, GLOBAL_RATING  # noqa: F401 (re-exported)
from trainer.core.talktime import summarize
from trainer.privacy import private_dir, private_file
from trainer.store.recording import delete_recording, recording_path

COMMIT_INTERVAL_S = 0.1  # cheap in WAL mode (no fsync per commit); with the analysis latency a crash loses < 0.5 s
RETRY_S = 1.0  # during a storage fault
BUSY_TIMEOUT_S = 1.0  # the writer waits this long for a lock before reporting it (notice within 2 s)
MAX_HELD_ROWS = 150_000  # rows kept in memory while storage fails: about an hour of 30 fps frames, ~40 MB

#: What a StoreChange can say happened (StoreChange.kind).
CHANGE_KINDS = ("session_started", "session_saved", "sessions_deleted", "sessions_imported", "reflection", "notes",
                "ratings")


@dataclass(frozen=True)
class StoreChange:
    """One committed change: `kind` (one of CHANGE_KINDS) and the local ids of the sessions it touched."""

    kind: str
    session_ids: tuple[int, ...] = ()



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
    # 2 -> 3: learners on a shared workstation, and the self-reflection asked before the summary's numbers.
    """
    ALTER TABLE sessions ADD COLUMN learner TEXT NOT NULL DEFAULT '';
    ALTER TABLE sessions ADD COLUMN reflection TEXT;
    CREATE INDEX sessions_learner ON sessions(learner, started_at);
    """,
    # 3 -> 4: the debrief. A globally unique id per session (128 random bits as 32 hex digits) so bundles
    # import idempotently; where an imported session came from ('' = made here); the scenario text as it was
    # played (replay and reports work without the pack); facilitator notes and ratings, kept apart from the
    # automatic measures they comment on.
    """
    ALTER TABLE sessions ADD COLUMN uuid TEXT;
    ALTER TABLE sessions ADD COLUMN origin TEXT NOT NULL DEFAULT '';
    ALTER TABLE sessions ADD COLUMN scenario_text TEXT;
    UPDATE sessions SET uuid = lower(hex(randomblob(16))) WHERE uuid IS NULL;
    CREATE UNIQUE INDEX sessions_uuid ON sessions(uuid);
    CREATE TABLE notes (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        t REAL NOT NULL, author TEXT NOT NULL, text TEXT NOT NULL, created_at TEXT NOT NULL
    );
    CREATE INDEX notes_session_t ON notes(session_id, t);
    CREATE TABLE ratings (
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        behaviour TEXT NOT NULL, level TEXT NOT NULL, comment TEXT NOT NULL DEFAULT '',
        author TEXT NOT NULL, rated_at TEXT NOT NULL,
        PRIMARY KEY (session_id, behaviour, author)
    );
    """,
    # 4 -> 5: the smile score above the person's resting level per frame, so the stored summary counts smiles
    # with the live detector (core.face_metrics.smile_onsets); older rows stay NULL ("not measured").
    """
    ALTER TABLE frames ADD COLUMN smile_above REAL;
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

def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _connect(path: Path) -> sqlite3.Connection:
    try:
        _make_private(path)
        con = sqlite3.connect(str(path), timeout=3, isolation_level=None)
    except (OSError, sqlite3.Error) as exc:
        problem = diagnose(exc, path)
        raise StoreError(problem.message, hint=problem.fix) from exc
    con.row_factory = sqlite3.Row
    try:
        con.execute("PRAGMA foreign_keys = ON")
        con.execute("PRAGMA journal_mode = WAL")  # readers (history, summary) never block the writer
        con.execute("PRAGMA synchronous = NORMAL")
        con.execute("PRAGMA secure_delete = ON")  # purged sessions are overwritten, not just unlinked
    except sqlite3.Error as exc:
        con.close()
        problem = diagnose(exc, path)
        raise StoreError(problem.message, hint=problem.fix) from exc
    return con


@dataclass(frozen=True)
class StoreProblem:
    """A storage fault in words: `code` is disk_full, read_only, locked, damaged or io_error; `message`
    names the file or folder; `fix` is what the user (or IT) can do about it."""

    code: str
    message: str
    fix: str


def diagnose(exc: BaseException, path: Path) -> StoreProblem:
    """Tell a full disk, a read-only folder, a file locked by another program and a damaged file apart
    (SQLite's result code, else the OS error number)."""
    path = Path(path)
    folder = path.parent
    cause = exc
    while isinstance(cause, StoreError) and (cause.__cause__ or cause.__context__) is not None:
        cause = cause.__cause__ or cause.__context__
    if isinstance(cause, StoreError) and getattr(cause, "problem", None) is not None:
        return cause.problem
    name = getattr(cause, "sqlite_errorname", "") or ""
    code = getattr(cause, "errno", None)
    text = str(cause).lower()
    if name.startswith("SQLITE_FULL") or code == errno.ENOSPC or "disk is full" in text:
        return StoreProblem("disk_full", f"The disk holding {folder} is full.",
                            "Free some space on that disk. Nothing is lost meanwhile: the visit is kept in "
                            "memory and written as soon as there is room.")
    if name.startswith("SQLITE_READONLY") or code in (errno.EROFS, errno.EACCES, errno.EPERM) or \
            "readonly" in text or "read-only" in text or "permission denied" in text:
        return StoreProblem("read_only", f"The session folder {folder} cannot be written (read-only or "
                                         f"no permission).",
                            f"Make it writable for your account (for example: chmod u+w '{folder}'), or "
                            f"ask IT to set a writable data folder in the site policy.")
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in text:
        return StoreProblem("locked", f"Another program is holding {path} (the file is locked).",
                            "Close other trainer windows and programs that may have it open (a backup, "
                            "sync or database tool); the app retries on its own.")
    if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")) or "malformed" in text or "not a database" in text:
        return StoreProblem("damaged", f"The session store {path} is damaged ({cause}).",
                            "The app sets the damaged file aside (nothing is deleted) and starts a new one.")
    if name.startswith(("SQLITE_CANTOPEN", "SQLITE_IOERR")) or code == errno.ENOENT:
        # SQLite only says it cannot open or write: ask the file system why.
        if folder.exists() and not os.access(folder, os.W_OK):
            return diagnose(OSError(errno.EROFS, "read-only"), path)
        try:
            if folder.exists() and shutil.disk_usage(folder).free < 64 * 1024:
                return diagnose(OSError(errno.ENOSPC, "disk full"), path)
        except OSError:
            pass
    if name.startswith("SQLITE_CANTOPEN") or code == errno.ENOENT:
        return StoreProblem("io_error", f"The session store {path} cannot be opened ({cause}).",
                            f"Check that {folder} exists and is on a connected disk.")
    return StoreProblem("io_error", f"The session store {path} cannot be written ({cause}).",
                        f"Check the disk holding {folder} (trainer doctor shows the data folder).")


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


def _explained(method):
    """Turn SQLite's errors in a store method into a StoreError that says what is wrong and what to do."""
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except sqlite3.Error as exc:
            problem = diagnose(exc, self.path)
            raise StoreError(problem.message, hint=problem.fix) from exc
    return wrapper


class SessionStore:
    """Opens (creating and migrating) the database at `path`."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.set_aside: Path | None = None  # where a damaged store was moved (a copy, byte for byte)
        self._listeners: list = []
        self._listeners_lock = threading.Lock()
        try:
            self._open_checked()
        except StoreError as exc:
            if exc.__cause__ is None and exc.__context__ is None:
                raise  # already explained (e.g. written by a newer version of the app)
            problem = diagnose(exc, self.path)
            if problem.code != "damaged":
                raise StoreError(problem.message, hint=problem.fix) from None
            self.set_aside = self._set_aside(problem)
            self._open_checked()

    def _open_checked(self) -> None:
        """Open, run SQLite's quick integrity check (a damaged page is found here, not later in Past
        sessions), and migrate. Raises StoreError explained by `diagnose`."""
        con = _connect(self.path)
        try:
            result = con.execute("PRAGMA quick_check").fetchone()[0]
            if result != "ok":
                raise sqlite3.DatabaseError(f"database disk image is malformed: {result}")
            self._migrate(con)
        except sqlite3.Error as exc:
            problem = diagnose(exc, self.path)
            raise StoreError(problem.message, hint=problem.fix) from exc
        finally:
            con.close()

    def _set_aside(self, problem: StoreProblem) -> Path:
        """Copy the damaged store (with its -wal) to sessions.damaged-<time>.sqlite3 beside it, then remove
        the original so a new one can start. Never overwrites anything; if the copy fails, nothing is
        removed and the problem is raised."""
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        aside = self.path.with_name(f"{self.path.stem}.damaged-{stamp}{self.path.suffix}")
        n = 1
        while aside.exists():
            n += 1
            aside = self.path.with_name(f"{self.path.stem}.damaged-{stamp}-{n}{self.path.suffix}")
        try:
            for suffix in ("", "-wal"):
                src = Path(f"{self.path}{suffix}")
                if src.exists():
                    shutil.copy2(src, f"{aside}{suffix}")
                    private_file(f"{aside}{suffix}")
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        except OSError as exc:
            raise StoreError(problem.message, hint=f"It could not be set aside ({exc.strerror or exc}); move "
                                                  f"it to another folder yourself, then start the app "
                                                  f"again.") from None
        return aside

    @staticmethod
    def _migrate(con: sqlite3.Connection) -> None:
        version = con.execute("PRAGMA user_version").fetchone()[0]
        if version > len(MIGRATIONS):
            raise StoreError(_("The session store was written by a newer version of the app (schema {n}).").format(
                n=version), hint=_("Update the trainer to open it."))
        for i in range(version, len(MIGRATIONS)):
            # One transaction per step: a failed migration leaves the previous version intact.
            con.executescript(f"BEGIN;\n{MIGRATIONS[i]}\nPRAGMA user_version = {i + 1};\nCOMMIT;")

    def connect(self) -> sqlite3.Connection:
        return _connect(self.path)

    # -- change announcements -----------------------------------------------------------------------
    def add_listener(self, listener) -> "callable":
        """Call `listener(StoreChange)` after every change made through this store (on the thread that made
        it: keep it short, e.g. post to a queue or emit a queued signal). Returns the function that removes it."""
        with self._listeners_lock:
            self._listeners.append(listener)

        def remove() -> None:
            with self._listeners_lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)
        return remove

    def announce(self, kind: str, session_ids=()) -> None:
        """Tell the listeners that `kind` (CHANGE_KINDS) happened to these sessions. The store's own writers
        call it after committing; bundle import (which writes in one transaction of its own) too. A listener
        that raises is reported through sys.excepthook (the GUI shows it) and the others still hear."""
        if kind not in CHANGE_KINDS:
            raise ValueError(f"unknown store change {kind!r}")
        change = StoreChange(kind, tuple(int(i) for i in session_ids))
        with self._listeners_lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(change)
            except Exception:  # noqa: BLE001 - reported, not swallowed; the change is committed whatever a listener does
                sys.excepthook(*sys.exc_info())

    # -- writing ------------------------------------------------------------------------------------
    @_explained
    def create_session(self, scenario_id: str, scenario_title: str, *, camera: str = "", mic: str = "",
                       calibrated: bool = False, learner: str = "", scenario_text: str | None = None) -> int:
        """Insert a session row (status 'interrupted' until closed) and return its id. `scenario_text` is
        the scenario file as played, kept so the replay and reports work without the pack."""
        from trainer import __version__

        con = self.connect()
        try:
            cur = con.execute(
                "INSERT INTO sessions (scenario_id, scenario_title, started_at, camera, mic, calibrated, "
                "app_version, learner, uuid, scenario_text) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (scenario_id, scenario_title, datetime.now(timezone.utc).isoformat(timespec="seconds"),
                 camera, mic, int(calibrated), __version__, learner.strip(), uuid.uuid4().hex, scenario_text))
            sid = int(cur.lastrowid)
        finally:
            con.close()
        self.announce("session_started", (sid,))
        return sid

    @_explained
    def learners(self) -> list[str]:
        """Every learner name with a stored session, most recently active first ('' = no name given)."""
        con = self.connect()
        try:
            return [r[0] for r in con.execute(
                "SELECT learner FROM sessions GROUP BY learner ORDER BY MAX(started_at) DESC, MAX(id) DESC")]
        finally:
            con.close()

    @_explained
    def delete_session(self, session_id: int) -> None:
        """Delete one session with its frames, speech and events (foreign keys cascade) and its video
        recording, if it has one."""
        con = self.connect()
        try:
            row = con.execute("SELECT uuid FROM sessions WHERE id = ?", (session_id,)).fetchone()
            con.execute("DELETE FROM sessions WHERE id = ?", (session_id,))
        finally:
            con.close()
        if row is not None:
            delete_recording(self.path, row[0])
        self.announce("sessions_deleted", (session_id,))

    def recording(self, session_id: int) -> Path | None:
        """The session's video recording (trainer.store.recording), or None when it has none."""
        uid = self.session(session_id).get("uuid")
        path = recording_path(self.path, uid) if uid else None
        return path if path is not None and path.is_file() else None

    @_explained
    def set_reflection(self, session_id: int, reflection: dict) -> None:
        """Save the learner's self-reflection: {"went_well": str, "differently": str} or {"skipped": True}."""
        con = self.connect()
        try:
            con.execute("UPDATE sessions SET reflection = ? WHERE id = ?", (json.dumps(reflection), session_id))
        finally:
            con.close()
        self.announce("reflection", (session_id,))

    def reflection(self, session_id: int) -> dict | None:
        """The saved self-reflection, or None when the learner has not been asked yet."""
        text = self.session(session_id).get("reflection")
        return json.loads(text) if text else None

    def writer(self, session_id: int, on_problem=None) -> "SessionWriter":
        """The session's writer; `on_problem(StoreProblem | None)` hears about storage faults at once."""
        return SessionWriter(self, session_id, on_problem)

    # -- reading ------------------------------------------------------------------------------------
    @staticmethod
    def _settle(con: sqlite3.Connection, row: dict) -> dict:
        """A session never closed (the app crashed or was killed): if its visit had ended, say how
        (the few writes after the end are not worth calling it interrupted); otherwise keep 'interrupted'
        and give it the length of what was stored: the time of its last stored sample."""
        if row.get("status") != "interrupted" or row.get("duration_s") is not None:
            return row
        sid = row["id"]
        end = con.execute("SELECT t, data FROM events WHERE session_id = ? AND kind = 'visit_end' "
                          "ORDER BY t DESC LIMIT 1", (sid,)).fetchone()
        if end is not None:
            reason = json.loads(end[1]).get("reason")
            row["status"] = "completed" if reason == "completed" else "ended_early"
            row["duration_s"] = end[0]
            return row
        last = con.execute(
            "SELECT MAX(m) FROM (SELECT MAX(t) AS m FROM frames WHERE session_id = ?1 "
            "UNION ALL SELECT MAX(\"end\") FROM speech WHERE session_id = ?1 "
            "UNION ALL SELECT MAX(t) FROM events WHERE session_id = ?1)", (sid,)).fetchone()[0]
        row["duration_s"] = round(float(last), 3) if last is not None else 0.0
        return row

    @_explained
    def sessions(self, limit: int = 200) -> list[dict]:
        """Past sessions, newest first."""
        con = self.connect()
        try:
            rows = con.execute("SELECT * FROM sessions ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
            return [self._settle(con, dict(r)) for r in rows]
        finally:
            con.close()

    @_explained
    def history(self, limit: int = 200, learner: str | None = None) -> list[dict]:
        """Past sessions, newest first (of one learner, or everyone's with learner=None), each with its
        face-present ratio and clinician talk seconds."""
        con = self.connect()
        try:
            where, args = ("WHERE s.learner = ? ", (learner, limit)) if learner is not None else ("", (limit,))
            rows = con.execute(
                "SELECT s.*, (SELECT AVG(face) FROM frames f WHERE f.session_id = s.id) AS face_ratio, "
                "(SELECT COALESCE(SUM(\"end\" - start), 0) FROM speech p WHERE p.session_id = s.id "
                " AND p.speaker = 'clinician') AS clinician_s "
                f"FROM sessions s {where}ORDER BY s.id DESC LIMIT ?", args).fetchall()
            return [self._settle(con, dict(r)) for r in rows]
        finally:
            con.close()

    @_explained
    def delete_older_than(self, days: int, now: datetime | None = None) -> int:
        """Delete sessions that started more than `days` days ago (site-policy retention); returns how many.
        Their frames, speech and events go with them (foreign keys cascade), and their recordings."""
        now = now or datetime.now(timezone.utc)
        cutoff = (now - timedelta(days=days)).isoformat(timespec="seconds")
        con = self.connect()
        try:
            rows = con.execute("SELECT id, uuid FROM sessions WHERE started_at < ?", (cutoff,)).fetchall()
            con.execute("DELETE FROM sessions WHERE started_at < ?", (cutoff,))
        finally:
            con.close()
        for _sid, uid in rows:  # their recordings go with them
            delete_recording(self.path, uid)
        ids = [r[0] for r in rows]
        if ids:
            self.announce("sessions_deleted", ids)
        return len(ids)

    @_explained
    def session(self, session_id: int) -> dict:
        con = self.connect()
        try:
            row = con.execute("SELECT * FROM sessions WHERE id = ?", (session_id,)).fetchone()
            if row is None:
                raise StoreError(_("Session {n} does not exist.").format(n=session_id))
            return self._settle(con, dict(row))
        finally:
            con.close()

    @_explained
    def frames(self, session_id: int) -> list[dict]:
        con = self.connect()
        try:
            return [dict(r) for r in con.execute(
                "SELECT * FROM frames WHERE session_id = ? ORDER BY t", (session_id,))]
        finally:
            con.close()

    @_explained
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

    @_explained
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

    def stored_scenario(self, session_id: int):
        """The scenario as it was played (core.scenario.Scenario parsed from the stored text), or None when the
        session predates stored scenario text. Media paths inside it may not exist on this machine."""
        from trainer.core.scenario import parse_scenario

        text = self.session(session_id).get("scenario_text")
        return parse_scenario(text, f"<session {session_id} scenario>") if text else None

    # -- facilitator notes and ratings (beside the automatic measures, never replacing them) ---------------
    @_explained
    def add_note(self, session_id: int, t: float, text: str, author: str) -> int:
        """Store a facilitator note at session time `t` (seconds) and return its id."""
        if not text.strip():
            raise StoreError(_("A note needs some text."))
        self.session(session_id)  # a clear error for an unknown session
        con = self.connect()
        try:
            cur = con.execute("INSERT INTO notes (session_id, t, author, text, created_at) VALUES (?,?,?,?,?)",
                              (session_id, max(0.0, float(t)), author.strip() or "facilitator", text.strip(),
                               _now()))
            note_id = int(cur.lastrowid)
        finally:
            con.close()
        self.announce("notes", (session_id,))
        return note_id

    @_explained
    def notes(self, session_id: int) -> list[dict]:
        """The session's notes in time order: id, t, author, text, created_at."""
        con = self.connect()
        try:
            return [dict(r) for r in con.execute("SELECT id, t, author, text, created_at FROM notes "
                                                 "WHERE session_id = ? ORDER BY t, id", (session_id,))]
        finally:
            con.close()

    @_explained
    def delete_note(self, note_id: int) -> None:
        """Delete one note (by its id from `notes`)."""
        con = self.connect()
        try:
            row = con.execute("SELECT session_id FROM notes WHERE id = ?", (note_id,)).fetchone()
            con.execute("DELETE FROM notes WHERE id = ?", (note_id,))
        finally:
            con.close()
        if row is not None:
            self.announce("notes", (row[0],))

    @_explained
    def set_rating(self, session_id: int, behaviour: str, level: str, author: str, comment: str = "") -> None:
        """Rate one targeted behaviour (or GLOBAL_RATING) for the session; one rating per behaviour and
        author, a new one replaces that author's previous one."""
        self.session(session_id)
        con = self.connect()
        try:
            con.execute("INSERT OR REPLACE INTO ratings (session_id, behaviour, level, comment, author, rated_at) "
                        "VALUES (?,?,?,?,?,?)", (session_id, behaviour, level, comment.strip(),
                                                 author.strip() or "facilitator", _now()))
        finally:
            con.close()
        self.announce("ratings", (session_id,))

    @_explained
    def ratings(self, session_id: int) -> list[dict]:
        """The session's facilitator ratings: behaviour, level, comment, author, rated_at."""
        con = self.connect()
        try:
            return [dict(r) for r in con.execute(
                "SELECT behaviour, level, comment, author, rated_at FROM ratings WHERE session_id = ? "
                "ORDER BY behaviour = ?, behaviour, author", (session_id, GLOBAL_RATING))]
        finally:
            con.close()

    @_explained
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
        # In the language in use when the notice kept its language-neutral form (core.events.Notice.text).
        notices = [wording(e["data"]["text"]) if e["data"].get("text") else e["data"].get("message", "")
                   for e in self.events(session_id, "notice")]
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

    def progress(self, learner: str | None = None, scenario_id: str | None = None,
                 min_duration_s: float = 30.0) -> dict:
        """core.progress over a learner's sessions (oldest first), optionally of one scenario; sessions
        shorter than `min_duration_s` (test starts) are left out, as the session list hides them."""
        from trainer.core.progress import progress

        rows = [r for r in reversed(self.history(limit=1000, learner=learner))
                if (r.get("duration_s") or 0.0) >= min_duration_s and (scenario_id is None or r["scenario_id"] == scenario_id)]
        sessions = []
        for r in rows:
            sessions.append({**r, "measures": self.summary(r["id"]).measures, "rubric": self.rubric(r["id"]),
                             "ratings": self.ratings(r["id"]), "notes": self.notes(r["id"])})
        return progress(sessions)

    def debrief(self, session_id: int) -> dict:
        """The teaching summary of a session (core.debrief): plain words, bands, moments, suggestions,
        the learner's reflection. What the app's summary page shows and summary.json carries."""
        from dataclasses import asdict

        from trainer.core.debrief import build_debrief, facilitator_part

        meta = self.session(session_id)
        try:  # the scenario as played names its cards and flags; a session without it still has a summary
            scenario = self.stored_scenario(session_id)
        except TrainerError:
            scenario = None
        out = build_debrief(asdict(self.summary(session_id)), self.events(session_id), meta["status"],
                            meta["scenario_title"], rubric=self.rubric(session_id), scenario=scenario)
        if scenario is not None and scenario.title == out.get("title"):  # its own title, in the app's language
            out["title"] = localized(scenario, "title")
        out["learner"] = meta.get("learner") or ""
        out["reflection"] = self.reflection(session_id)
        out["facilitator"] = facilitator_part(self.notes(session_id), self.ratings(session_id), scenario)
        return out

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
    and commits at least every COMMIT_INTERVAL_S.

    Storage faults are loud and lose as little as they can: rows that could not be committed (disk full,
    folder read-only, file locked by another program) stay in memory, at most MAX_HELD_ROWS of them (the
    oldest frame samples go first beyond that, counted in `rows_dropped`); `on_problem(StoreProblem)` is
    called at once with what happened and the fix, the write is retried every RETRY_S, and
    `on_problem(None)` says when everything held has been written.

    The clinician's speech is stored while it lasts: `SpeechStarted` inserts an open speech row whose end
    follows the detector (`AudioLevel` blocks marked speaking) at every commit; the closed `SpeechSegment`
    then replaces it. A crash keeps the speech up to the last commit.
    """

    def __init__(self, store: SessionStore, session_id: int, on_problem=None):
        self.store = store
        self.session_id = session_id
        self.on_problem = on_problem or (lambda problem: None)
        self._queue: queue.Queue = queue.Queue()
        self._closed = threading.Event()
        self.error: StoreError | None = None  # the current (unresolved) storage fault
        self.problem: "StoreProblem | None" = None
        self.rows_written = 0
        self.rows_dropped = 0
        self._final: tuple | None = None
        self._thread = threading.Thread(target=self._run, name=f"store-writer-{session_id}", daemon=True)
        self._thread.start()

    def put(self, event) -> None:
        """Queue an event for storage (FrameSample, SpeechSegment, ScenarioEvent, Notice, SourceFinished,
        SourceStatus; SpeechStarted and AudioLevel keep the open speech row growing; Utterance: an
        `utterance` event row whose words are kept only when the event allows it); others are ignored."""
        if isinstance(event, _STORED):
            self._queue.put(event)

    def _rows(self, ev):
        sid = self.session_id
        if isinstance(ev, FrameSample):
            return ("INSERT INTO frames (session_id, t, face, gaze, yaw, pitch, roll, expressivity, smile, nod, "
                    "smile_above) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    (sid, ev.t, int(ev.face), ev.gaze, ev.yaw, ev.pitch, ev.roll, ev.expressivity, ev.smile,
                     int(ev.nod), ev.smile_above))
        if isinstance(ev, SpeechSegment):
            return ("INSERT INTO speech VALUES (?,?,?,?)", (sid, ev.speaker, ev.start, ev.end))
        if isinstance(ev, ScenarioEvent):
            return ("INSERT INTO events VALUES (?,?,?,?)", (sid, ev.t, ev.kind, json.dumps(ev.data)))
        if isinstance(ev, Utterance):
            return ("INSERT INTO events VALUES (?,?,?,?)", (sid, ev.t, "utterance", json.dumps(ev.stored_data())))
        if isinstance(ev, Notice):
            return ("INSERT INTO events VALUES (?,?,?,?)",
                    (sid, ev.t, "notice", json.dumps({"code": ev.code, "message": ev.message, "level": ev.level,
                                                      **({"text": ev.text} if ev.text else {})})))
        if isinstance(ev, SourceStatus):
            return ("INSERT INTO events VALUES (?,?,?,?)",
                    (sid, ev.t, "source_status",
                     json.dumps({"source": ev.source, "state": ev.state, "reason": ev.reason})))
        return ("INSERT INTO events VALUES (?,?,?,?)",
                (sid, ev.t, "source_finished", json.dumps({"source": ev.kind, "reason": ev.reason})))

    # -- the writer thread --------------------------------------------------------------------------
    def _run(self) -> None:
        held: list[tuple] = []  # (sql, args) not yet committed, oldest first
        open_speech: list[float] | None = None  # [start, end] of the clinician speech in progress
        open_rowid: int | None = None  # its row, once committed
        con: sqlite3.Connection | None = None
        last_try = time.monotonic()
        closing = False
        while True:
            interval = RETRY_S if self.error is not None else COMMIT_INTERVAL_S
            try:
                ev = self._queue.get(timeout=max(0.0, interval - (time.monotonic() - last_try)))
            except queue.Empty:
                ev = None
            while ev is not None:  # take everything queued, so a burst costs one transaction
                if ev is _CLOSE:
                    closing = True
                elif isinstance(ev, SpeechStarted):
                    open_speech = [ev.t, ev.t]
                elif isinstance(ev, AudioLevel):
                    if open_speech is not None and ev.speaking:
                        open_speech[1] = max(open_speech[1], ev.t)
                elif isinstance(ev, SpeechSegment) and ev.speaker == "clinician" and open_speech is not None:
                    if open_rowid is not None:  # the growing row becomes the closed segment
                        held.append(("UPDATE speech SET start = ?, \"end\" = ? WHERE rowid = ?",
                                     (ev.start, ev.end, open_rowid)))
                    else:
                        held.append(self._rows(ev))
                    open_speech, open_rowid = None, None
                else:
                    held.append(self._rows(ev))
                try:
                    ev = self._queue.get_nowait()
                except queue.Empty:
                    ev = None
            if len(held) > MAX_HELD_ROWS:
                held = self._shed(held)
            if not (closing or time.monotonic() - last_try >= interval):
                continue
            last_try = time.monotonic()
            batch = list(held)
            if open_speech is not None:
                if open_rowid is None:
                    batch.append(("INSERT INTO speech VALUES (?,?,?,?)",
                                  (self.session_id, "clinician", open_speech[0], open_speech[1])))
                else:
                    batch.append(("UPDATE speech SET \"end\" = ? WHERE rowid = ?", (open_speech[1], open_rowid)))
            final = self._final if closing else None
            if final is not None:
                batch.append(final)
            if batch:
                try:
                    if con is None:
                        con = self.store.connect()
                        con.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
                    con.execute("BEGIN IMMEDIATE")
                    new_rowid = None
                    for sql, args in batch:
                        cur = con.execute(sql, args)
                        if open_speech is not None and open_rowid is None and sql.startswith("INSERT INTO speech"):
                            new_rowid = cur.lastrowid
                    con.execute("COMMIT")
                except (sqlite3.Error, StoreError, OSError) as exc:
                    if con is not None:
                        try:
                            con.execute("ROLLBACK")
                        except sqlite3.Error:
                            pass
                        con.close()
                        con = None  # a fresh connection next time (a locked or moved file may be back)
                    self._report(exc)
                else:
                    if new_rowid is not None:
                        open_rowid = new_rowid
                    self.rows_written += len(held)
                    held.clear()
                    if final is not None:
                        self._final = None
                    if self.error is not None:
                        self.error, self.problem = None, None
                        self.on_problem(None)
            if closing and (not held and self._final is None or time.monotonic() >= self._give_up_at):
                break
        if con is not None:
            con.close()
        self.rows_unsaved = len(held)

    def _shed(self, held: list[tuple]) -> list[tuple]:
        """Keep the memory bounded during a long fault: drop the oldest frame samples (speech, scenario
        events and notices are few and matter more)."""
        excess = len(held) - MAX_HELD_ROWS
        kept = []
        for row in held:
            if excess > 0 and row[0].startswith("INSERT INTO frames"):
                excess -= 1
                self.rows_dropped += 1
                continue
            kept.append(row)
        return kept

    def _report(self, exc: Exception) -> None:
        problem = diagnose(exc, self.store.path)
        first = self.error is None or self.problem is None or self.problem.code != problem.code
        self.problem = problem
        self.error = StoreError(problem.message, hint=problem.fix)
        if first:
            self.on_problem(problem)

    def close(self, status: str = "completed", duration_s: float | None = None, calibrated: bool | None = None,
              timeout: float = 10.0) -> None:
        """Flush everything queued and mark the session closed with `status`, in the same transaction as
        the last rows (a crash before it leaves the session 'interrupted', never 'completed' with rows
        missing). During a storage fault the writes are retried for `timeout` seconds; then StoreError."""
        if self._closed.is_set():
            return
        self._closed.set()
        self._final = ("UPDATE sessions SET status = ?, ended_at = ?, duration_s = COALESCE(?, duration_s), "
                       "calibrated = COALESCE(?, calibrated) WHERE id = ?",
                       (status, datetime.now(timezone.utc).isoformat(timespec="seconds"), duration_s,
                        None if calibrated is None else int(calibrated), self.session_id))
        self._give_up_at = time.monotonic() + timeout
        self._queue.put(_CLOSE)
        self._thread.join()
        if self._final is not None:
            lost = getattr(self, "rows_unsaved", 0)
            raise StoreError(_("{problem} {n} recorded samples could not be written; the session stays marked "
                               "'interrupted'.").format(
                problem=self.error.message if self.error else _("The session could not be saved."), n=lost),
                hint=self.problem.fix if self.problem else None)
        self.store.announce("session_saved", (self.session_id,))


_CLOSE = object()
_STORED = (FrameSample, SpeechSegment, ScenarioEvent, Notice, SourceFinished, SourceStatus, SpeechStarted,
           AudioLevel, Utterance)
