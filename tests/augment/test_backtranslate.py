"""Back-translation through real MarianMT code paths, on tiny models these tests build.

The models are random (d_model 16, one layer) with a word-level SentencePiece vocabulary
trained here, and a large initialisation scale so that what they output depends on the input:
that is what makes "batched equals one at a time" a test that can fail.
"""

from __future__ import annotations

import io
import json
import random
import warnings
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("sentencepiece")

from thresher.augment.backtranslate import (  # noqa: E402
    BackTranslate,
    distinct_variants,
    translate,
)
from thresher.errors import ModelError, RecipeError  # noqa: E402

WORDS = ("the a movie film was great bad good story actor plot boring funny long short i liked "
         "it really not very quite acting music scene ending we they loved hated").split()
TEXTS = ["the movie was great", "i liked it really not very much the plot and the music",
         "boring", "we loved the music and the acting", "the ending was bad"]


def _spm_model() -> bytes:
    import sentencepiece as spm

    rng = random.Random(0)
    sentences = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 9)))
                 for _ in range(300)]
    buffer = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(sentences), model_writer=buffer, model_type="word",
        vocab_size=len(WORDS) + 3, pad_id=0, eos_id=1, unk_id=2, bos_id=-1, minloglevel=2)
    return buffer.getvalue()


def _tiny_marian(folder: Path, spm_model: bytes, seed: int) -> Path:
    import sentencepiece as spm
    import torch
    from transformers import MarianConfig, MarianMTModel, MarianTokenizer

    folder.mkdir(parents=True)
    (folder / "source.spm").write_bytes(spm_model)
    (folder / "target.spm").write_bytes(spm_model)
    pieces = spm.SentencePieceProcessor(model_proto=spm_model)
    vocab = {pieces.id_to_piece(i): i for i in range(pieces.get_piece_size())}
    (folder / "vocab.json").write_text(json.dumps(vocab))
    with warnings.catch_warnings():  # "Recommended: pip install sacremoses"
        warnings.simplefilter("ignore")
        tokenizer = MarianTokenizer(str(folder / "source.spm"), str(folder / "target.spm"),
                                    str(folder / "vocab.json"))
    config = MarianConfig(
        vocab_size=len(vocab), d_model=16, encoder_layers=1, decoder_layers=1,
        encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=32,
        decoder_ffn_dim=32, max_position_embeddings=64, init_std=0.5,
        pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id,
        decoder_start_token_id=tokenizer.pad_token_id,
        forced_eos_token_id=tokenizer.eos_token_id)
    torch.manual_seed(seed)
    MarianMTModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def marian(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    root = tmp_path_factory.mktemp("marian")
    spm_model = _spm_model()
    return (str(_tiny_marian(root / "en-xx", spm_model, seed=1)),
            str(_tiny_marian(root / "xx-en", spm_model, seed=2)))


def test_batched_translation_equals_one_at_a_time(marian: tuple[str, str]) -> None:
    loaded = BackTranslate(forward=marian[0], backward=marian[1], device="cpu").load()._models[0]
    batched = translate(TEXTS, loaded, batch_size=8)
    single = translate(TEXTS, loaded, batch_size=1)
    assert batched == single
    assert [len(out) for out in batched] == [1] * len(TEXTS)
    assert len({out[0] for out in batched}) >= 3  # the outputs depend on the input


def test_batches_are_sorted_by_length_and_one_generate_call_each(
        marian: tuple[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    loaded = BackTranslate(forward=marian[0], backward=marian[1], device="cpu").load()._models[0]
    calls: list[list[int]] = []
    real = loaded.model.generate

    def spy(**kwargs: object) -> object:
        calls.append(kwargs["attention_mask"].sum(dim=1).tolist())  # type: ignore[attr-defined]
        return real(**kwargs)

    monkeypatch.setattr(loaded.model, "generate", spy)
    translate(TEXTS, loaded, batch_size=2)
    assert len(calls) == 3
    lengths = [n for batch in calls for n in batch]
    assert lengths == sorted(lengths, reverse=True)


def test_augment_gives_n_distinct_variants_never_the_original(marian: tuple[str, str]) -> None:
    augmenter = BackTranslate(forward=marian[0], backward=marian[1], device="cpu")
    texts = TEXTS[:3] + ["   "]
    result = augmenter.augment(texts, 3, seed=5)
    assert len(result.texts) == len(result.skipped) == 4
    assert result.texts[3] == [] and result.skipped[3] == "empty text"
    for original, variants, why in zip(texts[:3], result.texts, result.skipped):
        assert original not in variants
        assert len(set(variants)) == len(variants)
        assert len(variants) == 3 or why == f"{len(variants)} distinct back-translations of 3 asked"
    assert sum(len(v) for v in result.texts) >= 7


def test_augment_is_deterministic_for_a_seed(marian: tuple[str, str]) -> None:
    augmenter = BackTranslate(forward=marian[0], backward=marian[1], max_length=16,
                              device="cpu")
    first = augmenter.augment(TEXTS[:3], 2, seed=7).texts
    assert augmenter.augment(TEXTS[:3], 2, seed=7).texts == first
    assert augmenter.augment(TEXTS[:3], 2, seed=8).texts != first


def test_beam_decoding_returns_distinct_hypotheses(marian: tuple[str, str]) -> None:
    augmenter = BackTranslate(forward=marian[0], backward=marian[1], decoding="beam",
                              num_beams=2, max_length=16, device="cpu")
    result = augmenter.augment(TEXTS[:3], 2, seed=1)
    assert augmenter.augment(TEXTS[:3], 2, seed=99).texts == result.texts  # beams: no sampling
    for original, variants in zip(TEXTS, result.texts):
        assert 1 <= len(variants) <= 2 and original not in variants
        assert len(set(variants)) == len(variants)


def test_settings_are_the_constructor_arguments(marian: tuple[str, str]) -> None:
    augmenter = BackTranslate(forward=marian[0], backward=marian[1], batch_size=4)
    augmenter.load()
    assert augmenter.settings() == {
        "forward": marian[0], "backward": marian[1], "decoding": "sample", "num_beams": 4,
        "temperature": 1.0, "top_p": 0.95, "batch_size": 4, "max_length": 256,
        "device": "auto", "forward_prefix": "", "backward_prefix": ""}


def test_distinct_variants_ignore_case_and_spacing() -> None:
    candidates = ["good  film", "Nice film ", "nice film", "", "Great film", "Fine film"]
    assert distinct_variants("Good film", candidates, 2) == ["Nice film", "Great film"]
    assert distinct_variants("Good film", candidates, 9) == ["Nice film", "Great film",
                                                             "Fine film"]


def test_missing_folder_names_the_setting(tmp_path: Path) -> None:
    augmenter = BackTranslate(forward=str(tmp_path / "nope"), backward=str(tmp_path))
    with pytest.raises(ModelError) as err:
        augmenter.augment(["a text"], 1)
    assert str(err.value) == (
        f"augment.backtranslate.forward: model folder {str(tmp_path / 'nope')!r} does not "
        "exist. Set forward to a folder with config.json, the weights and the tokenizer, or to "
        "a hub id such as Helsinki-NLP/opus-mt-en-de.")


def test_hub_id_without_the_hub_names_the_folder_option(
        marian: tuple[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    augmenter = BackTranslate(forward=marian[0], backward="Helsinki-NLP/opus-mt-de-en")
    with pytest.raises(ModelError) as err:
        augmenter.load()
    assert str(err.value) == (
        "augment.backtranslate.backward: model 'Helsinki-NLP/opus-mt-de-en' is not a local "
        "folder and the Hugging Face hub cannot be reached. Download it where there is "
        "internet access (huggingface-cli download Helsinki-NLP/opus-mt-de-en --local-dir "
        "DIR), copy DIR here and set backward: DIR.")


def test_folder_without_a_model_is_a_model_error(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ModelError, match=r"^augment\.backtranslate\.forward: model '.*' could "
                       r"not be loaded as a seq2seq model: "):
        BackTranslate(forward=str(tmp_path), backward=str(tmp_path), device="cpu").load()


def test_bad_decoding_and_device_are_recipe_errors(marian: tuple[str, str]) -> None:
    with pytest.raises(RecipeError) as err:
        BackTranslate(forward=marian[0], backward=marian[1], decoding="greedy").load()
    assert str(err.value) == ("augment.backtranslate.decoding: 'greedy' is not one of sample, "
                              "beam. Set it to sample or beam.")
    with pytest.raises(RecipeError, match="device 'tpu' is not one of auto, cpu, cuda"):
        BackTranslate(forward=marian[0], backward=marian[1], device="tpu").load()


def test_cuda_without_a_gpu_is_a_model_error(marian: tuple[str, str]) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(ModelError) as err:
        BackTranslate(forward=marian[0], backward=marian[1], device="cuda").load()
    assert str(err.value) == (
        "augment.backtranslate.device: device 'cuda' was asked for but PyTorch sees no CUDA "
        "GPU. Use device: cpu (or auto), or install a CUDA build of torch.")


def test_prefixes_go_before_each_models_inputs(marian: tuple[str, str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    import thresher.augment.backtranslate as module

    seen: list[list[str]] = []
    real = module.translate

    def spy(texts: list[str], *args: object, **kwargs: object) -> list[list[str]]:
        seen.append(list(texts))
        return real(texts, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(module, "translate", spy)
    BackTranslate(forward=marian[0], backward=marian[1], forward_prefix=">>fra<< ",
                  backward_prefix=">>eng<< ", max_length=8, device="cpu").augment(TEXTS[:2], 1)
    assert seen[0] == [f">>fra<< {t}" for t in TEXTS[:2]]
    assert len(seen[1]) == 2 and all(t.startswith(">>eng<< ") for t in seen[1])
