from __future__ import annotations

import pandas as pd
import pytest

from thresher.engine.local import run_step
from thresher.ops import FilterRatios
from thresher.ops.ratios import char_ratios


def table(texts):
    return pd.DataFrame({"id": [f"r{i}" for i in range(len(texts))], "text": texts,
                         "label": ["1"] * len(texts), "source": ["f"] * len(texts)})


def test_ratios_count_cjk_as_letters_and_ignore_spaces():
    r = char_ratios("房间 很好！")
    assert r["letters"] == 0.8 and r["symbols"] == 0.2 and r["digits"] == 0.0
    r = char_ratios("Room 101 :)")
    assert (r["letters"], r["digits"], r["symbols"]) == (4 / 9, 3 / 9, 2 / 9)
    assert char_ratios("café")["symbols"] == 0.0  # combining accent is not a symbol
    assert char_ratios("cafe\u0301")["symbols"] == 0.0


def test_default_rules_on_english_and_chinese():
    texts = ["The room was clean and quiet.", "房间很干净，早餐也不错。", "!!!!!!??? :) :) ^_^",
             "😀😀😀👍👍好", "13800138000 13800138000", "订单号：2023112812345678", ""]
    out, rejects, _ = run_step(FilterRatios(), table(texts))
    assert list(out.id) == ["r0", "r1"]
    reasons = {r.id: (r.reason, r.detail) for r in rejects}
    assert reasons["r2"] == ("too_many_symbols", "symbols 1.00 > 0.5")
    assert reasons["r3"][0] == "too_many_symbols"
    assert reasons["r4"] == ("too_many_digits", "digits 1.00 > 0.5")
    assert reasons["r5"][0] == "too_many_digits"
    assert reasons["r6"] == ("too_few_letters", "letters 0.00 < 0.4")


def test_uppercase_rule_needs_enough_letters():
    op = FilterRatios(max_uppercase_ratio=0.5)
    assert op.keep({"text": "WORST HOTEL EVER, NEVER AGAIN"})[1] == "too_many_uppercase"
    assert op.keep({"text": "OK"}) is True
    assert op.keep({"text": "USB接口坏了，WIFI也很慢"}) is True


def test_rules_can_be_switched_off():
    op = FilterRatios(max_symbol_ratio=None, max_digit_ratio=None, min_letter_ratio=None)
    assert op.keep({"text": "!!!! 1234"}) is True


def test_check():
    with pytest.raises(ValueError, match=r"max_digit_ratio must be in \[0, 1\] or null, got 2"):
        FilterRatios(max_digit_ratio=2).check()
