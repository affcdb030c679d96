"""Gopher repetition rules (Rae et al. 2021, appendix A) that also work on Chinese and Japanese.

The rules: fraction of duplicate lines and paragraphs (by count and by characters); fraction of
characters in the most frequent 2-, 3-, 4-gram; fraction of characters in duplicated 5..10-grams.
Plus one rule Gopher lacks: a maximal run of one repeated letter or digit (哈哈哈哈…, 88888…);
runs of punctuation (。。。。, !!!!) are a writing style in reviews, and ``filter_ratios`` drops
texts that are mostly punctuation.

Tokens come from a compiled regex: each CJK character is a token and a run of other letters or
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
from itertools import pairwise
from typing import Any

from thresher.ops.base import Batch, Filter, Verdict
from thresher.ops.chinese import CJK_CHARS

__all__ = ["FilterRepetition", "repetition_tokens"]

_TOKEN = re.compile(rf"[{CJK_CHARS}]|[^\W_{CJK_CHARS}]+")
# the same tokens, found as whole CJK runs (split afterwards with list.extend: 1.6x faster on
# Chinese, where nearly every character is a token)
_RUNS = re.compile(rf"([{CJK_CHARS}]+)|([^\W_{CJK_CHARS}]+)")
_CJK = re.compile(rf"[{CJK_CHARS}]")
_PARAGRAPHS = re.compile(r"\n\s*\n")
NgramRules = tuple[tuple[int, float], ...]


def repetition_tokens(text: str) -> list[str]:
    """CJK characters one by one, other words whole; punctuation and spaces dropped."""
    if not _CJK.search(text):
        return _TOKEN.findall(text)
    tokens: list[str] = []
    for cjk, word in _RUNS.findall(text):
        if cjk:
            tokens.extend(cjk)
        else:
            tokens.append(word)
    return tokens


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


def _first_positions(grams: list[tuple[str, ...]]) -> dict[tuple[str, ...], int]:
    """Each distinct n-gram -> the position of its first occurrence (built in C, no loop)."""
    return dict(zip(reversed(grams), range(len(grams) - 1, -1, -1), strict=True))


def _duplicated_ngram_chars(tokens: list[str], n: int, grams: list[tuple[str, ...]],
                            first: dict[tuple[str, ...], int]) -> int:
    """Characters of tokens covered by a second (or later) occurrence of some n-gram; tokens in
    overlapping repeats are counted once."""
    chars = end = 0
    for i, first_at in enumerate(map(first.__getitem__, grams)):
        if first_at != i:
            chars += sum(map(len, tokens[max(i, end):i + n]))
            end = i + n
    return chars


def _ngrams(tokens: list[str], n: int) -> zip:
    return zip(*[tokens[k:] for k in range(n)], strict=False)  # stops at the shortest


class FilterRepetition(Filter):
    """Drop repetitive texts: Gopher's line, paragraph and n-gram rules plus a character-run cap.

    Each setting is off when null. ``top_ngrams`` and ``dup_ngrams`` are lists of
    ``[n, max_fraction]`` pairs (defaults from Gopher); ``top_ngram_min_count`` is explained in
    the module docstring. Reasons: ``duplicate_lines``, ``duplicate_line_chars``,
    ``duplicate_paragraphs``, ``duplicate_paragraph_chars``, ``top_ngram``, ``duplicate_ngrams``,
    ``char_run``, with details such as ``top 2-gram 0.45 > 0.2`` or ``'哈' x14 > 10``.
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
        tokens = repetition_tokens(text)
        pairs = Counter(pairwise(tokens))
        top_pair = max(pairs.values(), default=0)
        if self.max_char_run is not None and (
                top_pair >= self.max_char_run  # a CJK run of k characters repeats a pair k-1 times
                or max(map(len, tokens), default=0) > self.max_char_run):  # other runs: one token
            run = _run_pattern(self.max_char_run).search(text)
            if run:
                return False, "char_run", f"{run[1]!r} x{len(run[0])} > {self.max_char_run}"
        if "\n" in text:
            verdict = self._blocks_verdict(text)
            if verdict is not True:
                return verdict
        if top_pair < 2:
            return True  # no token pair repeats, so no n-gram of any length does
        return self._ngram_verdict(tokens, pairs, top_pair)

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

    def _ngram_verdict(self, tokens: list[str], pairs: Counter, top_pair: int) -> Verdict:
        # Most texts are settled by upper bounds from the pair counts and the token lengths
        # (longest first), without building any n-gram table: that keeps the filter fast.
        lengths = sorted(map(len, tokens), reverse=True)
        total = sum(lengths)
        top_rules, dup_rules = self._rules()
        for n, limit in top_rules if top_pair >= self.top_ngram_min_count else ():
            if len(tokens) < n:
                break
            if n >= 2 and top_pair * sum(lengths[:n]) <= limit * total:
                continue  # an n-gram occurs at most top_pair times
            counts = pairs if n == 2 else Counter(_ngrams(tokens, n))
            times = max(counts.values())
            if times < self.top_ngram_min_count:
                break  # longer n-grams occur no more often than this one
            gram = max(counts, key=counts.__getitem__)  # the first of the most frequent
            share = times * sum(map(len, gram)) / total
            if share > limit:
                return False, "top_ngram", f"top {n}-gram {share:.2f} > {limit}"
        # A second occurrence of an n-gram makes its n-1 pairs repeat earlier pairs, so repeats
        # of n-grams cover at most repeated_pairs * n / (n-1) tokens.
        repeated_pairs = len(tokens) - 1 - len(pairs)
        for i, (n, limit) in enumerate(dup_rules):
            if repeated_pairs < n - 1 or len(tokens) <= n:
                break
            if sum(lengths[:repeated_pairs * n // (n - 1)]) <= limit * total:
                continue
            grams = list(_ngrams(tokens, n))
            first = _first_positions(grams)
            if len(first) == len(grams):
                break  # no n-gram repeats, nor any longer one
            share = _duplicated_ngram_chars(tokens, n, grams, first) / total
            if share > limit:
                return False, "duplicate_ngrams", f"{n}-grams {share:.2f} > {limit}"
            # longer repeats cover a subset of these characters: stop when no limit can be hit
            if share <= min(rule[1] for rule in dup_rules[i:]):
                break
        return True

    def _rules(self) -> tuple[NgramRules, NgramRules]:
        """Both n-gram rule lists sorted by n (cached: this runs once per text)."""
        rules = getattr(self, "_sorted_rules", None)
        if rules is None:
            rules = (tuple(sorted(map(tuple, self.top_ngrams or ()))),
                     tuple(sorted(map(tuple, self.dup_ngrams or ()))))
            self._sorted_rules = rules
        return rules


@lru_cache(maxsize=8)
def _run_pattern(max_run: int) -> re.Pattern[str]:
    """A letter or digit repeated more than ``max_run`` times in a row."""
    return re.compile(rf"([^\W_])\1{{{max_run},}}")
