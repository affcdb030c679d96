"""Reading annotation files (long tables, Label Studio, doccano) and tidying them, with exact errors."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from thresher.errors import DataError, InputError
from thresher.quality.agree import agree
from thresher.quality.annotations import read_annotations, read_item_ids, tidy


def _rows(raw) -> list[tuple]:
    """(item, annotator, label) rows, sorted; a missing label is None."""
    rows = raw.rows[["item", "annotator", "label"]].itertuples(index=False)
    return sorted(((i, a, None if pd.isna(v) else v) for i, a, v in rows), key=str)


def _write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


# -- long tables ---------------------------------------------------------------------------------

def test_csv_columns_are_inferred_and_text_carried(tmp_path):
    (tmp_path / "a.csv").write_text("text_id,Worker,answer,sentence\n1,w1,pos,good\n1,w2,neg,good\n"
                                    "2,w1,neg,\"bad, \"\"really\"\"\"\n")
    raw = read_annotations(tmp_path / "a.csv")
    assert raw.format == "csv"
    assert raw.columns == {"item": "text_id", "annotator": "Worker", "label": "answer", "text": "sentence"}
    assert _rows(raw) == [("1", "w1", "pos"), ("1", "w2", "neg"), ("2", "w1", "neg")]
    assert raw.rows["text"].tolist() == ["good", "good", 'bad, "really"']
    assert raw.rows["where"].tolist() == ["line 2", "line 3", "line 4"]


def test_explicit_columns_and_missing_column_errors(tmp_path):
    (tmp_path / "a.csv").write_text("doc,who,verdict\n1,a,x\n")
    raw = read_annotations(tmp_path / "a.csv", item="doc", annotator="who", label="verdict")
    assert _rows(raw) == [("1", "a", "x")]
    with pytest.raises(DataError) as err:
        read_annotations(tmp_path / "a.csv")
    assert str(err.value) == (f"{tmp_path / 'a.csv'}: no item column; columns found: doc, who, verdict. "
                              "name it with item=COLUMN (--item COLUMN).")
    with pytest.raises(DataError) as err:
        read_annotations(tmp_path / "a.csv", item="doc", annotator="who", label="answer")
    assert str(err.value) == (f"{tmp_path / 'a.csv'}: column 'answer' (label) not found; columns found: "
                              "doc, who, verdict. pass one of those names as label= (--label).")


def test_tsv_jsonl_parquet_and_gbk(tmp_path):
    (tmp_path / "a.tsv").write_text('item\tannotator\tlabel\ttext\n1\ta\tx\tsays "hi\n1\tb\ty\tok\n')
    raw = read_annotations(tmp_path / "a.tsv")
    assert raw.format == "tsv" and raw.rows["text"].tolist() == ['says "hi', "ok"]
    _write_jsonl(tmp_path / "a.jsonl", [{"id": 7, "rater": "a", "label": 1}, {"id": 7, "rater": "b", "label": None}])
    raw = read_annotations(tmp_path / "a.jsonl")
    assert raw.format == "jsonl" and _rows(raw) == [("7", "a", "1"), ("7", "b", None)]
    pd.DataFrame({"item": [1, 1, 2], "coder": ["a", "b", "a"], "label": [1.0, float("nan"), 2.0]}).to_parquet(
        tmp_path / "a.parquet")
    raw = read_annotations(tmp_path / "a.parquet")
    assert _rows(raw) == [("1", "a", "1"), ("1", "b", None), ("2", "a", "2")]
    assert raw.rows["where"].tolist()[2] == "row 3"
    # a GBK file (as Excel writes on Chinese Windows) long enough for encoding detection
    rows = "".join(f"{i},{who},{label},这家酒店的服务很好，房间也很干净\n"
                   for i in range(1, 7) for who, label in (("甲", "正面"), ("乙", "负面")))
    (tmp_path / "zh.csv").write_bytes(("item,annotator,label,text\n" + rows).encode("gbk"))
    raw = read_annotations(tmp_path / "zh.csv")
    assert _rows(raw)[:2] == [("1", "乙", "负面"), ("1", "甲", "正面")] and len(raw.rows) == 12


def test_bad_json_names_the_line(tmp_path):
    (tmp_path / "a.jsonl").write_text('{"item": 1, "annotator": "a", "label": "x"}\n{"item": 2, "annotator": \n')
    with pytest.raises(InputError) as err:
        read_annotations(tmp_path / "a.jsonl")
    assert str(err.value) == f"{tmp_path / 'a.jsonl'}:2: not valid JSON (Expecting value). repair or remove that line."
    (tmp_path / "ls.json").write_text('[\n  {"id": 1,\n   "data": {}\n   "annotations": []}\n]\n')
    with pytest.raises(InputError) as err:
        read_annotations(tmp_path / "ls.json")
    assert str(err.value).startswith(f"{tmp_path / 'ls.json'}:4: not valid JSON (Expecting ',' delimiter)")


def test_blank_labels_are_an_error_naming_lines(tmp_path):
    (tmp_path / "a.csv").write_text("item,annotator,label\n1,a,x\n1,b, \n2,a,x\n2,b,\t\n")
    with pytest.raises(DataError) as err:
        agree(tmp_path / "a.csv")
    assert str(err.value) == (f"{tmp_path / 'a.csv'}: 2 annotations with an empty or blank label "
                              "(line 3, line 5). remove those rows or fill in the label.")


def test_missing_labels_are_skipped_and_counted_idle_annotators_listed(tmp_path):
    (tmp_path / "a.csv").write_text("item,annotator,label\n1,a,x\n1,b,y\n2,a,x\n2,b,x\n2,c,\n3,c,\n3,a,y\n")
    report = agree(tmp_path / "a.csv", bootstrap=0)
    assert report.skipped == {"missing_labels": 2}
    assert report.idle_annotators == ["c"] and report.annotators == ["a", "b"]
    assert "2 annotations without a label (empty cell, null or empty result) skipped as missing" in report.notes
    assert [row["annotator"] for row in report.per_annotator] == ["a", "b"]
    assert len(report.cohen["matrix"]) == 2


def test_duplicates_keep_the_last_label(tmp_path):
    (tmp_path / "a.csv").write_text("item,annotator,label\n1,a,x\n1,b,y\n1,a,y\n2,a,x\n2,b,x\n")
    data = tidy(read_annotations(tmp_path / "a.csv"))
    assert data.counts == {"duplicates": 1}
    assert sorted(map(tuple, data.table[["item", "annotator", "label"]].to_numpy())) == [
        ("1", "a", "y"), ("1", "b", "y"), ("2", "a", "x"), ("2", "b", "x")]


def test_rows_without_item_or_annotator(tmp_path):
    (tmp_path / "a.csv").write_text("item,annotator,label\n1,,x\n1,b,y\n")
    with pytest.raises(DataError) as err:
        read_annotations(tmp_path / "a.csv")
    assert str(err.value) == (f"{tmp_path / 'a.csv'}: 1 row without an annotator (line 2). "
                              "fill in the annotator or remove those rows.")


# -- items file ----------------------------------------------------------------------------------

def test_unknown_items_error_or_drop(tmp_path):
    rows = "item,annotator,label\n" + "".join(f"{i},{a},x\n" for i in range(1, 9) for a in "ab")
    (tmp_path / "a.csv").write_text(rows)
    (tmp_path / "items.txt").write_text("id\n1\n2\n9\n")
    with pytest.raises(DataError) as err:
        agree(tmp_path / "a.csv", items=tmp_path / "items.txt")
    assert str(err.value) == (f"{tmp_path / 'a.csv'}: 12 annotations on 6 items not in the items file "
                              "(3, 4, 5, 6, 7, ...). add them to the items file, or drop them with "
                              "unknown_items='drop' (--unknown-items drop).")
    report = agree(tmp_path / "a.csv", items=tmp_path / "items.txt", unknown_items="drop", bootstrap=0)
    assert report.unknown_items == {"items": 6, "annotations": 12, "examples": ["3", "4", "5", "6", "7"]}
    assert report.skipped == {"unknown_items": 12}
    assert report.unannotated_items == 1 and report.n_items == 2 and report.n_annotations == 4
    assert "12 annotations on 6 items not in the items file were dropped" in report.notes


def test_item_id_files(tmp_path):
    (tmp_path / "plain.txt").write_text("a1\n\na2\n")
    (tmp_path / "table.csv").write_text("text,item_id\nhello,a1\nworld,a2\n")
    (tmp_path / "bad.csv").write_text("text,x\nhello,a1\n")
    assert read_item_ids(tmp_path / "plain.txt") == ["a1", "a2"]
    assert read_item_ids(tmp_path / "table.csv") == ["a1", "a2"]
    with pytest.raises(DataError, match="no item id column in the items file; columns found: text, x"):
        read_item_ids(tmp_path / "bad.csv")


# -- Label Studio --------------------------------------------------------------------------------

def _ls_annotation(ann_id: int, who, choices, *, cancelled: bool = False, control: str = "sentiment") -> dict:
    result = [] if choices is None else [
        {"id": f"r{ann_id}", "from_name": control, "to_name": "text", "type": "choices",
         "value": {"choices": choices}}]
    return {"id": ann_id, "completed_by": who, "result": result, "was_cancelled": cancelled, "task": 0}


def _ls_file(path: Path, tasks: list[tuple[int, str, list[dict]]]) -> Path:
    path.write_text(json.dumps([{"id": t, "data": {"text": text}, "annotations": anns, "predictions": []}
                                for t, text, anns in tasks]), encoding="utf-8")
    return path


def test_label_studio_export(tmp_path):
    path = _ls_file(tmp_path / "export.json", [
        (11, "great", [_ls_annotation(1, 1, ["pos"]), _ls_annotation(2, {"id": 2, "email": "b@x.org"}, ["pos"]),
                       _ls_annotation(3, 3, None)]),
        (12, "awful", [_ls_annotation(4, 1, ["neg"]), _ls_annotation(5, {"id": 2, "email": "b@x.org"}, ["pos"]),
                       _ls_annotation(6, 4, ["neg"], cancelled=True)]),
    ])
    raw = read_annotations(path)
    assert raw.format == "label_studio"
    assert _rows(raw) == [("11", "1", "pos"), ("11", "3", None), ("11", "b@x.org", "pos"),
                          ("12", "1", "neg"), ("12", "b@x.org", "pos")]
    assert raw.counts == {"cancelled": 1}
    report = agree(path, bootstrap=0)
    assert report.annotators == ["1", "b@x.org"] and report.idle_annotators == ["3", "4"]
    assert report.skipped == {"cancelled": 1, "missing_labels": 1}
    assert report.consensus["text"].tolist() == ["great", "awful"]


def test_label_studio_multi_choice_and_several_controls(tmp_path):
    path = _ls_file(tmp_path / "multi.json", [(5, "t", [_ls_annotation(9, 1, ["pos", "neg"]), _ls_annotation(10, 2, ["pos"])])])
    with pytest.raises(DataError) as err:
        read_annotations(path)
    assert str(err.value) == (f"{path}: 1 annotation with more than one label (task 5 (annotation 9): pos, neg); "
                              "only single-label classification is supported. agreement on multi-label answers "
                              "needs one yes/no table per label: write one row per (item, annotator) for each label.")
    both = _ls_annotation(1, 1, ["pos"])
    both["result"] += _ls_annotation(1, 1, ["yes"], control="relevant")["result"]
    path = _ls_file(tmp_path / "two.json", [(5, "t", [both, _ls_annotation(2, 2, ["neg"])])])
    with pytest.raises(DataError) as err:
        read_annotations(path)
    assert str(err.value) == (f"{path}: task 5 (annotation 1) has answers from 2 controls (relevant, sentiment). "
                              "choose one with label=NAME (--label NAME).")
    # annotator 2 answered only the sentiment question: no answer for "relevant"
    assert _rows(read_annotations(path, label="relevant")) == [("5", "1", "yes"), ("5", "2", None)]
    assert _rows(read_annotations(path, label="sentiment")) == [("5", "1", "pos"), ("5", "2", "neg")]


# -- doccano -------------------------------------------------------------------------------------

_DOCCANO = {
    "alice": [{"id": 1, "text": "good", "label": ["pos"]}, {"id": 2, "text": "bad", "label": ["neg"]}],
    "bob": [{"id": 1, "text": "good", "label": ["pos"]}, {"id": 2, "text": "bad", "label": []}],
    "carol": [{"id": 1, "text": "good", "label": []}, {"id": 2, "text": "bad", "label": []}],
}


def test_doccano_zip_and_folder_one_file_per_user(tmp_path):
    folder = tmp_path / "export"
    folder.mkdir()
    for user, records in _DOCCANO.items():
        _write_jsonl(folder / f"{user}.jsonl", records)
    with zipfile.ZipFile(tmp_path / "export.zip", "w") as archive:
        for user in _DOCCANO:
            archive.write(folder / f"{user}.jsonl", f"{user}.jsonl")
    expected = [("1", "alice", "pos"), ("1", "bob", "pos"), ("2", "alice", "neg")]
    for source in (folder, tmp_path / "export.zip"):
        raw = read_annotations(source)
        assert raw.format == "doccano" and _rows(raw) == expected
        data = tidy(raw)
        assert data.annotators == ["alice", "bob"] and data.idle_annotators == ["carol"]
        assert data.table["text"].tolist()[0] == "good"


def test_doccano_single_file_shapes(tmp_path):
    path = _write_jsonl(tmp_path / "dict.jsonl", [
        {"id": 1, "text": "a", "label": {"ann": ["x"], "bob": ["y"]}},
        {"id": 2, "text": "b", "label": {"ann": ["x"], "bob": []}}])
    assert _rows(read_annotations(path)) == [("1", "ann", "x"), ("1", "bob", "y"), ("2", "ann", "x")]
    path = _write_jsonl(tmp_path / "legacy.jsonl", [
        {"id": 1, "text": "a", "annotations": [{"label": 3, "user": 1}, {"label": 4, "user": 2}], "meta": {}}])
    assert _rows(read_annotations(path)) == [("1", "1", "3"), ("1", "2", "4")]
    path = _write_jsonl(tmp_path / "users.jsonl", [
        {"id": 1, "text": "a", "label": ["x"], "annotator": "ann"}, {"id": 1, "text": "a", "label": ["y"], "user": "bob"}])
    assert _rows(read_annotations(path)) == [("1", "ann", "x"), ("1", "bob", "y")]


def test_doccano_collaborative_and_multilabel_errors(tmp_path):
    path = _write_jsonl(tmp_path / "all.jsonl", [{"id": 1, "text": "a", "label": ["x", "y"]}])
    with pytest.raises(DataError) as err:
        read_annotations(path)
    assert str(err.value) == (
        f"{path}: all.jsonl line 1 has labels but no annotator (a doccano collaborative export merges everyone's "
        "labels). export with collaborative annotation off (doccano then writes one USER.jsonl per annotator in "
        "a zip: pass the zip or its folder), or add \"annotator\" to each line.")
    path = _write_jsonl(tmp_path / "multi.jsonl", [{"id": 1, "text": "a", "label": {"ann": ["x", "y"], "bob": ["x"]}}])
    with pytest.raises(DataError, match=r"1 annotation with more than one label \(multi.jsonl line 1: x, y\)"):
        read_annotations(path)


def test_single_annotator_is_an_error(tmp_path):
    (tmp_path / "one.csv").write_text("item,annotator,label\n1,alice,x\n2,alice,y\n3,bob,\n")
    with pytest.raises(DataError) as err:
        agree(tmp_path / "one.csv")
    assert str(err.value) == (f"agreement needs at least two annotators; {tmp_path / 'one.csv'} has one (alice) "
                              "(bob labelled nothing). add the other annotators' labels to the file "
                              "(one row per item, annotator and label).")
