"""Does the label-preservation filter help? EDA with and without it, on the EDA paper's sets.

For each set and training size: EDA variants of the training rows (the paper's alpha and
n_aug for the size), the augment stage's checks (copies, similarity band, reference
classifier's probability of the parent's label >= 0.5), and the TF-IDF baseline trained on
(a) the originals, (b) originals + every variant, (c) originals + the variants that pass;
accuracy on the set's fixed test file, over several seeds.

    PYTHONPATH=src .venv/bin/python bench/augment_filter.py [--sets sst2 cr subj trec pc]
        [--sizes 500 2000] [--seeds 0 1 2] [--out bench/results/augment_filter.json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
DATA = ROOT.parent / "shared" / "data" / "eda"

from thresher.augment.eda import Eda, eda_defaults  # noqa: E402
from thresher.augment.stage import _label_kept, _similarity  # noqa: E402
from thresher.train.baseline import BaselineClassifier  # noqa: E402


def read(path: Path) -> pd.DataFrame:
    rows = [line.rstrip("\n").split("\t", 1) for line in path.open(encoding="utf-8")]
    frame = pd.DataFrame([r for r in rows if len(r) == 2], columns=["label", "text"])
    return frame[frame["text"].str.strip() != ""].reset_index(drop=True)


def accuracy(train: pd.DataFrame, test: pd.DataFrame, seed: int) -> float:
    model = BaselineClassifier(seed=seed).fit(train["text"].tolist(), train["label"].tolist())
    predicted = np.array(model.labels)[model.predict_proba(test["text"].tolist()).argmax(1)]
    return float((predicted == test["label"].to_numpy()).mean())


def one(name: str, size: int, seed: int) -> dict:
    pool, test = read(DATA / name / "train_orig.txt"), read(DATA / name / "test.txt")
    train = pool.sample(n=min(size, len(pool)), random_state=seed).reset_index(drop=True)
    train = train.assign(id=[f"r{i}" for i in range(len(train))])
    alpha, n_aug = eda_defaults(len(train))
    made = Eda(alpha_sr=alpha, alpha_ri=alpha, alpha_rs=alpha, p_rd=alpha).augment(
        train["text"].tolist(), n_aug, seed=seed)
    variants = pd.DataFrame([{"text": t, "label": y, "parent_text": p}
                             for p, y, texts in zip(train["text"], train["label"], made.texts)
                             for t in texts])
    similarity = _similarity(variants)
    in_band = (similarity >= 0.2) & (similarity <= 0.95)
    label_kept = _label_kept(variants, train, 0.5, seed)
    passed = variants[in_band & label_kept]
    return {"set": name, "size": len(train), "seed": seed, "n_aug": n_aug, "alpha": alpha,
            "variants": len(variants), "rejected_share": 1 - len(passed) / max(len(variants), 1),
            "label_changed_share": float((in_band & ~label_kept).mean()),
            "acc_original": accuracy(train, test, seed),
            "acc_all_variants": accuracy(pd.concat([train, variants]), test, seed),
            "acc_filtered": accuracy(pd.concat([train, passed]), test, seed)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="+", default=["sst2", "cr", "subj", "trec", "pc"])
    parser.add_argument("--sizes", nargs="+", type=int, default=[500, 2000])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "augment_filter.json")
    args = parser.parse_args()
    runs = []
    for name in args.sets:
        for size in args.sizes:
            for seed in args.seeds:
                runs.append(one(name, size, seed))
                print(json.dumps(runs[-1]), flush=True)
    table = pd.DataFrame(runs).groupby(["set", "size"]).mean(numeric_only=True).reset_index()
    columns = ["set", "size", "variants", "rejected_share", "label_changed_share",
               "acc_original", "acc_all_variants", "acc_filtered"]
    print()
    print(table[columns].to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    mean = table[["acc_original", "acc_all_variants", "acc_filtered"]].mean()
    print(f"\nmean over sets and sizes: original {mean.iloc[0]:.4f}, all variants "
          f"{mean.iloc[1]:.4f}, filtered {mean.iloc[2]:.4f}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"runs": runs, "summary": table.to_dict("records")}, indent=1))


if __name__ == "__main__":
    main()
