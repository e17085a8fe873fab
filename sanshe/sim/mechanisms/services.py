"""Service delivery (服务供给): matching expressed needs to the month's service slots.

Every provider — an SO under contract or on its own, the residents' committee, the
community social-work station, a group organisation — offers slots in one community and
domain at some quality. Expressed needs in that (community, domain) draw slots in random
order; slots beyond the needs go unused (the source of diminishing returns when money
outruns demand, and of waste when providers duplicate each other). Volunteers placed last
month add their hours to the provider that coordinates them, net of the coordinator time
they take.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import compress
from typing import TYPE_CHECKING

import numpy as np

from sanshe.sim.mechanisms import costing, group_orgs, needs, participation, satisfaction
from sanshe.sim.population import D, Population, order_by_group, rank_in_group

if TYPE_CHECKING:
    from sanshe.sim.model import CommunityGovernanceModel

#: The order in which waiting residents are served, and quality noise, draw from here.
STREAM = "services"


@dataclass
class Offers:
    """Slots offered this month, one row per (provider, community, domain)."""

    provider: list[object] = field(default_factory=list)  # an agent, or a label
    community: list[int] = field(default_factory=list)
    domain: list[int] = field(default_factory=list)
    slots: list[float] = field(default_factory=list)
    quality: list[float] = field(default_factory=list)
    by_so: list[bool] = field(default_factory=list)

    def add(self, provider: object, community: int, domain: int, slots: float,
            quality: float, by_so: bool) -> None:
        """Offer ``slots`` services in (community, domain) at ``quality``."""
        if slots <= 0:
            return
        self.provider.append(provider)
        self.community.append(int(community))
        self.domain.append(int(domain))
        self.slots.append(float(slots))
        self.quality.append(float(quality))
        self.by_so.append(bool(by_so))

    def add_spread(self, providers: Sequence[object], community: np.ndarray,
                   slots: np.ndarray, quality: Sequence[float], by_so: Sequence[bool]) -> None:
        """Offer ``slots[i, d]`` services in each domain ``d`` of ``community[i]`` by
        ``providers[i]`` at ``quality[i]``: the rows :meth:`add` would add provider after
        provider and domain after domain, for many providers in one call (the committees
        and stations of a district spread over the domains residents ask for)."""
        row, domain = np.nonzero(slots > 0)  # row-major: provider after provider
        rows = row.tolist()
        self.provider += map(providers.__getitem__, rows)
        self.community += np.asarray(community)[row].tolist()
        self.domain += domain.tolist()
        self.slots += slots[row, domain].tolist()
        self.quality += np.asarray(quality, float)[row].tolist()
        self.by_so += map(by_so.__getitem__, rows)


@dataclass
class Delivery:
    """What the month's matching produced."""

    served: np.ndarray  # resident indices served
    quality: np.ndarray  # quality each served resident received
    so_share: np.ndarray  # share of SO slots in each served resident's pool
    offer_served: np.ndarray  # services used per offer
    slots_total: float
    # per (community, domain): slots SOs offered and nobody used (an offer's share of its
    # pool's unused slots), the time they have for matters the committee passes on (affairs)
    so_spare: np.ndarray


def deliver(pop: Population, offers: Offers, rng: np.random.Generator,
            quality_noise: float = 0.05,
            waiting: tuple[np.ndarray, np.ndarray] | None = None) -> Delivery:
    """Serve expressed needs from the offered slots, in random order within each pool
    (``waiting``: :func:`~sanshe.sim.mechanisms.needs.waiting`, if the caller has it)."""
    size = pop.communities * D
    key_of_offer = np.asarray(offers.community, int) * D + np.asarray(offers.domain, int)
    slots = np.asarray(offers.slots, float)
    quality = np.asarray(offers.quality, float)
    pool_slots = np.bincount(key_of_offer, weights=slots, minlength=size)
    pool_quality = np.bincount(key_of_offer, weights=slots * quality, minlength=size)
    by_so = np.asarray(offers.by_so, bool)
    pool_so = np.bincount(key_of_offer, weights=slots * by_so, minlength=size)
    offered = pool_slots > 0  # pools with no slots have no quality and no SO share
    mean_quality = np.divide(pool_quality, pool_slots, out=np.zeros(size), where=offered)
    so_share = np.divide(pool_so, pool_slots, out=np.zeros(size), where=offered)
    # Fractional slots are kept in expectation by stochastic rounding.
    capacity = np.floor(pool_slots + rng.random(size)).astype(int)

    waiting, keys = needs.waiting(pop) if waiting is None else waiting
    shuffled = rng.permutation(waiting.size)  # the draws of rng.permutation(waiting)
    waiting, keys = waiting[shuffled], keys[shuffled]
    order = order_by_group(keys, size)
    waiting, keys = waiting[order], keys[order]
    rank = rank_in_group(keys, size)
    hit = rank < capacity[keys]
    served, served_keys = waiting[hit], keys[hit]

    used = np.bincount(served_keys, minlength=size)
    offer_pool = pool_slots[key_of_offer]
    offer_served = np.divide(used[key_of_offer] * slots, offer_pool, out=np.zeros(slots.size),
                             where=offer_pool > 0)
    noise = rng.normal(0.0, quality_noise, served.size)
    so = by_so.nonzero()[0]
    unused = np.maximum(slots[so] - offer_served[so], 0.0)
    return Delivery(
        served=served,
        quality=np.minimum(np.maximum(mean_quality[served_keys] + noise, 0.0), 1.0),  # [0, 1]
        so_share=so_share[served_keys],
        offer_served=offer_served,
        slots_total=float(slots.sum()),
        so_spare=np.bincount(key_of_offer[so], weights=unused,
                             minlength=size).reshape(pop.communities, D),
    )


def experience(pop: Population, delivery: Delivery, p: dict[str, float]) -> None:
    """Served residents judge the service against what they expected (satisfaction.py), and
    update trust in SOs where SOs served them.

    Having a need met at all is worth ``service_relief``; quality adds the rest.
    """
    idx = delivery.served
    worth = satisfaction.felt(delivery.quality, p)
    satisfaction.judge(pop, idx, worth, p)
    pop.trust[idx] += p["trust_learning"] * delivery.so_share * (worth - pop.trust[idx])


def monthly(model: CommunityGovernanceModel) -> Delivery:
    """Providers offer, expressed needs are served, residents feel it, providers are
    credited (each SO with the needs it met, each contract with its record)."""
    offers = Offers()
    waiting = needs.waiting(model.pop)  # nobody's need changes while providers offer
    open_expressed = needs.pool_counts(model.pop, waiting[1])
    quality_of = {so.unique_id: so.offer_services(offers, open_expressed, model.p)
                  for so in model.sos}
    shares = needs.domain_shares(open_expressed)
    offer_public_services(model, offers, shares)
    group_orgs.offer_own_projects(model, offers)
    offer_volunteer_hours(model, offers, open_expressed, quality_of, shares)
    delivery = deliver(model.pop, offers, model.streams[STREAM], model.p["service_quality_noise"],
                       waiting)
    model.offers_this_month = offers  # public record of who offered what, for views
    experience(model.pop, delivery, model.p)
    _credit(model, offers, delivery)
    return delivery


def offer_public_services(model: CommunityGovernanceModel, offers: Offers,
                          shares: np.ndarray) -> None:
    """Every committee's fund and its station's casework
    (:meth:`~sanshe.sim.agents.government.CommunityCommittee.offer_services`), spread over
    the domains residents ask for in its community (``shares``:
    :func:`~sanshe.sim.mechanisms.needs.domain_shares`), all committees of the district in
    one block."""
    price = costing.price(model)  # one district price for every committee's fund
    rows = [row for committee in model.committees
            for row in committee.offer_services(model.p, price)]
    if not rows:
        return
    providers, community, slots, quality = zip(*rows, strict=True)
    where = np.array(community)
    offers.add_spread(providers, where, np.array(slots)[:, None] * shares[where], quality,
                      [False] * len(rows))


def offer_volunteer_hours(model: CommunityGovernanceModel, offers: Offers,
                          open_expressed: np.ndarray,
                          quality_of: dict[int, float] | None = None,
                          shares: np.ndarray | None = None) -> None:
    """Volunteers serve through the provider that coordinates them (社工+义工, seed 004):
    each adds ``slots_per_volunteer`` less the coordinator time she takes
    (``volunteer_supervision`` of a caseload), at the provider's quality — an SO's in its
    domain (credited to it), the station's over the domains residents ask for.
    ``quality_of``: this month's quality of every SO in the district, by id (what its own
    offers were made at; rated here if not given); ``shares``:
    :func:`~sanshe.sim.mechanisms.needs.domain_shares` of ``open_expressed``, if the caller
    has them."""
    per_volunteer = participation.net_slots(model.p)
    if per_volunteer <= 0:
        return
    if quality_of is None:
        quality_of = {so.unique_id: so.quality(model.p) for so in model.sos}
    if shares is None:
        shares = needs.domain_shares(open_expressed)
    providers, where, domain, volunteers, quality, by_so = [], [], [], [], [], []
    for place in model.volunteering:
        provider = place.provider
        if place.domain >= 0:
            rated = quality_of.get(provider.unique_id)
            if rated is None:  # an SO that closed since takes nobody's hours
                continue
            # volunteers on a contract's placement: its account pays their materials
            providers.append((provider, None, True, place.contract))
        else:
            staff = provider.staff
            rated = _mean([w.skill for w in staff]) if staff else model.p["admin_quality"]
            providers.append(provider)
        where.append(place.community)
        domain.append(place.domain)
        volunteers.append(place.volunteers)
        quality.append(rated)
        by_so.append(place.domain >= 0)
    if not providers:
        return
    where, domain = np.array(where), np.array(domain)
    # an SO's volunteers in its domain, the station's spread over the domains asked for
    spread = np.where((domain < 0)[:, None], shares[where], np.eye(D)[domain])
    offers.add_spread(providers, where, (np.array(volunteers) * per_volunteer)[:, None] * spread,
                      quality, by_so)


def _mean(values: list[float]) -> float:
    """``float(np.mean(values))`` without building an array for a station's few workers:
    NumPy adds fewer than eight numbers one after another, as the loop here does (the same
    double; not ``sum``, which compensates its rounding from Python 3.12 on); from eight on
    it adds pairwise, so it is asked then."""
    if len(values) >= 8:
        return float(np.mean(values))
    total = 0.0
    for value in values:
        total += value
    return total / len(values)


def _credit(model: CommunityGovernanceModel, offers: Offers, delivery: Delivery) -> None:
    """Credit each contract and SO with the needs it met and at what quality (plain floats:
    numpy scalars would make every later sum on the SO slow), and charge each contract the
    units delivered on it — volunteers' on its placement too, though they count in no
    contract's record. An SO's rows (``by_so``) have as provider (SO, contract or None, on
    spec, contract charged or None); the others are passed over in C."""
    by_so: dict[int, float] = {}
    community_served = purchase_served = 0.0
    rows = zip(offers.provider, delivery.offer_served.tolist(), offers.quality, strict=True)
    for (so, contract, on_spec, charged), served, quality in compress(rows, offers.by_so):
        if charged is not None:  # the contract whose account pays the units' materials
            charged.units_charged += served
        key = so.unique_id
        by_so[key] = by_so.get(key, 0.0) + served
        if so.is_community:
            community_served += served
        so.year_served += served
        so.year_quality += served * quality
        if contract is not None:
            contract.served += served
            if on_spec:
                contract.served_spec += served
            contract.quality_sum += served * quality
            if contract.buyer == "purchase":
                purchase_served += served
    model.served_by_so = by_so
    model.community_so_served += community_served
    model.purchase_served += purchase_served
