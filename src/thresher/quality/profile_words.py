"""Words of a dataset: vocabulary, the most frequent words per label, and giveaway words.

A classifier learns whatever separates the labels, including words that only separate them by
accident (a source's signature, a template, the label's own name). Listing the words most
associated with each label shows those shortcuts before hours go into training.

Words are jieba's for Chinese text (a text is Chinese when at least CJK_THRESHOLD of its word
characters are CJK, the rule the baseline uses) and runs of letters and digits, case-folded,
otherwise. jieba is the slow part (~150k characters a second on one core), so the words of a
large dataset are counted on a seeded sample of rows sized by how much Chinese it holds; the
output says so.
Counts per label are document frequencies (rows containing the word), so one long text
repeating a word does not make it typical of its label.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import pandas as pd

from thresher.ops.chinese import CJK_CHARS, jieba_words
from thresher.train.baseline import CJK_THRESHOLD

__all__ = [
    "WordCounts",
    "count_words",
    "giveaway_words",
    "is_chinese",
    "label_mentions",
    "split_words",
    "top_words",
    "vocabulary_overlap",
]

MAX_WORD_ROWS = 100_000  # regex words cost ~5 s per million short rows: enough for stable counts
# characters of Chinese text jieba segments at most: ~1.5 s on one core (with its HMM, which
# finds names such as 皇马 and 曼联 that its dictionary splits into single characters)
MAX_CJK_CHARS = 250_000
ESTIMATE_ROWS = 5_000  # rows whose script estimates how much Chinese the data holds
TOP_WORDS = 15
GIVEAWAYS_PER_LABEL = 10
MIN_COUNT = 10  # rows a word must occur in before it can be a giveaway
PRIOR_SHARE = 0.1  # the Dirichlet prior is worth a tenth of the counted words (Monroe et al.)
MIN_Z = 3.0  # giveaway candidates: log-odds z-score at least this
MAX_MENTION_LABELS = 100

_CJK = re.compile(f"[{CJK_CHARS}]")
_WORD_CHAR = re.compile(r"\w")
# a CJK character is a word of its own in mostly non-Chinese text; other words: letters/digits
_WORD = re.compile(f"[{CJK_CHARS}]|[^\\W_{CJK_CHARS}]+")
_DIGITS = re.compile(r"\d+")


@dataclass
class WordCounts:
    """Word counts over the sampled rows: tokens per split, rows containing a word per label."""

    rows: int  # rows counted
    of_rows: int  # rows in the data
    chinese_rows: int  # of the counted rows, those segmented with jieba
    index: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # rows counted
    by_split: dict[str, Counter] = field(default_factory=dict)
    by_label: dict[str, Counter] = field(default_factory=dict)
    label_rows: dict[str, int] = field(default_factory=dict)

    @property
    def sampled(self) -> bool:
        return self.rows < self.of_rows


def is_chinese(texts: Sequence[str]) -> np.ndarray:
    """Per text: are at least CJK_THRESHOLD of its word characters CJK?"""
    out = np.zeros(len(texts), dtype=bool)
    for i, text in enumerate(texts):
        if not text.isascii():  # an ASCII text cannot be Chinese: skip two regex scans
            letters = len(_WORD_CHAR.findall(text))
            out[i] = letters > 0 and len(_CJK.findall(text)) >= CJK_THRESHOLD * letters
    return out


def split_words(text: str, chinese: bool) -> list[str]:
    """The words of one text, case-folded: jieba's for Chinese text, a regex split otherwise."""
    if chinese:
        return [w.casefold() for w in jieba_words(text)]
    return _WORD.findall(text.casefold())


def sample_rows(texts: Sequence[str], order: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(rows to count words in, which of them are Chinese): a prefix of the seeded ``order``.

    The prefix is as long as MAX_WORD_ROWS allows and as jieba's budget of MAX_CJK_CHARS
    allows, the Chinese characters estimated from the first ESTIMATE_ROWS rows of ``order``
    (a random sample), so only the rows counted are ever scanned for their script.
    """
    n = len(texts)
    if n == 0:
        return order, np.zeros(0, dtype=bool)
    probe = order[:ESTIMATE_ROWS]
    chinese = is_chinese([texts[i] for i in probe])
    cjk_chars = sum(len(texts[i]) for i in probe[chinese]) * n / len(probe)
    share = min(1.0, MAX_WORD_ROWS / n, MAX_CJK_CHARS / max(cjk_chars, 1.0))
    rows = np.sort(order[:max(1, round(share * n))])
    return rows, is_chinese([texts[i] for i in rows])


def count_words(texts: Sequence[str], splits: Sequence[str], labels: Sequence[str] | None,
                order: np.ndarray) -> WordCounts:
    """Count the words of the rows :func:`sample_rows` picks from ``order``."""
    rows, chinese = sample_rows(texts, order)
    counts = WordCounts(rows=len(rows), of_rows=len(texts), chinese_rows=int(chinese.sum()),
                        index=rows)
    for i, zh in zip(rows.tolist(), chinese.tolist()):
        words = split_words(texts[i], zh)
        counts.by_split.setdefault(splits[i], Counter()).update(words)
        if labels is not None:
            label = labels[i]
            counts.by_label.setdefault(label, Counter()).update(set(words))
            counts.label_rows[label] = counts.label_rows.get(label, 0) + 1
    return counts


def _stop_words() -> frozenset[str]:
    # the lists thresher's stop-word filter uses (scikit-learn English, stopwords-iso Chinese)
    from thresher.ops.stopwords import _chinese, _english

    return _english() | _chinese()[0]


def _content_word(word: str, stops: frozenset[str]) -> bool:
    """Worth showing: not a stop word, not one Latin letter, not a bare number."""
    if word in stops or _DIGITS.fullmatch(word):
        return False
    return len(word) > 1 or _CJK.match(word) is not None


def top_words(counts: WordCounts, n: int = TOP_WORDS) -> dict[str, list[list[Any]]]:
    """Per label, the ``n`` content words found in most rows: [[word, rows, share], ...]."""
    stops = _stop_words()
    out: dict[str, list[list[Any]]] = {}
    for label, counter in counts.by_label.items():
        rows = counts.label_rows[label]
        picked = [(w, c) for w, c in counter.most_common() if _content_word(w, stops)][:n]
        out[label] = [[w, int(c), round(c / rows, 4)] for w, c in picked]
    return out


def giveaway_words(counts: WordCounts) -> dict[str, list[dict[str, Any]]]:
    """Per label, the words most associated with it against all other labels.

    The weighted log-odds ratio with an informative Dirichlet prior (Monroe, Colaresi & Quinn
    2008, "Fightin' Words", eq. 16-22): the prior is each word's share over all labels, worth
    PRIOR_SHARE of the counted words, which shrinks rare words towards no association; the
    z-score divides by the estimate's standard error. Words in fewer than MIN_COUNT rows are
    left out, and so are stop words.
    """
    if len(counts.by_label) < 2:
        return {}
    labels = sorted(counts.by_label)
    stops = _stop_words()
    total = Counter()
    for counter in counts.by_label.values():
        total.update(counter)
    vocab = [w for w, c in total.items() if c >= MIN_COUNT and _content_word(w, stops)]
    if not vocab:
        return {label: [] for label in labels}
    y = np.array([[counts.by_label[lab].get(w, 0) for w in vocab] for lab in labels], dtype=float)
    sizes = np.array([sum(counts.by_label[lab].values()) for lab in labels], dtype=float)
    return {lab: _label_giveaways(k, y, sizes, vocab, counts.label_rows[lab])
            for k, lab in enumerate(labels)}


def _label_giveaways(k: int, y: np.ndarray, sizes: np.ndarray, vocab: list[str],
                     label_rows: int) -> list[dict[str, Any]]:
    """Label k against the rest; ``y``: counts per label and word, ``sizes``: all words per
    label (stop words and rare words included, as the model's totals are)."""
    y_all = y.sum(axis=0)
    alpha, a0 = PRIOR_SHARE * y_all, PRIOR_SHARE * sizes.sum()  # alpha_w = a0 * y_w / n
    y_k, y_rest = y[k], y_all - y[k]
    n_k, n_rest = sizes[k], sizes.sum() - sizes[k]
    delta = (np.log((y_k + alpha) / (n_k + a0 - y_k - alpha))
             - np.log((y_rest + alpha) / (n_rest + a0 - y_rest - alpha)))
    z = delta / np.sqrt(1.0 / (y_k + alpha) + 1.0 / (y_rest + alpha))
    best = [i for i in np.argsort(-z, kind="stable")[:GIVEAWAYS_PER_LABEL] if z[i] >= MIN_Z]
    return [{"word": vocab[i], "z": round(float(z[i]), 2), "rows": int(y_k[i]),
             "rows_all_labels": int(y_all[i]), "share_in_label": round(float(y_k[i] / y_all[i]), 4),
             "coverage": round(float(y_k[i] / max(label_rows, 1)), 4)} for i in best]


def label_mentions(texts: pd.Series, labels: pd.Series) -> dict[str, Any]:
    """Per label name: the share of its rows, and of other rows, that contain the name.

    A whole word, case-insensitive, for names with Latin letters; a substring for Chinese
    names. Names that are only digits (0/1 labels) are skipped: numbers occur everywhere.
    """
    names = labels.value_counts().index.tolist()
    checked = [n for n in names if n.strip() and not n.strip().isdigit()][:MAX_MENTION_LABELS]
    lowered = texts.str.casefold()
    out: dict[str, Any] = {}
    for name in checked:
        needle = name.strip().casefold()
        hit = lowered.str.contains(needle, regex=False)
        if not _CJK.search(needle) and hit.any():  # a whole word: "sports", not "sportsman"
            word = re.compile(rf"(?<!\w){re.escape(needle)}(?!\w)")
            hit[hit] = [word.search(t) is not None for t in lowered[hit]]
        own = labels == name
        out[name] = {"rows": int((hit & own).sum()), "share": _share(hit[own]),
                     "share_other_labels": _share(hit[~own])}
    skipped = len(names) - len(checked)
    return {"labels": out, "skipped": skipped,
            "why_skipped": "names that are only digits (or beyond the 100 largest labels)"
            if skipped else None}


def _share(mask: pd.Series) -> float | None:
    return round(float(mask.mean()), 4) if len(mask) else None


def vocabulary_overlap(reference: Counter, other: Counter) -> dict[str, Any]:
    """How much of ``other``'s text uses words ``reference`` has: token coverage and Jaccard."""
    tokens = sum(other.values())
    covered = sum(c for w, c in other.items() if w in reference)
    union = len(reference.keys() | other.keys())
    shared = len(reference.keys() & other.keys())
    return {"token_coverage": round(covered / tokens, 4) if tokens else None,
            "vocabulary_jaccard": round(shared / union, 4) if union else None,
            "words_only_here": len(other.keys() - reference.keys())}
