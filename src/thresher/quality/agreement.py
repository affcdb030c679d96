"""How far annotators agree: pairwise Cohen's kappa, Fleiss' kappa and Krippendorff's alpha, with
bootstrap intervals over items.

Every statistic is written as a function of item weights. The estimate weighs each item once; a
bootstrap draw weighs each item by how often the draw picked it. So a block of draws is one
(draws, items) count matrix and each statistic is a few matrix products with it: 1,000 draws over
1,000 items cost milliseconds, not 1,000 Python loops, and estimate and draws share one code path.

Undefined values (no variation, fewer than two shared items, no item with two ratings) come back
as None with a reason, never NaN, so the JSON report stays valid and says why.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Hashable, Iterator, Sequence

import numpy as np

from thresher.errors import DataError, InputError

__all__ = ["LEVELS", "agreement_statistics", "cohen_kappa", "fleiss_kappa", "krippendorff_alpha",
           "label_counts", "order_labels"]

LEVELS = ("nominal", "ordinal", "interval")
CI_LEVEL = 0.95
MAX_CELLS = 4_000_000  # draw x item weights held at once (32 MB of float64)
_TINY = 1e-12


def order_labels(labels: Sequence[str], level: str,
                 order: Sequence[Any] | None) -> tuple[list[str], np.ndarray | None]:
    """Labels in scale order and, for ``interval``, their values (numbers, else positions).

    Nominal labels sort as text unless ``order`` is given; ordinal and interval labels follow
    ``order`` or, when every label is a number, their numeric order.
    """
    if level not in LEVELS:
        raise InputError(f"unknown level {level!r}", where="level", fix="use nominal, ordinal or interval")
    present = sorted(set(map(str, labels)))
    if order is not None:
        ordered = [str(v) for v in order]
        if len(set(ordered)) != len(ordered):
            raise InputError("order lists a label twice", where="order", fix="list each label once")
        missing = [v for v in present if v not in set(ordered)]
        if missing:
            raise DataError(f"labels not in order: {', '.join(missing[:10])}", where="order",
                            fix="list every label, from lowest to highest")
    elif level == "nominal":
        ordered = present
    else:
        numbers = _numbers(present)
        if numbers is None:
            raise DataError(f"level '{level}' needs ordered labels, but these are not all numbers: "
                            f"{', '.join(present[:10])}", where="level",
                            fix="give the order from lowest to highest with order=[...] (--order a,b,c)")
        ordered = [present[i] for i in np.argsort(numbers, kind="stable")]
    if level != "interval":
        return ordered, None
    numbers = _numbers(ordered)
    return ordered, (numbers if numbers is not None else np.arange(len(ordered), dtype=float))


def _numbers(labels: Sequence[str]) -> np.ndarray | None:
    try:
        values = np.array([float(v) for v in labels], dtype=float)
    except ValueError:
        return None
    return values if np.isfinite(values).all() else None


def label_counts(matrix: np.ndarray, k: int) -> np.ndarray:
    """(items, labels) counts from an (items, annotators) code matrix with -1 for missing."""
    rows, cols = np.nonzero(matrix >= 0)
    flat = np.bincount(rows * k + matrix[rows, cols], minlength=matrix.shape[0] * k)
    return flat.reshape(matrix.shape[0], k).astype(float)


# -- the statistics as functions of item weights (rows of ``weights`` are draws) -----------------

def _cohen_from(a: np.ndarray, b: np.ndarray, k: int, weights: np.ndarray) -> np.ndarray:
    total = weights.sum(1)
    with np.errstate(divide="ignore", invalid="ignore"):
        observed = weights @ (a == b).astype(float) / total
        eye = np.eye(k)
        expected = ((weights @ eye[a]) * (weights @ eye[b])).sum(1) / total**2
        kappa = (observed - expected) / (1 - expected)
    kappa[(total == 0) | (expected > 1 - _TINY)] = np.nan
    return kappa


def _fleiss_from(counts: np.ndarray, weights: np.ndarray) -> np.ndarray:
    n = counts[0].sum()
    total = weights.sum(1)
    with np.errstate(divide="ignore", invalid="ignore"):
        shares = (weights @ counts) / (total * n)[:, None]
        per_item = ((counts**2).sum(1) - n) / (n * (n - 1))
        observed = weights @ per_item / total
        expected = (shares**2).sum(1)
        kappa = (observed - expected) / (1 - expected)
    kappa[(total == 0) | (expected > 1 - _TINY)] = np.nan
    return kappa


def _alpha_from(counts: np.ndarray, weights: np.ndarray, level: str, values: np.ndarray | None) -> np.ndarray:
    """Krippendorff's alpha from (units, labels) counts of pairable units (two or more values)."""
    inverse = 1.0 / (counts.sum(1) - 1)
    marginals = weights @ counts  # the coincidence matrix's row sums: each value counts once
    n = marginals.sum(1)
    if level == "ordinal":  # the distance depends on the marginals, so on the draw
        delta = _ordinal_delta(marginals)
        disagreement = (_coincidences(counts, inverse, weights) * delta).sum((1, 2))
        expected = np.einsum("bk,bkl,bl->b", marginals, delta, marginals)
    else:  # fixed distances: each unit's observed disagreement is one number
        delta = _fixed_delta(counts.shape[1], values if level == "interval" else None)
        disagreement = weights @ (np.einsum("uk,kl,ul->u", counts, delta, counts) * inverse)
        expected = np.einsum("bk,kl,bl->b", marginals, delta, marginals)
    with np.errstate(divide="ignore", invalid="ignore"):
        alpha = 1 - (n - 1) * disagreement / expected
    alpha[expected <= _TINY * np.maximum(n, 1) ** 2] = np.nan
    return alpha


def _fixed_delta(k: int, values: np.ndarray | None) -> np.ndarray:
    if values is None:  # nominal: any two different labels are equally far apart
        return 1.0 - np.eye(k)
    return (values[:, None] - values[None, :]) ** 2


def _ordinal_delta(marginals: np.ndarray) -> np.ndarray:
    """Squared ordinal distance per draw: values between c and k, less half of c's and k's own."""
    k = marginals.shape[1]
    index = np.arange(k)
    low, high = np.minimum.outer(index, index), np.maximum.outer(index, index)
    cumulative = np.cumsum(marginals, axis=1)
    between = cumulative[:, high] - cumulative[:, low] + marginals[:, low]
    return (between - (marginals[:, low] + marginals[:, high]) / 2) ** 2


def _coincidences(counts: np.ndarray, inverse: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted coincidence matrices (draws, k, k), built over item blocks to bound memory."""
    units, k = counts.shape
    total = np.zeros((weights.shape[0], k * k))
    step = max(1, MAX_CELLS // (k * k))
    for start in range(0, units, step):
        block = counts[start:start + step]
        pairs = block[:, :, None] * block[:, None, :]
        pairs[:, np.arange(k), np.arange(k)] -= block  # a value is not paired with itself
        pairs *= inverse[start:start + step, None, None]
        total += weights[:, start:start + step] @ pairs.reshape(len(block), k * k)
    return total.reshape(-1, k, k)


# -- plain functions (one table in, one number out) ----------------------------------------------

def cohen_kappa(a: Sequence[Hashable], b: Sequence[Hashable]) -> float | None:
    """Cohen's kappa of two annotators' labels on the same items; None when undefined."""
    if len(a) != len(b):
        raise DataError(f"the two label lists differ in length ({len(a)} and {len(b)})",
                        fix="pass one label per shared item for each annotator")
    codes = {v: i for i, v in enumerate(sorted(set(a) | set(b), key=str))}
    if len(a) < 2:
        return None
    ca, cb = np.array([codes[v] for v in a]), np.array([codes[v] for v in b])
    return _none(_cohen_from(ca, cb, len(codes), np.ones((1, len(a))))[0])


def fleiss_kappa(table: np.ndarray) -> float | None:
    """Fleiss' kappa from an (items, categories) count table with equal row sums."""
    counts = np.asarray(table, dtype=float)
    sums = counts.sum(1)
    if counts.ndim != 2 or len(counts) == 0 or not np.all(sums == sums[0]) or sums[0] < 2:
        raise DataError("Fleiss' kappa needs an (items, categories) table with the same number "
                        "(two or more) of ratings per item", fix="keep the items with that many ratings")
    return _none(_fleiss_from(counts, np.ones((1, len(counts))))[0])


def krippendorff_alpha(data: Sequence[Sequence[Any]], level: str = "nominal",
                       order: Sequence[Any] | None = None) -> float | None:
    """Krippendorff's alpha of a (coders, units) table; None (or NaN) marks a missing value."""
    cells = [[None if _missing(v) else str(v) for v in row] for row in data]
    labels, values = order_labels([v for row in cells for v in row if v is not None], level, order)
    code = {v: i for i, v in enumerate(labels)}
    matrix = np.array([[code[v] if v is not None else -1 for v in row] for row in cells]).T
    counts = label_counts(matrix, len(labels))
    counts = counts[counts.sum(1) >= 2]
    if len(counts) == 0:
        return None
    return _none(_alpha_from(counts, np.ones((1, len(counts))), level, values)[0])


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def _none(value: float) -> float | None:
    return None if not np.isfinite(value) else float(value)


# -- everything at once, with bootstrap intervals ------------------------------------------------

@dataclass
class _Plan:
    """Which items each statistic uses, fixed before resampling."""

    n_items: int
    k: int
    level: str
    values: np.ndarray | None
    fleiss_items: np.ndarray
    fleiss_counts: np.ndarray
    alpha_items: np.ndarray
    alpha_counts: np.ndarray
    pairs: list[tuple[int, int, np.ndarray, np.ndarray, np.ndarray]]  # a, b, items, codes a, codes b


def _plan(matrix: np.ndarray, k: int, level: str, values: np.ndarray | None) -> _Plan:
    counts = label_counts(matrix, k)
    ratings = counts.sum(1)
    rated = ratings[ratings >= 2]
    fleiss_items = np.array([], dtype=int)
    if rated.size:
        sizes, freq = np.unique(rated, return_counts=True)
        fleiss_items = np.flatnonzero(ratings == sizes[freq == freq.max()].max())
    alpha_items = np.flatnonzero(ratings >= 2)
    pairs = []
    for a in range(matrix.shape[1]):
        for b in range(a + 1, matrix.shape[1]):
            shared = np.flatnonzero((matrix[:, a] >= 0) & (matrix[:, b] >= 0))
            pairs.append((a, b, shared, matrix[shared, a], matrix[shared, b]))
    return _Plan(matrix.shape[0], k, level, values, fleiss_items, counts[fleiss_items],
                 alpha_items, counts[alpha_items], pairs)


def _evaluate(plan: _Plan, weights: np.ndarray) -> dict[str, np.ndarray]:
    draws = weights.shape[0]
    nan = np.full(draws, np.nan)
    out = {"fleiss": nan, "alpha": nan}
    if len(plan.fleiss_items):
        out["fleiss"] = _fleiss_from(plan.fleiss_counts, weights[:, plan.fleiss_items])
    if len(plan.alpha_items):
        out["alpha"] = _alpha_from(plan.alpha_counts, weights[:, plan.alpha_items], plan.level, plan.values)
    kappas = [(_cohen_from(ca, cb, plan.k, weights[:, items]) if len(items) >= 2 else nan)
              for _, _, items, ca, cb in plan.pairs]
    out["pairs"] = np.stack(kappas, axis=1) if kappas else np.empty((draws, 0))
    return out


def _weights(n_items: int, draws: int, seed: int) -> Iterator[np.ndarray]:
    """Blocks of bootstrap draws as item multiplicities (each row sums to n_items)."""
    rng = np.random.default_rng(seed)
    step = max(1, MAX_CELLS // max(n_items, 1))
    for start in range(0, draws, step):
        block = min(step, draws - start)
        picks = rng.integers(0, n_items, size=(block, n_items))
        offsets = (np.arange(block)[:, None] * n_items + picks).ravel()
        yield np.bincount(offsets, minlength=block * n_items).reshape(block, n_items).astype(float)


def _mean_pairs(kappas: np.ndarray, usable: np.ndarray) -> np.ndarray:
    chosen = kappas[:, usable]
    defined = np.isfinite(chosen)
    with np.errstate(invalid="ignore"):
        return np.where(defined, chosen, 0).sum(1) / defined.sum(1)


def agreement_statistics(matrix: np.ndarray, labels: list[str], annotators: list[str], *,
                         level: str = "nominal", values: np.ndarray | None = None,
                         bootstrap: int = 1000, seed: int = 13) -> dict[str, Any]:
    """Fleiss' kappa, Krippendorff's alpha and pairwise Cohen's kappa (mean with an interval).

    ``matrix`` is (items, annotators) label codes into ``labels`` with -1 where an annotator did
    not label an item. Intervals resample items with replacement ``bootstrap`` times.
    """
    plan = _plan(matrix, len(labels), level, values)
    point = _evaluate(plan, np.ones((1, matrix.shape[0])))
    usable = np.isfinite(point["pairs"][0])
    point["cohen_mean"] = _mean_pairs(point["pairs"], usable) if usable.any() else np.array([np.nan])
    constant = None
    if len(labels) == 1:
        constant = f"every annotation is {labels[0]!r}: agreement is undefined without variation"
    draws = {} if constant else _bootstrap(plan, matrix.shape[0], usable, bootstrap, seed)
    return {
        "fleiss": _fleiss_report(plan, point, draws, bootstrap, constant),
        "alpha": _alpha_report(plan, point, draws, bootstrap, constant),
        "cohen": _cohen_report(plan, point, draws, bootstrap, constant, annotators, usable),
        "bootstrap": {"draws": bootstrap, "seed": seed, "level": CI_LEVEL, "resampled": "items",
                      "interval": "percentile"},
    }


def _bootstrap(plan: _Plan, n_items: int, usable: np.ndarray, draws: int, seed: int) -> dict[str, np.ndarray]:
    if draws <= 0 or n_items == 0:
        return {}
    parts: dict[str, list[np.ndarray]] = {"fleiss": [], "alpha": [], "cohen_mean": []}
    for weights in _weights(n_items, draws, seed):
        result = _evaluate(plan, weights)
        result["cohen_mean"] = (_mean_pairs(result["pairs"], usable) if usable.any()
                                else np.full(len(weights), np.nan))
        for name in parts:
            parts[name].append(result[name])
    return {name: np.concatenate(chunks) for name, chunks in parts.items()}


def _interval(point: float | None, spread: np.ndarray | None, draws: int) -> dict[str, Any]:
    if draws <= 0:
        return {"low": None, "high": None, "why": "no bootstrap draws were asked for (bootstrap=0)"}
    if point is None or spread is None:
        return {"low": None, "high": None, "why": "the estimate itself is undefined"}
    defined = spread[np.isfinite(spread)]
    if defined.size == 0:
        return {"low": None, "high": None, "why": "undefined in every bootstrap draw"}
    tail = (1 - CI_LEVEL) / 2 * 100
    low, high = np.percentile(defined, [tail, 100 - tail])
    return {"low": float(low), "high": float(high), "draws_defined": int(defined.size)}


def _fleiss_report(plan: _Plan, point: dict[str, np.ndarray], draws: dict[str, np.ndarray],
                   n_draws: int, constant: str | None) -> dict[str, Any]:
    used = len(plan.fleiss_items)
    ratings = int(plan.fleiss_counts[0].sum()) if used else None
    value = None if constant else _none(point["fleiss"][0])
    why = constant or (None if value is not None else
                       "no item has two or more ratings" if not used else
                       "the items used show a single label: kappa is undefined without variation")
    report: dict[str, Any] = {"value": value, "why": why, "items_used": used, "ratings_per_item": ratings,
                              "items_excluded": plan.n_items - used}
    report["ci"] = _interval(value, draws.get("fleiss"), n_draws)
    if report["items_excluded"]:
        report["note"] = (f"Fleiss' kappa needs the same number of ratings per item: it uses the {used} "
                          f"items with {ratings} ratings; {report['items_excluded']} items with other "
                          "counts are left out")
    return report


def _alpha_report(plan: _Plan, point: dict[str, np.ndarray], draws: dict[str, np.ndarray],
                  n_draws: int, constant: str | None) -> dict[str, Any]:
    value = None if constant else _none(point["alpha"][0])
    why = constant or (None if value is not None else
                       "no item has two or more annotations" if not len(plan.alpha_items) else
                       "every pairable value is the same label: alpha is undefined without variation")
    return {"value": value, "why": why, "level": plan.level, "items_used": int(len(plan.alpha_items)),
            "pairable_values": int(plan.alpha_counts.sum()), "ci": _interval(value, draws.get("alpha"), n_draws)}


def _cohen_report(plan: _Plan, point: dict[str, np.ndarray], draws: dict[str, np.ndarray], n_draws: int,
                  constant: str | None, annotators: list[str], usable: np.ndarray) -> dict[str, Any]:
    size = len(annotators)
    matrix: list[list[float | None]] = [[None] * size for _ in range(size)]
    pairs = []
    for (a, b, items, _, _), kappa in zip(plan.pairs, point["pairs"][0]):
        value = None if constant else _none(kappa)
        why = None if value is not None else (
            f"{annotators[a]} and {annotators[b]} share {len(items)} item{'s' if len(items) != 1 else ''}; "
            "kappa needs at least 2" if len(items) < 2 else constant or
            "both gave one and the same label on every shared item: kappa is undefined without variation")
        matrix[a][b] = matrix[b][a] = value
        pairs.append({"a": annotators[a], "b": annotators[b], "shared_items": int(len(items)),
                      "kappa": value, **({"why": why} if why else {})})
    mean = None if constant else _none(point["cohen_mean"][0])
    return {
        "annotators": annotators, "matrix": matrix, "pairs": pairs,
        "mean": {"value": mean, "pairs_used": 0 if constant else int(usable.sum()),
                 "why": constant or (None if mean is not None else "no pair of annotators has a defined kappa"),
                 "ci": _interval(mean, draws.get("cohen_mean"), n_draws)},
        "note": "unweighted kappa over the items both annotators labelled; the diagonal is left empty",
    }
