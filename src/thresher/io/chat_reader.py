"""Chat data in the five shapes people have -> the ``sft`` (or ``seq2seq``) table and its rejects.

Formats, each read from whatever file format holds it (JSONL, JSON, CSV, Parquet, HF):

* ``openai``: a ``messages`` list of ``{role, content}`` per row (content may be text parts)
* ``sharegpt``: a ``conversations`` list of ``{from, value}`` per row (human/gpt are user/assistant)
* ``alpaca``: ``instruction``, optional ``input``, ``output`` (and ``system`` for sft)
* ``qa``: question and answer columns, optional context (column names inferred or given)
* ``chatlog``: one row per utterance (conversation id, speaker, text, optional timestamp),
  grouped into conversations, ordered by time (stable: ties keep file order), speakers mapped
  to roles, consecutive turns of one role merged with a newline (``thresher.io.chat_log``)

A row that cannot become a conversation is a reject naming the broken field (``source`` is
``file:line``); a file whose fields do not fit the format at all is a :class:`DataError`. Every
conversation must have an assistant turn answering a user turn, else it is rejected as
``no_assistant_answer``; trailing user turns (a question nobody answered) are dropped and the
count is reported in :attr:`ChatTable.notes`. Rejects of a chat log are utterances (a row with
no conversation id, speaker or text) or whole conversations (``source`` ``file:conversation``),
so ``rows`` = conversations kept + those rejects.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from thresher.errors import DataError
from thresher.io.result import RawTable
from thresher.io.table import _id_text, arrow_safe, bad_row_rejects, row_sources, unique_ids
from thresher.io.values import is_missing
from thresher.records import CHAT_ROLES, Reject, core_columns, make_id

__all__ = ["CHAT_FORMATS", "CHAT_OPTIONS", "CHAT_TASKS", "DEFAULT_ROLES", "ChatOptions",
           "ChatTable", "build_chat", "chat_format", "detect_chat_format"]

CHAT_TASKS = ("sft", "seq2seq")
CHAT_FORMATS = ("openai", "sharegpt", "alpaca", "qa", "chatlog")
_ALIASES = {"chatml": "openai", "messages": "openai", "chat_log": "chatlog", "chat": "chatlog"}
DEFAULT_ROLES = {"system": "system", "user": "user", "assistant": "assistant", "human": "user",
                 "gpt": "assistant"}
_ALLOWED = ", ".join(CHAT_ROLES)
_FIX_FORMAT = "pass format= the shape the data has: openai, sharegpt, alpaca, qa or chatlog"

CONVERSATION_NAMES = ("conversation_id", "conversation", "conv_id", "dialog_id", "dialogue_id",
                      "session_id", "thread_id", "chat_id")
SPEAKER_NAMES = ("speaker", "role", "sender", "from", "author", "participant")
UTTERANCE_NAMES = ("text", "message", "content", "utterance", "body", "value")
TIME_NAMES = ("timestamp", "time", "created_at", "datetime", "date", "ts", "sent_at")
QUESTION_NAMES = ("question", "q", "query", "prompt")
ANSWER_NAMES = ("answer", "a", "response", "reply", "completion", "output")
CONTEXT_NAMES = ("context", "passage", "document", "background")


@dataclass(frozen=True)
class ChatOptions:
    """How to read chat data; what is left out is inferred from column names."""

    conversation: str | None = None  # chat logs: the conversation id column
    speaker: str | None = None  # chat logs: who said it
    timestamp: str | None = None  # chat logs: orders the turns of a conversation
    roles: Mapping[str, str] | None = None  # speaker (or `from`) -> system, user or assistant
    merge_turns: bool = True  # chat logs: consecutive turns of one role become one turn
    system: str | None = None  # sft: a system prompt put first where a conversation has none
    question: str | None = None  # Q/A tables: the columns
    answer: str | None = None
    context: str | None = None


CHAT_OPTIONS = tuple(ChatOptions.__dataclass_fields__)


@dataclass
class ChatTable:
    """The task's table, its rejects (file order), the chat format, each column's role, notes."""

    table: pd.DataFrame
    rejects: list[Reject]
    format: str
    roles: dict[str, str]
    notes: list[str] = field(default_factory=list)


@dataclass
class _Item:
    """One conversation (or one row that could not become one) on its way to the table."""

    line: int
    source: str
    record: dict[str, Any]  # what a reject keeps
    extras: dict[str, Any] = field(default_factory=dict)
    messages: list[dict[str, str]] | None = None
    problem: tuple[str, str] | None = None


def chat_format(value: str) -> str | None:
    """The chat format a ``format=`` value names, or None when it names a file format."""
    name = value.strip().lower().replace("-", "_")
    name = _ALIASES.get(name, name)
    return name if name in CHAT_FORMATS else None


def _column(frame: pd.DataFrame, names: tuple[str, ...]) -> str | None:
    lower = {str(c).strip().lower(): c for c in frame.columns}
    return next((lower[n] for n in names if n in lower), None)


def detect_chat_format(frame: pd.DataFrame, where: str) -> str:
    """The chat format from the field names: messages, conversations, instruction, Q/A, chat log."""
    for names, fmt in ((("messages",), "openai"), (("conversations",), "sharegpt"),
                       (("instruction",), "alpaca")):
        if _column(frame, names) is not None:
            return fmt
    if _column(frame, QUESTION_NAMES) is not None and _column(frame, ANSWER_NAMES) is not None:
        return "qa"
    if _column(frame, CONVERSATION_NAMES) is not None and _column(frame, SPEAKER_NAMES) is not None:
        return "chatlog"
    raise DataError(f"cannot tell the chat format; the fields are {_shown(frame)}", where=where,
                    fix=_FIX_FORMAT + " (messages, conversations, instruction/output, "
                                      "question/answer, one row per utterance)")


def _shown(frame: pd.DataFrame) -> str:
    return ", ".join(repr(str(c)) for c in frame.columns) or "none"


def build_chat(raw: RawTable, fmt: str | None, task: str, name: str, text: str | None = None,
               options: ChatOptions | None = None) -> ChatTable:
    """``raw`` as the ``task`` table; ``fmt`` None: detected; ``text``: a chat log's text column."""
    options = options or ChatOptions()
    if raw.frame.empty:
        rejects = [r for _, r in sorted(bad_row_rejects(raw.bad, name), key=lambda p: p[0])]
        return ChatTable(pd.DataFrame(columns=core_columns(task)), rejects, fmt or "", {})
    fmt = fmt or _named_by_options(options) or detect_chat_format(raw.frame, name)
    _check_options(fmt, task, options, text, name)
    roles = _role_map(options.roles)
    if fmt == "chatlog":
        from thresher.io.chat_log import chatlog_items  # it uses this module's helpers

        items, columns, notes = chatlog_items(raw, name, text, options, roles)
    else:
        columns = _row_columns(raw.frame, fmt, task, name, options)
        items, notes = _row_items(raw, fmt, name, columns, roles), []
    table, rejects, trimmed = _assemble(items, raw, task, name, options.system)
    if trimmed:
        notes.append(f"{trimmed} trailing user turn(s) without an answer were dropped from the "
                     "ends of conversations")
    return ChatTable(table, rejects, fmt, {column: role for role, column in columns.items()}, notes)


def _named_by_options(options: ChatOptions) -> str | None:
    """Chat-log or Q/A column options say which format the data is, whatever the names."""
    if any(getattr(options, k) is not None for k in ("conversation", "speaker", "timestamp")):
        return "chatlog"
    if any(getattr(options, k) is not None for k in ("question", "answer", "context")):
        return "qa"
    return None


def _check_options(fmt: str, task: str, options: ChatOptions, text: str | None, name: str) -> None:
    if task == "seq2seq" and fmt not in ("alpaca", "qa"):
        raise DataError(f"format {fmt!r} holds conversations, not input -> target pairs", where=name,
                        fix="use task sft, or data with one prompt and one answer per row (alpaca, qa)")
    if task == "seq2seq" and options.system is not None:
        raise DataError("system applies to task sft", where="system",
                        fix="remove system, or write the instruction into each input")
    by_format = {"chatlog": ("conversation", "speaker", "timestamp"),
                 "qa": ("question", "answer", "context")}
    for owner, keys in by_format.items():
        for key in keys:
            if owner != fmt and getattr(options, key) is not None:
                raise DataError(f"{key}= applies to format {owner!r}, not {fmt!r}", where=key,
                                fix=f"remove {key}, or pass format={owner} if the data is that")
    if text is not None and fmt != "chatlog":
        raise DataError(f"text= names a chat log's text column; format {fmt!r} has none", where="text",
                        fix="remove text, or pass format=chatlog if the data is one row per utterance")


def _role_map(given: Mapping[str, str] | None) -> dict[str, str]:
    """Speaker names (compared trimmed and case-folded) -> roles; ``given`` adds to the defaults."""
    mapping = dict(DEFAULT_ROLES)
    for speaker, role in (given or {}).items():
        if role not in CHAT_ROLES:
            raise DataError(f"roles maps {speaker!r} to {role!r}", where=f"roles.{speaker}",
                            fix=f"map each speaker to one of {_ALLOWED}")
        mapping[_speaker_key(speaker)] = role
    return mapping


def _speaker_key(value: Any) -> str:
    return str(value).strip().casefold()


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float, np.integer, np.floating)):
        return "a number"
    kinds = {str: "a string", dict: "an object", list: "a list"}
    return next((k for t, k in kinds.items() if isinstance(value, t)), f"a {type(value).__name__}")


# ---- one row per conversation: openai, sharegpt, alpaca, qa -----------------------------------


def _find(frame: pd.DataFrame, given: str | None, names: tuple[str, ...], role: str, name: str,
          required: bool = True) -> str | None:
    if given is not None and given not in frame.columns:
        raise DataError(f"{role} column {given!r} not found; the columns are {_shown(frame)}",
                        where=name, fix=f"pass {role}= one of {_shown(frame)}")
    column = given if given is not None else _column(frame, names)
    if column is None and required:
        raise DataError(f"no {role} column found; the columns are {_shown(frame)}", where=name,
                        fix=f"name it {names[0]!r}, or pass {role}=<column>")
    return column


def _row_columns(frame: pd.DataFrame, fmt: str, task: str, name: str, options: ChatOptions
                 ) -> dict[str, str]:
    """role -> input column, for the formats with one conversation per row."""
    if fmt in ("openai", "sharegpt"):
        field_name = "messages" if fmt == "openai" else "conversations"
        column = _column(frame, (field_name,))
        if column is None:
            raise DataError(f"no {field_name!r} field; the fields are {_shown(frame)}", where=name,
                            fix=_FIX_FORMAT + ", or leave format out to detect it")
        system = _column(frame, ("system",)) if fmt == "sharegpt" else None
        return {"messages": column, **({"system": system} if system else {})}
    if fmt == "alpaca":
        found = {role: _column(frame, (role,)) for role in ("instruction", "input", "output", "system")}
        for role in ("instruction", "output"):
            if found[role] is None:
                raise DataError(f"no {role!r} field; the fields are {_shown(frame)}", where=name,
                                fix=_FIX_FORMAT + ", or leave format out to detect it")
        if task != "sft":
            found["system"] = None  # seq2seq has no place for it: it stays an extra column
        return {role: column for role, column in found.items() if column is not None}
    found = {"question": _find(frame, options.question, QUESTION_NAMES, "question", name),
             "answer": _find(frame, options.answer, ANSWER_NAMES, "answer", name),
             "context": _find(frame, options.context, CONTEXT_NAMES, "context", name, required=False)}
    return {role: column for role, column in found.items() if column is not None}


def _row_items(raw: RawTable, fmt: str, name: str, columns: dict[str, str],
               roles: dict[str, str]) -> list[_Item]:
    sources = row_sources(raw, name)
    used = set(columns.values())
    items = []
    for i, record in enumerate(raw.frame.to_dict("records")):
        if fmt in ("openai", "sharegpt"):
            messages, problem = _from_messages(record, columns, fmt, roles)
        else:
            messages, problem = _from_pair(record, columns, fmt)
        extras = {c: v for c, v in record.items() if c not in used}
        items.append(_Item(raw.lines[i], sources[i], record, extras, messages, problem))
    return items


_Parsed = tuple["list[dict[str, str]] | None", "tuple[str, str] | None"]


def _from_messages(record: dict[str, Any], columns: dict[str, str], fmt: str,
                   roles: dict[str, str]) -> _Parsed:
    column = columns["messages"]
    value = record.get(column)
    if hasattr(value, "tolist"):
        value = value.tolist()
    if is_missing(value):
        return None, ("missing_field", f"field {column!r} is missing or null")
    if not isinstance(value, list):
        return None, ("bad_messages", f"field {column!r} is {_kind(value)}, not a list of messages")
    if not value:
        return None, ("bad_messages", f"field {column!r} is an empty list")
    system, problem = _text(record, columns.get("system"), required=False)
    if problem is not None:
        return None, problem
    messages = [{"role": "system", "content": system}] if system else []
    for k, item in enumerate(value):
        message, problem = _message(item, f"{column}[{k}]", fmt, roles)
        if problem is not None:
            return None, problem
        messages.append(message)
    return messages, None


def _message(item: Any, where: str, fmt: str, roles: dict[str, str]
             ) -> tuple[dict[str, str], tuple[str, str] | None]:
    if not isinstance(item, dict):
        return {}, ("bad_message", f"{where} is {_kind(item)}, not an object")
    # each format names its keys, but files mixing the two conventions are common
    role_key = next((k for k in ("role", "from") if k in item), "role" if fmt == "openai" else "from")
    content_key = next((k for k in ("content", "value") if k in item),
                       "content" if fmt == "openai" else "value")
    for key in (role_key, content_key):
        if item.get(key) is None:
            return {}, ("bad_message", f"{where} has no {key!r}")
    role = roles.get(_speaker_key(item[role_key]))
    if role is None:
        return {}, ("role_not_allowed", f"{where}.{role_key} is {item[role_key]!r}, not one of "
                                        f"{_ALLOWED} (map it with roles=)")
    content, problem = _content(item[content_key], f"{where}.{content_key}")
    return {"role": role, "content": content}, problem


def _content(value: Any, where: str) -> tuple[str, tuple[str, str] | None]:
    """Text, or OpenAI's list of text parts joined by newlines."""
    if isinstance(value, str):
        return value, None
    if not isinstance(value, list):
        return "", ("bad_message", f"{where} is {_kind(value)}, not text")
    texts = []
    for j, part in enumerate(value):
        if not (isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str)):
            return "", ("bad_message", f"{where}[{j}] is not a text part ({{type: text, text: ...}})")
        texts.append(part["text"])
    return "\n".join(texts), None


def _text(record: dict[str, Any], column: str | None, required: bool = True
          ) -> tuple[str | None, tuple[str, str] | None]:
    """A field as text; numbers become their decimal text."""
    value = None if column is None else record.get(column)
    if is_missing(value) or (isinstance(value, str) and not value.strip()):
        if not required:
            return None, None
        what = "missing or null" if is_missing(value) else "empty"
        return None, ("missing_field" if is_missing(value) else "empty_field", f"field {column!r} is {what}")
    if isinstance(value, str):
        return value, None
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return _id_text(value), None
    return None, ("bad_field", f"field {column!r} is {_kind(value)}, not text")


def _from_pair(record: dict[str, Any], columns: dict[str, str], fmt: str) -> _Parsed:
    """Alpaca (instruction + input -> output) or Q/A (context + question -> answer)."""
    first, second, answer = (("instruction", "input", "output") if fmt == "alpaca"
                             else ("context", "question", "answer"))
    texts: dict[str, str | None] = {}
    for role in (first, second, answer, "system"):
        required = role in (("instruction", "output") if fmt == "alpaca" else ("question", "answer"))
        texts[role], problem = _text(record, columns.get(role), required)
        if problem is not None:
            return None, problem
    prompt = "\n\n".join(t for t in (texts[first], texts[second]) if t)
    messages = [{"role": "system", "content": texts["system"]}] if texts["system"] else []
    return messages + [{"role": "user", "content": prompt},
                       {"role": "assistant", "content": texts[answer]}], None


# ---- chat logs: one row per utterance -----------------------------------------------------------


# ---- every format: answered conversations -> the table ------------------------------------------


def _finish(messages: list[dict[str, str]], system: str | None
            ) -> tuple[list[dict[str, str]], int, tuple[str, str] | None]:
    """System prompt first, trailing user turns dropped; rejected when no assistant answers."""
    if system and (not messages or messages[0]["role"] != "system"):
        messages = [{"role": "system", "content": system}] + messages
    roles = [m["role"] for m in messages]
    end = len(roles)
    while end and roles[end - 1] == "user":
        end -= 1
    first_user = roles.index("user") if "user" in roles else len(roles)
    if "assistant" not in roles[first_user:end]:
        shown = ", ".join(roles[:12]) + (", ..." if len(roles) > 12 else "")
        return messages, 0, ("no_assistant_answer", f"no assistant turn answers a user turn "
                                                    f"(roles: {shown or 'none'})")
    return messages[:end], len(roles) - end, None


def _assemble(items: list[_Item], raw: RawTable, task: str, name: str, system: str | None
              ) -> tuple[pd.DataFrame, list[Reject], int]:
    rejects = bad_row_rejects(raw.bad, name)
    kept, trimmed = [], 0
    for item in items:
        if item.problem is None and item.messages is not None:
            item.messages, dropped, item.problem = _finish(item.messages, system)
            trimmed += dropped
        if item.problem is not None:
            row = {**item.record, "id": make_id(item.source), "source": item.source}
            rejects.append((item.line, Reject.of(row, "read", *item.problem)))
        else:
            kept.append(item)
    rejects.sort(key=lambda pair: pair[0])
    return _table(kept, task), [r for _, r in rejects], trimmed


def _table(kept: list[_Item], task: str) -> pd.DataFrame:
    core = core_columns(task)
    if task == "sft":
        messages = [item.messages for item in kept]
        ids = unique_ids([(m,) for m in messages])
        data: dict[str, list[Any]] = {"messages": messages}
    else:  # seq2seq: the single user turn -> the single assistant turn
        pairs = [(item.messages[-2]["content"], item.messages[-1]["content"]) for item in kept]
        ids = unique_ids(pairs)
        data = {"input": [p[0] for p in pairs], "target": [p[1] for p in pairs]}
    table = pd.DataFrame({"id": ids, **data, "source": [item.source for item in kept]}, columns=core)
    extras: dict[Any, None] = {}
    for item in kept:
        extras.update(dict.fromkeys(item.extras))
    for column in extras:
        out = f"input_{column}" if column in core else str(column)
        # a JSONL key absent from some lines is NaN there: None keeps the column one Arrow type
        values = [item.extras.get(column) for item in kept]
        table[out] = arrow_safe([None if is_missing(v) else v for v in values])
    return table
