"""compute_metrics and paired_mcnemar against numbers worked out by hand."""

from __future__ import annotations

import json

import numpy as np
import pytest

from thresher.errors import DataError
from thresher.evaluate import compute_metrics, paired_mcnemar

BINARY_LABELS = ["neg", "pos"]
BINARY_TRUE = ["neg", "neg", "pos", "pos", "pos"]
BINARY_POS_PROBA = [0.1, 0.6, 0.7, 0.4, 0.9]  # predicted: neg, pos, pos, neg, pos

THREE_LABELS = ["a", "b", "c"]
THREE_TRUE = ["a", "a", "b", "b", "c", "c"]
THREE_PROBA = [  # predicted: a, b, b, b, a, c
    [0.7, 0.2, 0.1],
    [0.3, 0.6, 0.1],
    [0.1, 0.8, 0.1],
    [0.2, 0.5, 0.3],
    [0.5, 0.1, 0.4],
    [0.1, 0.2, 0.7],
]


def _binary_proba() -> np.ndarray:
    pos = np.asarray(BINARY_POS_PROBA)
    return np.column_stack([1 - pos, pos])


def _strict_json(data: dict) -> dict:
    def reject(constant: str) -> None:
        raise AssertionError(f"JSON holds {constant}")

    return json.loads(json.dumps(data, allow_nan=False), parse_constant=reject)


def test_binary_metrics_match_hand_computed_values() -> None:
    m = compute_metrics(BINARY_TRUE, _binary_proba(), BINARY_LABELS)
    assert m["n"] == 5
    assert m["accuracy"] == pytest.approx(3 / 5)
    assert m["per_class"]["pos"] == pytest.approx(
        {"precision": 2 / 3, "recall": 2 / 3, "f1": 2 / 3, "support": 3, "predicted": 3,
         "roc_auc": 5 / 6, "average_precision": 11 / 12})
    assert m["per_class"]["neg"]["precision"] == pytest.approx(1 / 2)
    assert m["per_class"]["neg"]["f1"] == pytest.approx(1 / 2)
    assert m["macro_f1"] == pytest.approx((2 / 3 + 1 / 2) / 2)
    assert m["weighted_f1"] == pytest.approx((2 * 1 / 2 + 3 * 2 / 3) / 5)
    assert m["micro_f1"] == pytest.approx(3 / 5)
    assert m["confusion_matrix"] == {"labels": BINARY_LABELS, "matrix": [[1, 1], [1, 2]],
                                     "normalized": [[1 / 2, 1 / 2], [1 / 3, 2 / 3]]}
    # Positive rows score 0.7, 0.4, 0.9 against negatives 0.1, 0.6: 5 of 6 pairs ordered right.
    assert m["roc_auc"] == pytest.approx(5 / 6)
    # Ranked 0.9 P, 0.7 P, 0.6 N, 0.4 P: precision 1, 1, 3/4 at each recall step of 1/3.
    assert m["average_precision"] == pytest.approx(11 / 12)
    assert m["positive_label"] == "pos"
    assert m["notes"] == []


def test_three_class_metrics_match_hand_computed_values() -> None:
    m = compute_metrics(THREE_TRUE, np.asarray(THREE_PROBA), THREE_LABELS)
    assert m["accuracy"] == pytest.approx(4 / 6)
    assert m["macro_precision"] == pytest.approx((1 / 2 + 2 / 3 + 1) / 3)
    assert m["macro_recall"] == pytest.approx((1 / 2 + 1 + 1 / 2) / 3)
    assert m["macro_f1"] == pytest.approx((1 / 2 + 4 / 5 + 2 / 3) / 3)
    assert m["weighted_f1"] == pytest.approx(m["macro_f1"])  # equal support
    assert m["micro_precision"] == pytest.approx(4 / 6)
    assert [m["per_class"][label]["f1"] for label in THREE_LABELS] == pytest.approx([1 / 2, 4 / 5, 2 / 3])
    assert m["confusion_matrix"]["matrix"] == [[1, 1, 0], [0, 2, 0], [1, 0, 1]]
    assert [m["per_class"][label]["roc_auc"] for label in THREE_LABELS] == pytest.approx([7 / 8, 7 / 8, 1.0])
    assert m["roc_auc"] == pytest.approx(11 / 12)
    assert m["ranking_average"] == "one-vs-rest macro"


def test_label_missing_from_split_gives_null_with_a_note_never_nan() -> None:
    proba = np.asarray(THREE_PROBA[:4])  # rows of a and b only; label c absent, never predicted
    m = _strict_json(compute_metrics(THREE_TRUE[:4], proba, THREE_LABELS))
    c = m["per_class"]["c"]
    assert c == {"precision": None, "recall": None, "f1": None, "support": 0, "predicted": 0,
                 "roc_auc": None, "average_precision": None}
    assert any("'c' has no rows here and was never predicted" in note for note in m["notes"])
    assert any("['c']" in note and "skipped" in note for note in m["notes"])
    # a: positives 0.7, 0.3 vs negatives 0.1, 0.2 -> 1.0; b: 0.8, 0.5 vs 0.2, 0.6 -> 3/4.
    assert m["roc_auc"] == pytest.approx((1.0 + 3 / 4) / 2)
    assert m["macro_f1"] == pytest.approx((2 / 3 + 4 / 5) / 2)  # averaged over a and b only


def test_binary_split_with_one_label_has_null_auc() -> None:
    m = _strict_json(compute_metrics(["pos", "pos"], np.asarray([[0.2, 0.8], [0.6, 0.4]]), BINARY_LABELS))
    assert m["roc_auc"] is None and m["average_precision"] is None
    assert any("undefined (null)" in note for note in m["notes"])
    assert m["per_class"]["neg"]["precision"] == 0.0  # predicted once, wrongly
    assert m["per_class"]["neg"]["recall"] is None
    # Averages run over the labels with rows: pos alone, precision 1 and recall 1/2.
    assert (m["macro_precision"], m["macro_recall"]) == pytest.approx((1.0, 0.5))
    assert m["macro_f1"] == pytest.approx(2 / 3)
    assert m["micro_f1"] == pytest.approx(m["accuracy"]) == 0.5
    assert any("'neg' has no rows here but was predicted 1 times" in note for note in m["notes"])


def test_unknown_label_is_a_data_error() -> None:
    with pytest.raises(DataError, match=r"labels \['maybe'\] are not among the model's labels"):
        compute_metrics(["neg", "maybe"], np.asarray([[0.5, 0.5], [0.5, 0.5]]), BINARY_LABELS)


def test_wrong_probability_shape_is_a_data_error() -> None:
    with pytest.raises(DataError, match=r"shape \(2, 3\), expected \(2, 2\)"):
        compute_metrics(["neg", "pos"], np.zeros((2, 3)), BINARY_LABELS)


def test_mcnemar_exact_p_value() -> None:
    y = ["x"] * 20
    # 10 rows only model a gets right, 2 only model b, 8 both right.
    a = ["x"] * 10 + ["o"] * 2 + ["x"] * 8
    b = ["o"] * 10 + ["x"] * 2 + ["x"] * 8
    result = paired_mcnemar(y, a, b)
    # Two-sided exact binomial: 2 * P(X <= 2 | n=12, p=1/2) = 2 * (1 + 12 + 66) / 4096.
    assert result["p_value"] == pytest.approx(158 / 4096)
    assert (result["only_a_correct"], result["only_b_correct"], result["both_correct"]) == (10, 2, 8)
    assert result["significant"] is True and result["better"] == "a"


def test_mcnemar_without_discordant_pairs_is_p_one() -> None:
    result = paired_mcnemar(["x", "y"], ["x", "o"], ["x", "o"])
    assert result["p_value"] == 1.0 and result["better"] is None and result["significant"] is False


def test_mcnemar_rejects_unequal_lengths() -> None:
    with pytest.raises(DataError, match="lengths 2, 2, 1"):
        paired_mcnemar(["x", "y"], ["x", "y"], ["x"])
