"""Multi-label classification: label sets, tuned thresholds, the sigmoid model, the one-vs-rest
baseline, label-set stratified splits and the evaluation's set- and label-level scores."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from task_models import tiny_bert_folder, write_run
from thresher.train import TrainConfig, load_classifier, train_run
from thresher.train.multilabel import label_sets, split_labels, tune_thresholds

CUES = {"sports": ["goal", "match"], "food": ["pizza", "soup"], "music": ["guitar", "song"]}
CUES_ZH = {"sports": ["足球", "比赛"], "food": ["火锅", "饺子"], "music": ["吉他", "唱歌"]}
FILLER = "the a this that day night very quite one it was is we saw had".split()
FILLER_ZH = list("今天我们的在了很也都去看")
CONFIG = TrainConfig(epochs=4, batch_size=8, learning_rate=1e-2, warmup=0.0, patience=0,
                     max_length=32, eval_batch_size=16, device="cpu", precision="fp32")


def frame(n: int, seed: int, prefix: str, chinese: bool = False) -> pd.DataFrame:
    """Rows with one or two topics, each shown by one cue word among filler words."""
    rng = random.Random(seed)
    cues, filler = (CUES_ZH, FILLER_ZH) if chinese else (CUES, FILLER)
    rows = []
    for i in range(n):
        topics = rng.sample(sorted(cues), rng.choice([1, 1, 2]))
        words = [rng.choice(filler) for _ in range(rng.randint(3, 8))]
        for topic in topics:
            words.insert(rng.randint(0, len(words)), rng.choice(cues[topic]))
        rows.append({"id": f"{prefix}{i:03d}", "text": ("" if chinese else " ").join(words),
                     "label": ",".join(topics), "source": f"synthetic:{i + 1}"})
    return pd.DataFrame(rows)


def splits(chinese: bool = False) -> dict[str, pd.DataFrame]:
    return {"train": frame(160, 1, "t", chinese), "validation": frame(60, 2, "v", chinese),
            "test": frame(60, 3, "s", chinese)}


@pytest.fixture(scope="module")
def bert(tmp_path_factory: pytest.TempPathFactory) -> Path:
    words = FILLER + [w for cue in CUES.values() for w in cue]
    return tiny_bert_folder(tmp_path_factory.mktemp("ml-bert"), words)


def test_split_labels_reads_lists_json_and_separators() -> None:
    assert split_labels("sports, food ,") == ["sports", "food"]
    assert split_labels("sports|food", "|") == ["sports", "food"]
    assert split_labels('["体育", "美食"]') == ["体育", "美食"]
    assert split_labels(np.array(["a", "b", "a"])) == ["a", "b"]
    assert split_labels("") == [] and split_labels(None) == []


def test_thresholds_maximise_each_labels_f1() -> None:
    truth = np.array([[1, 0], [1, 0], [0, 1], [0, 0]], dtype=float)
    proba = np.array([[0.30, 0.9], [0.25, 0.2], [0.10, 0.7], [0.05, 0.6]])
    thresholds = tune_thresholds(proba, truth)
    # label 0: both positives above every negative -> cut between 0.25 and 0.10
    assert thresholds[0] == pytest.approx(0.175)
    # label 1: its one positive (0.7) ranks second; taking the top two gives F1 2/3, the best
    # (the top three: 0.5) -> cut between 0.7 and 0.6
    assert thresholds[1] == pytest.approx(0.65)
    assert label_sets(proba, ["a", "b"], thresholds) == [["a", "b"], ["a"], ["b"], []]
    assert tune_thresholds(proba, np.zeros((4, 2)))[0] == 0.5  # no positives: nothing to tune


@pytest.mark.parametrize("chinese", [False, True])
def test_baseline_learns_label_sets_and_evaluates(tmp_path: Path, chinese: bool) -> None:
    from thresher.evaluate import evaluate_run

    run = write_run(tmp_path / "run", "multilabel", splits(chinese))
    result = train_run(run, replace(CONFIG, model="baseline"))
    assert result.model_info["task"] == "multilabel" and result.model_info["language"] == (
        "zh" if chinese else "other")
    assert set(json.loads((run / "model" / "thresholds.json").read_text())) == set(CUES)
    metrics = evaluate_run(run)
    test = metrics["splits"]["test"]
    assert metrics["task"] == "multilabel" and metrics["labels"] == ["food", "music", "sports"]
    assert test["micro_f1"] > 0.9 and test["subset_accuracy"] > 0.7
    predictions = pd.read_parquet(run / "predictions.parquet")
    truth = [set(s.split(",")) for s in predictions["label"]]
    guess = [set(filter(None, s.split(","))) for s in predictions["predicted"]]
    wrong = sum(len(a ^ b) for a, b in zip(truth, guess))
    assert test["hamming_loss"] == pytest.approx(wrong / (len(truth) * 3))
    assert test["subset_accuracy"] == pytest.approx(np.mean([a == b for a, b in zip(truth, guess)]))
    assert set(test["per_class"]["food"]) >= {"precision", "recall", "f1", "support", "threshold"}


def test_transformer_multilabel_trains_and_predicts_with_thresholds(
    tmp_path: Path, bert: Path
) -> None:
    from thresher.evaluate import evaluate_run

    run = write_run(tmp_path / "run", "multilabel", splits())
    result = train_run(run, replace(CONFIG, model=str(bert)))
    history = result.history
    assert {"val_micro_f1", "val_macro_f1", "val_subset_accuracy", "val_loss"} <= set(history[0])
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    assert result.best_epoch == 1 + int(np.argmax([row["val_micro_f1"] for row in history]))
    config = json.loads((run / "model" / "config.json").read_text())
    assert config["problem_type"] == "multi_label_classification"
    model = load_classifier(run / "model", device="cpu")
    thresholds = json.loads((run / "model" / "thresholds.json").read_text())
    assert model.thresholds == [thresholds[label] for label in model.labels]
    assert all(0 < t < 1 for t in model.thresholds)
    proba = model.predict_proba(splits()["test"]["text"].tolist())
    assert proba.shape == (60, 3) and not np.allclose(proba.sum(axis=1), 1.0)  # independent
    metrics = evaluate_run(run)
    assert metrics["comparison"]["metric"] == "micro_f1"
    assert metrics["baseline"]["model"]["backbone"] == "tfidf-logreg-ovr"
    predicted = pd.read_parquet(run / "predictions.parquet")["predicted"].tolist()
    expected = [",".join(s) for s in label_sets(proba, model.labels, model.thresholds)]
    assert predicted == expected


def test_split_stratifies_on_label_sets_and_pools_rare_ones() -> None:
    from thresher.split import split_table

    labels = ["a"] * 50 + ["a,b"] * 30 + ["b"] * 20 + ["c,a", "b,c", "c"]
    table = pd.DataFrame({"id": [str(i) for i in range(len(labels))], "label": labels})
    result = split_table(table, validation=0.1, test=0.1, seed=13, task="multilabel")
    counts = {name: part["label"].value_counts().to_dict() for name, part in result.parts.items()}
    assert counts["test"]["a"] == 5 and counts["test"]["a,b"] == 3 and counts["test"]["b"] == 2
    assert result.info["stratified_by"] == "label set"
    assert result.info["pooled_rare_label_sets"] == 3  # fewer than 10 rows: 1 / 0.1
    assert sum(len(p) for p in result.parts.values()) == len(labels) and not result.rejects


def test_pipeline_runs_a_multilabel_recipe(tmp_path: Path) -> None:
    from thresher.pipeline import run
    from thresher.recipe import parse_recipe

    data = frame(400, 4, "e")
    data = data[["text", "label"]].rename(columns={"label": "topics"})
    data.to_csv(tmp_path / "d.csv", index=False)
    recipe = {"task": "multilabel", "input": {"path": str(tmp_path / "d.csv"), "text": "text",
                                              "label": "topics"},
              "steps": [{"dedup_exact": {}}], "split": {"validation": 0.2, "test": 0.2},
              "train": {"model": "baseline"}, "evaluate": {}}
    result = run(parse_recipe(recipe), tmp_path / "out")
    manifest = result.manifest
    assert manifest["task"] == "multilabel"
    assert manifest["rows"]["read"] == manifest["rows"]["kept"] + manifest["rows"]["rejected"]
    assert result.metrics["task"] == "multilabel"
    assert result.metrics["splits"]["test"]["micro_f1"] > 0.8
