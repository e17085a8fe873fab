"""Provenance: which sanshe code runs here (its version and git commit).

The store records it with every run; the Dask executor compares it across a cluster's
workers. It imports nothing from the package, so both can use it.
"""

from __future__ import annotations

import functools
import subprocess
from pathlib import Path


@functools.cache
def package_version() -> str:
    """The installed sanshe version, or "unknown" when running from a bare checkout."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("sanshe")
    except PackageNotFoundError:
        return "unknown"


@functools.cache
def git_commit() -> str | None:
    """The commit of the code that runs (``git rev-parse HEAD``), or None outside git.

    "-dirty" is appended when tracked files differ from that commit, so a stored run
    never claims a commit whose code it did not run.
    """
    commit = _git("rev-parse", "HEAD")
    if not commit:
        return None
    return commit + "-dirty" if _git("status", "--porcelain", "--untracked-files=no") else commit


def _git(*args: str) -> str | None:
    """The output of a git command in the package's directory, or None if it fails."""
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None
