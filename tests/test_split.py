from __future__ import annotations

import pandas as pd

from thresher.split import split_table


def labelled(counts: dict[str, int]) -> pd.DataFrame:
    labels = [lab for lab, n in counts.items() for _ in range(n)]
    return pd.DataFrame({"id": [f"r{i}" for i in range(len(labels))],
                         "text": [f"t{i}" for i in range(len(labels))], "label": labels,
                         "source": [""] * len(labels)})


def test_stratified_split_keeps_shares_and_every_row():
    t = labelled({"a": 800, "b": 200})
    r = split_table(t, validation=0.1, test=0.1, seed=13)
    sizes = {k: len(v) for k, v in r.parts.items()}
    assert sizes == {"train": 800, "validation": 100, "test": 100}
    assert (r.parts["test"].label == "b").sum() == 20
    ids = pd.concat(r.parts.values()).id
    assert ids.is_unique and set(ids) == set(t.id) and not r.rejects


def test_split_is_deterministic_for_a_seed_and_differs_across_seeds():
    t = labelled({"a": 50, "b": 50})
    one = split_table(t, validation=0.2, test=0.2, seed=1).parts["test"].id.tolist()
    two = split_table(t, validation=0.2, test=0.2, seed=1).parts["test"].id.tolist()
    other = split_table(t, validation=0.2, test=0.2, seed=2).parts["test"].id.tolist()
    assert one == two and one != other


def test_rare_label_stays_in_train():
    t = labelled({"a": 40, "rare": 1})
    r = split_table(t, validation=0.1, test=0.1, seed=13)
    assert (r.parts["train"].label == "rare").sum() == 1


def test_random_split_rejects_labels_missing_from_train():
    t = labelled({"a": 30, "b": 1})
    for seed in range(40):  # find a seed where the single 'b' row lands outside train
        r = split_table(t, validation=0.2, test=0.2, seed=seed, stratify=False)
        if r.rejects:
            break
    assert r.rejects and r.rejects[0].reason == "label_not_in_train"
    kept = sum(len(p) for p in r.parts.values())
    assert kept + len(r.rejects) == len(t)
