from __future__ import annotations

import pandas as pd
import pytest

from thresher.engine.local import run_step
from thresher.ops import FilterStopwords
from thresher.ops.stopwords import count_stopwords


def table(texts):
    return pd.DataFrame({"id": [f"r{i}" for i in range(len(texts))], "text": texts,
                         "label": ["1"] * len(texts), "source": ["f"] * len(texts)})


def test_english_counts():
    assert count_stopwords("The room was clean and the staff were friendly.") == (5, 9, "en")
    assert count_stopwords("cheap viagra pills online") == (0, 4, "en")


def test_chinese_longest_match_and_auto_language():
    # 我们 (not 我 + 们), 的, 很, 也 are stop words; 住 房 间 干 净 are one token each
    assert count_stopwords("我们住的房间很干净，也") == (4, 9, "zh")
    assert count_stopwords("这个app的UI很好")[2] == "zh"
    assert count_stopwords("The hotel is 很好")[2] == "en"
    assert count_stopwords("我们", language="en") == (0, 0, "en")


def test_gopher_default_min_count_two():
    texts = ["The room was clean and the staff were friendly.", "Great hotel",
             "我们住的房间很干净，服务也很好。", "豪华套房特价促销"]
    out, rejects, _ = run_step(FilterStopwords(), table(texts))
    assert list(out.id) == ["r0", "r2"]
    assert [(r.reason, r.detail) for r in rejects] == [("too_few_stopwords", "0 < 2 (en)"),
                                                        ("too_few_stopwords", "0 < 2 (zh)")]


def test_min_ratio():
    op = FilterStopwords(min_count=1, min_ratio=0.3)
    assert op.keep({"text": "the best cheap hotel deals discount booking online today"}) == \
        (False, "low_stopword_ratio", "0.11 < 0.3 (en)")
    assert op.keep({"text": "他们说这里的早餐不是很好"}) is True


def test_check():
    with pytest.raises(ValueError, match="min_ratio must be in"):
        FilterStopwords(min_ratio=3.0).check()
    with pytest.raises(ValueError, match="language must be auto, en or zh"):
        FilterStopwords(language="fr").check()
