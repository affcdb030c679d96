"""The record schema per task, stable ids, and the reject row.

Tables between steps are pandas DataFrames with these columns:

* classification: ``id`` (str), ``text`` (str), ``label`` (str), ``source`` (str, ``file:line``)
* ner: ``id`` (str), ``tokens`` (list[str]), ``tags`` (list[str]), ``source`` (str)
* sft: ``id`` (str), ``messages`` (list of ``{"role", "content"}``; roles system, user,
  assistant; multi-turn), ``source`` (str, ``file:line`` or ``file:conversation-id``)
* seq2seq: ``id`` (str), ``input`` (str), ``target`` (str), ``source`` (str)

Labels are kept as strings so that a label read from CSV ("1") and from JSON (1) are the same
class; the label map (string -> index) is fixed at training time. Extra input columns are kept
unchanged after these. A dropped row becomes a :class:`Reject`, which keeps the original
fields as JSON so that nothing is lost whatever the input's schema.

After a Parquet round trip pandas hands ``messages`` back as a numpy array of dicts, so code
that reads messages goes through :func:`as_messages`; :func:`conversation_text` is the one way
a conversation becomes a single text (dedup, language id, leakage, decontamination).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Any, Iterable

import pandas as pd

__all__ = [
    "CHAT_ROLES",
    "REJECT_COLUMNS",
    "TASKS",
    "Reject",
    "as_messages",
    "conversation_text",
    "core_columns",
    "make_id",
    "rejects_frame",
]

# multilabel rows: the classification columns; sft rows: messages; seq2seq rows: input -> target
TASKS = ("classification", "multilabel", "ner", "sft", "seq2seq")
CHAT_ROLES = ("system", "user", "assistant")

REJECT_COLUMNS = ["id", "step", "reason", "detail", "source", "record"]


def core_columns(task: str) -> list[str]:
    """Columns every table of ``task`` has, in order."""
    if task == "ner":
        return ["id", "tokens", "tags", "source"]
    if task == "sft":
        return ["id", "messages", "source"]
    if task == "seq2seq":
        return ["id", "input", "target", "source"]
    return ["id", "text", "label", "source"]


def as_messages(value: Any) -> list[dict[str, str]]:
    """A ``messages`` cell as a list of ``{"role", "content"}`` dicts, whatever carried it.

    Accepts a list, a tuple, a numpy array (what Parquet gives back) or JSON text of a list;
    a missing cell is an empty conversation. Keys other than role and content are dropped.
    """
    if value is None or (isinstance(value, float) and value != value):
        return []
    if isinstance(value, str):
        value = json.loads(value)
    if hasattr(value, "tolist"):
        value = value.tolist()
    return [{"role": str(m["role"]),
             "content": "" if m["content"] is None else str(m["content"])} for m in value]


def conversation_text(messages: Any) -> str:
    """The user and assistant turns of a conversation joined by newlines, in order (roles left
    out). System prompts are left out too: they are configuration shared by many conversations
    (the recipe's ``system``, a product's prompt), so counting them would make every short
    conversation a near-duplicate of the others, and of any eval set with the same prompt."""
    return "\n".join(m["content"] for m in as_messages(messages) if m["role"] != "system")


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
