"""``read_source``: any supported source -> the task's table, its rejects, and a description.

A source is a local file or folder, an ``http(s)://`` URL (downloaded once into the cache), an
archive (unpacked safely into the cache), or ``hf:NAME[:CONFIG][@SPLIT]``. ``path#part``
chooses a split of a saved ``DatasetDict`` or the list inside a JSON object.
Invariant: ``info.rows == len(table) + len(rejects)``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from thresher.errors import DataError, InputError
from thresher.io.acquire import cache_folder, download, is_url, sha256_file
from thresher.io.archive import data_inside, is_archive, unpack
from thresher.io.chat_reader import CHAT_TASKS, ChatOptions, build_chat, chat_format
from thresher.io.conll_reader import read_conll
from thresher.io.csv_reader import read_delimited
from thresher.io.detect import detect_format, format_name, text_format
from thresher.io.encoding import load_text
from thresher.io.folder_reader import data_files, read_folder
from thresher.io.hf_reader import read_hf_disk, read_hf_hub
from thresher.io.jsonl_reader import read_json, read_jsonl
from thresher.io.ner_table import build_ner, ner_columns
from thresher.io.parquet_reader import read_parquet
from thresher.io.result import BadLine, RawTable, ReadResult, SourceInfo
from thresher.io.roles import Roles, resolve_roles
from thresher.io.table import bad_row_rejects, build_classification, column_infos
from thresher.io.text_reader import read_label_lines
from thresher.records import TASKS, core_columns

__all__ = ["read_source"]


@dataclass
class _Located:
    """Where the bytes are, and how to name them in messages and ``source`` columns."""

    path: Path | None
    name: str
    url: str | None = None
    part: str | None = None
    hub: str | None = None
    original: Path | None = None  # what the user pointed at (archive, download), for the hash


def _locate(spec: str, cache_dir: Path | None) -> _Located:
    if spec.startswith("hf:"):
        return _Located(path=None, name=spec, hub=spec)
    if is_url(spec):
        url, _, part = spec.partition("#")
        local = download(url, cache_dir)
        return _unpacked(_Located(path=local, name=url, url=url, part=part or None, original=local), cache_dir)
    path = Path(spec).expanduser()
    part = None
    if not path.exists() and "#" in spec:
        base, part = spec.rsplit("#", 1)
        path = Path(base).expanduser()
    if not path.exists():
        raise InputError("file not found", where=spec,
                         fix="check the path (a Hugging Face Hub dataset is written hf:NAME)")
    return _unpacked(_Located(path=path, name=str(path), part=part, original=path), cache_dir)


def _unpacked(located: _Located, cache_dir: Path | None) -> _Located:
    assert located.path is not None
    if not is_archive(located.path):
        return located
    target = cache_folder(cache_dir) / f"unpacked-{sha256_file(located.path)[:16]}"
    inner = data_inside(unpack(located.path, target))
    inside = inner.relative_to(target).as_posix()
    located.name = f"{located.name}!{inside}" if inside != "." else located.name
    located.path = inner
    return located


def _fingerprint(located: _Located) -> str:
    original = located.original
    if original is None:
        return ""
    if original.is_file():
        return sha256_file(original)
    digest = hashlib.sha256()
    for path in data_files(original):
        digest.update(path.relative_to(original).as_posix().encode() + b"\0")
        digest.update(sha256_file(path).encode())
    return digest.hexdigest()


def _read_raw(located: _Located, fmt: str | None, task: str, encoding: str | None) -> tuple[RawTable, str]:
    path, name = located.path, located.name
    assert path is not None
    explicit = fmt is not None
    fmt = fmt or detect_format(path)
    if path.is_dir() != (fmt in ("folder", "hf_disk")):
        raise InputError(f"format {fmt!r} does not fit a {'folder' if path.is_dir() else 'file'}", where=name,
                         fix="leave format= out to detect it")
    if fmt == "folder":
        return read_folder(path, name, encoding), fmt
    if fmt == "hf_disk":
        return read_hf_disk(path, located.part, name), fmt
    if fmt == "parquet":
        return read_parquet(path, name), fmt
    decoded = load_text(path, encoding)
    fmt = fmt if explicit else text_format(decoded.lines, task, fmt)
    if fmt in ("csv", "tsv"):
        raw = read_delimited(decoded, name, "\t" if fmt == "tsv" else None)
    elif fmt == "json":
        raw = read_json(decoded, name, located.part)
    else:
        raw = {"lines": read_label_lines, "jsonl": read_jsonl, "conll": read_conll}[fmt](decoded, name)
    raw.encoding = decoded.encoding
    return raw, fmt


def _build(raw: RawTable, task: str, name: str, text: str | None, label: str | None, id: str | None
           ) -> tuple[pd.DataFrame, list, dict[str, str]]:
    """The table, its rejects, and each column's role."""
    if raw.frame.empty:
        rejects = [r for _, r in sorted(bad_row_rejects(raw.bad, name), key=lambda p: p[0])]
        return pd.DataFrame(columns=core_columns(task)), rejects, {}
    if task == "ner":
        tokens, tags = ner_columns(raw.frame, name, text, label)
        table, rejects = build_ner(raw, name, tokens, tags)
        return table, rejects, {tokens: "tokens", tags: "tags"}
    roles = resolve_roles(raw.frame, name, text=text, label=label, id=id)
    _require(roles, raw, name)
    table, rejects = build_classification(raw, roles, name, name)
    pairs = (("text", roles.text), ("label", roles.label), ("id", roles.id))
    return table, rejects, {column: role for role, column in pairs if column}


def _require(roles: Roles, raw: RawTable, name: str) -> None:
    shown = ", ".join(repr(str(c)) for c in raw.frame.columns)
    for role, column in (("text", roles.text), ("label", roles.label)):
        if column is None:
            raise DataError(f"no {role} column found; the columns are {shown}", where=name,
                            fix=f"pass {role}=<column name>")


def _auto_task(fmt: str, frame: pd.DataFrame) -> str:
    """NER for CoNLL, or for a table whose token and tag columns hold lists; else classification."""
    if fmt == "conll":
        return "ner"
    try:
        tokens, tags = ner_columns(frame, "")
    except DataError:
        return "classification"
    first = frame[[tokens, tags]].dropna().head(1)
    is_list = not first.empty and all(isinstance(v, list) or hasattr(v, "tolist") for v in first.iloc[0])
    return "ner" if is_list else "classification"


def read_source(path: str | Path, *, text: str | None = None, label: str | None = None,
                id: str | None = None, format: str | None = None, task: str | None = "classification",
                encoding: str | None = None, cache_dir: Path | None = None,
                chat: ChatOptions | None = None) -> ReadResult:
    """Read one source into the task's table (see :mod:`thresher.records`) and its rejects.

    ``text``/``label``/``id`` name the columns to use (for NER, ``text`` and ``label`` name the
    tokens and tags columns; for a chat log, ``text`` names the utterance column); by default
    they are inferred. ``format`` overrides detection (csv, tsv, jsonl, json, parquet, lines,
    conll, folder, hf_disk; for tasks sft and seq2seq also the chat shapes openai, sharegpt,
    alpaca, qa, chatlog, read from whichever file format holds them); ``encoding`` overrides
    charset detection. ``task=None`` picks NER for CoNLL files and token/tag list columns, and
    sft for a chat format. ``chat`` holds the chat options (see :class:`ChatOptions`).
    Raises :class:`InputError` / :class:`DataError` for unusable input.
    """
    shape = chat_format(format) if format else None  # a chat shape: the file format is detected
    task = _checked_task(task, shape, format, chat, label, id)
    located = _locate(str(path), cache_dir)
    if located.hub:
        raw, sha = read_hf_hub(located.hub)
        fmt = "hf"
    else:
        raw, fmt = _read_raw(located, format_name(format) if format and not shape else None,
                             task or "classification", encoding)
        sha = _fingerprint(located)
    task = task or _auto_task(fmt, raw.frame)
    if fmt == "conll" and task != "ner":
        raise DataError("this is token-per-line (CoNLL) NER data", where=located.name, fix="pass task='ner'")
    if task in CHAT_TASKS:
        return _read_chat(raw, fmt, shape, task, located, sha, text, chat)
    table, rejects, roles = _build(raw, task, located.name, text, label, id)
    info = SourceInfo(path=str(located.path) if located.path else located.name, format=fmt,
                      encoding=raw.encoding, rows=len(table) + len(rejects),
                      columns=column_infos(raw.frame, roles),
                      bad_lines=[BadLine(b.line, b.reason) for b in raw.bad], sha256=sha, url=located.url,
                      text_column=_key(roles, "text", "tokens"),
                      label_column=_key(roles, "label", "tags"), id_column=_key(roles, "id"))
    return ReadResult(table=table, rejects=rejects, info=info, task=task)


def _checked_task(task: str | None, shape: str | None, format: str | None, chat: ChatOptions | None,
                  label: str | None, id: str | None) -> str | None:
    """The task, checked against a chat format and the chat options."""
    if task is not None and task not in TASKS:
        raise DataError(f"unknown task {task!r}", where="task", fix=f"use one of {', '.join(TASKS)}")
    if shape is not None and task is None:
        task = "sft"
    if shape is not None and task not in CHAT_TASKS:
        raise DataError(f"format {format!r} is chat data, for tasks sft and seq2seq", where="format",
                        fix="pass task='sft' (or 'seq2seq' for alpaca and qa data)")
    if chat is not None and task not in CHAT_TASKS:
        raise DataError(f"chat options apply to tasks sft and seq2seq, not {task!r}", where="chat",
                        fix="pass task='sft' or 'seq2seq', or leave the chat options out")
    why = {"label": "the data has no labels", "id": "ids are made from the content"}
    for option, value in (("label", label), ("id", id)):
        if task in CHAT_TASKS and value is not None:
            raise DataError(f"{option}= does not apply to task {task!r}", where=option,
                            fix=f"leave {option} out ({why[option]})")
    return task


def _read_chat(raw: RawTable, fmt: str, shape: str | None, task: str, located: _Located, sha: str,
               text: str | None, chat: ChatOptions | None) -> ReadResult:
    built = build_chat(raw, shape, task, located.name, text, chat)
    info = SourceInfo(path=str(located.path) if located.path else located.name, format=fmt,
                          encoding=raw.encoding, rows=len(built.table) + len(built.rejects),
                          columns=column_infos(raw.frame, built.roles),
                          bad_lines=[BadLine(b.line, b.reason) for b in raw.bad], sha256=sha,
                          url=located.url, text_column=_key(built.roles, "text"),
                          chat_format=built.format, notes=built.notes)
    return ReadResult(table=built.table, rejects=built.rejects, info=info, task=task)


def _key(roles: dict[str, str], *wanted: str) -> str | None:
    return next((str(c) for c, r in roles.items() if r in wanted), None)
