import numpy as np

from sanshe.sim.mechanisms import services
from sanshe.sim.population import build_population
from tests.helpers import params


def setup(seed=0):
    pop = build_population(np.array([500, 500]), np.array([False, False]), params(),
                           np.random.default_rng(seed))
    pop.need_domain[:] = -1
    pop.need_domain[:300] = 0  # community 0, elder care
    pop.need_expressed[:200] = True
    return pop


def test_only_expressed_needs_are_served_and_never_beyond_the_slots():
    pop = setup()
    offers = services.Offers()
    offers.add("a", 0, 0, 50.0, 0.8, True)
    delivery = services.deliver(pop, offers, np.random.default_rng(1))
    assert 49 <= delivery.served.size <= 51
    assert pop.need_expressed[delivery.served].all()
    assert np.all(pop.community[delivery.served] == 0)


def test_slots_beyond_the_needs_are_wasted():
    pop = setup()
    offers = services.Offers()
    offers.add("a", 0, 0, 1000.0, 0.8, True)
    offers.add("b", 1, 0, 1000.0, 0.8, True)  # no needs in community 1
    delivery = services.deliver(pop, offers, np.random.default_rng(1))
    assert delivery.served.size == 200
    assert delivery.offer_served[1] == 0


def test_providers_in_one_pool_share_the_work_by_their_slots():
    pop = setup()
    offers = services.Offers()
    offers.add("a", 0, 0, 30.0, 0.9, True)
    offers.add("b", 0, 0, 90.0, 0.3, False)
    delivery = services.deliver(pop, offers, np.random.default_rng(1))
    assert np.isclose(delivery.offer_served[1] / delivery.offer_served[0], 3.0)
    assert abs(delivery.quality.mean() - 0.45) < 0.03
    assert np.allclose(delivery.so_share, 0.25)


def test_good_service_raises_satisfaction_and_trust():
    pop = setup()
    offers = services.Offers()
    offers.add("a", 0, 0, 100.0, 0.95, True)
    delivery = services.deliver(pop, offers, np.random.default_rng(1))
    before_sat = pop.satisfaction[delivery.served].copy()
    before_trust = pop.trust[delivery.served].copy()
    services.experience(pop, delivery, params())
    assert pop.satisfaction[delivery.served].mean() > before_sat.mean() + 0.05
    assert pop.trust[delivery.served].mean() > before_trust.mean() + 0.03


def test_an_offer_split_over_domains_is_the_same_rows_as_one_offer_per_domain():
    one_by_one, split = services.Offers(), services.Offers()
    slots = [3.0, 0.0, 1.5, -1.0, 2.0, 0.5]
    for d, amount in enumerate(slots):
        one_by_one.add("station", np.int64(1), d, amount, 0.6, False)
    split.add_split("station", np.int64(1), slots, 0.6, False)
    assert split == one_by_one
    assert split.domain == [0, 2, 4, 5]  # nothing offered where there are no slots
    assert all(type(c) is int for c in split.community)
