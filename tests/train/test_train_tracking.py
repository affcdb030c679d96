"""MLflow tracking from the recipe (`train: {mlflow: true}`), next to TensorBoard."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import pytest

from thresher.errors import RecipeError
from thresher.train import TrainConfig, train_run

CONFIG = TrainConfig(epochs=2, batch_size=8, learning_rate=5e-3, patience=0, max_length=32,
                     eval_batch_size=16, device="cpu")


def test_mlflow_logs_params_curves_and_test_metrics_in_the_run_folder(
    run_dir: Path, tiny_bert: Path, capsys: pytest.CaptureFixture
) -> None:
    pytest.importorskip("mlflow")
    from mlflow.tracking import MlflowClient

    from thresher.train.tracking import log_test_metrics

    result = train_run(run_dir, replace(CONFIG, model=str(tiny_bert), mlflow=True))
    tracked = result.model_info["mlflow"]
    assert tracked["tracking_uri"] == f"sqlite:///{(run_dir / 'mlflow.db').resolve()}"
    assert tracked["experiment"] == "thresher" and (run_dir / "mlflow.db").is_file()
    client = MlflowClient(tracking_uri=tracked["tracking_uri"])
    run = client.get_run(tracked["run_id"])
    assert run.info.status == "FINISHED" and run.info.run_name == run_dir.name
    assert run.data.params["learning_rate"] == "0.005" and run.data.params["task"] == (
        "classification")
    loss = client.get_metric_history(run.info.run_id, "train/loss")
    assert [m.step for m in loss] == [12, 20, 24]  # every LOG_EVERY (20) steps, epoch ends
    f1 = client.get_metric_history(run.info.run_id, "val/macro_f1")
    assert [m.value for m in f1] == [row["val_macro_f1"] for row in result.history]
    assert list((run_dir / "logs").glob("events.out.tfevents.*"))  # TensorBoard as before
    from thresher.evaluate import evaluate_run

    metrics = evaluate_run(run_dir, split="validation", device="cpu")  # logged into the same run
    logged = client.get_run(run.info.run_id).data.metrics
    assert logged["validation/accuracy"] == metrics["splits"]["validation"]["accuracy"]
    assert log_test_metrics(run_dir, {"split": "test",
                                      "splits": {"test": {"accuracy": 0.75, "n": 48}}})
    assert client.get_run(run.info.run_id).data.metrics["test/accuracy"] == 0.75
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""  # a library stays quiet


def test_mlflow_experiment_and_store_from_the_recipe(
    tmp_path: Path, run_dir: Path, tiny_bert: Path
) -> None:
    pytest.importorskip("mlflow")
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{tmp_path / 'team.db'}"
    config = replace(CONFIG, model=str(tiny_bert), epochs=1,
                     mlflow={"tracking_uri": uri, "experiment": "reviews"})
    result = train_run(run_dir, config)
    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name("reviews")
    runs = client.search_runs([experiment.experiment_id])
    assert [r.info.run_id for r in runs] == [result.model_info["mlflow"]["run_id"]]
    assert not (run_dir / "mlflow.db").exists()


def test_no_mlflow_no_tracking_and_no_test_metrics(run_dir: Path, tiny_bert: Path) -> None:
    from thresher.train.tracking import log_test_metrics

    result = train_run(run_dir, replace(CONFIG, model=str(tiny_bert), epochs=1))
    assert "mlflow" not in result.model_info and not (run_dir / "mlflow.db").exists()
    assert log_test_metrics(run_dir, {"split": "test", "splits": {"test": {"accuracy": 1}}}) is (
        False)


def test_mlflow_missing_is_a_clear_error_before_any_training(
    run_dir: Path, tiny_bert: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "mlflow", None)  # `import mlflow` raises ImportError
    with pytest.raises(RecipeError) as err:
        train_run(run_dir, replace(CONFIG, model=str(tiny_bert), mlflow=True))
    assert err.value.message == (
        "train.mlflow: MLflow tracking was asked for but mlflow is not installed. Install "
        "thresher[track] (pip install 'thresher[track]'), or set mlflow: false.")
    assert not (run_dir / "baseline").exists()


def test_recipe_accepts_the_mlflow_forms() -> None:
    from thresher.recipe import parse_recipe

    base = {"input": {"path": "x.csv"}, "split": {"validation": 0.1, "test": 0.1}}
    for value in (True, False, {"experiment": "x"}, {"tracking_uri": "sqlite:///m.db"}):
        assert parse_recipe({**base, "train": {"mlflow": value}}, where="r").train.mlflow == value
    with pytest.raises(RecipeError, match="train.mlflow.experiments"):
        parse_recipe({**base, "train": {"mlflow": {"experiments": "x"}}}, where="r")


class _Killed(BaseException):
    pass


def test_a_resumed_run_logs_into_the_same_mlflow_run(
    run_dir: Path, tiny_bert: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("mlflow")
    from mlflow.tracking import MlflowClient

    from thresher.train import checkpoint

    save = checkpoint.Checkpoints.save

    def save_then_die(self, state, *args):
        save(self, state, *args)
        if state.step == 15:
            raise _Killed

    config = replace(CONFIG, model=str(tiny_bert), mlflow=True, checkpoint_every=5)
    monkeypatch.setattr(checkpoint.Checkpoints, "save", save_then_die)
    with pytest.raises(_Killed):
        train_run(run_dir, config)
    monkeypatch.setattr(checkpoint.Checkpoints, "save", save)
    result = train_run(run_dir, config)
    assert result.model_info["resumed_from_step"] == 15
    client = MlflowClient(tracking_uri=result.model_info["mlflow"]["tracking_uri"])
    runs = client.search_runs([client.get_experiment_by_name("thresher").experiment_id])
    assert [r.info.run_id for r in runs] == [result.model_info["mlflow"]["run_id"]]
    assert runs[0].info.status == "FINISHED"
    steps = [m.step for m in client.get_metric_history(runs[0].info.run_id, "val/macro_f1")]
    assert steps == [12, 24]
