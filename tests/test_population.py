import numpy as np

from sanshe.sim.population import DOMAIN_INDEX, build_population
from tests.helpers import params


def make(sizes=(100, 150, 80), rural=(False, False, True), seed=0, **changes):
    return build_population(np.array(sizes), np.array(rural), params(**changes),
                            np.random.default_rng(seed))


def test_residents_are_stored_community_by_community():
    pop = make()
    assert pop.size == 330
    assert np.all(np.diff(pop.community) >= 0)
    assert list(pop.counts()) == [100, 150, 80]


def test_ties_are_symmetric_and_stay_inside_communities():
    pop = make()
    ties = pop.ties.tocoo()
    assert (pop.ties != pop.ties.T).nnz == 0
    assert np.all(pop.community[ties.row] == pop.community[ties.col])
    assert np.all(ties.row != ties.col)
    assert 4 <= pop.degree.mean() <= 12


def test_special_groups_drive_needs_in_their_domain():
    pop = make(sizes=(2000,), rural=(False,))
    elder = pop.need_weights[:, DOMAIN_INDEX["elder_care"]]
    assert np.all(elder[pop.groups["elderly"]] > 0)
    assert np.all(elder[~pop.groups["elderly"]] == 0)


def test_rural_communities_are_older():
    pop = make(sizes=(3000, 3000), rural=(False, True))
    urban_old = pop.groups["elderly"][pop.community == 0].mean()
    rural_old = pop.groups["elderly"][pop.community == 1].mean()
    assert rural_old > urban_old + 0.05


def test_a_community_block_holds_exactly_its_residents():
    sizes = np.array([3, 0, 5, 2])
    pop = build_population(sizes, np.zeros(4, bool), params(), np.random.default_rng(0))
    for c in range(4):
        block = pop.block(c)
        assert np.array_equal(np.arange(pop.size)[block], np.flatnonzero(pop.community == c))
