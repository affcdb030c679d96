"""Bootstrap 95% confidence intervals for accuracy and macro F1, and for the difference of two
classifiers scored on the same rows.

A test set of 1,752 rows pins accuracy down to about ±2 points; a difference of one point
between two runs says nothing without that interval. The resampling is vectorised: each chunk
of resamples is one ``(resamples, rows)`` index matrix, and per-label counts for every resample
come from a single ``np.bincount`` over offset codes, so 1,000 resamples of 2,000 rows take
milliseconds. Intervals are percentile intervals; the seed makes them reproducible.
"""

from __future__ import annotations

from typing import Any, Iterator, Sequence

import numpy as np

from thresher.errors import DataError

__all__ = ["LEVEL", "RESAMPLES", "SEED", "bootstrap_intervals", "paired_bootstrap_delta"]

RESAMPLES = 1000
SEED = 13
LEVEL = 0.95
MAX_CELLS = 4_000_000  # resampled rows held in memory at once (32 MB of int64 indices)
METRICS = ("accuracy", "macro_f1")


def bootstrap_intervals(
    y_true: Sequence[str],
    y_pred: Sequence[str],
    *,
    resamples: int = RESAMPLES,
    seed: int = SEED,
    level: float = LEVEL,
) -> dict[str, Any]:
    """Accuracy and macro F1 with percentile intervals over ``resamples`` row resamples.

    Macro F1 averages over the labels that occur in each resample's true labels, as
    :func:`~thresher.evaluate.compute_metrics` does over the split.
    """
    y, (pred,), k = _encoded(y_true, [y_pred])
    point = _scores(y, [pred], k, np.arange(len(y))[None, :])[0]
    spread = _resampled(y, [pred], k, resamples, seed)[0]
    result: dict[str, Any] = {
        name: {"estimate": float(point[name][0]), **_interval(spread[name], level)} for name in METRICS
    }
    return {**result, **_settings(resamples, seed, level)}


def paired_bootstrap_delta(
    y_true: Sequence[str],
    pred_a: Sequence[str],
    pred_b: Sequence[str],
    *,
    resamples: int = RESAMPLES,
    seed: int = SEED,
    level: float = LEVEL,
) -> dict[str, Any]:
    """Interval of ``a - b`` for accuracy and macro F1, both scored on the same resampled rows.

    Pairing removes the row-to-row variation both classifiers share, so this interval is
    narrower than the two separate intervals suggest; if it excludes 0, a beats b (or b a).
    """
    y, (a, b), k = _encoded(y_true, [pred_a, pred_b])
    full = _scores(y, [a, b], k, np.arange(len(y))[None, :])
    spread = _resampled(y, [a, b], k, resamples, seed)
    result: dict[str, Any] = {}
    for name in METRICS:
        delta = spread[0][name] - spread[1][name]
        result[name] = {"delta": float(full[0][name][0] - full[1][name][0]), **_interval(delta, level)}
    return {**result, **_settings(resamples, seed, level)}


def _encoded(
    y_true: Sequence[str], predictions: list[Sequence[str]]
) -> tuple[np.ndarray, list[np.ndarray], int]:
    """Labels as integer codes over every value seen in truth and predictions."""
    y = np.asarray([str(v) for v in y_true], dtype=object)
    preds = [np.asarray([str(v) for v in p], dtype=object) for p in predictions]
    if len(y) == 0 or any(len(p) != len(y) for p in preds):
        lengths = ", ".join(str(len(p)) for p in preds)
        raise DataError(f"{len(y)} true labels and predictions of lengths {lengths}",
                        where="bootstrap", fix="pass one prediction per row of a non-empty split")
    vocabulary = np.unique(np.concatenate([y, *preds]).astype(str))
    codes = [np.searchsorted(vocabulary, v.astype(str)) for v in (y, *preds)]
    return codes[0], codes[1:], len(vocabulary)


def _resampled(
    y: np.ndarray, preds: list[np.ndarray], k: int, resamples: int, seed: int
) -> list[dict[str, np.ndarray]]:
    """Per prediction: each metric over every resample (the same resamples for all)."""
    parts = [_scores(y, preds, k, idx) for idx in _index_chunks(len(y), resamples, seed)]
    return [{name: np.concatenate([part[i][name] for part in parts]) for name in METRICS}
            for i in range(len(preds))]


def _index_chunks(n: int, resamples: int, seed: int) -> Iterator[np.ndarray]:
    rng = np.random.default_rng(seed)
    per_chunk = max(1, MAX_CELLS // n)
    for start in range(0, resamples, per_chunk):
        yield rng.integers(0, n, size=(min(per_chunk, resamples - start), n))


def _scores(y: np.ndarray, preds: list[np.ndarray], k: int, idx: np.ndarray) -> list[dict[str, np.ndarray]]:
    """Accuracy and macro F1 of each resample (row of ``idx``), for each prediction."""
    b = idx.shape[0]
    truth = y[idx] + (np.arange(b) * k)[:, None]  # code + resample offset: one bincount for all
    true_count = np.bincount(truth.ravel(), minlength=b * k).reshape(b, k)
    present = true_count > 0
    out = []
    for pred in preds:
        right = (pred == y)[idx]
        guessed = pred[idx] + (np.arange(b) * k)[:, None]
        pred_count = np.bincount(guessed.ravel(), minlength=b * k).reshape(b, k)
        tp = np.bincount(truth[right], minlength=b * k).reshape(b, k)
        f1 = 2 * tp / np.maximum(true_count + pred_count, 1)  # 0 where a label is neither true nor guessed
        macro = (f1 * present).sum(axis=1) / present.sum(axis=1)
        out.append({"accuracy": right.mean(axis=1), "macro_f1": macro})
    return out


def _interval(values: np.ndarray, level: float) -> dict[str, float]:
    low, high = np.quantile(values, [(1 - level) / 2, (1 + level) / 2])
    return {"low": float(low), "high": float(high)}


def _settings(resamples: int, seed: int, level: float) -> dict[str, Any]:
    return {"level": level, "resamples": resamples, "seed": seed, "method": "percentile bootstrap over rows"}
