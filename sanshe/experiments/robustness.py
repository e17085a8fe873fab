"""Robustness of the headline conclusions over the joint uncertainty of every assumption.

Issue 14, deliverable 10. The conclusions are the emergent checks of the validation
protocol (tests/validation/criteria.toml: arms one lever apart, statistic, expected
direction, minimum meaningful effect). The uncertainty is EVERY constant of the parameter
table whose source says "assumption", that is flagged ``uncertain`` or that a fit accepted a
region for — not a hand-picked few — drawn together from a Latin hypercube over their
plausible ranges, except that a constant fitted to the sources' figures is drawn from the
region its fit accepted
(``[posterior]`` of the calibration targets): a draw outside it would contradict the figures
the constant was fitted to, and would test the conclusions in a world the sources rule out.
At each draw every
check's arms run with the same constants and the same seeds (paired, common random
numbers); a conclusion holds at a draw when the mean of its paired statistic over the
draw's replications lies in the expected direction ("sign"), and when it also reaches the
minimum meaningful effect ("meaningful"; for a level check, past the level). Reported: per
check the share of draws in which it holds, with an exact (Clopper–Pearson) 95% interval.

With few replications per draw the share mixes the constants' effect with seed noise: a
check whose effect is small beside its noise holds in about half the draws whatever the
constants. More replications per draw separate the two; the per-draw table is written too.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from sanshe.experiments import calibration, designs, runner
from sanshe.experiments.experiment import plan, run_single
from sanshe.experiments.validation import (
    EMERGENT,
    MASTER_SEED,
    MONTHS,
    SIZE,
    STATISTICS,
    Check,
    needed_arms,
)
from sanshe.inputs.outcomes import with_ratios
from sanshe.inputs.parameters import TABLE, Parameter

#: Salt mixed into the design seed, so the draws never share a stream with the model seeds.
DRAW_SALT = 0x0B05


def is_assumption(p: Parameter) -> bool:
    """A constant the robustness analysis varies: flagged uncertain, or its source says it
    is an assumption."""
    return p.uncertain or "assumption" in p.source.lower()


def assumption_constants(fitted: dict[str, tuple[float, float]] | None = None
                         ) -> list[Parameter]:
    """Every such row of the parameter table, and every constant a fit accepted a region
    for (its value is as uncertain as that region), in table order. ``fitted``: the
    regions (:func:`calibration.fitted_regions`, read here if not given)."""
    fitted = calibration.fitted_regions() if fitted is None else fitted
    return [p for p in TABLE if (is_assumption(p) or p.name in fitted) and p.high > p.low]


def draw_constants(draws: int, seed: int = MASTER_SEED,
                   constants: Sequence[Parameter] | None = None) -> list[dict[str, float]]:
    """``draws`` Latin-hypercube draws of all the constants at once (integers rounded),
    each over its plausible range or, if fitted, over what its fit accepted."""
    fitted = calibration.fitted_regions()  # read once, not per constant
    constants = assumption_constants(fitted) if constants is None else list(constants)
    bounds = [fitted.get(p.name, (p.low, p.high)) for p in constants]
    unit = designs.latin_hypercube(len(constants), draws, seed ^ DRAW_SALT)
    values = designs.scale(unit, [b[0] for b in bounds], [b[1] for b in bounds])
    return [{p.name: float(round(v)) if p.is_integer else float(v)
             for p, v in zip(constants, row, strict=True)} for row in values]


@dataclass
class Robustness:
    """Per-draw check means and the share of draws in which each check holds."""

    checks: list[Check]
    draws: list[dict[str, float]]
    means: np.ndarray  # draws × checks: mean paired statistic over the draw's replications
    replications: int
    seconds: float = 0.0

    def holds(self, check: int, meaningful: bool) -> np.ndarray:
        """Per draw: the check's mean in its expected direction (and past its MME)."""
        c = self.checks[check]
        signed = c.direction * self.means[:, check]
        floor = c.mme if meaningful and c.rule == "significant_and_meaningful" else 0.0
        return np.where(np.isnan(signed), False, signed > 0) & (signed >= floor)

    def summary(self) -> list[dict[str, Any]]:
        """One row per check: shares of draws with the sign / the meaningful effect."""
        rows = []
        for j, c in enumerate(self.checks):
            col = self.means[:, j]
            row = {"pattern": c.pattern, "check": c.check_id, "title": c.title,
                   "draws": int(np.isfinite(col).sum()),
                   "effect_min": float(np.nanmin(col)) if np.isfinite(col).any() else math.nan,
                   "effect_median": float(np.nanmedian(col)) if np.isfinite(col).any()
                   else math.nan,
                   "effect_max": float(np.nanmax(col)) if np.isfinite(col).any() else math.nan}
            for label, meaningful in (("sign", False), ("meaningful", True)):
                k, n = int(self.holds(j, meaningful).sum()), len(col)
                share, low, high = share_ci(k, n)
                row.update({f"{label}_holds": k, f"{label}_share": share,
                            f"{label}_ci_low": low, f"{label}_ci_high": high})
            rows.append(row)
        return rows

    def per_draw(self) -> list[dict[str, Any]]:
        """The long table: draw, check, mean statistic (the drawn constants apart)."""
        return [{"draw": i + 1, "check": c.check_id, "mean": float(self.means[i, j])}
                for i in range(len(self.draws)) for j, c in enumerate(self.checks)]

    def constants(self) -> list[dict[str, Any]]:
        """The wide table of what was drawn: one row per draw, one column per constant, so a
        failing draw can be traced to the constants it drew (join on ``draw``)."""
        return [{"draw": i + 1, **values} for i, values in enumerate(self.draws)]


def share_ci(k: int, n: int, level: float = 0.95) -> tuple[float, float, float]:
    """Share ``k / n`` with its exact (Clopper–Pearson) interval."""
    if n == 0:
        return math.nan, math.nan, math.nan
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=level, method="exact")
    return k / n, float(ci.low), float(ci.high)


def run(draws: int = 64, replications: int = 2, checks: Sequence[Check] | None = None,
        months: int = MONTHS, seed: int = MASTER_SEED, size: dict[str, Any] | None = None,
        workers: int | None = None, executor: Any = None, scheduler: str | None = None,
        progress: bool = False, names: Sequence[str] | None = None) -> Robustness:
    """Run every check's arms at ``draws`` joint draws of the assumption constants (or of
    the constants ``names``, to see which of them a conclusion hangs on)."""
    started = time.perf_counter()
    checks = list(EMERGENT if checks is None else [c for c in checks if c.kind == "emergent"])
    size = SIZE if size is None else size
    by_name = {p.name: p for p in TABLE}
    drawn = draw_constants(draws, seed, None if not names else [by_name[n] for n in names])
    arms = needed_arms(checks)
    jobs = []
    for d, constants in enumerate(drawn):
        params = {f"parameters.{k}": v for k, v in constants.items()}
        for a in arms:
            specs = plan([a.scenario], replications=replications, seed=seed, months=months,
                         overrides={**size, **params, **dict(a.overrides)})
            jobs += [runner.Job(f"d{d}/{a.key}/r{s.replication}", s, {"draw": d})
                     for s in specs]
    finals: dict[str, dict[str, float]] = {}
    for job, outcome in runner.run_jobs(jobs, run_single, executor=runner.python_default(
            executor, workers), workers=workers, scheduler=scheduler, progress=progress,
            label="robustness"):
        finals[job.key] = ({} if isinstance(outcome, runner.RunError)
                           else with_ratios(outcome.final))  # a check may read a ratio
    means = np.array([[_draw_mean(c, d, replications, finals) for c in checks]
                      for d in range(draws)])
    return Robustness(checks, drawn, means, replications, time.perf_counter() - started)


def _draw_mean(check: Check, draw: int, replications: int,
               finals: dict[str, dict[str, float]]) -> float:
    """The check's statistic averaged over one draw's replications (NaN if a run failed)."""
    values = []
    for r in range(replications):
        runs = {role: finals[f"d{draw}/{a.key}/r{r}"] for role, a in check.arms.items()}
        if any(not f for f in runs.values()):
            return math.nan
        values.append(STATISTICS[check.statistic](runs, check))
    return float(np.nanmean(values)) if np.isfinite(values).any() else math.nan


def format_summary(result: Robustness) -> str:
    """A console table: each check's share of draws holding, sign and meaningful."""
    from sanshe.reporting import tables

    rows = result.summary()
    cells = [[r["check"], f"{r['effect_median']:+.3g}",
              f"[{r['effect_min']:+.3g}, {r['effect_max']:+.3g}]",
              f"{r['sign_share']:.2f} [{r['sign_ci_low']:.2f}, {r['sign_ci_high']:.2f}]",
              f"{r['meaningful_share']:.2f} [{r['meaningful_ci_low']:.2f}, "
              f"{r['meaningful_ci_high']:.2f}]",
              str(len(result.draws) - r["draws"])] for r in rows]
    head = (f"robustness over {len(result.draws)} joint draws of "
            f"{len(result.draws[0]) if result.draws else 0} assumption constants, "
            f"{result.replications} replications each ({result.seconds:.0f} s); a draw where "
            "the statistic is undefined (a run failed, or a ratio over zero) counts as not "
            "holding")
    return head + "\n" + tables.format_table(
        ["check", "median effect", "range", "sign holds (95% CI)", "≥ MME (95% CI)",
         "undefined"], cells, align="lrrrrr")
