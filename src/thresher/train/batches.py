"""Tokenise once, then cut batches whose rows have similar lengths, padded only as far as needed.

Padding every batch to ``max_length`` makes a CPU multiply mostly pad tokens: with reviews of
median 32 tokens and ``max_length`` 128, three quarters of the work is wasted. Sorting rows by
length inside shuffled mega-batches (as Hugging Face's ``LengthGroupedSampler`` does) keeps
batches random across an epoch while each one is nearly pad-free.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator, Sequence

import numpy as np

__all__ = ["Encoded", "collate", "encode", "encode_words", "eval_batches", "train_batches"]

MEGA_BATCHES = 50  # batches per sorted group: random enough, and still nearly pad-free


@dataclass
class Encoded:
    """Token ids of every row (unpadded), their lengths, and labels when known.

    ``labels`` is one index per row (classification), a 0/1 row per text (multilabel, float), or
    one index per token with -100 where nothing is scored (ner: all but each word's first
    sub-token). ``token_type_ids`` marks the second text of a sentence pair; ``word_starts``
    gives, for ner, each word's first sub-token position (-1 when truncation cut the word off).
    """

    input_ids: list[list[int]]
    lengths: np.ndarray
    labels: Any
    pad_id: int
    token_type_ids: list[list[int]] | None = None
    word_starts: list[list[int]] | None = None

    def __len__(self) -> int:
        return len(self.input_ids)


def encode(
    tokenizer: Any,
    texts: Sequence[str],
    max_length: int,
    labels: Any = None,
    pairs: Sequence[str] | None = None,
) -> Encoded:
    """Tokenise all texts (with their ``pairs``, as pairs) in one call of the fast tokenizer,
    truncating to max_length (the longer text of a pair loses tokens first)."""
    if pairs is None:
        ids = tokenizer(list(texts), truncation=True, max_length=max_length)["input_ids"]
        types = None
    else:
        out = tokenizer(list(texts), list(pairs), truncation="longest_first", max_length=max_length)
        ids, types = out["input_ids"], out.get("token_type_ids")
    lengths = np.fromiter((len(row) for row in ids), dtype=np.int64, count=len(ids))
    return Encoded(ids, lengths, labels, int(tokenizer.pad_token_id), token_type_ids=types)


def encode_words(
    tokenizer: Any,
    words: Sequence[Sequence[str]],
    max_length: int,
    tag_ids: Sequence[Sequence[int]] | None = None,
) -> Encoded:
    """Tokenise pre-split words (ner; Chinese: one character per word) and align the tags.

    The fast tokenizer's ``word_ids`` say which word each sub-token came from: a word's first
    sub-token carries its tag, the others (and special tokens) get -100, which the loss skips.
    """
    out = tokenizer([list(w) for w in words], is_split_into_words=True, truncation=True,
                    max_length=max_length)
    ids = out["input_ids"]
    starts: list[list[int]] = []
    labels: list[list[int]] | None = [] if tag_ids is not None else None
    for i in range(len(ids)):
        first = [-1] * len(words[i])
        previous = None
        for position, word in enumerate(out.word_ids(i)):
            if word is not None and word != previous:
                first[word] = position
            previous = word
        starts.append(first)
        if labels is not None and tag_ids is not None:
            row = [-100] * len(ids[i])
            for word, position in enumerate(first):
                if position >= 0:
                    row[position] = int(tag_ids[i][word])
            labels.append(row)
    lengths = np.fromiter((len(row) for row in ids), dtype=np.int64, count=len(ids))
    return Encoded(ids, lengths, labels, int(tokenizer.pad_token_id), word_starts=starts)


def train_batches(
    lengths: np.ndarray, batch_size: int, rng: np.random.Generator
) -> list[np.ndarray]:
    """Row indices per batch for one epoch: shuffled, then length-sorted per mega-batch."""
    order = rng.permutation(len(lengths))
    group = batch_size * MEGA_BATCHES
    batches: list[np.ndarray] = []
    for start in range(0, len(order), group):
        chunk = order[start : start + group]
        chunk = chunk[np.argsort(-lengths[chunk], kind="stable")]
        batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    rng.shuffle(batches)  # without this, every group would run from its longest batch down
    return batches


def eval_batches(lengths: np.ndarray, batch_size: int) -> Iterator[np.ndarray]:
    """Row indices per batch over all rows sorted by length (callers put results back in order)."""
    order = np.argsort(lengths, kind="stable")
    for start in range(0, len(order), batch_size):
        yield order[start : start + batch_size]


def collate(data: Encoded, rows: np.ndarray) -> dict[str, Any]:
    """Tensors for ``rows``: ids right-padded to the longest row of this batch, and a mask.
    Data that knows its own batches (packed SFT rows, with position ids) makes them itself."""
    import torch

    if hasattr(data, "collate"):
        return data.collate(rows)

    width = int(data.lengths[rows].max())
    ids = np.full((len(rows), width), data.pad_id, dtype=np.int64)
    mask = np.zeros((len(rows), width), dtype=np.int64)
    for out_row, row in enumerate(rows):
        n = int(data.lengths[row])
        ids[out_row, :n] = data.input_ids[row]
        mask[out_row, :n] = 1
    batch = {"input_ids": torch.from_numpy(ids), "attention_mask": torch.from_numpy(mask)}
    if data.token_type_ids is not None:
        batch["token_type_ids"] = torch.from_numpy(_padded(data.token_type_ids, rows, width, 0))
    if data.labels is not None:
        batch["labels"] = torch.from_numpy(_labels(data.labels, rows, width))
    return batch


def _labels(labels: Any, rows: np.ndarray, width: int) -> np.ndarray:
    if not isinstance(labels, np.ndarray):  # per-token indices, padded with "not scored"
        return _padded(labels, rows, width, -100)
    if labels.ndim == 2:  # multilabel: the 0/1 targets of a sigmoid per label
        return labels[rows].astype(np.float32)
    return labels[rows].astype(np.int64)


def _padded(values: list[list[int]], rows: np.ndarray, width: int, fill: int) -> np.ndarray:
    out = np.full((len(rows), width), fill, dtype=np.int64)
    for out_row, row in enumerate(rows):
        out[out_row, : len(values[row])] = values[row]
    return out
