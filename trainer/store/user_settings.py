"""The user's own settings (those a site policy leaves changeable), as JSON in the config folder:
`settings.json` beside the eye-contact calibrations ($TRAINER_CONFIG_DIR, else the platform's config
folder). Only keys the policy module knows are kept; each value is validated by
`trainer.core.policy.effective_settings` when it is used. Beside them, `remembered.json` keeps small
conveniences no policy governs (`recall`/`remember`: the name a facilitator last signed a note with)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from trainer.analysis.calibration import config_dir
from trainer.core.errors import StoreError
from trainer.core.i18n import _
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
        _write_private_json(path, data)
    except OSError as exc:
        raise StoreError(_("Your settings could not be saved to {path}: {error}.").format(
            path=path, error=exc.strerror or exc)) from None


def _write_private_json(path: Path, data: dict) -> None:
    """Replace `path` atomically with `data` as JSON, readable by the user only (raises OSError)."""
    from trainer.privacy import private_dir, private_file

    private_dir(path.parent)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=2), encoding="utf-8")
    private_file(tmp)
    os.replace(tmp, path)


# -- the pre-visit check: when it last passed, per camera and microphone -----------------------------------

PRECHECK_FILE = "precheck.json"


def _precheck_path() -> Path:
    return config_dir() / PRECHECK_FILE


def record_precheck(camera_key: str, mic_key: str, passed: bool, when=None) -> None:
    """Remember that the pre-visit check passed (or not) for this camera and microphone, in local time.
    A config folder that cannot be written only means the check is offered again next time."""
    from datetime import datetime

    when = when or datetime.now().astimezone()
    path = _precheck_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        data = data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        data = {}
    key = f"{camera_key}|{mic_key}"
    if passed:
        data[key] = when.isoformat(timespec="seconds")
    else:
        data.pop(key, None)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(data, indent=2), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        pass


def precheck_passed_today(camera_key: str, mic_key: str, now=None):
    """The local time (datetime) the check last passed for this camera and microphone, if it was today."""
    from datetime import datetime

    now = now or datetime.now().astimezone()
    try:
        data = json.loads(_precheck_path().read_text(encoding="utf-8"))
        when = datetime.fromisoformat(data[f"{camera_key}|{mic_key}"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return when if when.astimezone(now.tzinfo).date() == now.date() else None


# -- small things the app remembers for the user between uses (not settings: no site policy applies) --------

REMEMBERED_FILE = "remembered.json"
#: What is remembered: the name a facilitator last signed a note or rating with.
REMEMBERED = ("note_author",)


def recall(key: str, default: str = "") -> str:
    """The remembered value of `key` (REMEMBERED), else `default`; an unreadable file counts as nothing."""
    if key not in REMEMBERED:
        raise ValueError(f"unknown remembered value {key!r}")
    try:
        data = json.loads((config_dir() / REMEMBERED_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return default
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, str) and value.strip() else default


def remember(key: str, value: str) -> None:
    """Remember `value` for `key` (REMEMBERED), atomically. A config folder that cannot be written only
    means it is asked again next time, so that is not an error."""
    if key not in REMEMBERED:
        raise ValueError(f"unknown remembered value {key!r}")
    path = config_dir() / REMEMBERED_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        data = data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        data = {}
    data[key] = value.strip()
    try:
        _write_private_json(path, data)
    except OSError:
        pass
