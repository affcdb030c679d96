"""What differs between training tasks, one small object per task; the loop stays one.

The loop asks its task to turn a split into token ids (``encode``), to score a batch
(``loss``), to judge validation logits (``val_scores``, whose ``select`` key picks the best
epoch) and, for ``imbalance: resample``, which rows one epoch visits (``epoch_rows``).
Classification keeps exactly the loss and scores it always had, so its runs do not change.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd

from thresher.train.batches import Encoded, encode, encode_words

__all__ = ["Classification", "MultiLabel", "Task", "TokenTagging", "balanced_weights", "make_task",
           "multilabel_scores"]


class Task:
    """Single-label behaviour that the other tasks override piece by piece."""

    name: ClassVar[str] = "classification"
    head: ClassVar[str] = "sequence"  # "token": one prediction per token
    select: ClassVar[str] = "val_macro_f1"  # the validation score that keeps the best epoch

    def __init__(self, labels: list[str], *, text_pair: str | None = None,
                 weights: np.ndarray | None = None, resample: bool = False) -> None:
        self.labels = list(labels)
        self.text_pair = text_pair  # the column holding each row's second text, if any
        self.weights = weights  # per-class loss weights (imbalance: class_weights), or None
        self.resample = resample
        self._weights_on: dict[str, Any] = {}

    def targets(self, frame: pd.DataFrame) -> Any:
        index = {label: i for i, label in enumerate(self.labels)}
        return np.array([index[y] for y in frame["label"]], dtype=np.int64)

    def encode(self, tokenizer: Any, frame: pd.DataFrame, max_length: int,
               with_labels: bool = True) -> Encoded:
        pairs = frame[self.text_pair].astype(str).tolist() if self.text_pair else None
        labels = self.targets(frame) if with_labels else None
        return encode(tokenizer, frame["text"].tolist(), max_length, labels, pairs=pairs)

    def loss(self, logits: Any, batch: dict[str, Any]) -> Any:
        import torch

        weight = self._device_weights(logits.device)
        return torch.nn.functional.cross_entropy(logits.float(), batch["labels"], weight=weight)

    def val_scores(self, logits: Any, data: Encoded) -> dict[str, float]:
        from sklearn.metrics import f1_score

        shifted = logits - logits.max(axis=1, keepdims=True)
        log_proba = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        truth = data.labels if data.labels is not None else np.zeros(len(data), dtype=np.int64)
        predicted = logits.argmax(axis=1)
        return {
            "val_loss": float(-log_proba[np.arange(len(truth)), truth].mean()),
            "val_accuracy": float((predicted == truth).mean()),
            "val_macro_f1": float(f1_score(truth, predicted, average="macro", zero_division=0)),
        }

    def epoch_rows(self, data: Encoded, rng: np.random.Generator) -> np.ndarray | None:
        """The rows of one epoch when resampling: every class topped up to the largest class
        (whole copies, then a seeded random part); None means every row once."""
        if not self.resample:
            return None
        by_class = [np.flatnonzero(data.labels == k) for k in range(len(self.labels))]
        largest = max(len(rows) for rows in by_class)
        parts = []
        for rows in (r for r in by_class if len(r)):
            copies, rest = divmod(largest, len(rows))
            parts += [np.tile(rows, copies), rng.choice(rows, size=rest, replace=False)]
        return np.concatenate(parts)

    def _device_weights(self, device: Any) -> Any:
        if self.weights is None:
            return None
        key = str(device)
        if key not in self._weights_on:
            import torch

            self._weights_on[key] = torch.as_tensor(self.weights, dtype=torch.float32).to(device)
        return self._weights_on[key]


class Classification(Task):
    """One label per row: softmax + cross-entropy, the best epoch by macro-F1."""


class MultiLabel(Task):
    """Any number of labels per row: a sigmoid per label + binary cross-entropy; ``weights``
    are BCE's ``pos_weight`` (negatives/positives of each label)."""

    name = "multilabel"
    select = "val_micro_f1"

    def __init__(self, labels: list[str], *, separator: str = ",", **kwargs: Any) -> None:
        super().__init__(labels, **kwargs)
        self.separator = separator

    def targets(self, frame: pd.DataFrame) -> Any:
        from thresher.train.multilabel import label_matrix, split_labels

        sets = [split_labels(value, self.separator) for value in frame["label"]]
        return label_matrix(sets, self.labels)

    def loss(self, logits: Any, batch: dict[str, Any]) -> Any:
        import torch

        return torch.nn.functional.binary_cross_entropy_with_logits(
            logits.float(), batch["labels"], pos_weight=self._device_weights(logits.device))

    def val_scores(self, logits: Any, data: Encoded) -> dict[str, float]:
        return multilabel_scores(logits, data.labels)


class TokenTagging(Task):
    """NER: a tag per word (BIO), scored on each word's first sub-token; the best epoch by
    entity-level micro F1 (seqeval)."""

    name = "ner"
    head = "token"
    select = "val_entity_f1"

    def targets(self, frame: pd.DataFrame) -> Any:
        index = {tag: i for i, tag in enumerate(self.labels)}
        return [[index[tag] for tag in tags] for tags in frame["tags"]]

    def encode(self, tokenizer: Any, frame: pd.DataFrame, max_length: int,
               with_labels: bool = True) -> Encoded:
        words = [list(map(str, tokens)) for tokens in frame["tokens"]]
        tags = self.targets(frame) if with_labels else None
        return encode_words(tokenizer, words, max_length, tags)

    def loss(self, logits: Any, batch: dict[str, Any]) -> Any:
        import torch

        flat = logits.float().reshape(-1, logits.shape[-1])
        return torch.nn.functional.cross_entropy(
            flat, batch["labels"].reshape(-1), weight=self._device_weights(logits.device),
            ignore_index=-100)

    def word_tags(self, logits: list[np.ndarray], data: Encoded) -> list[list[str]]:
        """The predicted tag of every word (a word cut off by truncation gets "O")."""
        assert data.word_starts is not None
        tags = np.asarray(self.labels, dtype=object)
        out = []
        for row_logits, starts in zip(logits, data.word_starts):
            best = row_logits.argmax(axis=-1) if len(row_logits) else np.zeros(0, dtype=int)
            out.append([str(tags[best[s]]) if s >= 0 else "O" for s in starts])
        return out

    def val_scores(self, logits: Any, data: Encoded) -> dict[str, float]:
        from seqeval.metrics import f1_score

        assert data.word_starts is not None and data.labels is not None
        predicted = self.word_tags(logits, data)
        truth, guess, losses = [], [], []
        for row, starts in enumerate(data.word_starts):
            kept = [w for w, s in enumerate(starts) if s >= 0]  # words the model saw
            gold = [self.labels[data.labels[row][starts[w]]] for w in kept]
            truth.append(gold)
            guess.append([predicted[row][w] for w in kept])
            losses += _token_losses(logits[row], [data.labels[row][starts[w]] for w in kept],
                                    [starts[w] for w in kept])
        flat_truth = [t for row in truth for t in row]
        flat_guess = [t for row in guess for t in row]
        correct = sum(a == b for a, b in zip(flat_truth, flat_guess))
        return {
            "val_loss": float(np.mean(losses)) if losses else 0.0,
            "val_token_accuracy": correct / max(len(flat_truth), 1),
            "val_entity_f1": float(f1_score(truth, guess, zero_division=0)),
        }

    def epoch_rows(self, data: Encoded, rng: np.random.Generator) -> np.ndarray | None:
        return None


def multilabel_scores(logits: np.ndarray, truth: np.ndarray,
                      thresholds: Any = None) -> dict[str, float]:
    """Loss, subset accuracy, micro and macro F1 from logits (cut at probability 0.5, or at
    per-label ``thresholds``)."""
    from sklearn.metrics import f1_score

    logits, truth = np.asarray(logits, dtype=np.float64), np.asarray(truth).astype(int)
    if thresholds is None:
        predicted = (logits >= 0).astype(int)
    else:
        proba = 1 / (1 + np.exp(-logits))
        predicted = (proba >= np.asarray(thresholds, dtype=float)[None, :]).astype(int)
    # log(1 + e^-|x|) + max(x, 0) - x*y: binary cross-entropy without overflow
    loss = np.log1p(np.exp(-np.abs(logits))) + np.maximum(logits, 0) - logits * truth
    return {
        "val_loss": float(loss.mean()),
        "val_subset_accuracy": float((predicted == truth).all(axis=1).mean()),
        "val_micro_f1": float(f1_score(truth, predicted, average="micro", zero_division=0)),
        "val_macro_f1": float(f1_score(truth, predicted, average="macro", zero_division=0)),
    }


def _token_losses(logits: np.ndarray, gold: list[int], positions: list[int]) -> list[float]:
    if not positions:
        return []
    rows = logits[positions].astype(np.float64)
    shifted = rows - rows.max(axis=1, keepdims=True)
    log_proba = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return (-log_proba[np.arange(len(gold)), gold]).tolist()


def balanced_weights(counts: np.ndarray) -> np.ndarray:
    """Inverse-frequency class weights with mean 1 over the rows: n / (classes present * n_c);
    a class without rows gets 1 (it never occurs as a target)."""
    counts = np.asarray(counts, dtype=np.float64)
    present = counts > 0
    weights = np.ones_like(counts)
    weights[present] = counts.sum() / (present.sum() * counts[present])
    return weights


def make_task(name: str, labels: list[str], train: pd.DataFrame, *, imbalance: str = "none",
              text_pair: str | None = None, separator: str = ",") -> Task:
    """The task object for a recipe's task, with loss weights learned from ``train``."""
    cls = {"classification": Classification, "multilabel": MultiLabel, "ner": TokenTagging}[name]
    options: dict[str, Any] = {"text_pair": text_pair} if name != "ner" else {}
    if name == "multilabel":
        options["separator"] = separator
    task = cls(labels, resample=imbalance == "resample", **options)
    if imbalance == "class_weights":
        task.weights = _class_weights(task, train)
    return task


def _class_weights(task: Task, train: pd.DataFrame) -> np.ndarray:
    targets = task.targets(train)
    k = len(task.labels)
    if isinstance(task, MultiLabel):
        positives = targets.sum(axis=0)
        negatives = len(targets) - positives
        defined = (positives > 0) & (negatives > 0)
        return np.where(defined, negatives / np.maximum(positives, 1), 1.0)
    if isinstance(task, TokenTagging):
        flat = np.fromiter((t for row in targets for t in row), dtype=np.int64)
        return balanced_weights(np.bincount(flat, minlength=k))
    return balanced_weights(np.bincount(targets, minlength=k))
