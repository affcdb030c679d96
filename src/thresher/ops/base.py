"""Operator kinds: Mapper (batch -> batch), Filter (record -> keep or (drop, reason)), Global.

Operators never know where they run; an engine (local processes or Ray) applies them and does
all the bookkeeping (counting, rejects). Constructors take explicit keyword arguments and store
them unchanged; settings are validated from the constructor signature when the recipe is loaded.

A global operator (dedup) is split in two so that it can run on data larger than memory and on
many workers: ``signature_batch`` turns each batch into a few small columns (hashes, labels) and
runs wherever the data is; ``decide`` sees only those small columns for the whole table, on one
machine, and says which rows go (with reason and detail) and which columns to add.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import pandas as pd

__all__ = ["COUNTS", "Batch", "Decision", "Filter", "GlobalOp", "Mapper", "Operator", "Verdict"]

Batch = dict[str, list[Any]]
# keep (True), drop with a reason, or drop with a reason and a detail (e.g. what matched)
Verdict = bool | tuple[bool, str] | tuple[bool, str, str]

# A mapper may return this extra batch key: one dict[str, int] per row (e.g. PII found by type).
# The engine removes it from the batch and sums it into the step's ``info["counts"]``.
COUNTS = "_counts"


class Operator:
    """Common base: a registry name and a stable description of the settings."""

    name: ClassVar[str] = ""
    tasks: ClassVar[tuple[str, ...]] = ("classification",)

    def settings(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if not k.startswith("_")}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.settings().items())
        return f"{type(self).__name__}({args})"


class Mapper(Operator):
    """Changes columns of a batch; never adds or removes rows."""

    def map_batch(self, batch: Batch) -> Batch:
        raise NotImplementedError


class Filter(Operator):
    """Decides per record whether it stays; the engine writes the rejects."""

    def keep(self, record: dict[str, Any]) -> Verdict:
        raise NotImplementedError

    def keep_batch(self, batch: Batch) -> list[Verdict]:
        """Batched default; override when a vectorised check is faster."""
        columns = list(batch)
        n = len(batch[columns[0]]) if columns else 0
        return [self.keep({c: batch[c][i] for c in columns}) for i in range(n)]


@dataclass
class Decision:
    """What a global operator decided for the whole table.

    ``drop`` maps a row's position (the ``_row`` column given to ``decide``) to (reason, detail);
    ``columns`` holds new per-row columns for every row in position order (e.g. a cluster id);
    ``info`` goes into the step's manifest entry.
    """

    drop: dict[int, tuple[str, str]] = field(default_factory=dict)
    columns: dict[str, list[Any]] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)


class GlobalOp(Operator):
    """Needs the whole table (dedup): small per-row signatures, then one decision."""

    # columns of the record the signature reads, besides "id" (and "label" when present)
    reads: ClassVar[tuple[str, ...]] = ("text",)

    def signature_batch(self, batch: Batch) -> Batch:
        """Small per-row values the decision needs; runs batched, in parallel, anywhere."""
        raise NotImplementedError

    def decide(self, keys: pd.DataFrame) -> Decision:
        """``keys``: the signature columns of all rows in order, plus ``_row``, ``id``, ``label``."""
        raise NotImplementedError
