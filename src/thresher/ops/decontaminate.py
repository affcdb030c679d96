"""Decontamination: drop training rows that share word n-grams with an evaluation set.

A model fine-tuned on a benchmark's questions scores well on that benchmark and on nothing
else; copies hide in scraped chats, so every training row (a whole conversation, or input and
target) is checked for n-grams of the evaluation rows and, when it shares any (or at least a
share ``min_overlap`` of its own n-grams), goes to rejects as ``contaminated`` with the eval
file, the eval row id and the first matching n-gram.

Tokens are those of near-dedup's word mode (:func:`thresher.ops.minhash.prepare`): NFKC,
case-folded, punctuation and whitespace dropped; a word is a run of letters and digits, and
every CJK character is a token of its own. So one setting covers both languages: ``n: 13``
(the default) means 13 English words, the length GPT-3's contamination study used, or 13
Chinese characters, about a clause (7-9 words): long enough that set phrases
("请问有什么可以帮您的吗" has 11) do not match by themselves. Mixed text mixes both.
An evaluation row shorter than ``n`` tokens has no n-gram and can never match; the report
counts those rows per file (``too_short``) so that a set of short questions is noticed
(lower ``n`` for it).

Evaluation files are read with :func:`thresher.io.read_source`, as sft, then seq2seq, then
classification data (the first that reads): their texts are a conversation's turns, input and
target, or the text. ``eval_texts`` gives a few texts inline (prompts known to leak).
N-grams are 64-bit hashes (token hashes combined as a polynomial), held sorted in one numpy
array: 8 bytes per n-gram, looked up with a binary search per row.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from thresher.errors import ThresherError
from thresher.ops.base import Batch, Decision, GlobalOp
from thresher.ops.minhash import prepare
from thresher.ops.sft import ROW_COLUMNS, SFT_TASKS
from thresher.ops.sft_dedup import row_texts

__all__ = ["ContaminationMatch", "Decontaminate", "DecontaminationReport", "EvalFileCounts",
           "EvalIndex", "decontamination_report", "ngram_hashes", "read_eval_file", "tokens"]

EXAMPLES = 20  # matches shown in the step's manifest entry
INLINE = "eval_texts"  # the name the report gives inline texts
_POLY = np.uint64(0x100000001B3)


def tokens(text: str) -> list[str]:
    """Case-folded words, each CJK character a token of its own (see the module doc)."""
    units = prepare(text, "word")[1]
    return units.split(" ") if units else []


@lru_cache(maxsize=1 << 18)
def _token_hash(token: str) -> int:
    # stable across processes, unlike hash(): workers must agree with the eval index
    return int.from_bytes(hashlib.blake2b(token.encode("utf-8", "surrogatepass"),
                                          digest_size=8).digest(), "little")


def ngram_hashes(words: list[str], n: int) -> np.ndarray:
    """uint64 hash of each run of ``n`` consecutive tokens (none when there are fewer)."""
    m = len(words) - n + 1
    if m <= 0:
        return np.zeros(0, dtype=np.uint64)
    t = np.fromiter(map(_token_hash, words), dtype=np.uint64, count=len(words))
    h = np.zeros(m, dtype=np.uint64)
    for k in range(n):  # wrapping uint64 arithmetic: h = sum t[i + k] * P**(n - 1 - k)
        h = h * _POLY + t[k:k + m]
    return h


def _show(words: list[str]) -> str:
    """Tokens as readable text: no space between two CJK characters."""
    out = words[0] if words else ""
    for prev, word in zip(words, words[1:]):
        cjk = len(prev) == len(word) == 1 and not prev.isascii() and not word.isascii()
        out += word if cjk else " " + word
    return out


@dataclass
class EvalIndex:
    """Every n-gram of the evaluation rows (sorted hashes) and the first row holding it."""

    n: int
    files: list[str]  # display names: "eval_texts" for inline texts
    rows: list[tuple[int, str]]  # (file number, eval row id) per eval row
    too_short: list[int]  # per file: rows with fewer than n tokens
    ngrams: list[int]  # per file: distinct n-grams
    hashes: np.ndarray = field(repr=False)
    owner: np.ndarray = field(repr=False)  # eval row number per hash

    @classmethod
    def build(cls, sources: list[tuple[str, list[str], list[str]]], n: int) -> EvalIndex:
        """``sources``: (name, row ids, texts) per evaluation file."""
        rows, too_short, ngrams, parts, owners = [], [], [], [], []
        for number, (_, ids, texts) in enumerate(sources):
            short, mine = 0, []
            for row_id, text in zip(ids, texts):
                h = ngram_hashes(tokens(text), n)
                short += not len(h)
                mine.append(h)
                owners.append(np.full(len(h), len(rows), dtype=np.int64))
                rows.append((number, row_id))
            parts.extend(mine)
            too_short.append(short)
            ngrams.append(len(np.unique(np.concatenate(mine))) if mine else 0)
        hashes = np.concatenate(parts) if parts else np.zeros(0, dtype=np.uint64)
        owner = np.concatenate(owners) if owners else np.zeros(0, dtype=np.int64)
        hashes, first = np.unique(hashes, return_index=True)  # sorted; first row per n-gram
        return cls(n, [name for name, _, _ in sources], rows, too_short, ngrams, hashes,
                   owner[first])

    def lookup(self, text: str) -> tuple[int, int, str, str]:
        """(distinct n-grams of ``text``, how many are in the index, the first match as
        ``eval row number|n-gram``, the eval row numbers matched joined by ",")."""
        words = tokens(text)
        h = ngram_hashes(words, self.n)
        distinct = len(np.unique(h))
        if not distinct or not len(self.hashes):
            return distinct, 0, "", ""
        pos = np.minimum(np.searchsorted(self.hashes, h), len(self.hashes) - 1)
        found = self.hashes[pos] == h
        if not found.any():
            return distinct, 0, "", ""
        first = int(np.argmax(found))  # the leftmost shared n-gram of the text
        shown = f"{int(self.owner[pos[first]])}|{_show(words[first:first + self.n])}"
        eval_rows = ",".join(map(str, np.unique(self.owner[pos[found]]).tolist()))
        return distinct, len(np.unique(h[found])), shown, eval_rows


def read_eval_file(path: str) -> tuple[list[str], list[str]]:
    """(row ids, texts) of an evaluation file, read as sft, seq2seq or classification data."""
    from thresher.io import read_source

    if not Path(path).is_file():
        raise ValueError(f"eval file not found: {path}")
    errors = []
    for task in (*SFT_TASKS, "classification"):
        try:
            table = read_source(path, task=task).table
        except ThresherError as exc:
            errors.append(f"as {task}: {exc}")
            continue
        if "text" in table and not any(c in table for c in ROW_COLUMNS):
            texts = [str(t) for t in table["text"]]
        else:
            texts = row_texts(table[[c for c in ROW_COLUMNS if c in table]].to_dict("list"))
        return [str(i) for i in table["id"]], texts
    raise ValueError(f"cannot read eval file {path} ({'; '.join(errors)})")


@dataclass
class EvalFileCounts:
    """One evaluation source: its size and what matched it."""

    file: str
    rows: int
    too_short: int  # rows with fewer than n tokens: they cannot match
    ngrams: int  # distinct n-grams
    contaminated_rows: int  # training rows dropped that share an n-gram with this file
    eval_rows_matched: int  # rows of this file found in a dropped training row


@dataclass
class ContaminationMatch:
    id: str  # the training row
    eval_file: str
    eval_id: str
    ngram: str  # the first shared n-gram, as tokens
    shared: int  # distinct n-grams of the training row found in the evaluation set
    ngrams: int  # distinct n-grams of the training row

    def detail(self) -> str:
        """The reject's detail: where the row's text comes from, and how much of it."""
        return (f'eval_file={self.eval_file} eval_id={self.eval_id} ngram="{self.ngram}" '
                f"overlap={self.shared}/{self.ngrams}")


@dataclass
class DecontaminationReport:
    n: int
    min_overlap: float
    rows: int
    contaminated: int
    files: list[EvalFileCounts]
    matches: list[ContaminationMatch]

    def to_dict(self, max_matches: int | None = None) -> dict[str, Any]:
        out = asdict(self)
        if max_matches is not None and len(self.matches) > max_matches:
            out["matches"] = out["matches"][:max_matches]
            out["note"] = f"first {max_matches} of {len(self.matches)} matches shown"
        return out


class Decontaminate(GlobalOp):
    """Drop rows sharing ``n``-token n-grams with evaluation sets (reason ``contaminated``,
    detail ``eval_file=mmlu.jsonl eval_id=... ngram="..." overlap=3/120``).

    A row goes when it shares at least one n-gram and at least ``min_overlap`` of its own
    distinct n-grams (0: any shared n-gram). ``eval_files`` are local paths, relative to the
    recipe; ``eval_texts`` are texts given inline.
    """

    name = "decontaminate"
    tasks: ClassVar[tuple[str, ...]] = SFT_TASKS
    reads: ClassVar[tuple[str, ...]] = ROW_COLUMNS
    files: ClassVar[tuple[str, ...]] = ("eval_files",)  # resolved relative to the recipe, hashed
    example: ClassVar[dict[str, Any]] = {
        "eval_texts": ["Mail me at a.b@example.com or call +1 650 253 0000 today"], "n": 5}

    def __init__(self, *, eval_files: str | list[str] | None = None,
                 eval_texts: list[str] | None = None, n: int = 13,
                 min_overlap: float = 0.0) -> None:
        self.eval_files = eval_files
        self.eval_texts = eval_texts
        self.n = n
        self.min_overlap = min_overlap

    def check(self) -> None:
        if not self._paths() and not self.eval_texts:
            raise ValueError("nothing to check against: give eval_files (evaluation sets) "
                             "or eval_texts")
        if self.n < 1:
            raise ValueError(f"n must be at least 1, got {self.n}")
        if not 0.0 <= self.min_overlap <= 1.0:
            raise ValueError(f"min_overlap must be in [0, 1], got {self.min_overlap}")
        self.index()  # unreadable files fail when the recipe is loaded

    def _paths(self) -> list[str]:
        files = self.eval_files
        return [files] if isinstance(files, str) else list(files or [])

    def index(self) -> EvalIndex:
        """The evaluation n-grams, built once per process (and shipped with the operator)."""
        cached = getattr(self, "_index", None)
        if cached is None or cached.n != self.n:
            paths = self._paths()
            names = [Path(p).name for p in paths]
            names = [n if names.count(n) == 1 else p for n, p in zip(names, paths)]
            sources = [(name, *read_eval_file(p)) for name, p in zip(names, paths)]
            if self.eval_texts:
                sources.append((INLINE, [str(i) for i in range(len(self.eval_texts))],
                                [str(t) for t in self.eval_texts]))
            cached = self._index = EvalIndex.build(sources, self.n)
        return cached

    def signature_batch(self, batch: Batch) -> Batch:
        index = self.index()
        found = [index.lookup(text) for text in row_texts(batch)]
        names = ("grams", "shared", "match", "eval_rows")
        return {name: [row[k] for row in found] for k, name in enumerate(names)}

    def decide(self, keys: pd.DataFrame) -> Decision:
        drop, report = self.judge(keys)
        return Decision(drop=drop, info=report.to_dict(EXAMPLES))

    def judge(self, keys: pd.DataFrame) -> tuple[dict[int, tuple[str, str]],
                                                 DecontaminationReport]:
        """The rows to drop (by ``_row``) and the report, from the signature columns."""
        index = self.index()
        drop: dict[int, tuple[str, str]] = {}
        matches, hit_rows = [], [0] * len(index.files)
        hit_eval: list[set[int]] = [set() for _ in index.files]
        for row, match, numbers in self._matches(keys, index):
            matches.append(match)
            drop[row] = ("contaminated", match.detail())
            for number in numbers:
                hit_eval[index.rows[number][0]].add(number)
            for f in {index.rows[number][0] for number in numbers}:
                hit_rows[f] += 1
        rows_per_file = np.bincount([f for f, _ in index.rows], minlength=len(index.files))
        files = [EvalFileCounts(name, int(rows_per_file[f]), index.too_short[f],
                                index.ngrams[f], hit_rows[f], len(hit_eval[f]))
                 for f, name in enumerate(index.files)]
        return drop, DecontaminationReport(self.n, self.min_overlap, len(keys), len(matches),
                                           files, matches)

    def _matches(self, keys: pd.DataFrame, index: EvalIndex
                 ) -> Iterator[tuple[int, ContaminationMatch, list[int]]]:
        """(``_row``, match, eval row numbers matched) per contaminated row."""
        if "shared" not in keys:  # no rows at all: no signature columns either
            return
        columns = zip(keys["_row"], keys["id"], keys["grams"], keys["shared"], keys["match"],
                      keys["eval_rows"])
        for row, row_id, grams, shared, first, eval_rows in columns:
            if not shared or shared < self.min_overlap * grams:
                continue
            number, gram = first.split("|", 1)
            file_no, eval_id = index.rows[int(number)]
            yield (int(row), ContaminationMatch(str(row_id), index.files[file_no], eval_id, gram,
                                                int(shared), int(grams)),
                   [int(r) for r in eval_rows.split(",")])


def decontamination_report(table: pd.DataFrame, eval_files: str | list[str] | None = None, *,
                           eval_texts: list[str] | None = None, n: int = 13,
                           min_overlap: float = 0.0) -> DecontaminationReport:
    """What ``decontaminate`` would drop from an sft or seq2seq ``table``, per evaluation file.

    Raises :class:`RecipeError` for settings the step would refuse.
    """
    from thresher.errors import RecipeError

    op = Decontaminate(eval_files=eval_files, eval_texts=eval_texts, n=n,
                       min_overlap=min_overlap)
    try:
        op.check()
    except ValueError as exc:
        raise RecipeError(str(exc), where="decontaminate") from None
    columns = [c for c in ROW_COLUMNS if c in table]
    keys = pd.DataFrame(op.signature_batch(table[columns].to_dict("list")))
    keys["_row"], keys["id"] = range(len(table)), table["id"].astype(str).to_numpy()
    return op.judge(keys)[1]
