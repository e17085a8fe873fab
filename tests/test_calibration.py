"""Calibration: targets file, --free parsing, distances, and a tiny end-to-end fit."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pytest

from sanshe.experiments import calibration
from sanshe.experiments.experiment import plan, run_single
from sanshe.inputs.errors import InputError

TARGETS = Path(__file__).resolve().parent.parent / "calibration" / "yuhuatai_targets.toml"


def test_yuhuatai_targets_run_in_the_scenario_given_and_cite_sources():
    spec = calibration.load_joint(TARGETS, "yuhuatai")
    assert {f.scenario for f in spec.figures} == {"yuhuatai"}
    assert {f.months for f in spec.figures} == {72}  # the scenario's own months
    assert {f.outcome for f in spec.fitted} >= {"so_count", "volunteer_rate",
                                                "cal_initial_so_count"}
    assert len(spec.inputs) == 3 and [f.name for f in spec.free] == ["founding_rate"]
    assert all(f.source.startswith(("seed 00", "derived")) for f in spec.figures)
    assert {f.months for f in calibration.load_joint(TARGETS, "yuhuatai", 24).figures} == {24}


def test_a_targets_file_without_scenarios_needs_one():
    with pytest.raises(InputError, match="SCENARIO"):
        calibration.load_joint(TARGETS)
    with pytest.raises(InputError, match="SCENARIO 'baseline' would not be used"):
        calibration.load_joint(calibration.JOINT_TARGETS, "baseline")


def test_free_must_be_a_known_constant_inside_its_range():
    assert calibration.parse_free(["founding_rate=0.001:0.01"])[0].high == 0.01
    for bad in (["nope=0:1"], ["founding_rate=0.01"], ["founding_rate=0.01:0.001"],
                ["founding_rate=0.0:0.5"], []):
        with pytest.raises(InputError):
            calibration.parse_free(bad)


def test_bad_targets_file(tmp_path):
    bad = tmp_path / "t.toml"
    bad.write_text('[[target]]\nname="x"\noutcome="so_count"\nkind="about"\nvalue=1\n'
                   'source="s"\n[[free]]\nname="founding_rate"\n')
    with pytest.raises(InputError, match="kind must be one of"):
        calibration.load_joint(bad, "baseline")
    with pytest.raises(InputError, match="cannot read"):
        calibration.load_joint(tmp_path / "missing.toml", "baseline")


def test_input_targets_check_the_scenarios_levers():
    """A lever the scenario must set: checked against the scenario, never in the loss."""
    spec = calibration.load_joint(TARGETS, "yuhuatai")
    rows = [calibration._input_row(f) for f in spec.inputs]
    assert all(r["role"] == "input" and r["within_tolerance"] for r in rows)
    wrong = calibration.Figure("fund", "", "final", "policy.community.service_fund",
                               "baseline", 13, "input", 300000.0, 0.1, "s")
    row = calibration._input_row(wrong)
    assert not row["within_tolerance"] and row["simulated"] != 300000.0


def test_total_counts_the_whole_district():
    fig = calibration.Figure("v", "", "total", "volunteer_rate", "b", 13, "at_least", 20.0,
                             0.1, "s")
    assert calibration.statistic(fig, {"volunteer_rate": 0.05, "cal_residents": 1000.0}) == 50.0


# ---------------------------------------------------------------------- joint calibration
TINY = {"streets": 1, "communities_per_street": 2, "residents_per_community": 200}


def _tiny_spec(tmp_path, refine: int = 2):
    """Two figures in a tiny district (one held out), founding_rate free on a log scale."""
    district = ", ".join(f"{k} = {v}" for k, v in TINY.items())
    path = tmp_path / "joint.toml"
    path.write_text(
        f'[design]\nmethod = "lhs"\npoints = 4\nreplications = 1\nrefine = {refine}\n'
        'confirm = 2\nseed = 3\n'
        '[[free]]\nname = "founding_rate"\nlog = true\n'
        '[[target]]\nname = "density"\nstatistic = "per_1000"\noutcome = "so_count"\n'
        'scenario = "incubation_only"\nmonths = 13\nkind = "equal"\nvalue = 15.0\n'
        f'tolerance = 0.2\nsource = "test"\ndistrict = {{ {district} }}\n'
        '[[target]]\nname = "young"\nstatistic = "ratio"\noutcome = "participation_elderly"\n'
        'denominator = "participation_young"\nscenario = "baseline"\nmonths = 13\n'
        f'kind = "at_least"\nvalue = 1.0\nheld_out = true\nsource = "test"\n'
        f'district = {{ {district} }}\n')
    return calibration.load_joint(path)


def test_shipped_targets_hold_figures_back_and_cite_sources():
    spec = calibration.load_joint()
    assert len(spec.held_out) >= 2 and len(spec.fitted) >= 2
    names = {f.name for f in spec.figures}
    assert {"yuhuatai_so_growth", "yuhuatai_so_density", "yuhuatai_volunteers", "sw_turnover",
            "national_community_so_density", "shanghai_age_gradient",
            "ningbo_active_volunteering"} <= names
    assert all(f.source and f.tolerance > 0 for f in spec.figures)
    assert {f.name for f in spec.free} <= set(calibration.PARAMETERS)


def test_joint_targets_reject_unknown_statistics_and_constants(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[[free]]\nname = "nope"\n[[target]]\nname = "x"\nstatistic = "final"\n'
                   'outcome = "so_count"\nscenario = "baseline"\nmonths = 13\nkind = "equal"\n'
                   'value = 1\nsource = "s"\n')
    with pytest.raises(InputError, match="nope"):
        calibration.load_joint(bad)
    bad.write_text(bad.read_text().replace('"nope"', '"founding_rate"').replace(
        '"final"', '"median"'))
    with pytest.raises(InputError, match="median"):
        calibration.load_joint(bad)


def test_standardized_miss_counts_inequalities_only_when_violated():
    fig = calibration.Figure("g", "", "growth", "so_count", "b", 13, "at_least", 5.0, 0.1, "s")
    assert calibration.standardized_miss(fig, 6.0) == 0.0
    assert calibration.standardized_miss(fig, 4.5) == pytest.approx(-1.0)
    eq = calibration.Figure("d", "", "per_1000", "so_count", "b", 13, "equal", 2.0, 0.15, "s")
    assert calibration.standardized_miss(eq, 2.3) == pytest.approx(1.0)
    assert calibration.standardized_miss(eq, float("nan")) == 10.0


def test_statistics_of_one_run():
    final = {"so_count": 30.0, "cal_initial_so_count": 10.0, "cal_residents": 10_000.0,
             "participation_elderly": 0.3, "participation_young": 0.1}
    fig = calibration.Figure("x", "", "growth", "so_count", "b", 13, "equal", 1.0, 0.1, "s")
    assert calibration.statistic(fig, final) == 3.0
    assert calibration.statistic(
        calibration.Figure("x", "", "per_1000", "so_count", "b", 13, "equal", 1.0, 0.1, "s"),
        final) == 3.0
    ratio = calibration.Figure("x", "", "ratio", "participation_elderly", "b", 13, "equal", 1.0,
                               0.1, "s", denominator="participation_young")
    assert calibration.statistic(ratio, final) == pytest.approx(3.0)


def test_volunteering_over_the_year_counts_each_resident_once():
    months = np.array([0, 0, 1, 3, 12, 0, 2, 0], np.int16)
    stats = calibration.volunteer_statistics(months, registered=6.0)
    assert stats["cal_volunteer_share_year"] == pytest.approx(4 / 8)
    assert stats["cal_volunteer_months_per_volunteer"] == pytest.approx(18 / 4)
    assert stats["cal_volunteer_months_per_registered"] == pytest.approx(18 / 6)
    assert np.isnan(calibration.volunteer_statistics(months)["cal_volunteer_months_per_registered"])


def test_calibration_run_is_the_ordinary_run_plus_statistics():
    spec = plan(["incubation_only"], replications=1, seed=5, months=14,
                overrides={f"district.{k}": v for k, v in TINY.items()})[0]
    plain, extended = run_single(spec), calibration.calibration_run(spec)
    np.testing.assert_equal({k: extended.final[k] for k in plain.final}, plain.final)  # nan == nan
    assert extended.final["cal_residents"] == 400
    assert 0.0 <= extended.final["cal_volunteer_share_year"] <= 1.0
    assert extended.final["cal_initial_so_count"] == plain.series["so_count"][0]


def test_sobol_needs_a_power_of_two_and_refinement_stays_in_the_cube():
    assert calibration.unit_design("sobol", 3, 8, 1).shape == (8, 3)
    with pytest.raises(InputError, match="power of two"):
        calibration.unit_design("sobol", 3, 6, 1)
    low, high = calibration.refine_box(np.array([0.05, 0.5, 0.99]), 0.25)
    assert (low >= 0).all() and (high <= 1).all() and np.allclose(high - low, 0.25)


def test_tiny_joint_fit_stores_resumes_and_applies(tmp_path):
    from sanshe.experiments.store import ResultStore

    spec = _tiny_spec(tmp_path)
    with ResultStore(tmp_path / "r.sqlite") as store:
        first = calibration.calibrate_joint(spec, store=store, progress=False)
        again = calibration.calibrate_joint(spec, store=store, progress=False)
    assert first.losses[first.best] == first.losses.min() and len(first.losses) == 6
    assert again.runs == 0 and again.resumed == first.runs  # everything came from the store
    np.testing.assert_array_equal(again.losses, first.losses)
    fit = {row["target"]: row for row in first.fit}
    assert fit["young"]["role"] == "held out" and fit["density"]["replications"] == 2
    low = spec.free[0]
    assert low.low <= first.best_constants["founding_rate"] <= low.high
    paths = calibration.write_joint(first, tmp_path / "out")
    assert "founding_rate = " in paths[-1].read_text()
    table = tmp_path / "parameters.py"
    table.write_text(calibration.TABLE_PATH.read_text(encoding="utf-8"), encoding="utf-8")
    calibration.apply_to_table({"founding_rate": 0.0042}, table)
    changed = [a for a, b in zip(table.read_text().splitlines(),
                                 calibration.TABLE_PATH.read_text().splitlines(), strict=True)
               if a != b]
    assert len(changed) == 1 and '_P("founding_rate", 0.0042, 0.0005' in changed[0]
    with pytest.raises(InputError):
        calibration.apply_to_table({"founding_rate": 0.5}, table)


def test_scenarios_that_set_their_own_constants_are_named():
    """A library scenario's own [parameters] would shadow the calibrated table."""
    hits = calibration.own_constants(calibration.load_joint())
    assert all(h.split(".toml:")[0] in {"yuhuatai", "baseline"} for h in hits)


def test_joint_command_writes_the_fit_and_resumes(tmp_path):
    from tests.helpers import sanshe

    spec_path = tmp_path / "joint.toml"
    _tiny_spec(tmp_path, refine=0)  # writes joint.toml
    args = ["calibrate", "--targets", str(spec_path), "--db",
            str(tmp_path / "r.sqlite"), "--out", str(tmp_path / "out"), "--no-progress"]
    first = sanshe(*args)
    assert first.returncode == 0, first.stderr
    assert "held out figures" in first.stdout and "founding_rate = " in first.stdout
    assert (tmp_path / "out" / "fit.csv").exists()
    again = sanshe(*args)
    assert again.returncode == 0 and "0 runs (" in again.stdout  # all from the store
    refused = sanshe("calibrate", "baseline", "--out", str(tmp_path / "o2"))
    assert refused.returncode != 0 and "SCENARIO" in refused.stderr


def test_a_fitted_region_outside_the_table_or_without_the_fitted_value_is_refused(tmp_path):
    """[posterior]: each region lies in its constant's table range and holds the table's
    (fitted) value; a wrong entry names the file, the constant and what is allowed."""
    targets = tmp_path / "targets.toml"
    for text, words in [("threshold_mean = [0.1, 0.3]", ("threshold_mean", "0.25..0.65")),
                        ("threshold_mean = [0.3, 0.5]", ("threshold_mean", "table's value")),
                        ("no_such_constant = [0, 1]", ("no_such_constant", "parameter table")),
                        ("threshold_mean = 0.5", ("threshold_mean", "two numbers"))]:
        targets.write_text(f"[posterior]\n{text}\n", encoding="utf-8")
        with pytest.raises(InputError) as err:
            calibration.fitted_regions(targets)
        assert str(targets) in str(err.value) and all(w in str(err.value) for w in words)
    targets.write_text("[posterior]\nthreshold_mean = [0.5, 0.6]\n", encoding="utf-8")
    assert calibration.fitted_regions(targets) == {"threshold_mean": (0.5, 0.6)}


def test_a_refit_sets_its_regions_in_the_targets_file_and_leaves_the_rest(tmp_path):
    """--apply's [posterior] update: a constant's line is replaced in place, a new one is
    added to the table, and every other line of the file stays as it was."""
    targets = tmp_path / "targets.toml"
    original = calibration.JOINT_TARGETS.read_text(encoding="utf-8")
    targets.write_text(original, encoding="utf-8")
    before = calibration.fitted_regions(targets)
    changed = calibration.apply_regions({"threshold_mean": (0.5, 0.6),
                                         "min_members": (3.0, 6.0)}, targets)
    assert changed == ["threshold_mean = [0.5, 0.6]", "min_members = [3, 6]"]
    after = tomllib.loads(targets.read_text(encoding="utf-8"))["posterior"]
    assert after["threshold_mean"] == [0.5, 0.6] and after["min_members"] == [3, 6]
    assert {k: tuple(v) for k, v in after.items()
            if k not in ("threshold_mean", "min_members")} == {
        k: v for k, v in before.items() if k != "threshold_mean"}
    kept = [line for line in original.splitlines() if not line.startswith("threshold_mean")]
    assert all(line in targets.read_text(encoding="utf-8").splitlines() for line in kept)
    bare = tmp_path / "bare.toml"
    bare.write_text('[[target]]\nname = "x"\n', encoding="utf-8")
    calibration.apply_regions({"threshold_mean": (0.5, 0.6)}, bare)
    assert tomllib.loads(bare.read_text(encoding="utf-8"))["posterior"] == {
        "threshold_mean": [0.5, 0.6]}
