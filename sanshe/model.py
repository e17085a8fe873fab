"""CommunityGovernanceModel: a district of communities, one month per step.

``step()`` reads like the schedule in docs/ODD.md (process overview): yearly rounds first
(evaluation, rating, procurement, community funds, group-organization projects, venture
philanthropy, incubation), then each month: SO founding, needs, social workers, service
supply and delivery, money, community affairs, participation, and measurement.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import mesa
import numpy as np

from sanshe import parameters as parameter_table
from sanshe import timeline
from sanshe.agents.government import CommunityCommittee, DistrictBureau, StreetOffice
from sanshe.agents.group_org import GROUP_ORG_KINDS, PROJECT_VALUE, GroupOrganization
from sanshe.agents.social_org import COMMUNITY, PROFESSIONAL, Contract, SocialOrganization
from sanshe.agents.social_worker import SocialWorker, exit_probability, fill_probability
from sanshe.mechanisms import affairs, ecology, needs, participation, procurement, services
from sanshe.outcomes import OUTCOME_NAMES
from sanshe.population import D, Population, build_population
from sanshe.scenario import Scenario
from sanshe.streams import make_streams

COMMUNITY_PROJECT = 20_000.0  # yuan: one community-fund project (微项目, seed 001)


def read_outcome(model: CommunityGovernanceModel, name: str) -> float:
    """DataCollector reporter: this month's value of outcome ``name`` (picklable)."""
    return model.current[name]


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
        self._build()
        self.current: dict[str, float] = {}
        self._series: list[dict[str, float]] = []
        self.datacollector = mesa.DataCollector(
            model_reporters={name: partial(read_outcome, name=name) for name in OUTCOME_NAMES}
        )

    # ------------------------------------------------------------------ construction
    def _build(self) -> None:
        v, p, rng = self.v, self.p, self.streams["population"]
        streets = int(v["district.streets"])
        n_comm = streets * int(v["district.communities_per_street"])
        rural = np.zeros(n_comm, bool)
        rural[: int(round(v["district.rural_share"] * n_comm))] = True
        sizes = np.full(n_comm, int(v["district.residents_per_community"]))
        self.pop: Population = build_population(sizes, rural, p, rng)
        self.sizes = sizes
        self.bureau = DistrictBureau(self, v["policy.purchase.annual_budget"],
                                     v["policy.purchase.venture_philanthropy_budget"])
        self.streets = [StreetOffice(self, i) for i in range(streets)]
        per_street = int(v["district.communities_per_street"])
        self.committees = [
            CommunityCommittee(self, c, self.streets[c // per_street], bool(rural[c]),
                               int(sizes[c]))
            for c in range(n_comm)
        ]
        for committee in self.committees:
            committee.posts = int(v["policy.social_work.posts_per_community"])
        self.group_orgs = [
            GroupOrganization(self, kind, self._reach(kind.reach, n_comm, rng),
                              p["group_budget"])
            for kind in GROUP_ORG_KINDS
        ]
        self.sos: list[SocialOrganization] = []
        self._seed_organizations(rng)
        self._reset_counters()
        self.incumbents: set[tuple[int, int, int]] = set()  # (so id, community, domain)
        self.year_contract_value: dict[int, float] = {}
        self.group_projects: list[tuple[int, int, int]] = []  # (org id, community, domain)
        self.group_offers: list[tuple[GroupOrganization, Contract | None, int, int, float]] = []
        self.expressed_year = np.zeros((n_comm, D))

    def _reach(self, reach: str, n: int, rng: np.random.Generator) -> np.ndarray:
        """Communities a group organisation reaches (seed 000)."""
        if reach == "all":
            return np.ones(n, bool)
        share = self.p["union_reach"] if reach == "union" else float(reach)
        return rng.random(n) < share

    def _seed_organizations(self, rng: np.random.Generator) -> None:
        """The SOs and social workers a district starts with (before the policy)."""
        p = self.p
        for c, committee in enumerate(self.committees):
            for _ in range(1 if committee.rural else 2):
                domain = int(rng.integers(D))
                so = self._found(COMMUNITY, domain, c, rng, ties=p["ties_seeded_community_so"])
                so.age = int(rng.integers(12, 60))
                self._recruit_members(so, int(p["min_members"]) + 2, rng)
        for _ in range(3):
            c = int(rng.integers(len(self.committees)))
            so = self._found(PROFESSIONAL, int(rng.integers(D)), c, rng,
                             ties=p["ties_seeded_agency"])
            so.age = int(rng.integers(24, 96))
            so.capacity = p["initial_capacity_professional"] + 0.1
            so.reputation = 0.5
            for _ in range(2):
                self._hire(so, rng)
        for committee in self.committees:
            for _ in range(committee.posts):
                self._hire(committee, rng)
        self.births_month = 0

    def _found(self, kind: str, domain: int, community: int, rng: np.random.Generator,
               ties: float) -> SocialOrganization:
        """A new SO with a starting reserve."""
        p = self.p
        capacity = p["initial_capacity_community" if kind == COMMUNITY
                     else "initial_capacity_professional"]
        capacity = float(np.clip(capacity + rng.normal(0, p["capacity_spread"]), 0.02, 0.9))
        fixed = p["community_so_cost"] if kind == COMMUNITY else (
            p["rent_per_month"] + p["local_wage"])
        so = SocialOrganization(self, kind, domain, community, capacity,
                                cash=p["cash_months_initial"] * fixed, ties=ties)
        self.sos.append(so)
        self.births_month = getattr(self, "births_month", 0) + 1
        return so

    def _recruit_members(self, so: SocialOrganization, count: int,
                         rng: np.random.Generator) -> None:
        """Residents of the SO's community (not yet members) join it."""
        pool = np.flatnonzero((self.pop.community == so.community) & (self.pop.member_of < 0))
        if pool.size == 0:
            return
        weights = self.pop.disposition[pool] + 0.05
        chosen = rng.choice(pool, size=min(count, pool.size), replace=False,
                            p=weights / weights.sum())
        self.pop.member_of[chosen] = so.unique_id

    def _hire(self, employer: SocialOrganization | CommunityCommittee,
              rng: np.random.Generator) -> SocialWorker:
        p = self.p
        certified = bool(rng.random() < p["certified_share_new"])
        skill = p["skill_initial"] + (p["certified_skill_bonus"] if certified else 0.0)
        worker = SocialWorker(self, employer, certified, float(np.clip(skill, 0, 1)))
        employer.staff.append(worker)
        return worker

    def _reset_counters(self) -> None:
        """Monthly tallies the outcomes read."""
        self.births_month = 0
        self.closures_month = 0
        self.exits_month = 0
        self.gov_month = 0.0
        self.group_month = 0.0
        self.nongov_month = 0.0
        self.community_so_served = 0.0  # needs met by community SOs (their activity)

    # ------------------------------------------------------------------ the month
    def step(self) -> None:
        """One month, in the order of the ODD process overview."""
        self._apply_timeline()
        self._reset_counters()
        if self.month % 12 == 0:
            self._yearly_round()
        outreach = self._outreach()  # founding and entry below leave it unchanged
        self._found_community_sos(outreach)
        self._professional_entry()
        self._needs_arise(outreach)
        self._social_workers()
        offers = self._supply()
        delivery = services.deliver(self.pop, offers, self.streams["service"])
        services.experience(self.pop, delivery, self.p)
        self._record_delivery(offers, delivery)
        lapsed = needs.lapse(self.pop, self._served_mask(delivery), self.p,
                             self.streams["needs"])
        self._finances(offers, delivery)
        settled = self._affairs()
        self._participate(settled)
        self._measure(delivery, lapsed, settled)
        # Public record of the month for views (the dashboard's per-community map): the
        # residents whose need was met, and those whose need lapsed unmet.
        self.served_this_month, self.lapsed_this_month = delivery.served, lapsed
        needs.close(self.pop, np.concatenate([delivery.served, lapsed]))
        self.month += 1
        self.datacollector.collect(self)
        if self.month >= self.months:
            self.running = False

    def _apply_timeline(self) -> None:
        """Policy changes due this month (the scenario's [[timeline]], sanshe/timeline.py)."""
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

    # ------------------------------------------------------------------ yearly round
    def _yearly_round(self) -> None:
        """Close last year's contracts, rate SOs, then buy and support for the new year."""
        rng = self.streams["procurement"]
        evaluated = self._evaluate_contracts(rng)
        for so in self.sos:
            if self.month > 0 and so.unique_id not in evaluated:
                ecology.social_evaluation(so, self.p)
            so.year_served = so.year_quality = 0.0
            so.rating = ecology.rate(so, self.p)
            so.ledger.year = dict.fromkeys(so.ledger.year, 0.0)
        self._procure(rng)
        self._community_funds(rng)
        self._group_org_projects(self.streams["groups"])
        self._venture_philanthropy(rng)
        self._incubate(self.streams["ecology"])
        self.expressed_year[:] = 0.0

    def _evaluate_contracts(self, rng: np.random.Generator) -> set[int]:
        """Score last year's purchase contracts; the ids of the SOs that were evaluated."""
        third = bool(self.v["policy.purchase.third_party_evaluation"])
        weight = float(self.v["policy.purchase.satisfaction_weight"])
        self.incumbents = set()
        evaluated: set[int] = set()
        for so in self.sos:
            for contract in so.contracts:
                if contract.buyer == "purchase" and not contract.evaluated:
                    procurement.evaluate(so, contract, third, weight, self.p, rng)
                    self.incumbents.add((so.unique_id, contract.community, contract.domain))
                    evaluated.add(so.unique_id)
            so.contracts = [c for c in so.contracts if c.months_left > 0]
        return evaluated

    def _demand_known(self) -> np.ndarray:
        """What planners know of residents' needs: expressed ones, plus hidden via platform."""
        if self.month == 0:  # a needs survey before the first year: expected needs
            key = self.pop.community
            return np.stack([np.bincount(key, weights=self.pop.need_weights[:, d],
                                         minlength=self.pop.communities) for d in range(D)],
                            axis=1) * 12
        visible = self.expressed_year.copy()
        if self.v["policy.linkage.info_platform"]:
            visible += self.p["platform_needs_visibility"] * needs.open_counts(self.pop, False)
        return visible

    def _supply_map(self) -> np.ndarray:
        """SOs' capacity by (community, domain): what SOs would propose (project-led)."""
        supply = np.zeros((self.pop.communities, D))
        for so in self.sos:
            if so.is_community:
                supply[so.community, so.domain] += so.capacity
            else:
                supply[:, so.domain] += so.capacity / self.pop.communities
        return supply

    def _procure(self, rng: np.random.Generator) -> None:
        """政府购买服务: this year's lots, awarded by the procurement mode."""
        v, p = self.v, self.p
        weights = procurement.needs_list(v["policy.linkage.mode"], self._demand_known(),
                                         self._supply_map(),
                                         bool(v["policy.four_priorities.projects"]), p)
        lots = procurement.make_lots(weights, self.bureau.purchase_budget, p["lot_size"])
        mode = v["policy.purchase.mode"]
        directed_share = {"directed": 1.0, "competitive": 0.0}.get(
            mode, float(v["policy.purchase.directed_share"]))
        # 政府主导型 (seed 004): contracts also serve the government's central tasks and
        # large events; few activities start from residents' needs
        tasks = p["gov_led_task_share"] if v["policy.linkage.mode"] == "government_led" else 0.0
        self.year_contract_value = {}
        self.bureau.unawarded = 0.0
        for lot in lots:
            candidates = [so for so in self.sos
                          if procurement.eligible(so, lot, p["min_bid_capacity"])]
            incumbents = {so_id for so_id, c, d in self.incumbents
                          if c == lot.community and d == lot.domain}
            winner = procurement.award(lot, candidates, rng.random() < directed_share,
                                       incumbents, p, rng)
            if winner is None:
                self.bureau.unawarded += lot.value
                continue
            for so, part in self._land_project(winner, lot):
                procurement.sign(so, part, "purchase", p, task_share=tasks)
                self.year_contract_value[so.unique_id] = (
                    self.year_contract_value.get(so.unique_id, 0.0) + part.value)

    def _land_project(self, winner: SocialOrganization, lot: procurement.Lot,
                      ) -> list[tuple[SocialOrganization, procurement.Lot]]:
        """公益项目优先落地社区 (seed 001): an agency's project is carried out with a
        community SO of the community where it lands, which takes ``project_partner_share``
        of the work and money — local organisations undertaking projects align them with
        residents' aims and draw residents in (Watkins 2001, quoted in seed 004)."""
        if winner.is_community or not self.v["policy.four_priorities.projects"]:
            return [(winner, lot)]
        floor = 0.5 * self.p["min_bid_capacity"]
        local = [so for so in self.sos if so.is_community and so.community == lot.community
                 and so.capacity >= floor]
        if not local:
            return [(winner, lot)]
        partner = max(local, key=lambda so: (so.domain == lot.domain, so.reputation,
                                             -so.unique_id))
        share = self.p["project_partner_share"]
        return [(winner, procurement.Lot(lot.community, lot.domain, lot.value * (1 - share))),
                (partner, procurement.Lot(lot.community, lot.domain, lot.value * share))]

    def _community_funds(self, rng: np.random.Generator) -> None:
        """Each committee's service fund: projects for SOs, the rest by the committee itself
        unless the services priority offers it to SOs first (社区服务优先考虑社会组织承接)."""
        v, p = self.v, self.p
        fund = float(v["policy.community.service_fund"])
        services_first = bool(v["policy.four_priorities.services"])
        known = self._demand_known()
        for committee in self.committees:
            c = committee.index
            to_sos = fund * float(v["policy.community.project_share"])
            if services_first:
                to_sos = fund
            local = [so for so in self.sos if so.community == c
                     and so.capacity >= 0.5 * p["min_bid_capacity"]]
            spent = 0.0
            weights = known[c] + 1e-9
            for _ in range(int(to_sos // COMMUNITY_PROJECT)):
                if not local:
                    break
                # each 微项目 answers a need on the committee's list, by its weight
                domain = int(rng.choice(D, p=weights / weights.sum()))
                matching = [so for so in local if so.domain == domain] or local
                so = matching[int(rng.integers(len(matching)))]
                lot = procurement.Lot(c, domain, COMMUNITY_PROJECT)
                procurement.sign(so, lot, "community_fund", p)
                spent += COMMUNITY_PROJECT
            committee.admin_budget = (fund - spent) / 12.0

    def _group_org_projects(self, rng: np.random.Generator) -> None:
        """群团 projects: in silos each org picks the most visible communities; coordinated,
        they split (community, domain) pairs between them (seed 000 协同机制)."""
        coordinated = bool(self.v["policy.linkage.group_coordination"])
        known = self._demand_known()
        taken: set[tuple[int, int]] | None = set() if coordinated else None
        self.group_projects = []
        self.group_offers = []
        order = rng.permutation(len(self.group_orgs))
        for i in order:
            org = self.group_orgs[int(i)]
            if rng.random() < self.p["cadre_turnover"]:
                org.informed = False  # a new cadre does not know the communities yet
            elif not org.informed:
                org.informed = True
            for c, d in org.choose_projects(known, taken, rng):
                self.group_projects.append((org.unique_id, c, d))
                if taken is not None:
                    taken.add((c, d))
                self._commission_group_project(org, c, d, rng)

    def _commission_group_project(self, org: GroupOrganization, c: int, d: int,
                                  rng: np.random.Generator) -> None:
        """Buy the project from a local SO in the domain, or run it with own volunteers."""
        p = self.p
        slots = PROJECT_VALUE * p["group_project_slots_share"] / 12.0 / p["unit_cost"]
        local = [so for so in self.sos if so.domain == d
                 and (so.community == c or not so.is_community)]
        if not local and self.v["policy.four_priorities.projects"]:
            # 公益项目优先落地社区: the project goes to a community SO of that community
            local = [so for so in self.sos if so.is_community and so.community == c]
        if local:
            so = max(local, key=lambda s: s.reputation + 1e-6 * rng.random())
            contract = Contract("group_org", c, d, PROJECT_VALUE, slots)
            so.contracts.append(contract)
            self.group_offers.append((org, contract, c, d, slots))
        else:
            self.group_offers.append((org, None, c, d, slots))

    def _venture_philanthropy(self, rng: np.random.Generator) -> None:
        """公益创投: small grants for projects of new or small SOs; leaders may found one."""
        p = self.p
        grants = int(self.bureau.venture_budget // p["venture_grant"])
        if grants <= 0:
            return
        young = [so for so in self.sos if so.age < p["venture_young_months"]
                 or so.capacity < p["venture_small_capacity"]]
        young.sort(key=lambda so: -(so.capacity + rng.normal(0, 0.1)))
        for i in range(grants):
            if i < len(young) and rng.random() < p["venture_existing_share"]:
                so = young[i]
            else:
                so = self._leader_founds(rng, "venture")
                if so is None:
                    continue
            lot = procurement.Lot(so.community, so.domain, p["venture_grant"])
            procurement.sign(so, lot, "venture", p)

    def _incubate(self, rng: np.random.Generator) -> None:
        """孵化: a yearly cohort of places, filled by new foundings and young SOs."""
        v, p = self.v, self.p
        if not v["policy.incubation.enabled"]:
            return
        places = int(v["policy.incubation.places"])
        if places <= 0:  # an incubator without places draws nothing (common random numbers)
            return
        cohort: list[SocialOrganization] = []
        for _ in range(int(round(places * p["incubator_founding_share"]))):
            so = self._leader_founds(rng, "incubator")
            if so is not None:
                cohort.append(so)
        young = [so for so in self.sos if so.is_community and not so.ever_incubated
                 and so.age < p["incubation_young_months"] and so not in cohort]
        rng.shuffle(young)
        cohort += young[: max(places - len(cohort), 0)]
        for so in cohort:
            so.incubated_months = int(v["policy.incubation.months"])
            so.ever_incubated = True
            so.cash += float(v["policy.incubation.startup_grant"])
            so.ledger.receive("venture", float(v["policy.incubation.startup_grant"]))
            self.gov_month += float(v["policy.incubation.startup_grant"])

    def _leader_founds(self, rng: np.random.Generator, why: str) -> SocialOrganization | None:
        """A resident leader who has not founded yet turns a proposal into a community SO."""
        pop = self.pop
        leaders = np.flatnonzero(pop.leader & ~pop.founder)
        if leaders.size == 0:
            return None
        who = int(rng.choice(leaders))
        c = int(pop.community[who])
        domain = ecology.founding_domain(self._demand_known()[c], rng)
        so = self._found(COMMUNITY, domain, c, rng, ties=self.p["ties_programme_community_so"])
        pop.founder[who] = True
        pop.member_of[who] = so.unique_id
        self._recruit_members(so, int(self.p["min_members"]), rng)
        return so

    # ------------------------------------------------------------------ monthly mechanisms
    def _free_space(self) -> np.ndarray:
        """Share of SO running costs covered by community space (社区资源优先, seed 001)."""
        share = float(self.v["policy.community.space_share_for_sos"])
        used = 1.0 if self.v["policy.four_priorities.resources"] else self.p[
            "space_without_priority"]
        return np.full(self.pop.communities, share * used)

    def _community_so_counts(self) -> np.ndarray:
        counts = np.zeros(self.pop.communities)
        for so in self.sos:
            if so.is_community:
                counts[so.community] += 1
        return counts

    def _outreach(self) -> np.ndarray:
        """Share of each community's residents that social workers reach: the station's
        staff and, with the landing priority (社会组织优先落地社区), agencies' staff in the
        communities where they hold contracts, for ``landing_outreach_share`` of their time."""
        p = self.p
        workers = np.zeros(self.pop.communities)
        skill = np.zeros(self.pop.communities)
        for committee in self.committees:
            workers[committee.index] += len(committee.staff)
            skill[committee.index] += sum(w.skill for w in committee.staff)
        if self.v["policy.four_priorities.landing"]:
            for so in self.sos:
                if so.is_community or not (so.contracts and so.staff):
                    continue
                share = p["landing_outreach_share"] * len(so.staff) / len(so.contracts)
                staff_skill = so.skill()
                for contract in so.contracts:
                    workers[contract.community] += share
                    skill[contract.community] += share * staff_skill
        covered = np.minimum(1.0, workers * p["outreach_residents_per_sw"] / self.sizes)
        mean_skill = np.divide(skill, workers, out=np.zeros_like(skill), where=workers > 0)
        return np.where(workers > 0, covered * (0.5 + 0.5 * mean_skill), 0.0)

    def _found_community_sos(self, outreach: np.ndarray) -> None:
        """Active leaders found community SOs (社区能人 → 社区社会组织)."""
        pop, rng = self.pop, self.streams["ecology"]
        chance = ecology.founding_chance(
            self._community_so_counts() * 1000.0 / self.sizes,
            self.v["policy.incubation.registration_threshold"] == "low",
            self._free_space(), outreach, self.p)
        active = pop.leader & ~pop.founder & pop.participating
        candidates = np.flatnonzero(active)
        founders = candidates[rng.random(candidates.size) < chance[pop.community[candidates]]]
        known = self._demand_known() if founders.size else None  # most months found nothing
        for who in founders:
            c = int(pop.community[who])
            so = self._found(COMMUNITY, ecology.founding_domain(known[c], rng), c, rng,
                             ties=self.p["ties_new_community_so"])
            pop.founder[who] = True
            pop.member_of[who] = so.unique_id

    def _professional_entry(self) -> None:
        """Agencies enter when the purchase market can feed more of them (Guangzhou)."""
        p, rng = self.p, self.streams["ecology"]
        professionals = sum(1 for so in self.sos if not so.is_community)
        room = self.bureau.purchase_budget / p["market_per_agency"] - professionals
        if room > 0 and rng.random() < p["professional_entry_rate"] * room:
            c = int(rng.integers(self.pop.communities))
            so = self._found(PROFESSIONAL, int(rng.integers(D)), c, rng,
                             ties=p["ties_new_agency"])
            self._hire(so, rng)

    def _needs_arise(self, outreach: np.ndarray) -> None:
        pop = self.pop
        needs.arise(pop, self.streams["needs"])
        landing = self._landing_presence()
        channels = needs.Channels(platform=bool(self.v["policy.linkage.info_platform"]),
                                  landing=landing, outreach=outreach,
                                  group_reach=self._group_reach())
        before = pop.need_expressed.copy()
        needs.express(pop, channels, self.p, self.streams["expression"])
        newly = np.flatnonzero(pop.need_expressed & ~before)
        np.add.at(self.expressed_year, (pop.community[newly], pop.need_domain[newly]), 1.0)
        if self.v["policy.four_priorities.landing"]:
            pop.trust += self.p["landing_trust_gain"] * landing[pop.community] * (1 - pop.trust)

    def _landing_presence(self) -> np.ndarray:
        """SOs present in each community through the landing priority (优先落地社区)."""
        if not self.v["policy.four_priorities.landing"]:
            return np.zeros(self.pop.communities)
        present = np.zeros(self.pop.communities)
        for so in self.sos:
            if so.is_community:
                present[so.community] += 1
            else:
                for contract in so.contracts:
                    present[contract.community] += 1
        return 1.0 - np.exp(-present / self.p["landing_saturation"])

    def _social_workers(self) -> None:
        """Quits, certification, skill growth and hiring (社工队伍)."""
        v, p, rng = self.v, self.p, self.streams["workers"]
        salary = float(v["policy.social_work.salary_index"])
        training = float(v["policy.social_work.training"])
        quit_chance = exit_probability(p, salary, training)
        certify = p["certification_rate"] * (
            p["certification_support_mult"] if v["policy.social_work.certification_support"]
            else 1.0)
        employers = [*self.sos, *self.committees]
        for employer in employers:
            stay = []
            for worker in employer.staff:
                if rng.random() < quit_chance:
                    self.exits_month += 1
                    worker.remove()
                    continue
                worker.tenure += 1
                worker.skill = min(1.0, worker.skill + p["skill_gain_experience"]
                                   + p["skill_gain_training"] * training)
                if not worker.certified and rng.random() < certify:
                    worker.certified = True
                    worker.skill = min(1.0, worker.skill + p["certified_skill_bonus"])
                stay.append(worker)
            employer.staff = stay
        fill = fill_probability(p, salary)
        for employer in employers:
            wanted = employer.vacancies if isinstance(employer, CommunityCommittee) else (
                self._so_vacancies(employer, salary))
            for _ in range(wanted):
                if rng.random() < fill:
                    self._hire(employer, rng)

    def _so_vacancies(self, so: SocialOrganization, salary: float) -> int:
        """Posts an SO opens: enough staff for its contracts, if it can pay them."""
        if not so.contracts:
            if so.staff and so.cash < 0:  # no work and no money: let one go
                so.staff.pop().remove()
            return 0
        needed = so.staff_needed(self.p) - len(so.staff)
        income = sum(c.monthly_payment for c in so.contracts)
        affordable = int(max(income + so.cash / 12.0, 0) // (salary * self.p["local_wage"]))
        return max(min(needed, affordable - len(so.staff)), 0)

    def _supply(self) -> services.Offers:
        """Every provider's slots this month, by community and domain."""
        p, pop = self.p, self.pop
        offers = services.Offers()
        open_expressed = needs.open_counts(pop, expressed=True)
        for so in self.sos:
            self._so_offers(so, offers, open_expressed)
        for committee in self.committees:
            c = committee.index
            split = _split(open_expressed[c])
            admin_slots = committee.admin_budget / p["unit_cost"] * p["admin_efficiency"]
            for d in range(D):
                offers.add(committee, c, d, admin_slots * split[d], p["admin_quality"], False)
            for worker in committee.staff:
                casework = 0.5 * p["slots_per_sw"] * (0.5 + 0.5 * worker.skill)
                for d in range(D):
                    offers.add(worker, c, d, casework * split[d], worker.skill, False)
        for org, contract, c, d, slots in self.group_offers:
            if contract is None:  # the group org runs it with its own volunteers
                offers.add(org, c, d, slots, p["admin_quality"], False)
        return offers

    def _so_offers(self, so: SocialOrganization, offers: services.Offers,
                   open_expressed: np.ndarray) -> None:
        """An SO splits its effort between contracts (real or showcase) and own activity;
        real contracted service follows residents' requests as far as it is responsive."""
        p = self.p
        effort = so.output(p)
        quality = so.quality(p)
        o = so.orientation
        per_slot = o * p["real_service_cost"] + (1 - o)
        needed = so.contracted() * per_slot
        scale = min(1.0, effort / needed) if needed > 0 else 0.0
        for contract in so.contracts:
            c = contract.community
            real = procurement.responsive_split(scale * contract.slots * o, contract.domain,
                                                open_expressed[c], so.responsiveness)
            for d, slots in real.items():
                offers.add((so, contract, d == contract.domain), c, d, slots, quality, True)
            contract.showcase += scale * contract.slots * (1 - o)
        spare = max(effort - needed, 0.0)
        if so.is_community:
            offers.add((so, None, True), so.community, so.domain, spare, quality, True)

    def _record_delivery(self, offers: services.Offers, delivery: services.Delivery) -> None:
        """Credit each contract and SO with the needs it met and at what quality."""
        self.served_by_so: dict[int, float] = {}
        for provider, served, quality in zip(offers.provider, delivery.offer_served,
                                             offers.quality, strict=True):
            if not isinstance(provider, tuple):
                continue
            so, contract, on_spec = provider
            self.served_by_so[so.unique_id] = self.served_by_so.get(so.unique_id, 0.0) + served
            self.community_so_served += served if so.is_community else 0.0
            so.year_served += served
            so.year_quality += served * quality
            if contract is not None:
                contract.served += served
                contract.served_spec += served if on_spec else 0.0
                contract.quality_sum += served * quality

    def _served_mask(self, delivery: services.Delivery) -> np.ndarray:
        mask = np.zeros(self.pop.size, bool)
        mask[delivery.served] = True
        return mask

    def _finances(self, offers: services.Offers, delivery: services.Delivery) -> None:
        """Payments, gifts, costs, capacity, and closures (money or members run out)."""
        v, p, rng = self.v, self.p, self.streams["finance"]
        salary = float(v["policy.social_work.salary_index"])
        free = self._free_space()
        landing = bool(v["policy.four_priorities.landing"])
        members = np.bincount(self.pop.member_of[self.pop.member_of >= 0])
        for so in self.sos:
            so.ledger.month = dict.fromkeys(so.ledger.month, 0.0)
            so.members = int(members[so.unique_id]) if so.unique_id < members.size else 0
            for contract in so.contracts:
                so.ledger.receive(contract.buyer, contract.monthly_payment)
                so.cash += contract.monthly_payment
                if contract.buyer == "group_org":
                    self.group_month += contract.monthly_payment
                else:
                    self.gov_month += contract.monthly_payment
                contract.months_left -= 1
            served = self.served_by_so.get(so.unique_id, 0.0)
            gov_share = so.ledger.government_share()
            gifts = p["donation_rate"] * so.reputation * (served + so.members) * p["unit_cost"]
            gifts *= max(1.0 + p["crowding"] * gov_share, 0.0)
            fees = p["fee_share"] * served * p["unit_cost"]
            if so.is_community:
                fees += p["member_dues"] * so.members
            so.ledger.receive("donations", gifts)
            so.ledger.receive("fees", fees)
            self.nongov_month += gifts + fees
            rent_factor = 1.0 - (free[so.community] if (so.is_community or landing) else 0.0)
            so.cash += gifts + fees - so.monthly_costs(p, salary, rent_factor)
            training = float(v["policy.incubation.training"]) if so.incubated else 0.0
            ecology.grow_capacity(so, served, training, p)
            so.age += 1
            so.incubated_months = max(so.incubated_months - 1, 0)
            active = served > 0 or so.members >= p["min_members"] or bool(so.contracts)
            so.idle_months = 0 if active else so.idle_months + 1
        for so in list(self.sos):
            if self._closes(so, salary, rng):
                self._close(so)
        for committee in self.committees:
            self.gov_month += committee.admin_budget
            self.gov_month += len(committee.staff) * salary * p["local_wage"]
        for _org, contract, *_ in self.group_offers:
            if contract is None:
                self.group_month += PROJECT_VALUE / 12.0
        self.group_offers = [g for g in self.group_offers
                             if g[1] is None or g[1].months_left > 0]

    def _closes(self, so: SocialOrganization, salary: float, rng: np.random.Generator) -> bool:
        p = self.p
        costs = so.monthly_costs(p, salary, 1.0)
        broke = so.cash < -3.0 * max(costs, 1.0)
        idle = so.idle_months >= p["inactive_months_to_close"]
        return broke or idle or rng.random() < ecology.death_chance(so, p)

    def _close(self, so: SocialOrganization) -> None:
        """An SO closes: staff leave, members are free, contracts lapse."""
        for worker in so.staff:
            worker.remove()
        so.staff = []
        self.pop.member_of[self.pop.member_of == so.unique_id] = -1
        self.sos.remove(so)
        so.remove()
        self.closures_month += 1

    def _affairs(self) -> affairs.AffairsResult:
        """Community public affairs settled by meetings, SOs or referral (the 622 rule)."""
        pop = self.pop
        strength = np.zeros(pop.communities)
        for so in self.sos:
            if so.is_community:
                strength[so.community] += so.capacity
            for contract in so.contracts:
                if contract.community != so.community or not so.is_community:
                    strength[contract.community] += so.capacity / max(len(so.contracts), 1)
        attendees = pop.per_community(pop.deliberating.astype(float))
        result = affairs.settle(self.sizes.astype(float), attendees, strength,
                                bool(self.v["policy.community.deliberation"]), self.p,
                                self.streams["affairs"])
        for committee in self.committees:
            committee.street.referrals += int(result.referral[committee.index])
        return result

    def _participate(self, settled: affairs.AffairsResult) -> None:
        """Residents choose to volunteer, deliberate or join an SO (threshold model)."""
        pop, p, v = self.pop, self.p, self.v
        rewarded = pop.deliberating & settled.decided[pop.community]
        participation.update_efficacy(pop, rewarded, p)
        participation.fade(pop, p)
        organisers = self._organisers()
        outreach = self._outreach()
        ctx = participation.Context(
            mobilisation=self._mobilisation(outreach),
            positions=organisers * p["volunteer_positions"],
            seats=self.sizes * p["deliberation_seats"],
            deliberation=bool(v["policy.community.deliberation"]),
            volunteer_points=bool(v["policy.community.volunteer_points"]),
            so_room=self._so_room(),
        )
        participation.decide(pop, ctx, p, self.streams["participation"])
        participation.emerge_leaders(pop, outreach, p, self.streams["participation"])

    def _group_targets(self) -> list[np.ndarray]:
        """Per group organisation, the residents of its target group in the communities it
        reaches; coordinated organisations share channels, so they reach every community
        (seed 000)."""
        pop = self.pop
        coordinated = bool(self.v["policy.linkage.group_coordination"])
        masks = []
        for org in self.group_orgs:
            reach = np.ones(pop.communities, bool) if coordinated else org.reach
            masks.append(pop.groups[org.kind.target] & reach[pop.community])
        return masks

    def _group_reach(self) -> np.ndarray:
        """Residents whose special group some group organisation reaches where they live."""
        return np.logical_or.reduce(self._group_targets())

    def _mobilisation(self, outreach: np.ndarray) -> np.ndarray:
        """Pull from group organisations on their target groups and from social workers."""
        pop, p = self.pop, self.p
        pull = p["sw_mobilisation"] * outreach[pop.community]
        for target in self._group_targets():
            pull = pull + p["group_mobilisation"] * target / len(self.group_orgs) * 2
        return pull

    def _organisers(self) -> np.ndarray:
        """Who organises volunteering in each community: community SOs (as far as they have
        a venue) and their staff, station social workers, and — with the landing priority —
        the staff of agencies working there (社会组织优先落地社区开展活动)."""
        venue = self._venue()
        landing = bool(self.v["policy.four_priorities.landing"])
        count = np.array([len(c.staff) for c in self.committees], float)
        for so in self.sos:
            if so.is_community:
                count[so.community] += venue[so.community] + len(so.staff)
            elif landing and so.contracts:
                share = len(so.staff) / len(so.contracts)
                for contract in so.contracts:
                    count[contract.community] += share
        return count

    def _venue(self) -> np.ndarray:
        """How far community SOs have a place to meet: some without help, all with space."""
        base = self.p["venue_base"]
        return base + (1.0 - base) * self._free_space()

    def _so_room(self) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        """Free member places of community SOs: places grow with their venue (resources)."""
        places = self.p["so_member_capacity"] * self._venue()
        member_of = self.pop.member_of
        top = max((so.unique_id for so in self.sos), default=0) + 1
        members = np.bincount(member_of[member_of >= 0], minlength=top)
        room: dict[int, tuple[list[int], list[int]]] = {}
        for so in self.sos:
            free = int(places[so.community]) - int(members[so.unique_id])
            if so.is_community and free > 0:
                ids, frees = room.setdefault(so.community, ([], []))
                ids.append(so.unique_id)
                frees.append(free)
        return {c: (np.asarray(i), np.asarray(f)) for c, (i, f) in room.items()}

    # ------------------------------------------------------------------ measurement
    def _measure(self, delivery: services.Delivery, lapsed: np.ndarray,
                 settled: affairs.AffairsResult) -> None:
        """This month's value of every outcome (definitions in sanshe/outcomes.py)."""
        from sanshe.measures import measure  # one module per idea: what each outcome means

        self.current = measure(self, delivery, lapsed, settled)
        self._series.append(self.current)


def _split(counts: np.ndarray) -> np.ndarray:
    """Shares across domains in proportion to ``counts`` (even when there are none)."""
    total = counts.sum()
    return counts / total if total > 0 else np.full(counts.size, 1.0 / counts.size)


def default_parameters() -> dict[str, float]:
    """The behavioural constants at their defaults (for notebooks and tests)."""
    return parameter_table.defaults()
