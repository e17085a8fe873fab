"""sanshe: an agent-based simulation of community governance under 三社联动 policies.

Public API (INTERFACE.md): ``Scenario``, ``CommunityGovernanceModel``, ``run``, ``compare``.
"""

from sanshe.experiment import run
from sanshe.model import CommunityGovernanceModel
from sanshe.scenario import Scenario

__all__ = ["CommunityGovernanceModel", "Scenario", "run"]


def __getattr__(name: str):
    """Import heavier parts (reports, sweeps) only when asked for."""
    if name == "compare":
        from sanshe.comparison import compare

        return compare
    raise AttributeError(f"module 'sanshe' has no attribute {name!r}")
