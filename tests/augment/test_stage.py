"""The augment stage: train rows only, lineage, the filters, and training on the variants."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pandas as pd
import pytest

from thresher import run
from thresher.errors import RecipeError
from thresher.recipe import parse_recipe

GOOD = ["great", "lovely", "superb", "friendly", "clean", "excellent", "wonderful", "helpful"]
BAD = ["awful", "dirty", "rude", "terrible", "noisy", "broken", "horrible", "smelly"]
FILLER = ["the", "room", "staff", "hotel", "was", "and", "very", "really", "breakfast", "view",
          "our", "stay", "bed", "lobby", "pool", "night"]


def reviews(path: Path, n: int = 200) -> None:
    rng = random.Random(5)
    rows = []
    for i in range(n):
        label = "pos" if i % 2 else "neg"
        words = rng.sample(GOOD if label == "pos" else BAD, 2) + rng.sample(FILLER, 7)
        rng.shuffle(words)
        rows.append((" ".join(words), label))
    pd.DataFrame(rows, columns=["text", "label"]).to_csv(path, index=False)


def recipe(tmp_path: Path, augment: str, train: str = "") -> Path:
    reviews(tmp_path / "d.csv")
    path = tmp_path / "r.yaml"
    path.write_text("input: {path: d.csv}\nsplit: {validation: 0.1, test: 0.1}\n" + augment + train)
    return path


def test_only_train_rows_are_augmented_with_lineage_and_every_candidate_accounted(tmp_path: Path):
    result = run(recipe(tmp_path, "augment: {augmenters: [eda, char_noise], n_aug: 2}\n"
                                  "report: {}\n"), tmp_path / "out")
    data = tmp_path / "out" / "data"
    train = pd.read_parquet(data / "train.parquet")
    augmented = pd.read_parquet(data / "augmented.parquet")
    rejected = pd.read_parquet(data / "augment_rejects.parquet")
    stats = result.manifest["augment"]
    assert stats["generated"] == len(augmented) + len(rejected) and stats["kept"] == len(augmented)
    assert stats["generated"] == 2 * 2 * len(train)  # two augmenters x two variants per row
    assert set(augmented["parent_id"]) <= set(train["id"].astype(str))
    parents = train.assign(id=train["id"].astype(str)).set_index("id")
    parent_labels = parents.loc[augmented["parent_id"], "label"].to_numpy()
    assert (augmented["label"].to_numpy() == parent_labels).all()
    assert set(augmented["augmenter"]) == {"eda", "char_noise"}
    assert all(json.loads(s) for s in augmented["augment_settings"])
    originals = set(pd.concat([pd.read_parquet(data / f"{s}.parquet") for s in
                               ("train", "validation", "test")])["text"])
    assert not set(augmented["text"]) & originals
    assert set(rejected["reason"]) <= {"duplicate", "near_eval", "too_similar", "too_different",
                                       "label_changed"}
    assert sum(stats["rejected"].values()) == len(rejected)
    html = result.report.read_text(encoding="utf-8")
    assert "Augmentation (training rows only)" in html and "char_noise" in html


def test_training_reads_the_variants_and_dropping_the_section_removes_them(tmp_path: Path):
    path = recipe(tmp_path, "augment: {augmenters: [eda], n_aug: 1}\n",
                  "train: {model: baseline}\n")
    result = run(path, tmp_path / "out")
    augmented = pd.read_parquet(tmp_path / "out" / "data" / "augmented.parquet")
    train = pd.read_parquet(tmp_path / "out" / "data" / "train.parquet")
    info = json.loads((tmp_path / "out" / "model" / "thresher_model.json").read_text())
    assert info["train_rows"] == len(train) + len(augmented) > len(train)
    assert "augment" in result.manifest["stages"]
    path.write_text(path.read_text().replace("augment: {augmenters: [eda], n_aug: 1}\n", ""))
    again = run(path, tmp_path / "out")
    assert not (tmp_path / "out" / "data" / "augmented.parquet").exists()
    assert "augment" not in again.manifest and "train" not in again.skipped


def test_the_label_filter_rejects_variants_the_reference_model_calls_otherwise(tmp_path: Path):
    from thresher.augment.stage import _label_kept

    reviews(tmp_path / "d.csv")
    train = pd.read_csv(tmp_path / "d.csv").assign(id=lambda f: [f"r{i}" for i in range(len(f))])
    candidates = pd.DataFrame({"text": ["awful dirty rude room", "great lovely clean room"],
                               "label": ["pos", "pos"]})
    assert _label_kept(candidates, train, 0.5, seed=13).tolist() == [False, True]


def test_variants_close_to_a_test_row_are_dropped_as_leakage():
    from thresher.augment.stage import _near_eval

    test = pd.DataFrame({"id": ["t1"],
                         "text": ["the breakfast was cold and the staff were rude to us"]})
    candidates = pd.DataFrame({"id": ["a", "b"], "text": [
        "the breakfast was cold and the staff were rude to us all", "a quiet lovely view"]})
    assert _near_eval(candidates, [test], 0.8).tolist() == [True, False]


@pytest.mark.parametrize("section, message", [
    ({"augmenters": [{"backtranslate_xx": {}}]}, "unknown augmenter 'backtranslate_xx'"),
    ({"augmenters": []}, "augmenters must be a non-empty list"),
    ({"augmenters": ["eda"], "min_prob": 2}, "min_prob and the similarity band must lie in [0, 1]"),
    ({"n_aug": "lots"}, "'n_aug' must be"),
])
def test_bad_augment_sections_fail_when_the_recipe_loads(section, message):
    raw = {"input": "d.csv", "split": {}, "augment": section}
    with pytest.raises(RecipeError) as err:
        parse_recipe(raw)
    assert message in err.value.message


def test_augment_needs_a_split_and_single_text_classification():
    with pytest.raises(RecipeError, match="augment needs a split section"):
        parse_recipe({"input": "d.csv", "augment": {}})
    with pytest.raises(RecipeError, match="single-text classification so far"):
        parse_recipe({"task": "multilabel", "input": "d.csv", "split": {}, "augment": {}})
