"""Column roles are inferred by name, then by content, and can be overridden; ids are unique."""

from __future__ import annotations

import pandas as pd
import pytest

from thresher.errors import DataError
from thresher.io import read_source
from thresher.io.roles import resolve_roles
from thresher.records import make_id


def test_roles_by_name_case_insensitive():
    frame = pd.DataFrame({"GUID": ["a", "b"], "Sentence": ["x y", "z"], "Category": ["p", "q"]})
    roles = resolve_roles(frame, "f")
    assert (roles.text, roles.label, roles.id) == ("Sentence", "Category", "GUID")


def test_roles_by_content_without_names():
    frame = pd.DataFrame({"a": ["short", "tiny", "small", "wee"] * 3,
                          "b": [f"a much longer piece of text number {i}" for i in range(12)],
                          "c": ["x", "y", "x", "y"] * 3,
                          "d": [str(i) for i in range(12)]})
    roles = resolve_roles(frame, "f")
    assert (roles.text, roles.label, roles.id) == ("b", "c", None)


def test_id_column_only_when_unique():
    frame = pd.DataFrame({"id": ["1", "1"], "text": ["a", "b"], "label": ["x", "y"]})
    assert resolve_roles(frame, "f").id is None


def test_overrides_win(write, cache):
    path = write("o.csv", "text,label,title,topic\nignored,x,used title,t1\nalso,y,second,t2\n")
    result = read_source(path, text="title", label="topic", cache_dir=cache)
    assert result.table["text"].tolist() == ["used title", "second"]
    assert result.table["label"].tolist() == ["t1", "t2"]
    assert "input_text" in result.table.columns and "input_label" in result.table.columns
    roles = {c.name: c.role for c in result.info.columns}
    assert roles == {"text": "extra", "label": "extra", "title": "text", "topic": "label"}


def test_label_and_id_overrides_that_do_not_exist(write, cache):
    path = write("o.csv", "text,label\na,b\n")
    with pytest.raises(DataError, match="label column 'stars' not found"):
        read_source(path, label="stars", cache_dir=cache)
    with pytest.raises(DataError, match="id column 'key' not found"):
        read_source(path, id="key", cache_dir=cache)


def test_numeric_labels_become_strings(write, cache):
    path = write("n.jsonl", '{"text": "a", "label": 1}\n{"text": "b", "label": 1.0}\n{"text": "c", "label": 2.5}\n'
                            '{"text": "d", "label": true}\n')
    with pytest.raises(DataError, match="mix kinds"):  # numbers and booleans
        read_source(path, cache_dir=cache)
    path.write_text('{"text": "a", "label": 1}\n{"text": "b", "label": 1.0}\n{"text": "c", "label": 2.5}\n')
    assert read_source(path, cache_dir=cache).table["label"].tolist() == ["1", "1", "2.5"]


def test_given_ids_are_strings_and_missing_ones_are_made(write, cache):
    path = write("i.jsonl", '{"id": 10, "text": "a", "label": "x"}\n{"id": null, "text": "b", "label": "y"}\n')
    ids = read_source(path, cache_dir=cache).table["id"].tolist()
    assert ids == ["10", make_id("b", "y")]


def test_repeated_content_gets_distinct_stable_ids(write, cache):
    path = write("r.csv", "text,label\nsame,a\nsame,a\nsame,a\nother,a\n")
    first = read_source(path, cache_dir=cache).table["id"].tolist()
    again = read_source(path, cache_dir=cache).table["id"].tolist()
    assert first == again and len(set(first)) == 4
    assert first[0] == make_id("same", "a") and first[1] == make_id("same", "a", 1)


def test_column_info_counts_empty_and_missing(write, cache):
    path = write("c.jsonl", '{"text": "a", "label": "x", "note": ""}\n{"text": " ", "label": "y"}\n')
    result = read_source(path, cache_dir=cache)
    info = {c.name: c for c in result.info.columns}
    assert (info["text"].empty, info["text"].missing) == (1, 0)
    assert (info["note"].empty, info["note"].missing, info["note"].role) == (1, 1, "extra")
    assert result.info.to_dict()["columns"][0]["name"] == "text"


@pytest.mark.parametrize("text,label", [("plain", "1"), ('q"uote\\ \n\t\u2028 中文 \x7f', "pos"), ("", "")])
def test_fast_ids_equal_make_id(text, label):
    from thresher.io.table import unique_ids

    assert unique_ids([(text, label), (text, label)]) == [make_id(text, label), make_id(text, label, 1)]


def test_csv_without_header_uses_content(write, cache):
    result = read_source(write("n.csv", "0,a rather long text here\n1,another long text\n0,third text\n"),
                         cache_dir=cache)
    assert result.info.rows == 3
    assert (result.info.text_column, result.info.label_column) == ("column_2", "column_1")


def test_auto_task_for_token_lists(write, cache):
    path = write("n.jsonl", '{"tokens": ["a", "b"], "tags": ["B-X", "O"]}\n')
    result = read_source(path, task=None, cache_dir=cache)
    assert result.task == "ner" and result.table["tags"].tolist() == [["B-X", "O"]]
    assert read_source(write("c.csv", "text,label\na,b\n"), task=None, cache_dir=cache).task == "classification"
