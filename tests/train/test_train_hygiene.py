"""Training hygiene: resume after a kill, max_steps, accumulation, NaN, OOM, label sets.

Tiny models built in the tests (conftest.py); every run takes seconds on CPU.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from thresher.errors import DataError, ModelError
from thresher.train import TrainConfig, train_run
from thresher.train.guards import TrainingDiverged

CONFIG = TrainConfig(epochs=3, batch_size=8, learning_rate=5e-3, warmup=0.1, patience=0,
                     max_length=32, eval_batch_size=16, device="cpu", precision="fp32",
                     checkpoint_every=5)
# 96 train rows / batch 8 = 12 optimiser steps per epoch


def _without_seconds(history: list[dict]) -> list[dict]:
    return [{k: v for k, v in row.items() if "seconds" not in k} for row in history]


def _weights(run: Path) -> dict[str, np.ndarray]:
    from safetensors.numpy import load_file

    return load_file(str(run / "model" / "model.safetensors"))


def _with_manifest(run: Path, config: TrainConfig) -> Path:
    """The manifest `thresher train RUN` reads the train settings from."""
    train = {k: v for k, v in config.__dict__.items() if v != getattr(TrainConfig, k)}
    recipe = {"input": {"path": "reviews.csv"}, "split": {"validation": 0.1, "test": 0.1},
              "train": train}
    (run / "manifest.json").write_text(json.dumps({"recipe": recipe}))
    return run


# kill -9 this process at a chosen point of a chosen checkpoint, then run the CLI as usual
KILLER = """
import os, signal, sys
from thresher.train import checkpoint
step, moment = int(sys.argv[1]), sys.argv[2]
save, write_json = checkpoint.Checkpoints.save, checkpoint.write_json
def kill_after(self, state, *args):
    save(self, state, *args)
    if state.step == step:
        os.kill(os.getpid(), signal.SIGKILL)
def kill_before_pointer(path, data):  # the folder is written, latest.json not yet
    if path.name == "latest.json" and data["step"] == step:
        os.kill(os.getpid(), signal.SIGKILL)
    write_json(path, data)
if moment == "after":
    checkpoint.Checkpoints.save = kill_after
else:
    checkpoint.write_json = kill_before_pointer
from thresher.cli.main import main
sys.exit(main(sys.argv[3:]))
"""


def _thresher(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "thresher.cli.main", *args],
                          capture_output=True, text=True, timeout=300)


@pytest.mark.slow
@pytest.mark.parametrize(("step", "moment", "resumed_from"), [
    (15, "after", 15),  # mid-epoch 2: three steps into it
    (24, "during", 20),  # killed writing the epoch-2-end checkpoint: the one before is used
])
def test_killed_run_resumes_to_the_same_weights_and_metrics(
    tmp_path: Path, tiny_bert: Path, new_run, step: int, moment: str, resumed_from: int
) -> None:
    config = replace(CONFIG, model=str(tiny_bert))
    whole = train_run(new_run(tmp_path / "whole"), config)
    run = _with_manifest(new_run(tmp_path / "killed"), config)
    killed = subprocess.run([sys.executable, "-c", KILLER, str(step), moment, "train", str(run)],
                            capture_output=True, text=True, timeout=300)
    assert killed.returncode == -9, killed.stderr[-2000:]
    assert not (run / "model").exists() and (run / "checkpoints" / "latest.json").is_file()
    again = _thresher("train", str(run))
    assert again.returncode == 0, again.stderr[-2000:]
    assert f"resuming from the checkpoint at step {resumed_from}" in again.stderr
    history = json.loads((run / "model" / "training_history.json").read_text())
    assert _without_seconds(history) == _without_seconds(whole.history)
    a, b = _weights(tmp_path / "whole"), _weights(run)
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
    info = json.loads((run / "model" / "thresher_model.json").read_text())
    assert info["resumed_from_step"] == resumed_from and info["steps"] == 36
    assert not (run / "checkpoints").exists()  # removed after the successful finish
    events = [p.name for p in (run / "logs").iterdir()]
    assert len(events) == 2  # the killed run's events file and the resumed one's


def test_kept_checkpoint_resumes_a_finished_run_and_other_settings_start_fresh(
    run_dir: Path, tiny_bert: Path, capsys: pytest.CaptureFixture
) -> None:
    config = replace(CONFIG, model=str(tiny_bert), epochs=2, keep_checkpoints=True)
    first = train_run(run_dir, config)
    pointer = json.loads((run_dir / "checkpoints" / "latest.json").read_text())
    assert pointer["step"] == 24 and len(list((run_dir / "checkpoints").iterdir())) == 2
    assert {p.name for p in (run_dir / "checkpoints" / pointer["folder"]).iterdir()} == {
        "state.json", "weights.safetensors", "best.safetensors", "optimizer.pt"}
    # the checkpoint says training is over: nothing is trained again, the same model is saved
    again = train_run(run_dir, replace(config, checkpoint_every=3), progress=True)
    assert again.model_info["resumed_from_step"] == 24 and again.history == first.history
    assert "resuming from the checkpoint at step 24 (after epoch 2)" in (
        capsys.readouterr().err)
    other = train_run(run_dir, replace(config, learning_rate=1e-3), progress=True)
    assert "resumed_from_step" not in other.model_info
    assert other.history[0]["train_loss"] != first.history[0]["train_loss"]
    assert (f"the checkpoint in {run_dir / 'checkpoints'} was written with other settings, "
            "data or backbone: training starts fresh") in capsys.readouterr().err


def test_cli_fresh_ignores_checkpoints(run_dir: Path, tiny_bert: Path,
                                       capsys: pytest.CaptureFixture) -> None:
    from thresher.cli.main import main

    config = replace(CONFIG, model=str(tiny_bert), epochs=1, keep_checkpoints=True)
    _with_manifest(run_dir, config)
    assert main(["train", str(run_dir)]) == 0
    assert main(["train", str(run_dir)]) == 0
    assert "resuming from the checkpoint at step 12" in capsys.readouterr().err
    assert main(["train", str(run_dir), "--fresh"]) == 0
    assert "resuming" not in capsys.readouterr().err
    info = json.loads((run_dir / "model" / "thresher_model.json").read_text())
    assert "resumed_from_step" not in info


def test_max_steps_replaces_epochs_and_ends_mid_epoch(run_dir: Path, tiny_bert: Path) -> None:
    result = train_run(run_dir, replace(CONFIG, model=str(tiny_bert), epochs=50, max_steps=15,
                                        warmup=0.0))
    assert [row["epoch"] for row in result.history] == [1, 2]  # 12 + 3 steps
    assert result.model_info["steps"] == 15
    assert result.history[-1]["learning_rate"] == 0.0  # the schedule ends at max_steps


def test_early_stopping_with_max_steps(run_dir: Path, tiny_bert: Path) -> None:
    # too small a rate to change a prediction: the score never improves after epoch 1
    result = train_run(run_dir, replace(CONFIG, model=str(tiny_bert), max_steps=100, patience=2,
                                        learning_rate=1e-12))
    assert [row["epoch"] for row in result.history] == [1, 2, 3]
    assert result.best_epoch == 1 and result.model_info["steps"] == 36


def test_gradient_accumulation_equals_one_big_batch_also_for_the_last_partial_group() -> None:
    """Batches [a, b, c] with grad_accum 2 take the same two optimiser steps as batches
    [a+b, c] without accumulation: each step's gradient is the mean over its rows."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    from thresher.train.batches import Encoded
    from thresher.train.checkpoint import TrainState
    from thresher.train.distributed import Cluster
    from thresher.train.loop import _schedule, _Step
    from thresher.train.tasks import Classification

    rng = np.random.default_rng(0)
    ids = [rng.integers(5, 40, size=int(n)).tolist() for n in rng.integers(3, 12, size=14)]
    data = Encoded(ids, np.array([len(r) for r in ids]), rng.integers(0, 2, 14), pad_id=0)
    a, b, c = np.arange(0, 4), np.arange(4, 10), np.arange(10, 14)  # uneven on purpose

    def trained(batches: list[np.ndarray], accum: int) -> tuple[dict[str, torch.Tensor], int]:
        torch.manual_seed(0)
        model = BertForSequenceClassification(BertConfig(
            vocab_size=40, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
            intermediate_size=32, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0))
        config = replace(CONFIG, grad_accum=accum, checkpoint_every=0)
        # plain SGD: the update is linear in the gradient, so equal gradients mean equal
        # weights (Adam's first step is sign(g) * lr, which magnifies rounding near 0)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
        step = _Step(model, optimizer, _schedule(optimizer, 0.0, 10), "cpu", "fp32", None,
                     Classification(["0", "1"]), Cluster())
        step.epoch(data, batches, config, lambda *_: None, TrainState(), 10, lambda: None)
        return {n: p.detach().clone() for n, p in model.named_parameters()}, step.count

    accumulated, steps = trained([a, b, c], accum=2)
    merged, merged_steps = trained([np.concatenate([a, b]), c], accum=1)
    assert steps == merged_steps == 2
    for name, value in merged.items():
        assert torch.allclose(accumulated[name], value, atol=1e-6), name
    unaccumulated, _ = trained([a, b, c], accum=1)  # three steps: other weights
    assert not torch.allclose(unaccumulated["classifier.weight"], merged["classifier.weight"],
                              atol=1e-4)


def test_accumulation_with_resampling_counts_steps_of_the_resampled_epoch(
    tmp_path: Path, tiny_bert: Path, synthetic
) -> None:
    run = tmp_path / "run"
    (run / "data").mkdir(parents=True)
    frame = synthetic(96, 1, "t")
    frame = frame[(frame["label"] == "pos") | (frame.index % 6 == 1)]  # 48 pos, 16 neg
    frame.to_parquet(run / "data" / "train.parquet", index=False)
    synthetic(48, 2, "v").to_parquet(run / "data" / "validation.parquet", index=False)
    result = train_run(run, replace(CONFIG, model=str(tiny_bert), epochs=2, grad_accum=3,
                                    imbalance="resample"))
    # 96 rows a resampled epoch (48 per class) = 12 batches of 8 = 4 steps of 3 batches
    assert result.model_info["steps"] == 8


def _inject_inf_at(monkeypatch: pytest.MonkeyPatch, call: int) -> None:
    from thresher.train.tasks import Classification

    loss = Classification.loss
    calls = {"n": 0}

    def bad_loss(self, logits, batch):
        calls["n"] += 1
        value = loss(self, logits, batch)
        return value * float("inf") if calls["n"] == call else value

    monkeypatch.setattr(Classification, "loss", bad_loss)


def test_inf_loss_stops_training_naming_the_step(
    run_dir: Path, tiny_bert: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _inject_inf_at(monkeypatch, call=3)
    with pytest.raises(TrainingDiverged) as err:
        # checkpoints at epoch ends only: the epoch end (step 12) is the first sync point
        train_run(run_dir, replace(CONFIG, model=str(tiny_bert), checkpoint_every=0))
    assert err.value.step == 3 and isinstance(err.value, ModelError)
    assert err.value.message == (
        "train.learning_rate: the training loss or its gradients became NaN or infinite at "
        "optimiser step 3 (epoch 1); training stopped. Lower train.learning_rate (now 0.005; "
        "try 0.0005).")
    assert not (run_dir / "model").exists() and not (run_dir / "checkpoints").exists()


def test_inf_loss_in_the_cli_is_exit_2_and_suggests_fp32_under_bf16(
    run_dir: Path, tiny_bert: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture
) -> None:
    from thresher.cli.main import main

    _inject_inf_at(monkeypatch, call=2)
    _with_manifest(run_dir, replace(CONFIG, model=str(tiny_bert), precision="bf16"))
    assert main(["train", str(run_dir)]) == 2
    err = capsys.readouterr().err
    assert "at optimiser step 2 (epoch 1)" in err
    assert err.rstrip().endswith("or train in full precision with precision: fp32 (now bf16).")


@pytest.mark.parametrize("error", [
    "cuda", "memory", "cpu-allocator",
])
def test_out_of_memory_is_one_clear_error(
    run_dir: Path, tiny_bert: Path, monkeypatch: pytest.MonkeyPatch, error: str
) -> None:
    import torch
    from transformers import BertForSequenceClassification

    raised = {"cuda": torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2 GiB"),
              "memory": MemoryError(),
              "cpu-allocator": RuntimeError("[enforce fail at alloc_cpu.cpp:121] data. "
                                            "DefaultCPUAllocator: not enough memory: you tried "
                                            "to allocate 4294967296 bytes.")}[error]

    def forward(self, *args, **kwargs):
        raise raised

    monkeypatch.setattr(BertForSequenceClassification, "forward", forward)
    with pytest.raises(ModelError) as err:
        train_run(run_dir, replace(CONFIG, model=str(tiny_bert), batch_size=32, grad_accum=2))
    assert err.value.message == (
        f"train: out of memory on cpu training {tiny_bert} with batch_size 32, grad_accum 2, "
        "max_length 32 (evaluation: eval_batch_size 16). Try batch_size: 16 with grad_accum: 4 "
        "(the same 64 rows per optimiser step), a shorter max_length (e.g. 16), "
        "eval_batch_size: 8, lora: true (trains small adapters; far less optimiser memory) or "
        "a smaller backbone.")


def test_other_errors_pass_through_untouched(
    run_dir: Path, tiny_bert: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from transformers import BertForSequenceClassification

    def forward(self, *args, **kwargs):
        raise RuntimeError("shape mismatch in a bug")

    monkeypatch.setattr(BertForSequenceClassification, "forward", forward)
    with pytest.raises(RuntimeError, match="shape mismatch in a bug"):
        train_run(run_dir, replace(CONFIG, model=str(tiny_bert)))


def test_validation_labels_missing_from_train_are_one_data_error(run_dir: Path) -> None:
    path = run_dir / "data" / "validation.parquet"
    val = pd.read_parquet(path)
    val.loc[:2, "label"] = "neutral"
    val.to_parquet(path, index=False)
    with pytest.raises(DataError) as err:
        train_run(run_dir, TrainConfig(model="baseline"))
    assert err.value.message == (
        f"{path}: the validation split has label(s) that the train split lacks: 'neutral' "
        "(3 rows). Split again with thresher (stratified splits keep every label in train), "
        "or move those rows to train.parquet, or drop them.")


def test_train_labels_missing_from_validation_are_fine(run_dir: Path) -> None:
    path = run_dir / "data" / "train.parquet"
    train = pd.read_parquet(path)
    train.loc[:5, "label"] = "neutral"  # a class validation never shows: scored as absent
    train.to_parquet(path, index=False)
    result = train_run(run_dir, TrainConfig(model="baseline"))
    assert result.model_info["labels"] == ["neg", "neutral", "pos"]


@pytest.mark.parametrize(("key", "value", "allowed"), [
    ("max_steps", 0, "a whole number >= 1"),
    ("checkpoint_every", -1, "a whole number >= 0"),
    ("keep_checkpoints", "yes", "true or false"),
    ("mlflow", {}, "true, false, or a mapping with tracking_uri and/or experiment (strings)"),
])
def test_new_settings_are_validated(key: str, value: object, allowed: str) -> None:
    from thresher.errors import RecipeError

    with pytest.raises(RecipeError) as err:
        TrainConfig.from_dict({key: value})
    assert err.value.message == f"train.{key}: {value!r} is not allowed. Use {allowed}."


class _Killed(BaseException):
    """Stands in for kill -9 inside the test process (no handler catches a BaseException)."""


def _ner_splits() -> dict[str, pd.DataFrame]:
    import random

    names, places, filler = ["alice", "bob"], ["paris", "rome"], "we met in at the day".split()

    def rows(n: int, seed: int, prefix: str) -> pd.DataFrame:
        rng = random.Random(seed)
        tokens, tags = [], []
        for _ in range(n):
            words = [rng.choice(filler) for _ in range(rng.randint(2, 5))]
            row = ["O"] * len(words)
            for entity, kind in ((rng.choice(names), "PER"), (rng.choice(places), "LOC")):
                at = rng.randint(0, len(words))
                words.insert(at, entity)
                row.insert(at, f"B-{kind}")
            tokens.append(words)
            tags.append(row)
        return pd.DataFrame({"id": [f"{prefix}{i}" for i in range(n)], "tokens": tokens,
                             "tags": tags, "source": "synthetic"})

    return {"train": rows(64, 1, "t"), "validation": rows(24, 2, "v")}


def _task_run(kind: str, folder: Path, tiny_llama: Path, new_run) -> tuple[Path, TrainConfig]:
    """A run folder and model for each path through the loop that a checkpoint must restore."""
    from task_models import tiny_bert_folder, write_run

    config = replace(CONFIG, epochs=2, checkpoint_every=3)
    if kind == "lora-decoder":
        run = new_run(folder / "run", n_train=64, cue_last=True)
        return run, replace(config, model=str(tiny_llama), learning_rate=1e-2, lora_r=4,
                            lora_alpha=8)
    if kind == "multilabel":
        from test_train_multilabel import CUES, FILLER, splits

        model = tiny_bert_folder(folder / "bert", FILLER + [w for c in CUES.values() for w in c])
        run = write_run(folder / "run", "multilabel", splits())
        return run, replace(config, model=str(model), learning_rate=1e-2)
    data = _ner_splits()
    words = sorted({w for t in data["train"]["tokens"] for w in t})
    model = tiny_bert_folder(folder / "bert", words)
    return write_run(folder / "run", "ner", data), replace(config, model=str(model))


@pytest.mark.parametrize("kind", [pytest.param("lora-decoder", marks=pytest.mark.slow),
                                  pytest.param("multilabel", marks=pytest.mark.slow), "ner"])
def test_resume_restores_every_task_exactly(
    tmp_path: Path, tiny_llama: Path, new_run, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    import shutil

    from thresher.train import checkpoint

    run, config = _task_run(kind, tmp_path, tiny_llama, new_run)
    whole_run = tmp_path / "whole"
    shutil.copytree(run, whole_run)
    whole = train_run(whole_run, config)
    save = checkpoint.Checkpoints.save

    def save_then_die(self, state, *args):
        save(self, state, *args)
        if state.step == 4 and state.epoch_steps:  # mid-epoch 1
            raise _Killed

    monkeypatch.setattr(checkpoint.Checkpoints, "save", save_then_die)
    with pytest.raises(_Killed):
        train_run(run, replace(config, checkpoint_every=2))
    monkeypatch.setattr(checkpoint.Checkpoints, "save", save)
    resumed = train_run(run, config)
    assert resumed.model_info["resumed_from_step"] == 4
    assert _without_seconds(resumed.history) == _without_seconds(whole.history)
    a, b = _weights(whole_run), _weights(run)
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
