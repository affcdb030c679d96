"""The shared real datasets read with the row, label and sentence counts their READMEs state."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from thresher.io import read_source

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"

pytestmark = pytest.mark.skipif(not SHARED_DATA.is_dir(), reason=f"shared data not found at {SHARED_DATA}")

EDA = {  # (file, rows, label counts) from shared/data/eda/README.md
    "sst2/train_orig.txt": (7447, {"0": 3570, "1": 3877}),
    "sst2/test.txt": (1752, {"0": 875, "1": 877}),
    "cr/train_orig.txt": (4082, {"0": 1433, "1": 2649}),
    "cr/test.txt": (452, {"0": 156, "1": 296}),
    "subj/train_orig.txt": (9000, {"0": 4500, "1": 4500}),
    "subj/test.txt": (1000, {"0": 500, "1": 500}),
    "trec/train_orig.txt": (5452, {"0": 1162, "1": 1250, "2": 86, "3": 1223, "4": 835, "5": 896}),
    "trec/test.txt": (500, {"0": 138, "1": 94, "2": 9, "3": 65, "4": 81, "5": 113}),
    "pc/train_orig.txt": (39418, {"0": 19247, "1": 20171}),
    "pc/test.txt": (4508, {"0": 2248, "1": 2260}),
}
NER = {  # (file, sentences, tokens) from the wnut17 and weibo_ner READMEs
    "wnut17/wnut17train.conll": (3394, 62730),
    "wnut17/emerging.dev.conll": (1009, 15733),
    "wnut17/emerging.test.annotated": (1287, 23394),
    "weibo_ner/weiboNER_2nd_conll.train": (1350, 73778),
    "weibo_ner/weiboNER_2nd_conll.dev": (270, 14509),
    "weibo_ner/weiboNER_2nd_conll.test": (270, 14842),
}


@pytest.mark.parametrize("name", sorted(EDA))
def test_eda_label_tab_text_files(name, tmp_path):
    rows, counts = EDA[name]
    result = read_source(SHARED_DATA / "eda" / name, cache_dir=tmp_path)
    assert result.info.format == "lines" and not result.rejects
    assert result.info.rows == len(result.table) == rows
    assert result.table["label"].value_counts().to_dict() == counts
    assert result.table["id"].is_unique  # the train files hold duplicate lines


def test_chnsenticorp_csv(tmp_path):
    path = SHARED_DATA / "chnsenticorp" / "ChnSentiCorp_htl_all.csv"
    result = read_source(path, cache_dir=tmp_path)  # its speed is measured in bench/, not timed here
    assert result.info.rows == 7766 and result.info.encoding == "utf-8"
    assert (result.info.text_column, result.info.label_column) == ("review", "label")
    assert [r.reason for r in result.rejects] == ["empty_text"]  # the README's one empty review
    assert result.table["label"].value_counts().to_dict() == {"1": 5322, "0": 2443}


@pytest.mark.parametrize("split", ["dev", "test"])
def test_thucnews_titles_text_tab_label(split, tmp_path):
    result = read_source(SHARED_DATA / "thucnews_titles" / f"{split}.txt", cache_dir=tmp_path)
    assert result.info.rows == len(result.table) == 10000
    assert result.table["label"].value_counts().to_dict() == {str(i): 1000 for i in range(10)}
    assert result.table["text"].str.len().max() <= 40  # titles, not labels


@pytest.mark.parametrize("name", sorted(NER))
def test_ner_conll_files(name, tmp_path):
    sentences, tokens = NER[name]
    result = read_source(SHARED_DATA / name, task="ner", cache_dir=tmp_path)
    assert result.info.format == "conll" and not result.rejects
    assert len(result.table) == sentences
    assert int(result.table["tokens"].map(len).sum()) == tokens
    tags = {t for row in result.table["tags"] for t in row}
    if name.startswith("wnut17"):
        types = {"person", "location", "group", "creative-work", "corporation", "product"}
        assert tags <= {"O"} | {f"{p}-{t}" for p in "BI" for t in types} and len(tags) > 5
    else:
        assert all(t == "O" or t.split("-", 1)[1].split(".")[1] in ("NAM", "NOM") for t in tags)
        assert all(len(tok) <= 2 for row in result.table["tokens"] for tok in row)  # digits stripped
