"""sanshe: an agent-based simulation of community governance under 三社联动 policies.

Public API (INTERFACE.md): ``Scenario``, ``CommunityGovernanceModel``, ``run``, ``compare``.
"""

from sanshe.experiment import run
from sanshe.model import CommunityGovernanceModel
from sanshe.notebook import show_figures_as_images
from sanshe.scenario import Scenario

__all__ = ["CommunityGovernanceModel", "Scenario", "run"]

show_figures_as_images()  # in Jupyter, a cell ending in a figure shows the plot, not its repr


def __getattr__(name: str):
    """Import heavier parts (reports, sweeps) only when asked for."""
    if name == "compare":
        from sanshe.comparison import compare

        return compare
    if name == "optimize":
        from sanshe.optimize import optimize

        return optimize
    if name == "discover":
        from sanshe.discovery import discover

        return discover
    raise AttributeError(f"module 'sanshe' has no attribute {name!r}")
