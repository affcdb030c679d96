"""What the report says about the model: training settings, test metrics next to the
baseline's, per-class numbers, the most confidently wrong test examples, and a banner when
the model is not better than the baseline. Every key is optional: a partial metrics.json
gives a shorter report, never an exception."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pandas as pd

from thresher.report._inputs import RunInputs

__all__ = [
    "MetricRow",
    "banners",
    "baseline_scores",
    "confusion",
    "history_table",
    "mcnemar_p",
    "metric_rows",
    "model_scores",
    "per_class_rows",
    "scored_split",
    "training_items",
    "worst_examples",
]

METRICS = (
    ("accuracy", "Accuracy"),
    ("macro_precision", "Macro precision"),
    ("macro_recall", "Macro recall"),
    ("macro_f1", "Macro F1"),
    ("weighted_f1", "Weighted F1"),
    ("roc_auc", "ROC AUC"),
)
TRAINING_FIELDS = (  # (label, keys tried in order) for the training card
    ("Model", ("backbone", "name", "model")),
    ("Kind", ("kind", "type")),
    ("LoRA", ("lora",)),
    ("Precision", ("precision", "dtype")),
    ("Train rows", ("train_rows",)),
    ("Epochs", ("epochs",)),
    ("Best epoch", ("best_epoch",)),
    ("Minutes", ("minutes", "train_minutes")),
)
WORST_LIMIT = 20  # as many as the evaluation keeps
TEXT_CHARS = 400


@dataclass(frozen=True)
class MetricRow:
    name: str
    model: float | None
    baseline: float | None

    @property
    def delta(self) -> float | None:
        if self.model is None or self.baseline is None:
            return None
        return self.model - self.baseline


def scored_split(metrics: dict[str, Any]) -> str:
    """The split the evaluation scored: ``test`` unless metrics.json names another."""
    split = metrics.get("split")
    return split if isinstance(split, str) and split else "test"


def model_scores(metrics: dict[str, Any]) -> dict[str, Any]:
    """The model's numbers on the scored split (empty when there are none)."""
    return _dict(_dict(metrics.get("splits")).get(scored_split(metrics)))


def baseline_scores(metrics: dict[str, Any]) -> dict[str, Any]:
    splits = _dict(_dict(metrics.get("baseline")).get("splits"))
    return _dict(splits.get(scored_split(metrics)))


def metric_rows(metrics: dict[str, Any]) -> list[MetricRow]:
    model, baseline = model_scores(metrics), baseline_scores(metrics)
    rows = [
        MetricRow(label, _num(model.get(key)), _num(baseline.get(key))) for key, label in METRICS
    ]
    return [r for r in rows if r.model is not None or r.baseline is not None]


def mcnemar_p(metrics: dict[str, Any]) -> float | None:
    return _num(_dict(_dict(metrics.get("comparison")).get("mcnemar")).get("p_value"))


def training_items(run: RunInputs) -> list[tuple[str, str]]:
    model = _dict((run.metrics or {}).get("model"))
    items, used = [], {"note", "labels"}  # the note is a banner; labels are in the per-class table
    for label, keys in TRAINING_FIELDS:
        key = next((k for k in keys if model.get(k) is not None), None)
        value = model.get(key) if key else None
        if label == "Train rows" and value is None:
            value = _dict(run.manifest.get("splits")).get("train")
        if label == "Minutes" and value is None and _num(model.get("train_seconds")) is not None:
            value, key = round(_num(model["train_seconds"]) / 60, 2), "train_seconds"
        used.add(key)
        if value is not None:
            items.append((label, _show(value)))
    items += [(str(k), _show(v)) for k, v in model.items() if k not in used and v is not None]
    return items


def history_table(metrics: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    history = [h for h in metrics.get("history") or [] if isinstance(h, dict)]
    columns = list(dict.fromkeys(k for h in history for k in h))
    return columns, [[h.get(c) for c in columns] for h in history]


def per_class_rows(metrics: dict[str, Any]) -> list[dict[str, Any]]:
    model = _dict(model_scores(metrics).get("per_class"))
    baseline = _dict(baseline_scores(metrics).get("per_class"))
    order = [str(x) for x in metrics.get("labels") or []]
    labels = [label for label in dict.fromkeys([*order, *model]) if label in model]
    return [
        {
            "label": label,
            **{
                k: _num(_dict(model[label]).get(k))
                for k in ("precision", "recall", "f1", "support")
            },
            "baseline_f1": _num(_dict(baseline.get(label)).get("f1")),
        }
        for label in labels
    ]


def confusion(metrics: dict[str, Any]) -> dict[str, Any] | None:
    matrix = _dict(model_scores(metrics).get("confusion_matrix"))
    labels, rows = matrix.get("labels"), matrix.get("matrix")
    if not isinstance(labels, list) or not isinstance(rows, list) or not labels:
        return None
    if len(rows) != len(labels) or not all(
        isinstance(r, list) and len(r) == len(labels) for r in rows
    ):
        return None  # not a square matrix over the labels: drawing it would mislabel cells
    return {"labels": [str(label) for label in labels], "rows": rows}


def worst_examples(run: RunInputs) -> list[dict[str, Any]]:
    """The given list from metrics.json, else the wrong predictions with the highest confidence."""
    given = [w for w in (run.metrics or {}).get("worst_examples") or [] if isinstance(w, dict)]
    if (
        not given
        and run.predictions is not None
        and {"label", "predicted", "confidence"} <= set(run.predictions)
    ):
        wrong = run.predictions[
            run.predictions["label"].astype(str) != run.predictions["predicted"].astype(str)
        ]
        given = (
            wrong.sort_values("confidence", ascending=False).head(WORST_LIMIT).to_dict("records")
        )
    return [
        {
            "id": str(w.get("id", "")),
            "text": _clip("" if w.get("text") is None else w["text"]),
            "label": str(w.get("label", "")),
            "predicted": str(w.get("predicted", "")),
            "confidence": _num(w.get("confidence")),
        }
        for w in given[:WORST_LIMIT]
    ]


def banners(metrics: dict[str, Any]) -> list[dict[str, str]]:
    """What a reader must not miss: the trainer's note; a model no better than its baseline."""
    found = []
    note = _dict(metrics.get("model")).get("note")
    if note:
        found.append({"kind": "warn", "text": str(note)})
    notes = metrics.get("notes") if isinstance(metrics.get("notes"), list) else []
    found += [{"kind": "info", "text": str(n)} for n in notes if n]
    comparison, p = _dict(metrics.get("comparison")), mcnemar_p(metrics)
    metric, split = str(comparison.get("metric") or "accuracy"), scored_split(metrics)
    model, baseline = _num(comparison.get("model")), _num(comparison.get("baseline"))
    if model is None or baseline is None:
        row = next(
            (r for r in metric_rows(metrics) if r.name.lower().replace(" ", "_") == metric), None
        )
        model, baseline = (row.model, row.baseline) if row else (None, None)
    if model is None or baseline is None:
        return found
    p_text = f" (McNemar p = {p:.3g})" if p is not None else ""
    if model <= baseline:
        found.append(
            {
                "kind": "warn",
                "text": f"The model did not beat the baseline on {split} {metric}: "
                f"{model:.3f} vs {baseline:.3f}{p_text}.",
            }
        )
    elif p is not None and p >= 0.05:
        found.append(
            {
                "kind": "info",
                "text": f"The model beats the baseline on {split} {metric} "
                f"({model:.3f} vs {baseline:.3f}), but not significantly{p_text}.",
            }
        )
    return found


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _num(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if pd.isna(number) else number


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}={_show(v)}" for k, v in value.items())
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.4g}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, list):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def _clip(text: Any) -> str:
    text = str(text)
    return text if len(text) <= TEXT_CHARS else text[: TEXT_CHARS - 1] + "…"
