"""Which input column is the text, the label and the id: by name first, then by content.

* text: a column named like text (text, review, sentence, content, title, ...); otherwise the
  string column with the longest mean length.
* label: a column named like a label (label, class, category, sentiment, target, y, ...);
  otherwise the remaining column when only one remains, or the lowest-cardinality one.
* id: a column named id, uid, guid or idx, only when its values are unique.

Explicit ``text=``/``label=``/``id=`` always win; naming a column that does not exist is a
:class:`DataError` that lists the columns that do.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from thresher.errors import DataError

__all__ = ["ID_NAMES", "LABEL_NAMES", "TEXT_NAMES", "Roles", "resolve_roles"]

TEXT_NAMES = ("text", "review", "sentence", "content", "title", "document", "body", "comment",
              "question", "tweet", "message", "utterance", "query", "headline", "sentence1")
LABEL_NAMES = ("label", "labels", "class", "category", "sentiment", "target", "y", "intent",
               "topic", "polarity", "rating", "label_id", "cat")
ID_NAMES = ("id", "uid", "guid", "idx", "_id")
_MAX_CLASSES = 200


@dataclass(frozen=True)
class Roles:
    """Column names playing each role (None when absent)."""

    text: str | None
    label: str | None
    id: str | None


def _named(columns: list[str], names: tuple[str, ...], taken: set[str]) -> str | None:
    lower = {str(c).strip().lower(): c for c in columns if c not in taken}
    for name in names:
        if name in lower:
            return lower[name]
    return None


def _check_exists(name: str, columns: list[str], role: str, where: str) -> str:
    if name not in columns:
        shown = ", ".join(repr(str(c)) for c in columns)
        raise DataError(f"{role} column {name!r} not found; the columns are {shown}",
                        where=where, fix=f"pass {role}= one of {shown}")
    return name


def _string_share(series: pd.Series) -> float:
    values = series.dropna()
    if values.empty:
        return 0.0
    return float(values.map(lambda v: isinstance(v, str)).mean())


def _longest_text(frame: pd.DataFrame, candidates: list[str]) -> str | None:
    best, best_len = None, -1.0
    for col in candidates:
        series = frame[col]
        if _string_share(series) < 0.9:
            continue
        mean_len = float(series.dropna().astype(str).str.len().mean() or 0.0)
        if mean_len > best_len:
            best, best_len = col, mean_len
    return best


def _low_cardinality(frame: pd.DataFrame, candidates: list[str]) -> str | None:
    usable = [c for c in candidates if _hashable(frame[c])]
    if len(usable) == 1:
        return usable[0]
    counts = {c: _distinct(frame[c]) for c in usable}
    limit = min(_MAX_CLASSES, max(2, len(frame) // 2))
    fits = [c for c in usable if 0 < counts[c] <= limit]
    return min(fits, key=lambda c: counts[c]) if fits else None


def _distinct(series: pd.Series) -> int:
    try:
        return int(series.nunique(dropna=True))
    except TypeError:  # lists or dicts further down than the sample looked
        return 0


def _hashable(series: pd.Series) -> bool:
    sample = series.dropna().head(100)
    return not any(isinstance(v, (list, dict)) or hasattr(v, "tolist") for v in sample)


def _unique_id(frame: pd.DataFrame, taken: set[str]) -> str | None:
    name = _named(list(frame.columns), ID_NAMES, taken)
    if name is None or not _hashable(frame[name]):
        return None
    values = frame[name].dropna().map(str)
    return name if values.is_unique else None


def resolve_roles(frame: pd.DataFrame, where: str, *, text: str | None = None,
                  label: str | None = None, id: str | None = None) -> Roles:
    """Pick the text, label and id columns of ``frame`` (explicit names win)."""
    columns = list(frame.columns)
    for name, role in ((text, "text"), (label, "label"), (id, "id")):
        if name is not None:
            _check_exists(name, columns, role, where)
    id_col = id if id is not None else _unique_id(frame, {c for c in (text, label) if c})
    taken = {c for c in (text, label, id_col) if c}
    text_col = text or _named(columns, TEXT_NAMES, taken)
    taken |= {text_col} if text_col else set()
    label_col = label or _named(columns, LABEL_NAMES, taken)
    taken |= {label_col} if label_col else set()
    rest = [c for c in columns if c not in taken]
    if text_col is None:
        text_col = _longest_text(frame, rest)
        rest = [c for c in rest if c != text_col]
    if label_col is None:
        label_col = _low_cardinality(frame, rest)
    return Roles(text=text_col, label=label_col, id=id_col)
