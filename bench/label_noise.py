"""How well `thresher audit` finds injected label errors.

For each dataset, flip the labels of a random 5% of rows (binary sets: to the other label;
otherwise to a random other label), run the audit exactly as `thresher audit FILE` would, and
compare the flagged label errors with the flipped rows: precision and recall at the default
threshold, and two threshold-free views of the ranking (precision among the k lowest-scored
rows with k = the number flipped, and the ROC AUC of the label score over all rows).

    PYTHONPATH=src .venv/bin/python bench/label_noise.py [--features tfidf tfidf+minilm]
        [--seeds 0 1] [--rate 0.05] [--out bench/results/label_noise.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
DATA = ROOT.parent / "shared" / "data"

from thresher.quality.audit import audit  # noqa: E402


def load(name: str) -> pd.DataFrame:
    if name == "sst2":
        path = DATA / "eda" / "sst2" / "train_orig.txt"
        rows = [line.rstrip("\n").split("\t", 1) for line in path.open(encoding="utf-8")]
        frame = pd.DataFrame(rows, columns=["label", "text"])
    else:
        frame = pd.read_csv(DATA / "chnsenticorp" / "ChnSentiCorp_htl_all.csv")
        frame = frame.rename(columns={"review": "text"}).dropna()
    frame["text"] = frame["text"].astype(str).str.strip()
    frame = frame[frame["text"] != ""].reset_index(drop=True)
    frame["label"] = frame["label"].astype(str)
    frame.insert(0, "id", [f"r{i}" for i in range(len(frame))])
    return frame


def flip(frame: pd.DataFrame, rate: float, seed: int) -> tuple[pd.DataFrame, set[str]]:
    rng = np.random.default_rng(seed)
    labels = sorted(frame["label"].unique())
    chosen = rng.choice(len(frame), int(round(rate * len(frame))), replace=False)
    noisy = frame.copy()
    for i in chosen:
        others = [x for x in labels if x != noisy.at[i, "label"]]
        noisy.at[i, "label"] = others[rng.integers(len(others))]
    return noisy, set(noisy["id"].iloc[chosen])


def score(report, flipped: set[str]) -> dict[str, float]:
    from sklearn.metrics import roc_auc_score

    table = report.suspects
    flagged = set(table.loc[table["issues"].str.contains("label_error"), "id"])
    hits = len(flagged & flipped)
    scores = report.label_scores  # every row's, by id: the ranking without a threshold
    truth = scores.index.isin(list(flipped))
    lowest = set(scores.nsmallest(len(flipped)).index)
    return {"flagged": len(flagged), "flipped": len(flipped),
            "precision": hits / len(flagged) if flagged else 0.0,
            "recall": hits / len(flipped),
            "precision_at_k": len(lowest & flipped) / len(flipped),
            "auc": float(roc_auc_score(truth, -scores.to_numpy()))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["sst2", "chnsenticorp"])
    parser.add_argument("--features", nargs="+", default=["tfidf"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    parser.add_argument("--rate", type=float, default=0.05)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "label_noise.json")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.datasets:
            frame = load(name)
            for seed in args.seeds:
                noisy, flipped = flip(frame, args.rate, seed)
                path = Path(tmp) / f"{name}-{seed}.csv"
                noisy.to_csv(path, index=False)
                for features in args.features:
                    start = time.perf_counter()
                    report = audit(path, text="text", label="label", features=features, seed=seed)
                    row = {"dataset": name, "rows": len(frame), "seed": seed, "features": features,
                           "oof_accuracy": report.oof_accuracy,
                           "seconds": time.perf_counter() - start, **score(report, flipped)}
                    results.append(row)
                    print(json.dumps(row), flush=True)
    table = pd.DataFrame(results)
    summary = table.groupby(["dataset", "features"]).agg(
        rows=("rows", "first"), seeds=("seed", "count"), oof_accuracy=("oof_accuracy", "mean"),
        flagged=("flagged", "mean"), flipped=("flipped", "mean"), precision=("precision", "mean"),
        recall=("recall", "mean"), precision_at_k=("precision_at_k", "mean"), auc=("auc", "mean"),
        seconds=("seconds", "median")).reset_index()
    print()
    print(summary.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"rate": args.rate, "runs": results,
                                    "summary": summary.to_dict("records")}, indent=1))
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
