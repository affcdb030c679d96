"""JSON Lines (one object per line) and JSON (an array of objects, or an object holding one).

Every row keeps the line its object starts on. In JSONL a line that is not a JSON object is
rejected as ``malformed_line`` with the parser's message; if no line at all is valid the file
is an :class:`InputError` (it is probably not JSONL). A JSON document that does not parse is an
:class:`InputError` with the line and column of the error. An object holding several lists is
ambiguous: pass ``path#key`` to choose one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pandas as pd

from thresher.errors import InputError
from thresher.io.encoding import DecodedText
from thresher.io.result import BadRow, RawTable

__all__ = ["read_json", "read_jsonl"]

_DECODER = json.JSONDecoder()
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SPACE = " \t\n\r"


def read_jsonl(decoded: DecodedText, where: str) -> RawTable:
    """One row per non-blank line holding a JSON object."""
    records: list[dict[str, Any]] = []
    starts, bad = [], []
    for number, line in enumerate(decoded.lines, start=1):
        if not line.strip():
            continue
        problem = decoded.flags.get(number)
        if problem is None:
            value, problem = _parse_line(line)
        if problem is not None:
            bad.append(BadRow(number, problem[0], problem[1], {"raw": line}))
            continue
        records.append(value)
        starts.append(number)
    if not records:
        first = bad[0] if bad else None
        raise InputError(f"no line is a valid JSON object ({first.detail if first else 'no lines'})",
                         where=f"{where}:{first.line}" if first else where,
                         fix="check that the file is JSON Lines: one {...} object per line")
    return RawTable(frame=_frame(records), lines=starts, bad=bad, encoding=decoded.encoding)


def _parse_line(line: str) -> tuple[Any, tuple[str, str] | None]:
    try:
        value = json.loads(line)
    except json.JSONDecodeError as err:
        return None, ("malformed_line", f"invalid JSON: {err.msg} at column {err.colno}")
    if not isinstance(value, dict):
        return None, ("malformed_line", f"a JSON {type(value).__name__}, not an object")
    if _SURROGATE_ESCAPE.search(line) and not _valid_unicode(value):
        return None, ("invalid_unicode", "a \\uD800-\\uDFFF escape that is not part of a surrogate pair")
    return value, None


def _valid_unicode(value: Any) -> bool:
    """False when a string inside holds a lone surrogate (valid JSON, but not valid text)."""
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    columns: dict[str, None] = {}
    for record in records:
        columns.update(dict.fromkeys(record))
    return pd.DataFrame.from_records(records, columns=list(columns)).astype(object)


def read_json(decoded: DecodedText, where: str, key: str | None = None) -> RawTable:
    """A JSON array of objects, or the one array inside a top-level object (``key`` picks one)."""
    text = "\n".join(decoded.lines)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as err:
        raise InputError(f"not valid JSON: {err.msg} (column {err.colno})", where=f"{where}:{err.lineno}",
                         fix="fix the JSON there, or save the data as JSON Lines") from err
    pos = _array_position(text, document, key, where)
    records, starts, bad = [], [], []
    items = list(_array_items(text, pos))
    escapes = bool(_SURROGATE_ESCAPE.search(text))
    for index, (line, value) in enumerate(items, start=1):
        end = items[index][0] - 1 if index < len(items) else len(decoded.lines)
        flagged = [decoded.flags[n] for n in range(line, end + 1) if n in decoded.flags] \
            if decoded.flags else []
        if flagged:
            raw = json.dumps(value, ensure_ascii=False, default=str)
            bad.append(BadRow(line, flagged[0][0], flagged[0][1], {"raw": raw}))
        elif isinstance(value, dict) and escapes and not _valid_unicode(value):
            bad.append(BadRow(line, "invalid_unicode", f"item {index} holds a lone surrogate",
                              {"raw": json.dumps(value)}))
        elif isinstance(value, dict):
            records.append(value)
            starts.append(line)
        else:
            detail = f"item {index} is a JSON {type(value).__name__}, not an object"
            bad.append(BadRow(line, "malformed_line", detail, {"raw": json.dumps(value, ensure_ascii=False)}))
    if not records and not bad:
        raise InputError("the JSON array is empty", where=where, fix="pass a file with data")
    frame = _frame(records) if records else pd.DataFrame()
    return RawTable(frame=frame, lines=starts, bad=bad, encoding=decoded.encoding)


def _array_position(text: str, document: Any, key: str | None, where: str) -> int:
    """Where the array of records starts in ``text``."""
    start = len(text) - len(text.lstrip(_SPACE))
    if isinstance(document, list):
        return start
    if not isinstance(document, dict):
        raise InputError(f"the JSON holds a {type(document).__name__}, not records", where=where,
                         fix="pass an array of objects, or an object holding one")
    lists = [k for k, v in document.items() if isinstance(v, list)]
    if key is None and len(lists) != 1:
        found = ", ".join(repr(k) for k in lists) or "none"
        raise InputError(f"the JSON object holds {len(lists)} lists ({found}); expected one",
                         where=where, fix="pass path#KEY to choose the list of records")
    chosen = key or lists[0]
    if chosen not in lists:
        raise InputError(f"the JSON object has no list under {chosen!r}", where=where,
                         fix=f"choose one of {', '.join(repr(k) for k in lists) or 'no lists'}")
    return _value_position(text, start, chosen)


def _skip(text: str, pos: int, chars: str = _SPACE) -> int:
    while pos < len(text) and text[pos] in chars:
        pos += 1
    return pos


def _value_position(text: str, pos: int, key: str) -> int:
    """Walk the top-level object to the value stored under ``key``."""
    pos = _skip(text, pos + 1)  # past "{"
    while True:
        name, pos = _DECODER.raw_decode(text, pos)
        pos = _skip(text, _skip(text, pos) + 1)  # past ":"
        if name == key:
            return pos
        _, pos = _DECODER.raw_decode(text, pos)
        pos = _skip(text, _skip(text, pos) + 1)  # past ","


def _array_items(text: str, pos: int) -> Iterator[tuple[int, Any]]:
    """(line, value) for each item of the array that starts at ``pos``."""
    pos = _skip(text, pos + 1)
    line, counted = 1 + text.count("\n", 0, pos), pos
    while pos < len(text) and text[pos] != "]":
        line += text.count("\n", counted, pos)
        counted = pos
        value, pos = _DECODER.raw_decode(text, pos)
        yield line, value
        pos = _skip(text, pos)
        if pos < len(text) and text[pos] == ",":
            pos = _skip(text, pos + 1)
