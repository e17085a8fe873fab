"""Named random streams derived from one seed, each by its name.

Each mechanism draws from its own ``numpy.random.Generator`` so that a lever which changes
how many numbers one mechanism draws does not shift any other mechanism's draws: two
scenarios run with one seed stay on common random numbers wherever a policy does not act.
A stream is derived from the seed and a stable number computed from its *name*
(``SeedSequence(seed, spawn_key=(stable_id(name),))``), not from its position in a list, so
adding, removing or reordering mechanisms never changes another mechanism's stream.
"""

from __future__ import annotations

import hashlib

import numpy as np

#: The streams a model holds: the district's construction, then one per mechanism that
#: draws (its module's ``STREAM``; needs also owns ``expression``). Finance and the four
#: priorities decide by rule and draw nothing. The order here changes nothing.
STREAM_NAMES: tuple[str, ...] = (
    "population",  # construction: residents, seeded organisations, group-org reach
    "needs",
    "expression",
    "services",
    "participation",
    "affairs",
    "ecology",
    "procurement",
    "funding",
    "donors",
    "incubation",
    "workforce",
    "stations",  # which communities have a part post (workforce.station_order), once a run
    "group_orgs",
)


def stable_id(name: str) -> int:
    """A number that only ``name`` determines (the same in every process and version)."""
    return int.from_bytes(hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest(), "big")


def stream(seed: int, name: str) -> np.random.Generator:
    """The stream called ``name`` of the run seeded ``seed``."""
    return np.random.default_rng(np.random.SeedSequence(int(seed),
                                                        spawn_key=(stable_id(name),)))


def make_streams(seed: int) -> dict[str, np.random.Generator]:
    """One independent Generator per name in :data:`STREAM_NAMES`, all derived from ``seed``."""
    return {name: stream(seed, name) for name in STREAM_NAMES}


def whole_count(expected: float, rng: np.random.Generator) -> int:
    """A whole number of things whose mean is ``expected``: its whole part, and one more
    with the fraction as its chance (no draw when there is no fraction), so that a rate per
    resident or per yuan is right on average at any district size."""
    whole, part = divmod(expected, 1.0)
    return int(whole) + int(part > 0 and rng.random() < part)
