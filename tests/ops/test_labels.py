from __future__ import annotations

import pandas as pd
import pytest

from thresher.engine.local import run_step
from thresher.errors import DataError
from thresher.ops import FilterLabels, MapLabels


def table(texts, labels):
    return pd.DataFrame({"id": [f"r{i}" for i in range(len(texts))], "text": texts,
                         "label": labels, "source": ["f"] * len(texts)})


REVIEWS = ["房间很干净", "The staff were rude.", "早餐一般", "Great location"]


def test_map_labels_strings_and_ints_alike():
    t = table(REVIEWS, [1, 0, "0", 2])
    out, rejects, stats = run_step(MapLabels(mapping={"1": "pos", "0": "neg"}), t)
    assert list(out.label) == ["pos", "neg", "neg", "2"] and rejects == []
    assert stats.info == {"counts": {"0->neg": 2, "1->pos": 1}}


def test_map_labels_strict():
    with pytest.raises(DataError, match="label '2' is not in the mapping"):
        run_step(MapLabels(mapping={"1": "pos"}, strict=True), table(["好"], ["2"]))


def test_filter_labels_reason_and_detail():
    t = table(REVIEWS, ["pos", "neg", "neutral", "pos"])
    out, rejects, stats = run_step(FilterLabels(labels=["pos", "neg"]), t)
    assert list(out.id) == ["r0", "r1", "r3"]
    assert [(r.id, r.reason, r.detail) for r in rejects] == [("r2", "unknown_label", "neutral")]
    assert stats.rows_in == len(out) + len(rejects)


def test_missing_label_column_and_check():
    with pytest.raises(DataError, match="needs a 'label' column"):
        FilterLabels(labels=["a"]).keep_batch({"text": ["x"]})
    with pytest.raises(ValueError, match="labels must list at least one label"):
        FilterLabels(labels=[]).check()
    with pytest.raises(ValueError, match="mapping must name at least one label"):
        MapLabels(mapping={}).check()
