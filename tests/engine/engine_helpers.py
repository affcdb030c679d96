"""Helpers for the engine tests: a review file, a recipe, the step-by-step reference run."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pandas as pd

from thresher.engine.local import run_step, summarize
from thresher.io import read_source
from thresher.recipe import CHAT_INPUT, Recipe, parse_recipe
from thresher.split import split_table

REVIEWS = [("pos", "房间很干净，服务也好"), ("neg", "太吵了，不会再来"), ("pos", "Great hotel, friendly staff"),
           ("neg", "Dirty room and rude staff"), ("pos", "早餐丰富，位置方便"), ("neg", "空调坏了也没人修")]


def write_reviews(path: Path, n: int = 400) -> Path:
    """Reviews with exact duplicates, a label conflict, short and empty rows, a broken line."""
    lines = []
    for i in range(n):
        label, text = REVIEWS[i % len(REVIEWS)]
        if i % 5:
            text = f"{text} {i}"
        if i % 37 == 0:
            text = "x"  # too short
        if i % 53 == 0:
            label = "neg" if label == "pos" else "pos"  # same text, other label: a conflict
        lines.append(json.dumps({"text": f"  {text}\u200b ", "label": label, "n": i}, ensure_ascii=False))
    lines[111] = '{"text": "half a line'
    lines[222] = json.dumps({"text": "", "label": "pos", "n": 222})
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def make_recipe(path: Path, steps: list[Any] | None = None, **extra: Any) -> Recipe:
    raw = {"input": {"path": str(path)},
           "steps": steps or [{"normalize": {}}, {"filter_length": {"min_chars": 2}}, {"dedup_exact": {}}],
           "split": {"validation": 0.2, "test": 0.2, "seed": 13}, **extra}
    return parse_recipe(raw)


def reference(recipe: Recipe) -> tuple[dict[str, pd.DataFrame], list, list[dict[str, Any]]]:
    """The run done the simple way: whole table, one step after the other (the old pipeline)."""
    options = {k: v for k, v in dataclasses.asdict(recipe.input).items() if k not in ("path", *CHAT_INPUT) and v is not None}
    source = read_source(recipe.input.path, task=recipe.task, **options)
    table, rejects = source.table, list(source.rejects)
    steps = [summarize("read", source.info.rows, table, rejects,
                       {"format": source.info.format, "encoding": source.info.encoding})]
    for spec in recipe.steps:
        table, found, stats = run_step(spec.build(), table)
        rejects += found
        steps.append(stats)
    spec = recipe.split
    result = split_table(table, validation=spec.validation, test=spec.test, seed=spec.seed,
                         stratify=spec.stratify, task=recipe.task,
                         group_by=getattr(spec, "group_by", None))
    rejects += result.rejects
    kept = pd.concat(result.parts.values(), ignore_index=True)
    steps.append(summarize("split", len(table), kept, result.rejects, {"splits": result.info}))
    return result.parts, rejects, [without_seconds(s.to_dict()) for s in steps]


def without_seconds(step: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in step.items() if k != "seconds"}


def run_folder(out: Path) -> tuple[dict[str, pd.DataFrame], pd.DataFrame, dict[str, Any]]:
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    data = {name: pd.read_parquet(out / "data" / f"{name}.parquet") for name in manifest["splits"]}
    return data, pd.read_parquet(out / "rejects.parquet"), manifest


def assert_same_run(a: Path, b: Path) -> None:
    """Two run folders hold the same rows, rejects and counts."""
    data_a, rejects_a, manifest_a = run_folder(a)
    data_b, rejects_b, manifest_b = run_folder(b)
    assert data_a.keys() == data_b.keys()
    for name in data_a:
        pd.testing.assert_frame_equal(data_a[name], data_b[name])
    pd.testing.assert_frame_equal(rejects_a, rejects_b)
    for key in ("rows", "splits", "inputs", "data_fingerprint"):
        assert manifest_a[key] == manifest_b[key], key
    assert [without_seconds(s) for s in manifest_a["steps"]] == \
        [without_seconds(s) for s in manifest_b["steps"]]
