"""Fixed-seed regression baseline (covasim's tests/test_baselines.py idea).

A few scenarios on the library's district, fixed seeds: every final value must match
tests/data/baseline.json. Unit and statistical tests say the rules behave; this one says
the numbers did not move unnoticed. Refresh it on purpose with
``python tests/update_baseline.py`` and commit the JSON diff with the change that explains it.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from sanshe.experiments.experiment import plan, run_single

BASELINE = Path(__file__).resolve().parent / "data" / "baseline.json"
SCENARIOS = ("baseline", "full_linkage", "directed_purchase", "deliberation_622")
#: The library's district (10 x 1,000 residents), not tests.helpers.SMALL: money levers
#: scale with residents, and SMALL's 1,000 residents buy no social worker and a quarter of a
#: donor project, so changes to the workforce and to donors' money went unseen (2026-12-07).
MONTHS, REPLICATIONS, SEED = 36, 2, 7


def baseline_finals() -> dict[str, dict[str, float]]:
    """Final values of every outcome, keyed ``scenario/replication``."""
    specs = plan(list(SCENARIOS), replications=REPLICATIONS, seed=SEED, months=MONTHS)
    return {f"{s.scenario.name}/{s.replication}": run_single(s).final for s in specs}


def _same(a: float, b: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def test_outputs_match_the_recorded_baseline():
    expected = json.loads(BASELINE.read_text(encoding="utf-8"))
    fresh = json.loads(json.dumps(baseline_finals()))  # NaN and float round trip as stored
    assert fresh.keys() == expected.keys()
    moved = [f"{run}:{name} {expected[run].get(name)} -> {value}"
             for run, finals in fresh.items() for name, value in finals.items()
             if name not in expected[run] or not _same(value, expected[run][name])]
    assert not moved, ("outputs moved (refresh on purpose with `python tests/update_baseline.py`"
                       f" if intended): {moved[:10]} ... {len(moved)} in all")
