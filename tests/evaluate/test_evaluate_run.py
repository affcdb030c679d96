"""evaluate_run on run folders built in tmp_path, with small classifiers defined here."""

from __future__ import annotations

import json
import pickle
import random
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from thresher.errors import DataError, ModelError
from thresher.evaluate import evaluate_run
from thresher.records import make_id

POSITIVE = ["很好", "满意", "喜欢", "great", "love it"]
NEGATIVE = ["很差", "失望", "糟糕", "awful", "broken"]
FILLER = ["酒店", "房间", "服务", "the room", "delivery", "价格", "早餐"]
HISTORY = [
    {"epoch": 1, "train_loss": 0.69, "val_loss": 0.60, "val_accuracy": 0.7, "val_macro_f1": 0.68,
     "seconds": 1.0, "learning_rate": 2e-4},
    {"epoch": 2, "train_loss": 0.41, "val_loss": 0.45, "val_accuracy": 0.8, "val_macro_f1": 0.79,
     "seconds": 1.0, "learning_rate": 1e-4},
]


class TfidfClassifier:
    """Char n-gram TF-IDF + logistic regression, pickled into its folder (the Classifier protocol)."""

    def __init__(self, texts: Sequence[str], labels: Sequence[str]) -> None:
        self.pipeline = make_pipeline(TfidfVectorizer(analyzer="char", ngram_range=(1, 2)), LogisticRegression())
        self.pipeline.fit(list(texts), list(labels))
        self.labels = [str(label) for label in self.pipeline.classes_]

    def predict_proba(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        return self.pipeline.predict_proba(list(texts))

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "clf.pkl").write_bytes(pickle.dumps(self))


class MajorityClassifier(TfidfClassifier):
    """Always the most frequent training label: a baseline the real model should beat."""

    def __init__(self, labels: Sequence[str]) -> None:
        self.labels = sorted(set(labels))
        counts = pd.Series(list(labels)).value_counts(normalize=True)
        self.prior = np.asarray([counts[label] for label in self.labels])

    def predict_proba(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        return np.tile(self.prior, (len(texts), 1))


def load(folder: Path, device: str = "auto") -> TfidfClassifier:
    return pickle.loads((Path(folder) / "clf.pkl").read_bytes())


def _rows(n: int, rng: random.Random, flip: int = 0) -> pd.DataFrame:
    rows = []
    for i in range(n):
        label = "pos" if i % 2 else "neg"
        words = rng.sample(FILLER, 2) + [rng.choice(POSITIVE if label == "pos" else NEGATIVE)]
        rng.shuffle(words)
        if i < flip:  # mislabelled rows, so that the model makes confident mistakes
            label = "neg" if label == "pos" else "pos"
        text = " ".join(words)
        rows.append({"id": make_id(text, i), "text": text, "label": label, "source": f"gen:{i}"})
    return pd.DataFrame(rows)


def _write(frame: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(path, index=False)


def make_run(tmp_path: Path, *, baseline: bool = True, test: pd.DataFrame | None = None) -> Path:
    rng = random.Random(13)
    run = tmp_path / "run"
    train = _rows(80, rng)
    _write(train, run / "data" / "train.parquet")
    _write(_rows(20, rng), run / "data" / "validation.parquet")
    _write(_rows(30, rng, flip=4) if test is None else test, run / "data" / "test.parquet")
    model = TfidfClassifier(train["text"], train["label"])
    model.save(run / "model")
    (run / "model" / "thresher_model.json").write_text(json.dumps({"kind": "test-tfidf", "epochs": 2}))
    (run / "model" / "training_history.json").write_text(json.dumps(HISTORY))
    if baseline:
        MajorityClassifier(train["label"]).save(run / "baseline")
    return run


def _strict_load(path: Path) -> dict:
    def reject(constant: str) -> None:
        raise AssertionError(f"{path.name} holds {constant}")

    return json.loads(path.read_text(encoding="utf-8"), parse_constant=reject)


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """One full evaluation (model, baseline, validation, progress bar), shared by the tests below."""
    run = make_run(tmp_path_factory.mktemp("full"))
    return run, evaluate_run(run, loader=load, progress=True, batch_size=4)


def test_evaluate_run_writes_metrics_and_plots(evaluated: tuple[Path, dict]) -> None:
    run, returned = evaluated
    metrics = _strict_load(run / "metrics.json")
    assert metrics == json.loads(json.dumps(returned))
    assert metrics["labels"] == ["neg", "pos"]
    assert metrics["model"]["kind"] == "test-tfidf" and metrics["model"]["class"] == "TfidfClassifier"
    assert metrics["history"] == HISTORY
    test = metrics["splits"]["test"]
    assert test["n"] == test["rows"] == 30 and 0.5 < test["accuracy"] < 1.0  # 4 rows are flipped
    assert metrics["splits"]["validation"]["n"] == 20
    baseline = metrics["baseline"]["splits"]["test"]
    assert baseline["accuracy"] == pytest.approx(0.5)  # majority class of a balanced test split
    comparison = metrics["comparison"]
    assert comparison["delta"] == pytest.approx(test["accuracy"] - baseline["accuracy"])
    assert comparison["macro_f1"]["model"] == test["macro_f1"]
    assert comparison["mcnemar"]["n"] == 30 and 0 <= comparison["mcnemar"]["p_value"] <= 1
    assert set(metrics["plots"]) == {"confusion_matrix", "roc", "pr", "reliability", "training_curves"}
    for relative in metrics["plots"].values():
        assert (run / relative).read_bytes()[:4] == b"\x89PNG"
    assert not list(run.rglob(".tmp-*")), "a temporary file was left behind"


def test_predictions_and_worst_examples(evaluated: tuple[Path, dict]) -> None:
    run, metrics = evaluated
    predictions = pd.read_parquet(run / "predictions.parquet")
    assert list(predictions.columns) == ["id", "text", "label", "predicted", "confidence", "proba", "label_seen"]
    test = pd.read_parquet(run / "data" / "test.parquet")
    assert predictions["id"].tolist() == test["id"].tolist()
    assert np.allclose(np.stack(predictions["proba"]).sum(axis=1), 1.0)
    assert (predictions["confidence"] == np.stack(predictions["proba"]).max(axis=1)).all()
    wrong = predictions[predictions["label"] != predictions["predicted"]]
    worst = metrics["worst_examples"]
    assert len(worst) == len(wrong) > 0
    assert [w["confidence"] for w in worst] == sorted(wrong["confidence"], reverse=True)
    assert all(w["label"] != w["predicted"] for w in worst)


def test_unseen_labels_are_excluded_counted_and_marked(tmp_path: Path) -> None:
    test = _rows(20, random.Random(5))
    test.loc[[0, 3, 7], "label"] = "neutral"
    run = make_run(tmp_path, test=test)
    metrics = evaluate_run(run, loader=load)
    assert metrics["unseen_labels"] == {"neutral": 3}
    split = metrics["splits"]["test"]
    assert (split["n"], split["rows"], split["unseen_labels"]) == (17, 20, {"neutral": 3})
    assert sum(map(sum, split["confusion_matrix"]["matrix"])) == 17
    assert any("never saw" in note for note in split["notes"])
    assert any("never saw" in note for note in metrics["notes"])
    assert all(w["label"] != "neutral" for w in metrics["worst_examples"])
    assert metrics["comparison"]["mcnemar"]["n"] == 17
    predictions = pd.read_parquet(run / "predictions.parquet")
    unseen = predictions[~predictions["label_seen"]]
    assert unseen.index.tolist() == [0, 3, 7]
    assert set(unseen["predicted"]) <= {"neg", "pos"}


def test_split_with_only_unseen_labels_is_a_data_error(tmp_path: Path) -> None:
    test = _rows(4, random.Random(5)).assign(label="neutral")
    run = make_run(tmp_path, test=test)
    with pytest.raises(DataError, match=r"no row of the 'test' split has a label the model knows"):
        evaluate_run(run, loader=load)


def test_missing_model_is_a_model_error(tmp_path: Path) -> None:
    run = tmp_path / "run"
    (run / "data").mkdir(parents=True)
    with pytest.raises(ModelError) as caught:
        evaluate_run(run, loader=load)
    assert str(caught.value) == f"{run / 'model'}: no trained model found. run `thresher train {run}` first."


def test_missing_split_names_the_splits_present(tmp_path: Path) -> None:
    run = make_run(tmp_path)
    with pytest.raises(DataError) as caught:
        evaluate_run(run, split="dev", loader=load)
    assert str(caught.value) == (f"{run / 'data' / 'dev.parquet'}: the 'dev' split does not exist. "
                                 "choose one of the splits present (test, train, validation).")


def test_empty_split_is_a_data_error(tmp_path: Path) -> None:
    run = make_run(tmp_path, test=_rows(2, random.Random(1)).iloc[:0])
    with pytest.raises(DataError, match="the 'test' split has no rows"):
        evaluate_run(run, loader=load)
    assert not (run / "metrics.json").exists()


def test_without_baseline_or_history(tmp_path: Path) -> None:
    run = make_run(tmp_path, baseline=False)
    (run / "model" / "training_history.json").unlink()
    metrics = evaluate_run(run, split="validation", loader=load)
    assert metrics["baseline"] is None and metrics["comparison"] is None
    assert metrics["history"] == [] and "training_curves" not in metrics["plots"]
    assert metrics["compare"] is None
    assert list(metrics["splits"]) == ["validation"]


def test_default_loader_is_thresher_train_load_classifier(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import thresher.train

    calls: list[str] = []

    def fake(folder: Path, device: str = "auto") -> TfidfClassifier:
        calls.append(Path(folder).name)
        return load(folder, device)

    monkeypatch.setattr(thresher.train, "load_classifier", fake, raising=False)
    evaluate_run(make_run(tmp_path))
    assert calls == ["model", "baseline"]


def test_compare_with_an_earlier_run_on_the_same_rows(tmp_path: Path) -> None:
    earlier = make_run(tmp_path / "a")
    before = evaluate_run(earlier, loader=load)
    later = make_run(tmp_path / "b")
    train = pd.read_parquet(later / "data" / "train.parquet")
    MajorityClassifier(train["label"]).save(later / "model")  # a different model, the same rows
    metrics = evaluate_run(later, loader=load, compare=earlier)
    found = metrics["compare"]
    assert found["same_rows"] is True and found["note"] is None
    assert found["this"] == {"path": str(later), "split": "test", "rows": 30}
    assert found["other"] == {"path": str(earlier), "split": "test", "rows": 30}
    rows = {row["metric"]: row for row in found["metrics"]}
    accuracy = rows["accuracy"]
    assert accuracy["this"] == metrics["splits"]["test"]["accuracy"] == pytest.approx(0.5)
    assert accuracy["other"] == before["splits"]["test"]["accuracy"]
    assert accuracy["delta"] == pytest.approx(accuracy["this"] - accuracy["other"])
    for side in ("this", "other"):
        low, high = accuracy[f"{side}_ci"]
        assert low < accuracy[side] < high
    mcnemar = found["paired"]["mcnemar"]
    assert mcnemar["n"] == 30 and mcnemar["better"] == "b" and mcnemar["b"] == str(earlier)
    delta = found["paired"]["delta_ci"]["accuracy"]
    assert delta["delta"] == pytest.approx(accuracy["delta"]) and delta["low"] <= delta["delta"] <= delta["high"]
    assert _strict_load(later / "metrics.json")["compare"] == json.loads(json.dumps(found))


def test_compare_with_a_run_over_other_rows_says_so(tmp_path: Path) -> None:
    earlier = make_run(tmp_path / "a")
    evaluate_run(earlier, loader=load)
    later = make_run(tmp_path / "b", test=_rows(24, random.Random(99)))
    found = evaluate_run(later, loader=load, compare=earlier)["compare"]
    ids = [set(pd.read_parquet(run / "predictions.parquet")["id"]) for run in (later, earlier)]
    assert found["same_rows"] is False and found["paired"] is None
    assert found["note"] == (f"the runs scored different rows (24 here, 30 in {earlier}, "
                             f"{len(ids[0] & ids[1])} ids in common): no paired test; "
                             "compare the intervals instead")
    assert all(row["this_ci"] and row["other_ci"] for row in found["metrics"][:2])


def test_compare_with_an_unevaluated_run_fails_before_writing(tmp_path: Path) -> None:
    earlier = make_run(tmp_path / "a")
    later = make_run(tmp_path / "b")
    with pytest.raises(DataError) as caught:
        evaluate_run(later, loader=load, compare=earlier)
    assert str(caught.value) == (f"{earlier}: not an evaluated run (no metrics.json). "
                                 f"run `thresher evaluate {earlier}` first.")
    assert not (later / "metrics.json").exists()


def test_cli_evaluate_and_report_compare(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from thresher.cli.main import main
    from thresher.train import BaselineClassifier

    runs = []
    for name, rows in (("a", 40), ("b", 80)):  # two real baseline models, the same test rows
        run = make_run(tmp_path / name, baseline=False)
        train = pd.read_parquet(run / "data" / "train.parquet").head(rows)
        BaselineClassifier().fit(train["text"], train["label"]).save(run / "model")
        (run / "manifest.json").write_text(json.dumps({"recipe": {"name": name}, "steps": []}))
        runs.append(run)
    assert main(["evaluate", str(runs[0])]) == 0
    assert main(["evaluate", str(runs[1]), "--compare", str(runs[0])]) == 0
    out = capsys.readouterr().out
    assert f"compared with {runs[0]}" in out and "same rows: McNemar p =" in out
    assert main(["report", str(runs[1]), "--compare", str(runs[0])]) == 0
    html = (runs[1] / "report.html").read_text(encoding="utf-8")
    assert '<table id="compare-table"' in html and "McNemar p-value (paired, same rows)" in html
    assert main(["evaluate", str(runs[1]), "--compare", str(tmp_path / "nowhere")]) == 2
    assert "not a run folder (no manifest.json)" in capsys.readouterr().err
