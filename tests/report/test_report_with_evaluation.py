"""The report over what the evaluation really writes: metrics.json, predictions.parquet and
plots from ``thresher.evaluate.evaluate_run``, with small deterministic classifiers."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from thresher.report import build_report

from .conftest import LABELS, write_run

evaluate = pytest.importorskip("thresher.evaluate", reason="thresher.evaluate is not importable")

NEGATIVE = ("差", "坏", "worst", "Broke", "Avoid", "恶劣", "never")
POSITIVE = ("好", "满意", "love", "Great", "superb", "described")


class KeywordClassifier:
    """Scores by keywords; ``sharp`` sets how sure it is. A stand-in for a trained model."""

    def __init__(self, sharp: float, keywords: bool) -> None:
        self.labels, self.sharp, self.keywords = list(LABELS), sharp, keywords

    def predict_proba(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        scores = np.zeros((len(texts), len(self.labels)))
        for i, text in enumerate(texts):
            if self.keywords and any(k in text for k in NEGATIVE):
                guess = 0
            elif self.keywords and any(k in text for k in POSITIVE):
                guess = 1
            else:
                guess = len(text) % 3  # an uninformed guess, differing by text
            scores[i, guess] = self.sharp
        exp = np.exp(scores)
        return exp / exp.sum(axis=1, keepdims=True)

    def save(self, folder: Path) -> None:  # pragma: no cover - not needed here
        raise NotImplementedError


def _evaluated_run(root: Path) -> tuple[Path, dict]:
    run = write_run(root, metrics=None)
    for name, kind in (("model", "transformer"), ("baseline", "tfidf")):
        (run / name).mkdir()
        info = {"kind": kind, "backbone": "keywords" if name == "model" else "tfidf"}
        (run / name / "thresher_model.json").write_text(json.dumps(info), encoding="utf-8")
    history = [
        {"epoch": 1, "train_loss": 0.9, "val_loss": 0.8, "val_accuracy": 0.6},
        {"epoch": 2, "train_loss": 0.5, "val_loss": 0.6, "val_accuracy": 0.7},
    ]
    (run / "model" / "training_history.json").write_text(json.dumps(history), encoding="utf-8")

    def loader(folder: Path, device: str = "auto") -> KeywordClassifier:
        return KeywordClassifier(sharp=3.0, keywords=folder.name == "model")

    return run, evaluate.evaluate_run(run, loader=loader)


@pytest.mark.slow
def test_report_matches_the_evaluation_output(tmp_path: Path) -> None:
    run, metrics = _evaluated_run(tmp_path / "run")
    html = build_report(run).read_text(encoding="utf-8")
    test = metrics["splits"]["test"]
    table = re.search(r'<table id="metrics".*?</table>', html, re.S).group(0)
    accuracy = re.search(r"<tr><td>Accuracy</td>(.*?)</tr>", table, re.S).group(1)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", accuracy)
    baseline = metrics["baseline"]["splits"]["test"]["accuracy"]
    delta = test["accuracy"] - baseline
    ci = test["confidence_intervals"]["accuracy"]
    base_ci = metrics["baseline"]["splits"]["test"]["confidence_intervals"]["accuracy"]
    assert cells == [f"{test['accuracy']:.3f}", f"[{ci['low']:.3f}, {ci['high']:.3f}]",
                     f"{baseline:.3f}", f"[{base_ci['low']:.3f}, {base_ci['high']:.3f}]",
                     f"{delta:+.3f}"]
    assert f"({test['n']} rows)" in html
    images = set(re.findall(r'<img src="data:image/png;base64,[^"]+" alt="([^"]+)"', html))
    assert images == {
        "Rows per label and split",
        "Text length per split",
        "Training curves",
        "Confusion matrix: counts and normalised by true label",
        "ROC curves",
        "Precision-recall curves",
        "Reliability diagram",
    }
    assert len(re.findall(r'<table id="worst">.*?</table>', html, re.S)) == 1
    for example in metrics["worst_examples"][:3]:
        assert example["predicted"] in html
    assert '<th>Model</th><td class="text">keywords</td>' in html


def test_report_compare_with_an_earlier_run_on_the_same_rows(tmp_path: Path) -> None:
    earlier, _ = _evaluated_run(tmp_path / "earlier")
    later, metrics = _evaluated_run(tmp_path / "later")
    assert metrics["compare"] is None  # evaluate ran without --compare
    html = build_report(later, compare=earlier).read_text(encoding="utf-8")
    compare = re.search(r'<table id="compare-table".*?</table>', html, re.S).group(0)
    accuracy = metrics["splits"]["test"]["accuracy"]
    row = re.search(r"<tr><td>Accuracy</td>(.*?)</tr>", compare, re.S).group(1)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row)
    assert cells[0] == cells[2] == f"{accuracy:.3f}" and cells[4] == "+0.000"  # the same model twice
    assert re.search(r"McNemar p-value \(paired, same rows\)</td><td [^>]*>1.000</td>", compare)
    assert "Difference in accuracy, paired 95% CI" in compare
    assert 'id="compare-note"' not in html
    assert "Reliability diagram" in html and '<table id="calibration-table"' in html
