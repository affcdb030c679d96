"""Operator kinds: Mapper (batch -> batch), Filter (record -> keep or (drop, reason)), Global.

Operators never know where they run; the engine applies them and does all the bookkeeping
(counting, rejects). Constructors take explicit keyword arguments and store them unchanged;
settings are validated from the constructor signature when the recipe is loaded.
"""

from __future__ import annotations

from typing import Any, ClassVar

import pandas as pd

__all__ = ["Filter", "GlobalOp", "GlobalResult", "Mapper", "Operator"]

Batch = dict[str, list[Any]]


class Operator:
    """Common base: a registry name and a stable description of the settings."""

    name: ClassVar[str] = ""
    tasks: ClassVar[tuple[str, ...]] = ("classification",)

    def settings(self) -> dict[str, Any]:
        return dict(vars(self))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.settings().items())
        return f"{type(self).__name__}({args})"


class Mapper(Operator):
    """Changes columns of a batch; never adds or removes rows."""

    def map_batch(self, batch: Batch) -> Batch:
        raise NotImplementedError


class Filter(Operator):
    """Decides per record whether it stays; the engine writes the rejects."""

    def keep(self, record: dict[str, Any]) -> bool | tuple[bool, str]:
        raise NotImplementedError

    def keep_batch(self, batch: Batch) -> list[bool | tuple[bool, str]]:
        """Batched default; override when a vectorised check is faster."""
        columns = list(batch)
        n = len(batch[columns[0]]) if columns else 0
        return [self.keep({c: batch[c][i] for c in columns}) for i in range(n)]


class GlobalResult:
    """What a global operator decided: the kept table, and dropped rows with reasons."""

    def __init__(
        self, kept: pd.DataFrame, dropped: pd.DataFrame, reasons: list[str], details: list[str]
    ) -> None:
        self.kept = kept
        self.dropped = dropped
        self.reasons = reasons
        self.details = details
        self.info: dict[str, Any] = {}


class GlobalOp(Operator):
    """Needs the whole table (dedup, split): ``fit`` learns, ``apply`` partitions."""

    def fit(self, table: pd.DataFrame) -> "GlobalOp":
        raise NotImplementedError

    def apply(self, table: pd.DataFrame) -> GlobalResult:
        raise NotImplementedError
