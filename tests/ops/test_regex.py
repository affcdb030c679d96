from __future__ import annotations

import pickle

import pandas as pd
import pytest

from thresher.engine.local import run_step
from thresher.errors import DataError
from thresher.ops import FilterRegex


def table(texts, labels=None):
    return pd.DataFrame({"id": [f"r{i}" for i in range(len(texts))], "text": texts,
                         "label": labels or ["1"] * len(texts), "source": ["f"] * len(texts)})


def test_drop_mode_detail_is_the_match():
    texts = ["加微信abc123领红包", "房间很干净", "Visit http://spam.example now", "Nice stay"]
    op = FilterRegex(pattern=r"加微信\w+|https?://\S+")
    out, rejects, _ = run_step(op, table(texts))
    assert list(out.id) == ["r1", "r3"]
    assert [(r.reason, r.detail) for r in rejects] == [("regex_match", "加微信abc123领红包"),
                                                        ("regex_match", "http://spam.example")]


def test_keep_mode_and_ignore_case():
    op = FilterRegex(pattern=r"hotel|酒店", mode="keep", ignore_case=True)
    out, rejects, _ = run_step(op, table(["Nice HOTEL", "酒店不错", "Bad food"]))
    assert list(out.id) == ["r0", "r1"]
    assert (rejects[0].reason, rejects[0].detail) == ("regex_no_match", "hotel|酒店")


def test_other_field_and_long_match_truncated():
    op = FilterRegex(pattern="^neg$", field="label")
    out, _, _ = run_step(op, table(["很好", "太差了"], ["pos", "neg"]))
    assert list(out.id) == ["r0"]
    verdict = FilterRegex(pattern=r"哈+").keep({"text": "哈" * 100})
    assert verdict[2] == "哈" * 57 + "..."
    with pytest.raises(DataError, match="reads the column 'title'"):
        FilterRegex(pattern="x", field="title").keep({"text": "x"})


def test_bad_pattern_named_by_check():
    with pytest.raises(ValueError, match=r"pattern '\(unclosed' is not a valid regular expression"):
        FilterRegex(pattern="(unclosed").check()
    with pytest.raises(ValueError, match="mode must be keep or drop"):
        FilterRegex(pattern="x", mode="only").check()


def test_pickle_drops_compiled_pattern():
    op = FilterRegex(pattern="好")
    assert op.keep({"text": "很好"})[1] == "regex_match"
    clone = pickle.loads(pickle.dumps(op))
    assert not hasattr(clone, "_regex") and clone.keep({"text": "很好"})[1] == "regex_match"
