"""Masked-LM substitution: hide a share of the content words, let a masked LM fill them in.

Tools that do this one text (or one mask) per forward pass spend hours on 10k texts. Here every
variant of every text in a batch goes through one forward pass with all its masks at once, and
the replacements are drawn for all masks together. Only content words are masked (stop words,
digits and punctuation keep the sentence's frame); English is masked word by word, Chinese
character by character or by jieba word (one mask per character). A replacement is drawn from
the model's top-k whole-word tokens, never the original word, a sub-word piece or a stop word.

Each (text, variant) draws its masks and its sampling numbers from its own generator seeded by
(seed, text, variant), so a text gets the same variants whatever else is in its batch.
"""

from __future__ import annotations

import contextlib
import re
import zlib
from dataclasses import dataclass
from typing import Any, ClassVar, Iterator, Sequence

import numpy as np

from thresher.augment.backtranslate import (
    check_choice,
    distinct_variants,
    load_model,
    pick_device,
)
from thresher.augment.base import Augmenter, Variants
from thresher.errors import ModelError, RecipeError
from thresher.ops.chinese import CJK_CHARS, jieba_words
from thresher.ops.stopwords import _chinese, _english, count_stopwords

__all__ = ["MaskedLM", "mask_units"]

_LATIN_WORD = re.compile(rf"[^\W\d_{CJK_CHARS}]+")
_ENGLISH_TOKEN = re.compile(rf"[^\W\d_{CJK_CHARS}]+(?:['’][^\W\d_{CJK_CHARS}]+)*")
_CJK_RUN = re.compile(f"[{CJK_CHARS}]+")
_CJK_CHAR = re.compile(f"[{CJK_CHARS}]")
Span = tuple[int, int]


@dataclass
class _Row:
    """One masked copy of one text: where its masks are and the numbers that pick their words."""

    text: int
    language: str
    slots: list[tuple[int, int, str]]  # (start, end, original) per mask, left to right
    draws: np.ndarray
    masked: str = ""


class MaskedLM(Augmenter):
    """Replaces ``mask_share`` of the content words with a masked LM's top-``top_k`` guesses.

    ``model`` is a folder or hub id of a model with a trained masked-LM head; ``language`` is
    auto (per text), en or zh; ``chinese_unit`` is char or word (jieba). ``batch_size`` masked
    texts (texts x variants) go through one forward pass.
    """

    name: ClassVar[str] = "masked_lm"

    def __init__(self, *, model: str, language: str = "auto", chinese_unit: str = "char",
                 mask_share: float = 0.15, top_k: int = 10, batch_size: int = 32,
                 max_length: int = 256, device: str = "auto") -> None:
        self.model = model
        self.language = language
        self.chinese_unit = chinese_unit
        self.mask_share = mask_share
        self.top_k = top_k
        self.batch_size = batch_size
        self.max_length = max_length
        self.device = device

    def load(self) -> MaskedLM:
        """Load the model and index its vocabulary now (``augment`` does it on first use)."""
        if getattr(self, "_loaded", None) is None:
            where = f"augment.{self.name}"
            self._check(where)
            loaded = load_model("masked", self.model, f"{where}.model",
                                pick_device(self.device, f"{where}.device"))
            if loaded.tokenizer.mask_token_id is None:
                raise ModelError(f"model {self.model!r} has no mask token", where=f"{where}.model",
                                 fix="Use a masked language model (BERT, RoBERTa, XLM-R, ...)")
            self._loaded = loaded
            self._vocab = _Vocabulary.of(loaded.tokenizer, loaded.model.config.vocab_size)
        return self

    def augment(self, texts: Sequence[str], n_aug: int, *, seed: int = 13) -> Variants:
        """Up to ``n_aug`` distinct variants per text, each with fresh masks and fillers."""
        self.load()
        rows: list[_Row] = []
        skipped: list[str | None] = [None] * len(texts)
        for i, text in enumerate(texts):
            made = self._rows(i, text, n_aug, seed)
            if not made and n_aug > 0:
                skipped[i] = "empty text" if not text.strip() else \
                    "no word to mask (only stop words, digits or punctuation)"
            rows.extend(made)
        filled = self._fill(rows, texts)
        candidates: list[list[str]] = [[] for _ in texts]
        for row, variant in zip(rows, filled):
            candidates[row.text].append(variant)
        out = [distinct_variants(t, c, n_aug) for t, c in zip(texts, candidates)]
        for i, variants in enumerate(out):
            if skipped[i] is None and len(variants) < n_aug:
                skipped[i] = f"{len(variants)} distinct variants of {n_aug} asked"
        return Variants(out, skipped)

    def _rows(self, index: int, text: str, n_aug: int, seed: int) -> list[_Row]:
        language, spans = mask_units(text, self.language, self.chinese_unit)
        if not spans:
            return []
        count = max(1, round(self.mask_share * len(spans)))
        rows = []
        for variant in range(n_aug):
            rng = np.random.default_rng([seed, zlib.crc32(text.encode("utf-8")), variant])
            chosen = sorted(rng.choice(len(spans), size=count, replace=False))
            slots = [(s, e, text[s:e]) for s, e in (spans[c] for c in chosen)]
            if language == "zh":  # one mask per character: a Chinese MLM predicts characters
                slots = [(i, i + 1, text[i]) for s, e, _ in slots for i in range(s, e)]
            rows.append(_Row(index, language, slots, rng.random(len(slots))))
        return rows

    def _fill(self, rows: list[_Row], texts: Sequence[str]) -> list[str]:
        """The variant text of every row: one forward pass per ``batch_size`` rows."""
        mask = self._loaded.tokenizer.mask_token
        for row in rows:
            row.masked = _splice(texts[row.text], row.slots, [mask] * len(row.slots))
        order = sorted(range(len(rows)), key=lambda r: -len(rows[r].masked))
        filled = [""] * len(rows)
        size = max(1, self.batch_size)
        for start in range(0, len(order), size):
            batch = [rows[r] for r in order[start:start + size]]
            for r, words in zip(order[start:start + size], self._predict(batch)):
                row = rows[r]
                new = [_match_case(old, w) for (_, _, old), w in zip(row.slots, words)]
                filled[r] = _splice(texts[row.text], row.slots[:len(new)], new)
        return filled

    def _predict(self, batch: list[_Row]) -> list[list[str]]:
        """The replacement words of each row (fewer than its masks if truncation cut some)."""
        import torch

        loaded, vocab = self._loaded, self._vocab
        encoded = loaded.tokenizer([row.masked for row in batch], return_tensors="pt",
                                   padding=True, truncation=True, max_length=self.max_length)
        encoded = encoded.to(loaded.device)
        masks = encoded["input_ids"] == loaded.tokenizer.mask_token_id
        with torch.inference_mode(), _vocabulary_only_at(loaded.model, masks):
            logits = loaded.model(**encoded).logits
        scores = (logits[masks] if logits.dim() == 3 else logits).float().cpu()
        found = masks.sum(dim=1).tolist()
        owners = [(b, k) for b, n in enumerate(found) for k in range(n)]
        ids = _sample(scores, vocab, [(batch[b], k) for b, k in owners], self.top_k)
        words: list[list[str]] = [[] for _ in batch]
        for (b, k), piece in zip(owners, ids):  # -1: nothing allowed, the word stays
            words[b].append(vocab.surfaces[piece] if piece >= 0 else batch[b].slots[k][2])
        return words

    def _check(self, where: str) -> None:
        check_choice(self.language, ("auto", "en", "zh"), f"{where}.language")
        check_choice(self.chinese_unit, ("char", "word"), f"{where}.chinese_unit")
        if not 0 < self.mask_share <= 1:
            raise RecipeError(f"mask_share {self.mask_share} is not in (0, 1]",
                              where=f"{where}.mask_share", fix="Set it to e.g. 0.15")
        if self.top_k < 1:
            raise RecipeError(f"top_k {self.top_k} is below 1", where=f"{where}.top_k",
                              fix="Set it to e.g. 10")


@contextlib.contextmanager
def _vocabulary_only_at(model: Any, masks: Any) -> Iterator[None]:
    """Project to the vocabulary only the masked positions (rows in order), not every token.

    For MiniLM that projection (384 x 30,522 per token) costs more than the whole encoder; a
    hook on the output embeddings hands them the masked rows only, so the model's logits come
    back as (masks, vocabulary). A model without output embeddings computes them all.
    """
    head = model.get_output_embeddings()
    if head is None:
        yield
        return
    handle = head.register_forward_pre_hook(lambda module, args: (args[0][masks], *args[1:]))
    try:
        yield
    finally:
        handle.remove()


def _sample(scores: Any, vocab: _Vocabulary, owners: list[tuple[_Row, int]],
            top_k: int) -> list[int]:
    """Draw one token per mask from the top-k allowed tokens (-1 where none is allowed)."""
    import torch

    if not owners:
        return []
    allowed = torch.stack([vocab.allowed[row.language] for row, _ in owners])
    scores = scores.masked_fill(~allowed, float("-inf"))
    for m, (row, k) in enumerate(owners):  # never the word that was there
        scores[m, vocab.same_as(row.slots[k][2], row.language)] = float("-inf")
    top = scores.topk(min(top_k, scores.shape[1]), dim=1)
    probs = torch.softmax(top.values, dim=1).nan_to_num(0.0)
    draws = torch.tensor([row.draws[k] for row, k in owners], dtype=probs.dtype)
    pick = (probs.cumsum(dim=1) < draws[:, None]).sum(dim=1).clamp(max=top.indices.shape[1] - 1)
    ids = top.indices.gather(1, pick[:, None]).squeeze(1)
    usable = torch.isfinite(top.values.gather(1, pick[:, None]).squeeze(1))
    return torch.where(usable, ids, torch.full_like(ids, -1)).tolist()


@dataclass
class _Vocabulary:
    """Per token: its text, and whether it may replace an English word or a Chinese character."""

    surfaces: list[str]
    allowed: dict[str, Any]  # language -> bool tensor over the model's vocabulary
    by_surface: dict[str, list[int]]

    @classmethod
    def of(cls, tokenizer: Any, size: int) -> _Vocabulary:
        import torch

        tokens = tokenizer.convert_ids_to_tokens(list(range(min(size, len(tokenizer)))))
        tokens = [t or "" for t in tokens]
        marker = next((m for m in ("▁", "Ġ") if sum(t.startswith(m) for t in tokens) * 10
                       > len(tokens)), "")  # SentencePiece / byte-level BPE word starts
        special = set(tokenizer.all_special_ids)
        surfaces = [""] * size
        en, zh = torch.zeros(size, dtype=torch.bool), torch.zeros(size, dtype=torch.bool)
        en_stop, zh_stop = _english(), _chinese()[0]
        for i, token in enumerate(tokens):
            if i in special or token.startswith("##"):
                continue
            starts_word = not marker or token.startswith(marker)
            surface = tokenizer.convert_tokens_to_string([token]).strip() if marker == "Ġ" \
                else token.removeprefix(marker)
            surfaces[i] = surface
            en[i] = starts_word and bool(_LATIN_WORD.fullmatch(surface)) and len(surface) > 1 \
                and surface.lower() not in en_stop
            zh[i] = len(surface) == 1 and bool(_CJK_CHAR.match(surface)) and surface not in zh_stop
        by_surface: dict[str, list[int]] = {}
        for i in (en | zh).nonzero().flatten().tolist():
            by_surface.setdefault(surfaces[i].lower(), []).append(i)
        return cls(surfaces, {"en": en, "zh": zh}, by_surface)

    def same_as(self, word: str, language: str) -> list[int]:
        return self.by_surface.get(word.lower(), [])


def mask_units(text: str, language: str = "auto", chinese_unit: str = "char"
               ) -> tuple[str, list[Span]]:
    """(language used, spans of the units that may be masked): English words of two or more
    letters that are not stop words; Chinese characters (or jieba words) outside stop words."""
    if language == "auto":
        language = count_stopwords(text)[2] if text.strip() else "en"
    if language == "en":
        stops = _english()
        return language, [m.span() for m in _ENGLISH_TOKEN.finditer(text)  # not "don't"
                          if len(m.group()) > 1 and m.group().isalpha()
                          and m.group().lower() not in stops]
    if chinese_unit == "word":
        return language, _jieba_units(text)
    return language, _chinese_chars(text)


def _chinese_chars(text: str) -> list[Span]:
    """CJK characters not covered by a stop word (longest match: 我们 before 我)."""
    words, lengths = _chinese()
    spans: list[Span] = []
    for run in _CJK_RUN.finditer(text):
        i, end = run.start(), run.end()
        while i < end:
            size = next((n for n in lengths.get(text[i], ()) if i + n <= end
                         and text[i:i + n] in words), 0)
            if size:
                i += size
            else:
                spans.append((i, i + 1))
                i += 1
    return spans


def _jieba_units(text: str) -> list[Span]:
    """jieba words made only of CJK characters that are not stop words."""
    stops = _chinese()[0]
    spans, at = [], 0
    for word in jieba_words(text):  # words in order, spaces and punctuation left out
        at = text.find(word, at)
        if _CJK_RUN.fullmatch(word) and word not in stops:
            spans.append((at, at + len(word)))
        at += len(word)
    return spans


def _splice(text: str, slots: list[tuple[int, int, str]], news: list[str]) -> str:
    parts, last = [], 0
    for (start, end, _), new in zip(slots, news):
        parts += [text[last:start], new]
        last = end
    return "".join(parts) + text[last:]


def _match_case(original: str, new: str) -> str:
    """An uncased model answers in lower case; "Great" is replaced by "Superb"."""
    if original.isupper() and len(original) > 1:
        return new.upper()
    return new[:1].upper() + new[1:] if original[:1].isupper() else new
