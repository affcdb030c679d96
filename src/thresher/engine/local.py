"""The local engine: passes over shards in worker processes on this machine.

Each worker gets the operators once (when the pool starts) and then one shard at a time: it
runs the fused pass, writes the kept rows and the rejects as shard files, and returns partial
statistics and signatures. The driver keeps only a few shards in flight, so memory stays
bounded by ``num_proc`` shards, not by the input. A run whose input is one shard runs in this
process, without starting a pool.

``run_step`` (one operator on one in-memory table) lives in :mod:`thresher.engine.steps` and is
re-exported here.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import pickle
import sys
from collections import deque
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from thresher.engine.base import DecisionSlicer, PassOutput, ShardEngine
from thresher.engine.segment import Pass, run_piece
from thresher.engine.steps import BATCH_SIZE, EXAMPLES_PER_REASON, StepStats, run_step, summarize
from thresher.engine.work import Piece, WorkDir, write_shard
from thresher.ops import Decision, Operator
from thresher.records import rejects_frame

__all__ = ["BATCH_SIZE", "EXAMPLES_PER_REASON", "LocalEngine", "StepStats", "run_step", "summarize"]

_OPS: list[Operator] = []  # a worker's operators, set once by ``_start_worker``


class LocalEngine(ShardEngine):
    """Worker processes on this machine (``num_proc``, default: all cores)."""

    def __init__(self, num_proc: int | None = None) -> None:
        self.num_proc = max(1, num_proc or os.cpu_count() or 1)
        self._pool: Any = None

    def start(self, ops: list[Operator], many: bool) -> None:
        if self.num_proc > 1 and many:
            context = multiprocessing.get_context(_start_method())
            # forked workers inherit this process's objects; frozen, the garbage collector
            # never walks them there (walking would copy every page it touches, and is slow)
            gc.freeze()
            try:
                self._pool = context.Pool(self.num_proc, initializer=_start_worker,
                                          initargs=(pickle.dumps(ops),))
            finally:
                gc.unfreeze()

    def run_pass(self, ops: list[Operator], step: Pass, pieces: Iterable[Piece],
                 decision: Decision | None, work: WorkDir) -> Iterator[PassOutput]:
        folder = work.root if work.spill else None
        tasks = _tasks(step, pieces, DecisionSlicer(decision), folder, work)
        if self._pool is None:
            global _OPS
            _OPS = ops
            for task, piece in tasks:
                yield _run_task(task)
                piece.release()
            return
        pending: deque = deque()
        window = self.num_proc + 1  # a shard for each worker, and the next one ready
        for task, piece in tasks:
            pending.append((self._pool.apply_async(_run_task, (task,)), piece))
            while len(pending) >= window or (pending and pending[0][0].ready()):
                yield _finish(*pending.popleft())
        while pending:
            yield _finish(*pending.popleft())

    def stop(self, failed: bool = False) -> None:
        if self._pool is not None:
            if failed:
                self._pool.terminate()  # tasks still queued would only be thrown away
            else:
                self._pool.close()  # every result is in: the workers are idle and exit
            self._pool.join()
            self._pool = None


def _tasks(step: Pass, pieces: Iterable[Piece], slicer: DecisionSlicer, folder: Path | None,
           work: WorkDir) -> Iterator[tuple[tuple, Piece]]:
    offset = 0
    for piece in pieces:
        name = work.new_path("piece").stem if folder is not None else ""
        yield (step, piece, offset, slicer(offset, piece.rows), folder, name), piece
        offset += piece.rows


def _finish(result: Any, piece: Piece) -> PassOutput:
    output = result.get()
    piece.release()
    return output


def _start_method() -> str:
    """fork: workers start in milliseconds with every module imported. Not when this process
    is a Ray driver: a forked child would share Ray's sockets and can corrupt its connection."""
    ray = sys.modules.get("ray")
    if sys.platform == "win32" or (ray is not None and ray.is_initialized()):
        return "spawn"
    return "fork"


def _start_worker(ops: bytes) -> None:
    global _OPS
    _OPS = pickle.loads(ops)


def _run_task(task: tuple) -> PassOutput:
    """One pass on one piece; with a ``folder`` the outputs go to shard files there."""
    import pyarrow as pa

    step, piece, offset, decision, folder, name = task
    result = run_piece(_OPS, step, piece.load(), offset, decision)

    def keep(frame: Any, kind: str) -> Piece:
        if folder is None or not len(frame):
            return Piece(len(frame), frame=frame if len(frame) else None)
        path = folder / f"{name}-{kind}.shard"
        write_shard(frame, path)
        return Piece(len(frame), path=path)

    rejects = {i: keep(rejects_frame(r), f"rejects{i}") for i, r in result.rejects.items() if r}
    signatures = None
    if result.signatures is not None:
        signatures = pa.Table.from_pandas(result.signatures, preserve_index=False)
    if folder is not None:
        pa.default_memory_pool().release_unused()  # a worker's next shard starts from little
    return PassOutput(keep(result.kept, "kept"), rejects, result.partials, result.seconds,
                      signatures)
