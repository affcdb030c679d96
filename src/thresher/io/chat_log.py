"""Chat logs (one row per utterance) grouped into conversations: the ``chatlog`` format of
``thresher.io.chat_reader``.

Utterances without a conversation id, speaker or text are rejects; every speaker must map to
a role (else one :class:`DataError` lists the unmapped ones); each conversation's turns are
ordered by time (stable: ties keep file order; a time that does not parse rejects the
conversation as ``bad_timestamp``), and consecutive turns of one role are merged with a
newline unless ``merge_turns`` is false. Columns constant within every conversation are kept
on its row; the others are reported in the notes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from thresher.errors import DataError
from thresher.io.chat_reader import (
    _ALLOWED,
    CONVERSATION_NAMES,
    SPEAKER_NAMES,
    TIME_NAMES,
    UTTERANCE_NAMES,
    ChatOptions,
    _find,
    _Item,
    _kind,
    _speaker_key,
)
from thresher.io.result import RawTable
from thresher.io.table import _id_text
from thresher.io.values import is_missing

__all__ = ["chatlog_items"]


def _chatlog_columns(frame: pd.DataFrame, name: str, text: str | None, options: ChatOptions
                     ) -> dict[str, str]:
    found = {"conversation": _find(frame, options.conversation, CONVERSATION_NAMES, "conversation", name),
             "speaker": _find(frame, options.speaker, SPEAKER_NAMES, "speaker", name),
             "text": _find(frame, text, UTTERANCE_NAMES, "text", name),
             "timestamp": _find(frame, options.timestamp, TIME_NAMES, "timestamp", name, required=False)}
    return {role: column for role, column in found.items() if column is not None}


@dataclass
class _Log:
    """A chat log being grouped: its rows, the columns playing each role, parsed times."""

    raw: RawTable
    records: list[dict[str, Any]]
    columns: dict[str, str]
    roles: dict[str, str]
    times: np.ndarray | None
    extras: list[Any]  # columns kept per conversation (constant within each)
    merge: bool
    name: str


def chatlog_items(raw: RawTable, name: str, text: str | None, options: ChatOptions,
                   roles: dict[str, str]) -> tuple[list[_Item], dict[str, str], list[str]]:
    frame = raw.frame
    columns = _chatlog_columns(frame, name, text, options)
    records = frame.to_dict("records")
    items, groups = _utterances(raw, records, columns, roles, name)
    times = _parse_times(frame[columns["timestamp"]]) if "timestamp" in columns else None
    extras = [c for c in frame.columns if c not in columns.values() or c == columns["conversation"]]
    varying = {c for c in extras if c != columns["conversation"] and any(
        not _constant([records[i][c] for i in idx]) for idx in groups.values())}
    log = _Log(raw, records, columns, roles, times, [c for c in extras if c not in varying],
               options.merge_turns, name)
    merged = 0
    for cid, idx in groups.items():
        item, count = _conversation(log, idx, cid)
        items.append(item)
        merged += count
    items.sort(key=lambda item: item.line)  # conversations by their first line, among the rejects
    notes = []
    if merged:
        notes.append(f"{merged} turn(s) following a turn of the same role were merged into it "
                     "(merge_turns: false keeps them apart)")
    if varying:
        shown = ", ".join(repr(str(c)) for c in extras if c in varying)
        notes.append(f"columns {shown} vary within conversations and are not kept")
    return items, columns, notes


def _utterances(raw: RawTable, records: list[dict[str, Any]], columns: dict[str, str],
                roles: dict[str, str], name: str) -> tuple[list[_Item], dict[str, list[int]]]:
    """Rejects for unusable utterances, and the rows of each conversation in file order."""
    rejects, groups = [], {}
    unmapped: dict[str, tuple[str, int]] = {}  # case-folded speaker -> (as written, first line)
    for i, record in enumerate(records):
        line = raw.lines[i]
        problem = _utterance_problem(record, columns)
        if problem is not None:
            source = f"{name}:{line}"
            rejects.append(_Item(line, source, record, problem=problem))
            continue
        speaker = str(record[columns["speaker"]]).strip()
        if _speaker_key(speaker) not in roles:
            unmapped.setdefault(_speaker_key(speaker), (speaker, line))
        groups.setdefault(_id_text(record[columns["conversation"]]), []).append(i)
    if unmapped:
        shown = ", ".join(f"{s!r} (line {n})" for s, n in list(unmapped.values())[:5])
        example = next(iter(unmapped.values()))[0]
        raise DataError(f"speaker{'s' if len(unmapped) > 1 else ''} {shown} "
                        f"{'have' if len(unmapped) > 1 else 'has'} no role", where=name,
                        fix=f"map every speaker to {_ALLOWED} with roles=, "
                            f"e.g. roles: {{{example}: assistant}}")
    return rejects, groups


def _utterance_problem(record: dict[str, Any], columns: dict[str, str]) -> tuple[str, str] | None:
    for role, reason in (("conversation", "missing_conversation"), ("speaker", "missing_speaker"),
                         ("text", "empty_text")):
        value = record[columns[role]]
        if is_missing(value) or not str(value).strip():
            return reason, f"column {columns[role]!r} is empty or null"
    value = record[columns["text"]]
    if not isinstance(value, (str, int, float, np.integer, np.floating)) or isinstance(value, bool):
        return "text_not_string", f"column {columns['text']!r} holds {_kind(value)}, not text"
    return None


def _parse_times(series: pd.Series) -> np.ndarray:
    """Seconds (or the numbers as given) per row; NaN where a value is not a date or time."""
    values = series.map(lambda v: None if is_missing(v) or (isinstance(v, str) and not v.strip()) else v)
    numbers = pd.to_numeric(values, errors="coerce")
    if numbers.notna().sum() == values.notna().sum():
        return numbers.to_numpy(dtype=float)
    parsed = pd.to_datetime(values.astype(object), errors="coerce", utc=True, format="mixed")
    seconds = (parsed - pd.Timestamp(0, tz="UTC")).dt.total_seconds()
    return seconds.to_numpy(dtype=float)


def _constant(values: list[Any]) -> bool:
    first = values[0]
    if is_missing(first):
        return all(is_missing(v) for v in values)
    return all(not is_missing(v) and _plain(v) == _plain(first) for v in values)


def _plain(value: Any) -> Any:
    return value.tolist() if hasattr(value, "tolist") else value


def _conversation(log: _Log, idx: list[int], cid: str) -> tuple[_Item, int]:
    """One conversation: turns in time order, roles mapped, same-role runs merged."""
    records, columns = log.records, log.columns
    lines = [log.raw.lines[i] for i in idx]
    record: dict[str, Any] = {c: records[idx[0]][c] for c in log.extras}
    item = _Item(lines[0], f"{log.name}:{cid}", record, extras=dict(record))
    if log.times is not None:
        bad = next((k for k, i in enumerate(idx) if np.isnan(log.times[i])), None)
        if bad is not None:
            value = records[idx[bad]][columns["timestamp"]]
            item.problem = ("bad_timestamp", f"line {lines[bad]}: column {columns['timestamp']!r} "
                                             f"is {value!r}, not a date or time")
            record["utterances"] = [records[i] for i in idx]
            return item, 0
        order = np.argsort(log.times[idx], kind="stable")
        idx, lines = [idx[k] for k in order], [lines[k] for k in order]
    turns = [{"role": log.roles[_speaker_key(records[i][columns["speaker"]])],
              "content": _as_text(records[i][columns["text"]])} for i in idx]
    item.messages, merged = _merge(turns) if log.merge else (turns, 0)
    record.update(messages=item.messages, lines=lines)
    return item, merged


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else _id_text(value)


def _merge(turns: list[dict[str, str]]) -> tuple[list[dict[str, str]], int]:
    merged: list[dict[str, str]] = []
    for turn in turns:
        if merged and merged[-1]["role"] == turn["role"]:
            merged[-1] = {"role": turn["role"], "content": merged[-1]["content"] + "\n" + turn["content"]}
        else:
            merged.append(dict(turn))
    return merged, len(turns) - len(merged)
