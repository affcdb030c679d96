from __future__ import annotations

import pytest

from thresher.errors import RecipeError
from thresher.train import TrainConfig


def test_defaults_are_valid_and_frozen() -> None:
    config = TrainConfig().validate()
    assert (config.model, config.epochs, config.batch_size) == ("DEFAULT", 3, 32)
    assert (config.learning_rate, config.max_length, config.seed) == (2e-5, 128, 13)
    assert (config.lora, config.max_train_rows) == (None, None)
    assert (config.precision, config.device) == ("auto", "auto")
    with pytest.raises(AttributeError):
        config.epochs = 5  # type: ignore[misc]


def test_bad_precision_names_key_and_choices() -> None:
    with pytest.raises(RecipeError) as err:
        TrainConfig(precision="fp16").validate()
    assert err.value.message == (
        "train.precision: 'fp16' is not allowed. Use one of: 'auto', 'bf16', 'fp32'."
    )


def test_bad_device_and_numbers() -> None:
    with pytest.raises(RecipeError, match=r"train.device: 'tpu' is not allowed"):
        TrainConfig(device="tpu").validate()
    with pytest.raises(RecipeError) as err:
        TrainConfig(epochs=0).validate()
    assert err.value.message == "train.epochs: 0 is not allowed. Use a whole number >= 1."
    with pytest.raises(RecipeError, match=r"warmup: 1.5 is not allowed. Use a number in \[0.0, 1"):
        TrainConfig(warmup=1.5).validate()
    with pytest.raises(RecipeError, match=r"train.learning_rate: 0 is not allowed"):
        TrainConfig(learning_rate=0).validate()
    with pytest.raises(RecipeError, match=r"train.lora: 'yes' is not allowed"):
        TrainConfig(lora="yes").validate()  # type: ignore[arg-type]
    with pytest.raises(RecipeError, match=r"train.batch_size: True is not allowed"):
        TrainConfig(batch_size=True).validate()


def test_from_dict_rejects_unknown_keys() -> None:
    assert TrainConfig.from_dict({"epochs": 1, "lora": True}).lora is True
    with pytest.raises(RecipeError) as err:
        TrainConfig.from_dict({"epoch": 1})
    assert err.value.where == "train.epoch"
    assert "batch_size" in (err.value.fix or "")
