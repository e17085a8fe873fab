"""Government tiers (政府): district bureau, street offices, residents' committees.

The district civil-affairs bureau (区民政局) holds the purchase budget, the incubator, venture
philanthropy, the registration threshold and the rating; street offices (街道) host SO
service centres and receive referred affairs; community residents' committees (居委会) hold
the service fund, office space, the deliberation platform and the social-work station.
"""

from __future__ import annotations

import mesa


class DistrictBureau(mesa.Agent):
    """区民政局: budgets and the yearly rounds of procurement, incubation and rating."""

    def __init__(self, model: mesa.Model, purchase_budget: float, venture_budget: float) -> None:
        super().__init__(model)
        self.purchase_budget = purchase_budget
        self.venture_budget = venture_budget
        self.unawarded = 0.0  # purchase money with no bidder this year (thin markets)


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
        self.meetings_decided = 0

    @property
    def vacancies(self) -> int:
        return max(self.posts - len(self.staff), 0)
