"""The one run engine: every batch of simulations — run, compare, sweep, calibrate,
validate — goes through :func:`run_jobs`.

Given jobs (a store key, a :class:`~sanshe.experiments.experiment.RunSpec` and an optional sample
record), an executor (this process, local worker processes or Dask) and an optional
results store, it skips the runs the store already holds (resume), runs the rest, commits
each task's runs to the store as the task comes back, records a failed run with its
traceback while the others go on, shows a progress bar, and yields ``(job,
result-or-RunError)`` in completion order. A run is a pure function of its spec, so the
numbers are the same whatever the executor, the number of workers or the batching.

Short runs are sent to workers in batches (several runs per task, about
:data:`TASK_SECONDS` of work as measured on the first runs), so Dask's per-task overhead
and the scheduler's bookkeeping stay small beside the work; each batch's runs are
committed together as it lands. When ``workers`` is not given and the whole job is
shorter than starting worker processes takes, it runs in this process.

This module imports neither the model nor the store (they are passed in), so the
experiment layer can use it without an import cycle.
"""

from __future__ import annotations

import contextlib
import math
import statistics
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence, Sized
from concurrent.futures.process import BrokenProcessPool
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from itertools import chain, islice
from typing import TYPE_CHECKING, Any

from sanshe.experiments.executors import (
    EXECUTORS,
    Pool,
    RunError,
    SerialPool,
    check_executor,
    collect,
    default_workers,
    guarded_call,
    held_interrupts,
    import_distributed,
    open_executor,
)

if TYPE_CHECKING:
    from sanshe.experiments.experiment import RunResult, RunSpec
    from sanshe.experiments.store import ResultStore

#: Seconds of simulation below which a batch with ``workers`` unset runs in this process:
#: starting spawned workers (each imports NumPy, pandas and Mesa) takes a few seconds, so
#: a shorter batch would finish later in parallel than here.
IN_PROCESS_BELOW_S = 10.0

#: Aim for tasks of about this many seconds: long enough that the executor's per-task
#: cost (Dask: a few milliseconds of scheduling, result transfer and the coordinator's
#: wake-up) is negligible beside the work.
TASK_SECONDS = 1.5

#: Runs per task are chosen from the median duration of the latest this many runs, as
#: measured in the workers (a worker's first run, which imports the model, is an outlier).
MEASURED_RUNS = 64

#: At least this many tasks per worker, so batching never leaves a worker idle at the end.
TASKS_PER_WORKER = 4

#: Rough cost of one simulated month: a fixed part and a part per resident (measured on
#: the library scenarios after the mechanism split, 2026: 0.003–0.007 s a month for
#: 10,000 residents, 0.2 s for Yuhuatai's 486,000). Used only to choose batch sizes and
#: whether to start workers, never for results.
MONTH_SECONDS = 0.001
MONTH_SECONDS_PER_RESIDENT = 5e-7


@dataclass(frozen=True)
class Job:
    """One run of a batch: its key in the store, its spec and the record stored with it."""

    key: str
    spec: RunSpec
    sample: dict[str, Any] | None = None


class RunsFailed(RuntimeError):
    """Some runs of a batch raised; raised after the others finished.

    ``failures`` maps each failed job's key to its :class:`RunError`.
    """

    def __init__(self, failures: dict[str, RunError], total: int) -> None:
        self.failures = failures
        first_key, first = next(iter(failures.items()))
        super().__init__(
            f"{len(failures)} of {total} runs failed; the first ({first_key}):\n"
            f"{first.traceback_text}"
        )


def estimated_seconds(spec: RunSpec) -> float:
    """A rough guess of one run's duration (for batching and worker choice only)."""
    get = spec.scenario.get
    residents = (
        int(get("district.streets"))
        * int(get("district.communities_per_street"))
        * int(get("district.residents_per_community"))
    )
    return spec.months * (MONTH_SECONDS + MONTH_SECONDS_PER_RESIDENT * residents)


def runs_per_task(run_seconds: float, todo: int, capacity: int) -> int:
    """How many runs to send per task: about :data:`TASK_SECONDS` of work, but never so
    many that fewer than :data:`TASKS_PER_WORKER` tasks per worker remain."""
    wanted = max(1, math.floor(TASK_SECONDS / max(run_seconds, 1e-9)))
    balanced = max(1, todo // (TASKS_PER_WORKER * max(capacity, 1)))
    return min(wanted, balanced)


def timed_batch(arg: tuple[Callable[[Any], Any], Sequence[Any]]) -> tuple[list[Any], list[float]]:
    """Run ``fn`` on each spec of a batch in a worker: each a result or a RunError (one
    failing run spoils only its own slot, not the batch), and each run's seconds (the batch
    size follows them)."""
    fn, specs = arg
    outcomes, seconds = [], []
    for spec in specs:
        started = time.perf_counter()
        outcomes.append(guarded_call(fn, spec))
        seconds.append(time.perf_counter() - started)
    return outcomes, seconds


class BatchSizer:
    """Runs per task: fixed (``--batch``), or about :data:`TASK_SECONDS` of measured work.

    Until a run has been measured the first tasks carry one run each, so a wrong guess
    cannot make a long first task; then the size follows the median of the latest
    measured runs and shrinks as the runs left to hand out run short (guided
    self-scheduling: the last tasks are small, so no worker idles at the end).
    """

    def __init__(self, capacity: Callable[[], int], todo: int | None, fixed: int | None) -> None:
        self.capacity, self.left, self.fixed = capacity, todo, fixed
        self.measured: deque[float] = deque(maxlen=MEASURED_RUNS)

    def record(self, seconds: Sequence[float]) -> None:
        """Durations of runs that came back."""
        self.measured.extend(seconds)

    def next_size(self) -> int:
        """The size of the next task (and count its runs as handed out)."""
        if self.fixed is not None:
            size = self.fixed
        elif not self.measured or self.left is None:
            size = 1
        else:
            size = runs_per_task(statistics.median(self.measured), self.left, self.capacity())
        if self.left is not None:
            self.left = max(self.left - size, 0)
        return size


def check(kind: str, workers: int | None = None, scheduler: str | None = None) -> None:
    """InputError unless the executor options are usable (Dask: installed); no runs."""
    check_executor(kind, workers, scheduler)
    if kind == "dask":
        import_distributed()


def run_jobs(
    jobs: Iterable[Job],
    run: Callable[[RunSpec], RunResult],
    *,
    executor: str | Pool | Engine | None = "local",
    workers: int | None = None,
    scheduler: str | None = None,
    store: ResultStore | None = None,
    experiment: int | None = None,
    total: int | None = None,
    progress: bool = True,
    label: str = "runs",
    batch: int | None = None,
) -> Iterator[tuple[Job, RunResult | RunError]]:
    """Run ``jobs`` with ``run`` (a picklable top-level function); yield each outcome.

    ``executor`` is "local" (worker processes; ``workers`` unset: the cores available, or
    this process when the jobs are too short to pay for starting workers), "dask"
    (``scheduler`` or a fresh LocalCluster), "serial" (this process), an open
    :class:`~sanshe.experiments.executors.Pool` or an :class:`Engine` shared across batches (both
    left open), or None (see :func:`python_default`). With ``store`` and ``experiment`` the
    jobs already finished there are skipped and every outcome is committed before it is
    yielded (a failure as its traceback). ``total`` counts every job, stored ones included
    (default: ``len(jobs)``), for the progress bar and the batch size. ``batch`` fixes the
    runs per task (default: :class:`BatchSizer` picks it from the measured runs).
    """
    executor = python_default(executor, workers)
    if isinstance(executor, str):
        check_executor(executor, workers, scheduler)
    done = store.finished_keys(experiment) if store is not None else set()
    if total is None and isinstance(jobs, Sized):
        total = len(jobs)
    todo = None if total is None else max(total - len(done), 0)
    pending = (job for job in jobs if job.key not in done)
    first = next(pending, None)
    if first is None:
        return
    pending = chain([first], pending)
    run_seconds = estimated_seconds(first.spec)
    bar = _bar(total, len(done), label, progress)
    try:
        with _pool(executor, workers, scheduler, todo, run_seconds) as pool:
            if progress and not isinstance(pool, SerialPool):
                _say(f"{label}: running on the {pool.describe()}.")
            sizer = _sizer(pool, todo, batch)
            yield from _outcomes(pool, run, pending, sizer, store, experiment, bar, label)
    finally:
        if bar is not None:
            bar.close()


def python_default(executor: str | Pool | Engine | None, workers: int | None) -> Any:
    """The executor of a Python call that names none: worker processes when ``workers``
    is given, else this process.

    Functions that always ran in this process (``run``, ``compare``, ``calibrate``, the
    validation) keep doing so unless asked: spawned workers re-import a script's main
    module, which a script without an ``if __name__ == "__main__":`` guard does not
    survive. The command line always says "local".
    """
    if executor is None:
        return "local" if workers is not None else "serial"
    return executor


def run_all(
    jobs: Sequence[Job], run: Callable[[RunSpec], RunResult], **options: Any
) -> list[RunResult | RunError | None]:
    """Every job's outcome in the order of ``jobs`` (see :func:`run_jobs` for options);
    None for a job the store already held (skipped)."""
    outcomes = {job.key: outcome for job, outcome in run_jobs(jobs, run, **options)}
    return [outcomes.get(job.key) for job in jobs]


def results_or_raise(jobs: Sequence[Job], outcomes: Sequence[Any]) -> list[RunResult]:
    """The results of :func:`run_all`; :class:`RunsFailed` if any run failed."""
    failures = {
        job.key: outcome
        for job, outcome in zip(jobs, outcomes, strict=True)
        if isinstance(outcome, RunError)
    }
    if failures:
        raise RunsFailed(failures, len(jobs))
    return list(outcomes)


def _outcomes(
    pool: Pool,
    run: Callable[[RunSpec], RunResult],
    pending: Iterator[Job],
    sizer: BatchSizer,
    store: ResultStore | None,
    experiment: int | None,
    bar: Any,
    label: str,
) -> Iterator[tuple[Job, RunResult | RunError]]:
    """Send ``pending`` in batches sized by ``sizer``; store each batch as it lands, then
    yield its outcomes."""
    batches: dict[int, list[Job]] = {}

    def tasks() -> Iterator[tuple[int, tuple[Callable[[Any], Any], list[Any]]]]:
        for number, chunk in enumerate(_chunks(pending, sizer.next_size)):
            batches[number] = chunk
            yield number, (run, [job.spec for job in chunk])

    failed = 0
    try:
        for number, outcome in collect(pool, timed_batch, tasks()):
            chunk = batches.pop(number)
            # A batch lost as a whole (a Dask worker died) is a failure of each of its runs.
            if isinstance(outcome, RunError):
                landed = [outcome] * len(chunk)
            else:
                landed, seconds = outcome
                sizer.record(seconds)
            if store is not None:
                with held_interrupts():  # Ctrl-C waits for the commit: no half-stored batch
                    _store(store, experiment, chunk, landed)
            for job, result in zip(chunk, landed, strict=True):
                failed += isinstance(result, RunError)
                if bar is not None:
                    bar.update()
                    if failed:
                        bar.set_postfix(failed=failed, refresh=False)
                yield job, result
    except BrokenProcessPool as exc:
        kept = "the runs finished so far are stored. Rerun the same command to resume, "
        raise RuntimeError(
            f"a worker process of {label} died (out of memory, or killed; or, when Python "
            "code started the runs, its script lacks an `if __name__ == \"__main__\":` "
            "guard, which worker processes need); "
            f"{kept if store is not None else ''}perhaps with fewer --workers."
        ) from exc


def _store(
    store: ResultStore, experiment: int | None, chunk: Sequence[Job], outcomes: Sequence[Any]
) -> None:
    """Commit a batch's finished runs in one transaction, and each failure with its
    traceback."""
    pairs = list(zip(chunk, outcomes, strict=True))
    store.save_runs(
        experiment,
        [(job.key, out, job.sample) for job, out in pairs if not isinstance(out, RunError)],
    )
    for job, outcome in pairs:
        if isinstance(outcome, RunError):
            spec = job.spec
            store.save_failure(
                experiment,
                job.key,
                spec.scenario.name,
                spec.replication,
                spec.seed,
                spec.scenario.to_dict(),
                outcome.traceback_text,
                sample=job.sample,
            )


def _chunks(items: Iterator[Job], size: Callable[[], int]) -> Iterator[list[Job]]:
    """Consecutive chunks of ``items``, each as long as ``size()`` says when it starts."""
    while chunk := list(islice(items, size())):
        yield chunk


def _sizer(pool: Pool, todo: int | None, batch: int | None) -> BatchSizer:
    if isinstance(pool, SerialPool) and batch is None:
        batch = 1  # in this process each run is stored the moment it ends
    return BatchSizer(lambda: pool.capacity, todo, batch)


@contextmanager
def _pool(
    executor: str | Pool | Engine,
    workers: int | None,
    scheduler: str | None,
    todo: int | None,
    run_seconds: float,
) -> Iterator[Pool]:
    """The caller's open pool or engine, or one opened here for this batch alone."""
    if isinstance(executor, Pool):
        yield executor
        return
    if isinstance(executor, Engine):
        yield executor.pool_for(todo, run_seconds)
        return
    with Engine(executor, workers, scheduler, cap=todo) as engine:
        yield engine.pool_for(todo, run_seconds)


class Engine:
    """An executor shared by a series of batches (validation's robustness runs dozens):
    opened at the first batch that needs workers, closed on exit, so workers start once.

    With ``workers`` unset on the local executor, a batch too short to pay for starting
    workers runs in this process instead. ``cap`` bounds the workers started (a single
    batch of that many runs needs no more).
    """

    def __init__(
        self,
        executor: str = "local",
        workers: int | None = None,
        scheduler: str | None = None,
        cap: int | None = None,
    ) -> None:
        check_executor(executor, workers, scheduler)
        self.kind, self.workers, self.scheduler, self.cap = executor, workers, scheduler, cap
        self._stack = ExitStack()
        self._pool: Pool | None = None

    def pool_for(self, todo: int | None, run_seconds: float) -> Pool:
        """This process for a short batch (workers unset), else the shared pool."""
        if self.kind == "local" and self.workers is None and _short(todo, run_seconds):
            return SerialPool()
        if self._pool is None:
            wanted = int(self.workers) if self.workers is not None else default_workers()
            if self.cap is not None:
                wanted = max(1, min(wanted, self.cap))  # no idle workers to start
            self._pool = self._stack.enter_context(
                open_executor(self.kind, wanted, self.scheduler)
            )
        return self._pool

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> bool | None:
        return self._stack.__exit__(*exc)


def engine(
    executor: str | Pool | Engine | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
) -> contextlib.AbstractContextManager[Pool | Engine]:
    """An :class:`Engine` to share across batches; an open pool or engine passes through."""
    executor = python_default(executor, workers)
    if isinstance(executor, Pool | Engine):
        return contextlib.nullcontext(executor)
    return Engine(executor, workers, scheduler)


def _short(todo: int | None, run_seconds: float) -> bool:
    """Whether a job is over before worker processes would have started."""
    return todo is not None and (todo <= 1 or todo * run_seconds < IN_PROCESS_BELOW_S)


def _bar(total: int | None, initial: int, label: str, enabled: bool) -> Any:
    if not enabled or (total is not None and total - initial < 2):
        return None
    from tqdm import tqdm

    return tqdm(
        total=total,
        initial=initial,
        desc=label,
        unit="run",
        file=sys.stderr,
        dynamic_ncols=True,
        smoothing=0.1,
        leave=False,
    )


def _say(text: str) -> None:
    print(text, file=sys.stderr)


__all__ = [
    "EXECUTORS",
    "Engine",
    "Job",
    "RunError",
    "RunsFailed",
    "check",
    "engine",
    "estimated_seconds",
    "python_default",
    "results_or_raise",
    "run_all",
    "run_jobs",
    "runs_per_task",
]
