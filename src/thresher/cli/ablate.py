"""`thresher ablate`: print whether augmentation helped, arm by arm, and where ablation.json is."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer

from thresher.errors import RecipeError

if TYPE_CHECKING:
    from thresher.ablate import AblationResult

__all__ = ["command", "parse_seeds"]


def command(
    recipe: Path = typer.Argument(..., help="YAML recipe with augment:, train: and evaluate:."),
    out: Path = typer.Option(..., "-o", "--out", help="Folder for base/, one run folder per "
                             "arm and seed, and ablation.json."),
    seeds: str = typer.Option("0,1,2", "--seeds", help="Comma-separated seeds, e.g. 0,1,2; "
                              "--seeds 3 is the one seed 3, not a count (each sets train.seed "
                              "and the augment seed; the split is fixed)."),
    per_augmenter: bool = typer.Option(True, "--per-augmenter/--no-per-augmenter",
                                       help="Also train each augmenter alone (when there are "
                                       "two or more)."),
    metric: Optional[str] = typer.Option(None, "--metric", help="Score to compare [default: "
                                         "accuracy for classification, micro_f1 otherwise]."),
) -> None:
    """Does augmentation help? Train without, with, and per augmenter over several seeds."""
    from rich.console import Console

    from thresher.ablate import ablate

    chosen = parse_seeds(seeds)
    console = Console(highlight=False)
    result = ablate(recipe, out, seeds=chosen, per_augmenter=per_augmenter, metric=metric,
                    on_run=lambda arm, seed: console.print(f"run: {arm}, seed {seed}",
                                                           markup=False))
    _print(result)


def parse_seeds(text: str) -> list[int]:
    """``"0,1,2"`` -> ``[0, 1, 2]``; anything else is a RecipeError naming the bad part."""
    fix = "give comma-separated non-negative integers, e.g. --seeds 0,1,2"
    parts = [p.strip() for p in text.split(",")]
    for part in parts:
        if not part.isdigit():
            raise RecipeError(f"{part!r} is not a seed", where="--seeds", fix=fix)
    found = [int(p) for p in parts]
    if len(set(found)) != len(found):
        raise RecipeError(f"seeds repeat: {text}", where="--seeds", fix=fix)
    return found


def _print(result: AblationResult) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    from thresher.ablate import SEED_MEANING

    console = Console(highlight=False)
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, collapse_padding=True,
                  title=f"{result.metric} on the {result.split} split, "
                  f"seeds {', '.join(map(str, result.seeds))}")
    for name in ("arm", "mean ± std", "vs none", "95% CI", "verdict", "kept"):
        table.add_column(name, no_wrap=True, justify="left" if name in ("arm", "verdict")
                         else "right")
    for arm in result.arms:
        std = "—" if arm.std is None else f"{arm.std:.3f}"
        ci = "—" if arm.ci95 is None else f"[{arm.ci95[0]:+.3f}, {arm.ci95[1]:+.3f}]"
        kept = "—" if not arm.kept else f"{sum(arm.kept) / len(arm.kept):,.0f}"
        diff = "—" if arm.mean_difference is None else f"{arm.mean_difference:+.3f}"
        table.add_row(arm.name, f"{arm.mean:.3f} ± {std}", diff, ci, arm.verdict or "—", kept)
    console.print(table)
    mixed = result.arm("all").augmenters
    console.print(f"all = {' + '.join(mixed)}; kept: augmented rows added to training "
                  "(mean over seeds)", markup=False, soft_wrap=True)
    console.print(f"seeds: {SEED_MEANING}", markup=False, soft_wrap=True)
    for note in result.notes + [f"{a.name}: {a.note}" for a in result.arms if a.note]:
        console.print(f"note: {note}", markup=False, soft_wrap=True)
    if result.report is not None:
        console.print(f"report: {result.report}", markup=False, soft_wrap=True)
    console.print(f"written: {result.path}", markup=False, soft_wrap=True)
