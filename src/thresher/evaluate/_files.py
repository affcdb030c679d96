"""Atomic writes: a killed evaluation never leaves a half-written metrics file, table or plot."""

from __future__ import annotations

import json
import os
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Iterator

import pandas as pd

__all__ = ["atomic_open", "write_json", "write_parquet"]


@contextmanager
def atomic_open(path: Path, mode: str = "wb") -> Iterator[IO[Any]]:
    """Open a temporary file next to ``path``; rename it over ``path`` only on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Same folder, so os.replace is a rename on one file system (atomic on POSIX and Windows).
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        encoding = None if "b" in mode else "utf-8"
        with open(tmp, mode, encoding=encoding) as handle:
            yield handle
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_json(data: Any, path: Path) -> Path:
    """Write ``data`` as UTF-8 JSON; NaN or infinity raise instead of producing invalid JSON."""
    text = json.dumps(data, ensure_ascii=False, indent=2, allow_nan=False)
    with atomic_open(path, "w") as handle:
        handle.write(text + "\n")
    return Path(path)


def write_parquet(frame: pd.DataFrame, path: Path) -> Path:
    with atomic_open(path, "wb") as handle:
        frame.to_parquet(handle, index=False)
    return Path(path)
