"""Experimental designs: where in the space of levers and constants to run the model.

One module for every design the experiments draw — Latin hypercube (``scipy.stats.qmc``),
Saltelli and Morris designs for sensitivity analysis (SALib), full grids — and for mapping
the unit hypercube onto lever ranges and categorical levels (:class:`Axis`).

scipy renamed the QMC engines' ``seed=`` to ``rng=`` in 1.15 and gave an integer a new
meaning under the new name (a spawned child of ``default_rng(n)`` instead of
``default_rng(n)`` itself). :func:`qmc_engine` keeps the old meaning for integers, so a
stored calibration or robustness design is drawn again point for point on any scipy that
pip resolves on Python 3.11–3.13; a ``numpy.random.Generator`` means the same under both
names.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import qmc

from sanshe.experiments.store import spec_hash
from sanshe.inputs.errors import InputError

#: Sampling methods of ``sanshe sweep --method``.
METHODS = ("lhs", "sobol", "morris", "grid")

#: Morris grid levels (SALib's default p = 4: steps of 2/3 of each range).
MORRIS_LEVELS = 4

#: Salt mixed into a sweep's seed for its design, so design and model seeds never coincide.
DESIGN_SALT = 0x5A45E7

Seed = int | np.integer | np.random.Generator | None


# --- unit-hypercube designs ---------------------------------------------------------------
def qmc_engine(engine: type[qmc.QMCEngine], d: int, seed: Seed) -> qmc.QMCEngine:
    """A scipy QMC engine over ``d`` dimensions, seeded as every scipy since 1.11 seeds it.

    An integer goes to the legacy ``seed=`` keyword (its stream is what stored designs were
    drawn from); a Generator to ``rng=`` where scipy has it (1.15+), else to ``seed=``.
    """
    if isinstance(seed, np.random.Generator):
        try:
            return engine(d, rng=seed)
        except TypeError:  # scipy < 1.15
            return engine(d, seed=seed)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # should scipy deprecate it
            return engine(d, seed=seed)
    except TypeError:  # a scipy without ``seed=``: an int then draws another stream
        return engine(d, rng=seed)


def latin_hypercube(d: int, n: int, seed: Seed) -> np.ndarray:
    """``n`` Latin-hypercube points in [0, 1)^d: each axis cut in ``n`` equal cells, one
    point per cell."""
    return qmc_engine(qmc.LatinHypercube, d, seed).random(int(n))


def scale(unit: np.ndarray, low: Sequence[float], high: Sequence[float]) -> np.ndarray:
    """Unit points mapped linearly onto the box ``low``–``high`` (one bound per column)."""
    return qmc.scale(unit, low, high)


def _salib() -> Any:
    try:
        import SALib  # optional: only Sobol and Morris designs need it (sanshe[sensitivity])
    except ImportError as exc:
        raise InputError(
            "Sobol and Morris designs and indices need SALib, which is not "
            "installed: pip install 'sanshe[sensitivity]'."
        ) from exc
    return SALib


def unit_problem(names: Sequence[str]) -> dict[str, Any]:
    """A SALib problem over the unit hypercube with one variable per name."""
    return {"num_vars": len(names), "names": list(names), "bounds": [[0.0, 1.0]] * len(names)}


def saltelli(d: int, n: int, seed: Seed = None) -> np.ndarray:
    """A Saltelli design for first-order and total Sobol indices: ``n·(d+2)`` points.

    Built on a scrambled Sobol sequence (``n`` best a power of two); ``seed`` is an int or
    a ``numpy.random.Generator``.
    """
    _salib()
    from SALib.sample import sobol as sobol_sample  # optional dependency

    names = [f"x{i}" for i in range(d)]
    return sobol_sample.sample(
        unit_problem(names), int(n), calc_second_order=False, scramble=True, seed=seed
    )


def morris(
    d: int, trajectories: int, seed: Seed = None, num_levels: int = MORRIS_LEVELS
) -> np.ndarray:
    """``trajectories`` Morris trajectories: ``trajectories·(d+1)`` points in [0, 1]^d."""
    _salib()
    from SALib.sample import morris as morris_sample  # optional dependency

    names = [f"x{i}" for i in range(d)]
    return morris_sample.sample(
        unit_problem(names), int(trajectories), num_levels=num_levels, seed=seed
    )


# --- axes: from the unit interval to lever values -----------------------------------------
def show(value: Any) -> str:
    """A lever value as written after ``--vary``/``--set``: true/false, 5e+06, directed."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


@dataclass(frozen=True)
class Axis:
    """One varied key: a numeric range (``float`` or ``int``) or a list of ``levels``.

    A design lives in the unit hypercube; :meth:`from_unit` maps a coordinate in [0, 1] to
    a value: linearly for a float range, in equal-width cells for an integer range or a
    list (so each level gets an equal share of the unit interval).
    """

    key: str
    kind: str  # "float" | "int" | "levels"
    low: float | None = None
    high: float | None = None
    levels: tuple[Any, ...] | None = None

    @property
    def numeric(self) -> bool:
        return self.kind in ("float", "int")

    def from_unit(self, u: float) -> Any:
        """The value at unit coordinate ``u``."""
        u = min(max(float(u), 0.0), 1.0)
        if self.kind == "float":  # clipped: low + 1·(high − low) may round past high
            return float(min(max(self.low + u * (self.high - self.low), self.low), self.high))
        if self.kind == "int":
            count = int(self.high - self.low) + 1
            return int(self.low) + min(int(math.floor(u * count)), count - 1)
        count = len(self.levels)
        return self.levels[min(int(math.floor(u * count)), count - 1)]

    def to_unit(self, value: Any) -> float:
        """The unit coordinate of ``value`` (the centre of its cell for ints and levels)."""
        if self.kind == "float":
            return (float(value) - self.low) / (self.high - self.low)
        if self.kind == "int":
            count = int(self.high - self.low) + 1
            return (int(value) - int(self.low) + 0.5) / count
        return (self.levels.index(value) + 0.5) / len(self.levels)

    def grid(self, points: int) -> list[Any]:
        """``points`` evenly spaced values (ints deduplicated); every level of a list."""
        if self.kind == "levels":
            return list(self.levels)
        values = np.linspace(self.low, self.high, points)
        if self.kind == "float":
            return [float(v) for v in values]
        return list(dict.fromkeys(int(round(v)) for v in values))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable description (stored in the experiment's spec)."""
        if self.kind == "levels":
            return {"key": self.key, "kind": self.kind, "levels": list(self.levels)}
        return {"key": self.key, "kind": self.kind, "low": self.low, "high": self.high}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Axis:
        levels = data.get("levels")
        return cls(
            key=data["key"],
            kind=data["kind"],
            low=data.get("low"),
            high=data.get("high"),
            levels=tuple(levels) if levels is not None else None,
        )

    def describe(self) -> str:
        """As the user would write it after ``--vary``."""
        if self.kind == "levels":
            return f"{self.key}=" + ",".join(show(v) for v in self.levels)
        return f"{self.key}={show(self.low)}:{show(self.high)}"


# --- a sweep's design ---------------------------------------------------------------------
@dataclass(frozen=True)
class Design:
    """The points of a sweep: unit coordinates and the lever values they map to."""

    axes: tuple[Axis, ...]
    method: str
    unit: np.ndarray  # (points, axes), in [0, 1]
    points: tuple[dict[str, Any], ...]
    base_samples: int  # --samples as given (Sobol N, Morris trajectories, grid points)

    def __len__(self) -> int:
        return len(self.points)

    @property
    def keys(self) -> list[str]:
        return [a.key for a in self.axes]

    def frame(self) -> pd.DataFrame:
        """One row per point: ``sample`` and one column per varied key."""
        frame = pd.DataFrame(list(self.points), columns=self.keys)
        frame.insert(0, "sample", range(len(self.points)))
        return frame

    def checksum(self) -> str:
        """A hash of the design, so a resume that would draw other points is refused."""
        rounded = np.round(self.unit, 12).tolist()
        return spec_hash({"unit": rounded, "points": [list(p.values()) for p in self.points]})


def design_rng(seed: int) -> np.random.Generator:
    """The generator a sweep's design draws from, derived from the sweep's seed."""
    return np.random.default_rng(np.random.SeedSequence([DESIGN_SALT, int(seed)]))


def make_design(
    axes: Sequence[Axis], samples: int | None, method: str = "lhs", seed: int = 1
) -> Design:
    """The design of ``method`` over ``axes``.

    ``samples`` means: points for "lhs"; the base sample N for "sobol" (a Saltelli design of
    N·(d+2) points, best a power of two); trajectories for "morris" (N·(d+1) points); points
    per numeric axis for "grid" (lists contribute all their levels).
    """
    axes = tuple(axes)
    samples = _check_samples(axes, samples, method)
    if method == "grid":
        return grid(axes, samples)
    rng, d = design_rng(seed), len(axes)
    if method == "lhs":
        unit = latin_hypercube(d, samples, rng)
    elif method == "sobol":
        unit = saltelli(d, samples, rng)
    else:
        unit = morris(d, samples, rng, num_levels=MORRIS_LEVELS)
    points = tuple({a.key: a.from_unit(u) for a, u in zip(axes, row, strict=True)} for row in unit)
    return Design(axes, method, np.asarray(unit, dtype=float), points, samples)


def _check_samples(axes: tuple[Axis, ...], samples: int | None, method: str) -> int:
    """``samples`` as an int, or InputError saying what ``method`` needs."""
    if method not in METHODS:
        raise InputError(
            f"--method {method!r} is not known; it must be one of {', '.join(METHODS)}."
        )
    needs_samples = method != "grid" or any(a.numeric for a in axes)
    if needs_samples and (samples is None or isinstance(samples, bool) or int(samples) < 1):
        raise InputError(
            f"--samples must be a whole number of at least 1 for --method "
            f"{method} (got {samples!r})."
        )
    samples = int(samples) if samples is not None else 0
    if method == "grid" and needs_samples and samples < 2:
        raise InputError(
            "--method grid needs --samples of at least 2 (points per numeric "
            "axis: both ends of each range)."
        )
    if method == "morris" and samples < 2:
        raise InputError("--method morris needs --samples (trajectories) of at least 2.")
    return samples


def grid(axes: Sequence[Axis], samples: int) -> Design:
    """The full grid: ``samples`` points per numeric axis, every level of a list."""
    axes = tuple(axes)
    values = [a.grid(samples) for a in axes]
    points = tuple(
        dict(zip([a.key for a in axes], combo, strict=True)) for combo in itertools.product(*values)
    )
    unit = np.array([[a.to_unit(p[a.key]) for a in axes] for p in points], dtype=float)
    return Design(axes, "grid", unit.reshape(len(points), len(axes)), points, samples)
