"""Untagged deployment: a registered version must say which code and which data made it (git commit, a clean
tree, the train and test data hashes), or nobody can trace a misbehaving model back to what built it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import Field

from tasks import checks
from tasks.result import Finding, Severity

if TYPE_CHECKING:
    from tasks.deployment.inputs import DeploymentInputs

REQUIRED_DATA = ("train", "test")
UNKNOWN = {"", "unknown", "none", "missing"}


class Params(checks.CheckParams):
    dirty_commit: Severity = Field(
        Severity.warn,
        description="severity when the version was built from a tree with uncommitted changes (or an unknown "
        "tree state): common in development, set fail for releases",
    )


@dataclass(frozen=True)
class Measurement(checks.Measurement):
    version: str
    commit: str | None
    dirty: str | None  # the git_dirty tag as recorded: "false" is the only clean value
    missing: tuple[str, ...]  # required tags absent or unknown

    def metrics(self) -> dict[str, float]:
        return {"missing_tags": float(len(self.missing)), "dirty": float(self.dirty != "false")}


def measure(x: DeploymentInputs, p: Params) -> Measurement:
    tags = x.registered.tags
    commit = (tags.get("git_commit") or "").strip()
    dirty = (tags.get("git_dirty") or "").strip().lower()
    missing = [] if commit.lower() not in UNKNOWN else ["git_commit"]
    missing += [f"data.{k}.md5" for k in REQUIRED_DATA if (tags.get(f"data.{k}.md5") or "").lower() in UNKNOWN]
    return Measurement(x.registered.version, commit or None, dirty or None, tuple(missing))


def judge(m: Measurement, p: Params) -> list[Finding]:
    """A missing commit or data hash fails; a dirty (or unknown) tree gets `dirty_commit`."""
    evidence = {"version": m.version, "git_commit": m.commit, "git_dirty": m.dirty, "missing": list(m.missing)}
    if m.missing:
        return [
            Finding(
                severity=Severity.fail,
                evidence=evidence,
                message=f"registered version {m.version} carries no {', '.join(m.missing)}: "
                "it cannot be traced to the code and data that made it",
            )
        ]
    commit = (m.commit or "")[:12]
    if m.dirty != "false":
        state = "uncommitted changes" if m.dirty == "true" else f"an unknown tree state (git_dirty={m.dirty})"
        return [
            Finding(
                severity=p.dirty_commit,
                evidence=evidence,
                message=f"registered version {m.version} was built from commit {commit} with {state}: "
                "the commit does not pin the code (common in development; commit before a real release)",
            )
        ]
    return [
        Finding(
            severity=Severity.info,
            evidence=evidence,
            message=f"registered version {m.version} is tagged with clean commit {commit} and data hashes",
        )
    ]
