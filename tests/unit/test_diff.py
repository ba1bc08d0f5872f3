"""`glassbox diff`: the changes between two reports, the checks that moved, exit 1 only when B is worse."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flows import cli
from tasks.diff import diff, load_report, to_text
from tasks.errors import ConfigError
from tests.conftest import REPO

CLEAN_MD5 = "a" * 32
PLANTED_MD5 = "b" * 32


def finding(check: str, severity: str, message: str = "") -> dict:
    return {"check": check, "severity": severity, "message": message or f"{check} {severity}", "columns": []}


def report(run_id: str, current_md5: str, data_verdict: str, *findings: dict, metric: float = 0.1) -> dict:
    later = "skipped" if data_verdict == "fail" else "pass"
    return {
        "run_id": run_id,
        "status": {"fail": "failed", "warn": "warned", "pass": "passed"}[data_verdict],
        "provenance": {
            "git_commit": "c" * 40,
            "git_dirty": False,
            "params_sha256": "d" * 64,
            "data_hashes": {"train": "e" * 32, "current": current_md5},
            "packages": {"pandas": "3.0.0"},
        },
        "stages": [
            {
                "name": "data",
                "verdict": data_verdict,
                "findings": list(findings),
                "metrics": {"shift": metric, "covariate_shift.seconds": metric},
            },
            {"name": "features", "verdict": later, "findings": [], "metrics": {}},
        ],
        "first_failure": None,
    }


CLEAN = report("clean", CLEAN_MD5, "pass", finding("covariate_shift", "info"))
PLANTED = report(
    "planted",
    PLANTED_MD5,
    "fail",
    finding("covariate_shift", "fail", "current: `dewp` moved 2.1 sds"),
    metric=2.1,
)


def test_a_planted_fault_names_the_data_hash_and_the_failing_check(tmp_path):
    d = diff(CLEAN, PLANTED, tmp_path)
    assert d["worse"] == ["status passed -> failed", "data pass -> fail"]
    assert d["changes"]["data_hashes"] == {"current": {"before": CLEAN_MD5, "after": PLANTED_MD5}}
    assert d["checks"] == [
        {
            "stage": "data",
            "check": "covariate_shift",
            "before": "info",
            "after": "fail",
            "message": "current: `dewp` moved 2.1 sds",
        }
    ]
    text = to_text(d)
    assert "data current: md5 aaaaaaaaaaaa -> bbbbbbbbbbbb" in text
    assert "check data/covariate_shift: info -> fail: current: `dewp` moved 2.1 sds" in text
    assert "metric data.shift: 0.1 -> 2.1 (+2)" in text and ".seconds" not in text  # timings: --json only
    assert "stage features: pass -> skipped" in text
    assert all(m["stage"] == "data" for m in d["checks"])  # skipped in B: its checks not judged, not compared


def test_params_columns_and_model_changes_are_named(tmp_path):
    """Beyond hashes: the param that changed, the column whose statistics moved, the model that was trained."""
    a = {**CLEAN, "params": {"model.max_iter": 200}, "model": {"model_id": "m-1"}}
    a["column_stats"] = {"current": {"dewp": {"null_share": 0.0, "distinct": 100.0, "mean": 50.0, "std": 10.0}}}
    b = {**PLANTED, "params": {"model.max_iter": 20}, "model": {"model_id": "m-2"}}
    b["column_stats"] = {"current": {"dewp": {"null_share": 0.3, "distinct": 100.0, "mean": 50.0, "std": 10.0}}}
    text = to_text(diff(a, b, tmp_path))
    assert "param model.max_iter: 200 -> 20" in text
    assert "column current.dewp null_share: 0 -> 0.3" in text
    assert "model model_id: m-1 -> m-2" in text


def test_the_way_back_is_no_worse():
    """From the faulty run to the fixed one: the changes are listed, nothing got worse."""
    d = diff(PLANTED, CLEAN, Path("."))
    assert d["worse"] == [] and d["checks"][0]["after"] == "info"
    assert "worse: nothing" in to_text(d)


def test_cli_exit_codes_follow_the_verdicts(tmp_path, capsys):
    for name, r in (("clean", CLEAN), ("planted", PLANTED)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "report.json").write_text(json.dumps(r))
    params = tmp_path / "params.yaml"
    params.write_text((REPO / "params.yaml").read_text())
    assert cli.main(["diff", str(tmp_path / "clean"), str(tmp_path / "planted"), "--params", str(params)]) == 1
    assert "covariate_shift: info -> fail" in capsys.readouterr().out
    back = cli.main(
        ["diff", str(tmp_path / "planted" / "report.json"), str(tmp_path / "clean"), "--params", str(params)]
    )
    assert back == 0
    assert cli.main(["diff", str(tmp_path / "nowhere" / "x"), str(tmp_path / "clean"), "--params", str(params)]) == 2
    assert "no report there" in capsys.readouterr().err


def test_a_run_id_is_read_from_the_mlflow_store(tmp_path):
    """The parent run `glassbox-<run id>` keeps report/report.json: either id finds it."""
    import mlflow

    uri = f"sqlite:///{tmp_path}/mlflow.db"
    client = mlflow.MlflowClient(tracking_uri=uri)
    exp = client.create_experiment("x", artifact_location=str(tmp_path / "art"))
    run = client.create_run(exp, run_name="glassbox-planted")
    (tmp_path / "report.json").write_text(json.dumps(PLANTED))
    client.log_artifact(run.info.run_id, str(tmp_path / "report.json"), artifact_path="report")
    assert load_report("planted", uri)["run_id"] == "planted"
    assert load_report(run.info.run_id, uri)["run_id"] == "planted"
    with pytest.raises(ConfigError, match="no such run"):
        load_report("nosuchrun", uri)


def test_a_file_that_is_not_a_report_is_one_line(tmp_path):
    (tmp_path / "report.json").write_text('{"rows": 3}')
    with pytest.raises(ConfigError, match="not a glassbox report.json"):
        load_report(str(tmp_path), "sqlite:///unused.db")


def test_ci_prints_the_verdict_table_with_the_run_exit_code(tmp_path, monkeypatch, capsys):
    """`glassbox ci` is `run` plus a markdown table for a pull request: first failure, a row per layer with
    its worst finding (pipes escaped), also written to verdict.md."""
    moved = "current: `dewp` | moved"
    shifted = {**PLANTED["stages"][0], "findings": [finding("covariate_shift", "fail", moved)]}
    planted = {
        **PLANTED,
        "stages": [shifted, PLANTED["stages"][1]],
        "first_failure": {"stage": "data", "check": "covariate_shift", "message": moved},
    }

    def run(params_path, out):
        out.mkdir(parents=True, exist_ok=True)
        (out / "report.json").write_text(json.dumps(planted))
        return 1

    monkeypatch.setattr(cli, "cmd_run", run)
    assert cli.main(["ci", "--out", str(tmp_path / "out")]) == 1
    printed = capsys.readouterr().out
    assert "### glassbox FAILED" in printed and "**First failure:** `data` / `covariate_shift`" in printed
    assert "| data | FAIL | 1 | `covariate_shift`: current: `dewp` \\| moved |" in printed
    assert "| features | SKIP | 0 |" in printed  # PLANTED's features stage: skipped
    assert (tmp_path / "out" / "verdict.md").read_text() in printed
