"""Import paths from before the layers: ``sanshe.scenario`` is ``sanshe.inputs.scenario``.

Notebooks, scripts and pickles name modules by their old paths (``from sanshe.comparison
import compare``, ``model.experiment``); a finder maps each to its module in the layer
packages, the very same module object, so classes and isinstance checks agree.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys

#: Old top-level module -> the layer package that holds it now.
MOVED: dict[str, str] = {
    **dict.fromkeys(("errors", "schema", "parameters", "outcomes", "scenario",
                     "lever_checks", "timeline", "checks"), "inputs"),
    **dict.fromkeys(("model", "population", "streams", "measures", "agents", "mechanisms"),
                    "sim"),
    **dict.fromkeys(("experiment", "runner", "executors", "store", "designs", "comparison",
                     "sweep", "sensitivity", "calibration", "validation", "discovery", "ema"),
                    "experiments"),
    **dict.fromkeys(("report", "conclusions", "sustainability", "provider_mix", "plotting",
                     "tables", "pages", "stats", "odd"), "reporting"),
    **dict.fromkeys(("cli", "commands", "dashboard", "notebook"), "ui"),
}


class OldPaths(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds ``sanshe.<old>[.rest]`` as ``sanshe.<layer>.<old>[.rest]``."""

    def find_spec(self, fullname, path, target=None):
        parts = fullname.split(".")
        if len(parts) > 1 and parts[0] == "sanshe" and parts[1] in MOVED:
            return importlib.util.spec_from_loader(fullname, self)
        return None

    def create_module(self, spec):
        _, old, *rest = spec.name.split(".")
        return importlib.import_module(".".join(["sanshe", MOVED[old], old, *rest]))

    def exec_module(self, module):
        """Nothing to run: the module was imported under its layer path."""


def install() -> None:
    """Put the finder first on ``sys.meta_path`` (once)."""
    if not any(isinstance(finder, OldPaths) for finder in sys.meta_path):
        sys.meta_path.insert(0, OldPaths())
