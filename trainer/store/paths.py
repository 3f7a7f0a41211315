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
