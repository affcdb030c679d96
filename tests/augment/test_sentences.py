"""thresher.augment.sentences: splitting, shuffling and cropping, same-label recombination."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from thresher.augment import SentenceMix, recombine, split_sentences
from thresher.errors import DataError, RecipeError

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
HOTEL = SHARED_DATA / "chnsenticorp" / "ChnSentiCorp_htl_all.csv"
HAN = re.compile("[\u4e00-\u9fff]")
FOUR = "The room was big. The bed was 1.8 m wide! Was breakfast good? Staff were kind."


def test_split_on_mixed_punctuation() -> None:
    text = ('I loved it. The room was 3.5 m wide!! Would I go back?! Yes... "Sure." '
            "房间很好。早餐一般！！下次还来吗？会的…最后一句")
    assert split_sentences(text) == [
        "I loved it.", "The room was 3.5 m wide!!", "Would I go back?!", "Yes...", '"Sure."',
        "房间很好。", "早餐一般！！", "下次还来吗？", "会的…", "最后一句"]
    assert split_sentences("位置不错.交通方便.房间较小") == ["位置不错.", "交通方便.", "房间较小"]
    assert split_sentences("他说「好。」然后走了\n第二行 (ok.) end") == [
        "他说「好。」", "然后走了", "第二行 (ok.)", "end"]
    assert split_sentences("  ") == [] and split_sentences("no end mark") == ["no end mark"]


def test_shuffle_makes_permutations_of_the_sentences() -> None:
    sentences = split_sentences(FOUR)
    out = SentenceMix(operations=["shuffle"]).augment([FOUR], 10, seed=1)
    assert len(out.texts[0]) == 10 and out.skipped == [None]
    for variant in out.texts[0]:
        assert variant != FOUR and sorted(split_sentences(variant)) == sorted(sentences)


def test_crop_keeps_a_contiguous_window() -> None:
    sentences = split_sentences(FOUR)
    out = SentenceMix(operations=["crop"], min_sentences=2).augment([FOUR], 10, seed=2)
    # windows of 2 or 3 of 4 sentences: only 3 + 2 = 5 distinct crops exist
    assert 3 <= len(out.texts[0]) <= 5
    assert out.skipped == [f"only {len(out.texts[0])} distinct variants in 28 tries"]
    for variant in out.texts[0]:
        got = split_sentences(variant)
        assert 2 <= len(got) <= 3
        start = sentences.index(got[0])
        assert got == sentences[start:start + len(got)]


def test_chinese_joined_without_spaces_and_short_texts_skipped() -> None:
    out = SentenceMix().augment(["房间很好。早餐一般！下次还来。", "只有一句。", ""], 3, seed=3)
    assert all(" " not in v for v in out.texts[0]) and len(out.texts[0]) == 3
    assert out.texts[1:] == [[], []]
    assert out.skipped[1:] == [
        "1 sentence: too few to shuffle or crop (min_sentences=2)",
        "0 sentences: too few to shuffle or crop (min_sentences=2)"]
    assert SentenceMix().augment(["房间很好。早餐一般！下次还来。"], 3, seed=3) == SentenceMix(
    ).augment(["房间很好。早餐一般！下次还来。"], 3, seed=3)


@pytest.mark.skipif(not HOTEL.is_file(), reason=f"{HOTEL} absent (shared data)")
def test_hotel_reviews_keep_every_sentence_when_shuffled() -> None:
    with open(HOTEL, encoding="utf-8") as f:
        reviews = [row["review"] for row in csv.DictReader(f)][:300]
    out = SentenceMix(operations=["shuffle"]).augment(reviews, 2, seed=4)
    varied = 0
    for review, variants in zip(reviews, out.texts):
        sentences = split_sentences(review)
        gaps = 0 if HAN.search(review) else len(sentences) - 1  # "" or " " between sentences
        for variant in variants:  # the same sentences end to end, in another order
            varied += 1
            assert all(s in variant for s in sentences)
            assert len(variant) == sum(len(s) for s in sentences) + gaps
    assert varied > 300  # most reviews have two or more sentences


def test_recombine_joins_head_and_tail_of_the_same_label() -> None:
    texts = ["A1. A2. A3.", "B1. B2.", "C1.", "D1. D2. D3. D4.", "E1 has no mark", "F1. F2."]
    labels = ["pos", "pos", "neg", "neg", "lonely", "pos"]
    out = recombine(texts, labels, 6, seed=5)  # 3 * 2 + 2 * 1 = 8 ordered pairs exist
    assert len(out.texts) == 6 and out.note is None
    heads = {0: "A1. A2.", 1: "B1.", 2: "C1.", 3: "D1. D2.", 5: "F1."}
    tails = {0: "A2. A3.", 1: "B2.", 2: "C1.", 3: "D3. D4.", 5: "F2."}
    for text, label, (a, b) in zip(out.texts, out.labels, out.parents):
        assert a != b and labels[a] == labels[b] == label != "lonely"
        assert text == f"{heads[a]} {tails[b]}"
        assert text not in texts
    assert len(set(out.texts)) == 6
    assert json.loads(json.dumps(out.to_dict())) == {
        "texts": out.texts, "labels": out.labels, "parents": [list(p) for p in out.parents],
        "note": None, "settings": {"n_new": 6, "seed": 5}}


def test_recombine_explains_shortfalls_and_rejects_bad_input() -> None:
    out = recombine(["only one. per label.", "x."], ["a", "b"], 3)
    assert out.texts == [] and out.note == "no label has two non-empty texts: nothing to recombine"
    out = recombine(["A.", "B."], ["a", "a"], 5, seed=1)
    assert sorted(out.texts) == ["A. B.", "B. A."]
    assert out.note == "only 2 distinct new texts in 18 tries"
    with pytest.raises(DataError) as err:
        recombine(["x", "y"], ["a"], 1)
    assert str(err.value) == "recombine got 2 texts and 1 labels. pass one label per text."


def test_bad_settings_are_recipe_errors() -> None:
    with pytest.raises(RecipeError) as err:
        SentenceMix(min_sentences=0).augment(["A. B."], 1)
    assert str(err.value) == ("augment: sentence_mix: min_sentences must be a whole number >= 1, "
                              "got 0.")
    with pytest.raises(RecipeError) as err:
        SentenceMix(operations=["reverse"]).augment(["A. B."], 1)
    assert str(err.value) == ("augment: sentence_mix: operations must be distinct names from "
                              "shuffle, crop, got ['reverse'].")
