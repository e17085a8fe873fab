"""Named random streams derived from one seed.

Each mechanism draws from its own ``numpy.random.Generator`` so that a lever which changes
how many numbers one mechanism draws does not shift every other mechanism's draws: two
scenarios run with one seed stay on common random numbers wherever a policy does not act.
"""

from __future__ import annotations

import numpy as np

#: The mechanisms that own a stream. Append new names at the end: the order fixes the
#: streams, so inserting a name would change every stream after it.
STREAM_NAMES: tuple[str, ...] = (
    "population",
    "needs",
    "expression",
    "service",
    "participation",
    "affairs",
    "ecology",
    "procurement",
    "workers",
    "groups",
    "finance",
)


def make_streams(seed: int) -> dict[str, np.random.Generator]:
    """One independent Generator per mechanism, all derived from ``seed``."""
    children = np.random.SeedSequence(int(seed)).spawn(len(STREAM_NAMES))
    pairs = zip(STREAM_NAMES, children, strict=True)
    return {name: np.random.default_rng(child) for name, child in pairs}
