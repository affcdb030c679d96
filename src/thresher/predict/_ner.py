"""NER input (CoNLL, sentence lines, token tables) and tagging: word-level tags from each
word's first sub-token, entity spans with the lowest word confidence."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from thresher.errors import DataError, InputError, ModelError
from thresher.predict._io import _ids, _in_chunks, _joined, _json_list, _missing, _skipped

if TYPE_CHECKING:
    from thresher.io.result import RawTable

TOKENIZATIONS = ("whitespace", "character")  # how NER text is cut into words
# Chinese NER data (Weibo, People's Daily) is one character per token; English tokens of one
# character ("a", ",") stay far below this share.
CHARACTER_SHARE = 0.9
NO_PROBABILITIES = "this model gives tags without probabilities"


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
