"""LoRA SFT end to end on a tiny causal LM built here: train, evaluate, resume, chat, errors.

The tiny model is a 2-layer, 32-wide Llama with a word-level tokenizer learnt from the data
and a ChatML template, so every step (template rendering, the assistant-only loss, packing,
LoRA, generation, the adapter on disk) runs the real code in seconds. One slow test runs the
offline SmolLM2 through ``thresher run``.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from thresher.cli.main import main
from thresher.demo_chats import make_support_chats
from thresher.errors import DataError, ModelError, RecipeError
from thresher.pipeline import run
from thresher.recipe import parse_recipe

ROLES = {"customer": "user", "agent": "assistant", "bot": "assistant"}
SPECIALS = ["<pad>", "<s>", "</s>", "<|im_start|>", "<|im_end|>", "[UNK]"]
CHATML = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
          "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
DIGITS = "zero one two three four five six seven eight nine".split()
STEPS = 20  # 5 batches of 8 per epoch: 4 epochs
TRAIN = {"max_steps": STEPS, "learning_rate": 1e-2, "batch_size": 8, "max_length": 256,
         "device": "cpu", "precision": "fp32", "checkpoint_every": 4}


# ---- fixtures: data, a tiny chat model, one trained run -------------------------------------


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny matrices: on 2 shared cores, torch's thread pool makes each matmul ~50x slower."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def spell(n: int) -> str:
    return " ".join(DIGITS[int(d)] for d in str(n))


def write_alpaca(path: Path, n: int = 40) -> Path:
    rows = [{"instruction": f"Spell the number {k} in words", "output": spell(k)} for k in range(n)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A 60-conversation support log, 40 alpaca rows, and a tiny Llama whose word-level
    vocabulary covers both (ChatML template; eos is <|im_end|>, no pad token, as SmolLM2)."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    root = tmp_path_factory.mktemp("sft")
    chats = root / "chats.csv"
    make_support_chats(chats, conversations=60, seed=0, language="en")
    alpaca = write_alpaca(root / "spell.jsonl")
    texts = pd.read_csv(chats, keep_default_na=False)["text"].tolist()
    texts += [json.loads(line)["instruction"] for line in alpaca.read_text().splitlines()]
    inner = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    inner.pre_tokenizer = pre_tokenizers.Whitespace()
    inner.train_from_iterator([*texts, " ".join(DIGITS), "system user assistant"],
                              trainers.WordLevelTrainer(special_tokens=SPECIALS))
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=inner, unk_token="[UNK]", bos_token="<s>",
                                        eos_token="<|im_end|>",
                                        additional_special_tokens=["<|im_start|>", "<|im_end|>"])
    tokenizer.chat_template = CHATML
    torch.manual_seed(0)
    # initializer_range 0.2: with the usual 0.02 the frozen head's logits span < 1, so LoRA
    # on the layers below cannot move the loss far from log(vocabulary)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64,
                         num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=1,
                         max_position_embeddings=512, initializer_range=0.2, bos_token_id=1,
                         eos_token_id=tokenizer.eos_token_id)
    model = root / "tiny-chat-llama"
    LlamaForCausalLM(config).save_pretrained(model)
    tokenizer.save_pretrained(model)
    return {"chats": chats, "alpaca": alpaca, "model": model}


def sft_recipe(files: dict[str, Path], **train: Any) -> dict[str, Any]:
    return {"task": "sft", "input": {"path": str(files["chats"]), "roles": ROLES},
            "split": {"validation": 0.2, "test": 0.2, "seed": 1},
            "train": {"model": str(files["model"]), **TRAIN, **train}, "evaluate": {}}


@pytest.fixture(scope="module")
def sft_run(files: dict[str, Path], tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("runs") / "sft"
    result = run(parse_recipe(sft_recipe(files)), out, num_proc=1)
    return out, result


def read(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def split(out: Path, name: str) -> pd.DataFrame:
    return pd.read_parquet(out / "data" / f"{name}.parquet")


def encoded(out: Path, tokenizer: Any, names: tuple[str, ...], pack: bool) -> Any:
    from thresher.train.sft import encode_rows, to_encoded

    frame = pd.concat([split(out, n) for n in names], ignore_index=True)
    items, dropped = encode_rows(tokenizer, frame, "sft", TRAIN["max_length"])
    assert dropped == [] and len(items) == len(frame)
    return to_encoded(items, int(tokenizer.pad_token_id), TRAIN["max_length"], 13, pack=pack)


@pytest.fixture(scope="module")
def tuned(sft_run):
    """(model with the trained adapter, tokenizer, thresher_model.json) of the shared run."""
    from thresher.train.sft import load_sft_model

    return load_sft_model(sft_run[0] / "model", "cpu")


# ---- the run folder --------------------------------------------------------------------------


def test_sft_run_writes_the_adapter_generations_and_metrics(sft_run, files) -> None:
    out, result = sft_run
    rows = result.manifest["rows"]
    assert rows["read"] == rows["kept"] + rows["rejected"] and rows["kept"] > 40
    parts = {k: split(out, k) for k in ("train", "validation", "test")}
    assert sum(len(p) for p in parts.values()) == rows["kept"]
    model = out / "model"
    for name in ("adapter_config.json", "adapter_model.safetensors", "tokenizer.json",
                 "chat_template.jinja", "training_history.json"):
        assert (model / name).is_file(), name
    assert not (model / "model.safetensors").exists()  # the base is referenced, not copied
    info = read(model / "thresher_model.json")
    assert (info["kind"], info["task"], info["load"], info["packing"]) == (
        "causal_lm", "sft", "adapter", False)
    assert info["base"] == {"source": "folder", "spec": str(files["model"]),
                            "folder": str(files["model"].resolve())}
    assert (info["steps"], info["max_length"], info["device"], info["precision"]) == (
        STEPS, 256, "cpu", "fp32")
    assert info["dropped"] == {"train": 0, "validation": 0}
    assert info["token_stats"]["train"]["conversations"] == len(parts["train"])
    adapter = read(model / "adapter_config.json")
    assert adapter["r"] == 8 and adapter["lora_alpha"] == 16
    targets = adapter["target_modules"]  # every linear layer of both blocks, not the head
    assert len(targets) == 2 * 7 and {t.rsplit(".", 1)[-1] for t in targets} == {
        "q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}


def test_generations_hold_the_same_test_prompts_before_and_after(sft_run) -> None:
    from thresher.train.sft import prompt_messages

    out, _ = sft_run
    test = split(out, "test")
    expected = [prompt_messages(r, "sft") for r in test.sample(
        n=min(8, len(test)), random_state=13).to_dict("records")]
    generations = read(out / "model" / "generations.json")
    assert [(g["prompt"], g["reference"]) for g in generations] == expected  # seed 13
    assert all(g["prompt"][-1]["role"] == "user" for g in generations)
    assert all(isinstance(g["before"], str) and isinstance(g["after"], str) for g in generations)
    assert [g["before"] for g in generations] != [g["after"] for g in generations]


def test_report_scores_base_and_tuned_answers_on_the_same_prompts(sft_run, tmp_path) -> None:
    import shutil

    from thresher.evaluate.generation import rouge, token_f1
    from thresher.report import build_report
    from thresher.report._inputs import load_run
    from thresher.report._sft_sections import sft

    generations = read(sft_run[0] / "model" / "generations.json")
    refs = [g["reference"] for g in generations]
    scores = dict((name, (b, a)) for name, b, a in sft(load_run(sft_run[0]))["generation_scores"])
    assert scores["ROUGE-L"] == (rouge([g["before"] for g in generations], refs).rougeL,
                                 rouge([g["after"] for g in generations], refs).rougeL)
    assert scores["token F1"][1] == token_f1([g["after"] for g in generations], refs).value
    copy = tmp_path / "run"  # the shared run folder stays as the other tests expect it
    shutil.copytree(sft_run[0], copy)
    page = build_report(copy).read_text(encoding="utf-8")
    assert f"On these {len(generations)} prompts" in page and "(base) &rarr;" in page


def test_metrics_hold_loss_perplexity_and_generation_scores(sft_run, tuned) -> None:
    import torch

    from thresher.train.sft import CausalLM

    out, result = sft_run
    metrics = read(out / "metrics.json")
    assert result.metrics == metrics
    test = split(out, "test")
    assert (metrics["task"], metrics["split"], metrics["rows"], metrics["scored_rows"]) == (
        "sft", "test", len(test), len(test))
    assert metrics["dropped"] == [] and metrics["generated_rows"] == len(test)
    assert metrics["perplexity"] == pytest.approx(math.exp(metrics["loss"]), rel=1e-12)
    generation = metrics["generation"]
    assert (generation["task_kind"], generation["n"]) == ("chat", len(test))
    assert 0.0 <= generation["rouge"]["rougeL"] <= 1.0 and "score" in generation["bleu"]
    predictions = pd.read_parquet(out / "predictions.parquet")
    assert sorted(predictions["id"]) == sorted(test["id"])
    # the test loss is the teacher-forced loss of the saved adapter, and beats the base model
    model, tokenizer, _ = tuned
    data = encoded(out, tokenizer, ("test",), pack=False)
    scores = CausalLM().validate(model, data, 4, "cpu", "fp32")
    assert scores["val_loss"] == pytest.approx(metrics["loss"], rel=1e-5)
    assert scores["val_tokens"] == metrics["tokens"]
    with model.disable_adapter(), torch.no_grad():
        base = CausalLM().validate(model, data, 4, "cpu", "fp32")
    assert base["val_loss"] > metrics["loss"] + 0.2, (base["val_loss"], metrics["loss"])


def test_training_loss_drops(sft_run) -> None:
    history = read(sft_run[0] / "model" / "training_history.json")
    assert [h["epoch"] for h in history] == [1, 2, 3, 4]
    assert history[-1]["train_loss"] < history[0]["train_loss"] - 0.5, history
    assert history[-1]["val_loss"] < history[0]["val_loss"], history
    for h in history:
        assert h["val_perplexity"] == pytest.approx(math.exp(h["val_loss"]))
        assert h["val_likelihood"] == pytest.approx(math.exp(-h["val_loss"]))


# ---- the loss -------------------------------------------------------------------------------


def test_token_loss_equals_full_logits_shifted_cross_entropy(sft_run, tuned) -> None:
    import numpy as np
    import torch

    from thresher.train.batches import collate
    from thresher.train.sft import CausalLM

    model, tokenizer, _ = tuned
    data = encoded(sft_run[0], tokenizer, ("train",), pack=False)
    batch = collate(data, np.arange(6))  # rows of different lengths: right padding
    assert (batch["attention_mask"] == 0).any()
    with torch.no_grad():
        total, count = CausalLM().token_loss(model, batch)
        logits = model(input_ids=batch["input_ids"],
                       attention_mask=batch["attention_mask"]).logits
        with model.disable_adapter():
            base_logits = model(input_ids=batch["input_ids"],
                                attention_mask=batch["attention_mask"]).logits
    assert not torch.allclose(logits, base_logits, atol=1e-3)  # the adapter is in the loss
    target = batch["labels"][:, 1:]
    hand = torch.nn.functional.cross_entropy(
        logits[:, :-1].reshape(-1, logits.shape[-1]).float(), target.reshape(-1),
        ignore_index=-100, reduction="sum")
    assert int(count) == int((target != -100).sum()) > 50
    assert float(total) / int(count) == pytest.approx(float(hand) / int(count), abs=1e-5)
    with torch.no_grad():
        mean = float(CausalLM().forward_loss(model, batch))
    assert mean == pytest.approx(float(hand) / int(count), abs=1e-5)


def test_packing_does_not_change_the_validation_loss(sft_run, tuned) -> None:
    from thresher.train.sft import CausalLM, PackedEncoded

    model, tokenizer, _ = tuned
    names = ("validation", "test")
    padded = encoded(sft_run[0], tokenizer, names, pack=False)
    packed = encoded(sft_run[0], tokenizer, names, pack=True)
    assert isinstance(packed, PackedEncoded) and len(packed) < len(padded) / 2
    assert sum(len(p.rows) for p in packed.packs) == len(padded)
    one = CausalLM().validate(model, padded, 4, "cpu", "fp32")
    many = CausalLM().validate(model, packed, 2, "cpu", "fp32")
    assert many["val_tokens"] == one["val_tokens"]
    assert many["val_loss"] == pytest.approx(one["val_loss"], rel=1e-5)


# ---- rerun and resume -----------------------------------------------------------------------


class Killed(Exception):
    """Stands for a kill in the middle of training."""


def count_steps(monkeypatch: pytest.MonkeyPatch, kill_at: int | None = None) -> list[int]:
    """Count training forward passes (one per optimiser step here); raise at ``kill_at``."""
    from thresher.train.sft import CausalLM

    calls: list[int] = []
    real = CausalLM.forward_loss

    def forward_loss(self: Any, model: Any, batch: dict[str, Any]) -> Any:
        calls.append(1)
        if len(calls) == kill_at:
            raise Killed(f"killed at step {kill_at}")
        return real(self, model, batch)

    monkeypatch.setattr(CausalLM, "forward_loss", forward_loss)
    return calls


def test_a_second_run_with_the_same_recipe_skips_every_stage(sft_run, files,
                                                             monkeypatch) -> None:
    out, _ = sft_run
    stamp = (out / "model" / "thresher_model.json").stat().st_mtime_ns
    calls = count_steps(monkeypatch)
    again = run(parse_recipe(sft_recipe(files)), out, num_proc=1)
    assert again.skipped == ("data", "train", "evaluate") and calls == []
    assert (out / "model" / "thresher_model.json").stat().st_mtime_ns == stamp
    assert again.metrics == read(out / "metrics.json")


def test_a_killed_run_resumes_from_its_checkpoint_and_matches_an_unbroken_one(
        sft_run, files, tmp_path, monkeypatch) -> None:
    from safetensors.torch import load_file

    unbroken, _ = sft_run
    out = tmp_path / "killed"
    recipe = parse_recipe(sft_recipe(files))
    calls = count_steps(monkeypatch, kill_at=14)
    with pytest.raises(Killed):
        run(recipe, out, num_proc=1)
    # checkpoints every 4 steps and at epoch ends (5 steps each): the last before 14 is 12
    assert read(out / "checkpoints" / "latest.json")["step"] == 12
    assert not (out / "model" / "thresher_model.json").exists()
    calls = count_steps(monkeypatch)
    result = run(recipe, out, num_proc=1)
    assert len(calls) == STEPS - 12 and result.skipped == ("data",)
    assert not (out / "checkpoints").exists()  # removed after a finished run

    def timeless(history: list[dict]) -> list[dict]:
        return [{k: v for k, v in h.items() if "seconds" not in k} for h in history]

    assert timeless(read(out / "model" / "training_history.json")) == timeless(
        read(unbroken / "model" / "training_history.json"))
    mine = load_file(str(out / "model" / "adapter_model.safetensors"))
    theirs = load_file(str(unbroken / "model" / "adapter_model.safetensors"))
    assert mine.keys() == theirs.keys() and all((mine[k] == theirs[k]).all() for k in mine)
    assert read(out / "metrics.json")["loss"] == read(unbroken / "metrics.json")["loss"]


# ---- seq2seq ---------------------------------------------------------------------------------


def test_seq2seq_from_alpaca_with_packing(files, tmp_path) -> None:
    out = tmp_path / "spell"
    raw = {"task": "seq2seq", "input": {"path": str(files["alpaca"])},
           "split": {"validation": 0.2, "test": 0.2, "seed": 1},
           "train": {"model": str(files["model"]), **TRAIN, "max_length": 64, "packing": True,
                     "batch_size": 2, "max_steps": 12},
           "evaluate": {}}
    result = run(parse_recipe(raw), out, num_proc=1)
    test = split(out, "test")
    assert list(test.columns[:4]) == ["id", "input", "target", "source"] and len(test) == 8
    info = read(out / "model" / "thresher_model.json")
    assert (info["kind"], info["task"], info["packing"], info["steps"]) == (
        "causal_lm", "seq2seq", True, 12)
    generations = read(out / "model" / "generations.json")
    by_input = dict(zip(test["input"], test["target"]))
    assert len(generations) == 8
    for g in generations:
        assert len(g["prompt"]) == 1 and g["prompt"][0]["role"] == "user"
        assert by_input[g["prompt"][0]["content"]] == g["reference"]
    metrics = result.metrics
    assert (metrics["task"], metrics["rows"], metrics["scored_rows"]) == ("seq2seq", 8, 8)
    generation = metrics["generation"]
    assert (generation["task_kind"], generation["n"]) == ("seq2seq", 8)
    assert generation["rouge"]["n"] == 8 and "score" in generation["bleu"]
    from thresher.evaluate.generation import exact_match, token_f1

    answers = pd.read_parquet(out / "predictions.parquet")
    assert generation["exact_match"]["value"] == pytest.approx(
        exact_match(answers["answer"].tolist(), answers["reference"].tolist()).value)
    assert generation["token_f1"]["value"] == pytest.approx(
        token_f1(answers["answer"].tolist(), answers["reference"].tolist()).value)
    history = read(out / "model" / "training_history.json")
    assert history[-1]["train_loss"] < history[0]["train_loss"], history


# ---- errors ----------------------------------------------------------------------------------


def stderr_line(capsys: pytest.CaptureFixture) -> str:
    lines = capsys.readouterr().err.strip().splitlines()
    return lines[-1]


def test_baseline_model_for_sft_exits_2_with_a_message(files, tmp_path, capsys) -> None:
    recipe = sft_recipe(files, model="baseline")
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(recipe), encoding="utf-8")
    code = main(["run", str(path), "-o", str(tmp_path / "out"), "--num-proc", "1"])
    assert code == 2
    assert stderr_line(capsys) == (
        f"error: {path}: train.model: task sft has no baseline model. use a causal LM, e.g. "
        "model: smollm2 (the offline default).")
    assert not (tmp_path / "out" / "data").exists()  # refused when the recipe is read


def test_packing_is_refused_for_classification() -> None:
    with pytest.raises(RecipeError) as info:
        parse_recipe({"task": "classification", "input": {"path": "x.csv"},
                      "split": {"validation": 0.1, "test": 0.1}, "train": {"packing": True}})
    assert info.value.message == (
        "train.packing: True is not allowed. Use false: packing is for sft and seq2seq.")


def test_an_encoder_is_not_a_causal_lm(tiny_bert) -> None:
    from thresher.train.sft import load_causal_lm

    with pytest.raises(ModelError) as info:
        load_causal_lm(str(tiny_bert))
    assert info.value.message == (
        f"train.model: model {str(tiny_bert)!r} is a bert encoder, not a causal LM. Use a "
        "decoder such as smollm2 for SFT.")


def test_chat_on_a_classification_run_says_so(run_dir, capsys) -> None:
    from thresher.train import TrainConfig, train_run

    train_run(run_dir, TrainConfig(model="baseline"), task="classification")
    assert main(["chat", str(run_dir), "-m", "hello"]) == 2
    assert stderr_line(capsys) == (
        f"error: {run_dir / 'model'}: this is a classification model, not an SFT one. Chat "
        "needs a run with task: sft or seq2seq.")


def test_chat_on_a_folder_without_a_model_says_so(tmp_path, capsys) -> None:
    assert main(["chat", str(tmp_path), "-m", "hello"]) == 2
    assert stderr_line(capsys) == (
        f"error: {tmp_path / 'model'}: no trained model here (thresher_model.json is missing). "
        "Pass the folder of a run that finished training.")


def test_no_conversation_within_max_length_is_a_data_error(sft_run, files, tmp_path) -> None:
    from thresher.train import TrainConfig, train_run

    out = tmp_path / "short"
    shutil.copytree(sft_run[0] / "data", out / "data")
    config = TrainConfig(model=str(files["model"]), max_length=8, max_steps=1, device="cpu")
    with pytest.raises(DataError) as info:
        train_run(out, config, task="sft")
    assert info.value.message == (
        "train.max_length: no training conversation has an assistant answer within max_length. "
        "raise max_length or check the data.")
    assert not (out / "model").exists()


# ---- chat ------------------------------------------------------------------------------------


def test_chat_cli_prints_replies_that_follow_the_conversation(sft_run, tuned, capsys) -> None:
    from thresher.train.sft import generate

    out, _ = sft_run
    code = main(["chat", str(out), "-m", "hello", "-m", "where is my order", "--max-new-tokens",
                 "12", "--device", "cpu"])
    assert code == 0
    model, tokenizer, _ = tuned
    turns = [{"role": "user", "content": "hello"}]
    first = generate(model, tokenizer, [turns], "cpu", "fp32", max_new_tokens=12)[0]
    turns += [{"role": "assistant", "content": first},
              {"role": "user", "content": "where is my order"}]
    second = generate(model, tokenizer, [turns], "cpu", "fp32", max_new_tokens=12)[0]
    assert first and second
    assert capsys.readouterr().out == (
        f"you> hello\nmodel> {first}\nyou> where is my order\nmodel> {second}\n")


# ---- the real model --------------------------------------------------------------------------


@pytest.mark.slow
def test_export_merged_gives_the_adapter_models_logits(sft_run, tuned, tmp_path,
                                                        capsys) -> None:
    import torch
    from transformers import AutoModelForCausalLM

    out, _ = sft_run
    target = tmp_path / "merged"
    assert main(["export", str(out), "--merged", "--out", str(target)]) == 0
    assert f"merged model: {target}" in capsys.readouterr().out
    record = read(out / "export.json")
    assert record["format"] == "merged" and record["check"]["max_abs_diff"] <= 1e-3
    merged = AutoModelForCausalLM.from_pretrained(target, dtype="float32").eval()
    assert not any("lora" in name for name, _ in merged.named_parameters())
    model, _, _ = tuned
    ids = torch.tensor([[1, 2, 3, 4, 5]])
    with torch.inference_mode():
        assert torch.allclose(merged(input_ids=ids).logits, model(input_ids=ids).logits,
                              atol=1e-4)


def test_smollm2_lora_sft_through_thresher_run(tmp_path, capsys) -> None:
    from thresher.train.backbones import resolve_spec

    try:
        resolve_spec("smollm2")  # converted once from the package's GGUF
    except ModelError as exc:
        pytest.skip(f"offline backbone smollm2 unavailable: {exc}")
    chats = tmp_path / "chats.csv"
    make_support_chats(chats, conversations=40, seed=3, language="en")
    recipe = {"task": "sft", "input": {"path": str(chats), "roles": ROLES},
              "split": {"validation": 0.1, "test": 0.1, "seed": 1},
              "train": {"model": "smollm2", "max_steps": 4, "batch_size": 2, "max_length": 256,
                        "device": "cpu", "precision": "fp32"},
              "evaluate": {}}
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(recipe), encoding="utf-8")
    out = tmp_path / "run"
    assert main(["run", str(path), "-o", str(out), "--num-proc", "1"]) == 0
    info = read(out / "model" / "thresher_model.json")
    assert (info["kind"], info["backbone"], info["steps"]) == ("causal_lm", "smollm2", 4)
    history = read(out / "model" / "training_history.json")
    assert all(math.isfinite(h["val_loss"]) for h in history)
    metrics = read(out / "metrics.json")
    # an instruct model already answers support questions: perplexity on the answers is low
    assert 1.0 < metrics["perplexity"] < 200.0, metrics["perplexity"]
    generations = read(out / "model" / "generations.json")
    assert generations and all(g["after"].strip() for g in generations)
    assert "perplexity" in capsys.readouterr().out
