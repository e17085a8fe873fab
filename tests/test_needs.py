import numpy as np

from sanshe.sim.mechanisms import needs
from sanshe.sim.population import build_population
from tests.helpers import params


def population(n=2000, seed=0):
    return build_population(np.array([n]), np.array([False]), params(),
                            np.random.default_rng(seed))


def test_needs_arise_only_for_residents_without_one():
    pop = population()
    rng = np.random.default_rng(1)
    first = needs.arise(pop, rng)
    assert first.size > 0
    second = needs.arise(pop, rng)
    assert not np.intersect1d(first, second).size
    assert np.all(pop.need_domain[first] >= 0) and not pop.need_expressed[first].any()


def test_information_platform_brings_to_light_the_needs_of_residents_on_it():
    """The platform is a channel for those who use it: with everyone on it more needs come
    to light; with nobody on it, as many as without a platform; with half, only theirs."""
    def expressed(platform):
        pop = population()
        needs.arise(pop, np.random.default_rng(1))
        channels = needs.Channels(platform(pop), np.zeros(1), np.zeros(1),
                                  np.zeros(pop.size, bool))
        needs.express(pop, channels, params(), np.random.default_rng(2))
        return pop.need_expressed[pop.need_domain >= 0].mean()

    none, everyone = expressed(lambda pop: None), expressed(lambda pop: np.ones(pop.size, bool))
    nobody = expressed(lambda pop: np.zeros(pop.size, bool))
    assert everyone > none + 0.08 and nobody == none
    half = expressed(lambda pop: np.arange(pop.size) % 2 == 0)
    assert none + 0.02 < half < everyone - 0.02


def test_planners_see_only_the_hidden_needs_of_residents_on_the_platform():
    from sanshe.sim.model import CommunityGovernanceModel
    from tests.helpers import SMALL

    on = CommunityGovernanceModel("baseline", seed=2, **SMALL,
                                  **{"policy.linkage.info_platform": True})
    on.run(2)
    pop, p = on.pop, on.p
    hidden = (pop.need_domain >= 0) & ~pop.need_expressed
    users = hidden & on.agenda.online
    seen = needs.known_demand(on) - on.expressed_year
    assert np.isclose(seen.sum(), p["platform_needs_visibility"] * users.sum())
    assert users.sum() < hidden.sum()


def test_lapsed_needs_cost_satisfaction_and_trust():
    pop = population()
    needs.arise(pop, np.random.default_rng(1))
    pop.need_expressed[:] = pop.need_domain >= 0
    before_sat, before_trust = pop.satisfaction.copy(), pop.trust.copy()
    lapsed = needs.lapse(pop, np.zeros(pop.size, bool), params(need_patience_months=1),
                         np.random.default_rng(3))
    assert lapsed.size == (pop.need_domain >= 0).sum()
    assert np.all(pop.satisfaction[lapsed] < before_sat[lapsed])
    assert np.all(pop.trust[lapsed] < before_trust[lapsed])


def test_open_counts_by_community_and_domain():
    pop = population()
    needs.arise(pop, np.random.default_rng(1))
    counts = needs.open_counts(pop)
    assert counts.shape == (1, 6)
    assert counts.sum() == (pop.need_domain >= 0).sum()


def test_needs_survey_counts_each_residents_yearly_chances():
    pop = build_population(np.array([300, 0, 500]), np.array([False, False, True]), params(),
                           np.random.default_rng(4))
    weights = pop.need_weights
    expected = np.stack([np.bincount(pop.community, weights=weights[:, d], minlength=3)
                         for d in range(weights.shape[1])], axis=1) * 12
    assert np.allclose(needs.expected_needs(pop), expected, rtol=1e-12)
    elderly = np.flatnonzero(pop.groups["elderly"])
    only = np.stack([np.bincount(pop.community[elderly], weights=weights[elderly, d],
                                 minlength=3) for d in range(weights.shape[1])], axis=1) * 12
    assert np.allclose(needs.expected_needs(pop, elderly), only, rtol=1e-12)


def test_express_returns_the_needs_it_brought_to_light():
    pop = population()
    needs.arise(pop, np.random.default_rng(1))
    before = pop.need_expressed.copy()
    channels = needs.Channels(np.ones(pop.size, bool), np.zeros(1), np.zeros(1),
                              np.zeros(pop.size, bool))
    newly = needs.express(pop, channels, params(), np.random.default_rng(2))
    assert newly.size > 0
    assert np.array_equal(newly, np.flatnonzero(pop.need_expressed & ~before))


def test_lapse_draws_one_single_precision_number_per_resident_whatever_was_served():
    """An unmet open need lapses on a float32 uniform drawn for every resident (one each,
    however many were served: the needs stream stays aligned between scenarios)."""
    pop = population(n=5000)
    needs.arise(pop, np.random.default_rng(1))
    served = np.zeros(pop.size, bool)
    served[::3] = True
    waiting = (pop.need_domain >= 0) & ~served
    assert waiting.sum() > 50
    rng, reference = np.random.default_rng(4), np.random.default_rng(4)
    lapsed = needs.lapse(pop, served, params(need_patience_months=4), rng)
    expected = np.flatnonzero(waiting & (reference.random(pop.size, dtype=np.float32) < 0.25))
    assert np.array_equal(lapsed, expected)
    assert rng.bit_generator.state == reference.bit_generator.state
