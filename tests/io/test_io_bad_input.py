"""Bad input: every user error is one ThresherError with where (file:line) and a fix."""

from __future__ import annotations

import json

import pytest

from thresher.errors import DataError, InputError
from thresher.io import read_source


def test_missing_path(tmp_path, cache):
    with pytest.raises(InputError) as err:
        read_source(tmp_path / "nope.csv", cache_dir=cache)
    assert err.value.message == f"{tmp_path / 'nope.csv'}: file not found. " \
        "check the path (a Hugging Face Hub dataset is written hf:NAME)."


def test_empty_file(write, cache):
    path = write("e.csv", b"")
    with pytest.raises(InputError) as err:
        read_source(path, cache_dir=cache)
    assert err.value.message == f"{path}: the file is empty (0 bytes). pass a file with data."


def test_blank_lines_only(write, cache):
    with pytest.raises(InputError, match="only blank lines"):
        read_source(write("b.csv", "\n \r\n\n"), cache_dir=cache)


@pytest.mark.parametrize("name,content", [("h.csv", "text,label\n"), ("h.txt", "label\ttext\n")])
def test_header_only(write, cache, name, content):
    path = write(name, content)
    with pytest.raises(InputError) as err:
        read_source(path, cache_dir=cache)
    assert err.value.what == "no data rows (the file holds only a header)"
    assert err.value.where == str(path) and err.value.fix


@pytest.mark.parametrize("content,what", [
    (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "a PNG image"),
    (b"text,label\n" + b"\x00" * 400 + b"a,b\n", "many NUL bytes"),
    (bytes(range(256)) * 8, "many control bytes"),
])
def test_binary_file(write, cache, content, what):
    path = write("img.csv", content)
    with pytest.raises(InputError) as err:
        read_source(path, cache_dir=cache)
    assert err.value.what == f"looks binary ({what}), not text"


def test_isolated_nul_bytes_reject_their_row(write, cache):
    path = write("n.csv", b"text,label\nfine row,a\nbro\x00ken,b\nok too,c\n")
    result = read_source(path, cache_dir=cache)
    assert result.table["text"].tolist() == ["fine row", "ok too"]
    assert [(r.reason, r.source) for r in result.rejects] == [("nul_bytes", f"{path}:3")]
    assert "broken" in json.loads(result.rejects[0].record)["raw"]
    assert [(b.line, b.reason) for b in result.info.bad_lines] == [(3, "nul_bytes")]


def test_five_megabyte_single_line(write, cache):
    big = "字" * (5 * 1024 * 1024 // 3 + 10)
    path = write("big.csv", f'label,text\n1,"{big}"\n0,short\n')
    result = read_source(path, cache_dir=cache)
    assert result.table["text"].str.len().tolist() == [len(big), 5]


def test_unterminated_quote_names_the_line_it_opened(write, cache):
    path = write("q.csv", 'label,text\na,fine\nb,"opens here\nc,and never\nd,closes\n')
    with pytest.raises(InputError) as err:
        read_source(path, cache_dir=cache)
    assert err.value.where == f"{path}:3"
    assert err.value.what == "a quoted field opens here and never closes"
    assert "close the quote" in err.value.fix


def test_stray_quote_after_field_is_a_malformed_row(write, cache):
    path = write("m.csv", 'label,text\na,"ok"\nb,"bad"x\nc,fine\n')
    result = read_source(path, cache_dir=cache)
    assert result.table["label"].tolist() == ["a", "c"]
    assert [(r.reason, r.source) for r in result.rejects] == [("malformed_line", f"{path}:3")]


def test_wrong_field_count(write, cache):
    path = write("w.csv", "label,text\na,one\nb,two,extra\nc\n")
    result = read_source(path, cache_dir=cache)
    assert result.table["label"].tolist() == ["a"]
    assert [(r.reason, r.source[-2:]) for r in result.rejects] == [("wrong_field_count", ":3"),
                                                                  ("wrong_field_count", ":4")]
    assert result.rejects[0].detail == "expected 2 fields, found 3"


def test_wrong_column_name(write, cache):
    path = write("c.csv", "label,review\n1,good\n")
    with pytest.raises(DataError) as err:
        read_source(path, text="body", cache_dir=cache)
    assert err.value.message == (f"{path}: text column 'body' not found; the columns are 'label', 'review'. "
                                 "pass text= one of 'label', 'review'.")


def test_mixed_label_types(write, cache):
    path = write("m.jsonl", '{"text": "a", "label": 1}\n{"text": "b", "label": "pos"}\n')
    with pytest.raises(DataError) as err:
        read_source(path, cache_dir=cache)
    assert err.value.what == "labels in column 'label' mix kinds: 1 (number, line 1), 'pos' (string, line 2)"
    assert err.value.fix.startswith("make every label the same kind")


def test_empty_and_missing_text_and_labels_are_rejected(write, cache):
    content = '{"text": "ok", "label": 1}\n{"text": "  ", "label": 1}\n{"label": 2}\n' \
              '{"text": "no label"}\n{"text": "x", "label": null}\n{"text": ["a"], "label": 1}\n'
    result = read_source(write("r.jsonl", content), cache_dir=cache)
    assert result.table["text"].tolist() == ["ok"]
    assert [r.reason for r in result.rejects] == ["empty_text", "missing_text", "missing_label",
                                                  "missing_label", "text_not_string"]
    assert result.info.rows == 6


def test_malformed_json_lines(write, cache):
    path = write("j.jsonl", '{"text": "a", "label": "x"}\n{"text": "b", \n[1, 2]\n{"text": "c", "label": "y"}\n')
    result = read_source(path, cache_dir=cache)
    assert result.table["text"].tolist() == ["a", "c"]
    assert [(r.reason, r.source) for r in result.rejects] == [("malformed_line", f"{path}:2"),
                                                              ("malformed_line", f"{path}:3")]
    assert result.rejects[0].detail.startswith("invalid JSON: ")


def test_all_json_lines_bad_is_an_input_error(write, cache):
    path = write("all.jsonl", "{oops\nnot json\n")
    with pytest.raises(InputError) as err:
        read_source(path, cache_dir=cache)
    assert err.value.where == f"{path}:1"
    assert err.value.what.startswith("no line is a valid JSON object")


def test_broken_json_document(write, cache):
    path = write("b.json", '[\n {"text": "a", "label": 1},\n {"text": }\n]')
    with pytest.raises(InputError) as err:
        read_source(path, cache_dir=cache)
    assert err.value.where == f"{path}:3"


def test_duplicate_given_ids(write, cache):
    path = write("d.csv", "id,text,label\n7,a,x\n8,b,y\n7,c,z\n")
    with pytest.raises(DataError) as err:
        read_source(path, id="id", cache_dir=cache)
    assert err.value.what == "id '7' in column 'id' appears twice (lines 2 and 4)"
    assert err.value.where == f"{path}:4"


def test_no_label_column(write, cache):
    path = write("u.txt", "just some text\nand more text\n")
    with pytest.raises(DataError, match="no label column found"):
        read_source(path, cache_dir=cache)


def test_unknown_task(write, cache):
    with pytest.raises(DataError, match="unknown task 'qa'"):
        read_source(write("a.csv", "text,label\na,b\n"), task="qa", cache_dir=cache)


def test_unknown_encoding_override(write, cache):
    with pytest.raises(InputError, match="unknown encoding 'klingon'"):
        read_source(write("a.csv", "text,label\na,b\n"), encoding="klingon", cache_dir=cache)


def test_damaged_parquet(write, cache):
    with pytest.raises(InputError, match="not a readable Parquet file"):
        read_source(write("x.parquet", b"PAR1 this is not really parquet"), cache_dir=cache)


def test_lone_surrogate_escape_in_json_is_rejected(write, cache):
    path = write("s.jsonl", '{"text": "ok", "label": "a"}\n{"text": "bad \\ud800 text", "label": "a"}\n'
                            '{"text": "pair \\ud83d\\ude00 fine", "label": "a"}\n')
    result = read_source(path, cache_dir=cache)
    assert result.table["text"].tolist() == ["ok", "pair \U0001f600 fine"]
    assert [(r.reason, r.source) for r in result.rejects] == [("invalid_unicode", f"{path}:2")]
    array = write("s.json", '[{"text": "x \\udc00", "label": "a"}, {"text": "y", "label": "b"}]')
    assert [r.reason for r in read_source(array, cache_dir=cache).rejects] == ["invalid_unicode"]


def test_headerless_csv_whose_first_row_looks_like_names(write, cache):
    path = write("h.csv", "pos,great movie\nneg,dull plot\npos,fine acting\n")
    result = read_source(path, cache_dir=cache)
    assert result.info.rows == 3  # "pos" recurs below, so the first row is data
