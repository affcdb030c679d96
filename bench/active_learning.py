"""Active learning: does choosing what to label (thresher select) beat labelling at random?

Simulated labelling on two real sets, with the labels hidden until a row is "labelled":

* SST-2 (EDA-paper copy): pool = sst2/train_orig.txt (7,447 rows), test = sst2/test.txt (1,752).
* ChnSentiCorp hotel reviews: one fixed stratified 80/20 split (seed 13) into pool and test.

For each seed, 100 pool rows are drawn at random; every strategy starts from that same set. Each
round trains the project's TF-IDF + logistic-regression baseline (BaselineClassifier, seed =
the run's seed) on the labelled rows, scores accuracy on the test set, and lets the strategy
pick the next 100 rows with :func:`thresher.quality.select.choose`, until 1,000 rows are
labelled. Strategies: random, least_confidence, margin, entropy, diverse and coreset (both on
the TF-IDF SVD embeddings that ``thresher select`` uses by default). The seed handed to
``choose`` is ``seed * 1000 + round``, the same for every strategy.

Reported per dataset and strategy (mean ± std over seeds): accuracy at 100/200/500/1,000
labels, and the area under the learning curve (trapezoid over 100..1,000 labels, divided by
900: the curve's mean accuracy), plus its paired difference from random.

    PYTHONPATH=src .venv/bin/python bench/active_learning.py              # 3 seeds, ~15 min
    PYTHONPATH=src .venv/bin/python bench/active_learning.py --seeds 5
    PYTHONPATH=src .venv/bin/python bench/active_learning.py --quick      # smoke run, ~1 min
    PYTHONPATH=src .venv/bin/python bench/active_learning.py --plot-only  # redraw from the JSON

Writes bench/results/active_learning.json and bench/results/active_learning.png (two panels,
accuracy vs labels, one line per strategy with a min-max band over seeds); --quick writes
active_learning_quick.* instead, so a smoke run never replaces the full one.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from thresher._files import write_json
from thresher.io import read_source
from thresher.quality.select import STRATEGIES, choose, tfidf_embeddings
from thresher.train.baseline import BaselineClassifier

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"
DATA = BENCH.parent.parent / "shared" / "data"
ORDER = ("random", "least_confidence", "margin", "entropy", "diverse", "coreset")
REPORTED = (100, 200, 500, 1000)
SPLIT_SEED = 13  # the one ChnSentiCorp pool/test split
FIRST_SEED = 13  # seeds are 13, 14, ...


@dataclass
class Dataset:
    name: str
    pool_texts: list[str]
    pool_labels: np.ndarray
    test_texts: list[str]
    test_labels: np.ndarray


def load_sst2(cap: int | None) -> Dataset:
    pool = read_source(DATA / "eda" / "sst2" / "train_orig.txt").table
    test = read_source(DATA / "eda" / "sst2" / "test.txt").table
    return _capped("SST-2", pool, test, cap)


def load_chnsenticorp(cap: int | None) -> Dataset:
    from sklearn.model_selection import train_test_split

    table = read_source(DATA / "chnsenticorp" / "ChnSentiCorp_htl_all.csv").table
    pool, test = train_test_split(table, test_size=0.2, stratify=table["label"],
                                  random_state=SPLIT_SEED)
    return _capped("ChnSentiCorp", pool, test, cap)


def _capped(name: str, pool: Any, test: Any, cap: int | None) -> Dataset:
    if cap is not None:  # --quick: a seeded sample, same for every strategy
        pool = pool.sample(min(cap, len(pool)), random_state=SPLIT_SEED)
        test = test.sample(min(cap // 2, len(test)), random_state=SPLIT_SEED)
    return Dataset(name, pool["text"].tolist(), pool["label"].to_numpy(dtype=object),
                   test["text"].tolist(), test["label"].to_numpy(dtype=object))


def learning_curve(data: Dataset, strategy: str, seed: int, start: int, step: int,
                   stop: int) -> list[float]:
    """Test accuracy after each round, from ``start`` labels up to ``stop``."""
    rng = np.random.default_rng(seed)
    labelled = rng.choice(len(data.pool_texts), start, replace=False)  # same for every strategy
    texts = np.asarray(data.pool_texts, dtype=object)
    accuracy = []
    for round_ in range(1 + (stop - start) // step):
        model = BaselineClassifier(seed=seed).fit(texts[labelled].tolist(),
                                                  data.pool_labels[labelled].tolist())
        predicted = np.asarray(model.labels, dtype=object)[
            model.predict_proba(data.test_texts).argmax(axis=1)]
        accuracy.append(float((predicted == data.test_labels).mean()))
        if len(labelled) >= stop:
            break
        rest = np.setdiff1d(np.arange(len(texts)), labelled)
        picks = _pick(model, texts, rest, labelled, strategy, step, seed * 1000 + round_)
        labelled = np.concatenate([labelled, rest[picks]])
    return accuracy


def _pick(model: BaselineClassifier, texts: np.ndarray, rest: np.ndarray, labelled: np.ndarray,
          strategy: str, step: int, seed: int) -> np.ndarray:
    probs = model.predict_proba(texts[rest].tolist())
    vectors = labelled_vectors = None
    if strategy in ("diverse", "coreset"):  # as `thresher select --embeddings tfidf` does
        both = tfidf_embeddings(model, texts[np.concatenate([rest, labelled])].tolist(), seed=seed)
        vectors, labelled_vectors = both[: len(rest)], both[len(rest):]
    return choose(probs, step, strategy, embeddings=vectors, labelled_embeddings=labelled_vectors,
                  seed=seed)


def summarise(curves: dict[str, list[list[float]]], labels: list[int]) -> dict[str, Any]:
    """Per strategy: accuracy at the reported sizes and AULC, mean and std over seeds."""
    span = labels[-1] - labels[0]
    area = {s: [float(np.trapezoid(c, labels) / span) for c in runs] for s, runs in curves.items()}
    out = {}
    for strategy, runs in curves.items():
        acc = np.asarray(runs)
        gain = np.asarray(area[strategy]) - np.asarray(area["random"])
        out[strategy] = {
            "accuracy": {str(n): _mean_std(acc[:, labels.index(n)]) for n in REPORTED if n in labels},
            "aulc": _mean_std(np.asarray(area[strategy])),
            "aulc_minus_random": _mean_std(gain),
            "seeds_above_random": int((gain > 0).sum()),
        }
    return out


def _mean_std(values: np.ndarray) -> dict[str, float]:
    return {"mean": float(values.mean()), "std": float(values.std(ddof=1)) if len(values) > 1 else 0.0}


def run_dataset(data: Dataset, strategies: tuple[str, ...], seeds: list[int], start: int,
                step: int, stop: int) -> dict[str, Any]:
    labels = list(range(start, stop + 1, step))
    curves: dict[str, list[list[float]]] = {s: [] for s in strategies}
    seconds: dict[str, float] = {s: 0.0 for s in strategies}
    for seed in seeds:
        for strategy in strategies:
            began = time.perf_counter()
            curves[strategy].append(learning_curve(data, strategy, seed, start, step, stop))
            seconds[strategy] += time.perf_counter() - began
            print(f"  {data.name} seed {seed} {strategy:<16} {curves[strategy][-1][-1]:.4f} "
                  f"({time.perf_counter() - began:.0f} s)", flush=True)
    return {"pool_rows": len(data.pool_texts), "test_rows": len(data.test_texts), "labels": labels,
            "curves": curves, "seconds": seconds, "summary": summarise(curves, labels)}


def print_table(results: dict[str, Any]) -> None:
    cells = "".join(f"{'@' + str(n):>15}" for n in REPORTED)
    print(f"\n{'dataset':<13}{'strategy':<17}{cells}{'AULC':>15}{'vs random':>17}{'s':>6}")
    for name, result in results.items():
        for strategy, row in result["summary"].items():
            acc = "".join(_cell(row["accuracy"].get(str(n))) for n in REPORTED)
            gain = row["aulc_minus_random"]
            seeds = len(result["curves"][strategy])
            print(f"{name:<13}{strategy:<17}{acc}{_cell(row['aulc'])}"
                  f"{gain['mean']:>+9.4f} ({row['seeds_above_random']}/{seeds})"
                  f"{result['seconds'][strategy]:>6.0f}")


def _cell(value: dict[str, float] | None) -> str:
    return f"{value['mean']:>8.4f}±{value['std']:.4f}" if value else f"{'-':>15}"


def _identical(curves: dict[str, list[list[float]]]) -> dict[str, list[str]]:
    """Each strategy whose curves differ from all before it, with the ones equal to it."""
    groups: dict[str, list[str]] = {}
    for strategy, runs in curves.items():
        first = next((g for g in groups if curves[g] == runs), None)
        if first is None:
            groups[strategy] = []
        else:
            groups[first].append(strategy)
    return groups


def plot(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(results), figsize=(6.5 * len(results), 4.8), squeeze=False)
    for ax, (name, result) in zip(axes[0], results.items()):
        labels = result["labels"]
        for strategy, same in _identical(result["curves"]).items():
            acc = np.asarray(result["curves"][strategy])
            shown = " = ".join([strategy, *same])  # 2 classes: one order for all three scores
            line, = ax.plot(labels, acc.mean(axis=0), marker="o", markersize=3, label=shown,
                            linestyle="--" if strategy == "random" else "-")
            ax.fill_between(labels, acc.min(axis=0), acc.max(axis=0), color=line.get_color(),
                            alpha=0.15, linewidth=0)
        seeds = len(next(iter(result["curves"].values())))
        ax.set(title=f"{name} (pool {result['pool_rows']:,}, test {result['test_rows']:,}, "
               f"{seeds} seeds)", xlabel="labelled rows", ylabel="test accuracy")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle("Active learning with the TF-IDF + logistic-regression baseline "
                 "(mean over seeds; band: min-max)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=3, help="Seeds (initial sets) per strategy.")
    parser.add_argument("--strategies", nargs="+", default=list(ORDER), choices=STRATEGIES)
    parser.add_argument("--quick", action="store_true",
                        help="Smoke run: 1 seed, pool 1,500, test 750, 100 -> 300 labels.")
    parser.add_argument("--plot-only", action="store_true",
                        help="Redraw the figure from the JSON of an earlier run.")
    args = parser.parse_args()
    stem = "active_learning_quick" if args.quick else "active_learning"
    if args.plot_only:
        saved = json.loads((RESULTS / f"{stem}.json").read_text(encoding="utf-8"))
        plot(saved["results"], RESULTS / f"{stem}.png")
        print(f"written: {RESULTS / (stem + '.png')}")
        return
    if "random" not in args.strategies:
        parser.error("--strategies must include random: every strategy is compared with it")
    seeds = list(range(FIRST_SEED, FIRST_SEED + (1 if args.quick else args.seeds)))
    cap, stop = (1500, 300) if args.quick else (None, 1000)
    strategies = tuple(s for s in ORDER if s in args.strategies)
    began = time.perf_counter()
    results = {}
    for loader in (load_sst2, load_chnsenticorp):
        data = loader(cap)
        results[data.name] = run_dataset(data, strategies, seeds, 100, 100, stop)
    seconds = time.perf_counter() - began
    print_table(results)
    RESULTS.mkdir(parents=True, exist_ok=True)
    plot(results, RESULTS / f"{stem}.png")
    write_json(RESULTS / f"{stem}.json", {
        "settings": {"seeds": seeds, "strategies": strategies, "start": 100, "step": 100,
                     "stop": stop, "pool_cap": cap, "split_seed": SPLIT_SEED,
                     "model": "BaselineClassifier (TF-IDF + logistic regression, C=4)",
                     "embeddings": "tfidf (TruncatedSVD 100 of the model's TF-IDF features)"},
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                    "platform": platform.platform()},
        "seconds": seconds, "results": results})
    print(f"\n{seconds:.0f} s; written: {RESULTS / (stem + '.json')} and {RESULTS / (stem + '.png')}")


if __name__ == "__main__":
    main()
