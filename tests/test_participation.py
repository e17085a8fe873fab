import numpy as np

from sanshe.sim.mechanisms import participation, services
from sanshe.sim.model import CommunityGovernanceModel
from sanshe.sim.population import build_population
from tests.helpers import SMALL, params


def setup(n=3000, seed=0, communities=1):
    pop = build_population(np.full(communities, n), np.zeros(communities, bool), params(),
                           np.random.default_rng(seed))
    return pop


def context(pop, mobilisation=0.0, places=1e9, deliberation=False, points=False):
    places = np.broadcast_to(np.asarray(places, float), (pop.communities,)).copy()
    return participation.Context(mobilisation=np.full(pop.size, mobilisation),
                                 positions=places, seats=places.copy(),
                                 deliberation=deliberation, volunteer_points=points,
                                 so_room=participation.Room.empty())


def rate_after(pop, ctx, p, months=6, seed=1):
    rng = np.random.default_rng(seed)
    for _ in range(months):
        participation.decide(pop, ctx, p, rng)
    return pop.volunteer.mean()


def test_participating_neighbours_pull_residents_in():
    p = params(reconsider_rate=1.0)
    alone, crowd = setup(), setup()
    crowd.volunteer[:] = True
    assert rate_after(crowd, context(crowd), p, months=1) > rate_after(
        alone, context(alone), p, months=1) + 0.05


def test_mobilisation_and_points_raise_volunteering():
    p = params()
    base = rate_after(setup(), context(setup()), p)
    pop = setup()
    assert rate_after(pop, context(pop, mobilisation=0.2), p) > base + 0.02
    pop = setup()
    assert rate_after(pop, context(pop, points=True), params(points_effect=0.15)) > base + 0.02


def test_volunteering_is_rationed_by_coordinators():
    pop = setup()
    p = params(reconsider_rate=1.0)
    rate_after(pop, context(pop, mobilisation=1.0, places=30), p, months=1)
    assert pop.volunteer.sum() == 30


def test_the_coordinator_limit_binds_only_where_the_willing_outnumber_it():
    """Two alike communities, one with few coordinators: only there are the willing held
    out, and the other keeps every willing volunteer."""
    pop = setup(n=1000, communities=2)
    p = params(reconsider_rate=1.0)
    bound = participation.decide(pop, context(pop, mobilisation=0.3, places=[20, 1e9]), p,
                                 np.random.default_rng(3))
    volunteers = pop.per_community(pop.volunteer.astype(float))
    assert volunteers[0] == 20 and volunteers[1] > 100
    assert bound.volunteers.tolist() == [True, False]


def test_points_of_zero_effect_change_nothing():
    p = params(points_effect=0.0)
    with_points, without = setup(), setup()
    rate_after(with_points, context(with_points, points=True), p)
    rate_after(without, context(without, points=False), p)
    assert np.array_equal(with_points.volunteer, without.volunteer)


def test_points_act_on_staying_as_well_as_starting():
    """A negative effect (crowding out, Frey & Jegen 2001) makes volunteers quit."""
    kept = {}
    for effect in (-0.3, 0.3):
        pop = setup()
        pop.volunteer[:] = True
        participation.decide(pop, context(pop, points=True), params(
            reconsider_rate=1.0, points_effect=effect), np.random.default_rng(4))
        kept[effect] = pop.volunteer.mean()
    assert kept[0.3] > kept[-0.3] + 0.2


def test_older_residents_take_part_more():
    pop = setup(n=6000)
    rate_after(pop, context(pop), params())
    old = pop.volunteer[pop.age == 2].mean()
    young = pop.volunteer[pop.age == 0].mean()
    assert old > young


def test_efficacy_decays_and_rewards_decisions():
    pop = setup()
    p = params()
    rewarded = np.zeros(pop.size, bool)
    rewarded[:10] = True
    participation.update_efficacy(pop, rewarded, p)
    assert np.all(pop.efficacy[:10] > 0) and np.all(pop.efficacy[10:] == 0)


def room(ids, free, community=0):
    return participation.Room(np.array(ids), np.full(len(ids), community), np.array(free))


def test_joiners_never_overfill_an_organisation():
    """Each SO takes at most its free places, however many residents want to join."""
    pop = setup()
    pop.member_of[:200] = 11  # a full SO whose members ask their neighbours
    ctx = context(pop, mobilisation=1.0)
    ctx.so_room = room([7, 9], [3, 5])
    bound = participation.decide(pop, ctx, params(reconsider_rate=1.0, membership_attachment=1),
                                 np.random.default_rng(2))
    assert (pop.member_of == 7).sum() == 3 and (pop.member_of == 9).sum() == 5
    assert bound.members.tolist() == [True]


def test_only_residents_asked_by_a_member_join():
    """Recruitment through ties: with no member anywhere, nobody joins however willing."""
    pop = setup()
    ctx = context(pop, mobilisation=1.0)
    ctx.so_room = room([7], [50])
    participation.decide(pop, ctx, params(reconsider_rate=1.0), np.random.default_rng(2))
    assert (pop.member_of >= 0).sum() == 0
    pop.member_of[:30] = 7
    participation.decide(pop, ctx, params(reconsider_rate=1.0), np.random.default_rng(2))
    joined = np.flatnonzero(pop.member_of[30:] == 7) + 30
    assert joined.size > 0
    knows = (pop.ties[joined] @ (np.arange(pop.size) < 30).astype(np.float32)) > 0
    assert knows.all()


def test_member_places_in_one_community_go_only_to_its_residents():
    pop = setup(n=1000, communities=2)
    pop.member_of[pop.community == 0] = 5
    pop.member_of[(pop.community == 1) & (np.arange(pop.size) % 4 == 0)] = 6
    ctx = context(pop, mobilisation=1.0)
    ctx.so_room = participation.Room(np.array([5, 6]), np.array([0, 1]), np.array([0, 40]))
    before = (pop.member_of == 6).sum()
    bound = participation.decide(pop, ctx, params(reconsider_rate=1.0,
                                                  membership_attachment=1.0),
                                 np.random.default_rng(5))
    assert (pop.member_of == 6).sum() == before + 40
    assert np.all(pop.community[pop.member_of == 6] == 1)
    assert bound.members.tolist() == [False, True]


def small_model(**overrides):
    return CommunityGovernanceModel("four_priorities", seed=3, **SMALL, **overrides)


def test_an_so_has_room_as_its_activities_occupy_members():
    model = small_model()
    model.run(6)
    sos = [so for so in model.sos if so.is_community]
    model.served_by_so = {so.unique_id: 0.0 for so in sos}
    idle = participation.so_room(model)
    model.served_by_so = {so.unique_id: 30.0 for so in sos}
    busy = participation.so_room(model)
    assert busy.free.sum() > idle.free.sum() + len(sos) * 30
    members = np.bincount(model.pop.member_of[model.pop.member_of >= 0],
                          minlength=max(so.unique_id for so in sos) + 1)
    for so_id, free in zip(idle.so_id, idle.free, strict=True):
        assert members[so_id] + free == model.p["min_members"]


def test_no_coordinator_takes_volunteers_who_cost_more_than_they_give():
    model = small_model()
    model.run(3)
    places = participation.placements(model)
    assert participation.supervisable(places, model.pop.communities, model.p).sum() > 0
    p = dict(model.p, volunteer_supervision=0.06, slots_per_volunteer=0.6)  # 0.72 > 0.6
    assert participation.supervisable(places, model.pop.communities, p).sum() == 0


def test_volunteer_hours_raise_delivery_net_of_coordination():
    """Where needs outrun supply, 50 volunteers coordinated by the station meet about
    50 × (slots_per_volunteer − volunteer_supervision × slots_per_sw) more needs; the
    volunteers the model placed itself are offered at that net rate too."""
    model = small_model()
    model.run(6)
    placed = sum(place.volunteers for place in model.volunteering)
    offers = services.Offers()
    services.offer_volunteer_hours(model, offers, np.ones((model.pop.communities, 6)))
    assert placed > 0
    assert np.isclose(sum(offers.slots), placed * participation.net_slots(model.p), rtol=0.05)
    pop = model.pop
    pop.need_domain[:] = 0  # everyone waits for elder care
    pop.need_expressed[:] = True
    met = {}
    for volunteers in (0.0, 50.0):
        station = participation.Placement(model.committees[0], 0, -1, 1.0, volunteers)
        model.volunteering = [station]
        met[volunteers] = services.monthly(model).served.size
    gain = 50.0 * participation.net_slots(model.p)
    assert abs(met[50.0] - met[0.0] - gain) <= 2


def test_the_diagnostic_reports_communities_where_either_limit_binds():
    model = small_model()
    model.run(4)
    bound = model.limits_bound
    assert np.array_equal(model.capacity_bound, bound.volunteers | bound.members)
    assert model.current["capacity_bound_share"] == model.capacity_bound.mean()
