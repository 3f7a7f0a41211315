"""Sending queued xAPI statements to the programme's learning record store (LRS).

This is the only package of the app that opens a network connection (DESIGN.md section 2; an
import-linter contract in pyproject.toml forbids `socket`, `http`, `urllib.request` and `ssl` everywhere
else), and it is used only when the site policy names an LRS (`lms:` in policy.yaml, docs/policy.md).
Statements are built and queued by `trainer.store.outbox`; this package reads the credentials file and
sends the queue, oldest first (`trainer.lms.sender`).
"""

from trainer.lms.sender import (CredentialsError, LrsError, LrsRejected, LrsUnreachable, SendReport,
                                read_credentials, send_pending)

__all__ = ["CredentialsError", "LrsError", "LrsRejected", "LrsUnreachable", "SendReport", "read_credentials",
           "send_pending"]
