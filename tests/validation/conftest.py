"""One shared run of every validation arm per test session (common random numbers)."""

from __future__ import annotations

import os

import pytest

from sanshe import validation


@pytest.fixture(scope="session")
def validation_results() -> dict[str, validation.CheckResult]:
    """Every check evaluated once; ``SANSHE_VALIDATION_WORKERS`` sets the process count."""
    workers = int(os.environ.get("SANSHE_VALIDATION_WORKERS", min(os.cpu_count() or 1, 2)))
    rows, _, seconds = validation.run_checks(workers=workers)
    print(f"\nvalidation suite: {len(rows)} checks in {seconds:.0f} s")
    return {row.check.check_id: row for row in rows}
