"""Train/validation/test splits."""

from thresher.split.splitter import SPLITS, SplitResult, split_table

__all__ = ["SPLITS", "SplitResult", "split_table"]
