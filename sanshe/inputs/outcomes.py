"""Every outcome once: name, Chinese and English label, unit, kind and reporter.

The data collector, the reports, the dashboard and the results store all read this one
list, so a label or unit is never written twice.

Kinds say how a run's *final* value is formed from its monthly series:
- ``rate``  – a share or ratio measured each month; final = mean of the last 12 months;
- ``stock`` – a level (a count, a mean); final = the last month's value;
- ``flow``  – an amount per month (births, yuan); final = sum of the last 12 months
  (an annual figure).
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from sanshe.inputs.errors import InputError


@dataclass(frozen=True)
class Outcome:
    """One monitored quantity of the model."""

    name: str
    zh: str
    en: str
    unit: str
    kind: str  # rate | stock | flow
    higher_is_better: bool | None = None
    unit_en: str = ""  # the unit in words when the generic one (UNIT_WORDS) is too vague
    unit_zh: str = ""

    def label(self, lang: str = "en") -> str:
        """The label in ``lang`` ("zh" or "en")."""
        return self.zh if lang == "zh" else self.en

    def unit_label(self, lang: str = "en", monthly: bool = False) -> str:
        """The unit in words, e.g. "yuan per year"; ``monthly``: of a monthly series.

        A flow's final value sums a year, while its monthly series is per month.
        """
        special = self.unit_zh if lang == "zh" else self.unit_en
        if special:
            return special
        words = UNIT_WORDS[self.unit]
        form = ("per_month" if monthly else "per_year") if self.kind == "flow" else "value"
        return words.get(form, words["value"])[lang == "zh"]

    @property
    def bounds(self) -> tuple[float, float]:
        """The possible range of a value: shares and 0-1 indices within [0, 1], others ≥ 0."""
        return (0.0, 1.0) if self.unit in BOUNDED_UNITS else (0.0, math.inf)

    @property
    def diff_bounds(self) -> tuple[float, float]:
        """The possible range of a difference of two values: [-1, 1] for shares, else open."""
        low, high = self.bounds
        return (low - high, high - low)


#: Units of values within [0, 1].
BOUNDED_UNITS = ("share", "0-1")

#: Each unit in words, (English, Chinese): as a value, and for flows as a yearly sum (the
#: final value) and a monthly amount (the series).
UNIT_WORDS: dict[str, dict[str, tuple[str, str]]] = {
    "share": {"value": ("%", "%")},
    "0-1": {"value": ("index 0–1", "指数 0–1")},
    "count": {"value": ("number", "个")},
    "per year": {"value": ("per year", "每年"), "per_month": ("per month", "每月")},
    "per month": {"value": ("per month", "每月")},
    "yuan": {"value": ("yuan", "元"), "per_year": ("yuan per year", "元/年"),
             "per_month": ("yuan per month", "元/月")},
    "ratio": {"value": ("ratio", "比值")},
}


OUTCOMES: tuple[Outcome, ...] = (
    Outcome("participation_rate", "居民参与率", "Participation rate", "share", "rate", True),
    Outcome("participation_young", "青年居民参与率(18-39岁)", "Participation: young (18-39)",
            "share", "rate", True),
    Outcome("participation_elderly", "老年居民参与率(60岁以上)", "Participation: elderly (60+)",
            "share", "rate", True),
    Outcome("volunteer_rate", "志愿服务参与率", "Volunteer rate", "share", "rate", True),
    # registered volunteers (登记/注册), whether or not they turned out this month
    Outcome("registered_volunteer_rate", "注册志愿者占比", "Registered volunteers", "share",
            "rate", True),
    Outcome("deliberation_rate", "议事协商参与率", "Deliberation attendance", "share", "rate",
            True),
    # diagnostic: coordinators' time (the one capacity limit on taking part; SOs turn no
    # member away) held volunteers who turned out at home this month
    Outcome("capacity_bound_share", "志愿协调能力受限社区占比",
            "Communities where coordinators' time held volunteers out", "share", "rate"),
    Outcome("need_coverage", "需求满足率", "Need coverage", "share", "rate", True),
    Outcome("hidden_need_share", "隐性需求占比", "Hidden-need share", "share", "rate", False),
    Outcome("mean_service_quality", "平均服务质量", "Mean service quality", "0-1", "rate", True),
    Outcome("mean_satisfaction", "居民满意度", "Mean satisfaction", "0-1", "stock", True),
    Outcome("trust_in_sos", "对社会组织的信任", "Trust in social organizations", "0-1", "stock",
            True),
    Outcome("coverage_elderly", "老年人需求满足率", "Coverage: elderly", "share", "rate", True),
    Outcome("coverage_disabled", "残疾人需求满足率", "Coverage: disabled", "share", "rate", True),
    Outcome("coverage_low_income", "困难家庭需求满足率", "Coverage: low-income", "share", "rate",
            True),
    Outcome("coverage_migrant", "外来务工人员需求满足率", "Coverage: migrant workers", "share",
            "rate", True),
    Outcome("coverage_children", "儿童家庭需求满足率", "Coverage: children's households", "share",
            "rate", True),
    Outcome("equity_gap", "群体间满足率差距", "Equity gap (max-min group coverage)", "share",
            "rate", False),
    Outcome("so_count", "社会组织数", "Social organizations", "count", "stock", True),
    Outcome("community_so_count", "社区社会组织数", "Community SOs", "count", "stock", True),
    Outcome("community_so_services", "社区社会组织服务量", "Needs met by community SOs",
            "per month", "rate", True),
    Outcome("purchase_services", "购买服务满足需求量", "Needs met by purchased services",
            "per month", "rate", True),
    Outcome("professional_so_count", "专业社会组织数", "Professional SOs", "count", "stock", True),
    Outcome("so_births", "新成立社会组织", "SO births", "per year", "flow"),
    Outcome("so_closures", "注销社会组织", "SO closures", "per year", "flow", False),
    Outcome("mean_so_capacity", "社会组织平均能力", "Mean SO capacity", "0-1", "stock", True),
    Outcome("high_rated_so_count", "4A及以上社会组织", "SOs rated 4A or above", "count", "stock",
            True),
    Outcome("rated_so_count", "3A及以上社会组织", "SOs rated 3A or above", "count", "stock", True),
    Outcome("gov_revenue_share", "政府资金依赖度", "Government share of SO revenue", "share",
            "rate", False),
    Outcome("winners_gov_share", "中标机构政府资金依赖度",
            "Government share of purchase winners' revenue", "share", "rate", False),
    Outcome("contract_hhi", "合同集中度(HHI)", "Contract concentration (HHI)", "0-1", "stock",
            False),
    Outcome("duplicated_services", "群团重复服务项目", "Duplicated group-org projects", "count",
            "stock", False),
    Outcome("sw_employed", "在岗社会工作者", "Social workers employed", "count", "stock", True),
    Outcome("certified_sw_share", "持证社工比例", "Certified social-worker share", "share",
            "stock", True),
    Outcome("sw_turnover_rate", "社工流失率", "Social-worker turnover", "per year", "rate",
            False),
    Outcome("affairs_deliberation_share", "议事协商解决事务占比", "Affairs settled by deliberation",
            "share", "rate"),
    Outcome("affairs_so_share", "社会组织服务解决事务占比", "Affairs settled by SO services",
            "share", "rate"),
    Outcome("affairs_referral_share", "上报转介事务占比", "Affairs referred upward", "share",
            "rate", False),
    Outcome("gov_spending", "政府支出", "Government spending", "yuan", "flow"),
    Outcome("group_org_spending", "群团组织支出", "Group-organization spending", "yuan", "flow"),
    # 结余资金: contract balances that go back to their buyers unspent (专款专用)
    Outcome("returned_funds", "结余资金退回", "Unspent contract money returned", "yuan", "flow"),
    Outcome("non_gov_funds", "撬动社会资金", "Non-government funds mobilised", "yuan", "flow",
            True),
    Outcome("leverage_ratio", "社会资金撬动比", "Leverage (non-gov per gov yuan)", "ratio", "rate",
            True),
    Outcome("cost_per_need_met", "每满足一项需求成本", "Cost per need met", "yuan", "rate", False,
            "yuan per need met", "元/项需求"),
    # what SOs drew from purchase contracts (购买服务), part of government spending: with
    # purchase_services, the purchase's own cost of a need met
    Outcome("purchase_spending", "购买服务支出", "Purchase-of-service spending", "yuan", "flow"),
    # diagnostic: the community rooms given to SOs (社区资源优先) held less than the SOs
    # there asked, so each was housed in part (listed last, after the outcomes before it)
    Outcome("space_bound_share", "社区用房不足社区占比",
            "Communities where SOs asked for more room than they were given", "share",
            "rate"),
)

OUTCOME_NAMES: tuple[str, ...] = tuple(o.name for o in OUTCOMES)
BY_NAME: dict[str, Outcome] = {o.name: o for o in OUTCOMES}

#: The outcomes a policymaker reads first (report tables, console summaries).
KEY_OUTCOMES: tuple[str, ...] = (
    "participation_rate",
    "need_coverage",
    "mean_service_quality",
    "mean_satisfaction",
    "so_count",
    "high_rated_so_count",
    "contract_hhi",
    "gov_revenue_share",
    "affairs_deliberation_share",
    "sw_turnover_rate",
    "cost_per_need_met",
)

#: Outcomes the reports derive from the finals (not measured monthly, so not in OUTCOMES):
#: money per resident makes districts of any size comparable; a ratio reads two finals.
DERIVED: tuple[Outcome, ...] = (
    Outcome("gov_spending_per_resident", "人均政府支出", "Government spending per resident",
            "yuan", "flow", None, "yuan per resident per year", "元/人·年"),
    # government, group organizations and non-government funds together
    Outcome("total_spending_per_resident", "人均总支出", "Total spending per resident", "yuan",
            "flow", None, "yuan per resident per year", "元/人·年"),
    # the purchase's own cost of a need met (pattern 9 where it acts): the district's
    # cost_per_need_met divides all spending by all needs met, most of them by community
    # SOs' own activity, which purchase does not pay for
    Outcome("purchase_cost_per_need_met", "购买服务每满足一项需求成本",
            "Purchase cost per need met", "yuan", "rate", False, "yuan per need met",
            "元/项需求"),
)

#: The outcomes each derived outcome sums before dividing by the residents.
SPENDING_PARTS: dict[str, tuple[str, ...]] = {
    "gov_spending_per_resident": ("gov_spending",),
    "total_spending_per_resident": ("gov_spending", "group_org_spending", "non_gov_funds"),
}

#: Derived outcomes that divide a year's flow by a rate's year: (flow, rate). A flow's final
#: sums the last FINAL_WINDOW months and a rate's is their monthly mean, so the rate is
#: multiplied by FINAL_WINDOW; undefined (NaN) in a run where the rate's year is zero.
RATIO_PARTS: dict[str, tuple[str, str]] = {
    "purchase_cost_per_need_met": ("purchase_spending", "purchase_services"),
}

#: The rows of the report's key table: the key outcomes and what they cost; a ratio's row
#: only where some run defines it (Comparison.table).
REPORT_OUTCOMES: tuple[str, ...] = (*KEY_OUTCOMES, *(o.name for o in DERIVED))


DERIVED_BY_NAME: dict[str, Outcome] = {o.name: o for o in DERIVED}


def describe(name: str) -> Outcome:
    """The measured or derived outcome called ``name`` (KeyError if none)."""
    return BY_NAME[name] if name in BY_NAME else DERIVED_BY_NAME[name]


def check_names(names: Sequence[str]) -> list[str]:
    """``names`` as a list if every one is a measured outcome; else InputError with a hint."""
    unknown = [n for n in names if n not in BY_NAME]
    if unknown:
        close = difflib.get_close_matches(unknown[0], list(BY_NAME), n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise InputError(f"unknown outcome '{unknown[0]}'.{hint} Outcomes: {', '.join(BY_NAME)}.")
    return list(names)

SPECIAL_GROUPS: tuple[str, ...] = ("elderly", "disabled", "low_income", "migrant", "children")

#: How many trailing months a final value of a rate or flow summarises.
FINAL_WINDOW = 12


def ratio_of(name: str, finals: Mapping[str, object]) -> np.ndarray:
    """Derived ratio ``name`` (RATIO_PARTS) of one run's finals, or of columns of many:
    the flow's year over the rate's year; NaN where the rate's year is zero."""
    flow, rate = RATIO_PARTS[name]
    year = np.asarray(finals[rate], float) * FINAL_WINDOW
    return np.divide(np.asarray(finals[flow], float), year, out=np.full(year.shape, np.nan),
                     where=year > 0)


def with_ratios(finals: dict[str, float]) -> dict[str, float]:
    """One run's ``finals`` and the ratios that its finals define (NaN where undefined)."""
    return finals | {name: float(ratio_of(name, finals)) for name, parts in RATIO_PARTS.items()
                     if all(part in finals for part in parts)}


def final_value(name: str, series: Sequence[float]) -> float:
    """The run's final value of outcome ``name`` from its monthly ``series``."""
    values = np.asarray(series, dtype=float)
    if values.size == 0:
        return float("nan")
    kind = BY_NAME[name].kind
    if kind == "stock":
        return float(values[-1])
    window = values[-FINAL_WINDOW:]
    if kind == "flow":
        return float(np.nansum(window))
    window = window[~np.isnan(window)]
    return float(window.mean()) if window.size else float("nan")


def finals(series: dict[str, Sequence[float]]) -> dict[str, float]:
    """Final values of every outcome in ``series``."""
    return {name: final_value(name, values) for name, values in series.items()}
