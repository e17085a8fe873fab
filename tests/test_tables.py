"""Console tables (sanshe/reporting/tables.py): Chinese text aligned by display width."""

from __future__ import annotations

import math

import pytest

from sanshe.experiments import comparison
from sanshe.reporting import tables
from sanshe.reporting.tables import display_width, format_table, format_value


def test_chinese_characters_take_two_columns() -> None:
    assert display_width("abc") == 3
    assert display_width("参与率") == 6
    assert display_width("（622）") == 7  # full-width brackets are wide too
    assert tables.pad("参与", 6) == "参与  " and tables.pad("7", 3, "r") == "  7"


def test_columns_line_up_on_screen_with_mixed_scripts() -> None:
    text = format_table(["指标", "value"], [["居民参与率", "12.5%"], ["trust", "3.0%"]],
                        align="lr")
    lines = text.splitlines()
    assert lines[1] == "----------  -----"
    assert [display_width(line) for line in lines] == [17, 17, 17, 17]
    assert lines[2].endswith("12.5%") and lines[3] == "trust        3.0%"


def test_the_last_column_can_run_free() -> None:
    rows = [["a", "a long description that must never be cut or widen the others"]]
    text = format_table(["name", "description"], rows, free_last=True)
    assert text.splitlines() == [
        "name  description",
        "----  -----------",
        "a     a long description that must never be cut or widen the others",
    ]


def test_no_rule_and_no_trailing_spaces() -> None:
    text = format_table(["#", "note"], [["1", ""], ["10", "◀ chosen"]], align="rl", rule=False)
    assert text.splitlines() == [" #  note", " 1", "10  ◀ chosen"]


@pytest.mark.parametrize(
    ("value", "unit", "diff", "text"),
    [
        (0.1234, "share", False, "12.3%"),
        (0.0123, "share", True, "+1.2 pp"),
        (1234.5, "yuan", False, "1,234"),
        (0.01234, "index", True, "+0.012"),
        (math.nan, "share", False, "–"),
    ],
)
def test_numbers_for_people(value: float, unit: str, diff: bool, text: str) -> None:
    assert format_value(value, unit, diff) == text


def test_comparison_keeps_its_old_names() -> None:
    assert comparison.format_value is tables.format_value
    assert comparison.table_rows is tables.table_rows
    assert comparison.describe_difference is tables.describe_difference
