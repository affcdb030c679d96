"""Evaluate an SFT / seq2seq run: test loss and perplexity on every row, generation metrics on
a seeded sample of prompts (generation is the slow part on a CPU), before/after answers.

Loss is teacher-forced over the assistant (target) tokens only, exactly as in training, so
validation and test perplexity compare. Answers are greedy, so the numbers are reproducible;
ROUGE/BLEU compare them with the reference answer of each prompt (the last assistant turn, or
the target), and for seq2seq also exact match and token F1.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from thresher._files import write_json, write_parquet
from thresher.errors import DataError

__all__ = ["GENERATE_ROWS", "evaluate_sft"]

GENERATE_ROWS = 32  # test prompts answered for ROUGE/BLEU: ~1 minute for SmolLM2 on 2 cores


def evaluate_sft(run_dir: Path, split: str = "test", *, device: str = "auto",
                 batch_size: int = 16, generate_rows: int = GENERATE_ROWS) -> dict[str, Any]:
    """Score ``model/`` on ``data/{split}.parquet``; write metrics.json and predictions."""
    from thresher.train.device import resolve_device, resolve_precision
    from thresher.train.run import read_sft_split
    from thresher.train.sft import CausalLM, encode_rows, generate, load_sft_model, to_encoded

    run_dir = Path(run_dir)
    model, tokenizer, info = load_sft_model(run_dir / "model", device)
    task = info.get("task", "sft")
    frame = read_sft_split(run_dir, split, task)
    device = resolve_device(device)
    precision = resolve_precision(info.get("precision", "auto"), device)
    items, dropped = encode_rows(tokenizer, frame, task, int(info.get("max_length", 512)))
    if not items:
        raise DataError(f"no {split} row has an answer within max_length", where=split,
                        fix="raise train.max_length")
    encoded = to_encoded(items, int(tokenizer.pad_token_id), 0, 0, pack=False)
    loss = CausalLM().validate(model, encoded, batch_size, device, precision)
    sample = frame.sample(n=min(generate_rows, len(frame)), random_state=0)
    prompts, references = _prompts(sample, task)
    answers = generate(model, tokenizer, prompts, device, precision)
    metrics = {"task": task, "split": split, "rows": len(frame), "scored_rows": len(items),
               "dropped": dropped, "loss": loss["val_loss"],
               "perplexity": loss["val_perplexity"], "tokens": int(loss["val_tokens"]),
               "generated_rows": len(sample),
               "generation": _generation_metrics(answers, references, task)}
    write_json(run_dir / "metrics.json", metrics)
    write_parquet(run_dir / "predictions.parquet", pd.DataFrame(
        {"id": sample["id"].astype(str).tolist(), "reference": references, "answer": answers}))
    return metrics


def _prompts(frame: pd.DataFrame, task: str) -> tuple[list[list[dict[str, str]]], list[str]]:
    from thresher.train.sft import prompt_messages

    pairs = [prompt_messages(row, task) for row in frame.to_dict("records")]
    return [p for p, _ in pairs], [r for _, r in pairs]


def _generation_metrics(answers: list[str], references: list[str], task: str) -> dict[str, Any]:
    from thresher.evaluate.generation import exact_match, generation_metrics, token_f1

    kind = "seq2seq" if task == "seq2seq" else "chat"
    found = generation_metrics(answers, references, task_kind=kind, language="auto").to_dict()
    if task == "seq2seq":  # short targets (answers, labels): exact match and token F1 too
        found["exact_match"] = exact_match(answers, references).to_dict()
        found["token_f1"] = token_f1(answers, references).to_dict()
    return found
