"""Refresh the fixed-seed regression baseline on purpose: ``python tests/update_baseline.py``.

tests/test_regression.py compares fresh runs with tests/data/baseline.json and fails on any
difference, so a change that moves the model's numbers is never silent. When the change is
intended (a new mechanism, a recalibration), run this script, look at the diff of the
JSON file, and commit it with the change that explains it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.test_regression import BASELINE, baseline_finals  # noqa: E402


def main() -> None:
    data = baseline_finals()
    BASELINE.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {BASELINE} ({len(data)} runs)")


if __name__ == "__main__":
    main()
