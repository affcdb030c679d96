"""Reading helpers shared by the classification and NER inputs, and the output writer."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
import pandas as pd

from thresher._files import atomic_path
from thresher.errors import OutputError

if TYPE_CHECKING:
    from thresher.io.result import RawTable

OUTPUT_FORMATS = (".parquet", ".csv", ".jsonl")


def _in_chunks(work: Callable[[list[Any]], list[Any]], items: list[Any], batch_size: int,
               progress: bool) -> list[Any]:
    """``work(items)``, in chunks under a progress bar when ``progress``."""
    if not progress:
        return work(items)
    from rich.progress import Progress

    from thresher.evaluate.scoring import PROGRESS_CHUNK_BATCHES

    chunk = batch_size * PROGRESS_CHUNK_BATCHES
    out: list[Any] = []
    with Progress(transient=True) as bar:
        task = bar.add_task("tagging", total=len(items))
        for start in range(0, len(items), chunk):
            part = items[start : start + chunk]
            out.extend(work(part))
            bar.advance(task, len(part))
    return out


def _read_raw(path: str | Path, format: str | None, encoding: str | None) -> tuple["RawTable", str]:
    # The readers' own locate-and-parse step: read_source itself insists on a label column.
    from thresher.io.detect import format_name
    from thresher.io.hf_reader import read_hf_hub
    from thresher.io.source import _locate, _read_raw as read_located

    located = _locate(str(path), None)
    if located.hub:
        return read_hf_hub(located.hub)[0], located.name
    raw, _ = read_located(located, format_name(format) if format else None, "classification", encoding)
    return raw, located.name


def _ids(raw: "RawTable", column: str | None, keep: np.ndarray, keys: list[tuple], name: str) -> list[str]:
    """The id column's values; content ids (as the readers make them) where it has none."""
    from thresher.io.table import _given_ids, unique_ids

    content = unique_ids(keys)
    if column is None:
        return content
    given = _given_ids(raw.frame, column, raw.lines, name)  # raises on duplicates, naming lines
    kept = [value for value, k in zip(given, keep) if k]
    return [value if value is not None else made for value, made in zip(kept, content)]


def _skipped(reasons: list[str | None], raw: "RawTable", by_reason: bool) -> dict[str, int]:
    """Rows left out, by reason; rows the reader could not parse as "unparsable" (or by the
    reader's own reason: NER sentences)."""
    skipped = Counter(reason for reason in reasons if reason is not None)
    if by_reason:
        skipped.update(bad.reason for bad in raw.bad)
    elif raw.bad:
        skipped["unparsable"] = len(raw.bad)
    return dict(skipped)


def _missing(value: Any) -> bool:
    from thresher.io.values import is_missing

    return not isinstance(value, (list, tuple)) and is_missing(value)


def _json_list(text: str) -> list[Any] | None:
    try:
        parsed = json.loads(text)
    except ValueError:
        return None
    return parsed if isinstance(parsed, list) else None


def _joined(words: list[str]) -> str:
    """Words joined by spaces; characters (Chinese input, one per token) joined without."""
    return ("" if words and all(len(w) == 1 for w in words) else " ").join(words)


def write_predictions(table: pd.DataFrame, path: Path) -> Path:
    """Write ``table`` as Parquet, CSV (UTF-8; list and dict cells as JSON) or JSON Lines,
    chosen by the suffix of ``path``."""
    return write_table(table, path)


def write_table(table: pd.DataFrame, path: Path, *, what: str = "the predictions",
                fix: str = "choose an output path you can write to",
                formats: tuple[str, ...] = OUTPUT_FORMATS) -> Path:
    """:func:`write_predictions` for any table; ``what`` and ``fix`` word the errors."""
    suffix = output_suffix(path, what, formats)
    try:
        with atomic_path(path) as tmp:
            if suffix == ".parquet":
                table.to_parquet(tmp, index=False)
            elif suffix == ".csv":
                _json_cells(table).to_csv(tmp, index=False, encoding="utf-8")
            else:
                table.to_json(tmp, orient="records", lines=True, force_ascii=False)
    except OSError as exc:
        raise OutputError(f"cannot write {what} ({exc.strerror or exc})", where=str(path),
                          fix=fix) from None
    return path


def _json_cells(table: pd.DataFrame) -> pd.DataFrame:
    """A copy whose list and dict cells (NER tokens, tags, entities) are JSON text."""
    nested = [c for c in table.columns if table[c].dtype == object
              and table[c].map(lambda v: isinstance(v, (list, dict, np.ndarray))).any()]
    if not nested:
        return table
    out = table.copy()
    for column in nested:
        out[column] = [json.dumps(v.tolist() if isinstance(v, np.ndarray) else v, ensure_ascii=False)
                       if isinstance(v, (list, dict, np.ndarray)) else v for v in table[column]]
    return out


def output_suffix(path: Path, what: str = "predictions",
                  formats: tuple[str, ...] = OUTPUT_FORMATS) -> str:
    """The output format from ``path``'s suffix, or an OutputError naming ``what``."""
    suffix = path.suffix.lower()
    if suffix not in formats:
        raise OutputError(f"cannot write {what} as {suffix or 'a file without a suffix'!r}",
                          where=str(path), fix=f"name the output *{', *'.join(formats)}")
    return suffix
