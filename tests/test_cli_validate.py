"""`sanshe validate` and `sanshe calibrate` as a user runs them, on tiny designs."""

from __future__ import annotations

import csv
import json
import tomllib
from pathlib import Path

from sanshe.experiments import validation
from tests.helpers import sanshe

TARGETS = Path(__file__).resolve().parent.parent / "calibration" / "yuhuatai_targets.toml"
TINY = {"district.streets": 1, "district.communities_per_street": 2,
        "district.residents_per_community": 150}


def test_validate_writes_the_report_and_the_robustness_draws(tmp_path):
    out = tmp_path / "validation"
    result = sanshe("validate", "--pattern", "8", "-r", "2", "--months", "13",  # -r: README
                    "--robustness-draws", "3", "--draw-replications", "1",
                    "--robustness-parameters", "founding_rate,threshold_mean",
                    "--workers", "1", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "checks pass" in result.stdout
    assert "robustness over 3 joint draws of 2 assumption constants" in result.stdout
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "Pattern 8" in report and "Robustness over every assumption" in report
    assert "Holm" in report
    assert (out / "table.md").read_text(encoding="utf-8").startswith("| pattern |")
    with open(out / "table.csv", encoding="utf-8") as fh:
        table = {r["check"]: r for r in csv.DictReader(fh)}
    assert set(table) == {c.check_id for c in validation.checks_for(8)}
    for row in table.values():  # the protocol's columns, each check at the given 2 runs
        assert row["replications"] == "2" and float(row["mme"]) > 0
        assert 0 <= float(row["p_holm"]) <= 1
    with open(out / "robustness_draws_summary.csv", encoding="utf-8") as fh:
        summary = {r["check"]: r for r in csv.DictReader(fh)}
    assert set(summary) == set(table)  # pattern 8's checks, each at 3 draws
    assert all(int(r["draws"]) == 3 for r in summary.values())
    with open(out / "robustness_draws.csv", encoding="utf-8") as fh:
        assert len(list(csv.DictReader(fh))) == 3 * len(table)


def test_validate_pilot_prints_each_checks_sd_and_replications(tmp_path):
    result = sanshe("validate", "--pilot", "--pattern", "8", "--replications", "3",
                    "--months", "13", "--workers", "1", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    with open(tmp_path / "pilot.csv", encoding="utf-8") as fh:
        rows = {r["check"]: r for r in csv.DictReader(fh)}
    assert set(rows) == {"8a", "8b"} and "8a" in result.stdout
    for cid, row in rows.items():
        sd, mme = float(row["pilot_sd"]), float(row["mme"])
        assert int(row["replications"]) == validation.required_replications(sd, mme), cid


def test_validate_runs_the_suites_checks_on_another_district(tmp_path):
    """--set district.*: the suite's checks on a district no criterion names, said so in
    the report; the same checks on the protocol's district give other values."""
    common = ("validate", "--pattern", "11", "-r", "2", "--months", "13", "--no-robustness",
              "--workers", "1")
    moved = sanshe(*common, "--set", "district.residents_per_community=200",
                   "--out", str(tmp_path / "moved"))
    assert moved.returncode == 0, moved.stderr
    report = (tmp_path / "moved" / "report.html").read_text(encoding="utf-8")
    assert "suite district 2 × 5 × 200" in report
    assert "a district the protocol does not name" in report
    protocol = sanshe(*common, "--out", str(tmp_path / "protocol"))
    assert protocol.returncode == 0, protocol.stderr
    assert "does not name" not in (tmp_path / "protocol" / "report.html").read_text(
        encoding="utf-8")

    def means(out: Path) -> dict[str, float]:
        with open(out / "table.csv", encoding="utf-8") as fh:
            return {r["check"]: float(r["mean"]) for r in csv.DictReader(fh)}

    assert means(tmp_path / "moved") != means(tmp_path / "protocol")


def test_validate_set_takes_valid_district_keys_only(tmp_path):
    policy = sanshe("validate", "--set", "policy.purchase.mode=directed", "--out", str(tmp_path))
    assert policy.returncode == 2 and "district keys only" in policy.stderr
    size = sanshe("validate", "--set", "district.residents_per_community=0",
                  "--out", str(tmp_path))
    assert size.returncode == 2 and "district.residents_per_community" in size.stderr
    assert "Traceback" not in size.stderr


def test_validate_rejects_an_unknown_robustness_parameter(tmp_path):
    result = sanshe("validate", "--robustness-parameters", "crowdin", "--out", str(tmp_path))
    assert result.returncode == 2
    assert "crowdin" in result.stderr and "parameters" in result.stderr


def test_draws_of_named_constants_cover_their_ranges():
    """--robustness-parameters draws only the named constants, one per stratum of each range
    (Latin hypercube; a fitted constant's range is its fitted region), integers rounded;
    the others stay at their defaults."""
    from sanshe.experiments import calibration, robustness
    from sanshe.inputs.parameters import PARAMETERS

    result = robustness.run(4, 1, validation.checks_for(8), months=13, size=TINY,
                            names=["founding_rate", "min_members"], workers=1)
    assert [set(d) for d in result.draws] == [{"founding_rate", "min_members"}] * 4
    low, high = calibration.fitted_regions()["founding_rate"]  # fitted: its region
    assert (low, high) != (PARAMETERS["founding_rate"].low, PARAMETERS["founding_rate"].high)
    rates = sorted(d["founding_rate"] for d in result.draws)
    assert [int((x - low) / (high - low) * 4) for x in rates] == [0, 1, 2, 3]
    assert all(d["min_members"].is_integer() for d in result.draws)
    assert result.means.shape == (4, len(validation.checks_for(8)))


def test_calibrate_fits_a_scenario_and_writes_its_files(tmp_path):
    scenario = tmp_path / "tiny.toml"
    scenario.write_text('[scenario]\nname="tiny"\nextends="incubation_only"\n'
                        '[district]\nstreets=1\ncommunities_per_street=2\n'
                        'residents_per_community=150\n', encoding="utf-8")
    targets = tmp_path / "targets.toml"
    targets.write_text('[[target]]\nname="SOs"\noutcome="so_count"\nkind="equal"\n'
                       'value=8\ntolerance=0.2\nsource="test"\n', encoding="utf-8")
    result = sanshe("calibrate", str(scenario), "--targets", str(targets),
                    "--free", "founding_rate=0.001:0.02", "--points", "4", "--refine", "0",
                    "--replications", "1", "--confirm", "2", "--months", "13", "--workers",
                    "1", "--db", str(tmp_path / "r.sqlite"), "--no-progress",
                    "--out", str(tmp_path / "fit"))
    assert result.returncode == 0, result.stderr
    assert "founding_rate" in result.stdout and "fitted figures" in result.stdout
    fitted = tomllib.loads((tmp_path / "fit" / "fitted.toml").read_text(encoding="utf-8"))
    best = fitted["parameters"]["founding_rate"]
    low, high = fitted["posterior"]["founding_rate"]  # what the fit accepted, for robustness
    assert 0.0005 <= low <= best <= high <= 0.02 and low < high
    summary = json.loads((tmp_path / "fit" / "calibration.json").read_text(encoding="utf-8"))
    assert [p["stage"] for p in summary["points"]] == ["global"] * 4
    with open(tmp_path / "fit" / "fit.csv", encoding="utf-8") as fh:
        fit = list(csv.DictReader(fh))
    assert [r["scenario"][-12:] for r in fit] == ["tiny.toml@13"] and fit[0]["replications"] == "2"


def test_calibrate_rejects_a_constant_outside_its_range(tmp_path):
    result = sanshe("calibrate", "baseline", "--targets", str(TARGETS),
                    "--free", "founding_rate=0.0:0.5", "--out", str(tmp_path))
    assert result.returncode == 2
    assert "plausible range" in result.stderr


def test_other_commands_work_without_the_protocol_file() -> None:
    """Outside a checkout criteria.toml is missing: only `validate` may fail, and cleanly."""
    import subprocess
    import sys

    hide = ("import builtins, sys\n"
            "real = builtins.open\n"
            "def fake(path, *a, **k):\n"
            "    if str(path).endswith('criteria.toml'):\n"
            "        raise FileNotFoundError(path)\n"
            "    return real(path, *a, **k)\n"
            "builtins.open = fake\n"
            "from sanshe.ui.cli import main\n"
            "sys.exit(main(sys.argv[1:]))\n")
    listed = subprocess.run([sys.executable, "-c", hide, "scenarios"], capture_output=True,
                            text=True, timeout=120)
    assert listed.returncode == 0, listed.stderr
    assert "full_linkage" in listed.stdout
    refused = subprocess.run([sys.executable, "-c", hide, "validate", "--no-robustness"],
                             capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2, refused.stderr
    assert "criteria.toml" in refused.stderr and "Traceback" not in refused.stderr


def test_robustness_draws_vary_every_assumption_and_report_shares(tmp_path):
    """Three joint draws of all assumption constants on pattern 9's two arms: the CLI writes
    the per-check share table; the module's draws cover every assumption row."""
    from sanshe.experiments import calibration, robustness
    from sanshe.inputs.parameters import TABLE

    names = {p.name for p in robustness.assumption_constants()}
    fitted = calibration.fitted_regions()
    assert names == {p.name for p in TABLE if p.high > p.low and (
        p.uncertain or "assumption" in p.source.lower() or p.name in fitted)}
    draws = robustness.draw_constants(3, seed=1)
    assert len(draws) == 3 and set(draws[0]) == names
    assert len({d["founding_rate"] for d in draws}) == 3  # each draw differs
    result = sanshe("validate", "--pattern", "9", "--months", "13", "--draws-only",
                    "--robustness-draws", "3", "--draw-replications", "1",
                    "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    with open(tmp_path / "robustness_draws_summary.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["check"] for r in rows} == {"9a", "9b", "9c"}  # 9c reads a derived ratio
    assert all(0.0 <= float(r["sign_share"]) <= 1.0 and int(r["draws"]) == 3 for r in rows)
    assert "robustness over 3 joint draws" in result.stdout
    assert not (tmp_path / "report.html").exists()  # --draws-only: no checks, no report
    with open(tmp_path / "robustness_constants.csv", encoding="utf-8") as fh:
        drawn = list(csv.DictReader(fh))  # what each draw drew, to trace a failing one
    assert [int(r["draw"]) for r in drawn] == [1, 2, 3]
    assert set(drawn[0]) == names | {"draw"}
    assert [float(r["founding_rate"]) for r in drawn] == [
        d["founding_rate"] for d in robustness.draw_constants(3)]  # the protocol's seed


def test_fitted_constants_are_drawn_only_where_their_fit_allows():
    """A constant fitted to the sources' figures is drawn from the region its fit accepted
    (calibration_targets.toml [posterior]); the others over their whole plausible range."""
    from sanshe.experiments import calibration, robustness

    regions = calibration.fitted_regions()
    assert {"threshold_mean", "disposition_mean", "founding_rate"} <= set(regions)
    draws = robustness.draw_constants(32, seed=1)
    drawn = [name for name in regions if name in draws[0]]
    assert drawn == list(regions)  # every fitted constant, flagged uncertain or not
    assert not robustness.is_assumption(
        next(p for p in robustness.assumption_constants() if p.name == "newness_hazard"))
    for name in drawn:
        low, high = regions[name]
        values = [d[name] for d in draws]
        assert low <= min(values) and max(values) <= high, name
        assert max(values) - min(values) > 0.8 * (high - low), name  # the whole region
    free = next(p for p in robustness.assumption_constants() if p.name == "contact_ease")
    values = [d["contact_ease"] for d in draws]
    assert max(values) - min(values) > 0.8 * (free.high - free.low)


def test_share_interval_is_exact():
    from sanshe.experiments import robustness

    share, low, high = robustness.share_ci(64, 64)
    assert share == 1.0 and high == 1.0 and 0.94 < low < 0.96
    assert robustness.share_ci(0, 10)[1] == 0.0
