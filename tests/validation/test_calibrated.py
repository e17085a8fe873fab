"""The calibrated Yuhuatai scenario still reproduces its source figures (seed 001).

A mechanism change that breaks the fit fails here; refit with ``sanshe calibrate`` (the
command is in scenarios/yuhuatai.toml) and update the scenario and docs/validation.md.
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from sanshe.experiments import calibration
from sanshe.experiments.experiment import plan, run_single

pytestmark = pytest.mark.validation

TARGETS = Path(__file__).resolve().parents[2] / "calibration" / "yuhuatai_targets.toml"


def test_yuhuatai_reproduces_its_targets():
    """Pattern 1 at real scale (seed 001): SOs under 200 → about 1,010 six years later, and
    more than 20,000 volunteers — two replications with the calibration's seeds."""
    targets = [t for t in calibration.load_targets(TARGETS) if t.kind != "input"]
    specs = plan(["yuhuatai"], replications=2)
    district = specs[0].scenario.values
    residents = (district["district.streets"] * district["district.communities_per_street"]
                 * district["district.residents_per_community"])
    with ProcessPoolExecutor(max_workers=2) as pool:
        runs = list(pool.map(run_single, specs))
    fit = calibration.fit_table(targets, runs, residents)
    misses = [f"{f['target']}: {f['simulated']:.0f} vs {f['value']:g}" for f in fit
              if not f["within_tolerance"]]
    assert not misses, misses
