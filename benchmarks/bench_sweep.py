"""Sweeps that scale: Dask efficiency with and without batching, and the store's speed.

Plain Python, never a timed test: ``python benchmarks/bench_sweep.py`` (full size, on a
quiet machine) or ``--runs 100`` (a quick check). Three parts, in one process:

1. **Dask.** A sweep of ``--runs`` short runs (the baseline district at 300 residents per
   community, 24 months: ~0.1-0.2 s a run) on a warmed-up Dask ``LocalCluster`` of 1 and of
   ``--workers`` single-threaded workers, with the runs per task chosen from the measured
   runs (batched) and with one run per task (unbatched). Parallel efficiency is
   ``T(1 worker) / (W · T(W workers))`` against the batched 1-worker time (the strictest
   reference) and against the same mode's. Target (issue 16): ≥ 85% batched. Finals must
   be identical in every case. With PostgreSQL (below) the batched W-worker sweep also
   runs into it. Then (1b) the overhead per run beside the run itself (wall time minus the
   runs' own time) for tiny runs on one worker, batched and not: a figure that other load
   on the machine disturbs much less than an efficiency.
2. **The store.** Synthetic finished runs (24 and 120 months, every outcome) written the
   way the runner writes them — a batch of runs per transaction — into SQLite and into
   PostgreSQL (``--store URL``, or a throwaway cluster started like the tests' with
   initdb/pg_ctl; ``--no-postgres`` skips it): runs stored per second, beside the runs
   computed per second in part 1. The store is not the bottleneck while stored ≫ computed.
3. **Cost per run** (``--cost``): the baseline and the full package at their library
   district, 120 months, in this process; what a 10,000-run sweep costs in core-hours.

Every time is the best of ``--repeat``; the load average is printed before and after, so a
busy machine shows (efficiency is meaningless when other jobs share the cores).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SHORT = {"district.residents_per_community": 300}  # 10 communities × 300 residents
SHORT_MONTHS = 24
VARY = ["policy.purchase.annual_budget=1e5:5e6"]
REPLICATIONS = 4


def _warm(_: int) -> int:
    """Import the model in a worker (what its first run would otherwise pay for)."""
    import sanshe.sim.model  # noqa: F401

    time.sleep(0.3)  # long enough that each worker takes one of these
    return os.getpid()


def _finals(result: Any) -> Any:
    from sanshe.inputs.outcomes import OUTCOME_NAMES

    runs = result.runs()
    return runs[["key", "seed", *OUTCOME_NAMES]].sort_values("key").reset_index(drop=True)


def timed_sweep(
    db: str,
    workers: int,
    runs: int,
    batch: int | None,
    months: int = SHORT_MONTHS,
    overrides: dict[str, Any] = SHORT,
) -> tuple[float, Any]:
    """Seconds of a sweep of ``runs`` short runs on a started, warmed-up LocalCluster."""
    from sanshe.experiments.executors import collect, open_executor
    from sanshe.experiments.sweep import sweep

    with open_executor("dask", workers) as pool:
        pids = {pid for _, pid in collect(pool, _warm, [(i, i) for i in range(2 * workers)])}
        assert len(pids) == workers, f"only {len(pids)} of {workers} workers warmed up"
        started = time.perf_counter()
        result = sweep(
            "baseline",
            VARY,
            samples=runs // REPLICATIONS,
            replications=REPLICATIONS,
            months=months,
            seed=1,
            overrides=overrides,
            executor=pool,
            name=f"bench-{uuid.uuid4().hex[:8]}",  # never another sweep in a given --store
            db=db,
            progress=False,
            batch=batch,
        )
        return time.perf_counter() - started, result


def warm_coordinator(db: str) -> None:
    """A tiny sweep in this process first: the first case must not pay for the imports."""
    from sanshe.experiments.sweep import sweep

    sweep("baseline", VARY, samples=2, replications=1, months=2, overrides=SHORT,
          executor="serial", name="warm", db=db, progress=False)


def part_dask(args: argparse.Namespace, where: Path, pg: str | None) -> dict[str, float]:
    """Part 1; returns the runs computed per second with W workers, batched."""
    runs = args.runs // REPLICATIONS * REPLICATIONS
    cases = [(1, None), (args.workers, None), (1, 1), (args.workers, 1)]
    best: dict[tuple[int, int | None], float] = {}
    paired: list[float] = []  # batched seconds: 1 worker, then W, repeat after repeat
    finals = {}
    print(f"\n1. Dask LocalCluster: {runs} runs of {SHORT_MONTHS} months, 3,000 residents")
    warm_coordinator(f"sqlite:///{where / 'warm.sqlite'}")
    for repeat in range(args.repeat):
        for workers, batch in cases:
            db = f"sqlite:///{where / f'dask-{workers}-{batch}-{repeat}.sqlite'}"
            seconds, result = timed_sweep(db, workers, runs, batch)
            best[workers, batch] = min(seconds, best.get((workers, batch), float("inf")))
            finals[workers, batch] = _finals(result)
            mode = "batched" if batch is None else "one run a task"
            print(f"   {workers} worker(s), {mode:14}: {seconds:7.2f} s  "
                  f"({runs / seconds:6.2f} runs/s)", flush=True)
            if batch is None:
                paired.append(seconds)
    w = args.workers
    reference = best[1, None]
    for batch, mode in ((None, "batched"), (1, "one run a task")):
        own = best[1, batch]
        print(f"   efficiency, {mode:14}: {reference / (w * best[w, batch]):6.1%} "
              f"(against its own 1-worker time: {own / (w * best[w, batch]):6.1%})")
    # the host's other tenants move a case's time between repeats: each repeat's own pair
    # (1 worker, then W, minutes apart) shows how far the best-of figure can be trusted
    by_repeat = [one / (w * many) for one, many in zip(paired[::2], paired[1::2], strict=True)]
    print("   efficiency, batched, repeat by repeat: "
          + ", ".join(f"{e:.1%}" for e in by_repeat))
    same = all(frame.equals(finals[1, None]) for frame in finals.values())
    print(f"   finals identical in every case: {same}")
    computed = runs / best[w, None]
    if pg is not None:
        seconds, result = timed_sweep(pg, w, runs, None)
        print(f"   {w} worker(s), batched, into PostgreSQL: {seconds:7.2f} s "
              f"({runs / seconds:6.2f} runs/s); finals identical: "
              f"{_finals(result).equals(finals[1, None])}")
    return {"computed": computed, "run_seconds": best[1, None] / runs}


def part_overhead(args: argparse.Namespace, where: Path) -> None:
    """What each task costs beside its runs: wall time minus the runs' own time, per run,
    for tiny runs on one worker (robust to other load, unlike efficiency)."""
    tiny = {"district.residents_per_community": 100}
    print("\n1b. Overhead per run, 1 worker, tiny runs (1,000 residents, 3 months)")
    for batch, mode in ((None, "batched"), (1, "one run a task")):
        db = f"sqlite:///{where / f'tiny-{batch}.sqlite'}"
        seconds, result = timed_sweep(db, 1, args.runs, batch, months=3, overrides=tiny)
        inside = result.runs()["elapsed"].sum()
        print(f"   {mode:14}: {seconds:6.2f} s, of which runs {inside:6.2f} s: "
              f"{1000 * (seconds - inside) / len(result.runs()):5.1f} ms a run besides", flush=True)


def stored_per_second(url: str, months: int, runs: int, batch: int, repeat: int) -> float:
    """Synthetic finished runs of ``months`` written ``batch`` per transaction: runs/s."""
    sys.path.insert(0, str(REPO / "tests"))
    from conftest import fake_result

    from sanshe.experiments.store import ResultStore

    results = [fake_result(replication=i, months=months) for i in range(runs)]
    best = float("inf")
    with ResultStore(url) as store:
        for _ in range(repeat):
            name = f"bench-store-{uuid.uuid4().hex[:8]}"
            exp = store.experiment(name, "sweep", {"months": months})
            started = time.perf_counter()
            for first in range(0, runs, batch):
                store.save_runs(
                    exp, [(f"k{i}", results[i], {"sample": i}) for i in range(first, first + batch)]
                )
            best = min(best, time.perf_counter() - started)
            store.delete_experiment(name)
    return runs / best


def part_store(args: argparse.Namespace, where: Path, pg: str | None, computed: float) -> None:
    print(f"\n2. The store: {args.store_runs} synthetic runs, {args.store_batch} per "
          "transaction (runs stored per second)")
    urls = {"SQLite": f"sqlite:///{where / 'store.sqlite'}"}
    if pg is not None:
        urls["PostgreSQL"] = pg
    for label, url in urls.items():
        for months in (SHORT_MONTHS, 120):
            rate = stored_per_second(url, months, args.store_runs, args.store_batch, args.repeat)
            print(f"   {label:10} {months:3} months: {rate:7.1f} runs/s", flush=True)
    if computed:
        print(f"   computed by the sweep in part 1 ({SHORT_MONTHS} months): {computed:.1f} runs/s")


def part_cost() -> None:
    """Seconds per run at the library district, 120 months, and a 10,000-run sweep."""
    from sanshe.experiments.experiment import RunSpec, resolve, run_single

    print("\n3. Cost of a run in this process (library district, 120 months; best of 3)")
    for name in ("baseline", "full_linkage"):
        scenario = resolve(name)
        run_single(RunSpec(scenario, 1, 2))  # imports and caches
        seconds = min(_timed(run_single, RunSpec(scenario, seed, 120)) for seed in (1, 2, 3))
        print(f"   {name:13}: {seconds:5.2f} s a run, {1 / seconds:5.2f} runs/s per core; "
              f"10,000 runs: {10_000 * seconds / 3600:5.1f} core-hours")
    short = resolve("baseline", SHORT)
    seconds = min(_timed(run_single, RunSpec(short, seed, SHORT_MONTHS)) for seed in (1, 2, 3))
    print(f"   short run     : {seconds:5.2f} s a run, {1 / seconds:5.2f} runs/s per core; "
          f"10,000 runs: {10_000 * seconds / 3600:5.1f} core-hours")


def _timed(fn: Callable[[Any], Any], arg: Any) -> float:
    started = time.perf_counter()
    fn(arg)
    return time.perf_counter() - started


def postgres(args: argparse.Namespace, stack: list) -> str | None:
    """``--store URL``, or a throwaway cluster like the tests' (None: none available)."""
    if args.no_postgres:
        return None
    if args.store:
        return args.store
    sys.path.insert(0, str(REPO / "tests"))
    try:
        from conftest import _create_database, _Server

        server = _Server()
    except Exception as exc:  # noqa: BLE001 - say why and go on with SQLite alone
        print(f"(no PostgreSQL: {exc}; give --store postgresql://...)")
        return None
    stack.append(server)
    return _create_database(server.admin_url, "bench")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000, help="runs in the Dask sweep")
    parser.add_argument("--workers", type=int, default=2, help="W (default 2)")
    parser.add_argument("--repeat", type=int, default=1, help="times each case runs (best)")
    parser.add_argument("--store", metavar="URL", help="a PostgreSQL URL (default: throwaway)")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--store-runs", type=int, default=200, help="synthetic runs stored")
    parser.add_argument("--store-batch", type=int, default=10, help="runs per transaction")
    parser.add_argument("--cost", action="store_true", help="also part 3 (about a minute)")
    parser.add_argument("--only", choices=("dask", "store"), help="run one part alone")
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.2f}")
    servers: list = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            pg = postgres(args, servers)
            computed = {"computed": 0.0}
            if args.only in (None, "dask"):
                computed = part_dask(args, Path(tmp), pg)
                part_overhead(args, Path(tmp))
            if args.only in (None, "store"):
                part_store(args, Path(tmp), pg, computed["computed"])
            if args.cost:
                part_cost()
    finally:
        for server in servers:
            server.stop()
    print(f"\nload average after: {os.getloadavg()[0]:.2f} (1 min), "
          f"{statistics.mean(os.getloadavg()):.2f} (mean of 1, 5, 15 min)")


if __name__ == "__main__":
    main()
