from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from thresher.errors import DataError, OutputError
from thresher.pipeline import run
from thresher.recipe import parse_recipe

REVIEWS = [("pos", "房间很干净，服务也好"), ("neg", "太吵了，不会再来"), ("pos", "Great hotel, friendly staff"),
           ("neg", "Dirty room and rude staff"), ("pos", "早餐丰富，位置方便"), ("neg", "空调坏了也没人修")]


def write_csv(path: Path, n_copies: int = 10) -> Path:
    rows = []
    for i in range(n_copies):
        rows += [(lab, f"{text} {i}") for lab, text in REVIEWS]
    rows += [("pos", "房间很干净，服务也好 0"), ("neg", "房间很干净，服务也好 1"), ("neg", "x"), ("pos", "")]
    pd.DataFrame(rows, columns=["label", "review"]).to_csv(path, index=False)
    return path


def recipe(path: Path, **extra) -> object:
    raw = {"task": "classification", "input": {"path": str(path), "text": "review", "label": "label"},
           "steps": [{"normalize": {}}, {"filter_length": {"min_chars": 2}}, {"dedup_exact": {}}],
           "split": {"validation": 0.2, "test": 0.2, "seed": 13}, **extra}
    return parse_recipe(raw)


def all_rows(out: Path) -> int:
    kept = sum(len(pd.read_parquet(p)) for p in (out / "data").glob("*.parquet"))
    return kept + len(pd.read_parquet(out / "rejects.parquet"))


def test_data_run_writes_the_run_folder_and_keeps_every_row(tmp_path: Path):
    src = write_csv(tmp_path / "reviews.csv")
    out = tmp_path / "run"
    result = run(recipe(src), out)
    m = json.loads((out / "manifest.json").read_text())
    assert m["rows"]["read"] == 64 == all_rows(out)
    assert m["rows"]["read"] == m["rows"]["kept"] + m["rows"]["rejected"]
    for step in m["steps"]:
        assert step["rows_in"] == step["rows_out"] + sum(step["rejected"].values()), step
    names = [s["name"] for s in m["steps"]]
    assert names == ["read", "normalize", "filter_length", "dedup_exact", "split"]
    rejects = pd.read_parquet(out / "rejects.parquet")
    reasons = dict(zip(*[rejects.groupby(["step", "reason"]).size().reset_index()[c]
                         for c in ("reason", 0)]))
    assert reasons["label_conflict"] == 2  # "…服务也好 1" appears as pos and as neg
    assert reasons["duplicate"] == 1  # "…服务也好 0" twice as pos
    assert reasons["too_short"] == 1
    assert len(rejects[rejects.step == "read"]) == 1  # the empty review
    assert set(rejects.columns) >= {"id", "step", "reason", "detail", "source", "record"}
    assert m["splits"] == {k: len(pd.read_parquet(out / "data" / f"{k}.parquet"))
                           for k in ("train", "validation", "test")}
    assert m["inputs"][0]["sha256"] and result.skipped == ()


def test_rerun_skips_unchanged_data_and_redoes_changed(tmp_path: Path):
    src = write_csv(tmp_path / "reviews.csv")
    out = tmp_path / "run"
    run(recipe(src), out)
    assert run(recipe(src), out).skipped == ("data",)
    changed = parse_recipe({**recipe(src).raw, "steps": [{"filter_length": {"min_chars": 5}}]})
    assert run(changed, out).skipped == ()
    assert json.loads((out / "manifest.json").read_text())["steps"][1]["name"] == "filter_length"


def test_no_rows_left_is_a_clear_error(tmp_path: Path):
    src = write_csv(tmp_path / "reviews.csv")
    raw = {**recipe(src).raw, "steps": [{"filter_length": {"min_chars": 500}}]}
    with pytest.raises(DataError, match="no rows left after step 'filter_length'"):
        run(parse_recipe(raw), tmp_path / "run")


def test_unwritable_output_folder(tmp_path: Path):
    src = write_csv(tmp_path / "reviews.csv")
    (tmp_path / "afile").write_text("x")
    with pytest.raises(OutputError) as info:
        run(recipe(src), tmp_path / "afile" / "run")
    assert info.value.message.startswith(f"{tmp_path / 'afile' / 'run'}: cannot write to the "
                                         "output folder")


def test_baseline_train_evaluate_report_end_to_end(tmp_path: Path):
    src = write_csv(tmp_path / "reviews.csv", n_copies=30)
    out = tmp_path / "run"
    r = recipe(src, train={"model": "baseline"}, evaluate={}, report={})
    result = run(r, out)
    for rel in ("model/thresher_model.json", "metrics.json", "predictions.parquet",
                "report.html", "plots/confusion_matrix.png"):
        assert (out / rel).exists(), rel
    assert result.metrics["splits"]["test"]["accuracy"] > 0.6
    again = run(r, out)
    assert again.skipped == ("data", "train", "evaluate")
