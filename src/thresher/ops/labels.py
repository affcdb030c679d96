"""Label operators: rename labels (``1`` -> ``pos``) and keep only the labels a task uses.

Labels read from CSV or text files may be strings or integers depending on the reader, while a
recipe's YAML keys are usually strings; both operators therefore compare labels as strings
(``1`` and ``"1"`` are the same label). ``map_labels`` writes every label as a string, so that
the column keeps one type when only some labels are renamed.
"""

from __future__ import annotations

from typing import Any, ClassVar

from thresher.errors import DataError
from thresher.ops.base import COUNTS, Batch, Filter, Mapper, Verdict

__all__ = ["FilterLabels", "MapLabels"]


def _labels_of(batch_or_record: dict[str, Any], step: str) -> Any:
    if "label" not in batch_or_record:
        raise DataError(f"step '{step}' needs a 'label' column, and the data has none",
                        fix="map the label column in the recipe's input section")
    return batch_or_record["label"]


class MapLabels(Mapper):
    """Rename labels with ``mapping``; labels not in the mapping stay as they are, unless
    ``strict`` is true, which makes an unmapped label an error. Counts per renaming
    (``1->pos``) go into the step's info."""

    name = "map_labels"
    example: ClassVar[dict[str, Any]] = {"mapping": {"a": "pos", "b": "neg"}}

    def __init__(self, *, mapping: dict[str, str], strict: bool = False) -> None:
        self.mapping = mapping
        self.strict = strict

    def check(self) -> None:
        if not self.mapping:
            raise ValueError("mapping must name at least one label, e.g. {'1': pos, '0': neg}")
        bad = [v for v in self.mapping.values() if not isinstance(v, (str, int)) or v == ""]
        if bad:
            raise ValueError(f"new label names must be non-empty strings, got {bad[0]!r}")

    def map_batch(self, batch: Batch) -> Batch:
        table = {str(k): str(v) for k, v in self.mapping.items()}
        labels, counts = [], []
        for label in _labels_of(batch, self.name):
            new = table.get(str(label))
            if new is None:
                if self.strict:
                    raise DataError(f"step '{self.name}': label {label!r} is not in the mapping",
                                    fix=f"add it to mapping (known: {', '.join(table)}) or set "
                                        "strict: false")
                labels.append(str(label))
                counts.append({})
            else:
                labels.append(new)
                counts.append({f"{label}->{new}": 1})
        batch["label"] = labels
        batch[COUNTS] = counts
        return batch


class FilterLabels(Filter):
    """Keep rows whose label is in ``labels``; others go with reason ``unknown_label`` and the
    label as detail."""

    name = "filter_labels"
    example: ClassVar[dict[str, Any]] = {"labels": ["a"]}

    def __init__(self, *, labels: list[str]) -> None:
        self.labels = labels

    def check(self) -> None:
        if not self.labels:
            raise ValueError("labels must list at least one label")

    def keep_batch(self, batch: Batch) -> list[Verdict]:
        allowed = {str(k) for k in self.labels}
        return [True if str(label) in allowed else (False, "unknown_label", str(label))
                for label in _labels_of(batch, self.name)]
