"""``inspect``: what a data source holds, before anything is changed.

Format, encoding, rows, columns and their roles, label (or tag) distribution, empty and missing
cells, the lines that could not be read, and text lengths. Silent: it returns an
:class:`InspectReport`; the CLI prints ``report.to_text()`` or ``report.to_dict()`` as JSON.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from thresher.io import BadLine, ColumnInfo, ReadResult, read_source

__all__ = ["InspectReport", "inspect"]

SHOWN_BAD_LINES = 20


@dataclass
class InspectReport:
    """A description of one source; every field is plain data (JSON-safe via :meth:`to_dict`)."""

    path: str
    format: str
    encoding: str | None
    task: str
    rows: int
    kept: int
    rejected: dict[str, int]
    columns: list[ColumnInfo]
    labels: dict[str, int]  # classification: label counts; NER: tag counts
    lengths: dict[str, float]  # min / median / p95 / max, in chars (NER: tokens per sentence)
    length_unit: str
    bad_lines: list[BadLine]  # the first SHOWN_BAD_LINES
    bad_lines_total: int
    duplicates: int  # kept rows whose text (or tokens) repeats an earlier row
    sha256: str
    url: str | None = None
    entities: dict[str, int] = field(default_factory=dict)  # NER: entity spans per type
    tokens: int = 0  # NER: tokens in kept sentences

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_text(self) -> str:
        """Plain multi-line text for a terminal."""
        lines = [f"source    {self.url or self.path}",
                 f"format    {self.format}" + (f" ({self.encoding})" if self.encoding else ""),
                 f"rows      {self.rows:,} read: {self.kept:,} usable, {self.rows - self.kept:,} rejected"]
        if self.sha256:
            lines.append(f"sha256    {self.sha256}")
        if self.task == "ner":
            lines.append(f"sentences {self.kept:,}, tokens {self.tokens:,}")
        lines += ["", "columns"]
        lines += [f"  {c.name:<20} {c.role:<7} {c.dtype:<10} empty {c.empty:,}  missing {c.missing:,}"
                  for c in self.columns]
        lines += _counts("tags" if self.task == "ner" else "labels", self.labels)
        if self.entities:
            lines += _counts("entity types", self.entities)
        if self.lengths:
            stats = "  ".join(f"{k} {v:g}" for k, v in self.lengths.items())
            lines += ["", f"length ({self.length_unit})  {stats}"]
        lines += ["", f"duplicates {self.duplicates:,}"]
        lines += _counts("rejected", self.rejected)
        lines += ["", f"bad lines ({self.bad_lines_total:,})"]
        lines += [f"  line {b.line}: {b.reason}" for b in self.bad_lines]
        if self.bad_lines_total > len(self.bad_lines):
            lines.append(f"  ... and {self.bad_lines_total - len(self.bad_lines):,} more")
        return "\n".join(lines) + "\n"


def _counts(title: str, counts: dict[str, int]) -> list[str]:
    total = sum(counts.values()) or 1
    rows = [f"  {name:<20} {n:>9,}  {100 * n / total:5.1f}%" for name, n in counts.items()]
    return ["", f"{title} ({len(counts)})"] + rows


def _length_stats(lengths: list[int]) -> dict[str, float]:
    if not lengths:
        return {}
    values = np.asarray(lengths)
    return {"min": int(values.min()), "median": float(np.median(values)),
            "p95": float(np.percentile(values, 95)), "max": int(values.max())}


def _entities(tag_rows: list[list[str]]) -> dict[str, int]:
    """Entity spans per type: a span starts at B-X, or at I-X not preceded by a tag of type X."""
    counts: Counter[str] = Counter()
    for tags in tag_rows:
        previous = None
        for tag in tags:
            kind = tag[2:] if len(tag) > 2 and tag[1] in "-_" else None
            if kind and (tag[0] in "BSU" or kind != previous):
                counts[kind] += 1
            previous = kind
    return dict(counts.most_common())


def _report(result: ReadResult) -> InspectReport:
    table, info, ner = result.table, result.info, result.task == "ner"
    if ner:
        tag_rows = table["tags"].tolist()
        labels = dict(Counter(t for row in tag_rows for t in row).most_common())
        lengths = [len(tokens) for tokens in table["tokens"]]
        keys = table["tokens"].map(tuple)
    else:
        labels = {str(k): int(v) for k, v in table["label"].value_counts().items()}
        lengths = table["text"].astype(str).str.len().tolist()
        keys = table["text"]
    return InspectReport(
        path=info.path, format=info.format, encoding=info.encoding, task=result.task, rows=info.rows,
        kept=len(table), rejected=dict(Counter(r.reason for r in result.rejects).most_common()),
        columns=info.columns, labels=labels, lengths=_length_stats(lengths),
        length_unit="tokens" if ner else "chars", bad_lines=info.bad_lines[:SHOWN_BAD_LINES],
        bad_lines_total=len(info.bad_lines), duplicates=int(keys.duplicated().sum()), sha256=info.sha256,
        url=info.url, entities=_entities(tag_rows) if ner else {},
        tokens=int(sum(lengths)) if ner else 0)


def inspect(path: str | Path, *, text: str | None = None, label: str | None = None, id: str | None = None,
            format: str | None = None, task: str | None = None, encoding: str | None = None,
            cache_dir: Path | None = None) -> InspectReport:
    """Read ``path`` as :func:`thresher.io.read_source` does and describe it.

    ``task=None`` (the default) treats CoNLL files and token/tag list columns as NER.
    """
    result = read_source(path, text=text, label=label, id=id, format=format, task=task,
                         encoding=encoding, cache_dir=cache_dir)
    return _report(result)
