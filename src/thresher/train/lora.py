"""Prepare a classification model for training: LoRA adapters, head start, frozen embeddings."""

from __future__ import annotations

from typing import Any

__all__ = ["HEAD_NAMES", "add_lora", "freeze_input_embeddings", "zero_head"]

HEAD_NAMES = ("score", "classifier")  # what transformers calls the new classification head


def add_lora(model: Any, r: int, alpha: int, head: str = "sequence") -> Any:
    """A peft model: LoRA (rank ``r``) on attention + MLP linears, the head trained in full.

    ``head`` is "sequence" (a label per text) or "token" (a tag per token, ner).

    Targets are listed by full module name, so a head that itself holds linears (RoBERTa's
    ``classifier.dense``) is trained in full rather than adapted.
    """
    import torch
    from peft import LoraConfig, TaskType, get_peft_model

    heads = [name for name in HEAD_NAMES if hasattr(model, name)]
    targets = [
        name
        for name, module in model.named_modules()
        if isinstance(module, torch.nn.Linear) and name.split(".")[0] not in heads
    ]
    config = LoraConfig(
        task_type=TaskType.TOKEN_CLS if head == "token" else TaskType.SEQ_CLS,
        r=r,
        lora_alpha=alpha,
        lora_dropout=0.0,  # one short epoch does not overfit; dropout would cost CPU time
        target_modules=targets,
        modules_to_save=heads,
    )
    from thresher.train.quiet import quiet_transformers

    with quiet_transformers():  # peft calls a transformers method that 5.x marks deprecated
        return get_peft_model(model, config)


def zero_head(model: Any) -> None:
    """Start the classification head at zero: every class equally likely, loss ln(k).

    A decoder's last hidden state is large (Gemma-3's final norm scales it up), so the default
    random head (std 0.02) starts with logits of several units and a loss near 3 for two
    classes; the first steps of a short run are then spent undoing the head's noise.
    """
    import torch

    for name in HEAD_NAMES:
        head = getattr(model, name, None)
        if isinstance(head, torch.nn.Linear):
            torch.nn.init.zeros_(head.weight)
            if head.bias is not None:
                torch.nn.init.zeros_(head.bias)


def freeze_input_embeddings(model: Any) -> None:
    """Keep the token-embedding matrix fixed during full fine-tuning.

    It is the largest tensor (MiniLM: 11.7M of 22.7M parameters), yet a batch touches a few
    hundred of its rows; AdamW would still read and write all of them every step. Frozen, a
    MiniLM step on 2 CPU cores takes 423 instead of 488 ms; one epoch of SST-2 reaches the same
    test accuracy (3 seeds: median 0.862 frozen and trained; bench/train_speed.py --full).
    """
    embeddings = model.get_input_embeddings()
    if embeddings is not None:
        embeddings.weight.requires_grad_(False)
