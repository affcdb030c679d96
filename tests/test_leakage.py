from __future__ import annotations

import json
import random
from itertools import product
from pathlib import Path

import pandas as pd
import pytest

from thresher.errors import DataError
from thresher.ops.minhash import jaccard, shingle_set
from thresher.split.leakage import check_leakage

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"

ZH = ("酒店位置很好，就在地铁站旁边，出行非常方便。房间干净整洁，床也很舒服，"
      "服务员态度热情，早餐品种丰富，下次来还会选择这里。")
TRAIN = [
    "The hotel is in a great location, right next to the subway station, and the room was "
    "clean and quiet. The staff were friendly and breakfast had plenty of choice.",
    ZH,
    "房间太小了，隔音效果很差，晚上隔壁说话听得一清二楚，空调也不制冷，前台处理问题很慢，不推荐入住。",
    "Great location near the station, but the room was old and the bathroom smelled. "
    "Breakfast was average and the price was too high for what you get.",
]
VALIDATION = [
    # near copy of train r1: two characters and some punctuation changed
    "酒店位置很好，就在地铁站旁边,出行非常方便!房间干净整洁，床也很舒服，"
    "服务员态度热情，早餐种类丰富，下次来还会选择这里。",
    "前台服务员很耐心，帮我们安排了高层的安静房间，还送了水果，感觉很贴心。",
]
TEST = [
    "GREAT location near the station,  but the room was old and the bathroom smelled. "
    "Breakfast was average and the price was too high for what you get.",  # exact of train r3
    "The pool was closed for repairs the whole week and nobody told us when we booked.",
    ZH,  # exact of train r1
]
EXTERNAL = [
    # near copy of train r0: one word changed
    "The hotel is in a great location, right next to the subway station, and the room was "
    "clean and quiet. The staff were helpful and breakfast had plenty of choice.",
    "The pool was closed for repairs the whole week and nobody told us when we booked.",
    "Terrible wifi, it kept dropping every few minutes and the business centre was closed.",
]


def frame(prefix: str, texts: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"id": [f"{prefix}{i}" for i in range(len(texts))], "text": texts,
                         "label": "pos"})


def parts() -> dict[str, pd.DataFrame]:
    return {"train": frame("r", TRAIN), "validation": frame("v", VALIDATION),
            "test": frame("t", TEST)}


def test_finds_exact_and_near_pairs_across_splits_and_the_external_set():
    report = check_leakage(parts(), external=frame("e", EXTERNAL))
    got = sorted(report.pairs[["kind", "split_a", "id_a", "split_b", "id_b"]]
                 .itertuples(index=False, name=None))
    assert got == sorted([
        ("exact", "train", "r1", "test", "t2"),
        ("exact", "train", "r3", "test", "t0"),
        ("near", "train", "r0", "external", "e0"),
        ("near", "train", "r1", "validation", "v0"),
        ("near", "validation", "v0", "test", "t2"),
        ("exact", "test", "t1", "external", "e1"),
    ])
    assert list(report.pairs.columns) == ["kind", "split_a", "id_a", "split_b", "id_b",
                                          "similarity"]


def test_near_similarity_is_the_exact_jaccard_of_the_shingles():
    report = check_leakage(parts())
    near = report.pairs[report.pairs["kind"] == "near"].iloc[0]
    expected = jaccard(shingle_set(TRAIN[1]), shingle_set(VALIDATION[0]))
    assert near["similarity"] == pytest.approx(expected, abs=1e-4) and expected >= 0.8
    assert (report.pairs.loc[report.pairs["kind"] == "exact", "similarity"] == 1.0).all()


def test_contaminated_ids_are_the_rows_matching_the_external_set():
    report = check_leakage(parts(), external=frame("e", EXTERNAL))
    assert report.contaminated_ids("train") == {"r0"}
    assert report.contaminated_ids("test") == {"t1"}
    assert report.contaminated_ids("validation") == set()


def test_summary_is_json_safe_with_counts_and_examples():
    summary = check_leakage(parts(), external=frame("e", EXTERNAL)).to_dict()
    assert json.loads(json.dumps(summary)) == summary
    assert summary["pairs"] == 6
    assert summary["counts"] == {"train/test": {"exact": 2, "near": 0},
                                 "train/validation": {"exact": 0, "near": 1},
                                 "validation/test": {"exact": 0, "near": 1},
                                 "train/external": {"exact": 0, "near": 1},
                                 "test/external": {"exact": 1, "near": 0}}
    example = summary["examples"]["train/external"][0]
    assert (example["id_a"], example["id_b"], example["kind"]) == ("r0", "e0", "near")
    assert example["text_a"] == TRAIN[0]
    assert summary["settings"]["threshold"] == 0.8


def test_long_texts_are_truncated_in_examples_and_one_split_alone_has_no_leaks():
    long = "房间很大很干净，" * 60
    summary = check_leakage({"train": frame("r", [long]), "test": frame("t", [long])}).to_dict()
    assert len(summary["examples"]["train/test"][0]["text_a"]) == 200
    alone = check_leakage({"train": frame("r", TRAIN + TRAIN)})  # duplicates inside one split
    assert alone.pairs.empty and alone.to_dict()["counts"] == {}
    empty = check_leakage({"train": frame("r", ["", "  "]), "test": frame("t", ["", "!!"])})
    assert empty.pairs.empty


def test_bad_inputs_are_reported():
    with pytest.raises(DataError, match="split 'test' has no column text"):
        check_leakage({"train": frame("r", TRAIN), "test": pd.DataFrame({"id": ["x"]})})
    with pytest.raises(DataError, match="a split may not be named 'external'"):
        check_leakage({"external": frame("r", TRAIN)})


def test_near_pairs_on_real_reviews_match_a_brute_force_search():
    path = DATA / "chnsenticorp" / "ChnSentiCorp_htl_all.csv"
    if not path.exists():
        pytest.skip(f"{path} is absent (../shared/data holds the real datasets)")
    reviews = [t for t in pd.read_csv(path)["review"].dropna().astype(str) if len(t) >= 20]
    train, test = reviews[:400], reviews[400:500]
    rng = random.Random(7)
    for k in range(0, 400, 10):  # 40 copies of training reviews with a few characters changed
        chars = list(train[k])
        for _ in range(rng.choice([1, 2, 4, 8])):
            chars[rng.randrange(len(chars))] = rng.choice("好差的了很")
        test.append("".join(chars))
    report = check_leakage({"train": frame("r", train), "test": frame("t", test)})
    found = {(a, b) for a, b in report.pairs.loc[report.pairs["kind"] == "near",
                                                  ["id_a", "id_b"]].itertuples(index=False)}
    train_sets = [shingle_set(t) for t in train]
    test_sets = [shingle_set(t) for t in test]
    truth = {(f"r{i}", f"t{j}") for i, j in product(range(len(train)), range(len(test)))
             if jaccard(train_sets[i], test_sets[j]) >= 0.8 and train[i] != test[j]}
    assert len(truth) >= 20  # most copies with 1-2 changes, some with more
    assert found <= truth and len(found) >= 0.95 * len(truth), (len(found), len(truth))
