"""``thresher.predict``: label new data with a run's trained model, for every task a run trains.

The input goes through thresher's readers (any format ``read_source`` takes: CSV/TSV,
JSON(L), Parquet, ...), so encodings, formats, the text and the id column are inferred the
same way as for training data. Only a text column is needed: unlike training data, rows
without a label are what prediction is for. A label column, if the file has one (named like
a label, or given), is carried along (empty labels become null) so that the output can be
checked against it; unlike in training data, a leftover column is never taken for the label.
Rows without text are skipped and counted in ``DataFrame.attrs["skipped"]`` by reason.

What comes out depends on the model's task (``thresher_model.json``):

* classification: ``id``, ``text``, ``label`` (when present), ``predicted``, ``confidence``
  (the highest probability) and ``proba_<label>`` per model label.
* sentence pairs (a model trained with ``input.text_pair``): the same, with ``text_pair``
  after ``text``. The pair is read from the column the model was trained on, or ``text_pair=``.
* multilabel: ``predicted`` is the set of labels whose probability reaches its own threshold
  (tuned on validation, ``thresholds.json``), joined with the run's ``label_separator`` into
  one string in every output format (the same form as the training labels and evaluate's
  predictions; an empty string when no label passes), then ``proba_<label>`` per label.
  There is no single ``confidence``: each label is its own yes/no decision.
* ner: one row per sentence: ``id``, ``text``, ``tokens``, ``tags`` (gold tags, when the input
  has them), ``predicted`` (one tag per token, from each word's first sub-token, as in
  training) and ``entities``: a list of ``{type, start, end, text, confidence}`` with ``end``
  exclusive (``tokens[start:end]``). An entity's confidence is the *lowest* of its words' top
  tag probabilities: a span is only as sure as its least sure word. The most-frequent-tag
  baseline gives no probabilities: its entities carry ``confidence: null`` and a ``why``.
  Input: CoNLL/BIO files (gold tags carried along), a text file of one sentence per line, or
  a table with a ``tokens`` (list, or JSON list) or ``text`` column. Text is split the way the
  training tokens were: per character when they were single characters (Chinese), else on
  whitespace (see :func:`read_sentences`).

CSV output writes list and dict cells as JSON; Parquet and JSON Lines keep them nested.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
import pandas as pd

from thresher._files import read_json
from thresher.errors import DataError, InputError, ModelError
from thresher.predict._io import (OUTPUT_FORMATS, _ids, _missing, output_suffix, _read_raw,
                                  _skipped, write_predictions)
from thresher.predict._ner import TOKENIZATIONS, _run_tokenization, _tagged, read_sentences

if TYPE_CHECKING:
    from thresher.io.result import RawTable
    from thresher.io.roles import Roles
    from thresher.train.classifier import Classifier

__all__ = ["MODELS", "OUTPUT_FORMATS", "TASKS", "TOKENIZATIONS", "predict", "read_sentences",
           "read_unlabelled", "write_predictions"]

MODELS = ("model", "baseline")  # the folders of a run that hold a classifier
TASKS = ("classification", "multilabel", "ner")


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
    text_pair: str | None = None,
    tokenize: str | None = None,
    format: str | None = None,
    encoding: str | None = None,
    loader: Callable[..., "Classifier"] | None = None,
) -> pd.DataFrame:
    """Predict every row (NER: sentence) of ``input`` with ``run_dir/model`` (or ``baseline``).

    ``text``/``label``/``id``/``format``/``encoding`` override what the readers infer (NER:
    ``text`` and ``label`` name the tokens and gold-tags columns). ``text_pair``: the input
    column holding the second text, for a sentence-pair model (default: the training column's
    name). ``tokenize`` ("whitespace" or "character"), NER only: how to cut text into words
    (default: like the run's training tokens). Writes the table to ``output`` (.parquet, .csv
    or .jsonl) when given, and returns it. Raises :class:`InputError`/:class:`DataError` for
    unreadable or unusable input and :class:`ModelError` when the run has no such model.
    """
    run_dir = Path(run_dir)
    folder, card = _model_folder(run_dir, model)
    task = str(card.get("task", "classification"))
    pair = _pair_column(card, folder, task, text_pair)
    if tokenize is not None and task != "ner":
        raise InputError(f"tokenize= is for NER models; this model is for {task}",
                         where=str(folder), fix="leave tokenize out")
    if output is not None:
        output_suffix(Path(output))  # a bad output name fails before the model is loaded
    reading = {"text": text, "label": label, "id": id, "format": format, "encoding": encoding}
    if task == "ner":
        rows = read_sentences(input, tokenize=tokenize or _run_tokenization(run_dir), **reading)
    else:
        separator = str(card.get("label_separator", ",")) if task == "multilabel" else None
        rows = read_unlabelled(input, text_pair=pair, label_separator=separator, **reading)
    from thresher.evaluate.scoring import default_loader

    classifier = (loader or default_loader())(folder, device=device)
    if task == "ner":
        table = _tagged(rows, classifier, batch_size, progress)
    else:
        table = _classified(rows, classifier, task, batch_size, progress)
    table.attrs.update(task=task, model=model)
    if output is not None:
        write_predictions(table, Path(output))
    return table


def _classified(rows: pd.DataFrame, classifier: Any, task: str, batch_size: int,
                progress: bool) -> pd.DataFrame:
    """Single-label or multilabel predictions for ``rows`` (id, text[, text_pair][, label])."""
    from thresher.evaluate.scoring import predict_proba

    labels = [str(label) for label in classifier.labels]
    texts = rows["text"].tolist()
    # a sentence-pair model reads (text, pair) tuples
    inputs = list(zip(texts, rows["text_pair"].tolist())) if "text_pair" in rows else texts
    proba = predict_proba(classifier, inputs, labels, batch_size, progress)
    if task != "multilabel":
        return prediction_table(rows, proba, labels)
    from thresher.train.multilabel import DEFAULT_THRESHOLD, label_sets

    thresholds = [float(t) for t in getattr(classifier, "thresholds", None)
                  or [DEFAULT_THRESHOLD] * len(labels)]
    separator = rows.attrs["label_separator"]
    table = rows.reset_index(drop=True).copy()
    table["predicted"] = [separator.join(s) for s in label_sets(proba, labels, thresholds)]
    for i, label in enumerate(labels):
        table[f"proba_{label}"] = proba[:, i]
    table.attrs = {**rows.attrs, "thresholds": dict(zip(labels, thresholds))}
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
    text_pair: str | None = None,
    label_separator: str | None = None,
) -> pd.DataFrame:
    """id, text and (when the source has one) label columns of a source; never empty.

    Like :func:`thresher.read_source`, but a label is optional: rows are kept without one.
    ``text_pair`` names a second-text column to read as ``text_pair`` (empty when missing, as
    in training). ``label_separator`` (multilabel) reads each label cell as a label set (a
    list, a JSON list or a separated string) and writes it sorted and joined with the
    separator, so that a set equal to the predicted one is the same string.
    """
    from thresher.io.values import clean_texts

    raw, name = _read_raw(path, format, encoding)
    if raw.frame.empty:
        raise InputError("no rows to predict", where=name, fix="pass a file with at least one row of text")
    roles = _text_roles(raw.frame, name, text, label, id, text_pair)
    texts, reasons = clean_texts(raw.frame[roles.text])
    keep = np.asarray([reason is None for reason in reasons], dtype=bool)
    if not keep.any():
        raise DataError(f"no row has text in column {roles.text!r}", where=name,
                        fix="check the text column (pass --text to choose another)")
    rows = pd.DataFrame({"text": [str(t) for t, k in zip(texts, keep) if k]})
    if text_pair is not None:  # training read a missing pair as "" too
        pairs = ["" if _missing(v) else str(v) for v in raw.frame[text_pair].tolist()]
        rows["text_pair"] = [p for p, k in zip(pairs, keep) if k]
    if roles.label is not None:
        labels = _row_labels(raw, roles.label, name, label_separator)
        rows["label"] = [y for y, k in zip(labels, keep) if k]
    # Content ids as the readers make them: of (text, label), or of the text alone.
    labels_kept = rows["label"].tolist() if "label" in rows else [None] * len(rows)
    keys = [(t, y) if isinstance(y, str) else (t,) for t, y in zip(rows["text"], labels_kept)]
    rows.insert(0, "id", _ids(raw, roles.id, keep, keys, name))
    rows.attrs = {"source": name, "text_column": roles.text, "label_column": roles.label,
                  "skipped": _skipped(reasons, raw, by_reason=False)}
    if text_pair is not None:
        rows.attrs["text_pair_column"] = text_pair
    if label_separator is not None:
        rows.attrs["label_separator"] = label_separator
    return rows


def _text_roles(frame: pd.DataFrame, name: str, text: str | None, label: str | None,
                id: str | None, pair: str | None) -> "Roles":
    from thresher.io.roles import LABEL_NAMES, resolve_roles

    if pair is not None and pair not in frame.columns:
        shown = ", ".join(repr(str(c)) for c in frame.columns)
        raise DataError(f"this model reads sentence pairs, but the input has no {pair!r} column; "
                        f"the columns are {shown}", where=name,
                        fix=f"add each row's second text as column {pair!r}, or pass "
                            "text_pair=<column name> (--text-pair)")
    # the second text must never be taken for the first (it is as long and as text-like)
    candidates = frame.drop(columns=[pair]) if pair is not None else frame
    roles = resolve_roles(candidates, name, text=text, label=label, id=id)
    # Training data must have a label, so the readers take any leftover column for it; here a
    # leftover column is as likely a date or an author: only a label by name (or given) counts.
    if label is None and str(roles.label).strip().lower() not in LABEL_NAMES:
        roles = replace(roles, label=None)
    if roles.text is None:
        shown = ", ".join(repr(str(c)) for c in frame.columns)
        raise DataError(f"no text column found; the columns are {shown}", where=name,
                        fix="pass text=<column name> (--text on the command line)")
    return roles


def _row_labels(raw: "RawTable", column: str, name: str, separator: str | None
                ) -> list[str | None]:
    """Each row's label as a string (None when empty); multilabel: the set, joined."""
    from thresher.io.values import clean_labels

    if separator is None:
        return clean_labels(raw.frame[column], raw.lines, name)[0]
    from thresher.train.multilabel import split_labels

    sets = [[] if _missing(v) else split_labels(v, separator) for v in raw.frame[column].tolist()]
    # sorted, as a run's labels are: the same set gives the same string as ``predicted``
    return [separator.join(sorted(found)) or None for found in sets]


def _model_folder(run_dir: Path, model: str) -> tuple[Path, dict[str, Any]]:
    """The model's folder and its thresher_model.json."""
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
    if task not in TASKS:
        raise ModelError(f"this model is for {task!r}; predict handles {', '.join(TASKS)}",
                         where=str(folder), fix="predict with a model trained for one of these tasks")
    return folder, info


def _pair_column(card: dict[str, Any], folder: Path, task: str, given: str | None) -> str | None:
    """The input column holding each row's second text, for a sentence-pair model.

    The model card, not the manifest, decides: a model reads pairs exactly when it was
    trained on them (training writes ``text_pair`` into thresher_model.json then).
    """
    trained = card.get("text_pair") if task != "ner" else None
    if given is not None and not trained:
        raise InputError("text_pair= is for sentence-pair models; this model reads one text per row",
                         where=str(folder), fix="leave text_pair (--text-pair) out")
    return given or (str(trained) if trained else None)
