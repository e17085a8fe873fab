"""The incubator's yearly cohort (sanshe/sim/mechanisms/incubation.py)."""

from __future__ import annotations

from sanshe.sim.mechanisms import incubation
from sanshe.sim.model import CommunityGovernanceModel

TINY = {"district.streets": 1, "district.communities_per_street": 3,
        "district.residents_per_community": 300}


def _model(**overrides: object) -> CommunityGovernanceModel:
    return CommunityGovernanceModel("baseline", seed=2, **TINY, **overrides)


def test_the_cohort_fills_the_places_with_new_and_young_sos() -> None:
    on = {"policy.incubation.enabled": True, "policy.incubation.places": 4,
          "policy.incubation.months": 18, "policy.incubation.startup_grant": 30_000}
    model = _model(**on)
    before = {so.unique_id for so in model.sos}
    incubation.incubate(model)
    cohort = [so for so in model.sos if so.incubated]
    assert len(cohort) == 4
    founded = [so for so in cohort if so.unique_id not in before]
    assert len(founded) == round(4 * model.p["incubator_founding_share"])
    assert all(so.incubated_months == 18 and so.ever_incubated for so in cohort)
    assert all(so.ledger.year["venture"] == 30_000 for so in cohort)
    assert model.gov_month == 4 * 30_000


def test_an_incubator_that_is_off_or_has_no_places_does_nothing() -> None:
    for overrides in ({"policy.incubation.places": 4},
                      {"policy.incubation.enabled": True, "policy.incubation.places": 0}):
        model = _model(**overrides)
        count = len(model.sos)
        state = model.streams[incubation.STREAM].bit_generator.state
        incubation.incubate(model)
        assert len(model.sos) == count and not any(so.incubated for so in model.sos)
        assert model.streams[incubation.STREAM].bit_generator.state == state
