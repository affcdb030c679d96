"""Train/validation/test splits: random, stratified, group-aware."""

from thresher.split.splitter import AUTO_GROUP_COLUMN, SPLITS, SplitResult, split_table

__all__ = ["AUTO_GROUP_COLUMN", "SPLITS", "SplitResult", "split_table"]
