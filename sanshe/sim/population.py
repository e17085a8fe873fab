"""Residents (居民) as arrays: one row per resident, ties as a sparse matrix.

Residents are many, so their state lives in NumPy arrays and their monthly decisions are
vectorised; the organisations they meet are ordinary Mesa agents. Residents are stored
community by community (contiguous blocks), so community totals are ``np.bincount`` calls.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import operator
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple, TypeVar

import numpy as np
import scipy.sparse as sp

from sanshe.inputs.outcomes import SPECIAL_GROUPS

T = TypeVar("T")

#: Service domains of residents' needs (seeds 000, 001, 002, 004).
DOMAINS: tuple[str, ...] = (
    "elder_care",  # 养老服务
    "children_youth",  # 儿童青少年
    "disability",  # 助残
    "assistance",  # 社会救助 / 困难帮扶
    "culture_sports",  # 文体活动
    "mediation",  # 矛盾调解
)
D = len(DOMAINS)
DOMAIN_INDEX = {name: i for i, name in enumerate(DOMAINS)}

#: The domain each special group's needs fall in.
GROUP_DOMAIN: dict[str, str] = {
    "elderly": "elder_care",
    "children": "children_youth",
    "disabled": "disability",
    "low_income": "assistance",
    "migrant": "assistance",
}

YOUNG, MIDDLE, ELDERLY = 0, 1, 2

#: glibc ``mallopt`` options: freed blocks above the trim threshold go back to the system,
#: blocks above the mmap threshold are mapped afresh each time (malloc.h).
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3


def age_effect(age: np.ndarray, p: dict[str, float]) -> np.ndarray:
    """Per resident: her age class's pull towards taking part (``age_effect_young`` /
    ``_elderly``; none in middle age), one gather from a table of three."""
    by_age = np.zeros(max(YOUNG, ELDERLY) + 1)
    by_age[YOUNG], by_age[ELDERLY] = p["age_effect_young"], p["age_effect_elderly"]
    return by_age[age]


@functools.lru_cache(maxsize=64)
def _profile_bits(profiles: int, group: str) -> np.ndarray:
    """Which of ``profiles`` combinations of special groups include ``group``: fixed by
    the list of groups, so worked out once (group organisations ask twice a month)."""
    bits = (np.arange(profiles) >> SPECIAL_GROUPS.index(group)) & 1 == 1
    bits.flags.writeable = False
    return bits


#: Whole-number keys 0..this − 1 fit a 16-bit integer (order_by_group's radix sort).
_INT16_KEYS = int(np.iinfo(np.int16).max) + 1


def order_by_group(keys: np.ndarray, groups: int) -> np.ndarray:
    """Stable order of ``keys`` (whole numbers in 0..``groups`` − 1: communities, or
    community × domain pools): grouped, and in their given order within a group. Keys that
    fit 16 bits are sorted by NumPy's radix sort, several times faster than the merge sort
    of wider integers, and the same order (a stable sort is unique)."""
    narrow = keys.astype(np.int16) if groups <= _INT16_KEYS else keys
    return np.argsort(narrow, kind="stable")


def rank_in_group(keys: np.ndarray, groups: int) -> np.ndarray:
    """Each element's place in its run of equal ``keys`` (sorted whole numbers in
    0..``groups`` − 1): the first of a group is 0. One search per group, not per element."""
    return np.arange(keys.size) - np.searchsorted(keys, np.arange(groups), side="left")[keys]


def keep_freed_memory(limit: int = 1 << 30) -> bool:
    """Let the C allocator reuse freed blocks of up to ``limit`` bytes instead of mapping
    fresh pages for every large temporary array. By default glibc maps each block above
    32 MB afresh and returns it when freed; a month of a city of millions allocates
    hundreds of per-resident temporaries of that size, and faulting their pages in costs
    more than the arithmetic on them. Peak memory is unchanged (the same arrays live at
    once); freed memory stays with the process for the next month. Returns whether the
    allocator took the setting (glibc on Linux; elsewhere nothing changes)."""
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, limit)) and bool(mallopt(_M_TRIM_THRESHOLD, limit))


@dataclass
class Population:
    """State of every resident; arrays share one index."""

    community: np.ndarray  # int, community of each resident
    age: np.ndarray  # int8: YOUNG, MIDDLE, ELDERLY
    groups: dict[str, np.ndarray]  # special-group flags (bool)
    leader: np.ndarray  # 社区能人/骨干 who can found community SOs
    disposition: np.ndarray  # civic disposition, 0..1
    threshold: np.ndarray  # Granovetter participation threshold
    conditional: np.ndarray  # conditional cooperator (responds to peers) vs free rider
    trust: np.ndarray  # trust in social organizations
    satisfaction: np.ndarray
    expectation: np.ndarray  # service level the resident has come to expect (0-1)
    efficacy: np.ndarray  # sense that taking part changes things
    representative: np.ndarray  # bool, residents' representative (居民代表 / 楼栋长)
    residents_group: np.ndarray  # int, residents' group (居民小组) across the district
    registered: np.ndarray  # bool, registered volunteer (登记志愿者), active or not
    volunteer: np.ndarray  # bool, turned out to volunteer this month
    deliberating: np.ndarray  # bool, attends deliberation meetings
    member_of: np.ndarray  # int32, unique_id of the community SO joined, -1 if none
    member_occupied: np.ndarray  # bool, if a member: her SO's activities occupy her this month
    founder: np.ndarray  # bool, has founded an SO
    ties: sp.csr_matrix  # symmetric tie matrix inside communities
    degree: np.ndarray
    need_profile: np.ndarray  # int8, each resident's row of need_table (her special groups)
    need_table: np.ndarray  # (profiles, D) monthly chance of a new need per domain
    need_domain: np.ndarray  # int8, open need's domain, -1 if none
    need_expressed: np.ndarray  # bool, open need known to providers
    communities: int
    offsets: np.ndarray  # community c's residents are rows offsets[c]:offsets[c + 1]
    profile_key: np.ndarray  # int32, community × profiles + need_profile (see by_profile)
    # (constants, array) of settled_pull: age and disposition do not change in a run
    _settled: tuple[tuple[float, float], np.ndarray] | None = field(
        default=None, repr=False, compare=False)
    # what is worked out once from arrays fixed in a run (:meth:`keep`), by name: (the
    # arrays it was read from, the value); kept with the population, so runs never share it
    kept: dict[str, tuple[tuple[object, ...], Any]] = field(
        default_factory=dict, init=False, repr=False, compare=False)

    @property
    def size(self) -> int:
        return int(self.community.size)

    def settled_pull(self, p: dict[str, float]) -> np.ndarray:
        """Per resident: the terms of her pull to take part that stay as they are through a
        run — her age class's (:func:`age_effect`) plus her civic disposition — worked out
        once for ``p``'s age effects (twice a month otherwise) and returned as a fresh
        array, to which a caller adds the month's terms in place."""
        key = (p["age_effect_young"], p["age_effect_elderly"])
        if self._settled is None or self._settled[0] != key:
            settled = age_effect(self.age, p)
            settled += self.disposition
            self._settled = (key, settled)
        return self._settled[1].copy()

    def keep(self, name: str, sources: tuple[object, ...], compute: Callable[[], T]) -> T:
        """``compute()``, worked out once and kept under ``name`` while ``sources`` (what it
        reads: arrays fixed in a run) are the same objects: for values a month asks for
        again. An array assigned anew (a test's, another population's) is read afresh; one
        edited in place is not (nothing edits them in a run)."""
        kept = self.kept.get(name)
        if (kept is None or len(kept[0]) != len(sources)
                or not all(map(operator.is_, kept[0], sources))):
            kept = (sources, compute())
            self.kept[name] = kept
        return kept[1]

    def representatives_by_keenness(self) -> np.ndarray:
        """The residents' representatives (indices), community by community and the most
        civic-minded (disposition) first in each, ties in storage order: the order in which
        the committee visits them to convene a meeting. Who represents, where and how
        disposed are settled when the population is built, so the order is worked out once
        (:meth:`keep`; read it, do not write it)."""
        def keenest_first() -> np.ndarray:
            reps = self.representative.nonzero()[0]
            return reps[np.lexsort((-self.disposition[reps], self.community[reps]))]
        return self.keep("keenness", (self.representative, self.disposition, self.community),
                         keenest_first)

    @property
    def need_weights(self) -> np.ndarray:
        """(n, D) monthly chance of a new need per domain; residents share a few rows (one
        per combination of special groups), so the table is stored once, not per resident."""
        return self.need_table[self.need_profile]

    @property
    def participating(self) -> np.ndarray:
        """Residents taking part in any way this month."""
        return self.volunteer | self.deliberating | self.occupied_member

    @property
    def occupied_member(self) -> np.ndarray:
        """Members whose SO's activities occupy them this month: a member of a group with
        nothing for her to do belongs, but does not take part (§7.11)."""
        return (self.member_of >= 0) & self.member_occupied

    def profile_has(self, group: str) -> np.ndarray:
        """Per combination of special groups (a row of ``need_table``): whether it
        includes ``group`` (read-only: the same table for every caller)."""
        return _profile_bits(self.need_table.shape[0], group)

    def by_profile(self, table: np.ndarray) -> np.ndarray:
        """Per resident, her cell of a (community, combination of special groups) table:
        a value residents of one community with the same groups share, computed once per
        cell and read by one gather (``take`` on the flattened table: the same values as
        ``table.reshape(-1)[profile_key]`` in half the time, 7 against 14 µs at 10,000)."""
        return table.take(self.profile_key)

    @property
    def engaged(self) -> np.ndarray:
        """Residents committed to community life, whether or not they turned out this
        month: registered volunteers, SO members, meeting attenders."""
        return self.registered | self.deliberating | (self.member_of >= 0)

    def per_community(self, values: np.ndarray) -> np.ndarray:
        """Sum of ``values`` in each community: one pass over the community blocks (a
        segmented sum, an order of magnitude faster than a weighted ``np.bincount``)."""
        values = np.asarray(values)
        if values.dtype == bool:
            values = values.view(np.uint8)
        peopled, starts = self._segments()
        if peopled is None:  # every community peopled: the segments' sums are the answer
            return np.add.reduceat(values, starts, dtype=float)
        sums = np.zeros(self.communities)
        if starts.size:
            sums[peopled] = np.add.reduceat(values, starts, dtype=float)
        return sums

    def _segments(self) -> tuple[np.ndarray | None, np.ndarray]:
        """The peopled communities (None: all of them) and where their blocks start, as
        :meth:`per_community` sums them: an empty block has no segment. Worked out once
        for ``offsets`` (:meth:`keep`; a month sums per community several times)."""
        def segments() -> tuple[np.ndarray | None, np.ndarray]:
            peopled = self.offsets[1:] > self.offsets[:-1]
            return None if peopled.all() else peopled, self.offsets[:-1][peopled]
        return self.keep("segments", (self.offsets,), segments)

    def counts(self) -> np.ndarray:
        """Residents per community."""
        return np.diff(self.offsets)

    def block(self, c: int) -> slice:
        """Index range of community ``c``'s residents (stored as contiguous blocks), so a
        rule about one community reads its block instead of scanning every resident."""
        return slice(int(self.offsets[c]), int(self.offsets[c + 1]))


#: Tie counts of several kinds are packed into one float32 per resident, one kind to each
#: byte of its 24-bit significand, so one sparse product counts them all exactly (sums of
#: whole numbers below 2**24); beyond this degree they are counted column by column.
PACKED_DEGREE = 255

#: While at most this share of residents do any of the kinds counted, their ties are counted
#: from the doers' side — each doer's row of the tie matrix (symmetric, ones), one bincount
#: over them — instead of by a product over every tie: a month's doers are a few in a
#: hundred, and the product reads every tie. Both count exactly, so which is used changes
#: no count.
DOERS_SHARE = 0.2


def tie_counts(pop: Population, *doing: np.ndarray) -> list[np.ndarray]:
    """How many of each resident's ties do each of ``doing`` (at most three flags): one
    sparse product for all of them (a month's tie products cost more than its arithmetic).
    Counts are whole numbers; read them, do not write them (they may share one buffer)."""
    if len(doing) > 3:
        raise ValueError("at most three kinds of tie count at once")
    if pop.degree.size == 0 or pop.degree.max() > PACKED_DEGREE:
        stacked = np.column_stack(doing).astype(np.float32)
        counts = np.asarray(pop.ties @ stacked)
        return [counts[:, k].astype(np.int32) for k in range(len(doing))]
    doing = [np.asarray(flags, bool) for flags in doing]
    doers = functools.reduce(np.logical_or, doing).nonzero()[0]
    if doers.size <= DOERS_SHARE * pop.size:
        total = _from_doers(pop.ties, doers, doing).astype(np.uint32)
    else:
        packed = np.zeros(pop.size, np.float32)
        for k, flags in enumerate(doing):  # 0/1 times the kind's byte: a masked add costs 15x
            packed += flags.view(np.uint8) * np.float32(256**k)
        total = (pop.ties @ packed).astype(np.uint32)
    if sys.byteorder == "little":  # each kind's count is a byte of the sum: a view, no copy
        return [total.view(np.uint8).reshape(-1, 4)[:, k] for k in range(len(doing))]
    return [(total >> (8 * k)) & 255 for k in range(len(doing))]


def _from_doers(ties: sp.csr_matrix, doers: np.ndarray, doing: list[np.ndarray]) -> np.ndarray:
    """Per resident, her ties among ``doers`` packed one kind of ``doing`` to a byte (as
    ``ties @ packed``): the tie matrix is symmetric with entries 1, so her count is the
    number of doers whose row names her, and each doer's packed flags are added at the
    residents her row names (sums of whole numbers: exact in any order)."""
    weight = np.zeros(doers.size)
    for k, flags in enumerate(doing):
        weight += flags[doers] * float(256**k)
    start = ties.indptr[doers]
    length = ties.indptr[doers + 1] - start
    # where each doer's row lies among the tie entries, one row after another
    entry = np.repeat(start - (np.cumsum(length) - length), length)
    entry += np.arange(entry.size)
    return np.bincount(ties.indices[entry], weights=np.repeat(weight, length),
                       minlength=ties.shape[0])


class Peers(NamedTuple):
    """Last month's choices of each resident's ties: how many take part, attend the
    meeting, are SO members. Counted once a month, after closures, and read by the
    meeting's agenda (affairs) and by residents' choices (participation): nobody changes
    these choices between the two, so one sparse product serves both."""

    taking_part: np.ndarray
    attending: np.ndarray
    members: np.ndarray


def peer_counts(pop: Population) -> Peers:
    """Each resident's ties taking part, attending and members, as choices stand now."""
    return Peers(*tie_counts(pop, pop.participating, pop.deliberating, pop.member_of >= 0))


def build_population(
    sizes: np.ndarray, rural: np.ndarray, p: dict[str, float], rng: np.random.Generator
) -> Population:
    """Residents of every community, with special groups, dispositions and ties.

    ``sizes`` and ``rural`` are per community; ``p`` is the parameter table.
    """
    community = np.repeat(np.arange(sizes.size, dtype=np.int32), sizes)
    n = community.size
    is_rural = rural[community]
    elderly_share = np.where(is_rural, p["elderly_share_rural"], p["elderly_share_urban"])
    young = p["young_share_nonelderly"]
    age = np.where(rng.random(n) < elderly_share, ELDERLY,
                   np.where(rng.random(n) < young, YOUNG, MIDDLE)).astype(np.int8)
    migrant_share = np.where(is_rural, p["migrant_share_rural"], p["migrant_share_urban"])
    groups = {
        "elderly": age == ELDERLY,
        "children": (age != ELDERLY) & (rng.random(n) < p["children_household_share"]
                                         / p["non_elderly_share"]),
        "disabled": rng.random(n) < p["disabled_share"],
        "low_income": rng.random(n) < p["low_income_share"],
        "migrant": (age != ELDERLY) & (rng.random(n) < migrant_share),
    }
    threshold = rng.normal(p["threshold_mean"], p["threshold_sd"], n)
    mean = p["disposition_mean"]
    k = p["disposition_concentration"]
    disposition = rng.beta(k * mean / (1 - mean), k, n)
    ties = _ties(sizes, int(p["ties_per_resident"]), rng)
    residents_group = residents_groups(community, sizes, p)
    leader = rng.random(n) < p["leader_share"]  # draws in the order they always had
    conditional = rng.random(n) >= p["free_rider_share"]
    trust = np.clip(rng.normal(p["trust_initial"], p["attitude_sd"], n), 0, 1)
    satisfaction = np.clip(rng.normal(p["satisfaction_initial"], p["attitude_sd"], n), 0, 1)
    profile, table = _need_profile(groups), _need_table(p)
    return Population(
        community=community,
        age=age,
        groups=groups,
        leader=leader,
        disposition=disposition,
        threshold=threshold,
        conditional=conditional,
        trust=trust,
        satisfaction=satisfaction,
        expectation=satisfaction.copy(),  # content at the start: what they get is expected
        efficacy=np.zeros(n),
        representative=representatives(residents_group, disposition, sizes, p),
        residents_group=residents_group,
        registered=np.zeros(n, bool),
        volunteer=np.zeros(n, bool),
        deliberating=np.zeros(n, bool),
        member_of=np.full(n, -1, dtype=np.int32),
        member_occupied=np.ones(n, bool),
        founder=np.zeros(n, bool),
        ties=ties,
        degree=np.maximum(np.asarray(ties.sum(axis=1)).ravel(), 1.0),
        need_profile=profile,
        need_table=table,
        need_domain=np.full(n, -1, dtype=np.int8),
        need_expressed=np.zeros(n, bool),
        communities=int(sizes.size),
        offsets=np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64),
        profile_key=(community * np.int32(table.shape[0]) + profile).astype(np.int32),
    )


def group_counts(sizes: np.ndarray, p: dict[str, float]) -> np.ndarray:
    """Residents' groups (居民小组) per community, each about ``households_per_group``
    households: a building or courtyard (楼栋, 院落: seed 001)."""
    households = sizes / p["household_size"]
    return np.maximum(np.ceil(households / p["households_per_group"]), 1.0).astype(int)


def residents_groups(community: np.ndarray, sizes: np.ndarray,
                     p: dict[str, float]) -> np.ndarray:
    """Each resident's residents' group, numbered across the district: a community's block
    of residents (``community``: each resident's) split into its groups in storage order
    (a rule, no draw)."""
    counts = group_counts(sizes, p)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    local = np.arange(community.size) - starts[community]
    first_group = np.concatenate([[0], np.cumsum(counts)[:-1]])
    return first_group[community] + local * counts[community] // sizes[community]


def group_seats(sizes: np.ndarray, p: dict[str, float]) -> np.ndarray:
    """Representatives each residents' group elects (城市居民委员会组织法 art. 9: 每个居民
    小组可以推选代表二至三人): ``representatives_per_group`` on average, groups of a
    community alternating between the whole numbers around it."""
    counts = group_counts(sizes, p)
    per_group = p["representatives_per_group"]
    local = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    return (np.round((local + 1) * per_group) - np.round(local * per_group)).astype(int)


def representative_seats(sizes: np.ndarray, p: dict[str, float]) -> np.ndarray:
    """Representatives per community: the seats of its residents' groups."""
    community_of_group = np.repeat(np.arange(sizes.size), group_counts(sizes, p))
    seats = np.bincount(community_of_group, weights=group_seats(sizes, p),
                        minlength=sizes.size)
    return np.minimum(seats, sizes).astype(int)


def representatives(group: np.ndarray, disposition: np.ndarray, sizes: np.ndarray,
                    p: dict[str, float]) -> np.ndarray:
    """The most civic-minded residents of each residents' group are its representatives
    (楼栋长, 居民小组长, 居民代表: seed 001's 睦邻互助会). A rule, not a draw: no stream is
    used."""
    # by group, most disposed first (ties in the given order): np.lexsort((-disposition,
    # group)), as one sort of a unique whole-number key (group, place in that order)
    keen = np.empty(group.size, np.int64)
    keen[np.argsort(-disposition, kind="stable")] = np.arange(group.size)
    order = np.argsort(group.astype(np.int64) * group.size + keen)
    rank = np.arange(group.size) - np.searchsorted(group[order], group[order], side="left")
    chosen = np.zeros(group.size, bool)
    chosen[order] = rank < group_seats(sizes, p)[group[order]]
    return chosen


def _need_profile(groups: dict[str, np.ndarray]) -> np.ndarray:
    """Each resident's combination of special groups, one bit per group (the row of
    :func:`_need_table` that holds her chances of a new need)."""
    profile = np.zeros(next(iter(groups.values())).size, dtype=np.int8)
    for bit, group in enumerate(SPECIAL_GROUPS):
        profile |= groups[group].astype(np.int8) << bit
    return profile


def _need_table(p: dict[str, float]) -> np.ndarray:
    """Monthly chance of a new need in each domain for each combination of special groups
    (row = the bits of :func:`_need_profile`)."""
    rows = np.arange(2 ** len(SPECIAL_GROUPS))
    weights = np.zeros((rows.size, D))
    culture = p["general_needs_culture_share"]
    weights[:, DOMAIN_INDEX["culture_sports"]] = culture * p["need_rate_general"]
    weights[:, DOMAIN_INDEX["mediation"]] = (1 - culture) * p["need_rate_general"]
    for bit, group in enumerate(SPECIAL_GROUPS):
        member = (rows >> bit) & 1 == 1
        weights[:, DOMAIN_INDEX[GROUP_DOMAIN[group]]] += p["need_rate_special"] * member
    return weights


def _ties(sizes: np.ndarray, k: int, rng: np.random.Generator) -> sp.csr_matrix:
    """Random neighbourhood ties inside each community (about ``k`` per resident).

    Each resident names ``k // 2`` neighbours at random offsets within her block; ties are
    made symmetric. Built in one pass of 32-bit indices (a 10-million-resident city needs
    80 million tie entries)."""
    n = int(sizes.sum())
    half = max(k // 2, 1)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    block = np.repeat(np.arange(sizes.size, dtype=np.int32), sizes * half)
    span = np.maximum(sizes, 2)
    if np.all(span == span[0]):  # same draws as the per-entry bounds, a scalar bound is faster
        offset = rng.integers(1, int(span[0]), size=block.size)
    else:
        offset = rng.integers(1, span[block])  # never oneself
    source = np.repeat(np.arange(n, dtype=np.int32), half)
    local = source - starts[block] + offset
    local %= sizes[block]
    target = (starts[block] + local).astype(np.int32)
    del local, offset, block
    rows = np.concatenate([source, target])
    cols = np.concatenate([target, source])
    del source, target
    ties = sp.csr_matrix((np.ones(rows.size, dtype=np.float32), (rows, cols)), shape=(n, n))
    ties.sum_duplicates()
    ties.data[:] = 1.0  # a pair named by both sides is one tie
    return ties
