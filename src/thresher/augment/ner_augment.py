"""Entity-preserving augmentation for NER: new tagged sentences whose BIO tags stay true.

Text augmenters break a tagged sentence: a synonym of "Paris" is no longer a place, and an
inserted word shifts every tag after it. This augmenter only makes changes it can tag:

* ``mention``: each entity mention is replaced, with probability ``p_mention`` (at least one
  per variant), by another mention of the same type found in the rows passed in (the
  training split, so never a validation or test entity). A mention of k tokens replaced by
  one of m tokens gets ``B-T`` and m - 1 ``I-T``; in Chinese character-level data a mention is
  a run of characters, so the replacement is one too.
* ``synonym``: EDA's synonym replacement on the words outside every mention:
  ``max(1, int(alpha_sr * n))`` distinct words of the n non-entity words, every occurrence,
  each by a random synonym, tagged ``O``. English words are tokens with a letter and two
  characters inside their edge punctuation (not "'s" or "50"), looked up through eda's
  WordNet lookup (case and edge punctuation kept; a multi-word synonym becomes several
  tokens). Chinese rows (any CJK token) are segmented with jieba one run of ``O`` tokens at a
  time, so a word never crosses a mention; synonyms are eda's Cilin ``=`` groups with its POS
  filter, and in character-level rows a synonym becomes one token per character. Stop words
  are never replaced (eda's lists).

Each variant applies one operation, planned as in EDA (``ceil(n_aug / k)`` of each operation
in use, shuffled); an operation that keeps giving known sentences hands over to the other.
A variant's tags are rebuilt from its mentions, so they are valid BIO even where the input
was not: an ``I-X`` that opens a mention is read as ``B-X``, as seqeval and ``repair_bio`` do.
One ``random.Random(seed)`` stream serves a whole call, so the same rows, ``n_aug`` and
``seed`` give the same variants.
"""

from __future__ import annotations

import random
from typing import Any, Callable, Sequence

from thresher.augment.base import Augmenter, Variants, check_operations
from thresher.augment.eda import plan_operations
from thresher.errors import DataError, RecipeError
from thresher.ops.chinese import has_cjk

__all__ = ["NER_OPERATIONS", "EntityAugment", "bio_problem", "mention_spans", "ner_text"]

NER_OPERATIONS = ("mention", "synonym")
Mention = tuple[int, int, str]  # first token, end (exclusive), entity type
Tagged = tuple[list[str], list[str]]
Made = tuple[list[str], list[Mention]]
Pool = dict[str, tuple[list[tuple[str, ...]], dict[tuple[str, ...], int]]]


def ner_text(tokens: Sequence[str]) -> str:
    """A tagged sentence as text: Chinese characters joined without spaces, words with."""
    chars = has_cjk("".join(tokens)) and all(len(t) == 1 for t in tokens if has_cjk(t))
    return ("" if chars else " ").join(tokens)


def mention_spans(tags: Sequence[str]) -> list[Mention]:
    """The entity mentions of a BIO sequence; an ``I-X`` that does not continue an X opens one."""
    spans: list[Mention] = []
    start, kind = -1, ""
    for i, tag in enumerate(tags):
        if tag.startswith("I-") and tag[2:] == kind:
            continue
        if kind:
            spans.append((start, i, kind))
        start, kind = (i, tag[2:]) if tag.startswith(("B-", "I-")) else (-1, "")
    if kind:
        spans.append((start, len(tags), kind))
    return spans


def _format_problem(tokens: Sequence[str], tags: Sequence[str]) -> str | None:
    if len(tokens) != len(tags):
        return f"{len(tokens)} tokens but {len(tags)} tags"
    for i, tag in enumerate(tags):
        if tag != "O" and not (tag[:2] in ("B-", "I-") and len(tag) > 2):
            return f"tag {tag!r} at position {i} is not O, B-TYPE or I-TYPE"
    return None


def bio_problem(tokens: Sequence[str], tags: Sequence[str]) -> str | None:
    """Why ``tags`` is not a valid BIO tagging of ``tokens``, or None when it is."""
    problem = _format_problem(tokens, tags)
    if problem:
        return problem
    previous = "O"
    for i, tag in enumerate(tags):
        if tag.startswith("I-") and previous[2:] != tag[2:]:
            return f"tag {tag!r} at position {i} does not continue a {tag[2:]} mention"
        previous = tag
    return None


class EntityAugment(Augmenter):
    """Mention replacement and entity-safe synonym replacement (see the module docstring)."""

    name = "ner"

    def __init__(self, *, operations: Sequence[str] = NER_OPERATIONS, p_mention: float = 0.5,
                 alpha_sr: float = 0.1) -> None:
        self.operations = operations
        self.p_mention = p_mention
        self.alpha_sr = alpha_sr

    def check(self) -> None:
        """Raise ValueError for a bad setting (the recipe loader turns it into a RecipeError)."""
        check_operations(self.operations, NER_OPERATIONS)
        for key, low in (("p_mention", "0 <"), ("alpha_sr", "0 <=")):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
                    0 <= value <= 1) or (key == "p_mention" and value == 0):
                raise ValueError(f"{key} must be a number with {low} {key} <= 1, got {value!r}")

    def augment(self, texts: Sequence[str], n_aug: int, *, seed: int = 13) -> Variants:
        raise RecipeError("the ner augmenter varies tagged tokens, not plain texts",
                          where="augment: ner",
                          fix="use it on ner data (tokens and tags) or call augment_tokens")

    def augment_tokens(self, tokens: Sequence[Sequence[str]], tags: Sequence[Sequence[str]],
                       n_aug: int, *, seed: int = 13) -> list[list[Tagged]]:
        """Up to ``n_aug`` distinct (tokens, tags) variants per row, none equal to the row.

        The mention pool is built from these rows, per type: pass the training split.
        """
        self._check_call(n_aug)
        rows = _checked_rows(tokens, tags)
        mentions = [mention_spans(row_tags) for _, row_tags in rows]
        pool = _mention_pool(rows, mentions)
        draw = random.Random(seed).random
        out = []
        for (words, _), spans in zip(rows, mentions):
            makers: dict[str, Callable[[], Made]] = {}
            for op in self.operations:
                maker = (_mention_maker(words, spans, pool, self.p_mention, draw)
                         if op == "mention" else _synonym_maker(words, spans, self.alpha_sr, draw))
                if maker is not None:
                    makers[op] = maker
            out.append(_variants(words, makers, n_aug, draw))
        return out


def _checked_rows(tokens: Sequence[Sequence[str]], tags: Sequence[Sequence[str]]
                  ) -> list[Tagged]:
    if len(tokens) != len(tags):
        raise DataError(f"{len(tokens)} token rows but {len(tags)} tag rows",
                        where="augment: ner", fix="pass one tag list per token list")
    rows = []
    for i, (words, row_tags) in enumerate(zip(tokens, tags)):
        words, row_tags = [str(w) for w in words], [str(t) for t in row_tags]
        problem = _format_problem(words, row_tags)
        if problem:
            raise DataError(f"row {i}: {problem}", where="augment: ner",
                            fix="give every token one BIO tag (O, B-TYPE or I-TYPE)")
        rows.append((words, row_tags))
    return rows


def _mention_pool(rows: list[Tagged], mentions: list[list[Mention]]) -> Pool:
    """Per type: the distinct mentions in first-seen order, and each one's index."""
    pool: Pool = {}
    for (words, _), spans in zip(rows, mentions):
        for start, end, kind in spans:
            found, index = pool.setdefault(kind, ([], {}))
            mention = tuple(words[start:end])
            if mention not in index:
                index[mention] = len(found)
                found.append(mention)
    return pool


def _variants(words: list[str], makers: dict[str, Callable[[], Made]], n_aug: int,
              draw: Callable[[], float]) -> list[Tagged]:
    """Up to ``n_aug`` distinct variants in ``2 * n_aug + 8`` tries, as eda plans them."""
    if not makers:
        return []
    ops = list(makers)
    plan = plan_operations(ops, n_aug, draw)
    seen = {tuple(words)}
    out: list[Tagged] = []
    fails = 0
    for _ in range(2 * n_aug + 8):
        op = plan[len(out)]
        new, spans = makers[op]()
        if tuple(new) not in seen:
            seen.add(tuple(new))
            out.append((new, _bio(len(new), spans)))
            if len(out) == n_aug:
                break
            fails = 0
            continue
        fails += 1
        if fails == 3:  # this operation keeps giving known sentences: try the next one
            plan[len(out)] = ops[(ops.index(op) + 1) % len(ops)]
            fails = 0
    return out


def _bio(n: int, spans: list[Mention]) -> list[str]:
    tags = ["O"] * n
    for start, end, kind in spans:
        tags[start:end] = [f"B-{kind}"] + [f"I-{kind}"] * (end - start - 1)
    return tags


def _apply(words: list[str], spans: list[Mention], edits: dict[int, tuple[int, list[str]]]
           ) -> Made:
    """``words`` with ``edits`` (start -> (end, new tokens)); mentions moved and resized."""
    new: list[str] = []
    moved = [0] * (len(words) + 1)  # old token index -> new one, at edit and token bounds
    i = 0
    while i < len(words):
        moved[i] = len(new)
        if i in edits:
            end, tokens = edits[i]
            new.extend(tokens)
            i = end
        else:
            new.append(words[i])
            i += 1
    moved[len(words)] = len(new)
    return new, [(moved[s], moved[e], kind) for s, e, kind in spans]


def _mention_maker(words: list[str], spans: list[Mention], pool: Pool, p: float,
                   draw: Callable[[], float]) -> Callable[[], Made] | None:
    """Replaces mentions by other same-type mentions; None when no mention has another."""
    own = [pool[kind][1].get(tuple(words[s:e])) for s, e, kind in spans]
    options = [i for i, (_, _, kind) in enumerate(spans)
               if len(pool[kind][0]) > (own[i] is not None)]
    if not options:
        return None

    def make() -> Made:
        chosen = [i for i in options if draw() < p] or [options[int(draw() * len(options))]]
        edits = {}
        for i in chosen:
            start, end, kind = spans[i]
            found = pool[kind][0]
            j = int(draw() * (len(found) - (own[i] is not None)))
            if own[i] is not None and j >= own[i]:  # skip the mention itself
                j += 1
            edits[start] = (end, list(found[j]))
        return _apply(words, spans, edits)

    return make


def _synonym_maker(words: list[str], spans: list[Mention], alpha: float,
                   draw: Callable[[], float]) -> Callable[[], Made] | None:
    """EDA's synonym replacement outside the mentions; None when no word has a synonym."""
    units, split = _units(words, spans)
    if not units:
        return None
    options: dict[str, tuple[str, ...]] = {}
    for _, _, word, synonyms in units:
        if synonyms and word not in options:
            options[word] = synonyms
    if not options:
        return None
    n = max(1, int(alpha * len(units)))

    def make() -> Made:
        pool = list(options)
        mapping = {}
        for i in range(min(n, len(pool))):  # partial Fisher-Yates, as eda's replacement
            j = i + int(draw() * (len(pool) - i))
            pool[i], pool[j] = pool[j], pool[i]
            choices = options[pool[i]]
            mapping[pool[i]] = choices[int(draw() * len(choices))]
        edits = {s: (e, split(mapping[w])) for s, e, w, _ in units if w in mapping}
        return _apply(words, spans, edits)

    return make


def _units(words: list[str], spans: list[Mention]
           ) -> tuple[list[tuple[int, int, str, tuple[str, ...]]], Callable[[str], list[str]]]:
    """The non-entity words (first token, end, word, synonyms) and how a synonym becomes
    tokens."""
    outside = [True] * len(words)
    for start, end, _ in spans:
        outside[start:end] = [False] * (end - start)
    runs, start = [], None
    for i, free in enumerate([*outside, False]):
        if free and start is None:
            start = i
        elif not free and start is not None:
            runs.append((start, i))
            start = None
    if not any(has_cjk(w) for w in words):
        return [u for a, b in runs for u in _english_units(words, a, b)], str.split
    chars = all(len(w) == 1 for w in words if has_cjk(w))
    return [u for a, b in runs for u in _chinese_units(words, a, b)], list if chars else (
        lambda synonym: [synonym])


def _english_units(words: list[str], a: int, b: int) -> list[tuple[int, int, str, Any]]:
    """The word tokens of ``words[a:b]`` with their WordNet synonyms.

    eda's lookup keeps case and edge punctuation and skips stop words (reused, not copied).
    A word needs a letter and two characters inside its edge punctuation: tokenized text
    splits clitics off ("'s", "'m") and WordNet reads their one letter as a word ("s":
    sulfur), and a number's synonyms are roman numerals ("50": "l").
    """
    from thresher.augment.eda import EDGE_PUNCTUATION, english_synonyms, load_english_synonyms

    load_english_synonyms()
    units = []
    for i in range(a, b):
        word = words[i]
        core = word.strip(EDGE_PUNCTUATION)
        if len(core) >= 2 and not core.isdigit() and any(c.isalpha() for c in core):
            units.append((i, i + 1, word, english_synonyms(word)))
    return units


def _chinese_units(words: list[str], a: int, b: int) -> list[tuple[int, int, str, Any]]:
    """jieba's words of one run of non-entity tokens that start and end on token bounds."""
    from thresher.augment.eda import chinese_synonyms, chinese_words, is_word

    bounds, offset = {0: a}, 0
    for i in range(a, b):
        offset += len(words[i])
        bounds[offset] = i + 1
    units, offset = [], 0
    for word, flag in chinese_words("".join(words[a:b])):
        first, offset = offset, offset + len(word)
        if first in bounds and offset in bounds and is_word(word):
            units.append((bounds[first], bounds[offset], word, chinese_synonyms(word, flag)))
    return units
