"""The Ray engine: the local engine's passes as Ray Data ``map_batches`` on a Ray cluster.

The only module in thresher that imports ray (the optional extra ``thresher[ray]``). The same
operator objects run in the same passes (:mod:`thresher.engine.segment`), one block per piece:
each block comes back holding its kept rows, its rejects (as rows with a ``reject`` kind) and
its partial statistics (one ``stats`` row), in order (``preserve_order``), so the driver merges
them exactly as the local engine does and the same writers produce the same run folder.

A global operator's decision is cut per piece on the driver and travels inside the piece as two
extra columns (the rows to drop, the columns to add), rather than broadcasting the whole
decision to every task, which would cost each task the decision's full size.

Near-duplicate removal (an operator with ``band_columns``, :class:`~thresher.ops.DedupNear`)
finds its candidate pairs as Ray stages: a ``map_batches`` turns the LSH band hashes into
(band, hash, row) rows, a ``groupby`` on the band and the hash's top bits brings every bucket
whole into one group, and each group gives its buckets' pairs exactly as
:func:`~thresher.ops.minhash.candidate_pairs` would. The band columns never enter the driver's
key frame: the driver only verifies the pairs and clusters them (the operator's ``finish``), so
the decision is the local engine's.

Point it at a cluster with ``address``: ``"auto"`` on a node of the cluster (after
``ray start --head`` there), or ``"ray://HOST:10001"`` from elsewhere. Every node needs
thresher and its dependencies installed; output files are written by the driver.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
from collections.abc import Iterable, Iterator
from functools import partial
from typing import Any

import numpy as np

from thresher.engine.base import DecisionSlicer, PassOutput, ShardEngine, keys_frame
from thresher.engine.segment import Partial, Pass, run_piece
from thresher.engine.work import Piece, WorkDir
from thresher.errors import ThresherError
from thresher.ops import Decision, GlobalOp, Operator
from thresher.records import Reject, rejects_frame

__all__ = ["RayEngine", "band_pairs"]

_PREFIX = "_thresher_"  # engine columns; input columns never start with this
_ROW, _DROP, _ADD = f"{_PREFIX}row", f"{_PREFIX}drop", f"{_PREFIX}add_"
_KIND, _PAYLOAD, _SIG = f"{_PREFIX}kind", f"{_PREFIX}payload", f"{_PREFIX}sig_"
PIECES_PER_WINDOW = 4  # per CPU: how many pieces one Ray Data execution takes


class RayEngine(ShardEngine):
    """Ray Data on a cluster at ``address`` (None: start a local one with ``num_cpus``)."""

    def __init__(self, address: str | None = None, num_cpus: int | None = None) -> None:
        if importlib.util.find_spec("ray") is None:
            raise ThresherError("the ray engine needs Ray, which is not installed", where="engine",
                                fix="install thresher[ray] (pip install 'thresher[ray]'), or use "
                                    "the local engine")
        self.address = address
        self.num_cpus = num_cpus
        self._started = False

    def start(self, ops: list[Operator], many: bool) -> None:
        import ray

        if not ray.is_initialized():
            options: dict[str, Any] = {"log_to_driver": False, "include_dashboard": False,
                                       "configure_logging": False}
            if self.address is None:
                options["num_cpus"] = self.num_cpus
            ray.init(address=self.address, **options)
            self._started = True
        context = ray.data.DataContext.get_current()
        context.execution_options.preserve_order = True  # results merge in data order
        for flag in ("enable_progress_bars", "enable_operator_progress_bars"):
            if hasattr(context, flag):
                setattr(context, flag, False)

    def run_pass(self, ops: list[Operator], step: Pass, pieces: Iterable[Piece],
                 decision: Decision | None, work: WorkDir) -> Iterator[PassOutput]:
        import ray

        slicer = DecisionSlicer(decision)
        udf = partial(_ray_piece, ops=ops, step=step)
        offset = 0
        for window in _windows(pieces, PIECES_PER_WINDOW * self._cpus()):
            refs = []
            for piece in window:
                refs.append(ray.put(_with_decision(piece, offset, slicer(offset, piece.rows))))
                offset += piece.rows
            data = ray.data.from_arrow_refs(refs)
            done = data.map_batches(udf, batch_format="pyarrow", batch_size=None)
            for batch in done.iter_batches(batch_format="pyarrow", batch_size=None):
                yield _unpack(batch, work)
            for piece in window:
                piece.release()

    def decide(self, op: GlobalOp, signatures: list[Any]) -> Decision:
        """An LSH operator's candidate pairs as Ray stages, then its ``finish`` on the driver;
        any other global operator decides on the driver as in the local engine."""
        band_columns = getattr(op, "band_columns", None)
        if band_columns is None:
            return super().decide(op, signatures)
        columns = band_columns()
        tables = [s for s in signatures if s.num_rows]
        signatures.clear()
        if not tables:
            return Decision()
        bands = [t.select(columns) for t in tables]
        rest = [t.drop_columns(columns) for t in tables]
        del tables
        i, j = band_pairs(bands, self._cpus())
        return op.finish(keys_frame(rest), i, j)

    def _cpus(self) -> int:
        import ray

        return max(1, int(ray.cluster_resources().get("CPU", 1)))

    def stop(self, failed: bool = False) -> None:
        """Shut down the local Ray this engine started (a cluster it joined stays up)."""
        if self._started:
            import ray

            ray.shutdown()
            self._started = False


def band_pairs(tables: list[Any], partitions: int) -> tuple[np.ndarray, np.ndarray]:
    """Row pairs (i < j) sharing a band hash: the set :func:`candidate_pairs` gives.

    ``tables``: Arrow tables of band hash columns (uint64, 0 = no shingles), one per piece in
    data order, emptied on the way; a row's number is its position in their concatenation.
    ``partitions``: how many parts the group-by shuffles into (one per CPU is enough; Ray's
    default of 200 costs seconds of start-up on a small cluster). Needs a running Ray.
    """
    import pyarrow as pa
    import ray

    sizes = [t.num_rows for t in tables]
    n = sum(sizes)
    offsets = np.cumsum([0] + sizes[:-1])
    refs = [ray.put(t.append_column("_row", pa.array(np.arange(o, o + t.num_rows), pa.int64())))
            for t, o in zip(tables, offsets) if t.num_rows]
    tables.clear()  # the object store holds them now
    if not refs:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    pairs = (ray.data.from_arrow_refs(refs)
             .map_batches(_explode_bands, batch_format="pyarrow", batch_size=None)
             .groupby(["band", "part"], num_partitions=partitions)
             .map_groups(_bucket_pairs, batch_format="numpy", fn_kwargs={"n": n}))
    found = [batch["key"] for batch in pairs.iter_batches(batch_format="numpy", batch_size=None)
             if "key" in batch]
    keys = np.unique(np.concatenate(found)) if found else np.zeros(0, dtype=np.int64)
    keys = keys[keys // n != keys % n]
    return keys // n, keys % n


def _explode_bands(batch: Any) -> Any:
    """One row per (band, hash, row) of a block of band columns, without empty texts (hash 0),
    with ``part``: the hash's top 8 bits.

    Ray's ``map_groups`` calls its function once per group, about 60 us each (measured on 2
    CPUs), and nearly every (band, hash) bucket holds one row: grouped by bucket, a million
    rows x 20 bands would be 20 million calls, some 20 CPU-minutes. Grouped by (band, part), one call sorts some
    thousand buckets at once, and a bucket still lies whole in one group. The hash is viewed
    as int64 (same bits, so the same equality), which Ray and numpy sort natively.
    """
    import pyarrow as pa

    rows = batch.column("_row").to_numpy()
    bands, hashes, members = [np.zeros(0, np.int32)], [np.zeros(0, np.uint64)], [rows[:0]]
    for k, name in enumerate(c for c in batch.column_names if c != "_row"):
        column = batch.column(name).to_numpy()
        present = np.flatnonzero(column)
        bands.append(np.full(len(present), k, dtype=np.int32))
        hashes.append(column[present])
        members.append(rows[present])
    hash_ = np.concatenate(hashes)
    return pa.table({"band": np.concatenate(bands),
                     "part": (hash_ >> np.uint64(56)).astype(np.int32),
                     "hash": hash_.view(np.int64), "row": np.concatenate(members)})


def _bucket_pairs(group: dict[str, np.ndarray], n: int) -> Iterator[dict[str, np.ndarray]]:
    """The pairs of every bucket in one (band, part) group as ``candidate_pairs`` makes them:
    in row order, each member with the bucket's first member and with the member before it;
    as ``i * n + j``, each once."""
    order = np.lexsort((group["row"], group["hash"]))
    hashes, rows = group["hash"][order], group["row"][order]
    new = np.r_[True, hashes[1:] != hashes[:-1]]  # a bucket starts here
    first = rows[np.maximum.accumulate(np.where(new, np.arange(len(rows)), 0))]
    member = ~new
    previous = np.r_[rows[:1], rows[:-1]]
    keys = np.concatenate([first[member] * n + rows[member], previous[member] * n + rows[member]])
    if len(keys):
        yield {"key": np.unique(keys)}


def _windows(pieces: Iterable[Piece], size: int) -> Iterator[list[Piece]]:
    window: list[Piece] = []
    for piece in pieces:
        window.append(piece)
        if len(window) >= size:
            yield window
            window = []
    if window:
        yield window


def _with_decision(piece: Piece, offset: int, decision: Decision | None) -> Any:
    """The piece as an Arrow table with its row positions and its part of the decision."""
    import pyarrow as pa

    table = piece.arrow()
    table = table.append_column(_ROW, pa.array(range(offset, offset + piece.rows), pa.int64()))
    if decision is None:
        return table
    drops = [json.dumps(decision.drop[p]) if p in decision.drop else None
             for p in range(offset, offset + piece.rows)]
    table = table.append_column(_DROP, pa.array(drops, pa.string()))
    for name, values in decision.columns.items():
        table = table.append_column(_ADD + name, pa.array(values))
    return table


def _ray_piece(batch: Any, *, ops: list[Operator], step: Pass) -> Any:
    """Runs in a Ray task: one pass on one block, everything it made as rows of one table."""
    import pyarrow as pa

    frame = batch.to_pandas()
    offset = int(frame[_ROW].iloc[0]) if len(frame) else 0
    decision = None
    if _DROP in frame:
        drop = {offset + i: tuple(json.loads(v)) for i, v in enumerate(frame[_DROP]) if isinstance(v, str)}
        added = {c[len(_ADD):]: frame[c].tolist() for c in frame.columns if c.startswith(_ADD)}
        decision = Decision(drop=drop, columns=added)
    frame = frame[[c for c in frame.columns if not c.startswith(_PREFIX)]]
    result = run_piece(ops, step, frame, offset, decision)
    kept = pa.Table.from_pandas(result.kept, preserve_index=False)
    if result.signatures is not None:
        for column in result.signatures.columns:
            if column not in ("id", "label"):
                kept = kept.append_column(_SIG + str(column), pa.array(result.signatures[column]))
    kept = kept.append_column(_KIND, pa.array(["kept"] * len(kept), pa.string()))
    rejects = [json.dumps([i, dataclasses.asdict(r)], ensure_ascii=False)
               for i, found in sorted(result.rejects.items()) for r in found]
    stats = json.dumps({"partials": {i: dataclasses.asdict(p) for i, p in result.partials.items()},
                        "seconds": result.seconds})
    extra = pa.table({_KIND: ["reject"] * len(rejects) + ["stats"], _PAYLOAD: rejects + [stats]})
    return pa.concat_tables([kept, extra], promote_options="default")


def _unpack(batch: Any, work: WorkDir) -> PassOutput:
    """One block's rows back into the kept piece, rejects per step, partials and signatures."""
    import pyarrow.compute as pc

    kind = batch.column(_KIND)
    kept = batch.filter(pc.equal(kind, "kept"))
    signatures = None
    sig_columns = [c for c in kept.column_names if c.startswith(_SIG)]
    if sig_columns:
        signatures = kept.select(sig_columns).rename_columns([c[len(_SIG):] for c in sig_columns])
        for column in ("id", "label"):
            if column in kept.column_names:
                signatures = signatures.append_column(column, kept.column(column))
    data = kept.select([c for c in kept.column_names if not c.startswith(_PREFIX)])
    found: dict[int, list[Reject]] = {}
    for payload in batch.filter(pc.equal(kind, "reject")).column(_PAYLOAD).to_pylist():
        index, fields = json.loads(payload)
        found.setdefault(index, []).append(Reject(**fields))
    partials: dict[int, Partial] = {}
    seconds: dict[int, float] = {}
    for payload in batch.filter(pc.equal(kind, "stats")).column(_PAYLOAD).to_pylist():
        stats = json.loads(payload)
        partials = {int(i): Partial(**p) for i, p in stats["partials"].items()}
        seconds = {int(i): s for i, s in stats["seconds"].items()}
    rejects = {i: work.piece(rejects_frame(r), f"rejects{i}") for i, r in found.items()}
    kept_piece = work.piece(data.to_pandas(), "kept") if len(data) else Piece(0)
    return PassOutput(kept_piece, rejects, partials, seconds, signatures)
