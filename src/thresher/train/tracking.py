"""Where the training curves go: TensorBoard always, MLflow when the recipe asks.

The loop knows one writer with ``add_scalar(tag, value, step)``; :class:`Scalars` fans that
out to TensorBoard's SummaryWriter (``logs/``) and, with ``train: {mlflow: true}`` (or
``mlflow: {tracking_uri: ..., experiment: ...}``), to an MLflow run holding the TrainConfig as
params, the loss and learning rate every few steps and the validation scores every epoch.

MLflow 3's file store (``./mlruns``) is in maintenance mode and refuses to start unless an
environment variable opts in, so the default store is SQLite inside the run folder,
``sqlite:///<run>/mlflow.db`` (``mlflow ui --backend-store-uri sqlite:///<run>/mlflow.db``
shows it). A resumed run logs into the MLflow run it started; TensorBoard drops the events
written after the checkpoint it resumes from.
"""

from __future__ import annotations

import logging
import time
import warnings
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any, Iterator

from thresher.errors import RecipeError

__all__ = ["DEFAULT_EXPERIMENT", "MlflowWriter", "Scalars", "log_test_metrics",
           "mlflow_target", "open_writers", "require_mlflow"]

DEFAULT_EXPERIMENT = "thresher"
_BUFFER = 200  # metrics sent to MLflow in one batch: one database write, not one per value


class Scalars:
    """One ``add_scalar`` for the loop, written to every writer given."""

    def __init__(self, *writers: Any) -> None:
        self.writers = [w for w in writers if w is not None]

    def add_scalar(self, tag: str, value: float, step: int) -> None:
        for writer in self.writers:
            writer.add_scalar(tag, value, step)


def require_mlflow() -> Any:
    """The mlflow module, or a RecipeError saying how to install it."""
    try:
        import mlflow
    except ImportError:
        raise RecipeError("MLflow tracking was asked for but mlflow is not installed",
                          where="train.mlflow",
                          fix="Install thresher[track] (pip install 'thresher[track]'), or set "
                          "mlflow: false") from None
    return mlflow


def mlflow_target(run_dir: Path, setting: Any) -> tuple[str, str]:
    """(tracking URI, experiment name) for the recipe's ``mlflow`` setting."""
    chosen = setting if isinstance(setting, dict) else {}
    uri = chosen.get("tracking_uri") or f"sqlite:///{(Path(run_dir) / 'mlflow.db').resolve()}"
    return uri, chosen.get("experiment") or DEFAULT_EXPERIMENT


class MlflowWriter:
    """An MLflow run that takes ``add_scalar`` calls (buffered, sent in batches)."""

    def __init__(self, client: Any, run_id: str, tracking_uri: str, experiment: str) -> None:
        self.client, self.run_id = client, run_id
        self.tracking_uri, self.experiment = tracking_uri, experiment
        self._pending: list[Any] = []

    @classmethod
    def open(cls, run_dir: Path, setting: Any, params: dict[str, Any],
             run_id: str | None = None) -> "MlflowWriter":
        """Start a run (named after the run folder) with ``params``, or reopen ``run_id``."""
        require_mlflow()
        from mlflow.tracking import MlflowClient

        uri, name = mlflow_target(run_dir, setting)
        with _quiet_mlflow():
            client = MlflowClient(tracking_uri=uri)
            if run_id is not None:
                client.update_run(run_id, status="RUNNING")
                return cls(client, run_id, uri, name)
            found = client.get_experiment_by_name(name)
            if found is None:
                local = uri.startswith("sqlite:///") and not isinstance(setting, dict)
                where = (Path(run_dir) / "mlartifacts").resolve().as_uri() if local else None
                experiment_id = client.create_experiment(name, artifact_location=where)
            else:
                experiment_id = found.experiment_id
            run = client.create_run(experiment_id, run_name=Path(run_dir).resolve().name)
            writer = cls(client, run.info.run_id, uri, name)
            writer.log_params(params)
        return writer

    def log_params(self, params: dict[str, Any]) -> None:
        from mlflow.entities import Param

        self.client.log_batch(self.run_id, params=[Param(k, str(v)) for k, v in params.items()])

    def add_scalar(self, tag: str, value: float, step: int) -> None:
        from mlflow.entities import Metric

        self._pending.append(Metric(tag, float(value), int(time.time() * 1000), int(step)))
        if len(self._pending) >= _BUFFER:
            self.flush()

    def flush(self) -> None:
        if self._pending:
            self.client.log_batch(self.run_id, metrics=self._pending)
            self._pending = []

    def close(self, status: str = "FINISHED") -> None:
        self.flush()
        self.client.set_terminated(self.run_id, status=status)

    def info(self) -> dict[str, str]:
        """What thresher_model.json records, so that evaluation can log into the same run."""
        return {"tracking_uri": self.tracking_uri, "experiment": self.experiment,
                "run_id": self.run_id}


@contextmanager
def open_writers(run_dir: Path, config: Any, *, enabled: bool, resume_step: int | None = None,
                 mlflow_run: str | None = None, params: dict[str, Any] | None = None
                 ) -> Iterator[tuple[Scalars | None, MlflowWriter | None]]:
    """TensorBoard (and MLflow when ``config.mlflow``) for process 0; nothing elsewhere.

    ``resume_step``: events from that step on, written before a kill, are dropped from the
    TensorBoard log. The MLflow run ends FINISHED, or FAILED when training raised.
    """
    if not enabled:
        yield None, None
        return
    from torch.utils.tensorboard import SummaryWriter

    board = SummaryWriter(log_dir=str(Path(run_dir) / "logs"), purge_step=resume_step)
    tracker = None
    try:
        if config.mlflow:
            settings = {k: v for k, v in asdict(config).items()}
            tracker = MlflowWriter.open(run_dir, config.mlflow, {**settings, **(params or {})},
                                        run_id=mlflow_run)
        yield Scalars(board, tracker), tracker
    except BaseException:
        if tracker is not None:
            tracker.close(status="FAILED")
            tracker = None
        raise
    finally:
        board.close()
        if tracker is not None:
            tracker.close()


def log_test_metrics(run_dir: Path, metrics: dict[str, Any]) -> bool:
    """Log an evaluation's headline numbers (``<split>/<name>``) into the MLflow run that
    trained the model; False when the model was trained without MLflow."""
    from thresher.train.files import read_json

    try:
        tracked = read_json(Path(run_dir) / "model" / "thresher_model.json").get("mlflow")
    except (OSError, ValueError):
        return False
    if not tracked:
        return False
    require_mlflow()
    from mlflow.entities import Metric
    from mlflow.tracking import MlflowClient

    split = metrics.get("split", "test")
    scores = (metrics.get("splits") or {}).get(split) or {}
    now = int(time.time() * 1000)
    found = [Metric(f"{split}/{k}", float(v), now, 0) for k, v in sorted(scores.items())
             if isinstance(v, (int, float)) and not isinstance(v, bool)]
    with _quiet_mlflow():
        MlflowClient(tracking_uri=tracked["tracking_uri"]).log_batch(tracked["run_id"],
                                                                    metrics=found)
    return bool(found)


@contextmanager
def _quiet_mlflow() -> Iterator[None]:
    """MLflow and alembic announce every table they create, and SQLAlchemy warns about
    MLflow's use of it; a library stays quiet."""
    loggers = [logging.getLogger(name) for name in ("mlflow", "alembic")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)
