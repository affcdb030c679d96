"""Stop-word filter (Gopher: real prose contains function words; keyword lists and code do not).

The lists come from installed packages, never from a copy in this repository: English is
scikit-learn's ``ENGLISH_STOP_WORDS`` (318 words), Chinese is stopwords-iso's ``zh`` list (the
``stopwordsiso`` package; its punctuation and full-width digit entries are left out).

English words are runs of letters/digits, lowercased. Chinese has no spaces, so stop words are
found by a longest match on the list (``我们`` before ``我``) and every other CJK character counts
as one token: no segmenter is needed, and it is several times faster than jieba. The language is
set in the recipe or chosen per text (``auto``): Chinese when at least half of the tokens are CJK
characters.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from thresher.ops.base import Batch, Filter, Verdict
from thresher.ops.chinese import CJK_CHARS

__all__ = ["FilterStopwords", "count_stopwords"]

Language = Literal["auto", "en", "zh"]
_TOKEN = re.compile(rf"([{CJK_CHARS}])|[^\W_{CJK_CHARS}]+")
_CJK_WORD = re.compile(rf"[{CJK_CHARS}]+")
_LATIN_WORD = re.compile(rf"[^\W_{CJK_CHARS}]+")
_LISTS: dict[str, Any] = {}


def _english() -> frozenset[str]:
    if "en" not in _LISTS:
        from sklearn.feature_extraction._stop_words import ENGLISH_STOP_WORDS

        _LISTS["en"] = frozenset(ENGLISH_STOP_WORDS)
    return _LISTS["en"]


def _chinese() -> tuple[frozenset[str], dict[str, tuple[int, ...]]]:
    """The Chinese list and, per first character, the word lengths to try (longest first)."""
    if "zh" not in _LISTS:
        import stopwordsiso

        words = frozenset(w for w in stopwordsiso.stopwords("zh") if _CJK_WORD.fullmatch(w))
        lengths: dict[str, set[int]] = {}
        for word in words:
            lengths.setdefault(word[0], set()).add(len(word))
        _LISTS["zh"] = words, {c: tuple(sorted(ls, reverse=True)) for c, ls in lengths.items()}
    return _LISTS["zh"]


def count_stopwords(text: str, language: Language = "auto") -> tuple[int, int, str]:
    """(stop words, tokens, language used) for ``text``."""
    tokens = _TOKEN.findall(text)  # "" for a Latin word, the character for a CJK one
    cjk = len(tokens) - tokens.count("")
    if language == "zh" or (language == "auto" and tokens and 2 * cjk >= len(tokens)):
        stops, consumed = _chinese_stops(text)
        return stops, len(tokens) - consumed + stops, "zh"
    words = _LATIN_WORD.findall(text.lower())
    stop_list = _english()
    return sum(w in stop_list for w in words), len(words), "en"


def _chinese_stops(text: str) -> tuple[int, int]:
    """(stop words found by longest match, CJK characters they cover)."""
    words, lengths = _chinese()
    stops = covered = 0
    for run in _CJK_WORD.findall(text):
        i, n = 0, len(run)
        while i < n:
            for size in lengths.get(run[i], ()):
                if i + size <= n and run[i:i + size] in words:
                    stops += 1
                    covered += size
                    i += size
                    break
            else:
                i += 1
    return stops, covered


class FilterStopwords(Filter):
    """Keep texts with at least ``min_count`` stop words and (optionally) a stop-word share of
    at least ``min_ratio`` of their tokens.

    Gopher requires 2 English stop words per document; short reviews and tweets often have
    fewer (``Great hotel!``), so lower ``min_count`` for them. Reasons: ``too_few_stopwords``
    (detail ``1 < 2 (en)``) and ``low_stopword_ratio`` (detail ``0.05 < 0.3 (zh)``).
    """

    name = "filter_stopwords"

    def __init__(self, *, min_count: int = 2, min_ratio: float | None = None,
                 language: Language = "auto") -> None:
        self.min_count = min_count
        self.min_ratio = min_ratio
        self.language = language

    def check(self) -> None:
        if self.min_count < 0:
            raise ValueError(f"min_count must be >= 0, got {self.min_count}")
        if self.min_ratio is not None and not 0.0 <= self.min_ratio <= 1.0:
            raise ValueError(f"min_ratio must be in [0, 1] or null, got {self.min_ratio}")
        if self.language not in ("auto", "en", "zh"):
            raise ValueError(f"language must be auto, en or zh, got {self.language!r}")

    def keep(self, record: dict[str, Any]) -> Verdict:
        return self.text_verdict(record["text"])

    def keep_batch(self, batch: Batch) -> list[Verdict]:
        return list(map(self.text_verdict, batch["text"]))

    def text_verdict(self, text: str) -> Verdict:
        stops, tokens, lang = count_stopwords(text, self.language)
        if stops < self.min_count:
            return False, "too_few_stopwords", f"{stops} < {self.min_count} ({lang})"
        if self.min_ratio is not None:
            ratio = stops / tokens if tokens else 0.0
            if ratio < self.min_ratio:
                return False, "low_stopword_ratio", f"{ratio:.2f} < {self.min_ratio} ({lang})"
        return True
