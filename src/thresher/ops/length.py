"""Length filter in characters."""

from __future__ import annotations

from typing import Any

from thresher.ops.base import Filter

__all__ = ["FilterLength"]


class FilterLength(Filter):
    """Keep texts whose length in characters lies in [min_chars, max_chars]."""

    name = "filter_length"

    def __init__(self, *, min_chars: int = 1, max_chars: int | None = None) -> None:
        self.min_chars = min_chars
        self.max_chars = max_chars

    def check(self) -> None:
        if self.min_chars < 0:
            raise ValueError("min_chars must be >= 0")
        if self.max_chars is not None and self.max_chars < self.min_chars:
            raise ValueError("max_chars must be >= min_chars")

    def keep(self, record: dict[str, Any]) -> bool | tuple[bool, str]:
        n = len(record["text"])
        if n < self.min_chars:
            return False, "too_short"
        if self.max_chars is not None and n > self.max_chars:
            return False, "too_long"
        return True
