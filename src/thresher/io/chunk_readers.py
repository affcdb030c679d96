"""Large text and Parquet files as a sequence of RawTables, parsed as the whole-file readers do.

Text is read in blocks that end on a newline byte (no supported encoding uses that byte inside
a character) and decoded with the same rules as a whole file; line numbers run on across
blocks. CSV blocks are cut between records, never inside a quoted field that spans lines:
the csv module's own parse of the block says where the last whole record ends.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from thresher.errors import InputError
from thresher.io import csv_reader, jsonl_reader
from thresher.io.csv_fast import read_clean
from thresher.io.encoding import DecodedText, decode_lines, detect_encoding, sniff_binary
from thresher.io.result import RawTable

__all__ = ["csv_chunks", "jsonl_chunks", "parquet_chunks"]

_BLOCK_BYTES = 16 << 20  # bytes of text decoded at a time (rows per chunk is the real unit)



def _text_blocks(path: Path, encoding: str | None, where: str) -> Iterator[DecodedText]:
    """The file as decoded blocks of whole lines; line numbers restart in each block.

    Each yielded block carries ``encoding`` and flags exactly as ``decode_lines`` gives them
    for a whole file (blocks end on a newline byte, which no supported encoding uses inside a
    character). The encoding is detected on the first block.
    """
    with path.open("rb") as handle:
        rest, first = b"", True
        while True:
            data = handle.read(_BLOCK_BYTES)
            block, eof = rest + data, not data
            cut = len(block) if eof else block.rfind(b"\n") + 1
            if cut == 0 and not eof:
                rest = block  # one line longer than a block: read on
                continue
            if first:
                encoding = _first_block_checks(block, encoding, where)
            if block[:cut]:
                yield _decode_block(block[:cut], encoding, first, where)
            first, rest = False, block[cut:]
            if eof:
                return


def _first_block_checks(block: bytes, encoding: str | None, where: str) -> str:
    if not block:
        raise InputError("the file is empty (0 bytes)", where=where, fix="pass a file with data")
    what = sniff_binary(block)
    if what is not None:
        raise InputError(f"looks binary ({what}), not text", where=where,
                         fix="pass a CSV, TSV, JSON(L), TXT or Parquet file, or a folder")
    return encoding or detect_encoding(block)


def _decode_block(block: bytes, encoding: str, first: bool, where: str) -> DecodedText:
    decoded = decode_lines(block, encoding, where=where)
    if not first and block.startswith(b"\xef\xbb\xbf") and encoding.startswith("utf-8"):
        decoded.lines[0] = "\ufeff" + decoded.lines[0]  # only the file's first BOM is dropped
    return decoded


def jsonl_chunks(path: Path, name: str, encoding: str | None, rows: int) -> Iterator[RawTable]:
    """RawTables of about ``rows`` parsed lines each (parse rules of ``read_jsonl``)."""
    records: list[dict[str, Any]] = []
    starts: list[int] = []
    bad: list[Any] = []
    offset, any_records, used = 0, False, encoding
    for decoded in _text_blocks(path, encoding, name):
        used = decoded.encoding
        for number, line in enumerate(decoded.lines, start=1):
            if not line.strip():
                continue
            problem = decoded.flags.get(number)
            value = None
            if problem is None:
                value, problem = jsonl_reader._parse_line(line)
            if problem is not None:
                bad.append(jsonl_reader.BadRow(offset + number, problem[0], problem[1], {"raw": line}))
                continue
            records.append(value)
            starts.append(offset + number)
            if len(records) >= rows:
                any_records = True
                yield _raw(records, starts, bad, used)
                records, starts, bad = [], [], []
        offset += len(decoded.lines)
    if not (any_records or records):
        if not bad:
            raise InputError("the file holds only blank lines", where=name, fix="pass a file with data")
        _no_json_objects(bad, name)
    if records or bad:
        yield _raw(records, starts, bad, used)


def _no_json_objects(bad: list[Any], where: str) -> None:
    first = bad[0]
    raise InputError(f"no line is a valid JSON object ({first.detail})", where=f"{where}:{first.line}",
                     fix="check that the file is JSON Lines: one {...} object per line")


def _raw(records: list[dict[str, Any]], starts: list[int], bad: list[Any], encoding: Any) -> RawTable:
    frame = jsonl_reader._frame(records) if records else pd.DataFrame()
    return RawTable(frame=frame, lines=starts, bad=bad, encoding=encoding)


def parquet_chunks(path: Path, name: str, rows: int) -> Iterator[RawTable]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        handle = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as err:
        raise InputError(f"not a readable Parquet file ({err})", where=name,
                         fix="check that the file is complete; re-export it with pandas.to_parquet") from err
    if handle.metadata.num_rows == 0:
        raise InputError("the Parquet file has no rows", where=name, fix="pass a file with data")
    done = 0
    for batch in handle.iter_batches(batch_size=rows):
        frame = batch.to_pandas().astype(object)
        yield RawTable(frame=frame, lines=list(range(done + 1, done + len(frame) + 1)))
        done += len(frame)


@dataclass
class _CsvState:
    delimiter: str | None
    names: list[str] | None = None
    header: bool = False


def csv_chunks(path: Path, name: str, encoding: str | None, delimiter: str | None,
                rows: int) -> Iterator[RawTable]:
    """RawTables cut between records (never inside a quoted field that spans lines)."""
    state = _CsvState(delimiter)
    carry: list[str] = []
    carry_flags: dict[int, tuple[str, str]] = {}
    offset = 0  # file line number of carry[0] minus one
    for decoded in _text_blocks(path, encoding, name):
        lines = carry + decoded.lines
        flags = {**carry_flags, **{n + len(carry): f for n, f in decoded.flags.items()}}
        keep = _complete_records(lines, state)
        if keep == 0:
            carry, carry_flags = lines, flags  # one record spans the whole block: read on
            continue
        yield from _csv_tables(DecodedText(lines[:keep], decoded.encoding,
                                           {n: f for n, f in flags.items() if n <= keep}),
                               offset, state, name, rows)
        carry = lines[keep:]
        carry_flags = {n - keep: f for n, f in flags.items() if n > keep}
        offset += keep
    if carry:
        yield from _csv_tables(DecodedText(carry, encoding or "utf-8", carry_flags), offset, state,
                               name, rows)


def _complete_records(lines: list[str], state: _CsvState) -> int:
    """How many leading lines hold whole records (a quote still open at the end stays out)."""
    if state.delimiter is None:
        state.delimiter = csv_reader.sniff_delimiter(lines)
    if not any('"' in line for line in lines):
        return len(lines)  # no quotes, no field spanning lines: every line ends a record
    records = csv_reader._records([line.replace("\r", csv_reader._CR) for line in lines],
                                  state.delimiter)
    if records and records[-1][2] is None and records[-1][3] == "unexpected end of data":
        return records[-1][0] - 1
    return len(lines)


def _csv_tables(decoded: DecodedText, offset: int, state: _CsvState, name: str,
                rows: int) -> Iterator[RawTable]:
    """Parse whole records of one block (rules of ``read_delimited``), in chunks of ``rows``."""
    first_block = state.names is None
    if first_block:
        head = csv_reader._records(decoded.lines[:200], state.delimiter)
        state.names, start = csv_reader._header(head)
        state.header = start == 1
        if state.names is None:
            raise InputError(f"no row can be parsed ({head[0][3]})", where=f"{name}:{head[0][0]}",
                             fix="check the quoting, or pass format= if this is not delimited text")
    raw = _parse_block(decoded, state, skip_header=first_block and state.header, name=name,
                       offset=offset)
    cuts = list(range(0, len(raw.frame), rows)) or [0]
    # a bad row goes with the chunk whose lines it falls between
    owner = np.searchsorted([raw.lines[c] for c in cuts[1:]], [b.line for b in raw.bad], side="right")
    for n, start in enumerate(cuts):
        yield RawTable(frame=raw.frame.iloc[start:start + rows].reset_index(drop=True),
                       lines=raw.lines[start:start + rows],
                       bad=[b for b, o in zip(raw.bad, owner) if o == n], encoding=decoded.encoding)


def _parse_block(decoded: DecodedText, state: _CsvState, *, skip_header: bool, name: str,
                 offset: int) -> RawTable:
    names = state.names
    assert names is not None and state.delimiter is not None
    frame = read_clean(decoded, state.delimiter, names, header=skip_header)
    if frame is not None:
        starts = [offset + i for i, line in enumerate(decoded.lines, start=1) if line]
        return RawTable(frame, starts[1:] if skip_header else starts, encoding=decoded.encoding)
    lines = decoded.lines
    has_cr = any("\r" in line for line in lines)
    if has_cr:
        lines = [line.replace("\r", csv_reader._CR) for line in lines]
    records = csv_reader._records(lines, state.delimiter)
    for start, _, _, error in records:
        if error == "unexpected end of data":
            line = csv_reader._open_quote_line(lines, start, state.delimiter)
            raise InputError("a quoted field opens here and never closes", where=f"{name}:{offset + line}",
                             fix='close the quote, write a quote inside a quoted field as two ("")'
                                 ", or remove the stray quote")
    rows, starts, bad = [], [], []
    for start, end, fields, error in records[1 if skip_header else 0:]:
        problem = None
        if decoded.flags or fields is None or len(fields) != len(names):
            problem = csv_reader._problem(decoded, start, end, fields, error, names)
        if problem:
            raw = "\n".join(lines[start - 1:end]).replace(csv_reader._CR, "\r")
            bad.append(csv_reader.BadRow(offset + start, problem[0], problem[1], {"raw": raw}))
        else:
            rows.append(fields)
            starts.append(offset + start)
    frame = pd.DataFrame(rows, columns=names, dtype=object) if rows else pd.DataFrame(columns=names)
    if has_cr:
        frame = frame.map(lambda v: v.replace(csv_reader._CR, "\r") if isinstance(v, str) else v)
    return RawTable(frame=frame, lines=starts, bad=bad, encoding=decoded.encoding)
