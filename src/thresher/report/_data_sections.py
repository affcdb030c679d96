"""What the report says about the data: the header, the funnel of steps, the rows invariant,
and the splits. Each function turns run-folder files into plain values for the template."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from thresher.report._data_plots import split_labels, split_texts
from thresher.report._inputs import RunInputs

__all__ = ["Invariant", "RejectReason", "StepRow", "funnel", "header", "invariant", "splits_table"]

EXAMPLES_PER_REASON = 3
EXAMPLE_CHARS = 300  # a reject example is a hint, not the record: rejects.parquet holds it all


@dataclass(frozen=True)
class StepRow:
    name: str
    rows_in: int | None
    rows_out: int | None
    rejected: int
    seconds: float | None
    kept_pct: float  # bar widths, as a share of the largest row count of any step
    rejected_pct: float


@dataclass(frozen=True)
class RejectReason:
    step: str
    reason: str
    count: int
    examples: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Invariant:
    read: int
    kept: int
    rejected: int
    holds: bool
    computed: bool  # True when the manifest had no "rows" and the steps were summed instead
    rejects_file_rows: int | None


def header(run: RunInputs) -> dict[str, Any]:
    manifest = run.manifest
    recipe = manifest.get("recipe") if isinstance(manifest.get("recipe"), dict) else {}
    inputs = [i for i in manifest.get("inputs") or [] if isinstance(i, dict)]
    return {
        "dataset": _dataset_name(recipe, inputs),
        "task": recipe.get("task") or manifest.get("task") or "classification",
        "version": manifest.get("thresher_version"),
        "created": manifest.get("created"),
        "seed": manifest.get("seed", recipe.get("seed")),
        "inputs": inputs,
        "recipe_items": _flatten(recipe)[:60],
        "recipe_json": json.dumps(recipe, ensure_ascii=False, indent=2, default=str),
    }


def _dataset_name(recipe: dict[str, Any], inputs: list[dict[str, Any]]) -> str:
    for key in ("name", "dataset"):
        value = recipe.get(key)
        if isinstance(value, str) and value:
            return value
        if isinstance(value, dict) and value.get("name"):
            return str(value["name"])
    paths = [str(i.get("path", "")).rsplit("/", 1)[-1] for i in inputs if i.get("path")]
    return ", ".join(paths) or "unnamed dataset"


def _flatten(value: Any, prefix: str = "") -> list[tuple[str, str]]:
    """Nested recipe settings as ``a.b.c: value`` pairs, lists shown inline."""
    if isinstance(value, dict):
        return [pair for k, v in value.items() for pair in _flatten(v, f"{prefix}{k}.")]
    if isinstance(value, list) and any(isinstance(v, dict) for v in value):
        return [pair for i, v in enumerate(value) for pair in _flatten(v, f"{prefix}{i}.")]
    text = (
        json.dumps(value, ensure_ascii=False, default=str)
        if isinstance(value, list)
        else str(value)
    )
    return [(prefix.rstrip("."), text)]


def funnel(run: RunInputs) -> tuple[list[StepRow], list[RejectReason]]:
    steps = [s for s in run.manifest.get("steps") or [] if isinstance(s, dict)]
    largest = max([_int(s.get(k)) or 0 for s in steps for k in ("rows_in", "rows_out")] + [1])
    rows, reasons = [], []
    for step in steps:
        rejected = _reason_counts(step.get("rejected"))
        total = sum(rejected.values())
        rows_out = _int(step.get("rows_out"))
        rows.append(
            StepRow(
                name=str(step.get("name", "?")),
                rows_in=_int(step.get("rows_in")),
                rows_out=rows_out,
                rejected=total,
                seconds=_float(step.get("seconds")),
                kept_pct=100 * (rows_out or 0) / largest,
                rejected_pct=100 * total / largest,
            )
        )
        examples = step.get("examples") if isinstance(step.get("examples"), dict) else {}
        for reason, count in rejected.items():
            found = _reject_examples(run.rejects, str(step.get("name", "?")), reason)
            reasons.append(
                RejectReason(
                    str(step.get("name", "?")),
                    reason,
                    count,
                    found or [_short(e) for e in examples.get(reason) or []][:EXAMPLES_PER_REASON],
                )
            )
    return rows, reasons


def _reason_counts(rejected: Any) -> dict[str, int]:
    if isinstance(rejected, dict):
        return {str(k): _int(v) or 0 for k, v in rejected.items()}
    count = _int(rejected)
    return {"rejected": count} if count else {}


def _reject_examples(rejects: pd.DataFrame | None, step: str, reason: str) -> list[str]:
    if rejects is None or rejects.empty or not {"step", "reason"} <= set(rejects.columns):
        return []
    hits = rejects[
        (rejects["step"].astype(str) == step) & (rejects["reason"].astype(str) == reason)
    ]
    return [_record_text(row) for _, row in hits.head(EXAMPLES_PER_REASON).iterrows()]


def _record_text(row: pd.Series) -> str:
    """The text of a rejected record (its ``text`` field, or its tokens), else the raw JSON."""
    raw = str(row.get("record", "") or "")
    try:
        record = json.loads(raw)
    except json.JSONDecodeError:
        return _short(raw)
    if isinstance(record, dict):
        if record.get("text") is not None:
            return _short(str(record["text"]))
        if isinstance(record.get("tokens"), list):
            return _short(" ".join(map(str, record["tokens"])))
    return _short(raw)


def invariant(run: RunInputs, steps: list[StepRow]) -> Invariant | None:
    rows = run.manifest.get("rows") if isinstance(run.manifest.get("rows"), dict) else {}
    read, kept, rejected = (_int(rows.get(k)) for k in ("read", "kept", "rejected"))
    computed = None in (read, kept, rejected)
    if computed:
        if not steps:
            return None
        read, kept = steps[0].rows_in or 0, steps[-1].rows_out or 0
        rejected = sum(s.rejected for s in steps)
    file_rows = None if run.rejects is None else len(run.rejects)
    return Invariant(read, kept, rejected, read == kept + rejected, computed, file_rows)


def splits_table(run: RunInputs) -> list[dict[str, Any]]:
    declared = run.manifest.get("splits") if isinstance(run.manifest.get("splits"), dict) else {}
    table = []
    for name in dict.fromkeys([*run.splits, *declared]):
        frame = run.splits.get(name)
        lengths = split_texts(frame).str.len() if frame is not None else pd.Series([], dtype=int)
        table.append(
            {
                "name": name,
                "rows": len(frame) if frame is not None else _int(declared.get(name)),
                "declared": _int(declared.get(name)),
                "labels": split_labels(frame).nunique() if _labelled(frame) else None,
                "median_chars": float(lengths.median()) if len(lengths) else None,
                "file": frame is not None,
            }
        )
    return table


def _labelled(frame: pd.DataFrame | None) -> bool:
    """Rows with a label or tags (sft and seq2seq rows have neither)."""
    return frame is not None and bool({"label", "tags"} & set(frame.columns))


def _short(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= EXAMPLE_CHARS else text[: EXAMPLE_CHARS - 1] + "…"


def _int(value: Any) -> int | None:
    try:
        return None if value is None or isinstance(value, bool) else int(value)
    except (TypeError, ValueError):
        return None


def _float(value: Any) -> float | None:
    try:
        return None if value is None or isinstance(value, bool) else float(value)
    except (TypeError, ValueError):
        return None
