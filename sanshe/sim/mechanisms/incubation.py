"""Incubation (孵化, seeds 001, 004): a yearly cohort of incubator places.

Places are filled first by leaders who found a community SO for the place, then by young
community SOs not incubated before. An incubated SO pays no rent, gets a start-up grant and
training (capacity grows faster, see :func:`sanshe.sim.mechanisms.ecology.grow_capacity`) and is
protected from early death (legitimacy, Singh, Tucker & House 1986).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sanshe.sim.mechanisms import ecology

if TYPE_CHECKING:
    from sanshe.sim.agents.social_org import SocialOrganization
    from sanshe.sim.model import CommunityGovernanceModel

#: Incubator foundings and the choice of young SOs draw from this stream only.
STREAM = "incubation"


def incubate(model: CommunityGovernanceModel) -> None:
    """孵化: a yearly cohort of places, filled by new foundings and young SOs."""
    v, p, rng = model.v, model.p, model.streams[STREAM]
    if not v["policy.incubation.enabled"]:
        return
    places = int(v["policy.incubation.places"])
    if places <= 0:  # an incubator without places draws nothing (common random numbers)
        return
    cohort: list[SocialOrganization] = []
    for _ in range(int(round(places * p["incubator_founding_share"]))):
        so = ecology.leader_founds(model, rng)
        if so is not None:
            cohort.append(so)
    young = [so for so in model.sos if so.is_community and not so.ever_incubated
             and so.age < p["incubation_young_months"] and so not in cohort]
    rng.shuffle(young)
    cohort += young[: max(places - len(cohort), 0)]
    grant = float(v["policy.incubation.startup_grant"])
    for so in cohort:
        so.incubated_months = int(v["policy.incubation.months"])
        so.ever_incubated = True
        so.cash += grant
        so.ledger.receive("venture", grant)
        model.gov_month += grant
