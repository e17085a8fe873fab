"""sanshe: an agent-based simulation of community governance under 三社联动 policies.

Public API (INTERFACE.md): ``Scenario``, ``CommunityGovernanceModel``, ``run``, ``compare``.
The package is layered: ``inputs`` (scenarios, parameters, outcomes) ← ``sim`` (the model and
its mechanisms) ← ``reporting`` (statistics, tables, figures, reports) ← ``experiments`` (the
run engine, store, compare, sweep, …) ← ``ui`` (command line, dashboard); a layer imports only
those below it (pyproject.toml's import-linter contract). Old paths such as
``sanshe.scenario`` keep working (:mod:`sanshe._old_paths`).
"""

from sanshe import _old_paths
from sanshe.experiments.experiment import run
from sanshe.inputs.scenario import Scenario
from sanshe.sim.model import CommunityGovernanceModel
from sanshe.ui.notebook import show_figures_as_images

_old_paths.install()

__all__ = ["CommunityGovernanceModel", "Scenario", "run"]

show_figures_as_images()  # in Jupyter, a cell ending in a figure shows the plot, not its repr


def __getattr__(name: str):
    """Import heavier parts (reports, sweeps) only when asked for."""
    if name == "compare":
        from sanshe.experiments.comparison import compare

        return compare
    if name == "optimize":
        from sanshe.experiments.optimize import optimize

        return optimize
    if name == "discover":
        from sanshe.experiments.discovery import discover

        return discover
    raise AttributeError(f"module 'sanshe' has no attribute {name!r}")
