"""Length filter in characters or words, for space-separated and Chinese text alike.

Characters are Python string characters. Words are whitespace-separated words for space-separated
text; a text containing CJK characters is segmented with jieba (the ``zh`` extra), because an
unsegmented Chinese sentence is a single "word" to ``str.split``. Only tokens with a letter or a
digit count as words, so punctuation never makes a text long enough.
"""

from __future__ import annotations

from typing import Any, Literal

from thresher.ops.base import Batch, Filter, Verdict
from thresher.ops.chinese import has_cjk, jieba_words

__all__ = ["FilterLength", "count_words"]

Unit = Literal["chars", "words"]


def count_words(text: str) -> int:
    """Words of ``text``: jieba words when it has CJK characters, else whitespace words."""
    if has_cjk(text):
        return len(jieba_words(text))
    return sum(1 for w in text.split() if any(map(str.isalnum, w)))


class FilterLength(Filter):
    """Keep texts whose length lies in [min_chars, max_chars] (``unit: chars``, the default)
    or in [min_words, max_words] (``unit: words``); reasons ``too_short`` / ``too_long`` with
    a detail such as ``3 words < 5``.

    ``min_chars``/``max_chars`` keep their names (and their default of dropping empty texts)
    so that existing recipes read the same; ``min_words``/``max_words`` apply only with
    ``unit: words``.
    """

    name = "filter_length"

    def __init__(
        self,
        *,
        min_chars: int = 1,
        max_chars: int | None = None,
        unit: Unit = "chars",
        min_words: int = 1,
        max_words: int | None = None,
    ) -> None:
        self.min_chars = min_chars
        self.max_chars = max_chars
        self.unit = unit
        self.min_words = min_words
        self.max_words = max_words

    def check(self) -> None:
        if self.unit not in ("chars", "words"):
            raise ValueError(f"unit must be 'chars' or 'words', got {self.unit!r}")
        for low, high in (("min_chars", "max_chars"), ("min_words", "max_words")):
            lo, hi = getattr(self, low), getattr(self, high)
            if lo < 0:
                raise ValueError(f"{low} must be >= 0")
            if hi is not None and hi < lo:
                raise ValueError(f"{high} must be >= {low}")

    def keep(self, record: dict[str, Any]) -> Verdict:
        return self.text_verdict(record["text"])

    def keep_batch(self, batch: Batch) -> list[Verdict]:
        return list(map(self.text_verdict, batch["text"]))

    def text_verdict(self, text: str) -> Verdict:
        if self.unit == "chars":
            return _bounded(len(text), self.min_chars, self.max_chars, "chars")
        return _bounded(count_words(text), self.min_words, self.max_words, "words")


def _bounded(n: int, low: int, high: int | None, unit: str) -> Verdict:
    if n < low:
        return False, "too_short", f"{n} {unit} < {low}"
    if high is not None and n > high:
        return False, "too_long", f"{n} {unit} > {high}"
    return True
