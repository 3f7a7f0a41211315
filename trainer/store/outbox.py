"""The xAPI outbox: statements wait in the session store until the learning record store has them.

Why an outbox: a machine may be offline for weeks. Statements are built once when a visit ends
(`queue_session`) and kept, with their ids, in the `outbox` table; `trainer.lms` sends the oldest unsent
ones first and marks them sent only after the LRS accepted them. A crash between the two means the same
statements are sent again; the LRS ignores a statement id it already has (xAPI 1.0.3, part three,
2.1.1), so nothing is lost and nothing is stored twice. `seq` gives the sending order.

Queueing happens only when the site policy names an LRS (`lms:`); without it this table stays empty.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone

from trainer.core.errors import StoreError
from trainer.core.policy import LmsPolicy


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class OutboxStatus:
    """What `trainer lms status` and About show."""

    pending: int
    sent: int
    oldest_pending: str | None  # created_at of the oldest unsent statement
    last_sent: str | None
    last_attempt: str | None
    last_error: str | None  # the error of the last failed attempt, if the oldest unsent one failed

    def as_dict(self) -> dict:
        return dict(self.__dict__)

    def line(self) -> str:
        """One line in words."""
        from trainer.core.i18n import _

        if not self.pending and not self.sent:
            return _("No results queued yet.")
        text = (_("{n} statement(s) waiting to be sent").format(n=self.pending) if self.pending
                else _("Everything sent")) + "; " + _("{n} sent").format(n=self.sent)
        if self.last_sent:
            text += ", " + _("last on {when} UTC").format(when=self.last_sent[:16].replace("T", " "))
        if self.pending and self.last_error:
            text += ". " + _("Last attempt failed: {error}").format(error=self.last_error)
        return text + "."


@dataclass(frozen=True)
class Queued:
    seq: int
    statement_id: str
    verb: str
    statement: dict


def queue_session(store, session_id: int, lms: LmsPolicy | None, login: str, *,
                  behaviours: tuple[str, ...] = (), description: str = "") -> int:
    """Queue the xAPI statements of a closed session; returns how many were added (0 when the policy
    names no LRS or the session is already queued). All of a session's statements go in one transaction."""
    if lms is None:
        return 0
    from trainer.store.xapi import session_statements

    statements = session_statements(store, session_id, lms, login, behaviours=behaviours, description=description)
    con = store.connect()
    try:
        con.execute("BEGIN IMMEDIATE")
        if con.execute("SELECT 1 FROM outbox WHERE session_id = ?", (session_id,)).fetchone():
            con.execute("ROLLBACK")
            return 0
        created = _now()
        for verb, st in statements:
            con.execute("INSERT INTO outbox (statement_id, session_id, verb, created_at, statement) "
                        "VALUES (?, ?, ?, ?, ?)", (st["id"], session_id, verb, created,
                                                   json.dumps(st, sort_keys=True, allow_nan=False)))
        con.execute("COMMIT")
        return len(statements)
    except sqlite3.Error as exc:
        if con.in_transaction:
            con.execute("ROLLBACK")
        raise StoreError(f"The results of session {session_id} could not be queued for sending: {exc}") from None
    finally:
        con.close()


def pending(store, limit: int = 50) -> list[Queued]:
    """The oldest unsent statements, in sending order."""
    con = store.connect()
    try:
        rows = con.execute("SELECT seq, statement_id, verb, statement FROM outbox WHERE sent_at IS NULL "
                           "ORDER BY seq LIMIT ?", (limit,)).fetchall()
    finally:
        con.close()
    return [Queued(r[0], r[1], r[2], json.loads(r[3])) for r in rows]


def mark_sent(store, seqs: list[int]) -> None:
    """Record that the LRS accepted these statements (one transaction)."""
    if not seqs:
        return
    con = store.connect()
    try:
        now = _now()
        con.execute("BEGIN IMMEDIATE")
        con.executemany("UPDATE outbox SET sent_at = ?, last_attempt_at = ?, attempts = attempts + 1, "
                        "last_error = NULL WHERE seq = ?", [(now, now, s) for s in seqs])
        con.execute("COMMIT")
    finally:
        con.close()


def mark_failed(store, seq: int, error: str) -> None:
    """Record a failed attempt on the oldest unsent statement (it stays queued)."""
    con = store.connect()
    try:
        con.execute("UPDATE outbox SET attempts = attempts + 1, last_attempt_at = ?, last_error = ? WHERE seq = ?",
                    (_now(), error, seq))
    finally:
        con.close()


def status(store) -> OutboxStatus:
    """Counts and the last attempt, for `trainer lms status` and About."""
    con = store.connect()
    try:
        n_pending, oldest = con.execute(
            "SELECT COUNT(*), MIN(created_at) FROM outbox WHERE sent_at IS NULL").fetchone()
        n_sent, last_sent = con.execute(
            "SELECT COUNT(*), MAX(sent_at) FROM outbox WHERE sent_at IS NOT NULL").fetchone()
        last = con.execute("SELECT last_attempt_at, last_error FROM outbox WHERE sent_at IS NULL "
                           "ORDER BY seq LIMIT 1").fetchone()
        last_attempt = con.execute("SELECT MAX(last_attempt_at) FROM outbox").fetchone()[0]
    finally:
        con.close()
    return OutboxStatus(n_pending, n_sent, oldest, last_sent, last_attempt, last[1] if last else None)
