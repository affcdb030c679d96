"""thresher.ablate: arms over seeds on real SST-2 rows, paired differences, t intervals, reuse
of the data stage, the report section and the CLI."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from thresher import AblationResult, ablate
from thresher.ablate import paired_interval, verdict
from thresher.augment import wordnet as wn
from thresher.cli.main import main
from thresher.errors import DataError, RecipeError
from thresher.recipe import parse_recipe
from thresher.report import build_report

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
SST2 = SHARED_DATA / "eda" / "sst2" / "train_orig.txt"
HAS_WORDNET = all((Path("/usr/share/wordnet") / name).is_file() for name in wn._DB_FILES)
needs_data = pytest.mark.skipif(
    not SST2.is_file() or not HAS_WORDNET,
    reason="needs ../shared/data/eda/sst2 (see shared/data/README.md) and WordNet 3.0 "
           "(apt-get install wordnet-base wordnet-sense-index) for EDA")
ARMS = ["none", "all", "eda", "char_noise"]
SEEDS = [0, 1]
RECIPE = """\
task: classification
input: {path: sst2.csv}
split: {validation: 0.1, test: 0.3, seed: 13}
augment: {augmenters: [{eda: {}}, {char_noise: {}}], n_aug: 2}
train: {model: baseline}
evaluate: {}
report: {}
"""


def _write_data(folder: Path, rows: int = 200) -> None:
    table = pd.read_csv(SST2, sep="\t", header=None, names=["label", "text"], quoting=3)
    table.sample(rows, random_state=0)[["text", "label"]].to_csv(folder / "sst2.csv", index=False)


@pytest.fixture(scope="module")
def done(tmp_path_factory) -> tuple[AblationResult, Path, Path, list[tuple[str, int]]]:
    if not SST2.is_file() or not HAS_WORDNET:
        pytest.skip("needs SST-2 from ../shared/data and WordNet 3.0")
    folder = tmp_path_factory.mktemp("ablate")
    _write_data(folder)
    (folder / "recipe.yaml").write_text(RECIPE)
    calls: list[tuple[str, int]] = []
    result = ablate(folder / "recipe.yaml", folder / "out", seeds=SEEDS,
                    on_run=lambda arm, seed: calls.append((arm, seed)))
    return result, folder / "recipe.yaml", folder / "out", calls


def _accuracy(run: Path, key: str = "accuracy") -> float:
    return json.loads((run / "metrics.json").read_text())["splits"]["test"][key]


@needs_data
@pytest.mark.slow
def test_every_arm_runs_every_seed_in_its_own_folder(done):
    result, _, out, calls = done
    assert [a.name for a in result.arms] == ARMS
    assert calls == [(arm, seed) for arm in ARMS for seed in SEEDS]
    assert [a.augmenters for a in result.arms] == [[], ["eda", "char_noise"], ["eda"],
                                                   ["char_noise"]]
    for arm in result.arms:
        runs = [out / arm.name / f"seed{s}" for s in SEEDS]
        assert arm.values == [_accuracy(r) for r in runs]
        assert arm.also == {"macro_f1": [_accuracy(r, "macro_f1") for r in runs]}
        assert arm.mean == pytest.approx(np.mean(arm.values), abs=1e-15)
        assert arm.std == pytest.approx(np.std(arm.values, ddof=1), abs=1e-15)
    assert result.metric == "accuracy" and result.split == "test" and result.seeds == SEEDS


@needs_data
@pytest.mark.slow
def test_differences_are_paired_by_seed_and_the_interval_is_students_t(done):
    result, _, out, _ = done
    none = [_accuracy(out / "none" / f"seed{s}") for s in SEEDS]
    t975 = 12.706204736174707  # t quantile, 1 degree of freedom (two seeds)
    for arm in result.arms[1:]:
        mine = [_accuracy(out / arm.name / f"seed{s}") for s in SEEDS]
        diffs = [a - b for a, b in zip(mine, none)]
        assert arm.differences == diffs
        mean, sd = sum(diffs) / 2, abs(diffs[0] - diffs[1]) / math.sqrt(2)
        assert arm.mean_difference == pytest.approx(mean, abs=1e-15)
        half = t975 * sd / math.sqrt(2)
        assert arm.ci95 == pytest.approx((mean - half, mean + half), abs=1e-12)
        if sd > 0:
            ci = stats.ttest_rel(mine, none).confidence_interval(0.95)
            assert arm.ci95 == pytest.approx((ci.low, ci.high), abs=1e-12)
        assert arm.verdict == verdict(arm.ci95)


@needs_data
@pytest.mark.slow
def test_the_data_stage_runs_once_and_every_run_reuses_it(done):
    result, _, out, _ = done
    base = json.loads((out / "base" / "manifest.json").read_text())
    assert base["rows"] == {"read": 200, "kept": 200, "rejected": 0}
    assert result.data["reused_by"] == result.data["runs"] == 8
    assert result.data["rows"] == base["rows"] and result.data["split_seed"] == 13
    for entry in result.runs:
        assert entry["data_reused"] and entry["skipped"] == ["data"]
        run = out / entry["folder"]
        manifest = json.loads((run / "manifest.json").read_text())
        assert manifest["steps"] == base["steps"]  # the read counts of base/, not a re-read
        assert manifest["data_fingerprint"] == base["data_fingerprint"]
        for split in ("train", "validation", "test"):
            assert os.path.samefile(run / "data" / f"{split}.parquet",
                                    out / "base" / "data" / f"{split}.parquet")


@needs_data
@pytest.mark.slow
def test_seeds_vary_training_and_augmentation_and_rows_are_counted(done):
    result, _, out, _ = done
    for entry in result.runs:
        manifest = json.loads((out / entry["folder"] / "manifest.json").read_text())
        assert manifest["seed"] == entry["seed"]
        assert manifest["recipe"]["train"]["seed"] == entry["seed"]
    variants = [pd.read_parquet(out / "all" / f"seed{s}" / "data" / "augmented.parquet")
                for s in SEEDS]
    assert set(variants[0]["text"]) != set(variants[1]["text"])
    assert not (out / "none" / "seed0" / "data" / "augmented.parquet").exists()
    for arm in result.arms[1:]:
        data = [out / arm.name / f"seed{s}" / "data" for s in SEEDS]
        assert arm.kept == [len(pd.read_parquet(d / "augmented.parquet")) for d in data]
        assert arm.generated == [k + len(pd.read_parquet(d / "augment_rejects.parquet"))
                                 for k, d in zip(arm.kept, data)]
    # n_aug 2 per training row and augmenter: 2 x 120 rows (200 less 10% and 30%)
    assert result.arm("eda").generated == [240, 240]
    assert result.arm("all").generated == [480, 480]
    assert result.arm("none").kept is None and result.arm("none").verdict is None


@needs_data
@pytest.mark.slow
def test_ablation_json_and_the_report_section(done):
    result, _, out, _ = done
    written = json.loads((out / "ablation.json").read_text())
    assert written == json.loads(json.dumps(result.to_dict()))
    assert "not the choice of split" in written["seed_meaning"]
    assert result.report == out / "all" / "seed0" / "report.html"
    page = result.report.read_text()
    assert "Augmentation ablation" in page and 'id="ablation-table"' in page
    eda = result.arm("eda")
    assert f"{eda.mean:.3f} ± {eda.std:.3f}" in page and f"{eda.mean_difference:+.3f}" in page
    assert f"[{eda.ci95[0]:+.3f}, {eda.ci95[1]:+.3f}]</td><td>{eda.verdict}</td>" in page
    assert f"<td class=\"n\">{round(sum(eda.kept) / 2):,}</td>" in page
    assert "Augmentation ablation" in build_report(out / "none" / "seed1").read_text()
    assert "Augmentation ablation" not in build_report(out / "base").read_text()


@needs_data
@pytest.mark.slow
def test_a_metric_not_in_metrics_json_names_the_ones_there(done):
    _, recipe, out, _ = done
    with pytest.raises(DataError) as caught:
        ablate(recipe, out, seeds=SEEDS, metric="f1")
    where = out / "none" / "seed0" / "metrics.json"
    assert caught.value.message == (
        f"{where}: splits.test: metric 'f1' is not among the scores. choose one of: accuracy, "
        "average_precision, macro_f1, macro_precision, macro_recall, micro_f1, "
        "micro_precision, micro_recall, roc_auc, weighted_f1, weighted_precision, "
        "weighted_recall.")


@needs_data
@pytest.mark.slow
def test_cli_rerun_skips_every_stage_and_prints_the_table(done, capsys):
    _, recipe, out, _ = done
    assert main(["ablate", str(recipe), "-o", str(out), "--seeds", "0,1", "--metric",
                 "macro_f1"]) == 0
    printed = capsys.readouterr().out
    assert "macro_f1 on the test split, seeds 0, 1" in printed
    assert f"written: {out / 'ablation.json'}" in printed and "char_noise" in printed
    again = json.loads((out / "ablation.json").read_text())
    assert all(r["skipped"] == ["data", "augment", "train", "evaluate"] if r["arm"] != "none"
               else r["skipped"] == ["data", "train", "evaluate"] for r in again["runs"])
    assert again["metric"] == "macro_f1"
    assert [a["values"] for a in again["arms"]] == [
        [_accuracy(out / a["name"] / f"seed{s}", "macro_f1") for s in SEEDS] for a in again["arms"]]
    # put the fixture's ablation.json back for any test that reads it later
    ablate(recipe, out, seeds=SEEDS)


@needs_data
@pytest.mark.slow
def test_one_seed_has_no_interval_and_says_so(tmp_path):
    _write_data(tmp_path, rows=120)
    (tmp_path / "recipe.yaml").write_text(RECIPE.replace("report: {}\n", ""))
    result = ablate(tmp_path / "recipe.yaml", tmp_path / "out", seeds=[7], per_augmenter=False)
    assert [a.name for a in result.arms] == ["none", "all"]
    arm = result.arm("all")
    assert arm.std is None and arm.ci95 is None and arm.verdict == "no clear effect"
    assert arm.note == "one seed: no interval, so no verdict beyond 'no clear effect'"
    assert len(arm.differences) == 1 and result.report is None
    assert result.notes == ["one seed: no spread and no interval; run two or more seeds to "
                            "tell an effect from noise"]


def test_the_interval_matches_a_worked_example():
    # differences 1, 2, 3, 4: mean 2.5, sd sqrt(5/3), t(0.975, 3) = 3.182446305284263
    low, high = paired_interval([1.0, 2.0, 3.0, 4.0])
    half = 3.182446305284263 * math.sqrt(5 / 3) / 2
    assert (low, high) == pytest.approx((2.5 - half, 2.5 + half), abs=1e-12)
    ci = stats.ttest_1samp([1.0, 2.0, 3.0, 4.0], 0.0).confidence_interval(0.95)
    assert (low, high) == pytest.approx((ci.low, ci.high), abs=1e-12)
    assert paired_interval([0.3]) is None
    assert paired_interval([0.02, 0.02]) == (0.02, 0.02)


def test_verdicts():
    assert verdict((0.001, 0.2)) == "helped"
    assert verdict((-0.2, -0.001)) == "hurt"
    assert verdict((-0.1, 0.1)) == "no clear effect"
    assert verdict((0.0, 0.1)) == "no clear effect"
    assert verdict(None) == "no clear effect"


@pytest.mark.parametrize("missing, message", [
    ("augment", "augment: the recipe has no augment section, which an ablation needs. add e.g. "
                "`augment: {augmenters: [{eda: {}}]}` to the recipe."),
    ("train", "train: the recipe has no train section, which an ablation needs. add e.g. "
              "`train: {model: baseline}` to the recipe."),
    ("evaluate", "evaluate: the recipe has no evaluate section, which an ablation needs. add "
                 "`evaluate: {}` to the recipe."),
])
def test_a_recipe_without_a_needed_section_is_refused(tmp_path, missing, message):
    raw = {"task": "classification", "input": {"path": str(tmp_path / "d.csv")},
           "split": {"validation": 0.1, "test": 0.2},
           "augment": {"augmenters": [{"char_noise": {}}]}, "train": {"model": "baseline"},
           "evaluate": {}}
    del raw[missing]
    with pytest.raises(RecipeError) as caught:
        ablate(parse_recipe(raw), tmp_path / "out")
    assert caught.value.message == message
    assert not (tmp_path / "out").exists()  # refused before anything ran


@pytest.mark.parametrize("seeds, message", [
    ([], "seeds: no seeds given. give distinct non-negative integers, e.g. 0,1,2."),
    ([0, -1], "seeds: seed -1 is not a non-negative integer. give distinct non-negative "
              "integers, e.g. 0,1,2."),
    ([1, 1], "seeds: seeds repeat: [1, 1]. give distinct non-negative integers, e.g. 0,1,2."),
])
def test_bad_seeds_are_refused(tmp_path, seeds, message):
    raw = {"input": {"path": "d.csv"}, "split": {}, "augment": {"augmenters": ["char_noise"]},
           "train": {"model": "baseline"}, "evaluate": {}}
    with pytest.raises(RecipeError) as caught:
        ablate(parse_recipe(raw), tmp_path / "out", seeds=seeds)
    assert caught.value.message == message


@pytest.mark.parametrize("argv, message", [
    (["--seeds", "0,,1"], "error: --seeds: '' is not a seed. give comma-separated non-negative "
                          "integers, e.g. --seeds 0,1,2.\n"),
    (["--seeds", "0,-2"], "error: --seeds: '-2' is not a seed. give comma-separated "
                          "non-negative integers, e.g. --seeds 0,1,2.\n"),
    (["--seeds", "3,3"], "error: --seeds: seeds repeat: 3,3. give comma-separated non-negative "
                         "integers, e.g. --seeds 0,1,2.\n"),
])
def test_cli_bad_seeds_exit_2_with_one_line(tmp_path, capsys, argv, message):
    (tmp_path / "r.yaml").write_text(RECIPE)
    assert main(["ablate", str(tmp_path / "r.yaml"), "-o", str(tmp_path / "out"), *argv]) == 2
    assert capsys.readouterr().err == message


def test_cli_recipe_without_augment_exit_2(tmp_path, capsys):
    (tmp_path / "r.yaml").write_text(RECIPE.replace(
        "augment: {augmenters: [{eda: {}}, {char_noise: {}}], n_aug: 2}\n", ""))
    assert main(["ablate", str(tmp_path / "r.yaml"), "-o", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err == (
        "error: augment: the recipe has no augment section, which an ablation needs. add e.g. "
        "`augment: {augmenters: [{eda: {}}]}` to the recipe.\n")
