"""Replications of scenarios: seeds, single runs and their results.

Experiments live outside the model (covasim's MultiSim/Scenarios idea): a run is a pure
function of (scenario, seed, months), so it can execute in this process, a process pool
or a Dask worker and give the same numbers.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from sanshe.experiments import runner
from sanshe.inputs.outcomes import OUTCOME_NAMES, finals
from sanshe.inputs.scenario import Scenario


@dataclass(frozen=True)
class RunSpec:
    """What one run needs: a resolved scenario, its seed and length."""

    scenario: Scenario
    seed: int
    months: int
    replication: int = 0


@dataclass
class RunResult:
    """One finished run: metadata, final values and one value per month per outcome."""

    scenario: str
    replication: int
    seed: int
    months: int
    parameters: dict[str, Any]
    final: dict[str, float]
    series: dict[str, list[float]]
    elapsed: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The run as the ``--json`` schema describes it (INTERFACE.md)."""
        data = asdict(self)
        data.pop("extra")
        return data


def replication_seeds(master_seed: int, replications: int) -> list[int]:
    """Seeds for ``replications`` runs, derived from ``master_seed``.

    Replication *r* always gets the same seed whatever the scenario, so scenarios are
    compared under common random numbers.
    """
    children = np.random.SeedSequence(int(master_seed)).spawn(int(replications))
    return [int(child.generate_state(1, dtype=np.uint32)[0]) for child in children]


def resolve(scenario: Scenario | str, overrides: dict[str, Any] | None = None) -> Scenario:
    """A library name, path or Scenario, with dotted overrides applied."""
    resolved = scenario if isinstance(scenario, Scenario) else Scenario.load(scenario)
    return resolved.with_overrides(overrides) if overrides else resolved


def run_single(spec: RunSpec) -> RunResult:
    """Run one scenario for ``spec.months`` months and collect every outcome.

    A top-level function so process pools and Dask can pickle it.
    """
    from sanshe.sim.model import CommunityGovernanceModel, discard  # local: lean workers

    started = time.perf_counter()
    sim = CommunityGovernanceModel(scenario=spec.scenario, seed=spec.seed)
    sim.run(spec.months)
    series = sim.series()
    discard(sim)  # a worker runs many models: free each (Mesa 3.3 would keep them all)
    return RunResult(
        scenario=spec.scenario.name,
        replication=spec.replication,
        seed=spec.seed,
        months=spec.months,
        parameters=spec.scenario.to_dict(),
        final=finals(series),
        series={name: series[name] for name in OUTCOME_NAMES},
        elapsed=time.perf_counter() - started,
    )


def plan(
    scenarios: Sequence[Scenario | str],
    replications: int | None = None,
    seed: int | None = None,
    months: int | None = None,
    overrides: dict[str, Any] | None = None,
) -> list[RunSpec]:
    """Every run of an experiment: each scenario × each replication, common seeds.

    Unset options come from the first scenario's ``[run]`` table, so a notebook and the
    command line reproduce each other.
    """
    resolved = [resolve(s, overrides) for s in scenarios]
    first = resolved[0]
    replications = int(replications or first.get("run.replications"))
    seed = int(first.get("run.seed") if seed is None else seed)
    seeds = replication_seeds(seed, replications)
    specs = []
    for rep, rep_seed in enumerate(seeds):  # replication-major: any prefix is a fair sample
        for sc in resolved:
            run_months = int(months or sc.get("run.months"))
            specs.append(RunSpec(scenario=sc, seed=rep_seed, months=run_months, replication=rep))
    return specs


def run(
    scenarios: Sequence[Scenario | str] | Scenario | str,
    replications: int | None = None,
    seed: int | None = None,
    months: int | None = None,
    overrides: dict[str, Any] | None = None,
    progress: bool = True,
    workers: int | None = None,
    executor: str | None = None,
    scheduler: str | None = None,
) -> list[RunResult]:
    """Run scenarios with replications and return every result, in plan order.

    The runs go through the one run engine (:func:`sanshe.experiments.runner.run_jobs`):
    this process unless told, ``workers`` processes (in a script, under ``if __name__ ==
    "__main__":``), ``executor="local"`` (the cores available, or this process for a short
    batch) or ``"dask"`` with an optional ``scheduler`` address. The results are the same
    on every executor. If runs fail, the others still finish and
    :class:`~sanshe.experiments.runner.RunsFailed` then reports the failures.
    """
    if isinstance(scenarios, Scenario | str):
        scenarios = [scenarios]
    specs = plan(scenarios, replications, seed, months, overrides)
    jobs = jobs_of(specs)
    outcomes = runner.run_all(
        jobs,
        run_single,
        executor=executor,
        workers=workers,
        scheduler=scheduler,
        progress=progress,
    )
    return runner.results_or_raise(jobs, outcomes)


def run_key(scenario: str, replication: int) -> str:
    """The store key of one run of a scenario (``run`` and ``compare`` share it)."""
    return f"{scenario}/r{replication}"


def jobs_of(specs: Sequence[RunSpec]) -> list[runner.Job]:
    """The run engine's jobs for planned runs, keyed ``<scenario>/r<replication>``."""
    return [runner.Job(run_key(s.scenario.name, s.replication), s) for s in specs]
