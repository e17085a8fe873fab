"""The interactive page: move policy levers and watch a district change, month by month.

Built from Mesa's own visualization parts: Mesa's ``ModelController`` (Reset, ▶/❚❚, Step)
runs the model, and Mesa's ``update_counter`` redraws the views after every month. Around
them the page shows only what an official needs: the scenario, each lever with its value
and unit, the seed, the speed in plain words, and the plots. SolaraViz's generic controls
(play interval in ms, render interval, threads, numbered page tabs) are left out: they mean
nothing in a workshop room.

In a notebook cell, ``make_page("full_linkage", lang="zh")`` shows the page; ``sanshe
dashboard`` serves ``page`` through ``solara run sanshe.ui.dashboard`` (it passes the scenario
and language in the environment variables :data:`SCENARIO_ENV` and :data:`LANG_ENV`).

Every number on the controls comes from :mod:`sanshe.inputs.schema` (type, range, choices) and
from the chosen scenario (starting values); outcome labels come from
:mod:`sanshe.inputs.outcomes`. As in every Mesa page, a moved lever takes effect at the next
*Reset*; picking another scenario starts a new run with that scenario's levers.
"""

from __future__ import annotations

import functools
import html
import math
import os
import warnings
from collections.abc import Callable
from typing import Any

import matplotlib.colors
import numpy as np
import solara
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter

from sanshe.inputs import timeline
from sanshe.inputs.errors import InputError
from sanshe.inputs.levers import CHOICE_WORDS, GROUPS, LEVERS
from sanshe.inputs.outcomes import BY_NAME, SPECIAL_GROUPS
from sanshe.inputs.scenario import Scenario, library_names
from sanshe.inputs.schema import BY_KEY, Setting
from sanshe.reporting.plotting import AFFAIRS, WORDS, resolve_lang, style
from sanshe.sim.model import CommunityGovernanceModel

with warnings.catch_warnings():
    # Mesa 3.3.1's ComponentsView trips solara's hook linter (a use_state after an early
    # return) on import; harmless, but it would greet every trainee in red in a notebook.
    warnings.filterwarnings("ignore", message=r"(?s).*ComponentsView: `use_state`")
    from mesa.visualization.solara_viz import ModelController
    from mesa.visualization.utils import update_counter

#: Environment variables through which ``sanshe dashboard`` passes its options.
SCENARIO_ENV = "SANSHE_DASHBOARD_SCENARIO"
LANG_ENV = "SANSHE_DASHBOARD_LANG"

#: A slider whose schema range is this many times wider than the largest value any library
#: scenario uses is cut to HEADROOM times that value, so a workshop can still set it finely
#: (the schema allows budgets up to 1e9 yuan; the command line still accepts all of it).
WIDE = 10.0
HEADROOM = 4.0

#: Size of each figure (inches), its resolution, and a fast PNG encoding (each step redraws
#: every figure, so drawing time is what a workshop waits for).
FIGSIZE = (5.4, 3.3)
DPI = 90
FAST_PNG = {"compress_level": 1}

#: Months the per-community view sums for its need coverage (one fiscal year).
WINDOW = 12

#: The speeds of ▶, in plain words: the pause between two months, in milliseconds (Mesa's
#: play interval; redrawing the plots adds about half a second). Fast still pauses, so the
#: plots can follow and ❚❚ stops where the trainer sees the run.
SPEEDS: dict[str, int] = {"slow": 1500, "normal": 500, "fast": 150}
#: Months one Step (or one beat of ▶) advances: always one, so a Step is a month.
MONTHS_PER_STEP = 1

#: Words of the page, per language.
TEXT: dict[str, dict[str, str]] = {
    "en": {
        "app": "Sanshe: community governance simulator",
        "scenario": "Scenario",
        "run": "Run",
        "speed": "Speed of ▶",
        "slow": "slow",
        "normal": "normal",
        "fast": "fast",
        "levers": "Policy levers",
        "seed": "Random seed",
        "status": "This month",
        "month": "Month",
        "press": "Press Step or ▶ to simulate the first month.",
        "changed": "Levers changed from the scenario",
        "none_changed": "All levers as in the scenario.",
        "hint": "A moved lever takes effect when you press Reset.",
        "participation": "Residents taking part",
        "coverage": "Need coverage, overall and by special group",
        "overall": "All residents",
        "satisfaction": "Satisfaction, trust and service quality",
        "sos": "Social organizations",
        "capacity": "mean capacity (right axis)",
        "affairs": "How community affairs are settled (the 622 split)",
        "spending": "Money per month",
        "money_unit": "thousand yuan",
        "communities": "Communities (rows: streets)",
        "community_coverage": f"Need coverage, last {WINDOW} months",
        "community_participation": "Participation this month",
        "community_scale": "share of needs met / of residents",
        "no_needs": "grey: no need closed yet",
        "map_waits": "Run a month to see each community's need coverage and participation.",
        "seed_note": "seed {text!r} is not a whole number; used the scenario's seed {seed}",
        "timeline": "Timeline (the scenario's policy changes)",
        "from_month": "from month {month}",
        "in_force": "in force",
        "change": "policy change",
    },
    "zh": {
        "app": "三社联动社区治理模拟",
        "scenario": "情景",
        "run": "运行",
        "speed": "▶ 播放速度",
        "slow": "慢",
        "normal": "中",
        "fast": "快",
        "levers": "政策杠杆",
        "seed": "随机种子",
        "status": "本月概况",
        "month": "月份",
        "press": "点击 Step 或 ▶ 模拟第一个月。",
        "changed": "与情景设定不同的政策杠杆",
        "none_changed": "所有政策杠杆与情景设定一致。",
        "hint": "调整政策杠杆后,点击 Reset 生效。",
        "participation": "居民参与",
        "coverage": "需求满足率(总体与特殊群体)",
        "overall": "全体居民",
        "satisfaction": "满意度、信任与服务质量",
        "sos": "社会组织",
        "capacity": "平均能力(右轴)",
        "affairs": "社区事务解决方式(622结构)",
        "spending": "每月资金",
        "money_unit": "万元",
        "communities": "各社区(行:街道)",
        "community_coverage": f"近{WINDOW}个月需求满足率",
        "community_participation": "本月参与率",
        "community_scale": "需求满足比例 / 居民参与比例",
        "no_needs": "灰色:尚无已结束的需求",
        "map_waits": "运行一个月后显示各社区的需求满足率与参与率。",
        "seed_note": "随机种子 {text!r} 不是整数;改用情景的种子 {seed}",
        "timeline": "时间表(情景中的政策变化)",
        "from_month": "从第 {month} 个月起",
        "in_force": "已生效",
        "change": "政策变化",
    },
}

#: Yuan per unit of the money plot's axis: thousands in English, 万 (ten thousand) in Chinese.
MONEY_SCALE = {"en": 1e3, "zh": 1e4}

#: Outcomes listed under "This month", in order.
STATUS_OUTCOMES = (
    "need_coverage",
    "participation_rate",
    "mean_satisfaction",
    "so_count",
    "mean_so_capacity",
    "affairs_deliberation_share",
    "gov_spending",
)


# --- the model as the page builds it ----------------------------------------------------
class DashboardModel(CommunityGovernanceModel):
    """The model with the page's controls as keyword arguments.

    Mesa's Reset passes each control by its name: the scenario as ``scenario_name`` (a
    library name or a .toml path), the seed as typed, and the levers by their dotted keys,
    which arrive in ``**levers`` as overrides. The model also keeps, per community, the
    needs met and closed each month, for the per-community view.
    """

    def __init__(
        self, scenario_name: str | Scenario = "baseline", seed: Any = None, **levers: Any
    ) -> None:
        # Mesa >= 3.5's Reset adds a Mesa Scenario of its own as ``scenario``; ours is
        # ``scenario_name``.
        levers.pop("scenario", None)
        self.picked = Scenario.load(scenario_name)
        number, self.seed_text = parse_seed(seed)
        if number is None and self.seed_text:
            number = int(self.picked.values["run.seed"])
        self.community_met: list[np.ndarray] = []
        self.community_closed: list[np.ndarray] = []
        super().__init__(scenario=self.picked, seed=number, **levers)

    def step(self) -> None:
        """A month, then this month's needs met and closed in each community."""
        super().step()
        pop = self.pop
        met = np.bincount(pop.community[self.served_this_month], minlength=pop.communities)
        gone = np.bincount(pop.community[self.lapsed_this_month], minlength=pop.communities)
        self.community_met.append(met)
        self.community_closed.append(met + gone)

    def community_coverage(self, window: int = WINDOW) -> np.ndarray:
        """Needs met / needs closed in each community over the last ``window`` months."""
        if not self.community_met:
            return np.full(self.pop.communities, np.nan)
        met = np.sum(self.community_met[-window:], axis=0)
        closed = np.sum(self.community_closed[-window:], axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(closed > 0, met / np.maximum(closed, 1), np.nan)

    def community_participation(self) -> np.ndarray:
        """Share of each community's residents taking part this month."""
        pop = self.pop
        return pop.per_community(pop.participating) / pop.counts()

    def changed_levers(self) -> list[str]:
        """The page's levers whose value differs from the picked scenario's this month
        (its timeline's changes so far applied)."""
        scenario = self.picked.values_at(self.month)
        return [key for key, *_ in LEVERS if not same_value(self.v[key], scenario[key])]


def same_value(a: Any, b: Any) -> bool:
    """A lever's value equals the scenario's, numbers up to a slider's float round-off (a
    browser slider steps 0.21 by 0.01 and may return 0.21000000000000002)."""
    if isinstance(a, float) or isinstance(b, float):  # whole numbers and choices are exact
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return a == b


def parse_seed(value: Any) -> tuple[int | None, str]:
    """The seed typed in the page: (number, "") or (None, the text that is not a number).

    An empty field gives (None, ""): fresh entropy, recorded as ``model.seed`` (Mesa's
    convention for a model built without a seed).
    """
    if value is None or isinstance(value, bool):
        return None, ""
    if isinstance(value, int):
        return value, ""
    text = str(value).strip()
    if not text:
        return None, ""
    try:
        return int(text), ""
    except ValueError:
        return None, text


# --- controls ---------------------------------------------------------------------------
def nice_ceiling(value: float) -> float:
    """The smallest 1, 2 or 5 times a power of ten that is at least ``value``."""
    if value <= 0:
        return 0.0
    power = 10.0 ** math.floor(math.log10(value))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= value)


def nice_step(value: float) -> float:
    """The largest 1, 2 or 5 times a power of ten that is at most ``value``."""
    power = 10.0 ** math.floor(math.log10(value))
    return max(m * power for m in (1, 2, 5) if m * power <= value)


def slider_range(setting: Setting, scenario: Scenario) -> tuple[float, float, float]:
    """(low, high, step) of a numeric lever: the schema's range, cut to a workshop's scale
    where the schema allows far more than any library scenario (or this one) uses."""
    low, high = float(setting.low), float(setting.high)
    used = [abs(float(values[setting.key])) for values in _library_values()]
    largest = max([*used, abs(float(scenario.values[setting.key]))])
    if largest > 0 and high > WIDE * largest:
        high = min(high, nice_ceiling(HEADROOM * largest))
    step = aligned_step(nice_step((high - low) / 50.0), float(scenario.values[setting.key]) - low)
    if setting.type is int:
        return int(low), int(high), max(1, int(step))
    return low, high, step


def aligned_step(step: float, offset: float) -> float:
    """``step``, or the next smaller 1-2-5 step that divides ``offset`` (the scenario's value
    above the slider's minimum): a slider snaps its value to its steps as soon as it shows,
    which would quietly change the lever (1,500,000 on a 200,000 step becomes 1,600,000)."""
    while step > 1e-9 and abs(offset / step - round(offset / step)) > 1e-6:
        mantissa = round(step / 10.0 ** math.floor(math.log10(step)))
        step *= {5: 0.4, 2: 0.5, 1: 0.5}[mantissa]
    return step


@functools.cache
def _library_values() -> tuple[dict[str, Any], ...]:
    """Every library scenario's settings (read once per process)."""
    return tuple(Scenario.load(name).values for name in library_names())


def control(setting: Setting, value: Any, label: str, scenario: Scenario) -> dict[str, Any]:
    """One lever as a Mesa user parameter (type, label, start value, range or choices)."""
    if setting.choices:
        return {"type": "Select", "value": value, "values": list(setting.choices), "label": label}
    if setting.type is bool:
        return {"type": "Checkbox", "value": bool(value), "label": label}
    low, high, step = slider_range(setting, scenario)
    kind = "SliderInt" if setting.type is int else "SliderFloat"
    return {"type": kind, "value": value, "min": low, "max": high, "step": step, "label": label}


def model_params(name: str, scenario: Scenario, lang: str) -> dict[str, Any]:
    """The page's parameters in Mesa's ``model_params`` form: the scenario (fixed: ``name``,
    a library name or a path), the seed and every lever at ``scenario``'s values."""
    params: dict[str, Any] = {
        "scenario_name": name,
        "seed": {
            "type": "InputText",
            "value": str(scenario.values["run.seed"]),
            "label": TEXT[lang]["seed"],
        },
    }
    for key, zh, en, _ in LEVERS:
        label = zh if lang == "zh" else en
        params[key] = control(BY_KEY[key], scenario.values[key], label, scenario)
    return params


def start_values(params: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments of the model ``params`` describes, at their start values."""
    return {k: (v["value"] if isinstance(v, dict) else v) for k, v in params.items()}


# --- a lever's value in words -------------------------------------------------------------
def _decimal(value: float, most: int = 2, least: int = 0) -> str:
    """``value`` with thousands separators and ``least`` to ``most`` decimals."""
    whole, _, fraction = f"{value:,.{most}f}".partition(".")
    fraction = fraction.rstrip("0").ljust(least, "0")
    return f"{whole}.{fraction}" if fraction else whole


def _yuan(value: float, lang: str) -> str:
    """An amount of money as an official reads it: 300 万元, 3.0 M yuan."""
    if lang == "zh":
        return f"{_decimal(value / 1e4)} 万元" if value >= 1e4 else f"{value:,.0f} 元"
    return f"{_decimal(value / 1e6, 2, 1)} M yuan" if value >= 1e6 else f"{value:,.0f} yuan"


#: How each kind of lever value is written, per language.
UNITS: dict[str, dict[str, Callable[[float], str]]] = {
    "yuan_year": {
        "en": lambda v: f"{_yuan(v, 'en')} / year",
        "zh": lambda v: f"{_yuan(v, 'zh')}/年",
    },
    "yuan_year_community": {
        "en": lambda v: f"{_yuan(v, 'en')} / year per community",
        "zh": lambda v: f"每社区 {_yuan(v, 'zh')}/年",
    },
    "score": {
        "en": lambda v: f"{v:.0%} of the score",
        "zh": lambda v: f"占评分 {v:.0%}",
    },
    "places": {
        "en": lambda v: f"{v:.3g} places / year",
        "zh": lambda v: f"{v:.3g} 个/年",
    },
    "intensity": {
        "en": lambda v: f"{v:.2f} (0 none – 1 full)",
        "zh": lambda v: f"{v:.2f}(0 无 – 1 最强)",
    },
    "wage": {
        "en": lambda v: f"{v:.2f} × local average wage",
        "zh": lambda v: f"当地平均工资的 {v:.2f} 倍",
    },
    "posts": {
        "en": lambda v: f"{v:.0f} per community",
        "zh": lambda v: f"每社区 {v:.0f} 个",
    },
}

_UNIT_OF = {key: unit for key, _, _, unit in LEVERS}


def lever_value(key: str, value: Any, lang: str) -> str:
    """A lever's value as the page writes it: with its unit, a choice in words, ✓ or ✗."""
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if isinstance(value, str):
        return choice_word(value, lang)
    return UNITS[_UNIT_OF[key]][lang](float(value))


def choice_word(choice: str, lang: str) -> str:
    """A choice lever's value in words."""
    zh, en = CHOICE_WORDS.get(choice, (choice, choice))
    return zh if lang == "zh" else en


# --- views --------------------------------------------------------------------------------
def _format(name: str, value: float, lang: str) -> str:
    """An outcome's value as the page shows it, with its unit."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    unit = BY_NAME[name].unit
    if unit == "share":
        return f"{value:.1%}"
    if unit == "yuan":
        return _yuan(value, lang)
    if unit == "count":
        return f"{value:,.0f}"
    return f"{value:.3f}"


def status_html(model: DashboardModel, lang: str) -> str:
    """The "this month" card: month, key outcomes and the levers changed from the scenario.

    Plain HTML rather than solara.Markdown, which loads KaTeX from a CDN: the page has to
    work in a training room without internet. Every text is escaped.
    """
    words = TEXT[lang]
    parts = [
        f"<p><b>{_esc(words['month'])}: {model.month}</b> · {_esc(model.picked.name)} · "
        f"{_esc(words['seed'])}: {model.seed}</p>"
    ]
    if model.seed_text:
        note = words["seed_note"].format(text=model.seed_text, seed=model.seed)
        parts.append(f"<p><i>{_esc(note)}</i></p>")
    if model.current:
        rows = "".join(
            f"<tr><td>{_esc(BY_NAME[n].label(lang))}</td><td style='text-align:right;"
            f"padding-left:1em'>{_esc(_format(n, model.current[n], lang))}</td></tr>"
            for n in STATUS_OUTCOMES
        )
        parts.append(f"<table>{rows}</table>")
    else:
        parts.append(f"<p>{_esc(words['press'])}</p>")
    parts.append(_changed_html(model, lang))
    parts.append(timeline_html(model, lang))
    return "".join(parts)


def _changed_html(model: DashboardModel, lang: str) -> str:
    """The levers this run changed from its scenario: new value (the scenario's)."""
    words = TEXT[lang]
    changed = model.changed_levers()
    if not changed:
        return f"<p style='margin:0.5em 0 0'>{_esc(words['none_changed'])}</p>"
    labels = {key: zh if lang == "zh" else en for key, zh, en, _ in LEVERS}
    scenario = model.picked.values_at(model.month)
    items = "".join(
        f"<li>{_esc(labels[k])}: {_esc(lever_value(k, model.v[k], lang))} "
        f"({_esc(lever_value(k, scenario[k], lang))})</li>"
        for k in changed
    )
    return f"<p style='margin:0.5em 0 0'>{_esc(words['changed'])}:</p><ul>{items}</ul>"


def timeline_html(model: DashboardModel, lang: str) -> str:
    """The scenario's [[timeline]]: each change, its month, and whether it is in force."""
    changes = model.policy_scenario.timeline
    if not changes:
        return ""
    words = TEXT[lang]
    items = "".join(
        f"<li>{_esc(words['from_month'].format(month=change.month))}: "
        + "; ".join(_esc(_setting_words(k, v, lang)) for k, v in change.values)
        + (f" <b>✓ {_esc(words['in_force'])}</b>" if change.month <= model.month else "")
        + "</li>"
        for change in changes
    )
    return f"<p style='margin:0.5em 0 0'>{_esc(words['timeline'])}:</p><ul>{items}</ul>"


def _setting_words(key: str, value: Any, lang: str) -> str:
    """A timeline setting in the page's words (a lever not on the page: its key)."""
    labels = {k: zh if lang == "zh" else en for k, zh, en, _ in LEVERS}
    if key in labels:
        return f"{labels[key]} {lever_value(key, value, lang)}"
    return f"{key} = {timeline.show(value)}"


def mark_changes(ax: Any, model: DashboardModel, lang: str) -> None:
    """Dashed lines at the months the scenario's timeline changed policy so far."""
    months = [c.month for c in model.policy_scenario.timeline if c.month <= model.month]
    for i, month in enumerate(months):
        ax.axvline(month - 0.5, color="0.35", ls="--", lw=1,
                   label=TEXT[lang]["change"] if i == 0 else None)


def _esc(text: str) -> str:
    return html.escape(str(text))


def _months(frame: Any) -> np.ndarray:
    return np.arange(1, len(frame) + 1)


def _empty(ax: Any, lang: str) -> None:
    ax.text(
        0.5,
        0.5,
        TEXT[lang]["press"],
        ha="center",
        va="center",
        transform=ax.transAxes,
        fontsize=8,
        color="grey",
    )


def _figure(lang: str, title: str, model: DashboardModel) -> tuple[Figure, Any]:
    # Fixed margins instead of a layout engine: every step redraws seven figures.
    fig = Figure(figsize=FIGSIZE, dpi=DPI)
    fig.subplots_adjust(left=0.11, right=0.89, bottom=0.15, top=0.9)
    ax = fig.subplots()
    mark_changes(ax, model, lang)
    ax.set_title(title)
    ax.set_xlabel(WORDS[lang]["month"])
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # months are whole
    return fig, ax


def _lines(
    model: DashboardModel, lang: str, names: tuple[str, ...], title: str, percent: bool
) -> Figure:
    """A line per outcome, labelled in ``lang``."""
    with style(lang):
        fig, ax = _figure(lang, title, model)
        frame = model.datacollector.get_model_vars_dataframe()
        if frame.empty:
            _empty(ax, lang)
            return fig
        for name in names:
            values = frame[name].to_numpy(dtype=float) * (100 if percent else 1)
            ax.plot(_months(frame), values, label=BY_NAME[name].label(lang))
        if percent:
            ax.set_ylabel("%")
            ax.set_ylim(0, 100)
        else:
            ax.set_ylim(0, 1)
        ax.legend(loc="upper left", fontsize=7)
    return fig


def participation_figure(model: DashboardModel, lang: str) -> Figure:
    """Participation, volunteering and deliberation attendance."""
    return _lines(
        model,
        lang,
        ("participation_rate", "volunteer_rate", "deliberation_rate"),
        TEXT[lang]["participation"],
        percent=True,
    )


def satisfaction_figure(model: DashboardModel, lang: str) -> Figure:
    """Satisfaction, trust in SOs and the quality of services delivered."""
    return _lines(
        model,
        lang,
        ("mean_satisfaction", "trust_in_sos", "mean_service_quality"),
        TEXT[lang]["satisfaction"],
        percent=False,
    )


def coverage_figure(model: DashboardModel, lang: str) -> Figure:
    """Need coverage of all residents (bold) and of each special group."""
    words = TEXT[lang]
    with style(lang):
        fig, ax = _figure(lang, words["coverage"], model)
        frame = model.datacollector.get_model_vars_dataframe()
        if frame.empty:
            _empty(ax, lang)
            return fig
        months = _months(frame)
        for group in SPECIAL_GROUPS:
            name = f"coverage_{group}"
            ax.plot(
                months,
                frame[name].to_numpy(dtype=float) * 100,
                lw=1,
                label=_group_label(name, lang),
            )
        ax.plot(
            months,
            frame["need_coverage"].to_numpy(dtype=float) * 100,
            color="black",
            lw=2.2,
            label=words["overall"],
        )
        ax.set_ylim(0, 100)
        ax.set_ylabel("%")
        ax.legend(loc="lower right", ncols=2, fontsize=7)
    return fig


def organizations_figure(model: DashboardModel, lang: str) -> Figure:
    """SO counts (left axis) and their mean capacity (right axis)."""
    words = TEXT[lang]
    with style(lang):
        fig, ax = _figure(lang, words["sos"], model)
        frame = model.datacollector.get_model_vars_dataframe()
        if frame.empty:
            _empty(ax, lang)
            return fig
        months = _months(frame)
        for name in ("so_count", "community_so_count", "professional_so_count"):
            ax.plot(months, frame[name], label=BY_NAME[name].label(lang))
        ax.set_ylim(bottom=0)
        right = ax.twinx()
        right.plot(
            months,
            frame["mean_so_capacity"],
            color="C3",
            ls="--",
            label=f"{BY_NAME['mean_so_capacity'].label(lang)}",
        )
        right.set_ylim(0, 1)
        right.grid(False)
        right.spines["right"].set_visible(True)
        handles = ax.get_legend_handles_labels()[0] + right.get_legend_handles_labels()[0]
        labels = ax.get_legend_handles_labels()[1] + [words["capacity"]]
        ax.legend(handles, labels, loc="upper left", fontsize=7)
    return fig


def affairs_figure(model: DashboardModel, lang: str) -> Figure:
    """The 622 split: shares of affairs settled by deliberation, SOs, or referred upward."""
    words = WORDS[lang]
    with style(lang):
        fig, ax = _figure(lang, TEXT[lang]["affairs"], model)
        frame = model.datacollector.get_model_vars_dataframe()
        if frame.empty:
            _empty(ax, lang)
            return fig
        shares = [np.nan_to_num(frame[name].to_numpy(dtype=float)) * 100 for name, _ in AFFAIRS]
        ax.stackplot(
            _months(frame),
            *shares,
            labels=[words[w] for _, w in AFFAIRS],
            colors=[f"C{i + 6}" for i in range(len(AFFAIRS))],
            alpha=0.85,
        )
        ax.set_ylim(0, 100)
        ax.set_ylabel("%")
        ax.legend(loc="lower left", fontsize=7)
    return fig


def spending_figure(model: DashboardModel, lang: str) -> Figure:
    """Government and group-organization spending and the non-government money mobilised."""
    words = TEXT[lang]
    scale = MONEY_SCALE[lang]
    with style(lang):
        fig, ax = _figure(lang, words["spending"], model)
        frame = model.datacollector.get_model_vars_dataframe()
        if frame.empty:
            _empty(ax, lang)
            return fig
        for name in ("gov_spending", "group_org_spending", "non_gov_funds"):
            ax.plot(
                _months(frame),
                frame[name].to_numpy(dtype=float) / scale,
                label=BY_NAME[name].label(lang),
            )
        ax.set_ylim(bottom=0)
        ax.set_ylabel(words["money_unit"])
        ax.legend(loc="upper left", fontsize=7)
    return fig


#: The per-community map's colours: sequential and calm (light = low, dark = high), not a
#: red alarm; fixed from 0 to 100 % so months and runs compare; grey where nothing is known.
COMMUNITY_COLOURS = matplotlib.colormaps["YlGnBu"].with_extremes(bad="#e0e0e0")


def communities_figure(model: DashboardModel, lang: str) -> Figure:
    """Each community as a cell (rows: streets): its need coverage and participation."""
    words = TEXT[lang]
    panels = (
        (words["community_coverage"], model.community_coverage()),
        (words["community_participation"], model.community_participation()),
    )
    with style(lang):
        fig = Figure(figsize=FIGSIZE, dpi=DPI)
        fig.subplots_adjust(left=0.05, right=0.84, bottom=0.16, top=0.8, wspace=0.15)
        axes = fig.subplots(1, 2)
        for ax, (title, values) in zip(axes, panels, strict=True):
            image = _community_grid(ax, model, values)
            ax.set_title(title, fontsize=8)
        bar = fig.colorbar(image, cax=fig.add_axes((0.87, 0.16, 0.02, 0.64)))
        bar.ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        bar.ax.tick_params(labelsize=7)
        bar.set_label(words["community_scale"], fontsize=7)
        fig.suptitle(words["communities"], fontsize=9)
        fig.text(0.05, 0.02, words["no_needs"], fontsize=7, color="grey")
    return fig


def _community_grid(ax: Any, model: DashboardModel, values: np.ndarray) -> Any:
    """One panel: a cell per community on the fixed 0-100 % scale, its value written in."""
    grid = values.reshape(int(model.v["district.streets"]), -1)
    norm = matplotlib.colors.Normalize(vmin=0, vmax=1)
    image = ax.imshow(grid, cmap=COMMUNITY_COLOURS, norm=norm, aspect="auto")
    streets, per_street = grid.shape
    ax.set_xticks(range(per_street), [str(i + 1) for i in range(per_street)])
    ax.set_yticks(range(streets), [str(i + 1) for i in range(streets)])
    ax.grid(False)
    if grid.size <= 60:
        for (row, col), value in np.ndenumerate(grid):
            text = "–" if np.isnan(value) else f"{value:.0%}"
            colour = "white" if value > 0.6 else "black"  # NaN compares False: black
            ax.text(col, row, text, ha="center", va="center", fontsize=7, color=colour)
    return image


def _group_label(name: str, lang: str) -> str:
    label = BY_NAME[name].label(lang)
    return label.removesuffix("需求满足率") if lang == "zh" else label.removeprefix("Coverage: ")


FIGURES: tuple[Callable[[DashboardModel, str], Figure], ...] = (
    participation_figure,
    coverage_figure,
    satisfaction_figure,
    organizations_figure,
    affairs_figure,
    spending_figure,
    communities_figure,
)


# --- the page's parts ---------------------------------------------------------------------
#: A policy group's heading among the levers.
GROUP_STYLE = {"font-weight": "bold", "margin-top": "0.8em", "font-size": "0.95em"}


@solara.component
def FigureView(make: Callable[[DashboardModel, str], Figure], model: Any, lang: str) -> None:
    """The figure ``make`` draws, redrawn after each month (Mesa's ``update_counter``).

    Chinese figure labels fall back to English where no CJK font is installed.
    """
    update_counter.get()
    dependencies = [model, model.month, lang]
    figure = solara.use_memo(lambda: make(model, resolve_lang(lang)), dependencies)
    solara.FigureMatplotlib(figure, dependencies=dependencies, format="png", pil_kwargs=FAST_PNG)


@solara.component
def CommunitiesView(model: Any, lang: str) -> None:
    """The per-community map, or before the first month a note instead of an empty map."""
    update_counter.get()
    words = TEXT[lang]
    with solara.Div(classes=["sanshe-map"]):
        if model.month == 0:
            with solara.Card(words["communities"]):
                solara.Text(words["map_waits"], style={"color": "grey"})
        else:
            FigureView(communities_figure, model, lang)


@solara.component
def StatusView(model: Any, lang: str) -> None:
    """The "this month" card, rewritten after each month."""
    update_counter.get()
    with solara.Card(TEXT[lang]["status"]):
        solara.HTML(unsafe_innerHTML=status_html(model, lang), classes=["sanshe-status"])


@solara.component
def Views(model: Any, lang: str) -> None:
    """The status card and the plots, two to a row."""
    with solara.GridFixed(columns=2, align_items="start"):
        StatusView(model, lang)
        for make in FIGURES:
            if make is communities_figure:
                CommunitiesView(model, lang)
            else:
                FigureView(make, model, lang)


@solara.component
def LeverPanel(values: solara.Reactive, lang: str) -> None:
    """The seed and every lever of the scenario in ``values``, each with its value.

    ``values`` holds what Mesa's Reset passes to the model; moving a lever changes it.
    Another scenario mounts new controls: a slider keeping the old scenario's step would
    snap the new value to it (1,500,000 on a 200,000 step becomes 1,600,000).
    """
    name = values.value["scenario_name"]
    Levers(name, values, lang).key(f"levers:{name}")


@solara.component
def Levers(name: str, values: solara.Reactive, lang: str) -> None:
    """The controls of scenario ``name``: ranges from the schema, start values from it."""
    chosen = solara.use_memo(lambda: Scenario.load(name), [name])
    controls = solara.use_memo(lambda: model_params(name, chosen, lang), [name, lang])
    current = values.value

    def set_value(key: str, value: Any) -> None:
        values.value = {**values.value, key: value}

    seed = controls["seed"]
    solara.InputText(
        label=seed["label"],
        value=str(current["seed"]),
        on_value=functools.partial(set_value, "seed"),
    )
    for prefix, zh, en in GROUPS:
        solara.Text(zh if lang == "zh" else en, style=GROUP_STYLE)
        for key, *_ in LEVERS:
            if key.startswith(prefix + "."):
                _lever(key, controls[key], current[key], functools.partial(set_value, key), lang)
    solara.Text(TEXT[lang]["hint"], style={"font-size": "0.8em", "color": "grey"})


def _lever(
    key: str, spec: dict[str, Any], value: Any, on_value: Callable[[Any], None], lang: str
) -> None:
    """One lever: a slider with its value and unit written above it, a choice, or a switch."""
    kind = spec["type"]
    with solara.Column(gap="0px", classes=["sanshe-lever"]):
        if kind.startswith("Slider"):
            with solara.Row(justify="space-between", gap="6px"):
                solara.Text(spec["label"])
                solara.Text(
                    lever_value(key, value, lang),
                    classes=["sanshe-value"],
                    style={"font-weight": "bold", "white-space": "nowrap"},
                )
            slider = solara.SliderInt if kind == "SliderInt" else solara.SliderFloat
            slider(
                "",
                value=value,
                min=spec["min"],
                max=spec["max"],
                step=spec["step"],
                on_value=on_value,
                thumb_label=False,
            )
        elif kind == "Select":
            items = [{"text": choice_word(c, lang), "value": c} for c in spec["values"]]
            solara.v.Select(
                label=spec["label"],
                items=items,
                v_model=value,
                on_v_model=on_value,
                dense=True,
                hide_details=True,
                class_="mt-3 mb-1",
            )
        else:
            solara.v.Checkbox(
                label=spec["label"],
                v_model=bool(value),
                on_v_model=on_value,
                dense=True,
                hide_details=True,
            )


@solara.component
def SpeedPicker(interval: solara.Reactive, lang: str) -> None:
    """How fast ▶ plays, in words; the words stand for Mesa's play interval."""
    words = TEXT[lang]
    by_word = {words[speed]: pause for speed, pause in SPEEDS.items()}
    shown = next((w for w, pause in by_word.items() if pause == interval.value), words["normal"])
    with solara.Row(gap="8px", style={"align-items": "center", "margin-top": "0.6em"}):
        solara.Text(words["speed"], style={"font-size": "0.9em"})
        solara.ToggleButtonsSingle(
            value=shown,
            values=list(by_word),
            on_value=lambda word: interval.set(by_word[word]),
            dense=True,
        )


def _scenario_card(
    name: str,
    chosen: Scenario,
    lang: str,
    pick: Callable[[str], None],
    set_language: Callable[[str], None],
) -> None:
    """The scenario picker with the scenario's title and description, and the language."""
    words = TEXT[lang]
    names = library_names()
    if name not in names:
        names = [name, *names]
    with solara.Card(words["scenario"]):
        solara.Select(label=words["scenario"], values=names, value=name, on_value=pick)
        title = chosen.title_zh if lang == "zh" else chosen.title_en
        solara.HTML(
            unsafe_innerHTML=f"<p><b>{_esc(title or chosen.title)}</b></p>"
            f"<p>{_esc(chosen.description)}</p>",
            style="font-size:0.85em",
        )
        solara.ToggleButtonsSingle(
            value=next(k for k, v in LANGUAGES.items() if v == lang),
            values=list(LANGUAGES),
            on_value=lambda label: set_language(LANGUAGES[label]),
        )


# --- the page -----------------------------------------------------------------------------
LANGUAGES = {"中文": "zh", "English": "en"}


def _start(name: str, lang: str) -> dict[str, Any]:
    """The model's keyword arguments at scenario ``name``'s values."""
    return start_values(model_params(name, Scenario.load(name), lang))


@solara.component
def Dashboard(scenario: str = "baseline", lang: str = "en") -> None:
    """The page: scenario, run controls (Mesa's ModelController), levers, and the views.

    Picking a scenario starts a new run with every lever at that scenario's value; switching
    language keeps the run and the moved levers.
    """
    name, set_name = solara.use_state(scenario)
    language, set_language = solara.use_state(lang)
    first = solara.use_memo(lambda: _start(scenario, lang), [])
    values = solara.use_reactive(first)
    model = solara.use_reactive(solara.use_memo(lambda: DashboardModel(**first), []))
    interval = solara.use_reactive(SPEEDS["normal"])
    months_per_step = solara.use_reactive(MONTHS_PER_STEP)
    threads = solara.use_reactive(False)
    chosen = solara.use_memo(lambda: Scenario.load(name), [name])

    def pick(new: str) -> None:
        fresh = _start(new, language)
        values.set(fresh)
        model.set(DashboardModel(**fresh))
        set_name(new)

    words = TEXT[language]
    solara.Title(words["app"])
    with solara.AppBar():
        solara.AppBarTitle(words["app"])
    with solara.Sidebar(), solara.Column():
        _scenario_card(name, chosen, language, pick, set_language)
        with solara.Card(words["run"]):
            # a new scenario mounts a new controller: ▶ stops, and a finished run restarts
            ModelController(
                model,
                model_parameters=values,
                play_interval=interval,
                render_interval=months_per_step,
                use_threads=threads,
            ).key(f"run:{name}")
            SpeedPicker(interval, language)
        with solara.Card(words["levers"]):
            LeverPanel(values, language)
    Views(model.value, language)


def make_page(scenario: str = "baseline", lang: str = "en") -> Any:
    """The page for a notebook cell (or ``solara run``): scenario and language to start with.

    ``scenario`` is a library name or a .toml path; ``lang`` is "zh" or "en" (the figures'
    Chinese labels fall back to English, with a warning, where no CJK font is installed).
    """
    from sanshe.ui.commands.dashboard import requirements_problem

    problem = requirements_problem()
    if problem:
        raise InputError(problem)
    chosen = Scenario.load(scenario)  # a bad name or file fails here, not in the browser
    if chosen.source is None:
        raise InputError("make_page needs a library scenario name or a path to a .toml file.")
    if lang not in TEXT:
        raise InputError(f"lang must be 'zh' or 'en', not {lang!r}.")
    name = scenario if scenario in library_names() else str(chosen.source)
    return Dashboard(scenario=name, lang=lang)


#: What ``solara run sanshe.ui.dashboard`` serves.
page = make_page(os.environ.get(SCENARIO_ENV, "baseline"), os.environ.get(LANG_ENV, "en"))
