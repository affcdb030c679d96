"""SFT tokens per second: thresher's loop against a plain Hugging Face Trainer, same LoRA.

Four arms fine-tune the same causal LM (SmolLM2-135M-Instruct, offline, by default) with the
same LoRA adapters (r 8, alpha 16, every linear layer but the output head, the same seeded
initial weights), learning rate, warm-up, weight decay, batch size, max_length and number of
optimiser steps, on the same encoded support conversations (thresher's chat-template encoding
with the assistant-only label mask), one after another in one process:

  trainer          Trainer + DataCollatorForSeq2Seq (random batches padded to their longest row)
  trainer_grouped  the same with train_sampling_strategy="group_by_length"
  thresher         thresher.train.loop.fit, length-grouped batches padded to their longest row
  thresher_packed  the same loop on packs of several conversations (pack=True); a pack is one
                   batch row, so ``--packed-batch-size`` (default: the batch size) sets how many

Both loops get the same warm-up share and weight decay (thresher's defaults); the Trainer keeps
its other defaults (linear decay, fused AdamW, gradient clipping at 1.0, as thresher does).
The clock covers the optimiser steps only (model load, encoding and the loop's validation pass
are outside it), as wall-clock and as this process's CPU seconds: on a machine shared with
other jobs, ``--threads 1`` and the CPU seconds keep the comparison honest. Each arm's batches
are counted as they are built (a wrapped collator), giving real (non-pad) tokens, trainable
(scored) tokens and the share of padding. The two loops also differ in their loss: thresher
runs the LM head on the scored positions only, the Trainer calls the model with labels, which
builds the full (batch, length, vocabulary) logits; that is part of what is measured. After
training, every arm's model is scored the same way on the same 64 training conversations
(token-mean loss), so that speed is not bought with a broken loss.

    PYTHONPATH=src HF_HUB_OFFLINE=1 .venv/bin/python bench/sft_tokens.py --steps 30 --repeats 3 \
        --threads 1 --packed-batch-size 2
    PYTHONPATH=src HF_HUB_OFFLINE=1 .venv/bin/python bench/sft_tokens.py --device cuda
"""

from __future__ import annotations

import argparse
import copy
import gc
import os
import platform
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from thresher._files import write_json
from thresher.demo_chats import SYSTEM_PROMPTS, make_support_chats
from thresher.io import read_source
from thresher.io.chat_reader import ChatOptions
from thresher.train import batches
from thresher.train.config import TrainConfig
from thresher.train.device import resolve_device, resolve_precision, seed_all
from thresher.train.loop import fit
from thresher.train.sft import (CausalLM, PackedEncoded, add_causal_lora, encode_rows,
                                load_causal_lm, to_encoded)
from thresher.train.sft_data import pack, padded_data, padding_waste, token_stats

__all__ = ["ARMS", "Counts", "main"]

RESULTS = Path(__file__).resolve().parent / "results"
ARMS = ("trainer", "trainer_grouped", "thresher", "thresher_packed")
ROLES = {"customer": "user", "agent": "assistant", "bot": "assistant"}
WARMUP = 0.1  # share of the steps spent warming up (thresher's default), given to both loops
WEIGHT_DECAY = 0.01  # thresher's default, given to both loops
PROBE_ROWS = 64  # training conversations every arm's final loss is measured on
VAL_ROWS = 8  # the loop's own validation set: it must have one; its time is not counted


# -- counting what each arm's batches hold ----------------------------------------------------


@dataclass
class Counts:
    """What each batch an arm built held: (real non-pad tokens, positions, scored tokens).

    A batch can be built before it is needed (accelerate's data loader reads one ahead), so
    an arm keeps only the first ``steps`` batches: one per optimiser step, in order.
    """

    per_batch: list[tuple[int, int, int]] = field(default_factory=list)

    def add(self, batch: dict[str, Any], real: int) -> None:
        scored = int((batch["labels"][:, 1:] != -100).sum())  # next-token labels scored
        self.per_batch.append((real, int(batch["input_ids"].numel()), scored))

    def first(self, n: int) -> "Counts":
        return Counts(self.per_batch[:n])

    @property
    def batches(self) -> int:
        return len(self.per_batch)

    @property
    def real(self) -> int:
        return sum(b[0] for b in self.per_batch)

    @property
    def processed(self) -> int:
        return sum(b[1] for b in self.per_batch)

    @property
    def trainable(self) -> int:
        return sum(b[2] for b in self.per_batch)

    @property
    def padding_share(self) -> float:
        return 1.0 - self.real / self.processed if self.processed else 0.0


@dataclass
class _CountedPadded(batches.Encoded):
    """The loop's padded rows; ``batches.collate`` calls ``collate`` for data that has one."""

    counts: Counts = field(default_factory=Counts)

    def collate(self, rows: np.ndarray) -> dict[str, Any]:
        plain = batches.Encoded(self.input_ids, self.lengths, self.labels, self.pad_id)
        batch = batches.collate(plain, rows)
        self.counts.add(batch, int(self.lengths[rows].sum()))
        return batch


@dataclass
class _CountedPacked(PackedEncoded):
    counts: Counts = field(default_factory=Counts)

    def collate(self, rows: np.ndarray) -> dict[str, Any]:
        batch = super().collate(rows)
        self.counts.add(batch, int(self.lengths[rows].sum()))  # lengths: tokens in each pack
        return batch


class _CountingCollator:
    """Wraps the Trainer's collator; the attention mask says which positions are real."""

    def __init__(self, inner: Callable[[list[dict]], dict[str, Any]], counts: Counts) -> None:
        self.inner, self.counts = inner, counts

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, Any]:
        batch = self.inner(features)
        self.counts.add(batch, int(batch["attention_mask"].sum()))
        return batch


# -- data and models --------------------------------------------------------------------------


def support_conversations(args: argparse.Namespace, work: Path) -> tuple[pd.DataFrame, int]:
    """The sft table of a synthetic support chat log, read through thresher's chatlog reader;
    also the number of conversations the reader rejected."""
    path = work / "chats.csv"
    make_support_chats(path, conversations=args.conversations, seed=args.seed,
                       language=args.language)
    system = SYSTEM_PROMPTS.get(args.language, SYSTEM_PROMPTS["en"])
    result = read_source(path, task="sft", format="chatlog",
                         chat=ChatOptions(roles=ROLES, system=system), cache_dir=work / "cache")
    return result.table, len(result.rejects)


def fresh_lora(base: Any, args: argparse.Namespace) -> Any:
    """A copy of the base model with new LoRA adapters, seeded: every arm starts equal."""
    seed_all(args.seed)
    return add_causal_lora(copy.deepcopy(base), args.lora_r, args.lora_alpha)


def _sync(device: str) -> None:
    if device == "cuda":
        import torch

        torch.cuda.synchronize()


def warm_up(base: Any, items: list[Any], pad_id: int, args: argparse.Namespace) -> None:
    """One untimed forward and backward of each loss, so no arm pays first-call costs."""
    from thresher.train.device import autocast

    model = fresh_lora(base, args).to(args.device)
    batch = batches.collate(padded_data(items[: args.batch_size], pad_id),
                            np.arange(min(args.batch_size, len(items))))
    batch = {k: v.to(args.device) for k, v in batch.items()}
    with autocast(args.device, args.precision):
        CausalLM().forward_loss(model, batch).backward()
        model(**batch).loss.backward()
    _sync(args.device)
    del model
    gc.collect()


def probe_loss(model: Any, probe: batches.Encoded, args: argparse.Namespace) -> float:
    """Token-mean loss on the probe conversations, the same way for every arm."""
    return CausalLM().validate(model, probe, 16, args.device, args.precision)["val_loss"]


# -- the arms ----------------------------------------------------------------------------------


@dataclass
class ArmRun:
    seconds: float  # wall-clock time of the optimiser steps
    cpu_seconds: float  # this process's CPU time over the same span (all its threads)
    counts: Counts
    steps: int
    loop_loss: float  # as the loop itself reports it (not comparable between the loops)
    final_loss: float  # probe_loss after training (comparable)

    def to_dict(self) -> dict[str, Any]:
        c = self.counts
        return {"seconds": self.seconds, "cpu_seconds": self.cpu_seconds, "steps": self.steps,
                "batches": c.batches, "real_tokens": c.real, "processed_positions": c.processed,
                "trainable_tokens": c.trainable, "padding_share": c.padding_share,
                "tokens_per_s": c.real / self.seconds,
                "trainable_tokens_per_s": c.trainable / self.seconds,
                "positions_per_s": c.processed / self.seconds,
                "tokens_per_cpu_s": c.real / self.cpu_seconds,
                "real_tokens_per_step": c.real / max(self.steps, 1),
                "loop_loss": self.loop_loss, "final_loss": self.final_loss}


@dataclass
class Stopwatch:
    """Wall-clock and process CPU seconds; on a GPU the device is synced before each reading."""

    device: str
    wall: float = 0.0
    cpu: float = 0.0
    _since: tuple[float, float] = (0.0, 0.0)

    def start(self) -> None:
        _sync(self.device)
        self._since = (time.perf_counter(), time.process_time())

    def stop(self) -> None:
        _sync(self.device)
        self.wall += time.perf_counter() - self._since[0]
        self.cpu += time.process_time() - self._since[1]


def trainer_arm(base: Any, tokenizer: Any, items: list[Any], probe: batches.Encoded,
                args: argparse.Namespace, grouped: bool) -> ArmRun:
    """A plain Trainer run: DataCollatorForSeq2Seq padding, default settings otherwise."""
    from datasets import Dataset
    from transformers import (DataCollatorForSeq2Seq, PrinterCallback, Trainer,
                              TrainingArguments)

    from thresher.train.quiet import quiet_transformers

    model, counts, watch = fresh_lora(base, args), Counts(), Stopwatch(args.device)
    data = Dataset.from_dict({"input_ids": [list(e.input_ids) for e in items],
                              "attention_mask": [[1] * len(e.input_ids) for e in items],
                              "labels": [list(e.labels) for e in items]})
    collator = DataCollatorForSeq2Seq(tokenizer, padding=True, label_pad_token_id=-100)
    with tempfile.TemporaryDirectory(prefix="sft-tokens-") as out, quiet_transformers():
        settings = TrainingArguments(
            output_dir=out, per_device_train_batch_size=args.batch_size, max_steps=args.steps,
            learning_rate=args.lr, warmup_steps=WARMUP, weight_decay=WEIGHT_DECAY,
            seed=args.seed, label_names=["labels"], save_strategy="no", report_to="none",
            disable_tqdm=True, use_cpu=args.device == "cpu", bf16=args.precision == "bf16",
            train_sampling_strategy="group_by_length" if grouped else "random")
        run = Trainer(model=model, args=settings, train_dataset=data, processing_class=tokenizer,
                      data_collator=_CountingCollator(collator, counts),
                      callbacks=[_clock(watch)])
        run.remove_callback(PrinterCallback)  # it prints the final metrics dict
        output = run.train()
    return ArmRun(watch.wall, watch.cpu, counts.first(output.global_step), output.global_step,
                  float(output.training_loss), probe_loss(run.model, probe, args))


def _clock(watch: Stopwatch) -> Any:
    """A callback that starts ``watch`` when training starts and stops it after the last
    step (the data loader is already built; one sync, at the end)."""
    from transformers import TrainerCallback

    class Clock(TrainerCallback):
        def on_train_begin(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            watch.start()

        def on_step_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            if state.global_step >= state.max_steps:
                watch.stop()

    return Clock()


def thresher_arm(base: Any, tokenizer: Any, items: list[Any], probe: batches.Encoded,
                 args: argparse.Namespace, packed: bool) -> ArmRun:
    """thresher's loop, timed around ``fit`` less the loop's validation passes."""
    model = fresh_lora(base, args).to(args.device)  # as the Trainer does before its clock
    pad_id = int(tokenizer.pad_token_id)
    encoded = to_encoded(items, pad_id, args.max_length, args.seed, pack=packed)
    kind = _CountedPacked if packed else _CountedPadded
    train = kind(**{f.name: getattr(encoded, f.name) for f in fields(encoded)})
    config = TrainConfig(
        model=args.model, batch_size=args.packed_batch_size if packed else args.batch_size,
        learning_rate=args.lr, max_length=args.max_length, seed=args.seed, warmup=WARMUP,
        weight_decay=WEIGHT_DECAY, patience=0, lora_r=args.lora_r, lora_alpha=args.lora_alpha,
        precision=args.precision, device=args.device, max_steps=args.steps, checkpoint_every=0,
        packing=packed).validate()
    watch, task = Stopwatch(args.device), _LastEpoch(args.device)
    watch.start()
    result = fit(model, train, padded_data(items[:VAL_ROWS], pad_id), config, args.device,
                 args.precision, task=task)
    watch.stop()
    return ArmRun(watch.wall - task.watch.wall, watch.cpu - task.watch.cpu,
                  train.counts.first(result.steps), result.steps,
                  float(result.history[-1]["train_loss"]), probe_loss(model, probe, args))


class _LastEpoch(CausalLM):
    """Keeps the last epoch's weights (the loop would restore its best epoch), so every arm is
    scored after exactly its steps; times its validation passes, which the clock leaves out."""

    select = "val_epoch"

    def __init__(self, device: str) -> None:
        super().__init__()
        self.scored = 0
        self.watch = Stopwatch(device)

    def validate(self, model: Any, data: batches.Encoded, batch_size: int, device: str,
                 precision: str) -> dict[str, float]:
        self.watch.start()
        self.scored += 1
        scores = super().validate(model, data, batch_size, device, precision)
        self.watch.stop()
        return {**scores, "val_epoch": float(self.scored)}


def run_arm(name: str, base: Any, tokenizer: Any, items: list[Any], probe: batches.Encoded,
            args: argparse.Namespace) -> ArmRun:
    if name.startswith("trainer"):
        run = trainer_arm(base, tokenizer, items, probe, args, grouped=name == "trainer_grouped")
    else:
        run = thresher_arm(base, tokenizer, items, probe, args, packed=name == "thresher_packed")
    gc.collect()
    return run


# -- summary ---------------------------------------------------------------------------------


def summarise(runs: dict[str, list[ArmRun]]) -> dict[str, dict[str, Any]]:
    """Per arm: the median of each number over the repeats, and every run."""
    out: dict[str, dict[str, Any]] = {}
    for name, arm_runs in runs.items():
        rows = [r.to_dict() for r in arm_runs]
        out[name] = {key: statistics.median(row[key] for row in rows) for key in rows[0]}
        out[name]["runs"] = rows
    return out


def ratios(arms: dict[str, dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Each thresher arm over each Trainer arm: real tokens per wall second and per CPU
    second (medians)."""
    out: dict[str, dict[str, float]] = {}
    for ours in ("thresher", "thresher_packed"):
        for theirs in ("trainer", "trainer_grouped"):
            if ours in arms and theirs in arms:
                out[f"{ours}/{theirs}"] = {
                    key: arms[ours][key] / arms[theirs][key]
                    for key in ("tokens_per_s", "trainable_tokens_per_s", "tokens_per_cpu_s")}
    return out


def print_table(arms: dict[str, dict[str, Any]], initial: float) -> None:
    base = arms.get("trainer", {}).get("tokens_per_s")
    print(f"{'arm':17}{'seconds':>9}{'cpu s':>8}{'tokens/s':>10}{'trained/s':>11}"
          f"{'padding':>9}{'tok/step':>10}{'final loss':>12}{'vs trainer':>12}")
    for name, row in arms.items():
        ratio = f"{row['tokens_per_s'] / base:.2f}x" if base else "-"
        print(f"{name:17}{row['seconds']:>9.1f}{row['cpu_seconds']:>8.1f}"
              f"{row['tokens_per_s']:>10.1f}{row['trainable_tokens_per_s']:>11.1f}"
              f"{row['padding_share']:>9.1%}{row['real_tokens_per_step']:>10.0f}"
              f"{row['final_loss']:>12.4f}{ratio:>12}")
    print(f"loss on the probe conversations before training: {initial:.4f}")


def versions() -> dict[str, str]:
    import accelerate
    import peft
    import torch
    import transformers

    return {"python": platform.python_version(), "torch": torch.__version__,
            "transformers": transformers.__version__, "peft": peft.__version__,
            "accelerate": accelerate.__version__}


def device_info(device: str) -> dict[str, Any]:
    import torch

    if device == "cuda":
        return {"device": "cuda", "name": torch.cuda.get_device_name(),
                "cuda": torch.version.cuda}
    name = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        models = [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines()
                  if line.startswith("model name")]
        name = models[0] if models else name
    return {"device": "cpu", "name": name, "torch_threads": torch.get_num_threads(),
            "cpus": os.cpu_count(), "load_average_at_end": list(os.getloadavg())}


# -- main --------------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="smollm2", help="causal LM (offline name, folder, "
                        ".gguf file or hub id; default smollm2)")
    parser.add_argument("--conversations", type=int, default=400,
                        help="support conversations written by make_support_chats (default 400)")
    parser.add_argument("--language", default="en", choices=["en", "zh", "mixed"])
    parser.add_argument("--steps", type=int, default=30, help="optimiser steps per arm")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--packed-batch-size", type=int, default=None,
                        help="packs per step in thresher_packed (default: --batch-size)")
    parser.add_argument("--max-length", type=int, default=512)
    parser.add_argument("--lr", type=float, default=2e-4)
    parser.add_argument("--lora-r", type=int, default=8)
    parser.add_argument("--lora-alpha", type=int, default=16)
    parser.add_argument("--precision", choices=["auto", "bf16", "fp32"], default=None,
                        help="default: fp32 on CPU, auto (bf16 where supported) on CUDA")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--threads", type=int, default=None,
                        help="torch CPU threads (default: torch's choice); 1 keeps timings "
                        "stable on a machine shared with other jobs")
    parser.add_argument("--repeats", type=int, default=1,
                        help="runs per arm, arms taking turns; the table shows medians")
    parser.add_argument("--arms", nargs="+", choices=ARMS, default=list(ARMS))
    parser.add_argument("--out", default="sft_tokens.json", help="file name under bench/results")
    args = parser.parse_args()
    args.device = resolve_device(args.device)
    args.packed_batch_size = args.packed_batch_size or args.batch_size
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    chosen = args.precision or ("fp32" if args.device == "cpu" else "auto")
    args.precision = resolve_precision(chosen, args.device)
    return args


def encode_all(args: argparse.Namespace, work: Path, tokenizer: Any
               ) -> tuple[list[Any], batches.Encoded, dict[str, Any]]:
    """The encoded training conversations, the probe set, and what the data holds."""
    table, rejected = support_conversations(args, work)
    items, dropped = encode_rows(tokenizer, table, "sft", args.max_length)
    pad_id = int(tokenizer.pad_token_id)
    order = np.random.default_rng(args.seed).permutation(len(items))[:PROBE_ROWS]
    probe = padded_data([items[i] for i in sorted(order)], pad_id)
    stats = token_stats(items)
    waste = padding_waste(items, pack(items, args.max_length, args.seed), args.batch_size,
                          args.max_length, args.seed)
    data = {"conversations_written": args.conversations, "rejected_by_reader": rejected,
            "conversations": len(table), "encoded": len(items), "dropped": len(dropped),
            "tokens_per_conversation": stats["per_conversation"],
            "trainable_token_share": stats["trainable_token_share"],
            "expected_padding_over_an_epoch": waste.to_dict()}
    return items, probe, data


def main() -> None:
    args = parse_args()
    from thresher.train.quiet import quiet_transformers

    started = time.perf_counter()
    with quiet_transformers():
        base, tokenizer, resolved = load_causal_lm(args.model)
    with tempfile.TemporaryDirectory(prefix="sft-tokens-data-") as work:
        items, probe, data = encode_all(args, Path(work), tokenizer)
    _progress(started, f"{args.model} loaded, {len(items)} conversations encoded")
    warm_up(base, items, int(tokenizer.pad_token_id), args)
    initial = probe_loss(fresh_lora(base, args), probe, args)
    _progress(started, f"warmed up; loss before training {initial:.4f}")
    runs: dict[str, list[ArmRun]] = {name: [] for name in args.arms}
    for repeat in range(args.repeats):  # arms take turns, starting one further each repeat
        shift = repeat % len(args.arms)
        for name in args.arms[shift:] + args.arms[:shift]:
            runs[name].append(run_arm(name, base, tokenizer, items, probe, args))
            run = runs[name][-1].to_dict()
            _progress(started, f"repeat {repeat + 1} {name}: {run['seconds']:.1f} s, "
                      f"{run['tokens_per_s']:.0f} tokens/s, loss {run['final_loss']:.4f}")
    arms = summarise(runs)
    print_table(arms, initial)
    report = {"settings": {**{k: v for k, v in vars(args).items() if k != "out"},
                           "model_folder": resolved.folder, "warmup": WARMUP,
                           "weight_decay": WEIGHT_DECAY, "probe_rows": len(probe)},
              "versions": versions(), "device": device_info(args.device), "data": data,
              "initial_loss": initial, "arms": arms, "ratios_tokens_per_s": ratios(arms),
              "notes": NOTES}
    path = write_json(RESULTS / args.out, report)
    print(f"wrote {path}")


def _progress(started: float, what: str) -> None:
    print(f"[{time.perf_counter() - started:6.0f} s] {what}", file=sys.stderr, flush=True)


NOTES = [
    "tokens_per_s counts real (non-pad) tokens of the batches the optimiser steps consumed; "
    "padding_share is the share of pad positions in those batches.",
    "thresher computes the LM head on scored (assistant) positions only; the Trainer's model "
    "call with labels builds the full (batch, length, vocabulary) logits. Both are measured as "
    "shipped.",
    "thresher_packed takes the same number of optimiser steps with the same batch size, but each "
    "batch row is a pack of several conversations, so it sees more tokens per step (and more "
    "epochs); its final_loss is therefore lower for a reason other than speed.",
    "final_loss: token-mean loss on the same probe conversations (from the training rows) for "
    "every arm, after its last step; loop_loss is what each loop reports (the Trainer: mean over "
    "steps; thresher: mean per row over the last epoch) and is not comparable between loops.",
]


if __name__ == "__main__":
    main()
