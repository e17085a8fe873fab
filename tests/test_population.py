import platform

import numpy as np

from sanshe.sim.population import (
    DOMAIN_INDEX,
    ELDERLY,
    GROUP_DOMAIN,
    PACKED_DEGREE,
    D,
    _ties,
    age_effect,
    build_population,
    keep_freed_memory,
    order_by_group,
    rank_in_group,
    tie_counts,
)
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


def test_community_sums_read_the_blocks_including_empty_communities():
    sizes = np.array([3, 0, 5, 2, 0])
    pop = build_population(sizes, np.zeros(5, bool), params(), np.random.default_rng(0))
    values = np.random.default_rng(1).random(pop.size)
    flags = values > 0.5
    expected = np.bincount(pop.community, weights=values, minlength=5)
    assert np.allclose(pop.per_community(values), expected, rtol=1e-12)
    assert np.array_equal(pop.per_community(flags),
                          np.bincount(pop.community[flags], minlength=5))
    assert list(pop.counts()) == [3, 0, 5, 2, 0]


def test_residents_read_their_community_and_groups_cell():
    pop = make(sizes=(300, 200, 400))
    reach = np.array([True, False, True])
    for group in pop.groups:
        cells = np.outer(reach, pop.profile_has(group))
        assert np.array_equal(pop.by_profile(cells), pop.groups[group] & reach[pop.community])
    table = np.arange(3 * pop.need_table.shape[0], dtype=float).reshape(3, -1)
    assert np.array_equal(pop.by_profile(table), table[pop.community, pop.need_profile])


def test_need_chances_add_each_special_group_to_the_general_rate():
    p = params()
    pop = make(sizes=(2000,), rural=(False,))
    weights = pop.need_weights
    general = np.zeros(D)
    general[DOMAIN_INDEX["culture_sports"]] = p["general_needs_culture_share"] * p[
        "need_rate_general"]
    general[DOMAIN_INDEX["mediation"]] = (1 - p["general_needs_culture_share"]) * p[
        "need_rate_general"]
    for i in range(0, pop.size, 97):
        expected = general.copy()
        for group, flags in pop.groups.items():
            expected[DOMAIN_INDEX[GROUP_DOMAIN[group]]] += p["need_rate_special"] * flags[i]
        assert np.allclose(weights[i], expected, rtol=1e-12)


def test_ties_are_drawn_as_each_resident_naming_random_neighbours():
    """The construction equals the plain rule: each resident names k // 2 others of her
    community at a uniform random offset, and a named pair is one tie."""
    sizes, k = np.array([40, 40, 40]), 8
    ties = _ties(sizes, k, np.random.default_rng(5))
    rng = np.random.default_rng(5)
    offsets = rng.integers(1, np.full(sizes.sum() * (k // 2), 40))
    expected = np.zeros((120, 120), bool)
    for entry, offset in enumerate(offsets):
        i = entry // (k // 2)
        start = 40 * (i // 40)
        j = start + (i - start + offset) % 40
        expected[i, j] = expected[j, i] = True
    assert np.array_equal(ties.toarray() > 0, expected)
    assert set(np.unique(ties.data)) == {1.0}


def test_allocator_keeps_freed_memory_where_glibc_runs():
    took = keep_freed_memory()
    assert took == (platform.system() == "Linux" and platform.libc_ver()[0] == "glibc")


def test_tie_counts_are_exact_whether_packed_or_column_by_column():
    """One sparse product counts several kinds of tie: packed into one float32 while degrees
    fit a byte, column by column beyond; both give each kind's count exactly."""
    for pop in (make(sizes=(2000,), rural=(False,)),
                make(sizes=(600,), rural=(False,), ties_per_resident=600)):
        rng = np.random.default_rng(3)
        flags = [rng.random(pop.size) < share for share in (0.5, 0.1, 0.9)]
        counts = tie_counts(pop, *flags)
        for got, kind in zip(counts, flags, strict=True):
            assert np.array_equal(got, (pop.ties @ kind.astype(float)).astype(int))
    assert pop.degree.max() > PACKED_DEGREE  # the second took the other path


def test_residents_grouped_by_community_keep_their_order_and_get_their_rank():
    """The stable order by group (a radix sort when keys fit 16 bits) and each one's rank
    in its group are those of a merge sort and a search per element."""
    rng = np.random.default_rng(5)
    for groups in (7, 40_000):  # the second too wide for 16 bits
        keys = rng.integers(0, groups, 5000)
        order = order_by_group(keys, groups)
        assert np.array_equal(order, np.argsort(keys, kind="mergesort"))
        ranked = keys[order]
        expected = np.arange(ranked.size) - np.searchsorted(ranked, ranked, side="left")
        assert np.array_equal(rank_in_group(ranked, groups), expected)


def test_settled_pull_is_age_and_disposition_and_follows_the_age_constants():
    p = params()
    pop = build_population(np.array([300, 200]), np.array([False, True]), p,
                           np.random.default_rng(3))
    first = pop.settled_pull(p)
    assert np.array_equal(first, age_effect(pop.age, p) + pop.disposition)
    first += 5.0  # a caller's month: the settled part stays as it was
    assert np.array_equal(pop.settled_pull(p), age_effect(pop.age, p) + pop.disposition)
    older = {**p, "age_effect_elderly": p["age_effect_elderly"] + 0.3}
    elderly = pop.age == ELDERLY
    assert elderly.any()
    moved = pop.settled_pull(older) - pop.settled_pull(p)
    assert np.allclose(moved[elderly], 0.3) and np.allclose(moved[~elderly], 0.0)


def test_tie_counts_count_each_kind_of_tie():
    pop = build_population(np.array([400]), np.array([False]), params(),
                           np.random.default_rng(4))
    rng = np.random.default_rng(5)
    flags = [rng.random(pop.size) < share for share in (0.1, 0.5, 0.9)]
    counts = tie_counts(pop, *flags)
    for flag, count in zip(flags, counts, strict=True):
        assert np.array_equal(count, pop.ties @ flag.astype(float))


def test_community_sums_are_those_of_a_bincount_with_or_without_empty_communities():
    """per_community sums each community's block, an empty one to 0, for flags and for
    values alike (its segments are worked out once and kept)."""
    for sizes in ((3, 0, 5, 2), (4, 6), (0, 3, 0)):
        pop = build_population(np.array(sizes), np.zeros(len(sizes), bool), params(),
                               np.random.default_rng(0))
        flags = np.random.default_rng(1).random(pop.size) < 0.5
        for values in (flags, pop.disposition, flags):  # the second and third reuse them
            assert np.allclose(pop.per_community(values),
                               np.bincount(pop.community, weights=values,
                                           minlength=len(sizes)), rtol=1e-12, atol=0)


def test_representatives_by_keenness_go_community_by_community_keenest_first():
    pop = make(sizes=(300, 200, 250))
    keen = pop.representatives_by_keenness()
    reps = np.flatnonzero(pop.representative)
    assert np.array_equal(keen, reps[np.lexsort((-pop.disposition[reps], pop.community[reps]))])
    assert np.all(np.diff(pop.community[keen]) >= 0)
    assert pop.representatives_by_keenness() is keen  # worked out once
    pop.representative = np.zeros(pop.size, bool)  # other representatives: read afresh
    pop.representative[[5, 2]] = True
    assert pop.representatives_by_keenness().tolist() == sorted(
        [5, 2], key=lambda i: -pop.disposition[i])


def test_tie_counts_from_few_doers_are_those_of_the_product():
    """While few residents do any of the kinds, their ties are counted from the doers' rows
    (DOERS_SHARE); the counts are the product's, kind by kind, in the same dtype."""
    from sanshe.sim.population import DOERS_SHARE

    pop = make(sizes=(2000, 1500), rural=(False, False))
    rng = np.random.default_rng(8)
    for share in (0.0, 0.01, 0.05):
        flags = [rng.random(pop.size) < share for _ in range(3)]
        assert np.logical_or.reduce(flags).mean() <= DOERS_SHARE
        counts = tie_counts(pop, *flags)
        for got, kind in zip(counts, flags, strict=True):
            assert got.dtype == np.uint8
            assert np.array_equal(got, (pop.ties @ kind.astype(float)).astype(int))


def test_keep_works_a_value_out_once_while_its_sources_are_the_same_arrays():
    pop = make(sizes=(300, 200))
    calls = []
    def count() -> int:
        calls.append(1)
        return int(pop.age.sum())
    assert pop.keep("n", (pop.age,), count) == pop.keep("n", (pop.age,), count)
    assert len(calls) == 1
    pop.age = pop.age.copy()  # a new array: read afresh
    pop.keep("n", (pop.age,), count)
    assert len(calls) == 2
    pop.keep("n", (pop.age, pop.community), count)  # other sources: afresh
    assert len(calls) == 3
