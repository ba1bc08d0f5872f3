"""Data versions: the file a stage reads must be the snapshot that was pinned (in params or by DVC)."""

from __future__ import annotations

from pathlib import Path

import yaml

from tasks.provenance import file_md5
from tasks.result import Finding, Severity


def dvc_pinned_md5(path: Path) -> str | None:
    """The md5 a `<file>.dvc` sidecar records for the file, if it is tracked with `dvc add`."""
    sidecar = path.with_name(path.name + ".dvc")
    if not sidecar.is_file():
        return None
    try:
        outs = yaml.safe_load(sidecar.read_text()).get("outs") or []
    except (yaml.YAMLError, AttributeError):
        return None
    return next((o.get("md5") for o in outs if isinstance(o, dict) and o.get("md5")), None)


def check_pin(name: str, path: Path, pinned: str | None) -> Finding:
    """Fail when the file's md5 differs from its pin (params first, else its `.dvc` file); info when unpinned."""
    found = file_md5(path)
    expected, source = (pinned, "params.yaml inputs.pins") if pinned else (dvc_pinned_md5(path), f"{path}.dvc")
    evidence = {
        "file": str(path),
        "expected_md5": expected,
        "found_md5": found,
        "pinned_in": source if expected else None,
    }
    if expected is None:
        return Finding(
            check="data_version",
            severity=Severity.info,
            message=f"{name} ({path}) is not pinned: md5 {found}; pin it in inputs.pins.{name} or with `dvc add`",
            evidence=evidence,
        )
    if found != expected:
        return Finding(
            check="data_version",
            severity=Severity.fail,
            message=f"{name} ({path}) is not the pinned snapshot: expected md5 {expected} ({source}), found {found}",
            evidence=evidence,
        )
    return Finding(
        check="data_version",
        severity=Severity.info,
        message=f"{name} ({path}) matches its pin {expected} ({source})",
        evidence=evidence,
    )
