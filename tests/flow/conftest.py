"""Fixtures shared by the flow test modules. The fault kit's are session-scoped: the fault modules an xdist worker
runs (three modules on two workers: at least two share one) build the clean sample and continue its run once."""

from tests.flow.faults_kit import larger_projects, last_good, planted_runs, project  # noqa: F401 (fixtures)
