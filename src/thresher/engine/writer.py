"""Run-folder outputs written by streaming over pieces: one piece in memory at a time.

Both engines end here, so local and Ray runs write byte-for-byte the same rows. Pieces may
disagree on a column's Arrow type (all nulls in one shard, strings in the next; a key that
only some JSONL lines have); the files get one schema that every piece is cast to, and a column
whose kinds cannot share a type is stored as JSON text, as the reader does for extra columns.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import numpy as np

from thresher._files import atomic_path
from thresher.engine.work import Piece
from thresher.io.values import is_missing
from thresher.records import REJECT_COLUMNS

__all__ = ["Schema", "write_parts", "write_rejects"]


class Schema:
    """The one schema of a set of pieces, and how to cast a piece to it."""

    def __init__(self, pieces: Iterable[Piece], empty: Any = None) -> None:
        import pyarrow as pa

        schemas = [_schema(p) for p in pieces if p.rows]
        fields: dict[str, list[Any]] = {}
        for schema in schemas:
            for f in schema:
                fields.setdefault(f.name, []).append(f.type)
        self.as_json: set[str] = set()
        out = []
        for name, types in fields.items():
            try:
                merged = pa.unify_schemas([pa.schema([(name, t)]) for t in types],
                                          promote_options="permissive").field(name).type
            except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
                merged = pa.string()
                self.as_json.add(name)
            out.append(pa.field(name, pa.large_string() if merged == pa.null() else merged))
        self.arrow = pa.schema(out) if out else (empty or pa.schema([]))

    def conform(self, table: Any) -> Any:
        import pyarrow as pa

        columns = []
        for f in self.arrow:
            if f.name not in table.column_names:
                columns.append(pa.nulls(len(table), f.type))
            elif f.name in self.as_json:
                columns.append(pa.array(_json_cells(table.column(f.name).to_pylist()), f.type))
            else:
                columns.append(table.column(f.name).cast(f.type))
        return pa.Table.from_arrays(columns, schema=self.arrow)


def _schema(piece: Piece) -> Any:
    import pyarrow as pa
    import pyarrow.parquet as pq

    if piece.frame is not None:
        return pa.Schema.from_pandas(piece.frame, preserve_index=False).remove_metadata()
    return pq.read_schema(piece.path).remove_metadata()


def _json_cells(values: list[Any]) -> list[str | None]:
    return [None if is_missing(v) else json.dumps(v, ensure_ascii=False, default=str) for v in values]


def write_parts(paths: list[Path], pieces: list[Piece], assign: np.ndarray | None = None,
                on_rows: Callable[[int, Any], None] | None = None) -> list[int]:
    """Stream ``pieces`` into one Parquet file per path; row r goes to ``paths[assign[r]]``.

    ``assign`` holds a path index per row (-1: in no file); without it every row goes to the
    first path. ``on_rows(offset, table)`` sees each piece (with its first row's position)
    before it is written. Returns the rows written per path.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = Schema(pieces)
    written = [0] * len(paths)
    with ExitStack() as stack:
        temps = [stack.enter_context(atomic_path(p)) for p in paths]
        writers = [stack.enter_context(pq.ParquetWriter(t, schema.arrow)) for t in temps]
        offset = 0
        for piece in pieces:
            if not piece.rows:
                continue
            table = schema.conform(piece.arrow())
            if on_rows is not None:
                on_rows(offset, table)
            where = assign[offset:offset + len(table)] if assign is not None else None
            for k, writer in enumerate(writers):
                part = table if where is None else table.filter(pa.array(where == k))
                if len(part):
                    writer.write_table(part)
                    written[k] += len(part)
            offset += len(table)
        for k, writer in enumerate(writers):
            if not written[k]:
                writer.write_table(schema.arrow.empty_table())
    return written


def write_rejects(path: Path, pieces: Iterable[Piece]) -> int:
    """All rejects, in the order given, into one file with :data:`REJECT_COLUMNS`."""
    import pyarrow as pa

    pieces = list(pieces)
    empty = pa.schema([(c, pa.large_string()) for c in REJECT_COLUMNS])
    return write_parts([path], pieces)[0] if any(p.rows for p in pieces) else \
        _write_empty(path, empty)


def _write_empty(path: Path, schema: Any) -> int:
    import pyarrow.parquet as pq

    with atomic_path(path) as tmp:
        pq.write_table(schema.empty_table(), tmp)
    return 0
