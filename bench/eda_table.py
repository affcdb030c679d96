"""The EDA paper's Table 2 on thresher: accuracy with and without EDA, by training-set size.

Wei & Zou (2019) average five sentence-classification sets (SST-2, CR, SUBJ, TREC, PC) and
report, per training size (500, 2,000, 5,000, full), the accuracy without and with EDA. This
script asks whether the same gain shows on thresher's two model kinds: the TF-IDF + logistic
regression baseline and MiniLM fine-tuned on CPU. Per set, size and seed: a seeded random
subsample of ``train_orig.txt``, EDA variants of those rows only (the paper's alpha and n_aug
for the size: ``eda_defaults``), each model trained on the originals and on originals + their
variants, both scored on the set's fixed ``test.txt``. Both arms train the same epochs, as in
the paper, so MiniLM's EDA arm also takes more steps; a third MiniLM arm trains on the
originals for as many steps, which separates what the variants add from the extra updates.

    PYTHONPATH=src .venv/bin/python bench/eda_table.py                     # everything
    PYTHONPATH=src .venv/bin/python bench/eda_table.py --models baseline   # minutes, not hours
    PYTHONPATH=src .venv/bin/python bench/eda_table.py --sets sst2 --sizes 500 --seeds 0 \\
        --minilm-sizes 500 --minilm-seeds 0 --epochs 1                     # smoke run

Each finished (set, size, model, seed) prints one JSON line and rewrites the JSON file, so a
stopped run keeps what it has; ``--resume`` reuses those rows when the models train the same way.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")  # MiniLM comes from a PyPI package, not the hub
DATA = ROOT.parent / "shared" / "data" / "eda"

from thresher._files import write_json  # noqa: E402
from thresher.augment.eda import Eda, eda_defaults  # noqa: E402
from thresher.train.baseline import BaselineClassifier  # noqa: E402
from thresher.train.tasks import Classification  # noqa: E402

SETS = ("sst2", "cr", "subj", "trec", "pc")
SIZES = ("500", "2000", "5000", "full")
# Table 2 of the paper: the average of its RNN and CNN over the five sets, accuracy in %
PAPER = {"500": (76.9, 79.9), "2000": (84.6, 85.4), "5000": (86.9, 87.8), "full": (87.8, 88.6)}
VAL_ROWS = 64  # training rows scored after each epoch: a diagnostic, never a model selector


def read(path: Path) -> pd.DataFrame:
    """A "label<TAB>text" file; lines without a tab or with an empty text are left out."""
    rows = [line.rstrip("\n").split("\t", 1) for line in path.open(encoding="utf-8")]
    frame = pd.DataFrame([r for r in rows if len(r) == 2], columns=["label", "text"])
    return frame[frame["text"].str.strip() != ""].reset_index(drop=True)


def training_rows(name: str, size: str, seed: int) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """(originals, their EDA variants, EDA facts) for one set, size and seed.

    A size above the set's training rows (CR has 4,082) takes all of them, as "full" does.
    """
    pool = read(DATA / name / "train_orig.txt")
    wanted = len(pool) if size == "full" else min(int(size), len(pool))
    train = pool.sample(n=wanted, random_state=seed).reset_index(drop=True)
    alpha, n_aug = eda_defaults(len(train))
    started = time.perf_counter()
    made = Eda(alpha_sr=alpha, alpha_ri=alpha, alpha_rs=alpha, p_rd=alpha).augment(
        train["text"].tolist(), n_aug, seed=seed)
    variants = pd.DataFrame([{"label": y, "text": t} for y, texts in zip(train["label"], made.texts)
                             for t in texts], columns=["label", "text"])
    facts = {"train_rows": len(train), "alpha": alpha, "n_aug": n_aug,
             "variants": len(variants), "eda_seconds": round(time.perf_counter() - started, 2)}
    return train, variants, facts


def baseline_arm(train: pd.DataFrame, test: pd.DataFrame, labels: list[str], seed: int,
                 args: argparse.Namespace) -> dict[str, Any]:
    """Test accuracy of thresher's TF-IDF + logistic-regression baseline trained on ``train``."""
    started = time.perf_counter()
    model = BaselineClassifier(seed=seed).fit(train["text"].tolist(), train["label"].tolist())
    predicted = np.array(model.labels)[model.predict_proba(test["text"].tolist()).argmax(1)]
    return {"accuracy": float((predicted == test["label"].to_numpy()).mean()),
            "seconds": round(time.perf_counter() - started, 2)}


class LastEpoch(Classification):
    """Classification whose best epoch is always the last one.

    thresher's loop keeps the epoch with the highest ``select`` score; here that score is the
    epoch's number, so neither the test file nor held-out rows choose the model (the paper
    trains a fixed number of epochs). The usual scores are still recorded, on VAL_ROWS rows.
    """

    select = "val_epoch"

    def __init__(self, labels: list[str]) -> None:
        super().__init__(labels)
        self.scored = 0

    def val_scores(self, logits: Any, data: Any) -> dict[str, float]:
        self.scored += 1
        return {**super().val_scores(logits, data), "val_epoch": float(self.scored)}


def minilm_arm(train: pd.DataFrame, test: pd.DataFrame, labels: list[str], seed: int,
               args: argparse.Namespace, steps: int | None = None) -> dict[str, Any]:
    """Test accuracy of MiniLM fine-tuned in full on ``train`` for ``args.epochs`` epochs
    (at most ``args.max_steps`` optimiser steps), the same head initialisation per seed;
    ``steps`` instead trains exactly that many steps, cycling through ``train``."""
    from thresher.train.backbones import load_backbone, resolve_spec
    from thresher.train.config import TrainConfig
    from thresher.train.device import resolve_precision, seed_all
    from thresher.train.finetune import prepare_model
    from thresher.train.loop import fit, predict_logits

    started = time.perf_counter()
    per_epoch = math.ceil(len(train) / args.batch_size)
    capped = steps is None and per_epoch * args.epochs > args.max_steps
    config = TrainConfig(
        model="minilm", epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.lr,
        max_length=args.max_length, seed=seed, patience=0, device=args.device,
        max_steps=steps or (args.max_steps if capped else None), checkpoint_every=0).validate()
    seed_all(seed)  # the new head's weights come from torch's RNG: equal in both arms
    backbone = load_backbone(resolve_spec("minilm"), num_labels=len(labels))
    model, tokenizer = prepare_model(backbone, config)[0], backbone.tokenizer
    task = LastEpoch(labels)
    precision = resolve_precision(args.precision, args.device)
    result = fit(model, task.encode(tokenizer, train, args.max_length),
                 task.encode(tokenizer, train.head(VAL_ROWS), args.max_length),
                 config, args.device, precision, task=task)
    trained = time.perf_counter()
    logits = predict_logits(model, task.encode(tokenizer, test, args.max_length, False), 128,
                            args.device, precision)
    predicted = np.array(labels)[logits.argmax(1)]
    return {"accuracy": float((predicted == test["label"].to_numpy()).mean()),
            "steps": result.steps, "epochs_trained": round(result.steps / per_epoch, 3),
            "step_cap_hit": capped, "precision": precision,
            "train_loss": round(result.history[-1]["train_loss"], 4),
            "train_seconds": round(trained - started, 2),
            "seconds": round(time.perf_counter() - started, 2)}


ARMS = {"baseline": baseline_arm, "minilm": minilm_arm}


def one_row(name: str, size: str, model: str, seed: int, args: argparse.Namespace) -> dict:
    """Both arms (originals; originals + variants) of one model on one subsample."""
    train, variants, facts = training_rows(name, size, seed)
    test = read(DATA / name / "test.txt")
    labels = sorted(set(read(DATA / name / "train_orig.txt")["label"]) | set(test["label"]))
    plain = ARMS[model](train, test, labels, seed, args)
    augmented = ARMS[model](pd.concat([train, variants], ignore_index=True), test, labels,
                            seed, args)
    row = {"set": name, "size": size, "model": model, "seed": seed, **facts,
           "test_rows": len(test), "acc_no_eda": plain.pop("accuracy"),
           "acc_eda": augmented.pop("accuracy")}
    row["gain"] = row["acc_eda"] - row["acc_no_eda"]
    arms = {"no_eda": plain, "eda": augmented}
    if model == "minilm" and args.minilm_control:
        # same epochs gives the EDA arm (n_aug + 1) times the optimiser steps; this arm takes
        # exactly as many steps on the originals alone, so the gain over it is EDA's content
        arms["no_eda_same_steps"] = minilm_arm(train, test, labels, seed, args,
                                               steps=augmented["steps"])
        row["acc_no_eda_same_steps"] = arms["no_eda_same_steps"].pop("accuracy")
        row["gain_same_steps"] = row["acc_eda"] - row["acc_no_eda_same_steps"]
    return {**row, **arms}


def plan(args: argparse.Namespace) -> list[tuple[str, str, str, int]]:
    """(set, size, model, seed) in run order: every baseline row first (minutes), then MiniLM
    (hours on CPU), so a stopped run still has the complete baseline table."""
    keys = []
    for model in args.models:
        sizes = args.sizes if model == "baseline" else args.minilm_sizes
        seeds = args.seeds if model == "baseline" else args.minilm_seeds
        keys += [(name, size, model, seed) for size in sizes for name in args.sets
                 for seed in seeds]
    return keys


def summarise(runs: list[dict], args: argparse.Namespace) -> tuple[list[dict], list[dict]]:
    """(table, per_set): seeds averaged within a set first, then sets averaged, per size and
    model; a cell over fewer sets than asked for says how many it has."""
    if not runs:
        return [], []
    frame = pd.DataFrame(runs)
    scores = [c for c in ("acc_no_eda", "acc_eda", "acc_no_eda_same_steps") if c in frame]
    per_set = (frame.groupby(["model", "size", "set"], sort=False)
               .agg(train_rows=("train_rows", "first"), seeds=("seed", "count"),
                    **{c: (c, "mean") for c in scores})
               .reset_index())
    per_set["gain"] = per_set["acc_eda"] - per_set["acc_no_eda"]
    if "acc_no_eda_same_steps" in per_set:
        per_set["gain_same_steps"] = per_set["acc_eda"] - per_set["acc_no_eda_same_steps"]
    table = []
    for (model, size), group in per_set.groupby(["model", "size"], sort=False):
        paper = PAPER.get(size)
        row = {"model": model, "size": size, "sets": len(group), "sets_asked": len(args.sets),
               "acc_no_eda": group["acc_no_eda"].mean(), "acc_eda": group["acc_eda"].mean(),
               "gain": group["gain"].mean(),
               "paper_no_eda": paper[0] / 100 if paper else None,
               "paper_eda": paper[1] / 100 if paper else None}
        if not paper:
            row["note"] = "the paper reports 500, 2000, 5000 and full only"
        if "acc_no_eda_same_steps" in group and group["acc_no_eda_same_steps"].notna().all():
            row["acc_no_eda_same_steps"] = group["acc_no_eda_same_steps"].mean()
            row["gain_same_steps"] = row["acc_eda"] - row["acc_no_eda_same_steps"]
        table.append(row)
    per_set = per_set.astype(object).where(per_set.notna(), None)  # NaN is not JSON
    return table, per_set.to_dict("records")


def print_table(table: list[dict], args: argparse.Namespace) -> None:
    """Rows: size; columns: each model's no EDA / EDA / gain, then the paper's (in %)."""
    cells = {(row["size"], row["model"]): row for row in table}
    models = [m for m in args.models if any(key[1] == m for key in cells)]
    head = "".join(f"{m + ' (no EDA / EDA / gain)':>34}" for m in models + ["paper"])
    print(f"\n{'size':>6}{head}")
    for size in dict.fromkeys(row["size"] for row in table):
        line = f"{size:>6}"
        for model in models:
            row = cells.get((size, model))
            line += _cell(row["acc_no_eda"], row["acc_eda"], row) if row else f"{'-':>34}"
        paper = PAPER.get(size)
        line += _cell(paper[0] / 100, paper[1] / 100, None) if paper else f"{'-':>34}"
        print(line)
    print("accuracy in %, mean over sets of the mean over seeds; * = fewer sets than asked")
    control = [row for row in table if "acc_no_eda_same_steps" in row]
    if control:
        title = "minilm, same steps (no EDA / EDA / gain)"
        print(f"\n{'size':>6}{title:>54}")
        for row in control:
            print(f"{row['size']:>6}{'':>20}"
                  + _cell(row["acc_no_eda_same_steps"], row["acc_eda"], row))


def _cell(no_eda: float, eda: float, row: dict | None) -> str:
    short = "*" if row is not None and row["sets"] < row["sets_asked"] else " "
    return f"{100 * no_eda:>19.1f} / {100 * eda:4.1f} / {100 * (eda - no_eda):+4.1f}{short}"


def settings(args: argparse.Namespace) -> dict[str, Any]:
    """What was asked for and how each model trains (--resume compares the latter)."""
    return {"sets": args.sets, "models": args.models, "sizes": args.sizes, "seeds": args.seeds,
            "minilm_sizes": args.minilm_sizes, "minilm_seeds": args.minilm_seeds,
            "minilm": {"backbone": "minilm (all-MiniLM-L6-v2, full fine-tuning)",
                       "epochs": args.epochs, "max_steps": args.max_steps,
                       "batch_size": args.batch_size, "learning_rate": args.lr,
                       "max_length": args.max_length, "precision": args.precision,
                       "device": args.device, "warmup": 0.1, "weight_decay": 0.01,
                       "model_kept": "the last epoch (no selection)",
                       "same_steps_control": args.minilm_control},
            "baseline": "BaselineClassifier(C=4, seed=seed): tf-idf word 1-2-grams + saga LR",
            "eda": "Eda(alpha_sr=alpha_ri=alpha_rs=p_rd=alpha); "
                   "(alpha, n_aug) = eda_defaults(rows)"}


def save(out: Path, args: argparse.Namespace, runs: list[dict], done: bool) -> list[dict]:
    table, per_set = summarise(runs, args)
    write_json(out, {"settings": settings(args), "complete": done, "runs": runs,
                     "table": table, "per_set": per_set,
                     "units": "accuracy as a fraction of the set's test file; gain = EDA - no EDA"})
    return table


def previous_rows(out: Path, args: argparse.Namespace) -> dict[tuple, dict]:
    """Rows of an earlier run trained the same way, by (set, size, model, seed); the lists of
    sets, sizes and seeds may differ (a resumed run may add some)."""
    if not (args.resume and out.exists()):
        return {}
    old = json.loads(out.read_text(encoding="utf-8"))
    trained = {r["model"] for r in old["runs"]}
    how = ["eda", *(model for model in ARMS if model in trained)]
    now = settings(args)
    if any(old.get("settings", {}).get(key) != now[key] for key in how):
        sys.exit(f"error: {out} holds rows trained with other settings (model, EDA or MiniLM "
                 "options); drop --resume, or pass another --out")
    return {(r["set"], r["size"], r["model"], r["seed"]): r for r in old["runs"]}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    size = _size_type
    parser.add_argument("--models", nargs="+", choices=list(ARMS), default=list(ARMS))
    parser.add_argument("--sets", nargs="+", choices=SETS, default=list(SETS))
    parser.add_argument("--sizes", nargs="+", type=size, default=list(SIZES),
                        help="training rows per set (or 'full') for the baseline")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2],
                        help="baseline seeds: subsample, EDA and solver")
    parser.add_argument("--minilm-sizes", nargs="+", type=size, default=["500", "2000"])
    parser.add_argument("--minilm-seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--epochs", type=int, default=2, help="MiniLM epochs, both arms")
    parser.add_argument("--max-steps", type=int, default=2000,
                        help="MiniLM optimiser-step cap per training (a CPU budget)")
    parser.add_argument("--minilm-control", action=argparse.BooleanOptionalAction, default=True,
                        help="also train MiniLM on the originals for as many steps as the EDA "
                        "arm took (doubles MiniLM time)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--max-length", type=int, default=64)
    parser.add_argument("--precision", choices=["auto", "bf16", "fp32"], default="auto")
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    parser.add_argument("--resume", action="store_true",
                        help="keep the finished rows of --out when its settings match")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "eda_table.json")
    args = parser.parse_args(argv)
    if not DATA.is_dir():
        parser.error(f"the EDA data folder {DATA} is missing (see shared/data/README.md)")
    return args


def _size_type(value: str) -> str:
    if value == "full" or (value.isdigit() and int(value) > 0):
        return str(int(value)) if value.isdigit() else value
    raise argparse.ArgumentTypeError(
        f"a size is a whole number of rows > 0 or 'full', got {value!r}")


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if "minilm" in args.models:
        from thresher.train.device import resolve_device

        args.device = resolve_device(args.device)
    previous, runs = previous_rows(args.out, args), []
    started = time.perf_counter()
    for key in plan(args):
        row = previous.get(key) or one_row(*key, args)
        runs.append(row)
        print(json.dumps(row), flush=True)
        save(args.out, args, runs, done=False)
    table = save(args.out, args, runs, done=True)
    print_table(table, args)
    print(f"{len(runs)} rows in {time.perf_counter() - started:.0f} s; JSON: {args.out}")


if __name__ == "__main__":
    main()
