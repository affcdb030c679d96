"""Is one classifier significantly better than another on the same rows? (paired McNemar test)"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from scipy.stats import binomtest

from thresher.errors import DataError

__all__ = ["paired_mcnemar"]

ALPHA = 0.05


def paired_mcnemar(
    y_true: Sequence[str], pred_a: Sequence[str], pred_b: Sequence[str], alpha: float = ALPHA
) -> dict[str, Any]:
    """McNemar's exact test: a two-sided binomial test on the rows where exactly one model is right.

    Rows both models get right (or both wrong) say nothing about which is better, so only the
    discordant pairs count; under the null hypothesis each of them favours either model with
    probability 1/2. The exact form stays valid for the small counts of small test sets.
    """
    y, a, b = (np.asarray([str(v) for v in seq], dtype=object) for seq in (y_true, pred_a, pred_b))
    if not len(y) == len(a) == len(b):
        raise DataError(
            f"y_true, pred_a and pred_b have lengths {len(y)}, {len(a)}, {len(b)}",
            where="paired_mcnemar",
            fix="pass both models' predictions for the same rows, in the same order",
        )
    a_right, b_right = a == y, b == y
    only_a = int((a_right & ~b_right).sum())
    only_b = int((~a_right & b_right).sum())
    discordant = only_a + only_b
    # With no discordant pair the two models cannot be told apart: p = 1.
    p_value = float(binomtest(min(only_a, only_b), discordant, 0.5).pvalue) if discordant else 1.0
    better = "a" if only_a > only_b else "b" if only_b > only_a else None
    return {
        "test": "McNemar exact (two-sided binomial test on discordant pairs)",
        "n": int(len(y)),
        "both_correct": int((a_right & b_right).sum()),
        "both_wrong": int((~a_right & ~b_right).sum()),
        "only_a_correct": only_a,
        "only_b_correct": only_b,
        "p_value": min(p_value, 1.0),
        "alpha": alpha,
        "significant": p_value < alpha,
        "better": better,
    }
