"""Satisfaction (满意度) with a moving reference point.

Expectation–disconfirmation (Oliver 1980, J. Marketing Research 17(4)): satisfaction rests on
what a resident has come to expect and on how far what she got beat or fell short of it.
The expectation itself adapts towards what she experiences (adaptation level: Helson 1964;
hedonic adaptation: Frederick & Loewenstein 1999), so a lasting improvement first pleases,
then becomes the new normal, and a lasting decline does the reverse — satisfaction follows
service in both directions and is never pulled back to where it started.

An experience is a met need (worth ``service_relief`` plus quality) or a need that lapsed
unmet (worth nothing). A rule, not a draw: this module owns no random stream.
"""

from __future__ import annotations

import numpy as np

from sanshe.sim.population import Population


def felt(quality: np.ndarray, p: dict[str, float]) -> np.ndarray:
    """What a met need is worth to its holder: relief at being served, plus quality."""
    relief = p["service_relief"]
    return relief + (1.0 - relief) * quality


def judge(pop: Population, idx: np.ndarray, experienced: np.ndarray | float,
          p: dict[str, float], weight: np.ndarray | float = 1.0) -> None:
    """Residents ``idx`` compare what they ``experienced`` with what they expected.

    Satisfaction moves towards expectation + ``disconfirmation_weight`` × (experienced −
    expectation); then the expectation adapts towards the experience. ``weight`` scales how
    much the experience counts (a hidden need nobody was told of hurts less).
    """
    expected = pop.expectation[idx]
    surprise = experienced - expected
    target = expected + p["disconfirmation_weight"] * surprise
    # clipped to [0, 1] in place (the two ufuncs cost half of np.clip's wrapper)
    np.minimum(np.maximum(target, 0.0, out=target), 1.0, out=target)
    pop.satisfaction[idx] += weight * p["satisfaction_learning"] * (
        target - pop.satisfaction[idx])
    pop.expectation[idx] += weight * p["expectation_adaptation"] * surprise
