"""Hugging Face datasets saved with save_to_disk, and hf:NAME when the Hub is out of reach."""

from __future__ import annotations

import pytest

from thresher.errors import DataError, InputError
from thresher.io import read_source

datasets = pytest.importorskip("datasets")


@pytest.fixture
def saved(tmp_path):
    features = datasets.Features({"sentence": datasets.Value("string"),
                                  "label": datasets.ClassLabel(names=["neg", "pos"])})
    train = datasets.Dataset.from_dict({"sentence": ["good film", "bad film", "unlabelled"],
                                        "label": [1, 0, -1]}, features=features)
    folder = tmp_path / "sst"
    datasets.DatasetDict({"train": train, "test": train.select([0])}).save_to_disk(str(folder))
    return folder


def test_dataset_dict_gives_train_with_class_names(saved, cache):
    result = read_source(saved, cache_dir=cache)
    assert result.info.format == "hf_disk"
    assert result.table["label"].tolist() == ["pos", "neg"]
    assert [r.reason for r in result.rejects] == ["missing_label"]  # ClassLabel -1 means no label
    assert result.table["source"].tolist() == [f"{saved}:1", f"{saved}:2"]
    assert len(result.info.sha256) == 64


def test_split_choice_and_unknown_split(saved, cache):
    assert read_source(f"{saved}#test", cache_dir=cache).table["text"].tolist() == ["good film"]
    with pytest.raises(DataError) as err:
        read_source(f"{saved}#validation", cache_dir=cache)
    assert err.value.what == "the dataset has no split 'validation'; its splits are test, train"


def test_single_saved_dataset_for_ner(tmp_path, cache):
    tags = datasets.Sequence(datasets.ClassLabel(names=["O", "B-PER", "I-PER"]))
    features = datasets.Features({"tokens": datasets.Sequence(datasets.Value("string")), "ner_tags": tags})
    dataset = datasets.Dataset.from_dict({"tokens": [["Ada", "Lovelace", "wrote"]], "ner_tags": [[1, 2, 0]]},
                                         features=features)
    dataset.save_to_disk(str(tmp_path / "ner"))
    result = read_source(tmp_path / "ner", task="ner", cache_dir=cache)
    assert result.table["tags"].tolist() == [["B-PER", "I-PER", "O"]]


def test_hub_unreachable_says_how_to_fix(monkeypatch, cache):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", True, raising=False)
    monkeypatch.setattr("datasets.config.HF_HUB_OFFLINE", True, raising=False)
    with pytest.raises(InputError) as err:
        read_source("hf:some-user/some-data:cfg@train", cache_dir=cache)
    assert err.value.what.startswith("cannot load 'some-user/some-data' from the Hugging Face Hub")
    assert "save_to_disk" in err.value.fix
    assert err.value.where == "hf:some-user/some-data:cfg@train"


def test_hub_spec_parsing():
    from thresher.io.hf_reader import parse_hub_spec

    assert parse_hub_spec("hf:imdb") == ("imdb", None, "train")
    assert parse_hub_spec("hf:glue:sst2@validation") == ("glue", "sst2", "validation")
    with pytest.raises(InputError):
        parse_hub_spec("hf:")
