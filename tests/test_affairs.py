import numpy as np

from sanshe.sim.mechanisms import affairs
from tests.helpers import params


def shares(platform, attendees, strength, seed=0):
    residents = np.full(20, 1000.0)
    result = affairs.settle(residents, np.full(20, attendees), np.full(20, strength), platform,
                            params(), np.random.default_rng(seed))
    total = result.total
    return (result.deliberation.sum() / total, result.so_service.sum() / total,
            result.referral.sum() / total)


def test_without_a_platform_nothing_is_deliberated_and_referral_dominates():
    deliberation, _, referral = shares(False, 100, 0.5)
    assert deliberation == 0
    assert referral > 0.6


def test_a_platform_with_enough_attendance_settles_most_affairs_in_meetings():
    deliberation, so, referral = shares(True, 100, 3.0)
    assert deliberation > 0.6 and so > 0.1 and referral < 0.2


def test_meetings_below_quorum_rarely_decide():
    low, _, _ = shares(True, 2, 1.0)
    high, _, _ = shares(True, 100, 1.0)
    assert low < high - 0.3
