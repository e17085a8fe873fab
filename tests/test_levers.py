"""Each lever moves the outcome its mechanism says it should (several seeds, paired)."""

import numpy as np

from tests.helpers import finals

SEEDS = 5


def paired_gain(scenario, outcome, low, high, months=36, seeds=SEEDS, **fixed):
    """Mean and standard error of (high − low) over seeds, with common random numbers."""
    a = finals(scenario, outcome, seeds, months, **{**fixed, **low})
    b = finals(scenario, outcome, seeds, months, **{**fixed, **high})
    diff = b - a
    return diff.mean(), diff.std(ddof=1) / np.sqrt(diff.size)


def assert_rises(mean_se, min_effect=0.0):
    mean, se = mean_se
    assert mean > min_effect and mean > 2 * se, f"effect {mean:.4f} ± {se:.4f}"


def test_purchase_budget_raises_need_coverage():
    # amounts are for the reference district (10,000 residents) and scale to the small one
    # (README: money at any district size): 300 and 3,000 yuan per resident a year, so that
    # the small district's 1,000 residents buy 3 and 30 lots (at 30 yuan per resident its
    # 3 small lots a year keep no agency alive and coverage barely moves: +0.015 ± 0.009)
    assert_rises(paired_gain("purchase_only", "need_coverage",
                             {"policy.purchase.annual_budget": 3_000_000},
                             {"policy.purchase.annual_budget": 30_000_000}), 0.05)


def test_incubation_raises_the_number_of_sos():
    """Incubator places go to applicants — active leaders who would found on its terms,
    young weak SOs — so the incubator adds a few foundings a year and protects its SOs: the
    stock of SOs shows it (one year's births, a flow of a few, is too noisy; issue 14).
    Five communities of the library's 1,000 residents: on the small district (1,000
    residents, about half an SO without the incubator) the gain at 36 months was +0.53 ±
    0.12 (30 seeds) until the refit of 2026-12-07 lowered ``founding_rate`` (fewer leaders
    to apply), then +0.20 ± 0.11, not to be told from noise; here it was +1.7 ± 0.30 (30
    seeds, 3.5 SOs without the incubator). Places scale with residents and the library's
    are Yuhuatai's intensity (0.21 a year per 10,000: a place every ten years here), so
    this test of the rule states an incubator of 10 places a year on these 5,000 residents
    (20 for the 10,000-resident reference), as it had before places scaled: +1.67 ± 0.30."""
    assert_rises(paired_gain("incubation_only", "so_count", {"policy.incubation.enabled": False},
                             {"policy.incubation.enabled": True}, seeds=30,
                             **{"district.residents_per_community": 1000,
                                "policy.incubation.places": 20}))


def test_directed_purchase_raises_contract_concentration():
    # many lots to concentrate: the library's 60,000 yuan buy one lot even at full size and
    # scale to a tenth on the small district (README: money at any district size); 30M for
    # the reference district is the 3M this test gave the small district before scaling
    assert_rises(paired_gain("purchase_only", "contract_hhi",
                             {"policy.purchase.mode": "competitive"},
                             {"policy.purchase.mode": "directed"},
                             **{"policy.purchase.annual_budget": 30_000_000}))


def test_deliberation_raises_the_deliberation_share_of_settled_affairs():
    # at the calibrated engagement the platform alone settles a few percent of affairs: the
    # lever acts in its direction; the 622 needs more engaged residents (validation pattern
    # 7, docs/validation.md). Ten seeds: with representatives speaking for their residents'
    # groups (issue 14 D2) a small community's meeting tips to working or dead, so the gain
    # varies more between seeds (+0.046 ± 0.026 on 5 seeds, +0.057 ± 0.020 on 10; before,
    # +0.041 ± 0.017 on 5)
    assert_rises(paired_gain("baseline", "affairs_deliberation_share",
                             {"policy.community.deliberation": False},
                             {"policy.community.deliberation": True}, seeds=10))


def test_information_platform_lowers_hidden_needs():
    mean, se = paired_gain("baseline", "hidden_need_share",
                           {"policy.linkage.info_platform": False},
                           {"policy.linkage.info_platform": True})
    assert mean < -2 * se and mean < -0.05


def test_better_pay_lowers_social_worker_turnover():
    mean, se = paired_gain("low_sw_pay", "sw_turnover_rate",
                           {"policy.social_work.salary_index": 0.6},
                           {"policy.social_work.salary_index": 1.5}, months=48,
                           # per community of the reference's 1,000 residents: 3 on each
                           # of the small district's communities of 200 (posts scale)
                           **{"policy.social_work.posts_per_community": 15})
    assert mean < -2 * se


def test_group_coordination_removes_duplicated_projects():
    # a project each: budgets are per 1,000 residents, and the small district has 1,000
    mean, se = paired_gain("baseline", "duplicated_services",
                           {"policy.linkage.group_coordination": False},
                           {"policy.linkage.group_coordination": True},
                           **{"parameters.group_budget": 8_000,
                              "parameters.group_project_size": 5_000})
    assert mean < 0
