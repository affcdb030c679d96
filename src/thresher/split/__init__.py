"""Train/validation/test splits: random, stratified, group-aware."""

from thresher.split.leakage import EXTERNAL, LeakageReport, check_leakage
from thresher.split.splitter import AUTO_GROUP_COLUMN, SPLITS, SplitResult, split_table

__all__ = [
    "AUTO_GROUP_COLUMN",
    "EXTERNAL",
    "SPLITS",
    "LeakageReport",
    "SplitResult",
    "check_leakage",
    "split_table",
]
