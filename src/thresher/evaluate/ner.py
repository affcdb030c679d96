"""Evaluate a ner run: entity-level precision, recall and F1 with seqeval, micro and per type.

An entity counts as found only when its type and its exact word span both match (CoNLL
evaluation, seqeval's default mode; an ``I-`` tag without a ``B-`` starts an entity, as in
conlleval). metrics.json follows the classification layout: ``splits[split]`` holds
``micro_f1``/``macro_f1``/``weighted_f1`` and ``per_class`` (one row per entity type), plus
``token_accuracy``; predictions.parquet holds each sentence's gold and predicted tags.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from thresher.evaluate.multilabel import finish, model_card, read_history
from thresher.evaluate.scoring import default_loader

__all__ = ["evaluate_ner", "ner_metrics"]

WORST_EXAMPLES = 20


def evaluate_ner(run_dir: Path, split: str = "test", progress: bool = False, *,
                 batch_size: int = 64, device: str = "auto",
                 loader: Callable[..., Any] | None = None) -> dict[str, Any]:
    """Tag ``split`` with ``model/`` (and ``baseline/``); write metrics.json and predictions."""
    from thresher.train.ner import read_ner_split

    started = time.perf_counter()
    run_dir = Path(run_dir)
    load = loader or default_loader()
    model = load(run_dir / "model", device=device)
    frame = read_ner_split(run_dir, split)
    table, scores = _score(model, frame, batch_size)
    metrics: dict[str, Any] = {"task": "ner", "labels": model.labels,
                               "model": model_card(run_dir / "model", model),
                               "history": read_history(run_dir / "model"), "split": split,
                               "splits": {split: scores}, "notes": list(scores["notes"])}
    if split != "validation" and (run_dir / "data" / "validation.parquet").is_file():
        metrics["splits"]["validation"] = _score(
            model, read_ner_split(run_dir, "validation"), batch_size)[1]
    metrics["baseline"], metrics["comparison"] = None, None
    if (run_dir / "baseline").is_dir():
        baseline = load(run_dir / "baseline", device=device)
        base_scores = _score(baseline, frame, batch_size)[1]
        metrics["baseline"] = {"model": model_card(run_dir / "baseline", baseline),
                               "splits": {split: base_scores}}
        metrics["comparison"] = {
            "metric": "micro_f1", "model": scores["micro_f1"], "baseline": base_scores["micro_f1"],
            "delta": scores["micro_f1"] - base_scores["micro_f1"]}
    metrics["worst_examples"] = _worst(table)
    return finish(run_dir, metrics, table, started)


def ner_metrics(truth: list[list[str]], predicted: list[list[str]]) -> dict[str, Any]:
    """Entity-level scores (micro, macro and weighted over types; per type) and token accuracy."""
    from seqeval.metrics import classification_report
    from seqeval.metrics.sequence_labeling import get_entities

    report = classification_report(truth, predicted, output_dict=True, zero_division=0)
    result: dict[str, Any] = {"n": len(truth)}
    for average in ("micro", "macro", "weighted"):
        row = report.pop(f"{average} avg")
        result.update({f"{average}_precision": float(row["precision"]),
                       f"{average}_recall": float(row["recall"]),
                       f"{average}_f1": float(row["f1-score"])})
    found = pd.Series([kind for kind, _, _ in get_entities(predicted)], dtype=object)
    counts = found.value_counts().to_dict()
    notes = []
    per_type: dict[str, dict[str, Any]] = {}
    for kind in sorted(report):
        row = report[kind]
        per_type[kind] = {"precision": float(row["precision"]), "recall": float(row["recall"]),
                          "f1": float(row["f1-score"]), "support": int(row["support"]),
                          "predicted": int(counts.get(kind, 0))}
        if int(row["support"]) == 0:
            per_type[kind]["recall"] = per_type[kind]["f1"] = None
            notes.append(f"entity type {kind!r} was predicted but has no gold entity here")
    gold_tags = [t for row in truth for t in row]
    guessed = [t for row in predicted for t in row]
    result["entities"] = sum(row["support"] for row in per_type.values())
    right = sum(a == b for a, b in zip(gold_tags, guessed))
    result["token_accuracy"] = right / max(len(gold_tags), 1)
    result["per_class"] = per_type
    result["notes"] = notes
    return result


def _score(model: Any, frame: pd.DataFrame, batch_size: int) -> tuple[pd.DataFrame, dict[str, Any]]:
    truth = [list(tags) for tags in frame["tags"]]
    predicted = model.predict_tags(frame["tokens"].tolist(), batch_size=batch_size)
    metrics = ner_metrics(truth, predicted)
    unknown = sorted({t for row in truth for t in row} - set(model.labels))
    if unknown:
        metrics["notes"].append(f"tags {unknown} occur here but never in training: the model "
                                "cannot predict them, so their entities count as missed")
    errors = [sum(a != b for a, b in zip(gold, guess)) for gold, guess in zip(truth, predicted)]
    table = pd.DataFrame({"id": frame["id"].to_numpy(), "tokens": frame["tokens"].tolist(),
                          "tags": truth, "predicted": predicted, "errors": errors})
    return table, metrics


def _worst(table: pd.DataFrame) -> list[dict[str, Any]]:
    """Sentences with the most wrong tags, as text with gold and predicted entities."""
    from seqeval.metrics.sequence_labeling import get_entities

    def spans(tokens: list[str], tags: list[str]) -> str:
        return "; ".join(f"{kind}: {_joined(tokens[a:b + 1])}" for kind, a, b in get_entities(tags))

    wrong = table[table["errors"] > 0].sort_values("errors", ascending=False, kind="stable")
    return [{"id": str(r.id), "text": _joined(r.tokens), "label": spans(r.tokens, r.tags),
             "predicted": spans(r.tokens, r.predicted), "errors": int(r.errors),
             "confidence": None} for r in wrong.head(WORST_EXAMPLES).itertuples(index=False)]


def _joined(tokens: list[str]) -> str:
    """Words joined by spaces; characters (Chinese input, one per token) joined without."""
    return ("" if all(len(t) == 1 for t in tokens) else " ").join(tokens)
