import numpy as np

from sanshe.sim.mechanisms import affairs
from sanshe.sim.population import ELDERLY, D, build_population
from tests.helpers import finals, params

N = 20  # communities of 1,000 residents


def meeting(quorate=True, reach=1.0, attendees=50.0):
    return affairs.Meeting(attendees=np.full(N, attendees), quorate=np.full(N, quorate),
                           needed=np.full(N, 13.0), reach=np.full(N, reach))


def shares(platform, held, spare, seed=0, **changes):
    even = np.full((N, D), 1.0 / D)
    result = affairs.settle(np.full(N, 1000.0), held, np.full((N, D), spare / D), even,
                            platform, params(**changes), np.random.default_rng(seed))
    total = result.total
    return (result.deliberation.sum() / total, result.so_service.sum() / total,
            result.referral.sum() / total)


def test_without_a_platform_nothing_is_deliberated_and_referral_dominates():
    deliberation, _, referral = shares(False, meeting(), 5.0)
    assert deliberation == 0
    assert referral > 0.6


def test_a_quorate_meeting_everyone_can_reach_settles_most_affairs():
    deliberation, so, referral = shares(True, meeting(), 50.0)
    assert deliberation > 0.6 and so > 0.1 and referral < 0.2


def test_sos_settle_service_matters_only_with_time_left_in_their_domain():
    """Each matter takes affair_so_slots of an SO's unused time: with none left SOs settle
    nothing; with plenty they settle every service matter; with little, as many as it
    lasts; time left in a domain where no matter is does not settle one elsewhere."""
    p = params()
    service = 1.0 - p["deliberable_share"]
    none, plenty = shares(False, meeting(), 0.0)[1], shares(False, meeting(), 100.0)[1]
    assert none == 0 and plenty > service - 0.05, (none, plenty)
    per, held = p["affair_so_slots"], meeting(quorate=False)
    enough_for_one = np.full((N, D), per)  # one matter's time in each domain
    one = affairs.settle(np.full(N, 1000.0), held, enough_for_one, np.full((N, D), 1.0 / D),
                         False, dict(p, so_public_affair_share=0.0), np.random.default_rng(2))
    assert one.so_service.max() <= D and one.so_service.sum() > 0
    elsewhere = np.zeros((N, D))
    elsewhere[:, 0] = 100.0  # all the time in a domain nobody's matter is in
    matters = np.zeros((N, D))
    matters[:, 1] = 1.0
    miss = affairs.settle(np.full(N, 1000.0), held, elsewhere, matters, False,
                          dict(p, so_public_affair_share=0.0), np.random.default_rng(2))
    assert miss.so_service.sum() == 0
    public = affairs.settle(np.full(N, 1000.0), held, elsewhere, matters, False, p,
                            np.random.default_rng(2))
    assert public.so_service.sum() > 0  # public matters passed on use any domain's time


def test_sos_settle_the_same_share_at_the_same_time_per_resident():
    """Matters arise per resident and each takes SO time: nine times the residents with nine
    times the spare time settle the same share; with the same time, less."""
    def so_share(residents, spare):
        result = affairs.settle(np.full(N, residents), meeting(quorate=False),
                                np.full((N, D), spare / D), np.full((N, D), 1.0 / D), True,
                                params(), np.random.default_rng(1))
        return result.so_service.sum() / result.total

    small, large = so_share(10_000.0, 10.0), so_share(90_000.0, 90.0)
    thin = so_share(90_000.0, 10.0)
    assert abs(small - large) < 0.03 and thin < small / 3, (small, large, thin)


def test_an_inquorate_meeting_decides_nothing_and_fails_its_attenders():
    result = affairs.settle(np.full(N, 1000.0), meeting(quorate=False), np.zeros((N, D)),
                            np.full((N, D), 1.0 / D), True, params(), np.random.default_rng(0))
    assert result.deliberation.sum() == 0 and result.failed.all() and not result.decided.any()
    empty = affairs.settle(np.full(N, 1000.0), meeting(quorate=False, attendees=0.0),
                           np.zeros((N, D)), np.full((N, D), 1.0 / D), True, params(),
                           np.random.default_rng(0))
    assert not empty.failed.any()  # nobody came, nobody was let down


def test_the_quorum_is_more_than_half_of_the_representatives():
    """过半数出席: 13 of 25 hold the meeting, 12 do not; 10 of 20 do not, 11 do."""
    reps = np.array([25.0, 25.0, 20.0, 20.0])
    present = np.array([13.0, 12.0, 10.0, 11.0])
    quorate = affairs.quorate_meetings(reps, present, params()["quorum_share"])
    assert quorate.tolist() == [True, False, False, True]


def test_only_matters_someone_at_the_meeting_raises_are_deliberated():
    p = {"so_public_affair_share": 0.0}
    found = [shares(True, meeting(reach=r), 0.0, **p)[0] for r in (0.0, 0.3, 0.6, 0.9)]
    assert found[0] == 0 and all(np.diff(found) > 0.1)
    assert abs(found[-1] - 0.9 * params()["deliberable_share"]) < 0.05


def test_reach_counts_attenders_and_their_ties_and_the_quorum_counts_representatives():
    pop = build_population(np.array([500, 500]), np.array([False, False]), params(),
                           np.random.default_rng(0))
    first = np.flatnonzero(~pop.representative[:500])[:10]  # ten ordinary residents
    pop.deliberating[first] = True
    held = affairs.meeting(pop, params()["quorum_share"])
    heard = np.zeros(pop.size, bool)
    heard[first] = True
    heard[pop.ties[first].indices] = True
    assert held.attendees.tolist() == [10.0, 0.0]
    assert held.reach[0] == heard.sum() / 500 and held.reach[1] == 0.0
    assert not held.quorate.any()  # ordinary residents do not make the quorum
    pop.deliberating[np.flatnonzero(pop.representative[:500])] = True
    full = affairs.meeting(pop, params()["quorum_share"])
    assert full.quorate.tolist() == [True, False]
    reps = pop.representative[:500].sum()
    assert full.needed[0] == reps // 2 + 1  # more than half


def test_a_representative_raises_what_her_groups_active_residents_know():
    """邻里事邻里议: a representative at the meeting carries the matters of her own residents'
    group that reach her through those who take part and their neighbours, and nothing of
    the other groups or of residents nobody active knows."""
    pop = build_population(np.array([1000]), np.array([False]), params(),
                           np.random.default_rng(0))
    group = pop.residents_group
    rep = np.flatnonzero(pop.representative & (group == 0))[0]
    pop.deliberating[rep] = True
    alone = affairs.meeting(pop, params()["quorum_share"]).reach[0]
    assert alone == (1 + pop.ties[rep].nnz) / 1000  # nobody active: she and her ties only
    volunteers = np.flatnonzero((group == 0) & ~pop.representative)[:5]
    pop.volunteer[volunteers] = True
    heard = np.zeros(pop.size, bool)
    heard[volunteers] = True
    heard[pop.ties[volunteers].indices] = True
    heard &= group == 0
    heard[rep] = True
    heard[pop.ties[rep].indices] = True
    assert affairs.meeting(pop, params()["quorum_share"]).reach[0] == heard.sum() / 1000
    pop.volunteer[:] = False
    elsewhere = np.flatnonzero(group == 1)[:5]
    pop.volunteer[elsewhere] = True  # active in another group: only their ties in hers gain
    heard[:] = False
    heard[pop.ties[elsewhere].indices] = True
    heard &= group == 0
    heard[rep] = True
    heard[pop.ties[rep].indices] = True
    assert affairs.meeting(pop, params()["quorum_share"]).reach[0] == heard.sum() / 1000


def test_each_attender_counts_less_in_a_fuller_room():
    even, idle = np.full((N, D), 1.0 / D), np.zeros((N, D))
    few = affairs.settle(np.full(N, 1000.0), meeting(attendees=10.0), idle, even, True,
                         params(), np.random.default_rng(0))
    many = affairs.settle(np.full(N, 1000.0), meeting(attendees=130.0), idle, even, True,
                          params(), np.random.default_rng(0))
    assert np.all(few.pivotal == 1.0) and np.allclose(many.pivotal, 0.1)


# ---------------------------------------------------------------- in the model (small district)
def settings(**parameters):
    """Final turnout and deliberation share of deliberation_622 with ``parameters``."""
    overrides = {f"parameters.{k}": v for k, v in parameters.items()}
    turnout = finals("deliberation_622", "deliberation_rate", 3, 36, **overrides)
    share = finals("deliberation_622", "affairs_deliberation_share", 3, 36, **overrides)
    return turnout.mean(), share.mean()


def test_the_deliberation_share_rises_with_turnout():
    """No seat cap and no fixed share: settings where more residents attend deliberate more
    (an engaged district, the constants before the joint calibration: at the calibrated ones
    so few attend that turnout differs by about a point between these settings), up to
    where nearly every matter reaches the meeting (about 15% attending here): past it the
    share can only be what the month's matters allow."""
    engaged = {"threshold_mean": 0.45, "disposition_mean": 0.25}
    found = [settings(deliberation_extra_threshold=x, **engaged) for x in (0.4, 0.3, 0.2)]
    turnout, share = np.array(found).T
    assert np.all(np.diff(turnout) > 0.02) and np.all(np.diff(share) > 0.03), found


def test_a_platform_with_inactive_residents_stays_well_short_of_the_622_split():
    """Thresholds at the top and civic disposition at the bottom of their ranges."""
    turnout, share = settings(threshold_mean=0.65, disposition_mean=0.10)
    assert share < 0.3 and turnout < 0.05, (turnout, share)


# ---------------------------------------------------------------- channels to the agenda
def small_model(scenario, **overrides):
    from sanshe.sim.model import CommunityGovernanceModel
    from tests.helpers import SMALL, STATIONED

    stations = STATIONED if scenario == "full_linkage" else {}  # staff to visit households
    return CommunityGovernanceModel(scenario, seed=3, **{**SMALL, **stations, **overrides})


def test_community_workers_visit_without_a_station_and_nobody_visits_without_staff():
    """民情大走访 needs staff: deliberation_622 funds no posts, but every committee has its
    community workers (社区工作者), whose time alone sets the visits; without them too,
    nobody is visited even when nobody's matter reaches the meeting."""
    model = small_model("deliberation_622")
    ag, p = model.agenda, model.p
    assert not any(c.staff for c in model.committees)
    committee = affairs.committee_time(model)
    assert np.allclose(committee, model.sizes * p["community_workers_per_10k"] / 10_000
                       * p["community_worker_outreach_share"])
    affairs.visited(model, np.zeros(model.pop.size, bool))
    visits = np.bincount(ag.household_community[ag.contact_until >= 0],
                         minlength=model.pop.communities)
    assert np.all(visits == np.floor(committee / p["convening_visit_time"])) and visits.min() > 0
    assert not ag.visit_time.any()  # no station time taken from coordinating volunteers
    assert np.allclose(ag.committee_left, committee - visits * p["convening_visit_time"])
    model = small_model("deliberation_622")
    model.p["community_workers_per_10k"] = 0.0
    line = affairs.visited(model, np.zeros(model.pop.size, bool))
    assert not line.any() and not model.agenda.visit_time.any()


def test_visits_stop_when_the_staff_time_runs_out_and_go_to_the_longest_unvisited():
    model = small_model("full_linkage")
    ag, p = model.agenda, model.p
    capacity = affairs.visit_capacity(model)
    staff = np.array([len(c.staff) for c in model.committees])
    committee = affairs.committee_time(model)
    assert np.all(capacity == np.floor((committee + staff * p["agenda_visit_share"])
                                       / p["convening_visit_time"])) and capacity.max() > 0
    nobody = np.zeros(model.pop.size, bool)
    line = affairs.visited(model, nobody)  # every household is unheard: time binds
    visits = np.bincount(ag.household_community[ag.contact_until >= 0],
                         minlength=model.pop.communities)
    assert np.all(visits == capacity)
    spent = capacity * p["convening_visit_time"]  # the community workers' time goes first
    assert np.allclose(ag.visit_time, np.maximum(spent - committee, 0)) and ag.visit_time.all()
    assert not ag.committee_left.any()
    assert line.sum() == np.isin(ag.household, np.flatnonzero(ag.contact_until >= 0)).sum()
    first = ag.contact_until >= 0
    model.month = 1  # next month the others come first: nobody visited twice in a row
    affairs.visited(model, nobody)
    assert np.all(ag.contact_until[first] == int(p["visit_contact_months"]) - 1)
    assert (ag.contact_until == int(p["visit_contact_months"])).sum() == capacity.sum()


def test_visits_stop_when_no_unheard_household_is_left_and_spare_the_time():
    model = small_model("full_linkage")
    ag, p = model.agenda, model.p
    heard = np.ones(model.pop.size, bool)
    lone = np.flatnonzero(ag.household == ag.household[model.pop.offsets[1]])  # community 1
    heard[lone] = False
    line = affairs.visited(model, heard)
    assert line[lone].all() and line.sum() == lone.size
    committee = affairs.committee_time(model)  # enough for one visit: the station's is spared
    assert committee[1] > p["convening_visit_time"] and not ag.visit_time.any()
    spared = committee.copy()
    spared[1] -= p["convening_visit_time"]
    assert np.allclose(ag.committee_left, spared)


def test_a_visited_household_is_heard_at_the_door_and_later_only_if_willing_to_speak_up():
    """民情联系卡: the month of the visit the worker hears the household's matters; while the
    line holds, a resident passes hers on only when speaking up clears her threshold less
    ``contact_ease``; without a line, nobody is heard this way."""
    model = small_model("deliberation_622")
    pop, p = model.pop, model.p
    line = affairs.visited(model, np.zeros(pop.size, bool))  # this month's visits
    unwilling = np.full(pop.size, -5.0)  # nobody would speak up on her own
    heard = affairs.passing_on(model, line, unwilling)
    assert line.any() and np.array_equal(heard, line)  # at the door: all of them
    model.month = 1  # next month: the line holds, the door is shut
    assert not affairs.passing_on(model, line, unwilling).any()
    margin = np.where(np.arange(pop.size) % 2 == 0, -p["contact_ease"] + 0.01, -5.0)
    later = affairs.passing_on(model, line, margin)
    assert np.array_equal(later, line & (np.arange(pop.size) % 2 == 0)) and later.any()
    nobody = np.zeros(pop.size, bool)
    assert not affairs.passing_on(model, nobody, np.full(pop.size, 5.0)).any()


def test_only_platform_users_post_and_only_those_willing_to_speak_up():
    model = small_model("deliberation_622")
    pop, p = model.pop, model.p
    everyone = np.ones(pop.size, bool)
    pop.threshold[:] = -5.0  # everyone would speak up
    assert not affairs.posting(pop, np.zeros(pop.size, bool), p).any()
    assert np.array_equal(affairs.posting(pop, model.agenda.online, p), model.agenda.online)
    pop.threshold[:] = 5.0  # nobody would
    assert not affairs.posting(pop, everyone, p).any()
    users = model.agenda.online
    elderly = pop.age == ELDERLY
    assert users[elderly].mean() < users[~elderly].mean()  # CNNIC: fewer elderly online


def test_an_online_post_is_settled_only_by_a_held_meeting():
    """The platform raises matters and settles nothing: posts reach a meeting only if its
    quorum of representatives attends."""
    model = small_model("deliberation_622")
    pop, p = model.pop, model.p
    pop.threshold[:] = -5.0
    reach = affairs.agenda_reach(model)
    assert reach[model.agenda.online].all() and not pop.deliberating.any()
    rng = np.random.default_rng(0)
    size = model.sizes.astype(float) * 20  # many affairs: a clear count
    idle, even = np.zeros((pop.communities, D)), np.full((pop.communities, D), 1.0 / D)
    empty = affairs.settle(size, affairs.meeting(pop, p["quorum_share"], reach), idle, even,
                           True, p, rng)
    assert empty.deliberation.sum() == 0
    pop.deliberating[pop.representative] = True
    held = affairs.settle(size, affairs.meeting(pop, p["quorum_share"], reach), idle, even,
                          True, p, rng)
    assert held.decided.all() and held.deliberation.sum() > 0


def test_no_platform_no_posts_and_no_meeting_no_visits():
    model = small_model("full_linkage", **{"policy.linkage.info_platform": False})
    model.pop.threshold[:] = -5.0
    reach = affairs.agenda_reach(model)  # visits only: households, no posts
    line = (model.agenda.contact_until >= model.month)[model.agenda.household]
    assert line.any() and np.array_equal(reach, affairs.in_person(model.pop) | line)
    off = small_model("full_linkage", **{"policy.community.deliberation": False})
    off.pop.threshold[:] = -5.0
    assert np.array_equal(affairs.agenda_reach(off), affairs.in_person(off.pop))
    assert not off.agenda.visit_time.any() and np.all(off.agenda.contact_until == -1)


def test_the_visits_time_is_taken_from_the_stations_volunteers():
    """民情大走访 costs the station's staff time they would give to coordinating volunteers."""
    model = small_model("full_linkage")
    model.step()
    spent = model.agenda.visit_time
    assert np.all(spent > 0)
    station = [place for place in model.volunteering if place.domain == -1]
    assert station
    for place in station:
        staff = len(place.provider.staff)
        assert place.coordinators <= staff - spent[place.community] + 1e-9


def test_representatives_are_counted_once_per_population_and_afresh_for_new_seats():
    """The representatives and the residents' groups are fixed in a run, so they are counted
    once (affairs.seats); a population with other representatives is counted afresh, and a
    group's representative at the meeting voices every resident of her group."""
    pop = small_model("deliberation_622").pop
    assert affairs.seats(pop) is affairs.seats(pop)
    reps, present = affairs.attending_representatives(pop)
    assert reps.sum() == pop.representative.sum()
    assert present.sum() == (pop.representative & pop.deliberating).sum()
    pop.representative = np.zeros(pop.size, bool)
    pop.representative[0] = pop.deliberating[0] = True
    reps, present = affairs.attending_representatives(pop)
    assert reps.sum() == 1 and present.sum() == 1
    voiced = affairs.represented(pop, pop.representative & pop.deliberating)
    assert np.array_equal(voiced, pop.residents_group == pop.residents_group[0])
