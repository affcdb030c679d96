"""iter_source reads in chunks and gives exactly what read_source gives on the same file."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from thresher.errors import DataError
from thresher.io import read_source
from thresher.io import chunk_readers
from thresher.io.stream import SeenKeys, iter_source

REVIEWS = ["房间很干净，服务也好", "太吵了，不会再来", "Great hotel, friendly staff",
           "Dirty room and rude staff", "早餐丰富，位置方便", "空调坏了也没人修"]


def jsonl_rows(n: int = 60) -> list[str]:
    lines = []
    for i in range(n):
        row = {"text": REVIEWS[i % len(REVIEWS)] + (f" {i}" if i % 4 else ""),  # repeats: same ids
               "label": "pos" if i % 2 else "neg"}
        if i < 3:
            row["stars"] = 5 - i  # a key only the first lines have
        lines.append(json.dumps(row, ensure_ascii=False))
    lines[10] = '{"text": "broken'  # malformed
    lines[23] = json.dumps({"text": "   ", "label": "pos"})  # empty text
    lines[37] = json.dumps({"text": "无标签的评论", "label": None})  # missing label
    lines.insert(40, "")  # a blank line is not a row
    return lines


def chunked(path: Path, rows: int, **options) -> tuple[object, pd.DataFrame, list]:
    info, chunks = iter_source(path, chunk_rows=rows, stream_above=0, **options)
    tables, rejects = [], []
    for table, found in chunks:
        tables.append(table)
        rejects += found
    return info, pd.concat(tables, ignore_index=True), rejects


def assert_same_as_read_source(path: Path, rows: int, **options) -> None:
    whole = read_source(path, **options)
    info, table, rejects = chunked(path, rows, **options)
    assert len(table) > rows, "the test must cross chunk boundaries"
    pd.testing.assert_frame_equal(table, whole.table, check_dtype=False)
    assert rejects == whole.rejects
    assert info.to_dict() == whole.info.to_dict()


@pytest.mark.parametrize("rows", [7, 1000])
def test_jsonl_chunks_equal_a_whole_read(tmp_path: Path, rows: int):
    path = tmp_path / "reviews.jsonl"
    path.write_text("\n".join(jsonl_rows(60 if rows == 7 else 3000)) + "\n", encoding="utf-8")
    assert_same_as_read_source(path, rows)


def test_jsonl_blocks_cut_between_lines(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(chunk_readers, "_BLOCK_BYTES", 64)  # many blocks, lines cut across them
    path = tmp_path / "reviews.jsonl"
    path.write_text("\n".join(jsonl_rows()) + "\n", encoding="utf-8")
    assert_same_as_read_source(path, 9)


def test_csv_with_quoted_newlines_and_bad_rows_across_blocks(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(chunk_readers, "_BLOCK_BYTES", 80)
    lines = ["label,review,stars"]
    for i in range(80):
        text = REVIEWS[i % len(REVIEWS)] + (f" {i}" if i % 3 else "")
        if i % 9 == 0:
            text = f'"{text}\nsecond line, with ""quotes"""'  # a field spanning lines
        lines.append(f"{'pos' if i % 2 else 'neg'},{text},{i % 5}")
    lines[30] = "pos,too,many,fields,here"
    lines[55] = "neg,,3"  # empty text
    path = tmp_path / "reviews.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert_same_as_read_source(path, 11)


def test_tsv_and_parquet(tmp_path: Path):
    frame = pd.DataFrame({"text": [f"{REVIEWS[i % 6]} {i // 6}" for i in range(50)],
                          "label": ["pos", "neg"] * 25, "score": np.arange(50) / 7})
    frame.to_csv(tmp_path / "r.tsv", sep="\t", index=False)
    frame.to_parquet(tmp_path / "r.parquet", index=False)
    assert_same_as_read_source(tmp_path / "r.tsv", 8)
    assert_same_as_read_source(tmp_path / "r.parquet", 8)


def test_duplicate_given_ids_across_chunks_are_the_same_error(tmp_path: Path):
    rows = [{"id": f"r{i % 40}", "text": f"text {i}", "label": "a"} for i in range(45)]
    path = tmp_path / "dup.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    with pytest.raises(DataError) as whole:
        read_source(path, id="id")
    with pytest.raises(DataError) as chunks:
        chunked(path, 10, id="id")
    assert chunks.value.message == whole.value.message
    assert "lines 1 and 41" in chunks.value.message


def test_label_kinds_mixed_across_chunks_are_the_same_error(tmp_path: Path):
    rows = [{"text": f"text {i}", "label": "pos" if i < 30 else 1} for i in range(40)]
    path = tmp_path / "mixed.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    with pytest.raises(DataError) as whole:
        read_source(path)
    with pytest.raises(DataError) as chunks:
        chunked(path, 10)
    assert chunks.value.message == whole.value.message


def test_small_files_are_read_whole_and_handed_out_in_chunks(tmp_path: Path):
    path = tmp_path / "reviews.jsonl"
    path.write_text("\n".join(jsonl_rows()) + "\n", encoding="utf-8")
    info, chunks = iter_source(path, chunk_rows=25)
    parts = list(chunks)
    assert [len(t) for t, _ in parts] == [25, 25, 7] and info.rows == 60
    assert sum(len(r) for _, r in parts) == 3 and parts[1][1] == []


def test_seen_keys_keeps_the_first_payload_and_merges_runs():
    seen = SeenKeys()
    rng = np.random.default_rng(0)
    keys = rng.integers(0, 2**63, 5000, dtype=np.uint64)
    for start in range(0, 5000, 300):
        part = keys[start:start + 300]
        seen.add(part, np.arange(start, start + len(part)))
    found, first = seen.lookup(np.concatenate([keys[[17, 4999]], np.array([7], dtype=np.uint64)]))
    assert found.tolist() == [True, True, False] and first[:2].tolist() == [17, 4999]
    seen.add(keys[[17]], np.array([-1]))  # already there: the first payload stays
    assert seen.lookup(keys[[17]])[1].tolist() == [17]
    assert len(seen._runs) < 6  # runs of similar size were merged
