"""Vectorised MinHash over character or word n-gram shingles, LSH bands and a b-bit sketch.

Near-duplicate detection needs one MinHash signature per text. Hashing each shingle in Python
(as datasketch does) dominates the cost, so this module hashes all shingles of a batch at once
with numpy: texts become arrays of code points (or of word hashes), n-gram hashes are
polynomials over them (wrapping uint64 arithmetic, then the splitmix64 finaliser), and the
permutations are the multiply-add-shift family ``((a*x + b) mod 2**64) >> 32`` on 32-bit
shingle hashes, which is strongly universal (Dietzfelbinger 1996) and needs no modulo.
Everything is a pure function of the text and the seed, so signatures do not depend on how
rows are batched or on which worker computes them.

What the decision step keeps per row is small: one uint64 per LSH band and a 2-bit-per-
permutation sketch (b-bit minwise hashing, Li & König 2010) that estimates Jaccard similarity
of a candidate pair almost as well as the full signature, in 32 bytes for 128 permutations.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Literal

import numpy as np

__all__ = [
    "DEFAULT_NGRAM",
    "MinHasher",
    "TokenMode",
    "band_hashes",
    "candidate_pairs",
    "jaccard",
    "optimal_bands",
    "prepare",
    "shingle_set",
    "sketch",
    "sketch_similarity",
]

TokenMode = Literal["auto", "word", "char"]
# measured on bench/near_dup.py (English SST-2, ChnSentiCorp, THUCNews titles)
DEFAULT_NGRAM = {"char": 5, "word": 3}
SKETCH_BITS = 2
_LOW_OF_EACH_2_BITS = np.uint64(int("01" * 32, 2))

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af\U00020000-\U0002ebef"
_NOT_WORD = re.compile(r"[\W_]+")  # punctuation, symbols, whitespace and underscores
_CJK_CHAR = re.compile(f"[{_CJK}]")
# a CJK character is a word of its own; other words are runs of letters and digits
_WORD = re.compile(f"[{_CJK}]|[^\\W_{_CJK}]+")

_U64 = np.uint64
_POLY = _U64(0x100000001B3)  # FNV-1a 64-bit prime: odd, with well-spread bits
_MASK32 = _U64(0xFFFFFFFF)
_CHUNK = 4096  # shingles per MinHash block: 4096 x 128 x 8 bytes stays in cache


def prepare(text: str, tokens: TokenMode) -> tuple[str, str | list[str]]:
    """(mode, units): the normalised characters of a text, or its list of words.

    Case, Unicode compatibility forms, punctuation and whitespace never count; ``auto``
    uses characters when at least half of the letters are CJK (unsegmented text has no
    words to shingle) and words otherwise.
    """
    folded = unicodedata.normalize("NFKC", text).casefold()
    if tokens == "word":
        return "word", _WORD.findall(folded)
    letters = _NOT_WORD.sub("", folded)
    if tokens == "char" or (letters and 2 * len(_CJK_CHAR.findall(letters)) >= len(letters)):
        return "char", letters
    return "word", _WORD.findall(folded)


def shingle_set(text: str, tokens: TokenMode = "auto", ngram: int | None = None) -> set[str]:
    """The shingles of one text as strings (word shingles joined by a space).

    The same shingles as the vectorised hashes below; a text shorter than ``ngram`` units
    is one shingle. Used for exact Jaccard on reported pairs and by the datasketch benchmark.
    """
    mode, units = prepare(text, tokens)
    n = ngram or DEFAULT_NGRAM[mode]
    join = "".join if mode == "char" else " ".join
    if not units:
        return set()
    if len(units) < n:
        return {join(units)}
    return {join(units[i:i + n]) for i in range(len(units) - n + 1)}


def jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 0.0


def _mix(h: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: every input bit affects every output bit."""
    h = h ^ (h >> _U64(30))
    h = h * _U64(0xBF58476D1CE4E5B9)
    h = h ^ (h >> _U64(27))
    h = h * _U64(0x94D049BB133111EB)
    return h ^ (h >> _U64(31))


def _code_points(strings: list[str]) -> np.ndarray:
    joined = "".join(strings).encode("utf-32-le", "surrogatepass")
    return np.frombuffer(joined, dtype=np.uint32).astype(np.uint64)


def _word_hashes(words: list[str]) -> np.ndarray:
    """One 64-bit hash per word: a polynomial over its code points, then mixed."""
    lengths = np.fromiter(map(len, words), dtype=np.int64, count=len(words))
    if not len(words):
        return np.zeros(0, dtype=np.uint64)
    ends = np.cumsum(lengths)
    word_of = np.repeat(np.arange(len(words)), lengths)
    from_end = ends[word_of] - 1 - np.arange(int(ends[-1]))
    longest = int(lengths.max())
    terms = _code_points(words) * _powers(1 << (longest - 1).bit_length())[from_end]
    return _mix(np.add.reduceat(terms, ends - lengths) + lengths.astype(np.uint64))


@lru_cache(maxsize=8)
def _powers(n: int) -> np.ndarray:
    """POLY**0 .. POLY**(n-1) modulo 2**64 (cached: word lengths repeat)."""
    out = np.ones(max(n, 1), dtype=np.uint64)
    with np.errstate(over="ignore"):  # wrapping modulo 2**64 is the point
        for i in range(1, n):
            out[i] = out[i - 1] * _POLY
    return out


def _ngram_hashes(units: np.ndarray, counts: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """32-bit hashes of every n-gram of every document, and the number per document.

    ``units`` holds the documents' units back to back, ``counts`` how many each has. A
    non-empty document shorter than n gives one shingle: its whole unit sequence.
    """
    ends = np.cumsum(counts)
    starts = ends - counts
    doc_of = np.repeat(np.arange(len(counts)), counts)
    position = np.arange(len(units))
    end_of = ends[doc_of]
    h = np.zeros(len(units), dtype=np.uint64)
    for k in range(n):
        at = position + k
        nxt = units[np.minimum(at, len(units) - 1)] if len(units) else units
        h = h * _POLY + np.where(at < end_of, nxt, _U64(0))
    keep = (position + n <= end_of) | ((position == starts[doc_of]) & (counts[doc_of] < n))
    per_doc = np.bincount(doc_of[keep], minlength=len(counts))
    return _mix(h[keep]) >> _U64(32), per_doc


class MinHasher:
    """``num_perm`` multiply-add-shift permutations drawn from ``seed``."""

    def __init__(self, num_perm: int, seed: int) -> None:
        rng = np.random.default_rng(seed)
        self.num_perm = num_perm
        self.a = rng.integers(0, 2**64, size=num_perm, dtype=np.uint64, endpoint=False) | _U64(1)
        self.b = rng.integers(0, 2**64, size=num_perm, dtype=np.uint64, endpoint=False)

    def signatures(self, texts: list[str], tokens: TokenMode,
                   ngram: int | None) -> tuple[np.ndarray, np.ndarray]:
        """(n x num_perm uint32 signatures, bool mask of texts that have shingles)."""
        prepared = [prepare(t if isinstance(t, str) else "", tokens) for t in texts]
        sig = np.zeros((len(texts), self.num_perm), dtype=np.uint32)
        has = np.zeros(len(texts), dtype=bool)
        for mode in ("char", "word"):
            rows = [i for i, (m, _) in enumerate(prepared) if m == mode]
            if not rows:
                continue
            docs = [prepared[i][1] for i in rows]
            counts = np.fromiter(map(len, docs), dtype=np.int64, count=len(docs))
            if mode == "char":
                units = _code_points(docs)
            else:
                units = _word_hashes([w for doc in docs for w in doc])
            hashes, per_doc = _ngram_hashes(units, counts, ngram or DEFAULT_NGRAM[mode])
            rows_arr = np.asarray(rows)
            filled = per_doc > 0
            sig[rows_arr[filled]] = self._minhash(hashes, per_doc[filled])
            has[rows_arr[filled]] = True
        return sig, has

    def _minhash(self, hashes: np.ndarray, per_doc: np.ndarray) -> np.ndarray:
        """Minimum of every permutation over each document's shingles (all counts > 0)."""
        out = np.empty((len(per_doc), self.num_perm), dtype=np.uint32)
        ends = np.cumsum(per_doc)
        first = 0
        while first < len(per_doc):
            start = ends[first] - per_doc[first]
            # whole documents up to ~_CHUNK shingles (at least one document)
            last = max(int(np.searchsorted(ends, start + _CHUNK, side="right")), first + 1)
            block = hashes[start:ends[last - 1]]
            values = np.multiply(block[:, None], self.a[None, :])
            values += self.b
            local = ends[first:last] - per_doc[first:last] - start
            # the shift is monotone, so min before shifting equals min after
            out[first:last] = np.minimum.reduceat(values, local, axis=0) >> _U64(32)
            first = last
        return out


def band_hashes(sig: np.ndarray, has: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """(n x bands) uint64: one hash per band of ``rows`` signature values; 0 = no shingles."""
    h = np.zeros((len(sig), bands), dtype=np.uint64)
    part = sig[:, :bands * rows].reshape(len(sig), bands, rows).astype(np.uint64)
    for k in range(rows):
        h = h * _POLY + part[:, :, k]
    h = _mix(h)
    h[h == 0] = 1
    h[~has] = 0
    return h


def sketch(sig: np.ndarray) -> np.ndarray:
    """The lowest SKETCH_BITS bits of every signature value, packed into uint64 words."""
    per_word = 64 // SKETCH_BITS
    n, p = sig.shape
    width = -(-p // per_word) * per_word
    low = np.zeros((n, width), dtype=np.uint64)
    low[:, :p] = sig & np.uint32((1 << SKETCH_BITS) - 1)
    shifts = (np.arange(per_word, dtype=np.uint64) * _U64(SKETCH_BITS))
    return np.bitwise_or.reduce(low.reshape(n, -1, per_word) << shifts, axis=2)


def sketch_similarity(a: np.ndarray, b: np.ndarray, num_perm: int) -> np.ndarray:
    """Estimated Jaccard of row pairs from their sketches (rows of ``a`` against ``b``).

    Two minimums agree with probability J; otherwise their low bits still agree by chance
    with probability 2**-bits, so J = (agree - c) / (1 - c).
    """
    x = a ^ b
    same = ~(x | (x >> _U64(1))) & _LOW_OF_EACH_2_BITS  # a 2-bit lane agrees: both bits 0
    words = a.shape[1]
    padding = words * 32 - num_perm  # padded lanes are zero in both and always agree
    agree = (np.bitwise_count(same).sum(axis=1) - padding) / num_perm
    chance = 1.0 / (1 << SKETCH_BITS)
    return np.clip((agree - chance) / (1.0 - chance), 0.0, 1.0)


def candidate_pairs(bands: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row pairs (i < j) that share a band hash, without all pairs of a large bucket.

    In each bucket every member is paired with the bucket's first member and with the
    member before it: enough to connect the bucket, linear in its size.
    """
    n = len(bands)
    keys = []
    for column in bands.T:
        rows = np.flatnonzero(column)
        if len(rows) < 2:
            continue
        order = rows[np.lexsort((rows, column[rows]))]
        values = column[order]
        new = np.r_[True, values[1:] != values[:-1]]
        first = order[np.maximum.accumulate(np.where(new, np.arange(len(order)), 0))]
        member = ~new
        for a in (first[member], order[:-1][member[1:]]):
            keys.append(np.minimum(a, order[member]).astype(np.int64) * n
                        + np.maximum(a, order[member]))
    if not keys:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    pairs = np.unique(np.concatenate(keys))
    pairs = pairs[pairs // n != pairs % n]
    return pairs // n, pairs % n


@lru_cache(maxsize=64)
def optimal_bands(threshold: float, num_perm: int, fp_weight: float = 0.5,
                  fn_weight: float = 0.5) -> tuple[int, int]:
    """(bands, rows) minimising weighted false-positive + false-negative probability mass.

    The same criterion as datasketch's ``_optimal_param``: a pair of similarity s becomes a
    candidate with probability 1 - (1 - s**r)**b; integrate it below the threshold (false
    positives) and its complement above (false negatives). The integrands are polynomials of
    degree b*r <= num_perm, so Gauss-Legendre with num_perm/2 + 1 nodes integrates them
    exactly, for all (b, r) at once.
    """
    nodes, weights = np.polynomial.legendre.leggauss(num_perm // 2 + 1)
    pairs = np.array([(b, r) for b in range(1, num_perm + 1) for r in range(1, num_perm // b + 1)],
                     dtype=float)
    b, r = pairs[:, :1], pairs[:, 1:]

    def integral(lo: float, hi: float, false_positive: bool) -> np.ndarray:
        s = (hi - lo) / 2 * nodes + (hi + lo) / 2
        missed = (1 - s ** r) ** b  # probability that a pair of similarity s is not a candidate
        values = 1 - missed if false_positive else missed
        return values @ weights * (hi - lo) / 2

    error = (fp_weight * integral(0.0, threshold, True)
             + fn_weight * integral(threshold, 1.0, False))
    best = pairs[int(np.argmin(error))]
    return int(best[0]), int(best[1])
