import math

import numpy as np
import pytest

from sanshe import CommunityGovernanceModel, Scenario
from sanshe.experiments.experiment import RunSpec, replication_seeds, run_single
from sanshe.inputs.outcomes import OUTCOME_NAMES
from sanshe.sim.mechanisms import ecology, priorities
from tests.helpers import SMALL


def small_model(seed=1, scenario="full_linkage", **overrides):
    return CommunityGovernanceModel(scenario, seed=seed, **{**SMALL, **overrides})


def test_same_seed_gives_identical_series_and_other_seeds_differ():
    a = small_model(seed=7).run(24).series()
    b = small_model(seed=7).run(24).series()
    c = small_model(seed=8).run(24).series()
    assert a == b or all(np.allclose(a[k], b[k], equal_nan=True) for k in a)
    assert any(not np.allclose(a[k], c[k], equal_nan=True) for k in a)


def test_every_outcome_has_one_value_per_month():
    model = small_model().run(15)
    series = model.series()
    assert set(series) == set(OUTCOME_NAMES)
    assert all(len(values) == 15 for values in series.values())
    frame = model.datacollector.get_model_vars_dataframe()
    assert list(frame.columns) == list(OUTCOME_NAMES) and len(frame) == 15


def test_shares_stay_in_range():
    series = small_model().run(24).series()
    for name in ("participation_rate", "need_coverage", "hidden_need_share",
                 "affairs_referral_share", "certified_sw_share", "contract_hhi"):
        values = [v for v in series[name] if not math.isnan(v)]
        assert values and min(values) >= 0.0 and max(values) <= 1.0, name


def test_running_turns_false_after_the_scenario_months():
    model = small_model(**{"run.months": 5})
    model.run_model()
    assert model.month == 5 and not model.running


def test_without_seed_the_model_draws_and_records_one():
    a, b = CommunityGovernanceModel(**SMALL), CommunityGovernanceModel(**SMALL)
    assert a.seed != b.seed
    again = CommunityGovernanceModel(seed=a.seed, **SMALL).run(6).series()
    assert np.allclose(again["need_coverage"], a.run(6).series()["need_coverage"],
                       equal_nan=True)


def test_run_single_is_reproducible_from_its_spec():
    scenario = Scenario.load("purchase_only").with_overrides(SMALL)
    spec = RunSpec(scenario, seed=replication_seeds(1, 1)[0], months=12)
    assert run_single(spec).final == pytest.approx(run_single(spec).final, nan_ok=True)


def test_replication_seeds_are_stable_and_distinct():
    seeds = replication_seeds(1, 5)
    assert seeds == replication_seeds(1, 5) and len(set(seeds)) == 5
    assert replication_seeds(1, 3) == seeds[:3]


def test_a_policy_switch_leaves_other_mechanisms_on_common_random_numbers():
    base = small_model(seed=3, scenario="baseline").run(1).series()
    other = small_model(seed=3, scenario="baseline",
                        **{"policy.social_work.salary_index": 1.5}).run(1).series()
    # Pay acts on social workers only: residents' first month is identical.
    assert base["hidden_need_share"] == other["hidden_need_share"]


def test_founding_sees_density_per_thousand_residents(monkeypatch):
    """A community of 800 with 4 SOs is as crowded as one of 200 with 1 (5 per 1,000)."""
    seen = {}
    real = ecology.founding_chance

    def spy(count, *args):
        seen["count"] = np.array(count)
        return real(count, *args)

    monkeypatch.setattr(ecology, "founding_chance", spy)
    for size in (200, 800):
        model = small_model(scenario="baseline", **{"district.residents_per_community": size})
        per_community = ecology.community_so_counts(model)
        ecology.found_community_sos(model, priorities.outreach(model))
        assert np.allclose(seen["count"], per_community * 1000 / size)


def test_winners_gov_share_weights_the_revenue_of_purchase_winners():
    from sanshe.sim.measures import _organizations

    model = small_model(scenario="baseline")
    for so in model.sos:
        so.ledger.year = dict.fromkeys(so.ledger.year, 0.0)
    a, b, c = model.sos[:3]
    a.ledger.year.update(purchase=900.0, donations=100.0)  # winner, 90% government
    b.ledger.year.update(donations=500.0)  # no contract: not a winner
    c.ledger.year.update(purchase=100.0, fees=100.0)  # winner, 50% government
    measured = _organizations(model)
    assert measured["winners_gov_share"] == pytest.approx(1000.0 / 1200.0)
    assert measured["gov_revenue_share"] == pytest.approx(1000.0 / 1700.0)


def test_landed_agencies_social_workers_reach_residents_where_they_work():
    """社会组织优先落地社区: with the landing priority, agencies' staff do outreach in the
    communities of their contracts; without it (and with no station posts) nobody does."""
    model = small_model(scenario="priority_landing")
    model.step()  # the yearly round awards this year's contracts
    worked = {c.community for so in model.sos if not so.is_community and so.staff
              for c in so.contracts}
    assert worked
    landed = priorities.outreach(model)
    assert all(landed[c] > 0 for c in worked)
    assert all(landed[c] == 0 for c in set(range(landed.size)) - worked)
    model.v["policy.four_priorities.landing"] = False
    assert not priorities.outreach(model).any()


def test_a_month_counts_residents_ties_once(monkeypatch):
    """The meeting's agenda and residents' choices read the same count of last month's
    choices among each resident's ties: the ties are counted once a month (at a million
    residents each count costs more than the month's arithmetic on it)."""
    from sanshe.sim import population

    model = small_model()
    model.run(2)  # some residents take part, attend and join by now
    calls = []
    counted = population.tie_counts
    monkeypatch.setattr(population, "tie_counts",
                        lambda pop, *doing: (calls.append(len(doing)), counted(pop, *doing))[1])
    model.run(3)
    assert calls == [3, 3, 3]  # taking part, attending, membership: one count a month


def test_the_cycle_collector_pauses_during_a_month_and_resumes_after(monkeypatch):
    """Collections during a month walked every object of the district (docs/performance.md);
    the month runs with the collector paused, and a caller that paused it keeps it paused."""
    import gc

    seen = []
    monthly = ecology.closures
    monkeypatch.setattr(ecology, "closures",
                        lambda model: (seen.append(gc.isenabled()), monthly(model))[1])
    model = small_model()
    assert gc.isenabled()
    model.step()
    assert seen == [False] and gc.isenabled()
    gc.disable()
    try:
        model.step()
        assert seen == [False, False] and not gc.isenabled()
    finally:
        gc.enable()


def test_finished_runs_are_freed():
    """A worker runs many models one after the other: none may stay in memory (Mesa 3.3
    kept every model in Agent._ids, mesa/mesa#3179; the run engine discards each)."""
    import gc

    from sanshe.experiments.experiment import plan

    def alive() -> int:
        gc.collect()
        return sum(isinstance(o, CommunityGovernanceModel) for o in gc.get_objects())

    before = alive()
    for spec in plan(["full_linkage"], replications=3, seed=5, months=2, overrides=SMALL):
        run_single(spec)
    assert alive() == before
