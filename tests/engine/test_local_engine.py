"""The local engine: sharded, parallel runs give exactly what the step-by-step run gives."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from thresher.engine import LocalEngine, make_engine
from thresher.engine.local import run_step
from thresher.engine.segment import plan_passes
from thresher.engine.work import Piece, WorkDir
from thresher.errors import DataError, RecipeError
from thresher.ops import COUNTS, OPERATORS, DedupExact, Filter, FilterLength, Mapper, Normalize
from thresher.pipeline import run
from thresher.records import rejects_frame

from engine_helpers import assert_same_run, make_recipe, reference, run_folder, write_reviews


def assert_matches_reference(out: Path, recipe) -> None:
    parts, rejects, steps = reference(recipe)
    data, found, manifest = run_folder(out)
    for name, part in parts.items():
        pd.testing.assert_frame_equal(data[name], part.reset_index(drop=True), check_dtype=False)
    expected = rejects_frame(rejects)
    pd.testing.assert_frame_equal(found.drop(columns="record"), expected.drop(columns="record"),
                                  check_dtype=False)
    assert [json.loads(r) for r in found["record"]] == [json.loads(r) for r in expected["record"]]
    assert [{k: v for k, v in s.items() if k != "seconds"} for s in manifest["steps"]] == steps
    assert manifest["rows"]["read"] == manifest["rows"]["kept"] + manifest["rows"]["rejected"]


def test_one_shard_in_process_matches_the_step_by_step_run(tmp_path: Path):
    recipe = make_recipe(write_reviews(tmp_path / "r.jsonl"))
    run(recipe, tmp_path / "out")
    assert_matches_reference(tmp_path / "out", recipe)


@pytest.mark.parametrize("num_proc", [1, 2])
def test_many_shards_match_the_step_by_step_run(tmp_path: Path, small_chunks, num_proc: int):
    recipe = make_recipe(write_reviews(tmp_path / "r.jsonl"))
    result = run(recipe, tmp_path / "out", num_proc=num_proc)
    assert_matches_reference(tmp_path / "out", recipe)
    assert result.manifest["rows"]["read"] == 400
    assert not list((tmp_path / "out" / ".cache").iterdir())  # the work folder is gone


def test_rows_sorted_by_label_across_shards(tmp_path: Path, small_chunks):
    """A shard holding one label only stores its labels dictionary-encoded, its neighbours
    as plain strings; the signatures of both must still come together for ``decide``."""
    path = write_reviews(tmp_path / "r.jsonl", n=240)
    rows = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.endswith("}")]
    rows.sort(key=lambda r: r.get("label", ""))
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    recipe = make_recipe(path)
    run(recipe, tmp_path / "out", num_proc=1)
    assert_matches_reference(tmp_path / "out", recipe)


def test_workers_and_shard_size_do_not_change_the_run_folder(tmp_path: Path, monkeypatch):
    recipe = make_recipe(write_reviews(tmp_path / "r.jsonl"))
    run(recipe, tmp_path / "whole")
    from thresher.io import stream

    monkeypatch.setattr(stream, "STREAM_ABOVE", 0)
    monkeypatch.setattr(stream, "CHUNK_ROWS", 33)
    run(recipe, tmp_path / "two", num_proc=2)
    assert_same_run(tmp_path / "whole", tmp_path / "two")


@pytest.mark.skipif("dedup_near" not in OPERATORS, reason="dedup_near is not registered")
def test_added_columns_and_grouped_split_across_shards(tmp_path: Path, small_chunks):
    recipe = make_recipe(write_reviews(tmp_path / "r.jsonl"),
                         steps=[{"normalize": {}}, {"dedup_near": {"threshold": 0.5}},
                                {"filter_length": {"min_chars": 2}}])
    run(recipe, tmp_path / "out", num_proc=2)
    assert_matches_reference(tmp_path / "out", recipe)
    data, _, manifest = run_folder(tmp_path / "out")
    assert "cluster" in data["train"] and manifest["steps"][-1]["info"]["splits"]["group_by"] == "cluster"


class CountDigits(Mapper):
    """Counts digits per row (test-only; not registered)."""

    name = "count_digits"

    def map_batch(self, batch):
        batch[COUNTS] = [{"digits": sum(c.isdigit() for c in t)} for t in batch["text"]]
        return batch


class Explode(Filter):
    name = "explode"

    def keep(self, record):
        if record["text"].startswith("review 13 "):
            raise RuntimeError("boom on purpose")
        return True


def pieces(table: pd.DataFrame, size: int) -> list[Piece]:
    return [Piece(len(table.iloc[s:s + size]), frame=table.iloc[s:s + size].reset_index(drop=True))
            for s in range(0, len(table), size)]


def review_table(n: int = 300) -> pd.DataFrame:
    texts = [f"review {i} 好评 {'x' * (i % 7)}" for i in range(n)] + ["review 3 好评 xxx"] * 5
    return pd.DataFrame({"id": [f"r{i}" for i in range(len(texts))], "text": texts,
                         "label": ["pos", "neg"] * (len(texts) // 2) + ["pos"] * (len(texts) % 2),
                         "source": [f"f:{i}" for i in range(len(texts))]})


@pytest.mark.parametrize("num_proc", [1, 2])
def test_engine_sums_mapper_counts_and_keeps_examples_in_data_order(tmp_path: Path, num_proc: int):
    table = review_table()
    ops = [CountDigits(), FilterLength(min_chars=14), DedupExact()]
    expected, current = [], table
    for op in ops:
        current, _, stats = run_step(op, current)
        expected.append({k: v for k, v in stats.to_dict().items() if k != "seconds"})
    with WorkDir(tmp_path) as work:
        result = LocalEngine(num_proc).run(ops, pieces(table, 40), work)
        kept = pd.concat([p.load() for p in result.pieces], ignore_index=True)
    assert [{k: v for k, v in s.to_dict().items() if k != "seconds"} for s in result.stats] == expected
    pd.testing.assert_frame_equal(kept, current, check_dtype=False)
    assert expected[0]["info"]["counts"]["digits"] > 300


def test_a_worker_error_reaches_the_caller_and_the_work_folder_goes(tmp_path: Path):
    with pytest.raises(RuntimeError, match="boom on purpose"):
        with WorkDir(tmp_path) as work:
            LocalEngine(2).run([Normalize(), Explode()], pieces(review_table(), 30), work)
    assert list((tmp_path / ".cache").iterdir()) == []


def test_passes_cut_at_each_global_op():
    ops = [Normalize(), DedupExact(), FilterLength(), Normalize(), DedupExact()]
    assert [(p.apply, p.chain, p.sign) for p in plan_passes(ops)] == [
        (None, (0,), 1), (1, (2, 3), 4), (4, (), None)]


def test_no_rows_left_across_shards_names_the_step(tmp_path: Path, small_chunks):
    recipe = make_recipe(write_reviews(tmp_path / "r.jsonl"),
                         steps=[{"filter_length": {"min_chars": 500}}, {"dedup_exact": {}}])
    with pytest.raises(DataError, match="no rows left after step 'filter_length'"):
        run(recipe, tmp_path / "out", num_proc=2)


def test_stale_work_folders_of_a_killed_run_are_removed(tmp_path: Path):
    stale = tmp_path / "out" / ".cache" / "work-killed"
    stale.mkdir(parents=True)
    (stale / "piece-000001-kept.shard").write_bytes(b"half")
    run(make_recipe(write_reviews(tmp_path / "r.jsonl")), tmp_path / "out")
    assert not stale.exists()


def test_engine_options_are_checked():
    with pytest.raises(RecipeError, match="unknown engine 'spark'"):
        make_engine("spark")
    with pytest.raises(RecipeError, match="an address is for the ray engine"):
        make_engine("local", address="auto")
    with pytest.raises(RecipeError, match="num_proc must be at least 1"):
        make_engine("local", num_proc=0)


def test_missing_ray_is_a_clear_error(tmp_path: Path, monkeypatch, capsys):
    import importlib.util

    from thresher.cli.main import main

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *args: None if name == "ray" else real(name, *args))
    write_reviews(tmp_path / "r.jsonl")
    (tmp_path / "recipe.yaml").write_text("input: {path: r.jsonl}\nsteps: [normalize]\n")
    code = main(["run", str(tmp_path / "recipe.yaml"), "-o", str(tmp_path / "out"), "--engine", "ray"])
    assert code == 2 and "install thresher[ray]" in capsys.readouterr().err


def test_cli_takes_engine_options(tmp_path: Path, small_chunks, capsys):
    from thresher.cli.main import main

    write_reviews(tmp_path / "r.jsonl")
    (tmp_path / "recipe.yaml").write_text("input: {path: r.jsonl}\nsteps: [normalize, dedup_exact]\n")
    args = ["run", str(tmp_path / "recipe.yaml"), "-o", str(tmp_path / "out")]
    assert main(args + ["--engine", "local", "--num-proc", "2"]) == 0
    assert "read 400 = kept" in capsys.readouterr().out
    assert main(args + ["--address", "auto"]) == 2
    assert "an address is for the ray engine" in capsys.readouterr().err
