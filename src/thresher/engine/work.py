"""Where data lives between passes: in memory for a small run, else as Parquet shards on disk.

Shards go to a work folder ``OUT/.cache/work-*`` that is removed when the run ends (a killed
run's folder is removed by the next run), so the run folder never holds half results.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

__all__ = ["Piece", "WorkDir", "remove_stale_work"]

_PREFIX = "work-"


@dataclass
class Piece:
    """Rows of a table, in memory (``frame``) or in a Parquet file (``path``)."""

    rows: int
    path: Path | None = None
    frame: pd.DataFrame | None = None

    def load(self) -> pd.DataFrame:
        if self.frame is not None:
            return self.frame
        assert self.path is not None
        return pd.read_parquet(self.path)

    def arrow(self):
        """The rows as a pyarrow Table."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        if self.frame is not None:
            return pa.Table.from_pandas(self.frame, preserve_index=False)
        return pq.read_table(self.path)

    def release(self) -> None:
        """Drop the rows once no later pass needs them (keeps disk use near one copy)."""
        if self.path is not None:
            self.path.unlink(missing_ok=True)
        self.frame = None


class WorkDir:
    """A private folder for shards; ``spill`` says whether new pieces go to disk."""

    def __init__(self, out: Path, spill: bool = False) -> None:
        cache = out / ".cache"
        cache.mkdir(parents=True, exist_ok=True)
        self.root = Path(tempfile.mkdtemp(prefix=_PREFIX, dir=cache))
        self.spill = spill
        self._count = 0

    def new_path(self, kind: str) -> Path:
        self._count += 1
        return self.root / f"{kind}-{self._count:06d}.shard"

    def piece(self, frame: pd.DataFrame, kind: str = "data") -> Piece:
        """Keep ``frame`` as a piece: written to a shard when spilling, else held as is."""
        if not self.spill:
            return Piece(len(frame), frame=frame)
        path = self.new_path(kind)
        write_shard(frame, path)
        return Piece(len(frame), path=path)

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> "WorkDir":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def write_shard(frame: pd.DataFrame, path: Path) -> None:
    """One shard file; not atomic on purpose: the whole work folder is private and temporary."""
    frame.to_parquet(path, index=False)


def remove_stale_work(out: Path) -> None:
    """Work folders left by a killed run (kill -9 skips cleanup)."""
    cache = out / ".cache"
    if cache.is_dir():
        for stale in cache.glob(f"{_PREFIX}*"):
            shutil.rmtree(stale, ignore_errors=True)
