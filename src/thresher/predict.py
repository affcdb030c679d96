"""``thresher.predict``: label new data with a run's trained classifier.

The input goes through thresher's readers (any format ``read_source`` takes: CSV/TSV,
JSON(L), Parquet, ...), so encodings, formats, the text and the id column are inferred the
same way as for training data. Only a text column is needed: unlike training data, rows
without a label are what prediction is for. A label column, if the file has one (named like
a label, or given), is carried along (empty labels become null) so that the output can be
checked against it; unlike in training data, a leftover column is never taken for the label.

The result has one row per input row with text: ``id`` (the input's id column, else a
content id), ``text``, ``label`` (when present), ``predicted``, ``confidence`` (the highest
probability) and ``proba_<label>`` per model label. Rows without text are skipped and counted
in ``DataFrame.attrs["skipped"]`` by reason.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np
import pandas as pd

from thresher._files import atomic_path, read_json
from thresher.errors import DataError, InputError, ModelError, OutputError

if TYPE_CHECKING:
    from thresher.io.result import RawTable
    from thresher.train.classifier import Classifier

__all__ = ["MODELS", "OUTPUT_FORMATS", "predict", "read_unlabelled", "write_predictions"]

MODELS = ("model", "baseline")  # the folders of a run that hold a classifier
OUTPUT_FORMATS = (".parquet", ".csv", ".jsonl")


def predict(
    run_dir: str | Path,
    input: str | Path,
    *,
    model: str = "model",
    output: str | Path | None = None,
    batch_size: int = 64,
    device: str = "auto",
    progress: bool = False,
    text: str | None = None,
    label: str | None = None,
    id: str | None = None,
    format: str | None = None,
    encoding: str | None = None,
    loader: Callable[..., "Classifier"] | None = None,
) -> pd.DataFrame:
    """Predict every row of ``input`` with ``run_dir/model`` (or ``run_dir/baseline``).

    ``text``/``label``/``id``/``format``/``encoding`` override what the readers infer. Writes the table to
    ``output`` (.parquet, .csv or .jsonl) when given, and returns it. Raises
    :class:`InputError`/:class:`DataError` for unreadable or empty input and
    :class:`ModelError` when the run has no such model.
    """
    folder = _model_folder(Path(run_dir), model)
    if output is not None:
        _output_suffix(Path(output))  # a bad output name fails before the model is loaded
    rows = read_unlabelled(input, text=text, label=label, id=id, format=format, encoding=encoding)
    from thresher.evaluate.scoring import default_loader, predict_proba

    classifier = (loader or default_loader())(folder, device=device)
    labels = [str(label) for label in classifier.labels]
    proba = predict_proba(classifier, rows["text"].tolist(), labels, batch_size, progress)
    table = prediction_table(rows, proba, labels)
    if output is not None:
        write_predictions(table, Path(output))
    return table


def prediction_table(rows: pd.DataFrame, proba: np.ndarray, labels: list[str]) -> pd.DataFrame:
    """``rows`` (id, text[, label]) with predicted, confidence and one proba_<label> per label."""
    table = rows.reset_index(drop=True).copy()
    table["predicted"] = np.asarray(labels, dtype=object)[proba.argmax(axis=1)]
    table["confidence"] = proba.max(axis=1)
    for i, label in enumerate(labels):
        table[f"proba_{label}"] = proba[:, i]
    table.attrs = dict(rows.attrs)
    return table


def read_unlabelled(
    path: str | Path,
    *,
    text: str | None = None,
    label: str | None = None,
    id: str | None = None,
    format: str | None = None,
    encoding: str | None = None,
) -> pd.DataFrame:
    """id, text and (when the source has one) label columns of a source; never empty.

    Like :func:`thresher.read_source`, but a label is optional: rows are kept without one.
    """
    from thresher.io.roles import LABEL_NAMES, resolve_roles
    from thresher.io.values import clean_labels, clean_texts

    raw, name = _read_raw(path, format, encoding)
    if raw.frame.empty:
        raise InputError("no rows to predict", where=name, fix="pass a file with at least one row of text")
    roles = resolve_roles(raw.frame, name, text=text, label=label, id=id)
    # Training data must have a label, so the readers take any leftover column for it; here a
    # leftover column is as likely a date or an author: only a label by name (or given) counts.
    if label is None and str(roles.label).strip().lower() not in LABEL_NAMES:
        roles = replace(roles, label=None)
    if roles.text is None:
        shown = ", ".join(repr(str(c)) for c in raw.frame.columns)
        raise DataError(f"no text column found; the columns are {shown}", where=name,
                        fix="pass text=<column name> (--text on the command line)")
    texts, reasons = clean_texts(raw.frame[roles.text])
    keep = np.asarray([reason is None for reason in reasons], dtype=bool)
    if not keep.any():
        raise DataError(f"no row has text in column {roles.text!r}", where=name,
                        fix="check the text column (pass --text to choose another)")
    rows = pd.DataFrame({"text": [str(t) for t, k in zip(texts, keep) if k]})
    if roles.label is not None:
        labels, _ = clean_labels(raw.frame[roles.label], raw.lines, name)
        rows["label"] = [label for label, k in zip(labels, keep) if k]
    # Content ids as the readers make them: of (text, label), or of the text alone.
    labels_kept = rows["label"].tolist() if "label" in rows else [None] * len(rows)
    keys = [(t, y) if isinstance(y, str) else (t,) for t, y in zip(rows["text"], labels_kept)]
    rows.insert(0, "id", _ids(raw, roles.id, keep, keys, name))
    skipped = Counter(reason for reason in reasons if reason is not None)
    if raw.bad:
        skipped["unparsable"] = len(raw.bad)
    rows.attrs = {"source": name, "text_column": roles.text, "label_column": roles.label,
                  "skipped": dict(skipped)}
    return rows


def _read_raw(path: str | Path, format: str | None, encoding: str | None) -> tuple["RawTable", str]:
    # The readers' own locate-and-parse step: read_source itself insists on a label column.
    from thresher.io.detect import format_name
    from thresher.io.hf_reader import read_hf_hub
    from thresher.io.source import _locate, _read_raw as read_located

    located = _locate(str(path), None)
    if located.hub:
        return read_hf_hub(located.hub)[0], located.name
    raw, _ = read_located(located, format_name(format) if format else None, "classification", encoding)
    return raw, located.name


def _ids(raw: "RawTable", column: str | None, keep: np.ndarray, keys: list[tuple], name: str) -> list[str]:
    """The id column's values; content ids (as the readers make them) where it has none."""
    from thresher.io.table import _given_ids, unique_ids

    content = unique_ids(keys)
    if column is None:
        return content
    given = _given_ids(raw.frame, column, raw.lines, name)  # raises on duplicates, naming lines
    kept = [value for value, k in zip(given, keep) if k]
    return [value if value is not None else made for value, made in zip(kept, content)]


def write_predictions(table: pd.DataFrame, path: Path) -> Path:
    """Write ``table`` as Parquet, CSV (UTF-8) or JSON Lines, chosen by the suffix of ``path``."""
    suffix = _output_suffix(path)
    try:
        with atomic_path(path) as tmp:
            if suffix == ".parquet":
                table.to_parquet(tmp, index=False)
            elif suffix == ".csv":
                table.to_csv(tmp, index=False, encoding="utf-8")
            else:
                table.to_json(tmp, orient="records", lines=True, force_ascii=False)
    except OSError as exc:
        raise OutputError(f"cannot write the predictions ({exc.strerror or exc})", where=str(path),
                          fix="choose an output path you can write to") from None
    return path


def _output_suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in OUTPUT_FORMATS:
        raise OutputError(f"cannot write predictions as {suffix or 'a file without a suffix'!r}",
                          where=str(path), fix=f"name the output *{', *'.join(OUTPUT_FORMATS)}")
    return suffix


def _model_folder(run_dir: Path, model: str) -> Path:
    if model not in MODELS:
        raise ModelError(f"unknown model {model!r}", where=str(run_dir),
                         fix=f"choose one of {', '.join(MODELS)}")
    folder = run_dir / model
    info_path = folder / "thresher_model.json"
    if not info_path.is_file():
        raise ModelError(f"no trained {model} in this run", where=str(folder),
                         fix=f"run `thresher train {run_dir}` first")
    info = read_json(info_path, fix=f"run `thresher train {run_dir}` again")
    info = info if isinstance(info, dict) else {}
    task = info.get("task", "classification")
    if task != "classification" or info.get("text_pair"):
        what = "sentence pairs" if task == "classification" else task
        raise ModelError(f"this model is for {what}; predict handles single-text classification so far",
                         where=str(folder), fix="score such data with `thresher evaluate` on a split")
    return folder
