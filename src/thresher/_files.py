"""Writes that never leave a half file: write to a temporary name, then rename.

A run killed mid-write (even kill -9) leaves either the old file or the new one, and at
worst a stray ``.tmp-*`` file that the next write replaces.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import pandas as pd

from thresher.errors import OutputError

__all__ = [
    "atomic_path",
    "ensure_writable_dir",
    "file_sha256",
    "read_json",
    "write_bytes",
    "write_json",
    "write_parquet",
    "write_text",
]


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it over ``path`` on success."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".tmp-{path.name}-", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_bytes(path: Path, data: bytes) -> Path:
    """Write ``data`` atomically; a failure is an OutputError naming the file."""
    try:
        with atomic_path(path) as tmp:
            tmp.write_bytes(data)
    except OSError as exc:
        raise OutputError(f"cannot write the file ({exc.strerror or exc})", where=str(path),
                          fix="make the run folder writable, or write the run elsewhere") from None
    return path


def write_text(path: Path, text: str) -> Path:
    return write_bytes(path, text.encode("utf-8"))


def write_json(path: Path, data: Any) -> Path:
    """UTF-8 JSON; NaN or infinity raise rather than produce a file other tools reject."""
    text = json.dumps(data, ensure_ascii=False, indent=2, allow_nan=False, default=str)
    return write_text(path, text + "\n")


def write_parquet(path: Path, table: pd.DataFrame) -> Path:
    with atomic_path(path) as tmp:
        table.to_parquet(tmp, index=False)
    return path


def read_json(path: Path, *, fix: str) -> Any:
    """Parse a UTF-8 JSON file; a corrupt file is an OutputError naming the line."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise OutputError(f"not valid JSON ({exc.msg})", where=f"{path}:{exc.lineno}",
                          fix=fix) from None
    except UnicodeDecodeError:
        raise OutputError("not UTF-8 text", where=str(path), fix=fix) from None


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, or of every file below a folder (names and bytes, sorted)."""
    h = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        if path.is_dir():
            h.update(str(file.relative_to(path)).encode("utf-8") + b"\0")
        with open(file, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()


def ensure_writable_dir(path: Path) -> None:
    """Create ``path`` and prove it takes files, before hours of work go into it."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise OutputError(f"cannot write to the output folder ({exc.strerror or exc})",
                          where=str(path), fix="choose a folder you can write to with -o") from None
