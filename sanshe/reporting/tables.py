"""Tables for people: aligned console tables and the numbers and settings in their cells.

A terminal gives a Chinese character two columns, so alignment counts display columns
(``unicodedata.east_asian_width``), not characters. The same cell texts fill the console
table, the Markdown and the HTML report, so a number reads alike everywhere.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence
from typing import Any

import pandas as pd

from sanshe.inputs.outcomes import describe

#: Headers of a comparison's key table, per language.
HEADERS = {
    "en": ("Outcome", "Scenario", "Mean [95% CI]", "Diff vs {ref} [95% CI]", "p (paired t)"),
    "zh": ("指标", "情景", "均值 [95%置信区间]", "与{ref}之差 [95%置信区间]", "p值(配对t检验)"),
}


# --- console tables -------------------------------------------------------------------------
def display_width(text: str) -> int:
    """Columns ``text`` takes on a terminal: East Asian wide and full-width characters two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, width: int, align: str = "l") -> str:
    """``text`` in ``width`` display columns, left-aligned (``"l"``) or right-aligned (``"r"``)."""
    space = " " * (width - display_width(text))
    return space + text if align == "r" else text + space


def format_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    align: str = "",
    rule: bool = True,
    free_last: bool = False,
) -> str:
    """An aligned plain-text table: columns two spaces apart, a dashed rule under the header.

    ``align`` holds one letter per column, ``l`` or ``r`` (left by default); ``free_last``
    leaves the last column unpadded and out of the widths, so long text there is never cut
    and does not widen the others.
    """
    table = [list(headers), *(list(row) for row in rows)]
    count = len(headers) - 1 if free_last else len(headers)
    widths = [max(display_width(row[i]) for row in table) for i in range(count)]
    if free_last:
        widths.append(display_width(headers[-1]))
    align = align.ljust(len(headers), "l")
    lines = [_line(row, widths, align, free_last) for row in table]
    if rule:
        lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def _line(row: Sequence[str], widths: Sequence[int], align: str, free_last: bool) -> str:
    cells = [pad(c, w, a) for c, w, a in zip(row, widths, align, strict=True)]
    if free_last:
        cells[-1] = row[-1]
    return "  ".join(cells)


# --- numbers --------------------------------------------------------------------------------
def format_value(value: float, unit: str, diff: bool = False, digits: int | None = None) -> str:
    """A number for people: shares in %, differences of shares in percentage points.

    Other units get fewer decimals as numbers grow (``digits`` fixes them, so that a
    mean and its interval are written alike).
    """
    if value is None or not math.isfinite(value):
        return "–"
    sign = "+" if diff and value >= 0 else ""
    if unit == "share":
        return f"{sign}{value * 100:.1f} pp" if diff else f"{value * 100:.1f}%"
    digits = decimals(value) if digits is None else digits
    return f"{sign}{value:,.{digits}f}"


def decimals(value: float) -> int:
    """Decimals that show three significant figures of small numbers, none of big ones."""
    size = abs(value)
    return 3 if size < 1 else 2 if size < 10 else 1 if size < 100 else 0


def format_interval(mean: float, low: float, high: float, unit: str, diff: bool = False) -> str:
    """ "mean [low, high]" in the outcome's unit; the interval is left out if undefined."""
    finite = [abs(v) for v in (mean, low, high) if v is not None and math.isfinite(v)]
    digits = decimals(max(finite)) if finite else 0
    text = format_value(mean, unit, diff, digits)
    if math.isfinite(low) and math.isfinite(high):
        bounds = (format_value(v, unit, diff, digits) for v in (low, high))
        text += " [{}, {}]".format(*bounds)
    return text


def format_p(p: float) -> str:
    """A p-value: "<0.001" or three decimals, "–" when undefined."""
    if p is None or not math.isfinite(p):
        return "–"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


# --- settings -------------------------------------------------------------------------------
def format_setting(value: Any) -> str:
    """A lever value as a person writes it: true/false, 3,000,000, 0.5, directed."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        if float(value).is_integer() and abs(value) >= 1000:
            return f"{value:,.0f}"
        return f"{value:g}"
    return "–" if value is None else str(value)


def describe_difference(item: dict[str, Any]) -> str:
    """One lever in words: "policy.purchase.mode: directed → competitive (procurement ...)"."""
    values = item["values"]
    shown = [format_setting(v) for v in values.values()]
    if len(values) == 2:
        text = f"{item['key']}: {shown[0]} → {shown[1]}"
    else:
        text = f"{item['key']}: " + "; ".join(
            f"{s} = {v}" for s, v in zip(values, shown, strict=True)
        )
    return f"{text} ({item['help']})" if item["help"] else text


# --- a comparison's key table ---------------------------------------------------------------
def table_rows(
    table: pd.DataFrame, lang: str = "en"
) -> tuple[list[str], list[list[str]], list[bool]]:
    """Headers, text cells and block starts of the key table, for console and report.

    Each outcome is a block of rows, one per scenario: its label on the first row and its
    unit on the second (beside the label when the block has one row).
    """
    scenarios = list(dict.fromkeys(table.scenario))
    reference = scenarios[0] if scenarios else ""
    headers = [h.format(ref=reference) for h in HEADERS.get(lang, HEADERS["en"])]
    rows, starts = [], []
    for outcome, block in table.groupby("outcome", sort=False):
        meta = describe(str(outcome))
        unit = f"({meta.unit_label(lang)})"
        names = [meta.label(lang), unit] if len(block) > 1 else [f"{meta.label(lang)} {unit}"]
        for index, record in enumerate(block.itertuples(index=False)):
            rows.append([names[index] if index < len(names) else "", *_cells(record, reference)])
            starts.append(index == 0)
    return headers, rows, starts


def _cells(record: Any, reference: str) -> list[str]:
    """Scenario, mean [CI], difference [CI] and p of one table row."""
    if record.scenario == reference:
        difference, p = "", ""
    else:
        difference = format_interval(
            record.diff, record.diff_ci_low, record.diff_ci_high, record.unit, diff=True
        )
        p = format_p(record.p_value)
    mean = format_interval(record.mean, record.ci_low, record.ci_high, record.unit)
    return [record.scenario, mean, difference, p]
