"""Data-parallel training: `thresher train RUN` under torchrun, 2 CPU processes over gloo.

Two processes with batch_size 8 split every optimiser step's two batches between them, and
DDP averages their gradients: the same steps as one process with batch_size 8 and grad_accum
2. Without dropout the two runs must agree to float rounding.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from thresher.train import TrainConfig, train_run

CONFIG = TrainConfig(epochs=6, batch_size=8, learning_rate=5e-3, warmup=0.1, patience=0,
                     max_length=32, eval_batch_size=16, device="cpu", precision="fp32",
                     checkpoint_every=4)


@pytest.fixture(scope="module")
def bert_without_dropout(tmp_path_factory: pytest.TempPathFactory, tiny_bert: Path) -> Path:
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    folder = tmp_path_factory.mktemp("bert-no-dropout")
    config = BertConfig.from_pretrained(tiny_bert)
    config.hidden_dropout_prob = config.attention_probs_dropout_prob = 0.0
    BertModel.from_pretrained(tiny_bert, config=config).save_pretrained(folder)
    PreTrainedTokenizerFast.from_pretrained(tiny_bert).save_pretrained(folder)
    return folder


def _manifest(run: Path, config: TrainConfig) -> None:
    train = {k: v for k, v in config.__dict__.items() if v != getattr(TrainConfig, k)}
    recipe = {"input": {"path": "x.csv"}, "split": {"validation": 0.1, "test": 0.1},
              "train": train}
    (run / "manifest.json").write_text(json.dumps({"recipe": recipe}))


@pytest.mark.slow
def test_two_processes_train_like_one_with_gradient_accumulation(
    tmp_path: Path, bert_without_dropout: Path, new_run
) -> None:
    config = replace(CONFIG, model=str(bert_without_dropout))
    run = new_run(tmp_path / "ddp")
    _manifest(run, config)
    launched = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
         "-m", "thresher.cli.main", "train", str(run)],
        capture_output=True, text=True, timeout=600)
    assert launched.returncode == 0, launched.stderr[-3000:]
    assert launched.stdout.count("model written to") == 1  # process 0 reports and writes
    info = json.loads((run / "model" / "thresher_model.json").read_text())
    assert info["steps"] == 6 * 6  # 12 batches an epoch, two per step
    assert not (run / "checkpoints").exists() and len(list((run / "logs").iterdir())) == 1
    ddp = json.loads((run / "model" / "training_history.json").read_text())
    assert max(row["val_accuracy"] for row in ddp) >= 0.8  # chance is 0.5

    single = train_run(new_run(tmp_path / "single"), replace(config, grad_accum=2))
    assert [row["epoch"] for row in ddp] == [row["epoch"] for row in single.history]
    for key in ("train_loss", "val_loss", "val_accuracy", "learning_rate"):
        assert np.allclose([r[key] for r in ddp], [r[key] for r in single.history],
                           atol=1e-4), key
