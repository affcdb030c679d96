from __future__ import annotations

import pandas as pd
import pytest

from thresher.engine.local import run_step
from thresher.ops import FilterLength
from thresher.ops.length import count_words


def table(texts):
    return pd.DataFrame({"id": [f"r{i}" for i in range(len(texts))], "text": texts,
                         "label": ["1"] * len(texts), "source": ["f"] * len(texts)})


def test_count_words_english_and_chinese():
    assert count_words("The room was clean , and quiet !") == 6  # punctuation is not a word
    assert 5 <= count_words("房间很干净，服务员也很热情。") <= 8  # jieba words, not 1 or 12
    assert count_words("") == 0


def test_words_unit_reasons_and_details():
    texts = ["Great hotel", "The staff were friendly and the breakfast was good , cheap too",
             "很好", "房间很干净，服务员也很热情，早餐种类很多。", "The room was clean"]
    op = FilterLength(unit="words", min_words=3, max_words=10)
    out, rejects, stats = run_step(op, table(texts))
    assert list(out.id) == ["r3", "r4"]  # r3: 10 jieba words
    by_id = {r.id: r for r in rejects}
    assert (by_id["r0"].reason, by_id["r0"].detail) == ("too_short", "2 words < 3")
    assert (by_id["r1"].reason, by_id["r1"].detail) == ("too_long", "11 words > 10")
    assert (by_id["r2"].reason, by_id["r2"].detail) == ("too_short", "2 words < 3")  # 很 / 好
    assert stats.rows_in == len(out) + len(rejects)


def test_chars_unit_detail_and_backward_compatible_defaults():
    t = table(["好", "很好的酒店", "x" * 11])
    out, rejects, _ = run_step(FilterLength(min_chars=3, max_chars=10), t)
    assert list(out.text) == ["很好的酒店"]
    assert [(r.reason, r.detail) for r in rejects] == [("too_short", "1 chars < 3"),
                                                        ("too_long", "11 chars > 10")]
    assert FilterLength().keep({"text": ""}) == (False, "too_short", "0 chars < 1")


@pytest.mark.parametrize("settings,message", [
    ({"min_chars": -1}, "min_chars must be >= 0"),
    ({"min_words": 5, "max_words": 2}, "max_words must be >= min_words"),
    ({"unit": "tokens"}, "unit must be 'chars' or 'words'"),
])
def test_check_rejects_bad_settings(settings, message):
    with pytest.raises(ValueError, match=message):
        FilterLength(**settings).check()
