"""The library's constants reproduce the source figures they were calibrated to.

A mechanism change that breaks the fit fails here; refit with ``sanshe calibrate --joint``
(docs/validation.md, section Calibration), apply the constants (``--apply``) and update the
docs. The held-out figures (never fitted) are checked here too: they are the calibration's
out-of-sample test. The Yuhuatai runs are shared by both targets files (same seeds).
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from sanshe.experiments import calibration
from sanshe.experiments.experiment import RunResult, plan

pytestmark = pytest.mark.validation

TARGETS = Path(__file__).resolve().parents[2] / "calibration" / "yuhuatai_targets.toml"
REPLICATIONS = 2


@pytest.fixture(scope="module")
def library_runs() -> dict[str, list[RunResult]]:
    """Each setting of the joint targets with the library's constants (no overrides), two
    replications at the calibration's seed, run with the calibration's extra statistics."""
    spec = calibration.load_joint()
    seed = int(spec.design["seed"])
    jobs = {key: plan([fig.scenario], replications=REPLICATIONS, seed=seed, months=fig.months,
                      overrides=fig.overrides() or None)
            for key, fig in spec.settings().items()}
    with ProcessPoolExecutor(max_workers=2) as pool:
        return {key: list(pool.map(calibration.calibration_run, specs))
                for key, specs in jobs.items()}


def _misses(held_out: bool, runs: dict[str, list[RunResult]]) -> list[str]:
    spec = calibration.load_joint()
    out = []
    for fig in (spec.held_out if held_out else spec.fitted):
        values = [calibration.statistic(fig, r.final) for r in runs[fig.setting]]
        mean = sum(values) / len(values)
        z = calibration.standardized_miss(fig, mean)
        if abs(z) > 1.0:
            out.append(f"{fig.name}: {mean:.4g} vs {fig.kind} {fig.value:g} (z {z:+.2f})")
    return out


def test_yuhuatai_reproduces_its_targets(library_runs):
    """Pattern 1 at real scale (seed 001): SOs under 200 → about 1,010 six years later, and
    more than 20,000 volunteers — two replications with the calibration's seeds."""
    targets = [t for t in calibration.load_targets(TARGETS) if t.kind != "input"]
    runs = library_runs["yuhuatai@72"]
    district = plan(["yuhuatai"], replications=1)[0].scenario.values
    residents = (district["district.streets"] * district["district.communities_per_street"]
                 * district["district.residents_per_community"])
    fit = calibration.fit_table(targets, runs, residents)
    misses = [f"{f['target']}: {f['simulated']:.0f} vs {f['value']:g}" for f in fit
              if not f["within_tolerance"]]
    assert not misses, misses


def test_joint_calibration_figures_hold(library_runs):
    """Every fitted figure of calibration_targets.toml within its tolerance (one standard
    unit) at the library's constants."""
    misses = _misses(False, library_runs)
    assert not misses, misses


def test_held_out_figures_hold(library_runs):
    """The figures held back from the fit (national SO density, Shanghai's age gradient,
    Ningbo's active volunteering) within their tolerance: the out-of-sample check."""
    misses = _misses(True, library_runs)
    assert not misses, misses
