"""Figures of a comparison, driven by the outcome list (labels, units) in both languages.

Figures are built on :class:`matplotlib.figure.Figure` directly (no pyplot), so they work
headless, in notebooks and in long-running processes without piling up open figures.
Chinese labels need a CJK font; :func:`resolve_lang` finds one among the installed fonts
or warns once and falls back to English.
"""

from __future__ import annotations

import contextlib
import functools
import textwrap
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib import rc_context
from matplotlib.figure import Figure

from sanshe.inputs.outcomes import BY_NAME, SPECIAL_GROUPS, describe

#: Installed font families tried for Chinese text, best first.
CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "Noto Sans CJK TC",
    "Noto Sans CJK KR",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "Source Han Sans",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "SimHei",
    "Microsoft YaHei",
    "PingFang SC",
    "Heiti SC",
    "STHeiti",
    "Hiragino Sans GB",
    "AR PL UMing CN",
    "AR PL UKai CN",
    "Noto Serif CJK SC",
    "Droid Sans Fallback",
)

#: Words of the figures (axis titles, legends), per language.
WORDS = {
    "en": {
        "month": "Month",
        "scenario": "Scenario",
        "final": "Final value (mean, 95% CI)",
        "group": "Need coverage by special group (final, mean and 95% CI)",
        "affairs": "How community affairs are settled (the 6-2-2 split, final means)",
        "target": "6-2-2 target",
        "deliberation": "deliberation",
        "so": "SO services",
        "referral": "referred upward",
        "trajectories": "Trajectories: mean and 95% CI over replications",
        "so_dynamics": "Social-organization population",
        "per_month": "per month",
        "share_of_affairs": "share of affairs (%)",
        "change": "policy change ({scenario}, timeline)",
    },
    "zh": {
        "month": "月份",
        "scenario": "情景",
        "final": "期末值(均值与95%置信区间)",
        "group": "特殊群体需求满足率(期末均值与95%置信区间)",
        "affairs": "社区事务解决方式(622结构,期末均值)",
        "target": "622目标",
        "deliberation": "议事协商",
        "so": "社会组织服务",
        "referral": "上报转介",
        "trajectories": "指标轨迹:各次重复的均值与95%置信区间",
        "so_dynamics": "社会组织生态",
        "per_month": "每月",
        "share_of_affairs": "事务占比(%)",
        "change": "政策变化({scenario},时间表)",
    },
}

#: Cumulative boundaries of the 622 target: ≥60% deliberation, then ≥20% SO services.
TARGET_622 = (0.6, 0.8)

#: Outcomes of the SO-population figure.
SO_OUTCOMES = ("so_count", "so_births", "so_closures", "high_rated_so_count")

#: The three shares of the 622 split of community affairs, bottom to top.
AFFAIRS = (
    ("affairs_deliberation_share", "deliberation"),
    ("affairs_so_share", "so"),
    ("affairs_referral_share", "referral"),
)


# --- fonts and language -----------------------------------------------------------------
@functools.cache
def cjk_font() -> str | None:
    """The family name of an installed CJK font, or None."""
    from matplotlib import font_manager

    found = _known_cjk(font_manager.fontManager)
    if found is None:
        # matplotlib's font cache predates a font installed later: add the files directly.
        for path in font_manager.findSystemFonts():
            if any(tag in Path(path).name.lower() for tag in CJK_FILE_TAGS):
                with contextlib.suppress(Exception):
                    font_manager.fontManager.addfont(path)
        found = _known_cjk(font_manager.fontManager)
    return found


#: Fragments of CJK font file names, for fonts matplotlib's cache does not know yet.
CJK_FILE_TAGS = (
    "cjk",
    "wqy",
    "sourcehan",
    "simhei",
    "msyh",
    "droidsansfallback",
    "ukai",
    "uming",
    "notosanssc",
)


def _known_cjk(manager: Any) -> str | None:
    installed = {f.name for f in manager.ttflist}
    for family in CJK_FAMILIES:
        if family in installed:
            return family
    for name in sorted(installed):  # any other CJK family matplotlib knows about
        if any(tag in name for tag in ("CJK", "Han Sans", "WenQuanYi", "Hei", "Song", "Kai")):
            return name
    return None


@functools.cache
def _warn_no_cjk() -> None:
    warnings.warn(
        "no CJK font found (install fonts-noto-cjk or another Chinese font); "
        "using English labels instead of Chinese.",
        stacklevel=3,
    )


def resolve_lang(lang: str) -> str:
    """``lang`` if it can be drawn: "zh" without a CJK font falls back to "en" (warns once)."""
    if lang not in ("en", "zh"):
        from sanshe.inputs.errors import InputError

        raise InputError(f"--lang must be 'en' or 'zh', not {lang!r}.")
    if lang == "zh" and cjk_font() is None:
        _warn_no_cjk()
        return "en"
    return lang


@contextmanager
def style(lang: str) -> Iterator[None]:
    """Matplotlib settings of every figure; a CJK font first in line for Chinese."""
    rc = {
        "figure.dpi": 100,
        "savefig.dpi": 110,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "font.size": 9,
        "axes.titlesize": 9,
        "legend.fontsize": 8,
    }
    if lang == "zh" and cjk_font():
        rc["font.family"] = [cjk_font(), "DejaVu Sans"]
        rc["axes.unicode_minus"] = False
    with rc_context(rc):
        yield


#: Units in Chinese figures of raw (unscaled) values, as sweeps and sensitivity draw them.
UNITS_ZH = {"share": "比例", "count": "个", "per year": "每年", "yuan": "元", "ratio": "比值"}


def outcome_title(name: str, lang: str, monthly: bool = False) -> str:
    """An outcome's label with the unit of its raw values, e.g. "Need coverage (share)".

    For figures that draw shares as 0–1 (sweeps, sensitivity); the comparison's figures
    draw shares in % like its tables and label axes with :func:`label_axes`.
    ``monthly``: the unit of a monthly series, where a flow is per month, not per year.
    """
    outcome = BY_NAME[name]
    unit = UNITS_ZH.get(outcome.unit, outcome.unit) if lang == "zh" else outcome.unit
    if monthly and outcome.kind == "flow":
        unit = outcome.unit_label(lang, monthly=True)
    return f"{outcome.label(lang)} ({unit})"


def scale_of(name: str) -> float:
    """What an outcome's values are multiplied by in a figure: shares are drawn in %."""
    return 100.0 if describe(name).unit == "share" else 1.0


def label_axes(ax: Any, name: str, lang: str, monthly: bool = False, width: int = 34) -> None:
    """The outcome's label as the title (wrapped, never cut) and its unit on the y axis."""
    outcome = describe(name)
    width = width // 2 if lang == "zh" else width  # Chinese characters are twice as wide
    ax.set_title(textwrap.fill(outcome.label(lang), width))
    ax.set_ylabel(textwrap.fill(outcome.unit_label(lang, monthly=monthly), 18))


def _colors(scenarios: Sequence[str]) -> dict[str, str]:
    palette = [f"C{i}" for i in range(10)]
    return {s: palette[i % len(palette)] for i, s in enumerate(scenarios)}


def _grid(count: int, columns: int) -> tuple[int, int]:
    columns = max(1, min(columns, count))
    return -(-count // columns), columns


# --- figures ----------------------------------------------------------------------------
def trajectories(
    bands: dict[str, pd.DataFrame],
    scenarios: Sequence[str],
    outcomes: Sequence[str],
    lang: str = "en",
    title: str | None = None,
    columns: int = 3,
    changes: Mapping[str, Sequence[int]] | None = None,
) -> Figure:
    """Small multiples: each outcome's monthly mean per scenario with its 95% CI band.

    ``bands[outcome]`` has columns scenario, month, mean, low, high (:func:`bands_of`).
    ``changes`` maps a scenario to the months its timeline changes policy: a dashed line in
    the scenario's colour at the start of each such month.
    """
    lang = resolve_lang(lang)
    words, colors = WORDS[lang], _colors(scenarios)
    rows, cols = _grid(len(outcomes), columns)
    with style(lang):
        fig = Figure(figsize=(3.6 * cols, 2.6 * rows + 0.6), layout="constrained")
        axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
        for ax, name in zip(axes, outcomes, strict=False):
            frame, scale = bands[name], scale_of(name)
            for scenario in scenarios:
                part = frame[frame.scenario == scenario]
                if part.empty:
                    continue
                ax.plot(
                    part.month, part["mean"] * scale, color=colors[scenario], lw=1.5,
                    label=scenario,
                )
                ax.fill_between(
                    part.month, part.low * scale, part.high * scale, color=colors[scenario],
                    alpha=0.2, lw=0,
                )
            mark_changes(ax, changes or {}, colors, words["change"])
            label_axes(ax, name, lang, monthly=True, width=40)
            ax.set_xlabel(words["month"])
        for ax in axes[len(outcomes) :]:
            ax.set_visible(False)
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 5))
        if title:
            fig.suptitle(title)
    return fig


def mark_changes(ax: Any, changes: Mapping[str, Sequence[int]], colors: Mapping[str, str],
                 label: str) -> None:
    """Dashed vertical lines where a scenario's timeline changes policy (month m starts at
    m - 0.5 on a month axis), labelled once per scenario for the legend."""
    for scenario, months in changes.items():
        for i, month in enumerate(months):
            ax.axvline(month - 0.5, color=colors.get(scenario, "0.4"), ls="--", lw=1.0,
                       alpha=0.8, label=label.format(scenario=scenario) if i == 0 else None)


def finals(
    table: pd.DataFrame,
    scenarios: Sequence[str],
    outcomes: Sequence[str],
    lang: str = "en",
    columns: int = 4,
) -> Figure:
    """Small multiples: each outcome's final mean per scenario with 95% CI error bars.

    ``table`` is :meth:`model.comparison.Comparison.table` (long: outcome × scenario).
    """
    lang = resolve_lang(lang)
    colors = _colors(scenarios)
    rows, cols = _grid(len(outcomes), columns)
    with style(lang):
        fig = Figure(figsize=(2.9 * cols, 2.5 * rows + 0.5), layout="constrained")
        axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
        for ax, name in zip(axes, outcomes, strict=False):
            part = table[table.outcome == name].set_index("scenario").reindex(scenarios)
            scale, x = scale_of(name), np.arange(len(scenarios))
            ax.bar(x, part["mean"] * scale, color=[colors[s] for s in scenarios], alpha=0.85)
            ax.errorbar(
                x, part["mean"] * scale, yerr=_yerr(part) * scale, fmt="none", ecolor="black",
                capsize=3, lw=1,
            )
            ax.set_xticks(x, scenarios, rotation=20, ha="right")
            label_axes(ax, name, lang, width=28)
            ax.grid(axis="x", visible=False)
        for ax in axes[len(outcomes) :]:
            ax.set_visible(False)
        fig.suptitle(WORDS[lang]["final"])
    return fig


def groups(table: pd.DataFrame, scenarios: Sequence[str], lang: str = "en") -> Figure:
    """Final need coverage of each special group: grouped bars with 95% CI error bars."""
    lang = resolve_lang(lang)
    colors = _colors(scenarios)
    names = [f"coverage_{g}" for g in SPECIAL_GROUPS]
    width = 0.8 / max(len(scenarios), 1)
    x = np.arange(len(names))
    with style(lang):
        fig = Figure(
            figsize=(max(6.5, 1.4 * len(names) * max(1, len(scenarios) / 2)), 3.6),
            layout="constrained",
        )
        ax = fig.subplots()
        for i, scenario in enumerate(scenarios):
            part = table[(table.scenario == scenario) & table.outcome.isin(names)]
            part = part.set_index("outcome").reindex(names)
            offset = (i - (len(scenarios) - 1) / 2) * width
            ax.bar(
                x + offset, part["mean"] * 100, width, color=colors[scenario], label=scenario,
                alpha=0.85,
            )
            ax.errorbar(
                x + offset,
                part["mean"] * 100,
                yerr=_yerr(part) * 100,
                fmt="none",
                ecolor="black",
                capsize=2,
                lw=1,
            )
        ax.set_xticks(x, [_group_label(n, lang) for n in names])
        coverage = BY_NAME["need_coverage"]
        ax.set_ylabel(f"{coverage.label(lang)} ({coverage.unit_label(lang)})")
        ax.grid(axis="x", visible=False)
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
        ax.set_title(WORDS[lang]["group"])
    return fig


def affairs(table: pd.DataFrame, scenarios: Sequence[str], lang: str = "en") -> Figure:
    """The 622 split of community affairs per scenario: stacked bars of the three shares."""
    lang = resolve_lang(lang)
    words = WORDS[lang]
    x = np.arange(len(scenarios))
    with style(lang):
        fig = Figure(figsize=(max(5.5, 1.3 * len(scenarios) + 3), 3.8), layout="constrained")
        ax = fig.subplots()
        bottom = np.zeros(len(scenarios))
        for i, (name, word) in enumerate(AFFAIRS):
            part = table[table.outcome == name].set_index("scenario").reindex(scenarios)
            values = part["mean"].fillna(0.0).to_numpy(dtype=float) * 100
            ax.bar(x, values, 0.6, bottom=bottom, color=f"C{i + 6}", label=words[word])
            for xi, (b, v) in enumerate(zip(bottom, values, strict=True)):
                if v >= 4:
                    ax.text(
                        xi,
                        b + v / 2,
                        f"{v:.0f}%",
                        ha="center",
                        va="center",
                        fontsize=8,
                        color="white",
                    )
            bottom += values
        # The 622 target: at least 60% by deliberation, 20% by SOs, at most 20% referred.
        for level in TARGET_622:
            ax.axhline(level * 100, color="black", ls="--", lw=0.8)
        ax.text(
            0.995,
            TARGET_622[0] * 100,
            words["target"],
            transform=ax.get_yaxis_transform(),  # x in axes fraction, y in data
            ha="right",
            va="bottom",
            fontsize=7,
            bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.7, "pad": 1},
        )
        ax.set_xticks(x, scenarios, rotation=15 if len(scenarios) > 3 else 0)
        ax.set_ylabel(words["share_of_affairs"])
        ax.set_ylim(0, max(100.0, float(bottom.max()) * 1.02))
        ax.grid(axis="x", visible=False)
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
        ax.set_title(words["affairs"])
    return fig


def _yerr(part: pd.DataFrame) -> np.ndarray:
    """Asymmetric error-bar lengths from mean and CI columns (0 where undefined)."""
    low = (part["mean"] - part["ci_low"]).to_numpy(dtype=float)
    high = (part["ci_high"] - part["mean"]).to_numpy(dtype=float)
    return np.nan_to_num(np.vstack([low, high]), nan=0.0).clip(min=0.0)


def _group_label(name: str, lang: str) -> str:
    label = BY_NAME[name].label(lang)
    if lang == "zh":
        return label.removesuffix("需求满足率")
    return textwrap.fill(label.removeprefix("Coverage: "), 12)
