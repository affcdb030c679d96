"""Regex filter: drop rows that match a pattern, or keep only rows that match it.

For rules that are easier to say than to code: boilerplate (``^此用户没有填写评论``), spam markers
(``加微信|VX``), or a required shape. The pattern is compiled once per process and checked when
the recipe is loaded, so a typo fails before any data is read.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar, Literal

from thresher.errors import DataError
from thresher.ops.base import Filter, Verdict

__all__ = ["FilterRegex"]

DETAIL_CHARS = 60


class FilterRegex(Filter):
    """``mode: drop`` (default) drops rows whose ``field`` matches ``pattern`` (reason
    ``regex_match``, detail the matched text); ``mode: keep`` keeps only rows that match
    (reason ``regex_no_match``, detail the pattern). Matching is ``re.search``.
    """

    name = "filter_regex"
    example: ClassVar[dict[str, Any]] = {"pattern": r"https?://|此用户没有填写评论", "mode": "drop"}

    def __init__(self, *, pattern: str, mode: Literal["keep", "drop"] = "drop",
                 field: str = "text", ignore_case: bool = False) -> None:
        self.pattern = pattern
        self.mode = mode
        self.field = field
        self.ignore_case = ignore_case

    def check(self) -> None:
        if self.mode not in ("keep", "drop"):
            raise ValueError(f"mode must be keep or drop, got {self.mode!r}")
        try:
            self._compiled()
        except re.error as exc:
            raise ValueError(f"pattern {self.pattern!r} is not a valid regular expression: "
                             f"{exc}") from None

    def __getstate__(self) -> dict[str, Any]:
        return self.settings()

    def keep(self, record: dict[str, Any]) -> Verdict:
        if self.field not in record:
            raise DataError(f"step '{self.name}' reads the column '{self.field}', which the data "
                            f"does not have", fix=f"use one of: {', '.join(record)}")
        value = record[self.field]
        match = self._compiled().search("" if value is None else str(value))
        if self.mode == "drop" and match:
            found = match[0]
            if len(found) > DETAIL_CHARS:
                found = found[:DETAIL_CHARS - 3] + "..."
            return False, "regex_match", found
        if self.mode == "keep" and not match:
            return False, "regex_no_match", self.pattern
        return True

    def _compiled(self) -> re.Pattern[str]:
        compiled = getattr(self, "_regex", None)
        if compiled is None:
            compiled = re.compile(self.pattern, re.IGNORECASE if self.ignore_case else 0)
            self._regex = compiled
        return compiled
