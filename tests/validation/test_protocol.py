"""The validation protocol (criteria.toml) is complete and self-consistent, and the
statistics that decide it are right. Fast: nothing here runs the model."""

from __future__ import annotations

import math

import pytest

from sanshe.experiments import validation
from sanshe.experiments.experiment import resolve
from sanshe.inputs.errors import InputError


def _result(check: validation.Check, values: list[float], p_adj: float
            ) -> validation.CheckResult:
    mean, low, high = validation.t_interval(values)
    return validation.CheckResult(check, values, mean, low, high, p_adjusted=p_adj)


def _check(cid: str) -> validation.Check:
    return next(c for c in validation.CHECKS if c.check_id == cid)


def test_holm_matches_a_worked_example():
    """m = 4: sorted p 0.005, 0.01, 0.03, 0.04 get ×4, ×3, ×2, ×1 (0.02, 0.03, 0.06, 0.04),
    made monotone (0.04 → 0.06), and are returned in the input order."""
    adjusted = validation.holm([0.01, 0.04, 0.03, 0.005])
    assert adjusted == pytest.approx([0.03, 0.06, 0.06, 0.02])


def test_holm_caps_at_one_keeps_nan_and_judges_a_subset_as_part_of_the_family():
    assert validation.holm([0.5, 0.6]) == pytest.approx([1.0, 1.0])
    adjusted = validation.holm([0.01, math.nan])
    assert adjusted[0] == pytest.approx(0.02) and math.isnan(adjusted[1])
    # one check run alone out of a family of 52 is adjusted as the family's smallest p
    assert validation.holm([0.001], family_size=52) == pytest.approx([0.052])


def test_required_replications_matches_a_textbook_power_calculation():
    """One-sided one-sample t-test, effect size d = 0.5, alpha 0.05, power 0.8: n = 27
    (G*Power; Cohen 1988 gives 26 by the normal approximation)."""
    assert validation.required_replications(2.0, 1.0, alpha=0.05, power=0.8, minimum=2) == 27
    # stricter alpha (Holm's worst case) or a smaller MME need more replications
    base = validation.required_replications(1.0, 0.5, alpha=0.05, minimum=2)
    assert validation.required_replications(1.0, 0.5, alpha=0.001, minimum=2) > base
    assert validation.required_replications(1.0, 0.25, alpha=0.05, minimum=2) > base
    assert validation.required_replications(0.0, 0.5) == validation.MIN_REPLICATIONS


def test_one_sided_p_follows_the_expected_direction():
    up = [0.1, 0.2, 0.15, 0.12]
    assert validation.one_sided_p(up, +1) < 0.01 < 0.99 < validation.one_sided_p(up, -1)
    assert validation.one_sided_p([0.0, 0.0, 0.0], +1) == 1.0  # no spread, no effect
    assert validation.one_sided_p([-2.0, -2.0], -1) == 0.0


def test_a_significant_effect_smaller_than_the_mme_fails():
    check = _check("4a")  # satisfaction, MME 0.05
    assert not validation.decide(_result(check, [0.006, 0.005, 0.007], p_adj=1e-6))
    assert validation.decide(_result(check, [0.06, 0.05, 0.07], p_adj=1e-6))
    assert not validation.decide(_result(check, [0.06, 0.05, 0.07], p_adj=0.2))


def test_a_level_is_judged_by_its_adjusted_p_and_an_input_by_equality():
    level = _check("7a")
    assert validation.decide(_result(level, [0.01, 0.02], p_adj=0.01))
    assert not validation.decide(_result(level, [0.01, 0.02], p_adj=0.06))
    equal = _check("7d")
    assert validation.decide(_result(equal, [0.0, 0.0], p_adj=math.nan))
    assert not validation.decide(_result(equal, [0.0, 0.01], p_adj=math.nan))


def test_every_pattern_has_emergent_checks_with_reasons():
    assert {c.pattern for c in validation.EMERGENT} == set(range(1, 12))
    for c in validation.EMERGENT:
        assert c.mme > 0 and c.mme_reason and c.unit, c.check_id
        assert c.direction in (-1, 1) and c.rule != "equal", c.check_id
        assert (len(c.arms) == 1) == (c.rule == "level"), c.check_id
    assert all(c.rule == "equal" for c in validation.CHECKS if c.kind == "input")
    ids = [c.check_id for c in validation.CHECKS]
    assert len(ids) == len(set(ids))


def test_stated_levels_are_the_sources_not_loosened():
    """MODEL.md's 622 with a platform and active residents (the full package): deliberation
    ≥ 60%, SO services ≥ 20%, referral ≤ 20%; a platform alone stays short of 60%."""
    levels = {c.arms["t"].scenario: set() for c in validation.checks_for(7) if c.rule == "level"}
    for c in validation.checks_for(7):
        if c.rule == "level":
            levels[c.arms["t"].scenario].add((c.outcome, c.direction, c.level))
    assert levels["full_linkage"] == {("affairs_deliberation_share", 1, 0.6),
                                      ("affairs_so_share", 1, 0.2),
                                      ("affairs_referral_share", -1, 0.2)}
    [(outcome, direction, level)] = levels["deliberation_622"]
    assert (outcome, direction) == ("affairs_deliberation_share", -1) and level < 0.6


@pytest.mark.parametrize("check", [c for c in validation.EMERGENT if len(c.arms) > 1],
                         ids=lambda c: c.check_id)
def test_emergent_arms_differ_in_exactly_their_lever(check):
    """Resolved settings (district size included) differ only under ``lever_keys``."""
    def inside(key: str) -> bool:
        return any(key == k or key.startswith(k + ".") for k in check.lever_keys)

    arms = list(check.arms.values())
    control = resolve(arms[-1].scenario, {**validation.SIZE, **dict(arms[-1].overrides)})
    changed: set[str] = set()
    for a in arms[:-1]:
        scenario = resolve(a.scenario, {**validation.SIZE, **dict(a.overrides)})
        changed |= set(scenario.differences(control))
    assert changed, "the arms do not differ at all"
    assert all(inside(k) for k in changed), sorted(k for k in changed if not inside(k))


def test_recorded_replications_follow_from_the_pilot():
    """Each emergent check's n is the power calculation on its recorded pilot SD."""
    for c in validation.EMERGENT:
        assert not math.isnan(c.pilot_sd), c.check_id
        assert c.replications == validation.required_replications(c.pilot_sd, c.mme), (
            c.check_id)


def test_a_bad_protocol_entry_is_named_with_what_to_fix():
    row = {"id": "x1", "pattern": 1, "title": "t", "source": "s", "kind": "emergent",
           "arms": {"t": {"scenario": "baseline"}}, "statistic": "lambda f: 1",
           "rule": "level"}
    with pytest.raises(InputError, match="x1.*statistic 'lambda f: 1'"):
        validation._check_from(row)


def test_a_check_runs_on_the_district_it_names():
    """``district = "market"`` puts the market size into every arm (the procurement checks
    need agencies that can bid); an unnamed district is the suite's, added at run time."""
    market = validation.DISTRICTS["market"]
    moved = [c for c in validation.CHECKS if all(
        dict(a.overrides).items() >= market.items() for a in c.arms.values())]
    assert {"3a", "4a", "9a"} <= {c.check_id for c in moved}
    assert not any(k.startswith("district.") for a in _check("1a").arms.values()
                   for k, _ in a.overrides)
    row = {"id": "x2", "pattern": 3, "title": "t", "source": "s", "kind": "emergent",
           "arms": {"t": {"scenario": "baseline"}}, "statistic": "level", "rule": "level",
           "district": "city"}
    with pytest.raises(InputError, match="x2.*district 'city'"):
        validation._check_from(row)


def test_another_suite_district_moves_only_the_suites_checks(monkeypatch):
    """``size`` (validate --set district.*) replaces the suite's district under every arm,
    and a check that names the market or the library's district keeps its own."""
    seen = {}

    def capture(jobs, run, **kwargs):  # no run: the specs each arm would run with
        for job in jobs:
            seen[job.sample["arm"]] = job.spec.scenario.values
            yield job, None

    monkeypatch.setattr(validation.runner, "run_jobs", capture)
    size = {**validation.SIZE, "district.residents_per_community": 3000}
    checks = [_check(cid) for cid in ("1a", "3a", "6a")]
    validation.run_arms(validation.needed_arms(checks), 1, 13, size=size)
    rpc = {cid: {seen[a.key]["district.residents_per_community"]
                 for a in _check(cid).arms.values()} for cid in ("1a", "3a", "6a")}
    assert rpc == {"1a": {3000},
                   "3a": {validation.DISTRICTS["market"]["district.residents_per_community"]},
                   "6a": {validation.DISTRICTS["default"]["district.residents_per_community"]}}


def test_the_default_test_run_caps_market_checks_apart():
    """Market-district checks are never decided in the default run (their runs cost 40-50
    small ones): they run at CI_MARKET_REPLICATIONS; the others up to CI_MAX_REPLICATIONS."""
    market, small = _check("4a"), _check("1a")
    assert market.district == "market" and small.district == "suite"
    assert not validation.in_default_test_run(market) and validation.in_default_test_run(small)
    cap = validation.default_run_cap
    assert validation.check_replications(_check("3a"), cap=cap) == validation.CI_MARKET_REPLICATIONS
    assert validation.check_replications(_check("8a"), cap=cap) == validation.CI_MAX_REPLICATIONS
    assert validation.check_replications(small, cap=cap) == small.replications
    counts = validation.arm_replications(validation.CHECKS, cap=cap)
    assert all(counts[a.key] <= validation.CI_MARKET_REPLICATIONS
               for c in validation.CHECKS if c.district == "market" for a in c.arms.values())


def test_arm_means_skip_undefined_runs_quietly():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # np.nanmean warned "Mean of empty slice" here
        assert math.isnan(validation._mean_of_defined([math.nan, math.nan]))
        assert validation._mean_of_defined([1.0, math.nan, 3.0]) == 2.0


def test_a_check_reads_a_derived_ratio_from_each_runs_finals():
    import dataclasses

    from sanshe.experiments.experiment import RunResult

    [nine_a] = [c for c in validation.CHECKS if c.check_id == "9a"]
    check = dataclasses.replace(nine_a, outcome="purchase_cost_per_need_met")

    def run(spent: float, needs_a_month: float) -> RunResult:
        final = {"purchase_spending": spent, "purchase_services": needs_a_month}
        return RunResult("x", 0, 1, 72, {}, final, {})

    t, c = check.arms["t"].key, check.arms["c"].key
    # 1,200 yuan over 12 needs (100 each) against 2,400 over 12 (200 each); then no need met
    results = {t: [run(1200.0, 1.0), run(1200.0, 1.0)], c: [run(2400.0, 1.0), run(500.0, 0.0)]}
    measured = validation.measure(check, results, replications=2)
    assert measured.values[0] == pytest.approx(math.log(0.5))
    assert math.isnan(measured.values[1])  # undefined, not a zero or an infinite cost
    assert measured.arm_means["c"]["purchase_cost_per_need_met"] == pytest.approx(200.0)


def test_a_count_ratio_is_defined_where_the_status_quo_has_none():
    count_ratio = validation.STATISTICS["log_count_ratio"]
    check = _check("1a")
    assert check.statistic == "log_count_ratio"
    finals = {"t": {"so_count": 12.0}, "c": {"so_count": 0.0}}
    assert count_ratio(finals, check) == pytest.approx(math.log(13.0))  # ln 13: package kept 12
    assert math.isnan(validation.STATISTICS["log_ratio"](finals, check))  # the old one was not
    finals = {"t": {"so_count": 0.0}, "c": {"so_count": 0.0}}
    assert count_ratio(finals, check) == 0.0  # neither has any: no effect, not undefined
    finals = {"t": {"so_count": 35.0}, "c": {"so_count": 7.0}}
    assert count_ratio(finals, check) == pytest.approx(math.log(36 / 8))
    assert abs(count_ratio(finals, check) - math.log(5.0)) < 0.11  # close to ln(t / c)


def test_a_pilot_that_saw_no_spread_cannot_set_replications():
    row = {"check": "6a", "pilot_sd": 0.0, "pilot_mean": -1.0, "mme": 0.25, "replications": 5}
    assert "no spread" in validation.unpowered(row) and "6a" in validation.unpowered(row)
    assert validation.unpowered({**row, "pilot_sd": math.nan})
    assert validation.unpowered({**row, "pilot_sd": 0.17}) == ""
