from __future__ import annotations

import numpy as np

from thresher.train.batches import Encoded, collate, eval_batches, train_batches


def test_train_batches_cover_every_row_once_and_group_lengths() -> None:
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 200, size=1000)
    batches = train_batches(lengths, 8, np.random.default_rng(1))
    rows = np.concatenate(batches)
    assert sorted(rows.tolist()) == list(range(1000))
    spread = np.mean([np.ptp(lengths[b]) for b in batches])
    assert spread < 20  # random batches would spread ~170 tokens
    again = train_batches(lengths, 8, np.random.default_rng(1))
    assert all(np.array_equal(a, b) for a, b in zip(batches, again))


def test_eval_batches_sorted_and_complete() -> None:
    lengths = np.array([5, 1, 4, 2, 3])
    batches = list(eval_batches(lengths, 2))
    assert [b.tolist() for b in batches] == [[1, 3], [4, 2], [0]]


def test_collate_pads_to_longest_in_batch() -> None:
    data = Encoded([[5, 6, 7], [8], [9, 9]], np.array([3, 1, 2]), np.array([1, 0, 1]), pad_id=0)
    batch = collate(data, np.array([1, 2]))
    assert batch["input_ids"].tolist() == [[8, 0], [9, 9]]
    assert batch["attention_mask"].tolist() == [[1, 0], [1, 1]]
    assert batch["labels"].tolist() == [0, 1]
