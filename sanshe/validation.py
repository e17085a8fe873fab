"""Pattern-oriented validation: the ten patterns of the design brief as statistical checks.

Each :class:`Check` names the arms it needs (a library scenario plus dotted overrides), a
statistic computed per replication from the arms' final values (usually a paired
difference treatment − control under common random numbers), the expected direction and
the source document. :func:`run_checks` runs every arm once with the same replication
seeds, computes the statistic per replication and a 95% Student-t interval of its mean,
and decides pass/fail:

* ``criterion="ci"`` (a direction): the interval excludes ``threshold`` on the expected
  side (``direction=+1``: lower bound > threshold; ``-1``: upper bound < threshold);
* ``criterion="mean"`` (a level, weaker; used for the 622 shares, which the sources state
  as rough targets): the mean lies on the expected side of ``threshold``.

The same functions back the test suite (tests/validation/) and ``sanshe validate``.
Nothing here sets an outcome: every effect is measured from unmodified model runs.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats

from sanshe.experiment import RunResult, plan, run_single
from sanshe.outcomes import SPECIAL_GROUPS

#: District size and run length of the suite: small enough to run in minutes on 2 cores,
#: large enough for the SO ecology to develop (one street of six communities).
SIZE: dict[str, Any] = {
    "district.streets": 1,
    "district.communities_per_street": 6,
    "district.residents_per_community": 500,
}
MONTHS = 72
REPLICATIONS = 20  # several effects are small against between-seed noise: power, not luck
MASTER_SEED = 20240601

#: The library's budgets are set for its default district (10 communities × 1,000
#: residents). Patterns about where money goes (3, 6, 9) are checked at that scale: in the
#: small district the same budget buys several times more services than there are needs,
#: and then who gets the money, or where, cannot matter.
DEFAULT_DISTRICT: dict[str, Any] = {
    "district__streets": 2,
    "district__communities_per_street": 5,
    "district__residents_per_community": 1000,
}

#: The purchase budgets of pattern 10 (yuan per year).
BUDGETS = (1_000_000, 3_000_000, 6_000_000, 12_000_000)

#: What the priority scenarios share apart from their switch (fund and space).
FUND_AND_SPACE = {"policy.community.service_fund": 300_000,
                  "policy.community.space_share_for_sos": 0.5}


@dataclass(frozen=True)
class Arm:
    """One simulated condition: a library scenario and overrides on top of it."""

    scenario: str
    overrides: tuple[tuple[str, Any], ...] = ()

    @property
    def key(self) -> str:
        extra = ",".join(f"{k}={v}" for k, v in self.overrides)
        return f"{self.scenario}[{extra}]" if extra else self.scenario


def arm(scenario: str, **overrides: Any) -> Arm:
    """An arm; keyword names use ``__`` for dots (``policy__purchase__mode``)."""
    return Arm(scenario, tuple(sorted((k.replace("__", "."), v) for k, v in overrides.items())))


Finals = dict[str, dict[str, float]]  # arm key -> outcome -> final value (one replication)


@dataclass(frozen=True)
class Check:
    """One testable consequence of a pattern."""

    pattern: int
    check_id: str
    title: str
    source: str
    arms: dict[str, Arm]  # role -> arm ("t" treatment, "c" control, ...)
    statistic: Callable[[dict[str, dict[str, float]]], float]
    statistic_text: str
    direction: int  # +1: statistic above threshold expected; -1: below
    threshold: float = 0.0
    criterion: str = "ci"  # "ci" or "mean"
    note: str = ""


def diff(outcome: str, t: str = "t", c: str = "c") -> Callable[[dict], float]:
    """Paired difference of one outcome: arm ``t`` − arm ``c``."""
    def stat(f: dict[str, dict[str, float]]) -> float:
        return f[t][outcome] - f[c][outcome]
    stat.__name__ = f"diff_{outcome}"
    return stat


def special_coverage(f: dict[str, float]) -> float:
    """Mean need coverage over the five special groups."""
    return float(np.nanmean([f[f"coverage_{g}"] for g in SPECIAL_GROUPS]))


def rated_share(f: dict[str, float], count: str = "rated_so_count") -> float:
    """Share of SOs rated 3A or above (``count="high_rated_so_count"``: 4A or above)."""
    return f[count] / f["so_count"] if f["so_count"] else 0.0


def high_rated_share(f: dict[str, float]) -> float:
    """Share of SOs rated 4A or above."""
    return rated_share(f, "high_rated_so_count")


def age_ratio(f: dict[str, float]) -> float:
    """Participation of the elderly (60+) over that of the young (18-39)."""
    young = f["participation_young"]
    return f["participation_elderly"] / young if young > 0 else float("nan")


def _make_checks() -> list[Check]:
    checks: list[Check] = []
    add = checks.append
    base, full = arm("baseline"), arm("full_linkage")

    # 1 --------------------------------------------------------------- SO growth
    add(Check(1, "1a", "Full package multiplies SOs", "seed 001 (Yuhuatai <200 → 1,010)",
              {"t": full, "c": base}, diff("so_count"), "so_count(full_linkage − baseline)", +1))
    add(Check(1, "1b", "Incubation with low threshold raises the SO count", "seeds 001, 004",
              {"t": arm("incubation_only"), "c": base}, diff("so_count"),
              "so_count(incubation_only − baseline)", +1))
    add(Check(1, "1c", "Without incubation and low threshold growth is slow",
              "seed 001", {"t": full, "c": arm("full_linkage", policy__incubation__enabled=False,
                                                     policy__incubation__registration_threshold="high")},
              diff("so_count"), "so_count(full − full without incubation/low threshold)", +1))

    # 2 --------------------------------------------------------------- quantity ≠ quality
    add(Check(2, "2a", "Incubation without training yields weaker SOs", "seeds 000, 003",
              {"t": arm("incubation_no_training"), "c": arm("incubation_only")},
              diff("mean_so_capacity"),
              "mean_so_capacity(incubation_no_training − incubation_only)", -1))
    add(Check(2, "2b", "…and a smaller share rated 4A+", "seeds 000, 003",
              {"t": arm("incubation_no_training"), "c": arm("incubation_only")},
              lambda f: high_rated_share(f["t"]) - high_rated_share(f["c"]),
              "4A+ share of SOs(incubation_no_training − incubation_only)", -1))
    add(Check(2, "2c", "Incubation without training: many SOs but not more capable ones",
              "seeds 000, 003", {"t": arm("incubation_no_training"), "c": base},
              diff("so_count"), "so_count(incubation_no_training − baseline)", +1))
    untrained = arm("full_linkage", policy__incubation__training=0.0,
                    policy__purchase__third_party_evaluation=False)
    add(Check(2, "2d", "Within the full package, incubation without training and "
              "evaluation leaves fewer SOs rated 3A+",
              "seed 000 (孵化的力度还不够, 成熟的社会组织不多)",
              {"t": untrained, "c": full},
              lambda f: rated_share(f["t"]) - rated_share(f["c"]),
              "3A+ share of SOs(full, no training, self-evaluation − full_linkage)", -1))

    # 3 --------------------------------------------------------------- 内卷化
    dirc = arm("directed_purchase", **DEFAULT_DISTRICT)
    comp = arm("competitive_purchase", **DEFAULT_DISTRICT)
    for cid, outcome, sign in (("3a", "contract_hhi", +1), ("3b", "winners_gov_share", +1),
                               ("3c", "mean_service_quality", -1)):
        add(Check(3, cid, f"Directed purchase: {outcome} {'↑' if sign > 0 else '↓'}",
                  "seed 002 (内卷化)", {"t": dirc, "c": comp}, diff(outcome),
                  f"{outcome}(directed_purchase − competitive_purchase)", sign))

    # 4 --------------------------------------------------------------- satisfaction weight
    sw_t, sw_c = arm("satisfaction_weighted"), base
    add(Check(4, "4a", "Satisfaction weight raises satisfaction", "seeds 001, 002, 004",
              {"t": sw_t, "c": sw_c}, diff("mean_satisfaction"),
              "mean_satisfaction(satisfaction_weighted − baseline)", +1))
    add(Check(4, "4b", "Satisfaction weight raises coverage of real needs", "seeds 001, 002, 004",
              {"t": sw_t, "c": sw_c}, diff("need_coverage"),
              "need_coverage(satisfaction_weighted − baseline)", +1))
    comp_sat = arm("competitive_purchase", policy__purchase__satisfaction_weight=0.6)
    comp_small = arm("competitive_purchase")
    add(Check(4, "4c", "…also under competitive purchase with a 3M budget", "seeds 001, 002, 004",
              {"t": comp_sat, "c": comp_small}, diff("need_coverage"),
              "need_coverage(competitive + satisfaction 0.6 − competitive)", +1))

    # 5 --------------------------------------------------------------- four priorities
    none = arm("baseline", **{k.replace(".", "__"): v for k, v in FUND_AND_SPACE.items()})
    four = arm("four_priorities")
    for name in ("resources", "services", "landing", "projects"):
        single = arm(f"priority_{name}")
        add(Check(5, f"5-{name}", f"Priority {name} raises community SO activity",
                  "seed 001 (四个优先)", {"t": single, "c": none}, diff("community_so_count"),
                  f"community_so_count(priority_{name} − no priority, same fund/space)", +1))
        add(Check(5, f"5-{name}-activity", f"Priority {name} raises what community SOs do",
                  "seed 001 (四个优先)", {"t": single, "c": none}, diff("community_so_services"),
                  f"community_so_services(priority_{name} − no priority, same fund/space)", +1))
        add(Check(5, f"5-{name}-participation", f"Priority {name} raises participation",
                  "seed 001 (四个优先)", {"t": single, "c": none}, diff("participation_rate"),
                  f"participation_rate(priority_{name} − no priority, same fund/space)", +1))
        add(Check(5, f"5-four-vs-{name}", f"Four priorities beat {name} alone",
                  "seed 001 (四个优先)", {"t": four, "c": single},
                  lambda f: f["t"]["participation_rate"] - f["c"]["participation_rate"]
                  + f["t"]["community_so_count"] / max(f["c"]["community_so_count"], 1) - 1,
                  f"participation_rate diff + relative community_so_count gain "
                  f"(four_priorities − priority_{name})", +1))
    add(Check(5, "5-participation", "Four priorities raise participation", "seed 001",
              {"t": four, "c": none}, diff("participation_rate"),
              "participation_rate(four_priorities − no priority)", +1))

    # 6 --------------------------------------------------------------- group coordination
    grp, base_full = arm("group_coordination", **DEFAULT_DISTRICT), arm("baseline",
                                                                        **DEFAULT_DISTRICT)
    add(Check(6, "6a", "Coordinated group organisations duplicate less", "seed 000",
              {"t": grp, "c": base_full}, diff("duplicated_services"),
              "duplicated_services(group_coordination − baseline)", -1))
    add(Check(6, "6b", "…and reach more of their target groups", "seed 000",
              {"t": grp, "c": base_full},
              lambda f: special_coverage(f["t"]) - special_coverage(f["c"]),
              "mean special-group coverage(group_coordination − baseline)", +1))
    add(Check(6, "6c", "…for the same money", "seed 000", {"t": grp, "c": base_full},
              lambda f: (f["t"]["group_org_spending"] - f["c"]["group_org_spending"])
              / max(f["c"]["group_org_spending"], 1.0),
              "relative group_org_spending difference (< 5%, mean)", -1, threshold=0.05,
              criterion="mean",
              note="budgets are equal by the scenarios; payments stop when a partner SO "
                   "closes, which silos (projects stacked on one partner) suffer more, so the "
                   "difference is skewed by silo under-spending and judged by its mean"))

    # 7 --------------------------------------------------------------- 622
    d622 = arm("deliberation_622")
    add(Check(7, "7a", "With deliberation ≥60% of affairs settled by deliberation (≈)",
              "seed 001 (622)", {"t": d622}, lambda f: f["t"]["affairs_deliberation_share"],
              "affairs_deliberation_share(deliberation_622)", +1, threshold=0.5,
              criterion="mean", note="approximate level: mean ≥ 0.5"))
    add(Check(7, "7b", "…≈20% by SO services", "seed 001 (622)", {"t": d622},
              lambda f: f["t"]["affairs_so_share"], "affairs_so_share(deliberation_622)", +1,
              threshold=0.1, criterion="mean", note="approximate level: mean ≥ 0.1"))
    add(Check(7, "7f", "With the full package (platform, active residents and SOs) ≈20% by "
              "SO services", "seed 001 (622)", {"t": full},
              lambda f: f["t"]["affairs_so_share"], "affairs_so_share(full_linkage)", +1,
              threshold=0.15, criterion="mean", note="approximate level: mean ≥ 0.15"))
    add(Check(7, "7c", "…≤20% referred upward", "seed 001 (622)", {"t": d622},
              lambda f: f["t"]["affairs_referral_share"],
              "affairs_referral_share(deliberation_622)", -1, threshold=0.3, criterion="mean",
              note="approximate level: mean ≤ 0.3"))
    add(Check(7, "7d", "Without a platform referral dominates", "seed 001", {"t": base},
              lambda f: f["t"]["affairs_referral_share"] - 0.5,
              "affairs_referral_share(baseline) − 0.5", +1))
    add(Check(7, "7e", "The platform shifts affairs from referral to deliberation", "seed 001",
              {"t": d622, "c": base}, diff("affairs_referral_share"),
              "affairs_referral_share(deliberation_622 − baseline)", -1))

    # 8 --------------------------------------------------------------- social-worker pay
    low, high = arm("low_sw_pay"), arm("low_sw_pay", policy__social_work__salary_index=1.2)
    add(Check(8, "8a", "Low pay raises turnover", "seeds 000, 004", {"t": low, "c": high},
              diff("sw_turnover_rate"), "sw_turnover_rate(pay 0.6 − pay 1.2)", +1))
    add(Check(8, "8b", "Low pay lowers service quality", "seeds 000, 004",
              {"t": low, "c": high}, diff("mean_service_quality"),
              "mean_service_quality(pay 0.6 − pay 1.2)", -1))
    add(Check(8, "8c", "Library contrast low_sw_pay vs high_sw_pay: turnover", "seeds 000, 004",
              {"t": low, "c": arm("high_sw_pay")}, diff("sw_turnover_rate"),
              "sw_turnover_rate(low_sw_pay − high_sw_pay)", +1))

    # 9 --------------------------------------------------------------- demand-driven
    dd = arm("demand_driven", **DEFAULT_DISTRICT)
    gl = arm("government_led", **DEFAULT_DISTRICT)
    add(Check(9, "9a", "Demand-driven meets needs more cheaply", "seed 004",
              {"t": dd, "c": gl}, diff("cost_per_need_met"),
              "cost_per_need_met(demand_driven − government_led)", -1))
    add(Check(9, "9b", "Demand-driven covers more needs", "seed 004", {"t": dd, "c": gl},
              diff("need_coverage"), "need_coverage(demand_driven − government_led)", +1))

    # 10 -------------------------------------------------------------- diminishing returns
    b = {f"b{i}": arm("purchase_only", policy__purchase__annual_budget=v)
         for i, v in enumerate(BUDGETS)}

    def slope(f: dict, lo: str, hi: str, vlo: float, vhi: float) -> float:
        return (f[hi]["need_coverage"] - f[lo]["need_coverage"]) / ((vhi - vlo) / 1e6)

    add(Check(10, "10a", "Gain per million yuan falls as the budget grows", "seed 000",
              b, lambda f: slope(f, "b0", "b1", BUDGETS[0], BUDGETS[1])
              - slope(f, "b2", "b3", BUDGETS[2], BUDGETS[3]),
              "coverage gain per M yuan: (1M→3M) − (6M→12M)", +1))
    add(Check(10, "10b", "More money still does not reduce coverage", "seed 000",
              b, lambda f: f["b3"]["need_coverage"] - f["b0"]["need_coverage"],
              "need_coverage(12M − 1M)", +1))

    # 11 -------------------------------------------------------------- who takes part
    add(Check(11, "11a", "Participation is low without support", "MODEL.md: Shanghai surveys "
              "(~70% do not know their committee director)", {"t": base},
              lambda f: f["t"]["participation_rate"], "participation_rate(baseline)", -1,
              threshold=0.3, criterion="mean", note="approximate level: mean < 0.3"))
    for cid, a in (("11b", base), ("11c", arm("deliberation_622"))):
        add(Check(11, cid, f"Participation rises steeply with age ({a.scenario})",
                  "MODEL.md: Shanghai turnout 13.8% (18-29) to 77.7% (70-79)", {"t": a},
                  lambda f: age_ratio(f["t"]),
                  f"participation_elderly / participation_young ({a.scenario})", +1,
                  threshold=1.5))
    return checks


CHECKS: list[Check] = _make_checks()

#: Checks that do not pass with the current mechanisms, with the diagnosis (measured with
#: the suite's defaults: SIZE, 72 months, REPLICATIONS, MASTER_SEED). The tests mark them
#: ``xfail(strict=True)`` so that a mechanism change that fixes one is noticed.
KNOWN_FAILURES: dict[str, str] = {
    "2b": "4A+ share ~0.03 in both arms (diff −0.002, CI [−0.008, 0.003]): only agencies reach "
          "4A. A community SO's score is at most ~0.75·capacity + maturity, so 4A (0.5) needs "
          "capacity ≈ 0.47; trained incubatees reach ~0.27 and, serving a few needs a month, "
          "do not grow further. Training shows at 3A within the full package (2d), and in "
          "the calibrated Yuhuatai run (real-sized, funded communities) ~80 community SOs "
          "reach 4A.",
    "5-projects": "community_so_count −0.05, CI [−0.80, 0.70]: the projects priority gives "
                  "existing community SOs work (needs met +1.9 a month, 5-projects-activity) "
                  "and raises participation, but the count is set by leaders' founding and "
                  "density, and in this small district few community SOs close for want of "
                  "money, so partner projects do not change it.",
    "7b": "SO share of affairs 0.090, CI [0.080, 0.101] vs the weak criterion ≥ 0.10 in the "
          "deliberation-only scenario, which gives SOs nothing; with the full package "
          "(platform, funds, active residents and SOs, 7f) the SO share is 0.24, as the 622 "
          "rule has it.",
}
PATTERNS = {
    1: "A full package multiplies the number of SOs; without incubation growth is slow",
    2: "Quantity is not quality: incubation without training yields weak SOs, few 4A+",
    3: "Directed purchase concentrates contracts, raises dependence, lowers quality (内卷化)",
    4: "Weighting resident satisfaction raises satisfaction and coverage of real needs",
    5: "Each of the four priorities raises SO activity and participation; together more",
    6: "Coordinated group organisations duplicate less and reach more for the same money",
    7: "With a deliberation platform affairs approach the 622 split; without, referral dominates",
    8: "Low social-worker pay raises turnover and lowers quality",
    9: "Demand-driven allocation meets more needs per yuan than government-led",
    10: "Money has diminishing returns when SO capacity is the bottleneck",
    11: "Participation is low, skewed and rises steeply with age (surveys)",
}


@dataclass
class CheckResult:
    """A check's measured statistic over replications and its verdict."""

    check: Check
    values: list[float]
    mean: float
    low: float
    high: float
    passed: bool
    arm_means: dict[str, dict[str, float]] = field(default_factory=dict)

    def row(self) -> dict[str, Any]:
        c = self.check
        return {"pattern": c.pattern, "check": c.check_id, "title": c.title,
                "statistic": c.statistic_text,
                "expected": (">" if c.direction > 0 else "<") + f" {c.threshold:g}",
                "criterion": c.criterion, "mean": self.mean, "ci_low": self.low,
                "ci_high": self.high, "n": len(self.values), "passed": self.passed,
                "source": c.source}


def t_interval(values: Sequence[float], level: float = 0.95) -> tuple[float, float, float]:
    """Mean and Student-t confidence interval of ``values`` (NaNs dropped)."""
    x = np.asarray([v for v in values if not math.isnan(v)], float)
    if x.size == 0:
        return math.nan, math.nan, math.nan
    mean = float(x.mean())
    if x.size < 2:
        return mean, math.nan, math.nan
    half = float(stats.t.ppf(0.5 + level / 2, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size))
    return mean, mean - half, mean + half


def verdict(check: Check, mean: float, low: float, high: float) -> bool:
    """Pass/fail of one check from its mean and interval."""
    if check.criterion == "mean":
        value = mean
        return bool(value > check.threshold if check.direction > 0 else value < check.threshold)
    if math.isnan(low):
        return False
    return bool(low > check.threshold if check.direction > 0 else high < check.threshold)


def needed_arms(checks: Sequence[Check]) -> list[Arm]:
    """Every distinct arm the checks use, in first-use order."""
    seen: dict[str, Arm] = {}
    for check in checks:
        for a in check.arms.values():
            seen.setdefault(a.key, a)
    return list(seen.values())


def run_arms(arms: Sequence[Arm], replications: int = REPLICATIONS, months: int = MONTHS,
             seed: int = MASTER_SEED, size: dict[str, Any] | None = None,
             workers: int = 1, progress: Callable[[str], None] | None = None,
             ) -> dict[str, list[RunResult]]:
    """Run each arm ``replications`` times under common random numbers."""
    size = SIZE if size is None else size
    specs, owners = [], []
    for a in arms:
        overrides = {**size, **dict(a.overrides)}
        for spec in plan([a.scenario], replications=replications, seed=seed, months=months,
                         overrides=overrides):
            specs.append(spec)
            owners.append(a.key)
    results: dict[str, list[RunResult]] = {a.key: [None] * replications for a in arms}
    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            done = pool.map(run_single, specs, chunksize=4)
            for key, spec, res in zip(owners, specs, done, strict=False):
                results[key][spec.replication] = res
    else:
        for key, spec in zip(owners, specs, strict=False):
            results[key][spec.replication] = run_single(spec)
            if progress:
                progress(key)
    return results


def evaluate(checks: Sequence[Check], results: dict[str, list[RunResult]]) -> list[CheckResult]:
    """Each check's statistic per replication, its 95% CI and verdict."""
    out = []
    for check in checks:
        reps = len(next(iter(results.values())))
        values = []
        for r in range(reps):
            finals = {role: results[a.key][r].final for role, a in check.arms.items()}
            values.append(float(check.statistic(finals)))
        mean, low, high = t_interval(values)
        arm_means = {role: {k: float(np.nanmean([res.final[k] for res in results[a.key]]))
                            for k in results[a.key][0].final}
                     for role, a in check.arms.items()}
        out.append(CheckResult(check, values, mean, low, high, verdict(check, mean, low, high),
                               arm_means))
    return out


def run_checks(checks: Sequence[Check] | None = None, replications: int = REPLICATIONS,
               months: int = MONTHS, seed: int = MASTER_SEED,
               size: dict[str, Any] | None = None, workers: int = 1,
               ) -> tuple[list[CheckResult], dict[str, list[RunResult]], float]:
    """Run the arms of ``checks`` and evaluate them; also returns runs and seconds taken."""
    checks = CHECKS if checks is None else list(checks)
    started = time.perf_counter()
    results = run_arms(needed_arms(checks), replications, months, seed, size, workers)
    return evaluate(checks, results), results, time.perf_counter() - started


def checks_for(pattern: int) -> list[Check]:
    """The checks of one pattern."""
    return [c for c in CHECKS if c.pattern == pattern]


def format_table(rows: Sequence[CheckResult]) -> str:
    """A plain-text table of results."""
    lines = [f"{'check':18s} {'mean':>11s} {'95% CI':>25s}  expected      verdict"]
    for r in rows:
        c = r.check
        exp = ("> " if c.direction > 0 else "< ") + f"{c.threshold:g}" + (
            " (mean)" if c.criterion == "mean" else "")
        lines.append(f"{c.check_id:18s} {r.mean:11.4g} [{r.low:11.4g}, {r.high:11.4g}]  "
                     f"{exp:13s} {'PASS' if r.passed else 'FAIL'}")
    return "\n".join(lines)


# ---------------------------------------------------------------------- the report
def markdown_table(rows: Sequence[CheckResult]) -> str:
    """The checks as a Markdown table (docs/validation.md pastes the latest one)."""
    lines = ["| pattern | check | statistic | mean | 95% CI | verdict |",
             "|---|---|---|---:|---|---|"]
    shown: set[int] = set()
    for r in rows:
        c = r.check
        label = "" if c.pattern in shown else f"{c.pattern} {PATTERNS[c.pattern][:40]}…"
        shown.add(c.pattern)
        lines.append(f"| {label} | {c.check_id} | {c.statistic_text} | {r.mean:+.3g} | "
                     f"[{r.low:+.3g}, {r.high:+.3g}] | {'pass' if r.passed else '**fail**'} |")
    return "\n".join(lines) + "\n"


def pattern_figure(rows: Sequence[CheckResult]) -> Any:
    """One panel per check of a pattern: per-replication statistic, mean and 95% CI."""
    from matplotlib.figure import Figure

    cols = min(max(len(rows), 1), 6)  # wrap long patterns (5 has 17 checks) into rows
    lines = math.ceil(max(len(rows), 1) / cols)
    fig = Figure(figsize=(2.4 * cols + 1, 2.8 * lines), layout="constrained")
    axes = fig.subplots(lines, cols, squeeze=False).ravel()
    for ax in axes[len(rows):]:
        ax.set_visible(False)
    for ax, r in zip(axes, rows, strict=False):
        c = r.check
        color = "tab:green" if r.passed else "tab:red"
        x = np.zeros(len(r.values)) + np.linspace(-0.08, 0.08, len(r.values))
        ax.scatter(x, r.values, s=12, color="0.6", zorder=2)
        if not math.isnan(r.low):
            ax.errorbar([0.3], [r.mean], yerr=[[r.mean - r.low], [r.high - r.mean]],
                        fmt="o", color=color, capsize=4, zorder=3)
        ax.axhline(c.threshold, color="k", lw=0.8, ls="--")
        ax.set_xlim(-0.4, 0.7)
        ax.set_xticks([])
        ax.set_title(f"{c.check_id} ({'↑' if c.direction > 0 else '↓'})", fontsize=9)
        ax.tick_params(labelsize=7)
    return fig


def _png(fig: Any) -> bytes:
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    return buf.getvalue()


def write_report(rows: Sequence[CheckResult], out: Any, seconds: float,
                 replications: int, months: int, seed: int = MASTER_SEED,
                 size: dict[str, Any] | None = None,
                 robustness: Sequence[dict[str, Any]] | None = None,
                 joint: Sequence[dict[str, Any]] | None = None) -> Any:
    """Write ``report.html`` (figures embedded), ``table.csv``, ``table.md``, PNGs and the
    robustness tables into ``out``."""
    import base64
    import html
    from pathlib import Path

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    size = SIZE if size is None else size
    _write_csv(out / "table.csv", [r.row() for r in rows])
    (out / "table.md").write_text(markdown_table(rows), encoding="utf-8")
    passed = sum(r.passed for r in rows)
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>sanshe validation</title>",
        "<style>body{font-family:sans-serif;max-width:1100px;margin:auto}"
        "td,th{border:1px solid #ccc;padding:3px 6px;font-size:13px}"
        "table{border-collapse:collapse}.pass{color:#070}.fail{color:#b00}</style></head><body>",
        "<h1>Pattern-oriented validation</h1>",
        f"<p>{passed} of {len(rows)} checks pass. {replications} replications × "
        f"{months} months, master seed {seed}, district {html.escape(str(size))}; common "
        f"random numbers (replication r has the same seed in every arm); statistic per "
        f"replication, 95% Student-t interval of its mean. Criterion 'ci': the interval "
        f"excludes the threshold on the expected side; 'mean': the mean does (levels). "
        f"Runtime {seconds:.0f} s.</p>",
    ]
    for pattern, text in PATTERNS.items():
        sub = [r for r in rows if r.check.pattern == pattern]
        if not sub:
            continue
        parts.append(f"<h2>Pattern {pattern}: {html.escape(text)}</h2>")
        parts.append("<table><tr><th>check</th><th>statistic</th><th>expected</th>"
                     "<th>mean</th><th>95% CI</th><th>verdict</th><th>source</th>"
                     "<th>diagnosis if failing</th></tr>")
        for r in sub:
            c = r.check
            cls = "pass" if r.passed else "fail"
            parts.append(
                f"<tr><td>{c.check_id}</td><td>{html.escape(c.statistic_text)}</td>"
                f"<td>{'>' if c.direction > 0 else '<'} {c.threshold:g} ({c.criterion})</td>"
                f"<td>{r.mean:.4g}</td><td>[{r.low:.4g}, {r.high:.4g}]</td>"
                f"<td class='{cls}'>{'PASS' if r.passed else 'FAIL'}</td>"
                f"<td>{html.escape(c.source)}</td>"
                f"<td>{html.escape('' if r.passed else KNOWN_FAILURES.get(c.check_id, ''))}"
                f"</td></tr>")
        parts.append("</table>")
        png = _png(pattern_figure(sub))
        (out / f"pattern_{pattern:02d}.png").write_bytes(png)
        parts.append(f"<p><img src='data:image/png;base64,{base64.b64encode(png).decode()}'"
                     f" alt='pattern {pattern}'></p>")
    if robustness:
        parts.append("<h2>Robustness of the headline conclusions</h2><p>Each headline paired "
                     "difference re-estimated with one uncertain behavioural parameter at the "
                     "low or high end of its plausible range (others at defaults).</p>")
        parts.append(_html_table(robustness))
        _write_csv(out / "robustness.csv", robustness)
    if joint:
        points = max(r["point"] for r in joint)
        parts.append(f"<h3>Uncertain parameters varied together</h3><p>{points} Latin-hypercube "
                     "draws of the same parameters over their plausible ranges, all at once; "
                     "per comparison, at how many draws the expected sign is significant, "
                     "holds only in sign, or reverses (every draw: joint.csv).</p>")
        parts.append(_html_table(joint_summary(joint)))
        _write_csv(out / "joint.csv", joint)
    parts.append("</body></html>")
    path = out / "report.html"
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


def _html_table(rows: Sequence[dict[str, Any]]) -> str:
    import html

    keys = list(rows[0])
    head = "<table><tr>" + "".join(f"<th>{k}</th>" for k in keys) + "</tr>"
    body = ["<tr>" + "".join(
        f"<td>{v:.4g}</td>" if isinstance(v, float) else f"<td>{html.escape(str(v))}</td>"
        for v in row.values()) + "</tr>" for row in rows]
    return head + "".join(body) + "</table>"


def _write_csv(path: Any, rows: Sequence[dict[str, Any]]) -> None:
    import csv

    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


# ---------------------------------------------------------------------- robustness
#: The three headline comparisons: (label, treatment arm, control arm, outcome, sign).
HEADLINES = (
    ("full_linkage vs baseline: so_count", "full_linkage", "baseline", "so_count", +1),
    ("full_linkage vs baseline: need_coverage", "full_linkage", "baseline", "need_coverage", +1),
    ("competitive vs directed: mean_service_quality", "competitive_purchase",
     "directed_purchase", "mean_service_quality", +1),
    ("competitive vs directed: contract_hhi", "competitive_purchase", "directed_purchase",
     "contract_hhi", -1),
    ("demand_driven vs government_led: need_coverage", "demand_driven", "government_led",
     "need_coverage", +1),
)


#: Five of the parameters flagged ``uncertain`` that sit on the headline causal paths:
#: SO founding (full package), incumbency in awards (competitive vs directed), officials'
#: use of residents' needs and their own tasks (linkage mode), participation thresholds.
#: (``crowding`` was the fifth until the government-led task share arrived: at either end
#: of its range every headline effect equalled the default to four digits.)
ROBUSTNESS_PARAMETERS = ("founding_rate", "incumbency_weight", "gov_led_needs_weight",
                         "gov_led_task_share", "threshold_mean")


def _headline_rows(extra: dict[str, Any], replications: int, months: int, seed: int,
                   size: dict[str, Any], workers: int) -> list[dict[str, Any]]:
    """Every headline paired difference with the constants in ``extra`` overridden."""
    scenarios = sorted({h[1] for h in HEADLINES} | {h[2] for h in HEADLINES})
    arms = [Arm(s, tuple(sorted(extra.items()))) for s in scenarios]
    results = run_arms(arms, replications, months, seed, size, workers)
    by_scenario = {a.scenario: results[a.key] for a in arms}
    rows = []
    for label, t, c, outcome, sign in HEADLINES:
        values = [by_scenario[t][r].final[outcome] - by_scenario[c][r].final[outcome]
                  for r in range(replications)]
        mean, low, high = t_interval(values)
        holds = (low > 0) if sign > 0 else (high < 0)
        same_sign = (mean > 0) if sign > 0 else (mean < 0)
        rows.append({"comparison": label, "mean": mean, "ci_low": low, "ci_high": high,
                     "expected_sign_holds": "yes" if holds else (
                         "sign only" if same_sign else "no")})
    return rows


def _robustness_size(size: dict[str, Any] | None) -> dict[str, Any]:
    return size if size is not None else {
        k.replace("__", "."): v for k, v in DEFAULT_DISTRICT.items()}


def robustness(replications: int = 10, months: int = MONTHS, seed: int = MASTER_SEED,
               size: dict[str, Any] | None = None, workers: int = 1,
               parameters: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Sign of each headline effect with each uncertain parameter at its low/high end.

    Runs at the library's default district unless ``size`` says otherwise: two of the three
    headlines are about where money goes, and the budgets are set for that district.
    """
    from sanshe import parameters as table

    size = _robustness_size(size)
    names = list(parameters) if parameters else list(ROBUSTNESS_PARAMETERS)
    by_name = {p.name: p for p in table.TABLE}
    settings: list[tuple[str, str, float | None]] = [("(defaults)", "", None)]
    for name in names:
        settings += [(name, "low", by_name[name].low), (name, "high", by_name[name].high)]
    rows = []
    for name, end, value in settings:
        extra = {} if value is None else {f"parameters.{name}": value}
        for row in _headline_rows(extra, replications, months, seed, size, workers):
            rows.append({"parameter": name, "end": end,
                         "value": "" if value is None else f"{value:g}", **row})
    return rows


def robustness_joint(points: int = 16, replications: int = 5, months: int = MONTHS,
                     seed: int = MASTER_SEED, size: dict[str, Any] | None = None,
                     workers: int = 1, parameters: Sequence[str] | None = None,
                     ) -> list[dict[str, Any]]:
    """Each headline effect at ``points`` Latin-hypercube draws of the uncertain parameters
    varied together over their plausible ranges — interactions that one-at-a-time ends miss.
    """
    from scipy.stats import qmc

    from sanshe import parameters as table

    size = _robustness_size(size)
    names = list(parameters) if parameters else list(ROBUSTNESS_PARAMETERS)
    by_name = {p.name: p for p in table.TABLE}
    unit = qmc.LatinHypercube(d=len(names), seed=seed).random(points)
    low = np.array([by_name[n].low for n in names])
    high = np.array([by_name[n].high for n in names])
    rows = []
    for i, draw in enumerate(qmc.scale(unit, low, high)):
        values = {n: float(round(v) if by_name[n].is_integer else v)
                  for n, v in zip(names, draw, strict=True)}
        extra = {f"parameters.{n}": v for n, v in values.items()}
        for row in _headline_rows(extra, replications, months, seed, size, workers):
            rows.append({"point": i + 1, **{n: f"{v:.4g}" for n, v in values.items()}, **row})
    return rows


def joint_summary(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per headline comparison: at how many joint draws the sign holds, and the effect range."""
    out = []
    for label in dict.fromkeys(r["comparison"] for r in rows):
        sub = [r for r in rows if r["comparison"] == label]
        means = [r["mean"] for r in sub]
        out.append({"comparison": label, "points": len(sub),
                    "significant": sum(r["expected_sign_holds"] == "yes" for r in sub),
                    "sign_only": sum(r["expected_sign_holds"] == "sign only" for r in sub),
                    "reversed": sum(r["expected_sign_holds"] == "no" for r in sub),
                    "min_effect": min(means), "max_effect": max(means)})
    return out
