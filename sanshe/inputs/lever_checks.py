"""Levers switched on with nothing behind them (空转的政策杠杆).

A scenario can be valid key by key and still say something that does nothing: an incubator
with no places, third-party evaluation with no purchase budget, a project share of a
community fund of zero yuan. The model runs such a scenario faithfully — the lever simply
has no effect — so a comparison would list "incubation on" as a difference that did not
matter. These checks find those combinations and say so, in English and Chinese, in the
terminal and in the report. They warn rather than refuse: a user may mean it (a sweep that
reaches a budget of zero, say).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sanshe.inputs.scenario import Scenario


@dataclass(frozen=True)
class LeverWarning:
    """One lever that is on (or set) with nothing behind it."""

    key: str  # the lever that is on, e.g. "policy.incubation.enabled"
    en: str  # one sentence, English
    zh: str  # the same, Chinese
    month: int | None = None  # set by a [[timeline]] entry from this month on


@dataclass(frozen=True)
class _Rule:
    key: str
    idle: Callable[[dict[str, Any]], bool]  # True when the lever is on with nothing behind it
    en: str
    zh: str


def _no_purchase(v: dict[str, Any]) -> bool:
    return float(v["policy.purchase.annual_budget"]) <= 0


def _no_fund(v: dict[str, Any]) -> bool:
    return float(v["policy.community.service_fund"]) <= 0


_INCUBATOR_SET = ("policy.incubation.places", "policy.incubation.training",
                  "policy.incubation.startup_grant")

_RULES: tuple[_Rule, ...] = (
    _Rule("policy.incubation.enabled",
          lambda v: v["policy.incubation.enabled"] and float(v["policy.incubation.places"]) == 0,
          "The incubator is on but has no places (policy.incubation.places = 0): it incubates "
          "no social organization.",
          "孵化器已开启，但孵化名额为 0（policy.incubation.places = 0）：不会孵化任何社会组织。"),
    _Rule("policy.incubation.places",
          lambda v: not v["policy.incubation.enabled"]
          and any(float(v[k]) > 0 for k in _INCUBATOR_SET),
          "Incubator places, training or start-up grants are set but the incubator is off "
          "(policy.incubation.enabled = false): they have no effect.",
          "设置了孵化名额、培训或启动资金，但孵化器未开启（policy.incubation.enabled = false）："
          "这些设置不起作用。"),
    _Rule("policy.purchase.third_party_evaluation",
          lambda v: v["policy.purchase.third_party_evaluation"] and _no_purchase(v),
          "Third-party evaluation is on but the purchase budget is 0: there are no purchased "
          "services to evaluate.",
          "已采用第三方评估，但购买服务预算为 0：没有可评估的购买服务。"),
    _Rule("policy.purchase.satisfaction_weight",
          lambda v: float(v["policy.purchase.satisfaction_weight"]) > 0 and _no_purchase(v),
          "Residents' satisfaction is weighted in evaluation but the purchase budget is 0: "
          "the weight applies to no contract.",
          "评估中设置了居民满意度权重，但购买服务预算为 0：该权重不作用于任何合同。"),
    _Rule("policy.purchase.mode",
          lambda v: v["policy.purchase.mode"] != "directed" and _no_purchase(v),
          "A procurement mode other than the default is chosen but the purchase budget is 0: "
          "nothing is procured.",
          "选择了非默认的购买方式，但购买服务预算为 0：没有任何采购。"),
    _Rule("policy.linkage.mode",
          lambda v: v["policy.linkage.mode"] != "government_led" and _no_purchase(v),
          "The linkage mode decides whose needs the purchased lots follow, but the purchase "
          "budget is 0: the mode changes nothing.",
          "联动模式决定购买服务项目依据谁的需求，但购买服务预算为 0：该模式不起作用。"),
    _Rule("policy.community.project_share",
          lambda v: float(v["policy.community.project_share"]) > 0 and _no_fund(v),
          "A share of the community service fund is run as projects, but the fund is 0 yuan.",
          "社区服务资金中设定了项目比例，但社区服务资金为 0 元。"),
    _Rule("policy.four_priorities.services",
          lambda v: v["policy.four_priorities.services"] and _no_fund(v),
          "Community services offered to SOs first is on but the community service fund is 0: "
          "there is nothing to offer.",
          "社区服务优先考虑社会组织承接已开启，但社区服务资金为 0：没有可承接的服务。"),
    _Rule("policy.four_priorities.resources",
          lambda v: v["policy.four_priorities.resources"]
          and float(v["policy.community.space_share_for_sos"]) <= 0,
          "Community resources go first to SOs, but no community space is set aside for them "
          "(policy.community.space_share_for_sos = 0).",
          "社区资源优先提供社会组织使用已开启，但没有为社会组织留出社区空间"
          "（policy.community.space_share_for_sos = 0）。"),
)


def lever_warnings(scenario: Scenario) -> list[LeverWarning]:
    """Every lever of ``scenario`` that is on, or set, with nothing behind it.

    Each ``[[timeline]]`` entry is checked too, for the levers it sets itself, under the
    settings in force from its month: a pilot whose money stops leaves evaluation with no
    contracts by design, but an entry that switches an incubator on without places errs.
    """
    values = scenario.values
    found = [LeverWarning(rule.key, rule.en, rule.zh) for rule in _RULES if rule.idle(values)]
    for change in scenario.timeline:
        phase = scenario.values_at(change.month)
        found += [LeverWarning(rule.key, f"From month {change.month}: {rule.en}",
                               f"从第 {change.month} 个月起：{rule.zh}", change.month)
                  for rule in _RULES if rule.key in change.settings and rule.idle(phase)]
    return found


def format_warnings(scenario: Scenario, lang: str = "en") -> list[str]:
    """One line per warning, prefixed with the scenario's name, for the terminal."""
    return [f"warning: scenario '{scenario.name}': {w.zh if lang == 'zh' else w.en}"
            for w in lever_warnings(scenario)]


def print_warnings(scenarios: list[Scenario], lang: str = "en") -> None:
    """Each distinct scenario's warnings on standard error, before any run starts."""
    import sys

    seen: set[str] = set()
    for scenario in scenarios:
        for line in format_warnings(scenario, lang):
            if line not in seen:
                seen.add(line)
                print(line, file=sys.stderr)
