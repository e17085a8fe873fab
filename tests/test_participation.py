import numpy as np

from sanshe.sim.mechanisms import participation, services
from sanshe.sim.model import CommunityGovernanceModel
from sanshe.sim.population import build_population, representative_seats
from tests.helpers import SMALL, params, with_community_sos


def setup(n=3000, seed=0, communities=1, **changes):
    pop = build_population(np.full(communities, n), np.zeros(communities, bool),
                           params(**changes), np.random.default_rng(seed))
    return pop


def context(pop, mobilisation=0.0, places=1e9, deliberation=False, points=False):
    places = np.broadcast_to(np.asarray(places, float), (pop.communities,)).copy()
    return participation.Context(mobilisation=np.full(pop.size, mobilisation),
                                 positions=places,
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


def test_mobilisation_and_points_raise_registering_and_turning_out():
    p = params(volunteer_availability=1.0)  # always free: only mobilisation and points differ
    base = setup()
    turnout = rate_after(base, context(base), p)
    pop = setup()
    assert rate_after(pop, context(pop, mobilisation=0.2), p) > turnout + 0.01
    assert pop.registered.mean() > base.registered.mean() + 0.02
    pop = setup()
    points = params(points_effect=0.15, volunteer_availability=1.0)
    assert rate_after(pop, context(pop, points=True), points) > turnout + 0.01
    assert pop.registered.mean() > base.registered.mean() + 0.02


def test_only_registered_volunteers_turn_out_and_registration_outlasts_turnout():
    """Registered ≫ active: registration persists between reconsiderations while turnout is
    chosen afresh every month, so most registered volunteers stay home in a given month
    and those who come differ from month to month."""
    pop = setup(n=6000)
    p = params(reconsider_rate=0.0)  # nobody revisits registration
    pop.registered[::3] = True
    registered = pop.registered.copy()
    rng = np.random.default_rng(7)
    ctx = context(pop, mobilisation=0.3)
    months = []
    for _ in range(2):
        participation.decide(pop, ctx, p, rng)
        months.append(pop.volunteer.copy())
    assert np.array_equal(pop.registered, registered)
    for came in months:
        assert not came[~registered].any()
        assert 0 < came.sum() < 0.5 * registered.sum()
    assert (months[0] & ~months[1]).any() and (months[1] & ~months[0]).any()


def test_a_dated_occasion_keeps_registered_volunteers_home():
    """The cost of an occasion acts on turning out, not on registering."""
    out = {}
    for cost in (0.0, 0.4):
        pop = setup()
        rate_after(pop, context(pop, mobilisation=0.3), params(volunteer_occasion_cost=cost))
        out[cost] = (pop.registered.mean(), pop.volunteer.mean())
    assert out[0.4][1] < 0.5 * out[0.0][1]
    assert abs(out[0.4][0] - out[0.0][0]) < 0.3 * out[0.0][0]


def test_a_willing_volunteer_turns_out_only_in_months_she_is_free():
    """Month-to-month availability: a registered volunteer who clears the occasion's cost
    every month comes in about a share ``volunteer_availability`` of the months, one
    resident's months scattering like independent draws (binomial), not as regulars."""
    pop = setup(n=4000)
    pop.registered[:] = True
    p = params(reconsider_rate=0.0, volunteer_availability=0.4)
    ctx, rng = context(pop), np.random.default_rng(11)
    months = []
    for _ in range(12):
        participation.turn_out(pop, ctx, np.full(pop.size, 5.0), p, rng)  # all willing
        months.append(pop.volunteer.copy())
    came = np.array(months)
    assert abs(came.mean() - 0.4) < 0.01
    counts = came.sum(axis=0)
    assert abs(counts.var() - 12 * 0.4 * 0.6) < 0.3  # binomial spread: no lasting regulars
    assert abs(np.corrcoef(came[:-1].ravel(), came[1:].ravel())[0, 1]) < 0.03


def test_an_unavailable_volunteer_never_turns_out_and_availability_ignores_pull():
    """Only the free among the willing come, and who is free does not depend on how
    strongly each is pulled: the keen and the barely willing are free equally often."""
    willing = np.random.default_rng(2).random(20000) < 0.5
    kept = willing.copy()
    participation.available(kept, 0.3, np.random.default_rng(5))
    free = np.zeros_like(willing)  # one draw per willing resident, in their order
    free[willing] = np.random.default_rng(5).random(willing.sum(), dtype=np.float32) < 0.3
    assert np.array_equal(kept, willing & free)
    pop = setup(n=20000)
    pop.registered[:] = True
    pull = np.where(np.arange(pop.size) % 2 == 0, 0.4, 5.0)  # barely willing vs keen
    p = params(volunteer_availability=0.3, volunteer_occasion_cost=0.0, choice_noise=0.02)
    participation.turn_out(pop, context(pop), pull, p, np.random.default_rng(6))
    barely, keen = pop.volunteer[::2].mean(), pop.volunteer[1::2].mean()
    assert abs(barely - 0.3) < 0.015 and abs(keen - 0.3) < 0.015


def test_availability_leaves_registering_alone_and_always_free_changes_nothing():
    """Registering is decided before the month's availability; with everyone always free
    (share 1) the rule draws nothing, so turnout is the willing, as without it."""
    out = {}
    for share in (0.5, 1.0):
        pop = setup()
        participation.decide(pop, context(pop, mobilisation=0.3),
                             params(reconsider_rate=1.0, volunteer_availability=share),
                             np.random.default_rng(4))
        out[share] = pop.registered.copy(), pop.volunteer.copy()
    assert np.array_equal(out[0.5][0], out[1.0][0])
    assert out[0.5][1].sum() < 0.6 * out[1.0][1].sum() and not (out[0.5][1] & ~out[1.0][1]).any()
    rng = np.random.default_rng(9)
    state = rng.bit_generator.state
    willing = np.ones(100, bool)
    participation.available(willing, 1.0, rng)
    participation.available(np.zeros(100, bool), 0.5, rng)
    assert willing.all() and rng.bit_generator.state == state


def test_without_coordinators_nobody_turns_out_but_registration_stays():
    """No coordinator, no occasion: registered volunteers stay registered and stay home,
    and the limit is reported where someone would have come."""
    pop = setup(n=1000, communities=2)
    pop.registered[:] = True
    bound = participation.decide(pop, context(pop, mobilisation=0.5, places=[0, 1e9]),
                                 params(reconsider_rate=0.0), np.random.default_rng(3))
    came = pop.per_community(pop.volunteer.astype(float))
    assert came[0] == 0 and came[1] > 50
    assert pop.registered.all()
    assert bound.tolist() == [True, False]


def test_volunteering_is_rationed_by_coordinators():
    pop = setup()
    p = params(reconsider_rate=1.0)
    rate_after(pop, context(pop, mobilisation=1.0, places=30), p, months=1)
    assert pop.volunteer.sum() == 30
    assert pop.registered.sum() > 300  # those sent home stay registered


def test_the_coordinator_limit_binds_only_where_the_willing_outnumber_it():
    """Two alike communities, one with few coordinators: only there are the willing held
    out, and the other keeps every volunteer who turned out."""
    pop = setup(n=1000, communities=2)
    p = params(reconsider_rate=1.0)
    bound = participation.decide(pop, context(pop, mobilisation=0.5, places=[20, 1e9]), p,
                                 np.random.default_rng(3))
    volunteers = pop.per_community(pop.volunteer.astype(float))
    assert volunteers[0] == 20 and volunteers[1] > 50
    assert bound.tolist() == [True, False]


def test_points_of_zero_effect_change_nothing():
    p = params(points_effect=0.0)
    with_points, without = setup(), setup()
    rate_after(with_points, context(with_points, points=True), p)
    rate_after(without, context(without, points=False), p)
    assert np.array_equal(with_points.volunteer, without.volunteer)
    assert np.array_equal(with_points.registered, without.registered)


def test_points_act_on_staying_as_well_as_starting():
    """A negative effect (crowding out, Frey & Jegen 2001) makes volunteers quit."""
    kept = {}
    for effect in (-0.3, 0.3):
        pop = setup()
        pop.registered[:] = True
        pop.volunteer[:] = True  # and all came last month
        participation.decide(pop, context(pop, points=True), params(
            reconsider_rate=1.0, points_effect=effect), np.random.default_rng(4))
        kept[effect] = pop.registered.mean()
    assert kept[0.3] > kept[-0.3] + 0.2


def test_points_act_on_turning_out_with_their_sign():
    """Points earned by the hour (积分) pull registered volunteers out, or keep them home
    where they crowd out motivation; registration held fixed."""
    came = {}
    for effect in (-0.05, 0.0, 0.15):
        pop = setup()
        pop.registered[:] = True
        rate_after(pop, context(pop, mobilisation=0.3, points=True),
                   params(reconsider_rate=0.0, points_effect=effect), months=1, seed=5)
        came[effect] = pop.volunteer.mean()
    assert came[-0.05] < came[0.0] < came[0.15]


def test_older_residents_take_part_more():
    pop = setup(n=6000)
    rate_after(pop, context(pop), params())
    old = pop.registered[pop.age == 2].mean()
    young = pop.registered[pop.age == 0].mean()
    assert old > young


def test_efficacy_decays_and_rewards_decisions():
    pop = setup()
    p = params()
    rewarded = np.zeros(pop.size, bool)
    rewarded[:10] = True
    let_down = np.zeros(pop.size, bool)
    let_down[10:20] = True
    participation.update_efficacy(pop, rewarded, p, let_down=let_down)
    assert np.all(pop.efficacy[:10] > 0) and np.all(pop.efficacy[10:20] < 0)
    assert np.all(pop.efficacy[20:] == 0)
    nobody = np.zeros(pop.size, bool)
    participation.update_efficacy(pop, nobody, p, let_down=nobody)
    assert np.all(np.abs(pop.efficacy[:20]) < p["efficacy_gain"])  # and fades without meetings


def room(ids, occupied, members, community=0):
    return participation.Room(np.array(ids), np.full(len(ids), community),
                              np.array(occupied, float), np.array(members))


def test_an_idle_organisation_recruits_fewer_and_loses_more_than_a_busy_one():
    """Nobody is turned away, but a recruit weighs how little a group would give her to do
    and a member how little it gives her: the same residents and draws, only the SO's
    activity (members its services occupy) differs."""
    joined, stayed = {}, {}
    for occupied in (5.0, 400.0):
        pop = setup()
        pop.member_of[:200] = 7  # members who ask their neighbours
        ctx = context(pop, mobilisation=0.3)
        ctx.so_room = room([7], [occupied], [200])
        participation.decide(pop, ctx, params(reconsider_rate=1.0), np.random.default_rng(2))
        joined[occupied] = int((pop.member_of[200:] == 7).sum())
        stayed[occupied] = int((pop.member_of[:200] == 7).sum())
    assert joined[400.0] > joined[5.0] + 20
    assert stayed[400.0] > stayed[5.0] + 20


def test_without_the_cost_of_idleness_every_willing_recruit_joins():
    """No member places: with ``idle_member_cost`` 0 the same recruits join an idle SO as a
    busy one, however many they are."""
    counts = []
    for occupied in (5.0, 400.0):
        pop = setup()
        pop.member_of[:200] = 7
        ctx = context(pop, mobilisation=1.0)
        ctx.so_room = room([7], [occupied], [200])
        participation.decide(pop, ctx, params(reconsider_rate=1.0, idle_member_cost=0.0),
                             np.random.default_rng(2))
        counts.append(int((pop.member_of == 7).sum()))
    assert counts[0] == counts[1] > 400


def test_only_residents_asked_by_a_member_join():
    """Recruitment through ties: with no member anywhere, nobody joins however willing."""
    pop = setup()
    ctx = context(pop, mobilisation=1.0)
    ctx.so_room = room([7], [50.0], [0])
    participation.decide(pop, ctx, params(reconsider_rate=1.0), np.random.default_rng(2))
    assert (pop.member_of >= 0).sum() == 0
    pop.member_of[:30] = 7
    ctx.so_room = room([7], [50.0], [30])
    participation.decide(pop, ctx, params(reconsider_rate=1.0), np.random.default_rng(2))
    joined = np.flatnonzero(pop.member_of[30:] == 7) + 30
    assert joined.size > 0
    knows = (pop.ties[joined] @ (np.arange(pop.size) < 30).astype(np.float32)) > 0
    assert knows.all()


def test_recruits_join_an_so_of_their_own_community_in_proportion_to_its_members():
    pop = setup(n=1000, communities=2)
    pop.member_of[(pop.community == 0) & (np.arange(pop.size) % 5 == 0)] = 5
    pop.member_of[(pop.community == 1) & (np.arange(pop.size) % 5 == 0)] = 6
    pop.member_of[(pop.community == 1) & (np.arange(pop.size) % 5 == 1)] = 8
    ctx = context(pop, mobilisation=1.0)
    ctx.so_room = participation.Room(np.array([5, 6, 8]), np.array([0, 1, 1]),
                                     np.full(3, 1e4), np.array([200, 200, 200]))
    before = np.bincount(pop.member_of[pop.member_of >= 0], minlength=9)
    participation.decide(pop, ctx, params(reconsider_rate=1.0, membership_attachment=1.0),
                         np.random.default_rng(5))
    after = np.bincount(pop.member_of[pop.member_of >= 0], minlength=9)
    assert np.all(pop.community[pop.member_of == 5] == 0)
    assert np.all(pop.community[np.isin(pop.member_of, [6, 8])] == 1)
    gained = after - before
    assert gained[5] > 0 and gained[6] > 0 and gained[8] > 0
    assert 0.6 < gained[6] / gained[8] < 1.6  # equal members: about equal recruits


def test_recruiters_are_drawn_in_proportion_to_members_and_none_where_no_so_has_any():
    r = participation.Room(np.array([3, 4, 9]), np.array([0, 0, 1]), np.zeros(3),
                           np.array([30, 10, 0]))
    picks = r.recruiters(np.zeros(20_000, np.int64), np.random.default_rng(0))
    assert set(picks.tolist()) == {3, 4}
    assert abs((picks == 3).mean() - 0.75) < 0.02
    assert np.all(r.recruiters(np.array([1, 2]), np.random.default_rng(0)) == -1)


def test_idle_share_is_the_members_activities_do_not_occupy():
    r = participation.Room(np.array([3, 4]), np.array([0, 0]), np.array([5.0, 30.0]),
                           np.array([20, 10]))
    assert np.allclose(r.idle(np.array([3, 4, 99])), [0.75, 0.0, 0.0])
    assert np.allclose(r.idle(np.array([3])), 1 - 5 / 20)
    assert np.allclose(r.idle(np.array([3]), joining=True), 1 - 5 / 21)


def test_members_an_so_leaves_idle_belong_but_do_not_take_part():
    """An SO whose activities occupy 50 of its 400 members: about an eighth of them take
    part this month (and show it to their ties), all still belong; a busy SO's members all
    take part; members of an SO founded since the month's room count as busy."""
    pop = setup(n=3000)
    pop.member_of[:400] = 7
    pop.member_of[400:500] = 8
    pop.member_of[500:520] = 9  # not in the room: founded this month
    r = room([7, 8], [50.0, 500.0], [400, 100])
    participation.occupy_members(pop, r, np.random.default_rng(4))
    taking_part = pop.participating
    assert abs(taking_part[:400].mean() - 50 / 400) < 0.05
    assert taking_part[400:520].all() and not taking_part[520:].any()
    assert pop.engaged[:520].all()  # idle members are still committed to their group
    pop.member_of[:400] = -1  # leaving the SO ends taking part through it
    assert not pop.participating[:400].any()


def test_idle_members_do_not_pull_their_ties_into_taking_part():
    """The peer term reads ties' taking part: the same members and draws, but an idle SO's
    members show their neighbours nothing, so fewer of them register."""
    registered = {}
    for occupied in (5.0, 1000.0):
        pop = setup()
        pop.member_of[:1000] = 7
        participation.occupy_members(pop, room([7], [occupied], [1000]),
                                     np.random.default_rng(1))
        ctx = context(pop)
        ctx.so_room = room([7], [occupied], [1000])
        participation.decide(pop, ctx, params(reconsider_rate=1.0, peer_weight=1.0),
                             np.random.default_rng(2))
        registered[occupied] = int(pop.registered[1000:].sum())
    assert registered[1000.0] > registered[5.0] + 20


def small_model(**overrides):
    """The small district with two community SOs in each community (given: its communities
    of 200 are below the status quo's seeding per resident)."""
    return with_community_sos(CommunityGovernanceModel("four_priorities", seed=3, **SMALL,
                                                       **overrides))


def test_an_so_s_activities_occupy_members_as_it_serves():
    model = small_model()
    model.run(6)
    sos = [so for so in model.sos if so.is_community]
    model.served_by_so = {so.unique_id: 0.0 for so in sos}
    idle = participation.so_room(model)
    model.served_by_so = {so.unique_id: 30.0 for so in sos}
    busy = participation.so_room(model)
    assert np.all(idle.occupied == model.p["min_members"])
    assert np.allclose(busy.occupied - idle.occupied, 30.0 / model.p["slots_per_volunteer"])
    members = np.bincount(model.pop.member_of[model.pop.member_of >= 0],
                          minlength=max(so.unique_id for so in sos) + 1)
    assert np.array_equal(idle.members, members[idle.so_id])


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


def test_coordinators_time_binds_in_some_community_months_not_all():
    """A real limit (MODEL.md): in the status quo, coordinators' time sends volunteers home
    in some communities and months and not in others — never the outcome everywhere
    (communities of 1,000: those of 200 start with no community SO, so only the station's
    coordinators take volunteers)."""
    model = CommunityGovernanceModel("baseline", seed=1, **{
        **SMALL, "district.residents_per_community": 1000})
    bound = []
    for month in range(30):
        model.step()
        if month >= 12:
            bound.append(model.capacity_bound.copy())
    share = np.mean(bound)
    assert 0.05 < share < 0.95
    registered, came = model.pop.registered, model.pop.volunteer
    assert not came[~registered].any() and came.sum() < registered.sum()


def test_the_diagnostic_reports_communities_where_coordinators_held_volunteers_out():
    model = small_model()
    model.run(4)
    assert model.current["capacity_bound_share"] == model.capacity_bound.mean()



def attendance_after(pop, p, months=1, mobilisation=0.0, seed=1):
    rng = np.random.default_rng(seed)
    ctx = context(pop, mobilisation=mobilisation, deliberation=True)
    for _ in range(months):
        participation.decide(pop, ctx, p, rng)
    return pop.deliberating.mean()


def test_residents_attend_more_when_their_neighbours_attended_last_month():
    """Granovetter's threshold: the same residents, the same draws, only last month's
    attendance of their ties differs."""
    p = params(reconsider_rate=1.0)
    empty, crowded = setup(), setup()
    crowded.deliberating[:] = True
    assert attendance_after(crowded, p) > attendance_after(empty, p) + 0.05


def test_representatives_come_when_fellow_representatives_came():
    """Critical mass: a representative looks at how many fellow representatives attended
    (their majority decides whether the meeting is held), not at her neighbours."""
    p = params(reconsider_rate=1.0)
    alone, together = setup(), setup()
    together.deliberating[together.representative] = True
    alone.deliberating[~alone.representative] = True  # neighbours came, representatives not
    attendance_after(alone, p)
    attendance_after(together, p)
    reps = alone.representative
    assert together.deliberating[reps].mean() > alone.deliberating[reps].mean() + 0.1


def test_free_riders_attend_regardless_of_their_neighbours():
    p = params(reconsider_rate=1.0)
    empty, crowded = setup(), setup()
    crowded.deliberating[:] = True
    attendance_after(empty, p)
    attendance_after(crowded, p)
    riders = ~empty.conditional
    assert np.array_equal(empty.deliberating[riders], crowded.deliberating[riders])


def test_nobody_willing_is_turned_away_from_a_meeting():
    """No seat cap: when residents are strongly mobilised nearly all of them attend."""
    pop = setup()
    assert attendance_after(pop, params(reconsider_rate=1.0), mobilisation=2.0) > 0.95


def test_without_a_platform_nobody_attends():
    pop = setup()
    pop.deliberating[:] = True
    participation.decide(pop, context(pop, mobilisation=2.0), params(reconsider_rate=1.0),
                         np.random.default_rng(0))
    assert not pop.deliberating.any()


def test_trust_and_efficacy_raise_attendance():
    # an engaged district (the constants before the joint calibration), so that the rule's
    # effect is not hidden by the calibrated few who attend at all
    engaged = {"threshold_mean": 0.45, "disposition_mean": 0.25}
    p = params(reconsider_rate=1.0, **engaged)
    base = attendance_after(setup(**engaged), p)
    trusting = setup(**engaged)
    trusting.trust[:] = 1.0
    hopeful = setup(**engaged)
    hopeful.efficacy[:] = 0.2
    assert attendance_after(trusting, p) > base + 0.02
    assert attendance_after(hopeful, p) > base + 0.02


def test_representatives_are_two_to_three_per_group_and_the_most_civic_minded():
    """Each residents' group (居民小组) elects two or three of its own, its most disposed."""
    p = params()
    sizes = np.array([200, 1000, 3000])
    pop = build_population(sizes, np.zeros(3, bool), p, np.random.default_rng(0))
    seats = representative_seats(sizes, p)
    groups = np.ceil(sizes / p["household_size"] / p["households_per_group"])
    assert np.all(seats >= 2 * groups) and np.all(seats <= 3 * groups)
    assert pop.per_community(pop.representative.astype(float)).tolist() == seats.tolist()
    group = pop.residents_group
    per_group = np.bincount(group, weights=pop.representative.astype(float))
    assert set(per_group.tolist()) == {2.0, 3.0} and per_group.size == groups.sum()
    assert np.all(np.diff(group) >= 0)  # a community's groups are blocks of its residents
    assert np.all(np.bincount(group, weights=pop.community) / np.bincount(group)
                  == pop.community[np.searchsorted(group, np.arange(per_group.size))])
    for g in range(per_group.size):
        here = group == g
        chosen = pop.disposition[here & pop.representative]
        assert chosen.min() >= pop.disposition[here & ~pop.representative].max()


# ---------------------------------------------------------------- convening (召集)
def convening_model(staff=(1, 1, 0, 1, 1), **overrides):
    """deliberation_622 (platform on) on the small district, with given station staff."""
    model = CommunityGovernanceModel("deliberation_622", seed=3, **SMALL, **overrides)
    for committee, k in zip(model.committees, staff, strict=True):
        committee.staff = [object()] * k
    return model


def test_staff_visit_absent_representatives_as_many_as_the_quorum_lacks_keenest_first():
    model = convening_model()
    pop = model.pop
    reps = np.flatnonzero(pop.representative & (pop.community == 0))
    pop.deliberating[reps[:3]] = True  # three came, the quorum needs more
    visited, spent = participation.convene(model)
    needed = np.floor(model.p["quorum_share"] * reps.size) + 1
    assert visited.sum(where=pop.community == 0) == needed - 3
    assert not visited[reps[:3]].any() and not visited[~pop.representative].any()
    absent = reps[3:]
    keenest = np.sort(pop.disposition[absent])[::-1][: int(needed - 3)]
    assert np.allclose(np.sort(pop.disposition[visited & (pop.community == 0)])[::-1], keenest)
    assert not visited[pop.community == 2].any()  # no staff, nobody convenes
    assert spent[0] == (needed - 3) * model.p["convening_visit_time"] and spent[2] == 0.0
    pop.deliberating[pop.representative] = True  # a quorate meeting: no visits
    assert not participation.convene(model)[0].any()


def test_convening_is_limited_by_staff_time_and_needs_a_platform():
    model = convening_model()
    model.p["convening_visit_time"] = 0.5  # one worker's month holds two visits
    assert participation.convene(model)[0].sum(where=model.pop.community == 0) == 2
    off = CommunityGovernanceModel("baseline", seed=3, **SMALL)
    for committee in off.committees:
        committee.staff = [object()]
    assert not participation.convene(off)[0].any()


def test_community_workers_convene_first_and_the_station_spends_only_the_rest():
    """The committee convenes (art. 9): its community workers' time left after this
    month's visits goes first, so a committee without a station convenes too, and only
    what it could not cover is taken from the station's coordination."""
    model = convening_model()
    pop, p = model.pop, model.p
    reps = np.flatnonzero(pop.representative & (pop.community == 2))  # no station staff
    needed = np.floor(p["quorum_share"] * reps.size) + 1
    model.agenda.committee_left = np.full(pop.communities, 2 * p["convening_visit_time"])
    visited, spent = participation.convene(model)
    assert visited.sum(where=pop.community == 2) == min(2, needed) and spent[2] == 0.0
    # community 0 has a post: past the committee's two visits the station pays the rest
    assert visited.sum(where=pop.community == 0) == needed
    assert np.isclose(spent[0], (needed - 2) * p["convening_visit_time"])


def test_convening_takes_time_from_coordinating_volunteers():
    model = convening_model()
    places = participation.placements(model)
    before = {id(x): x.coordinators for x in places}
    spent = np.array([0.1, 0.0, 0.0, 2.0, 0.0])
    after = participation.after_convening(places, spent)
    station = [x for x in after if x.domain == -1]
    assert {x.community for x in station} == {0, 1, 4}  # the one at 3 spent all its time
    assert all(x.coordinators == before[id(x)] - spent[x.community] for x in station)
    assert all(x.coordinators == before[id(x)] for x in after if x.domain != -1)


def test_a_visited_representative_is_likelier_to_come():
    """The same residents and draws; only the visit differs."""
    p = params(reconsider_rate=0.0)  # nobody reconsiders unless visited
    pop = setup()
    ctx = context(pop, deliberation=True)
    ctx.convened = pop.representative.copy()
    participation.decide(pop, ctx, p, np.random.default_rng(1))
    asked = pop.deliberating[pop.representative].mean()
    quiet = setup()
    participation.decide(quiet, context(quiet, deliberation=True), p, np.random.default_rng(1))
    assert not quiet.deliberating.any() and asked > 0.05
    zero = setup()
    ctx = context(zero, deliberation=True)
    ctx.convened = zero.representative.copy()
    participation.decide(zero, ctx, params(reconsider_rate=0.0, convening_pull=0.0),
                         np.random.default_rng(1))
    assert asked > zero.deliberating[zero.representative].mean() + 0.03


def test_a_decision_in_a_full_room_teaches_each_attender_less():
    """Decelerating production (Oliver, Marwell & Teixeira 1985): the efficacy a decision
    brings is scaled by how many of those present the quorum needed."""
    pop, p = setup(), params()
    rewarded = np.ones(pop.size, bool)
    pivotal = np.where(np.arange(pop.size) < 100, 1.0, 0.1)
    participation.update_efficacy(pop, rewarded, p, pivotal=pivotal)
    assert np.allclose(pop.efficacy[:100], p["efficacy_gain"])
    assert np.allclose(pop.efficacy[100:], 0.1 * p["efficacy_gain"])


def test_choice_noise_is_single_precision_with_the_parameter_sd():
    """Shocks are drawn in single precision, as many as asked (one per chooser), with sd
    ``choice_noise``."""
    p = params(choice_noise=0.2)
    noise = participation.choice_noise(np.random.default_rng(0), 200_000, p)
    assert noise.dtype == np.float32 and noise.size == 200_000
    assert abs(noise.mean()) < 0.002 and abs(noise.std() - 0.2) < 0.002


def test_turn_out_shocks_are_drawn_only_for_registered_volunteers_in_single_precision():
    """Only registered volunteers choose whether to turn out, so only they are drawn a
    shock: one float32 standard normal each, times ``choice_noise``, in index order; the
    stream advances by exactly that and the unregistered cost it nothing."""
    pop = setup(n=5000)
    pop.registered[::4] = True
    p = params(volunteer_availability=1.0, volunteer_occasion_cost=0.3, choice_noise=0.5)
    pull = np.random.default_rng(3).normal(0.3, 0.5, pop.size)
    rng, reference = np.random.default_rng(8), np.random.default_rng(8)
    participation.turn_out(pop, context(pop), pull, p, rng)
    who = np.flatnonzero(pop.registered)
    shock = reference.standard_normal(who.size, dtype=np.float32)
    assert shock.dtype == np.float32
    expected = np.zeros(pop.size, bool)
    expected[who] = pull[who] - 0.3 + shock * np.float32(0.5) > 0
    assert np.array_equal(pop.volunteer, expected)
    assert 0 < expected.sum() < who.size
    assert rng.bit_generator.state == reference.bit_generator.state


def test_availability_is_drawn_only_for_the_willing_in_single_precision():
    """One float32 uniform per willing resident, none for the others."""
    willing = np.zeros(1000, bool)
    willing[::10] = True
    rng, reference = np.random.default_rng(4), np.random.default_rng(4)
    participation.available(willing, 0.5, rng)
    reference.random(100, dtype=np.float32)
    assert rng.bit_generator.state == reference.bit_generator.state


def test_members_of_an_idle_so_volunteer_through_the_coordinators():
    """A member's hours count in her SO's output as far as its activities occupy her; the
    rest of the members who turned out serve through the coordinators like non-members."""
    pop = setup(n=100)
    pop.volunteer[:] = False
    pop.volunteer[:30] = True
    pop.member_of[:10] = 7  # a busy SO: its activities occupy all 10
    pop.member_of[10:30] = 8  # an idle one: 5 of its 20 members occupied
    r = room([7, 8], [10.0, 5.0], [10, 20])
    assert participation.free_volunteers(pop, r).tolist() == [20 * 0.75]
    pop.member_of[:30] = -1
    assert participation.free_volunteers(pop, r).tolist() == [30]


def test_volunteer_points_are_redeemed_from_the_committees_own_services():
    """积分银行 costs money: next month each committee redeems points_value for every
    volunteer who turned out, from the part of its fund it spends itself (fewer services
    of its own), paying on top only what that part does not cover."""
    from unittest import mock

    from sanshe.sim.mechanisms import finance, group_orgs

    model = CommunityGovernanceModel("full_linkage", seed=4, **SMALL)
    model.run(2)
    model.pop.volunteer[:] = False
    model.pop.volunteer[model.pop.offsets[1]:model.pop.offsets[1] + 7] = True  # 7 out in one
    participation.earn_points(model, True)
    due = np.array([c.points_due for c in model.committees])
    assert np.array_equal(due, [0, 7 * model.p["points_value"], 0, 0, 0])
    participation.earn_points(model, False)
    assert not any(c.points_due for c in model.committees)
    price, points = 100.0, due.max()
    for c in model.committees:  # one committee owes points; nobody has staff
        c.staff, c.points_due, c.admin_budget = [], 0.0, 0.0
    committee = model.committees[0]
    committee.points_due = points
    for budget, own, paid in ((3 * points, 2 * points, 3 * points),  # the fund covers them
                              (points / 2, 0.0, points)):  # it does not: paid on top
        committee.admin_budget = budget
        served = committee.offer_services(model.p, price)[0][2]
        assert np.isclose(served, own / price * model.p["admin_efficiency"])
        model.gov_month = 0.0
        with (mock.patch.object(group_orgs, "pay_own_projects"),
              mock.patch.object(finance, "programme_costs", return_value=0.0)):
            finance.public_spending(model)
        assert np.isclose(model.gov_month, paid)
