"""Bad input on every command: exit 2, one paragraph saying what to do, nothing run or made.

Most cases call :func:`sanshe.ui.cli.main` in this process (fast); a handful run the command
line in a fresh process as a user would. Any simulation that starts fails the test, so
every rejection is known to come before the first run.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from sanshe.experiments.store import ResultStore
from sanshe.sim.model import CommunityGovernanceModel
from sanshe.ui.cli import main
from tests.helpers import sanshe, sqlite_file

PASSWORD = "s3cret-Pw"
VARY = ["--vary", "policy.purchase.annual_budget=1e5:2e5", "--samples", "2"]
CALIBRATE = ["calibrate", "baseline", "--free", "founding_rate=0.001:0.002"]
PG = f"postgresql://analyst:{PASSWORD}@127.0.0.1"
#: A folder no one may create files in, not even root.
READ_ONLY = "/proc/sanshe-out"

#: (id, command line, words the message must contain). Run in the folder :func:`workdir`
#: makes: a file, a folder, broken scenario and targets files, an empty store.
CASES = [
    # output paths, on every command that writes
    ("json-under-a-file", ["run", "baseline", "--json", "afile/x.json"], ["--json", "afile"]),
    ("json-is-a-folder", ["run", "baseline", "--json", "adir"], ["--json", "adir/runs.json"]),
    ("json-read-only", ["run", "baseline", "--json", f"{READ_ONLY}/x.json"], ["--json", "/proc"]),
    ("compare-out-is-a-file", ["compare", "baseline", "--out", "afile"], ["--out", "folder"]),
    ("compare-out-read-only", ["compare", "baseline", "--out", READ_ONLY], ["--out", "/proc"]),
    ("compare-json-folder", ["compare", "baseline", "--json", "adir"], ["--json", "file name"]),
    ("export-out-under-file", ["export", "x", "--db", "store.sqlite", "--out", "afile/m.csv"],
     ["--out", "afile"]),
    ("export-out-folder", ["export", "x", "--db", "store.sqlite", "--out", "adir"],
     ["--out", "adir/monthly.csv"]),
    ("sweep-out-is-a-file", ["sweep", "baseline", *VARY, "--out", "afile"], ["--out", "folder"]),
    ("sweep-out-read-only", ["sweep", "baseline", *VARY, "--out", READ_ONLY], ["--out", "/proc"]),
    ("sensitivity-out", ["sensitivity", "x", "--db", "store.sqlite", "--out", "afile"],
     ["--out", "folder"]),
    ("validate-out", ["validate", "--out", "afile/v"], ["--out", "afile"]),
    ("calibrate-out", [*CALIBRATE, "--targets", "bad.toml", "--out", "afile"], ["--out"]),
    ("out-empty", ["compare", "baseline", "--out", ""], ["--out is empty"]),
    ("json-empty", ["run", "baseline", "--json", ""], ["--json is empty"]),
    ("db-empty", ["run", "baseline", "--db", ""], ["--db is empty"]),
    # database URLs
    ("db-unknown-scheme", ["run", "baseline", "--db", "nosuch://x"], ["nosuch", "postgresql://"]),
    ("db-mysql", ["run", "baseline", "--db", f"mysql://u:{PASSWORD}@h/db"], ["not supported"]),
    ("db-malformed", ["run", "baseline", "--db", "postgres:/bad//url"], ["://", "sqlite:///"]),
    ("db-port-not-a-number", ["run", "baseline", "--db", f"{PG}:notaport/db"], ["port", "5432"]),
    ("db-port-out-of-range", ["run", "baseline", "--db", f"{PG}:99999/db"], ["port", "65535"]),
    ("db-unsupported-driver", ["run", "baseline", "--db", f"postgresql+asyncpg://u:{PASSWORD}@h/d"],
     ["asyncpg", "postgresql://"]),
    ("db-is-a-folder", ["run", "baseline", "--db", "adir"], ["--db", "adir/sanshe.sqlite"]),
    ("db-not-sqlite", ["run", "baseline", "--db", "plain.txt"], ["not a SQLite database"]),
    ("db-under-a-file", ["compare", "baseline", "--db", "afile/x.sqlite"], ["--db", "afile"]),
    ("db-read-only", ["sweep", "baseline", *VARY, "--db", f"{READ_ONLY}/x.sqlite"], ["/proc"]),
    ("results-missing-folder", ["results", "--db", "nodir/x.sqlite"], ["nodir", "does not exist"]),
    ("results-missing-file", ["results", "--db", "sqlite:///missing.sqlite"], ["missing.sqlite"]),
    ("results-unknown-experiment", ["results", "nosuch"], ["results/sanshe.sqlite", "default"]),
    ("export-missing-db", ["export", "x", "--db", "nodir/x.sqlite"], ["nodir", "does not exist"]),
    ("export-in-memory", ["export", "x", "--db", "sqlite://"], ["in-memory"]),
    ("export-unknown-experiment", ["export", "nosuch", "--db", "store.sqlite"],
     ["nosuch", "sanshe results"]),
    ("sensitivity-missing-db", ["sensitivity", "x", "--db", "gone.sqlite"], ["gone.sqlite"]),
    ("sensitivity-unknown-sweep", ["sensitivity", "x", "--db", "store.sqlite"], ["'x'"]),
    # seeds and counts
    ("seed-negative", ["run", "baseline", "--seed", "-1"], ["--seed", "from 0 to"]),
    ("seed-too-large", ["compare", "baseline", "--seed", str(2**64)], ["--seed", "from 0 to"]),
    ("seed-not-whole", ["run", "baseline", "--seed", "1.5"], ["--seed", "whole number"]),
    ("sweep-seed", ["sweep", "baseline", *VARY, "--seed", "-1"], ["--seed", "from 0 to"]),
    ("validate-seed", ["validate", "--seed", "-5"], ["--seed", "from 0 to"]),
    ("calibrate-seed", [*CALIBRATE, "--targets", "t.toml", "--seed", "-5"], ["--seed"]),
    ("replications-zero", ["run", "baseline", "-r", "0"], ["--replications", "from 1 to"]),
    ("replications-text", ["compare", "baseline", "-r", "abc"], ["--replications", "whole"]),
    ("sweep-replications", ["sweep", "baseline", *VARY, "-r", "0"], ["--replications"]),
    ("sweep-samples", ["sweep", "baseline", "--vary", "x=1:2", "--samples", "0"], ["--samples"]),
    ("sweep-workers", ["sweep", "baseline", *VARY, "--workers", "0"], ["--workers"]),
    ("validate-replications", ["validate", "-r", "1"], ["--replications", "from 2"]),
    ("validate-workers", ["validate", "--workers", "0"], ["--workers"]),
    ("validate-pattern", ["validate", "--pattern", "99"], ["--pattern"]),
    ("calibrate-points", [*CALIBRATE, "--targets", "t.toml", "--points", "1"], ["--points"]),
    ("sensitivity-resamples", ["sensitivity", "x", "--resamples", "0"], ["--resamples"]),
    # months: the schema's bound, from the option, --set and a scenario file
    ("months-huge", ["run", "baseline", "--months", "1000000"], ["--months", "600", "50 years"]),
    ("months-zero", ["compare", "baseline", "--months", "0"], ["--months", "from 1 to 600"]),
    ("set-months-huge", ["run", "baseline", "--set", "run.months=1000000"], ["run.months", "600"]),
    ("file-months-huge", ["compare", "long.toml"], ["long.toml", "run.months", "600"]),
    ("sweep-months", ["sweep", "baseline", *VARY, "--months", "100000"], ["--months", "600"]),
    ("validate-months", ["validate", "--months", "100000"], ["--months", "13 to 600"]),
    ("calibrate-months", [*CALIBRATE, "--targets", "t.toml", "--months", "12"], ["--months"]),
    # scenarios, overrides and other options
    ("unknown-scenario", ["run", "basline"], ["basline", "baseline"]),
    ("scenario-file-missing", ["compare", "mine.toml"], ["mine.toml", "does not exist"]),
    ("scenario-bad-toml", ["run", "bad.toml"], ["bad.toml", "TOML"]),
    ("scenario-not-utf8", ["run", "latin1.toml"], ["latin1.toml", "UTF-8"]),
    ("scenarios-unknown", ["scenarios", "nosuch"], ["nosuch"]),
    ("set-unknown-key", ["run", "baseline", "--set", "policy.nosuch=1"], ["policy.nosuch"]),
    ("set-no-value", ["run", "baseline", "--set", "policy.purchase.mode"], ["KEY=VALUE"]),
    ("set-wrong-type", ["run", "baseline", "--set", "district.streets=two"], ["district.streets"]),
    ("set-bad-choice", ["run", "baseline", "--set", "policy.purchase.mode=lottery"],
     ["competitive"]),
    ("set-metadata", ["run", "baseline", "--set", "scenario.name=x"], ["scenario.name"]),
    ("lang", ["compare", "baseline", "--lang", "xx"], ["--lang", "zh"]),
    ("format", ["export", "x", "--format", "xx"], ["--format", "csv"]),
    ("export-outcome", ["export", "x", "--outcome", "nosuch"], ["--outcome", "need_coverage"]),
    ("sweep-no-vary", ["sweep", "baseline"], ["--vary"]),
    ("sweep-vary-key", ["sweep", "baseline", "--vary", "policy.nosuch=1:2"], ["policy.nosuch"]),
    ("calibrate-targets-missing", [*CALIBRATE, "--targets", "t.toml"], ["--targets", "t.toml"]),
    ("calibrate-targets-folder", [*CALIBRATE, "--targets", "adir"], ["--targets", "folder"]),
    ("calibrate-targets-bad", [*CALIBRATE, "--targets", "bad.toml"], ["bad.toml", "TOML"]),
    ("calibrate-target-text", [*CALIBRATE, "--targets", "targets.toml"], ["value", "numbers"]),
    ("unknown-command", ["frobnicate"], ["frobnicate"]),
]


def _listing(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder with a file, a folder, bad files and an empty store; no model runs.

    ``afile`` (a file), ``adir`` (a folder), ``bad.toml`` (broken TOML), ``latin1.toml``
    (not UTF-8), ``long.toml`` (100,000 months), ``targets.toml`` (a value in words),
    ``plain.txt`` (not a database) and ``store.sqlite`` (an empty results store).
    """
    (tmp_path / "afile").write_text("a file, not a folder\n")
    (tmp_path / "adir").mkdir()
    (tmp_path / "bad.toml").write_text("[scenario\nname = 1\n")
    (tmp_path / "latin1.toml").write_bytes('[scenario]\nname = "caf\u00e9"\n'.encode("latin-1"))
    (tmp_path / "plain.txt").write_text("not a database\n")
    (tmp_path / "long.toml").write_text(
        '[scenario]\nname = "long"\nextends = "baseline"\n[run]\nmonths = 100000\n'
    )
    (tmp_path / "targets.toml").write_text(
        '[[target]]\nname = "t"\noutcome = "need_coverage"\nkind = "equal"\nvalue = "high"\n'
        'source = "a survey"\n'
    )
    ResultStore(tmp_path / "store.sqlite").close()
    monkeypatch.chdir(tmp_path)

    def no_runs(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a simulation started before the input was checked")

    monkeypatch.setattr(CommunityGovernanceModel, "__init__", no_runs)
    return tmp_path


def _call(argv: list[str]) -> int:
    return main(argv)  # argparse's errors too come back as a code, not SystemExit


@pytest.mark.parametrize("argv, words", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_exits_2_with_advice_and_makes_nothing(
    workdir: Path, capsys: pytest.CaptureFixture[str], argv: list[str], words: list[str]
) -> None:
    if any(READ_ONLY in a for a in argv) and not Path("/proc/self").is_dir():
        pytest.skip("needs Linux's /proc, a folder no one can write in")
    before = _listing(workdir)
    code = _call(argv)
    out, err = capsys.readouterr()
    assert code == 2, err
    assert "Traceback" not in err and "internal error" not in err
    message = err.strip().splitlines()[-1]  # argparse prints its usage first
    for word in words:
        assert word in message, (word, message)
    assert PASSWORD not in out + err
    assert _listing(workdir) == before


def test_an_unwritable_folder_is_refused_by_its_permissions(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if os.name != "posix" or os.geteuid() == 0:
        pytest.skip("root writes anywhere; /proc covers the case there")
    locked = workdir / "locked"
    locked.mkdir(mode=0o500)
    assert _call(["sweep", "baseline", *VARY, "--out", str(locked / "sweep")]) == 2
    assert "cannot write in the folder" in capsys.readouterr().err
    assert not (locked / "sweep").exists()


def test_a_password_is_masked_when_the_server_cannot_be_reached(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = _call(["compare", "baseline", "--db", f"{PG}:1/sanshe"])  # nothing listens on 1
    err = capsys.readouterr().err
    assert code == 2 and PASSWORD not in err and "***" in err
    assert "cannot open" in err or "not installed" in err
    assert not (workdir / "results").exists()


def test_a_missing_driver_says_which_extra_to_install(
    workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if not installed
    assert _call(["run", "baseline", "--db", f"{PG}/sanshe"]) == 2
    err = capsys.readouterr().err
    assert 'pip install "sanshe[postgres]"' in err and PASSWORD not in err


def test_results_without_a_store_says_so_and_creates_none(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _call(["results"]) == 0
    assert "No experiments yet" in capsys.readouterr().out
    assert not (workdir / "results").exists()


def test_reading_commands_leave_an_existing_store_as_it_was(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _call(["results", "--db", "store.sqlite"]) == 0
    assert "No experiments" in capsys.readouterr().out
    with sqlite_file(workdir / "store.sqlite") as conn:
        assert conn.execute("select count(*) from experiments").fetchone() == (0,)
    with sqlite_file(workdir / "notes.sqlite") as conn:  # someone else's database
        conn.execute("create table notes (text)")
    assert _call(["export", "x", "--db", "notes.sqlite"]) == 2
    assert "not a sanshe results database" in capsys.readouterr().err
    with sqlite_file(workdir / "notes.sqlite") as conn:
        tables = conn.execute("select name from sqlite_master where type = 'table'").fetchall()
    assert tables == [("notes",)]  # no results tables added to it


# --- as a user runs it: a fresh process ---------------------------------------------------
@pytest.mark.parametrize(
    "argv, words",
    [
        (["run", "baseline", "--json", "afile/runs.json"], ["--json", "afile"]),
        (["run", "baseline", "--db", "postgres:/bad//url"], ["--db", "://"]),
        (["run", "baseline", "--months", "1000000"], ["--months", "600"]),
        (["compare", "baseline", "--db", f"{PG}:notaport/db"], ["port"]),
        (["validate", "-r", "1"], ["--replications/-r", "from 2"]),
    ],
    ids=["json", "malformed-url", "months", "password-port", "validate-r"],
)
def test_the_command_line_rejects_before_running(
    tmp_path: Path, argv: list[str], words: list[str]
) -> None:
    (tmp_path / "afile").write_text("x")
    before = _listing(tmp_path)
    result = sanshe(*argv, cwd=tmp_path, timeout=60)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and PASSWORD not in result.stderr + result.stdout
    for word in words:
        assert word in result.stderr
    assert _listing(tmp_path) == before
