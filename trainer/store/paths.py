"""Where user data lives: $TRAINER_DATA_DIR if set, else the site policy's data_dir if it sets one, else
the per-user data folder from platformdirs
(Linux ~/.local/share/VideoVisitTrainer, macOS ~/Library/Application Support/VideoVisitTrainer,
Windows %LOCALAPPDATA%\\VideoVisitTrainer)."""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "VideoVisitTrainer"


def data_dir() -> Path:
    env = os.environ.get("TRAINER_DATA_DIR")
    if env:
        return Path(env)
    # A site policy may put the data elsewhere (docs/policy.md). An unreadable policy raises PolicyError
    # rather than falling back: storing sessions where the programme said not to is worse than stopping.
    from trainer.core.policy import effective_settings

    policy_dir = effective_settings().data_dir
    if policy_dir:
        return Path(policy_dir)
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def default_db_path() -> Path:
    return data_dir() / "sessions.sqlite3"


def data_dir_problem(d: Path | None = None) -> str | None:
    """What stops sessions being stored in the data folder (not a folder, not writable), or None when it
    is usable; creates it (private) when missing. For `trainer doctor` and the self-test."""
    from trainer.privacy import private_dir

    d = d or data_dir()
    if d.exists() and not d.is_dir():
        return (f"{d} is not a folder, so no session can be stored there (check TRAINER_DATA_DIR or the site "
                f"policy's data_dir)")
    try:
        private_dir(d)
        probe = d / ".write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        return f"{d} cannot be written: {exc.strerror or exc}"
    return None
