"""One exception tree for everything thresher reports to a user.

Every message says *what* went wrong, *where* (file, line, recipe key), and *how to fix it*,
so the CLI can print it on one line and exit 2 without a traceback.
"""

from __future__ import annotations

__all__ = [
    "DataError",
    "InputError",
    "ModelError",
    "OutputError",
    "RecipeError",
    "ThresherError",
]


class ThresherError(Exception):
    """Base of every error thresher raises on purpose (a user error: exit code 2)."""

    def __init__(self, what: str, *, where: str | None = None, fix: str | None = None) -> None:
        self.what = what
        self.where = where
        self.fix = fix
        super().__init__(self.message)

    @property
    def message(self) -> str:
        parts = [f"{self.where}: {self.what}" if self.where else self.what]
        if self.fix:
            parts.append(self.fix)
        return ". ".join(p.rstrip(".") for p in parts) + "."


class InputError(ThresherError):
    """A data source cannot be read: missing, empty, binary, undecodable, malformed."""


class DataError(ThresherError):
    """The data was read but cannot be used as asked (wrong column, mixed label types, ...)."""


class RecipeError(ThresherError):
    """The recipe has an unknown key, a bad value, or an impossible combination."""


class ModelError(ThresherError):
    """A model cannot be found, loaded or trained as asked."""


class OutputError(ThresherError):
    """The output folder cannot be written."""
