import numpy as np

from sanshe.sim.mechanisms import services
from sanshe.sim.model import CommunityGovernanceModel
from sanshe.sim.population import build_population
from tests.helpers import SMALL, params, with_community_sos


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


def test_so_spare_is_what_sos_offered_and_nobody_used_by_community_and_domain():
    """Only SOs' offers count; an SO sharing a full pool has nothing spare; an SO with no
    needs to meet keeps all its time; a pool's stochastic rounding never makes it negative."""
    pop = setup()
    offers = services.Offers()
    offers.add("so", 0, 0, 300.0, 0.8, True)  # 200 expressed needs: a third of its time left
    offers.add("committee", 0, 0, 300.0, 0.8, False)
    offers.add("idle so", 1, 2, 40.0, 0.8, True)  # no needs in community 1
    offers.add("busy so", 0, 1, 0.4, 0.8, True)  # a fraction of a slot, no needs either
    delivery = services.deliver(pop, offers, np.random.default_rng(1))
    spare = delivery.so_spare
    assert spare.shape == (2, services.D)
    assert np.isclose(spare[0, 0], 300.0 - 100.0) and np.isclose(spare[1, 2], 40.0)
    assert np.isclose(spare[0, 1], 0.4) and spare.min() >= 0
    assert np.isclose(spare.sum(), 200.0 + 40.0 + 0.4)


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


def test_offers_spread_over_domains_are_the_same_rows_as_one_offer_per_domain():
    one_by_one, spread = services.Offers(), services.Offers()
    slots = np.array([[3.0, 0.0, 1.5, -1.0, 2.0, 0.5], [0.0, 4.0, 0.0, 0.0, 0.0, 1.0]])
    providers, where = ["station", "so"], np.array([1, 0])
    quality, by_so = [0.6, 0.7], [False, True]
    for i, provider in enumerate(providers):
        for d, amount in enumerate(slots[i].tolist()):
            one_by_one.add(provider, np.int64(where[i]), d, amount, quality[i], by_so[i])
    spread.add_spread(providers, where, slots, quality, by_so)
    assert spread == one_by_one
    assert spread.domain == [0, 2, 4, 5, 1, 5]  # nothing offered where there are no slots
    assert all(type(c) is int for c in spread.community)
    assert all(type(q) is float for q in spread.quality)


def test_volunteers_of_an_so_serve_at_the_quality_its_own_offers_were_made_at():
    """An SO rates its services once a month: offering them returns that quality, and the
    volunteers it coordinates are offered at it (not rated again)."""
    model = with_community_sos(CommunityGovernanceModel("full_linkage", seed=3, **SMALL)).run(8)
    expressed = np.ones((model.pop.communities, 6))
    quality_of = {}
    for so in model.sos:
        offers = services.Offers()
        quality_of[so.unique_id] = so.offer_services(offers, expressed, model.p)
        assert quality_of[so.unique_id] == so.quality(model.p)
        assert all(q == quality_of[so.unique_id] for q in offers.quality)
    rated = {uid: 0.5 + 0.001 * k for k, uid in enumerate(quality_of)}  # marks, not ratings
    offers = services.Offers()
    services.offer_volunteer_hours(model, offers, expressed, rated)
    by_so = [(prov[0].unique_id, q) for prov, q in zip(offers.provider, offers.quality,
                                                       strict=True) if isinstance(prov, tuple)]
    assert by_so and all(q == rated[uid] for uid, q in by_so)


def test_credit_adds_each_sos_rows_in_the_order_offered():
    """An SO's year is credited row after row in the order of the offers (floating-point
    sums depend on it), its contract's record with the contract's rows, and volunteers'
    rows charge their placement's contract without entering its record (nor the needs met
    by purchased services)."""
    from types import SimpleNamespace

    def so(uid, community):
        return SimpleNamespace(unique_id=uid, is_community=community, year_served=1e16,
                               year_quality=0.0)

    def contract():
        return SimpleNamespace(units_charged=0.0, served=0.0, served_spec=0.0,
                               quality_sum=0.0, buyer="purchase")

    a, b, k, placed = so(1, True), so(2, False), contract(), contract()
    offers = services.Offers()
    rows = [((a, None, True, None), 1.0), ((b, k, True, k), 3.0), ((a, None, True, placed), 1.0),
            ("committee", 5.0), ((b, k, False, k), 2.5), ((a, None, True, None), 1.0)]
    for provider, _ in rows:
        offers.add(provider, 0, 0, 10.0, 0.5, isinstance(provider, tuple))
    delivery = SimpleNamespace(offer_served=np.array([used for _, used in rows]))
    model = SimpleNamespace(community_so_served=0.0, served_by_so=None, purchase_served=0.0)
    services._credit(model, offers, delivery)
    assert a.year_served == ((1e16 + 1.0) + 1.0) + 1.0 != 1e16 + 3.0
    assert b.year_served == (1e16 + 3.0) + 2.5 and b.year_quality == 1.5 + 1.25
    assert model.served_by_so == {1: 3.0, 2: 5.5} and model.community_so_served == 3.0
    assert (k.served, k.served_spec, k.units_charged, k.quality_sum) == (5.5, 3.0, 5.5, 2.75)
    assert (placed.units_charged, placed.served) == (1.0, 0.0)
    assert model.purchase_served == 5.5  # k's record; the placement's volunteers are not in it


def test_a_stations_mean_skill_is_numpys_mean_to_the_last_bit():
    """The station's volunteers are rated at their workers' mean skill without building an
    array for a few workers: the same double as ``np.mean`` for any number of them (NumPy
    adds fewer than eight one after another, and pairwise from eight on)."""
    rng = np.random.default_rng(7)
    for n in range(1, 20):
        for _ in range(200):
            skills = rng.random(n).tolist()
            assert services._mean(skills) == float(np.mean(skills))
