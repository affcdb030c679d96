"""RawTable -> the classification table (id, text, label, source, extras) and its rejects.

ids: the id column's values when there is one (duplicates are a :class:`DataError`); otherwise
``make_id(text, label)``, with the occurrence index added for the 2nd, 3rd, ... copy of the same
content, so ids are unique within a source and stable across runs.
"""

from __future__ import annotations

import hashlib
import json
from json.encoder import encode_basestring  # type: ignore[attr-defined]
from typing import Any

import pandas as pd

from thresher.errors import DataError
from thresher.io.result import BadRow, ColumnInfo, RawTable
from thresher.io.roles import Roles
from thresher.io.values import clean_labels, clean_texts, column_dtype, count_empty, is_missing
from thresher.records import Reject, make_id

__all__ = ["arrow_safe", "bad_row_rejects", "build_classification", "column_infos", "row_sources",
           "unique_ids"]

_CORE = ("id", "text", "label", "source")


def column_infos(frame: pd.DataFrame, roles: dict[str, str]) -> list[ColumnInfo]:
    """One :class:`ColumnInfo` per input column; ``roles`` maps column -> role."""
    return [ColumnInfo(name=str(c), role=roles.get(c, "extra"), dtype=column_dtype(frame[c]),
                       empty=count_empty(frame[c]), missing=int(frame[c].isna().sum()))
            for c in frame.columns]


def arrow_safe(values: list[Any]) -> list[Any]:
    """``values`` unchanged when Arrow can store them as one column, else each as JSON text.

    Extra input columns travel to Parquet files later; a column mixing kinds (5 and "5", or
    objects with different shapes) would fail there, far from its cause.
    """
    import pyarrow as pa

    try:
        pa.array(values)
    except (pa.ArrowException, TypeError, ValueError, OverflowError):
        return [None if is_missing(v) else json.dumps(_plain(v), ensure_ascii=False, default=str)
                for v in values]
    return values


def _plain(value: Any) -> Any:
    return value.tolist() if hasattr(value, "tolist") else value


def _text_ids(keys: list[tuple[Any, ...]]) -> list[str]:
    """``make_id(text, label)`` for pairs of strings, without building a JSON encoder per call.

    ``json.dumps(s, ensure_ascii=False)`` of a str is ``encode_basestring(s)``, so the bytes
    hashed are the same; a test holds the two equal.
    """
    enc, sha1 = encode_basestring, hashlib.sha1
    return [sha1(f"{enc(t)}\x1f{enc(lab)}\x1f".encode("utf-8", "surrogatepass")).hexdigest()[:16]
            for t, lab in keys]


def unique_ids(keys: list[tuple[Any, ...]]) -> list[str]:
    """``make_id(*key)``, plus the occurrence index from the second copy of a key on."""
    plain = all(len(k) == 2 and type(k[0]) is str and type(k[1]) is str for k in keys)
    bases = _text_ids(keys) if plain else [make_id(*k) for k in keys]
    if len(set(bases)) == len(bases):
        return bases
    seen: dict[str, int] = {}
    ids = []
    for key, base in zip(keys, bases):
        count = seen.get(base, 0)
        seen[base] = count + 1
        ids.append(base if count == 0 else make_id(*key, count))
    return ids


def bad_row_rejects(bad: list[BadRow], name: str) -> list[tuple[int, Reject]]:
    """Rows the reader could not parse, as (line, reject)."""
    out = []
    for b in bad:
        source = f"{b.file or name}:{b.line}"
        out.append((b.line, Reject.of({**b.raw, "id": make_id(source), "source": source},
                                      "read", b.reason, b.detail)))
    return out


def row_sources(raw: RawTable, name: str) -> list[str]:
    """``file:line`` for each row of ``raw``."""
    if raw.files is not None:
        return [f"{f}:{line}" for f, line in zip(raw.files, raw.lines)]
    return [f"{name}:{line}" for line in raw.lines]


def _given_ids(frame: pd.DataFrame, column: str | None, lines: list[int], where: str) -> list[str | None]:
    if column is None:
        return [None] * len(frame)
    ids = [None if is_missing(v) or str(v).strip() == "" else _id_text(v) for v in frame[column].tolist()]
    first: dict[str, int] = {}
    for i, value in enumerate(ids):
        if value is None:
            continue
        if value in first:
            raise DataError(f"id {value!r} in column {column!r} appears twice (lines "
                            f"{lines[first[value]]} and {lines[i]})", where=f"{where}:{lines[i]}",
                            fix="make the ids unique, or pass id=None to let thresher make ids")
        first[value] = i
    return ids


def _id_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _reasons(text_reasons: list[str | None], kinds: list[str]) -> list[str | None]:
    label_reason = {"missing": "missing_label", "other": "label_not_scalar"}
    return [t or label_reason.get(k) for t, k in zip(text_reasons, kinds)]


def build_classification(raw: RawTable, roles: Roles, name: str, where: str
                         ) -> tuple[pd.DataFrame, list[Reject]]:
    """The classification table and every rejected row (parse failures included), by line."""
    frame, lines = raw.frame, raw.lines
    texts, text_reasons = clean_texts(frame[roles.text])
    labels, kinds = clean_labels(frame[roles.label], lines, where)
    given = _given_ids(frame, roles.id, lines, where)
    reasons = _reasons(text_reasons, kinds)
    sources = row_sources(raw, name)
    keep = [r is None for r in reasons]
    kept_idx = [i for i, k in enumerate(keep) if k]
    generated = unique_ids([(texts[i], labels[i]) for i in kept_idx if given[i] is None])
    gen_iter = iter(generated)
    ids = [given[i] if given[i] is not None else next(gen_iter) for i in kept_idx]
    table = pd.DataFrame({"id": ids, "text": [texts[i] for i in kept_idx],
                          "label": [labels[i] for i in kept_idx],
                          "source": [sources[i] for i in kept_idx]})
    extras = [c for c in frame.columns if c not in (roles.text, roles.label, roles.id)]
    for col in extras:
        out = f"input_{col}" if col in _CORE else str(col)
        table[out] = arrow_safe(frame[col].iloc[kept_idx].tolist())
    rejects = bad_row_rejects(raw.bad, name)
    for i, reason in enumerate(reasons):
        if reason is not None:
            row = {**frame.iloc[i].to_dict(), "id": given[i] or make_id(sources[i]),
                   "source": sources[i]}
            rejects.append((lines[i], Reject.of(row, "read", reason, _detail(reason, roles))))
    rejects.sort(key=lambda pair: pair[0])
    return table, [r for _, r in rejects]


def _detail(reason: str, roles: Roles) -> str:
    column = roles.label if "label" in reason else roles.text
    return {"missing_text": f"column {column!r} is absent or null",
            "empty_text": f"column {column!r} is empty or only whitespace",
            "text_not_string": f"column {column!r} holds a list or object, not text",
            "missing_label": f"column {column!r} is absent, null or empty",
            "label_not_scalar": f"column {column!r} holds a list or object, not one label"}[reason]
