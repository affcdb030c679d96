from __future__ import annotations

import pandas as pd
import pytest

from thresher.errors import DataError
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


def clustered(sizes_by_label: dict[str, list[int]], seed: int = 0) -> pd.DataFrame:
    """Rows in groups: each label gets groups of the given sizes; a cluster column names them."""
    rows = []
    for label, sizes in sizes_by_label.items():
        for g, size in enumerate(sizes):
            rows += [(label, f"{label}{g}")] * size
    t = pd.DataFrame({"id": [f"r{i}" for i in range(len(rows))],
                      "text": [f"t{i}" for i in range(len(rows))],
                      "label": [lab for lab, _ in rows], "source": [""] * len(rows),
                      "cluster": [c for _, c in rows]})
    return t.sample(frac=1, random_state=seed).reset_index(drop=True)


def split_of(result) -> dict[str, str]:
    return {i: name for name, part in result.parts.items() for i in part.id}


def test_grouped_split_keeps_each_group_in_one_split_and_label_shares():
    import numpy as np

    rng = np.random.default_rng(0)
    t = clustered({"pos": list(rng.integers(1, 6, 300)), "neg": list(rng.integers(1, 6, 80))})
    r = split_table(t, validation=0.1, test=0.1, seed=13, group_by="cluster")
    where = split_of(r)
    assert len(where) == len(t) and not r.rejects
    assert t.groupby("cluster").id.agg(lambda ids: len({where[i] for i in ids})).max() == 1
    for label, part in t.groupby("label"):
        share = sum(where[i] == "test" for i in part.id) / len(part)
        assert abs(share - 0.1) < 0.02, (label, share)
    assert r.info["group_by"] == "cluster"
    assert sum(r.info["groups"].values()) == t.cluster.nunique()
    assert {k: r.info[k] for k in ("train", "validation", "test")} == {
        k: len(v) for k, v in r.parts.items()}


def test_grouped_split_is_deterministic_for_a_seed():
    t = clustered({"a": [3, 1, 2, 2, 1, 4] * 10, "b": [1, 2] * 15})
    one = split_of(split_table(t, validation=0.2, test=0.2, seed=1, group_by="cluster"))
    two = split_of(split_table(t, validation=0.2, test=0.2, seed=1, group_by="cluster"))
    other = split_of(split_table(t, validation=0.2, test=0.2, seed=2, group_by="cluster"))
    assert one == two and one != other


def test_unstratified_grouped_split_and_missing_values_are_singletons():
    t = clustered({"a": [5, 5, 1, 1, 1, 1, 1, 1, 1, 1], "b": [1] * 10})
    t.loc[t.label == "b", "cluster"] = None  # ungrouped rows: each its own group
    r = split_table(t, validation=0.2, test=0.2, seed=3, stratify=False, group_by="cluster")
    where = split_of(r)
    assert t[t.label == "a"].groupby("cluster").id.agg(
        lambda ids: len({where[i] for i in ids})).max() == 1
    assert sum(r.info["groups"].values()) == 10 + 10
    # 28 rows: targets 16/6/6; the two 5-row groups go to train first, singletons fill up
    assert {k: len(p) for k, p in r.parts.items()} == {"train": 16, "validation": 6, "test": 6}


def test_group_by_auto_uses_cluster_only_when_present():
    t = labelled({"a": 60, "b": 40})
    plain = split_table(t, validation=0.1, test=0.1, seed=13)
    auto = split_table(t, validation=0.1, test=0.1, seed=13, group_by="auto")
    assert split_of(plain) == split_of(auto) and "groups" not in auto.info
    grouped = split_table(clustered({"a": [2] * 30}), validation=0.1, test=0.1, seed=13,
                          group_by="auto")
    assert grouped.info["group_by"] == "cluster"


def test_group_by_missing_column_names_the_available_ones():
    with pytest.raises(DataError) as info:
        split_table(labelled({"a": 5}), validation=0.2, test=0.2, seed=1, group_by="parent_id")
    assert info.value.message == (
        "split.group_by: group_by column 'parent_id' is not in the table. use one of the "
        "columns id, text, label, source, or 'auto' to group by 'cluster' when present.")


def test_grouped_split_rejects_a_label_with_no_training_row():
    # 'rare' appears only inside a group whose majority is 'a': that group may go to test
    t = clustered({"a": [3] * 20})
    t.loc[(t.cluster == "a0") & t.id.isin(
        t.groupby("cluster").id.first()), "label"] = "rare"
    for seed in range(60):
        r = split_table(t, validation=0.2, test=0.2, seed=seed, group_by="cluster")
        if not (r.parts["train"].label == "rare").any():
            break
    assert r.rejects and {x.reason for x in r.rejects} == {"label_not_in_train"}
    assert sum(len(p) for p in r.parts.values()) + len(r.rejects) == len(t)
