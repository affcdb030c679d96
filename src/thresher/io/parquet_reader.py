"""Parquet files, read with pyarrow; the row number (1-based) stands in for the line."""

from __future__ import annotations

from pathlib import Path

from thresher.errors import InputError
from thresher.io.result import RawTable

__all__ = ["read_parquet"]


def read_parquet(path: Path, where: str) -> RawTable:
    """All columns of the file; values keep their Python types (lists stay lists)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as err:
        raise InputError(f"not a readable Parquet file ({err})", where=where,
                         fix="check that the file is complete; re-export it with pandas.to_parquet") from err
    if table.num_rows == 0:
        raise InputError("the Parquet file has no rows", where=where, fix="pass a file with data")
    frame = table.to_pandas().astype(object)
    return RawTable(frame=frame, lines=list(range(1, len(frame) + 1)), encoding=None)
