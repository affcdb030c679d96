"""The Ray engine on a local 2-CPU Ray: the same run folder as the local engine."""

from __future__ import annotations

from pathlib import Path

import pytest
import ray  # installed by `make setup` (the ray extra): the engines must agree in CI

from thresher.cli.main import main
from thresher.pipeline import run

from engine_helpers import assert_same_run, make_recipe, write_reviews

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def test_ray_and_local_runs_are_identical(tmp_path: Path, small_chunks, local_ray):
    recipe = make_recipe(write_reviews(tmp_path / "r.jsonl"))
    run(recipe, tmp_path / "local", num_proc=2)
    result = run(recipe, tmp_path / "ray", engine="ray")
    assert_same_run(tmp_path / "local", tmp_path / "ray")
    names = [s["name"] for s in result.manifest["steps"]]
    assert names == ["read", "normalize", "filter_length", "dedup_exact", "split"]
    assert result.manifest["steps"][3]["rejected"]  # the global op dropped rows on Ray


def test_ray_applies_added_columns_like_local(tmp_path: Path, small_chunks, local_ray):
    recipe = make_recipe(write_reviews(tmp_path / "r.jsonl"),
                         steps=[{"normalize": {}}, {"dedup_near": {"threshold": 0.5}},
                                {"filter_length": {"min_chars": 2}}, {"dedup_exact": {}}])
    run(recipe, tmp_path / "local", num_proc=2)
    run(recipe, tmp_path / "ray", engine="ray")
    assert_same_run(tmp_path / "local", tmp_path / "ray")


def test_cli_runs_on_ray(tmp_path: Path, local_ray, capsys):
    write_reviews(tmp_path / "r.jsonl")
    (tmp_path / "recipe.yaml").write_text("input: {path: r.jsonl}\nsteps: [normalize, dedup_exact]\n"
                                          "split: {validation: 0.1, test: 0.1}\n")
    assert main(["run", str(tmp_path / "recipe.yaml"), "-o", str(tmp_path / "out"),
                 "--engine", "ray"]) == 0
    assert "dedup_exact" in capsys.readouterr().out


def test_the_engine_starts_and_stops_its_own_local_ray(tmp_path: Path):
    import subprocess
    import sys

    write_reviews(tmp_path / "r.jsonl")
    (tmp_path / "recipe.yaml").write_text("input: {path: r.jsonl}\nsteps: [normalize, dedup_exact]\n")
    done = subprocess.run([sys.executable, "-m", "thresher.cli.main", "run", str(tmp_path / "recipe.yaml"),
                           "-o", str(tmp_path / "out"), "--engine", "ray", "--num-proc", "2"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "read 400 = kept" in done.stdout
