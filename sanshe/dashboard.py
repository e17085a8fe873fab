"""The interactive page: move policy levers and watch a district change, month by month.

Built on Mesa's own visualization (``mesa.visualization.SolaraViz``). In a notebook cell,
``make_page("full_linkage", lang="zh")`` shows the page; ``sanshe dashboard`` serves
``page`` through ``solara run model.dashboard`` (it passes the scenario and language in
the environment variables :data:`SCENARIO_ENV` and :data:`LANG_ENV`).

Every number on the controls comes from :mod:`model.schema` (type, range, choices) and
from the chosen scenario (starting values); outcome labels come from
:mod:`model.outcomes`. Picking another scenario builds the page again with that scenario's
levers. As in every SolaraViz page, a moved lever takes effect at the next *Reset*.
"""

from __future__ import annotations

import functools
import html
import math
import os
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import solara
from matplotlib.figure import Figure

from sanshe.errors import InputError
from sanshe.model import CommunityGovernanceModel
from sanshe.outcomes import BY_NAME, SPECIAL_GROUPS
from sanshe.plotting import AFFAIRS, WORDS, resolve_lang, style
from sanshe.scenario import Scenario, library_names
from sanshe.schema import BY_KEY, Setting

with warnings.catch_warnings():
    # Mesa 3.3.1's ComponentsView trips solara's hook linter (a use_state after an early
    # return) on import; harmless, but it would greet every trainee in red in a notebook.
    warnings.filterwarnings("ignore", message=r"(?s).*ComponentsView: `use_state`")
    from mesa.visualization import SolaraViz

#: Environment variables through which ``sanshe dashboard`` passes its options.
SCENARIO_ENV = "SANSHE_DASHBOARD_SCENARIO"
LANG_ENV = "SANSHE_DASHBOARD_LANG"

#: The levers on the page, policy group by policy group: dotted key, Chinese, English label.
LEVERS: tuple[tuple[str, str, str], ...] = (
    # 政府购买服务
    ("policy.purchase.annual_budget", "购买服务预算(元/年)", "Purchase budget (yuan/yr)"),
    ("policy.purchase.mode", "采购方式", "Procurement mode"),
    ("policy.purchase.third_party_evaluation", "第三方评估", "Third-party evaluation"),
    ("policy.purchase.satisfaction_weight", "评估中满意度权重", "Satisfaction weight"),
    (
        "policy.purchase.venture_philanthropy_budget",
        "公益创投(元/年)",
        "Venture philanthropy (yuan/yr)",
    ),
    # 孵化
    ("policy.incubation.enabled", "孵化基地", "Incubator"),
    ("policy.incubation.places", "孵化名额(个/年)", "Incubator places (per yr)"),
    ("policy.incubation.training", "孵化培训强度", "Incubation training"),
    ("policy.incubation.registration_threshold", "登记备案门槛", "Registration threshold"),
    # 四个优先
    ("policy.four_priorities.resources", "资源优先", "Priority: resources"),
    ("policy.four_priorities.services", "服务优先", "Priority: services"),
    ("policy.four_priorities.landing", "落地优先", "Priority: landing"),
    ("policy.four_priorities.projects", "项目优先", "Priority: projects"),
    # 三社联动
    ("policy.linkage.mode", "联动模式", "Linkage mode"),
    ("policy.linkage.info_platform", "信息平台", "Information platform"),
    ("policy.linkage.group_coordination", "群团协同", "Group-organization coordination"),
    # 社区
    (
        "policy.community.service_fund",
        "社区服务资金(元/年·社区)",
        "Community service fund (yuan/yr each)",
    ),
    ("policy.community.deliberation", "议事协商平台", "Deliberation platform"),
    ("policy.community.volunteer_points", "志愿积分", "Volunteer points"),
    # 社会工作
    (
        "policy.social_work.salary_index",
        "社工薪酬指数(相对当地平均工资)",
        "Social-worker pay (x local wage)",
    ),
    ("policy.social_work.posts_per_community", "每社区社工岗位", "Social-work posts per community"),
)

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

#: Words of the page, per language.
TEXT: dict[str, dict[str, str]] = {
    "en": {
        "app": "Sanshe: community governance simulator",
        "scenario": "Scenario",
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
        "seed_note": "seed {text!r} is not a whole number; used the scenario's seed {seed}",
    },
    "zh": {
        "app": "三社联动社区治理模拟",
        "scenario": "情景",
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
        "seed_note": "随机种子 {text!r} 不是整数;改用情景的种子 {seed}",
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

    SolaraViz passes each control by its name; the levers are named by their dotted
    scenario keys, which arrive in ``**kwargs`` as overrides. The seed comes from a text
    field. The model also keeps, per community, the needs met and closed each month, for
    the per-community view.
    """

    def __init__(
        self, scenario: Scenario | str = "baseline", seed: Any = None, **kwargs: Any
    ) -> None:
        chosen = Scenario.load(scenario)
        number, self.seed_text = parse_seed(seed)
        if number is None and self.seed_text:
            number = int(chosen.values["run.seed"])
        self.community_met: list[np.ndarray] = []
        self.community_closed: list[np.ndarray] = []
        super().__init__(scenario=chosen, seed=number, **kwargs)

    def _measure(self, delivery: Any, lapsed: np.ndarray, settled: Any) -> None:
        """The outcomes of the month, then this month's needs met and closed per community."""
        super()._measure(delivery, lapsed, settled)
        count = self.pop.communities
        met = np.bincount(self.pop.community[delivery.served], minlength=count)
        gone = np.bincount(self.pop.community[lapsed], minlength=count)
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
        return pop.per_community(pop.participating.astype(float)) / pop.counts()


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
    """The SolaraViz user parameter of one lever, starting at ``value``."""
    if setting.choices:
        return {"type": "Select", "value": value, "values": list(setting.choices), "label": label}
    if setting.type is bool:
        return {"type": "Checkbox", "value": bool(value), "label": label}
    low, high, step = slider_range(setting, scenario)
    kind = "SliderInt" if setting.type is int else "SliderFloat"
    return {"type": kind, "value": value, "min": low, "max": high, "step": step, "label": label}


def model_params(name: str, scenario: Scenario, lang: str) -> dict[str, Any]:
    """SolaraViz's ``model_params``: the scenario (fixed: ``name``, a library name or a
    path), the seed and every lever, starting at ``scenario``'s values."""
    words = TEXT[lang]
    params: dict[str, Any] = {
        "scenario": name,
        "seed": {
            "type": "InputText",
            "value": str(scenario.values["run.seed"]),
            "label": words["seed"],
        },
    }
    for key, zh, en in LEVERS:
        params[key] = control(
            BY_KEY[key], scenario.values[key], zh if lang == "zh" else en, scenario
        )
    return params


# --- views --------------------------------------------------------------------------------
def _format(name: str, value: float) -> str:
    """An outcome's value as the page shows it."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    unit = BY_NAME[name].unit
    if unit == "share":
        return f"{value:.1%}"
    if unit in ("count", "yuan"):
        return f"{value:,.0f}"
    return f"{value:.3f}"


def _setting(value: Any) -> str:
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if isinstance(value, float):
        return f"{value:,.6g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def status_html(model: DashboardModel, lang: str) -> str:
    """The "this month" card: month, key outcomes and the levers changed from the scenario.

    Plain HTML rather than solara.Markdown, which loads KaTeX from a CDN: the page has to
    work in a training room without internet. Every text is escaped.
    """
    words = TEXT[lang]
    parts = [
        f"<p><b>{_esc(words['month'])}: {model.month}</b> · {_esc(model.scenario.name)} · "
        f"{_esc(words['seed'])}: {model.seed}</p>"
    ]
    if model.seed_text:
        note = words["seed_note"].format(text=model.seed_text, seed=model.seed)
        parts.append(f"<p><i>{_esc(note)}</i></p>")
    if model.current:
        rows = "".join(
            f"<tr><td>{_esc(BY_NAME[n].label(lang))}</td>"
            f"<td style='text-align:right;padding-left:1em'>{_format(n, model.current[n])}</td>"
            "</tr>"
            for n in STATUS_OUTCOMES
        )
        parts.append(f"<table>{rows}</table>")
    else:
        parts.append(f"<p>{_esc(words['press'])}</p>")
    base = Scenario.load(model.scenario.source or model.scenario.name)
    changed = [k for k in model.scenario.differences(base) if k in BY_KEY]
    if changed:
        labels = {key: zh if lang == "zh" else en for key, zh, en in LEVERS}
        items = "".join(
            f"<li>{_esc(labels.get(k, k))}: {_esc(_setting(model.scenario.values[k]))} "
            f"({_esc(_setting(base.values[k]))})</li>"
            for k in changed
        )
        parts.append(f"<p style='margin:0.5em 0 0'>{_esc(words['changed'])}:</p><ul>{items}</ul>")
    else:
        parts.append(f"<p style='margin:0.5em 0 0'>{_esc(words['none_changed'])}</p>")
    return "".join(parts)


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


def _figure(lang: str, title: str) -> tuple[Figure, Any]:
    # Fixed margins instead of a layout engine: every step redraws seven figures.
    fig = Figure(figsize=FIGSIZE, dpi=DPI)
    fig.subplots_adjust(left=0.11, right=0.89, bottom=0.15, top=0.9)
    ax = fig.subplots()
    ax.set_title(title)
    ax.set_xlabel(WORDS[lang]["month"])
    return fig, ax


def _lines(
    model: DashboardModel, lang: str, names: tuple[str, ...], title: str, percent: bool
) -> Figure:
    """A line per outcome, labelled in ``lang``."""
    with style(lang):
        fig, ax = _figure(lang, title)
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
        fig, ax = _figure(lang, words["coverage"])
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
        fig, ax = _figure(lang, words["sos"])
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
        fig, ax = _figure(lang, TEXT[lang]["affairs"])
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
        fig, ax = _figure(lang, words["spending"])
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


def communities_figure(model: DashboardModel, lang: str) -> Figure:
    """Each community as a cell (rows: streets): its need coverage and participation."""
    words = TEXT[lang]
    streets = int(model.v["district.streets"])
    per_street = int(model.v["district.communities_per_street"])
    panels = (
        (words["community_coverage"], model.community_coverage()),
        (words["community_participation"], model.community_participation()),
    )
    with style(lang):
        fig = Figure(figsize=FIGSIZE, dpi=DPI)
        fig.subplots_adjust(left=0.05, right=0.88, bottom=0.1, top=0.8, wspace=0.15)
        axes = fig.subplots(1, 2)
        for ax, (title, values) in zip(axes, panels, strict=True):
            grid = values.reshape(streets, per_street)
            image = ax.imshow(grid, cmap="RdYlGn", vmin=0, vmax=1, aspect="auto")
            ax.set_title(title, fontsize=8)
            ax.set_xticks(range(per_street), [str(i + 1) for i in range(per_street)])
            ax.set_yticks(range(streets), [str(i + 1) for i in range(streets)])
            ax.grid(False)
            if grid.size <= 60:
                for (row, col), value in np.ndenumerate(grid):
                    text = "–" if np.isnan(value) else f"{value:.0%}"
                    ax.text(col, row, text, ha="center", va="center", fontsize=7)
        fig.colorbar(image, cax=fig.add_axes((0.91, 0.1, 0.02, 0.7)))
        fig.suptitle(words["communities"], fontsize=9)
    return fig


def _group_label(name: str, lang: str) -> str:
    label = BY_NAME[name].label(lang)
    return label.removesuffix("需求满足率") if lang == "zh" else label.removeprefix("Coverage: ")


def _figure_view(make: Callable[[DashboardModel, str], Figure], lang: str) -> Callable:
    """A SolaraViz component: the figure ``make`` draws, redrawn after every step.

    Chinese figure labels fall back to English where no CJK font is installed.
    """

    def view(model: DashboardModel) -> Any:
        figure = make(model, resolve_lang(lang))
        return solara.FigureMatplotlib(figure, format="png", pil_kwargs=FAST_PNG)

    view.__name__ = make.__name__
    return view


def _status_view(lang: str) -> Callable:
    def view(model: DashboardModel) -> Any:
        with solara.Card(TEXT[lang]["status"]) as card:
            solara.HTML(unsafe_innerHTML=status_html(model, lang), classes=["sanshe-status"])
            solara.Text(TEXT[lang]["hint"], style={"font-size": "0.8em", "color": "grey"})
        return card

    return view


FIGURES: tuple[Callable[[DashboardModel, str], Figure], ...] = (
    participation_figure,
    coverage_figure,
    satisfaction_figure,
    organizations_figure,
    affairs_figure,
    spending_figure,
    communities_figure,
)


def components(lang: str) -> list[tuple[Callable, int]]:
    """The page's panels, all on SolaraViz's first page."""
    return [(_status_view(lang), 0), *[(_figure_view(f, lang), 0) for f in FIGURES]]


# --- the page -----------------------------------------------------------------------------
LANGUAGES = {"中文": "zh", "English": "en"}


@solara.component
def Dashboard(scenario: str = "baseline", lang: str = "en") -> None:
    """Scenario picker and language switch around Mesa's SolaraViz page.

    Picking a scenario builds a new model and mounts a new SolaraViz, so every lever starts
    at that scenario's value; switching language keeps the model and the moved levers.
    """
    name, set_name = solara.use_state(scenario)
    language, set_language = solara.use_state(lang)
    chosen = solara.use_memo(lambda: Scenario.load(name), [name])
    model = solara.use_memo(
        lambda: DashboardModel(scenario=chosen, seed=int(chosen.values["run.seed"])), [name]
    )
    words = TEXT[language]
    names = library_names()
    if name not in names:
        names = [name, *names]
    with solara.Sidebar(), solara.Card(words["scenario"]):
        solara.Select(label=words["scenario"], values=names, value=name, on_value=set_name)
        title = chosen.title_zh if language == "zh" else chosen.title_en
        solara.HTML(
            unsafe_innerHTML=f"<p><b>{_esc(title or chosen.title)}</b></p>"
            f"<p>{_esc(chosen.description)}</p>",
            style="font-size:0.85em",
        )
        solara.ToggleButtonsSingle(
            value=next(k for k, v in LANGUAGES.items() if v == language),
            values=list(LANGUAGES),
            on_value=lambda label: set_language(LANGUAGES[label]),
        )
    # A new scenario needs a new SolaraViz: its controls take their starting values only
    # when it mounts. Leave it out for one render, then mount it afresh.
    mounted, set_mounted = solara.use_state(name)
    solara.use_effect(lambda: set_mounted(name), [name])
    if mounted != name:
        solara.ProgressLinear(True)
        return
    SolaraViz(
        model,
        components=components(language),
        model_params=model_params(name, chosen, language),
        name=words["app"],
    )


def make_page(scenario: str = "baseline", lang: str = "en") -> Any:
    """The page for a notebook cell (or ``solara run``): scenario and language to start with.

    ``scenario`` is a library name or a .toml path; ``lang`` is "zh" or "en" (the figures'
    Chinese labels fall back to English, with a warning, where no CJK font is installed).
    """
    from sanshe.commands.dashboard import requirements_problem

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


#: What ``solara run model.dashboard`` serves.
page = make_page(os.environ.get(SCENARIO_ENV, "baseline"), os.environ.get(LANG_ENV, "en"))
