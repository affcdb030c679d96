"""thresher.augment.noise: keyboard typos, swaps, deletions, width and punctuation changes."""

from __future__ import annotations

import re

import pytest

from thresher.augment import CharNoise, keyboard_neighbours
from thresher.errors import RecipeError

LETTERS = ("the quick brown fox jumps over the lazy dog while the hotel staff keep the rooms "
           "clean and quiet ") * 25
HAN = re.compile("[\u4e00-\u9fff]")
REVIEW = "房间很干净,服务也好!Wifi很快.下次还来(一定)"


def test_keyboard_neighbours_on_qwerty() -> None:
    keys = keyboard_neighbours()
    assert len(keys) == 26
    assert set(keys["g"]) == set("tyfhvb")
    assert set(keys["q"]) == set("wa")
    assert set(keys["s"]) == set("wedazx")
    assert set(keys["m"]) == set("njk")
    assert all(a in keys[b] for a in keys for b in keys[a])  # touching is symmetric


def test_keyboard_rate_and_neighbours() -> None:
    keys = keyboard_neighbours()
    letters = sum(c.isalpha() for c in LETTERS)
    out = CharNoise(rate=0.1, operations=["keyboard"]).augment([LETTERS], 5, seed=1)
    changed = 0
    for variant in out.texts[0]:
        assert len(variant) == len(LETTERS)
        for old, new in zip(LETTERS, variant):
            if old != new:
                assert new in keys[old]
                changed += 1
    # binomial share over 5 * 2,325 letters: sd 0.0028
    assert abs(changed / (5 * letters) - 0.1) < 0.012


def test_delete_rate_and_case_kept_on_typos() -> None:
    letters = sum(c.isalnum() for c in LETTERS)
    out = CharNoise(rate=0.05, operations=["delete"]).augment([LETTERS], 4, seed=2)
    removed = sum(len(LETTERS) - len(v) for v in out.texts[0])
    assert abs(removed / (4 * letters) - 0.05) < 0.01
    upper = CharNoise(rate=1.0, operations=["keyboard"]).augment(["ABC"], 3, seed=3)
    assert all(v.isupper() and len(v) == 3 for v in upper.texts[0])


def test_swap_trades_adjacent_letters() -> None:
    text = "abcdefghijklmnopqrstuvwxyz"
    out = CharNoise(rate=0.2, operations=["swap"]).augment([text], 6, seed=4)
    for variant in out.texts[0]:
        assert sorted(variant) == sorted(text)
        i = 0
        while i < len(text):  # walk: equal, or a swapped adjacent pair
            if variant[i] == text[i]:
                i += 1
            else:
                assert variant[i:i + 2] == text[i + 1] + text[i]
                i += 2


def test_chinese_only_gets_width_and_punctuation() -> None:
    out = CharNoise(rate=0.5).augment([REVIEW], 8, seed=5)
    assert len(out.texts[0]) == 8
    for variant in out.texts[0]:
        assert HAN.findall(variant) == HAN.findall(REVIEW)  # no typo, swap or deletion of Hanzi
        latin = [c for c in variant if c.isascii() and c.isalpha()]
        wide = [chr(ord(c) - 0xFEE0) for c in variant if "Ａ" <= c <= "ｚ"]
        assert sorted(latin + wide) == sorted("Wifi")  # letters only change width


def test_full_width_switch_is_exact() -> None:
    out = CharNoise(rate=1.0, operations=["width"]).augment([REVIEW, "ＡＢ，ｃ"], 2, seed=6)
    assert out.texts == [["房间很干净，服务也好！Ｗｉｆｉ很快．下次还来（一定）"], ["AB,c"]]
    assert out.skipped == ["only 1 distinct variant in 12 tries"] * 2


def test_punctuation_changes() -> None:
    out = CharNoise(rate=1.0, operations=["punct"]).augment(["好,不错."], 12, seed=7)
    for variant in out.texts[0]:
        assert variant.startswith("好") and "不错" in variant
        comma, period = variant[1:variant.index("不错")], variant[variant.index("不错") + 2:]
        assert comma in ("", ",,", "，", "、")  # dropped, doubled or a sibling mark
        assert period in ("", "..", "。", "．")


def test_deterministic_distinct_and_never_empty() -> None:
    texts = [LETTERS[:80], REVIEW, "a", "这里", ""]
    first = CharNoise(rate=0.1).augment(texts, 4, seed=8)
    assert first == CharNoise(rate=0.1).augment(texts, 4, seed=8)
    assert first != CharNoise(rate=0.1).augment(texts, 4, seed=9)
    for text, variants in zip(texts, first.texts):
        assert text not in variants and len(set(variants)) == len(variants)
        assert all(v.strip() for v in variants)
    assert first.texts[3:] == [[], []]
    assert first.skipped[3:] == ["no character any of the operations applies to"] * 2
    assert len(first.texts[2]) == 4  # a typo, the full-width ａ, ...


def test_bad_settings_are_recipe_errors() -> None:
    cases = [(CharNoise(rate=0), "rate must be a number with 0 < rate <= 1, got 0"),
             (CharNoise(operations=["homophone"]), "operations must be distinct names from "
              "keyboard, swap, delete, width, punct, got ['homophone']"),
             (CharNoise(language="ja"), "language must be auto, en or zh, got 'ja'")]
    for augmenter, message in cases:
        with pytest.raises(RecipeError) as err:
            augmenter.augment(["text"], 1)
        assert str(err.value) == f"augment: char_noise: {message}."
