"""One shared run of the validation arms per test session (common random numbers).

The default run caps every check at ``CI_MAX_REPLICATIONS`` replications, and the checks on
the market district at ``CI_MARKET_REPLICATIONS`` (criteria.toml [suite]): the checks that
need no more are decided at full power; the others (slow tests, skipped) still run, at the
cap, so that Holm's correction sees the whole family.
``SANSHE_FULL_VALIDATION=1`` runs every check at its full replications, as ``sanshe
validate`` does.
"""

from __future__ import annotations

import os

import pytest

from sanshe.experiments import validation

FULL = os.environ.get("SANSHE_FULL_VALIDATION", "") not in ("", "0")


@pytest.fixture(scope="session")
def validation_results() -> dict[str, validation.CheckResult]:
    """The checks evaluated once; ``SANSHE_VALIDATION_WORKERS`` sets the process count."""
    workers = int(os.environ.get("SANSHE_VALIDATION_WORKERS", min(os.cpu_count() or 1, 2)))
    cap = None if FULL else validation.default_run_cap
    rows, _, seconds = validation.run_checks(workers=workers, cap=cap)
    print(f"\nvalidation suite: {len(rows)} checks in {seconds:.0f} s")
    return {row.check.check_id: row for row in rows}
