"""What every augmenter is: settings in ``__init__``, variants of a batch of texts from ``augment``.

An augmenter never decides where its rows go, whether they keep their label, or whether they
duplicate an original: the augment stage does that (train split only, ``parent_id`` lineage,
label-preservation filter, dedup against the originals). So an augmenter only turns texts into
variants, deterministically for a seed, batched so that model-based ones can use a GPU.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Sequence

from thresher.errors import RecipeError

__all__ = ["Augmenter", "Variants", "check_operations"]


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

    def check(self) -> None:
        """Raise ValueError for a bad setting (the recipe loader turns it into a RecipeError)."""

    def _check_call(self, n_aug: int) -> None:
        """The settings and ``n_aug`` before a run, as one RecipeError naming the augmenter."""
        try:
            self.check()
            if isinstance(n_aug, bool) or not isinstance(n_aug, int) or n_aug < 1:
                raise ValueError(f"n_aug must be a whole number >= 1, got {n_aug!r}")
        except ValueError as exc:
            raise RecipeError(str(exc), where=f"augment: {self.name}") from None

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.settings().items())
        return f"{type(self).__name__}({args})"


def check_operations(operations: Any, allowed: Sequence[str]) -> None:
    """``operations`` must be a non-empty list of distinct names from ``allowed``."""
    ops = [] if isinstance(operations, str) else list(operations)
    if not ops or any(op not in allowed for op in ops) or len(set(ops)) != len(ops):
        raise ValueError(f"operations must be distinct names from {', '.join(allowed)}, "
                         f"got {operations!r}")
