"""``apply_review``: apply a reviewer's keep / relabel / drop decisions, with lineage.

`thresher audit` writes suspects (id, text, label, suggested_label, ...) with empty
``decision`` and ``new_label`` columns; a reviewer fills them in and the recipe step reads the
file back (CSV, JSONL or Parquet), or takes a few decisions inline:

    - apply_review: {file: audit/suspects.csv}
    - apply_review: {decisions: {a1b2c3: drop, d4e5f6: {relabel: pos}}}

A relabelled row keeps its old label in ``label_before_review``; a dropped row goes to rejects
(reason ``review_drop``, detail: the reviewer's note when the file has a ``note`` column). An
empty decision means "not reviewed" and keeps the row as it is. Rows are matched by ``id``,
which is stable between runs of the same input, so a file reviewed from one run applies to
the next. Ids the data no longer has are counted, not errors (an earlier step may drop them).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd

from thresher.ops.base import Decision, GlobalOp

__all__ = ["ApplyReview", "DECISIONS", "read_review"]

DECISIONS = ("keep", "relabel", "drop")


class ApplyReview(GlobalOp):
    """Keep, relabel or drop rows by id, as a reviewed file (or inline mapping) says."""

    name = "apply_review"
    reads: ClassVar[tuple[str, ...]] = ()
    files: ClassVar[tuple[str, ...]] = ("file",)  # resolved relative to the recipe, hashed
    example: ClassVar[dict[str, Any]] = {"decisions": {"no-such-id": "drop"}}

    def __init__(self, *, file: str | None = None, decisions: dict[str, Any] | None = None
                 ) -> None:
        self.file = file
        self.decisions = decisions

    def check(self) -> None:
        if (self.file is None) == (self.decisions is None):
            raise ValueError("give either file (a reviewed suspects file) or decisions "
                             "(id: keep | drop | {relabel: NEW})")
        self._table()

    def _table(self) -> dict[str, tuple[str, str]]:
        """id -> (decision, new label or note), read once."""
        cached = getattr(self, "_cached", None)
        if cached is None:
            cached = self._cached = (read_review(Path(self.file)) if self.file is not None
                                     else _inline(self.decisions or {}))
        return cached

    def signature_batch(self, batch: dict[str, list[Any]]) -> dict[str, list[Any]]:
        # decide reads the id and label columns the engine adds; one column keeps the row count
        return {"review_id": [str(i) for i in batch["id"]]}

    def decide(self, keys: pd.DataFrame) -> Decision:
        table = self._table()
        labels = keys["label"].tolist() if "label" in keys else [None] * len(keys)
        new_labels, before, drop, changes = list(labels), [None] * len(keys), {}, Counter()
        found = 0
        for row, row_id in enumerate(keys["id"].astype(str)):
            decision, value = table.get(row_id, ("", ""))
            found += row_id in table
            if decision == "drop":
                drop[row] = ("review_drop", value)
            elif decision == "relabel" and str(labels[row]) != value:
                before[row] = None if labels[row] is None else str(labels[row])
                new_labels[row] = value
                changes[f"{labels[row]}->{value}"] += 1
        columns = {"label_before_review": before}
        if changes:
            columns["label"] = _one_type(new_labels, labels)
        counts = Counter(d for d, _ in table.values())
        info = {"decisions": {d: counts.get(d, 0) for d in (*DECISIONS, "")},
                "relabelled": sum(changes.values()), "changes": dict(sorted(changes.items())),
                "dropped": len(drop), "ids_not_in_data": len(table) - found,
                "source": self.file or "inline"}
        return Decision(drop=drop, columns=columns, info=info)


def _one_type(labels: list[Any], before: list[Any]) -> list[Any]:
    """Integer labels stay integers when every new label is one too; otherwise all become
    strings (a column of mixed types cannot be written to Parquet)."""
    integers = all(isinstance(x, int) for x in before if x is not None)
    if integers and all(x is None or str(x).lstrip("-").isdigit() for x in labels):
        return [None if x is None else int(x) for x in labels]
    return [None if x is None else str(x) for x in labels]


def _inline(decisions: dict[str, Any]) -> dict[str, tuple[str, str]]:
    table = {}
    for row_id, value in decisions.items():
        if isinstance(value, dict) and set(value) == {"relabel"}:
            table[str(row_id)] = ("relabel", _label(value["relabel"], row_id))
        elif value in ("keep", "drop"):
            table[str(row_id)] = (value, "")
        else:
            raise ValueError(f"decision for id {row_id!r} must be keep, drop or "
                             f"{{relabel: NEW}}, got {value!r}")
    return table


def _label(value: Any, where: Any) -> str:
    if value is None or str(value).strip() == "":
        raise ValueError(f"relabel for id {where!r} needs a new label")
    return str(value).strip()


def read_review(path: Path) -> dict[str, tuple[str, str]]:
    """A reviewed suspects file -> id -> (decision, new label for relabel / note for drop)."""
    frame = _read(path)
    missing = [c for c in ("id", "decision") if c not in frame.columns]
    if missing:
        raise ValueError(f"{path} has no {' or '.join(missing)} column (columns: "
                         f"{', '.join(map(str, frame.columns))}); use the file `thresher audit` wrote")
    frame = frame.fillna("").astype(str)
    table: dict[str, tuple[str, str]] = {}
    for line, row in enumerate(frame.to_dict("records"), 2):
        decision = row["decision"].strip().lower()
        if decision not in (*DECISIONS, ""):
            raise ValueError(f"{path}:{line}: decision {row['decision']!r} is not one of "
                             f"{', '.join(DECISIONS)} (or empty for not reviewed)")
        value = row.get("note", "").strip()
        if decision == "relabel":
            value = row.get("new_label", "").strip() or row.get("suggested_label", "").strip()
            if not value:
                raise ValueError(f"{path}:{line}: relabel needs new_label (or suggested_label)")
        previous = table.get(row["id"])
        if previous is not None and previous != (decision, value):
            raise ValueError(f"{path}:{line}: id {row['id']} has two different decisions")
        table[row["id"]] = (decision, value)
    return table


def _read(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise ValueError(f"review file not found: {path}")
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            return pd.read_csv(path, dtype=str, keep_default_na=False)
        if suffix in (".jsonl", ".json"):
            return pd.read_json(path, lines=suffix == ".jsonl", dtype=False)
        if suffix == ".parquet":
            return pd.read_parquet(path)
    except (ValueError, OSError) as exc:
        raise ValueError(f"cannot read review file {path}: {exc}") from None
    raise ValueError(f"review file {path} must be .csv, .jsonl or .parquet")
