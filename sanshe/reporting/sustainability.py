"""What is kept after a policy changes: the first question when pilot money stops.

For a scenario with a ``[[timeline]]``, each outcome is read just before its first change
and 12 and 24 months after it, with the same definitions as a run's final value
(:func:`sanshe.inputs.outcomes.final_value`): a rate is the mean of the 12 months up to that
point, a flow their sum, a stock the month's value. "Before" is the run up to the month
before the change (month 36 for a change at month 37), "12 months after" the run up to
month 48, and so on. The share kept is each replication's value after over its value
before, so an interval over replications (:func:`sanshe.reporting.stats.mean_ci`) says how sure the
share is. A horizon past the end of the run is left out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sanshe.inputs import timeline
from sanshe.inputs.outcomes import describe, final_value
from sanshe.reporting.stats import mean_ci
from sanshe.reporting.tables import format_interval

if TYPE_CHECKING:
    from sanshe.experiments.comparison import Comparison

#: Months after the change at which the report reads what is kept.
HORIZONS: tuple[int, ...] = (12, 24)

#: Outcomes the section shows: what residents get, the SO ecology the money built, the
#: social workers it paid and the government money itself (to show that it stopped).
KEPT_OUTCOMES: tuple[str, ...] = (
    "participation_rate",
    "volunteer_rate",
    "need_coverage",
    "mean_service_quality",
    "mean_satisfaction",
    "so_count",
    "professional_so_count",
    "sw_employed",
    "gov_spending",
)

WORDS = {
    "en": {
        "title": "After the change: what is kept",
        "intro": ("{scenario} changes policy at month {month} ({change}). Each outcome just "
                  "before the change (the run up to month {before}) and {horizons} months "
                  "after it, and the share of its value before that is kept, with 95% CIs "
                  "over replications."),
        "headers": ["Outcome", "Unit", "Before (month {before})"],
        "after": "{h} months after (month {month})",
        "kept": "Kept after {h} months",
        "none": ("{scenario}: the run ends at month {months}, less than {h} months after "
                 "the change at month {month}; run longer to see what is kept."),
        "note": ("Values as in the key table: rates are means of the 12 months up to the "
                 "month shown, flows sums over those 12 months, stocks the month's value. "
                 "Growth under way before the change goes on after it: the effect of the "
                 "change itself is the difference from the same scenario without it (e.g. "
                 "full_linkage for pilot_ends) in the key table."),
    },
    "zh": {
        "title": "政策变化之后：保留了多少",
        "intro": ("{scenario} 在第 {month} 个月改变政策（{change}）。下表给出各指标在变化前"
                  "（截至第 {before} 个月）以及变化后 {horizons} 个月的值，和相对变化前保留的"
                  "比例，均附各次重复的95%置信区间。"),
        "headers": ["指标", "单位", "变化前(第 {before} 个月)"],
        "after": "变化后 {h} 个月(第 {month} 个月)",
        "kept": "{h} 个月后保留",
        "none": ("{scenario}：运行在第 {months} 个月结束，距第 {month} 个月的变化不足 {h} 个"
                 "月；请延长运行以观察保留情况。"),
        "note": ("取值口径与主要结果表相同：比率为截至该月12个月的均值，流量为其总和，"
                 "存量为当月值。变化前已在增长的指标变化后仍会增长：变化本身的效果是与没有该变化"
                 "的同一情景(如 pilot_ends 对应 full_linkage)在主要结果表中的差值。"),
    },
}


def first_change(parameters: Mapping[str, Any]) -> timeline.Change | None:
    """The first timeline change of a stored scenario after month 1 (none: no timeline)."""
    changes = [c for c in timeline.from_stored(parameters) if c.month > 1]
    return changes[0] if changes else None


def kept(series: pd.DataFrame, month: int, outcomes: Sequence[str] = KEPT_OUTCOMES,
         horizons: Sequence[int] = HORIZONS) -> pd.DataFrame:
    """Before and after a change at ``month``, per outcome and horizon, over replications.

    ``series`` is one scenario's long monthly form (replication, month, outcome, value;
    months from 1). Rows: outcome, horizon (0 = before), month (the last month read),
    mean, low, high, and the share kept (kept, kept_low, kept_high; NaN before).
    """
    rows = []
    last = int(series.month.max()) if len(series) else 0
    for name in outcomes:
        per_run = _values_at(series[series.outcome == name], name, month, horizons, last)
        if per_run.empty:
            continue
        before = per_run[0]
        bounds = describe(name).bounds
        for horizon in per_run.columns:
            values = per_run[horizon]
            row = {"outcome": name, "horizon": int(horizon), "month": month - 1 + int(horizon)}
            row.update(zip(("mean", "low", "high"), mean_ci(values, bounds=bounds), strict=True))
            with np.errstate(divide="ignore", invalid="ignore"):
                share = np.where(before > 0, values / before, np.nan)
            ratio = mean_ci(share, bounds=(0.0, np.inf)) if horizon else (np.nan,) * 3
            row.update(zip(("kept", "kept_low", "kept_high"), ratio, strict=True))
            rows.append(row)
    return pd.DataFrame(rows, columns=["outcome", "horizon", "month", "mean", "low", "high",
                                       "kept", "kept_low", "kept_high"])


def _values_at(frame: pd.DataFrame, name: str, month: int, horizons: Sequence[int],
               last: int) -> pd.DataFrame:
    """Replication × horizon (0 = before): the final value of the run cut at that month."""
    reach = [0, *(h for h in horizons if month - 1 + h <= last)]
    if month < 2 or len(reach) < 2 or frame.empty:
        return pd.DataFrame()
    wide = frame.pivot_table(index="replication", columns="month", values="value",
                             aggfunc="first", dropna=False).sort_index(axis=1)
    table = {h: [final_value(name, row[: month - 1 + h]) for row in wide.to_numpy()]
             for h in reach}
    return pd.DataFrame(table, index=wide.index)


def section(comparison: Comparison, lang: str = "en") -> list[dict[str, Any]]:
    """The report's section: per scenario with a timeline, its text and table rows."""
    words = WORDS[lang]
    changes = {name: first_change(comparison.parameters.get(name, {}))
               for name in comparison.scenarios}
    if not any(changes.values()):
        return []
    series = comparison.store.series(comparison.name, outcomes=list(KEPT_OUTCOMES))
    found = []
    for name, change in changes.items():
        if change is None:
            continue
        table = kept(series[series.scenario == name], change.month)
        horizons = sorted(h for h in set(table.horizon) if h) if len(table) else []
        months = int(series.month.max()) if len(series) else 0
        if not horizons:
            found.append({"text": [words["none"].format(scenario=name, months=months,
                                                        h=min(HORIZONS), month=change.month)],
                          "headers": [], "rows": []})
            continue
        headers = [words["headers"][0], words["headers"][1],
                   words["headers"][2].format(before=change.month - 1)]
        for h in horizons:
            headers += [words["after"].format(h=h, month=change.month - 1 + h),
                        words["kept"].format(h=h)]
        rows = []
        for outcome, part in table.groupby("outcome", sort=False):
            meta = describe(outcome)
            cells = [meta.label(lang), meta.unit_label(lang)]
            for r in part.itertuples():
                cells.append(format_interval(r.mean, r.low, r.high, meta.unit))
                if r.horizon:
                    cells.append(format_interval(r.kept, r.kept_low, r.kept_high, "share"))
            rows.append(cells)
        settings = ", ".join(f"{k} = {timeline.show(v)}" for k, v in change.values)
        intro = words["intro"].format(scenario=name, month=change.month, change=settings,
                                      before=change.month - 1,
                                      horizons=" / ".join(str(h) for h in horizons))
        found.append({"text": [intro, words["note"]], "headers": headers, "rows": rows})
    return found


__all__ = ["HORIZONS", "KEPT_OUTCOMES", "first_change", "kept", "section"]
