"""sanshe.reporting.stats: t intervals that stay within what is possible, and paired tests."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats

from sanshe.inputs.outcomes import BY_NAME
from sanshe.reporting.stats import (
    MIN_REPLICATIONS,
    bands,
    interval,
    mean_ci,
    paired_test,
    t_multiplier,
    too_few,
)

SHARE = BY_NAME["need_coverage"]
COUNT = BY_NAME["so_count"]


def test_an_interval_inside_the_bounds_is_scipys_t_interval() -> None:
    values = [0.31, 0.35, 0.29, 0.4, 0.33]
    (mean, low, high), cut = interval(values, bounds=SHARE.bounds)
    expected = scipy_stats.t.interval(
        0.95, 4, loc=np.mean(values), scale=scipy_stats.sem(values)
    )
    assert mean == pytest.approx(np.mean(values)) and not cut
    assert (low, high) == pytest.approx(expected)
    assert mean_ci([1.0, float("nan"), 3.0])[0] == 2.0
    one = mean_ci([0.5])
    assert one[0] == 0.5 and math.isnan(one[1]) and math.isnan(one[2])
    assert mean_ci([2.0, 2.0, 2.0]) == (2.0, 2.0, 2.0)
    assert all(math.isnan(v) for v in mean_ci([]))


def test_two_replications_of_a_share_stay_within_0_and_1() -> None:
    # the t interval of these two is about [-1.2, 1.9]: both ends are impossible
    (mean, low, high), cut = interval([0.02, 0.9], bounds=SHARE.bounds)
    assert cut and (low, high) == (0.0, 1.0) and mean == pytest.approx(0.46)
    (_, low, high), cut = interval([0.9, 0.99], bounds=SHARE.bounds)
    assert cut and high == 1.0 and 0.0 < low < 0.9


def test_counts_and_money_stay_at_or_above_zero_but_may_grow() -> None:
    (_, low, high), cut = interval([0.0, 3.0], bounds=COUNT.bounds)
    raw = scipy_stats.t.interval(0.95, 1, loc=1.5, scale=1.5)
    assert cut and low == 0.0 and high == pytest.approx(raw[1]) and high > 3.0


def test_differences_of_shares_stay_within_plus_minus_one() -> None:
    assert SHARE.diff_bounds == (-1.0, 1.0)
    assert COUNT.diff_bounds == (-math.inf, math.inf)
    (_, low, high), cut = interval([-0.5, 0.6], bounds=SHARE.diff_bounds)
    assert cut and (low, high) == (-1.0, 1.0)
    (_, low, high), cut = interval([-50.0, 60.0], bounds=COUNT.diff_bounds)
    assert not cut and low < -50 and high > 60  # a count's difference has no bound


def test_bands_are_cut_like_the_intervals() -> None:
    series = pd.DataFrame(
        {
            "scenario": ["a"] * 4 + ["b"] * 2,
            "month": [1, 1, 2, 2, 1, 2],
            "value": [0.01, 0.5, 0.3, 0.32, 0.7, 0.7],
        }
    )
    frame = bands(series, SHARE.bounds).set_index(["scenario", "month"])
    assert frame.loc[("a", 1), "low"] == 0.0 and frame.loc[("a", 1), "high"] == 1.0
    low, high = scipy_stats.t.interval(
        0.95, 1, loc=0.31, scale=scipy_stats.sem([0.3, 0.32])
    )
    assert (frame.loc[("a", 2), "low"], frame.loc[("a", 2), "high"]) == pytest.approx(
        (low, high)
    )
    # one replication: the band collapses onto the mean
    assert frame.loc[("b", 1), "low"] == frame.loc[("b", 1), "high"] == 0.7
    unbounded = bands(series).set_index(["scenario", "month"])
    assert unbounded.loc[("a", 1), "low"] < 0.0


def test_paired_test_edge_cases_without_warnings() -> None:
    x, y = [1.0, 2.0, 3.5, 4.0], [0.5, 2.1, 3.0, 3.2]
    assert paired_test(x, y) == pytest.approx(scipy_stats.ttest_rel(x, y).pvalue)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert paired_test([1.0, 2.0], [1.0, 2.0]) == 1.0  # identical: no evidence
        assert paired_test([2.0, 3.0], [1.0, 2.0]) == 0.0  # constant non-zero shift
        assert math.isnan(paired_test([1.0], [2.0]))
        assert paired_test([1.0, np.nan, 3.0, 5.0], [0.0, 1.0, 2.5, 3.0]) == pytest.approx(
            scipy_stats.ttest_rel([1.0, 3.0, 5.0], [0.0, 2.5, 3.0]).pvalue
        )


def test_few_replications_are_flagged_below_five() -> None:
    assert MIN_REPLICATIONS == 5
    assert too_few(2) and too_few(4) and not too_few(5) and not too_few(30)
    assert t_multiplier(2) == pytest.approx(12.706, abs=1e-3)
    assert t_multiplier(5) == pytest.approx(2.776, abs=1e-3)
    assert math.isnan(t_multiplier(1))
