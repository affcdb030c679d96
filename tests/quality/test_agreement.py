"""Agreement statistics and label aggregation, checked against published values and references."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score

from thresher.errors import DataError
from thresher.quality.aggregate import dawid_skene, majority_vote
from thresher.quality.agree import agree
from thresher.quality.agreement import cohen_kappa, fleiss_kappa, krippendorff_alpha, order_labels

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability": 4 coders x 12 units, '.' missing
_K = None
KRIPPENDORFF = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, _K, _K, _K],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, _K, 3],
    [_K, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, _K],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, _K],
]
# Fleiss' kappa worked example (14 raters, 10 subjects, 5 categories): kappa = 0.210
FLEISS_TABLE = np.array([
    [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
])


def _long_table(reliability: list[list], path: Path) -> Path:
    rows = [(f"u{u + 1}", f"coder{c}", value) for c, row in enumerate(reliability)
            for u, value in enumerate(row) if value is not None]
    pd.DataFrame(rows, columns=["item", "annotator", "label"]).to_csv(path, index=False)
    return path


def _crowd(n_items: int, confusions: np.ndarray, seed: int, skip: float = 0.0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    k = confusions.shape[1]
    truth = rng.integers(0, k, n_items)
    rows = []
    for i, t in enumerate(truth):
        for r, confusion in enumerate(confusions):
            if rng.random() >= skip:
                rows.append((f"i{i}", f"a{r}", "abcdefgh"[rng.choice(k, p=confusion[t])]))
    return pd.DataFrame(rows, columns=["item", "annotator", "label"]), truth


def _symmetric(k: int, accuracy: float) -> np.ndarray:
    confusion = np.full((k, k), (1 - accuracy) / (k - 1))
    np.fill_diagonal(confusion, accuracy)
    return confusion


@pytest.mark.parametrize(("level", "published"), [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849)])
def test_krippendorff_worked_example(level, published):
    assert round(krippendorff_alpha(KRIPPENDORFF, level=level), 3) == published


def test_krippendorff_worked_example_through_agree(tmp_path):
    path = _long_table(KRIPPENDORFF, tmp_path / "k.csv")
    for level, published in [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849)]:
        report = agree(path, level=level, bootstrap=0)
        assert round(report.alpha["value"], 3) == published
        # unit 12 has one value: unpairable; 40 of the 41 values are pairable
        assert report.alpha["items_used"] == 11 and report.alpha["pairable_values"] == 40


def test_interval_uses_numbers_and_order_uses_positions():
    # interval alpha is unchanged by a linear rescaling of the numbers, and changed by spacing
    scaled = [[None if v is None else 2 * v + 3 for v in row] for row in KRIPPENDORFF]
    assert krippendorff_alpha(scaled, "interval") == pytest.approx(0.8491071428571428, abs=1e-12)
    squared = [[None if v is None else v * v for v in row] for row in KRIPPENDORFF]
    assert abs(krippendorff_alpha(squared, "interval") - 0.8491071428571428) > 0.01
    labels, values = order_labels(["10", "2", "1"], "interval", None)
    assert labels == ["1", "2", "10"] and values.tolist() == [1.0, 2.0, 10.0]
    labels, values = order_labels(["low", "high", "mid"], "interval", ["low", "mid", "high"])
    assert labels == ["low", "mid", "high"] and values.tolist() == [0.0, 1.0, 2.0]
    # renaming the ordinal categories while keeping their order does not change ordinal alpha
    words = [[{1: "a", 2: "b", 3: "c", 4: "d", 5: "e"}.get(v) for v in row] for row in KRIPPENDORFF]
    assert krippendorff_alpha(words, "ordinal", order="abcde") == pytest.approx(
        krippendorff_alpha(KRIPPENDORFF, "ordinal"), abs=1e-12)
    # words in order= are spaced evenly for interval: 1..5 are evenly spaced too
    assert krippendorff_alpha(words, "interval", order="abcde") == pytest.approx(0.8491071428571428, abs=1e-12)


def test_ordered_levels_need_an_order_for_words():
    with pytest.raises(DataError) as err:
        order_labels(["bad", "good", "ok"], "ordinal", None)
    assert str(err.value) == ("level: level 'ordinal' needs ordered labels, but these are not all numbers: "
                              "bad, good, ok. give the order from lowest to highest with order=[...] "
                              "(--order a,b,c).")
    with pytest.raises(DataError, match="labels not in order: ok"):
        order_labels(["bad", "good", "ok"], "ordinal", ["bad", "good"])


def test_fleiss_worked_example_and_statsmodels():
    from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss

    assert round(fleiss_kappa(FLEISS_TABLE), 3) == 0.210
    assert fleiss_kappa(FLEISS_TABLE) == pytest.approx(sm_fleiss(FLEISS_TABLE), abs=1e-12)


def test_fleiss_through_agree_matches_statsmodels_on_the_items_used(tmp_path):
    from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa as sm_fleiss

    frame, _ = _crowd(300, np.stack([_symmetric(3, 0.7)] * 4), seed=3, skip=0.15)
    frame.to_csv(tmp_path / "a.csv", index=False)
    report = agree(tmp_path / "a.csv", bootstrap=0)
    counts = frame.groupby("item").size()
    mode = counts.value_counts()
    n = int(mode[mode == mode.max()].index.max())
    used = frame[frame["item"].isin(counts[counts == n].index)]
    wide = used.pivot(index="item", columns="annotator", values="label").to_numpy()
    table, _ = aggregate_raters(np.array([[ord(v) for v in row if isinstance(v, str)] for row in wide]))
    assert report.fleiss["ratings_per_item"] == n
    assert report.fleiss["items_used"] == int((counts == n).sum())
    assert report.fleiss["items_excluded"] == report.n_items - report.fleiss["items_used"] > 0
    assert report.fleiss["value"] == pytest.approx(sm_fleiss(table), abs=1e-12)


def test_pairwise_cohen_matches_sklearn(tmp_path):
    frame, _ = _crowd(200, np.stack([_symmetric(4, a) for a in (0.9, 0.7, 0.5)]), seed=5, skip=0.3)
    frame.to_csv(tmp_path / "a.csv", index=False)
    report = agree(tmp_path / "a.csv", bootstrap=0)
    wide = frame.pivot(index="item", columns="annotator", values="label")
    names = report.cohen["annotators"]
    for i, a in enumerate(names):
        for j, b in enumerate(names):
            if i == j:
                assert report.cohen["matrix"][i][j] is None
                continue
            both = wide[[a, b]].dropna()
            expected = cohen_kappa_score(both[a], both[b])
            assert report.cohen["matrix"][i][j] == pytest.approx(expected, abs=1e-12)
    assert cohen_kappa(list("aabbcc"), list("abbbcc")) == pytest.approx(
        cohen_kappa_score(list("aabbcc"), list("abbbcc")), abs=1e-12)
    defined = [p["kappa"] for p in report.cohen["pairs"]]
    assert report.cohen["mean"]["value"] == pytest.approx(np.mean(defined), abs=1e-12)


def test_undefined_values_are_none_with_reasons(tmp_path):
    rows = [("1", "ann", "x"), ("2", "ann", "x"), ("1", "bob", "x"), ("2", "bob", "x"),
            ("1", "cy", "y"), ("3", "cy", "x"), ("3", "dee", "y")]
    pd.DataFrame(rows, columns=["item", "annotator", "label"]).to_csv(tmp_path / "a.csv", index=False)
    report = agree(tmp_path / "a.csv", bootstrap=50)
    pairs = {(p["a"], p["b"]): p for p in report.cohen["pairs"]}
    assert pairs[("ann", "bob")]["kappa"] is None
    assert pairs[("ann", "bob")]["why"] == ("both gave one and the same label on every shared item: "
                                           "kappa is undefined without variation")
    assert pairs[("ann", "cy")]["why"] == "ann and cy share 1 item; kappa needs at least 2"
    assert pairs[("ann", "dee")]["why"] == "ann and dee share 0 items; kappa needs at least 2"
    assert report.cohen["mean"] == {"value": None, "pairs_used": 0, "why": "no pair of annotators has a defined "
                                    "kappa", "ci": {"low": None, "high": None, "why": "the estimate itself is undefined"}}
    json.dumps(report.to_dict(), allow_nan=False)


def test_one_label_everywhere_is_undefined_but_still_aggregated(tmp_path):
    rows = [(str(i), a, "spam") for i in range(5) for a in ("ann", "bob", "cy")]
    pd.DataFrame(rows, columns=["item", "annotator", "label"]).to_csv(tmp_path / "a.csv", index=False)
    report = agree(tmp_path / "a.csv")
    why = "every annotation is 'spam': agreement is undefined without variation"
    for stat in (report.fleiss, report.alpha, report.cohen["mean"]):
        assert stat["value"] is None and stat["why"] == why
    assert all(p["kappa"] is None and p["why"] == why for p in report.cohen["pairs"])
    assert report.consensus["label_majority"].tolist() == ["spam"] * 5
    assert report.consensus["label_ds"].tolist() == ["spam"] * 5
    assert report.consensus["confidence"].tolist() == [1.0] * 5
    json.dumps(report.to_dict(), allow_nan=False)


def test_bootstrap_interval_is_reproducible_and_sensible(tmp_path):
    frame, _ = _crowd(400, np.stack([_symmetric(3, 0.8)] * 5), seed=7)
    frame.to_csv(tmp_path / "a.csv", index=False)
    first = agree(tmp_path / "a.csv", bootstrap=300, seed=1)
    again = agree(tmp_path / "a.csv", bootstrap=300, seed=1)
    other = agree(tmp_path / "a.csv", bootstrap=300, seed=2)
    for name in ("fleiss", "alpha"):
        ci = getattr(first, name)["ci"]
        assert ci == getattr(again, name)["ci"] and ci != getattr(other, name)["ci"]
        assert ci["low"] < getattr(first, name)["value"] < ci["high"]
        assert 0.02 < ci["high"] - ci["low"] < 0.15  # about +-2 standard errors of 400 items
    assert first.cohen["mean"]["ci"]["low"] < first.cohen["mean"]["value"] < first.cohen["mean"]["ci"]["high"]
    assert agree(tmp_path / "a.csv", bootstrap=0).alpha["ci"] == {
        "low": None, "high": None, "why": "no bootstrap draws were asked for (bootstrap=0)"}


def test_bootstrap_spread_matches_direct_resampling():
    """The weighted (count-matrix) bootstrap equals recomputing alpha on explicitly resampled items."""
    from thresher.quality.agreement import _alpha_from, _weights, label_counts

    rng = np.random.default_rng(0)
    matrix = rng.integers(-1, 4, size=(60, 4))
    counts = label_counts(matrix, 4)
    counts = counts[counts.sum(1) >= 2]
    weights = next(_weights(len(counts), 5, seed=9))
    for level in ("nominal", "ordinal", "interval"):
        fast = _alpha_from(counts, weights, level, np.arange(4.0))
        for draw, w in zip(fast, weights):
            picked = np.repeat(np.arange(len(counts)), w.astype(int))
            slow = _alpha_from(counts[picked], np.ones((1, len(picked))), level, np.arange(4.0))[0]
            assert draw == pytest.approx(slow, abs=1e-10)


def test_bootstrap_speed_1000_items_5_annotators(tmp_path):
    frame, _ = _crowd(1000, np.stack([_symmetric(4, 0.75)] * 5), seed=11, skip=0.1)
    frame.to_csv(tmp_path / "a.csv", index=False)
    start = time.perf_counter()
    report = agree(tmp_path / "a.csv", level="ordinal", order=list("abcd"), bootstrap=1000)
    assert time.perf_counter() - start < 5.0
    assert report.alpha["ci"]["draws_defined"] == 1000


def test_majority_vote_ties_follow_posterior_then_text_order():
    counts = np.array([[2, 2, 0], [1, 1, 1], [0, 3, 1], [1, 0, 1]], dtype=float)
    text_rank = np.array([2, 0, 1])  # labels: code 0 is "z", code 1 is "a", code 2 is "m"
    posterior = np.array([[0.6, 0.4, 0.0], [0.3, 0.3, 0.4], [0.1, 0.8, 0.1], [0.5, 0.0, 0.5]])
    vote = majority_vote(counts, text_rank, posterior)
    assert vote.tie.tolist() == [True, True, False, True]
    assert vote.tied == [[0, 1], [0, 1, 2], [], [0, 2]]
    # tie 1: posterior picks code 0; tie 2: code 2; tie 4: posteriors equal -> "m" before "z"
    assert vote.label.tolist() == [0, 2, 1, 2]
    assert majority_vote(counts, text_rank).label.tolist() == [1, 1, 1, 2]


def test_dawid_skene_beats_majority_vote_on_a_simulated_crowd():
    good = _symmetric(3, 0.7)
    adversarial = np.roll(_symmetric(3, 0.9), 1, axis=1)  # answers the next label 90% of the time
    spammer = np.full((3, 3), 1 / 3)
    truth_confusions = np.stack([good, good, good, adversarial, spammer])
    frame, truth = _crowd(800, truth_confusions, seed=21)
    item = frame["item"].str[1:].astype(int).to_numpy()
    who = frame["annotator"].str[1:].astype(int).to_numpy()
    label = frame["label"].map({"a": 0, "b": 1, "c": 2}).to_numpy()
    model = dawid_skene(item, who, label, n_items=800, n_annotators=5, n_labels=3)
    counts = np.zeros((800, 3))
    np.add.at(counts, (item, label), 1)
    vote = majority_vote(counts, np.arange(3), model.posterior)
    ds_accuracy = (model.label(np.arange(3)) == truth).mean()
    mv_accuracy = (vote.label == truth).mean()
    assert model.converged and ds_accuracy > mv_accuracy + 0.05
    assert ds_accuracy > 0.9
    # the estimate sits close to the confusion the simulated answers really have (given the truth),
    # and, within the sampling noise of ~270 items per row, to the matrices they were drawn from
    empirical = np.zeros((5, 3, 3))
    np.add.at(empirical, (who, truth[item], label), 1)
    empirical /= empirical.sum(2, keepdims=True)
    assert np.abs(model.confusion - empirical).mean() < 0.02
    assert np.abs(model.confusion - empirical).max() < 0.06
    assert np.abs(model.confusion - truth_confusions).mean() < 0.035
    assert np.abs(model.confusion - truth_confusions).max() < 0.12
    assert model.posterior.sum(1) == pytest.approx(np.ones(800))
