import numpy as np

from sanshe.sim.mechanisms import participation
from sanshe.sim.population import build_population, representative_seats
from tests.helpers import params


def setup(n=3000, seed=0):
    pop = build_population(np.array([n]), np.array([False]), params(),
                           np.random.default_rng(seed))
    return pop


def context(pop, mobilisation=0.0, places=1e9, deliberation=False, points=False):
    return participation.Context(mobilisation=np.full(pop.size, mobilisation),
                                 positions=np.array([places]),
                                 deliberation=deliberation, volunteer_points=points, so_room={})


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


def test_volunteering_is_rationed_by_organisers():
    pop = setup()
    p = params(reconsider_rate=1.0)
    rate_after(pop, context(pop, mobilisation=1.0, places=30), p, months=1)
    assert pop.volunteer.sum() == 30


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
    let_down = np.zeros(pop.size, bool)
    let_down[10:20] = True
    participation.update_efficacy(pop, rewarded, p, let_down=let_down)
    assert np.all(pop.efficacy[:10] > 0) and np.all(pop.efficacy[10:20] < 0)
    assert np.all(pop.efficacy[20:] == 0)
    nobody = np.zeros(pop.size, bool)
    participation.update_efficacy(pop, nobody, p, let_down=nobody)
    assert np.all(np.abs(pop.efficacy[:20]) < p["efficacy_gain"])  # and fades without meetings


def test_joiners_never_overfill_an_organisation():
    """Each SO takes at most its free places, however many residents want to join."""
    pop = setup()
    ctx = context(pop, mobilisation=1.0)
    ctx.so_room = {0: (np.array([7, 9]), np.array([3, 5]))}
    participation.decide(pop, ctx, params(reconsider_rate=1.0), np.random.default_rng(2))
    assert (pop.member_of == 7).sum() == 3 and (pop.member_of == 9).sum() == 5
    assert (pop.member_of >= 0).sum() == 8


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
    p = params(reconsider_rate=1.0)
    base = attendance_after(setup(), p)
    trusting = setup()
    trusting.trust[:] = 1.0
    hopeful = setup()
    hopeful.efficacy[:] = 0.2
    assert attendance_after(trusting, p) > base + 0.02
    assert attendance_after(hopeful, p) > base + 0.02


def test_representatives_are_two_to_three_per_group_and_the_most_civic_minded():
    p = params()
    sizes = np.array([200, 1000, 3000])
    pop = build_population(sizes, np.zeros(3, bool), p, np.random.default_rng(0))
    seats = representative_seats(sizes, p)
    groups = np.ceil(sizes / p["household_size"] / p["households_per_group"])
    assert np.all(seats >= 2 * groups) and np.all(seats <= 3 * groups)
    assert pop.per_community(pop.representative.astype(float)).tolist() == seats.tolist()
    for c in range(3):
        here = pop.community == c
        chosen = pop.disposition[here & pop.representative]
        assert chosen.min() >= pop.disposition[here & ~pop.representative].max()


def test_a_decision_in_a_full_room_teaches_each_attender_less():
    """Decelerating production (Oliver, Marwell & Teixeira 1985): the efficacy a decision
    brings is scaled by how many of those present the quorum needed."""
    pop, p = setup(), params()
    rewarded = np.ones(pop.size, bool)
    pivotal = np.where(np.arange(pop.size) < 100, 1.0, 0.1)
    participation.update_efficacy(pop, rewarded, p, pivotal=pivotal)
    assert np.allclose(pop.efficacy[:100], p["efficacy_gain"])
    assert np.allclose(pop.efficacy[100:], 0.1 * p["efficacy_gain"])
