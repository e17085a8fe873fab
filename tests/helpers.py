"""Small districts and parameter tables shared by the model tests."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import numpy as np

from sanshe.experiments.experiment import plan, run_single
from sanshe.inputs.parameters import defaults
from sanshe.sim.mechanisms import ecology

#: A small district: 5 communities of 200 residents (fast, still every mechanism).
SMALL = {
    "district.streets": 1,
    "district.communities_per_street": 5,
    "district.residents_per_community": 200,
}
#: A station post in every community of SMALL: posts are stated per community of the
#: library's reference size (1,000 residents) and scale with a community's residents, and
#: the full package's (Yuhuatai's post per ~9,000) gives SMALL's five communities a tenth of one.
STATIONED = {"policy.social_work.posts_per_community": 5}


def with_community_sos(model, per_community: int = 2, seed: int = 0):
    """``model`` with ``per_community`` more pre-policy community SOs in every community.

    A unit test's precondition on districts too small for the status quo's seeding (0.41
    per 1,000 residents) to give each community an SO. Drawn from a generator of its own,
    so no stream of the model moves; ``model`` is returned for chaining.
    """
    rng = np.random.default_rng(seed)
    for c in range(model.pop.communities):
        for _ in range(per_community):
            ecology.seed_community_so(model, c, rng)
    model.births_month = 0
    return model


def params(**changes: float) -> dict[str, float]:
    """The default behavioural constants with ``changes``."""
    table = defaults()
    table.update(changes)
    return table


def finals(scenario: str, outcome: str, seeds: int = 5, months: int = 36,
           **overrides) -> np.ndarray:
    """Final values of ``outcome`` over ``seeds`` replications (common random numbers)."""
    specs = plan([scenario], replications=seeds, months=months, overrides={**SMALL, **overrides})
    return np.array([run_single(spec).final[outcome] for spec in specs])


def sanshe(*args: str, cwd: Path | str | None = None,
           timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run the command line in a fresh process, as a user would."""
    return subprocess.run([sys.executable, "-m", "sanshe", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=timeout)


@contextmanager
def sqlite_file(path: Path | str, timeout: float = 5.0) -> Iterator[sqlite3.Connection]:
    """A raw connection to a SQLite file, committed and closed on leaving: ``with
    sqlite3.connect(...)`` commits but leaves the connection open (Python 3.13 warns; a
    test polling a store while a sweep writes it would leave hundreds open)."""
    conn = sqlite3.connect(path, timeout=timeout)
    try:
        with conn:
            yield conn
    finally:
        conn.close()


def finished_runs(path: Path | str, timeout: float = 5.0) -> int:
    """Runs a store holds as finished, read while another process may be writing it: 0
    until the store exists (the connection never creates the file) or while it is locked
    beyond ``timeout``; the connection is closed."""
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=rw", uri=True,
                                                timeout=timeout)) as conn:
            return conn.execute("SELECT COUNT(*) FROM runs WHERE status = 'finished'").fetchone()[0]
    except sqlite3.Error:
        return 0
