"""Sweep throughput: process pool and Dask (plain Python: ``python benchmarks/bench_sweep.py``).

64 runs of the baseline district (10 communities × 1,000 residents, 36 months) — 8 Latin
hypercube points of the purchase budget × 8 replications — through :func:`model.sweep.sweep`
with the local process pool (1 and 2 workers) and a Dask ``LocalCluster`` of 2 worker
processes, each into its own SQLite store. Prints for each: the wall time of the sweep
call (pool start-up included), the wall time on an already started, warmed-up pool (what a
long sweep approaches), the parallel efficiency ``T(1 worker) / (2 · T(2 workers))`` for
both, and whether the Dask finals equal the process pool's. Each case runs ``--repeat``
times, interleaved, and the best time counts (the usual defence against other load).

Targets (issue 4): efficiency ≥ 85% on 2 cores for the process pool, ≥ 75% for Dask;
Dask results identical to the local ones. The machine should otherwise be idle: the load
average is printed before and after so a busy machine shows.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

RUNS_POINTS, RUNS_REPLICATIONS, MONTHS = 8, 8, 36
VARY = ["policy.purchase.annual_budget=1e5:5e6"]
CASES = (("local", 1), ("local", 2), ("dask", 2))


def _warm(_: int) -> int:
    """Import the model in a worker (what its first run would otherwise pay for)."""
    import sanshe.sim.model  # noqa: F401

    time.sleep(0.3)  # long enough that each worker takes one of these
    return os.getpid()


def _sweep(db: str, name: str, executor, workers: int):
    from sanshe.experiments.sweep import sweep

    return sweep(
        "baseline",
        VARY,
        samples=RUNS_POINTS,
        replications=RUNS_REPLICATIONS,
        months=MONTHS,
        seed=1,
        executor=executor,
        workers=workers,
        name=name,
        db=db,
        progress=False,
    )


def time_cold(db: str, kind: str, workers: int) -> tuple[float, object]:
    """Wall time of the sweep call, pool start-up included."""
    started = time.perf_counter()
    result = _sweep(db, "cold", kind, workers)
    return time.perf_counter() - started, result


def time_warm(db: str, kind: str, workers: int) -> tuple[float, object]:
    """Wall time of the sweep on a started pool whose workers have imported the model."""
    from sanshe.experiments.executors import collect, open_executor

    with open_executor(kind, workers) as pool:
        pids = {pid for _, pid in collect(pool, _warm, [(i, i) for i in range(2 * workers)])}
        assert len(pids) == workers, f"only {len(pids)} of {workers} workers warmed up"
        started = time.perf_counter()
        result = _sweep(db, "warm", pool, workers)
        return time.perf_counter() - started, result


def finals(result) -> object:
    from sanshe.inputs.outcomes import OUTCOME_NAMES

    runs = result.runs()
    return runs[["key", "seed", *OUTCOME_NAMES]].sort_values("key").reset_index(drop=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db-dir", help="where the SQLite stores go (default: a temp dir)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each case (best counts)")
    args = parser.parse_args()
    runs = RUNS_POINTS * RUNS_REPLICATIONS
    print(
        f"{runs} runs of the baseline district, {MONTHS} months; "
        f"{os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.2f}"
    )
    times: dict[tuple[str, str, int], float] = {}
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        where = Path(args.db_dir or tmp)
        for repeat in range(args.repeat):
            for kind, workers in CASES:
                for mode, timer in (("cold", time_cold), ("warm", time_warm)):
                    db = f"sqlite:///{where / f'{mode}-{kind}-{workers}-{repeat}.sqlite'}"
                    seconds, result = timer(db, kind, workers)
                    case = (mode, kind, workers)
                    times[case] = min(seconds, times.get(case, float("inf")))
                    results[case] = finals(result)
                    print(
                        f"  {kind:5} {workers} worker(s), {mode}: {seconds:6.2f} s "
                        f"({runs / seconds:5.2f} runs/s)",
                        flush=True,
                    )
    print(f"best of {args.repeat}:")
    for (mode, kind, workers), seconds in times.items():
        print(f"  {kind:5} {workers} worker(s), {mode}: {seconds:6.2f} s")
    print("parallel efficiency T(local, 1) / (2 · T(x, 2)):")
    for mode in ("cold", "warm"):
        one = times[mode, "local", 1]
        for kind in ("local", "dask"):
            print(f"  {kind:5} {mode}: {one / (2 * times[mode, kind, 2]):6.1%}")
    reference = results["cold", "local", 1]
    same = all(frame.equals(reference) for frame in results.values())
    print(f"finals identical across executors and worker counts: {same}")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
