"""Where the app's read-only files are: vendored models, built-in scenarios, bundled images.

Order: $TRAINER_ASSETS / $TRAINER_SCENARIOS when set; inside a PyInstaller bundle, next to the
executable's unpacked data (sys._MEIPASS); otherwise the source checkout (the README installs the
package in editable mode, so `assets/` and `scenarios/` stay at the top of the checkout).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def _root() -> Path:
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle)
    return Path(__file__).resolve().parent.parent


def assets_dir() -> Path:
    return Path(os.environ["TRAINER_ASSETS"]) if os.environ.get("TRAINER_ASSETS") else _root() / "assets"


def models_dir() -> Path:
    return assets_dir() / "models"


def builtin_scenarios_dir() -> Path:
    env = os.environ.get("TRAINER_SCENARIOS")
    return Path(env) if env else _root() / "scenarios"
