"""Calibration (ECE, MCE), bootstrap intervals and micro-averaged AUC against numbers known in advance."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from thresher.errors import DataError
from thresher.evaluate import (
    bootstrap_intervals,
    calibration,
    compute_metrics,
    paired_bootstrap_delta,
    plot_reliability,
)

LABELS = ["neg", "pos"]


def _binary(pos: list[float]) -> np.ndarray:
    pos_arr = np.asarray(pos)
    return np.column_stack([1 - pos_arr, pos_arr])


def test_ece_and_mce_of_constructed_probabilities() -> None:
    # Five rows at confidence 0.9 with four right (accuracy 0.8, gap 0.1) and five at 0.6 with
    # all right (gap 0.4): ECE = 0.5 * 0.1 + 0.5 * 0.4 = 0.25, MCE = 0.4.
    proba = _binary([0.9] * 5 + [0.6] * 5)
    y = ["pos"] * 4 + ["neg"] + ["pos"] * 5
    found = calibration(y, proba, LABELS)
    assert found["ece"] == pytest.approx(0.25)
    assert found["mce"] == pytest.approx(0.4)
    filled = [b for b in found["bins"] if b["count"]]
    assert [b["count"] for b in filled] == [5, 5]
    # right-closed bins: 0.6 falls in (0.5, 0.6], 0.9 in (0.8, 0.9]
    assert [b["lower"] for b in filled] + [b["upper"] for b in filled] == pytest.approx([0.5, 0.8, 0.6, 0.9])
    assert [b["confidence"] for b in filled] == pytest.approx([0.6, 0.9])
    assert [b["accuracy"] for b in filled] == pytest.approx([1.0, 0.8])
    assert len(found["bins"]) == 10 and found["bins"][0]["confidence"] is None


def test_perfect_calibration_has_zero_ece_and_confidence_counts_either_label() -> None:
    # Confidence 0.75 in four rows, three right, whichever label each row predicts.
    proba = _binary([0.75, 0.25, 0.75, 0.25])
    found = calibration(["pos", "neg", "pos", "pos"], proba, LABELS, bins=4)
    assert found["ece"] == pytest.approx(0.0) and found["mce"] == pytest.approx(0.0)
    assert [b["count"] for b in found["bins"]] == [0, 0, 4, 0]
    assert found["method"] == "top-label, 4 equal-width bins"


def test_bootstrap_interval_holds_the_estimate_of_compute_metrics() -> None:
    rng = np.random.default_rng(0)
    y = rng.choice(["a", "b", "c"], 300)
    pred = np.where(rng.random(300) < 0.7, y, rng.choice(["a", "b", "c"], 300))
    found = bootstrap_intervals(y, pred)
    metrics = compute_metrics(y, np.eye(3)[np.searchsorted(["a", "b", "c"], pred)], ["a", "b", "c"])
    for name in ("accuracy", "macro_f1"):
        entry = found[name]
        assert entry["estimate"] == pytest.approx(metrics[name])
        assert entry["low"] < entry["estimate"] < entry["high"]
    assert (found["resamples"], found["seed"], found["level"]) == (1000, 13, 0.95)
    assert bootstrap_intervals(y, pred) == found  # seeded: the same interval every time
    assert bootstrap_intervals(y, pred, seed=14)["accuracy"] != found["accuracy"]


def test_bootstrap_interval_narrows_with_more_rows() -> None:
    def width(n: int) -> float:
        y = np.asarray(["pos", "neg"] * (n // 2))
        pred = y.copy()
        pred[::5] = np.where(pred[::5] == "pos", "neg", "pos")  # 80% right at every size
        found = bootstrap_intervals(y, pred)["accuracy"]
        assert found["estimate"] == pytest.approx(0.8)
        return found["high"] - found["low"]

    small, large = width(100), width(2000)
    assert large < small / 3  # the width shrinks like 1/sqrt(n): sqrt(20) ~ 4.5
    assert 0.12 < small < 0.2  # 2 * 1.96 * sqrt(0.8 * 0.2 / 100) = 0.157


def test_paired_delta_of_identical_and_better_predictions() -> None:
    y = np.asarray(["x", "y"] * 50)
    same = paired_bootstrap_delta(y, y, y)
    assert same["accuracy"] == {"delta": 0.0, "low": 0.0, "high": 0.0}
    worse = y.copy()
    worse[:30] = np.where(worse[:30] == "x", "y", "x")
    better = paired_bootstrap_delta(y, y, worse)["accuracy"]
    assert better["delta"] == pytest.approx(0.3) and 0.2 < better["low"] < 0.3 < better["high"] < 0.4


def test_bootstrap_rejects_unequal_lengths() -> None:
    with pytest.raises(DataError, match="3 true labels and predictions of lengths 2"):
        bootstrap_intervals(["a", "b", "a"], ["a", "b"])


def test_multiclass_micro_auc_matches_sklearn_and_matrix_is_normalised() -> None:
    labels = ["a", "b", "c"]
    y = ["a", "a", "b", "b", "c", "c", "a"]
    proba = np.asarray([[0.7, 0.2, 0.1], [0.3, 0.6, 0.1], [0.1, 0.8, 0.1], [0.2, 0.5, 0.3],
                        [0.5, 0.1, 0.4], [0.1, 0.2, 0.7], [0.4, 0.4, 0.2]])
    m = compute_metrics(y, proba, labels)
    onehot = np.asarray([[label == t for label in labels] for t in y])
    assert m["roc_auc_micro"] == pytest.approx(roc_auc_score(onehot, proba, average="micro"))
    micro_ap = average_precision_score(onehot, proba, average="micro")
    assert m["average_precision_micro"] == pytest.approx(micro_ap)
    normalized = np.asarray(m["confusion_matrix"]["normalized"])
    assert np.allclose(normalized.sum(axis=1), 1.0)
    assert normalized[0].tolist() == pytest.approx([2 / 3, 1 / 3, 0.0])  # the 0.4/0.4 tie goes to a


def test_reliability_diagram_is_a_png(tmp_path: Path) -> None:
    proba = _binary([0.9] * 5 + [0.6] * 5)
    y = ["pos"] * 4 + ["neg"] + ["pos"] * 5
    found = calibration(y, proba, LABELS)
    path = plot_reliability({"model": found, "baseline": calibration(y, _binary([0.55] * 10), LABELS)},
                            tmp_path / "reliability.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
