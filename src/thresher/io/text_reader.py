"""``label<TAB>text`` (or ``text<TAB>label``) lines without quoting, one example per line.

Which side is the label is decided from the data: the side with fewer distinct values (short
class ids such as ``0``..``9`` against sentences). The text may itself hold tabs: with the label
on the left we split at the first tab, with the label on the right at the last one. A first
line whose cells are column names (``label<TAB>text``) is skipped as a header. Blank lines are
not rows; a line without a tab is rejected as ``wrong_field_count``.
"""

from __future__ import annotations

import pandas as pd

from thresher.errors import InputError
from thresher.io.encoding import DecodedText
from thresher.io.result import BadRow, RawTable
from thresher.io.roles import LABEL_NAMES, TEXT_NAMES

__all__ = ["label_side", "read_label_lines"]


def label_side(lines: list[str]) -> str:
    """"left" or "right": which side of the tab holds the label, judged on up to 2,000 lines."""
    sample = [line for line in lines[:5000] if "\t" in line][:2000]
    if not sample:
        return "left"
    left = [line.split("\t", 1)[0].strip() for line in sample]
    right = [line.rsplit("\t", 1)[1].strip() for line in sample]
    n_left, n_right = len(set(left)), len(set(right))
    if n_left != n_right:
        return "left" if n_left < n_right else "right"
    mean_left = sum(map(len, left)) / len(left)
    mean_right = sum(map(len, right)) / len(right)
    return "left" if mean_left <= mean_right else "right"


def _is_header(label: str, text: str) -> bool:
    first, second = label.strip().lower(), text.strip().lower()
    return (first in LABEL_NAMES and second in TEXT_NAMES) or (second in LABEL_NAMES and first in TEXT_NAMES)


def _header_line(lines: list[str]) -> int:
    """The line number of a ``label<TAB>text`` header (0 when there is none)."""
    for number, line in enumerate(lines, start=1):
        if line.strip():
            cells = line.split("\t")
            return number if len(cells) == 2 and _is_header(cells[0], cells[1]) else 0
    return 0


def read_label_lines(decoded: DecodedText, where: str) -> RawTable:
    """One row per non-blank line: columns ``label`` and ``text``."""
    header = _header_line(decoded.lines)
    side = label_side(decoded.lines[header:])
    labels, texts, starts, bad = [], [], [], []
    for number, line in enumerate(decoded.lines, start=1):
        if not line.strip() or number == header:
            continue
        if number in decoded.flags:
            reason, detail = decoded.flags[number]
            bad.append(BadRow(number, reason, detail, {"raw": line}))
            continue
        if "\t" not in line:
            bad.append(BadRow(number, "wrong_field_count", "no TAB between label and text", {"raw": line}))
            continue
        if side == "left":
            label, text = line.split("\t", 1)
        else:
            text, label = line.rsplit("\t", 1)
        labels.append(label)
        texts.append(text)
        starts.append(number)
    if not starts and not bad:
        raise InputError("no data rows (the file holds only a header)", where=where,
                         fix="add label<TAB>text lines below the header")
    frame = pd.DataFrame({"label": labels, "text": texts}, dtype=object)
    return RawTable(frame=frame, lines=starts, bad=bad, encoding=decoded.encoding)
