"""What every engine does the same way: passes over ordered pieces, decisions on the driver.

An engine only says how one pass runs over many pieces (``run_pass``: worker processes, Ray
tasks, or this process) and yields each piece's result in data order. This module merges the
per-step statistics in that order, gathers the small signature columns of a global operator,
calls its ``decide`` once on the driver, and hands the decision to the next pass. So local and
Ray runs give the same rows, rejects and counts, whatever the number of workers.
"""

from __future__ import annotations

import functools
import itertools
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from thresher.engine.steps import StepStats
from thresher.engine.segment import Partial, Pass, plan_passes
from thresher.engine.work import Piece, WorkDir
from thresher.ops import Decision, GlobalOp, Operator

__all__ = ["EngineResult", "PassOutput", "ShardEngine", "slice_decision"]

TRIM_EVERY = 20  # pieces between returns of freed heap pages to the system (1M rows)


@dataclass
class PassOutput:
    """One piece after a pass: the rows kept, rejects per step, partial stats, signatures.

    ``signatures`` is a pyarrow Table: for millions of rows, Arrow columns of hashes and ids
    take a fraction of the memory of Python objects.
    """

    kept: Piece
    rejects: dict[int, Piece]
    partials: dict[int, Partial]
    seconds: dict[int, float] = field(default_factory=dict)
    signatures: Any = None


@dataclass
class EngineResult:
    """The rows kept after the last step (pieces in order), rejects per step, and the stats."""

    pieces: list[Piece]
    rejects: dict[int, list[Piece]]
    stats: list[StepStats]


class ShardEngine:
    """Runs a list of operators over pieces; subclasses implement ``run_pass``."""

    def run(self, ops: list[Operator], pieces: Iterable[Piece], work: WorkDir,
            many: bool | None = None) -> EngineResult:
        """Run ``ops`` over ``pieces`` (in data order; may be a lazy reader).

        ``many``: whether there is more than one piece, when the caller knows (a streamed
        file); workers then start before anything is read. Otherwise two pieces are read first.
        """
        stream = iter(pieces)
        head = [] if many else list(itertools.islice(stream, 2))
        many = many or len(head) > 1
        work.spill = work.spill or many  # more than one piece: keep only a few in memory
        self.start(ops, many)
        try:
            result = self._run(ops, itertools.chain(head, stream), work)
        except BaseException:
            self.stop(failed=True)
            raise
        self.stop()
        return result

    def _run(self, ops: list[Operator], pieces: Iterable[Piece], work: WorkDir) -> EngineResult:
        partials = {i: Partial() for i in range(len(ops))}
        seconds = {i: 0.0 for i in range(len(ops))}
        infos: dict[int, dict[str, Any]] = {}
        rejects: dict[int, list[Piece]] = {i: [] for i in range(len(ops))}
        decision: Decision | None = None
        current: Iterable[Piece] = pieces
        for step in plan_passes(ops):
            kept: list[Piece] = []
            signatures: list[Any] = []
            for n, out in enumerate(self.run_pass(ops, step, current, decision, work), 1):
                if n % TRIM_EVERY == 0:
                    release_memory()  # parsing leaves the reader's heap fragmented
                for i, part in out.partials.items():
                    partials[i].merge(part)
                    seconds[i] += out.seconds.get(i, 0.0)
                for i, piece in out.rejects.items():
                    rejects[i].append(piece)
                if out.kept.rows:
                    kept.append(out.kept)
                if out.signatures is not None:
                    signatures.append(compact(out.signatures))
            current, decision = kept, None
            if step.sign is not None:
                start = time.perf_counter()
                decision = self.decide(ops[step.sign], signatures)
                infos[step.sign] = decision.info
                seconds[step.sign] += time.perf_counter() - start
                release_memory()  # the decision's scratch arrays, before the next pass reads
        stats = [partials[i].stats(op.name, infos.get(i), seconds[i]) for i, op in enumerate(ops)]
        return EngineResult(list(current), rejects, stats)

    def decide(self, op: GlobalOp, signatures: list[Any]) -> Decision:
        """The decision of ``op`` on all rows' signatures (Arrow tables, one per piece, in
        data order; emptied on the way). Here on the driver; an engine may override it to
        compute part of the decision where the signatures are."""
        return decide(op, signatures)

    def start(self, ops: list[Operator], many: bool) -> None:
        """Get workers ready for ``ops``; ``many``: the input is more than one piece."""

    def run_pass(self, ops: list[Operator], step: Pass, pieces: Iterable[Piece],
                 decision: Decision | None, work: WorkDir) -> Iterator[PassOutput]:
        """Each piece's result in data order (``decision``: the previous global op's)."""
        raise NotImplementedError

    def stop(self, failed: bool = False) -> None:
        """Release what ``start`` took (``failed``: at once, abandoning work in flight)."""

    def close(self) -> None:
        """Release everything; the engine may not be used afterwards."""
        self.stop()

    def __enter__(self) -> "ShardEngine":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def release_memory() -> None:
    """Hand freed heap pages back to the system (glibc keeps them otherwise; measured: about
    100 MB of a 3M-row driver's peak). A no-op where the C library has no ``malloc_trim``."""
    import gc

    gc.collect()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.lru_cache(maxsize=1)
def _malloc_trim() -> Any:
    # the symbols already loaded into this process, not ctypes.util.find_library: that runs
    # ldconfig in a subprocess, forking the (large) driver every time
    import ctypes

    try:
        return getattr(ctypes.CDLL(None), "malloc_trim", None)
    except OSError:
        return None


def decide(op: GlobalOp, signatures: list[Any]) -> Decision:
    """The op's decision on the signature columns of all rows (``_row`` = position).

    ``signatures`` (Arrow tables, one per piece in data order) is emptied on the way: the
    pieces are freed once they are one table.
    """
    tables = [s for s in signatures if s.num_rows]
    signatures.clear()
    if not tables:
        return Decision()
    return op.decide(keys_frame(tables))


def keys_frame(tables: list[Any]) -> Any:
    """The non-empty signature tables (emptied on the way) as the frame ``decide`` sees: one
    row per row of the data, plain strings, ``_row`` = position, id and label last."""
    import pyarrow as pa

    # each piece back to plain strings before the concatenation: compact() dictionary-encodes
    # a column in some pieces (one label only, or one row) and not in others, which Arrow
    # cannot concatenate
    keys = to_frame(pa.concat_tables([expand(t) for t in tables], promote_options="permissive"))
    tables.clear()
    tail = [c for c in ("id", "label") if c in keys]
    keys = keys[[c for c in keys.columns if c not in tail] + tail]
    keys.insert(len(keys.columns) - len(tail), "_row", np.arange(len(keys)))
    return keys


def to_frame(table: Any) -> Any:
    """pandas columns over the Arrow memory: strings stay Arrow-backed (about 15 bytes a row
    for an id instead of a ~60-byte Python object each); numbers become NumPy arrays."""
    import pandas as pd
    import pyarrow as pa

    strings = {pa.string(): pd.ArrowDtype(pa.string()),
               pa.large_string(): pd.ArrowDtype(pa.large_string())}
    return table.to_pandas(types_mapper=strings.get)


def compact(table: Any) -> Any:
    """Signature columns as they wait for ``decide``: 32-bit string offsets, and labels (few
    distinct values) as dictionary codes; about 20 bytes a row less than plain Arrow strings."""
    import pyarrow as pa
    import pyarrow.compute as pc

    columns = []
    for column in table.columns:
        if pa.types.is_large_string(column.type) or pa.types.is_string(column.type):
            column = column.cast(pa.string())
            if pc.count_distinct(column).as_py() <= max(1, len(column) // 100):
                column = pc.dictionary_encode(column)
        columns.append(column)
    return pa.table(columns, names=table.column_names)


def expand(table: Any) -> Any:
    """Back to plain strings: ``decide`` sees the columns as the op made them."""
    import pyarrow as pa

    columns = [c.cast(pa.string()) if pa.types.is_dictionary(c.type) else c for c in table.columns]
    return pa.table(columns, names=table.column_names)


class DecisionSlicer:
    """Cuts a decision into the part each piece needs (its rows' drops and new column values)."""

    def __init__(self, decision: Decision | None) -> None:
        self.decision = decision
        self.positions = np.array(sorted(decision.drop), dtype=np.int64) if decision else None

    def __call__(self, offset: int, rows: int) -> Decision | None:
        return slice_decision(self.decision, self.positions, offset, rows)


def slice_decision(decision: Decision | None, positions: np.ndarray | None, offset: int,
                   rows: int) -> Decision | None:
    if decision is None:
        return None
    assert positions is not None
    lo, hi = np.searchsorted(positions, [offset, offset + rows])
    drop = {int(p): decision.drop[int(p)] for p in positions[lo:hi]}
    columns = {k: list(v[offset:offset + rows]) for k, v in decision.columns.items()}
    return Decision(drop=drop, columns=columns)
