"""One pass over one piece of data: the unit of work both engines hand to their workers.

A recipe's steps are cut into passes at each global operator (dedup). A pass may start by
applying the previous global operator's decision, then runs the following mappers and filters
fused (one read, one write per shard), and may end by computing the next global operator's
signatures on the rows that are left. Per step it returns partial statistics which the driver
merges in data order, so the result does not depend on how the data was cut or how many
workers ran.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from thresher.engine.steps import EXAMPLES_PER_REASON, StepStats, _example_text, _filter, _map
from thresher.ops import Decision, Filter, GlobalOp, Mapper, Operator
from thresher.records import Reject

__all__ = ["Partial", "Pass", "PieceResult", "plan_passes", "run_piece", "signature_frame"]


@dataclass
class Partial:
    """One step's outcome on one piece of data; ``merge`` in data order gives the whole step."""

    rows_in: int = 0
    rows_out: int = 0
    rejected: dict[str, int] = field(default_factory=dict)
    examples: dict[str, list[str]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, rows_in: int, rows_out: int, rejects: list[Reject],
           counts: dict[str, int] | None = None) -> "Partial":
        part = cls(rows_in, rows_out, dict(Counter(r.reason for r in rejects)), counts=counts or {})
        for r in rejects:
            bucket = part.examples.setdefault(r.reason, [])
            if len(bucket) < EXAMPLES_PER_REASON:
                bucket.append(_example_text(r))
        return part

    def merge(self, other: "Partial") -> None:
        self.rows_in += other.rows_in
        self.rows_out += other.rows_out
        for reason, n in other.rejected.items():
            self.rejected[reason] = self.rejected.get(reason, 0) + n
        for reason, texts in other.examples.items():
            bucket = self.examples.setdefault(reason, [])
            bucket.extend(texts[:EXAMPLES_PER_REASON - len(bucket)])
        for key, n in other.counts.items():
            self.counts[key] = self.counts.get(key, 0) + n

    def stats(self, name: str, info: dict[str, Any] | None = None, seconds: float = 0.0) -> StepStats:
        """The step's manifest entry, as ``run_step`` would have written it for the whole table."""
        if self.rows_in != self.rows_out + sum(self.rejected.values()):
            raise AssertionError(f"step {name}: {self.rows_in} rows in, {self.rows_out} kept + "
                                 f"{sum(self.rejected.values())} rejected; rows were lost or invented")
        info = dict(info or {})
        if self.counts:
            info["counts"] = dict(sorted(self.counts.items()))
        return StepStats(name, self.rows_in, self.rows_out, dict(self.rejected), seconds,
                         {k: list(v) for k, v in self.examples.items()}, info)


@dataclass(frozen=True)
class Pass:
    """Step indices: apply a decision (``apply``), run ``chain``, then sign for ``sign``."""

    apply: int | None
    chain: tuple[int, ...]
    sign: int | None


def plan_passes(ops: list[Operator]) -> list[Pass]:
    """Cut the steps at each global operator; every step belongs to exactly one pass."""
    passes, apply, chain = [], None, []
    for i, op in enumerate(ops):
        if isinstance(op, GlobalOp):
            passes.append(Pass(apply, tuple(chain), i))
            apply, chain = i, []
        elif isinstance(op, (Mapper, Filter)):
            chain.append(i)
        else:
            raise TypeError(f"{type(op).__name__} is not a Mapper, Filter or GlobalOp")
    passes.append(Pass(apply, tuple(chain), None))
    return passes


@dataclass
class PieceResult:
    """What one pass made of one piece: kept rows, rejects per step, partials, signatures."""

    kept: pd.DataFrame
    rejects: dict[int, list[Reject]]
    partials: dict[int, Partial]
    signatures: pd.DataFrame | None = None
    seconds: dict[int, float] = field(default_factory=dict)


def run_piece(ops: list[Operator], step: Pass, table: pd.DataFrame, offset: int = 0,
              decision: Decision | None = None) -> PieceResult:
    """Run one pass on ``table``, whose first row is row ``offset`` of the pass's input."""
    result = PieceResult(table.reset_index(drop=True), {}, {})
    clock = time.perf_counter()
    if step.apply is not None:
        result.kept = _apply(ops[step.apply], step.apply, result, offset, decision)
        clock = _lap(result, step.apply, clock)
    for i in step.chain:
        result.kept = _chain_step(ops[i], i, result)
        clock = _lap(result, i, clock)
    if step.sign is not None:
        result.signatures = signature_frame(ops[step.sign], result.kept)
        _lap(result, step.sign, clock)
    return result


def _lap(result: PieceResult, index: int, since: float) -> float:
    now = time.perf_counter()
    result.seconds[index] = result.seconds.get(index, 0.0) + now - since
    return now


def _chain_step(op: Operator, index: int, result: PieceResult) -> pd.DataFrame:
    table = result.kept
    rejects: list[Reject] = []
    counts: dict[str, int] = {}
    if len(table):
        if isinstance(op, Mapper):
            kept, info = _map(op, table)
            counts = info.get("counts", {})
        else:
            kept, rejects = _filter(op, table)
    else:
        kept = table
    result.rejects[index] = rejects
    result.partials[index] = Partial.of(len(table), len(kept), rejects, counts)
    return kept


def signature_frame(op: GlobalOp, table: pd.DataFrame) -> pd.DataFrame:
    """The op's signature columns of ``table`` plus id and label (``_row`` is added later)."""
    from thresher.engine.steps import BATCH_SIZE

    wanted = [c for c in dict.fromkeys((*op.reads, "id", "label")) if c in table]
    parts = [pd.DataFrame(op.signature_batch(table[wanted].iloc[s:s + BATCH_SIZE].to_dict("list")))
             for s in range(0, len(table), BATCH_SIZE)]
    keys = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    for column in ("id", "label"):
        if column in table:
            keys[column] = table[column].to_numpy()
    return keys


def _apply(op: GlobalOp, index: int, result: PieceResult, offset: int,
           decision: Decision | None) -> pd.DataFrame:
    """Drop and add columns as decided; ``decision`` holds this piece's rows (global positions)."""
    table = result.kept
    decision = decision or Decision()
    for column, values in decision.columns.items():
        table = table.assign(**{column: values})
    drop = sorted(p - offset for p in decision.drop)
    rejects = [Reject.of(row, op.name, *decision.drop[i + offset])
               for i, row in zip(drop, table.iloc[drop].to_dict("records"))]
    keep = pd.Series(True, index=table.index)
    keep.iloc[drop] = False
    kept = table[keep].reset_index(drop=True)
    result.rejects[index] = rejects
    result.partials[index] = Partial.of(len(table), len(kept), rejects)
    return kept
