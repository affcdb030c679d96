"""Encodings are detected, lines split on \\n only, and damaged lines rejected with their number."""

from __future__ import annotations

import codecs

import pytest

from thresher.io import detect_encoding, read_source

ROWS = [("1", "这家酒店很好，服务周到，房间干净"),
        ("0", "房间太小了，隔音很差，不会再来"),
        ("1", "早餐丰富，位置方便")]


def _csv(rows=ROWS) -> str:
    return "label,review\n" + "".join(f"{label},{text}\n" for label, text in rows)


@pytest.mark.parametrize("encoding,expected", [
    ("utf-8", "utf-8"),
    ("utf-8-sig", "utf-8-sig"),
    ("gbk", "gb18030"),
    ("gb18030", "gb18030"),
    ("utf-16", "utf-16"),
])
def test_detected_encoding_reads_the_same_rows(write, cache, encoding, expected):
    data = _csv(ROWS * 5).encode(encoding)
    result = read_source(write("e.csv", data), cache_dir=cache)
    assert result.info.encoding == expected
    assert result.table["text"].tolist() == [t for _, t in ROWS * 5]
    assert result.table.columns[1] == "text" and result.info.text_column == "review"


def test_utf16_without_bom():
    data = "text,label\nhello world,a\n".encode("utf-16-le")
    assert detect_encoding(data) == "utf-16-le"


def test_encoding_override(write, cache):
    data = "text,label\ncafé crème,a\n".encode("latin-1")
    result = read_source(write("l.csv", data), encoding="latin-1", cache_dir=cache)
    assert result.table["text"].tolist() == ["café crème"]
    assert result.info.encoding == "latin-1"


def test_mixed_encodings_reject_the_odd_lines(write, cache):
    good = [_csv()[:-1].encode("utf-8")]
    data = b"\n".join(good + ["1,这一行是GBK编码的文字".encode("gbk"), "0,又是正常的一行".encode()]) + b"\n"
    path = write("mixed.csv", data)
    result = read_source(path, cache_dir=cache)
    assert result.info.encoding == "utf-8"
    assert result.table["text"].tolist()[-1] == "又是正常的一行"
    assert [(r.reason, r.source) for r in result.rejects] == [("undecodable_line", f"{path}:5")]
    assert result.info.rows == 5


def test_line_separators_inside_fields_are_content(write, cache):
    texts = ["one\u2028two", "three\u0085four", "five\rsix", "seven\x0cok"]
    content = "label,text\n" + "".join(f"a,{t}\r\n" for t in texts)
    result = read_source(write("s.csv", content), cache_dir=cache)
    assert result.table["text"].tolist() == texts
    assert result.table["source"].str.rsplit(":", n=1).str[1].tolist() == ["2", "3", "4", "5"]


def test_label_lines_keep_unicode_separators(write, cache):
    result = read_source(write("s.txt", "0\ta\u2028b\n1\tc\rd\n"), cache_dir=cache)
    assert result.table["text"].tolist() == ["a\u2028b", "c\rd"]


def test_bom_is_not_part_of_the_first_column_name(write, cache):
    data = codecs.BOM_UTF8 + b"text,label\nhi,a\n"
    result = read_source(write("b.csv", data), cache_dir=cache)
    assert result.info.text_column == "text"
