"""What a comparison means in plain words (结论), and what to be careful about (提示).

Every sentence is built from the key table (:meth:`sanshe.experiments.comparison.Comparison.table`):
the direction and size of each difference with its unit, whether it is credible (its
paired 95% interval excludes zero) and what it costs — the difference in government
spending per resident over the difference in the outcome, e.g. yuan per resident per year
for each extra percentage point of need coverage. Nothing here is written in advance.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import pandas as pd

from sanshe.inputs.outcomes import RATIO_PARTS, SPENDING_PARTS, describe
from sanshe.reporting.stats import MIN_REPLICATIONS, t_multiplier, too_few
from sanshe.reporting.tables import format_value

if TYPE_CHECKING:
    from sanshe.experiments.comparison import Comparison

#: The outcome whose difference prices the others.
SPENDING = "gov_spending_per_resident"

WORDS = {
    "en": {
        "heading": "{scenario} compared with {ref}",
        "up": "up",
        "down": "down",
        "same": "unchanged",
        "by": " by {amount}",
        "better": " — better",
        "worse": " — worse",
        "credible": "credible (95% CI {low} to {high})",
        "doubtful": "not credible: the 95% CI {low} to {high} includes zero",
        "unjudged": "cannot be judged with fewer than two replications",
        "sentence": "{label}: {direction}{by} ({ref} → {value}){judgement}; {credibility}.",
        "cost": " Cost: {ratio} yuan per resident per year per {step}.",
        "saving": " It comes with {spend} yuan less spending per resident per year.",
        "no_gain": " The extra spending buys no gain here.",
        "summary": (
            "In short: {better} of {total} outcomes credibly better{better_list}; {worse} "
            "credibly worse{worse_list}; {doubtful} without a credible difference"
            "{doubtful_list}. Government spending per resident: {spend}."
        ),
        "list": " ({items})",
        "cost_doubtful": " Cost: not computed, as the change is not credible.",
        "cost_flat": " Cost: not computed, as government spending per resident does not "
        "differ credibly.",
        "cost_unknown": " Cost: cannot be computed, as the district's size is not recorded.",
        "pp": "{x} percentage points",
        "index": "{x} on the 0–1 index",
        "step_share": "percentage point",
        "step_index": "0.01 of the index",
        "step_other": "unit ({unit})",
        "lever": "{scenario}: {text}",
        "few": (
            "Only {n} replications per scenario: each 95% interval spans the mean ± {t:.1f} "
            "standard errors (2.8 with 5 replications, 2.0 with many), so intervals are wide "
            "and a real difference can look doubtful for lack of runs. Rerun with "
            "--replications {advice} or more before quoting small effects."
        ),
        "single": (
            "Only one replication per scenario: no interval and no test can be computed. "
            "Rerun with --replications {advice} or more."
        ),
        "cut": (
            "The 95% intervals of {labels} reached past what is possible (a share below 0% or "
            "above 100%, a count below zero) and were cut at that limit: these runs are too "
            "few or too scattered to pin them down."
        ),
        "undefined": (
            "{label} is undefined in {missing} of {runs} runs ({where}; {why}): its mean and "
            "interval are over the other runs only."
        ),
        "undefined_where": "{scenario} {missing} of {runs}",
        "separator": ", ",  # between the items of a list in a sentence
        "stop": ".",
        "why_undefined": {
            "purchase_cost_per_need_met": "no need met through purchase in their final year",
        },
    },
    "zh": {
        "heading": "{scenario} 与 {ref} 相比",
        "up": "上升",
        "down": "下降",
        "same": "不变",
        "by": " {amount}",
        "better": ",有所改善",
        "worse": ",有所恶化",
        "credible": "差异可信(95%置信区间 {low} 至 {high})",
        "doubtful": "差异不可信:95%置信区间 {low} 至 {high} 包含0",
        "unjudged": "重复次数少于两次,无法判断",
        "sentence": "{label}:{direction}{by},由 {ref} 变为 {value}{judgement};{credibility}。",
        "cost": "成本:每{step}人均每年 {ratio} 元。",
        "saving": "同时人均每年少支出 {spend} 元。",
        "no_gain": "增加的支出在此项上没有带来改善。",
        "summary": (
            "总之:{total} 项指标中,{better} 项可信地改善{better_list};{worse} 项可信地恶化"
            "{worse_list};{doubtful} 项没有可信的差异{doubtful_list}。人均政府支出:{spend}。"
        ),
        "list": "({items})",
        "cost_doubtful": "成本:差异不可信,不计算。",
        "cost_flat": "成本:人均政府支出没有可信的差异,不计算。",
        "cost_unknown": "成本:未记录辖区人口,无法计算。",
        "pp": "{x} 个百分点",
        "index": "{x}(0–1指数)",
        "step_share": "个百分点",
        "step_index": "0.01指数",
        "step_other": "单位({unit})",
        "lever": "{scenario}:{text}",
        "few": (
            "每个情景只有 {n} 次重复:95%置信区间为均值 ± {t:.1f} 个标准误(5次重复时为2.8,"
            "重复很多时为2.0),因此区间很宽,真实的差异也可能因运行次数不足而显得不可信。"
            "引用较小的效应前,请用 --replications {advice} 或更多重新运行。"
        ),
        "single": (
            "每个情景只有 1 次重复:无法计算置信区间和检验。"
            "请用 --replications {advice} 或更多重新运行。"
        ),
        "cut": (
            "{labels} 的95%置信区间超出了可能的取值范围(比例低于0%或高于100%,数量低于0),"
            "已截断在该界限:这些运行太少或太分散,无法确定其取值。"
        ),
        "undefined": (
            "{label}在 {runs} 次运行中有 {missing} 次无定义({where};{why}):其均值和置信区间"
            "只来自其余的运行。"
        ),
        "undefined_where": "{scenario} {runs} 次中 {missing} 次",
        "separator": "、",
        "stop": "。",
        "why_undefined": {
            "purchase_cost_per_need_met": "期末一年没有通过购买服务满足任何需求",
        },
    },
}


# --- what this means -------------------------------------------------------------------
def meaning(table: pd.DataFrame, lang: str = "en") -> list[tuple[str, list[str]]]:
    """Per compared scenario: a heading and one plain sentence per key outcome.

    Spending per resident comes first: it is what the other differences cost.
    """
    words = WORDS[lang]
    scenarios = list(dict.fromkeys(table.scenario))
    if len(scenarios) < 2:
        return []
    reference = scenarios[0]
    base = table[table.scenario == reference].set_index("outcome")
    found = []
    for scenario in scenarios[1:]:
        rows = table[table.scenario == scenario].set_index("outcome")
        spend = rows.loc[SPENDING] if SPENDING in rows.index else None
        compared = rows[rows["diff"].notna()]  # an outcome no run of both scenarios measured
        order = sorted(compared.index, key=lambda n: n not in SPENDING_PARTS)
        sentences = [_summary(rows, base, lang)]
        sentences += [
            _sentence(rows.loc[name], base.loc[name, "mean"], spend, lang) for name in order
        ]
        found.append((words["heading"].format(scenario=scenario, ref=reference), sentences))
    return found


def _summary(rows: pd.DataFrame, base: pd.DataFrame, lang: str) -> str:
    """How many outcomes got credibly better, worse or did not credibly move."""
    words = WORDS[lang]
    groups: dict[str, list[str]] = {"better": [], "worse": [], "doubtful": []}
    for name, row in rows.iterrows():
        outcome = describe(str(name))
        if name in SPENDING_PARTS or outcome.higher_is_better is None or row.isna()["diff"]:
            continue
        credible = _credible(row)
        if not credible:
            groups["doubtful"].append(outcome.label(lang))
        else:
            better = (float(row["diff"]) > 0) == outcome.higher_is_better
            groups["better" if better else "worse"].append(outcome.label(lang))
    separator = words["separator"]
    lists = {
        f"{key}_list": words["list"].format(items=separator.join(items)) if items else ""
        for key, items in groups.items()
    }
    spend = "–"
    if SPENDING in rows.index:
        money = describe(SPENDING)
        levels = (_level(frame.loc[SPENDING, "mean"], money, lang) for frame in (base, rows))
        spend = "{} → {} ".format(*levels) + money.unit_label(lang)
    counts = {key: len(items) for key, items in groups.items()}
    return words["summary"].format(total=sum(counts.values()), spend=spend, **counts, **lists)


def _sentence(row: pd.Series, reference: float, spend: pd.Series | None, lang: str) -> str:
    """One outcome's difference in words: direction, size, credibility, cost."""
    words, outcome = WORDS[lang], describe(str(row.name))
    diff = float(row["diff"])
    direction = "up" if diff > 0 else "down" if diff < 0 else "same"
    credible = _credible(row)
    judgement = ""
    if credible and outcome.higher_is_better is not None and diff != 0:
        judgement = words["better" if (diff > 0) == outcome.higher_is_better else "worse"]
    text = words["sentence"].format(
        label=outcome.label(lang),
        direction=words[direction],
        by=words["by"].format(amount=_amount(abs(diff), outcome, lang)) if diff else "",
        ref=_level(reference, outcome, lang),
        value=_level(float(row["mean"]), outcome, lang),
        judgement=judgement,
        credibility=_credibility(row, credible, lang),
    )
    return text + _cost(row, credible, spend, lang)


def _credible(row: pd.Series) -> bool | None:
    """True when the paired interval excludes zero; None when there is no interval."""
    low, high = float(row["diff_ci_low"]), float(row["diff_ci_high"])
    if not (math.isfinite(low) and math.isfinite(high)):
        return None
    return low > 0 or high < 0


def _credibility(row: pd.Series, credible: bool | None, lang: str) -> str:
    words = WORDS[lang]
    if credible is None:
        return words["unjudged"]
    unit = describe(str(row.name)).unit
    low, high = (format_value(float(row[k]), unit, diff=True) for k in ("diff_ci_low",
                                                                           "diff_ci_high"))
    return words["credible" if credible else "doubtful"].format(low=low, high=high)


def _amount(size: float, outcome: Any, lang: str) -> str:
    """A difference's size with its unit: percentage points, index points, yuan..."""
    words = WORDS[lang]
    if outcome.unit == "share":
        return words["pp"].format(x=f"{size * 100:.1f}")
    if outcome.unit == "0-1":
        return words["index"].format(x=f"{size:.3f}")
    return _with_unit(format_value(size, outcome.unit), outcome, lang)


def _level(value: float, outcome: Any, lang: str) -> str:
    """A level as the table writes it (the sentence gives the unit once, with the size)."""
    return format_value(value, outcome.unit)


def _with_unit(text: str, outcome: Any, lang: str) -> str:
    if outcome.unit == "count":
        return f"{text} 个" if lang == "zh" else text
    return f"{text} {outcome.unit_label(lang)}"


def _cost(row: pd.Series, credible: bool | None, spend: pd.Series | None, lang: str) -> str:
    """What the difference costs in government spending per resident, or why not computed."""
    words, outcome = WORDS[lang], describe(str(row.name))
    if outcome.unit == "yuan":
        return ""  # money already: spending, or the cost of a need met
    if spend is None or not math.isfinite(float(spend["diff"])):
        return words["cost_unknown"]
    if not credible:
        return words["cost_doubtful"]
    if not _credible(spend):
        return words["cost_flat"]
    extra, diff = float(spend["diff"]), float(row["diff"])
    better = outcome.higher_is_better is None or (diff > 0) == outcome.higher_is_better
    if extra < 0:
        return words["saving"].format(spend=format_value(abs(extra), "yuan")) if better else ""
    if not better:
        return words["no_gain"]
    step = 0.01 if outcome.unit in ("share", "0-1") else 1.0
    ratio = extra / (abs(diff) / step)
    return words["cost"].format(ratio=format_value(ratio, "yuan"), step=_step(outcome, lang))


def _step(outcome: Any, lang: str) -> str:
    words = WORDS[lang]
    if outcome.unit == "share":
        return words["step_share"]
    if outcome.unit == "0-1":
        return words["step_index"]
    return words["step_other"].format(unit=outcome.unit_label(lang))


# --- warnings --------------------------------------------------------------------------
def warnings_for(
    comparison: Comparison, table: pd.DataFrame, lang: str = "en", levers: bool = True
) -> list[str]:
    """Levers on with nothing behind them, too few replications, intervals cut at a limit."""
    words = WORDS[lang]
    found = _lever_warnings(comparison, lang) if levers else []
    counts = comparison.runs.groupby("scenario").size().reindex(comparison.scenarios)
    fewest = int(counts.fillna(0).min()) if len(counts) else 0
    advice = 2 * MIN_REPLICATIONS
    if fewest == 1:
        found.append(words["single"].format(advice=advice))
    elif fewest and too_few(fewest):
        found.append(words["few"].format(n=fewest, t=t_multiplier(fewest), advice=advice))
    cut = table[table.ci_cut.astype(bool) | table.diff_ci_cut.astype(bool)]
    if not cut.empty:
        labels = list(dict.fromkeys(describe(n).label(lang) for n in cut.outcome))
        found.append(words["cut"].format(labels=words["separator"].join(labels)))
    return found + _undefined_ratios(table, counts.fillna(0).astype(int), lang)


def _undefined_ratios(table: pd.DataFrame, counts: pd.Series, lang: str) -> list[str]:
    """A ratio's row whose runs did not all define it (RATIO_PARTS: a divisor of zero), with
    the scenarios where it is undefined (``counts``: each scenario's runs) and why."""
    words, found = WORDS[lang], []
    for name, rows in table[table.outcome.isin(RATIO_PARTS)].groupby("outcome", sort=False):
        missing = counts - rows.set_index("scenario").n.reindex(counts.index).fillna(0)
        missing = missing[missing > 0].astype(int)
        if missing.empty:
            continue
        where = [words["undefined_where"].format(scenario=s, missing=m, runs=counts[s])
                 for s, m in missing.items()]
        found.append(words["undefined"].format(
            label=describe(str(name)).label(lang), missing=int(missing.sum()),
            runs=int(counts.sum()), where=words["separator"].join(where),
            why=words["why_undefined"][name]))
    return found


def _lever_warnings(comparison: Comparison, lang: str) -> list[str]:
    """Each compared scenario's levers that are on with nothing behind them."""
    from sanshe.inputs.errors import InputError
    from sanshe.inputs.lever_checks import lever_warnings
    from sanshe.inputs.scenario import Scenario

    found: list[str] = []
    for name in comparison.scenarios:
        stored = comparison.parameters.get(name)
        if not stored:
            continue
        try:
            scenario = Scenario.from_dict(stored)
        except InputError:  # settings of an older version of the schema: nothing to check
            continue
        for warning in lever_warnings(scenario):
            text = warning.zh if lang == "zh" else warning.en
            found.append(WORDS[lang]["lever"].format(scenario=name, text=text))
    return list(dict.fromkeys(found))
