"""Which reader a file needs: from ``format=``, then the extension, then the content."""

from __future__ import annotations

import json
from pathlib import Path

from thresher.errors import InputError
from thresher.io.conll_reader import looks_like_conll
from thresher.io.hf_reader import HF_MARKERS

__all__ = ["FORMATS", "detect_format", "format_name", "text_format"]

FORMATS = ("csv", "tsv", "jsonl", "json", "parquet", "lines", "conll", "folder", "hf_disk")
_ALIASES = {"txt": "lines", "text": "lines", "label_text": "lines", "ndjson": "jsonl", "pq": "parquet",
            "hf": "hf_disk", "arrow": "hf_disk", "dataset": "hf_disk", "bio": "conll", "iob": "conll"}
_BY_EXTENSION = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl",
                 ".json": "json", ".parquet": "parquet", ".pq": "parquet", ".conll": "conll",
                 ".conllu": "conll", ".bio": "conll", ".iob": "conll", ".iob2": "conll"}


def format_name(value: str) -> str:
    """The canonical name of a ``format=`` value; unknown names are an :class:`InputError`."""
    name = value.strip().lower().replace("-", "_")
    name = _ALIASES.get(name, name)
    if name not in FORMATS:
        raise InputError(f"unknown format {value!r}", where="format",
                         fix=f"use one of {', '.join(FORMATS)}, or leave it out to detect it")
    return name


def detect_format(path: Path) -> str | None:
    """The format known without decoding: folders, Parquet, or a telling extension."""
    if path.is_dir():
        return "hf_disk" if any((path / m).exists() for m in HF_MARKERS) else "folder"
    with path.open("rb") as handle:
        if handle.read(4) == b"PAR1":
            return "parquet"
    return _BY_EXTENSION.get(path.suffix.lower())


def _first_object(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except json.JSONDecodeError:
        return False


def text_format(lines: list[str], task: str, extension_guess: str | None) -> str:
    """The format of decoded text lines, from the content when the extension does not say."""
    content = [line for line in lines[:2000] if line.strip()]
    first = content[0].lstrip() if content else ""
    if extension_guess == "json":
        return "jsonl" if len(content) > 1 and _first_object(first) else "json"
    if extension_guess:
        return extension_guess
    if first.startswith("{"):
        return "jsonl" if _first_object(first) else "json"
    if first.startswith("["):
        return "json"
    if task == "ner" or looks_like_conll(lines):
        return "conll"
    tabbed = [line.count("\t") for line in content[:500]]
    if tabbed and sum(1 for n in tabbed if n >= 1) >= 0.9 * len(tabbed):
        return "lines" if sorted(tabbed)[len(tabbed) // 2] == 1 else "tsv"
    return "csv"
