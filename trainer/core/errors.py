"""Typed errors. Every message is written for the person who can act on it (clinician or IT)."""

from __future__ import annotations

from trainer.core.i18n import N_, _


class TrainerError(Exception):
    """Base class for errors the app explains to the user instead of crashing."""

    #: short heading for dialogs and CLI output
    title = N_("Something went wrong")

    def __init__(self, message: str, *, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    @property
    def heading(self) -> str:
        """`title` in the language in use (for dialog titles; `title` stays the English key)."""
        return _(self.title)

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n{self.hint}"


class ScenarioError(TrainerError):
    """A scenario file cannot be loaded; names the file and the line (and column when known)."""

    title = N_("Scenario file problem")

    def __init__(self, path: str, message: str, *, line: int | None = None, column: int | None = None):
        self.path = str(path)
        self.line = line
        self.column = column
        where = self.path
        if line is not None:
            where += f":{line}"
            if column is not None:
                where += f":{column}"
        super().__init__(_("{where}: {message}").format(where=where, message=message))
        self.detail = message


class ModelError(TrainerError):
    """A vendored model file is missing or not the file we ship (checksum mismatch)."""

    title = N_("Model file problem")


class SourceError(TrainerError):
    """A camera, video file, microphone or audio file cannot be opened or read."""

    title = N_("Input problem")


class DeviceUnavailable(SourceError):
    """A live device (camera, microphone, PortAudio) is absent; the visit runs without it."""

    title = N_("Device unavailable")


class StoreError(TrainerError):
    """The session store cannot be opened or written."""

    title = N_("Session storage problem")
