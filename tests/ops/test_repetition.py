from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest

from thresher.engine.local import run_step
from thresher.ops import FilterRepetition
from thresher.ops.repetition import repetition_tokens

DATA = Path(__file__).parents[2] / ".." / "shared" / "data"


def table(texts):
    return pd.DataFrame({"id": [f"r{i}" for i in range(len(texts))], "text": texts,
                         "label": ["1"] * len(texts), "source": ["f"] * len(texts)})


def test_tokens_split_cjk_per_character_and_keep_latin_words():
    assert repetition_tokens("酒店WiFi很快, room 101好！") == ["酒", "店", "WiFi", "很", "快", "room",
                                                               "101", "好"]
    assert repetition_tokens("ホテルは綺麗") == ["ホ", "テ", "ル", "は", "綺", "麗"]


def test_chinese_spam_fails_and_normal_text_passes():
    op = FilterRepetition()
    assert op.keep({"text": "哈哈哈哈哈哈哈哈哈哈哈哈哈哈"}) == (False, "char_run", "'哈' x14 > 10")
    verdict = op.keep({"text": "哈哈哈哈哈哈哈哈"})  # under the run cap, but all one bigram
    assert verdict[:2] == (False, "top_ngram") and verdict[2].startswith("top 2-gram")
    spam = "加微信领红包，加微信领红包，加微信领红包，好评返现"
    assert op.keep({"text": spam})[1] == "top_ngram"
    lines = "\n".join(["全网最低价，点击链接购买"] * 4 + ["房间还行"])
    assert op.keep({"text": lines})[:2] == (False, "duplicate_lines")
    assert op.keep({"text": "房间很干净，服务员也很热情，早餐种类很多，下次还会再来。"}) is True


def test_english_rules():
    op = FilterRepetition()
    assert op.keep({"text": "The room was clean and the staff were friendly."}) is True
    assert op.keep({"text": "buy now buy now buy now buy now cheap"})[1] == "top_ngram"
    text = ("the hotel is near the station and the beach . " * 3 + "we liked the breakfast a lot "
            "and would come back in summer with friends")
    assert op.keep({"text": text})[1] in ("top_ngram", "duplicate_ngrams")
    assert op.keep({"text": "Sooooooooooooo good!!!"})[1] == "char_run"


def test_duplicated_ngrams_rule_alone():
    op = FilterRepetition(top_ngrams=(), dup_ngrams=((5, 0.15),), max_char_run=None)
    text = "房间设施比较旧了。房间设施比较旧了。但是位置很方便，离地铁站很近"
    verdict = op.keep({"text": text})
    assert verdict[:2] == (False, "duplicate_ngrams") and verdict[2].startswith("5-grams 0.")


def test_paragraph_rules():
    para = "Great location, close to the metro.\n\nGreat location, close to the metro.\n\nNice."
    op = FilterRepetition(dup_line_frac=None, dup_line_char_frac=None, top_ngrams=(),
                          dup_ngrams=())
    assert op.keep({"text": para})[1] == "duplicate_paragraphs"


def test_short_texts_are_not_repetition():
    op = FilterRepetition()
    for text in ["好", "很好", "不错", "Great hotel", "ok", "", "房间大"]:
        assert op.keep({"text": text}) is True, text


@pytest.mark.skipif(not (DATA / "chnsenticorp").is_dir(), reason="shared/data not present")
def test_real_chinese_reviews_nearly_all_pass():
    with open(DATA / "chnsenticorp" / "ChnSentiCorp_htl_all.csv", encoding="utf-8") as f:
        texts = [row["review"] for row in csv.DictReader(f)][:1000]
    out, rejects, stats = run_step(FilterRepetition(), table(texts))
    assert len(out) >= 0.97 * len(texts), stats.rejected
    assert stats.rows_in == len(out) + len(rejects)


@pytest.mark.skipif(not (DATA / "eda").is_dir(), reason="shared/data not present")
def test_real_english_sentences_nearly_all_pass():
    lines = (DATA / "eda" / "sst2" / "train_orig.txt").read_text(encoding="utf-8").splitlines()
    texts = [line.split("\t", 1)[-1] for line in lines[:1000]]
    out, _, stats = run_step(FilterRepetition(), table(texts))
    assert len(out) >= 0.99 * len(texts), stats.rejected


def test_check():
    with pytest.raises(ValueError, match="top_ngrams must be a list of"):
        FilterRepetition(top_ngrams=((2,),)).check()
    with pytest.raises(ValueError, match="max_char_run must be >= 1"):
        FilterRepetition(max_char_run=0).check()
    FilterRepetition(top_ngrams=[[2, 0.3]]).check()
