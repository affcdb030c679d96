"""NER: word -> sub-token tag alignment, Chinese character input, the most-frequent-tag
baseline, a token-classification model trained through the one loop, entity-level scores,
and a CoNLL recipe run end to end."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from task_models import DATA, tiny_bert_folder, wordpiece_tokenizer, write_run
from thresher.errors import ModelError
from thresher.train import TrainConfig, load_classifier, train_run
from thresher.train.batches import encode_words
from thresher.train.ner import FrequentTagBaseline, repair_bio

WNUT = DATA / "wnut17"
WEIBO = DATA / "weibo_ner"
needs_data = pytest.mark.skipif(not WEIBO.is_dir() or not WNUT.is_dir(),
                                reason="../shared/data (WNUT-17, Weibo NER) is not present")
CONFIG = TrainConfig(epochs=3, batch_size=16, learning_rate=5e-3, warmup=0.0, patience=0,
                     max_length=128, eval_batch_size=32, device="cpu", precision="fp32")


def test_first_sub_token_carries_the_tag_the_rest_are_ignored() -> None:
    tokenizer = wordpiece_tokenizer(["i", "love", "new", "##york", "city"])
    data = encode_words(tokenizer, [["I", "love", "newyork", "city"]], 32, [[0, 0, 1, 2]])
    tokens = tokenizer.convert_ids_to_tokens(data.input_ids[0])
    assert tokens == ["[CLS]", "i", "love", "new", "##york", "city", "[SEP]"]
    assert data.labels == [[-100, 0, 0, 1, -100, 2, -100]]
    assert data.word_starts == [[1, 2, 3, 5]]
    cut = encode_words(tokenizer, [["I", "love", "newyork", "city"]], 4, [[0, 0, 1, 2]])
    assert cut.word_starts == [[1, 2, -1, -1]]  # truncated words: no position, predicted "O"


def test_chinese_characters_are_words() -> None:
    tokenizer = wordpiece_tokenizer(list("我在北京工作"))
    data = encode_words(tokenizer, [list("我在北京工作")], 32, [[0, 0, 1, 2, 0, 0]])
    assert tokenizer.convert_ids_to_tokens(data.input_ids[0])[1:-1] == list("我在北京工作")
    assert data.word_starts == [[1, 2, 3, 4, 5, 6]]
    assert data.labels[0][3:5] == [1, 2]


def test_repair_bio_and_the_frequent_tag_baseline() -> None:
    assert repair_bio(["O", "I-PER", "I-PER", "B-LOC", "I-ORG"]) == [
        "O", "B-PER", "I-PER", "B-LOC", "B-ORG"]
    model = FrequentTagBaseline(["B-LOC", "I-LOC", "O"]).fit(
        [["Paris", "is", "big"], ["paris", "Paris"], ["New", "York"]],
        [["B-LOC", "O", "O"], ["O", "B-LOC"], ["B-LOC", "I-LOC"]])
    # "paris": B-LOC twice, O once; unknown words are O; "York" alone starts an entity
    assert model.predict_tags([["PARIS", "rocks"], ["York"]]) == [["B-LOC", "O"], ["B-LOC"]]


def _conll_splits(folder: Path, names: tuple[str, str, str], rows: tuple[int, int, int]
                  ) -> dict[str, pd.DataFrame]:
    from thresher.io import read_source

    return {split: read_source(folder / name, task="ner").table.head(n)
            for split, name, n in zip(("train", "validation", "test"), names, rows)}


@needs_data
def test_weibo_character_level_model_and_entity_scores(tmp_path: Path) -> None:
    from thresher.evaluate import evaluate_run

    splits = _conll_splits(WEIBO, ("weiboNER_2nd_conll.train", "weiboNER_2nd_conll.dev",
                                   "weiboNER_2nd_conll.test"), (240, 60, 60))
    chars = sorted({c.lower() for t in splits["train"]["tokens"] for w in t for c in w})
    bert = tiny_bert_folder(tmp_path / "bert", chars, max_positions=256)
    run = write_run(tmp_path / "run", "ner", splits)
    result = train_run(run, replace(CONFIG, model=str(bert), imbalance="class_weights"))
    assert result.model_info["task"] == "ner" and result.model_info["imbalance"] == "class_weights"
    assert result.history[-1]["train_loss"] < result.history[0]["train_loss"]
    assert {"val_entity_f1", "val_token_accuracy", "val_loss"} <= set(result.history[0])
    assert json.loads((run / "model" / "config.json").read_text())["architectures"] == [
        "BertForTokenClassification"]
    tagger = load_classifier(run / "model", device="cpu")
    sentences = splits["test"]["tokens"].tolist()
    tags = tagger.predict_tags(sentences, batch_size=7)
    assert [len(t) for t in tags] == [len(s) for s in sentences]
    assert tagger.predict_tags(sentences[::-1], batch_size=5) == tags[::-1]
    metrics = evaluate_run(run)
    test = metrics["splits"]["test"]
    assert metrics["task"] == "ner" and metrics["comparison"]["metric"] == "micro_f1"
    from seqeval.metrics import f1_score
    from seqeval.metrics.sequence_labeling import get_entities

    gold = get_entities(splits["test"]["tags"].tolist())
    assert {kind for kind, _, _ in gold} <= set(test["per_class"]) and test["entities"] == len(gold)
    assert {"PER.NAM", "PER.NOM"} <= set(test["per_class"])

    assert test["micro_f1"] == pytest.approx(f1_score(splits["test"]["tags"].tolist(), tags))
    predictions = pd.read_parquet(run / "predictions.parquet")
    assert [list(p) for p in predictions["predicted"]] == tags


@needs_data
def test_wnut_baseline_run_from_a_conll_recipe(tmp_path: Path) -> None:
    from thresher.pipeline import run
    from thresher.recipe import parse_recipe

    lines = (WNUT / "wnut17train.conll").read_text(encoding="utf-8").split("\n")
    sample = tmp_path / "wnut.conll"
    sample.write_text("\n".join(lines[:12000]) + "\n", encoding="utf-8")
    recipe = parse_recipe({"task": "ner", "input": {"path": str(sample)},
                           "split": {"validation": 0.15, "test": 0.15},
                           "train": {"model": "baseline"}, "evaluate": {}})
    result = run(recipe, tmp_path / "out")
    test = result.metrics["splits"]["test"]
    assert result.metrics["task"] == "ner"
    assert result.metrics["model"]["backbone"] == "most-frequent-tag"
    assert 0 < test["micro_f1"] < 1 and "person" in test["per_class"]
    assert test["per_class"]["person"]["support"] > 0
    assert result.manifest["rows"]["read"] == result.manifest["rows"]["kept"] + result.manifest[
        "rows"]["rejected"]


def test_default_backbone_for_chinese_ner_is_a_clear_error(tmp_path: Path) -> None:
    frame = pd.DataFrame({"id": ["a", "b"], "tokens": [list("我在北京"), list("他去上海")],
                          "tags": [["O", "O", "B-LOC", "I-LOC"], ["O", "O", "B-LOC", "I-LOC"]],
                          "source": ["s", "s"]})
    run = write_run(tmp_path / "run", "ner", {"train": frame, "validation": frame})
    with pytest.raises(ModelError, match="no offline backbone tags Chinese tokens"):
        train_run(run, TrainConfig())
    assert not (run / "baseline").exists()  # failed before anything was written


def test_all_o_tags_is_a_data_error(tmp_path: Path) -> None:
    from thresher.errors import DataError

    frame = pd.DataFrame({"id": ["a"], "tokens": [["hi"]], "tags": [["O"]], "source": ["s"]})
    run = write_run(tmp_path / "run", "ner", {"train": frame, "validation": frame})
    with pytest.raises(DataError, match="no entity tags"):
        train_run(run, TrainConfig(model="baseline"))
