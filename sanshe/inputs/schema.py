"""The scenario schema: every policy lever and structural setting a scenario may set.

Each entry names a dotted key, its type, the allowed values or range, its default (the
weak-support status quo) and what it means. Behavioural constants are not here: they live
in :mod:`model.parameters` and are overridden under ``[parameters]``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Setting:
    """One scenario key: type, allowed values, default and meaning."""

    key: str
    type: type
    default: Any
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] | None = None
    help: str = ""

    def allowed(self) -> str:
        """Human-readable description of the allowed values."""
        if self.choices:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if self.type is bool:
            return "true or false"
        if self.type is int:  # exact: 2**63 - 1 is no 9.22337e+18
            return f"an integer from {int(self.low)} to {int(self.high)}"
        return f"a number from {self.low:g} to {self.high:g}"


SETTINGS: tuple[Setting, ...] = (
    # [scenario] is metadata, handled by the loader (name, title, description, extends).
    # [district] 区 → 街道 → 社区
    Setting("district.streets", int, 2, 1, 50, help="streets (街道) in the district"),
    Setting("district.communities_per_street", int, 5, 1, 50, help="communities per street"),
    Setting("district.residents_per_community", int, 1000, 50, 100_000,
            help="simulated residents per community"),
    Setting("district.rural_share", float, 0.0, 0.0, 1.0, help="share of rural communities"),
    # What money amounts are for (sanshe/inputs/money.py): 0 = the district the scenario
    # file states, fixed when it is read; a run on another district scales money per resident.
    Setting("district.money_communities", int, 0, 0, 2500,
            help="communities the money amounts are stated for (0 = the district as stated)"),
    Setting("district.money_residents_per_community", int, 0, 0, 100_000,
            help="residents per community the money amounts are stated for (0 = as stated)"),
    # [policy.purchase] 政府购买服务
    Setting("policy.purchase.annual_budget", float, 10_000, 0, 1e9,
            help="purchase-of-service budget of the reference district, yuan per year"),
    Setting("policy.purchase.mode", str, "directed",
            choices=("competitive", "directed", "mixed"),
            help="procurement mode: open bidding, directed/entrusted purchase, or a mix"),
    Setting("policy.purchase.directed_share", float, 0.5, 0.0, 1.0,
            help="share of lots awarded by direction when mode = 'mixed'"),
    Setting("policy.purchase.third_party_evaluation", bool, False,
            help="contracts evaluated by a third party instead of the buyer itself, paid "
                 "from the purchase budget"),
    Setting("policy.purchase.satisfaction_weight", float, 0.0, 0.0, 1.0,
            help="weight of served residents' satisfaction in contract evaluation"),
    Setting("policy.purchase.venture_philanthropy_budget", float, 0, 0, 1e8,
            help="venture philanthropy (公益创投) pool of the reference district, yuan per year"),
    # [policy.incubation] 孵化
    Setting("policy.incubation.enabled", bool, False, help="district SO incubator runs"),
    Setting("policy.incubation.places", float, 0, 0, 500,
            help="incubator places per year for the reference district (scale with residents)"),
    Setting("policy.incubation.months", int, 12, 1, 36, help="months an SO stays incubated"),
    Setting("policy.incubation.training", float, 0.0, 0.0, 1.0,
            help="intensity of capacity training while incubated (paid by the government "
                 "per incubated SO)"),
    Setting("policy.incubation.startup_grant", float, 0, 0, 1e6,
            help="start-up grant per incubated SO, yuan"),
    Setting("policy.incubation.registration_threshold", str, "high", choices=("low", "high"),
            help="registration/filing threshold for community SOs (降低准入门槛 = low)"),
    # [policy.four_priorities] 四个优先
    Setting("policy.four_priorities.resources", bool, False,
            help="community resources go first to SOs (社区资源优先提供社会组织使用)"),
    Setting("policy.four_priorities.services", bool, False,
            help="community services first offered to SOs (社区服务优先考虑社会组织承接)"),
    Setting("policy.four_priorities.landing", bool, False,
            help="SOs land in communities first (社会组织优先落地社区开展活动)"),
    Setting("policy.four_priorities.projects", bool, False,
            help="public-welfare projects land in communities first (公益项目优先落地社区)"),
    # [policy.linkage] 三社联动
    Setting("policy.linkage.mode", str, "government_led",
            choices=("demand_driven", "government_led", "project_led"),
            help="whose needs list drives the lots: residents', officials' or SOs' proposals"),
    Setting("policy.linkage.info_platform", bool, False,
            help="information platform matching needs to providers, and donors and firms "
                 "to SOs, for the residents who use it (its running paid per resident)"),
    Setting("policy.linkage.group_coordination", bool, False,
            help="group organizations (群团) coordinate instead of working in silos"),
    # [policy.community]
    Setting("policy.community.service_fund", float, 0, 0, 1e7,
            help="service fund of a reference-size community, yuan per community per year"),
    Setting("policy.community.project_share", float, 0.0, 0.0, 1.0,
            help="share of the service fund run as projects"),
    Setting("policy.community.space_share_for_sos", float, 0.0, 0.0, 1.0,
            help="share of community office space given to SOs (finite rooms: SOs that "
                 "ask for more than it holds are housed in part)"),
    Setting("policy.community.deliberation", bool, False, help="议事协商 deliberation platform"),
    Setting("policy.community.volunteer_points", bool, False,
            help="volunteer points (积分银行), redeemed from the committee's own services"),
    # [policy.social_work]
    Setting("policy.social_work.posts_per_community", float, 0.0, 0.0, 20.0,
            help="funded social-work station posts per community of the reference size; "
                 "they scale with its residents (a fraction: a post in that share of "
                 "communities)"),
    Setting("policy.social_work.salary_index", float, 0.8, 0.3, 3.0,
            help="social-worker pay relative to the local average wage"),
    Setting("policy.social_work.certification_support", bool, False,
            help="support for the national social-work certificate (paid per worker not "
                 "yet certified)"),
    Setting("policy.social_work.training", float, 0.0, 0.0, 1.0,
            help="intensity of in-service training (paid by the government per worker; "
                 "at full training it takes sw_training_time of their working time, 3.6% by "
                 "default)"),
    # [run]
    # 600 months = 50 years: twice any policy horizon here, and a typo (100000) cannot
    # start hours of runs.
    Setting("run.months", int, 120, 1, 600, help="months simulated; 600 = 50 years"),
    Setting("run.replications", int, 10, 1, 10_000, help="replications per scenario"),
    # numpy's SeedSequence takes any non-negative integer; the store keeps signed 64 bits.
    Setting("run.seed", int, 1, 0, 2**63 - 1, help="master seed"),
)

BY_KEY: dict[str, Setting] = {s.key: s for s in SETTINGS}

#: Keys of the [scenario] metadata table.
META_KEYS: tuple[str, ...] = ("name", "title", "description", "extends")


def defaults() -> dict[str, Any]:
    """Every setting's default, keyed by dotted name."""
    return {s.key: s.default for s in SETTINGS}


def flatten(table: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested tables → dotted keys (``{"policy": {"purchase": {"mode": x}}}`` → one key)."""
    flat: dict[str, Any] = {}
    for key, value in table.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{dotted}."))
        else:
            flat[dotted] = value
    return flat
