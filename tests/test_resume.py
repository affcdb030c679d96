"""A run killed with SIGKILL at any moment leaves no half-written file and re-runs cleanly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

RECIPE = """
input: {path: reviews.csv, text: review, label: label}
steps: [normalize, {filter_length: {min_chars: 2}}, dedup_exact]
split: {validation: 0.1, test: 0.1, seed: 13}
train: {model: baseline}
evaluate: {}
report: {}
"""


def make_inputs(folder: Path) -> Path:
    words = "good bad great awful clean dirty quiet noisy friendly rude 好 差 干净 吵".split()
    rows = []
    for i in range(20000):
        label = "pos" if i % 2 else "neg"
        picked = [words[(i * 7 + k * 3) % len(words)] for k in range(6)]
        rows.append((label, f"{label} review {i}: " + " ".join(picked)))
    pd.DataFrame(rows, columns=["label", "review"]).to_csv(folder / "reviews.csv", index=False)
    (folder / "recipe.yaml").write_text(RECIPE)
    return folder / "recipe.yaml"


def thresher(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "thresher.cli.main", *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def assert_files_whole(out: Path) -> None:
    for path in out.rglob("*"):
        if path.name.startswith(".tmp-") or not path.is_file():
            continue
        if path.suffix == ".parquet":
            pd.read_parquet(path)
        elif path.suffix == ".json":
            json.loads(path.read_text(encoding="utf-8"))
        elif path.suffix == ".html":
            assert path.read_text(encoding="utf-8").rstrip().endswith("</html>")


@pytest.mark.slow
def test_kill_9_at_any_stage_then_rerun(tmp_path: Path):
    recipe = make_inputs(tmp_path)
    clean = tmp_path / "clean"
    assert thresher("run", str(recipe), "-o", str(clean)).wait() == 0
    out = tmp_path / "killed"
    for delay in (1.5, 3.0, 4.5, 6.0):
        proc = thresher("run", str(recipe), "-o", str(out))
        time.sleep(delay)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert_files_whole(out)
    final = thresher("run", str(recipe), "-o", str(out))
    assert final.wait() == 0, final.stderr.read().decode()
    assert_files_whole(out)
    assert not list(out.rglob(".tmp-*"))
    for name in ("train", "validation", "test"):
        pd.testing.assert_frame_equal(pd.read_parquet(clean / "data" / f"{name}.parquet"),
                                      pd.read_parquet(out / "data" / f"{name}.parquet"))
    metrics = [json.loads((d / "metrics.json").read_text())["splits"]["test"]["accuracy"]
               for d in (clean, out)]
    assert metrics[0] == metrics[1]
