"""Vendored model files: locate them and verify size and SHA-256 against assets/models/manifest.json."""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path

from trainer.core.errors import ModelError
from trainer.resources import models_dir


def _manifest(folder: Path, name: str = "manifest.json") -> dict:
    path = folder / name
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(f"The model manifest is missing: {path}",
                         hint="Reinstall the trainer; the assets folder is incomplete.") from None
    except (OSError, ValueError) as exc:
        raise ModelError(f"The model manifest {path} cannot be read: {exc}") from None


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@lru_cache(maxsize=None)
def _verified(path_str: str, mtime_ns: int, size: int, expected: str) -> bool:
    # Cached per (path, mtime, size) so repeated loads in one process do not rehash the file.
    return sha256_of(Path(path_str)) == expected


def model_path(name: str, folder: Path | None = None) -> Path:
    """Path of a vendored model after checking it is present and byte-identical to the one we ship."""
    folder = folder or models_dir()
    entry = _manifest(folder).get(name)
    if entry is None:
        raise ModelError(f"'{name}' is not listed in {folder / 'manifest.json'}.")
    path = folder / name
    try:
        st = path.stat()
    except FileNotFoundError:
        raise ModelError(f"The model file is missing: {path}",
                         hint="Reinstall the trainer, or restore the file from the release.") from None
    if st.st_size != entry["bytes"] or not _verified(str(path), st.st_mtime_ns, st.st_size, entry["sha256"]):
        raise ModelError(f"The model file {path} has been altered (checksum does not match).",
                         hint="Restore the original file from the release; the app will not use a "
                              "modified model.")
    return path


def model_status(name: str, folder: Path | None = None) -> tuple[bool, str]:
    """(ok, explanation) for `trainer doctor` and the self-test."""
    try:
        path = model_path(name, folder)
    except ModelError as exc:
        return False, str(exc)
    return True, f"{path} (SHA-256 verified)"
