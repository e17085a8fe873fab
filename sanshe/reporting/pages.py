"""HTML pages from Jinja2 templates (sanshe/reporting/templates/), escaped by default.

Every report page — a comparison, scenario discovery — extends ``page.html.j2`` (one style
sheet, the figures embedded so a page can be mailed on its own) and takes its tables and
figures from ``macros.html.j2``. Text reaches a page only as template variables, which
Jinja2 escapes: a scenario title with ``<`` or ``&`` cannot break the page.
"""

from __future__ import annotations

import base64
import functools
from pathlib import Path
from typing import Any

import jinja2


@functools.cache
def environment() -> jinja2.Environment:
    """The template environment: package templates, autoescape on, tidy whitespace."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("sanshe.reporting", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,  # a misspelt variable fails, not a blank
    )
    env.filters["png_data_uri"] = png_data_uri
    return env


def render(template: str, **context: Any) -> str:
    """The page ``template`` (a file in sanshe/reporting/templates/) filled with ``context``."""
    return environment().get_template(template).render(**context)


def png_data_uri(path: str | Path) -> str:
    """A PNG file as a ``data:`` URI, so the page carries its figures."""
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return f"data:image/png;base64,{data}"
