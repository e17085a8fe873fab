"""Shared fixtures: a real PostgreSQL server for the store tests, and fabricated runs;
Ctrl-C deliverable whatever started the test run.

``pg_url`` uses ``SANSHE_TEST_POSTGRES_URL`` when set. Otherwise it starts a throwaway
server for the test session: ``initdb`` and ``pg_ctl`` from PATH or
``/usr/lib/postgresql/*/bin``, run as an unprivileged user when the tests run as root
(PostgreSQL refuses root), listening on a free loopback port with its socket in the same
temporary directory. When no server can be started the tests that need it are skipped,
and the skip message says why.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from sanshe.experiments.experiment import RunResult
from sanshe.inputs.outcomes import OUTCOME_NAMES, finals

POSTGRES_ENV = "SANSHE_TEST_POSTGRES_URL"
_PG_USER_CANDIDATES = ("postgres", "nobody")


# --- PostgreSQL ------------------------------------------------------------------------
def pytest_configure(config: pytest.Config) -> None:
    """A test run started in the background (``cmd &`` without job control, ``nohup``)
    inherits SIGINT ignored, and so would every process it starts: Python then installs no
    KeyboardInterrupt handler, and the tests of what Ctrl-C does (held interrupts, a
    stopped pool, an interrupted compare) would fail for the runner's reason, not the
    product's. Restore Python's own handler, which the compare's subprocesses inherit as
    the default."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def _pg_binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    return candidates[0] if candidates else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _server_user() -> str | None:
    """The account to run the server as: None for the current one unless we are root."""
    if os.geteuid() != 0:
        return None
    for name in _PG_USER_CANDIDATES:
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    subprocess.run(
        ["useradd", "--system", "--no-create-home", "postgres"], check=True, capture_output=True
    )
    return "postgres"


class _Server:
    """A throwaway PostgreSQL cluster in a temporary directory."""

    def __init__(self) -> None:
        initdb, self.pg_ctl = _pg_binary("initdb"), _pg_binary("pg_ctl")
        if not initdb or not self.pg_ctl:
            raise RuntimeError("initdb/pg_ctl not found on PATH or in /usr/lib/postgresql")
        self.user = _server_user()
        # Not under pytest's tmp dir: that is private to root and the server user must
        # be able to enter its directory.
        self.root = Path(tempfile.mkdtemp(prefix="sanshe-pg-"))
        self.data = self.root / "data"
        if self.user:
            entry = pwd.getpwnam(self.user)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        self.port = _free_port()
        self._run(
            [
                initdb,
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-locale",
                "--no-sync",
            ]
        )
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} "
            "-c fsync=off -c full_page_writes=off"
        )
        self._run(
            [
                self.pg_ctl,
                "-D",
                str(self.data),
                "-o",
                options,
                "-l",
                str(self.root / "server.log"),
                "-w",
                "-t",
                "60",
                "start",
            ]
        )
        self.admin_url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, command: list[str]) -> None:
        done = subprocess.run(
            command,
            user=self.user,
            capture_output=True,
            text=True,
            cwd=self.root,
            check=False,
            timeout=120,
        )
        if done.returncode != 0:
            log = self.root / "server.log"
            tail = log.read_text()[-800:] if log.exists() else ""
            raise RuntimeError(f"{Path(command[0]).name} failed: {done.stderr.strip()} {tail}")

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self._run([self.pg_ctl, "-D", str(self.data), "-m", "immediate", "-w", "stop"])
        shutil.rmtree(self.root, ignore_errors=True)


def _admin(admin_url: str):
    """An autocommit psycopg connection to the server (and database) of ``admin_url``."""
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(admin_url)
    return psycopg.connect(
        host=url.host,
        port=url.port,
        user=url.username,
        password=url.password,
        dbname=url.database,
        autocommit=True,
    )


def _create_database(admin_url: str, name: str) -> str:
    """Create database ``name`` on the server of ``admin_url``; its URL."""
    from sqlalchemy.engine import make_url

    with _admin(admin_url) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def _drop_database(admin_url: str, name: str) -> None:
    """Drop database ``name`` even if a test left connections open (best effort)."""
    from sqlalchemy.engine import make_url

    maintenance = make_url(admin_url).set(database="postgres").render_as_string(False)
    with contextlib.suppress(Exception), _admin(maintenance) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A PostgreSQL URL (an empty database) for this session, or a visible skip."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.skip("PostgreSQL tests need psycopg 3: pip install 'sanshe[postgres]'")
    given = os.environ.get(POSTGRES_ENV)
    server = None
    if given:
        admin = given.replace("postgresql://", "postgresql+psycopg://", 1)
    else:
        try:
            server = _Server()
        except Exception as exc:  # noqa: BLE001 - any failure is a reason to skip
            pytest.skip(f"no PostgreSQL server could be started ({exc}); set {POSTGRES_ENV}")
        admin = server.admin_url
    name = f"sanshe_test_{uuid.uuid4().hex[:10]}"
    try:
        url = _create_database(admin, name)
    except Exception as exc:  # noqa: BLE001 - any failure is a reason to skip
        if server:
            server.stop()
        pytest.skip(f"cannot create a database on the PostgreSQL server ({exc})")
    try:
        yield url
    finally:
        if server:
            server.stop()  # the whole cluster goes
        else:
            _drop_database(admin, name)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty results database on each engine (PostgreSQL: dropped afterwards)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'results.sqlite'}"
        return
    base = request.getfixturevalue("pg_url")
    name = f"t_{uuid.uuid4().hex[:12]}"
    url = _create_database(base, name)
    yield url
    _drop_database(base, name)


# --- fabricated runs -------------------------------------------------------------------
def fake_result(
    scenario: str = "baseline",
    replication: int = 0,
    seed: int = 1,
    months: int = 12,
    shift: float = 0.0,
) -> RunResult:
    """A RunResult with every outcome, random but reproducible from its arguments."""
    rng = np.random.default_rng([seed, replication, len(scenario)])
    series = {}
    for index, name in enumerate(OUTCOME_NAMES):
        level = 0.2 + 0.02 * index + shift
        series[name] = [float(v) for v in level + 0.05 * rng.standard_normal(months)]
    return RunResult(
        scenario=scenario,
        replication=replication,
        seed=seed,
        months=months,
        parameters={"scenario": {"name": scenario}, "policy": {"purchase": {"mode": "directed"}}},
        final=finals(series),
        series=series,
        elapsed=0.01,
    )


@pytest.fixture
def make_result():
    """The :func:`fake_result` factory, for tests that need fabricated runs."""
    return fake_result
