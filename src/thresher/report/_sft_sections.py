"""Report sections of an SFT / seq2seq run: the token view, training, scores, before/after.

A language model has no labels or confusion matrix; what a reader needs instead is how long
the conversations are in the backbone's tokens (and how many were cut or dropped), how the
validation loss moved, what the test answers score, and the same prompts answered by the base
model and by the tuned one, side by side.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from thresher.report._inputs import RunInputs

__all__ = ["sft"]

PROMPT_CHARS = 400  # the prompt's last user turn, shortened for the table


def sft(run: RunInputs) -> dict[str, Any] | None:
    """Everything the SFT block of the page shows, or None for other tasks."""
    if run.manifest.get("task") not in ("sft", "seq2seq"):
        return None
    folder = run.run_dir / "model"
    info = _json(folder / "thresher_model.json") or {}
    generations = _json(folder / "generations.json") or []
    return {
        "model": _model(info),
        "tokens": _tokens(info),
        "history": [_history_row(h) for h in _json(folder / "training_history.json") or []],
        "metrics": _metrics(run.metrics or {}),
        "generations": [_generation(g) for g in generations],
        "generation_scores": _generation_scores(generations),
    }


def _model(info: dict[str, Any]) -> dict[str, Any] | None:
    if not info:
        return None
    lora = info.get("lora") or {}
    return {"backbone": info.get("backbone"), "lora": f"r {lora.get('r')}, alpha "
            f"{lora.get('alpha')} ({lora.get('targets')})" if lora else "none",
            "max_length": info.get("max_length"), "packing": info.get("packing"),
            "steps": info.get("steps"), "best_epoch": info.get("best_epoch"),
            "seconds": info.get("seconds"), "precision": info.get("precision"),
            "device": info.get("device")}


def _tokens(info: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    dropped = info.get("dropped") or {}
    for split, stats in (info.get("token_stats") or {}).items():
        per = stats.get("per_conversation") or {}
        turns = stats.get("per_turn") or {}
        rows.append({
            "split": split, "conversations": stats.get("conversations"),
            "median": per.get("p50"), "p90": per.get("p90"), "max": per.get("max"),
            "assistant_median": (turns.get("assistant") or {}).get("p50"),
            "user_median": (turns.get("user") or {}).get("p50"),
            "truncated": stats.get("truncated_share"),
            "trainable": stats.get("trainable_token_share"),
            "dropped": dropped.get(split, 0)})
    return rows


def _history_row(entry: dict[str, Any]) -> dict[str, Any]:
    return {k: entry.get(k) for k in ("epoch", "train_loss", "val_loss", "val_perplexity",
                                      "seconds")}


def _metrics(metrics: dict[str, Any]) -> dict[str, Any] | None:
    if "loss" not in metrics:
        return None
    found = metrics.get("generation") or {}
    rouge = found.get("rouge") or {}
    scores = [("loss (assistant tokens)", metrics.get("loss")),
              ("perplexity", metrics.get("perplexity")),
              ("ROUGE-1", rouge.get("rouge1")), ("ROUGE-2", rouge.get("rouge2")),
              ("ROUGE-L", rouge.get("rougeL")),
              ("BLEU", (found.get("bleu") or {}).get("score"))]
    scores += [(key.replace("_", " "), found[key].get("value"))
               for key in ("exact_match", "token_f1") if found.get(key)]
    return {"split": metrics.get("split"), "rows": metrics.get("scored_rows"),
            "generated": metrics.get("generated_rows"), "scores": scores,
            "notes": found.get("notes") or []}


def _generation(entry: dict[str, Any]) -> dict[str, str]:
    prompt = entry.get("prompt") or []
    asked = next((m["content"] for m in reversed(prompt) if m.get("role") == "user"), "")
    if len(asked) > PROMPT_CHARS:
        asked = asked[: PROMPT_CHARS - 1] + "…"
    return {"prompt": asked, "turns": len(prompt), "reference": entry.get("reference", ""),
            "before": entry.get("before", ""), "after": entry.get("after", "")}


def _generation_scores(entries: list[dict[str, Any]]) -> list[tuple[str, float, float]]:
    """(metric, base model, fine-tuned) on the sampled prompts: the same prompts answered by
    both, so the difference is the fine-tuning's (the test metrics score the tuned model only)."""
    from thresher.evaluate.generation import rouge, token_f1

    refs = [str(e.get("reference") or "") for e in entries]
    if not entries or not any(r.strip() for r in refs):
        return []
    before = [str(e.get("before") or "") for e in entries]
    after = [str(e.get("after") or "") for e in entries]
    return [("ROUGE-L", rouge(before, refs).rougeL, rouge(after, refs).rougeL),
            ("token F1", token_f1(before, refs).value, token_f1(after, refs).value)]


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
