"""Global sensitivity analysis of a stored sweep: Sobol indices and Morris screening.

Which levers matter for an outcome? Two answers, each from its own design:

- **Sobol indices** (variance-based) from a Saltelli design (``sanshe sweep --method
  sobol``): the first-order index S1 is the share of the outcome's variance a lever
  explains alone, the total index ST the share it takes part in, interactions included;
  both with bootstrap confidence intervals.
- **Morris elementary effects** from Morris trajectories (``--method morris``): μ*, the
  mean absolute effect of moving one lever a step, ranks levers cheaply; σ, the spread of
  those effects, flags non-linearity or interaction.

We use SALib rather than ``scipy.stats.sobol_indices``: SALib analyses outputs of a design
we ran ourselves (``analyze(problem, Y)``), which is exactly "run the sweep, store it,
analyse the stored runs later" — resumable, distributed, re-analysable for any outcome —
while scipy wants a callable it evaluates itself. SALib also has Morris. In SALib's
functional style the analysis functions here take arrays and return tables.

Designs (sanshe/experiments/designs.py) live in the unit hypercube;
:class:`sanshe.experiments.designs.Axis` maps
coordinates to lever values (lists and integer ranges in equal cells). Outcomes are
averaged over replications per design point before the analysis, so model noise shrinks
with more replications.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sanshe.experiments import designs
from sanshe.inputs.errors import InputError
from sanshe.inputs.outcomes import BY_NAME, check_names
from sanshe.reporting import plotting, tables

if TYPE_CHECKING:
    from sanshe.experiments.sweep import SweepResult

#: Sensitivity methods and the sweep design each needs.
METHODS = ("sobol", "morris")

#: Confidence level of the bootstrap intervals.
CONF_LEVEL = 0.95

#: Bootstrap resamples for the confidence intervals.
RESAMPLES = 1000

#: Columns of the tables.
SOBOL_COLUMNS = ("parameter", "S1", "S1_conf", "ST", "ST_conf")
MORRIS_COLUMNS = ("parameter", "mu", "mu_star", "mu_star_conf", "sigma")


# The designs live in sanshe.experiments.designs; these names stay for scripts that used them.
saltelli_design = designs.saltelli
morris_design = designs.morris
unit_problem = designs.unit_problem
_salib = designs._salib


# --- indices ----------------------------------------------------------------------------
def sobol_indices(
    y: Sequence[float],
    names: Sequence[str],
    conf_level: float = CONF_LEVEL,
    resamples: int = RESAMPLES,
    seed: int | None = 0,
) -> pd.DataFrame:
    """First-order and total Sobol indices of outputs ``y`` of a Saltelli design.

    ``y`` holds one value per design point, in design order (``n·(d+2)`` values).
    Returns one row per input: S1, ST and the half-widths of their bootstrap
    ``conf_level`` intervals (S1_conf, ST_conf).
    """
    _salib()
    from SALib.analyze import sobol  # optional dependency (sanshe[sensitivity])

    y = _outputs(y)
    d = len(names)
    if y.size % (d + 2):
        raise InputError(
            f"a Saltelli design over {d} inputs has a multiple of {d + 2} points; "
            f"got {y.size} outputs."
        )
    result = sobol.analyze(
        unit_problem(names),
        y,
        calc_second_order=False,
        num_resamples=resamples,
        conf_level=conf_level,
        seed=_generator(seed),
    )
    table = pd.DataFrame(
        {key: np.asarray(result[key], dtype=float) for key in ("S1", "S1_conf", "ST", "ST_conf")}
    )
    table.insert(0, "parameter", list(names))
    return table[list(SOBOL_COLUMNS)]


def morris_indices(
    x: np.ndarray,
    y: Sequence[float],
    names: Sequence[str],
    num_levels: int = 4,
    conf_level: float = CONF_LEVEL,
    resamples: int = RESAMPLES,
    seed: int | None = 0,
) -> pd.DataFrame:
    """Morris elementary-effect statistics of outputs ``y`` at design points ``x``.

    ``x`` is the Morris design in the unit hypercube (``trajectories·(d+1)`` rows), so
    effects are per unit of each lever's range. Returns one row per input: μ, μ*, the
    bootstrap half-width of μ*'s interval, and σ.
    """
    _salib()
    from SALib.analyze import morris  # optional dependency (sanshe[sensitivity])

    y = _outputs(y)
    x = np.asarray(x, dtype=float)
    if x.shape != (y.size, len(names)):
        raise InputError(
            f"a Morris design needs one row of {len(names)} inputs per output; "
            f"got {x.shape} for {y.size} outputs."
        )
    result = morris.analyze(
        unit_problem(names),
        x,
        y,
        num_resamples=resamples,
        conf_level=conf_level,
        num_levels=num_levels,
        seed=_generator(seed),
    )
    table = pd.DataFrame(
        {
            key: np.asarray(result[key], dtype=float)
            for key in ("mu", "mu_star", "mu_star_conf", "sigma")
        }
    )
    table.insert(0, "parameter", list(names))
    return table[list(MORRIS_COLUMNS)]


def _generator(seed: int | None) -> np.random.Generator | None:
    # SALib's Sobol analysis ignores a falsy seed (``if seed:``), so 0 would not be
    # reproducible; a Generator always is.
    return None if seed is None else np.random.default_rng(seed)


def _outputs(y: Sequence[float]) -> np.ndarray:
    y = np.asarray(y, dtype=float).ravel()
    if np.isnan(y).any():
        raise InputError(
            f"{int(np.isnan(y).sum())} of {y.size} outputs are undefined (NaN); "
            "sensitivity indices need a value at every design point."
        )
    return y


# --- a stored sweep ---------------------------------------------------------------------
def analyse(
    result: SweepResult,
    outcome: str,
    method: str | None = None,
    conf_level: float = CONF_LEVEL,
    resamples: int = RESAMPLES,
    seed: int | None = 0,
) -> pd.DataFrame:
    """Sobol or Morris indices of ``outcome`` over a stored sweep.

    ``result`` is a :class:`~sanshe.experiments.sweep.SweepResult` (``SweepResult.load(name, db)``;
    ``result.sensitivity(outcome)`` calls this). ``method`` defaults to the sweep's design
    ("sobol" or "morris"). The outcome's final value is averaged over replications per
    design point; every point needs at least one finished run (resume an unfinished sweep
    first).
    """
    if isinstance(result, str):
        raise InputError(
            f"sensitivity.analyse takes a stored sweep, not its name: pass "
            f"SweepResult.load({result!r}, db) or call its .sensitivity({outcome!r})."
        )
    check_names([outcome])
    design = result.design
    method = method or (design.method if design.method in METHODS else None)
    if method not in METHODS:
        raise InputError(
            f"sweep '{result.name}' used a {design.method} design; sensitivity indices need "
            "a design made for them: run the sweep with --method sobol (Sobol indices) or "
            "--method morris (Morris screening)."
        )
    if design.method != method:
        raise InputError(
            f"--method {method} needs a sweep run with --method {method}; sweep "
            f"'{result.name}' used --method {design.method}."
        )
    runs = result.runs()
    missing = len(design) - (runs["sample"].nunique() if not runs.empty else 0)
    if missing:
        raise InputError(
            f"sweep '{result.name}' is incomplete: {missing} of {len(design)} design points "
            "have no finished run. Rerun the sweep command to finish it (it resumes), then "
            "analyse it."
        )
    if outcome not in runs:
        runs = runs.assign(**{outcome: np.nan})
    means = runs.groupby("sample")[outcome].mean().sort_index()
    if means.isna().any():
        raise InputError(
            f"'{outcome}' is undefined (NaN) at {int(means.isna().sum())} of {len(means)} "
            "design points of sweep "
            f"'{result.name}' (e.g. a cost per need met where no need was met); choose "
            "another outcome."
        )
    if np.ptp(means.to_numpy()) == 0:
        raise InputError(
            f"'{outcome}' takes the same value at every point of sweep "
            f"'{result.name}'; it has no variance to apportion."
        )
    names = design.keys
    if method == "sobol":
        table = sobol_indices(means.to_numpy(), names, conf_level, resamples, seed)
    else:
        unit_columns = [f"unit.{k}" for k in names]
        x = runs.groupby("sample")[unit_columns].first().sort_index().to_numpy(dtype=float)
        table = morris_indices(
            x,
            means.to_numpy(),
            names,
            num_levels=designs.MORRIS_LEVELS,
            conf_level=conf_level,
            resamples=resamples,
            seed=seed,
        )
    table.attrs.update(
        sweep=result.name,
        outcome=outcome,
        method=method,
        points=len(design),
        replications=result.replications,
        runs=int(len(runs)),
    )
    return table


def ranked(table: pd.DataFrame) -> pd.DataFrame:
    """The table sorted by importance: ST for Sobol, μ* for Morris (largest first)."""
    column = "ST" if "ST" in table else "mu_star"
    return table.sort_values(column, ascending=False, kind="stable").reset_index(drop=True)


# --- report -----------------------------------------------------------------------------
def figure(table: pd.DataFrame, outcome: str, lang: str = "en") -> Figure:
    """A tornado chart: Sobol S1 and ST with intervals, or Morris μ* with σ beside it."""
    lang = plotting.resolve_lang(lang)
    order = ranked(table).iloc[::-1]  # most important at the top
    y = np.arange(len(order))
    height = max(2.5, 0.45 * len(order) + 1.4)
    label = plotting.outcome_title(outcome, lang)
    with plotting.style(lang):
        fig = Figure(figsize=(7.2, height), layout="constrained")
        if "ST" in order:
            ax = fig.add_subplot()
            ax.barh(
                y + 0.2,
                order["ST"],
                0.4,
                xerr=order["ST_conf"],
                capsize=3,
                color="C0",
                label="total (ST)",
            )
            ax.barh(
                y - 0.2,
                order["S1"],
                0.4,
                xerr=order["S1_conf"],
                capsize=3,
                color="C1",
                label="first order (S1)",
            )
            ax.set_xlabel("Sobol index (share of variance), 95% CI")
            ax.axvline(0, color="0.3", lw=0.8)
            ax.legend(loc="best")
        else:
            ax, ax2 = fig.subplots(1, 2, width_ratios=(3, 2))
            ax.barh(y, order["mu_star"], 0.6, xerr=order["mu_star_conf"], capsize=3, color="C0")
            ax.set_xlabel("μ* (mean |elementary effect| per unit range), 95% CI")
            ax2.scatter(order["mu_star"], order["sigma"], color="C0")
            for _, row in order.iterrows():
                ax2.annotate(
                    _short(row["parameter"]),
                    (row["mu_star"], row["sigma"]),
                    fontsize=7,
                    xytext=(3, 3),
                    textcoords="offset points",
                )
            ax2.set_xlabel("μ*")
            ax2.set_ylabel("σ (non-linearity / interaction)")
        ax.set_yticks(y, [_short(p) for p in order["parameter"]])
        ax.set_title(f"Sensitivity of {label}")
    return fig


def _short(key: str) -> str:
    """A lever key without its ``policy.`` prefix, for axis labels."""
    return key.removeprefix("policy.")


def write(
    table: pd.DataFrame, out_dir: str | Path, outcome: str, lang: str = "en"
) -> tuple[Path, Path]:
    """Write the table (CSV) and the tornado figure (PNG); their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    method = "sobol" if "ST" in table else "morris"
    stem = f"sensitivity-{method}-{re.sub(r'[^A-Za-z0-9_]+', '_', outcome)}"
    csv_path, png_path = out / f"{stem}.csv", out / f"{stem}.png"
    ranked(table).to_csv(csv_path, index=False)
    figure(table, outcome, lang).savefig(png_path)
    return csv_path, png_path


def format_table(table: pd.DataFrame) -> str:
    """The ranked table as aligned text for the console."""
    shown = ranked(table)
    if "ST" in shown:
        headers = ["parameter", "S1 [95% CI]", "ST [95% CI]"]
        rows = [
            [row.parameter, _interval(row.S1, row.S1_conf), _interval(row.ST, row.ST_conf)]
            for row in shown.itertuples()
        ]
    else:
        headers = ["parameter", "mu* [95% CI]", "mu", "sigma"]
        rows = [
            [row.parameter, _interval(row.mu_star, row.mu_star_conf), f"{row.mu:.4g}",
             f"{row.sigma:.4g}"]
            for row in shown.itertuples()
        ]
    return tables.format_table(headers, rows, align="l" + "r" * (len(headers) - 1))


def _interval(mean: float, half: float) -> str:
    return f"{mean:.3f} [{mean - half:.3f}, {mean + half:.3f}]"


def describe(table: pd.DataFrame) -> str:
    """One line saying what the table is (from the attributes :func:`analyse` sets)."""
    a = table.attrs
    if not a:
        return ""
    label = BY_NAME[a["outcome"]].label("en") if a.get("outcome") in BY_NAME else a.get("outcome")
    return (
        f"{a['method'].capitalize()} sensitivity of {label} ({a['outcome']}) in sweep "
        f"'{a['sweep']}': {a['points']} design points × {a['replications']} "
        f"replication(s), {a['runs']} runs; mean over replications per point."
    )
