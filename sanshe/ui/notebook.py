"""sanshe's figures show as images in Jupyter, with no ``%matplotlib inline`` needed.

sanshe builds its figures on :class:`matplotlib.figure.Figure` directly (no pyplot, see
:mod:`sanshe.reporting.plotting`). IPython learns to draw a ``Figure`` as a PNG only when
matplotlib's inline backend is loaded — by pyplot's first figure or by ``%matplotlib
inline`` — so a cell ending in a sanshe figure showed the text ``<Figure size 900x320 with
2 Axes>`` and no plot.
Importing :mod:`sanshe` calls :func:`show_figures_as_images`, which registers the same PNG
formatter the inline backend would, in the running IPython only.
"""

from __future__ import annotations

import sys
from typing import Any

#: Where matplotlib's figure class lives; named, not imported, so ``import sanshe`` stays light.
FIGURE_TYPE = ("matplotlib.figure", "Figure")


def show_figures_as_images(display: Any = None) -> bool:
    """Let IPython show matplotlib figures as PNG images; True if this registered it.

    ``display`` is an IPython ``DisplayFormatter`` (default: the running shell's; outside
    IPython nothing happens). A shell that already has a way to show figures — the inline
    backend, ``%matplotlib widget``, a user's own formatter — is left as it is, so a figure
    is never shown twice or in a format the user did not choose.
    """
    display = display if display is not None else _running_display()
    if display is None or _shows_figures(display):
        return False
    display.formatters["image/png"].for_type_by_name(*FIGURE_TYPE, figure_png)
    return True


def figure_png(figure: Any) -> str | None:
    """The figure as a base64 PNG, drawn as IPython's inline backend draws it (tight box)."""
    from IPython.core.pylabtools import print_figure

    return print_figure(figure, fmt="png", base64=True)


def _running_display() -> Any:
    """The display formatter of the running IPython shell, or None outside IPython."""
    ipython = sys.modules.get("IPython")  # never import IPython into a plain Python run
    shell = ipython.get_ipython() if ipython is not None else None
    return shell.display_formatter if shell is not None else None


def _shows_figures(display: Any) -> bool:
    """Whether any of the shell's formatters already knows how to show a figure."""
    formatters = [
        *display.formatters.values(),
        display.ipython_display_formatter,
        display.mimebundle_formatter,
    ]
    return any(
        FIGURE_TYPE in formatter.deferred_printers
        or any((kind.__module__, kind.__name__) == FIGURE_TYPE for kind in formatter.type_printers)
        for formatter in formatters
    )
