"""The speed benchmark runs as a user runs it and reports what it promises. Nothing here is
timed: the benchmark's figures are read by people, not asserted (docs/performance.md)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_model.py"


def test_library_case_reports_best_of_and_paired_ratios() -> None:
    out = subprocess.run([sys.executable, str(BENCH), "--cases", "library", "--months", "2",
                          "--repeat", "1"], capture_output=True, text=True, check=True,
                         timeout=300).stdout
    assert re.search(r"^trivial Mesa agent \(10,000\)", out, re.M)
    for scenario in ("baseline", "full_linkage"):
        assert re.search(rf"^{scenario} library district .* \d+\.\d\dx$", out, re.M), out
        assert re.search(rf"^  {scenario}, paired in one process \(1\): ratio median "
                         r"\d+\.\d\dx, range \d+\.\d\d-\d+\.\d\dx", out, re.M), out


def test_unknown_case_is_refused_with_the_choices() -> None:
    done = subprocess.run([sys.executable, str(BENCH), "--cases", "library,moon"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "unknown case(s) moon" in done.stderr and "library, sizes" in done.stderr
