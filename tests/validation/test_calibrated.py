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
#: Replications per setting: the calibration's own confirmation count ([design] confirm = 6),
#: at which it reports each fitted figure.
REPLICATIONS = int(calibration.load_joint().design["confirm"])
#: The turnover figure's setting runs more: its per-run sd (0.053 over 20 replications at the
#: library's constants) is over twice its tolerance (0.02), so at 6 replications (se 0.022) a
#: constant that fits it exactly misses about one time in three. At 40 the se is 0.008 and
#: such a miss one time in sixty; the runs are cheap (the status quo at 54,000 residents).
NOISY_REPLICATIONS = {"sw_turnover": 40}

#: Figures the library's constants miss, with the diagnosis (docs/validation.md, joint
#: calibration). The tests require the misses to be exactly these: a mechanism change that
#: brings one within tolerance, or loses another, fails until this list is updated.
KNOWN_MISSES: dict[str, str] = {
    "national_community_so_density": "held out: 0.50 per 1,000 vs 1.25 in the status quo (z "
    "-1.99; 0.66, z -1.56, before SOs let unpaid staff go and were judged on a year's costs, "
    "which let more of Yuhuatai's survive and the refit lowered founding_rate; 2.42, z +3.1, "
    "when it was seeded with two community SOs per community): seeded at "
    "Yuhuatai's 2013 density (0.41 per 1,000), the status quo with the constants fitted to "
    "Yuhuatai's growth founds too few SOs to reach the national 2022 level in six years; the "
    "national count also holds rural and unfiled groups the status quo does not found",
}


def _replications(spec: calibration.JointSpec, setting: str) -> int:
    """REPLICATIONS, or more where a figure of ``setting`` is noisy."""
    return max([REPLICATIONS, *(NOISY_REPLICATIONS.get(f.name, 0) for f in spec.figures
                                if f.setting == setting)])


@pytest.fixture(scope="module")
def library_runs() -> dict[str, list[RunResult]]:
    """Each setting of the joint targets with the library's constants (no overrides),
    REPLICATIONS (a noisy figure's setting more) at the calibration's seed, run with the
    calibration's extra statistics."""
    spec = calibration.load_joint()
    seed = int(spec.design["seed"])
    jobs = {key: plan([fig.scenario], replications=_replications(spec, key), seed=seed,
                      months=fig.months, overrides=fig.overrides() or None)
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
