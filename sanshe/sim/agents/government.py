"""Government tiers (政府): district bureau, street offices, residents' committees.

The district civil-affairs bureau (区民政局) holds the purchase budget, the incubator, venture
philanthropy, the registration threshold and the rating; street offices (街道) host SO
service centres and receive referred affairs; community residents' committees (居委会) hold
the service fund, office space, the deliberation platform and the social-work station.
"""

from __future__ import annotations

import mesa

from sanshe.sim.mechanisms import (
    costing,
    donors,
    ecology,
    funding,
    group_orgs,
    incubation,
    procurement,
)
from sanshe.sim.mechanisms.workforce import caseload


class DistrictBureau(mesa.Agent):
    """区民政局: budgets and the yearly rounds of procurement, incubation and rating."""

    def __init__(self, model: mesa.Model, purchase_budget: float, venture_budget: float) -> None:
        super().__init__(model)
        self.purchase_budget = purchase_budget
        self.venture_budget = venture_budget
        self.unawarded = 0.0  # purchase money with no bidder this year (thin markets)
        # yuan this year's purchase budget pays a third-party evaluator (第三方评估), spent
        # through the year
        self.evaluation_fee = 0.0
        # (programme, month, applicants, places) of each incubator / venture round: the
        # places bind only in rounds with more applicants than places
        self.rounds: list[tuple[str, int, int, int]] = []

    def record_round(self, programme: str, applicants: int, places: int) -> None:
        """Keep a programme round's applicants and places (how often places bind)."""
        self.rounds.append((programme, self.model.month, applicants, places))

    def run_yearly_round(self) -> None:
        """The district's year, in the order of docs/ODD.md: close and evaluate last year's
        contracts, rate SOs, let new agencies register for the call, buy this year's
        services, let committees and group organisations fund their projects, give
        venture grants, let donors and firms fund projects, take an incubator cohort;
        planners then start a new year's tally of expressed needs."""
        model = self.model
        evaluated = procurement.evaluate_year(model)
        ecology.rate_year(model, evaluated)
        ecology.professional_entry(model)  # agencies register to bid in this call
        procurement.procure(model)
        funding.community_funds(model)
        group_orgs.yearly(model)
        funding.venture_philanthropy(model)
        donors.fund_projects(model)
        incubation.incubate(model)
        model.expressed_year[:] = 0.0


class StreetOffice(mesa.Agent):
    """街道办事处: receives affairs referred upward from its communities."""

    def __init__(self, model: mesa.Model, index: int) -> None:
        super().__init__(model)
        self.index = index
        self.referrals = 0


class CommunityCommittee(mesa.Agent):
    """社区居委会: service fund, space for SOs, deliberation platform, social-work station."""

    def __init__(self, model: mesa.Model, index: int, street: StreetOffice, rural: bool,
                 residents: int) -> None:
        super().__init__(model)
        self.index = index
        self.street = street
        self.rural = rural
        self.residents = residents
        self.posts = 0  # funded social-work posts (社工站)
        self.staff: list = []  # SocialWorker agents in the station
        self.admin_budget = 0.0  # yuan per month the committee spends on services itself
        # yuan of volunteer points (积分银行) its volunteers earned last month, redeemed this
        # month from the fund's part it spends itself
        self.points_due = 0.0
        # community-fund work offered to SOs (yuan) and what they drew on it: this year's
        # and last year's (what would-be founders saw go undone: ecology.open_work)
        self.fund_offered = self.fund_drawn = 0.0
        self.fund_offered_last = self.fund_drawn_last = 0.0
        self.meetings_decided = 0

    def posts_to_fill(self, p: dict[str, float], salary_index: float) -> int:
        """Funded station posts without a social worker (the station always recruits)."""
        return max(self.posts - len(self.staff), 0)

    def own_part(self) -> tuple[float, float]:
        """This month's part of the fund the committee spends itself: what redeeming its
        volunteers' points (积分银行) leaves for its own services, and what it spends in all
        (points beyond that part paid on top)."""
        return (max(self.admin_budget - self.points_due, 0.0),
                max(self.admin_budget, self.points_due))

    def offer_services(self, p: dict[str, float], price: float | None = None
                       ) -> list[tuple[object, int, float, float]]:
        """What the committee serves with what is left of its fund after redeeming volunteer
        points (行政化: at administrative quality) and what its station's social workers
        offer in casework, as (provider, community, services, quality): services.monthly
        spreads every committee's over the domains residents ask for at once. ``price``:
        this month's :func:`costing.price`, when the caller has it (it is the same for
        every committee of the district)."""
        c = self.index
        # its fund buys fewer units than an SO's price (成本核算) would
        if price is None:
            price = costing.price(self.model)
        own, _ = self.own_part()
        rows: list[tuple[object, int, float, float]] = [
            (self, c, own / price * p["admin_efficiency"], p["admin_quality"])]
        unskilled = p["unskilled_productivity"]
        per_worker = p["station_casework_share"] * caseload(p, self.model.v)
        rows += [(worker, c, per_worker * (unskilled + (1.0 - unskilled) * worker.skill),
                  worker.skill) for worker in self.staff]
        return rows
