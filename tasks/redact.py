"""Secrets kept out of what glassbox records. A report, an MLflow tag or a log outlives the shell that held the
secret and is read by people who never had it, so environment variables whose names look secret (`*TOKEN*`,
`*KEY*`, `*SECRET*`, `*PASSWORD*`, any case) are shown masked wherever their names and values could be written."""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

SECRET_NAME = re.compile(r"TOKEN|KEY|SECRET|PASSWORD", re.IGNORECASE)
MASK = "**********"  # what pydantic's SecretStr shows
CREDENTIALS = re.compile(r"(\b[a-z][a-z0-9+.-]*://)[^/\s@]+@", re.IGNORECASE)  # scheme://user:password@


def looks_secret(name: str) -> bool:
    """True for an environment variable name that may hold a credential (`HF_TOKEN`, `aws_secret_access_key`)."""
    return bool(SECRET_NAME.search(name))


def masked_env(env: Mapping[str, str]) -> dict[str, str]:
    """`env` with the value of every secret-looking name replaced by the mask (names kept: they say what was set)."""
    return {k: MASK if looks_secret(k) else v for k, v in env.items()}


def public_uri(uri: str) -> str:
    """A URI fit to record: the user and password a URI may carry in its netloc (http, postgresql) are dropped."""
    parts = urlsplit(uri)
    if "@" in parts.netloc:
        return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))
    return uri


def scrubbed(text: str) -> str:
    """`text` (an error message) with the credentials of every URI in it dropped."""
    return CREDENTIALS.sub(r"\1", text)


def recordable_params(dump: dict[str, Any]) -> dict[str, Any]:
    """Validated params as `model_dump(mode="json")` gives them (SecretStr fields already masked), fit for the
    report: the model server's environment (`serving.env`) with secret-looking names masked, and the tracking
    URI without credentials."""
    out = copy.deepcopy(dump)
    serving = out.get("serving")
    if isinstance(serving, dict) and isinstance(serving.get("env"), dict):
        serving["env"] = masked_env(serving["env"])
    tracking = out.get("tracking")
    if isinstance(tracking, dict) and isinstance(tracking.get("tracking_uri"), str):
        tracking["tracking_uri"] = public_uri(tracking["tracking_uri"])
    return out
