"""Pattern-oriented validation: the patterns of the design brief as a pre-registered protocol.

The protocol is data, written before any mechanism change (issue 14):
``tests/validation/criteria.toml`` gives, per check, the arms (a library scenario plus dotted
overrides; an emergent check's arms differ in exactly one lever), a statistic named here
(:data:`STATISTICS`, computed per replication under common random numbers), the expected
direction, the minimum meaningful effect (MME) with its reason, the replications from a
power calculation on a pilot, and the decision rule. This module reads it, runs the arms,
applies Holm's correction over the family of emergent checks (input checks are reported
apart) and decides each check by its rule:

* ``significant_and_meaningful``: Holm-adjusted one-sided p < alpha and the mean effect at
  least the MME in the expected direction;
* ``level`` (a level a source states, e.g. the 622 split): Holm-adjusted one-sided p < alpha
  against the stated level;
* ``equal`` (input checks): the statistic equals its expected value in every replication.

The same functions back the test suite (tests/validation/) and ``sanshe validate``.
Nothing here sets an outcome: every effect is measured from unmodified model runs.
"""

from __future__ import annotations

import csv
import io
import math
import time
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from sanshe.experiments import runner
from sanshe.experiments.executors import Pool
from sanshe.experiments.experiment import RunResult, plan, resolve, run_single
from sanshe.inputs import money
from sanshe.inputs.errors import InputError
from sanshe.inputs.outcomes import SPECIAL_GROUPS, with_ratios
from sanshe.reporting import pages, tables
from sanshe.reporting.stats import mean_ci

#: The protocol. It sits with the tests it drives, like ``scenarios/`` at the repository
#: root; ``sanshe validate`` runs from a checkout.
CRITERIA_PATH = Path(__file__).resolve().parents[2] / "tests" / "validation" / "criteria.toml"

#: Rules a check may name, and the two kinds.
RULES = ("significant_and_meaningful", "level", "equal")
KINDS = ("emergent", "input")


def _read_protocol(path: Path = CRITERIA_PATH) -> dict[str, Any]:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"cannot read the validation protocol {path}: {exc}. It ships with "
                         "the repository (tests/validation/criteria.toml); run sanshe "
                         "validate from a checkout.") from exc


PROTOCOL: dict[str, Any] = _read_protocol()
_SUITE = PROTOCOL["suite"]

#: District size and run length of the suite (criteria.toml [suite]).
SIZE: dict[str, Any] = dict(_SUITE["size"])
MONTHS: int = int(_SUITE["months"])
MASTER_SEED: int = int(_SUITE["master_seed"])
ALPHA: float = float(_SUITE["alpha"])
POWER: float = float(_SUITE["power"])
MIN_REPLICATIONS: int = int(_SUITE["min_replications"])
PILOT: dict[str, Any] = dict(PROTOCOL["pilot"])

#: The library's default district (10 communities × 1,000 residents), for which its budgets
#: are set: patterns about where money goes (6) are checked there. Keys use ``__``.
DEFAULT_DISTRICT: dict[str, Any] = {k.replace(".", "__"): v
                                    for k, v in _SUITE["default_size"].items()}

#: The districts a check may name (criteria.toml ``district``): the suite's small one (its
#: size is added at run time), the library's default, and one large enough for a purchase
#: market (procurement, rating and evaluation checks; criteria.toml [suite] says why).
DISTRICTS: dict[str, dict[str, Any]] = {"suite": {}, "default": dict(_SUITE["default_size"]),
                                        "market": dict(_SUITE["market_size"])}


@dataclass(frozen=True)
class Arm:
    """One simulated condition: a library scenario and overrides on top of it."""

    scenario: str
    overrides: tuple[tuple[str, Any], ...] = ()

    @property
    def key(self) -> str:
        extra = ",".join(f"{k}={v}" for k, v in self.overrides)
        return f"{self.scenario}[{extra}]" if extra else self.scenario

    @property
    def label(self) -> str:
        """The scenario and its overrides other than the district size, shortly."""
        extra = ",".join(f"{'.'.join(k.split('.')[-2:])}={v}" for k, v in self.overrides
                         if not k.startswith("district."))
        return f"{self.scenario}[{extra}]" if extra else self.scenario


def arm(scenario: str, **overrides: Any) -> Arm:
    """An arm; keyword names use ``__`` for dots (``policy__purchase__mode``)."""
    return Arm(scenario, tuple(sorted((k.replace("__", "."), v) for k, v in overrides.items())))


Finals = dict[str, dict[str, float]]  # role -> outcome -> final value (one replication)


@dataclass(frozen=True)
class Check:
    """One testable consequence of a pattern, as criteria.toml states it."""

    pattern: int
    check_id: str
    title: str
    source: str
    kind: str  # "emergent" (behaviour, in the Holm family) or "input" (a formula)
    arms: dict[str, Arm]  # role -> arm ("t" treatment, "c" control, "b0".. for budgets)
    statistic: str  # a name in STATISTICS
    direction: int  # +1: statistic expected above 0; -1: below
    rule: str
    outcome: str = ""
    setting: str = ""
    level: float = 0.0
    expected: float = 0.0
    mme: float = 0.0
    unit: str = ""
    mme_reason: str = ""
    lever: str = ""
    lever_keys: tuple[str, ...] = ()
    pilot_sd: float = math.nan
    replications: int = 0
    note: str = ""
    district: str = "suite"  # a name in DISTRICTS: the size its arms run at

    @property
    def statistic_text(self) -> str:
        """What is computed per replication, in words."""
        names = {role: a.label for role, a in self.arms.items()}
        t, c = names.get("t", ""), names.get("c", "")
        return {
            "difference": f"{self.outcome}({t} − {c})",
            "log_ratio": f"ln {self.outcome}({t} / {c})",
            "log_count_ratio": f"ln ({self.outcome}({t}) + 1) / ({self.outcome}({c}) + 1)",
            "relative_difference": f"{self.outcome}({t} − {c}) / {c}",
            "level": f"{self.outcome}({t}) − {self.level:g}",
            "age_ratio_level": f"participation 60+ / 18-39 ({t}) − {self.level:g}",
            "special_coverage_difference": f"special-group coverage({t} − {c})",
            "rated_share_difference": f"3A+ share of SOs({t} − {c})",
            "high_rated_share_difference": f"4A+ share of SOs({t} − {c})",
            "budget_curvature": "coverage per M yuan: (1M→3M) − (6M→12M)",
            "setting_gap": f"gap in {self.setting}: {t} vs {c}",
            "outcome_value": f"{self.outcome}({t})",
        }[self.statistic]


# ---------------------------------------------------------------------- statistics
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


def _log_ratio(t: float, c: float) -> float:
    return math.log(t / c) if t > 0 and c > 0 else math.nan


def _log_count_ratio(t: float, c: float) -> float:
    """ln of the ratio of two counts, each plus one: defined where the control has none
    (a status quo whose SOs all closed), and within a few hundredths of the plain log ratio
    at the tens of SOs a district has."""
    return math.log((t + 1.0) / (c + 1.0)) if t >= 0 and c >= 0 else math.nan


def _budget(a: Arm) -> float:
    return float(dict(a.overrides)["policy.purchase.annual_budget"])


def _curvature(f: Finals, check: Check) -> float:
    """Coverage bought per M yuan from the 1st to the 2nd budget minus from the 3rd to the
    4th: positive when returns diminish."""
    def slope(lo: str, hi: str) -> float:
        step = (_budget(check.arms[hi]) - _budget(check.arms[lo])) / 1e6
        return (f[hi][check.outcome] - f[lo][check.outcome]) / step
    return slope("b0", "b1") - slope("b2", "b3")


@cache
def _setting(a: Arm, key: str) -> Any:
    return resolve(a.scenario, dict(a.overrides)).get(key)


def _setting_gap(f: Finals, check: Check) -> float:
    """How far the two arms' values of one setting lie apart (0: the same input)."""
    return abs(float(_setting(check.arms["t"], check.setting))
               - float(_setting(check.arms["c"], check.setting)))


#: Per-replication statistics by the name criteria.toml uses: (finals by role, check) → value.
STATISTICS: dict[str, Callable[[Finals, Check], float]] = {
    "difference": lambda f, c: f["t"][c.outcome] - f["c"][c.outcome],
    "log_ratio": lambda f, c: _log_ratio(f["t"][c.outcome], f["c"][c.outcome]),
    "log_count_ratio": lambda f, c: _log_count_ratio(f["t"][c.outcome], f["c"][c.outcome]),
    "relative_difference": lambda f, c: ((f["t"][c.outcome] - f["c"][c.outcome])
                                         / f["c"][c.outcome] if f["c"][c.outcome] else math.nan),
    "level": lambda f, c: f["t"][c.outcome] - c.level,
    "age_ratio_level": lambda f, c: age_ratio(f["t"]) - c.level,
    "special_coverage_difference": lambda f, c: special_coverage(f["t"]) - special_coverage(f["c"]),
    "rated_share_difference": lambda f, c: rated_share(f["t"]) - rated_share(f["c"]),
    "high_rated_share_difference": lambda f, c: high_rated_share(f["t"]) - high_rated_share(f["c"]),
    "budget_curvature": _curvature,
    "setting_gap": _setting_gap,
    "outcome_value": lambda f, c: f["t"][c.outcome],
}


# ---------------------------------------------------------------------- the protocol
def _arm_from(spec: dict[str, Any], district: str) -> Arm:
    size = DISTRICTS[district]
    return Arm(spec["scenario"], tuple(sorted({**size, **spec.get("overrides", {})}.items())))


def _check_from(row: dict[str, Any]) -> Check:
    """One [[check]] table as a :class:`Check`; a bad entry is named with what to fix."""
    cid = row.get("id", "?")
    district = row.get("district", "suite")
    given = {**row, "district": district}
    allowed = {"statistic": tuple(STATISTICS), "rule": RULES, "kind": KINDS,
               "district": tuple(DISTRICTS)}
    problems = [f"{key} {given.get(key)!r} is not one of {', '.join(names)}"
                for key, names in allowed.items() if given.get(key) not in names]
    if problems:
        raise InputError(f"criteria.toml, check {cid}: " + "; ".join(problems) + ".")
    return Check(
        pattern=int(row["pattern"]), check_id=str(cid), title=row["title"], source=row["source"],
        kind=row["kind"], arms={r: _arm_from(s, district) for r, s in row["arms"].items()},
        statistic=row["statistic"], direction=int(row.get("direction", 1)), rule=row["rule"],
        outcome=row.get("outcome", ""), setting=row.get("setting", ""),
        level=float(row.get("level", 0.0)), expected=float(row.get("expected", 0.0)),
        mme=float(row.get("mme", 0.0)), unit=row.get("unit", ""),
        mme_reason=row.get("mme_reason", ""), lever=row.get("lever", ""),
        lever_keys=tuple(row.get("lever_keys", ())),
        pilot_sd=float(row.get("pilot_sd", math.nan)),
        replications=int(row.get("replications", MIN_REPLICATIONS)), note=row.get("note", ""),
        district=district)


CHECKS: list[Check] = [_check_from(row) for row in PROTOCOL["check"]]
EMERGENT: list[Check] = [c for c in CHECKS if c.kind == "emergent"]
#: Holm's worst case: the smallest p-value is compared with alpha / (family size).
FAMILY_ALPHA: float = ALPHA / len(EMERGENT)

#: The largest replication count any check needs: what the suite runs per arm.
REPLICATIONS: int = max(c.replications for c in CHECKS)

#: The default test run runs checks needing at most this many replications; the rest are
#: slow tests (criteria.toml [suite] says why). ``sanshe validate`` runs them all.
CI_MAX_REPLICATIONS: int = int(_SUITE["ci_max_replications"])
#: The default test run's replications for checks on the market district (a run there
#: costs 40-50 small-district runs; criteria.toml [suite] says why).
CI_MARKET_REPLICATIONS: int = int(_SUITE["ci_market_replications"])


def in_default_test_run(check: Check) -> bool:
    """Whether the default test run decides ``check`` at its full replications (the others
    run there at :func:`default_run_cap` only to keep the Holm family whole)."""
    return check.district != "market" and check.replications <= CI_MAX_REPLICATIONS


def default_run_cap(check: Check) -> int:
    """The most replications the default test run gives ``check``."""
    return CI_MARKET_REPLICATIONS if check.district == "market" else CI_MAX_REPLICATIONS

#: The diagnosis shared by the checks of a priority's, or the package's, participation.
_PRIORITY_PARTICIPATION = (
    "at the refit constants (threshold_mean 0.571, disposition_mean 0.148) and with about five "
    "community SOs on 10,000 residents, participation in the status quo is under 1% of "
    "residents in a month and a priority moves it by a few hundredths of a point, far below "
    "the MME (0.02, a survey's resolution at a share near 0.1)")
_PACKAGE_PARTICIPATION = (_PRIORITY_PARTICIPATION
                          + "; the package's participation is no higher than one priority's.")

#: The incubator on the market district, shared by the diagnoses of pattern 2 and 1b.
_MARKET_INCUBATOR = ("at Yuhuatai's places per resident the market district's incubator has "
                     "4.1 places a year: 25 SOs admitted in 72 months (seeds 101-103), 23 of "
                     "them alive at the end")

#: Checks that do not pass with the current mechanisms, with the diagnosis (measured with
#: the protocol's replications and seed, as the default test run decides them; the checks
#: on the market district and those beyond the default run's cap with their full
#: replications, Holm over the family of 53: docs/validation.md, 2026-12-07, after the SO
#: finance rules and their refit, and for 1b, 2a, 2b, 2d, 2e and 7f-7h after the library's
#: incubators were set at Yuhuatai's places per resident; the arms' figures inside a
#: diagnosis are from the run where it was written). Each leading figure is from the
#: protocol's run at 0fa40d4 (2026-12-07, after showcase units and officials' deliverables
#: draw their activity costs).
#: The tests mark them ``xfail(strict=True)`` so that a mechanism change that fixes one is
#: noticed.
KNOWN_FAILURES: dict[str, str] = {
    "1b": "+0.0189 [-0.0342, +0.072], MME 0.2231, n 5, Holm p 1 (market district, since "
          "2026-12-07): " + _MARKET_INCUBATOR + ", among the full package's ~468 SOs (464 "
          "without the incubator). Its places bind in every round (about 1,000 applicants "
          "for 25 places), and most "
          "admitted founders are leaders the package's funds and space would have brought to "
          "found anyway (deadweight), so the stock barely moves. With a city's 10 places on "
          "10,000 residents (before 2026-12-07) it passed at +0.495.",
    "2a": "-0.00612 [-0.0132, +0.000998], MME 0.05, n 5, Holm p 0.83 (market district, since "
          "2026-12-07): training lifts the incubated SOs' capacity (0.40 against 0.29 without "
          "it, seeds 101-103), but " + _MARKET_INCUBATOR + ", about an eighth of the ~190-200 "
          "SOs, so mean capacity moves by about a fifth of the MME. With a city's 10 places on "
          "10,000 residents (before 2026-12-07) it passed at -0.086.",
    "2b": "-0.00377 [-0.0126, +0.00504], MME 0.05, n 5, Holm p 1 (market district): without "
          "incubator training fewer SOs reach 4A+, but " + _MARKET_INCUBATOR + ", and few "
          "SOs reach 4A within 72 months, so the 4A+ share moves by about one point of the "
          "five the MME asks "
          "(two points, -0.023, before the library's incubators were set at Yuhuatai's "
          "places per resident on 2026-12-07).",
    "2d": "-0.00598 [-0.0162, +0.00422], MME 0.05, n 7, Holm p 1 (market district): the "
          "incubator's 4.1 places a year (Yuhuatai's per resident) are a small part of the "
          "full package's ~470 SOs on the market district, so its training barely moves the "
          "3A+ share.",
    "2e": "+0.000362 [-0.0188, +0.0195], MME 0.05, n 7, Holm p 1 (market district): buyers "
          "evaluate"
          " only the SOs holding purchase contracts, a few agencies, and the rest are rated by "
          "what residents got from them, which the evaluator setting does not touch.",
    "3c": "-0.00132 [-0.0109, +0.00831], MME 0.05, n 5, Holm p 1 (market district): directed "
          "purchase concentrates contracts (3a passes) and raises the winners' dependence (3b "
          "passes), but mean service quality is over all SOs, nearly all community SOs that "
          "purchase does not reach.",
    "4a": "+0.00043 [-0.000598, +0.00146], MME 0.05, n 5, Holm p 1 (market district): at the "
          "sources' money the status quo and satisfaction_weighted buy about 130,000 yuan a year "
          "on 200,000 residents (one or two contracts), so the weight scores one or two contracts "
          "and satisfaction does not move.",
    "4b": "+0.000225 [-0.00808, +0.00853], MME 0.05, n 5, Holm p 1 (market district): as 4a: the "
          "weight acts on one or two contracts a year; coverage does not move.",
    "4c": "-0.00137 [-0.012, +0.00929], MME 0.05, n 5, Holm p 1 (market district): competitive "
          "purchase at 6 yuan per resident (about 0.9 M yuan a year on 200,000 residents): the "
          "weight changes how a few agencies are scored, not which needs the lots are placed on.",
    "5-resources": "+0.0399 [-0.0859, +0.166], MME 0.2231, n 9, Holm p 1: free space keeps a few "
                   "more SOs alive (6.2 vs 5.4 community SOs): at the sources' starting density "
                   "(0.41 community SOs per 1,000) the library's district of 10,000 residents has "
                   "about six community SOs at month 72 in the status quo with the fund and space,"
                   " so a birth or a closure moves the ratio by a sixth and the mean stays below "
                   "the MME.",
    "5-resources-activity": "+0.00789 [-0.0598, +0.0756], MME 0.2231, n 7, Holm p 1: needs met by "
                            "community SOs 15.6 vs 13.1 a month: free space lowers costs, not what"
                            " an SO can do, so activity follows the SO count (5-resources); at the"
                            " sources' starting density (0.41 community SOs per 1,000) the "
                            "library's district of 10,000 residents has about six community SOs at"
                            " month 72 in the status quo with the fund and space.",
    "5-resources-participation": "+0.000143 [-0.000352, +0.000639], MME 0.02, n 5, Holm p 1: "
                                 + _PRIORITY_PARTICIPATION + ".",
    "5-services": "+0.161 [+0.0788, +0.244], MME 0.2231, n 67, Holm p 0.0034: the fund offered "
                  "to SOs first adds community SOs, but the mean sits below the MME: at the "
                  "sources' starting density (0.41 community SOs per 1,000) the library's "
                  "district of 10,000 residents has about five community SOs at month 72 in the "
                  "status quo with the fund and space, so the ratio rests on a few births. The "
                  "estimate moves with small model changes: +0.214 (fail) under member places, "
                  "+0.329 (pass) once they went, +0.134 once idle members stopped taking part "
                  "and +0.19 once social workers' turnover was read as a rate (2026-12-06).",
    "5-services-participation": "+0.00164 [+0.000542, +0.00273], MME 0.02, n 5, Holm p 0.18: "
                                + _PRIORITY_PARTICIPATION + ".",
    "5-landing": "+0.107 [-0.0222, +0.236], MME 0.2231, n 28, Holm p 1: landed agencies' "
                 "outreach and SOs' open activities raise trust in SOs a little (0.294 vs "
                 "0.280 at month 72, seeds 1-5) and needs expressed, but few founders answer "
                 "it (6.0 vs 6.8 community SOs there): landing outreach costs the agencies "
                 "service hours, open activities take SOs' spare time (seen by about a tenth "
                 "of residents since stop 38; before, by nearly a third at no cost, +0.0245), "
                 "and at the sources' money the library district keeps almost no agency.",
    "5-landing-activity": "+0.141 [+0.0356, +0.247], MME 0.2231, n 32, Holm p 0.14: needs met by "
                          "community SOs 20.2 vs 18.9 a month (month 72, seeds 1-5): more "
                          "needs are expressed to SOs "
                          "where agencies land, but the SOs to meet them are few (at the sources' "
                          "starting density (0.41 community SOs per 1,000) the library's district "
                          "of 10,000 residents has about six community SOs at month 72 in the "
                          "status quo with the fund and space).",
    "5-landing-participation": "+0.000395 [-0.000781, +0.00157], MME 0.02, n 5, Holm p 1: "
                               + _PRIORITY_PARTICIPATION + ".",
    "5-projects": "+0.0512 [-0.0533, +0.156], MME 0.2231, n 34, Holm p 1: the projects "
                  "priority places the status quo's small purchase lot and group projects with "
                  "partner SOs, giving existing SOs work more than founders a reason (the count "
                  "rises by about 10%, under half the MME).",
    "5-projects-participation": "-0.000185 [-0.00221, +0.00184], MME 0.02, n 5, Holm p 1: "
                                + _PRIORITY_PARTICIPATION + ".",
    "5-four-vs-resources": "+0.00243 [+0.00178, +0.00308], MME 0.02, n 5, Holm p 0.0069: "
                           + _PACKAGE_PARTICIPATION,
    "5-four-vs-services": "+0.000937 [-3.02e-05, +0.0019], MME 0.02, n 5, Holm p 0.63: "
                          + _PACKAGE_PARTICIPATION,
    "5-four-vs-services-activity": "+0.186 [+0.0907, +0.282], MME 0.2231, n 31, Holm p "
                                   "0.0059 (since 2026-12-07, the eighth stop; the mean, not "
                                   "the p value, falls short): the other three priorities "
                                   "add about a fifth to what community SOs do under the "
                                   "services priority alone, at the edge of the MME: it "
                                   "passed at +0.278 and at +0.223 at earlier stops, and "
                                   "5-projects-activity, on the same edge, passed in the "
                                   "same run (+0.24).",
    "5-four-vs-landing": "+0.00218 [+0.000984, +0.00338], MME 0.02, n 5, Holm p 0.097: "
                         + _PACKAGE_PARTICIPATION,
    "5-four-vs-projects": "+0.00276 [+0.000567, +0.00495], MME 0.02, n 5, Holm p 0.3: "
                          + _PACKAGE_PARTICIPATION,
    "6b": "+0.00387 [-0.0078, +0.0155], MME 0.05, n 6, Holm p 1: group organisations' projects "
          "are few and needs outrun services in every cell, so a project's slots are used wherever"
          " it lands; coordination re-places few projects (coverage of special groups 0.076 vs "
          "0.076; +0.014, +0.002, +0.010 and -0.010 at earlier realizations: no effect either "
          "way).",
    "7f": "-0.13 [-0.14, -0.119], MME 0.05, n 8, Holm p 1 (since SOs settle matters with "
          "their unused time, 2026-12-07, stop 38; -0.111 before, -0.131 at stop 38): SOs "
          "settle about 7% of "
          "affairs in the full package against the 20% the rule asks. A matter takes an SO's "
          "unused service time in its domain; the package's ~2.1 community SOs per 1,000 "
          "residents leave about 54 slots a month unused on the library district, but in "
          "domains where few matters arise (matters follow residents' open needs, which are "
          "where SOs are short), so they settle about 2.6 of ~41 affairs a month (seeds 1-5, "
          "months 61-72). On communities of Yuhuatai's 9,000 (--set "
          "district.residents_per_community=9000), where each community has more SOs across "
          "more domains: about 13%, -0.066 [-0.073, -0.059].",
    "7g": "-0.273 [-0.314, -0.232], MME 0.05, n 6, Holm p 1: meetings settle about 33% of "
          "affairs in the full package against the 60% the rule asks. Meetings are "
          "held in nearly every community-month; the limit is reach, the residents whose "
          "matter gets to the meeting (about half): through residents who take part, online "
          "posts, and the committee's visits, after which a resident passes her matter on "
          "only if she is willing to speak up (docs/ODD.md 7.10). On communities of 9,000: "
          "about 41% (-0.190 [-0.200, -0.180]). Earlier rules gave more: 58% with a station "
          "post per 1,000-resident community; 49% while every matter of a visited household "
          "reached the meeting for a year whether or not anyone in it would raise it, a "
          "channel that cost residents nothing (both before 2026-12-07).",
    "7h": "+0.394 [+0.369, +0.418], MME 0.05, n 10, Holm p 1: the full package refers "
          "about 59% of affairs upward against the 20% the rule allows: what meetings "
          "(about 33%, 7g) and SOs (about 7%, 7f) do not settle goes to the street (46% on "
          "communities of 9,000; +0.347 and 55% before SOs settled with their unused time, "
          "stop 38).",
    "9a": "+0.0308 [-0.0104, +0.072], MME 0.1054, n 9, Holm p 1 (market district): the outcome "
          "divides all government and group spending by all needs met, and purchase meets few "
          "of them. Over 72 months at seeds 1-3, SOs draw 4.5-5.0 M yuan from purchase contracts "
          "(a fifth of that spending), and those contracts meet 2,110-2,480 needs demand-driven "
          "against 1,350-1,420 government-led: ln purchase money drawn per need met -0.47. But "
          "68,000-80,000 needs are met in all, most by community SOs' own activity (their "
          "members' hours), which purchase does not pay for, so the gap moves the ratio by about "
          "1.5% and the spread between seeds covers it. At a purchase-heavy district (300 yuan "
          "per resident) the direction holds at every end of every constant of the rule "
          "(tests/test_linkage_range.py).",
    "9b": "+0.00034 [-0.00904, +0.00972], MME 0.05, n 6, Holm p 1 (market district): purchased "
          "services are a small part of needs met at the sources' money.",
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


# ---------------------------------------------------------------------- statistics of tests
def holm(p_values: Sequence[float], family_size: int | None = None) -> list[float]:
    """Holm-adjusted p-values, in the input order (NaN stays NaN and counts as 1).

    ``family_size`` larger than the p-values given treats the missing hypotheses as
    untested (p = 1), so a subset of the family is never judged more leniently.
    """
    p = np.array([1.0 if math.isnan(x) else x for x in p_values], float)
    m = max(family_size or p.size, p.size)
    order = np.argsort(p, kind="stable")
    scaled = np.minimum(1.0, (m - np.arange(p.size)) * p[order])
    adjusted = np.empty(p.size)
    adjusted[order] = np.maximum.accumulate(scaled)
    return [math.nan if math.isnan(x) else float(a) for x, a in zip(p_values, adjusted,
                                                                     strict=True)]


def one_sided_p(values: Sequence[float], direction: int) -> float:
    """p-value of the one-sample t-test of H0 "mean ≤ 0" (direction +1) or "≥ 0" (−1)."""
    x = np.asarray([v for v in values if not math.isnan(v)], float)
    if x.size < 2:
        return math.nan
    if np.ptp(x) == 0:  # no spread: the sign decides
        return 0.0 if direction * x[0] > 0 else 1.0
    side = "greater" if direction > 0 else "less"
    return float(stats.ttest_1samp(x, 0.0, alternative=side).pvalue)


def required_replications(sd: float, mme: float, alpha: float = FAMILY_ALPHA,
                          power: float = POWER, minimum: int = MIN_REPLICATIONS,
                          limit: int = 100_000) -> int:
    """Smallest n at which a one-sided paired t-test at ``alpha`` detects a true effect of
    ``mme`` with ``power``, given the SD of the paired statistic (noncentral t)."""
    if not sd > 0:
        return minimum
    for n in range(max(minimum, 2), limit):
        critical = stats.t.ppf(1 - alpha, n - 1)
        if stats.nct.sf(critical, n - 1, mme * math.sqrt(n) / sd) >= power:
            return n
    return limit


def t_interval(values: Sequence[float], level: float = 0.95) -> tuple[float, float, float]:
    """Mean and Student-t interval of ``values`` (NaNs dropped; sanshe/reporting/stats.py)."""
    return tuple(mean_ci(values, confidence=level))


@dataclass
class CheckResult:
    """A check's statistic over replications, its p-values and verdict."""

    check: Check
    values: list[float]
    mean: float
    low: float
    high: float
    passed: bool = False
    p_value: float = math.nan
    p_adjusted: float = math.nan
    arm_means: dict[str, dict[str, float]] = field(default_factory=dict)

    def row(self) -> dict[str, Any]:
        c = self.check
        return {"pattern": c.pattern, "check": c.check_id, "kind": c.kind, "title": c.title,
                "statistic": c.statistic_text, "lever": c.lever,
                "expected": expected_text(c), "rule": c.rule, "mme": c.mme, "unit": c.unit,
                "mme_reason": c.mme_reason, "replications": len(self.values),
                "mean": self.mean, "ci_low": self.low, "ci_high": self.high,
                "p": self.p_value, "p_holm": self.p_adjusted, "passed": self.passed,
                "source": c.source}


def expected_text(c: Check) -> str:
    """The decision rule in a few characters (``< 0, mean ≤ -0.05``, ``= 0``)."""
    if c.rule == "equal":
        return f"= {c.expected:g}"
    side = ">" if c.direction > 0 else "<"
    if c.rule == "level":
        return f"{side} {c.level:g} (level)"
    return f"{side} 0, mean {'≥' if c.direction > 0 else '≤'} {c.direction * c.mme:g}"


def decide(result: CheckResult, alpha: float = ALPHA) -> bool:
    """The check's rule applied to its measured values and adjusted p-value."""
    c = result.check
    if c.rule == "equal":
        return bool(result.values) and all(abs(v - c.expected) <= 1e-9 for v in result.values)
    if not result.p_adjusted < alpha:
        return False
    return c.rule == "level" or c.direction * result.mean >= c.mme


def needed_arms(checks: Sequence[Check]) -> list[Arm]:
    """Every distinct arm the checks use, in first-use order."""
    seen: dict[str, Arm] = {}
    for check in checks:
        for a in check.arms.values():
            seen.setdefault(a.key, a)
    return list(seen.values())


Cap = int | Callable[[Check], int] | None  # at most this many (per check if a function)


def check_replications(check: Check, replications: int | None = None, cap: Cap = None) -> int:
    """The replications a check uses: ``replications`` if given, else its own, at most
    ``cap`` (a number, or a function of the check such as :func:`default_run_cap`)."""
    n = replications or check.replications
    limit = cap(check) if callable(cap) else cap
    return min(n, limit) if limit else n


def arm_replications(checks: Sequence[Check], replications: int | None = None,
                     cap: Cap = None) -> dict[str, int]:
    """Replications per arm: the most any of its checks uses."""
    out: dict[str, int] = {}
    for check in checks:
        for a in check.arms.values():
            out[a.key] = max(out.get(a.key, 0), check_replications(check, replications, cap))
    return out


def run_arms(arms: Sequence[Arm], replications: int | dict[str, int] = REPLICATIONS,
             months: int = MONTHS, seed: int = MASTER_SEED, size: dict[str, Any] | None = None,
             workers: int | None = None, progress: Callable[[str], None] | None = None,
             executor: str | Pool | runner.Engine | None = None, scheduler: str | None = None,
             ) -> dict[str, list[RunResult]]:
    """Run each arm (``replications``: one count or per arm key) under common random
    numbers: replication r has the same seed in every arm.

    The runs go through the one run engine (:mod:`sanshe.experiments.runner`): this process unless
    told, ``workers`` processes, ``executor="local"`` or ``"dask"``, or an open pool or
    engine shared across calls; ``progress`` is called with the arm of each run
    as it finishes. Failed runs raise :class:`~sanshe.experiments.runner.RunsFailed` after the rest.
    """
    size = SIZE if size is None else size
    counts = replications if isinstance(replications, dict) else {
        a.key: replications for a in arms}
    jobs = []
    for a in arms:
        overrides = {**size, **dict(a.overrides)}
        for spec in plan([a.scenario], replications=counts[a.key], seed=seed, months=months,
                         overrides=overrides):
            jobs.append(runner.Job(f"{a.key}/r{spec.replication}", spec, {"arm": a.key}))
    results: dict[str, list[RunResult]] = {a.key: [None] * counts[a.key] for a in arms}
    failures = {}
    for job, outcome in runner.run_jobs(jobs, run_single, executor=executor, workers=workers,
                                        scheduler=scheduler, progress=False):
        if isinstance(outcome, runner.RunError):
            failures[job.key] = outcome
        results[job.sample["arm"]][job.spec.replication] = outcome
        if progress:
            progress(job.sample["arm"])
    if failures:
        raise runner.RunsFailed(failures, len(jobs))
    return results


def _mean_of_defined(values: Sequence[float]) -> float:
    """Mean of the values that are defined; NaN, without a warning, when none is (an
    outcome such as turnover is undefined in a run without social workers)."""
    defined = [v for v in values if not math.isnan(v)]
    return float(np.mean(defined)) if defined else math.nan


def measure(check: Check, results: dict[str, list[RunResult]],
            replications: int | None = None, cap: Cap = None) -> CheckResult:
    """The check's statistic in each of its replications, with mean, 95% CI and raw p."""
    reps = min([check_replications(check, replications, cap)]
               + [len(results[a.key]) for a in check.arms.values()])
    finals = {role: [with_ratios(res.final) for res in results[a.key][:reps]]
              for role, a in check.arms.items()}  # the derived ratios too (RATIO_PARTS)
    values = [float(STATISTICS[check.statistic]({role: f[r] for role, f in finals.items()},
                                                check))
              for r in range(reps)]
    mean, low, high = t_interval(values)
    arm_means = {role: {k: _mean_of_defined([final[k] for final in f]) for k in f[0]}
                 for role, f in finals.items()}
    p = one_sided_p(values, check.direction) if check.kind == "emergent" else math.nan
    return CheckResult(check, values, mean, low, high, p_value=p, arm_means=arm_means)


def evaluate(checks: Sequence[Check], results: dict[str, list[RunResult]],
             replications: int | None = None, cap: Cap = None) -> list[CheckResult]:
    """Each check measured; Holm over the emergent ones (as a subset of the whole family,
    so running a few patterns is never more lenient); each decided by its rule."""
    rows = [measure(c, results, replications, cap) for c in checks]
    family = [r for r in rows if r.check.kind == "emergent"]
    for r, p in zip(family, holm([r.p_value for r in family], len(EMERGENT)), strict=True):
        r.p_adjusted = p
    for r in rows:
        r.passed = decide(r)
    return rows


def run_checks(checks: Sequence[Check] | None = None, replications: int | None = None,
               months: int = MONTHS, seed: int = MASTER_SEED,
               size: dict[str, Any] | None = None, workers: int | None = None,
               cap: Cap = None, executor: str | Pool | runner.Engine | None = None,
               scheduler: str | None = None,
               ) -> tuple[list[CheckResult], dict[str, list[RunResult]], float]:
    """Run the arms of ``checks`` (each at the protocol's replications unless
    ``replications`` is given, at most ``cap``) and evaluate them; also returns runs and
    seconds taken."""
    checks = CHECKS if checks is None else list(checks)
    started = time.perf_counter()
    counts = arm_replications(checks, replications, cap)
    results = run_arms(needed_arms(checks), counts, months, seed, size, workers,
                       executor=executor, scheduler=scheduler)
    return (evaluate(checks, results, replications, cap), results,
            time.perf_counter() - started)


def pilot(seed: int = int(PILOT["seed"]), replications: int = int(PILOT["replications"]),
          months: int = int(PILOT["months"]), workers: int | None = None,
          checks: Sequence[Check] | None = None, executor: str | Pool | runner.Engine | None = None,
          scheduler: str | None = None, size: dict[str, Any] | None = None,
          ) -> list[dict[str, Any]]:
    """The pilot behind the power calculation: each emergent check's SD over
    ``replications`` runs at an independent seed, and the replications it implies
    (``size``: the suite's district, by default criteria.toml's)."""
    checks = EMERGENT if checks is None else [c for c in checks if c.kind == "emergent"]
    results = run_arms(needed_arms(checks), replications, months, seed, size, workers=workers,
                       executor=executor, scheduler=scheduler)
    rows = []
    for c in checks:
        values = [v for v in measure(c, results, replications).values if not math.isnan(v)]
        sd = float(np.std(values, ddof=1)) if len(values) > 1 else math.nan
        rows.append({"check": c.check_id, "pilot_mean": float(np.mean(values)),
                     "pilot_sd": sd, "mme": c.mme,
                     "replications": required_replications(sd, c.mme)})
    return rows


def unpowered(row: dict[str, Any]) -> str:
    """Why a pilot row cannot set its check's replications ('' if it can): an SD of zero
    (or none) says the pilot saw no spread, not that there is none, and its n is only the
    floor (criteria.toml, 6a)."""
    sd = row["pilot_sd"]
    if math.isnan(sd) or sd <= 0:
        return (f"{row['check']}: the pilot saw no spread (sd {sd:g}); its n is only the floor "
                "and powers nothing: keep the check's last nonzero pilot SD")
    return ""


def checks_for(pattern: int, kind: str | None = None) -> list[Check]:
    """The checks of one pattern (of one kind if given)."""
    return [c for c in CHECKS if c.pattern == pattern and kind in (None, c.kind)]


# ---------------------------------------------------------------------- tables
def format_table(rows: Sequence[CheckResult]) -> str:
    """A plain-text table: emergent checks (the Holm family), then input checks."""
    lines = []
    for kind in KINDS:
        sub = [r for r in rows if r.check.kind == kind]
        if not sub:
            continue
        lines.append(f"{kind} checks" + (f" (Holm over {len(EMERGENT)}, alpha {ALPHA:g})"
                                         if kind == "emergent" else " (not in the family)"))
        cells = [[r.check.check_id, f"{r.mean:.4g}", f"[{r.low:.4g}, {r.high:.4g}]",
                  f"{r.check.mme:.3g}", str(len(r.values)), f"{r.p_adjusted:.2g}",
                  "PASS" if r.passed else "FAIL"] for r in sub]
        lines.append(tables.format_table(
            ["check", "mean", "95% CI", "MME", "n", "p (Holm)", "verdict"], cells,
            align="lrrrrrl"))
    return "\n".join(lines)


def markdown_table(rows: Sequence[CheckResult]) -> str:
    """The checks as a Markdown table (docs/validation.md pastes the latest one)."""
    lines = ["| pattern | check | kind | statistic | mean | 95% CI | MME | n | p (Holm) "
             "| verdict |", "|---|---|---|---|---:|---|---:|---:|---:|---|"]
    shown: set[int] = set()
    for r in rows:
        c = r.check
        label = "" if c.pattern in shown else f"{c.pattern} {PATTERNS[c.pattern][:40]}…"
        shown.add(c.pattern)
        mme = "" if c.kind == "input" else f"{c.mme:g}"
        p = "" if c.kind == "input" else f"{r.p_adjusted:.2g}"
        lines.append(f"| {label} | {c.check_id} | {c.kind} | {c.statistic_text} | "
                     f"{r.mean:+.3g} | [{r.low:+.3g}, {r.high:+.3g}] | {mme} | "
                     f"{len(r.values)} | {p} | {'pass' if r.passed else '**fail**'} |")
    return "\n".join(lines) + "\n"


def protocol_table() -> str:
    """The protocol itself as Markdown: arms, lever, MME and reason, replications, kind."""
    lines = ["| check | kind | statistic (arms) | lever | expected | MME | MME reason | "
             "pilot SD | n |", "|---|---|---|---|---|---:|---|---:|---:|"]
    for c in CHECKS:
        mme = f"{c.mme:g} ({c.unit})" if c.kind == "emergent" else ""
        lines.append(f"| {c.check_id} | {c.kind} | {c.statistic_text} | {c.lever} | "
                     f"{expected_text(c)} | {mme} | {c.mme_reason or c.note} | "
                     f"{'' if math.isnan(c.pilot_sd) else f'{c.pilot_sd:.3g}'} | "
                     f"{c.replications} |")
    return "\n".join(lines) + "\n"


def pattern_figure(rows: Sequence[CheckResult]) -> Any:
    """One panel per check of a pattern: per-replication statistic, mean, 95% CI, MME."""
    from matplotlib.figure import Figure

    cols = min(max(len(rows), 1), 6)  # wrap long patterns (5 has 20 checks) into rows
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
        ax.axhline(c.expected if c.rule == "equal" else 0.0, color="k", lw=0.8, ls="--")
        if c.rule == "significant_and_meaningful":
            ax.axhline(c.direction * c.mme, color="tab:blue", lw=0.8, ls=":")
        ax.set_xlim(-0.4, 0.7)
        ax.set_xticks([])
        ax.set_title(f"{c.check_id} ({'↑' if c.direction > 0 else '↓'})", fontsize=9)
        ax.tick_params(labelsize=7)
    return fig


def _png(fig: Any) -> bytes:

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    return buf.getvalue()


def _report_intro(rows: Sequence[CheckResult], seconds: float, months: int, seed: int,
                  size: dict[str, Any]) -> str:
    """The report's opening paragraph: the verdicts and the protocol in brief."""
    family = [r for r in rows if r.check.kind == "emergent"]
    inputs = [r for r in rows if r.check.kind == "input"]
    return (
        f"{sum(r.passed for r in family)} of {len(family)} emergent checks pass "
        f"(Holm's correction over the family of {len(EMERGENT)}, family-wise alpha "
        f"{ALPHA:g}); {sum(r.passed for r in inputs)} of {len(inputs)} input checks hold "
        f"(not in the family). Protocol: tests/validation/criteria.toml — per check the "
        f"arms (one lever apart), the minimum meaningful effect (MME) with its reason, and "
        f"replications from a power calculation (one-sided paired t-test, power {POWER:g}, "
        f"alpha {ALPHA:g}/{len(EMERGENT)}, pilot SDs at seed {PILOT['seed']}). Rules: "
        f"'significant_and_meaningful': Holm-adjusted one-sided p < {ALPHA:g} and the mean "
        f"at least the MME in the expected direction; 'level': Holm-adjusted p < {ALPHA:g} "
        f"against the level a source states; 'equal' (input): equal in every replication. "
        f"{months} months, master seed {seed}, suite district {_district_text(size)} "
        f"(checks that name the library's or the market district run there), common random "
        f"numbers. Runtime {seconds:.0f} s." + _other_district_note(size))


def _district_text(size: dict[str, Any]) -> str:
    """Streets × communities × residents, as a scenario file states them."""
    return (f"{size['district.streets']} × {size['district.communities_per_street']} × "
            f"{size['district.residents_per_community']:,}"
            + "".join(f", {k.split('.', 1)[1]} {v}" for k, v in size.items()
                      if k not in money.SIZE_KEYS))


def _other_district_note(size: dict[str, Any]) -> str:
    """A warning when the suite ran off the protocol's district (validate --set)."""
    if size == SIZE:
        return ""
    return (f" The suite's checks ran on a district the protocol does not name (its own is "
            f"{_district_text(SIZE)}): replications and MMEs are the protocol's, and the "
            f"diagnoses of failing checks were written for its district.")


#: The columns of each pattern's table in the report (verdict, source, diagnosis follow).
REPORT_HEADERS = ("check", "kind", "statistic", "lever", "expected", "MME (reason)", "n", "mean",
                  "95% CI", "p (Holm)", "verdict", "source", "diagnosis if failing")


def _report_row(r: CheckResult) -> dict[str, Any]:
    c = r.check
    cells = [c.check_id, c.kind, c.statistic_text, c.lever, expected_text(c),
             f"{c.mme:g} {c.unit}: {c.mme_reason}" if c.kind == "emergent" else c.note,
             str(len(r.values)), f"{r.mean:.4g}", f"[{r.low:.4g}, {r.high:.4g}]",
             f"{r.p_adjusted:.2g}"]
    return {"cells": cells, "passed": r.passed, "source": c.source,
            "diagnosis": "" if r.passed else KNOWN_FAILURES.get(c.check_id, "")}


def write_report(rows: Sequence[CheckResult], out: Any, seconds: float,
                 replications: int | None, months: int, seed: int = MASTER_SEED,
                 size: dict[str, Any] | None = None,
                 robustness: Any = None) -> Any:
    """Write ``report.html`` (figures embedded; templates/validation.html.j2), ``table.csv``,
    ``table.md``, PNGs and, given a :class:`~sanshe.experiments.robustness.Robustness`, its
    two tables into ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    size = SIZE if size is None else size
    _write_csv(out / "table.csv", [r.row() for r in rows])
    (out / "table.md").write_text(markdown_table(rows), encoding="utf-8")
    patterns = []
    for pattern, text in PATTERNS.items():
        sub = [r for r in rows if r.check.pattern == pattern]
        if not sub:
            continue
        figure_path = out / f"pattern_{pattern:02d}.png"
        figure_path.write_bytes(_png(pattern_figure(sub)))
        patterns.append({"number": pattern, "text": text, "figure": figure_path,
                         "rows": [_report_row(r) for r in sub]})
    if robustness is not None:
        write_robustness(robustness, out)
    page = pages.render(
        "validation.html.j2", title="sanshe validation", lang="en", headers=REPORT_HEADERS,
        intro=_report_intro(rows, seconds, months, seed, size), patterns=patterns,
        robustness=_table_of(robustness.summary()) if robustness is not None else None,
        draws=len(robustness.draws) if robustness is not None else 0,
        constants=len(robustness.draws[0]) if robustness is not None and robustness.draws
        else 0, draw_replications=robustness.replications if robustness is not None else 0)
    path = out / "report.html"
    path.write_text(page, encoding="utf-8")
    return path


def _table_of(rows: Sequence[dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    """Headers and text cells of a list of records (numbers to four digits)."""
    keys = list(rows[0])
    cells = [[f"{v:.4g}" if isinstance(v, float) else str(v) for v in row.values()]
             for row in rows]
    return keys, cells


def _write_csv(path: Any, rows: Sequence[dict[str, Any]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def write_robustness(result: Any, out: Any) -> None:
    """The robustness draws' three CSVs: per check the shares holding, per draw the means,
    and per draw the constants drawn."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    _write_csv(out / "robustness_draws_summary.csv", result.summary())
    _write_csv(out / "robustness_draws.csv", result.per_draw())
    _write_csv(out / "robustness_constants.csv", result.constants())
