"""What a reader returns: the table, the rejected rows, and a description of the source.

``RawTable`` is the private hand-over between a format reader and the table builder: rows as
they were parsed (raw values, one column per input field), the line each row starts on, and
the rows that could not be parsed at all. The builder turns it into the task's table.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from thresher.records import Reject

__all__ = ["BadLine", "BadRow", "ColumnInfo", "RawTable", "ReadResult", "SourceInfo"]


@dataclass(frozen=True)
class ColumnInfo:
    """One input column: its role, its inferred type, and how many cells are empty or missing."""

    name: str
    role: str  # "text" | "label" | "id" | "extra" (NER: "tokens" | "tags")
    dtype: str
    empty: int = 0  # strings that are empty or only whitespace
    missing: int = 0  # absent / null cells


@dataclass(frozen=True)
class BadLine:
    """A line (or row) that could not be parsed, and why."""

    line: int
    reason: str


@dataclass(frozen=True)
class BadRow:
    """A row the format reader could not parse; it becomes a reject."""

    line: int
    reason: str
    detail: str
    raw: dict[str, Any]
    file: str | None = None  # for folders: the file the row came from


@dataclass
class RawTable:
    """Rows as parsed, before roles are assigned. ``lines[i]`` is where ``frame`` row i starts."""

    frame: pd.DataFrame
    lines: list[int]
    bad: list[BadRow] = field(default_factory=list)
    encoding: str | None = None
    files: list[str] | None = None  # for folders: the file each row came from


@dataclass
class SourceInfo:
    """Where the data came from and what it looked like; goes into the run manifest."""

    path: str
    format: str
    encoding: str | None
    rows: int  # rows found = len(table) + len(rejects)
    columns: list[ColumnInfo]
    bad_lines: list[BadLine]
    sha256: str
    url: str | None = None
    text_column: str | None = None
    label_column: str | None = None
    id_column: str | None = None
    chat_format: str | None = None  # tasks sft, seq2seq: openai, sharegpt, alpaca, qa or chatlog
    notes: list[str] = field(default_factory=list)  # what reading changed (merged turns, ...)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ReadResult:
    """The table in the task's schema, every row that was dropped, and the source description."""

    table: pd.DataFrame
    rejects: list[Reject]
    info: SourceInfo
    task: str = "classification"
