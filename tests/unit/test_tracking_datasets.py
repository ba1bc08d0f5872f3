"""Pinned files as MLflow datasets: digest = the DVC md5, name = the role, context tag, the real row count."""

from __future__ import annotations

import json

import mlflow
import numpy as np
import pandas as pd

from tasks.provenance import file_md5
from tasks.tracking import log_datasets


def test_each_pinned_file_is_a_dataset_input_with_its_md5(tmp_path):
    frame = pd.DataFrame({"x": np.arange(2500), "late": np.arange(2500) % 2})
    frame.to_parquet(tmp_path / "train.parquet")
    frame.head(10).to_csv(tmp_path / "current.csv", index=False)
    (tmp_path / "test.csv").write_text("x,late\n1,0\n")
    files = {r: tmp_path / n for r, n in (("train", "train.parquet"), ("current", "current.csv"), ("test", "test.csv"))}
    hashes = {r: file_md5(p) for r, p in files.items()}
    (tmp_path / "test.csv").unlink()  # gone since it was hashed
    hashes["gone"] = None
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    mlflow.set_tracking_uri(uri)
    client = mlflow.MlflowClient(tracking_uri=uri)
    run = client.create_run(client.create_experiment("d", artifact_location=str(tmp_path / "a")))

    log_datasets(run.info.run_id, files, hashes, "late")

    logged = {d.dataset.name: d for d in client.get_run(run.info.run_id).inputs.dataset_inputs}
    assert set(logged) == {"train", "current"}  # the missing file is the data stage's to report
    train = logged["train"]
    assert train.dataset.digest == hashes["train"] and {t.key: t.value for t in train.tags} == {
        "mlflow.data.context": "train"
    }
    assert json.loads(train.dataset.profile)["num_rows"] == 2500  # the footer's count, not the head's
    assert "late" in train.dataset.schema and logged["current"].dataset.digest == hashes["current"]


def test_the_experiment_opens_on_training_runs(tmp_path):
    """A new experiment, and one made before glassbox set it, are of the custom-model kind in the MLflow UI."""
    from tasks.params import Tracking
    from tasks.tracking import EXPERIMENT_KIND, configure

    uri = f"sqlite:///{tmp_path}/mlflow.db"
    tracking = Tracking(tracking_uri=uri, artifact_root=tmp_path / "a", experiment="new")
    configure(tracking)
    client = mlflow.MlflowClient(tracking_uri=uri)
    assert client.get_experiment_by_name("new").tags[EXPERIMENT_KIND] == "custom_model_development"
    client.create_experiment("old", artifact_location=str(tmp_path / "b"))
    configure(tracking.model_copy(update={"experiment": "old"}))
    assert client.get_experiment_by_name("old").tags[EXPERIMENT_KIND] == "custom_model_development"


def test_the_diagnosis_is_the_parent_runs_description(tmp_path):
    from tasks.tracking import finish_parent

    uri = f"sqlite:///{tmp_path}/mlflow.db"
    mlflow.set_tracking_uri(uri)
    client = mlflow.MlflowClient(tracking_uri=uri)
    run = client.create_run(client.create_experiment("d", artifact_location=str(tmp_path / "a")))
    finish_parent(run.info.run_id, "failed", tmp_path, description="Root cause in the data layer: schema_change.")
    done = client.get_run(run.info.run_id)
    assert done.data.tags["mlflow.note.content"].startswith("Root cause in the data layer")
    assert done.info.status == "FAILED"


def test_a_stage_run_carries_every_metric_its_verdict_and_its_files(tmp_path):
    """What a reviewer reads on a stage's MLflow run: each metric (more than one request's worth, NaN kept), the
    verdict tag, and every file of the stage's folder as an artifact."""
    from tasks.tracking import log_stage_evidence

    uri = f"sqlite:///{tmp_path}/mlflow.db"
    mlflow.set_tracking_uri(uri)
    client = mlflow.MlflowClient(tracking_uri=uri)
    run = client.create_run(client.create_experiment("s", artifact_location=str(tmp_path / "a")))
    stage = tmp_path / "stage"
    stage.mkdir()
    (stage / "result.json").write_text("{}\n")
    metrics = {f"check_{i}.value": float(i) / 7 for i in range(1200)} | {"empty.share": float("nan")}

    log_stage_evidence(run.info.run_id, stage, metrics, "warn")

    logged = client.get_run(run.info.run_id).data
    assert set(logged.metrics) == set(metrics) and logged.metrics["check_1199.value"] == 1199 / 7
    assert np.isnan(logged.metrics["empty.share"]) and logged.tags["glassbox.verdict"] == "warn"
    assert [f.path for f in client.list_artifacts(run.info.run_id)] == ["result.json"]
