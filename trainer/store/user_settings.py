"""The user's own settings (those a site policy leaves changeable), as JSON in the config folder:
`settings.json` beside the eye-contact calibrations ($TRAINER_CONFIG_DIR, else the platform's config
folder). Only keys the policy module knows are kept; each value is validated by
`trainer.core.policy.effective_settings` when it is used."""

from __future__ import annotations

import json
import os
from pathlib import Path

from trainer.analysis.calibration import config_dir
from trainer.core.errors import StoreError
from trainer.core.policy import SETTINGS

FILE_NAME = "settings.json"


def user_settings_path() -> Path:
    return config_dir() / FILE_NAME


def load_user_settings() -> dict:
    """The saved user settings; an unreadable or damaged file counts as none (the app then runs on
    defaults and the next save replaces it)."""
    try:
        data = json.loads(user_settings_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in data.items() if k in SETTINGS} if isinstance(data, dict) else {}


def save_user_setting(key: str, value) -> None:
    """Store one setting (atomically). Raises StoreError when the config folder is not writable."""
    if key not in SETTINGS:
        raise ValueError(f"unknown setting {key!r}")
    data = load_user_settings()
    data[key] = value
    path = user_settings_path()
    try:
        from trainer.privacy import private_dir, private_file

        private_dir(path.parent)
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(data, indent=2), encoding="utf-8")
        private_file(tmp)
        os.replace(tmp, path)
    except OSError as exc:
        raise StoreError(f"Your settings could not be saved to {path}: {exc.strerror or exc}.") from None
