"""What every augmenter is: settings in ``__init__``, variants of a batch of texts from ``augment``.

An augmenter never decides where its rows go, whether they keep their label, or whether they
duplicate an original: the augment stage does that (train split only, ``parent_id`` lineage,
label-preservation filter, dedup against the originals). So an augmenter only turns texts into
variants, deterministically for a seed, batched so that model-based ones can use a GPU.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Sequence

__all__ = ["Augmenter", "Variants"]


@dataclass
class Variants:
    """``texts[i]`` holds the variants made from input ``i`` (maybe fewer than asked, maybe
    none: a one-word text has nothing to swap); ``skipped[i]`` says why when it is short."""

    texts: list[list[str]]
    skipped: list[str | None] = field(default_factory=list)


class Augmenter:
    """Base class: ``name`` is the recipe key, ``languages`` the scripts it handles."""

    name: ClassVar[str] = ""
    languages: ClassVar[tuple[str, ...]] = ("en", "zh")

    def settings(self) -> dict[str, Any]:
        """The constructor's arguments, unchanged (recorded with every augmented row)."""
        return {k: v for k, v in vars(self).items() if not k.startswith("_")}

    def augment(self, texts: Sequence[str], n_aug: int, *, seed: int = 13) -> Variants:
        """Up to ``n_aug`` distinct variants per text, none equal to its original."""
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.settings().items())
        return f"{type(self).__name__}({args})"
