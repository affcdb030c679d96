"""A whole data run with the issue-3 steps: near-duplicate clusters stay in one split, PII
counts reach the manifest, the leakage check finds pairs across splits and with an external
evaluation set, decontamination drops matching training rows, and the report shows it all."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pandas as pd
import pytest
import yaml

from thresher import run

BASE = [
    "这家酒店的服务很好，房间也很干净，下次还会再来。",
    "The room was clean and the staff were friendly and helpful.",
    "物流太慢了，等了一个星期才到，包装也破了。",
    "Terrible battery life, it died after two hours of use.",
    "价格便宜，质量不错，值得购买，推荐给大家。",
    "The screen is bright and sharp, I love this phone.",
]


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    rng = random.Random(7)
    rows = [(f"{rng.choice(BASE)} 编号{i} order {i * 7919 % 10007}", rng.choice(["pos", "neg"]))
            for i in range(400)]
    rows += [(text.replace("，", ",") + "!!", label) for text, label in rows[:40]]  # near copies
    rows += [("请联系我 13812345678 或 zhang.san@example.cn 谢谢", "neg")]
    pd.DataFrame(rows, columns=["text", "label"]).to_csv(tmp_path / "data.csv", index=False)
    pd.DataFrame(rows[100:110], columns=["text", "label"]).to_csv(tmp_path / "eval.csv",
                                                                 index=False)
    return tmp_path


def _recipe(folder: Path, **split: object) -> Path:
    recipe = {"name": "quality", "input": {"path": "data.csv"},
              "steps": [{"normalize": {}}, {"pii": {"mode": "redact"}}, {"dedup_exact": {}},
                        {"dedup_near": {"threshold": 0.7}}],
              "split": {"validation": 0.1, "test": 0.1, **split}, "report": {}}
    path = folder / "recipe.yaml"
    path.write_text(yaml.safe_dump(recipe, allow_unicode=True), encoding="utf-8")
    return path


def test_clusters_stay_together_and_no_cross_split_leak(folder: Path) -> None:
    result = run(_recipe(folder), folder / "out")
    out = folder / "out"
    manifest = result.manifest
    near = next(s for s in manifest["steps"] if s["name"] == "dedup_near")
    assert near["rejected"].get("near_duplicate", 0) >= 35
    pii = next(s for s in manifest["steps"] if s["name"] == "pii")
    assert pii["info"]["counts"] == {"email": 1, "phone": 1}
    parts = {n: pd.read_parquet(out / "data" / f"{n}.parquet") for n in manifest["splits"]}
    assert "<PHONE>" in " ".join(parts["train"].text) + " ".join(parts["test"].text) + " ".join(
        parts["validation"].text)
    split_of_cluster: dict[str, set[str]] = {}
    for name, part in parts.items():
        for cluster in part["cluster"]:
            split_of_cluster.setdefault(cluster, set()).add(name)
    assert all(len(s) == 1 for s in split_of_cluster.values())
    # near copies were removed before the split, so no pair is left across splits
    assert manifest["leakage"]["pairs"] == 0
    rejects = pd.read_parquet(out / "rejects.parquet")
    near_rows = rejects[rejects.reason == "near_duplicate"]
    kept_ids = set(pd.concat(parts.values()).id)
    assert all(d.removeprefix("duplicate_of=") in kept_ids for d in near_rows.detail)
    html = (out / "report.html").read_text(encoding="utf-8")
    for section in ('id="duplicates"', 'id="pii"', 'id="leakage"'):
        assert section in html


def test_leakage_reported_and_contaminated_rows_dropped(folder: Path) -> None:
    recipe = _recipe(folder, decontaminate="eval.csv", on_contamination="drop", group_by=None)
    raw = yaml.safe_load(recipe.read_text(encoding="utf-8"))
    raw["steps"] = [{"normalize": {}}]  # keep the near copies: they must show up as leaks
    recipe.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    manifest = run(recipe, folder / "out").manifest
    leakage = manifest["leakage"]
    assert leakage["counts"]["train/validation"]["near"] + leakage["counts"]["train/test"][
        "near"] > 0
    assert sum(c["exact"] for pair, c in leakage["counts"].items()
               if pair.endswith("/external")) == 10
    rejects = pd.read_parquet(folder / "out" / "rejects.parquet")
    contaminated = rejects[rejects.reason == "contaminated"]
    assert len(contaminated) == leakage["dropped"] > 0
    train_ids = set(pd.read_parquet(folder / "out" / "data" / "train.parquet").id)
    assert train_ids.isdisjoint(contaminated.id)
    assert manifest["rows"]["read"] == manifest["rows"]["kept"] + manifest["rows"]["rejected"]
    html = (folder / "out" / "report.html").read_text(encoding="utf-8")
    assert "contaminated" in html and "external" in html
    assert json.loads((folder / "out" / "manifest.json").read_text())["leakage"] == leakage
