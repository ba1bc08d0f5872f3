"""A registered version must say which code and which data made it: git commit, clean tree, data hashes."""

from __future__ import annotations

from tasks.result import Finding, Severity

REQUIRED_DATA = ("train", "test")
UNKNOWN = {"", "unknown", "none", "missing"}


def provenance_tags(version: str, tags: dict[str, str], dirty_severity: str) -> Finding:
    """Missing commit or data hash fails; a dirty (or unknown) tree gets `dirty_severity` from params."""
    commit = (tags.get("git_commit") or "").strip()
    dirty = (tags.get("git_dirty") or "").strip().lower()
    missing = [] if commit.lower() not in UNKNOWN else ["git_commit"]
    missing += [f"data.{k}.md5" for k in REQUIRED_DATA if (tags.get(f"data.{k}.md5") or "").lower() in UNKNOWN]
    evidence = {
        "version": version,
        "git_commit": commit or None,
        "git_dirty": dirty or None,
        "missing": missing,
    }
    if missing:
        return Finding(
            check="untagged_deployment",
            severity=Severity.fail,
            evidence=evidence,
            message=f"registered version {version} carries no {', '.join(missing)}: "
            "it cannot be traced to the code and data that made it",
        )
    if dirty != "false":
        state = "uncommitted changes" if dirty == "true" else f"an unknown tree state (git_dirty={dirty or None})"
        return Finding(
            check="untagged_deployment",
            severity=Severity(dirty_severity),
            evidence=evidence,
            message=f"registered version {version} was built from commit {commit[:12]} with {state}: "
            "the commit does not pin the code (common in development; commit before a real release)",
        )
    return Finding(
        check="untagged_deployment",
        severity=Severity.info,
        evidence=evidence,
        message=f"registered version {version} is tagged with clean commit {commit[:12]} and data hashes",
    )
