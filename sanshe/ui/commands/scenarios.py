"""``sanshe scenarios``: list the scenario library, or show one scenario resolved."""

from __future__ import annotations

import argparse
import json
from typing import Any

from sanshe.inputs import money
from sanshe.inputs.scenario import Scenario, library_dir, list_scenarios
from sanshe.reporting.tables import format_table


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``scenarios`` subcommand."""
    parser = subparsers.add_parser(
        "scenarios",
        help="list the scenario library",
        description="List the scenario library (name, Chinese and English title, "
        "description), or show every resolved setting of one scenario.",
    )
    parser.add_argument(
        "scenario",
        nargs="?",
        metavar="SCENARIO",
        help="a library name or .toml path: show its resolved settings",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    """List the library, or show one scenario."""
    if args.scenario:
        scenario = Scenario.load(args.scenario)
        print(
            json.dumps(scenario.to_dict(), ensure_ascii=False, indent=2)
            if args.json
            else show(scenario)
        )
        return 0
    scenarios = list_scenarios()
    if args.json:
        print(json.dumps([summary(s) for s in scenarios], ensure_ascii=False, indent=2))
    elif scenarios:
        print(table(scenarios))
    else:
        print(f"No scenarios in {library_dir()}.")
    return 0


def summary(scenario: Scenario) -> dict[str, Any]:
    """One library entry for ``--json``."""
    return {
        "name": scenario.name,
        "title": scenario.title,
        "title_zh": scenario.title_zh,
        "title_en": scenario.title_en,
        "description": scenario.description,
        "extends": scenario.extends,
        "source": str(scenario.source) if scenario.source else None,
        "timeline": [change.to_dict() for change in scenario.timeline],
    }


def table(scenarios: list[Scenario]) -> str:
    """An aligned table; the description comes last so it is never cut."""
    rows = [(s.name, s.title_zh, s.title_en, _timeline_mark(s) + s.description)
            for s in scenarios]
    return format_table(("name", "标题", "title", "description"), rows, free_last=True)


def _timeline_mark(scenario: Scenario) -> str:
    """"[timeline: months 13, 25] " before the description of a scenario that changes."""
    if not scenario.timeline:
        return ""
    months = ", ".join(str(change.month) for change in scenario.timeline)
    plural = "s" if len(scenario.timeline) > 1 else ""
    return f"[timeline: month{plural} {months}] "


def show(scenario: Scenario) -> str:
    """Every resolved setting of one scenario, marking those that differ from the defaults."""
    defaults = Scenario.from_dict({"scenario": {"name": "defaults"}})
    changed = scenario.differences(defaults)
    head = [f"{scenario.name}: {scenario.title}", scenario.description]
    if scenario.source:
        head.append(
            f"file: {scenario.source}"
            + (f" (extends {scenario.extends})" if scenario.extends else "")
        )
    head += ["", *money.describe(scenario.values, scenario.parameters)]
    body = [
        f"{'*' if key in changed else ' '} {key} = {_toml(value)}"
        for key, value in scenario.values.items()
    ]
    body += [
        f"* parameters.{key} = {_toml(value)}"
        for key, value in scenario.parameters.items()
        if f"parameters.{key}" in changed
    ]
    if scenario.timeline:
        body += ["", "timeline (policy changes from a month on):"]
        body += [f"  {change.describe()}" for change in scenario.timeline]
    return "\n".join(
        [
            *head,
            "",
            *body,
            "",
            "* differs from the schema defaults; "
            "behavioural constants are shown only when overridden.",
        ]
    )


def _toml(value: Any) -> str:
    """A value written as in a TOML file (true, "directed", 3000000.0)."""
    return json.dumps(value, ensure_ascii=False)
