from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest

from thresher.engine.local import run_step
from thresher.ops import FilterLanguage
from thresher.ops.language import detect_language

DATA = Path(__file__).parents[2] / ".." / "shared" / "data"


def table(texts):
    return pd.DataFrame({"id": [f"r{i}" for i in range(len(texts))], "text": texts,
                         "label": ["1"] * len(texts), "source": ["f"] * len(texts)})


def test_reasons_and_details():
    texts = ["The room was clean and the staff were friendly.", "房间很干净，服务也很好。",
             "La chambre était propre et le personnel très aimable.", "12345 !!!"]
    out, rejects, stats = run_step(FilterLanguage(languages=["en", "zh"]), table(texts))
    assert list(out.id) == ["r0", "r1"]
    by_id = {r.id: r for r in rejects}
    assert by_id["r2"].reason == "lang_mismatch" and by_id["r2"].detail.startswith("fr:")
    assert by_id["r3"].reason == "lang_low_confidence" and by_id["r3"].detail == "no letters"
    assert stats.rows_in == len(out) + len(rejects)


def test_short_chinese_is_chinese_not_japanese():
    for text in ["很好", "不错，下次还来", "服务态度差", "性价比高", "早餐一般"]:
        assert detect_language(text)[0] == "zh", text
    assert detect_language("ホテルの部屋はとても綺麗でした")[0] == "ja"


def test_min_confidence_drops_unsure_texts():
    op = FilterLanguage(languages=["en"], min_confidence=0.99)
    verdict = op.keep({"text": "ok"})
    assert verdict is not True and verdict[1] in ("lang_low_confidence", "lang_mismatch")


@pytest.mark.skipif(not (DATA / "chnsenticorp").is_dir(), reason="shared/data not present")
def test_real_chinese_reviews_pass():
    with open(DATA / "chnsenticorp" / "ChnSentiCorp_htl_all.csv", encoding="utf-8") as f:
        texts = [row["review"] for row in csv.DictReader(f) if row["review"]][:1000]
    out, rejects, _ = run_step(FilterLanguage(languages=["zh"]), table(texts))
    assert len(out) >= 0.99 * len(texts), [(r.reason, r.detail) for r in rejects][:10]


def test_check():
    with pytest.raises(ValueError, match=r"unknown language code\(s\) \['xx'\]"):
        FilterLanguage(languages=["en", "xx"]).check()
    with pytest.raises(ValueError, match="min_confidence must be in"):
        FilterLanguage(min_confidence=1.5).check()
    FilterLanguage().check()


@pytest.mark.skipif(not (DATA / "thucnews_titles").is_dir(), reason="shared/data not present")
def test_chinese_headlines_are_not_split_into_wu_and_cantonese():
    lines = (DATA / "thucnews_titles" / "dev.txt").read_text(encoding="utf-8").splitlines()
    texts = [line.rsplit("\t", 1)[0] for line in lines[:1000]]
    out, rejects, _ = run_step(FilterLanguage(languages=["zh"]), table(texts))
    assert len(out) >= 0.98 * len(texts), [(r.reason, r.detail) for r in rejects][:10]
    lang, prob = detect_language("同步A股首秀：港股缩量回调")  # mostly Han: decided by script
    assert (lang, prob) == ("zh", 1.0)
    lang, prob = detect_language("长腿MM阵2010showgirl 依旧美丽")  # model says wuu: read as zh
    assert lang == "zh" and prob > 0.9
    assert detect_language("좋은 호텔입니다")[0] == "ko"
