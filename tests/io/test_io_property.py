"""Randomly broken CSV / JSONL / TSV never crash the reader with anything but a ThresherError.

Otherwise every row found is accounted for: table + rejects, distinct ids, distinct source lines
inside the file.
"""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from thresher.errors import ThresherError
from thresher.io import read_source

WORDS = st.text(alphabet="abcxyz 你好,\"';\t|\\", min_size=0, max_size=12)
ROW = st.tuples(st.sampled_from(["0", "1", "pos", ""]), WORDS)
CORRUPTION = st.sampled_from(["quote", "drop_field", "empty_text", "nul", "cr", "bytes", "blank", "none"])


def _corrupt(line: bytes, how: str, junk: bytes) -> bytes:
    cut = len(line) // 2
    return {
        "quote": line[:cut] + b'"' + line[cut:],
        "drop_field": line.split(b",")[0].split(b"\t")[0],
        "empty_text": line[:1] + (b"\t" if b"\t" in line else b","),
        "nul": line[:cut] + b"\x00" + line[cut:],
        "cr": line[:cut] + b"\r" + line[cut:],
        "bytes": line + junk,
        "blank": b"",
        "none": line,
    }[how]


def _lines(kind: str, rows: list[tuple[str, str]]) -> list[bytes]:
    if kind == "jsonl":
        return [json.dumps({"label": lab, "text": t}, ensure_ascii=False).encode() for lab, t in rows]
    if kind == "txt":
        return [f"{lab}\t{t}".encode() for lab, t in rows]
    quoted = ['"' + t.replace('"', '""') + '"' for _, t in rows]
    return [b"label,text"] + [f"{lab},{q}".encode() for (lab, _), q in zip(rows, quoted)]


def _check(path: Path, data: bytes, cache: Path) -> None:
    path.write_bytes(data)
    try:
        result = read_source(path, cache_dir=cache)
    except ThresherError:
        return
    total_lines = data.count(b"\n") + 1
    sources = result.table["source"].tolist() + [r.source for r in result.rejects]
    assert result.info.rows == len(result.table) + len(result.rejects) == len(sources)
    assert result.table["id"].is_unique
    assert len(set(sources)) == len(sources)
    assert all(1 <= int(s.rsplit(":", 1)[1]) <= total_lines for s in sources)
    assert result.info.rows <= sum(1 for line in data.split(b"\n") if line.strip())


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kind=st.sampled_from(["csv", "jsonl", "txt"]),
       rows=st.lists(ROW, min_size=1, max_size=8),
       damage=st.lists(st.tuples(st.integers(0, 9), CORRUPTION), max_size=4),
       junk=st.binary(min_size=1, max_size=6),
       crlf=st.booleans())
def test_broken_inputs_are_accounted_for(tmp_path, kind, rows, damage, junk, crlf):
    lines = _lines(kind, rows)
    for index, how in damage:
        i = index % len(lines)
        lines[i] = _corrupt(lines[i], how, junk)
    data = (b"\r\n" if crlf else b"\n").join(lines) + b"\n"
    _check(tmp_path / f"data.{kind}", data, tmp_path / "cache")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(ROW, min_size=1, max_size=8),
       damage=st.lists(st.tuples(st.integers(0, 9), st.sampled_from(["quote", "drop_field", "empty_text", "cr"])),
                       max_size=4))
def test_jsonl_every_non_blank_line_is_a_row(tmp_path, rows, damage):
    lines = _lines("jsonl", rows)
    for index, how in damage:
        lines[index % len(lines)] = _corrupt(lines[index % len(lines)], how, b"")
    path = tmp_path / "d.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    try:
        result = read_source(path, cache_dir=tmp_path / "cache")
    except ThresherError:
        return
    assert result.info.rows == sum(1 for line in lines if line.decode("utf-8", "replace").strip())


CELL = st.text(alphabet='ab 你,"\t; ', max_size=6)
TWO_CELLS = st.lists(CELL, min_size=2, max_size=2)  # the header's width: clean files take the fast path


@settings(max_examples=150, deadline=None)
@given(rows=st.lists(st.one_of(TWO_CELLS, st.lists(CELL, min_size=1, max_size=3)), min_size=1, max_size=8),
       quote_all=st.booleans(), delimiter=st.sampled_from([",", "\t", ";"]), gap=st.sampled_from(["", "\n"]))
def test_fast_and_line_by_line_csv_paths_agree(rows, quote_all, delimiter, gap):
    from thresher.io.csv_reader import read_delimited
    from thresher.io.encoding import decode_lines

    def cell(value: str) -> str:
        return '"' + value.replace('"', '""') + '"' if quote_all else value

    text = "text,label\n".replace(",", delimiter) + gap.join(
        delimiter.join(cell(v) for v in row) + "\n" for row in rows)
    decoded = decode_lines(text.encode(), "utf-8")
    outcomes = []
    for fast in (True, False):
        try:
            raw = read_delimited(decoded, "f", delimiter, fast=fast)
        except ThresherError as err:
            outcomes.append(("error", err.message))
            continue
        bad = [(b.line, b.reason) for b in raw.bad]
        outcomes.append((raw.frame.to_dict("list"), list(raw.frame.columns), raw.lines, bad))
    assert outcomes[0] == outcomes[1]
