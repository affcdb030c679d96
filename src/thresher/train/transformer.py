"""A fine-tuned transformer as a :class:`~thresher.train.classifier.Classifier`.

Saved either in full (safetensors via ``save_pretrained``) or, for LoRA on a backbone that
can be found again (an offline package or a hub id), as the adapter plus the trained head and
a reference to the base: a few MB instead of a 1 GB copy of Gemma.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np

from thresher.train.batches import encode
from thresher.train.files import read_json, replace_folder, write_json
from thresher.train.loop import predict_logits

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

    def predict_proba(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Softmax probabilities in input order (batches are length-sorted internally)."""
        if len(texts) == 0:
            return np.zeros((0, len(self.labels)), dtype=np.float64)
        data = encode(self.tokenizer, [str(t) for t in texts], self.max_length)
        logits = predict_logits(self.model, data, batch_size, self.device, self.precision)
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
            write_json(staging / "thresher_model.json", self.info)
            for name, data in (extra_json or {}).items():
                write_json(staging / name, data)

    def _merge_lora(self) -> None:
        if hasattr(self.model, "merge_and_unload"):  # a local base: store one plain model
            self.model = self.model.merge_and_unload()

    @classmethod
    def load(cls, folder: Path, device: str = "auto") -> "TransformerClassifier":
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        from thresher.train.device import resolve_device, resolve_precision
        from thresher.train.quiet import quiet_transformers

        folder = Path(folder)
        info = read_json(folder / "thresher_model.json")
        label_map = read_json(folder / "label_map.json")
        labels = sorted(label_map, key=label_map.__getitem__)
        device = resolve_device(device)
        with quiet_transformers():
            tokenizer = AutoTokenizer.from_pretrained(folder)
            if info["load"] == "adapter":
                model = _load_adapter(folder, info, len(labels))
            else:
                model = AutoModelForSequenceClassification.from_pretrained(folder, dtype="float32")
        model.to(device).eval()
        # bf16 stays only where it runs natively here; otherwise fp32 (probabilities differ ~1e-3)
        precision = "fp32" if info["precision"] == "fp32" else resolve_precision("auto", device)
        return cls(model, tokenizer, labels, max_length=info["max_length"], device=device,
                   precision=precision, info=info)


def _load_adapter(folder: Path, info: dict[str, Any], num_labels: int) -> Any:
    from peft import PeftModel

    from thresher.train.backbones import load_backbone, resolve_spec

    base = load_backbone(resolve_spec(info["base"]["spec"]), num_labels)
    return PeftModel.from_pretrained(base.model, folder)
