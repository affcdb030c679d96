"""What the report says about the model: training settings, test metrics (with bootstrap
intervals) next to the baseline's, per-class numbers, calibration, the comparison with an
earlier run, the most confidently wrong test examples, and a banner when the model is not
better than the baseline. Every key is optional: a partial metrics.json gives a shorter
report, never an exception."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pandas as pd

from thresher.report._inputs import RunInputs

__all__ = [
    "MetricRow",
    "banners",
    "baseline_delta_ci",
    "baseline_scores",
    "calibration_rows",
    "compare_table",
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

METRICS = (  # (key in the split's metrics, dots for nesting; label)
    ("accuracy", "Accuracy"),
    ("macro_precision", "Macro precision"),
    ("macro_recall", "Macro recall"),
    ("macro_f1", "Macro F1"),
    ("weighted_precision", "Weighted precision"),
    ("weighted_recall", "Weighted recall"),
    ("weighted_f1", "Weighted F1"),
    ("micro_f1", "Micro F1"),
    ("roc_auc", "ROC AUC"),
    ("roc_auc_micro", "ROC AUC (micro)"),
    ("average_precision", "Average precision"),
    ("average_precision_micro", "Average precision (micro)"),
    ("calibration.ece", "Calibration error (ECE)"),
)
LOWER_IS_BETTER = {"calibration.ece"}
WITH_INTERVALS = {"accuracy": "accuracy", "macro_f1": "macro F1"}  # paired bootstrap deltas
COMPARED = {  # metric keys of compare_runs -> labels
    "accuracy": "Accuracy",
    "macro_f1": "Macro F1",
    "weighted_f1": "Weighted F1",
    "roc_auc": "ROC AUC",
}
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
    model_ci: tuple[float, float] | None = None  # bootstrap interval (low, high)
    baseline_ci: tuple[float, float] | None = None
    lower_is_better: bool = False

    @property
    def delta(self) -> float | None:
        if self.model is None or self.baseline is None:
            return None
        return self.model - self.baseline

    @property
    def gain(self) -> float:
        """The delta signed so that positive means the model is better (for colouring)."""
        delta = self.delta or 0.0
        return -delta if self.lower_is_better else delta


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
        MetricRow(label, _num(_nested(model, key)), _num(_nested(baseline, key)),
                  _ci(model, key), _ci(baseline, key), key in LOWER_IS_BETTER)
        for key, label in METRICS
    ]
    return [r for r in rows if r.model is not None or r.baseline is not None]


def baseline_delta_ci(metrics: dict[str, Any]) -> list[tuple[str, float, float]]:
    """(metric label, low, high) of the paired bootstrap interval of model minus baseline."""
    found = _dict(_dict(metrics.get("comparison")).get("delta_ci"))
    return _intervals(found, WITH_INTERVALS)


def calibration_rows(metrics: dict[str, Any]) -> list[dict[str, Any]]:
    """ECE and MCE of the model and the baseline, where the evaluation measured them."""
    rows = []
    for name, scores in (("model", model_scores(metrics)), ("baseline", baseline_scores(metrics))):
        found = _dict(scores.get("calibration"))
        if _num(found.get("ece")) is not None:
            rows.append({"name": name, "ece": _num(found["ece"]), "mce": _num(found.get("mce")),
                         "method": str(found.get("method") or "")})
    return rows


def compare_table(metrics: dict[str, Any]) -> dict[str, Any] | None:
    """The comparison with an earlier run (``compare`` in metrics.json), ready to show."""
    found = _dict(metrics.get("compare"))
    if not found:
        return None
    rows = []
    for row in found.get("metrics") or []:
        row = _dict(row)
        if row.get("metric") in COMPARED:
            rows.append({"name": COMPARED[row["metric"]], "this": _num(row.get("this")),
                         "this_ci": _pair(row.get("this_ci")), "other": _num(row.get("other")),
                         "other_ci": _pair(row.get("other_ci")), "delta": _num(row.get("delta"))})
    paired = _dict(found.get("paired"))
    return {
        "this": _dict(found.get("this")),
        "other": _dict(found.get("other")),
        "rows": rows,
        "mcnemar_p": _num(_dict(paired.get("mcnemar")).get("p_value")),
        "delta_ci": _intervals(_dict(paired.get("delta_ci")), WITH_INTERVALS),
        "note": str(found["note"]) if found.get("note") else None,
    }


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
                for k in ("precision", "recall", "f1", "support", "roc_auc")
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


def _nested(scores: dict[str, Any], key: str) -> Any:
    for part in key.split("."):
        scores = scores.get(part) if isinstance(scores, dict) else None
    return scores


def _ci(scores: dict[str, Any], key: str) -> tuple[float, float] | None:
    return _pair(_dict(_dict(scores.get("confidence_intervals")).get(key)))


def _pair(value: Any) -> tuple[float, float] | None:
    """(low, high) from [low, high] or {"low": .., "high": ..}; None when either is missing."""
    if isinstance(value, dict):
        value = [value.get("low"), value.get("high")]
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        return None
    low, high = _num(value[0]), _num(value[1])
    return None if low is None or high is None else (low, high)


def _intervals(found: dict[str, Any], names: dict[str, str]) -> list[tuple[str, float, float]]:
    pairs = [(label, _pair(found.get(key))) for key, label in names.items()]
    return [(label, pair[0], pair[1]) for label, pair in pairs if pair is not None]


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
