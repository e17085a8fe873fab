"""The ODD parameter table, generated from the code's one table of behavioural constants.

``python -m sanshe.reporting.odd`` rewrites the part of docs/ODD.md between the marker lines
``<!-- parameters:begin -->`` and ``<!-- parameters:end -->`` with :func:`parameter_table`;
tests/test_odd.py fails when the document and the code disagree.
"""

from __future__ import annotations

import sys
from pathlib import Path

from sanshe.inputs.parameters import TABLE, Parameter

BEGIN = "<!-- parameters:begin -->"
END = "<!-- parameters:end -->"
ODD_PATH = Path(__file__).resolve().parents[2] / "docs" / "ODD.md"


def _number(value: float) -> str:
    """A compact, exact rendering: integers without decimals, thousands separated."""
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:g}"


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _row(p: Parameter) -> str:
    flag = "yes" if p.uncertain else ""
    return (f"| `{p.name}` | {_number(p.default)} | {_number(p.low)} – {_number(p.high)} | "
            f"{_cell(p.unit)} | {flag} | {_cell(p.source)} |")


def parameter_table() -> str:
    """The Markdown table of every behavioural constant, in the code's order."""
    lines = [
        f"{len(TABLE)} behavioural constants; *uncertain* marks those used by the robustness "
        "checks of the headline conclusions.",
        "",
        "| parameter | default | plausible range | unit | uncertain | source |",
        "|---|---:|---|---|:---:|---|",
    ]
    lines += [_row(p) for p in TABLE]
    return "\n".join(lines)


def split(text: str) -> tuple[str, str, str]:
    """(before BEGIN incl. the marker line, current table, END line and after)."""
    if text.count(BEGIN) != 1 or text.count(END) != 1:
        raise ValueError(f"the document needs exactly one '{BEGIN}' and one '{END}' line")
    head, rest = text.split(BEGIN, 1)
    body, tail = rest.split(END, 1)
    return head + BEGIN, body.strip("\n"), END + tail


def render(text: str) -> str:
    """``text`` with the generated table between the markers."""
    head, _, tail = split(text)
    return f"{head}\n{parameter_table()}\n{tail}"


def current_table(path: Path = ODD_PATH) -> str:
    """The table now between the markers of ``path``."""
    return split(path.read_text(encoding="utf-8"))[1]


def refresh(path: Path = ODD_PATH) -> bool:
    """Rewrite the table in ``path``; returns whether anything changed."""
    text = path.read_text(encoding="utf-8")
    new = render(text)
    if new != text:
        path.write_text(new, encoding="utf-8")
    return new != text


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    path = Path(argv[0]) if argv else ODD_PATH
    changed = refresh(path)
    print(f"{path}: parameter table {'updated' if changed else 'already up to date'} "
          f"({len(TABLE)} parameters)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
