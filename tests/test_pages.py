"""HTML pages (sanshe/reporting/pages.py and templates/): escaped text, embedded figures."""

from __future__ import annotations

from pathlib import Path

import jinja2
import pytest
from matplotlib.figure import Figure

from sanshe.reporting import pages
from sanshe.reporting.report import html_table


def test_text_is_escaped_so_a_title_cannot_break_the_page() -> None:
    page = html_table(["<b>Outcome</b>", "Scenario", "Mean", "Diff", "p"],
                      [["A & B", "<script>x</script>", "1", "2", "<0.001"]], [True], [True])
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "A &amp; B" in page and "&lt;0.001" in page and "&lt;b&gt;Outcome" in page
    assert "<td class='num sig'>" in page  # a significant row is bold


def test_a_figure_is_embedded_in_the_page(tmp_path: Path) -> None:
    png = tmp_path / "f.png"
    Figure(figsize=(1, 1)).savefig(png)
    uri = pages.png_data_uri(png)
    assert uri.startswith("data:image/png;base64,iVBOR")  # the PNG signature, base64


def test_a_misspelt_variable_fails_instead_of_printing_nothing() -> None:
    with pytest.raises(jinja2.UndefinedError):
        pages.render("key_table.html.j2", headers=["a"])  # key_rows missing
