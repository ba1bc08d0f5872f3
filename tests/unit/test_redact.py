"""Secret-looking names and their values kept out of what glassbox records: the name pattern, the masked model
server environment and tracking URI in the report's params, the alert webhook still masked by params itself."""

from __future__ import annotations

import yaml

from tasks.changes import flat
from tasks.params import load_params
from tasks.redact import MASK, looks_secret, masked_env, public_uri, recordable_params, scrubbed
from tests.conftest import REPO


def test_secret_looking_names_in_any_case():
    """TOKEN, KEY, SECRET and PASSWORD anywhere in the name, any case, look secret; other names do not."""
    for name in ("HF_TOKEN", "aws_secret_access_key", "DB_PASSWORD", "api_key", "GLASSBOX_TEST_API_TOKEN", "Secret"):
        assert looks_secret(name), name
    for name in ("PATH", "OMP_NUM_THREADS", "FLIGHTS_FEATURES_VERSION", "HOME"):
        assert not looks_secret(name), name


def test_masked_env_keeps_names_and_hides_secret_values():
    """Every name stays (it says what was set); only the values of secret-looking names are replaced."""
    env = {"OMP_NUM_THREADS": "1", "HF_TOKEN": "hf_abc", "db_password": "pw"}
    assert masked_env(env) == {"OMP_NUM_THREADS": "1", "HF_TOKEN": MASK, "db_password": MASK}
    assert env["HF_TOKEN"] == "hf_abc"  # the caller's mapping (what the server really gets) is left alone


def test_public_uri_drops_credentials_only():
    """user:password@ goes from an http(s) URI; host, port, path and other schemes stay as they are."""
    assert public_uri("https://bob:t0ken@mlflow.example:5000/x") == "https://mlflow.example:5000/x"
    assert public_uri("sqlite:///mlflow.db") == "sqlite:///mlflow.db"


def test_report_params_hide_the_server_env_secrets_the_tracking_credentials_and_the_webhook(tmp_path):
    """params.yaml with a secret-looking variable in serving.env, credentials in the tracking URI and a webhook
    URL: the params as the report records them (flat, validated) hold none of those values, only the mask and the
    variable's name; an ordinary server variable stays readable."""
    raw = yaml.safe_load((REPO / "params.yaml").read_text())
    raw["serving"]["env"] = {"OMP_NUM_THREADS": "1", "MODEL_API_KEY": "k-123456"}
    raw["tracking"]["tracking_uri"] = "https://bob:t0ken-987@mlflow.example"
    raw["alerts"]["webhook_url"] = "https://hooks.example/T0K3N-555"
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(raw))
    recorded = flat(recordable_params(load_params(path).model_dump(mode="json")))
    assert recorded["serving.env.MODEL_API_KEY"] == MASK and recorded["serving.env.OMP_NUM_THREADS"] == "1"
    assert recorded["tracking.tracking_uri"] == "https://mlflow.example"
    text = repr(recorded)
    assert not any(v in text for v in ("k-123456", "t0ken-987", "T0K3N-555")), text


def test_credentials_are_dropped_from_uris_and_error_messages() -> None:
    assert public_uri("postgresql://mlflow:pw@db:5432/mlflow") == "postgresql://db:5432/mlflow"
    message = "API request to http://alice:s3cret@host:5000/api failed; retried postgresql://u:p@db/x"
    assert scrubbed(message) == "API request to http://host:5000/api failed; retried postgresql://db/x"
    assert scrubbed("sqlite:////tmp/mlflow.db is locked") == "sqlite:////tmp/mlflow.db is locked"
