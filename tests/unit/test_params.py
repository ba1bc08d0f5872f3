from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tasks.errors import ConfigError
from tasks.params import Params, load_params
from tests.conftest import REPO


def _write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _demo() -> dict:
    return yaml.safe_load((REPO / "params.yaml").read_text())


def test_bundled_params_are_valid():
    """The params.yaml that ships validates, with the demo on and every stage a gate."""
    params = load_params(REPO / "params.yaml")
    assert params.snapshot.demo is True
    assert params.gates[0] == "snapshot" and "monitoring" in params.gates


def test_unknown_key_is_rejected_with_its_path(tmp_path):
    """A typo in a section is an error naming the full key, in one line."""
    data = _demo()
    data["training"]["validaton_fraction"] = 0.1
    with pytest.raises(ConfigError) as e:
        load_params(_write(tmp_path, data))
    assert "training.validaton_fraction: unknown key" in str(e.value)
    assert "\n" not in str(e.value)


def test_warn_above_fail_is_rejected(tmp_path):
    """A warn/fail pair must be ordered, else thresholds would silently never warn."""
    data = _demo()
    data["features"]["unseen_categories"]["share"] = {"warn": 0.5, "fail": 0.1}
    with pytest.raises(ConfigError, match=r"features\.unseen_categories\.share"):
        load_params(_write(tmp_path, data))


@pytest.mark.parametrize(
    ("section", "old", "value", "new"),
    [
        ("features", "oov_share", {"warn": 0.02, "fail": 0.1}, "features.vocab_mismatch.oov_share"),
        ("training", "train_val_gap", {"warn": 0.05, "fail": 0.1}, "training.overfitting.gap"),
        ("monitoring", "drifted_share", {"warn": 0.3, "fail": 0.6}, "monitoring.drifted_share.share"),
        ("deployment", "broken_rollback", "fail", "deployment.broken_rollback.severity"),
        ("data", "label_shift", {"warn": 0.2, "fail": 0.5}, "data.label_shift.cohen_h"),
    ],
)
def test_an_old_flat_key_names_its_new_home(tmp_path, section, old, value, new):
    """A params file from before the per-check sections gets one line naming where the key went, even where
    the old key is now the check's own section name (then only its old shape is old)."""
    data = _demo()
    data[section][old] = value
    with pytest.raises(ConfigError) as e:
        load_params(_write(tmp_path, data))
    assert f"{section}.{old} moved to {new}" in str(e.value) and "\n" not in str(e.value)


def test_explain_lists_every_check_knob_with_its_meaning():
    """`glassbox params --explain`: every key with its default and, for check knobs, what it means."""
    from tasks.params import explain

    lines = explain()
    [oov] = [line for line in lines if line.startswith("features.vocab_mismatch.oov_share =")]
    assert '"warn": 0.02' in oov and "# share of a batch's tokens" in oov
    assert any(line.startswith("features.vocab_mismatch:  # Vocabulary mismatch") for line in lines)


def test_bad_value_names_key_and_value(tmp_path):
    """A value of the wrong type names the key and what was given."""
    data = _demo()
    data["serving"]["batch_rows"] = "many"
    with pytest.raises(ConfigError, match=r"serving\.batch_rows.*'many'"):
        load_params(_write(tmp_path, data))


def test_missing_file_and_bad_yaml(tmp_path):
    """A missing params file or broken YAML is a one-line ConfigError, not a traceback."""
    with pytest.raises(ConfigError, match="file not found"):
        load_params(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("inputs: [\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_params(bad)


def test_params_hash_changes_with_a_threshold():
    """Two runs compare by the params they really used: any threshold change changes the hash."""
    a = Params.model_validate(_demo())
    data = _demo()
    data["monitoring"]["drifted_share"]["share"]["warn"] = 0.31
    b = Params.model_validate(data)
    assert a.sha256() != b.sha256()
    assert a.sha256() == Params.model_validate(_demo()).sha256()


def test_engine_defaults_to_the_flows_own_process_and_takes_a_scheduler_address(tmp_path):
    """Without an `engine` section the stages run as they always did (default runner); `dask` takes a LocalCluster
    size or the tcp:// / tls:// address of a running scheduler."""
    data = _demo()
    data.pop("engine", None)
    engine = load_params(_write(tmp_path, data)).engine
    assert (engine.task_runner, engine.dask_address, engine.dask_workers) == ("default", None, 2)
    data["engine"] = {"task_runner": "dask", "dask_address": "tls://10.0.0.5:8786"}
    assert load_params(_write(tmp_path, data)).engine.dask_address == "tls://10.0.0.5:8786"


@pytest.mark.parametrize(
    ("engine", "expected"),
    [
        ({"task_runner": "ray"}, "engine.task_runner: expected 'default' or 'dask' (got 'ray')"),
        ({"task_runner": "dask", "dask_workers": 0}, "engine.dask_workers: expected greater than or equal to 1"),
        ({"task_runner": "dask", "dask_workers": "two"}, "engine.dask_workers: expected a valid integer"),
        ({"task_runner": "dask", "dask_address": "localhost:8786"}, "engine.dask_address: Value error, expected a"),
        ({"task_runner": "dask", "dask_address": "tcp://host"}, "engine.dask_address: Value error, expected a"),
        ({"task_runner": "dask", "dask_address": "tcp://u:pw@host:8786"}, "engine.dask_address: Value error"),
        ({"dask_address": "tcp://host:8786"}, "engine: Value error, dask_address is set but task_runner is 'default'"),
        ({"task_runner": "dask", "workers": 4}, "engine.workers: unknown key"),
    ],
)
def test_a_bad_engine_is_one_line_naming_the_key(tmp_path, engine, expected):
    """A runner glassbox does not have, a cluster of no workers, an address that is no scheduler's (or carries a
    password), an address with the default runner (half a switch), a typo: one line naming the key."""
    data = _demo()
    data["engine"] = engine
    with pytest.raises(ConfigError) as e:
        load_params(_write(tmp_path, data))
    assert expected in str(e.value) and "\n" not in str(e.value)


def test_params_pickle_by_reference_with_their_root(tmp_path):
    """What a Dask worker gets: params pickled with the standard pickle (each layer's model by reference to
    tasks.params, not rebuilt by value) come back equal, with the same hash and the same project root, so a
    worker resolves the project's paths as the flow does."""
    import pickle

    params = load_params(_write(tmp_path, _demo()))
    again = pickle.loads(pickle.dumps(params))
    assert again == params and again.sha256() == params.sha256()
    assert again.root == params.root == tmp_path.resolve()
    assert type(again.data) is type(params.data) and type(params.data).__module__ == "tasks.params"
