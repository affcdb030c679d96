"""Exact and near-duplicate conversations: ``dedup_exact`` / ``dedup_near`` on the whole row.

A conversation (or an input/target pair) is compared as one text, its turns joined by "\\n"
(roles left out, as everywhere a conversation becomes one text), so two chats that say the
same things in the same order are duplicates. The keys, MinHash signatures, LSH bands and
clustering are those of the single-text operators: only what a row's text is changes.
There are no labels in these tasks, so exact dedup has no label conflicts to resolve.
"""

from __future__ import annotations

from typing import ClassVar

from thresher.ops.base import Batch
from thresher.ops.dedup_exact import DedupExact
from thresher.ops.dedup_near import DedupNear
from thresher.ops.sft import ROW_COLUMNS, SFT_TASKS, record_text, records_of

__all__ = ["SftDedupExact", "SftDedupNear", "row_texts"]


def row_texts(batch: Batch) -> list[str]:
    """Each row of an sft or seq2seq batch as one text (:func:`thresher.ops.sft.record_text`)."""
    return list(map(record_text, records_of(batch)))


class SftDedupExact(DedupExact):
    """Keep the first of each group of conversations equal up to case, Unicode compatibility
    forms and whitespace; reason ``duplicate``, detail ``duplicate_of=<id>``."""

    name = "sft_dedup_exact"
    tasks: ClassVar[tuple[str, ...]] = SFT_TASKS
    reads: ClassVar[tuple[str, ...]] = ROW_COLUMNS
    conflicts = "keep_first"  # no labels: every group is one label, nothing to resolve

    def __init__(self) -> None:
        pass

    def signature_batch(self, batch: Batch) -> Batch:
        return super().signature_batch({"text": row_texts(batch)})


class SftDedupNear(DedupNear):
    """``dedup_near`` (same settings, reason ``near_duplicate``, ``cluster`` column) on
    conversations."""

    name = "sft_dedup_near"
    tasks: ClassVar[tuple[str, ...]] = SFT_TASKS
    reads: ClassVar[tuple[str, ...]] = ROW_COLUMNS

    def signature_batch(self, batch: Batch) -> Batch:
        return super().signature_batch({"text": row_texts(batch)})
