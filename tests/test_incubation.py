"""The incubator's yearly call for applications (sanshe/sim/mechanisms/incubation.py)."""

from __future__ import annotations

import numpy as np
import pytest

from sanshe.sim.mechanisms import ecology, incubation
from sanshe.sim.model import CommunityGovernanceModel

TINY = {"district.streets": 1, "district.communities_per_street": 3,
        "district.residents_per_community": 300}
#: The incubator's places as stated for the district as it stands (reference 0: places a
#: year scale with the residents, sanshe/inputs/money.py).
ON = {"policy.incubation.enabled": True, "policy.incubation.places": 4,
      "policy.incubation.months": 18, "policy.incubation.startup_grant": 30_000,
      "district.money_communities": 0, "district.money_residents_per_community": 0}


def _model(**overrides: object) -> CommunityGovernanceModel:
    return CommunityGovernanceModel("baseline", seed=2, **{**TINY, **overrides})


def _activate_leaders(model: CommunityGovernanceModel) -> np.ndarray:
    """Every leader is engaged (a registered volunteer): all are would-be founders."""
    pop = model.pop
    pop.registered[pop.leader & ~pop.founder] = True
    return ecology.would_be_founders(model)


def test_many_applicants_compete_for_the_places() -> None:
    """Would-be founders who would found on the incubator's terms apply; with more of them
    than places, the places bind and the admitted founders found their SOs. Communities of
    1,000: about 60 leaders, of whom 10-23 apply (seeds 2-5); at 300, 2-4 apply."""
    model = _model(**ON, **{"parameters.founding_rate": 0.02,
                            "district.residents_per_community": 1000})
    pool = _activate_leaders(model)
    before = {so.unique_id for so in model.sos}
    incubation.incubate(model)
    (programme, _, applicants, places), = model.bureau.rounds
    assert programme == "incubator" and places == 4 and applicants > places
    cohort = [so for so in model.sos if so.incubated]
    assert len(cohort) == 4
    assert all(so.incubated_months == 18 and so.ever_incubated for so in cohort)
    assert all(so.ledger.year["venture"] == 30_000 for so in cohort)
    assert model.gov_month == 4 * 30_000
    new = [so for so in cohort if so.unique_id not in before]
    founders = np.flatnonzero(np.isin(model.pop.member_of, [so.unique_id for so in new])
                              & model.pop.founder)
    assert len(founders) == len(new) and set(founders) <= set(pool)


def test_places_nobody_applies_for_stay_empty() -> None:
    """No would-be founder (nobody takes part) and no weak young SO: no SO is incubated
    and none is founded, whatever the places."""
    model = _model(**{**ON, "policy.incubation.places": 50})
    model.pop.volunteer[:] = False
    model.pop.registered[:] = False
    model.pop.deliberating[:] = False
    model.pop.member_of[model.pop.leader] = -1
    for so in model.sos:
        so.capacity = model.p["min_bid_capacity"]  # able to take contracts: no need to apply
    count = len(model.sos)
    incubation.incubate(model)
    assert len(model.sos) == count and not any(so.incubated for so in model.sos)
    assert model.bureau.rounds[0][2:] == (0, 50)
    assert model.gov_month == 0.0


def test_fewer_applicants_than_places_all_get_in() -> None:
    model = _model(**{**ON, "policy.incubation.places": 200})
    for so in model.sos:
        so.age = 0
        so.capacity = 0.1 if so.is_community else 0.5
    weak_young = [so for so in model.sos if so.is_community]
    incubation.incubate(model)
    applicants = model.bureau.rounds[0][2]
    assert applicants < 200
    assert all(so.ever_incubated for so in weak_young)
    assert sum(so.ever_incubated for so in model.sos) == applicants


def test_the_incubator_lowers_costs_so_more_would_be_founders_apply() -> None:
    """The same founding decision: its monthly chance rises with the share of costs paid,
    never above the chance at full cover."""
    model = _model(**ON)
    outreach = np.zeros(model.pop.communities)
    plain = ecology.founding_chances(model, outreach)
    covered = ecology.founding_chances(model, outreach, covered=1.0)
    assert (covered > plain).all()
    assert ecology.cost_cover(30_000, 18, model.p) == 1.0
    assert 0.0 < ecology.cost_cover(0.0, 3, model.p) == 0.25


def test_an_incubator_that_is_off_or_has_no_places_does_nothing() -> None:
    for overrides in ({"policy.incubation.places": 4},
                      {"policy.incubation.enabled": True, "policy.incubation.places": 0}):
        model = _model(**overrides)
        count = len(model.sos)
        state = model.streams[incubation.STREAM].bit_generator.state
        incubation.incubate(model)
        assert len(model.sos) == count and not any(so.incubated for so in model.sos)
        assert model.streams[incubation.STREAM].bit_generator.state == state


def test_a_district_smaller_than_the_incubators_catchment_wins_a_place_in_some_years() -> None:
    """Places a year are stated for the reference district and scale with residents: 4 on
    10,000 residents are 0.36 on the 900 here, a place in about a third of the years; a
    whole number of places draws nothing."""
    model = _model(**{"policy.incubation.enabled": True, "policy.incubation.places": 4})
    rng = np.random.default_rng(5)
    years = [incubation.places_this_year(model, rng) for _ in range(4000)]
    assert set(years) == {0, 1}
    assert np.mean(years) == pytest.approx(0.36, abs=0.025)
    whole = _model(**ON)
    before = rng.bit_generator.state
    assert incubation.places_this_year(whole, rng) == 4
    assert rng.bit_generator.state == before
