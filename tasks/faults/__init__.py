"""Planted faults: the bugs of FAULTS.md put into the bundled demo, so each check can be watched firing."""

from tasks.faults.catalog import FAULTS, Fault, list_faults

__all__ = ["FAULTS", "Fault", "list_faults"]
