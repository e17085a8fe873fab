"""Sensitivity analysis, checked on the Ishigami function before it is trusted on the model.

Ishigami (a = 7, b = 0.1, inputs uniform on [-π, π]) has known indices:
S1 = (0.3139, 0.4424, 0), ST = (0.5576, 0.4424, 0.2437). A fourth, dummy input must get
zero everywhere. The same analysis then runs through the whole sweep machinery (design →
lever values → runs → store → analysis) with an Ishigami "model", and must give exactly
what the arrays give.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sanshe.experiments.experiment import RunResult, RunSpec
from sanshe.inputs.errors import InputError
from sanshe.inputs.parameters import PARAMETERS

pytest.importorskip("SALib", reason="SALib is not installed (pip install 'sanshe[sensitivity]')")

from sanshe import sensitivity  # noqa: E402 - after the skip
from sanshe.experiments.sweep import SweepResult, sweep  # noqa: E402
from tests.helpers import sqlite_file

S1_EXACT = np.array([0.3139, 0.4424, 0.0, 0.0])
ST_EXACT = np.array([0.5576, 0.4424, 0.2437, 0.0])
NAMES = ["x1", "x2", "x3", "dummy"]


def ishigami(unit: np.ndarray) -> np.ndarray:
    """Ishigami of the first three columns of a unit-cube design (mapped to [-π, π])."""
    x = np.asarray(unit, dtype=float)[:, :3] * 2 * math.pi - math.pi
    return np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0])


def test_sobol_indices_match_ishigami() -> None:
    unit = sensitivity.saltelli_design(4, 4096, seed=1)
    assert unit.shape == (4096 * 6, 4)
    table = sensitivity.sobol_indices(ishigami(unit), NAMES, resamples=200)
    assert list(table.columns) == ["parameter", "S1", "S1_conf", "ST", "ST_conf"]
    assert np.allclose(table["S1"], S1_EXACT, atol=0.03), table
    assert np.allclose(table["ST"], ST_EXACT, atol=0.03), table
    # the intervals are honest: each covers the exact value within a small slack
    assert (abs(table["S1"] - S1_EXACT) <= table["S1_conf"] + 0.01).all(), table
    assert (abs(table["ST"] - ST_EXACT) <= table["ST_conf"] + 0.01).all(), table
    assert (table["S1_conf"] > 0).iloc[:3].all()


def test_morris_ranks_ishigami_sensibly() -> None:
    unit = sensitivity.morris_design(4, 100, seed=2, num_levels=4)
    assert unit.shape == (100 * 5, 4)
    table = sensitivity.morris_indices(unit, ishigami(unit), NAMES, resamples=200)
    assert list(table.columns) == ["parameter", "mu", "mu_star", "mu_star_conf", "sigma"]
    ranked = sensitivity.ranked(table)
    assert set(ranked["parameter"][:2]) == {"x1", "x2"}  # the strong main effects first
    assert ranked["parameter"].iloc[-1] == "dummy"
    dummy = table.set_index("parameter").loc["dummy"]
    assert dummy["mu_star"] == 0 and dummy["sigma"] == 0
    x3 = table.set_index("parameter").loc["x3"]
    assert x3["mu_star"] > 1 and x3["sigma"] > abs(x3["mu"])  # acts only via interaction


def test_bad_outputs_are_input_errors() -> None:
    unit = sensitivity.saltelli_design(2, 8, seed=1)
    y = ishigami(np.hstack([unit, unit[:, :1]]))
    with pytest.raises(InputError, match="multiple of 4"):
        sensitivity.sobol_indices(y[:-1], ["a", "b"])
    y[3] = np.nan
    with pytest.raises(InputError, match="undefined"):
        sensitivity.sobol_indices(y, ["a", "b"])
    with pytest.raises(InputError, match="one row of 2 inputs"):
        sensitivity.morris_indices(unit[:5], np.ones(6), ["a", "b"])


# --- through a stored sweep ---------------------------------------------------------------
#: Three behavioural constants stand in for x1..x3, a fourth is the dummy.
_FLOATS = [p for p in PARAMETERS.values() if not p.is_integer and p.high > p.low]
KEYS = [f"parameters.{p.name}" for p in _FLOATS[:4]]


def _ishigami_run(spec: RunSpec) -> RunResult:
    """A stand-in model: need_coverage = Ishigami of three constants' unit positions."""
    unit = []
    for key in KEYS[:3]:
        param = PARAMETERS[key.removeprefix("parameters.")]
        unit.append((spec.scenario.get(key) - param.low) / (param.high - param.low))
    value = float(ishigami(np.array([unit]))[0])
    return RunResult(
        scenario=spec.scenario.name,
        replication=spec.replication,
        seed=spec.seed,
        months=1,
        parameters={},
        final={"need_coverage": value},
        series={"need_coverage": [value]},
    )


@pytest.mark.parametrize(("method", "samples"), [("sobol", 64), ("morris", 20)])
def test_stored_sweep_gives_the_array_answer(tmp_path: Path, method: str, samples: int) -> None:
    vary = {key: (PARAMETERS[key[11:]].low, PARAMETERS[key[11:]].high) for key in KEYS}
    db = f"sqlite:///{tmp_path / 'ishigami.sqlite'}"
    result = sweep(
        "baseline",
        vary,
        samples=samples,
        method=method,
        replications=1,
        months=1,
        executor="serial",
        name="ishigami",
        db=db,
        progress=False,
        _run=_ishigami_run,
    )
    assert result.failed == 0
    stored = SweepResult.load("ishigami", db).sensitivity("need_coverage", resamples=100)
    unit = result.design.unit
    if method == "sobol":
        direct = sensitivity.sobol_indices(ishigami(unit), KEYS, resamples=100)
        assert np.allclose(stored["S1"], S1_EXACT, atol=0.2)
        assert np.allclose(stored["ST"], ST_EXACT, atol=0.2)
    else:
        direct = sensitivity.morris_indices(unit, ishigami(unit), KEYS, resamples=100)
    pd.testing.assert_frame_equal(stored, direct, check_exact=False, rtol=1e-9)
    assert stored.attrs["method"] == method and stored.attrs["points"] == len(unit)

    csv_path, png_path = sensitivity.write(stored, tmp_path / "out", "need_coverage")
    assert png_path.stat().st_size > 0
    assert list(pd.read_csv(csv_path)["parameter"])[-1] == KEYS[3]  # the dummy ranks last
    text = sensitivity.format_table(stored)
    assert KEYS[0] in text and sensitivity.describe(stored).startswith(method.capitalize())


def test_analysis_needs_a_matching_complete_design(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'x.sqlite'}"
    vary = {key: (PARAMETERS[key[11:]].low, PARAMETERS[key[11:]].high) for key in KEYS[:2]}
    lhs = sweep(
        "baseline",
        vary,
        samples=8,
        method="lhs",
        replications=1,
        months=1,
        executor="serial",
        name="lhs",
        db=db,
        progress=False,
        _run=_ishigami_run,
    )
    with pytest.raises(InputError, match="used a lhs design"):
        lhs.sensitivity("need_coverage")
    sob = sweep(
        "baseline",
        vary,
        samples=4,
        method="sobol",
        replications=1,
        months=1,
        executor="serial",
        name="sob",
        db=db,
        progress=False,
        _run=_ishigami_run,
    )
    with pytest.raises(InputError, match="needs a sweep run with --method morris"):
        sob.sensitivity("need_coverage", "morris")
    with pytest.raises(InputError, match="undefined"):
        sob.sensitivity("participation_rate")  # never produced: undefined everywhere
    with sqlite_file(tmp_path / "x.sqlite") as conn:  # lose one finished run
        run_id = conn.execute(
            "SELECT runs.id FROM runs JOIN experiments ON "
            "experiments.id = runs.experiment_id WHERE name = 'sob' "
            "AND key = 's3/r0'"
        ).fetchone()[0]
        conn.execute("DELETE FROM finals WHERE run_id = ?", (run_id,))
        conn.execute("DELETE FROM monthly WHERE run_id = ?", (run_id,))
        conn.execute("DELETE FROM runs WHERE id = ?", (run_id,))
    with pytest.raises(InputError, match="incomplete: 1 of 16 design points"):
        SweepResult.load("sob", db).sensitivity("need_coverage")
