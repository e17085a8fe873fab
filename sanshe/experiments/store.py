"""The results store: experiments, runs and monthly outcomes in one SQL database.

Tidy, long tables (run × month × outcome) with the parameters stored once per run, so a
big experiment streams to disk instead of piling up in memory. Each run is written in one
transaction as it finishes: a crash or Ctrl-C loses at most the runs in flight and never
leaves a run half-written, and rerunning an experiment skips the runs already stored.

SQLite (a file, the default ``results/sanshe.sqlite``) runs in WAL mode with a busy
timeout, takes its write lock up front (``BEGIN IMMEDIATE``) and retries a bounded number
of times on "database is locked", so several processes can write to one file. PostgreSQL
(``postgresql://``) goes through psycopg 3, the ``postgres`` extra. Other databases are
refused: they are untested. A URL is checked before anything is created
(:func:`database_url`) and shown with its password masked (:func:`mask`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import random
import re
import sqlite3
import time
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from itertools import chain, repeat
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import pandas as pd
from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Double,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    delete,
    event,
    func,
    insert,
    inspect,
    select,
)
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from sanshe.experiments.provenance import git_commit, package_version
from sanshe.inputs.errors import InputError

if TYPE_CHECKING:
    from sanshe.experiments.experiment import RunResult

#: Where the store lives when no URL is given (relative to the working directory).
DEFAULT_PATH = Path("results") / "sanshe.sqlite"

#: Seconds SQLite waits for another writer's lock before reporting "database is locked".
BUSY_TIMEOUT_S = 30.0

#: Attempts at a write transaction when SQLite still reports a lock, and the first pause.
LOCK_RETRIES = 6
LOCK_BACKOFF_S = 0.1

#: Experiment kinds.
KINDS = ("compare", "sweep", "run", "optimize", "calibrate")

#: Run states.
FINISHED, FAILED = "finished", "failed"

#: Columns every ``runs()`` frame starts with.
RUN_COLUMNS = (
    "key",
    "scenario",
    "replication",
    "seed",
    "months",
    "status",
    "error",
    "elapsed",
    "created",
    "version",
    "git_commit",
)

#: Columns of the long monthly form (``series()`` and ``sanshe export``).
SERIES_COLUMNS = ("key", "scenario", "replication", "month", "outcome", "value")

#: A table's rows as columns, one list each (zipped into rows when they are written).
Columns = tuple[list[Any], ...]

T = TypeVar("T")


# --- tables ----------------------------------------------------------------------------
class Base(DeclarativeBase):
    """Declarative base of the results schema."""


class Experiment(Base):
    """A named set of runs made by one command (``compare``, ``sweep`` or ``run``)."""

    __tablename__ = "experiments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    spec_hash: Mapped[str] = mapped_column(String(64))
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Run(Base):
    """One simulation run of an experiment: what ran, with what, and how it ended."""

    __tablename__ = "runs"
    __table_args__ = (UniqueConstraint("experiment_id", "key", name="uq_runs_experiment_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    experiment_id: Mapped[int] = mapped_column(ForeignKey("experiments.id"), index=True)
    key: Mapped[str] = mapped_column(String(300))
    scenario: Mapped[str] = mapped_column(String(200))
    replication: Mapped[int] = mapped_column(Integer)
    seed: Mapped[int] = mapped_column(BigInteger)
    months: Mapped[int | None] = mapped_column(Integer, nullable=True)
    status: Mapped[str] = mapped_column(String(20))
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    elapsed: Mapped[float | None] = mapped_column(Double, nullable=True)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON)
    sample: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    version: Mapped[str] = mapped_column(String(50))
    git_commit: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Final(Base):
    """A run's final value of one outcome (see :func:`model.outcomes.final_value`)."""

    __tablename__ = "finals"
    # SQLite keeps the rows in their key's own B-tree, not beside it: one tree to write, not
    # two, and files about half the size (rows are stored many to a run)
    __table_args__ = {"sqlite_with_rowid": False}

    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"), primary_key=True)
    outcome: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[float | None] = mapped_column(Double, nullable=True)


class Monthly(Base):
    """A run's value of one outcome in one month: the long form, run × month × outcome."""

    __tablename__ = "monthly"
    __table_args__ = {"sqlite_with_rowid": False}  # as finals

    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"), primary_key=True)
    outcome: Mapped[str] = mapped_column(String(64), primary_key=True)
    month: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[float | None] = mapped_column(Double, nullable=True)


# --- URLs and engines ------------------------------------------------------------------
#: What ``--db`` accepts, for messages.
ACCEPTED_URLS = (
    "a SQLite file path (e.g. results/sanshe.sqlite), sqlite:///PATH, or "
    "postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE"
)

#: Drivers per database: the first is used when the URL names none.
DRIVERS = {"sqlite": ("pysqlite",), "postgresql": ("psycopg",)}

#: The first 16 bytes of every SQLite database file.
SQLITE_HEADER = b"SQLite format 3\x00"

#: Seconds to wait for a database server before saying it cannot be reached.
CONNECT_TIMEOUT_S = 10

#: A path that starts like a URL ("postgres:/x", "sqlite:x") but lacks its "://".
_SCHEME_LIKE = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+):")

#: Schemes that make "NAME:..." a mistyped URL even without a slash after the colon.
_KNOWN_SCHEMES = ("sqlite", "postgresql", "postgres", "mysql", "file", "http", "https")

#: "USER:PASSWORD@HOST..." with the scheme forgotten.
_CREDENTIALS = re.compile(r"^[^/@]*:[^/@]*@")


def mask(url: str | URL | Path | None) -> str:
    """``url`` fit to show: any password replaced by ``***`` (also in unparsable text)."""
    if isinstance(url, URL):
        return url.render_as_string(hide_password=True)
    text = "" if url is None else str(url)
    try:
        return make_url(text).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return re.sub(r"^([^@]*?:/*[^:/@]*:)[^@]*@", r"\1***@", text)


def database_url(url: str | Path | None, must_exist: bool = False) -> URL:
    """The SQLAlchemy URL of ``url`` (None: the default file, a path or a URL), checked.

    Nothing is created: a SQLite file's folder must exist or be creatable, and with
    ``must_exist`` (commands that only read) the file itself must exist. An unknown
    scheme, a malformed URL, a bad port or a missing driver is an InputError that says
    what to do, with any password masked.
    """
    text = str(DEFAULT_PATH if url is None else url).strip()
    if not text:
        raise InputError(f"--db is empty; give {ACCEPTED_URLS}.")
    if "://" not in text:
        _check_not_a_url(text)
        shown = f"{text} (the default)" if url is None else text
        return _sqlite_file(Path(text).expanduser(), shown, must_exist)
    parsed = _parse_url(text)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        _check_driver(parsed)
        return _sqlite_url(parsed, text, must_exist)
    if backend == "postgresql":
        _check_driver(parsed)
        return parsed
    raise InputError(
        f"--db {mask(text)}: '{backend}' databases are not supported; give {ACCEPTED_URLS}."
    )


def _check_not_a_url(text: str) -> None:
    """A plain path must not be a URL gone wrong ("postgres:/x", "user:pw@host/db")."""
    scheme = _SCHEME_LIKE.match(text)
    if scheme and (":/" in text or scheme.group(1).split("+")[0] in _KNOWN_SCHEMES):
        raise InputError(
            f"--db {mask(text)}: not a valid database URL (a URL needs '://' after "
            f"'{scheme.group(1)}'); give {ACCEPTED_URLS}."
        )
    if _CREDENTIALS.match(text):
        raise InputError(
            f"--db {_CREDENTIALS.sub('***@', text)}: looks like a server address without "
            f"its scheme; write postgresql://USER:PASSWORD@HOST/DATABASE. Accepted: "
            f"{ACCEPTED_URLS}."
        )


def _parse_url(text: str) -> URL:
    """``make_url`` with its errors (a port that is no number, garbage) as InputError.

    ``postgresql://`` and ``postgres://`` get psycopg 3 unless the URL names a driver.
    """
    try:
        parsed = make_url(text)
    except ValueError:  # int() of the port
        raise InputError(
            f"--db {mask(text)}: the port must be a whole number from 1 to 65535 "
            "(HOST:PORT, e.g. localhost:5432); or leave it out for the default."
        ) from None
    except ArgumentError:
        raise InputError(
            f"--db {mask(text)}: not a valid database URL; give {ACCEPTED_URLS}."
        ) from None
    if parsed.port is not None and not 1 <= parsed.port <= 65535:
        raise InputError(
            f"--db {mask(parsed)}: port {parsed.port} is out of range; it must be from 1 "
            "to 65535 (PostgreSQL's default is 5432)."
        )
    name, _, driver = parsed.drivername.partition("+")
    if name in ("postgresql", "postgres"):
        parsed = parsed.set(drivername=f"postgresql+{driver or 'psycopg'}")
    return parsed


def _sqlite_url(parsed: URL, text: str, must_exist: bool) -> URL:
    """A ``sqlite://`` URL: in memory (not for reading), or a file checked like a path."""
    if parsed.database in (None, "", ":memory:"):
        if must_exist:
            raise InputError(
                f"--db {text}: an in-memory database holds no stored experiments; "
                "give the SQLite file or server the runs were stored in."
            )
        return parsed
    path = Path(parsed.database).expanduser()
    _sqlite_file(path, text, must_exist)
    return parsed.set(database=str(path))


def _check_driver(parsed: URL) -> None:
    """The URL's driver must be one we support and be installed."""
    backend, driver = parsed.get_backend_name(), parsed.get_driver_name()
    if driver not in DRIVERS.get(backend, ()):
        raise InputError(
            f"--db {mask(parsed)}: the driver '{driver}' is not supported for {backend}; "
            f"use {backend}+{DRIVERS[backend][0]}:// (or plain {backend}://)."
        )
    try:
        parsed.get_dialect().import_dbapi()
    except ImportError:
        raise InputError(
            f"--db {mask(parsed)}: PostgreSQL needs the '{driver}' driver, which is not "
            'installed: pip install "sanshe[postgres]" (or store in a SQLite file instead, '
            "e.g. --db results/sanshe.sqlite)."
        ) from None


def _sqlite_file(path: Path, shown: str, must_exist: bool) -> URL:
    """A SQLite file's URL after checking the file (or where it would be made)."""
    from sanshe.inputs.checks import output_file

    if path.is_dir():
        raise InputError(
            f"--db {shown}: this is a folder; give a SQLite file, e.g. "
            f"--db {path / 'sanshe.sqlite'}."
        )
    if path.exists():
        if not _looks_like_sqlite(path):
            raise InputError(
                f"--db {shown}: this file is not a SQLite database (a results database "
                "starts with 'SQLite format 3'); give another file name, or the file the "
                "runs were stored in."
            )
    elif must_exist:
        where = path.parent if not path.parent.is_dir() else None
        why = f"the folder '{where}' does not exist" if where else "the file does not exist"
        raise InputError(
            f"--db {shown}: no results database there ({why}). Check the path (see the "
            "--db the runs were stored with), or store runs first, e.g. "
            "'sanshe compare baseline full_linkage'."
        )
    if not must_exist:
        output_file(path, "--db", example="sanshe.sqlite")
    return URL.create("sqlite", database=str(path))


def _looks_like_sqlite(path: Path) -> bool:
    """An empty file (SQLite makes one) or one with SQLite's header."""
    try:
        with path.open("rb") as fh:
            head = fh.read(len(SQLITE_HEADER))
    except OSError:
        return False
    return head in (b"", SQLITE_HEADER)


def normalise_url(url: str | Path | None) -> str:
    """A SQLAlchemy URL from ``None`` (the default file), a plain path or a URL.

    ``postgresql://`` and ``postgres://`` are sent through psycopg 3, the driver the
    ``postgres`` extra installs. A SQLite file's folder is created if missing.
    """
    parsed = database_url(url)
    _make_folder(parsed)
    return parsed.render_as_string(hide_password=False)


def _make_folder(parsed: URL) -> None:
    """Create a SQLite file's folder (after :func:`database_url` has checked it)."""
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)


def _make_engine(url: URL) -> Engine:
    """An engine; SQLite gets WAL, a busy timeout and explicit BEGIN [IMMEDIATE]."""
    if url.get_backend_name() != "sqlite":
        return create_engine(
            url, pool_pre_ping=True, connect_args={"connect_timeout": CONNECT_TIMEOUT_S}
        )
    engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_S})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from the sqlite3 module so BEGIN IMMEDIATE is possible.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        # The switch needs a moment's exclusive lock; if another process holds it, that
        # process is switching (WAL persists in the file), so carry on.
        with contextlib.suppress(sqlite3.OperationalError):
            cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # A writer takes the lock at BEGIN: upgrading a read lock later cannot wait for
        # the busy timeout and would fail at once under contention.
        immediate = conn.get_execution_options().get("sanshe_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _is_lock_error(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "database is locked" in text or "database is busy" in text or "sqlite_busy" in text


def _retry_locked(action: Callable[[], T]) -> T:
    """Run ``action``, retrying with backoff while SQLite reports a lock (bounded)."""
    for attempt in range(LOCK_RETRIES):
        try:
            return action()
        except OperationalError as exc:
            if not _is_lock_error(exc) or attempt == LOCK_RETRIES - 1:
                raise
            time.sleep(LOCK_BACKOFF_S * 2**attempt * (1 + random.random()))
    raise AssertionError("unreachable")  # pragma: no cover


def _canonical(spec: dict[str, Any]) -> str:
    return json.dumps(spec, sort_keys=True, separators=(",", ":"), default=str)


def spec_hash(spec: dict[str, Any]) -> str:
    """A stable SHA-256 of a JSON-serialisable spec."""
    return hashlib.sha256(_canonical(spec).encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


# --- the store -------------------------------------------------------------------------
class ResultStore:
    """Experiments, runs and their outcomes in a SQL database.

    ``url`` is a SQLAlchemy URL (``sqlite:///path``, ``postgresql://...``), a plain file
    path (SQLite) or None for ``results/sanshe.sqlite`` under the working directory.
    ``must_exist`` (for commands that only read) refuses to create a new SQLite file.
    ``url`` (the attribute) is the URL with its password masked: fit for any message.
    """

    def __init__(self, url: str | Path | None = None, *, must_exist: bool = False) -> None:
        parsed = database_url(url, must_exist=must_exist)
        self.url = mask(parsed)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        try:
            _make_folder(parsed)
        except OSError as exc:
            raise InputError(
                f"--db {self.url}: cannot create its folder ({exc.strerror})."
            ) from exc
        self.engine = _make_engine(parsed)
        # A store dropped without close() (a comparison kept in a notebook, a script's
        # store) closes its pooled connections when it is collected, not when the
        # connections themselves are (Python 3.13 warns of an unclosed SQLite connection).
        weakref.finalize(self, self.engine.dispose)
        try:
            if must_exist:  # reading: never add tables to someone else's database
                self._check_tables()
            else:
                self._write(lambda conn: Base.metadata.create_all(conn))
        except DBAPIError as exc:
            self.engine.dispose()
            raise InputError(self._cannot_open(parsed, exc)) from None

    def _check_tables(self) -> None:
        """InputError unless the database holds the results tables."""
        with self._read() as conn:
            missing = [t for t in Base.metadata.tables if not inspect(conn).has_table(t)]
        if missing:
            self.engine.dispose()
            raise InputError(
                f"--db {self.url}: not a sanshe results database (no table "
                f"{', '.join(missing)}); give the --db the runs were stored with."
            )

    def _cannot_open(self, parsed: URL, exc: DBAPIError) -> str:
        """One paragraph on why the database cannot be opened, password masked."""
        lines = [line.strip() for line in str(exc.orig).splitlines()]
        reason = "; ".join(line for line in lines if line)  # psycopg's message spans lines
        if parsed.password:
            reason = reason.replace(str(parsed.password), "***")
        if self.is_sqlite:
            advice = "check that it is a SQLite file you can write, or choose another --db"
        else:
            advice = (
                "check that the server is running and reachable from here, and the user, "
                "password and database name; or store in a SQLite file instead, e.g. "
                "--db results/sanshe.sqlite"
            )
        return f"--db {self.url}: cannot open the results database ({reason}); {advice}."

    def __repr__(self) -> str:
        return f"ResultStore({self.url!r})"

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # --- transactions ----------------------------------------------------------------
    def _write(self, action: Callable[[Connection], T]) -> T:
        """Run ``action(conn)`` in one write transaction, retried while SQLite is locked."""

        def attempt() -> T:
            with self.engine.connect() as conn:
                conn = conn.execution_options(sanshe_write=True)
                with conn.begin():
                    return action(conn)

        return _retry_locked(attempt)

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            yield conn

    # --- experiments -------------------------------------------------------------------
    def experiment(self, name: str, kind: str, spec: dict[str, Any]) -> int:
        """The id of experiment ``name``, created if new.

        An existing experiment must have the same kind and spec: resuming needs the same
        command, otherwise stored runs and new ones would answer different questions.
        """
        if kind not in KINDS:
            raise InputError(f"experiment kind must be one of {', '.join(KINDS)}, not {kind!r}.")
        spec = json.loads(_canonical(spec))  # what the database will give back
        digest = spec_hash(spec)

        def get_or_create(conn: Connection) -> int:
            row = conn.execute(
                select(Experiment.id, Experiment.kind, Experiment.spec_hash, Experiment.spec).where(
                    Experiment.name == name
                )
            ).first()
            if row is None:
                values = {
                    "name": name,
                    "kind": kind,
                    "spec": spec,
                    "spec_hash": digest,
                    "created": _now(),
                }
                created = conn.execute(insert(Experiment).values(**values))
                return int(created.inserted_primary_key[0])
            if row.kind != kind:
                raise InputError(
                    f"experiment '{name}' already exists as a {row.kind}, not a {kind}; choose "
                    "another name (--name) or remove the stored one."
                )
            if row.spec_hash != digest:
                raise InputError(
                    f"experiment '{name}' already exists with different settings "
                    f"({_spec_difference(row.spec, spec)}); resuming needs the same command. "
                    "Choose another name (--name) or start it afresh (--fresh)."
                )
            return int(row.id)

        try:
            return self._write(get_or_create)
        except IntegrityError:  # another process created it between our select and insert
            return self._write(get_or_create)

    def experiment_id(self, experiment: str | int) -> int:
        """The id of an experiment given by name or id; InputError listing names if unknown."""
        with self._read() as conn:
            column = Experiment.id if isinstance(experiment, int) else Experiment.name
            found = conn.execute(select(Experiment.id).where(column == experiment)).scalar()
            if found is not None:
                return int(found)
            names = conn.execute(select(Experiment.name).order_by(Experiment.created)).scalars()
            names = list(names)
        stored = ", ".join(names) if names else "none yet"
        raise InputError(
            f"no experiment {experiment!r} in {self.url}; stored experiments: {stored} "
            "('sanshe results --db URL' lists them; --db chooses another database)."
        )

    def experiment_info(self, experiment: str | int) -> dict[str, Any]:
        """Name, kind, spec and creation time of one experiment."""
        exp_id = self.experiment_id(experiment)
        with self._read() as conn:
            row = conn.execute(select(Experiment).where(Experiment.id == exp_id)).one()
        return {
            "id": row.id,
            "name": row.name,
            "kind": row.kind,
            "spec": row.spec,
            "created": row.created,
        }

    def delete_experiment(self, experiment: str | int) -> None:
        """Remove an experiment and everything stored for it."""
        exp_id = self.experiment_id(experiment)

        def remove(conn: Connection) -> None:
            run_ids = select(Run.id).where(Run.experiment_id == exp_id).scalar_subquery()
            conn.execute(delete(Monthly).where(Monthly.run_id.in_(run_ids)))
            conn.execute(delete(Final).where(Final.run_id.in_(run_ids)))
            conn.execute(delete(Run).where(Run.experiment_id == exp_id))
            conn.execute(delete(Experiment).where(Experiment.id == exp_id))

        self._write(remove)

    def experiments(self) -> pd.DataFrame:
        """One row per experiment: name, kind, created, scenarios, finished, failed."""
        with self._read() as conn:
            exps = conn.execute(
                select(
                    Experiment.id,
                    Experiment.name,
                    Experiment.kind,
                    Experiment.created,
                    Experiment.spec,
                ).order_by(Experiment.created, Experiment.id)
            ).all()
            counts = conn.execute(
                select(Run.experiment_id, Run.status, func.count()).group_by(
                    Run.experiment_id, Run.status
                )
            ).all()
            scen = conn.execute(select(Run.experiment_id, Run.scenario).distinct()).all()
        tally: dict[tuple[int, str], int] = {(e, s): n for e, s, n in counts}
        names: dict[int, list[str]] = {}
        for exp_id, scenario in scen:
            names.setdefault(exp_id, []).append(scenario)
        rows = []
        for exp in exps:
            listed = (exp.spec or {}).get("scenarios") if isinstance(exp.spec, dict) else None
            scenarios = list(listed) if listed else sorted(names.get(exp.id, []))
            rows.append(
                {
                    "name": exp.name,
                    "kind": exp.kind,
                    "created": exp.created,
                    "scenarios": ", ".join(str(s) for s in scenarios),
                    "finished": tally.get((exp.id, FINISHED), 0),
                    "failed": tally.get((exp.id, FAILED), 0),
                }
            )
        return pd.DataFrame(
            rows, columns=["name", "kind", "created", "scenarios", "finished", "failed"]
        )

    # --- runs ---------------------------------------------------------------------------
    def _keys(self, experiment_id: int, status: str) -> set[str]:
        with self._read() as conn:
            found = conn.execute(
                select(Run.key).where(Run.experiment_id == experiment_id, Run.status == status)
            ).scalars()
            return set(found)

    def finished_keys(self, experiment_id: int) -> set[str]:
        """Keys of the runs already stored as finished (skipped on resume)."""
        return self._keys(experiment_id, FINISHED)

    def failed_keys(self, experiment_id: int) -> set[str]:
        """Keys of the runs stored as failed (retried on resume)."""
        return self._keys(experiment_id, FAILED)

    def save_run(
        self, experiment_id: int, key: str, result: RunResult, sample: dict | None = None
    ) -> None:
        """Store a finished run — its row, finals and monthly values — in one transaction.

        Idempotent per (experiment, key): a run already finished is left as it is; a
        failed attempt under the same key is replaced.
        """
        self.save_runs(experiment_id, [(key, result, sample)])

    def save_runs(
        self,
        experiment_id: int,
        runs: Sequence[tuple[str, RunResult, dict | None]],
    ) -> None:
        """Store several finished runs ``(key, result, sample)`` in one transaction.

        A batch of runs back from a worker costs one commit instead of one each; every run
        is still idempotent per key, as in :meth:`save_run`.
        """
        prepared = {}
        for key, result, sample in runs:
            prepared.setdefault(key, _run_rows(experiment_id, key, result, sample))

        def write(conn: Connection) -> None:
            new = self._claim(conn, experiment_id, list(prepared))
            if not new:
                return  # all already finished: never duplicate
            ids = self._insert_runs(conn, [prepared[key][0] for key in new])
            for table, columns, part in (
                (Final, ("run_id", "outcome", "value"), 1),
                (Monthly, ("run_id", "outcome", "month", "value"), 2),
            ):
                self._bulk_insert(conn, table, columns, chain.from_iterable(
                    zip(repeat(ids[key]), *prepared[key][part]) for key in new))

        if prepared:
            self._write_once(write)

    @staticmethod
    def _claim(conn: Connection, experiment_id: int, keys: list[str]) -> list[str]:
        """The ``keys`` not yet finished, earlier failed attempts at them dropped (one
        query for the batch: a round trip to a server costs more than the rows)."""
        stored = conn.execute(
            select(Run.id, Run.key, Run.status).where(
                Run.experiment_id == experiment_id, Run.key.in_(keys)
            )
        ).all()
        failed = [r.id for r in stored if r.status != FINISHED]
        if failed:
            conn.execute(delete(Final).where(Final.run_id.in_(failed)))
            conn.execute(delete(Monthly).where(Monthly.run_id.in_(failed)))
            conn.execute(delete(Run).where(Run.id.in_(failed)))
        finished = {r.key for r in stored if r.status == FINISHED}
        return [key for key in keys if key not in finished]

    @staticmethod
    def _insert_runs(conn: Connection, rows: list[dict[str, Any]]) -> dict[str, int]:
        """Insert ``runs`` rows; each key's new id. One statement where the database
        returns ids from a many-row insert (PostgreSQL, SQLite 3.35+)."""
        if conn.dialect.insert_executemany_returning:
            found = conn.execute(insert(Run).returning(Run.key, Run.id), rows).all()
            return {key: int(run_id) for key, run_id in found}
        return {
            row["key"]: int(conn.execute(insert(Run).values(**row)).inserted_primary_key[0])
            for row in rows
        }

    def save_failure(
        self,
        experiment_id: int,
        key: str,
        scenario: str,
        replication: int,
        seed: int,
        parameters: dict,
        error: str,
        sample: dict | None = None,
    ) -> None:
        """Store a run that raised, with its traceback text; retried when resumed."""
        row = {
            "experiment_id": experiment_id,
            "key": key,
            "scenario": scenario,
            "replication": int(replication),
            "seed": int(seed),
            "months": None,
            "status": FAILED,
            "error": str(error),
            "elapsed": None,
            "parameters": _jsonable(parameters),
            "sample": _jsonable(sample),
            "version": package_version(),
            "git_commit": git_commit(),
            "created": _now(),
        }

        def write(conn: Connection) -> None:
            if self._replace_failed(conn, experiment_id, key):
                conn.execute(insert(Run).values(**row))

        self._write_once(write)

    def _write_once(self, write: Callable[[Connection], None]) -> None:
        """A run write; losing a race on the unique key means the run is already there."""
        try:
            self._write(write)
        except IntegrityError:
            self._write(write)  # re-read: the winner's row is now visible and kept

    def _bulk_insert(
        self, conn: Connection, table: type[Base], columns: Sequence[str], rows: Iterable[tuple]
    ) -> None:
        """Insert many rows in the open transaction: COPY on psycopg, else the driver's
        executemany.

        Through SQLAlchemy each row's parameters are compiled one by one, two thirds of a
        120-month run's write on SQLite; psycopg's executemany sends one statement per row
        (~0.2 s a run). The raw cursor takes plain tuples; COPY streams them in one go, as
        text made here (psycopg's ``write_row`` costs 5 µs a row, half the write).
        """
        names = ", ".join(f'"{c}"' for c in columns)
        with contextlib.closing(conn.connection.dbapi_connection.cursor()) as cursor:
            if conn.dialect.driver != "psycopg":
                marks = ", ".join("?" for _ in columns)
                cursor.executemany(
                    f'INSERT INTO "{table.__tablename__}" ({names}) VALUES ({marks})', rows
                )
                return
            with cursor.copy(f'COPY "{table.__tablename__}" ({names}) FROM STDIN') as copy:
                copy.write("".join(map(_copy_line, rows)))

    @staticmethod
    def _replace_failed(conn: Connection, experiment_id: int, key: str) -> bool:
        """Drop an earlier failed attempt at ``key``; False if ``key`` already finished."""
        existing = conn.execute(
            select(Run.id, Run.status).where(Run.experiment_id == experiment_id, Run.key == key)
        ).first()
        if existing is None:
            return True
        if existing.status == FINISHED:
            return False
        conn.execute(delete(Final).where(Final.run_id == existing.id))
        conn.execute(delete(Monthly).where(Monthly.run_id == existing.id))
        conn.execute(delete(Run).where(Run.id == existing.id))
        return True

    def runs(self, experiment: str | int, status: str | None = FINISHED) -> pd.DataFrame:
        """One row per run: metadata, sample values (dotted keys) and one column per final.

        ``status`` None gives every run; "finished" (the default) or "failed" filters.
        """
        exp_id = self.experiment_id(experiment)
        query = select(
            Run.id,
            Run.key,
            Run.scenario,
            Run.replication,
            Run.seed,
            Run.months,
            Run.status,
            Run.error,
            Run.elapsed,
            Run.created,
            Run.version,
            Run.git_commit,
            Run.sample,
        ).where(Run.experiment_id == exp_id)
        if status is not None:
            query = query.where(Run.status == status)
        with self._read() as conn:
            meta = conn.execute(query.order_by(Run.id)).all()
            final_rows = conn.execute(
                select(Final.run_id, Final.outcome, Final.value)
                .join(Run, Run.id == Final.run_id)
                .where(Run.experiment_id == exp_id)
            ).all()
        frame = pd.DataFrame(
            [dict(r._mapping) for r in meta], columns=["id", *RUN_COLUMNS, "sample"]
        )
        frame["seed"] = frame["seed"].astype("int64")
        samples = pd.DataFrame([_sample_columns(s) for s in frame.pop("sample")], index=frame.index)
        clash = [c for c in samples.columns if c in frame.columns]
        samples = samples.rename(columns={c: f"sample.{c}" for c in clash})
        finals = pd.DataFrame(final_rows, columns=["id", "outcome", "value"])
        if not finals.empty:
            wide = finals.pivot(index="id", columns="outcome", values="value")
            from sanshe.inputs.outcomes import OUTCOME_NAMES

            order = [o for o in OUTCOME_NAMES if o in wide.columns]
            wide = wide[order + [c for c in wide.columns if c not in order]].astype(float)
            wide.columns.name = None
            frame = frame.join(wide, on="id")
        frame = pd.concat([frame, samples], axis=1)
        return frame.drop(columns="id").reset_index(drop=True)

    def parameters(self, experiment: str | int, key: str) -> dict[str, Any]:
        """The resolved parameters a run was made with."""
        exp_id = self.experiment_id(experiment)
        with self._read() as conn:
            found = conn.execute(
                select(Run.parameters).where(Run.experiment_id == exp_id, Run.key == key)
            ).scalar()
        if found is None:
            raise InputError(f"experiment {experiment!r} has no run {key!r}.")
        return found

    def series(
        self,
        experiment: str | int,
        outcomes: list[str] | None = None,
        keys: list[str] | None = None,
    ) -> pd.DataFrame:
        """Monthly values in long form: key, scenario, replication, month, outcome, value.

        Finished runs only. Filter by ``outcomes`` and run ``keys`` to keep memory small;
        :meth:`series_chunks` streams a whole experiment.
        """
        frames = list(self.series_chunks(experiment, outcomes, keys=keys))
        if not frames:
            return pd.DataFrame(
                {
                    c: pd.Series(dtype=t)
                    for c, t in zip(
                        SERIES_COLUMNS,
                        ("object", "object", "int64", "int64", "object", "float64"),
                        strict=True,
                    )
                }
            )
        return pd.concat(frames, ignore_index=True)

    def series_chunks(
        self,
        experiment: str | int,
        outcomes: list[str] | None = None,
        runs_per_chunk: int = 50,
        keys: list[str] | None = None,
    ) -> Iterator[pd.DataFrame]:
        """The long monthly form, a few runs at a time (bounded memory for exports)."""
        exp_id = self.experiment_id(experiment)
        query = select(Run.id, Run.key, Run.scenario, Run.replication).where(
            Run.experiment_id == exp_id, Run.status == FINISHED
        )
        if keys is not None:
            query = query.where(Run.key.in_(list(keys)))
        with self._read() as conn:
            runs = conn.execute(query.order_by(Run.id)).all()
        for start in range(0, len(runs), runs_per_chunk):
            chunk = {r.id: r for r in runs[start : start + runs_per_chunk]}
            query = select(Monthly.run_id, Monthly.month, Monthly.outcome, Monthly.value).where(
                Monthly.run_id.in_(list(chunk))
            )
            if outcomes is not None:
                query = query.where(Monthly.outcome.in_(list(outcomes)))
            with self._read() as conn:
                rows = conn.execute(
                    query.order_by(Monthly.run_id, Monthly.outcome, Monthly.month)
                ).all()
            frame = pd.DataFrame(rows, columns=["run_id", "month", "outcome", "value"])
            frame.insert(0, "key", frame["run_id"].map({i: r.key for i, r in chunk.items()}))
            frame.insert(
                1, "scenario", frame["run_id"].map({i: r.scenario for i, r in chunk.items()})
            )
            frame.insert(
                2, "replication", frame["run_id"].map({i: r.replication for i, r in chunk.items()})
            )
            frame["value"] = frame["value"].astype(float)
            yield frame[list(SERIES_COLUMNS)]

    def results(self, experiment: str | int, runs_per_chunk: int = 50) -> Iterator[RunResult]:
        """The finished runs rebuilt as :class:`RunResult` objects, a few at a time.

        Stored NULLs come back as NaN; ``--json`` output and notebooks use this.
        """
        from sanshe.experiments.experiment import RunResult
        from sanshe.inputs.outcomes import OUTCOME_NAMES

        exp_id = self.experiment_id(experiment)
        rank = {name: i for i, name in enumerate(OUTCOME_NAMES)}

        def order(item: tuple[str, Any]) -> tuple[int, str]:
            return rank.get(item[0], len(rank)), item[0]

        with self._read() as conn:
            runs = conn.execute(
                select(Run)
                .where(Run.experiment_id == exp_id, Run.status == FINISHED)
                .order_by(Run.id)
            ).all()
        for start in range(0, len(runs), runs_per_chunk):
            chunk = runs[start : start + runs_per_chunk]
            ids = [run.id for run in chunk]
            with self._read() as conn:
                final_rows = conn.execute(
                    select(Final.run_id, Final.outcome, Final.value).where(Final.run_id.in_(ids))
                ).all()
                monthly_rows = conn.execute(
                    select(Monthly.run_id, Monthly.outcome, Monthly.value)
                    .where(Monthly.run_id.in_(ids))
                    .order_by(Monthly.run_id, Monthly.outcome, Monthly.month)
                ).all()
            finals: dict[int, dict[str, float]] = {i: {} for i in ids}
            for run_id, outcome, value in final_rows:
                finals[run_id][outcome] = math.nan if value is None else float(value)
            series: dict[int, dict[str, list[float]]] = {i: {} for i in ids}
            for run_id, outcome, value in monthly_rows:
                series[run_id].setdefault(outcome, []).append(
                    math.nan if value is None else float(value)
                )
            for run in chunk:
                yield RunResult(
                    scenario=run.scenario,
                    replication=run.replication,
                    seed=int(run.seed),
                    months=int(run.months or 0),
                    parameters=run.parameters,
                    final=dict(sorted(finals[run.id].items(), key=order)),
                    series=dict(sorted(series[run.id].items(), key=order)),
                    elapsed=float(run.elapsed or 0.0),
                )


def _run_rows(
    experiment_id: int, key: str, result: RunResult, sample: dict | None
) -> tuple[dict[str, Any], Columns, Columns]:
    """A finished run as its ``runs`` row and its finals (outcome, value) and monthly values
    (outcome, month, value) as columns, to which the run's id is prepended once known:
    thousands of rows a run, so they are zipped in C, not built one by one."""
    row = {
        "experiment_id": experiment_id,
        "key": key,
        "scenario": result.scenario,
        "replication": int(result.replication),
        "seed": int(result.seed),
        "months": int(result.months),
        "status": FINISHED,
        "error": None,
        "elapsed": float(result.elapsed),
        "parameters": _jsonable(result.parameters),
        "sample": _jsonable(sample),
        "version": package_version(),
        "git_commit": git_commit(),
        "created": _now(),
    }
    finals = (list(result.final), _nulls(list(result.final.values())))
    names: list[str] = []
    months: list[int] = []
    values: list[float | None] = []
    for name, series in result.series.items():
        plain = _nulls(series)
        first = 0 if len(plain) == result.months + 1 else 1  # month 0 = initial state
        names.extend(repeat(name, len(plain)))
        months.extend(range(first, first + len(plain)))
        values.extend(plain)
    return row, finals, (names, months, values)


def _nulls(values: Sequence[float]) -> list[float | None]:
    """``values`` as plain floats, NaN as None (stored as NULL: SQLite cannot store NaN);
    a run's finals and its monthly values alike. A run's series is a list
    of floats, most without NaN: then it is kept as it is (its sum is a float, not NaN),
    with no round trip through NumPy."""
    if type(values) is list:
        try:
            total = sum(values)
        except TypeError:  # a None (a NaN read back from JSON): the careful way
            total = None
        if type(total) is float and total == total:
            return values
    plain = np.asarray(values, dtype=float)
    if np.isnan(plain).any():
        return [None if v != v else v for v in plain.tolist()]
    return plain.tolist()


def _plain(value: Any) -> bool:
    """Whether ``value`` is JSON-safe as it is: a string, a whole number, a truth value,
    None or a finite float (what most of a run's parameters are)."""
    kind = type(value)
    if kind is float:
        return math.isfinite(value)
    return kind is str or kind is int or kind is bool or value is None


def _copy_line(row: tuple) -> str:
    """A row in COPY's text format: tab-separated, ``\\N`` for NULL. Only numbers and
    outcome names (identifiers: no tab, newline or backslash) pass through here."""
    return "\t".join("\\N" if v is None else str(v) for v in row) + "\n"


def _jsonable(value: Any) -> Any:
    """A JSON-safe copy: numpy numbers and paths made plain, NaN and infinities None."""
    if type(value) is dict and all(map(_plain, value.values())):  # a run's parameters
        return {str(k): v for k, v in value.items()}
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if hasattr(value, "tolist"):  # numpy scalar or array
        return _jsonable(value.tolist())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


def _sample_columns(sample: dict[str, Any] | None) -> dict[str, Any]:
    """A sample dict flattened to dotted keys (its columns in ``runs()``)."""
    if not sample:
        return {}
    flat: dict[str, Any] = {}
    for key, value in sample.items():
        if isinstance(value, dict):
            flat.update({f"{key}.{k}": v for k, v in _sample_columns(value).items()})
        else:
            flat[key] = value
    return flat


def _spec_difference(old: Any, new: Any, prefix: str = "") -> str:
    """A short account of where two specs differ, for the "different settings" message."""
    if isinstance(old, dict) and isinstance(new, dict):
        parts = []
        for key in sorted(set(old) | set(new)):
            if old.get(key) != new.get(key):
                parts.append(_spec_difference(old.get(key), new.get(key), f"{prefix}{key}."))
        return "; ".join(parts[:3]) + ("; ..." if len(parts) > 3 else "")
    where = prefix.rstrip(".") or "spec"
    return f"{where}: stored {_short(old)}, now {_short(new)}"


def _short(value: Any, limit: int = 60) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."
