"""The statistics of comparisons: intervals that stay within what is possible, paired tests.

Every interval is a 95% Student-t interval of a mean over replications, cut at the
outcome's possible range: a share stays within 0–100%, a count or an amount of money at
or above zero, a difference of two shares within ±100 percentage points. The true mean
always lies in that range, so cutting drops only impossible values and the interval
covers the mean exactly as often as the t interval does. A bootstrap would be too narrow
with the few replications a comparison usually has (with two it spans just the two
values); a logit-scale t interval targets the median on the logit scale, not the mean
the table shows, and breaks on a share of exactly 0 or 1.

When there are few replications the t multiplier, not the data, sets the width (12.7 with
two, 4.3 with three, 2.8 with five, 2.0 with many): :func:`too_few` says when to warn.

``sanshe/experiments/calibration.py``, ``sweep.py`` and ``validation.py`` (``t_interval``, a
thin wrapper kept for its callers) use :func:`mean_ci`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import stats

#: Confidence level of every interval.
CONFIDENCE = 0.95

#: Fewer replications than this earn a warning: below five the t multiplier (3.18 with four)
#: is more than 1.6 times its large-sample value, so intervals mostly show how few runs
#: there were rather than how much the outcome varies.
MIN_REPLICATIONS = 5

#: How the report names the method, per language.
METHOD = {
    "en": "95% Student-t interval, cut at the outcome's possible range "
    "(shares 0–100%, counts and money ≥ 0, differences of shares within ±100 pp)",
    "zh": "基于各次重复的95% t分布置信区间,并截断在指标的可能取值范围内"
    "(比例0–100%,数量和金额不小于0,比例之差在±100个百分点内)",
}

Bounds = tuple[float, float]
UNBOUNDED: Bounds = (-math.inf, math.inf)


class Interval(NamedTuple):
    """A mean and the low and high ends of its interval."""

    mean: float
    low: float
    high: float


def _finite(values: Sequence[float]) -> np.ndarray:
    data = np.asarray(values, dtype=float)
    return data[~np.isnan(data)]


def mean_ci(
    values: Sequence[float], confidence: float = CONFIDENCE, bounds: Bounds = UNBOUNDED
) -> Interval:
    """Mean and Student-t interval of ``values`` (NaNs dropped), cut at ``bounds``.

    One value gives an undefined interval (NaN); identical values a zero-width one.
    """
    return interval(values, confidence, bounds)[0]


def interval(
    values: Sequence[float], confidence: float = CONFIDENCE, bounds: Bounds = UNBOUNDED
) -> tuple[Interval, bool]:
    """:func:`mean_ci`, and whether the t interval had to be cut at ``bounds``.

    A cut interval reached past what is possible: its data are too few or too scattered
    to bound the mean by themselves.
    """
    data = _finite(values)
    if data.size == 0:
        return Interval(math.nan, math.nan, math.nan), False
    mean = float(data.mean())
    if data.size < 2:
        return Interval(mean, math.nan, math.nan), False
    sem = float(stats.sem(data))
    if not sem > 0:
        return Interval(mean, mean, mean), False
    low, high = stats.t.interval(confidence, data.size - 1, loc=mean, scale=sem)
    lower, upper = bounds
    cut = bool(low < lower or high > upper)
    return Interval(mean, max(float(low), lower), min(float(high), upper)), cut


def paired_test(values: Sequence[float], reference: Sequence[float]) -> float:
    """Two-sided paired t-test p-value of ``values`` against ``reference``.

    Pairs with a NaN are dropped. Identical pairs (every difference zero) give 1.0, a
    constant non-zero difference 0.0, fewer than two pairs NaN — where scipy would warn.
    """
    x, y = np.asarray(values, dtype=float), np.asarray(reference, dtype=float)
    keep = ~(np.isnan(x) | np.isnan(y))
    x, y = x[keep], y[keep]
    if x.size < 2:
        return math.nan
    diff = x - y
    if np.all(diff == diff[0]):
        return 1.0 if diff[0] == 0 else 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(stats.ttest_rel(x, y).pvalue)


def bands(series: pd.DataFrame, bounds: Bounds = UNBOUNDED) -> pd.DataFrame:
    """Per scenario × month: mean and cut t interval over replications of one series.

    ``series`` has columns scenario, month, value. The same interval as :func:`mean_ci`,
    vectorised; where it is undefined (one replication) the band collapses onto the mean.
    """
    values = series.dropna(subset=["value"])
    grouped = values.groupby(["scenario", "month"], sort=True)["value"]
    frame = grouped.agg(["mean", "std", "count"]).reset_index()
    with np.errstate(invalid="ignore", divide="ignore"):
        sem = frame["std"] / np.sqrt(frame["count"])
        quantile = stats.t.ppf(0.5 + CONFIDENCE / 2, frame["count"] - 1)
    half = np.nan_to_num(quantile * sem, nan=0.0)
    frame["low"] = (frame["mean"] - half).clip(lower=bounds[0])
    frame["high"] = (frame["mean"] + half).clip(upper=bounds[1])
    frame["month"] = frame["month"].astype(int)
    return frame[["scenario", "month", "mean", "low", "high"]]


def t_multiplier(replications: int, confidence: float = CONFIDENCE) -> float:
    """The Student-t quantile an interval of ``replications`` values is built with."""
    if replications < 2:
        return math.nan
    return float(stats.t.ppf(0.5 + confidence / 2, replications - 1))


def too_few(replications: int) -> bool:
    """True when intervals from ``replications`` runs say more about the count than the data."""
    return replications < MIN_REPLICATIONS
