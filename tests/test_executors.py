"""Executors: one collecting code path over this process, a spawn pool and Dask.

The task functions are top-level functions of this module, so spawned workers import them
by name (``spawn`` hands the parent's ``sys.path`` to its children).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from sanshe.experiments.executors import (
    RunError,
    check_versions,
    collect,
    guarded_call,
    held_interrupts,
    installed,
    open_executor,
)
from sanshe.inputs.errors import InputError


def _square(x: int) -> int:
    return x * x


def _square_or_fail(x: int) -> int:
    if x % 5 == 3:
        raise ValueError(f"no square for {x}")
    return x * x


def _pid(x: int) -> int:
    time.sleep(0.05)
    return os.getpid()


def _note_pid_and_sleep(arg: tuple[str, float]) -> int:
    """Write this worker's pid to a file, then sleep: a run that is still going."""
    path, seconds = arg
    Path(path).write_text(str(os.getpid()))
    time.sleep(seconds)
    return os.getpid()


def _pid_from(path: Path, timeout: float = 120.0) -> int:
    """The pid a worker wrote to ``path`` (spawned workers take a few seconds to start)."""
    deadline = time.monotonic() + timeout
    while not (path.exists() and path.read_text()) and time.monotonic() < deadline:
        time.sleep(0.02)
    return int(path.read_text())


def _dask_or_skip() -> None:
    pytest.importorskip(
        "distributed",
        reason="dask.distributed is not installed (pip install 'sanshe[distributed]')",
    )


EXECUTOR_CASES = [("serial", None), ("local", 1), ("local", 2), ("dask", 2)]


@pytest.mark.parametrize(("kind", "workers"), EXECUTOR_CASES)
def test_collect_returns_every_result_and_failure(kind: str, workers: int | None) -> None:
    if kind == "dask":
        _dask_or_skip()
    tasks = [(f"k{i}", i) for i in range(12)]
    with open_executor(kind, workers) as pool:
        got = dict(collect(pool, _square_or_fail, tasks))
    assert set(got) == {k for k, _ in tasks}
    for key, x in tasks:
        if x % 5 == 3:
            error = got[key]
            assert isinstance(error, RunError)
            assert "ValueError: no square for" in str(error)
            assert "_square_or_fail" in error.traceback_text  # the worker's own frames
        else:
            assert got[key] == x * x


def test_local_pool_uses_worker_processes() -> None:
    with open_executor("local", 2) as pool:
        pids = {pid for _, pid in collect(pool, _pid, [(i, i) for i in range(8)])}
    assert os.getpid() not in pids
    assert 1 <= len(pids) <= 2


def test_in_flight_is_bounded() -> None:
    drawn = 0
    yielded = 0
    worst = 0

    def tasks():
        nonlocal drawn
        for i in range(40):
            drawn += 1
            yield i, i

    with open_executor("local", 2) as pool:
        for _ in collect(pool, _square, tasks()):
            yielded += 1
            worst = max(worst, drawn - yielded)
    assert yielded == 40
    assert worst <= 2 * 2  # at most twice the workers in flight, lazily drawn


def test_explicit_in_flight_limit_with_serial_pool() -> None:
    drawn = []

    def tasks():
        for i in range(5):
            drawn.append(i)
            yield i, i

    with open_executor("serial") as pool:
        stream = collect(pool, _square, tasks(), in_flight=1)
        assert next(stream) == (0, 0)
        assert drawn == [0]


def test_runs_done_together_come_in_submission_order() -> None:
    """The serial pool finishes every submitted run before waiting, so each wait finds
    several done: they must come (and be stored) in the order they ran, not a set's."""
    with open_executor("serial") as pool:
        keys = [key for key, _ in collect(pool, _square, [(i, i) for i in range(60)],
                                          in_flight=30)]
    assert keys == list(range(60))


def test_guarded_call_returns_run_error_that_pickles() -> None:
    import pickle

    error = guarded_call(_square_or_fail, 3)
    assert isinstance(error, RunError)
    again = pickle.loads(pickle.dumps(error))
    assert again.message == error.message
    assert again.traceback_text == error.traceback_text


@pytest.mark.parametrize(
    ("kind", "workers", "scheduler", "needle"),
    [
        ("threads", None, None, "must be one of serial, local, dask"),
        ("local", 0, None, "--workers"),
        ("local", None, "tcp://localhost:8786", "needs --executor dask"),
    ],
)
def test_bad_executor_options(
    kind: str, workers: int | None, scheduler: str | None, needle: str
) -> None:
    with pytest.raises(InputError, match=needle), open_executor(kind, workers, scheduler):
        pass


def test_dask_unreachable_scheduler_is_input_error() -> None:
    _dask_or_skip()
    import distributed

    with (
        pytest.MonkeyPatch.context() as mp,
        pytest.raises(InputError, match="cannot reach the Dask scheduler"),
    ):
        mp.setattr(
            distributed.Client,
            "__init__",
            lambda self, *a, **k: (_ for _ in ()).throw(OSError("timed out")),
        )
        with open_executor("dask", 1, "tcp://127.0.0.1:9"):
            pass


class _Cluster:
    """A Dask client's ``run`` as far as :func:`check_versions` uses it: each worker's answer."""

    def __init__(self, answers: dict[str, tuple[str, str | None]]) -> None:
        self.answers = answers

    def run(self, fn) -> dict[str, tuple[str, str | None]]:
        return self.answers


def test_workers_running_other_sanshe_code_are_refused() -> None:
    version, commit = installed()
    check_versions(_Cluster({"tcp://a:1": (version, commit)}))
    check_versions(_Cluster({"tcp://a:1": (version, None)}))  # a wheel knows no commit
    with pytest.raises(InputError, match=r"1 of 2 Dask worker.*tcp://b:1: 0\.0\.1"):
        check_versions(_Cluster({"tcp://a:1": (version, commit), "tcp://b:1": ("0.0.1", None)}))
    if commit:
        with pytest.raises(InputError, match="other sanshe code"):
            check_versions(_Cluster({"tcp://a:1": (version, "0" * 40)}))


# --- Ctrl-C ---------------------------------------------------------------------------------
def test_held_interrupts_raises_when_the_block_ends() -> None:
    finished = False
    with pytest.raises(KeyboardInterrupt), held_interrupts() as caught:
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)  # the handler runs here, and only takes a note
        assert caught == [signal.SIGINT]
        finished = True
    assert finished
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # restored


def test_held_interrupts_leaves_other_threads_and_handlers_alone() -> None:
    seen = []

    def in_a_thread() -> None:
        with held_interrupts():
            seen.append(signal.getsignal(signal.SIGINT))

    thread = threading.Thread(target=in_a_thread)
    thread.start()
    thread.join()
    with held_interrupts():
        seen.append(signal.getsignal(signal.SIGINT))
    assert seen[0] is signal.default_int_handler  # a thread cannot take signals
    assert seen[1] is not signal.default_int_handler  # the main thread holds them


def test_ctrl_c_stops_a_local_pool_at_once(tmp_path: Path) -> None:
    """Ctrl-C while a worker is mid-run (a run of a minute): KeyboardInterrupt within
    seconds, and the worker ended rather than waited for."""
    marker = tmp_path / "pid"
    sent: list[float] = []

    def ctrl_c_once_the_run_started() -> None:
        _pid_from(marker)
        sent.append(time.monotonic())
        os.kill(os.getpid(), signal.SIGINT)  # the coordinator alone, as `kill -INT` does

    thread = threading.Thread(target=ctrl_c_once_the_run_started)
    thread.start()
    with pytest.raises(KeyboardInterrupt), open_executor("local", 1) as pool:
        list(collect(pool, _note_pid_and_sleep, [(0, (str(marker), 60.0))]))
    stopped = time.monotonic() - sent[0]
    thread.join()
    assert stopped < 15, f"{stopped:.1f} s from Ctrl-C to the end of the pool"
    with pytest.raises(ProcessLookupError):
        os.kill(int(marker.read_text()), 0)  # the worker is gone


def test_a_worker_ignores_ctrl_c_and_the_coordinator_stops_it(tmp_path: Path) -> None:
    marker = tmp_path / "pid"
    outcomes: list = []
    with open_executor("local", 1) as pool:
        stream = collect(pool, _note_pid_and_sleep, [(0, (str(marker), 1.0))])
        pid = None

        def ctrl_c_the_worker() -> None:
            nonlocal pid
            pid = _pid_from(marker)
            os.kill(pid, signal.SIGINT)  # a terminal's Ctrl-C reaches the whole group

        thread = threading.Thread(target=ctrl_c_the_worker)
        thread.start()
        try:
            outcomes.extend(stream)
        except KeyboardInterrupt:  # the worker's interrupted run, re-raised here
            outcomes.append("KeyboardInterrupt")
        thread.join()
    assert outcomes == [(0, pid)]  # the run finished in spite of the signal
