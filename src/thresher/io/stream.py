"""``iter_source``: read a large source in chunks, so memory stays bounded whatever its size.

The answer is the same as :func:`thresher.io.read_source` on the same file: the same ids,
rejects (with their line numbers), counts and source description. Large JSONL, CSV/TSV and
Parquet files are streamed; every other source (and any file under ``stream_above`` bytes) is
read whole by ``read_source`` and handed out in chunks. The format parsing per chunk is in
:mod:`thresher.io.chunk_readers`; this module turns chunks into the classification table.

What crosses chunk boundaries is kept as small state: column roles are inferred from the first
chunk; content ids made unique by occurrence use a running set of 64-bit id hashes; given ids
are checked for duplicates the same way; label kinds seen so far are remembered. Two things can
differ from a whole-file read, both on unusual files only: a JSONL key that first appears after
the first chunk is absent (not null) in earlier rejected rows' records, and roles or the
encoding are judged on the first chunk rather than on the whole file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from thresher.errors import DataError, InputError
from thresher.io.chunk_readers import csv_chunks, jsonl_chunks, parquet_chunks
from thresher.io.detect import detect_format, format_name, text_format
from thresher.io.encoding import decode_lines, detect_encoding, sniff_binary
from thresher.io.result import BadLine, ColumnInfo, RawTable, SourceInfo
from thresher.io.roles import Roles, resolve_roles
from thresher.io.source import _fingerprint, _locate, _require, read_source
from thresher.io.table import _CORE, _detail, _id_text, _text_ids, arrow_safe, bad_row_rejects, row_sources
from thresher.io.values import _label, clean_texts, column_dtype, count_empty, is_missing
from thresher.records import Reject, make_id

__all__ = ["CHUNK_ROWS", "STREAM_ABOVE", "Chunk", "Chunks", "SeenKeys", "iter_source"]

STREAM_ABOVE = 256 << 20  # smaller files are read whole: simpler, and identical by construction
CHUNK_ROWS = 50_000
_STREAMED = ("jsonl", "csv", "tsv", "parquet")
_ONE_BYTE_NEWLINE = ("utf-8", "utf-8-sig", "gb18030", "latin-1", "iso8859-1", "cp1252", "ascii")

Chunk = tuple[pd.DataFrame, list[Reject]]


@dataclass
class Chunks:
    """(table, rejects) chunks in file order; ``streamed``: read piecemeal from a large file."""

    chunks: Iterator[Chunk]
    streamed: bool

    def __iter__(self) -> "Chunks":
        return self

    def __next__(self) -> Chunk:
        return next(self.chunks)


def iter_source(path: str | Path, *, task: str | None = "classification", text: str | None = None,
                label: str | None = None, id: str | None = None, format: str | None = None,
                encoding: str | None = None, cache_dir: Path | None = None,
                chunk_rows: int = CHUNK_ROWS, stream_above: int = STREAM_ABOVE,
                ) -> tuple[SourceInfo, Chunks]:
    """The source's description and an iterator of (table chunk, rejects chunk) in file order.

    When the file is streamed, ``info`` holds path, format and sha256 at once (enough to decide
    whether a run is cached) and the rest (rows, encoding, columns, bad lines) once the iterator
    is exhausted. Arguments are those of ``read_source``.
    """
    options = dict(text=text, label=label, id=id, format=format, encoding=encoding, task=task,
                   cache_dir=cache_dir)
    located = None if str(path).startswith("hf:") else _locate(str(path), cache_dir)
    fmt = _streamable(located, format, task, stream_above)
    if located is None or fmt is None:
        result = read_source(path, **options)
        return result.info, Chunks(_slices(result.table, result.rejects, chunk_rows), streamed=False)
    assert located.path is not None
    info = SourceInfo(path=str(located.path), format=fmt, encoding=None, rows=0, columns=[],
                      bad_lines=[], sha256=_fingerprint(located), url=located.url)
    roles = Roles(text, label, id)
    return info, Chunks(_stream(located.path, located.name, fmt, encoding, roles, info, chunk_rows),
                        streamed=True)


def _streamable(located: Any, format: str | None, task: str | None, stream_above: int) -> str | None:
    """The format to stream, or None when the source is read whole."""
    if located is None or located.part or task != "classification" or located.path.is_dir():
        return None
    if located.path.stat().st_size <= stream_above:
        return None
    fmt = format_name(format) if format else detect_format(located.path)
    if fmt is None or fmt in ("csv", "tsv", "jsonl", "json"):
        fmt = _sniff_text_format(located.path, fmt, task)
    return fmt if fmt in _STREAMED else None


def _sniff_text_format(path: Path, guess: str | None, task: str) -> str | None:
    with path.open("rb") as handle:
        head = handle.read(1 << 20)
    encoding = detect_encoding(head)
    if sniff_binary(head) or encoding not in _ONE_BYTE_NEWLINE:
        return None  # binary or UTF-16/32: read_source reports or reads it whole
    head = head[: head.rfind(b"\n") + 1] or head
    return text_format(decode_lines(head, encoding).lines, task, guess)


def _slices(table: pd.DataFrame, rejects: list[Reject], rows: int) -> Iterator[Chunk]:
    """A table read whole, handed out in chunks; all read rejects come with the first."""
    for start in range(0, max(len(table), 1), rows):
        yield table.iloc[start:start + rows].reset_index(drop=True), rejects if start == 0 else []


# ---- state across chunks ---------------------------------------------------------------------


class SeenKeys:
    """A set of 64-bit keys with a payload each (the first one added), in sorted numpy runs.

    Runs of similar size are merged (as in a log-structured merge tree), so adding n keys costs
    O(n log n) and the set takes 16 bytes a key: 10 million ids fit in 160 MB, where a Python
    set of id strings would need over 1 GB.
    """

    def __init__(self) -> None:
        self._runs: list[tuple[np.ndarray, np.ndarray]] = []

    def lookup(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(found mask, payload where found) for each key."""
        found = np.zeros(len(keys), dtype=bool)
        payload = np.zeros(len(keys), dtype=np.int64)
        for run_keys, run_payload in self._runs:
            if not len(run_keys):
                continue
            pos = np.minimum(np.searchsorted(run_keys, keys), len(run_keys) - 1)
            hit = (run_keys[pos] == keys) & ~found
            payload[hit] = run_payload[pos[hit]]
            found |= hit
        return found, payload

    def add(self, keys: np.ndarray, payload: np.ndarray) -> None:
        """Add keys not yet present (the first payload of a key wins)."""
        self._runs.append(_sorted_unique(keys, payload))
        while len(self._runs) > 1 and len(self._runs[-2][0]) <= 2 * len(self._runs[-1][0]):
            (k1, p1), (k2, p2) = self._runs[-2], self._runs.pop()
            self._runs[-1] = _sorted_unique(np.concatenate([k1, k2]), np.concatenate([p1, p2]))


def _sorted_unique(keys: np.ndarray, payload: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(keys, kind="stable")  # stable: among equal keys the earliest comes first
    keys, payload = keys[order], payload[order]
    first = np.ones(len(keys), dtype=bool)
    first[1:] = keys[1:] != keys[:-1]
    return keys[first], payload[first]


def _hash64(values: list[str]) -> np.ndarray:
    return np.array([int.from_bytes(hashlib.blake2b(v.encode("utf-8", "surrogatepass"),
                                                    digest_size=8).digest(), "big")
                     for v in values], dtype=np.uint64)


class _ContentIds:
    """``unique_ids`` across chunks: the k-th copy (k >= 1) of a content id gets ``make_id(*key, k)``."""

    def __init__(self) -> None:
        self._seen = SeenKeys()
        self._copies: dict[int, int] = {}  # base -> occurrences so far, for bases seen twice or more

    def __call__(self, keys: list[tuple[Any, ...]]) -> list[str]:
        plain = all(len(k) == 2 and type(k[0]) is str and type(k[1]) is str for k in keys)
        bases = _text_ids(keys) if plain else [make_id(*k) for k in keys]
        if not bases:
            return []
        ints = np.frombuffer(bytes.fromhex("".join(bases)), dtype=">u8").astype(np.uint64)
        before, _ = self._seen.lookup(ints)
        repeated = before | pd.Series(ints).duplicated(keep=False).to_numpy()
        ids = list(bases)
        for i in np.flatnonzero(repeated):
            base = int(ints[i])
            count = self._copies.get(base, 1 if before[i] else 0)
            self._copies[base] = count + 1
            ids[i] = bases[i] if count == 0 else make_id(*keys[i], count)
        self._seen.add(ints, np.zeros(len(ints), dtype=np.int64))
        return ids


class _GivenIds:
    """The id column's values, with duplicates anywhere in the file a :class:`DataError`."""

    def __init__(self, column: str | None, where: str) -> None:
        self.column, self.where = column, where
        self._seen = SeenKeys()

    def __call__(self, frame: pd.DataFrame, lines: list[int]) -> list[str | None]:
        if self.column is None:
            return [None] * len(frame)
        ids = [None if is_missing(v) or str(v).strip() == "" else _id_text(v)
               for v in frame[self.column].tolist()]
        at = [i for i, v in enumerate(ids) if v is not None]
        hashes = _hash64([ids[i] for i in at])
        before, first_line = self._seen.lookup(hashes)
        again = pd.Series(hashes).duplicated().to_numpy() | before
        if again.any():
            k = int(np.flatnonzero(again)[0])
            earlier = int(first_line[k]) if before[k] else lines[at[int(np.flatnonzero(hashes == hashes[k])[0])]]
            i = at[k]
            raise DataError(f"id {ids[i]!r} in column {self.column!r} appears twice (lines "
                            f"{earlier} and {lines[i]})", where=f"{self.where}:{lines[i]}",
                            fix="make the ids unique, or pass id=None to let thresher make ids")
        self._seen.add(hashes, np.array([lines[i] for i in at], dtype=np.int64))
        return ids


@dataclass
class _Columns:
    """Per input column: inferred kinds, empty and missing cells, summed over chunks."""

    order: list[Any] = field(default_factory=list)
    kinds: dict[Any, set[str]] = field(default_factory=dict)
    empty: dict[Any, int] = field(default_factory=dict)
    missing: dict[Any, int] = field(default_factory=dict)
    rows: int = 0

    def add(self, frame: pd.DataFrame) -> None:
        for column in frame.columns:
            if column not in self.kinds:
                self.order.append(column)
                self.kinds[column], self.empty[column] = set(), 0
                self.missing[column] = self.rows  # absent from the earlier chunks' records
            self.kinds[column].add(column_dtype(frame[column]))
            self.empty[column] += count_empty(frame[column])
            self.missing[column] += int(frame[column].isna().sum())
        for column in self.order:
            if column not in frame.columns:
                self.missing[column] += len(frame)
        self.rows += len(frame)

    def infos(self, roles: dict[Any, str]) -> list[ColumnInfo]:
        return [ColumnInfo(name=str(c), role=roles.get(c, "extra"), dtype=_merged_kind(self.kinds[c]),
                           empty=self.empty[c], missing=self.missing[c]) for c in self.order]


def _merged_kind(kinds: set[str]) -> str:
    """The ``infer_dtype`` of a whole column from those of its chunks (common cases exact)."""
    kinds = kinds - {"empty"}
    if len(kinds) <= 1:
        return next(iter(kinds), "empty")
    if kinds <= {"integer", "floating", "mixed-integer-float"}:
        return "mixed-integer-float"
    return "mixed"


class _LabelKinds:
    """Labels as strings, and a DataError once two kinds (strings, numbers, bools) have been seen."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.first: dict[str, str] = {}

    def __call__(self, series: pd.Series, lines: list[int]) -> tuple[list[str | None], list[str]]:
        pairs = [_label(v) for v in series.tolist()]
        labels, kinds = [p[0] for p in pairs], [p[1] for p in pairs]
        for i, kind in enumerate(kinds):
            if kind in ("string", "number", "bool") and kind not in self.first:
                self.first[kind] = f"{series.iloc[i]!r} ({kind}, line {lines[i]})"
        if len(self.first) > 1:
            raise DataError(f"labels in column {series.name!r} mix kinds: " + ", ".join(self.first.values()),
                            where=self.where,
                            fix="make every label the same kind (all strings such as \"pos\"/\"neg\", or all "
                                "numbers), or map one scheme onto the other before reading")
        return labels, kinds


# ---- chunks -> the classification table ------------------------------------------------------


def _stream(path: Path, name: str, fmt: str, encoding: str | None, asked: Roles, info: SourceInfo,
            rows: int) -> Iterator[Chunk]:
    if fmt == "parquet":
        raws = parquet_chunks(path, name, rows)
    elif fmt == "jsonl":
        raws = jsonl_chunks(path, name, encoding, rows)
    else:
        raws = csv_chunks(path, name, encoding, "\t" if fmt == "tsv" else None, rows)
    builder: _Builder | None = None
    columns, bad_lines, total = _Columns(), [], 0
    for raw in raws:
        bad_lines += [BadLine(b.line, b.reason) for b in raw.bad]
        info.encoding = raw.encoding
        if builder is None and raw.frame.empty:  # no record yet to infer the roles from
            rejects = [r for _, r in sorted(bad_row_rejects(raw.bad, name), key=lambda p: p[0])]
            total += len(rejects)
            yield pd.DataFrame(columns=["id", "text", "label", "source"]), rejects
            continue
        if builder is None:
            roles = resolve_roles(raw.frame, name, text=asked.text, label=asked.label, id=asked.id)
            builder = _Builder(roles, raw, name)
        wanted = list(dict.fromkeys([*columns.order, *raw.frame.columns]))
        if list(raw.frame.columns) != wanted:  # JSONL: keys of earlier lines, absent here
            raw.frame = raw.frame.reindex(columns=wanted).astype(object)
        columns.add(raw.frame)
        table, rejects = builder.build(raw)
        total += len(table) + len(rejects)
        yield table, rejects
    if builder is None and fmt in ("csv", "tsv") and not bad_lines:
        raise InputError("no data rows (the file holds only a header)", where=name,
                         fix="add rows below the header")
    roles = builder.role_of if builder else {}
    info.rows, info.columns, info.bad_lines = total, columns.infos(roles), bad_lines
    info.text_column, info.label_column, info.id_column = (
        next((str(c) for c, r in roles.items() if r == role), None) for role in ("text", "label", "id"))


class _Builder:
    """``build_classification`` for one chunk at a time, with the cross-chunk state above."""

    def __init__(self, roles: Roles, raw: RawTable, name: str) -> None:
        _require(roles, raw, name)
        self.roles, self.name = roles, name
        self.role_of = {c: r for r, c in (("text", roles.text), ("label", roles.label),
                                          ("id", roles.id)) if c}
        self.labels = _LabelKinds(name)
        self.given = _GivenIds(roles.id, name)
        self.content_ids = _ContentIds()

    def build(self, raw: RawTable) -> Chunk:
        roles, frame, lines = self.roles, raw.frame, raw.lines
        texts, text_reasons = clean_texts(frame[roles.text])
        labels, kinds = self.labels(frame[roles.label], lines)
        given = self.given(frame, lines)
        label_reason = {"missing": "missing_label", "other": "label_not_scalar"}
        reasons = [t or label_reason.get(k) for t, k in zip(text_reasons, kinds)]
        sources = row_sources(raw, self.name)
        kept = [i for i, r in enumerate(reasons) if r is None]
        generated = iter(self.content_ids([(texts[i], labels[i]) for i in kept if given[i] is None]))
        table = pd.DataFrame({"id": [given[i] if given[i] is not None else next(generated) for i in kept],
                              "text": [texts[i] for i in kept], "label": [labels[i] for i in kept],
                              "source": [sources[i] for i in kept]})
        for col in (c for c in frame.columns if c not in (roles.text, roles.label, roles.id)):
            table[f"input_{col}" if col in _CORE else str(col)] = arrow_safe(frame[col].iloc[kept].tolist())
        rejects = bad_row_rejects(raw.bad, self.name)
        for i, reason in enumerate(reasons):
            if reason is not None:
                row = {**frame.iloc[i].to_dict(), "id": given[i] or make_id(sources[i]), "source": sources[i]}
                rejects.append((lines[i], Reject.of(row, "read", reason, _detail(reason, roles))))
        rejects.sort(key=lambda pair: pair[0])
        return table, [r for _, r in rejects]
