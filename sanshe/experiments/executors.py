"""Where runs execute: this process, a local process pool or a Dask cluster.

One sweep engine, the executor a parameter (EMA Workbench's evaluators). :func:`open_executor`
gives a :class:`Pool` — ``submit`` plus a way to wait for the first finished future — over
``concurrent.futures`` or ``dask.distributed``; :func:`collect` is the one code path that
feeds it tasks and yields ``(key, result-or-exception)`` as runs complete, with a bounded
number in flight so memory stays flat however long the sweep.

Workers only ever receive a picklable top-level function and its argument (a
:class:`~model.experiment.RunSpec` carrying the resolved scenario), so they need the
``model`` package installed but no scenario files. Only the coordinating process writes to
the results store.

Ctrl-C is the coordinator's alone: local workers ignore SIGINT, the coordinator holds it
while it is inside ``concurrent.futures``' bookkeeping or a store commit
(:func:`held_interrupts`) and then stops the workers at once (:meth:`ProcessPool.stop`).
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import signal
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from sanshe.inputs.errors import InputError

#: Executor kinds accepted by :func:`open_executor` and ``--executor``.
EXECUTORS = ("serial", "local", "dask")

#: Dask settings for the workers of a LocalCluster. Dask's nanny sets
#: MALLOC_TRIM_THRESHOLD_=65536 in its workers so they hand memory back to the OS early;
#: for a model that allocates many short-lived NumPy arrays that makes every run about a
#: third slower, so it is unset (None). The statistical profiler, which samples the task's
#: stack every 10 ms, costs a few percent more and is switched off. A remote cluster's
#: workers take the same settings from their own Dask config (docs/sweeps.md).
LOCAL_CLUSTER_CONFIG = {
    "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
    "distributed.worker.profile.enabled": False,
}

#: Tasks kept in flight per worker: enough to keep every worker busy, few enough that
#: finished results never pile up in memory.
IN_FLIGHT_PER_WORKER = 2

#: Seconds the coordinator waits for a finished task before it looks whether Ctrl-C was
#: pressed meanwhile: how late, at most, a Ctrl-C stops a sweep on worker processes.
WAIT_SLICE_S = 0.1

#: Seconds to wait for a terminated worker process to end.
STOP_WAIT_S = 5.0


@contextmanager
def held_interrupts() -> Iterator[list[int]]:
    """Hold Ctrl-C (SIGINT) until the block ends, then raise KeyboardInterrupt.

    Python raises KeyboardInterrupt at whatever bytecode the main thread is running. Inside
    ``concurrent.futures.wait``, which takes the futures' locks one by one, it can leave a
    lock taken: the pool's manager thread then blocks on it for ever and the interpreter,
    which joins that thread at exit, never exits. Inside a store write it would cut the
    transaction short. So these blocks take the signal as a note (the yielded list, for a
    block that waits and wants to stop early) and raise when they end. Only in the main
    thread under Python's default handler; elsewhere (another thread, a handler of the
    caller's) the block runs as is.
    """
    caught: list[int] = []
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    ):
        yield caught
        return
    previous = signal.signal(signal.SIGINT, lambda signum, _frame: caught.append(signum))
    try:
        yield caught
    finally:
        signal.signal(signal.SIGINT, previous)
        if caught:
            raise KeyboardInterrupt


def ignore_interrupts() -> None:
    """Worker initializer: a terminal's Ctrl-C (sent to the whole process group) is left
    to the coordinator, which stops the workers itself."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class RunError(Exception):
    """A run that raised: the exception's one-line summary and its full traceback text.

    Returned (not raised) by the worker wrapper so the coordinating process can store the
    failure and carry on; it pickles because its ``args`` are plain strings.
    """

    def __init__(self, message: str, traceback_text: str) -> None:
        super().__init__(message, traceback_text)
        self.message = message
        self.traceback_text = traceback_text

    def __str__(self) -> str:
        return self.message

    @classmethod
    def from_exception(cls, exc: BaseException) -> RunError:
        """A RunError describing ``exc`` with its traceback as text."""
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        return cls(f"{type(exc).__name__}: {exc}", text)


def guarded_call(fn: Callable[[Any], Any], arg: Any) -> Any:
    """``fn(arg)``, or a :class:`RunError` if it raises (runs inside the worker).

    Catching in the worker keeps the traceback text exact and independent of the executor
    (a process pool and Dask re-raise remote exceptions differently).
    """
    try:
        return fn(arg)
    except Exception as exc:  # noqa: BLE001 - every model error becomes a stored failure
        return RunError.from_exception(exc)


def default_workers() -> int:
    """The cores this process may use (its CPU affinity where the OS reports one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS, Windows
        return max(1, os.cpu_count() or 1)


class Pool:
    """A ``concurrent.futures``-style executor: ``submit``, ``wait_any`` and ``capacity``.

    ``capacity`` is the number of tasks that can run at once (worker processes, or Dask
    worker threads); :func:`collect` keeps about twice that many in flight.
    """

    kind = "base"

    def submit(self, fn: Callable[..., Any], *args: Any) -> Any:
        raise NotImplementedError

    def wait_any(self, futures: Iterable[Any]) -> set[Any]:
        """Block until at least one of ``futures`` is done; the done ones."""
        done, _ = cf.wait(list(futures), return_when=cf.FIRST_COMPLETED)
        return set(done)

    @property
    def capacity(self) -> int:
        raise NotImplementedError

    def describe(self) -> str:
        """One line for the console: what runs the work."""
        return f"{self.kind} executor, {self.capacity} worker(s)"


class SerialPool(Pool):
    """Runs each task in this process at submission (for debugging and tiny sweeps)."""

    kind = "serial"

    def submit(self, fn: Callable[..., Any], *args: Any) -> cf.Future:
        future: cf.Future = cf.Future()
        try:
            future.set_result(fn(*args))
        except BaseException as exc:  # noqa: BLE001 - delivered through the future
            if isinstance(exc, KeyboardInterrupt | SystemExit):
                raise
            future.set_exception(exc)
        return future

    @property
    def capacity(self) -> int:
        return 1


class ProcessPool(Pool):
    """A ``ProcessPoolExecutor`` that starts workers with "spawn".

    Spawned workers import a fresh interpreter rather than forking this one, so the pool
    behaves the same on Linux, macOS, Windows and inside Jupyter.
    """

    kind = "local"

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.executor = cf.ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=ignore_interrupts,
        )

    def submit(self, fn: Callable[..., Any], *args: Any) -> cf.Future:
        with held_interrupts():  # submitting may start a worker process
            return self.executor.submit(fn, *args)

    def wait_any(self, futures: Iterable[Any]) -> set[Any]:
        """Block until one of ``futures`` is done, or raise KeyboardInterrupt within
        :data:`WAIT_SLICE_S` of a Ctrl-C."""
        futures = list(futures)
        done: set[Any] = set()
        with held_interrupts() as caught:
            while not done and not caught:
                done, _ = cf.wait(futures, timeout=WAIT_SLICE_S, return_when=cf.FIRST_COMPLETED)
        return done

    def stop(self) -> None:
        """Stop now: drop the queued tasks and end the workers mid-run (their runs would
        be stored by nobody), so the process exits at once, not after the running tasks."""
        with held_interrupts():
            terminate = getattr(self.executor, "terminate_workers", None)  # Python 3.14+
            if terminate is not None:
                terminate()
                return
            processes = list((self.executor._processes or {}).values())
            self.executor.shutdown(wait=False, cancel_futures=True)
            for process in processes:
                if process.exitcode is None:
                    process.terminate()
            for process in processes:
                process.join(STOP_WAIT_S)

    @property
    def capacity(self) -> int:
        return self.workers


class DaskPool(Pool):
    """A ``dask.distributed`` client: an existing scheduler or a fresh ``LocalCluster``."""

    kind = "dask"

    #: Seconds between asks to the scheduler how many worker threads it has (workers may
    #: join or leave a running cluster).
    CAPACITY_TTL_S = 5.0

    def __init__(self, client: Any, cluster: Any = None) -> None:
        import distributed

        self.client = client
        self.cluster = cluster
        self._distributed = distributed
        self._capacity = 1
        self._capacity_at = -float("inf")

    def submit(self, fn: Callable[..., Any], *args: Any) -> Any:
        # pure=False: two tasks with equal arguments are still two runs, never merged.
        return self.client.submit(fn, *args, pure=False)

    def wait_any(self, futures: Iterable[Any]) -> set[Any]:
        # Dask futures are not concurrent.futures; distributed has its own waiting.
        done, _ = self._distributed.wait(list(futures), return_when="FIRST_COMPLETED")
        return set(done)

    @property
    def capacity(self) -> int:
        now = time.monotonic()
        if now - self._capacity_at > self.CAPACITY_TTL_S:
            self._capacity = max(1, sum(self.client.nthreads().values()))
            self._capacity_at = now
        return self._capacity

    def describe(self) -> str:
        where = "LocalCluster" if self.cluster is not None else self.client.scheduler.address
        return f"dask executor ({where}), {self.capacity} worker thread(s)"


def check_executor(kind: str, workers: int | None, scheduler: str | None) -> None:
    """InputError unless ``kind``, ``workers`` and ``scheduler`` make a usable executor."""
    if kind not in EXECUTORS:
        raise InputError(
            f"--executor {kind!r} is not known; it must be one of {', '.join(EXECUTORS)}."
        )
    if workers is not None and (isinstance(workers, bool) or int(workers) < 1):
        raise InputError(f"--workers {workers!r} must be a whole number of at least 1.")
    if scheduler and kind != "dask":
        raise InputError(
            f"--scheduler {scheduler!r} needs --executor dask (it names a Dask "
            f"scheduler, e.g. tcp://HOST:8786); the {kind} executor has none."
        )


def import_distributed() -> Any:
    """dask.distributed, or an InputError that says how to install it."""
    try:
        import distributed
    except ImportError as exc:
        raise InputError(
            "--executor dask needs dask.distributed, which is not installed: "
            "pip install 'sanshe[distributed]'."
        ) from exc
    return distributed


@contextmanager
def open_executor(
    kind: str = "local", workers: int | None = None, scheduler: str | None = None
) -> Iterator[Pool]:
    """A :class:`Pool` of ``kind`` ("serial", "local" or "dask"), closed on exit.

    ``workers`` defaults to the cores available. For "dask", ``scheduler`` is the address
    of a running scheduler (``tcp://HOST:8786``); without one a ``LocalCluster`` of
    ``workers`` single-threaded processes is started and stopped here.
    """
    check_executor(kind, workers, scheduler)
    n = int(workers) if workers is not None else default_workers()
    if kind == "serial":
        yield SerialPool()
    elif kind == "local":
        pool = ProcessPool(n)
        try:
            yield pool
        except BaseException:
            pool.stop()  # Ctrl-C, an error or an abandoned sweep: no run left to wait for
            raise
        pool.executor.shutdown(wait=True)
    else:
        yield from _dask_pool(n, scheduler)


def _dask_pool(workers: int, scheduler: str | None) -> Iterator[Pool]:
    distributed = import_distributed()
    cluster = None
    try:
        if scheduler:
            client = distributed.Client(scheduler, timeout="30s")
        else:
            import dask

            with dask.config.set(LOCAL_CLUSTER_CONFIG):
                cluster = distributed.LocalCluster(
                    n_workers=workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=":0",  # any free port: never clash with another cluster
                )
            client = distributed.Client(cluster)
    except OSError as exc:
        if cluster is not None:
            cluster.close()
        raise InputError(
            f"--scheduler {scheduler!r}: cannot reach the Dask scheduler "
            f"({exc}); start one with `dask scheduler` and give its "
            "tcp://HOST:8786 address."
        ) from exc
    try:
        if scheduler:
            check_versions(client)
        yield DaskPool(client, cluster)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def installed() -> tuple[str, str | None]:
    """This process's sanshe version and git commit (None outside a git checkout)."""
    from sanshe.experiments.provenance import git_commit, package_version

    return package_version(), git_commit()


def check_versions(client: Any) -> None:
    """InputError unless every worker of a cluster runs the coordinator's sanshe.

    A worker with other code gives other numbers while the store records only the
    coordinator's version, so a mismatch stops the sweep before any run. Commits are
    compared where both sides know theirs (an installed wheel has none). Workers that join
    later are not checked.
    """
    mine = installed()
    theirs = client.run(installed)
    odd = {
        address: (version, commit)
        for address, (version, commit) in theirs.items()
        if version != mine[0] or (commit and mine[1] and commit != mine[1])
    }
    if odd:
        address, (version, commit) = next(iter(odd.items()))
        raise InputError(
            f"{len(odd)} of {len(theirs)} Dask worker(s) run other sanshe code than this "
            f"coordinator ({mine[0]}, commit {mine[1]}); e.g. {address}: {version}, commit "
            f"{commit}. Install the same version on every machine (docs/sweeps.md) and "
            "restart the workers."
        )


def collect(
    pool: Pool,
    fn: Callable[[Any], Any],
    tasks: Iterable[tuple[Any, Any]],
    in_flight: int | None = None,
) -> Iterator[tuple[Any, Any]]:
    """Run ``fn(arg)`` for each ``(key, arg)`` of ``tasks``; yield ``(key, outcome)``.

    ``outcome`` is ``fn``'s return value, or a :class:`RunError` when the run raised in the
    worker or the executor lost it (a worker died). Tasks are drawn lazily from ``tasks``
    and at most ``in_flight`` (default twice the pool's capacity) are submitted at once, so
    a generator of a million tasks costs no memory. Results come in completion order
    (those done together, in submission order).
    """
    pending: dict[Any, Any] = {}
    source = iter(tasks)
    exhausted = False

    def limit() -> int:
        return in_flight if in_flight is not None else IN_FLIGHT_PER_WORKER * pool.capacity

    def fill() -> None:
        nonlocal exhausted
        while not exhausted and len(pending) < limit():
            try:
                key, arg = next(source)
            except StopIteration:
                exhausted = True
                return
            pending[pool.submit(guarded_call, fn, arg)] = key

    fill()
    while pending:
        done = pool.wait_any(pending)
        # Several done at once come in submission order, not a set's (id-hash) order, so a
        # serial sweep stores and yields its runs in the order it ran them.
        for future in [f for f in pending if f in done]:
            key = pending.pop(future)
            yield key, _outcome(future)
        fill()


def _outcome(future: Any) -> Any:
    """A finished future's result, or a RunError for an executor-level failure."""
    try:
        return future.result()
    except cf.process.BrokenProcessPool:
        raise  # the pool is gone: no later run can start, so stop the sweep
    except Exception as exc:  # noqa: BLE001 - e.g. dask's KilledWorker: store and go on
        return RunError.from_exception(exc)
