"""The record schema per task, stable ids, and the reject row.

Tables between steps are pandas DataFrames with these columns:

* classification: ``id`` (str), ``text`` (str), ``label`` (str), ``source`` (str, ``file:line``)
* ner: ``id`` (str), ``tokens`` (list[str]), ``tags`` (list[str]), ``source`` (str)

Labels are kept as strings so that a label read from CSV ("1") and from JSON (1) are the same
class; the label map (string -> index) is fixed at training time. Extra input columns are kept
unchanged after these. A dropped row becomes a :class:`Reject`, which keeps the original
fields as JSON so that nothing is lost whatever the input's schema.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Any, Iterable

import pandas as pd

__all__ = [
    "REJECT_COLUMNS",
    "TASKS",
    "Reject",
    "core_columns",
    "make_id",
    "rejects_frame",
]

TASKS = ("classification", "multilabel", "ner")  # multilabel rows: the classification columns

REJECT_COLUMNS = ["id", "step", "reason", "detail", "source", "record"]


def core_columns(task: str) -> list[str]:
    """Columns every table of ``task`` has, in order."""
    if task == "ner":
        return ["id", "tokens", "tags", "source"]
    return ["id", "text", "label", "source"]


def make_id(*parts: Any) -> str:
    """A stable content id: the first 16 hex digits of the SHA-1 of the parts.

    The same content always gets the same id, across runs and machines, so lineage survives
    re-runs. Rows with identical content share an id until exact dedup keeps one of them; the
    reader adds the line number when the data itself holds duplicates, keeping ids unique.
    """
    h = hashlib.sha1()
    for part in parts:
        # surrogatepass: JSON input may hold lone surrogates ("\ud800"), still a valid id source
        blob = json.dumps(part, ensure_ascii=False, default=str)
        h.update(blob.encode("utf-8", "surrogatepass"))
        h.update(b"\x1f")
    return h.hexdigest()[:16]


@dataclass(frozen=True)
class Reject:
    """One dropped row: which step dropped it, why, and its original fields."""

    id: str
    step: str
    reason: str
    detail: str = ""
    source: str = ""
    record: str = "{}"  # original fields as JSON

    @staticmethod
    def of(row: dict[str, Any], step: str, reason: str, detail: str = "") -> "Reject":
        fields = {k: _plain(v) for k, v in row.items()}
        return Reject(
            id=str(row.get("id", "")),
            step=step,
            reason=reason,
            detail=detail,
            source=str(row.get("source", "")),
            record=json.dumps(fields, ensure_ascii=False, default=str),
        )


def _plain(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    return value


def rejects_frame(rejects: Iterable[Reject]) -> pd.DataFrame:
    """A DataFrame with :data:`REJECT_COLUMNS`, empty but typed when there are none."""
    rows = [asdict(r) for r in rejects]
    if not rows:
        return pd.DataFrame({c: pd.Series([], dtype="string") for c in REJECT_COLUMNS})
    return pd.DataFrame(rows, columns=REJECT_COLUMNS).astype("string")
