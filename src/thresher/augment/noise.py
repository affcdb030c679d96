"""Character noise: the typos and formatting slips real user text has, so a model tolerates them.

Five operations, each changing one character: ``keyboard`` (a letter becomes a QWERTY
neighbour, case kept), ``swap`` (two adjacent letters trade places), ``delete`` (a letter or
digit goes), ``width`` (ASCII <-> full-width form, e.g. ``A`` <-> ``Ａ``, ``,`` <-> ``，``) and
``punct`` (a punctuation mark is dropped, doubled, or replaced by a sibling of the same role:
``,`` ``，`` ``、``; ``.`` ``。`` ``．``; ...). Never homophones: a sound-alike character can change
the meaning, which a label-keeping augmenter must not risk.

``rate`` is the chance that each eligible character (one at least one operation applies to) is
changed; a changed character gets one of its applicable operations at random. Chinese texts
(``language="zh"``, or ``"auto"`` and any CJK character) only get ``width`` and ``punct``:
keyboard typos and letter swaps make no sense on Hanzi, which are typed through an input method.
"""

from __future__ import annotations

import re
from typing import Callable, Sequence

import numpy as np

from thresher.augment.base import Augmenter, Variants, check_operations

__all__ = ["NOISE_OPERATIONS", "CharNoise", "keyboard_neighbours"]

NOISE_OPERATIONS = ("keyboard", "swap", "delete", "width", "punct")
_CJK = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_ROW_SHIFT = (0.0, 0.25, 0.75)  # how far each row sits right of the one above, in keys
_FAMILIES = (",，、", ".。．", "!！", "?？", ";；", ":：", "(（", ")）")
_SIBLINGS = {c: family.replace(c, "") for family in _FAMILIES for c in family}


def keyboard_neighbours() -> dict[str, str]:
    """Each lowercase letter -> the letters touching its key on a QWERTY keyboard."""
    where = {c: (r, i + _ROW_SHIFT[r]) for r, row in enumerate(_ROWS) for i, c in enumerate(row)}
    return {c: "".join(d for d, (rd, xd) in where.items()
                       if d != c and abs(rd - r) <= 1 and abs(xd - x) <= (1 if rd == r else 0.75))
            for c, (r, x) in where.items()}


_NEIGHBOURS = keyboard_neighbours()


def _width_switch(c: str) -> str | None:
    code = ord(c)
    if 0x21 <= code <= 0x7E:
        return chr(code + 0xFEE0)
    if 0xFF01 <= code <= 0xFF5E:
        return chr(code - 0xFEE0)
    return None


def _applicable(text: str, i: int, ops: Sequence[str]) -> list[str]:
    """The operations that can change character ``i`` of ``text``."""
    c = text[i]
    letter = c.isascii() and c.isalpha()
    found = []
    for op in ops:
        if (op == "keyboard" and letter) or (op == "delete" and c.isascii() and c.isalnum()) or (
                op == "width" and _width_switch(c)) or (op == "punct" and c in _SIBLINGS) or (
                op == "swap" and letter and i + 1 < len(text) and text[i + 1].isascii()
                and text[i + 1].isalpha() and text[i + 1] != c):
            found.append(op)
    return found


class CharNoise(Augmenter):
    """Keyboard typos, letter swaps and deletions, width and punctuation changes."""

    name = "char_noise"

    def __init__(self, *, rate: float = 0.05, operations: Sequence[str] = NOISE_OPERATIONS,
                 language: str = "auto") -> None:
        self.rate = rate
        self.operations = operations
        self.language = language

    def check(self) -> None:
        """Raise ValueError for a bad setting (the recipe loader turns it into a RecipeError)."""
        rate = self.rate
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 < rate <= 1:
            raise ValueError(f"rate must be a number with 0 < rate <= 1, got {rate!r}")
        check_operations(self.operations, NOISE_OPERATIONS)
        if self.language not in ("auto", "en", "zh"):
            raise ValueError(f"language must be auto, en or zh, got {self.language!r}")

    def augment(self, texts: Sequence[str], n_aug: int, *, seed: int = 13) -> Variants:
        self._check_call(n_aug)
        rng = np.random.default_rng(seed)
        out: list[list[str]] = []
        skipped: list[str | None] = []
        for text in texts:
            chinese = self.language == "zh" or (self.language == "auto" and _CJK.search(text))
            ops = [op for op in self.operations if not chinese or op in ("width", "punct")]
            choices = [(i, found) for i in range(len(text)) if (found := _applicable(text, i, ops))]
            variants, why = _noisy_variants(text, choices, self.rate, n_aug, rng)
            out.append(variants)
            skipped.append(why)
        return Variants(texts=out, skipped=skipped)


def _noisy_variants(text: str, choices: list[tuple[int, list[str]]], rate: float, n_aug: int,
                    rng: np.random.Generator) -> tuple[list[str], str | None]:
    if not choices:
        return [], "no character any of the operations applies to"
    variants: list[str] = []
    tries = 2 * n_aug + 8
    for _ in range(tries):
        picked = np.flatnonzero(rng.random(len(choices)) < rate)
        if len(picked) == 0:  # a short text at a low rate: change one character all the same
            picked = rng.integers(len(choices), size=1)
        new = _apply(text, [choices[k] for k in picked], rng.random(2 * len(picked)).tolist())
        if new != text and new.strip() and new not in variants:  # never an empty "variant"
            variants.append(new)
            if len(variants) == n_aug:
                return variants, None
    return variants, (f"only {len(variants)} distinct variant{'s' * (len(variants) != 1)} "
                      f"in {tries} tries")


def _apply(text: str, picked: list[tuple[int, list[str]]], draws: list[float]) -> str:
    """Change the picked characters (positions ascending); ``draws``: two uniforms each."""
    chars: list[str | None] = list(text)
    swapped: set[int] = set()
    for n, (i, ops) in enumerate(picked):
        if i in swapped:  # already moved by the swap at i - 1
            continue
        op, u = ops[int(draws[2 * n] * len(ops))], draws[2 * n + 1]
        chars[i] = _CHANGES[op](text[i], u, text, i, chars, swapped)
    return "".join(c for c in chars if c is not None)


def _keyboard(c: str, u: float, *_: object) -> str:
    options = _NEIGHBOURS[c.lower()]
    typo = options[int(u * len(options))]
    return typo.upper() if c.isupper() else typo


def _swap(c: str, u: float, text: str, i: int, chars: list[str | None], swapped: set[int]
          ) -> str | None:
    chars[i + 1] = c
    swapped.add(i + 1)
    return text[i + 1]


def _punct(c: str, u: float, *_: object) -> str | None:
    siblings = _SIBLINGS[c]
    options: list[str | None] = [None, c + c, *siblings]  # drop, double, a sibling mark
    return options[int(u * len(options))]


_CHANGES: dict[str, Callable[..., str | None]] = {
    "keyboard": _keyboard,
    "swap": _swap,
    "delete": lambda *_: None,
    "width": lambda c, *_: _width_switch(c),
    "punct": _punct,
}
