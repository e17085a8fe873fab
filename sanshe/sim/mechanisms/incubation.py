"""Incubation (孵化, seeds 001, 004): a yearly call for applications to incubator places.

Two kinds of applicant apply: would-be founders — active leaders (骨干/能人) who, with the
incubator's free space and start-up grant paying their first year's costs, would found a
community SO within the year (the founding decision of
:func:`sanshe.sim.mechanisms.ecology.programme_applicants`) — and young community SOs not
incubated before that are still too weak to take contracts (capacity below
``min_bid_capacity``: training is what they lack). The incubator ranks applicants by their
promise (capacity, a new SO's expected capacity) with the jury's noise and admits as many as
it has places; a place nobody applies for stays empty. Admitted founders found their SO;
every admitted SO pays no rent while incubated, gets the start-up grant and training
(capacity grows faster, :func:`sanshe.sim.mechanisms.ecology.grow_capacity`) and, like any
endorsed SO, dies less often while new (legitimacy, Singh, Tucker & House 1986).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sanshe.inputs import money
from sanshe.sim.mechanisms import ecology
from sanshe.sim.streams import whole_count

if TYPE_CHECKING:
    from sanshe.sim.agents.social_org import SocialOrganization
    from sanshe.sim.model import CommunityGovernanceModel

#: Applications, the incubator's ranking and the cohort's foundings draw from this stream.
STREAM = "incubation"


def applicants(model: CommunityGovernanceModel,
               rng: np.random.Generator) -> tuple[np.ndarray, list[SocialOrganization]]:
    """Who applies this year: would-be founders on the incubator's terms, and young weak
    community SOs never incubated."""
    v, p = model.v, model.p
    cover = ecology.cost_cover(float(v["policy.incubation.startup_grant"]),
                               float(v["policy.incubation.months"]), p)
    founders = ecology.programme_applicants(model, cover, rng)
    young = [so for so in model.sos if so.is_community and not so.ever_incubated
             and so.age < p["incubation_young_months"] and so.capacity < p["min_bid_capacity"]]
    return founders, young


def places_this_year(model: CommunityGovernanceModel, rng: np.random.Generator) -> int:
    """The district's places this year: ``policy.incubation.places`` scaled to its
    residents (:func:`sanshe.inputs.money.amount`). An incubator serves a city or district
    (Taicang's city centre took 10 SOs, seed 004), so a smaller district's share is a
    fraction of a place, which it wins in that share of years (as a venture pool's part of
    a grant, :func:`~sanshe.sim.streams.whole_count`); a whole number draws nothing
    (common random numbers)."""
    return whole_count(money.amount(model.v, "policy.incubation.places"), rng)


def incubate(model: CommunityGovernanceModel) -> None:
    """孵化: this year's applicants compete for the places; the admitted are incubated."""
    v, rng = model.v, model.streams[STREAM]
    if not v["policy.incubation.enabled"]:
        return
    places = places_this_year(model, rng)
    if places <= 0:  # a year without places draws nothing more (common random numbers)
        return
    founders, young = applicants(model, rng)
    cohort = ecology.admit(model, "incubator", [*founders, *young], places, rng)
    grant = float(v["policy.incubation.startup_grant"])
    for so in cohort:
        so.incubated_months = int(v["policy.incubation.months"])
        so.ever_incubated = True
        so.cash += grant
        so.ledger.receive("venture", grant)
        model.gov_month += grant
