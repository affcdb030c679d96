"""``inspect``: what a data source holds, before anything is changed.

Format, encoding, rows, columns and their roles, label (or tag) distribution, empty and missing
cells, the lines that could not be read, and text lengths. Chat data (tasks sft and seq2seq)
has no labels: its report says which chat format was read, how many conversations, how long
they are (turns, characters per assistant answer; seq2seq: input and target characters), who
speaks, which exact duplicates there are and which rows were rejected where and why (see
:class:`ChatSummary`). Silent: it returns an :class:`InspectReport`; the CLI prints
``report.to_text()`` or ``report.to_dict()`` as JSON.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from thresher.io import BadLine, ColumnInfo, ReadResult, read_source
from thresher.io.chat_reader import CHAT_TASKS, ChatOptions
from thresher.records import CHAT_ROLES, Reject, as_messages, conversation_text

__all__ = ["ChatSummary", "InspectReport", "RejectLine", "inspect"]

SHOWN_BAD_LINES = 20
SHOWN_REJECTS = 20
SHOWN_LINES = 5  # of a rejected conversation of a chat log


@dataclass(frozen=True)
class RejectLine:
    """One rejected row: where it was (``file:line``; a chat log's conversation:
    ``file:conversation-id`` and the lines of its utterances), the reason and what was wrong."""

    source: str
    reason: str
    detail: str
    lines: tuple[int, ...] = ()  # a chat log's rejected conversation: its lines, file order

    @staticmethod
    def of(reject: Reject, chatlog: bool = False) -> RejectLine:
        """``chatlog``: a rejected conversation's record holds its messages and their lines."""
        record = json.loads(reject.record) if chatlog else {}
        lines = record.get("lines") if isinstance(record, dict) and "messages" in record else None
        ok = isinstance(lines, list) and all(isinstance(n, int) for n in lines)
        return RejectLine(reject.source, reject.reason, reject.detail,
                          tuple(sorted(lines)) if ok else ())

    def to_text(self) -> str:
        shown = ", ".join(map(str, self.lines[:SHOWN_LINES]))
        more = ", ..." if len(self.lines) > SHOWN_LINES else ""
        at = f" (line{'s' * (len(self.lines) > 1)} {shown}{more})" if self.lines else ""
        return f"{self.source}{at}  {self.reason}: {self.detail}"


@dataclass
class ChatSummary:
    """What chat data holds (tasks sft and seq2seq); length statistics are min / median / p95 /
    max, lengths in characters. sft fills turns, roles and answer_chars; seq2seq the two others."""

    format: str  # the chat format read: openai, sharegpt, alpaca, qa or chatlog
    conversations: int  # kept conversations (seq2seq: input -> target pairs)
    turns: dict[str, float] = field(default_factory=dict)  # messages per conversation, system too
    roles: dict[str, int] = field(default_factory=dict)  # messages per role, kept conversations
    answer_chars: dict[str, float] = field(default_factory=dict)  # per assistant message
    input_chars: dict[str, float] = field(default_factory=dict)
    target_chars: dict[str, float] = field(default_factory=dict)
    rejects: list[RejectLine] = field(default_factory=list)  # the first SHOWN_REJECTS, file order
    rejects_total: int = 0
    notes: list[str] = field(default_factory=list)  # what reading changed (merged turns, ...)


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
    duplicates: int  # kept rows whose text (tokens; chat: turns joined) repeats an earlier row
    sha256: str
    url: str | None = None
    entities: dict[str, int] = field(default_factory=dict)  # NER: entity spans per type
    tokens: int = 0  # NER: tokens in kept sentences
    chat: ChatSummary | None = None  # tasks sft and seq2seq (labels and lengths stay empty)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_text(self) -> str:
        """Plain multi-line text for a terminal."""
        lines = [f"source    {self.url or self.path}",
                 f"format    {self.format}" + (f" ({self.encoding})" if self.encoding else "")
                 + (f", chat format {self.chat.format}" if self.chat else ""),
                 f"rows      {self.rows:,} read: {self.kept:,} usable, {self.rows - self.kept:,} rejected"]
        if self.sha256:
            lines.append(f"sha256    {self.sha256}")
        if self.chat is not None:
            return "\n".join(lines + _chat_lines(self, self.chat)) + "\n"
        if self.task == "ner":
            lines.append(f"sentences {self.kept:,}, tokens {self.tokens:,}")
        lines += ["", "columns"]
        lines += [f"  {c.name:<20} {c.role:<7} {c.dtype:<10} empty {c.empty:,}  missing {c.missing:,}"
                  for c in self.columns]
        lines += _counts("tags" if self.task == "ner" else "labels", self.labels)
        if self.entities:
            lines += _counts("entity types", self.entities)
        if self.lengths:
            lines += ["", f"length ({self.length_unit})  {_stats(self.lengths)}"]
        lines += ["", f"duplicates {self.duplicates:,}"]
        lines += _counts("rejected", self.rejected)
        lines += ["", f"bad lines ({self.bad_lines_total:,})"]
        lines += [f"  line {b.line}: {b.reason}" for b in self.bad_lines]
        if self.bad_lines_total > len(self.bad_lines):
            lines.append(f"  ... and {self.bad_lines_total - len(self.bad_lines):,} more")
        return "\n".join(lines) + "\n"


def _chat_lines(report: InspectReport, chat: ChatSummary) -> list[str]:
    """The text of a chat report below its header: sizes, speakers, duplicates, rejects, notes."""
    pairs = report.task == "seq2seq"
    lines = [f"{'pairs' if pairs else 'conversations'} {chat.conversations:,}", "", "columns"]
    lines += [f"  {c.name:<20} {c.role:<12} {c.dtype:<10} empty {c.empty:,}  missing {c.missing:,}"
              for c in report.columns]
    stats = [("turns per conversation", chat.turns), ("assistant answer (chars)", chat.answer_chars),
             ("input (chars)", chat.input_chars), ("target (chars)", chat.target_chars)]
    lines += [""] + [f"{title:<25} {_stats(values)}" for title, values in stats if values]
    if chat.roles:
        lines += _counts("messages per role", chat.roles)
    what = "pairs whose input and target" if pairs else "conversations whose turns"
    lines += ["", f"duplicates {report.duplicates:,} ({what} repeat an earlier one's exactly)"]
    lines += _counts("rejected", report.rejected)
    if chat.rejects:
        lines += ["", f"rejected rows ({chat.rejects_total:,})"]
        lines += [f"  {r.to_text()}" for r in chat.rejects]
        if chat.rejects_total > len(chat.rejects):
            lines.append(f"  ... and {chat.rejects_total - len(chat.rejects):,} more")
    if chat.notes:
        lines += ["", "notes"] + [f"  {note}" for note in chat.notes]
    return lines


def _stats(values: dict[str, float]) -> str:
    return "  ".join(f"{k} {v:g}" for k, v in values.items())


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


def _header(result: ReadResult) -> dict[str, Any]:
    """The report fields every task has."""
    info = result.info
    return dict(path=info.path, format=info.format, encoding=info.encoding, task=result.task,
                rows=info.rows, kept=len(result.table),
                rejected=dict(Counter(r.reason for r in result.rejects).most_common()),
                columns=info.columns, bad_lines=info.bad_lines[:SHOWN_BAD_LINES],
                bad_lines_total=len(info.bad_lines), sha256=info.sha256, url=info.url)


def _chat_report(result: ReadResult) -> InspectReport:
    """Tasks sft and seq2seq: conversations instead of labels (see :class:`ChatSummary`)."""
    table, info = result.table, result.info
    chat = ChatSummary(format=info.chat_format or "", conversations=len(table),
                       rejects=[RejectLine.of(r, info.chat_format == "chatlog")
                                for r in result.rejects[:SHOWN_REJECTS]],
                       rejects_total=len(result.rejects), notes=list(info.notes))
    if result.task == "sft":
        conversations = [as_messages(value) for value in table["messages"]]
        keys = pd.Series([conversation_text(m) for m in conversations], dtype=object)
        roles = Counter(m["role"] for turns in conversations for m in turns)
        chat.turns = _length_stats([len(turns) for turns in conversations])
        chat.roles = {role: roles[role] for role in CHAT_ROLES}
        chat.answer_chars = _length_stats([len(m["content"]) for turns in conversations
                                           for m in turns if m["role"] == "assistant"])
    else:  # seq2seq: one text per pair, as the dedup steps compare it
        inputs, targets = table["input"].astype(str), table["target"].astype(str)
        keys = inputs + "\n" + targets
        chat.input_chars = _length_stats(inputs.str.len().tolist())
        chat.target_chars = _length_stats(targets.str.len().tolist())
    return InspectReport(**_header(result), labels={}, lengths={}, length_unit="chars",
                         duplicates=int(keys.duplicated().sum()), chat=chat)


def _report(result: ReadResult) -> InspectReport:
    if result.task in CHAT_TASKS:
        return _chat_report(result)
    table, ner = result.table, result.task == "ner"
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
        **_header(result), labels=labels, lengths=_length_stats(lengths),
        length_unit="tokens" if ner else "chars", duplicates=int(keys.duplicated().sum()),
        entities=_entities(tag_rows) if ner else {}, tokens=int(sum(lengths)) if ner else 0)


def inspect(path: str | Path, *, text: str | None = None, label: str | None = None, id: str | None = None,
            format: str | None = None, task: str | None = None, encoding: str | None = None,
            cache_dir: Path | None = None, chat: ChatOptions | None = None) -> InspectReport:
    """Read ``path`` as :func:`thresher.io.read_source` does and describe it.

    ``task=None`` (the default) treats CoNLL files and token/tag list columns as NER, and a
    chat ``format`` (openai, sharegpt, alpaca, qa, chatlog) as sft; ``chat`` holds the chat
    reading options (tasks sft and seq2seq).
    """
    result = read_source(path, text=text, label=label, id=id, format=format, task=task,
                         encoding=encoding, cache_dir=cache_dir, chat=chat)
    return _report(result)
