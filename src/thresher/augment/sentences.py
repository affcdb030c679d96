"""Sentence-level augmentation: reorder or crop the sentences of a long text, or recombine
sentences of different texts that share a label.

A review or a news item is usually several sentences that each carry the label; reordering them,
keeping a contiguous window of them, or joining the first half of one text to the second half
of another with the same label gives new texts made only of real sentences.

Sentences end after ``。！？!?…`` (runs such as ``！！`` or ``?!`` stay together), after ``.``
followed by a space, a CJK character (Chinese reviews often use the ASCII period) or the end of
the text (so ``3.5`` stays whole), and at line breaks; a
closing quote or bracket right after the mark stays with its sentence, and the mark stays with
its sentence too. A text with CJK characters is joined back without spaces, any other with one.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any, Hashable, Sequence

import numpy as np

from thresher.augment.base import Augmenter, Variants, check_operations
from thresher.errors import DataError

__all__ = ["SENTENCE_OPERATIONS", "Recombined", "SentenceMix", "recombine", "split_sentences"]

SENTENCE_OPERATIONS = ("shuffle", "crop")
_CJK_CHARS = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK = re.compile(f"[{_CJK_CHARS}]")
_CLOSERS = "\"'”’」』）)\\]"
_END = re.compile(f"(?:[。！？!?…]+|\\.+(?=[{_CLOSERS}]*(?:\\s|$|[{_CJK_CHARS}])))[{_CLOSERS}]*|\n")


def split_sentences(text: str) -> list[str]:
    """The sentences of ``text``, each with its end mark, stripped of surrounding space."""
    sentences, start = [], 0
    for match in _END.finditer(text):
        piece = text[start:match.end()].strip()
        if piece:
            sentences.append(piece)
        start = match.end()
    rest = text[start:].strip()
    if rest:
        sentences.append(rest)
    return sentences


def _joiner(*texts: str) -> str:
    return "" if any(_CJK.search(t) for t in texts) else " "


class SentenceMix(Augmenter):
    """Variants of a multi-sentence text: shuffled sentence order, or a contiguous crop."""

    name = "sentence_mix"

    def __init__(self, *, min_sentences: int = 2,
                 operations: Sequence[str] = SENTENCE_OPERATIONS) -> None:
        self.min_sentences = min_sentences
        self.operations = operations

    def check(self) -> None:
        """Raise ValueError for a bad setting (the recipe loader turns it into a RecipeError)."""
        low = self.min_sentences
        if isinstance(low, bool) or not isinstance(low, int) or low < 1:
            raise ValueError(f"min_sentences must be a whole number >= 1, got {low!r}")
        check_operations(self.operations, SENTENCE_OPERATIONS)

    def augment(self, texts: Sequence[str], n_aug: int, *, seed: int = 13) -> Variants:
        self._check_call(n_aug)
        rng = np.random.default_rng(seed)
        out: list[list[str]] = []
        skipped: list[str | None] = []
        for text in texts:
            variants, why = self._variants(text, n_aug, rng)
            out.append(variants)
            skipped.append(why)
        return Variants(texts=out, skipped=skipped)

    def _variants(self, text: str, n_aug: int, rng: np.random.Generator
                  ) -> tuple[list[str], str | None]:
        sentences = split_sentences(text)
        n = len(sentences)
        ops = [op for op in self.operations
               if (op == "shuffle" and n >= 2) or (op == "crop" and n > self.min_sentences)]
        if not ops:
            return [], (f"{n} sentence{'s' * (n != 1)}: too few to "
                        f"{' or '.join(self.operations)} (min_sentences={self.min_sentences})")
        joiner = _joiner(text)
        seen = {joiner.join(sentences)}
        variants: list[str] = []
        tries = 2 * n_aug + 8
        for _ in range(tries):
            if ops[int(rng.integers(len(ops)))] == "shuffle":
                picked = [sentences[k] for k in rng.permutation(n)]
            else:
                size = int(rng.integers(self.min_sentences, n))  # shorter than the whole text
                start = int(rng.integers(n - size + 1))
                picked = sentences[start:start + size]
            new = joiner.join(picked)
            if new not in seen:
                seen.add(new)
                variants.append(new)
                if len(variants) == n_aug:
                    return variants, None
        return variants, (f"only {len(variants)} distinct variant{'s' * (len(variants) != 1)} "
                          f"in {tries} tries")


@dataclass
class Recombined:
    """New texts from two parents of one label: the first half of ``parents[i][0]``'s sentences
    followed by the second half of ``parents[i][1]``'s (indices into the input)."""

    texts: list[str]
    labels: list[Any]
    parents: list[tuple[int, int]]
    note: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def recombine(texts: Sequence[str], labels: Sequence[Hashable], n_new: int, *,
              seed: int = 13) -> Recombined:
    """``n_new`` texts, each the head of one text joined to the tail of another, same label.

    The first parent is drawn uniformly (so labels keep their shares), the second uniformly
    among the other texts with its label. The head is a text's first ceil(n/2) sentences, the
    tail its last ceil(n/2) (a one-sentence text gives itself), so the new text starts like its
    first parent and ends like its second. New texts equal to an input or to each other are
    drawn again, up to ``2 * n_new + 8`` tries; a shortfall is explained in ``note``.
    """
    if len(texts) != len(labels):
        raise DataError(f"recombine got {len(texts)} texts and {len(labels)} labels",
                        fix="pass one label per text")
    if isinstance(n_new, bool) or not isinstance(n_new, int) or n_new < 0:
        raise DataError(f"recombine needs n_new >= 0, got {n_new!r}", fix="pass a whole number")
    groups: dict[Hashable, list[int]] = {}
    rank: dict[int, int] = {}  # a text's place in its label's group
    for i, (text, label) in enumerate(zip(texts, labels)):
        if text.strip():
            members = groups.setdefault(label, [])
            rank[i] = len(members)
            members.append(i)
    pool = [i for members in groups.values() if len(members) >= 2 for i in members]
    result = Recombined(texts=[], labels=[], parents=[], settings={"n_new": n_new, "seed": seed})
    if not pool:
        result.note = "no label has two non-empty texts: nothing to recombine"
        return result
    rng = np.random.default_rng(seed)
    split = [split_sentences(t) for t in texts]
    seen = set(texts)
    for _ in range(2 * n_new + 8):
        if len(result.texts) == n_new:
            break
        a = pool[int(rng.integers(len(pool)))]
        members = groups[labels[a]]
        k = int(rng.integers(len(members) - 1))  # any member but a itself
        b = members[k if k < rank[a] else k + 1]
        head, tail = split[a][: (len(split[a]) + 1) // 2], split[b][len(split[b]) // 2:]
        new = _joiner(texts[a], texts[b]).join(head + tail)
        if new not in seen:
            seen.add(new)
            result.texts.append(new)
            result.labels.append(labels[a])
            result.parents.append((a, b))
    if len(result.texts) < n_new:
        result.note = f"only {len(result.texts)} distinct new texts in {2 * n_new + 8} tries"
    return result
