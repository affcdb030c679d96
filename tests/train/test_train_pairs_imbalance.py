"""Sentence pairs (a second text column, tokenised as a pair) and imbalance handling (class
weights in the loss, seeded resampling of the rarer classes), plus the recipe checks for the
task and train settings."""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from task_models import tiny_bert_folder, wordpiece_tokenizer, write_run
from thresher.errors import RecipeError
from thresher.recipe import parse_recipe
from thresher.train import TrainConfig, load_classifier, train_run
from thresher.train.batches import Encoded, encode
from thresher.train.tasks import Classification, balanced_weights, make_task

FILLER = "the a this that movie film plot story day night very quite one it was is".split()
POSITIVE, NEGATIVE = ["good", "great", "lovely"], ["bad", "awful", "boring"]
CONFIG = TrainConfig(epochs=4, batch_size=8, learning_rate=5e-3, warmup=0.0, patience=0,
                     max_length=48, eval_batch_size=16, device="cpu", precision="fp32")


def sentence(rng: random.Random, cue: str) -> str:
    words = [rng.choice(FILLER) for _ in range(rng.randint(3, 8))]
    words.insert(rng.randint(0, len(words)), cue)
    return " ".join(words)


def pair_frame(n: int, seed: int, prefix: str) -> pd.DataFrame:
    """The label is the polarity of the *second* text; the first carries a random cue, so a
    model that ignored the pair would be at chance."""
    rng = random.Random(seed)
    labels = ["pos" if i % 2 == 0 else "neg" for i in range(n)]
    return pd.DataFrame({
        "id": [f"{prefix}{i:03d}" for i in range(n)],
        "text": [sentence(rng, rng.choice(POSITIVE + NEGATIVE)) for _ in labels],
        "reply": [sentence(rng, rng.choice(POSITIVE if y == "pos" else NEGATIVE)) for y in labels],
        "label": labels,
        "source": [f"synthetic:{i + 1}" for i in range(n)],
    })


def skewed_frame(n: int, seed: int, prefix: str, rare_share: float = 0.15) -> pd.DataFrame:
    rng = random.Random(seed)
    labels = ["neg" if rng.random() < rare_share else "pos" for _ in range(n)]
    return pd.DataFrame({
        "id": [f"{prefix}{i:03d}" for i in range(n)],
        "text": [sentence(rng, rng.choice(POSITIVE if y == "pos" else NEGATIVE)) for y in labels],
        "label": labels, "source": ["s"] * n})


@pytest.fixture(scope="module")
def bert(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_bert_folder(tmp_path_factory.mktemp("pair-bert"), FILLER + POSITIVE + NEGATIVE)


def test_pairs_are_tokenised_as_pairs() -> None:
    tokenizer = wordpiece_tokenizer(FILLER + POSITIVE + NEGATIVE)
    data = encode(tokenizer, ["a good film"], 32, pairs=["the plot was bad"])
    tokens = tokenizer.convert_ids_to_tokens(data.input_ids[0])
    assert tokens == ["[CLS]", "a", "good", "film", "[SEP]", "the", "plot", "was", "bad", "[SEP]"]
    assert data.token_type_ids == [[0, 0, 0, 0, 0, 1, 1, 1, 1, 1]]
    short = encode(tokenizer, ["a good film " * 10], 12, pairs=["bad"])
    assert short.lengths[0] == 12 and short.token_type_ids[0][-2:] == [1, 1]  # pair kept


def test_pair_model_reads_the_second_text(tmp_path: Path, bert: Path) -> None:
    splits = {"train": pair_frame(128, 1, "t"), "validation": pair_frame(48, 2, "v")}
    run = write_run(tmp_path / "run", "classification", splits, text_pair="reply")
    result = train_run(run, replace(CONFIG, model=str(bert), epochs=6))
    assert result.model_info["text_pair"] == "reply"
    assert max(row["val_accuracy"] for row in result.history) >= 0.8  # chance is 0.5
    val = splits["validation"]
    model = load_classifier(run / "model", device="cpu")
    proba = model.predict_proba(list(zip(val["text"], val["reply"])))
    accuracy = (np.array(model.labels)[proba.argmax(1)] == val["label"]).mean()
    assert accuracy == pytest.approx(result.history[result.best_epoch - 1]["val_accuracy"])
    baseline = load_classifier(run / "baseline")
    assert baseline.predict_proba([("a film", "a good day")]).shape == (1, 2)
    assert result.baseline_info["text_pair"] == "reply"


def test_balanced_weights_are_inverse_frequency_with_mean_one() -> None:
    weights = balanced_weights(np.array([80, 20, 0]))
    assert weights.tolist() == pytest.approx([100 / (2 * 80), 100 / (2 * 20), 1.0])
    assert (weights[:2] * [80, 20]).sum() / 100 == pytest.approx(1.0)


def test_class_weights_change_the_loss_and_the_baseline(tmp_path: Path, bert: Path) -> None:
    splits = {"train": skewed_frame(120, 1, "t"), "validation": skewed_frame(48, 2, "v", 0.3)}
    plain = train_run(write_run(tmp_path / "a", "classification", splits),
                      replace(CONFIG, model=str(bert), epochs=1))
    weighted = train_run(write_run(tmp_path / "b", "classification", splits),
                         replace(CONFIG, model=str(bert), epochs=1, imbalance="class_weights"))
    assert weighted.model_info["imbalance"] == "class_weights"
    assert weighted.history[0]["train_loss"] != pytest.approx(plain.history[0]["train_loss"])
    assert weighted.baseline_info["class_weight"] == "balanced"
    assert "class_weight" not in plain.baseline_info


def test_resample_tops_up_rare_classes_seeded() -> None:
    labels = np.array([0] * 10 + [1] * 3)
    data = Encoded([[1]] * 13, np.ones(13, dtype=np.int64), labels, 0)
    task = Classification(["a", "b"], resample=True)
    first = task.epoch_rows(data, np.random.default_rng(13))
    assert np.bincount(labels[first]).tolist() == [10, 10]
    assert sorted(set(first[labels[first] == 1].tolist())) == [10, 11, 12]
    assert np.array_equal(first, task.epoch_rows(data, np.random.default_rng(13)))
    assert Classification(["a", "b"]).epoch_rows(data, np.random.default_rng(13)) is None


def test_resampled_training_balances_batches(tmp_path: Path, bert: Path) -> None:
    splits = {"train": skewed_frame(100, 3, "t"), "validation": skewed_frame(40, 4, "v", 0.3)}
    run = write_run(tmp_path / "run", "classification", splits)
    result = train_run(run, replace(CONFIG, model=str(bert), epochs=2, imbalance="resample"))
    assert result.model_info["imbalance"] == "resample" and len(result.history) == 2
    task = make_task("classification", ["neg", "pos"], splits["train"], imbalance="resample")
    assert task.resample and task.weights is None


def test_recipe_accepts_tasks_and_checks_their_settings() -> None:
    base = {"input": {"path": "d.csv"}, "split": {}}
    assert parse_recipe({**base, "task": "multilabel", "train": {"label_separator": "|"}}
                        ).train.label_separator == "|"
    assert parse_recipe({**base, "task": "ner", "train": {"imbalance": "class_weights"}}
                        ).train.imbalance == "class_weights"
    pair = parse_recipe({**base, "input": {"path": "d.csv", "text": "q", "text_pair": "a"}})
    assert pair.input.text_pair == "a"
    with pytest.raises(RecipeError) as err:
        parse_recipe({**base, "task": "ner", "train": {"imbalance": "resample"}})
    assert err.value.message == ("train.imbalance: 'resample' is not allowed. Use "
                                 "\"class_weights\" or \"none\": resampling needs one label "
                                 "per row.")
    with pytest.raises(RecipeError, match="text_pair needs the first text's column named too"):
        parse_recipe({**base, "input": {"path": "d.csv", "text_pair": "a"}})
    with pytest.raises(RecipeError, match="text_pair does not apply to task 'ner'"):
        parse_recipe({**base, "task": "ner", "input": {"path": "d.csv", "text": "q",
                                                       "text_pair": "a"}})
    with pytest.raises(RecipeError, match="'oversample' is not allowed"):
        parse_recipe({**base, "train": {"imbalance": "oversample"}})


def test_pair_recipe_runs_end_to_end_and_evaluates_on_pairs(tmp_path):
    """The label lives only in the second text: a run that dropped the pair column anywhere
    (reader options, data files, evaluation) would score at chance."""
    import random

    from thresher.evaluate import evaluate_run
    from thresher.pipeline import run
    from thresher.recipe import parse_recipe

    rng = random.Random(3)
    rows = ["question,answer,label"]
    for i in range(240):
        yes = rng.random() < 0.5
        answer = rng.choice(["yes, that is right", "correct, indeed", "是的，没错"] if yes
                            else ["no, that is wrong", "incorrect, sorry", "不是，错了"])
        rows.append(f'"is item {i} in stock?","{answer} {i}",{"yes" if yes else "no"}')
    (tmp_path / "pairs.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    recipe = parse_recipe({"input": {"path": str(tmp_path / "pairs.csv"), "text": "question",
                                     "text_pair": "answer", "label": "label"},
                           "steps": [{"normalize": {}}],
                           "split": {"validation": 0.2, "test": 0.25, "seed": 13},
                           "train": {"model": "baseline"}})
    run(recipe, tmp_path / "out")
    metrics = evaluate_run(tmp_path / "out")
    import pandas as pd

    assert "answer" in pd.read_parquet(tmp_path / "out" / "data" / "test.parquet").columns
    assert metrics["splits"]["test"]["accuracy"] > 0.9
