"""Folders of text files where the folder or file name is the label.

Two layouts, chosen by what the folder holds:

* **one folder per class** (``root/pos/001.txt``, ``root/neg/002.txt``): the sub-folder name is
  the label and **each file is one example** (its whole content, the final newline removed),
  as in IMDB's aclImdb or 20 Newsgroups. Files in deeper folders belong to the class of their
  top-level folder; files lying directly in ``root`` (a README) are ignored.
* **one file per class** (``root/pos.txt``, ``root/neg.txt``, no sub-folders): the file name
  without its extension is the label and **each non-blank line is one example**.

Hidden files and folders (starting with ``.``) and ``__MACOSX`` are skipped. A binary or
damaged file becomes a reject; it never stops the read.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pandas as pd

from thresher.errors import InputError
from thresher.io.encoding import decode_lines, detect_encoding, load_text, sniff_binary
from thresher.io.result import BadRow, RawTable

__all__ = ["data_files", "read_folder"]


def _visible(path: Path, root: Path) -> bool:
    parts = path.relative_to(root).parts
    return not any(p.startswith(".") or p == "__MACOSX" for p in parts)


def data_files(root: Path) -> list[Path]:
    """Every visible file under ``root``, sorted."""
    return sorted(p for p in root.rglob("*") if p.is_file() and _visible(p, root))


def read_folder(root: Path, name: str, encoding: str | None = None) -> RawTable:
    """Rows with columns ``text``, ``label`` and ``file`` (the path inside the folder)."""
    classes = sorted(p for p in root.iterdir() if p.is_dir() and _visible(p, root))
    if classes:
        return _per_file(root, classes, name, encoding)
    files = data_files(root)
    if not files:
        raise InputError("the folder holds no data files", where=name,
                         fix="put one sub-folder per class (each file one example), "
                             "or one file per class (each line one example)")
    return _per_line(root, files, name, encoding)


def _file_text(path: Path, encoding: str | None) -> tuple[str, str | None, tuple[str, str] | None]:
    """(text, encoding, problem) for a one-example file."""
    data = path.read_bytes()
    if not data:
        return "", None, None
    binary = sniff_binary(data)
    if binary:
        return "", None, ("binary_file", f"looks binary ({binary})")
    used = encoding or detect_encoding(data)
    decoded = decode_lines(data, used, where=str(path))
    problem = next(iter(decoded.flags.values()), None)
    return "\n".join(decoded.lines), used, problem


def _per_file(root: Path, classes: list[Path], name: str, encoding: str | None) -> RawTable:
    texts, labels, files, bad = [], [], [], []
    encodings: Counter[str] = Counter()
    for folder in classes:
        for path in data_files(folder):
            shown = f"{name}/{path.relative_to(root).as_posix()}"
            text, used, problem = _file_text(path, encoding)
            encodings.update([used] if used else [])
            if problem:
                bad.append(BadRow(1, problem[0], problem[1], {"label": folder.name, "text": text}, shown))
                continue
            texts.append(text)
            labels.append(folder.name)
            files.append(shown)
    if not files and not bad:
        raise InputError("the class folders hold no files", where=name, fix="put one example per file")
    frame = pd.DataFrame({"text": texts, "label": labels,
                          "file": [f[len(name) + 1:] for f in files]}, dtype=object)
    top = encodings.most_common(1)[0][0] if encodings else None
    return RawTable(frame=frame, lines=[1] * len(files), bad=bad, encoding=top, files=files)


def _per_line(root: Path, files: list[Path], name: str, encoding: str | None) -> RawTable:
    texts, labels, starts, shown_files, bad = [], [], [], [], []
    encodings: Counter[str] = Counter()
    for path in files:
        shown = f"{name}/{path.relative_to(root).as_posix()}"
        decoded = load_text(path, encoding)
        encodings[decoded.encoding] += 1
        for number, line in enumerate(decoded.lines, start=1):
            if not line.strip():
                continue
            if number in decoded.flags:
                reason, detail = decoded.flags[number]
                bad.append(BadRow(number, reason, detail, {"label": path.stem, "text": line}, shown))
                continue
            texts.append(line)
            labels.append(path.stem)
            starts.append(number)
            shown_files.append(shown)
    frame = pd.DataFrame({"text": texts, "label": labels,
                          "file": [f[len(name) + 1:] for f in shown_files]}, dtype=object)
    return RawTable(frame=frame, lines=starts, bad=bad, encoding=encodings.most_common(1)[0][0],
                    files=shown_files)
