"""Annotation files -> one long table of (item, annotator, label), whatever tool wrote them.

Agreement statistics need to know who labelled what; labelling tools each write that down in
their own shape. This module reads the shapes below into one table and tidies it (blank labels,
missing labels, duplicates, idle annotators, unknown items) with every dropped row counted.

Formats read:

* ``csv`` / ``tsv`` / ``jsonl`` / ``json`` (a list of flat objects) / ``parquet``: a long table,
  one row per (item, annotator, label). Columns come from ``item=``, ``annotator=``, ``label=``,
  ``text=`` or are inferred from common names. In CSV/TSV an empty cell is a missing label; a
  label of only spaces is an error (it is usually a slip, not "no answer").
* ``label_studio``: Label Studio's JSON export (a list of tasks). Labels come from ``choices`` (or
  ``rating``) results; ``label=`` names the control (``from_name``) when there are several, ``text=``
  and ``item=`` name keys of the task's ``data`` (item defaults to the task id). Cancelled
  (skipped) annotations are counted and left out. Only single-choice classification is supported:
  an annotation with several choices is an error naming where, because picking one of them would
  quietly change the annotator's answer.
* ``doccano``: a doccano classification export (doccano >= 1.5 writes, with collaborative
  annotation off, a zip of ``USER.jsonl`` files, each line ``{"id", "text", "label": [...]}``): the
  zip or its unpacked folder, the annotator being the file name. One JSONL file also works when each
  line says who labelled it: ``"label": [...]`` with ``"annotator"``/``"user"``, ``"label": {USER:
  [...]}``, or the older ``"annotations": [{"label": L, "user": U}]``. A collaborative export
  (labels merged without users) cannot give agreement and is an error saying how to re-export.
"""

from __future__ import annotations

import csv
import io
import json
import math
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd

from thresher.errors import DataError, InputError

__all__ = ["FORMATS", "AnnotationSet", "RawAnnotations", "read_annotations", "read_item_ids", "tidy"]

FORMATS = ("csv", "tsv", "jsonl", "json", "parquet", "label_studio", "doccano")
_ALIASES = {"labelstudio": "label_studio", "ls": "label_studio", "ndjson": "jsonl", "pq": "parquet"}
_NAMES = {  # inferred column names, most specific first; matched case-insensitively
    "item": ("item", "item_id", "id", "text_id", "unit", "unit_id", "doc_id", "example_id", "task_id"),
    "annotator": ("annotator", "annotator_id", "worker", "worker_id", "rater", "rater_id", "coder",
                  "coder_id", "user", "user_id", "judge"),
    "label": ("label", "annotation", "answer", "category", "class", "rating"),
    "text": ("text", "sentence", "content", "document"),
}
_COLUMNS = ["item", "annotator", "label", "where", "text"]
_SHOW = 5  # positions named in an error message


@dataclass
class RawAnnotations:
    """What a reader found: rows (label None = no answer), everyone seen, and what was skipped."""

    rows: pd.DataFrame  # columns item, annotator, label, where, text
    source: str
    format: str
    columns: dict[str, str | None] = field(default_factory=dict)
    seen: set[str] = field(default_factory=set)  # annotators named anywhere, even with no label
    counts: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


@dataclass
class AnnotationSet:
    """Usable annotations (one label per item and annotator) and what was set aside, counted."""

    table: pd.DataFrame  # columns item, annotator, label, text (text may be None)
    source: str
    format: str
    annotators: list[str]
    idle_annotators: list[str]
    columns: dict[str, str | None]
    counts: dict[str, int]
    notes: list[str]
    unknown_items: dict[str, Any] | None = None
    unannotated_items: int | None = None


def read_annotations(path: str | Path, *, format: str | None = None, item: str | None = None,
                     annotator: str | None = None, label: str | None = None,
                     text: str | None = None) -> RawAnnotations:
    """Read an annotation file (or doccano zip/folder) in any supported format."""
    source = Path(path)
    if not source.exists():
        raise InputError("file not found", where=str(source), fix="check the path")
    kind, parsed = (_format_name(format), None) if format else _detect(source)
    if kind in ("label_studio", "json") and parsed is None:
        parsed = _load_json(source)
    if kind == "label_studio":
        return _read_label_studio(source, parsed, item=item, label=label, text=text)
    if kind == "doccano":
        return _read_doccano(source, item=item, text=text)
    frame, position = _long_records(source, kind, parsed)
    return _from_table(frame, position, source, kind,
                       {"item": item, "annotator": annotator, "label": label, "text": text})


def _format_name(value: str) -> str:
    name = value.strip().lower().replace("-", "_")
    name = _ALIASES.get(name, name)
    if name not in FORMATS:
        raise InputError(f"unknown annotation format {value!r}", where="format",
                         fix=f"use one of {', '.join(FORMATS)}, or leave it out to detect it")
    return name


def _detect(path: Path) -> tuple[str, Any]:
    """The format, from a zip/folder, the extension, then a peek at the content; JSON comes parsed."""
    if path.is_dir() or path.suffix.lower() == ".zip":
        return "doccano", None
    with path.open("rb") as handle:
        if handle.read(4) == b"PAR1":
            return "parquet", None
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv", ".tab"):
        return ("csv" if suffix == ".csv" else "tsv"), None
    first = next((line.strip() for line in _text_lines(path)[:50] if line.strip()), "")
    record = None
    if first.startswith("{"):
        try:
            record = json.loads(first)
        except json.JSONDecodeError:
            pass  # one object spread over lines: a .json file
    if isinstance(record, dict) and not ("annotations" in record and "data" in record):
        doccano = "annotations" in record or isinstance(record.get("label"), (list, dict))
        return ("doccano" if doccano else "jsonl"), None
    if first.startswith(("[", "{")):
        parsed = _load_json(path)
        return _json_kind(parsed), parsed
    return ("tsv" if "\t" in first else "csv"), None


def _json_kind(data: Any) -> str:
    tasks = data if isinstance(data, list) else [data]
    first = next((t for t in tasks if isinstance(t, dict)), {})
    return "label_studio" if "annotations" in first and "data" in first else "json"


def _text_lines(path: Path) -> list[str]:
    from thresher.io.encoding import load_text

    return load_text(path).lines


def _load_json(path: Path) -> Any:
    text = "\n".join(_text_lines(path))
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON ({exc.msg})", where=f"{path}:{exc.lineno}",
                         fix="export the file again, or repair the JSON at that line") from None


# -- long tables ---------------------------------------------------------------------------------

def _long_records(path: Path, kind: str, parsed: Any) -> tuple[pd.DataFrame, list[str]]:
    """The table (columns in file order) and each row's position, for messages."""
    if kind == "parquet":
        frame = pd.read_parquet(path)
        return frame, [f"row {i + 1}" for i in range(len(frame))]
    if kind == "json":
        data = parsed if isinstance(parsed, list) else [parsed]
        if not all(isinstance(r, dict) for r in data):
            raise InputError("a JSON annotation file must be a list of objects", where=str(path),
                             fix="write one object per (item, annotator, label), or use JSONL")
        return pd.DataFrame.from_records(data), [f"record {i + 1}" for i in range(len(data))]
    if kind == "jsonl":
        return _jsonl_records(path, _text_lines(path))
    if kind in ("csv", "tsv"):
        return _csv_records(path, "\t" if kind == "tsv" else ",")
    raise InputError(f"format {kind!r} is not a long table", where=str(path),
                     fix="use csv, tsv, jsonl, json or parquet")


def _jsonl_records(path: Path, lines: list[str]) -> tuple[pd.DataFrame, list[str]]:
    records, where = [], []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"not valid JSON ({exc.msg})", where=f"{path}:{number}",
                             fix="repair or remove that line") from None
        if not isinstance(record, dict):
            raise InputError("the line is not a JSON object", where=f"{path}:{number}",
                             fix="write one object per line")
        records.append(record)
        where.append(f"line {number}")
    return pd.DataFrame.from_records(records), where


def _csv_records(path: Path, delimiter: str) -> tuple[pd.DataFrame, list[str]]:
    # TSV text often holds stray quotes, so TSV fields are never quoted; CSV follows RFC 4180.
    quoting = csv.QUOTE_NONE if delimiter == "\t" else csv.QUOTE_MINIMAL
    reader = csv.reader(io.StringIO("\n".join(_text_lines(path))), delimiter=delimiter, quoting=quoting)
    header = [h.strip() for h in next(reader, [])]
    width, rows, where, line = len(header), [], [], reader.line_num
    for row in reader:
        start, line = line + 1, reader.line_num  # a quoted field may span lines: name the first
        if not any(cell.strip() for cell in row):
            continue
        # an empty cell is no answer (None); a cell of spaces is kept so that it can be reported
        rows.append([cell if cell != "" else None for cell in row[:width]] + [None] * (width - len(row)))
        where.append(f"line {start}")
    return pd.DataFrame(rows, columns=header, dtype=object), where


def _pick_columns(columns: list[str], given: dict[str, str | None], source: Path) -> dict[str, str | None]:
    found = ", ".join(columns) or "none"
    lower = {c.lower(): c for c in columns}
    chosen: dict[str, str | None] = {}
    for role in ("item", "annotator", "label", "text"):
        name = given.get(role)
        if name is not None and name not in columns:
            raise DataError(f"column {name!r} ({role}) not found; columns found: {found}",
                            where=str(source), fix=f"pass one of those names as {role}= (--{role})")
        if name is None:
            name = next((lower[n] for n in _NAMES[role] if n in lower), None)
        if name is None and role != "text":
            raise DataError(f"no {role} column; columns found: {found}", where=str(source),
                            fix=f"name it with {role}=COLUMN (--{role} COLUMN)")
        chosen[role] = name
    return chosen


def _from_table(frame: pd.DataFrame, where: list[str], source: Path, kind: str,
                given: dict[str, str | None]) -> RawAnnotations:
    chosen = _pick_columns([str(c) for c in frame.columns], given, source)
    frame.columns = [str(c) for c in frame.columns]
    rows = pd.DataFrame({
        "item": _cells(frame[chosen["item"]]),
        "annotator": _cells(frame[chosen["annotator"]]),
        "label": _labels(frame[chosen["label"]], where, source),
        "where": where,
        "text": _objects(frame[chosen["text"]]) if chosen["text"] else None,
    }, columns=_COLUMNS)
    for role in ("item", "annotator"):
        _require(rows, role, source)
    return RawAnnotations(rows, str(source), kind, chosen, set(rows["annotator"]))


def _objects(column: pd.Series) -> list[Any]:
    return column.to_numpy(dtype=object, na_value=None).tolist()


def _cells(column: pd.Series) -> list[str | None]:
    if pd.api.types.is_integer_dtype(column.dtype) and not column.isna().any():
        return column.astype(str).tolist()  # the common case of numeric ids, without a Python loop
    return [_value(v) for v in _objects(column)]


def _labels(column: pd.Series, where: list[str], source: Path) -> list[str | None]:
    values = _objects(column)
    if column.dtype == object:
        for value, position in zip(values, where):
            if isinstance(value, (list, dict, np.ndarray)):
                _label(value, position, source)
    return [_value(v) for v in values]


def _require(rows: pd.DataFrame, role: str, source: Path) -> None:
    empty = rows[role].isna() | (rows[role].astype(str).str.strip() == "")
    if empty.any():
        what = "an item id" if role == "item" else "an annotator"
        where = _positions(rows.loc[empty, "where"])
        raise DataError(f"{_count(int(empty.sum()), 'row')} without {what} ({where})",
                        where=str(source), fix=f"fill in the {role} or remove those rows")


def _value(value: Any) -> str | None:
    """A cell as text: None for missing, integral floats without '.0' (1.0 read from Parquet is 1)."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    if isinstance(value, (float, np.floating)):
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    if isinstance(value, (np.integer, np.bool_)):
        return str(value.item())
    return str(value)


def _label(value: Any, where: str, source: Path) -> str | None:
    if isinstance(value, (list, dict, np.ndarray)):
        raise DataError(f"the label at {where} is a {type(value).__name__}, not one value",
                        where=str(source), fix="write one row per (item, annotator, label); "
                        "for a doccano export pass format='doccano' (--format doccano)")
    return _value(value)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _positions(where: Iterable[str]) -> str:
    where = list(where)
    shown = ", ".join(where[:_SHOW])
    return shown + (f", ... ({len(where) - _SHOW} more)" if len(where) > _SHOW else "")


# -- Label Studio --------------------------------------------------------------------------------

def _read_label_studio(source: Path, data: Any, *, item: str | None, label: str | None,
                       text: str | None) -> RawAnnotations:
    tasks = data if isinstance(data, list) else [data]
    raw = RawAnnotations(pd.DataFrame(columns=_COLUMNS), str(source), "label_studio",
                         {"item": item or "id", "annotator": "completed_by", "label": label, "text": text})
    counts = {"cancelled": 0, "ignored_results": 0}
    rows, multi = [], []
    for number, task in enumerate(tasks, start=1):
        if not isinstance(task, dict) or not isinstance(task.get("annotations"), list):
            raise InputError(f"task {number} has no 'annotations' list", where=str(source),
                             fix="pass Label Studio's JSON export (not JSON-MIN or CSV)")
        task_data = task.get("data") if isinstance(task.get("data"), dict) else {}
        task_id = _value(task_data.get(item) if item else task.get("id"))
        if task_id is None:
            raise DataError(f"task {number} has no {'data.' + item if item else 'id'}", where=str(source),
                            fix="export tasks with their ids, or name an id field of data with item=")
        task_text = task_data.get(text or "text")
        for annotation in task["annotations"]:
            who = _ls_user(annotation, task_id, source)
            raw.seen.add(who)
            row = _ls_annotation(annotation, task_id, who, task_text, label, counts, multi, source)
            if row is not None:
                rows.append(row)
    _raise_multi(multi, source)
    raw.rows = pd.DataFrame(rows, columns=_COLUMNS)
    raw.counts = {k: v for k, v in counts.items() if v}
    if counts["cancelled"]:
        raw.notes.append(f"{counts['cancelled']} cancelled (skipped) annotations were left out")
    if counts["ignored_results"]:
        raw.notes.append(f"{counts['ignored_results']} results of other types (not choices or rating) "
                         "were ignored")
    return raw


def _ls_user(annotation: dict[str, Any], task_id: str, source: Path) -> str:
    who = annotation.get("completed_by")
    if isinstance(who, dict):
        who = who.get("email") or who.get("id")
    if who is None or who == "":
        raise DataError(f"an annotation of task {task_id} has no completed_by", where=str(source),
                        fix="export with annotator information (Label Studio's JSON export)")
    return str(who)


def _ls_annotation(annotation: dict[str, Any], task_id: str, who: str, task_text: Any,
                   control: str | None, counts: dict[str, int], multi: list[str],
                   source: Path) -> list[Any] | None:
    where = f"task {task_id} (annotation {annotation.get('id', '?')})"
    if annotation.get("was_cancelled"):
        counts["cancelled"] += 1
        return None
    answers: dict[str, list[Any]] = {}
    for result in annotation.get("result") or []:
        value = result.get("value") or {}
        if result.get("type") == "choices" and isinstance(value.get("choices"), list):
            answers.setdefault(str(result.get("from_name")), []).extend(value["choices"])
        elif result.get("type") == "rating" and "rating" in value:
            answers.setdefault(str(result.get("from_name")), []).append(value["rating"])
        else:
            counts["ignored_results"] += 1
    if control is not None:
        answers = {control: answers[control]} if control in answers else {}
    if len(answers) > 1:
        raise DataError(f"{where} has answers from {len(answers)} controls ({', '.join(sorted(answers))})",
                        where=str(source), fix="choose one with label=NAME (--label NAME)")
    values = next(iter(answers.values()), [])
    if len(values) > 1:
        multi.append(f"{where}: {', '.join(map(str, values))}")
    return [task_id, who, _value(values[0]) if values else None, where, task_text]


def _raise_multi(multi: list[str], source: Path) -> None:
    if multi:
        raise DataError(f"{_count(len(multi), 'annotation')} with more than one label ({'; '.join(multi[:3])}"
                        f"{'; ...' if len(multi) > 3 else ''}); only single-label classification is supported",
                        where=str(source), fix="agreement on multi-label answers needs one yes/no "
                        "table per label: write one row per (item, annotator) for each label")


# -- doccano -------------------------------------------------------------------------------------

def _read_doccano(source: Path, *, item: str | None, text: str | None) -> RawAnnotations:
    raw = RawAnnotations(pd.DataFrame(columns=_COLUMNS), str(source), "doccano",
                         {"item": item or "id", "annotator": None, "label": "label", "text": text or "text"})
    rows: list[list[Any]] = []
    multi: list[str] = []
    for user, name, lines in _doccano_files(source):
        raw.columns["annotator"] = "file name" if user else "annotator/user"
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            where = f"{name} line {number}"
            record = _doccano_line(line, where, source)
            for who, labels in _doccano_answers(record, user, where, source):
                raw.seen.add(who)
                if len(labels) > 1:
                    multi.append(f"{where}: {', '.join(map(str, labels))}")
                elif labels:
                    key = _doccano_item(record, item, where, source)
                    rows.append([key, who, _label(labels[0], where, source), where, record.get(text or "text")])
    _raise_multi(multi, source)
    raw.rows = pd.DataFrame(rows, columns=_COLUMNS)
    return raw


def _doccano_files(source: Path) -> list[tuple[str | None, str, list[str]]]:
    """(user or None, display name, lines) per file: a zip or folder holds one file per user."""
    if source.is_dir():
        files = sorted(p for p in source.iterdir() if p.suffix.lower() in (".jsonl", ".json"))
        if not files:
            raise InputError("the folder holds no .jsonl files", where=str(source),
                             fix="pass doccano's export (one USER.jsonl per annotator) or a long table")
        return [(p.stem, p.name, _text_lines(p)) for p in files]
    if source.suffix.lower() == ".zip":
        with zipfile.ZipFile(source) as archive:
            names = sorted(n for n in archive.namelist() if n.lower().endswith((".jsonl", ".json")))
            if not names:
                raise InputError("the zip holds no .jsonl files", where=str(source),
                                 fix="pass doccano's export (one USER.jsonl per annotator)")
            return [(Path(n).stem, n, archive.read(n).decode("utf-8-sig").split("\n")) for n in names]
    return [(None, source.name, _text_lines(source))]


def _doccano_line(line: str, where: str, source: Path) -> dict[str, Any]:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON at {where} ({exc.msg})", where=str(source),
                         fix="repair or remove that line") from None
    if not isinstance(record, dict):
        raise InputError(f"{where} is not a JSON object", where=str(source), fix="write one object per line")
    return record


def _doccano_answers(record: dict[str, Any], user: str | None, where: str,
                     source: Path) -> list[tuple[str, list[Any]]]:
    """(annotator, labels) pairs on one line, for each doccano shape."""
    if isinstance(record.get("annotations"), list):  # doccano 1.0: label ids with user ids
        return [(str(a.get("user")), [a.get("label")]) for a in record["annotations"] if isinstance(a, dict)]
    labels = record.get("label", record.get("labels"))
    if isinstance(labels, dict):  # {user: [labels]}
        return [(str(who), _as_list(value)) for who, value in labels.items()]
    who = user or record.get("annotator", record.get("user"))
    if who is None:
        raise DataError(f"{where} has labels but no annotator (a doccano collaborative export merges "
                        "everyone's labels)", where=str(source),
                        fix="export with collaborative annotation off (doccano then writes one USER.jsonl "
                        "per annotator in a zip: pass the zip or its folder), or add \"annotator\" to each line")
    values = _as_list(labels)
    if any(isinstance(v, list) for v in values):
        raise DataError(f"{where} holds span labels (sequence labelling)", where=str(source),
                        fix="agreement here is for document classification exports")
    return [(str(who), values)]


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return [v for v in value if v is not None] if isinstance(value, list) else [value]


def _doccano_item(record: dict[str, Any], item: str | None, where: str, source: Path) -> str:
    value = _value(record.get(item or "id"))
    if value is None:  # without an id, identical texts are the same item
        value = _value(record.get("text"))
    if value is None:
        raise DataError(f"{where} has no {item or 'id'} and no text", where=str(source),
                        fix="export with ids, or name the id field with item=")
    return value


# -- tidying -------------------------------------------------------------------------------------

def read_item_ids(path: str | Path) -> list[str]:
    """Item ids from a file: one per line, or a CSV/TSV with an id column (item, item_id, id, ...)."""
    source = Path(path)
    lines = [line for line in _text_lines(source) if line.strip()]
    delimiter = "\t" if "\t" in lines[0] else ("," if "," in lines[0] else None)
    if delimiter is None:  # one id per line; a first line naming the column is a header
        start = 1 if lines[0].strip().lower() in _NAMES["item"] else 0
        return [line.strip() for line in lines[start:]]
    reader = csv.DictReader(io.StringIO("\n".join(lines)), delimiter=delimiter)
    columns = [c.strip() for c in reader.fieldnames or []]
    lower = {c.lower(): c for c in reader.fieldnames or []}
    column = next((lower[n] for n in _NAMES["item"] if n in lower), None)
    if column is None:
        raise DataError(f"no item id column in the items file; columns found: {', '.join(columns)}",
                        where=str(source), fix="name the id column 'item' or 'id', or list one id per line")
    return [str(row[column]).strip() for row in reader if row.get(column) and str(row[column]).strip()]


def tidy(raw: RawAnnotations, *, known_items: list[str] | None = None,
         unknown_items: str = "error") -> AnnotationSet:
    """Check blank labels and unknown items, drop missing labels and duplicates, find idle annotators."""
    rows, counts, notes = raw.rows, dict(raw.counts), list(raw.notes)
    blank = rows["label"].notna() & (rows["label"].astype(str).str.strip() == "")
    if blank.any():
        raise DataError(f"{_count(int(blank.sum()), 'annotation')} with an empty or blank label "
                        f"({_positions(rows.loc[blank, 'where'])})", where=raw.source,
                        fix="remove those rows or fill in the label")
    missing = rows["label"].isna()
    if missing.any():
        counts["missing_labels"] = int(missing.sum())
        notes.append(f"{_count(counts['missing_labels'], 'annotation')} without a label (empty cell, null "
                     "or empty result) skipped as missing")
    rows = rows[~missing]
    unknown, unannotated = None, None
    if known_items is not None:
        rows, unknown, unannotated = _check_items(rows, known_items, unknown_items, raw.source)
        if unknown:
            counts["unknown_items"] = unknown["annotations"]
    duplicated = rows.duplicated(["item", "annotator"], keep="last")
    if duplicated.any():
        counts["duplicates"] = int(duplicated.sum())
        notes.append(f"{counts['duplicates']} repeated (item, annotator) pairs: the last label was kept")
        rows = rows[~duplicated]
    active = sorted(set(rows["annotator"]))
    idle = sorted((raw.seen | set(raw.rows["annotator"])) - set(active))
    table = rows[["item", "annotator", "label", "text"]].reset_index(drop=True)
    return AnnotationSet(table, raw.source, raw.format, active, idle, raw.columns, counts, notes,
                         unknown, unannotated)


def _check_items(rows: pd.DataFrame, known: list[str], mode: str,
                 source: str) -> tuple[pd.DataFrame, dict[str, Any] | None, int]:
    if mode not in ("error", "drop"):
        raise InputError(f"unknown_items must be 'error' or 'drop', not {mode!r}", where="unknown_items",
                         fix="use error (the default) or drop")
    known_set = set(known)
    outside = ~rows["item"].isin(known_set)
    unannotated = len(known_set - set(rows["item"]))
    if not outside.any():
        return rows, None, unannotated
    ids = list(dict.fromkeys(rows.loc[outside, "item"]))
    shown = ", ".join(ids[:_SHOW]) + (", ..." if len(ids) > _SHOW else "")
    if mode == "error":
        raise DataError(f"{_count(int(outside.sum()), 'annotation')} on {_count(len(ids), 'item')} not in "
                        f"the items file ({shown})", where=source,
                        fix="add them to the items file, or drop them with unknown_items='drop' "
                        "(--unknown-items drop)")
    report = {"items": len(ids), "annotations": int(outside.sum()), "examples": ids[:_SHOW]}
    return rows[~outside], report, unannotated
