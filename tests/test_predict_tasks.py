"""thresher.predict beyond single-label classification: multilabel runs (tuned per-label
thresholds, the one-vs-rest baseline), sentence-pair runs, and NER runs (CoNLL, text lines and
tables in; word-level tags, entity spans and confidences out), on tiny random-weight models
saved and loaded by thresher's own code."""

from __future__ import annotations

import json
import random
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import thresher
from thresher.cli.main import main
from thresher.errors import DataError, InputError
from thresher.train import TrainConfig, load_classifier, train_run

sys.path.insert(0, str(Path(__file__).parent / "train"))  # the train tests' tiny-model helpers
from task_models import wordpiece_tokenizer, write_run  # noqa: E402

pytest.importorskip("torch", reason="the training extra is not installed: pip install 'thresher[train]'")
pytest.importorskip("seqeval", reason="the training extra is not installed: pip install 'thresher[train]'")

FILLER = "the a this that day night very quite one it was is we saw had".split()
CUES = {"sports": ["goal", "match"], "food": ["pizza", "soup"], "music": ["guitar", "song"]}
WORDS = "the a in of and to was is from met visited lives city river near".split()
# "johnson" -> john ##son, "paris" -> pa ##ris, ...: words of several sub-tokens
PIECES = WORDS + ["john", "##son", "pa", "##ris", "lon", "##don", "new", "york", "##er", "mary"]
TAGS = ["B-LOC", "B-PER", "I-LOC", "I-PER", "O"]
MAX_LENGTH = 32
WEIBO = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "weibo_ner"


def _info(task: str, **extra: object) -> dict[str, object]:
    return {"kind": "transformer", "task": task, "load": "full", "precision": "fp32",
            "max_length": MAX_LENGTH, **extra}


def _bert(head: str, pieces: list[str], num_labels: int, positions: int = 64, **config: object):
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertForTokenClassification

    tokenizer = wordpiece_tokenizer(pieces)
    torch.manual_seed(0)
    settings = BertConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2,
                          num_attention_heads=2, intermediate_size=64,
                          max_position_embeddings=positions, num_labels=num_labels, **config)
    cls = BertForTokenClassification if head == "token" else BertForSequenceClassification
    model = cls(settings)
    with torch.no_grad():  # random weights give near-uniform outputs: spread them out
        model.classifier.weight.mul_(30)
    return model, tokenizer


# ---------------------------------------------------------------------------- multilabel


def _topics(n: int, seed: int, prefix: str) -> pd.DataFrame:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        topics = rng.sample(sorted(CUES), rng.choice([1, 1, 2]))
        words = [rng.choice(FILLER) for _ in range(rng.randint(3, 8))]
        for topic in topics:
            words.insert(rng.randint(0, len(words)), rng.choice(CUES[topic]))
        rows.append({"id": f"{prefix}{i:03d}", "text": " ".join(words), "label": "|".join(topics),
                     "source": "synthetic"})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def multilabel_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """baseline/: the one-vs-rest baseline trained by train_run (labels split on "|");
    model/: a random-weight BERT with a sigmoid per label and its own thresholds."""
    from thresher.train.transformer import TransformerClassifier

    run = write_run(tmp_path_factory.mktemp("ml") / "run", "multilabel",
                    {"train": _topics(120, 1, "t"), "validation": _topics(60, 2, "v")})
    train_run(run, TrainConfig(model="baseline", label_separator="|", device="cpu"))
    (run / "model").rename(run / "baseline")
    words = FILLER + [w for cue in CUES.values() for w in cue]
    bert, tokenizer = _bert("sequence", words, 3, problem_type="multi_label_classification")
    model = TransformerClassifier(bert, tokenizer, ["food", "music", "sports"],
                                  max_length=MAX_LENGTH, device="cpu", precision="fp32",
                                  info=_info("multilabel", label_separator="|"))
    model.thresholds = [0.45, 0.5, 0.55]
    model.save(run / "model")
    return run


def _topic_rows(path: Path) -> Path:
    pd.DataFrame({"id": ["n1", "n2", "n3"],
                  "text": ["we saw a goal and a song", "pizza night", "it was quite one day"],
                  "labels": ["sports|music", "food", None]}).to_csv(path, index=False)
    return path


def test_multilabel_baseline_predicts_label_sets_with_its_tuned_thresholds(
        multilabel_run: Path, tmp_path: Path) -> None:
    source = _topic_rows(tmp_path / "new.csv")
    table = thresher.predict(multilabel_run, source, model="baseline")
    assert list(table.columns) == ["id", "text", "label", "predicted", "proba_food", "proba_music",
                                   "proba_sports"]
    baseline = load_classifier(multilabel_run / "baseline")
    saved = json.loads((multilabel_run / "baseline" / "thresholds.json").read_text())
    assert table.attrs["thresholds"] == saved and table.attrs["task"] == "multilabel"
    proba = baseline.predict_proba(table["text"].tolist())
    assert np.allclose(table[["proba_food", "proba_music", "proba_sports"]].to_numpy(), proba)
    expected = ["|".join(label for label, p in zip(baseline.labels, row) if p >= saved[label])
                for row in proba]
    assert table["predicted"].tolist() == expected
    assert table["predicted"][1] == "food"  # the one-vs-rest baseline learned its cue words
    # label sets sorted as the model's labels are, so that equal sets are equal strings
    assert table["label"].tolist()[:2] == ["music|sports", "food"] and table["label"].isna()[2]


def test_multilabel_threshold_just_above_and_below_a_probability(
        multilabel_run: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(multilabel_run, run)
    source = _topic_rows(tmp_path / "new.csv")
    before = thresher.predict(run, source)
    model = load_classifier(run / "model", device="cpu")
    columns = ["proba_food", "proba_music", "proba_sports"]
    assert np.allclose(before[columns].to_numpy(), model.predict_proba(before["text"].tolist()))
    assert before.attrs["thresholds"] == {"food": 0.45, "music": 0.5, "sports": 0.55}
    assert before["predicted"].tolist() == [
        "|".join(label for label, t in zip(["food", "music", "sports"], [0.45, 0.5, 0.55])
                 if row[f"proba_{label}"] >= t) for _, row in before.iterrows()]
    p = before.loc[0, columns].to_numpy(dtype=float)
    # food just below its probability (chosen), music and sports just above (not chosen)
    cuts = {"food": p[0] - 1e-9, "music": p[1] + 1e-9, "sports": p[2] + 1e-9}
    (run / "model" / "thresholds.json").write_text(json.dumps(cuts))
    after = thresher.predict(run, source)
    assert np.allclose(after["proba_food"], before["proba_food"])
    assert after["predicted"][0] == "food"
    cuts = {"food": p[0] + 1e-9, "music": p[1] - 1e-9, "sports": p[2] - 1e-9}
    (run / "model" / "thresholds.json").write_text(json.dumps(cuts))
    assert thresher.predict(run, source)["predicted"][0] == "music|sports"  # the run's separator
    (run / "model" / "thresholds.json").write_text(json.dumps({"food": 1.0, "music": 1.0,
                                                                "sports": 1.0}))
    assert thresher.predict(run, source)["predicted"].tolist() == ["", "", ""]  # no label passes


def test_multilabel_jsonl_label_lists_and_cli(multilabel_run: Path, tmp_path: Path,
                                             capsys: pytest.CaptureFixture) -> None:
    source = tmp_path / "new.jsonl"
    rows = [{"text": "a song and a goal", "labels": ["sports", "music"]},
            {"text": "soup", "labels": []}]
    source.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert main(["predict", str(multilabel_run), "--input", str(source), "--output", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "predicted 2 rows" in printed and "predicted labels: " in printed
    written = pd.read_json(out, lines=True)
    assert written["label"][0] == "music|sports" and written["label"].isna()[1]
    assert written.columns.tolist()[-3:] == ["proba_food", "proba_music", "proba_sports"]


# -------------------------------------------------------------------------- sentence pairs


def _pairs(n: int, seed: int, prefix: str) -> pd.DataFrame:
    rng = random.Random(seed)
    polar = {"pos": ["good", "great"], "neg": ["bad", "awful"]}
    labels = ["pos" if i % 2 == 0 else "neg" for i in range(n)]
    say = lambda cue: " ".join(rng.sample(FILLER, 4) + [cue])  # noqa: E731
    return pd.DataFrame({"id": [f"{prefix}{i:03d}" for i in range(n)],
                         "text": [say(rng.choice(polar["pos"] + polar["neg"])) for _ in labels],
                         "reply": [say(rng.choice(polar[y])) for y in labels],
                         "label": labels, "source": "synthetic"})


@pytest.fixture(scope="module")
def pair_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """baseline/: TF-IDF on (text, reply) trained by train_run; model/: a random-weight BERT
    that reads (text, reply) as a pair."""
    from thresher.train.transformer import TransformerClassifier

    run = write_run(tmp_path_factory.mktemp("pairs") / "run", "classification",
                    {"train": _pairs(80, 1, "t"), "validation": _pairs(40, 2, "v")},
                    text_pair="reply")
    train_run(run, TrainConfig(model="baseline", device="cpu"))
    (run / "model").rename(run / "baseline")
    bert, tokenizer = _bert("sequence", FILLER + ["good", "great", "bad", "awful"], 2)
    TransformerClassifier(bert, tokenizer, ["neg", "pos"], max_length=MAX_LENGTH, device="cpu",
                          precision="fp32", info=_info("classification", text_pair="reply")
                          ).save(run / "model")
    return run


def _pair_rows(path: Path, second: str = "reply") -> Path:
    pd.DataFrame({"text": ["we saw one day", "it was a night", "that was very quite"],
                  second: ["great good", "awful bad", None]}).to_csv(path, index=False)
    return path


@pytest.mark.parametrize("model", ["model", "baseline"])
def test_pair_models_read_text_and_pair(pair_run: Path, tmp_path: Path, model: str) -> None:
    table = thresher.predict(pair_run, _pair_rows(tmp_path / "new.csv"), model=model)
    assert list(table.columns) == ["id", "text", "text_pair", "predicted", "confidence",
                                   "proba_neg", "proba_pos"]
    assert table["text_pair"].tolist() == ["great good", "awful bad", ""]  # missing pair: ""
    assert table.attrs["text_pair_column"] == "reply" and table.attrs["text_column"] == "text"
    loaded = load_classifier(pair_run / model, device="cpu")
    expected = loaded.predict_proba(list(zip(table["text"], table["text_pair"])))
    assert np.allclose(table[["proba_neg", "proba_pos"]].to_numpy(), expected, atol=1e-6)
    alone = loaded.predict_proba([(t, "") for t in table["text"]])
    assert not np.allclose(expected[:2], alone[:2])  # the pair changes what the model says


def test_pair_column_under_another_name_and_missing(pair_run: Path, tmp_path: Path) -> None:
    source = _pair_rows(tmp_path / "new.csv", second="answer")
    table = thresher.predict(pair_run, source, text_pair="answer")
    assert table["text_pair"].tolist()[:2] == ["great good", "awful bad"]
    expected = thresher.predict(pair_run, _pair_rows(tmp_path / "same.csv"))
    assert np.allclose(table["proba_pos"], expected["proba_pos"])
    with pytest.raises(DataError) as caught:
        thresher.predict(pair_run, source)
    assert str(caught.value) == (
        f"{source}: this model reads sentence pairs, but the input has no 'reply' column; the "
        "columns are 'text', 'answer'. add each row's second text as column 'reply', or pass "
        "text_pair=<column name> (--text-pair).")


def test_options_that_do_not_fit_the_model(multilabel_run: Path, tmp_path: Path) -> None:
    source = _topic_rows(tmp_path / "new.csv")
    with pytest.raises(InputError) as caught:
        thresher.predict(multilabel_run, source, text_pair="reply")
    assert str(caught.value) == (f"{multilabel_run / 'model'}: text_pair= is for sentence-pair "
                                 "models; this model reads one text per row. leave text_pair "
                                 "(--text-pair) out.")
    with pytest.raises(InputError, match="tokenize= is for NER models; this model is for multilabel"):
        thresher.predict(multilabel_run, source, tokenize="character")


# ------------------------------------------------------------------------------------ NER


def _tagger(run: Path, pieces: list[str], train_tokens: list[list[str]],
            max_length: int = MAX_LENGTH) -> Path:
    """model/: a random-weight BERT token tagger; baseline/: the most-frequent-tag baseline;
    data/train.parquet: the tokens it was "trained" on (how predict learns to cut text)."""
    from thresher.train.ner import FrequentTagBaseline, TokenTagger

    bert, tokenizer = _bert("token", pieces, len(TAGS), positions=max(64, max_length))
    TokenTagger(bert, tokenizer, TAGS, max_length=max_length, device="cpu", precision="fp32",
                info=_info("ner", max_length=max_length)).save(run / "model")
    tags = [["O"] * len(words) for words in train_tokens]
    tags[0][0] = "B-PER"
    FrequentTagBaseline(TAGS).fit(train_tokens, tags).save(run / "baseline")
    train = pd.DataFrame({"id": [f"t{i}" for i in range(len(train_tokens))],
                          "tokens": train_tokens, "tags": tags, "source": "s"})
    write_run(run, "ner", {"train": train})
    return run


@pytest.fixture(scope="module")
def ner_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _tagger(tmp_path_factory.mktemp("ner") / "run", PIECES,
                   [["johnson", "lives", "in", "paris"], ["the", "city", "of", "london"]])


CONLL = ("johnson\tB-PER\nvisited\tO\nparis\tB-LOC\nand\tO\nlondon\tB-LOC\n\n"
         "mary\tB-PER\nmet\tO\nthe\tO\nnew\tB-LOC\nyorker\tI-LOC\nnear\tO\nthe\tO\nriver\tO\n")


def _by_hand(run: Path, sentences: list[list[str]]
             ) -> tuple[list[list[str]], list[list[float]], list[list[str]]]:
    """Each word's tag and top probability from its first sub-token, and its tag from its last
    sub-token, computed here from the saved model and tokenizer alone."""
    import torch
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(run / "model")
    model = AutoModelForTokenClassification.from_pretrained(run / "model").eval()
    tags, top, last_tags = [], [], []
    for words in sentences:
        encoded = tokenizer(words, is_split_into_words=True, return_tensors="pt")
        with torch.no_grad():
            proba = torch.softmax(model(**encoded).logits[0], dim=-1).numpy()
        first, last = {}, {}
        for position, word in enumerate(encoded.word_ids(0)):
            if word is not None:
                first.setdefault(word, position)
                last[word] = position
        tags.append([TAGS[int(proba[first[w]].argmax())] for w in range(len(words))])
        top.append([float(proba[first[w]].max()) for w in range(len(words))])
        last_tags.append([TAGS[int(proba[last[w]].argmax())] for w in range(len(words))])
    return tags, top, last_tags


def test_conll_input_tags_words_from_their_first_sub_token(ner_run: Path, tmp_path: Path) -> None:
    from seqeval.metrics.sequence_labeling import get_entities

    from thresher.io import read_source

    source = tmp_path / "new.conll"
    source.write_text(CONLL, encoding="utf-8")
    table = thresher.predict(ner_run, source)
    assert list(table.columns) == ["id", "text", "tokens", "tags", "predicted", "entities"]
    gold = read_source(source, task="ner").table
    assert table["id"].tolist() == gold["id"].tolist()  # content ids as the readers make them
    assert table["tags"].tolist() == gold["tags"].tolist()
    assert table["text"][0] == "johnson visited paris and london"
    sentences = table["tokens"].tolist()
    tags, top, last_tags = _by_hand(ner_run, sentences)
    assert table["predicted"].tolist() == tags
    assert load_classifier(ner_run / "model", device="cpu").predict_tags(sentences) == tags
    # The test can tell first from last sub-tokens: with these random weights they disagree
    # on some of the words made of several sub-tokens (johnson, paris, london, yorker).
    several = [(0, 0), (0, 2), (0, 4), (1, 4)]
    assert any(tags[r][w] != last_tags[r][w] for r, w in several)
    for row, (words, row_tags, row_top) in enumerate(zip(sentences, tags, top)):
        spans = [(kind, start, end + 1) for kind, start, end in get_entities(row_tags)]
        entities = table["entities"][row]
        assert [(e["type"], e["start"], e["end"]) for e in entities] == spans
        for entity in entities:
            assert entity["text"] == " ".join(words[entity["start"]:entity["end"]])
            assert entity["confidence"] == pytest.approx(
                min(row_top[entity["start"]:entity["end"]]), abs=1e-6)
    # spans of several words: an entity's confidence is its least sure word, not the mean
    assert any(e["end"] - e["start"] > 1 for row in table["entities"] for e in row)
    assert table.attrs["task"] == "ner" and table.attrs["notes"] == []


def test_text_lines_are_cut_on_whitespace_like_the_training_tokens(
        ner_run: Path, tmp_path: Path) -> None:
    source = tmp_path / "sentences.txt"
    source.write_text("johnson visited paris and london\n\n  mary met the new yorker  \n",
                      encoding="utf-8")
    table = thresher.predict(ner_run, source)
    assert list(table.columns) == ["id", "text", "tokens", "predicted", "entities"]
    assert table["tokens"].tolist() == [["johnson", "visited", "paris", "and", "london"],
                                        ["mary", "met", "the", "new", "yorker"]]
    assert table["text"][1] == "mary met the new yorker" and table.attrs["tokenization"] == "whitespace"
    assert table["predicted"].tolist() == _by_hand(ner_run, table["tokens"].tolist())[0]
    assert table.attrs["skipped"] == {}


def test_tables_with_tokens_or_text_and_nested_outputs(ner_run: Path, tmp_path: Path) -> None:
    source = tmp_path / "new.jsonl"
    rows = [{"id": "s1", "words": ["mary", "met", "johnson"], "ner_tags": ["B-PER", "O", "B-PER"]},
            {"id": "s2", "words": ["paris", "river"], "ner_tags": ["B-LOC"]},  # does not align
            {"id": "s3", "words": [], "ner_tags": []}]
    source.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    table = thresher.predict(ner_run, source, output=tmp_path / "out.parquet")
    assert table["id"].tolist() == ["s1", "s2"] and table.attrs["skipped"] == {"empty_sentence": 1}
    assert table["tags"].tolist() == [["B-PER", "O", "B-PER"], None]
    assert table.attrs["notes"] == ["1 of 2 sentences have gold tags that do not align with their "
                                    "tokens (a different count): their tags are left empty (null)"]
    back = pd.read_parquet(tmp_path / "out.parquet")
    assert [list(t) for t in back["predicted"]] == table["predicted"].tolist()
    assert [[dict(e) for e in row] for row in back["entities"]] == table["entities"].tolist()
    csv_in = tmp_path / "new.csv"
    pd.DataFrame({"sentence": ["mary met johnson", "paris river"]}).to_csv(csv_in, index=False)
    out = tmp_path / "out.csv"
    from_text = thresher.predict(ner_run, csv_in, output=out)
    assert from_text["predicted"].tolist() == table["predicted"].tolist()
    written = pd.read_csv(out)
    assert [json.loads(v) for v in written["tokens"]] == [["mary", "met", "johnson"],
                                                          ["paris", "river"]]
    assert [json.loads(v) for v in written["entities"]] == from_text["entities"].tolist()


def test_chinese_text_is_cut_into_characters(tmp_path: Path) -> None:
    chars = list("我在北京工作他去上海")
    run = _tagger(tmp_path / "run", chars, [list("我在北京工作"), list("他去上海")])
    source = tmp_path / "zh.txt"
    source.write_text("我在北京 工作\n他去上海\n", encoding="utf-8")
    table = thresher.predict(run, source)
    assert table.attrs["tokenization"] == "character"
    assert table["tokens"].tolist() == [list("我在北京工作"), list("他去上海")]
    assert table["predicted"].tolist() == _by_hand(run, table["tokens"].tolist())[0]
    spans = [e for row in table["entities"] for e in row]
    assert spans and all(" " not in e["text"] and len(e["text"]) == e["end"] - e["start"]
                         for e in spans)
    whitespace = thresher.predict(run, source, tokenize="whitespace")
    assert whitespace["tokens"][0] == ["我在北京", "工作"]  # an explicit choice wins


def test_baseline_tagger_entities_have_no_confidence(ner_run: Path, tmp_path: Path) -> None:
    source = tmp_path / "new.conll"
    source.write_text(CONLL, encoding="utf-8")
    table = thresher.predict(ner_run, source, model="baseline", output=tmp_path / "out.jsonl")
    assert table["predicted"][0] == ["B-PER", "O", "O", "O", "O"]  # "johnson" was B-PER once
    assert table["entities"][0] == [{"type": "PER", "start": 0, "end": 1, "text": "johnson",
                                     "confidence": None,
                                     "why": "this model gives tags without probabilities"}]
    assert table.attrs["notes"] == ["entity confidence is null: this model gives tags without "
                                    "probabilities"]
    written = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert written[0]["entities"][0]["confidence"] is None and "why" in written[0]["entities"][0]


def test_words_past_max_length_are_tagged_o(ner_run: Path, tmp_path: Path) -> None:
    source = tmp_path / "long.txt"
    words = ["the", "city"] * 20  # 40 words > 30 sub-tokens the model sees
    source.write_text(" ".join(words) + "\nmary met johnson\n", encoding="utf-8")
    table = thresher.predict(ner_run, source)
    assert table["predicted"][0][-10:] == ["O"] * 10 and len(table["predicted"][0]) == 40
    assert table.attrs["notes"] == ["1 sentences are longer than the model's max_length: words "
                                    "past it were not seen and are tagged O"]


def test_ner_inputs_that_cannot_be_used(ner_run: Path, tmp_path: Path) -> None:
    numbers = tmp_path / "numbers.csv"
    numbers.write_text("id,score\n1,3\n2,4\n", encoding="utf-8")
    with pytest.raises(DataError) as caught:
        thresher.predict(ner_run, numbers)
    assert str(caught.value) == (
        f"{numbers}: no tokens or text column found; the columns are 'id', 'score'. name a column "
        "'tokens' (a list of words) or 'text' (one sentence), or pass text=<column name> (--text).")
    with pytest.raises(InputError, match="unknown tokenize 'words'"):
        thresher.predict(ner_run, numbers, tokenize="words")
    with pytest.raises(InputError, match="text_pair= is for sentence-pair models"):
        thresher.predict(ner_run, numbers, text_pair="reply")
    blank = tmp_path / "blank.jsonl"
    blank.write_text('{"tokens": []}\n{"tokens": null}\n', encoding="utf-8")
    with pytest.raises(DataError, match="no row has text in column 'tokens'"):
        thresher.predict(ner_run, blank)



@pytest.mark.slow
@pytest.mark.skipif(not WEIBO.is_dir(), reason="../shared/data/weibo_ner (Weibo NER) is not present")
def test_weibo_test_file_and_its_sentences_as_text_give_the_same_tags(tmp_path: Path) -> None:
    """The real Weibo test file (characters written with their word position, 科0 技1) read as
    CoNLL, and the same messages as plain lines, cut per character as the training tokens are."""
    from thresher.io import read_source

    conll = WEIBO / "weiboNER_2nd_conll.test"
    gold = read_source(conll, task="ner").table
    chars = sorted({c.lower() for words in gold["tokens"] for w in words for c in w})
    run = _tagger(tmp_path / "run", chars, gold["tokens"].head(50).tolist(), max_length=256)
    table = thresher.predict(run, conll, batch_size=32)
    assert len(table) == len(gold) == 270 and table.attrs["tokenization"] == "character"
    assert table["tokens"].tolist() == gold["tokens"].tolist()  # 科0 -> 科
    assert table["tags"].tolist() == gold["tags"].tolist()
    assert [len(p) for p in table["predicted"]] == [len(t) for t in gold["tokens"]]
    # the text path cuts per code point; 12 tokens of the file are two (U+FFFD U+FFFD, an emoji
    # damaged at the source), so sentences holding one are left out here
    plain = [words for words in gold["tokens"] if all(len(w) == 1 and not w.isspace() for w in words)]
    assert len(plain) > 250
    lines = tmp_path / "messages.txt"
    lines.write_text("\n".join("".join(words) for words in plain) + "\n", encoding="utf-8")
    from_text = thresher.predict(run, lines, batch_size=32)
    assert from_text["tokens"].tolist() == plain
    by_tokens = dict(zip(table["tokens"].map(tuple), table["predicted"]))
    assert from_text["predicted"].tolist() == [by_tokens[tuple(w)] for w in plain]


def test_cli_prints_entity_counts_for_a_tagger(ner_run: Path, tmp_path: Path,
                                               capsys: pytest.CaptureFixture) -> None:
    source = tmp_path / "lines.txt"
    source.write_text("alice went to paris\nbob stayed home\n", encoding="utf-8")
    assert main(["predict", str(ner_run), "--input", str(source), "--tokenize", "whitespace",
                 "--output", str(tmp_path / "out.jsonl")]) == 0
    printed = capsys.readouterr().out
    assert "predicted 2 rows" in printed and "entities: " in printed
    assert "agreement with the input" not in printed
