"""Send the outbox to the LRS: oldest first, in batches, marked sent only after the LRS accepted them.

Protocol (xAPI 1.0.3, part three): `POST {endpoint}statements` with a JSON array, HTTP Basic
authentication and the header `X-Experience-API-Version: 1.0.3`. The LRS answers 200 (stored) or 204 (it
already had every statement of the batch). A 409 on a batch means the LRS has one of the ids with
*different* content: the batch is then sent one statement at a time with `PUT ?statementId=` so the
conflicting statement is named; the others still go. Failures stop the run and leave the rest queued, so
the order is kept:
  - the LRS cannot be reached (offline, refused, timeout) -> LrsUnreachable;
  - 401/403 (wrong user name or password) -> LrsRejected with a message naming the credentials file;
  - any other answer -> LrsRejected with the LRS's own explanation.

Credentials come from the file the policy names (`credentials_file`): one line `KEY:SECRET` (the "key"
and "secret", or user name and password, the LRS issued). On Linux and macOS the file must not be readable
or writable by group or others (mode 0600, like an SSH key); otherwise it is refused.
"""

from __future__ import annotations

import base64
import http.client
import json
import stat
import sys
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from trainer.core.errors import TrainerError
from trainer.core.i18n import N_
from trainer.core.policy import LmsPolicy
from trainer.store import outbox
from trainer.store.xapi import XAPI_VERSION

DEFAULT_BATCH = 50
TIMEOUT_S = 20.0


class LrsError(TrainerError):
    """Results could not be sent; they stay queued."""

    title = N_("Results not sent")


class CredentialsError(LrsError):
    """The credentials file named by the policy is missing, malformed or readable by other users."""


class LrsUnreachable(LrsError):
    """No answer from the LRS (offline, refused, timed out): sending is retried later."""


class LrsRejected(LrsError):
    """The LRS answered with an error (wrong credentials, a statement it refuses)."""

    def __init__(self, message: str, *, status: int, hint: str | None = None):
        super().__init__(message, hint=hint)
        self.status = status


_KEEP = "Your results stay queued on this computer and are sent once this is fixed."


def read_credentials(lms: LmsPolicy) -> tuple[str, str]:
    """(key, secret) from the policy's credentials file; CredentialsError explains what is wrong."""
    path = Path(lms.credentials_file)
    try:
        st = path.stat()
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CredentialsError(f"The LRS credentials file {path} does not exist.",
                               hint=f"Ask your IT staff to create it (see docs/xapi.md). {_KEEP}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CredentialsError(f"The LRS credentials file {path} cannot be read: {getattr(exc, 'strerror', None) or exc}.",
                               hint=_KEEP) from None
    if sys.platform != "win32" and st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise CredentialsError(
            f"The LRS credentials file {path} can be read by other users (mode {stat.S_IMODE(st.st_mode):04o}); "
            "it is not used until only its owner can read it.", hint=f"Run: chmod 600 {path}. {_KEEP}")
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if len(lines) != 1 or ":" not in lines[0]:
        raise CredentialsError(f"The LRS credentials file {path} must hold one line KEY:SECRET.", hint=_KEEP)
    key, _, secret = lines[0].partition(":")
    if not key or not secret:
        raise CredentialsError(f"The LRS credentials file {path} must hold one line KEY:SECRET.", hint=_KEEP)
    return key, secret


@dataclass(frozen=True)
class SendReport:
    sent: int
    already_there: int  # statements the LRS already had (a send interrupted after the LRS stored them)
    pending: int


class _Client:
    def __init__(self, lms: LmsPolicy, key: str, secret: str, timeout: float):
        self.lms = lms
        self.url = lms.endpoint + "statements"
        self.auth = "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode("ascii")
        self.timeout = timeout

    def request(self, method: str, body: object, query: dict | None = None) -> tuple[int, bytes]:
        url = self.url + ("?" + urllib.parse.urlencode(query) if query else "")
        req = urllib.request.Request(url, data=json.dumps(body, sort_keys=True).encode("utf-8"), method=method,
                                     headers={"Authorization": self.auth, "Content-Type": "application/json",
                                              "X-Experience-API-Version": XAPI_VERSION})
        try:
            with _opener().open(req, timeout=self.timeout) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()
        except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
            reason = getattr(exc, "reason", None) or exc
            raise LrsUnreachable(f"The learning record store at {self.lms.endpoint} cannot be reached ({reason}).",
                                 hint="Results stay queued on this computer and are sent later.") from None


def _opener() -> urllib.request.OpenerDirector:
    """The site's own proxy settings, as they were before trainer.privacy pointed the process-wide https
    proxy variables at a refusing proxy (that blocks MediaPipe's usage logger); see its docstring."""
    from trainer.privacy import site_proxies

    return urllib.request.build_opener(urllib.request.ProxyHandler(site_proxies()))


def _explain(status: int, body: bytes) -> str:
    try:
        detail = json.loads(body.decode("utf-8")).get("detail") or ""
    except (ValueError, AttributeError, UnicodeDecodeError):
        detail = body.decode("utf-8", "replace")[:200]
    return f"HTTP {status}" + (f": {detail}" if detail else "")


def _rejected(lms: LmsPolicy, status: int, body: bytes) -> LrsRejected:
    if status in (401, 403):
        return LrsRejected(f"The learning record store at {lms.endpoint} refused the key or password in "
                           f"{lms.credentials_file} ({_explain(status, body)}).", status=status,
                           hint=f"Ask your IT staff to check the credentials. {_KEEP}")
    return LrsRejected(f"The learning record store at {lms.endpoint} refused the results ({_explain(status, body)}).",
                       status=status, hint=_KEEP)


def send_pending(store, lms: LmsPolicy, *, batch: int = DEFAULT_BATCH, timeout: float = TIMEOUT_S,
                 progress=None) -> SendReport:
    """Send every queued statement, oldest first. Raises an LrsError subclass on the first failure (what was
    accepted before it stays marked sent; the rest stays queued). `progress(sent, pending)` after each batch."""
    key, secret = read_credentials(lms)
    client = _Client(lms, key, secret, timeout)
    sent = already = 0
    while True:
        items = outbox.pending(store, batch)
        if not items:
            break
        try:
            status, body = client.request("POST", [q.statement for q in items])
        except LrsUnreachable as exc:
            outbox.mark_failed(store, items[0].seq, exc.message)
            raise
        if status == 200:
            try:  # the ids the LRS stored now; the others it had already
                stored = set(json.loads(body.decode("utf-8")))
            except (ValueError, TypeError, UnicodeDecodeError):
                stored = {q.statement_id for q in items}
            outbox.mark_sent(store, [q.seq for q in items])
            newly = sum(1 for q in items if q.statement_id in stored)
            sent += newly
            already += len(items) - newly
        elif status == 204:  # the LRS had all of them already
            outbox.mark_sent(store, [q.seq for q in items])
            already += len(items)
        elif status == 409:
            for q in items:  # one at a time: names the conflicting statement, keeps the order
                st, b = client.request("PUT", q.statement, {"statementId": q.statement_id})
                if st not in (200, 204):
                    err = _rejected(lms, st, b)
                    if st == 409:
                        err = LrsRejected(f"The learning record store already has a different statement with id "
                                          f"{q.statement_id} ({_explain(st, b)}).", status=st, hint=_KEEP)
                    outbox.mark_failed(store, q.seq, err.message)
                    raise err
                outbox.mark_sent(store, [q.seq])
                sent += 1
        else:
            err = _rejected(lms, status, body)
            outbox.mark_failed(store, items[0].seq, err.message)
            raise err
        if progress is not None:
            progress(sent, outbox.status(store).pending)
    return SendReport(sent, already, outbox.status(store).pending)


def send_if_configured(store, lms: LmsPolicy | None) -> SendReport | None:
    """The app's background send: does nothing (opens nothing) when the policy names no LRS."""
    if lms is None:
        return None
    return send_pending(store, lms)
