"""Scenario discovery on a stored sweep: under which conditions does a policy fail?

A policymaker asks "under which conditions does the full package fail to raise
participation?". We answer with PRIM (the patient rule induction method, Friedman &
Fisher 1999) as EMA Workbench implements it (``ema_workbench.analysis.prim``, the reference
implementation for scenario discovery): the *cases of interest* are the runs where an
outcome ends below (or above) a threshold — or, with ``versus``, where the paired
difference against another sweep run under the same conditions and seeds does — and PRIM
peels the input space down to boxes where those cases are dense.

Each step of the peeling trajectory trades *coverage* (the share of all cases of interest
inside the box) for *density* (the share of the box's runs that are cases of interest).
We pick, by default, the densest box that keeps at least ``min_coverage`` of the cases,
then look for a further box among the runs left outside it, and describe every box in
words, in Chinese and English, with the levers' labels and units.

The unit of analysis is the run: with replications, density is then the chance that a run
in those conditions fails, noise included.
"""

from __future__ import annotations

import functools
import math
import re
import textwrap
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sanshe.experiments.ema import require_ema
from sanshe.experiments.store import ResultStore
from sanshe.experiments.sweep import SweepResult
from sanshe.inputs.errors import InputError
from sanshe.inputs.levers import LEVERS
from sanshe.inputs.outcomes import BY_NAME, check_names
from sanshe.inputs.parameters import PARAMETERS
from sanshe.inputs.schema import BY_KEY
from sanshe.reporting import pages, plotting
from sanshe.reporting.tables import format_table, format_value

#: PRIM's density threshold: a box must hold at least this share of cases of interest
#: (EMA Workbench's customary 0.8).
DEFAULT_DENSITY = 0.8

#: The default box is the densest one holding at least this share of the cases.
DEFAULT_MIN_COVERAGE = 0.5

#: At most this many boxes, each found among the runs the earlier ones left out.
DEFAULT_MAX_BOXES = 3

#: In EMA's binary mode ``threshold`` both marks the cases (y ≥ threshold) and rejects a
#: final box whose density is lower (replacing its trajectory by an empty "dump" box). Any
#: value in (0, 1] marks exactly the runs with y = 1; this one keeps every trajectory, and
#: we judge boxes against the density threshold ourselves.
_EMA_MARK = 1e-9

DIRECTIONS = ("below", "above")


# --- the question ---------------------------------------------------------------------
@dataclass(frozen=True)
class Question:
    """Which runs are cases of interest: ``outcome`` (or its gain over ``versus``) is
    below or above ``threshold``."""

    outcome: str
    direction: str
    threshold: float
    versus: str | None = None

    def holds(self, values: np.ndarray) -> np.ndarray:
        """True where a run is a case of interest (strictly below or above)."""
        if self.direction == "below":
            return values < self.threshold
        return values > self.threshold


# --- PRIM on arrays ---------------------------------------------------------------------
@dataclass(frozen=True)
class Limit:
    """One restricted input of a box: a range (either end may be open) or a set of levels.

    ``qp`` is PRIM's quasi-p-value of the restriction (small: the restriction matters).
    """

    key: str
    low: float | None = None
    high: float | None = None
    levels: tuple[Any, ...] | None = None
    qp: float = math.nan


@dataclass
class Box:
    """A box PRIM found: where on its peeling trajectory we chose it, and its limits."""

    number: int  # 1 = the first box found
    index: int  # the chosen point of ``trajectory``
    coverage: float
    density: float
    mass: float
    runs: int
    cases: int
    limits: tuple[Limit, ...]
    trajectory: pd.DataFrame = field(repr=False)


def _prim_module() -> Any:
    require_ema()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from ema_workbench.analysis import prim  # optional dependency (sanshe[discovery])
    return prim


def find_boxes(
    x: pd.DataFrame,
    interest: np.ndarray,
    density: float = DEFAULT_DENSITY,
    min_coverage: float = DEFAULT_MIN_COVERAGE,
    max_boxes: int = DEFAULT_MAX_BOXES,
    pick: int | None = None,
) -> list[Box]:
    """PRIM boxes of the cases of interest (``interest`` True) in the inputs ``x``.

    Numeric columns are peeled as ranges, categorical ones as sets of levels. The first
    box is point ``pick`` of its trajectory, or else the densest point with coverage at
    least ``min_coverage``; later boxes (found among the runs outside earlier ones) must
    keep ``min_coverage`` of the cases left and reach ``density``. The first box is kept
    even below ``density``, so the answer shows how far the data are from one.
    """
    prim = _prim_module()
    y = np.asarray(interest, dtype=int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        engine = prim.Prim(x.reset_index(drop=True), y, threshold=_EMA_MARK)
    boxes: list[Box] = []
    while len(boxes) < max_boxes:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            found = engine.find_box()
        if found is None or found.peeling_trajectory.shape[0] < 2:
            break
        trajectory = _trajectory(found.peeling_trajectory)
        start = float(trajectory["coverage"].iloc[0])
        chosen = _choose(trajectory, min_coverage * start)
        index = pick if pick is not None and not boxes else chosen
        if index >= len(trajectory):
            raise InputError(
                f"--box {index}: the peeling trajectory has boxes 0 to {len(trajectory) - 1}."
            )
        found.select(index)
        box = _box(len(boxes) + 1, index, trajectory, found, engine)
        if not box.limits or (boxes and box.density < density):
            break
        boxes.append(box)
        if box.density < density or box.cases == 0:
            break
    return boxes


def _trajectory(raw: pd.DataFrame) -> pd.DataFrame:
    columns = ["coverage", "density", "mass", "res_dim", "n", "k"]
    frame = raw[columns].astype({"res_dim": int, "n": int, "k": int}).reset_index(drop=True)
    frame.index.name = "box"
    return frame


def _choose(trajectory: pd.DataFrame, min_coverage: float) -> int:
    """The densest point keeping ``min_coverage``; ties: more coverage, fewer inputs."""
    eligible = trajectory[trajectory["coverage"] >= min_coverage - 1e-12]
    if eligible.empty:
        eligible = trajectory.iloc[:1]
    ranked = eligible.sort_values(
        ["density", "coverage", "res_dim"], ascending=[False, False, True], kind="stable"
    )
    return int(ranked.index[0])


def _box(number: int, index: int, trajectory: pd.DataFrame, found: Any, engine: Any) -> Box:
    """The chosen point of a PRIM box's trajectory, with its limits."""
    row = trajectory.iloc[index]
    return Box(
        number=number,
        index=index,
        coverage=float(row["coverage"]),
        density=float(row["density"]),
        mass=float(row["mass"]),
        runs=int(row["n"]),
        cases=int(row["k"]),
        limits=_limits(found.box_lims[index], engine.box_init, found.qp[index]),
        trajectory=trajectory,
    )


def _limits(lims: pd.DataFrame, init: pd.DataFrame, qp: dict[str, Any]) -> tuple[Limit, ...]:
    """The restricted inputs of a box (EMA's box limits against the initial box)."""
    limits = []
    for key in lims.columns:
        low, high = lims[key].iloc[0], lims[key].iloc[1]
        quasi = [v for v in qp.get(key, []) if v is not None and v >= 0]
        significance = max(quasi) if quasi else math.nan
        if isinstance(low, set):
            if low != init[key].iloc[0]:
                levels = tuple(sorted(low, key=str))
                limits.append(Limit(key, levels=levels, qp=significance))
            continue
        lower = float(low) if low > init[key].iloc[0] else None
        upper = float(high) if high < init[key].iloc[1] else None
        if lower is not None or upper is not None:
            limits.append(Limit(key, lower, upper, qp=significance))
    return tuple(limits)


# --- labels and words -------------------------------------------------------------------
WORDS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Scenario discovery",
        "ends": "{label} ends {direction} {value}",
        "below": "below",
        "above": "above",
        "gain_less": "{a} raises {label} by less than {value} over {b}",
        "gain_more": "{a} raises {label} by more than {value} over {b}",
        "lowers": "{a} gives a lower {label} than {b}",
        "diff": "{label}, {a} minus {b}, is {direction} {value}",
        "box": (
            "Box {n}: {question} in {density} of the runs (against {base} of all runs) "
            "when {conditions}. The box holds {coverage} of all such runs and {mass} of "
            "all runs."
        ),
        "and": " and ",
        "between": "{label} between {low} and {high}",
        "at_least": "{label} ≥ {low}",
        "at_most": "{label} ≤ {high}",
        "one_of": "{label} is {levels}",
        "or": " or ",
        "with": "with {label}",
        "without": "without {label}",
        "none": (
            "PRIM found no box: the runs where {question} are spread over the input space "
            "({cases} of {runs} runs)."
        ),
        "weak": (
            "No box reaches the density threshold of {density}: read the box above as a "
            "tendency, not a rule."
        ),
        "question": "Question",
        "design": (
            "Sweep {sweep} (scenario {scenario}): {runs} runs; {cases} of them ({base}) are "
            "cases of interest: {question}."
        ),
        "paired": (
            "Each run is paired with the run of sweep {versus} (scenario {b}) at the same "
            "design point and seed."
        ),
        "dropped": "{dropped} run(s) without a value or a partner were left out.",
        "method": (
            "PRIM (EMA Workbench {version}) over the inputs {inputs}. Default box: the "
            "densest with coverage ≥ {min_coverage}; density threshold {density}."
        ),
        "boxes": "Boxes",
        "box_column": "box",
        "limits": "Limits of each box",
        "trajectory": "Peeling trajectory of box 1 (coverage against density)",
        "figure": (
            "Left: each step of the peeling trajectory of box 1 (colour: number of "
            "restricted inputs); the chosen box is circled. Right: the chosen box's limits "
            "within each input's range."
        ),
        "reading": "How to read this",
        "reading_text": (
            "Coverage is the share of all cases of interest inside a box; density the share "
            "of the box's runs that are cases of interest; mass the share of all runs inside "
            "it. Peeling buys density with coverage: pick the box whose trade-off suits the "
            "question (--box N). A restriction with a quasi-p value above 0.05 may be noise. "
            "These are model results under stated assumptions (docs/ODD.md), not forecasts."
        ),
        "coverage": "coverage",
        "density": "density",
        "mass": "mass",
        "restricted": "restricted inputs",
        "input": "input",
        "limit": "limit",
        "qp": "quasi-p",
        "range": "share of the input's range",
        "on": "on",
        "off": "off",
        "chosen": "◀ chosen",
    },
    "zh": {
        "title": "情景发现",
        "ends": "{label}期末值{direction}{value}",
        "below": "低于",
        "above": "高于",
        "gain_less": "{a}使{label}比{b}提高不足{value}",
        "gain_more": "{a}使{label}比{b}提高超过{value}",
        "lowers": "{a}的{label}低于{b}",
        "diff": "{label}之差({a}减{b}){direction}{value}",
        "box": (
            "框{n}:当{conditions}时,{density}的运行中{question}(全部运行中为{base})。"
            "该框包含全部此类运行的{coverage},占全部运行的{mass}。"
        ),
        "and": "且",
        "between": "{label}在{low}至{high}之间",
        "at_least": "{label} ≥ {low}",
        "at_most": "{label} ≤ {high}",
        "one_of": "{label}为{levels}",
        "or": "或",
        "with": "有{label}",
        "without": "无{label}",
        "none": "PRIM未找到框:{question}的运行分散在整个输入空间中({runs}次运行中有{cases}次)。",
        "weak": "没有框达到{density}的密度阈值:上面的框只是一种倾向,而非规律。",
        "question": "问题",
        "design": (
            "参数扫描 {sweep}(情景 {scenario}):共{runs}次运行,其中{cases}次({base})为关注情形:"
            "{question}。"
        ),
        "paired": "每次运行与扫描 {versus}(情景 {b})中相同设计点、相同种子的运行配对。",
        "dropped": "{dropped}次运行因缺少数值或配对运行而未纳入。",
        "method": (
            "PRIM(EMA Workbench {version}),输入:{inputs}。默认框:覆盖率 ≥ {min_coverage} "
            "中密度最高者;密度阈值 {density}。"
        ),
        "boxes": "框",
        "box_column": "框",
        "limits": "各框的界限",
        "trajectory": "框1的剥离轨迹(覆盖率与密度)",
        "figure": (
            "左:框1剥离轨迹的每一步(颜色:受限输入的个数),圆圈为所选框。"
            "右:所选框在各输入取值范围内的界限。"
        ),
        "reading": "如何阅读",
        "reading_text": (
            "覆盖率:框内关注情形占全部关注情形的比例;密度:框内运行中关注情形的比例;"
            "质量:框内运行占全部运行的比例。剥离以覆盖率换取密度:请选择适合问题的框(--box N)。"
            "准p值大于0.05的限制可能只是噪声。这些是在既定假设下的模型结果(见 docs/ODD.md),"
            "不是预测。"
        ),
        "coverage": "覆盖率",
        "density": "密度",
        "mass": "质量",
        "restricted": "受限输入个数",
        "input": "输入",
        "limit": "界限",
        "qp": "准p值",
        "range": "占该输入取值范围的位置",
        "on": "开启",
        "off": "关闭",
        "chosen": "◀ 选定",
    },
}


def input_label(key: str, lang: str = "en") -> str:
    """A varied input's label with its unit: the dashboard's lever labels, the schema's
    description, or a behavioural constant's name and unit."""
    labels = _lever_labels()
    if key in labels:
        return labels[key][0 if lang == "zh" else 1]
    if key in BY_KEY:
        return BY_KEY[key].help or key
    name = key.removeprefix("parameters.")
    if name in PARAMETERS:
        return f"{name} ({PARAMETERS[name].unit})"
    return key


@functools.cache
def _lever_labels() -> dict[str, tuple[str, str]]:
    """Chinese and English lever labels (sanshe/inputs/levers.py). Money levers lose any
    unit in brackets: :func:`format_input` writes it with the value."""
    labels = {}
    for key, zh, en, *_ in LEVERS:
        if _is_money(key):
            zh, en = (re.sub(r"\s*[(（][^()（）]*[)）]$", "", text) for text in (zh, en))
        labels[key] = (zh, en)
    return labels


def _is_money(key: str) -> bool:
    return key in BY_KEY and "yuan" in BY_KEY[key].help


def _money_unit(key: str, lang: str) -> str:
    """The unit of a money lever from its schema description: "yuan per year" → 元/年."""
    unit = BY_KEY[key].help[BY_KEY[key].help.index("yuan"):]
    if lang == "en":
        return unit
    per = {"per year": "元/年", "per community per year": "元/年·社区"}
    return per.get(unit.removeprefix("yuan").strip(), "元")


def format_input(key: str, value: Any, lang: str = "en") -> str:
    """An input value for people: money in million/万 yuan with its unit, others to three
    significant figures."""
    if isinstance(value, bool | np.bool_):
        return WORDS[lang]["on" if value else "off"]
    if isinstance(value, str):
        return value
    number = float(value)
    if not _is_money(key):
        return f"{number:.3g}"
    unit = _money_unit(key, lang)
    if lang == "zh":
        amount = f"{number / 1e8:.3g}亿" if abs(number) >= 1e8 else f"{number / 1e4:.3g}万"
        return amount + unit
    amount = f"{number / 1e6:.3g} million" if abs(number) >= 1e6 else f"{number:,.0f}"
    return f"{amount} {unit}"


def describe_limit(limit: Limit, lang: str = "en") -> str:
    """One restriction in words, e.g. "Purchase budget (yuan/yr) ≤ 1.2 million"."""
    words, label = WORDS[lang], input_label(limit.key, lang)
    if limit.levels is not None:
        flags = {_flag(v) for v in limit.levels}
        if len(limit.levels) == 1 and None not in flags:
            return words["with" if flags == {True} else "without"].format(label=label)
        shown = words["or"].join(str(v) for v in limit.levels)
        return words["one_of"].format(label=label, levels=shown)
    low, high = (None if v is None else format_input(limit.key, v, lang)
                 for v in (limit.low, limit.high))
    if low is not None and high is not None:
        return words["between"].format(label=label, low=low, high=high)
    if low is not None:
        return words["at_least"].format(label=label, low=low)
    return words["at_most"].format(label=label, high=high)


def _flag(value: Any) -> bool | None:
    """True/False for a yes/no lever level (stored as "true"/"false"), else None."""
    text = str(value).lower()
    return {"true": True, "false": False}.get(text)


# --- a discovery -------------------------------------------------------------------------
@dataclass
class Discovery:
    """The answer to one question on one sweep: the boxes, with everything to report them."""

    sweep: str
    scenario: str
    question: Question
    inputs: list[str]
    runs: int
    cases: int
    dropped: int
    boxes: list[Box]
    density: float
    min_coverage: float
    versus_scenario: str | None = None
    axes: dict[str, Any] = field(default_factory=dict)  # key -> sanshe.experiments.sweep.Axis

    @property
    def base_rate(self) -> float:
        """The share of all runs that are cases of interest."""
        return self.cases / self.runs if self.runs else math.nan

    def question_text(self, lang: str = "en") -> str:
        """The cases of interest in words."""
        return question_words(self.question, self.scenario, self.versus_scenario, lang)

    def describe(self, lang: str = "en") -> list[str]:
        """Each box in words (or why there is none)."""
        words, question = WORDS[lang], self.question_text(lang)
        if not self.boxes:
            return [words["none"].format(question=question, cases=self.cases, runs=self.runs)]
        lines = [self.describe_box(box, lang) for box in self.boxes]
        if self.boxes[0].density < self.density:
            lines.append(words["weak"].format(density=_pct(self.density)))
        return lines

    def describe_box(self, box: Box, lang: str = "en") -> str:
        """One box in words: conditions, density against the base rate, coverage, mass."""
        words = WORDS[lang]
        conditions = words["and"].join(describe_limit(limit, lang) for limit in box.limits)
        return words["box"].format(
            n=box.number,
            question=self.question_text(lang),
            density=_pct(box.density),
            base=_pct(self.base_rate),
            conditions=conditions,
            coverage=_pct(box.coverage),
            mass=_pct(box.mass),
        )

    def table(self) -> pd.DataFrame:
        """The boxes as data: one row per restricted input of each box."""
        rows = [
            {
                "box": box.number,
                "trajectory_point": box.index,
                "coverage": box.coverage,
                "density": box.density,
                "mass": box.mass,
                "runs": box.runs,
                "cases": box.cases,
                "input": limit.key,
                "low": limit.low,
                "high": limit.high,
                "levels": None if limit.levels is None else "|".join(map(str, limit.levels)),
                "qp": limit.qp,
            }
            for box in self.boxes
            for limit in box.limits
        ]
        columns = ["box", "trajectory_point", "coverage", "density", "mass", "runs", "cases",
                   "input", "low", "high", "levels", "qp"]
        return pd.DataFrame(rows, columns=columns)

    def figure(self, lang: str = "en") -> Figure:
        """The peeling trajectory's coverage/density trade-off and the chosen box."""
        lang = plotting.resolve_lang(lang)
        with plotting.style(lang):
            fig = Figure(figsize=(10, 4.2), layout="constrained")
            left, right = fig.subplots(1, 2, width_ratios=(1, 1.2))
            self._draw_tradeoff(fig, left, lang)
            self._draw_limits(right, lang)
        return fig

    def _draw_tradeoff(self, fig: Figure, ax: Any, lang: str) -> None:
        words = WORDS[lang]
        ax.set_xlabel(words["coverage"])
        ax.set_ylabel(words["density"])
        ax.set_xlim(0, 1.05)
        ax.set_ylim(0, 1.05)
        ax.axhline(self.density, color="0.5", ls=":", lw=1)
        ax.axvline(self.min_coverage, color="0.5", ls=":", lw=1)
        if not self.boxes:
            return
        box = self.boxes[0]
        t = box.trajectory
        points = ax.scatter(t["coverage"], t["density"], c=t["res_dim"], cmap="viridis", s=18)
        fig.colorbar(points, ax=ax, label=words["restricted"],
                     ticks=range(int(t["res_dim"].max()) + 1))
        ax.scatter([box.coverage], [box.density], s=150, facecolors="none", edgecolors="C3")
        ax.annotate(f"{box.index}", (box.coverage, box.density), xytext=(6, -12),
                    textcoords="offset points", color="C3")
        ax.set_title(words["trajectory"])

    def _draw_limits(self, ax: Any, lang: str) -> None:
        ax.set_xlim(0, 1)
        ax.set_xlabel(WORDS[lang]["range"])
        limits = self.boxes[0].limits if self.boxes else ()
        ax.set_yticks(range(len(limits)), [_wrap(input_label(x.key, lang)) for x in limits])
        ax.set_ylim(-0.7, max(len(limits), 1) - 0.3)
        for row, limit in enumerate(limits):
            ax.plot([0, 1], [row, row], color="0.85", lw=6, solid_capstyle="butt")
            spans = self._unit_spans(limit)
            for start, end in spans:
                ax.plot([start, end], [row, row], color="C3", lw=6, solid_capstyle="butt")
            text = describe_limit(limit, lang).removeprefix(input_label(limit.key, lang))
            middle = (spans[0][0] + spans[-1][1]) / 2
            ax.annotate(text.strip(), (middle, row), xytext=(0, 7), textcoords="offset points",
                        ha="center", fontsize=8)
        ax.invert_yaxis()
        ax.grid(False)

    def _unit_spans(self, limit: Limit) -> list[tuple[float, float]]:
        """Where a restriction lies within its input's range, on a 0-1 scale (a list of
        levels: the cells of the kept levels, as the sweep's design lays them out)."""
        axis = self.axes.get(limit.key)
        if axis is None:
            return [(0.0, 1.0)]
        if limit.levels is not None and axis.kind == "levels":
            texts = [_level_text(v) for v in axis.levels]
            cells = [texts.index(v) for v in limit.levels if v in texts]
            return [(i / len(texts), (i + 1) / len(texts)) for i in cells] or [(0.0, 1.0)]
        if not axis.numeric:
            return [(0.0, 1.0)]
        width = (axis.high - axis.low) or 1.0
        start = 0.0 if limit.low is None else (limit.low - axis.low) / width
        end = 1.0 if limit.high is None else (limit.high - axis.low) / width
        return [(max(start, 0.0), min(end, 1.0))]

    def report(self, out: str | Path, lang: str = "en") -> dict[str, Path]:
        """Write report.md, report.html, tradeoff.png, trajectory.csv and boxes.csv."""
        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        paths = {name: folder / name for name in
                 ("report.md", "report.html", "tradeoff.png", "trajectory.csv", "boxes.csv")}
        self.figure(lang).savefig(paths["tradeoff.png"])
        trajectory = self.boxes[0].trajectory if self.boxes else pd.DataFrame()
        trajectory.to_csv(paths["trajectory.csv"])
        self.table().to_csv(paths["boxes.csv"], index=False)
        paths["report.md"].write_text(markdown(self, lang), encoding="utf-8")
        paths["report.html"].write_text(html_page(self, lang, paths["tradeoff.png"]),
                                        encoding="utf-8")
        return paths


def question_words(question: Question, scenario: str, versus_scenario: str | None,
                   lang: str = "en") -> str:
    """The cases of interest in words, e.g. "full_linkage raises Participation rate by less
    than 1.0 pp over baseline"."""
    words = WORDS[lang]
    outcome = BY_NAME[question.outcome]
    label, x = outcome.label(lang), question.threshold
    direction = words[question.direction]
    if question.versus is None:
        value = _amount(x, outcome.unit, diff=False, lang=lang)
        return words["ends"].format(label=label, direction=direction, value=value)
    a, b = scenario, versus_scenario or question.versus
    gain = _amount(x, outcome.unit, lang=lang)
    if question.direction == "below" and x > 0:
        return words["gain_less"].format(a=a, b=b, label=label, value=gain)
    if question.direction == "above" and x >= 0:
        return words["gain_more"].format(a=a, b=b, label=label, value=gain)
    if question.direction == "below" and x == 0:
        return words["lowers"].format(a=a, b=b, label=label)
    value = _amount(x, outcome.unit, diff=True, lang=lang)
    return words["diff"].format(label=label, a=a, b=b, direction=direction, value=value)


def _amount(value: float, unit: str, diff: bool = True, lang: str = "en") -> str:
    """A threshold in the outcome's unit: shares in % (levels) or points (gains)."""
    text = format_value(value, unit, diff=diff)
    text = text.removeprefix("+") if diff else text
    return text.replace(" pp", "个百分点") if lang == "zh" else text


def _pct(share: float) -> str:
    return "–" if not math.isfinite(share) else f"{share:.0%}"


def _wrap(text: str, width: int = 28) -> str:
    return textwrap.fill(text, width)


# --- reports ----------------------------------------------------------------------------
def summary_lines(d: Discovery, lang: str = "en") -> list[str]:
    """The question, the data and the method, as paragraphs."""
    words = WORDS[lang]
    lines = [words["design"].format(sweep=d.sweep, scenario=d.scenario, runs=d.runs,
                                    cases=d.cases, base=_pct(d.base_rate),
                                    question=d.question_text(lang))]
    if d.question.versus:
        lines.append(words["paired"].format(versus=d.question.versus, b=d.versus_scenario))
    if d.dropped:
        lines.append(words["dropped"].format(dropped=d.dropped))
    lines.append(words["method"].format(version=_ema_version(), inputs=", ".join(d.inputs),
                                        min_coverage=_pct(d.min_coverage),
                                        density=_pct(d.density)))
    return lines


def _ema_version() -> str:
    try:
        return version("ema_workbench")
    except PackageNotFoundError:
        return "?"


def _limit_rows(d: Discovery, lang: str) -> tuple[list[str], list[list[str]]]:
    words = WORDS[lang]
    headers = [words["box_column"], words["input"], words["limit"], words["qp"]]
    rows = [[str(box.number), input_label(limit.key, lang), describe_limit(limit, lang),
             "–" if math.isnan(limit.qp) else f"{limit.qp:.2g}"]
            for box in d.boxes for limit in box.limits]
    return headers, rows


def _trajectory_rows(d: Discovery, lang: str) -> tuple[list[str], list[list[str]]]:
    words = WORDS[lang]
    headers = ["#", words["coverage"], words["density"], words["mass"], words["restricted"], ""]
    if not d.boxes:
        return headers, []
    chosen = d.boxes[0].index
    rows = [[str(i), _pct(r.coverage), _pct(r.density), _pct(r.mass), str(r.res_dim),
             words["chosen"] if i == chosen else ""]
            for i, r in enumerate(d.boxes[0].trajectory.itertuples())]
    return headers, rows


def format_trajectory(d: Discovery, lang: str = "en") -> str:
    """The peeling trajectory of box 1 as a plain-text table (the chosen point marked)."""
    headers, rows = _trajectory_rows(d, lang)
    return format_table(headers, rows, align="r" * len(headers), rule=False)


def markdown(d: Discovery, lang: str = "en") -> str:
    """The report as Markdown."""
    words = WORDS[lang]
    parts = [f"# {words['title']}: {d.sweep}", "", "\n\n".join(summary_lines(d, lang)), "",
             f"## {words['boxes']}", ""]
    parts += [f"- {line}" for line in d.describe(lang)]
    for title, (headers, rows) in ((words["limits"], _limit_rows(d, lang)),
                                   (words["trajectory"], _trajectory_rows(d, lang))):
        parts += ["", f"## {title}", "", "| " + " | ".join(headers) + " |",
                  "|" + "---|" * len(headers)]
        parts += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
    parts += ["", f"![{words['trajectory']}](tradeoff.png)", "", words["figure"], "",
              f"## {words['reading']}", "", words["reading_text"], ""]
    return "\n".join(parts)


def html_page(d: Discovery, lang: str, figure: Path) -> str:
    """The report as one self-contained HTML page (sanshe/reporting/templates/discovery.html.j2)."""
    words = WORDS[lang]
    tables = [(words["limits"], *_limit_rows(d, lang)),
              (words["trajectory"], *_trajectory_rows(d, lang))]
    return pages.render("discovery.html.j2", lang=lang, title=f"{words['title']}: {d.sweep}",
                        words=words, sweep=d.sweep, summary=summary_lines(d, lang),
                        boxes=d.describe(lang), tables=tables, figure_path=figure)


# --- from a stored sweep -----------------------------------------------------------------
def discover(
    sweep: str,
    outcome: str,
    below: float | None = None,
    above: float | None = None,
    versus: str | None = None,
    inputs: Sequence[str] | None = None,
    density: float = DEFAULT_DENSITY,
    min_coverage: float = DEFAULT_MIN_COVERAGE,
    box: int | None = None,
    max_boxes: int = DEFAULT_MAX_BOXES,
    db: Any = None,
) -> Discovery:
    """Scenario discovery on stored sweep ``sweep``: the :class:`Discovery` with its boxes.

    The cases of interest are runs whose final ``outcome`` is ``below`` (or ``above``) a
    threshold; with ``versus`` (another stored sweep of the same design and seed, e.g. the
    base scenario), runs whose gain over their partner there — same design point, same
    seed — is. ``inputs`` limits PRIM to some of the varied keys (default: all).
    ``density``, ``min_coverage``, ``box`` and ``max_boxes`` as in :func:`find_boxes`.
    """
    question = _question(outcome, below, above, versus)
    _check_options(density, min_coverage, box, max_boxes)
    check_names([outcome])
    store = db if isinstance(db, ResultStore) else ResultStore(db)
    result = SweepResult.load(sweep, store)
    keys = _check_inputs(result, inputs)
    runs = _finished(result)
    values, dropped, versus_scenario = _values(result, runs, question, store)
    runs = runs.loc[values.index]
    interest = question.holds(values.to_numpy(dtype=float))
    _check_cases(result.name, question, values, interest, versus_scenario, result.scenario)
    x = inputs_frame(runs, [a for a in result.axes if a.key in keys])
    boxes = find_boxes(x, interest, density, min_coverage, max_boxes, box)
    return Discovery(result.name, result.scenario, question, keys, len(values),
                     int(interest.sum()), dropped, boxes, density, min_coverage,
                     versus_scenario, {a.key: a for a in result.axes})


def _question(outcome: str, below: float | None, above: float | None,
              versus: str | None) -> Question:
    if (below is None) == (above is None):
        raise InputError("say which runs are of interest: --below X or --above X (one of them).")
    threshold = below if below is not None else above
    if not math.isfinite(float(threshold)):
        raise InputError(f"the threshold must be a finite number, not {threshold!r}.")
    return Question(outcome, "below" if below is not None else "above", float(threshold), versus)


def _check_options(density: float, min_coverage: float, box: int | None, max_boxes: int) -> None:
    if not 0 < density <= 1:
        raise InputError(f"--threshold-share must be above 0 and at most 1 (got {density}).")
    if not 0 < min_coverage <= 1:
        raise InputError(f"--min-coverage must be above 0 and at most 1 (got {min_coverage}).")
    if box is not None and box < 0:
        raise InputError(f"--box must be 0 or more (got {box}).")
    if max_boxes < 1:
        raise InputError(f"--boxes must be at least 1 (got {max_boxes}).")


def _check_inputs(result: Any, inputs: Sequence[str] | None) -> list[str]:
    varied = result.keys
    if not inputs:
        return list(varied)
    unknown = [k for k in inputs if k not in varied]
    if unknown:
        raise InputError(
            f"--inputs: {', '.join(unknown)} was not varied in sweep '{result.name}'; "
            f"varied: {', '.join(varied)}."
        )
    return list(dict.fromkeys(inputs))


def _finished(result: Any) -> pd.DataFrame:
    runs = result.runs()
    if runs.empty:
        raise InputError(
            f"sweep '{result.name}' has no finished runs yet; run (or resume) it first."
        )
    return runs.set_index("key")


def _values(result: Any, runs: pd.DataFrame, question: Question,
            store: Any) -> tuple[pd.Series, int, str | None]:
    """The value each run is judged by, runs dropped (no value, no partner), the partner
    sweep's scenario."""
    values = runs[question.outcome].astype(float)
    versus_scenario = None
    if question.versus is not None:
        other = SweepResult.load(question.versus, store)
        partner = _partners(result, other, runs)
        values = (values - partner[question.outcome].astype(float)).dropna()
        versus_scenario = other.scenario
    kept = values.dropna()
    return kept, len(runs) - len(kept), versus_scenario


def _partners(result: Any, other: Any, runs: pd.DataFrame) -> pd.DataFrame:
    """The other sweep's run at each run's design point and seed; refuses unlike designs."""
    theirs = _finished(other)
    extra = [k for k in other.keys if k not in result.keys]
    if extra:
        raise InputError(
            f"sweep '{other.name}' varies {', '.join(extra)}, which sweep '{result.name}' does "
            "not: paired runs would not share their conditions. Sweep the same keys "
            "(or a subset) in the comparison sweep."
        )
    common = runs.index.intersection(theirs.index)
    if common.empty:
        raise InputError(f"sweeps '{result.name}' and '{other.name}' have no run in common.")
    mine, partner = runs.loc[common], theirs.loc[common]
    if (mine["seed"] != partner["seed"]).any():
        raise InputError(
            f"sweeps '{result.name}' and '{other.name}' ran with different seeds; rerun the "
            "comparison sweep with the same --seed, --samples and --vary values."
        )
    for key in other.keys:
        if not _same(mine[key], partner[key]):
            raise InputError(
                f"sweeps '{result.name}' and '{other.name}' set {key} differently at the same "
                "design point; rerun the comparison sweep with the same --vary, --samples, "
                "--method and --seed."
            )
    return partner.reindex(runs.index)


def _same(a: pd.Series, b: pd.Series) -> bool:
    if pd.api.types.is_numeric_dtype(a) and pd.api.types.is_numeric_dtype(b):
        return bool(np.allclose(a.to_numpy(float), b.to_numpy(float), rtol=1e-9, atol=0))
    return bool((a.astype(str) == b.astype(str)).all())


def _check_cases(name: str, question: Question, values: pd.Series, interest: np.ndarray,
                 versus_scenario: str | None, scenario: str) -> None:
    """Refuse a question with no case of interest, or with nothing else."""
    if len(values) == 0:
        raise InputError(f"sweep '{name}': no run has a value of {question.outcome}.")
    count = int(interest.sum())
    if 0 < count < len(values):
        return
    what = question_words(question, scenario, versus_scenario)
    low, mid, high = (float(np.quantile(values, q)) for q in (0, 0.5, 1))
    which = "no run" if count == 0 else "every run"
    raise InputError(
        f"sweep '{name}': {which} qualifies ({what}), so there is nothing to tell apart. "
        f"Its values range from {low:.4g} to {high:.4g} (median {mid:.4g}): choose a "
        "threshold inside that range."
    )


def inputs_frame(runs: pd.DataFrame, axes: Sequence[Any]) -> pd.DataFrame:
    """The varied inputs as PRIM's x: ranges as numbers, levels as categories (numbers
    when every level is a number, so PRIM can cut them as a range)."""
    frame = pd.DataFrame(index=runs.index)
    for axis in axes:
        values = runs[axis.key]
        if axis.kind == "float":
            frame[axis.key] = values.astype(float)
        elif axis.kind == "int":
            frame[axis.key] = values.astype("int64")
        elif all(isinstance(v, int | float) and not isinstance(v, bool) for v in axis.levels):
            frame[axis.key] = values.astype(float)
        else:
            frame[axis.key] = pd.Categorical(values.map(_level_text))
    return frame.reset_index(drop=True)


def _level_text(value: Any) -> str:
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    return str(value)
