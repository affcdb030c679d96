"""inspect() describes a source: format, rows, roles, labels, lengths, bad lines; text and JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from thresher.errors import InputError
from thresher.inspect import SHOWN_BAD_LINES, inspect

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def test_classification_report(tmp_path):
    path = tmp_path / "r.csv"
    body = "".join(f"{'pos' if i % 4 else 'neg'},review {'x' * (i % 7)} {i % 30},{i % 5}\n" for i in range(60))
    path.write_text("label,text,stars\n" + body + "neg,,3\npos,too,many,fields\n", encoding="utf-8")
    report = inspect(path, cache_dir=tmp_path / "c")
    assert (report.format, report.encoding, report.task) == ("csv", "utf-8", "classification")
    assert report.rows == 62 and report.kept == 60
    assert report.rejected == {"empty_text": 1, "wrong_field_count": 1}
    assert report.labels == {"pos": 45, "neg": 15}
    assert [(c.name, c.role) for c in report.columns] == [("label", "label"), ("text", "text"), ("stars", "extra")]
    assert report.columns[1].empty == 1
    assert report.lengths["min"] == 9 and report.lengths["max"] == 16  # "review " + up to 6 x + " 29"
    assert report.duplicates == 60 - len({(i % 7, i % 30) for i in range(60)})
    assert [(b.line, b.reason) for b in report.bad_lines] == [(63, "wrong_field_count")]
    text = report.to_text()
    assert "rows      62 read: 60 usable, 2 rejected" in text
    assert "line 63: wrong_field_count" in text
    assert json.loads(json.dumps(report.to_dict()))["labels"] == {"pos": 45, "neg": 15}


def test_bad_lines_are_capped_with_a_total(tmp_path):
    path = tmp_path / "b.jsonl"
    path.write_text("".join('{"text": "ok", "label": 1}\n' if i % 2 else "{broken\n" for i in range(60)))
    report = inspect(path, cache_dir=tmp_path / "c")
    assert report.bad_lines_total == 30 and len(report.bad_lines) == SHOWN_BAD_LINES
    assert report.bad_lines[0].line == 1
    assert "... and 10 more" in report.to_text()


def test_ner_report_counts_sentences_tokens_and_entities(tmp_path):
    path = tmp_path / "n.conll"
    path.write_text("Ada\tB-PER\nLovelace\tI-PER\nin\tO\nLondon\tB-LOC\n\nParis\tI-LOC\n\n", encoding="utf-8")
    report = inspect(path, cache_dir=tmp_path / "c")  # task detected from the format
    assert report.task == "ner" and report.kept == 2 and report.tokens == 5
    assert report.labels == {"B-PER": 1, "I-PER": 1, "O": 1, "B-LOC": 1, "I-LOC": 1}
    assert report.entities == {"PER": 1, "LOC": 2}
    assert report.lengths == {"min": 1, "median": 2.5, "p95": pytest.approx(3.85), "max": 4}
    assert "sentences 2, tokens 5" in report.to_text()


def test_errors_pass_through(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        inspect(tmp_path / "missing.csv")


@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason=f"shared data not found at {SHARED_DATA}")
def test_real_chnsenticorp(tmp_path):
    report = inspect(SHARED_DATA / "chnsenticorp" / "ChnSentiCorp_htl_all.csv", cache_dir=tmp_path)
    assert report.rows == 7766 and report.rejected == {"empty_text": 1}
    assert report.labels == {"1": 5322, "0": 2443}
    assert report.lengths["max"] > report.lengths["p95"] > report.lengths["median"] > 0
