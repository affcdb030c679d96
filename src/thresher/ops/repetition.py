"""Gopher repetition rules (Rae et al. 2021, appendix A) that also work on Chinese and Japanese.

The rules: fraction of duplicate lines and paragraphs (by count and by characters); fraction of
characters in the most frequent 2-, 3-, 4-gram; fraction of characters in duplicated 5..10-grams.
Plus one rule Gopher lacks: a maximal run of one repeated letter or digit (哈哈哈哈…, 88888…);
runs of punctuation (。。。。, !!!!) are a writing style in reviews, and ``filter_ratios`` drops
texts that are mostly punctuation.

Tokens come from one compiled regex: each CJK character is a token and a run of other letters or
digits is a token (punctuation and spaces are not). Splitting on spaces would make an unsegmented
Chinese clause a single giant "word", so no n-gram rule could ever fire on Chinese. Fractions
are over token characters, so spacing and punctuation style do not shift them between languages.

One departure from Gopher, for short texts (Gopher only saw documents of 50+ words): the most
frequent n-gram counts only when it occurs at least ``top_ngram_min_count`` times (default 3).
With Gopher's implicit 1, a three-word review fails the 2-gram rule on its single bigram; with 2,
"it is tough to watch but it is a fantastic movie" fails on "it is", and 15% of the CR product
reviews are dropped. Twice-said phrases can only reach these fractions in texts of a few dozen
words, so longer documents are judged as in Gopher. The n-gram rules also stop as soon as no
n-gram repeats, which is what makes the filter fast: most texts stop after their bigrams.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache
from typing import Any

from thresher.ops.base import Batch, Filter, Verdict
from thresher.ops.chinese import CJK_CHARS

__all__ = ["FilterRepetition", "repetition_tokens"]

_TOKEN = re.compile(rf"[{CJK_CHARS}]|[^\W_{CJK_CHARS}]+")
_PARAGRAPHS = re.compile(r"\n\s*\n")
NgramRules = tuple[tuple[int, float], ...]


def repetition_tokens(text: str) -> list[str]:
    """CJK characters one by one, other words whole; punctuation and spaces dropped."""
    return _TOKEN.findall(text)


def _duplicates(items: list[str]) -> tuple[int, int]:
    """(number of items equal to an earlier one, their characters)."""
    seen: set[str] = set()
    count = chars = 0
    for item in items:
        if item in seen:
            count += 1
            chars += len(item)
        else:
            seen.add(item)
    return count, chars


def _duplicated_ngram_chars(tokens: list[str], n: int) -> int:
    """Characters of tokens covered by a second (or later) occurrence of some n-gram; tokens in
    overlapping repeats are counted once."""
    seen: set[tuple[str, ...]] = set()
    covered = bytearray(len(tokens))
    for i, gram in enumerate(zip(*(tokens[k:] for k in range(n)))):
        if gram in seen:
            covered[i:i + n] = b"\x01" * n
        else:
            seen.add(gram)
    return sum(len(t) for t, c in zip(tokens, covered) if c)


def _ngrams(tokens: list[str], n: int) -> zip:
    return zip(*(tokens[k:] for k in range(n)))


def _second(item: tuple[Any, int]) -> int:
    return item[1]


class FilterRepetition(Filter):
    """Drop repetitive texts: Gopher's line, paragraph and n-gram rules plus a character-run cap.

    Each setting is off when null. ``top_ngrams`` and ``dup_ngrams`` are lists of
    ``[n, max_fraction]`` pairs (defaults from Gopher); ``top_ngram_min_count`` is explained in
    the module docstring. Reasons: ``duplicate_lines``,
    ``duplicate_line_chars``, ``duplicate_paragraphs``, ``duplicate_paragraph_chars``,
    ``top_ngram``, ``duplicate_ngrams``, ``char_run``, with details such as
    ``top 2-gram 0.45 > 0.2`` or ``'哈' x14 > 10``.
    """

    name = "filter_repetition"

    def __init__(
        self,
        *,
        dup_line_frac: float | None = 0.30,
        dup_line_char_frac: float | None = 0.20,
        dup_para_frac: float | None = 0.30,
        dup_para_char_frac: float | None = 0.20,
        top_ngrams: NgramRules = ((2, 0.20), (3, 0.18), (4, 0.16)),
        dup_ngrams: NgramRules = ((5, 0.15), (6, 0.14), (7, 0.13), (8, 0.12), (9, 0.11),
                                  (10, 0.10)),
        top_ngram_min_count: int = 3,
        max_char_run: int | None = 10,
    ) -> None:
        self.dup_line_frac = dup_line_frac
        self.dup_line_char_frac = dup_line_char_frac
        self.dup_para_frac = dup_para_frac
        self.dup_para_char_frac = dup_para_char_frac
        self.top_ngrams = top_ngrams
        self.dup_ngrams = dup_ngrams
        self.top_ngram_min_count = top_ngram_min_count
        self.max_char_run = max_char_run

    def check(self) -> None:
        for key in ("dup_line_frac", "dup_line_char_frac", "dup_para_frac", "dup_para_char_frac"):
            value = getattr(self, key)
            if value is not None and not 0.0 <= value <= 1.0:
                raise ValueError(f"{key} must be in [0, 1] or null, got {value}")
        for key in ("top_ngrams", "dup_ngrams"):
            for rule in getattr(self, key) or ():
                if (not isinstance(rule, (list, tuple)) or len(rule) != 2
                        or not isinstance(rule[0], int) or rule[0] < 1
                        or not isinstance(rule[1], (int, float))):
                    raise ValueError(f"{key} must be a list of [n, max_fraction] pairs with "
                                     f"n >= 1, got {rule!r}")
        if self.top_ngram_min_count < 1:
            raise ValueError(f"top_ngram_min_count must be >= 1, got {self.top_ngram_min_count}")
        if self.max_char_run is not None and self.max_char_run < 1:
            raise ValueError(f"max_char_run must be >= 1 or null, got {self.max_char_run}")

    def keep(self, record: dict[str, Any]) -> Verdict:
        return self.text_verdict(record["text"])

    def keep_batch(self, batch: Batch) -> list[Verdict]:
        return list(map(self.text_verdict, batch["text"]))  # no per-row dicts on the hot path

    def text_verdict(self, text: str) -> Verdict:
        if self.max_char_run is not None:
            run = _run_pattern(self.max_char_run).search(text)
            if run:
                return False, "char_run", f"{run[1]!r} x{len(run[0])} > {self.max_char_run}"
        if "\n" in text:
            verdict = self._blocks_verdict(text)
            if verdict is not True:
                return verdict
        return self._ngram_verdict(repetition_tokens(text))

    def _blocks_verdict(self, text: str) -> Verdict:
        """Duplicate lines and paragraphs, as fractions of their count and of len(text)."""
        for kind, parts, frac, char_frac in (
            ("lines", text.split("\n"), self.dup_line_frac, self.dup_line_char_frac),
            ("paragraphs", _PARAGRAPHS.split(text), self.dup_para_frac, self.dup_para_char_frac),
        ):
            parts = [p for p in map(str.strip, parts) if p]
            if len(parts) < 2:
                continue
            count, chars = _duplicates(parts)
            if frac is not None and count / len(parts) > frac:
                return False, f"duplicate_{kind}", f"{count}/{len(parts)} {kind} > {frac}"
            if char_frac is not None and chars / len(text) > char_frac:
                return (False, f"duplicate_{kind[:-1]}_chars",
                        f"{chars}/{len(text)} chars > {char_frac}")
        return True

    def _ngram_verdict(self, tokens: list[str]) -> Verdict:
        total = sum(map(len, tokens))
        # No repeated n-gram means no repeated longer one: rules for n >= no_repeat are moot.
        no_repeat = len(tokens) + 1
        for n, limit in sorted(self.top_ngrams or ()):
            if n >= no_repeat or len(tokens) < n:
                break
            gram, times = max(Counter(_ngrams(tokens, n)).items(), key=_second)
            if times < 2:
                no_repeat = n
                break
            if times < self.top_ngram_min_count:
                break  # longer n-grams occur no more often than this one
            share = times * sum(map(len, gram)) / total
            if share > limit:
                return False, "top_ngram", f"top {n}-gram {share:.2f} > {limit}"
        for n, limit in sorted(self.dup_ngrams or ()):
            if n >= no_repeat or len(tokens) <= n:
                break
            grams = list(_ngrams(tokens, n))
            if len(set(grams)) == len(grams):
                break
            share = _duplicated_ngram_chars(tokens, n) / total
            if share > limit:
                return False, "duplicate_ngrams", f"{n}-grams {share:.2f} > {limit}"
        return True


@lru_cache(maxsize=8)
def _run_pattern(max_run: int) -> re.Pattern[str]:
    """A letter or digit repeated more than ``max_run`` times in a row."""
    return re.compile(rf"([^\W_])\1{{{max_run},}}")
