"""CoNLL token-per-line NER: the token is the first column, the tag the last.

Columns are split on tabs when the line has one, else on whitespace. Sentences are separated by
lines that are empty or only whitespace (WNUT-17 uses a lone TAB). ``-DOCSTART-`` lines are
document markers, not data, and are skipped. A token line without a tag column rejects its whole
sentence (``missing_tag``), as does a damaged line (``nul_bytes``, ``undecodable_line``).

Weibo-style files write each character with its position inside an automatically segmented
word (``科0``, ``技1``); when at least 95% of tokens are one character followed by digits, the
digits are removed so that tokens are plain characters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd

from thresher.errors import InputError
from thresher.io.encoding import DecodedText
from thresher.io.result import BadRow, RawTable

__all__ = ["looks_like_conll", "read_conll"]

_TAG = re.compile(r"^(O|[BIESLU]-\S+|[BIESLU]_\S+)$")
_CHAR_POSITION = re.compile(r"^(.+?)(\d+)$")
_ONE_CHAR_POSITION = re.compile(r"^.\d+$")


def _columns(line: str) -> list[str]:
    return line.split("\t") if "\t" in line else line.split()


def looks_like_conll(lines: list[str]) -> bool:
    """At least 90% of the first 500 non-blank lines end in a BIO tag, and sentences are short."""
    sample = [line for line in lines[:3000] if line.strip()][:500]
    if not sample:
        return False
    tagged = sum(1 for line in sample if len(_columns(line)) >= 2 and _TAG.match(_columns(line)[-1]))
    return tagged >= 0.9 * len(sample)


@dataclass
class _Sentence:
    start: int
    tokens: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    problem: tuple[str, str] | None = None
    raw: list[str] = field(default_factory=list)


def _sentences(decoded: DecodedText) -> list[_Sentence]:
    sentences: list[_Sentence] = []
    current: _Sentence | None = None
    for number, line in enumerate(decoded.lines, start=1):
        if not line.strip():
            current = None
            continue
        cols = _columns(line)
        if cols[0] == "-DOCSTART-":
            continue
        if current is None:
            current = _Sentence(start=number)
            sentences.append(current)
        current.raw.append(line)
        if current.problem is None and number in decoded.flags:
            reason, detail = decoded.flags[number]
            current.problem = (reason, f"line {number}: {detail}")
        if len(cols) < 2:
            current.problem = current.problem or ("missing_tag", f"line {number} has a token but no tag")
            continue
        current.tokens.append(cols[0].strip())
        current.tags.append(cols[-1].strip())
    return sentences


def _strip_positions(sentences: list[_Sentence]) -> None:
    tokens = [t for s in sentences[:2000] for t in s.tokens]
    if not tokens or sum(1 for t in tokens if _ONE_CHAR_POSITION.match(t)) < 0.95 * len(tokens):
        return
    for sentence in sentences:
        sentence.tokens = [_CHAR_POSITION.sub(r"\1", t) for t in sentence.tokens]


def read_conll(decoded: DecodedText, where: str) -> RawTable:
    """One row per sentence: columns ``tokens`` and ``tags`` (lists of str)."""
    sentences = _sentences(decoded)
    if not sentences:
        raise InputError("no sentences found", where=where, fix="pass token<TAB>tag lines")
    _strip_positions(sentences)
    good = [s for s in sentences if s.problem is None]
    bad = [BadRow(s.start, s.problem[0], s.problem[1], {"raw": "\n".join(s.raw)})
           for s in sentences if s.problem is not None]
    frame = pd.DataFrame({"tokens": [s.tokens for s in good], "tags": [s.tags for s in good]},
                         dtype=object)
    return RawTable(frame=frame, lines=[s.start for s in good], bad=bad, encoding=decoded.encoding)
