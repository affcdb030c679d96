"""A realistic run folder, written the way the pipeline writes one: English and Chinese
splits, a manifest with steps and rejects, rejects.parquet, metrics.json and real PNG plots."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from thresher.records import Reject, make_id, rejects_frame

XSS = '<script>alert("pwned")</script> great phone'
LABELS = ["neg", "pos", "中性"]

TEXTS = {
    "pos": [
        "Great battery, fast delivery.",
        "I love this phone, the screen is superb!",
        "质量很好，物流也快，非常满意。",
        "房间干净，服务热情，下次还来。",
        "Works exactly as described.",
    ],
    "neg": [
        "Broke after two days. Avoid.",
        "The worst hotel I have stayed in, dirty and loud.",
        "太差了，用了两天就坏了。",
        "客服态度恶劣，再也不买了。" * 3,
        "Refund took a month; never again.",
    ],
    "中性": [
        "It is a phone.",
        "Arrived on Tuesday.",
        "还行吧，一般般。",
        "价格和别家差不多。",
        "Box was blue.",
    ],
}


def _frame(split: str, repeat: int) -> pd.DataFrame:
    rows = []
    for r in range(repeat):
        for label, texts in TEXTS.items():
            for i, text in enumerate(texts):
                body = f"{text} ({split} {r})" + (" 很长的评论。" * 60 if (i + r) % 7 == 0 else "")
                rows.append(
                    {
                        "id": make_id(split, label, i, r),
                        "text": body,
                        "label": label,
                        "source": f"reviews.csv:{len(rows) + 2}",
                    }
                )
    if split == "train":
        rows.append(
            {"id": make_id("xss"), "text": XSS, "label": "pos", "source": "reviews.csv:999"}
        )
    return pd.DataFrame(rows)


def _manifest(splits: dict[str, int]) -> dict:
    kept = sum(splits.values())
    return {
        "thresher_version": "0.1.0",
        "created": "2025-01-02T03:04:05+00:00",
        "recipe": {
            "name": "reviews-demo",
            "task": "classification",
            "seed": 13,
            "input": {"path": "reviews.csv", "text": "text", "label": "label"},
            "train": {"backbone": "gemma3-270m", "lora": {"r": 8}, "epochs": 1},
        },
        "seed": 13,
        "versions": {"python": "3.11", "pandas": pd.__version__},
        "inputs": [
            {
                "path": "/data/reviews.csv",
                "format": "csv",
                "encoding": "utf-8",
                "sha256": "ab" * 32,
                "rows": kept + 5,
            }
        ],
        "steps": [
            {
                "name": "read",
                "rows_in": kept + 5,
                "rows_out": kept + 5,
                "rejected": {},
                "seconds": 0.02,
            },
            {
                "name": "length_filter",
                "rows_in": kept + 5,
                "rows_out": kept + 2,
                "rejected": {"too_short": 3},
                "seconds": 0.01,
                "examples": {"too_short": ["ok", "好", "a"]},
            },
            {
                "name": "dedup_exact",
                "rows_in": kept + 2,
                "rows_out": kept,
                "rejected": {"duplicate": 2},
                "seconds": 0.05,
            },
            {"name": "split", "rows_in": kept, "rows_out": kept, "rejected": {}, "seconds": 0.01},
        ],
        "splits": splits,
        "rows": {"read": kept + 5, "kept": kept, "rejected": 5},
    }


def _rejects() -> pd.DataFrame:
    short = [
        {"id": make_id("s", i), "text": t, "label": "pos", "source": f"reviews.csv:{i}"}
        for i, t in enumerate(["ok", "好", "a"])
    ]
    dups = [
        {"id": make_id("d", i), "text": t, "label": "neg", "source": f"reviews.csv:{50 + i}"}
        for i, t in enumerate(["太差了，用了两天就坏了。", XSS])
    ]
    rejects = [Reject.of(r, "length_filter", "too_short", "< 3 chars") for r in short]
    rejects += [Reject.of(r, "dedup_exact", "duplicate", "same as an earlier row") for r in dups]
    return rejects_frame(rejects)


def _scores(accuracy: float) -> dict:
    per_class = {
        label: {
            "precision": accuracy - 0.01 * i,
            "recall": accuracy + 0.01 * i,
            "f1": accuracy,
            "support": 15,
        }
        for i, label in enumerate(LABELS)
    }
    return {
        "n": 45,
        "accuracy": accuracy,
        "macro_precision": accuracy - 0.01,
        "macro_recall": accuracy + 0.01,
        "macro_f1": accuracy - 0.002,
        "weighted_f1": accuracy - 0.001,
        "per_class": per_class,
        "roc_auc": 0.9,
        "confusion_matrix": {"labels": LABELS, "matrix": [[13, 1, 1], [2, 12, 1], [1, 1, 13]]},
    }


def metrics_doc(model_accuracy: float = 0.8222, baseline_accuracy: float = 0.7333) -> dict:
    return {
        "labels": LABELS,
        "model": {
            "kind": "transformer",
            "backbone": "gemma3-270m",
            "lora": {"r": 8, "alpha": 16},
            "precision": "bf16",
            "train_rows": 91,
            "minutes": 3.9,
            "best_epoch": 1,
        },
        "history": [{"epoch": 1, "train_loss": 0.61, "val_loss": 0.52, "val_accuracy": 0.8}],
        "splits": {"test": _scores(model_accuracy)},
        "baseline": {"splits": {"test": _scores(baseline_accuracy)}},
        "comparison": {
            "metric": "accuracy",
            "model": model_accuracy,
            "baseline": baseline_accuracy,
            "delta": model_accuracy - baseline_accuracy,
            "mcnemar": {"p_value": 0.0071},
        },
        "worst_examples": [
            {"id": "w1", "text": XSS, "label": "neg", "predicted": "pos", "confidence": 0.991},
            {
                "id": "w2",
                "text": "还行吧，一般般。",
                "label": "中性",
                "predicted": "neg",
                "confidence": 0.87,
            },
        ],
    }


def _png(path: Path, title: str) -> None:
    fig = Figure(figsize=(4, 3))
    ax = fig.add_subplot()
    ax.plot(np.linspace(0, 1, 20), np.linspace(0, 1, 20) ** 0.5)
    ax.set_title(title)
    fig.savefig(path, format="png", dpi=60)


def write_run(root: Path, *, metrics: dict | None) -> Path:
    (root / "data").mkdir(parents=True)
    (root / "plots").mkdir()
    splits = {
        "train": _frame("train", 6),
        "validation": _frame("validation", 1),
        "test": _frame("test", 3),
    }
    for name, frame in splits.items():
        frame.to_parquet(root / "data" / f"{name}.parquet", index=False)
    manifest = _manifest({name: len(frame) for name, frame in splits.items()})
    (root / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    _rejects().to_parquet(root / "rejects.parquet", index=False)
    if metrics is not None:
        (root / "metrics.json").write_text(
            json.dumps(metrics, ensure_ascii=False), encoding="utf-8"
        )
        for stem in ("confusion_matrix", "roc", "pr", "training_curves"):
            _png(root / "plots" / f"{stem}.png", stem)
    return root


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    return write_run(tmp_path / "run", metrics=metrics_doc())


@pytest.fixture
def data_only_run(tmp_path: Path) -> Path:
    return write_run(tmp_path / "data-run", metrics=None)
