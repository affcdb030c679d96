"""CSV / TSV with any delimiter: quoted fields (newlines and doubled quotes inside) work.

The file is parsed with the csv module line by line so that every row keeps the line it starts
on; a row that cannot be parsed (bad quoting, wrong number of fields, a damaged line) is set
aside with its line number instead of stopping the read. A quote that is still open at the end
of the file is an :class:`InputError` naming the line where it opened: everything after it has
been swallowed into one field, so no partial answer would be right.

Header: the first row is the header unless one of its cells is a number or longer than 64
characters (then columns are named ``column_1``, ``column_2``, ...).
"""

from __future__ import annotations

import csv
import re
from collections import Counter

import pandas as pd

from thresher.errors import InputError
from thresher.io.csv_fast import read_clean
from thresher.io.encoding import DecodedText
from thresher.io.result import BadRow, RawTable
from thresher.io.roles import ID_NAMES, LABEL_NAMES, TEXT_NAMES

__all__ = ["read_delimited", "sniff_delimiter"]

_CANDIDATES = (",", "\t", ";", "|")
_QUOTED = re.compile(r'"[^"]*"')
_NUMBER = re.compile(r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$")
_KNOWN = {*TEXT_NAMES, *LABEL_NAMES, *ID_NAMES}
_CR = "\ue00d"  # stands in for a bare \r while parsing: csv treats \r as a line end, we do not


def sniff_delimiter(lines: list[str], candidates: tuple[str, ...] = _CANDIDATES) -> str:
    """The candidate that appears the same non-zero number of times on most lines."""
    sample = [_QUOTED.sub("", line) for line in lines[:500] if line.strip()][:200]
    best, best_score = candidates[0], 0.0
    for delim in candidates:
        counts = Counter(line.count(delim) for line in sample)
        mode, hits = max(counts.items(), key=lambda kv: (kv[0] > 0, kv[1]))
        score = hits / max(1, len(sample)) if mode > 0 else 0.0
        if score > best_score:
            best, best_score = delim, score
    return best


_Record = tuple[int, int, "list[str] | None", str]


def _records(lines: list[str], delimiter: str) -> list[_Record]:
    """(first line, last line, fields or None, csv error) per record; blank lines skipped."""
    reader = csv.reader((line + "\n" for line in lines), delimiter=delimiter, strict=True)
    records: list[_Record] = []
    prev = 0
    while True:
        try:
            for fields in reader:  # the hot loop: kept flat because it runs once per row
                end = reader.line_num
                if prev + 1 < end or lines[end - 1].replace(_CR, "\r").strip():
                    records.append((prev + 1, end, fields, ""))
                prev = end
            return records
        except csv.Error as err:  # the reader resumes on the next line after an error
            records.append((prev + 1, reader.line_num, None, str(err)))
            prev = reader.line_num


def _open_quote_line(lines: list[str], start: int, delimiter: str) -> int:
    """The line where the quote that never closes was opened (scanning from ``start``)."""
    in_quote, at_field_start, opened = False, True, start
    for number in range(start, len(lines) + 1):
        line = lines[number - 1] + "\n"
        i = 0
        while i < len(line):
            ch = line[i]
            if in_quote:
                if ch == '"' and line[i + 1: i + 2] == '"':
                    i += 1
                elif ch == '"':
                    in_quote, at_field_start = False, False
            elif ch == '"' and at_field_start:
                in_quote, opened = True, number
            else:
                at_field_start = ch in (delimiter, "\n")
            i += 1
    return opened


def _is_header(first: list[str], rest: list[list[str]]) -> bool:
    """Known column names make a header; a number, a long cell, or a cell that recurs as a value
    in its column (``pos`` above more ``pos`` rows) make the first row data."""
    cells = [c.strip() for c in first]
    if any(c.lower() in _KNOWN for c in cells):
        return True
    if any(_NUMBER.match(c) or len(c) > 64 for c in cells):
        return False
    return not any(i < len(row) and row[i].strip() == cell for row in rest for i, cell in enumerate(cells))


def _header(records: list[tuple[int, int, list[str] | None, str]]) -> tuple[list[str] | None, int]:
    """Column names, and the index of the first data record (1 when the first is the header)."""
    parsed = [r[2] for r in records[:200] if r[2] is not None]
    if not parsed:
        return None, 0
    if records[0][2] is not None and _is_header(records[0][2], parsed[1:]):
        return _names(records[0][2]), 1
    width = Counter(len(fields) for fields in parsed).most_common(1)[0][0]
    return [f"column_{i + 1}" for i in range(width)], 0


def _names(first: list[str]) -> list[str]:
    names: list[str] = []
    for i, cell in enumerate(first):
        name = cell.strip().replace(_CR, "\r") or f"column_{i + 1}"
        while name in names:
            name = f"{name}_{i + 1}"
        names.append(name)
    return names


def read_delimited(decoded: DecodedText, where: str, delimiter: str | None = None,
                   fast: bool = True) -> RawTable:
    """Parse delimited text into a :class:`RawTable` (header detected, bad rows set aside).

    Clean files go through pyarrow (:mod:`csv_fast`) unless ``fast=False``.
    """
    csv.field_size_limit(2**31 - 1)  # a single 5 MB review is data, not an attack
    delimiter = delimiter or sniff_delimiter(decoded.lines)
    if fast:
        table = _fast(decoded, delimiter)
        if table is not None:
            return table
    lines = decoded.lines
    has_cr = any("\r" in line for line in lines)
    if has_cr:
        lines = [line.replace("\r", _CR) for line in lines]
    records = _records(lines, delimiter)
    for start, _, _, error in records:
        if error == "unexpected end of data":
            raise InputError("a quoted field opens here and never closes",
                             where=f"{where}:{_open_quote_line(lines, start, delimiter)}",
                             fix='close the quote, write a quote inside a quoted field as two ("")'
                                 ", or remove the stray quote")
    names, first = _header(records)
    width, flags = len(names or ()), bool(decoded.flags)
    rows, starts, bad = [], [], []
    for start, end, fields, error in records[first:]:
        if not flags and fields is not None and len(fields) == width:
            rows.append(fields)
            starts.append(start)
            continue
        problem = _problem(decoded, start, end, fields, error, names)
        if problem:
            raw = "\n".join(lines[start - 1:end]).replace(_CR, "\r")
            bad.append(BadRow(start, problem[0], problem[1], {"raw": raw}))
        else:
            rows.append(fields)
            starts.append(start)
    if names is None:
        raise InputError(f"no row can be parsed ({records[0][3]})", where=f"{where}:{records[0][0]}",
                         fix="check the quoting, or pass format= if this is not delimited text")
    if not rows and not bad:
        raise InputError("no data rows (the file holds only a header)", where=where,
                         fix="add rows below the header")
    frame = pd.DataFrame(rows, columns=names, dtype=object) if rows else pd.DataFrame(columns=names)
    if has_cr:
        frame = frame.map(lambda v: v.replace(_CR, "\r") if isinstance(v, str) else v)
    return RawTable(frame=frame, lines=starts, bad=bad, encoding=decoded.encoding)


def _fast(decoded: DecodedText, delimiter: str) -> RawTable | None:
    """The pyarrow path, with the header decided on the first records as the slow path does."""
    head = _records(decoded.lines[:200], delimiter)
    if not head or any(r[2] is None for r in head):
        return None
    names, first = _header(head)
    if names is None:
        return None
    frame = read_clean(decoded, delimiter, names, header=first == 1)
    if frame is None or frame.empty:
        return None
    starts = [i for i, line in enumerate(decoded.lines, start=1) if line][first:]
    return RawTable(frame=frame, lines=starts, encoding=decoded.encoding)


def _problem(decoded: DecodedText, start: int, end: int, fields: list[str] | None, error: str,
             names: list[str] | None) -> tuple[str, str] | None:
    for line in range(start, end + 1):
        if line in decoded.flags:
            return decoded.flags[line]
    if fields is None:
        return "malformed_line", f"cannot parse: {error}"
    if names is not None and len(fields) != len(names):
        span = f" (spans lines {start}-{end}: a quote may be unclosed)" if end > start else ""
        return "wrong_field_count", f"expected {len(names)} fields, found {len(fields)}{span}"
    return None
