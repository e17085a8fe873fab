"""Checks of command-line input that run before any simulation and create nothing.

A mistake in an option should cost a second, not an hour of runs whose report then cannot
be written: every command checks its numbers (as argparse types) and its output paths
before it starts, and a rejected command leaves the disk as it found it.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from sanshe.inputs.errors import InputError
from sanshe.inputs.schema import BY_KEY


class WholeNumber:
    """An argparse type: a whole number from ``low`` to ``high`` (None: no upper bound).

    ``why`` (shown when the value is out of range) says where a bound comes from.
    """

    def __init__(self, low: int, high: int | None = None, why: str = "") -> None:
        self.low, self.high, self.why = low, high, why
        self.__name__ = "whole number"  # argparse names the type in its own messages

    @classmethod
    def setting(cls, key: str, low: int | None = None, why: str = "") -> WholeNumber:
        """The bounds of a schema setting (``run.months``), so options and files agree."""
        setting = BY_KEY[key]
        return cls(int(setting.low if low is None else low), int(setting.high), why)

    def allowed(self) -> str:
        """The range in words."""
        if self.high is None:
            return f"a whole number of at least {self.low}"
        return f"a whole number from {self.low} to {self.high}"

    def __call__(self, text: str) -> int:
        try:
            value = int(text.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not a whole number; it must be {self.allowed()}{self.why}."
            ) from None
        if value < self.low or (self.high is not None and value > self.high):
            raise argparse.ArgumentTypeError(
                f"{value} is out of range; it must be {self.allowed()}{self.why}."
            )
        return value


#: ``--seed``: numpy's SeedSequence takes any non-negative integer; the store keeps
#: seeds as signed 64-bit integers, hence the schema's 2**63 - 1.
SEED = WholeNumber.setting("run.seed", why=" (the master seed; the same seed repeats a run)")
#: ``--months``: the schema's bound on ``run.months`` (600 months = 50 years).
MONTHS = WholeNumber.setting("run.months", why=" (600 months = 50 years, the schema's limit)")
#: ``--months`` where outcomes average the last 12 months (validate, calibrate).
MONTHS_13 = WholeNumber.setting(
    "run.months", low=13, why=" (outcomes average the last 12 months; 600 = 50 years)"
)
#: ``--replications``: the schema's bound on ``run.replications``.
REPLICATIONS = WholeNumber.setting("run.replications")
#: ``--workers``: processes; more than this many is a typo, not a machine.
WORKERS = WholeNumber(1, 1024)
#: Counts such as ``--samples``, ``--points`` and ``--resamples``.
POSITIVE = WholeNumber(1)


def output_file(
    path: str | os.PathLike[str] | None, option: str, example: str = "output.json"
) -> Path | None:
    """``path`` as a file that can be written (missing folders are created later).

    InputError when it is a folder, cannot be replaced, or its folder cannot be made.
    """
    if path is None:
        return None
    target, shown = _given(path, option, "a file name")
    if target.is_dir() or shown.endswith(("/", os.sep)):
        raise InputError(
            f"{option} {shown}: this is a folder; give a file name inside it, e.g. "
            f"{option} {target / example}."
        )
    if target.exists() and not os.access(target, os.W_OK):
        raise InputError(
            f"{option} {shown}: the file exists and cannot be overwritten (no write "
            "permission); choose another file or change its permissions."
        )
    _check_creatable(target.parent, option, shown)
    return target


def output_dir(path: str | os.PathLike[str], option: str) -> Path:
    """``path`` as a folder that exists or can be made, and can be written in."""
    target, shown = _given(path, option, "a folder")
    if target.exists() and not target.is_dir():
        raise InputError(
            f"{option} {shown}: this is a file, not a folder; give a folder for the output "
            "files (it is created if missing)."
        )
    _check_creatable(target, option, shown)
    return target


def input_file(path: str | os.PathLike[str], option: str) -> Path:
    """``path`` as an existing, readable file."""
    target, shown = _given(path, option, "a file")
    if not target.exists():
        raise InputError(f"{option} {shown}: no such file; check the path.")
    if not target.is_file():
        raise InputError(f"{option} {shown}: this is a folder, not a file; give a file.")
    if not os.access(target, os.R_OK):
        raise InputError(f"{option} {shown}: the file cannot be read (no read permission).")
    return target


def _given(path: str | os.PathLike[str], option: str, what: str) -> tuple[Path, str]:
    """The path and its text as typed; an empty one (``--out ""``) is refused."""
    shown = os.fspath(path)
    if not shown.strip():
        raise InputError(f"{option} is empty; give {what}, or leave the option out.")
    return Path(shown).expanduser(), shown


def _check_creatable(folder: Path, option: str, shown: str) -> None:
    """The nearest existing ancestor of ``folder`` must be a folder one can write in."""
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise InputError(
            f"{option} {shown}: '{existing}' is a file, so no folder can be made there; "
            "choose another path."
        )
    if not _can_write_in(existing):
        made = "" if existing == folder else f" (to create '{folder}')"
        raise InputError(
            f"{option} {shown}: cannot write in the folder '{existing}'{made}: it is "
            "read-only or you lack permission; choose a folder you can write in, e.g. "
            "under your home folder."
        )


def _can_write_in(folder: Path) -> bool:
    """Whether a file can be created in ``folder``: try it (an unnamed temporary file).

    Permission bits alone mislead (root, read-only mounts, /proc), so ask the system.
    """
    try:
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False
