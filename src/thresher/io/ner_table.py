"""RawTable -> the NER table (id, tokens, tags, source) and its rejects.

A row is kept when tokens and tags are equally long, non-empty lists of strings; integer tags
(from JSONL or Parquet without tag names) become their decimal strings. ids are
``make_id(tokens, tags)`` plus the occurrence index for repeated sentences.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from thresher.errors import DataError
from thresher.io.result import RawTable
from thresher.io.table import arrow_safe, bad_row_rejects, row_sources, unique_ids
from thresher.records import Reject, make_id

__all__ = ["TAG_NAMES", "TOKEN_NAMES", "build_ner", "ner_columns"]

TOKEN_NAMES = ("tokens", "words", "token", "word", "chars")
TAG_NAMES = ("tags", "ner_tags", "ner", "labels", "label", "tag")


def ner_columns(frame: pd.DataFrame, where: str, tokens: str | None = None,
                tags: str | None = None) -> tuple[str, str]:
    """The tokens and tags columns, by name (explicit names win)."""
    lower = {str(c).lower(): c for c in frame.columns}
    found = []
    for given, names, role in ((tokens, TOKEN_NAMES, "tokens"), (tags, TAG_NAMES, "tags")):
        column = given if given is not None else next((lower[n] for n in names if n in lower), None)
        if column is None or column not in frame.columns:
            shown = ", ".join(repr(str(c)) for c in frame.columns)
            what = f"{role} column {column!r} not found" if column else f"no {role} column found"
            raise DataError(f"{what}; the columns are {shown}", where=where,
                            fix=f"name the columns {TOKEN_NAMES[0]!r} and {TAG_NAMES[0]!r}, or pass "
                                f"text=<tokens column> and label=<tags column>")
        found.append(column)
    return found[0], found[1]


def _as_list(value: Any) -> list[Any] | None:
    if hasattr(value, "tolist"):
        value = value.tolist()
    return value if isinstance(value, list) else None


def _problem(tokens: list[Any] | None, tags: list[Any] | None) -> str | None:
    if tokens is None or tags is None:
        return "not_a_list"
    if not tokens:
        return "empty_sentence"
    if len(tokens) != len(tags):
        return "length_mismatch"
    if not all(isinstance(t, str) for t in tokens):
        return "token_not_string"
    return None


def _tag_text(tag: Any) -> str:
    return str(int(tag)) if isinstance(tag, (int, float)) and not isinstance(tag, bool) else str(tag)


def build_ner(raw: RawTable, name: str, tokens_col: str, tags_col: str
              ) -> tuple[pd.DataFrame, list[Reject]]:
    """The NER table and every rejected sentence, in line order."""
    rows, rejects = [], bad_row_rejects(raw.bad, name)
    extras = [c for c in raw.frame.columns if c not in (tokens_col, tags_col)]
    sources = row_sources(raw, name)
    for i, record in enumerate(raw.frame.to_dict("records")):
        tokens, tags = _as_list(record[tokens_col]), _as_list(record[tags_col])
        source = sources[i]
        problem = _problem(tokens, tags)
        if problem:
            row = {**record, "id": make_id(source), "source": source}
            rejects.append((raw.lines[i], Reject.of(row, "read", problem, f"{tokens_col}/{tags_col}")))
            continue
        rows.append((tokens, [_tag_text(t) for t in tags], source, [record[c] for c in extras]))
    rejects.sort(key=lambda pair: pair[0])
    ids = unique_ids([(r[0], r[1]) for r in rows])
    table = pd.DataFrame({"id": ids, "tokens": [r[0] for r in rows], "tags": [r[1] for r in rows],
                          "source": [r[2] for r in rows]})
    for j, col in enumerate(extras):
        out = f"input_{col}" if col in ("id", "source") else str(col)
        table[out] = arrow_safe([r[3][j] for r in rows])
    return table, [r for _, r in rejects]
