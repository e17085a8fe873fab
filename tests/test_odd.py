"""docs/ODD.md's parameter table is generated from sanshe/inputs/parameters.py and must match it."""

from __future__ import annotations

import pytest

from sanshe.inputs.parameters import TABLE
from sanshe.reporting import odd


def test_odd_parameter_table_matches_code():
    """Run ``python -m sanshe.reporting.odd`` when this fails after changing a parameter."""
    if not odd.ODD_PATH.exists():
        pytest.skip("docs/ODD.md not written yet")
    assert odd.current_table() == odd.parameter_table(), (
        "docs/ODD.md's parameter table disagrees with sanshe/inputs/parameters.py; "
        "run `python -m sanshe.reporting.odd` to regenerate it")


def test_table_lists_every_parameter_once():
    table = odd.parameter_table()
    for p in TABLE:
        assert table.count(f"| `{p.name}` |") == 1


def test_render_replaces_only_between_markers(tmp_path):
    doc = tmp_path / "ODD.md"
    doc.write_text(f"intro\n{odd.BEGIN}\nstale\n{odd.END}\noutro\n", encoding="utf-8")
    assert odd.refresh(doc)
    text = doc.read_text(encoding="utf-8")
    assert text.startswith("intro\n") and text.endswith("outro\n") and "stale" not in text
    assert odd.current_table(doc) == odd.parameter_table()
    assert not odd.refresh(doc)  # idempotent


def test_missing_markers_are_an_error(tmp_path):
    doc = tmp_path / "ODD.md"
    doc.write_text("no markers\n", encoding="utf-8")
    with pytest.raises(ValueError):
        odd.refresh(doc)
