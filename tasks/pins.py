"""Data versions: the file a stage reads must be the snapshot that was pinned (in params or by DVC).
Measured here once; judged by the data layer (`wrong_data_version`) and the evaluation layer
(`test_set_changed`: the trusted test set is no longer the one pinned on day one)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from tasks.provenance import file_md5
from tasks.result import Finding, Severity


@dataclass(frozen=True)
class Pin:
    """One input file against its pin: the md5 expected (None when unpinned), found, and where it is pinned."""

    name: str
    file: str
    expected_md5: str | None
    found_md5: str | None
    pinned_in: str | None

    @property
    def matches(self) -> bool:
        return self.expected_md5 is None or self.expected_md5 == self.found_md5

    def evidence(self) -> dict[str, str | None]:
        return {
            "file": self.file,
            "expected_md5": self.expected_md5,
            "found_md5": self.found_md5,
            "pinned_in": self.pinned_in,
        }


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


def dvc_cached(md5: str | None, path: Path) -> Path | None:
    """The pinned version's bytes where DVC keeps them: the cache of the DVC project holding `path` (the nearest
    folder above it with a `.dvc` folder; DVC 3 `files/md5/xx/rest`, DVC 2 `xx/rest`), if it holds `md5`."""
    if not md5 or len(md5) < 3:
        return None
    for folder in Path(path).resolve().parents:
        cache = folder / ".dvc" / "cache"
        if (folder / ".dvc").is_dir():
            for candidate in (cache / "files" / "md5" / md5[:2] / md5[2:], cache / md5[:2] / md5[2:]):
                if candidate.is_file():
                    return candidate
            return None
    return None


def pin_of(name: str, path: Path, pinned: str | None) -> Pin:
    """The file's md5 against its pin: params first, else its `.dvc` file."""
    path = Path(path)
    expected, source = (pinned, "params.yaml inputs.pins") if pinned else (dvc_pinned_md5(path), f"{path}.dvc")
    return Pin(name, str(path), expected, file_md5(path), source if expected else None)


def pin_finding(pin: Pin) -> Finding:
    """Fail when the file differs from its pin; info when it matches or is unpinned (and says how to pin)."""
    what = f"{pin.name} ({pin.file})"
    if pin.expected_md5 is None:
        severity = Severity.info
        message = f"{what} is not pinned: md5 {pin.found_md5}; pin it in inputs.pins.{pin.name} or with `dvc add`"
    elif not pin.matches:
        severity = Severity.fail
        message = (
            f"{what} is not the pinned snapshot: expected md5 {pin.expected_md5} ({pin.pinned_in}), "
            f"found {pin.found_md5}"
        )
    else:
        severity = Severity.info
        message = f"{what} matches its pin {pin.expected_md5} ({pin.pinned_in})"
    return Finding(severity=severity, message=message, evidence=pin.evidence())
