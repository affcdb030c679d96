"""A fine-tuned transformer as a :class:`~thresher.train.classifier.Classifier`.

Saved either in full (safetensors via ``save_pretrained``) or, for LoRA on a backbone that
can be found again (an offline package or a hub id), as the adapter plus the trained head and
a reference to the base: a few MB instead of a 1 GB copy of Gemma.

The same class serves multilabel models (a sigmoid per label, ``thresholds`` tuned on
validation, in ``thresholds.json``) and sentence pairs (texts given as (text, pair) tuples).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np

from thresher.train.batches import encode
from thresher.train.files import read_json, replace_folder, write_json
from thresher.train.loop import predict_logits
from thresher.train.multilabel import DEFAULT_THRESHOLD, read_thresholds

__all__ = ["TransformerClassifier"]


class TransformerClassifier:
    """Model + tokenizer + the fixed label order; ``info`` becomes thresher_model.json."""

    kind = "transformer"

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        labels: list[str],
        *,
        max_length: int,
        device: str,
        precision: str,
        info: dict[str, Any],
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.labels = list(labels)
        self.max_length = max_length
        self.device = device
        self.precision = precision
        self.info = info
        self.task = info.get("task", "classification")
        self.text_pair = info.get("text_pair")  # the pair column's name when trained on pairs
        self.thresholds = [DEFAULT_THRESHOLD] * len(self.labels)  # multilabel decision cuts

    def predict_proba(self, texts: Sequence[Any], batch_size: int = 64) -> np.ndarray:
        """Probabilities in input order (batches are length-sorted internally): softmax rows
        summing to 1, or for multilabel an independent sigmoid per label. A model trained on
        sentence pairs takes (text, pair) tuples."""
        if len(texts) == 0:
            return np.zeros((0, len(self.labels)), dtype=np.float64)
        if self.text_pair:
            firsts, pairs = [str(t[0]) for t in texts], [str(t[1]) for t in texts]
        else:
            firsts, pairs = [str(t) for t in texts], None
        data = encode(self.tokenizer, firsts, self.max_length, pairs=pairs)
        logits = predict_logits(self.model, data, batch_size, self.device, self.precision)
        if self.task == "multilabel":
            return 1.0 / (1.0 + np.exp(-logits.astype(np.float64)))
        shifted = logits.astype(np.float64) - logits.max(axis=1, keepdims=True)
        proba = np.exp(shifted)
        return proba / proba.sum(axis=1, keepdims=True)

    def save(self, folder: Path, extra_json: dict[str, Any] | None = None) -> None:
        """Weights, tokenizer, label_map.json, thresher_model.json (and ``extra_json``: file name
        -> data), all in a staging folder that then replaces ``folder``."""
        from thresher.train.quiet import quiet_transformers

        with replace_folder(Path(folder)) as staging, quiet_transformers():
            if self.info["load"] == "adapter":
                self.model.save_pretrained(staging)  # peft: adapter + head as safetensors
            else:
                self._merge_lora()
                self.model.config.id2label = dict(enumerate(self.labels))
                self.model.config.label2id = {y: i for i, y in enumerate(self.labels)}
                self.model.save_pretrained(staging)
            self.tokenizer.save_pretrained(staging)
            write_json(staging / "label_map.json", {y: i for i, y in enumerate(self.labels)})
            if self.task == "multilabel":
                write_json(staging / "thresholds.json", dict(zip(self.labels, self.thresholds)))
            write_json(staging / "thresher_model.json", self.info)
            for name, data in (extra_json or {}).items():
                write_json(staging / name, data)

    def _merge_lora(self) -> None:
        if hasattr(self.model, "merge_and_unload"):  # a local base: store one plain model
            self.model = self.model.merge_and_unload()

    @classmethod
    def load(cls, folder: Path, device: str = "auto") -> "TransformerClassifier":
        from transformers import (
            AutoModelForSequenceClassification,
            AutoModelForTokenClassification,
            AutoTokenizer,
        )

        from thresher.train.device import resolve_device, resolve_precision
        from thresher.train.quiet import quiet_transformers

        folder = Path(folder)
        info = read_json(folder / "thresher_model.json")
        label_map = read_json(folder / "label_map.json")
        labels = sorted(label_map, key=label_map.__getitem__)
        device = resolve_device(device)
        token = info.get("task") == "ner"
        auto = AutoModelForTokenClassification if token else AutoModelForSequenceClassification
        with quiet_transformers():
            tokenizer = AutoTokenizer.from_pretrained(folder)
            if token:
                from thresher.train.backbones import word_tokenizer

                tokenizer = word_tokenizer(tokenizer, str(folder))
            if info["load"] == "adapter":
                model = _load_adapter(folder, info, len(labels))
            else:
                model = auto.from_pretrained(folder, dtype="float32")
        model.to(device).eval()
        # bf16 stays only where it runs natively here; otherwise fp32 (probabilities differ ~1e-3)
        precision = "fp32" if info["precision"] == "fp32" else resolve_precision("auto", device)
        loaded = cls(model, tokenizer, labels, max_length=info["max_length"], device=device,
                     precision=precision, info=info)
        if loaded.task == "multilabel":
            loaded.thresholds = read_thresholds(folder, labels)
        return loaded


def _load_adapter(folder: Path, info: dict[str, Any], num_labels: int) -> Any:
    from peft import PeftModel

    from thresher.train.backbones import load_backbone, resolve_spec

    head = "token" if info.get("task") == "ner" else "sequence"
    base = load_backbone(resolve_spec(info["base"]["spec"]), num_labels, head=head,
                         multilabel=info.get("task") == "multilabel")
    return PeftModel.from_pretrained(base.model, folder)
