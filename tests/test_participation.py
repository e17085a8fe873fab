import numpy as np

from sanshe.sim.mechanisms import participation
from sanshe.sim.population import build_population
from tests.helpers import params


def setup(n=3000, seed=0):
    pop = build_population(np.array([n]), np.array([False]), params(),
                           np.random.default_rng(seed))
    return pop


def context(pop, mobilisation=0.0, places=1e9, deliberation=False, points=False):
    return participation.Context(mobilisation=np.full(pop.size, mobilisation),
                                 positions=np.array([places]), seats=np.array([places]),
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
    participation.update_efficacy(pop, rewarded, p)
    assert np.all(pop.efficacy[:10] > 0) and np.all(pop.efficacy[10:] == 0)


def test_joiners_never_overfill_an_organisation():
    """Each SO takes at most its free places, however many residents want to join."""
    pop = setup()
    ctx = context(pop, mobilisation=1.0)
    ctx.so_room = {0: (np.array([7, 9]), np.array([3, 5]))}
    participation.decide(pop, ctx, params(reconsider_rate=1.0), np.random.default_rng(2))
    assert (pop.member_of == 7).sum() == 3 and (pop.member_of == 9).sum() == 5
    assert (pop.member_of >= 0).sum() == 8
