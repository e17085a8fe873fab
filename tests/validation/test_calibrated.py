"""The library's constants reproduce the source figures they were calibrated to.

A mechanism change that breaks the fit fails here; refit with ``sanshe calibrate``
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

#: Figures the library's constants miss, with the diagnosis (docs/validation.md, joint
#: calibration). The tests require the misses to be exactly these: a mechanism change that
#: brings one within tolerance, or loses another, fails until this list is updated.
KNOWN_MISSES: dict[str, str] = {
    "SOs about six years later: 1,010": "about 360 since volunteering became occasional "
    "(registered vs turned out): fewer residents take part in a month, so fewer leaders are "
    "active would-be founders; founding_rate was fitted when volunteers stayed (a refit is "
    "due)",
    "Volunteers: more than 20,000 (118 teams)": "the target reads monthly turnout "
    "(volunteer_rate × residents, about 13,400); the source counts team members, i.e. "
    "registered volunteers (about 32,000, registered_volunteer_rate 6.6%)",
    "yuhuatai_so_growth": "×3.3 vs at least ×5.05: as the SO count above",
    "yuhuatai_so_density": "0.75 per 1,000 vs 2.08: as above",
    "national_community_so_density": "held out: ~1.7 per 1,000 vs 1.25 in the status quo (the "
    "seeded pre-policy SOs, 2 per community of 1,000, are an assumption no fit can move)",
    "ningbo_active_volunteering": "held out: ~7.0 volunteering months a year per volunteer vs "
    "~2: turnout is redrawn monthly, but its noise (choice_noise 0.1) is small beside "
    "residents' lasting differences in pull (threshold_sd 0.15, disposition), so those who "
    "turn out at all are mostly regulars",
}


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


def _misses(figures: list[calibration.Figure], runs: dict[str, list[RunResult]]
            ) -> dict[str, str]:
    """The figures whose mean over the runs misses by more than one standard unit."""
    out = {}
    for fig in figures:
        values = [calibration.statistic(fig, r.final) for r in runs[fig.setting]]
        mean = sum(values) / len(values)
        z = calibration.standardized_miss(fig, mean)
        if abs(z) > 1.0:
            out[fig.name] = f"{mean:.4g} vs {fig.kind} {fig.value:g} (z {z:+.2f})"
    return out


def test_yuhuatai_reproduces_its_targets(library_runs):
    """Pattern 1 at real scale (seed 001): SOs under 200 → about 1,010 six years later, and
    more than 20,000 volunteers — two replications with the calibration's seeds; the
    scenario sets the seed's levers."""
    spec = calibration.load_joint(TARGETS, "yuhuatai")
    misses = _misses(spec.fitted, library_runs)
    assert set(misses) == {k for k in KNOWN_MISSES if k in {f.name for f in spec.fitted}}, misses
    assert all(calibration._input_row(f)["within_tolerance"] for f in spec.inputs)


def test_joint_calibration_figures_hold(library_runs):
    """Every fitted figure of calibration_targets.toml within its tolerance (one standard
    unit) at the library's constants."""
    misses = _misses(calibration.load_joint().fitted, library_runs)
    fitted = {fig.name for fig in calibration.load_joint().fitted}
    assert set(misses) == {k for k in KNOWN_MISSES if k in fitted}, misses


def test_held_out_figures_hold(library_runs):
    """The figures held back from the fit (national SO density, Shanghai's age gradient,
    Ningbo's active volunteering) within their tolerance: the out-of-sample check."""
    misses = _misses(calibration.load_joint().held_out, library_runs)
    held_out = {fig.name for fig in calibration.load_joint().held_out}
    assert set(misses) == {k for k in KNOWN_MISSES if k in held_out}, misses
