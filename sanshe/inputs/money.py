"""Money levers at any district size: what a stated amount means, and what it costs per
resident.

The rule (README "Money at any district size"; docs/ODD.md 7): a scenario states its money
— ``policy.purchase.annual_budget`` and ``venture_philanthropy_budget`` in yuan per year
for the district, ``policy.community.service_fund`` in yuan per community per year — for
its **reference district**, ``district.money_communities`` communities of
``district.money_residents_per_community`` residents. The reference is the district the
scenario file states, fixed when the file is read. A run on another district (``--set
district.*``, ``--vary``, a sweep, the validation's small district) keeps the policy
intensity: district-wide amounts scale with the residents, per-community amounts with the
residents per community. An override of a money key states it for the reference district
too; setting a reference key to 0 makes the amounts mean the district as it stands. Two
counts are money too and scale the same way: the incubator's places a year
(``policy.incubation.places``) like the district-wide budgets (they are the start-up
grants' count, and a city incubator's places are shared by its districts:
``DISTRICT_COUNTS``), and the station posts per community
(``policy.social_work.posts_per_community``) like the community funds (posts are salaries,
and a community's posts follow its households: ``PER_COMMUNITY_COUNTS``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: District-wide money levers: yuan per year for the whole reference district.
DISTRICT_WIDE: tuple[str, ...] = (
    "policy.purchase.annual_budget",
    "policy.purchase.venture_philanthropy_budget",
)
#: Per-community money levers: yuan per year for one community of the reference size.
PER_COMMUNITY: tuple[str, ...] = ("policy.community.service_fund",)
MONEY_KEYS: tuple[str, ...] = DISTRICT_WIDE + PER_COMMUNITY
#: District-wide counts that keep their intensity per resident like money: the incubator's
#: places a year, with their start-up grants (on a district smaller than the incubator's
#: catchment the share is a fraction: a place in some years, incubation.places_this_year).
DISTRICT_COUNTS: tuple[str, ...] = ("policy.incubation.places",)
#: Per-community counts that keep their intensity per resident like the community funds:
#: the station's social-work posts (a post's salary is money; on communities smaller than
#: the reference a post is shared, and some communities have one: workforce.station_posts).
PER_COMMUNITY_COUNTS: tuple[str, ...] = ("policy.social_work.posts_per_community",)
#: Every lever :func:`amount` scales with the district, and those it scales per community.
SCALED_KEYS: tuple[str, ...] = MONEY_KEYS + DISTRICT_COUNTS + PER_COMMUNITY_COUNTS
SCALED_PER_COMMUNITY: tuple[str, ...] = PER_COMMUNITY + PER_COMMUNITY_COUNTS

#: The district's size keys, and the reference keys that fix what money amounts are for.
SIZE_KEYS: tuple[str, ...] = ("district.streets", "district.communities_per_street",
                              "district.residents_per_community")
REF_COMMUNITIES = "district.money_communities"
REF_RESIDENTS = "district.money_residents_per_community"
REFERENCE_KEYS: tuple[str, ...] = (REF_COMMUNITIES, REF_RESIDENTS)


def communities(values: Mapping[str, Any]) -> int:
    """Communities of the district as it stands."""
    return int(values["district.streets"]) * int(values["district.communities_per_street"])


def residents(values: Mapping[str, Any]) -> int:
    """Residents of the district as it stands."""
    return communities(values) * int(values["district.residents_per_community"])


def with_reference(values: dict[str, Any]) -> dict[str, Any]:
    """``values`` with a reference of 0 replaced by the district as it stands."""
    out = dict(values)
    if not out.get(REF_COMMUNITIES):
        out[REF_COMMUNITIES] = communities(out)
    if not out.get(REF_RESIDENTS):
        out[REF_RESIDENTS] = int(out["district.residents_per_community"])
    return out


def rebase(values: dict[str, Any], parent: Mapping[str, Any], own: Mapping[str, Any]
           ) -> dict[str, Any]:
    """A child file's resolved values: a file that states its own district (and no
    reference) makes that district the reference, and the money it inherits keeps its
    intensity (rescaled from the parent's reference); money it states is for its district."""
    if any(k in own for k in REFERENCE_KEYS) or not any(k in own for k in SIZE_KEYS):
        return with_reference(values)
    out = {**values, REF_COMMUNITIES: 0, REF_RESIDENTS: 0}
    out = with_reference(out)
    for key in SCALED_KEYS:
        if key not in own:
            out[key] = float(parent[key]) / _factor(parent, key) * _factor(out, key)
    return out


def _factor(values: Mapping[str, Any], key: str) -> float:
    """Yuan of ``key`` per yuan stated, relative to the residents of the reference itself:
    a district-wide amount per reference resident, a per-community one per reference
    resident of a community (so rescaling divides by one reference and multiplies by
    another)."""
    ref_rpc = float(values[REF_RESIDENTS])
    if key in SCALED_PER_COMMUNITY:
        return ref_rpc
    return float(values[REF_COMMUNITIES]) * ref_rpc


def scale(values: Mapping[str, Any], key: str) -> float:
    """Run-district yuan per stated yuan of money lever ``key`` (1 on the reference)."""
    run = (float(values["district.residents_per_community"]) if key in SCALED_PER_COMMUNITY
           else float(residents(values)))
    return run / _factor(with_reference(dict(values)), key)


def amount(values: Mapping[str, Any], key: str) -> float:
    """Yuan per year of money lever ``key`` for the run's district (per community for the
    per-community levers); for a count (``DISTRICT_COUNTS``, ``PER_COMMUNITY_COUNTS``), its
    number (a year, or per community) there, fractional on a district or community smaller
    than the one it is stated for."""
    return float(values[key]) * scale(values, key)


def government_per_resident(values: Mapping[str, Any], p: Mapping[str, float]
                            ) -> dict[str, float]:
    """Planned government money, yuan per resident per year, by line: what the levers put
    in (the model's ``gov_spending`` is what is actually paid out)."""
    n = float(residents(values))
    lines = {
        "purchase": amount(values, "policy.purchase.annual_budget"),
        "venture": amount(values, "policy.purchase.venture_philanthropy_budget"),
        "service_fund": amount(values, "policy.community.service_fund") * communities(values),
        "startup_grants": (float(values["policy.incubation.startup_grant"])
                           * amount(values, "policy.incubation.places")
                           if values["policy.incubation.enabled"] else 0.0),
        "station_salaries": (amount(values, "policy.social_work.posts_per_community")
                             * communities(values)
                             * float(values["policy.social_work.salary_index"])
                             * float(p["local_wage"]) * 12.0),
    }
    per = {k: v / n for k, v in lines.items()}
    per["levers"] = sum(per[k] for k in ("purchase", "venture", "service_fund",
                                          "startup_grants"))
    per["total"] = per["levers"] + per["station_salaries"]
    return per


def describe(values: Mapping[str, Any], p: Mapping[str, float]) -> list[str]:
    """Lines for ``sanshe scenarios show``: the reference district and money per resident."""
    per = government_per_resident(values, p)
    ref_n = int(values[REF_COMMUNITIES]) * int(values[REF_RESIDENTS])
    run_n = residents(values)
    head = ("money amounts, incubator places and station posts are for the reference "
            "district: "
            f"{int(values[REF_COMMUNITIES])} communities x {int(values[REF_RESIDENTS]):,} "
            f"residents = {ref_n:,}")
    if run_n != ref_n:
        head += f"; this district has {run_n:,} residents, so they scale per resident"
    return [
        head,
        "planned government money, yuan per resident per year: "
        f"{per['levers']:.1f} through the money levers (purchase {per['purchase']:.1f}, "
        f"venture {per['venture']:.1f}, community funds {per['service_fund']:.1f}, "
        f"start-up grants {per['startup_grants']:.1f}) + {per['station_salaries']:.1f} "
        f"station salaries = {per['total']:.1f}",
        *incubator_places(values),
        *station_posts(values),
    ]


def incubator_places(values: Mapping[str, Any]) -> list[str]:
    """The incubator's places a year on the district as it stands, if it runs: a reader of
    a comparison on a small district should see that its incubator takes an SO only in
    some years (places scale with residents, ``DISTRICT_COUNTS``)."""
    if not values["policy.incubation.enabled"]:
        return []
    here = amount(values, "policy.incubation.places")
    if here <= 0:
        return []
    line = f"incubator places: {here:.3g} a year on this district"
    if here < 1:
        line += f" (a place in about {here:.0%} of years)"
    return [line]


def station_posts(values: Mapping[str, Any]) -> list[str]:
    """The station posts per community on the district as it stands, when they are not a
    whole number: a reader should see that only some communities have a post (posts scale
    with a community's residents, ``PER_COMMUNITY_COUNTS``)."""
    here = amount(values, "policy.social_work.posts_per_community")
    if here <= 0 or float(here).is_integer():
        return []
    n = communities(values)
    return [f"station posts: {here:.3g} per community on this district, a post per "
            f"{int(values['district.residents_per_community']) / here:,.0f} residents "
            f"({here * n:.3g} over its {n} communities)"]


def print_money_notes(scenarios: list[Any]) -> None:
    """Each distinct scenario's money per resident on standard error before any run, with
    the scaling when the run's district is not the one its amounts are stated for."""
    import sys

    seen: set[str] = set()
    for scenario in scenarios:
        lines = describe(scenario.values, scenario.parameters)
        note = f"{scenario.name}: " + "; ".join(lines)
        if note not in seen:
            seen.add(note)
            print(note, file=sys.stderr)
