"""Cell values -> the record schema: labels become strings, text must be a non-empty string.

A JSON ``1`` and ``1.0`` and a CSV ``"1"`` are the same class ``"1"``; booleans become
``"true"``/``"false"``. A column that mixes kinds (numbers and strings, say ``1`` and ``"pos"``)
is a :class:`DataError`, because it nearly always means two label schemes were concatenated.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import numpy as np
import pandas as pd

from thresher.errors import DataError

__all__ = ["clean_labels", "clean_texts", "column_dtype", "count_empty", "is_missing"]


def is_missing(value: Any) -> bool:
    if value is None or value is pd.NA:
        return True
    return isinstance(value, float) and math.isnan(value)


def column_dtype(series: pd.Series) -> str:
    """pandas' inferred kind of a column ("string", "integer", "floating", "mixed", ...)."""
    return str(pd.api.types.infer_dtype(series, skipna=True))


def count_empty(series: pd.Series) -> int:
    """Strings that are empty or only whitespace."""
    return sum(1 for v in series.tolist() if isinstance(v, str) and not v.strip())


def _label(value: Any) -> tuple[str | None, str]:
    if is_missing(value):
        return None, "missing"
    if isinstance(value, (bool, np.bool_)):
        return ("true" if value else "false"), "bool"
    if isinstance(value, (int, np.integer)):
        return str(int(value)), "number"
    if isinstance(value, (float, np.floating)):
        number = float(value)
        return (str(int(number)) if number.is_integer() else repr(number)), "number"
    if isinstance(value, str):
        stripped = value.strip()
        return (stripped or None), ("string" if stripped else "missing")
    return None, "other"


def clean_labels(series: pd.Series, lines: list[int], where: str) -> tuple[list[str | None], list[str]]:
    """Labels as strings (None when unusable) and each row's kind: string/number/bool/missing/other."""
    if series.empty:
        return [], []
    if column_dtype(series) == "string":
        labels = [(v.strip() or None) if isinstance(v, str) else None for v in series.tolist()]
        return labels, ["string" if s else "missing" for s in labels]
    pairs = [_label(v) for v in series.tolist()]
    labels, kinds = [p[0] for p in pairs], [p[1] for p in pairs]
    _check_one_kind(series, kinds, lines, where)
    return labels, kinds


def _check_one_kind(series: pd.Series, kinds: list[str], lines: list[int], where: str) -> None:
    seen = Counter(k for k in kinds if k in ("string", "number", "bool"))
    if len(seen) < 2:
        return
    examples = []
    for kind in seen:
        i = kinds.index(kind)
        examples.append(f"{series.iloc[i]!r} ({kind}, line {lines[i]})")
    raise DataError(f"labels in column {series.name!r} mix kinds: " + ", ".join(examples),
                    where=where,
                    fix="make every label the same kind (all strings such as \"pos\"/\"neg\", or all "
                        "numbers), or map one scheme onto the other before reading")


def clean_texts(series: pd.Series) -> tuple[list[Any], list[str | None]]:
    """Texts and, per row, why it cannot be used (missing_text, empty_text, text_not_string)."""
    values = series.tolist()
    if column_dtype(series) == "string":  # every value is a str or missing
        reasons = [(None if v.strip() else "empty_text") if isinstance(v, str) else "missing_text"
                   for v in values]
        return values, reasons
    texts: list[Any] = []
    reasons: list[str | None] = []
    for value in values:
        if is_missing(value):
            texts.append(None), reasons.append("missing_text")
        elif isinstance(value, str):
            texts.append(value), reasons.append(None if value.strip() else "empty_text")
        elif isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
            texts.append(str(value)), reasons.append(None)
        else:
            texts.append(value), reasons.append("text_not_string")
    return texts, reasons
