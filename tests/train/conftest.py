"""Tiny models and run folders built in the test: real loading and training code, seconds to run."""

from __future__ import annotations

import random
from pathlib import Path

import pandas as pd
import pytest

FILLER = "the a this that movie film plot story actor scene day night very quite one it was is"
FILLER = FILLER.split()
POSITIVE = ["good", "great", "lovely", "superb"]
NEGATIVE = ["bad", "awful", "boring", "poor"]
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "<s>", "</s>"]


def sentence(rng: random.Random, label: str, cue_last: bool = False) -> str:
    words = [rng.choice(FILLER) for _ in range(rng.randint(3, 12))]
    where = len(words) if cue_last else rng.randint(0, len(words))
    words.insert(where, rng.choice(POSITIVE if label == "pos" else NEGATIVE))
    return " ".join(words)


def synthetic_frame(n: int, seed: int, prefix: str, cue_last: bool = False) -> pd.DataFrame:
    """Half "pos", half "neg"; the cue word ends the text when ``cue_last`` (easy for a decoder,
    which classifies from its last token, even with random weights under LoRA)."""
    rng = random.Random(seed)
    labels = ["pos" if i % 2 == 0 else "neg" for i in range(n)]
    return pd.DataFrame({
        "id": [f"{prefix}{i:04d}" for i in range(n)],
        "text": [sentence(rng, y, cue_last) for y in labels],
        "label": labels,
        "source": [f"synthetic:{i + 1}" for i in range(n)],
    })


def make_run(root: Path, n_train: int = 96, n_val: int = 48, cue_last: bool = False) -> Path:
    data = root / "data"
    data.mkdir(parents=True, exist_ok=True)
    synthetic_frame(n_train, 1, "t", cue_last).to_parquet(data / "train.parquet", index=False)
    synthetic_frame(n_val, 2, "v", cue_last).to_parquet(data / "validation.parquet", index=False)
    return root


def _word_tokenizer(decoder: bool):
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = {tok: i for i, tok in enumerate(SPECIALS + FILLER + POSITIVE + NEGATIVE)}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    if decoder:  # a decoder's tokenizer: BOS in front, no pad token (thresher must add one)
        tok.post_processor = processors.TemplateProcessing(
            single="<s> $A", special_tokens=[("<s>", 4)])
        return PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", bos_token="<s>",
                                       eos_token="</s>")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)])
    return PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]",
                                   cls_token="[CLS]", sep_token="[SEP]")


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer, 32-wide BERT encoder with a word-level tokenizer, saved as a model folder."""
    import torch
    from transformers import BertConfig, BertModel

    folder = tmp_path_factory.mktemp("tiny-bert")
    tokenizer = _word_tokenizer(decoder=False)
    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=64, max_position_embeddings=64)
    BertModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_llama(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer, 32-wide Llama decoder (the LoRA path) with a tokenizer that has no pad token."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    folder = tmp_path_factory.mktemp("tiny-llama")
    tokenizer = _word_tokenizer(decoder=True)
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64,
                         num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=1,
                         max_position_embeddings=64, bos_token_id=4, eos_token_id=5)
    LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    return make_run(tmp_path / "run")


@pytest.fixture
def new_run():
    """``new_run(folder, n_train=96, n_val=48)``: a run folder holding the synthetic splits."""
    return make_run


@pytest.fixture
def synthetic():
    """``synthetic(n, seed, id_prefix)``: an easy two-class frame (one cue word per sentence)."""
    return synthetic_frame
