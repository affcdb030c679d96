"""Run one data operator on one in-memory table, in batches, with all the bookkeeping.

Operators only transform or decide; this engine counts rows in and out, collects rejects with
their reasons, and keeps a few examples per reason for the report. It checks the invariant
rows_in = rows_out + rejected after every step.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from thresher.ops import COUNTS, Filter, GlobalOp, Mapper, Operator
from thresher.records import Reject

__all__ = ["BATCH_SIZE", "EXAMPLES_PER_REASON", "StepStats", "run_step", "summarize"]

BATCH_SIZE = 1000
EXAMPLES_PER_REASON = 3


@dataclass
class StepStats:
    name: str
    rows_in: int
    rows_out: int = 0
    rejected: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    examples: dict[str, list[str]] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "rows_in": self.rows_in, "rows_out": self.rows_out,
                "rejected": self.rejected, "seconds": round(self.seconds, 3),
                "examples": self.examples, "info": self.info}


def run_step(op: Operator, table: pd.DataFrame) -> tuple[pd.DataFrame, list[Reject], StepStats]:
    """Apply one operator to the whole table."""
    start = time.perf_counter()
    table = table.reset_index(drop=True)
    if isinstance(op, Mapper):
        (kept, info), rejects = _map(op, table), []
    elif isinstance(op, Filter):
        (kept, rejects), info = _filter(op, table), {}
    elif isinstance(op, GlobalOp):
        kept, rejects, info = _global(op, table)
    else:
        raise TypeError(f"{type(op).__name__} is not a Mapper, Filter or GlobalOp")
    stats = summarize(op.name, len(table), kept, rejects, info)
    stats.seconds = time.perf_counter() - start
    return kept, rejects, stats


def summarize(name: str, rows_in: int, kept: pd.DataFrame, rejects: list[Reject],
              info: dict[str, Any] | None = None) -> StepStats:
    """Count a step's outcome and check that no row went missing."""
    if rows_in != len(kept) + len(rejects):
        raise AssertionError(f"step {name}: {rows_in} rows in, {len(kept)} kept + "
                             f"{len(rejects)} rejected; rows were lost or invented")
    stats = StepStats(name, rows_in, len(kept), dict(Counter(r.reason for r in rejects)),
                      info=info or {})
    for r in rejects:
        bucket = stats.examples.setdefault(r.reason, [])
        if len(bucket) < EXAMPLES_PER_REASON:
            bucket.append(_example_text(r))
    return stats


def _example_text(reject: Reject) -> str:
    import json

    record = json.loads(reject.record)
    text = record.get("text")
    if text is None and "tokens" in record:
        text = " ".join(map(str, record["tokens"]))
    if text is None and "messages" in record:  # sft: the conversation, roles left out
        from thresher.records import conversation_text

        text = conversation_text(record["messages"])
    if text is None and "input" in record:  # seq2seq
        text = f"{record['input']}\n{record.get('target', '')}"
    text = str(text if text is not None else reject.record)
    return text if len(text) <= 300 else text[:297] + "..."


def _batches(table: pd.DataFrame):
    for start in range(0, len(table), BATCH_SIZE):
        yield table.iloc[start:start + BATCH_SIZE]


def _map(op: Mapper, table: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, Any]]:
    if table.empty:
        return table, {}
    parts, counts = [], Counter()
    for chunk in _batches(table):
        out = op.map_batch(chunk.to_dict("list"))
        for row_counts in out.pop(COUNTS, None) or ():
            counts.update(row_counts)
        parts.append(pd.DataFrame(out, columns=list(out)))
        if len(parts[-1]) != len(chunk):
            raise AssertionError(f"mapper {op.name} changed the number of rows in a batch")
    info = {"counts": dict(sorted(counts.items()))} if counts else {}
    return pd.concat(parts, ignore_index=True), info


def verdict_parts(verdict: Any) -> tuple[bool, str, str]:
    """(keep, reason, detail) from a filter's bool / (bool, reason) / (bool, reason, detail)."""
    if isinstance(verdict, tuple):
        keep = bool(verdict[0])
        reason = verdict[1] if len(verdict) > 1 else "filtered"
        detail = verdict[2] if len(verdict) > 2 else ""
        return keep, reason, detail
    return bool(verdict), "filtered", ""


def _filter(op: Filter, table: pd.DataFrame) -> tuple[pd.DataFrame, list[Reject]]:
    verdicts: list[tuple[bool, str, str]] = []
    for chunk in _batches(table):
        verdicts.extend(verdict_parts(v) for v in op.keep_batch(chunk.to_dict("list")))
    keep = [v[0] for v in verdicts]
    dropped = [i for i, k in enumerate(keep) if not k]
    rejects = [Reject.of(row, op.name, verdicts[i][1], verdicts[i][2])
               for i, row in zip(dropped, table.iloc[dropped].to_dict("records"))]
    return table[keep].reset_index(drop=True), rejects


def signatures(op: GlobalOp, table: pd.DataFrame) -> pd.DataFrame:
    """The small per-row columns ``decide`` needs, in row order, with _row, id and label."""
    parts = []
    wanted = [c for c in dict.fromkeys((*op.reads, "id", "label")) if c in table]
    for chunk in _batches(table[wanted]):
        parts.append(pd.DataFrame(op.signature_batch(chunk.to_dict("list"))))
    keys = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    keys["_row"] = range(len(table))
    keys["id"] = table["id"].to_numpy()
    if "label" in table:
        keys["label"] = table["label"].to_numpy()
    return keys


def _global(op: GlobalOp, table: pd.DataFrame) -> tuple[pd.DataFrame, list[Reject], dict]:
    decision = op.decide(signatures(op, table))
    for column, values in decision.columns.items():
        table = table.assign(**{column: values})
    drop = sorted(decision.drop)
    rejects = [Reject.of(row, op.name, *decision.drop[i])
               for i, row in zip(drop, table.iloc[drop].to_dict("records"))]
    keep = pd.Series(True, index=table.index)
    keep.iloc[drop] = False
    return table[keep].reset_index(drop=True), rejects, decision.info
