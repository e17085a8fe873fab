"""The older import name: ``import model`` and ``from model.scenario import ...`` keep working.

The package is ``sanshe``; every ``model.X`` is the very module ``sanshe.X`` (one module
object, so classes and isinstance checks agree), found by an alias finder on first import.
"""

import importlib
import importlib.abc
import importlib.util
import sys

import sanshe
from sanshe import *  # noqa: F401,F403
from sanshe import __all__  # noqa: F401


class _SansheAlias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Maps ``model.X`` to the already-importable ``sanshe.X``."""

    def find_spec(self, fullname, path, target=None):
        if fullname.startswith(__name__ + ".") and fullname != __name__ + ".__main__":
            return importlib.util.spec_from_loader(fullname, self)
        return None

    def create_module(self, spec):
        return importlib.import_module("sanshe" + spec.name[len(__name__):])

    def exec_module(self, module):
        """Nothing to run: the module was imported as ``sanshe.X``."""


if not any(isinstance(finder, _SansheAlias) for finder in sys.meta_path):
    sys.meta_path.insert(0, _SansheAlias())


def __getattr__(name: str):
    return getattr(sanshe, name)
