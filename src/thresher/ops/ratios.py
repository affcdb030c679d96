"""Character-class ratio filter: too many symbols or digits, too few letters, too much CAPS.

Ratios are over the visible (non-whitespace) characters, so spacing style does not matter and
Chinese (no spaces) compares with English. Letters are Unicode letters, CJK ideographs included;
digits are decimal digits; symbols are everything else visible (punctuation, emoji, math and
currency signs), except combining marks, which belong to the letter they sit on.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from thresher.ops.base import Batch, Filter, Verdict

__all__ = ["FilterRatios", "char_ratios"]

_SYMBOL = re.compile(r"[^\w\s]|_")  # neither letter, digit nor space (marks are sorted out later)
# The uppercase rule needs enough cased letters to mean anything: "OK" or "USB" is not shouting.
MIN_CASED_LETTERS = 10


def char_ratios(text: str, *, uppercase: bool = True) -> dict[str, float]:
    """Shares of letters, digits and symbols among visible characters, and (when asked) of
    uppercase among cased letters; 0.0 when there is nothing to count."""
    visible = len(text) - sum(map(str.isspace, text))
    if not visible:
        return {"letters": 0.0, "digits": 0.0, "symbols": 0.0, "uppercase": 0.0}
    symbols = _SYMBOL.findall(text)
    n_symbols = len(symbols) if text.isascii() else sum(
        1 for c in symbols if not unicodedata.category(c).startswith("M"))
    ratios = {"letters": sum(map(str.isalpha, text)) / visible,
              "digits": sum(map(str.isdecimal, text)) / visible,
              "symbols": n_symbols / visible, "uppercase": 0.0}
    if uppercase:
        upper = sum(map(str.isupper, text))
        cased = upper + sum(map(str.islower, text))
        ratios["uppercase"] = upper / cased if cased >= MIN_CASED_LETTERS else 0.0
    return ratios


class FilterRatios(Filter):
    """Drop texts whose character mix looks like noise; each rule is off when set to null.

    Reasons: ``too_many_symbols``, ``too_many_digits``, ``too_few_letters``,
    ``too_many_uppercase`` (only for texts with at least 10 cased letters), with a detail like
    ``symbols 0.62 > 0.5``. The defaults keep 99.8% of ChnSentiCorp, 99.9% of THUCNews headlines
    and all of the five EDA English sets, and drop texts that are mostly emoji, punctuation,
    numbers or codes ("还可以。。。。。。。。。。", "订单号：2023112812345678").
    """

    name = "filter_ratios"

    def __init__(self, *, max_symbol_ratio: float | None = 0.5,
                 max_digit_ratio: float | None = 0.5, min_letter_ratio: float | None = 0.4,
                 max_uppercase_ratio: float | None = None) -> None:
        self.max_symbol_ratio = max_symbol_ratio
        self.max_digit_ratio = max_digit_ratio
        self.min_letter_ratio = min_letter_ratio
        self.max_uppercase_ratio = max_uppercase_ratio

    def check(self) -> None:
        for key in ("max_symbol_ratio", "max_digit_ratio", "min_letter_ratio",
                    "max_uppercase_ratio"):
            value = getattr(self, key)
            if value is not None and not 0.0 <= value <= 1.0:
                raise ValueError(f"{key} must be in [0, 1] or null, got {value}")

    def keep(self, record: dict[str, Any]) -> Verdict:
        return self.text_verdict(record["text"])

    def keep_batch(self, batch: Batch) -> list[Verdict]:
        return list(map(self.text_verdict, batch["text"]))

    def text_verdict(self, text: str) -> Verdict:
        r = char_ratios(text, uppercase=self.max_uppercase_ratio is not None)
        if self.max_symbol_ratio is not None and r["symbols"] > self.max_symbol_ratio:
            return (False, "too_many_symbols",
                    f"symbols {r['symbols']:.2f} > {self.max_symbol_ratio}")
        if self.max_digit_ratio is not None and r["digits"] > self.max_digit_ratio:
            return False, "too_many_digits", f"digits {r['digits']:.2f} > {self.max_digit_ratio}"
        if self.min_letter_ratio is not None and r["letters"] < self.min_letter_ratio:
            return False, "too_few_letters", f"letters {r['letters']:.2f} < {self.min_letter_ratio}"
        if self.max_uppercase_ratio is not None and r["uppercase"] > self.max_uppercase_ratio:
            return (False, "too_many_uppercase",
                    f"uppercase {r['uppercase']:.2f} > {self.max_uppercase_ratio}")
        return True
