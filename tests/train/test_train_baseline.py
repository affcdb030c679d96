from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from thresher.train import BaselineClassifier, load_classifier
from thresher.train.baseline import cjk_share

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def test_cjk_share_detects_chinese() -> None:
    assert cjk_share(["这家酒店很好", "服务不错"]) == 1.0
    assert cjk_share(["a fine hotel", "good service"]) == 0.0
    assert cjk_share([""]) == 0.0


def test_learns_synthetic_task_and_round_trips(tmp_path: Path, synthetic) -> None:
    train, test = synthetic(200, 1, "t"), synthetic(100, 2, "v")
    model = BaselineClassifier().fit(train["text"], train["label"])
    assert model.labels == ["neg", "pos"] and model.language_ == "other"
    proba = model.predict_proba(test["text"].tolist())
    assert proba.shape == (100, 2) and np.allclose(proba.sum(axis=1), 1.0)
    assert (np.array(model.labels)[proba.argmax(axis=1)] == test["label"]).mean() > 0.9
    model.save(tmp_path / "baseline")
    loaded = load_classifier(tmp_path / "baseline")
    assert loaded.labels == model.labels
    assert np.array_equal(loaded.predict_proba(test["text"].tolist()), proba)
    assert sorted(p.name for p in (tmp_path / "baseline").iterdir()) == [
        "baseline.joblib", "label_map.json", "thresher_model.json"]


def test_label_never_seen_in_training_gets_zero_probability(synthetic) -> None:
    train = synthetic(40, 1, "t")
    model = BaselineClassifier(labels=["neg", "neutral", "pos"]).fit(train["text"], train["label"])
    proba = model.predict_proba(["a good film", "a bad film"])
    assert proba.shape == (2, 3) and (proba[:, 1] == 0).all()


@pytest.mark.slow
def test_chnsenticorp_accuracy_floor() -> None:
    path = DATA / "chnsenticorp" / "ChnSentiCorp_htl_all.csv"
    if not path.is_file():
        pytest.skip(f"shared data not found at {path}")
    frame = pd.read_csv(path).dropna()
    frame = frame.sample(frac=1.0, random_state=13).reset_index(drop=True)
    train, test = frame.iloc[:6000], frame.iloc[6000:]
    model = BaselineClassifier().fit(train["review"].astype(str), train["label"].astype(str))
    assert model.language_ == "zh"
    predicted = np.array(model.labels)[model.predict_proba(test["review"].tolist()).argmax(axis=1)]
    accuracy = (predicted == test["label"].astype(str).to_numpy()).mean()
    assert accuracy > 0.85, accuracy  # char 1-3-gram TF-IDF: ~0.88-0.89 on this split


def test_incomplete_model_folder_is_a_model_error(tmp_path: Path, synthetic) -> None:
    from thresher.errors import ModelError

    with pytest.raises(ModelError) as err:
        load_classifier(tmp_path)
    assert err.value.message == (
        f"{tmp_path}: no trained model here (thresher_model.json is missing). "
        "Pass the model/ or baseline/ folder of a run that finished training."
    )
    train = synthetic(40, 1, "t")
    BaselineClassifier().fit(train["text"], train["label"]).save(tmp_path / "b")
    (tmp_path / "b" / "baseline.joblib").unlink()
    with pytest.raises(ModelError, match="the saved baseline model cannot be loaded"):
        load_classifier(tmp_path / "b")
