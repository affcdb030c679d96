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

import json
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
import pandas as pd

from thresher._files import atomic_path, read_json
from thresher.errors import DataError, InputError, ModelError, OutputError

if TYPE_CHECKING:
    from thresher.io.result import RawTable
    from thresher.io.roles import Roles
    from thresher.train.classifier import Classifier

__all__ = ["MODELS", "OUTPUT_FORMATS", "TASKS", "TOKENIZATIONS", "predict", "read_sentences",
           "read_unlabelled", "write_predictions"]

MODELS = ("model", "baseline")  # the folders of a run that hold a classifier
OUTPUT_FORMATS = (".parquet", ".csv", ".jsonl")
TASKS = ("classification", "multilabel", "ner")
TOKENIZATIONS = ("whitespace", "character")  # how NER text is cut into words
# Chinese NER data (Weibo, People's Daily) is one character per token; English tokens of one
# character ("a", ",") stay far below this share.
CHARACTER_SHARE = 0.9
NO_PROBABILITIES = "this model gives tags without probabilities"


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
        _output_suffix(Path(output))  # a bad output name fails before the model is loaded
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


def read_sentences(
    path: str | Path,
    *,
    text: str | None = None,
    label: str | None = None,
    id: str | None = None,
    format: str | None = None,
    encoding: str | None = None,
    tokenize: str | None = None,
) -> pd.DataFrame:
    """id, text, tokens and (when the source has them) gold ``tags`` of NER input; never empty.

    CoNLL/BIO files give tokens and tags; other text files are one sentence per line (blank
    lines are skipped); tables need a tokens column (lists, or JSON lists) or a text column,
    found by name (tokens, words, text, sentence, ...) or given as ``text``, and may carry gold
    tags (lists, JSON lists or space-separated). Text is cut into words per
    ``tokenize``: "character" (every non-space character a word, as Chinese NER data is) or
    "whitespace"; by default "character" when the input is mostly CJK. Gold tags that do not
    align with their tokens are dropped (null) with a note in ``attrs["notes"]``.
    """
    if tokenize is not None and tokenize not in TOKENIZATIONS:
        raise InputError(f"unknown tokenize {tokenize!r}", where="tokenize",
                         fix=f"use one of {', '.join(TOKENIZATIONS)}, or leave it out")
    raw, name, kind = _read_ner_raw(path, format, encoding)
    if raw.frame.empty:
        reasons = ", ".join(sorted({b.reason for b in raw.bad})) or "no rows"
        raise InputError(f"no sentence to predict ({reasons})", where=name,
                         fix="pass CoNLL lines (token<TAB>tag), one sentence per line, or a table")
    tokens_col, tags_col, id_col = _ner_roles(raw.frame, name, text, label, id, kind)
    mode = tokenize or _input_tokenization(raw.frame[tokens_col])
    cut = [_sentence(value, mode == "character") for value in raw.frame[tokens_col].tolist()]
    keep = np.asarray([reason is None for _, _, reason in cut], dtype=bool)
    if not keep.any():
        raise DataError(f"no row has text in column {tokens_col!r}", where=name,
                        fix="check the text column (pass --text to choose another)")
    kept = [(sentence, words) for (sentence, words, _), k in zip(cut, keep) if k]
    rows = pd.DataFrame({"text": [s for s, _ in kept], "tokens": [w for _, w in kept]})
    notes: list[str] = []
    if tags_col is not None:
        rows["tags"] = _gold_tags(raw.frame[tags_col].tolist(), keep, rows["tokens"].tolist(), notes)
    gold = rows["tags"].tolist() if "tags" in rows else [None] * len(rows)
    keys = [(w, g) if g is not None else (w,) for w, g in zip(rows["tokens"], gold)]
    rows.insert(0, "id", _ids(raw, id_col, keep, keys, name))
    rows.attrs = {"source": name, "text_column": tokens_col, "label_column": tags_col,
                  "tokenization": mode, "notes": notes,
                  "skipped": _skipped([r for _, _, r in cut], raw, by_reason=True)}
    return rows


def _read_ner_raw(path: str | Path, format: str | None, encoding: str | None
                  ) -> tuple["RawTable", str, str]:
    """The raw rows of NER input and their kind: "conll" (columns tokens and tags), "lines"
    (column text: one sentence per line) or "table" (any columns)."""
    from thresher.io.conll_reader import looks_like_conll, read_conll
    from thresher.io.detect import detect_format, format_name, text_format
    from thresher.io.encoding import load_text
    from thresher.io.hf_reader import read_hf_hub
    from thresher.io.source import _locate, _read_raw as read_located

    located = _locate(str(path), None)
    if located.hub:
        return read_hf_hub(located.hub)[0], located.name, "table"
    assert located.path is not None
    fmt = format_name(format) if format else detect_format(located.path)
    decoded = None
    if fmt is None:  # no telling extension: JSON by its first character, then CoNLL, else lines
        decoded = load_text(located.path, encoding)
        guess = text_format(decoded.lines, "classification", None)
        fmt = guess if guess in ("json", "jsonl") else (
            "conll" if looks_like_conll(decoded.lines) else "lines")
    if fmt not in ("conll", "lines"):
        return read_located(located, fmt, "ner", encoding)[0], located.name, "table"
    decoded = decoded or load_text(located.path, encoding)
    if fmt == "conll":
        return read_conll(decoded, located.name), located.name, "conll"
    return _sentence_lines(decoded), located.name, "lines"


def _sentence_lines(decoded: Any) -> "RawTable":
    """One row (column ``text``) per non-blank line; damaged lines become bad rows."""
    from thresher.io.result import BadRow, RawTable

    texts, numbers, bad = [], [], []
    for number, line in enumerate(decoded.lines, start=1):
        if not line.strip():
            continue
        if number in decoded.flags:
            reason, detail = decoded.flags[number]
            bad.append(BadRow(number, reason, f"line {number}: {detail}", {"raw": line}))
            continue
        texts.append(line.strip())
        numbers.append(number)
    return RawTable(frame=pd.DataFrame({"text": texts}, dtype=object), lines=numbers, bad=bad,
                    encoding=decoded.encoding)


def _ner_roles(frame: pd.DataFrame, name: str, text: str | None, label: str | None,
               id: str | None, kind: str) -> tuple[str, str | None, str | None]:
    """The tokens (or text), gold tags and id columns of NER input."""
    from thresher.io.ner_table import TAG_NAMES, TOKEN_NAMES
    from thresher.io.roles import TEXT_NAMES, _check_exists, _named, _unique_id

    if kind != "table":
        return ("tokens", "tags", None) if kind == "conll" else ("text", None, None)
    columns = list(frame.columns)
    for given, role in ((text, "text"), (label, "label"), (id, "id")):
        if given is not None:
            _check_exists(given, columns, role, name)
    taken = {c for c in (text, label, id) if c}
    # by name only: a leftover column of a table is as likely a date as a sentence
    tokens = text or _named(columns, TOKEN_NAMES + TEXT_NAMES, taken)
    if tokens is None:
        shown = ", ".join(repr(str(c)) for c in columns)
        raise DataError(f"no tokens or text column found; the columns are {shown}", where=name,
                        fix="name a column 'tokens' (a list of words) or 'text' (one sentence), "
                            "or pass text=<column name> (--text)")
    taken.add(tokens)
    tags = label or _named(columns, TAG_NAMES, taken)
    return tokens, tags, id or _unique_id(frame, taken | ({tags} if tags else set()))


def _sentence(value: Any, by_character: bool) -> tuple[str, list[str], str | None]:
    """(text, words, why not usable) of one cell: a list of tokens, a JSON list, or text."""
    if hasattr(value, "tolist") and not isinstance(value, str):
        value = value.tolist()
    if _missing(value):
        return "", [], "missing_text"
    if isinstance(value, str) and value.strip().startswith("["):
        parsed = _json_list(value)
        value = parsed if parsed is not None else value
    if isinstance(value, list):
        words = [str(w) for w in value]
        return _joined(words), words, None if words else "empty_sentence"
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return "", [], "text_not_string"
    sentence = str(value)
    words = [c for c in sentence if not c.isspace()] if by_character else sentence.split()
    return sentence.strip(), words, None if words else "empty_text"


def _gold_tags(values: list[Any], keep: np.ndarray, tokens: list[list[str]],
               notes: list[str]) -> list[list[str] | None]:
    out: list[list[str] | None] = []
    misaligned = 0
    for value, words in zip((v for v, k in zip(values, keep) if k), tokens):
        tags = _tag_list(value)
        if tags is not None and len(tags) != len(words):
            tags, misaligned = None, misaligned + 1
        out.append(tags)
    if misaligned:
        notes.append(f"{misaligned} of {len(out)} sentences have gold tags that do not align "
                     "with their tokens (a different count): their tags are left empty (null)")
    return out


def _tag_list(value: Any) -> list[str] | None:
    if hasattr(value, "tolist") and not isinstance(value, str):
        value = value.tolist()
    if _missing(value):
        return None
    if isinstance(value, str):
        parsed = _json_list(value) if value.strip().startswith("[") else None
        value = parsed if parsed is not None else value.split()
    if not isinstance(value, list) or not value:
        return None
    # integer tags (Parquet without tag names) read as their decimal strings, as in training
    return [str(int(t)) if isinstance(t, (int, float)) and not isinstance(t, bool) else str(t)
            for t in value]


def _input_tokenization(column: pd.Series) -> str:
    from thresher.train.baseline import CJK_THRESHOLD, cjk_share

    texts = [v for v in column.head(2000).tolist() if isinstance(v, str)]
    return "character" if texts and cjk_share(texts) >= CJK_THRESHOLD else "whitespace"


def _run_tokenization(run_dir: Path) -> str | None:
    """"character" when the run's training tokens are single characters (Chinese NER data),
    "whitespace" when they are words; None when the run has no readable training split."""
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(run_dir / "data" / "train.parquet", columns=["tokens"])
    except (OSError, ValueError):  # absent, damaged or not NER data: decide from the input
        return None
    sentences = table.column("tokens").to_pylist()[:2000]
    tokens = [str(t) for sentence in sentences if isinstance(sentence, list) for t in sentence]
    if not tokens:
        return None
    single = sum(1 for t in tokens if len(t) == 1) / len(tokens)
    return "character" if single >= CHARACTER_SHARE else "whitespace"


def _tagged(rows: pd.DataFrame, tagger: Any, batch_size: int, progress: bool) -> pd.DataFrame:
    """``rows`` with ``predicted`` (a tag per token) and ``entities`` (spans with confidence)."""
    sentences = rows["tokens"].tolist()
    results = _in_chunks(lambda part: _tag_chunk(tagger, part, batch_size), sentences,
                         batch_size, progress)
    for words, (tags, _, _) in zip(sentences, results):
        if len(tags) != len(words):
            raise ModelError(f"the tagger returned {len(tags)} tags for a sentence of "
                             f"{len(words)} words", where=type(tagger).__name__,
                             fix="predict_tags must return one tag per word")
    table = rows.reset_index(drop=True).copy()
    table["predicted"] = [tags for tags, _, _ in results]
    table["entities"] = [_entities(words, tags, confidences)
                         for words, (tags, confidences, _) in zip(sentences, results)]
    notes = list(rows.attrs.get("notes", []))
    cut = sum(1 for _, _, truncated in results if truncated)
    if cut:
        notes.append(f"{cut} sentences are longer than the model's max_length: words past it "
                     "were not seen and are tagged O")
    if any(confidences is None for _, confidences, _ in results):
        notes.append(f"entity confidence is null: {NO_PROBABILITIES}")
    table.attrs = {**rows.attrs, "notes": notes}
    return table


def _tag_chunk(tagger: Any, sentences: list[list[str]], batch_size: int
               ) -> list[tuple[list[str], list[float | None] | None, bool]]:
    """Per sentence: the tag of every word; for a fine-tuned tagger each word's top tag
    probability (None for a word without a sub-token in view), else None; and whether
    max_length cut words off. Tags come from the same code as ``predict_tags``."""
    from thresher.train.ner import TokenTagger

    if not isinstance(tagger, TokenTagger):  # the frequent-tag baseline: tags only
        found = tagger.predict_tags(sentences, batch_size=batch_size)
        return [(list(tags), None, False) for tags in found]
    from thresher.train.batches import encode_words
    from thresher.train.loop import predict_logits
    from thresher.train.tasks import TokenTagging

    data = encode_words(tagger.tokenizer, sentences, tagger.max_length)
    logits = predict_logits(tagger.model, data, batch_size, tagger.device, tagger.precision)
    tags = TokenTagging(tagger.labels).word_tags(logits, data)
    out: list[tuple[list[str], list[float | None] | None, bool]] = []
    for row, (row_logits, starts) in enumerate(zip(logits, data.word_starts or [])):
        shifted = row_logits.astype(np.float64) - row_logits.max(axis=-1, keepdims=True)
        top = 1.0 / np.exp(shifted).sum(axis=-1)  # softmax of the largest logit
        truncated = bool(data.lengths[row] >= tagger.max_length and -1 in starts)
        out.append((tags[row], [float(top[s]) if s >= 0 else None for s in starts], truncated))
    return out


def _entities(words: list[str], tags: list[str], confidences: list[float | None] | None
              ) -> list[dict[str, Any]]:
    """Entity spans as seqeval reads BIO (as evaluate scores them), ``end`` exclusive."""
    try:
        from seqeval.metrics.sequence_labeling import get_entities
    except ImportError as exc:
        raise ModelError(f"cannot read entities: {exc}", where="seqeval",
                         fix="install the training extra: pip install 'thresher[train]'") from exc
    out = []
    for kind, start, last in get_entities(list(tags)):
        entity: dict[str, Any] = {"type": kind, "start": int(start), "end": int(last) + 1,
                                  "text": _joined(words[start:last + 1])}
        if confidences is None:
            entity.update(confidence=None, why=NO_PROBABILITIES)
        else:  # words of an entity were seen by the model: cut-off words are tagged O
            entity["confidence"] = min(float(c) for c in confidences[start:last + 1] if c is not None)
        out.append(entity)
    return out


def _in_chunks(work: Callable[[list[Any]], list[Any]], items: list[Any], batch_size: int,
               progress: bool) -> list[Any]:
    """``work(items)``, in chunks under a progress bar when ``progress``."""
    if not progress:
        return work(items)
    from rich.progress import Progress

    from thresher.evaluate.scoring import PROGRESS_CHUNK_BATCHES

    chunk = batch_size * PROGRESS_CHUNK_BATCHES
    out: list[Any] = []
    with Progress(transient=True) as bar:
        task = bar.add_task("tagging", total=len(items))
        for start in range(0, len(items), chunk):
            part = items[start : start + chunk]
            out.extend(work(part))
            bar.advance(task, len(part))
    return out


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


def _skipped(reasons: list[str | None], raw: "RawTable", by_reason: bool) -> dict[str, int]:
    """Rows left out, by reason; rows the reader could not parse as "unparsable" (or by the
    reader's own reason: NER sentences)."""
    skipped = Counter(reason for reason in reasons if reason is not None)
    if by_reason:
        skipped.update(bad.reason for bad in raw.bad)
    elif raw.bad:
        skipped["unparsable"] = len(raw.bad)
    return dict(skipped)


def _missing(value: Any) -> bool:
    from thresher.io.values import is_missing

    return not isinstance(value, (list, tuple)) and is_missing(value)


def _json_list(text: str) -> list[Any] | None:
    try:
        parsed = json.loads(text)
    except ValueError:
        return None
    return parsed if isinstance(parsed, list) else None


def _joined(words: list[str]) -> str:
    """Words joined by spaces; characters (Chinese input, one per token) joined without."""
    return ("" if words and all(len(w) == 1 for w in words) else " ").join(words)


def write_predictions(table: pd.DataFrame, path: Path) -> Path:
    """Write ``table`` as Parquet, CSV (UTF-8; list and dict cells as JSON) or JSON Lines,
    chosen by the suffix of ``path``."""
    suffix = _output_suffix(path)
    try:
        with atomic_path(path) as tmp:
            if suffix == ".parquet":
                table.to_parquet(tmp, index=False)
            elif suffix == ".csv":
                _json_cells(table).to_csv(tmp, index=False, encoding="utf-8")
            else:
                table.to_json(tmp, orient="records", lines=True, force_ascii=False)
    except OSError as exc:
        raise OutputError(f"cannot write the predictions ({exc.strerror or exc})", where=str(path),
                          fix="choose an output path you can write to") from None
    return path


def _json_cells(table: pd.DataFrame) -> pd.DataFrame:
    """A copy whose list and dict cells (NER tokens, tags, entities) are JSON text."""
    nested = [c for c in table.columns if table[c].dtype == object
              and table[c].map(lambda v: isinstance(v, (list, dict, np.ndarray))).any()]
    if not nested:
        return table
    out = table.copy()
    for column in nested:
        out[column] = [json.dumps(v.tolist() if isinstance(v, np.ndarray) else v, ensure_ascii=False)
                       if isinstance(v, (list, dict, np.ndarray)) else v for v in table[column]]
    return out


def _output_suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in OUTPUT_FORMATS:
        raise OutputError(f"cannot write predictions as {suffix or 'a file without a suffix'!r}",
                          where=str(path), fix=f"name the output *{', *'.join(OUTPUT_FORMATS)}")
    return suffix


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
