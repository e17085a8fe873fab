"""CommunityGovernanceModel: a district of communities, one month per step.

The model builds the district and runs the schedule of docs/ODD.md (process overview);
every rule and decision lives in a mechanism module under :mod:`sanshe.sim.mechanisms` (or on
the agent whose behaviour it is), and each mechanism draws from its own named stream.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from functools import partial, wraps
from typing import Any

import mesa
import numpy as np

from sanshe.inputs import money, timeline
from sanshe.inputs import parameters as parameter_table
from sanshe.inputs.outcomes import OUTCOME_NAMES
from sanshe.inputs.scenario import Scenario
from sanshe.sim.agents.government import CommunityCommittee, DistrictBureau, StreetOffice
from sanshe.sim.agents.group_org import GROUP_ORG_KINDS, GroupOrganization
from sanshe.sim.agents.social_org import PROFESSIONAL, Contract, SocialOrganization
from sanshe.sim.measures import measure
from sanshe.sim.mechanisms import (
    affairs,
    ecology,
    finance,
    group_orgs,
    needs,
    participation,
    priorities,
    services,
    workforce,
)
from sanshe.sim.population import (
    D,
    Population,
    build_population,
    keep_freed_memory,
    peer_counts,
)
from sanshe.sim.streams import make_streams, whole_count

#: The district is built from this stream (residents, seeded organisations, reach).
CONSTRUCTION_STREAM = "population"

#: From this many residents per-resident arrays outgrow what the C allocator reuses by
#: default (32 MB), so the model asks it to keep freed memory (population.keep_freed_memory).
BIG_POPULATION = 1_000_000


def cyclic_gc_paused(month: Callable[..., None]) -> Callable[..., None]:
    """Run ``month`` with Python's cycle collector paused (reference counting still frees
    every object the moment it is no longer used). A month makes and drops some ten
    thousand small containers per million residents (offers, placements, records), which
    set off the collector's passes, and every few months a full one that walks every object
    of the district: 1.3 s of a 24 s run at 1,000,000 residents (docs/performance.md). What
    few reference cycles a month leaves are collected by the collector's next pass after
    it (the objects alive at the end of a run differ by 0.1%; peak memory is the same).
    Nothing the model computes depends on when memory is reclaimed: the outputs are the
    same."""

    @wraps(month)
    def paused(*args: Any, **kwargs: Any) -> None:
        if not gc.isenabled():  # the caller manages the collector itself
            month(*args, **kwargs)
            return
        gc.disable()
        try:
            month(*args, **kwargs)
        finally:
            gc.enable()

    return paused


def discard(model: mesa.Model) -> None:
    """Let a finished model be freed. Mesa 3.3 keeps every model that made agents alive in
    ``Agent._ids``, a class-level dict keyed by model (mesa/mesa#3179; later releases
    number agents in the model, #3180): a process that runs many models — a sweep's or a
    robustness study's worker — grew by about 1 MB a run at 3,000 residents and was killed
    for want of memory after about 1,900 runs a worker. Call it only when nothing will
    add agents to ``model`` again; a no-op on Mesa versions without the dict."""
    ids = getattr(mesa.Agent, "_ids", None)
    if isinstance(ids, dict):
        ids.pop(model, None)


def read_outcome(model: CommunityGovernanceModel, name: str) -> float:
    """DataCollector reporter: this month's value of outcome ``name`` (picklable)."""
    return model.current[name]


class OutcomeCollector(mesa.DataCollector):
    """Mesa's DataCollector of every outcome (what ``batch_run``, the page and users
    read), filled from the month's measured values in one pass: Mesa's own ``collect``
    calls each of the outcomes' reporters and deep-copies its value, a float, one at a
    time (about 2% of a month). Reporters anyone adds are collected as Mesa does."""

    def __init__(self) -> None:
        super().__init__(
            model_reporters={name: partial(read_outcome, name=name) for name in OUTCOME_NAMES})
        self._outcomes = [(name, self.model_vars[name]) for name in OUTCOME_NAMES]

    def collect(self, model: CommunityGovernanceModel) -> None:
        """Append this month's outcomes (``model.current``)."""
        if (self.agent_reporters or self.agenttype_reporters
                or len(self.model_reporters) != len(self._outcomes)):
            super().collect(model)
            return
        steps = getattr(self, "_collection_steps", None)  # Mesa 3.5+: batch_run reads it
        if steps is not None:
            steps.append(model.time)
        current = model.current
        for name, values in self._outcomes:
            values.append(current[name])


class CommunityGovernanceModel(mesa.Model):
    """A district (区) of streets and communities under one policy scenario.

    ``scenario`` is a library name, a path to a .toml file or a :class:`Scenario`;
    ``overrides`` are dotted keys as with ``sanshe run --set`` (``mesa.batch_run`` passes
    them as keyword arguments). Without ``seed`` Mesa's convention holds: fresh entropy,
    recorded as ``model.seed``. The resolved scenario is ``model.policy_scenario``: Mesa
    3.5+ owns ``model.scenario`` (its own experiment object), so no name Mesa reserves is
    set here (tests/test_platform.py checks).
    """

    def __init__(self, scenario: Scenario | str = "baseline", seed: int | None = None,
                 **overrides: Any) -> None:
        if seed is None:  # Mesa's convention: fresh entropy, recorded so a run can be repeated
            seed = int(np.random.SeedSequence().entropy % (2**63))
        super().__init__(rng=seed)  # Mesa 3.5 deprecates seed=; rng=int seeds the same way
        self.seed = int(seed)
        base = scenario if isinstance(scenario, Scenario) else Scenario.load(scenario)
        self.policy_scenario = base.with_overrides(overrides) if overrides else base
        self.p: dict[str, float] = dict(self.policy_scenario.parameters)
        self.v: dict[str, Any] = dict(self.policy_scenario.values)
        self.months = int(self.v["run.months"])
        self.month = 0
        self.streams = make_streams(self.seed)
        self._reset_counters()
        self._build()
        self.current: dict[str, float] = {}
        self._series: list[dict[str, float]] = []
        self.datacollector = OutcomeCollector()

    # ------------------------------------------------------------------ construction
    def _build(self) -> None:
        """Residents, government tiers, group organisations, and the SOs and social workers
        a district has before the policy; then the records the yearly rounds keep."""
        v, p, rng = self.v, self.p, self.streams[CONSTRUCTION_STREAM]
        per_street = int(v["district.communities_per_street"])
        n_comm = int(v["district.streets"]) * per_street
        rural = np.zeros(n_comm, bool)
        rural[: int(round(v["district.rural_share"] * n_comm))] = True
        self.sizes = np.full(n_comm, int(v["district.residents_per_community"]))
        if self.sizes.sum() >= BIG_POPULATION:
            keep_freed_memory()
        self.pop: Population = build_population(self.sizes, rural, p, rng)
        self._build_government(per_street, rural)
        self.agenda = affairs.Agenda.build(self.pop, p, self.streams[affairs.STREAM])
        # per community: SOs' service time last month left unused after the affairs they
        # settled, what they hold open activities with under the landing priority
        self.so_time_left = np.zeros(n_comm)
        self.group_orgs = [
            GroupOrganization(self, kind, group_orgs.initial_reach(self, kind.reach, n_comm, rng),
                              p["group_budget"] * self.pop.size / 1000.0)
            for kind in GROUP_ORG_KINDS
        ]
        self.sos: list[SocialOrganization] = []
        self._seed_organizations(rng)
        self.incumbents: set[tuple[int, int, int]] = set()  # (so id, community, domain)
        self.year_contract_value: dict[int, float] = {}
        self.group_projects: list[tuple[int, int, int]] = []  # (org id, community, domain)
        self.group_offers: list[tuple[GroupOrganization, Contract | None, int, int, float]] = []
        self.served_by_so: dict[int, float] = {}
        self.donor_left = 0.0  # yuan of the year's donor pool its projects left for asks
        self.expressed_year = np.zeros((n_comm, D))
        self.volunteering: list[participation.Placement] = []  # who coordinates volunteers
        self.capacity_bound = np.zeros(n_comm, bool)  # coordinators held volunteers out

    def _build_government(self, per_street: int, rural: np.ndarray) -> None:
        """The bureau with its budgets, the street offices, and a committee per community
        with its funded social-work posts."""
        v = self.v
        self.bureau = DistrictBureau(self, money.amount(v, "policy.purchase.annual_budget"),
                                     money.amount(v, "policy.purchase.venture_philanthropy_budget"))
        self.streets = [StreetOffice(self, i) for i in range(int(v["district.streets"]))]
        self.committees = [
            CommunityCommittee(self, c, self.streets[c // per_street], bool(rural[c]),
                               int(self.sizes[c]))
            for c in range(rural.size)
        ]
        self.station_order = workforce.station_order(
            rural.size, self.streams[workforce.STATIONS_STREAM])
        self.fund_station_posts()

    def fund_station_posts(self) -> None:
        """Each committee's funded social-work posts (社工站): the scenario's posts per
        community at this district's community size, a part post in some communities
        (workforce.station_posts); the timeline calls it again when posts change."""
        posts = workforce.station_posts(
            money.amount(self.v, "policy.social_work.posts_per_community"), self.station_order)
        for committee in self.committees:
            committee.posts = int(posts[committee.index])

    def _seed_organizations(self, rng: np.random.Generator) -> None:
        """The SOs and social workers a district starts with (before the policy)."""
        for c, committee in enumerate(self.committees):
            self._seed_community_sos(c, committee.rural, rng)
        for _ in range(int(self.p["seeded_agencies"])):
            self._seed_agency(rng)
        for committee in self.committees:
            for _ in range(committee.posts):
                workforce.hire(self, committee, rng)
        self.births_month = 0

    def _seed_community_sos(self, c: int, rural: bool, rng: np.random.Generator) -> None:
        """Community SOs of community ``c`` that predate the policy, per 1,000 residents."""
        p = self.p
        expected = p["seeded_community_sos_per_1000"] * self.sizes[c] / 1000.0
        for _ in range(whole_count(expected * (p["seeded_rural_so_share"] if rural else 1.0),
                                   rng)):
            ecology.seed_community_so(self, c, rng)

    def _seed_agency(self, rng: np.random.Generator) -> None:
        """A professional agency that predates the policy, close to officials, with staff."""
        p = self.p
        c = int(rng.integers(len(self.committees)))
        so = ecology.found(self, PROFESSIONAL, int(rng.integers(D)), c, rng,
                           ties=p["ties_seeded_agency"])
        so.age = int(rng.integers(int(p["seeded_agency_age_low"]),
                                  int(p["seeded_agency_age_high"])))
        so.capacity = p["initial_capacity_professional"] + p["seeded_agency_capacity_bonus"]
        so.reputation = p["seeded_agency_reputation"]
        for _ in range(int(p["seeded_agency_workers"])):
            workforce.hire(self, so, rng)

    def _reset_counters(self) -> None:
        """Monthly tallies the outcomes read."""
        self.births_month = 0
        self.closures_month = 0
        self.exits_month = 0
        self.gov_month = 0.0
        self.group_month = 0.0
        self.nongov_month = 0.0
        self.returned_month = 0.0  # contract balances returned to their buyers (结余资金)
        self.community_so_served = 0.0  # needs met by community SOs (their activity)
        self.purchase_drawn = 0.0  # yuan SOs drew from purchase contracts (购买服务)
        self.purchase_served = 0.0  # needs met on purchase contracts' record

    # ------------------------------------------------------------------ the month
    @cyclic_gc_paused
    def step(self) -> None:
        """One month, in the order of the ODD process overview."""
        self._apply_timeline()
        self._reset_counters()
        if self.month % 12 == 0:
            self.bureau.run_yearly_round()
        outreach = priorities.outreach(self)  # founding and entry below leave it unchanged
        ecology.found_community_sos(self, outreach)
        presence = priorities.landing_presence(self)
        needs.arise_and_express(self, needs.Channels(
            platform=self.agenda.online if self.v["policy.linkage.info_platform"] else None,
            landing=presence,
            outreach=outreach, group_reach=group_orgs.reached(self)))
        priorities.landing_trust(self, presence)
        workforce.monthly(self)
        delivery = services.monthly(self)
        lapsed = needs.lapse_unmet(self, delivery)
        finance.monthly(self)
        ecology.closures(self)
        finance.public_spending(self)
        peers = peer_counts(self.pop)  # last month's choices of residents' ties, counted once
        settled = affairs.monthly(self, peers, delivery.so_spare)
        self.so_time_left = settled.so_time_left
        participation.monthly(self, settled, peers)
        self._measure(delivery, lapsed, settled)
        # Public record of the month for views (the dashboard's map, the report's provider
        # mix): who was served, whose need lapsed unmet, and the month's whole delivery.
        self.served_this_month, self.lapsed_this_month = delivery.served, lapsed
        self.delivery_this_month = delivery
        needs.close(self.pop, np.concatenate([delivery.served, lapsed]))
        self.month += 1
        self.datacollector.collect(self)
        if self.month >= self.months:
            self.running = False

    def _apply_timeline(self) -> None:
        """Policy changes due this month ([[timeline]]; sanshe/inputs/timeline.py)."""
        if self.policy_scenario.timeline:
            timeline.apply(self)

    def run(self, months: int | None = None) -> CommunityGovernanceModel:
        """Advance ``months`` months (default: the scenario's ``[run] months``)."""
        for _ in range(int(self.months if months is None else months)):
            self.step()
        return self

    def series(self) -> dict[str, list[float]]:
        """One value per month for every outcome."""
        return {name: [row[name] for row in self._series] for name in OUTCOME_NAMES}

    # ------------------------------------------------------------------ measurement
    def _measure(self, delivery: services.Delivery, lapsed: np.ndarray,
                 settled: affairs.AffairsResult) -> None:
        """This month's value of every outcome (definitions in sanshe/sim/measures.py)."""
        self.current = measure(self, delivery, lapsed, settled)
        self._series.append(self.current)


def default_parameters() -> dict[str, float]:
    """The behavioural constants at their defaults (for notebooks and tests)."""
    return parameter_table.defaults()
