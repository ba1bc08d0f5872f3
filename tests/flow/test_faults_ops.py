"""The faults of the deployment and monitoring layers, planted and caught as in test_faults.py (the data, feature
and training faults), in a module of their own so xdist spreads the fault tests over its workers."""

from __future__ import annotations

import pytest

from tests.flow.faults_kit import OPS, check_fault

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("fault_id", OPS)
def test_fault_is_caught_in_its_layer(project, larger_projects, last_good, planted_runs, fault_id, tmp_path):
    check_fault(project, larger_projects, last_good, planted_runs, fault_id, tmp_path)
