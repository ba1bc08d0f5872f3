"""Fixtures shared by the flow test modules; each module that uses one gets its own (module-scoped) instance."""

from tests.flow.faults_kit import larger_projects, last_good, planted_runs, project  # noqa: F401 (fixtures)
