"""Each supported format reads into the classification / NER schema with correct lines."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from thresher.io import read_source


def _invariant(result) -> None:
    assert result.info.rows == len(result.table) + len(result.rejects)
    assert result.table["id"].is_unique


def test_csv_with_header_quoted_newline_and_doubled_quotes(write, cache):
    path = write("a.csv", 'label,text\npos,"line one\nline two"\nneg,"say ""hi"", then go"\n')
    result = read_source(path, cache_dir=cache)
    assert result.info.format == "csv"
    assert result.table["text"].tolist() == ["line one\nline two", 'say "hi", then go']
    assert result.table["label"].tolist() == ["pos", "neg"]
    assert result.table["source"].tolist() == [f"{path}:2", f"{path}:4"]
    assert list(result.table.columns) == ["id", "text", "label", "source"]
    _invariant(result)


@pytest.mark.parametrize("delimiter", [";", "|", "\t"])
def test_csv_any_delimiter_is_sniffed(write, cache, delimiter):
    rows = [["sentiment", "review", "stars"], ["pos", "great, really", "5"], ["neg", "awful bad", "1"]]
    path = write("d.csv", "\n".join(delimiter.join(r) for r in rows) + "\n")
    result = read_source(path, cache_dir=cache)
    assert result.table["text"].tolist() == ["great, really", "awful bad"]
    assert result.table["stars"].tolist() == ["5", "1"]  # extra columns are kept
    assert result.info.text_column == "review" and result.info.label_column == "sentiment"


def test_tsv_with_crlf_line_ends(write, cache):
    path = write("a.tsv", "text\tlabel\r\nhello there\tx\r\nbye now\ty\r\n")
    result = read_source(path, cache_dir=cache)
    assert result.info.format == "tsv"
    assert result.table["text"].tolist() == ["hello there", "bye now"]
    assert result.table["label"].tolist() == ["x", "y"]


def test_jsonl_keeps_line_numbers_and_extra_fields(write, cache):
    lines = [{"text": "a b", "label": 1, "meta": {"k": 1}}, {}, {"text": "c d", "label": 0, "meta": None}]
    content = "\n".join(json.dumps(x) if x else "" for x in lines) + "\n"
    result = read_source(write("a.jsonl", content), cache_dir=cache)
    assert result.table["label"].tolist() == ["1", "0"]
    assert result.table["source"].str.endswith((":1", ":3")).all()
    assert result.table["meta"].tolist() == [{"k": 1}, None]


def test_json_array_lines_point_at_each_object(write, cache):
    path = write("a.json", '[\n  {"text": "one", "label": "a"},\n\n  {"text": "two", "label": "b"}\n]\n')
    result = read_source(path, cache_dir=cache)
    assert result.info.format == "json"
    assert result.table["source"].tolist() == [f"{path}:2", f"{path}:4"]


def test_json_object_holding_one_list_and_key_choice(write, cache):
    doc = {"version": 2, "data": [{"sentence": "x y", "y": 3.0}, {"sentence": "z", "y": 4}]}
    path = write("o.json", json.dumps(doc, indent=1))
    assert read_source(path, cache_dir=cache).table["label"].tolist() == ["3", "4"]
    two = write("two.json", json.dumps({"a": [{"text": "t", "label": "l"}], "b": [{"text": "u", "label": "m"}]}))
    assert read_source(f"{two}#b", cache_dir=cache).table["text"].tolist() == ["u"]


def test_parquet_with_list_column(write, tmp_path, cache):
    path = tmp_path / "a.parquet"
    pd.DataFrame({"content": ["hi there", "bye"], "category": ["g", "b"], "tags": [[1, 2], []]}).to_parquet(path)
    result = read_source(path, cache_dir=cache)
    assert result.info.format == "parquet" and result.info.encoding is None
    assert result.table["text"].tolist() == ["hi there", "bye"]
    assert [list(t) for t in result.table["tags"]] == [[1, 2], []]
    assert result.table["source"].tolist() == [f"{path}:1", f"{path}:2"]


@pytest.mark.parametrize("content,side", [
    ("0\tthe movie\tstinks\n1\tgreat fun\n1\tloved it\n", "left"),
    ("长城宽带上市\t3\n股市大跌\t2\n球队获胜\t7\n选举结果\t2\n", "right"),
])
def test_label_tab_text_lines_find_the_label_side(write, cache, content, side):
    result = read_source(write("t.txt", content), cache_dir=cache)
    assert result.info.format == "lines"
    if side == "left":
        assert result.table["text"].tolist()[0] == "the movie\tstinks"  # split at the first tab
        assert set(result.table["label"]) == {"0", "1"}
    else:
        assert result.table["label"].tolist() == ["3", "2", "7", "2"]


def test_label_lines_with_header_skip_it(write, cache):
    result = read_source(write("h.txt", "label\ttext\n1\tgood\n0\tbad\n"), cache_dir=cache)
    assert result.table["text"].tolist() == ["good", "bad"]
    assert result.info.rows == 2


def test_folder_per_class_each_file_one_example(tmp_path, write, cache):
    write("imdb/pos/1.txt", "great\nfilm\n")
    write("imdb/neg/2.txt", "bad")
    write("imdb/.hidden/3.txt", "x")
    write("imdb/README", "ignored")
    result = read_source(tmp_path / "imdb", cache_dir=cache)
    assert result.info.format == "folder"
    assert sorted(zip(result.table["label"], result.table["text"])) == [("neg", "bad"), ("pos", "great\nfilm")]
    assert result.table["source"].str.contains("imdb/pos/1.txt:1").any()
    assert len(result.info.sha256) == 64


def test_folder_of_class_files_each_line_one_example(tmp_path, write, cache):
    write("s/pos.txt", "好\n很好\n\n")
    write("s/neg.txt", "差\n")
    result = read_source(tmp_path / "s", cache_dir=cache)
    assert sorted(result.table["label"]) == ["neg", "pos", "pos"]
    assert result.info.rows == 3


def test_conll_skips_docstart_and_splits_on_whitespace(write, cache):
    content = "-DOCSTART- -X- O O\n\nEU NNP B-ORG\nrejects VBZ O\n \nPeter NNP B-PER\n"
    result = read_source(write("a.conll", content), task="ner", cache_dir=cache)
    assert result.table["tokens"].tolist() == [["EU", "rejects"], ["Peter"]]
    assert result.table["tags"].tolist() == [["B-ORG", "O"], ["B-PER"]]
    assert result.table["source"].str.endswith((":3", ":6")).all()


def test_conll_weibo_position_digits_are_stripped(write, cache):
    content = "科0\tB-ORG.NAM\n技1\tI-ORG.NAM\n210\tO\n\n好0\tO\n"  # "210": "2" at position 10
    result = read_source(write("w.train", content), task="ner", cache_dir=cache)
    assert result.table["tokens"].tolist() == [["科", "技", "2"], ["好"]]


def test_conll_token_without_tag_rejects_the_sentence(write, cache):
    result = read_source(write("b.conll", "a\tO\nb\n\nc\tB-X\n"), task="ner", cache_dir=cache)
    assert result.table["tokens"].tolist() == [["c"]]
    assert [(r.reason, r.source.rsplit(":", 1)[1]) for r in result.rejects] == [("missing_tag", "1")]


def test_conll_as_classification_says_pass_task_ner(write, cache):
    from thresher.errors import DataError

    with pytest.raises(DataError, match="pass task='ner'"):
        read_source(write("c.conll", "a\tO\n"), cache_dir=cache)


def test_ner_from_jsonl_with_integer_tags(write, cache):
    path = write("n.jsonl", '{"words": ["a", "b"], "ner_tags": [0, 1]}\n{"words": [], "ner_tags": []}\n')
    result = read_source(path, task="ner", cache_dir=cache)
    assert result.table["tags"].tolist() == [["0", "1"]]
    assert [r.reason for r in result.rejects] == ["empty_sentence"]


def test_format_override_and_unknown_format(write, cache):
    from thresher.errors import InputError

    path = write("data.dat", "text,label\nhello,a\n")
    assert read_source(path, format="CSV", cache_dir=cache).table["label"].tolist() == ["a"]
    with pytest.raises(InputError, match="unknown format 'xlsx'"):
        read_source(path, format="xlsx", cache_dir=cache)
    lines = write("one.json", '{"text": "a", "label": "x"}\n{"text": "b", "label": "y"}\n')
    assert read_source(lines, cache_dir=cache).info.format == "jsonl"  # detected from the content
    with pytest.raises(InputError, match="not valid JSON"):
        read_source(lines, format="json", cache_dir=cache)  # an explicit format is obeyed


def test_folder_with_a_binary_file_rejects_it(tmp_path, write, cache):
    write("f/pos/a.txt", "fine")
    write("f/neg/b.txt", b"\x89PNG\r\n\x1a\n" + bytes(100))
    result = read_source(tmp_path / "f", cache_dir=cache)
    assert result.table["text"].tolist() == ["fine"]
    assert [(r.reason, r.source) for r in result.rejects] == [("binary_file", f"{tmp_path / 'f'}/neg/b.txt:1")]
    assert result.info.rows == 2


@pytest.mark.parametrize("damaged", [False, True])  # clean: the pyarrow path; damaged: line by line
def test_reading_time_grows_linearly(write, cache, damaged):
    import time

    def seconds(rows: int) -> float:
        body = "".join(f'{i % 3},"text number {i}, quoted"\n' for i in range(rows))
        path = write(f"s{rows}.csv", "label,text\n" + body + ("1,two,fields too many\n" if damaged else ""))
        best = float("inf")
        for _ in range(3):  # best of three: a shared CI machine pauses single runs at random
            started = time.perf_counter()
            result = read_source(path, cache_dir=cache)
            best = min(best, time.perf_counter() - started)
            assert len(result.table) == rows and len(result.rejects) == int(damaged)
        return best

    seconds(1000)  # warm up
    small, large = seconds(20_000), seconds(160_000)
    assert large < 24 * small  # 8x the rows: linear is ~8x, quadratic would be ~64x


def test_tables_and_rejects_write_to_parquet(write, tmp_path, cache):
    from thresher.records import rejects_frame

    content = ('{"text": "a", "label": "x", "stars": 5, "meta": {"k": 1}}\n'
               '{"text": "b", "label": "y", "stars": "five", "meta": [1, 2]}\n'
               '{"text": "", "label": "y", "stars": 1}\n{bad json\n')
    result = read_source(write("m.jsonl", content), cache_dir=cache)
    assert result.table["stars"].tolist() == ["5", '"five"']  # mixed kinds kept as JSON text
    result.table.to_parquet(tmp_path / "t.parquet")
    rejects_frame(result.rejects).to_parquet(tmp_path / "r.parquet")
    back = pd.read_parquet(tmp_path / "r.parquet")
    assert back["reason"].tolist() == ["empty_text", "malformed_line"]
