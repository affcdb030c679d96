"""Masked-LM substitution through real BertForMaskedLM code paths, on tiny models built here.

One model is random; the other has its output bias pushed up for a few tokens ("movie", the
stop word "the", the sub-word piece "##ing", the character 店) so that, left alone, the model
would always pick them: that makes "never the original, never a stop word or a piece" testable.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from thresher.augment.masked_lm import MaskedLM, mask_units  # noqa: E402
from thresher.errors import ModelError, RecipeError  # noqa: E402
from thresher.ops.stopwords import _chinese, _english  # noqa: E402

SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
ENGLISH = ("the a was were and not very it movie film great good bad boring actors acting "
           "story plot music ending loved hated long short funny ##ing ##s . , !").split()
CHINESE = list("这家酒店的房间很干净我们喜欢服务员态度好不错，。")
VOCAB = SPECIAL + ENGLISH + CHINESE
BIASED = {"movie": 40.0, "the": 60.0, "##ing": 60.0, "店": 40.0}


def _tiny_bert(folder: Path, biased: bool) -> str:
    import torch
    from transformers import BertConfig, BertForMaskedLM, BertTokenizer

    folder.mkdir(parents=True)
    (folder / "vocab.txt").write_text("\n".join(VOCAB) + "\n", encoding="utf-8")
    tokenizer = BertTokenizer(vocab=str(folder / "vocab.txt"), do_lower_case=True)
    config = BertConfig(vocab_size=len(VOCAB), hidden_size=16, num_hidden_layers=1,
                        num_attention_heads=2, intermediate_size=32, max_position_embeddings=128)
    torch.manual_seed(0)
    model = BertForMaskedLM(config)
    if biased:
        with torch.no_grad():
            for token, bias in BIASED.items():
                model.cls.predictions.bias[VOCAB.index(token)] = bias
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return str(folder)


@pytest.fixture(scope="module")
def bert(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    root = tmp_path_factory.mktemp("bert")
    return {"random": _tiny_bert(root / "random", False),
            "biased": _tiny_bert(root / "biased", True)}


EN_TEXTS = ["The movie was great and the actors were not boring.",
            "A long story, a bad ending.", "It was the music!"]


def test_one_forward_pass_per_batch(bert: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    augmenter = MaskedLM(model=bert["random"], batch_size=32, device="cpu").load()
    calls: list[int] = []
    real = augmenter._loaded.model.forward

    def spy(*args: object, **kwargs: object) -> object:
        calls.append(kwargs["input_ids"].shape[0])  # type: ignore[attr-defined]
        return real(*args, **kwargs)

    monkeypatch.setattr(augmenter._loaded.model, "forward", spy)
    augmenter.augment(EN_TEXTS, 4)
    assert calls == [12]  # 3 texts x 4 variants, all masks together
    calls.clear()
    augmenter.batch_size = 5
    augmenter.augment(EN_TEXTS, 4)
    assert calls == [5, 5, 2]


def test_mask_units_are_content_words_only() -> None:
    text = EN_TEXTS[0]
    language, spans = mask_units(text, "auto")
    assert language == "en"
    assert [text[s:e] for s, e in spans] == ["movie", "great", "actors", "boring"]
    assert mask_units("Don't stop, it's 2024", "en")[1] == [(6, 10)]  # "stop"; no contractions


def test_only_content_words_change_and_never_to_themselves(bert: dict[str, str]) -> None:
    augmenter = MaskedLM(model=bert["random"], mask_share=0.5, top_k=5, device="cpu")
    result = augmenter.augment(EN_TEXTS[:1], 6, seed=3)
    original = EN_TEXTS[0].split()
    assert len(result.texts[0]) == 6
    stops = _english()
    for variant in result.texts[0]:
        words = variant.split()
        assert len(words) == len(original)
        changed = [i for i, (a, b) in enumerate(zip(original, words)) if a != b]
        assert len(changed) == 2  # half of the 4 content words
        for i in changed:
            assert original[i].strip(".").lower() not in stops
            assert words[i].strip(".").lower() not in stops
            assert words[i].strip(".").lower() != original[i].strip(".").lower()


def test_biased_model_never_returns_original_stop_word_or_piece(bert: dict[str, str]) -> None:
    augmenter = MaskedLM(model=bert["biased"], mask_share=1.0, top_k=3, device="cpu")
    result = augmenter.augment(["the movie was great", "Great acting"], 3, seed=1)
    # "movie" is the model's favourite everywhere except where "movie" was
    assert result.texts[0][0].split()[1] != "movie"
    assert all(v.split()[3] == "movie" for v in result.texts[0])
    assert result.texts[1][0] == "Movie movie"  # case follows the original word
    originals = ["the movie was great".split(), "Great acting".split()]
    new_words = {w.lower() for words, variants in zip(originals, result.texts)
                 for v in variants for w, old in zip(v.split(), words) if w != old}
    assert "movie" in new_words
    assert not new_words & _english() and not any("ing" in w or "#" in w for w in new_words)


def test_chinese_characters_outside_stop_words(bert: dict[str, str]) -> None:
    text = "这家酒店的房间很干净，我们喜欢。"
    language, spans = mask_units(text, "auto", "char")
    assert language == "zh"
    stops = _chinese()[0]
    assert [text[s:e] for s, e in spans] == [c for c in "家酒店房间干净喜欢"]
    assert all(text[s:e] not in stops for s, e in spans)
    augmenter = MaskedLM(model=bert["biased"], mask_share=0.5, device="cpu")
    variants = augmenter.augment([text], 4, seed=2).texts[0]
    assert len(variants) == 4
    for variant in variants:
        assert len(variant) == len(text)
        changed = [i for i, (a, b) in enumerate(zip(text, variant)) if a != b]
        assert changed and all((i, i + 1) in spans for i in changed)
        assert all(variant[i] in CHINESE and variant[i] not in stops for i in changed)
    assert any(variant[3] != "店" and "店" in variant for variant in variants)


def test_chinese_jieba_words_get_one_mask_per_character(bert: dict[str, str]) -> None:
    pytest.importorskip("jieba")
    text = "这家酒店的房间很干净"
    language, spans = mask_units(text, "zh", "word")
    assert [text[s:e] for s, e in spans] == ["这家", "酒店", "房间", "干净"]  # 这 alone is a stop
    augmenter = MaskedLM(model=bert["random"], chinese_unit="word", mask_share=0.25,
                         device="cpu")
    for variant in augmenter.augment([text], 3, seed=4).texts[0]:
        changed = [i for i, (a, b) in enumerate(zip(text, variant)) if a != b]
        assert changed in ([0, 1], [2, 3], [5, 6], [8, 9])  # one whole word, each character new


def test_deterministic_and_independent_of_the_batch(bert: dict[str, str]) -> None:
    augmenter = MaskedLM(model=bert["random"], mask_share=0.5, device="cpu")
    first = augmenter.augment(EN_TEXTS, 3, seed=11).texts
    assert augmenter.augment(EN_TEXTS, 3, seed=11).texts == first
    assert augmenter.augment(EN_TEXTS, 3, seed=12).texts != first
    augmenter.batch_size = 1
    assert augmenter.augment(EN_TEXTS[1:2], 3, seed=11).texts == [first[1]]


def test_texts_without_content_words_say_why(bert: dict[str, str]) -> None:
    result = MaskedLM(model=bert["random"], device="cpu").augment(["it was the", "", "10/10 !!"], 2)
    assert result.texts == [[], [], []]
    assert result.skipped == ["no word to mask (only stop words, digits or punctuation)",
                              "empty text",
                              "no word to mask (only stop words, digits or punctuation)"]


def test_masks_cut_by_truncation_leave_their_words(bert: dict[str, str]) -> None:
    text = " ".join(["movie great boring"] * 10)
    augmenter = MaskedLM(model=bert["random"], mask_share=1.0, max_length=8, device="cpu")
    variant = augmenter.augment([text], 1).texts[0][0].split()
    assert variant[6:] == text.split()[6:]  # [CLS] + 6 words + [SEP] fit in 8 tokens
    assert all(a != b for a, b in zip(variant[:6], text.split()[:6]))


def test_encoder_without_a_masked_lm_head_is_refused() -> None:
    from thresher.train.backbones import resolve_spec

    try:
        folder = resolve_spec("minilm").folder
    except ModelError as exc:
        pytest.skip(str(exc))
    with pytest.raises(ModelError, match=r"^augment\.masked_lm\.model: model '.*' has no trained "
                       r"weights for \d+ tensors of a masked model \(e\.g\. cls\.predictions"):
        MaskedLM(model=folder, device="cpu").load()


def test_bad_settings_are_recipe_errors(bert: dict[str, str]) -> None:
    with pytest.raises(RecipeError) as err:
        MaskedLM(model=bert["random"], mask_share=0).load()
    assert str(err.value) == ("augment.masked_lm.mask_share: mask_share 0 is not in (0, 1]. "
                              "Set it to e.g. 0.15.")
    with pytest.raises(RecipeError) as err:
        MaskedLM(model=bert["random"], language="fr").load()
    assert str(err.value) == ("augment.masked_lm.language: 'fr' is not one of auto, en, zh. "
                              "Set it to auto or en or zh.")


def test_vocabulary_projection_only_at_masks_gives_the_same_logits(bert: dict[str, str]) -> None:
    import torch

    from thresher.augment.masked_lm import _vocabulary_only_at

    loaded = MaskedLM(model=bert["random"], device="cpu").load()._loaded
    encoded = loaded.tokenizer(["the [MASK] was [MASK] .", "a long [MASK]"], padding=True,
                               return_tensors="pt")
    masks = encoded["input_ids"] == loaded.tokenizer.mask_token_id
    with torch.inference_mode():
        full = loaded.model(**encoded).logits
        with _vocabulary_only_at(loaded.model, masks):
            only = loaded.model(**encoded).logits
        again = loaded.model(**encoded).logits  # the hook is gone afterwards
    assert only.shape == (3, len(VOCAB)) and again.shape == full.shape
    assert torch.allclose(only, full[masks], atol=1e-5)
