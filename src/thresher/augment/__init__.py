"""Augmenters: each turns texts into variants that should keep their label.

Where rows go, lineage and the label-preservation check belong to the augment stage; these
classes only make variants (``Augmenter.augment(texts, n_aug, seed=...) -> Variants``; the
NER one, ``EntityAugment.augment_tokens(tokens, tags, n_aug, seed=...)``, varies tagged rows).
"""

from __future__ import annotations

from thresher.augment.backtranslate import BackTranslate
from thresher.augment.base import Augmenter, Variants
from thresher.augment.eda import OPERATIONS, Eda, eda_defaults
from thresher.augment.llm import LlmParaphrase
from thresher.augment.masked_lm import MaskedLM
from thresher.augment.ner_augment import NER_OPERATIONS, EntityAugment
from thresher.augment.noise import NOISE_OPERATIONS, CharNoise, keyboard_neighbours
from thresher.augment.sentences import (
    SENTENCE_OPERATIONS,
    Recombined,
    SentenceMix,
    recombine,
    split_sentences,
)

__all__ = [
    "Augmenter",
    "BackTranslate",
    "CharNoise",
    "Eda",
    "EntityAugment",
    "LlmParaphrase",
    "MaskedLM",
    "NER_OPERATIONS",
    "NOISE_OPERATIONS",
    "OPERATIONS",
    "Recombined",
    "SENTENCE_OPERATIONS",
    "SentenceMix",
    "Variants",
    "eda_defaults",
    "keyboard_neighbours",
    "recombine",
    "split_sentences",
]
