import numpy as np

from sanshe.sim.mechanisms import needs, satisfaction
from sanshe.sim.population import build_population
from tests.helpers import params


def setup(n=200, seed=0):
    return build_population(np.array([n]), np.array([False]), params(),
                            np.random.default_rng(seed))


def live(pop, felt, months, p):
    """Every resident gets a need met at ``felt`` each month; mean satisfaction by month."""
    everyone = np.arange(pop.size)
    path = []
    for _ in range(months):
        satisfaction.judge(pop, everyone, np.full(pop.size, felt), p)
        path.append(pop.satisfaction.mean())
    return np.array(path)


def test_satisfaction_rises_after_service_improves_and_falls_after_it_worsens():
    pop, p = setup(), params()
    start = pop.satisfaction.mean()
    better = live(pop, 0.9, 36, p)
    worse = live(pop, 0.3, 36, p)
    assert better[-1] > start + 0.2
    assert worse[-1] < better[-1] - 0.3 and worse[-1] < start - 0.1


def test_a_lasting_improvement_is_not_pulled_back_to_the_initial_level():
    """The reference point moves: after adaptation satisfaction stays near the new service
    level, far above where it started."""
    pop, p = setup(), params()
    start = pop.satisfaction.mean()
    path = live(pop, 0.85, 120, p)
    assert path[-1] > start + 0.25 and abs(path[-1] - 0.85) < 0.05


def test_the_same_service_pleases_more_when_it_beats_expectation():
    """Disconfirmation (Oliver 1980): a surprise counts beyond the level; after adapting,
    the same service pleases less than it did at first (adaptation)."""
    pop, p = setup(), params()
    pop.satisfaction[:] = 0.5
    pop.expectation[:100] = 0.4
    pop.expectation[100:] = 0.8
    satisfaction.judge(pop, np.arange(pop.size), np.full(pop.size, 0.8), p)
    assert pop.satisfaction[:100].mean() > pop.satisfaction[100:].mean()
    path = live(pop, 0.8, 60, p)
    assert path.max() > path[-1]  # the overshoot fades as expectation catches up
    assert abs(pop.expectation.mean() - 0.8) < 0.02


def test_an_unmet_need_lowers_satisfaction_relative_to_expectation():
    """A lapsed need is an experience worth nothing; a hidden one hurts less."""
    pop, p = setup(n=2000), params(need_patience_months=1)
    pop.need_domain[:] = 0
    pop.need_expressed[: pop.size // 2] = True
    before, expected = pop.satisfaction.copy(), pop.expectation.copy()
    needs.lapse(pop, np.zeros(pop.size, bool), p, np.random.default_rng(0))
    loss = before - pop.satisfaction
    assert np.all(loss > 0) and np.all(pop.expectation < expected)
    half = pop.size // 2
    assert loss[:half].mean() > loss[half:].mean()


def test_satisfaction_and_trust_are_not_pulled_back_in_a_month_without_experiences():
    """Nothing drifts residents back to satisfaction_initial or trust_initial: a month with
    no met and no lapsed need leaves both where they were."""
    from sanshe.sim.model import CommunityGovernanceModel
    model = CommunityGovernanceModel("baseline", seed=3, **{
        "district.streets": 1, "district.communities_per_street": 2,
        "district.residents_per_community": 200})
    model.pop.need_table[:] = 0.0  # no needs arise, so none is met or lapses
    model.pop.satisfaction[:] = 0.9
    model.pop.trust[:] = 0.05
    model.run(3)
    assert np.all(model.pop.satisfaction == 0.9) and np.all(model.pop.trust == 0.05)
