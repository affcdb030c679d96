"""Tiny BERT models for the task tests: WordPiece tokenizers that split words into sub-tokens,
encode sentence pairs, and read Chinese one character at a time. Random weights, real loading."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable

import pandas as pd

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]"]
DATA = Path(__file__).parents[2] / ".." / "shared" / "data"


def wordpiece_tokenizer(pieces: Iterable[str]):
    """A lower-casing WordPiece tokenizer over ``pieces`` ("##x" continues a word), with the
    BERT single and pair templates (the second text gets token type 1)."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = {token: i for i, token in enumerate(dict.fromkeys([*SPECIALS, *pieces]))}
    tok = Tokenizer(models.WordPiece(vocab=vocab, unk_token="[UNK]"))
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()  # splits CJK into characters too
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", 2), ("[SEP]", 3)])
    return PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]",
                                   cls_token="[CLS]", sep_token="[SEP]",
                                   model_input_names=["input_ids", "token_type_ids",
                                                      "attention_mask"])


def tiny_bert_folder(folder: Path, pieces: Iterable[str], max_positions: int = 160) -> Path:
    """Save a 2-layer, 32-wide BERT encoder and its WordPiece tokenizer to ``folder``."""
    import torch
    from transformers import BertConfig, BertModel

    tokenizer = wordpiece_tokenizer(pieces)
    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=64,
                        max_position_embeddings=max_positions)
    BertModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def write_run(run: Path, task: str, splits: dict[str, pd.DataFrame],
              text_pair: str | None = None) -> Path:
    """A run folder as the pipeline leaves it before training: data/*.parquet + manifest.json."""
    (run / "data").mkdir(parents=True, exist_ok=True)
    for name, frame in splits.items():
        frame.to_parquet(run / "data" / f"{name}.parquet", index=False)
    pair = {"text_pair": text_pair} if text_pair else {}
    recipe = {"task": task, "input": {"path": "x", **pair}}
    (run / "manifest.json").write_text(json.dumps({"task": task, "recipe": recipe}))
    return run
