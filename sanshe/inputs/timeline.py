"""Policies that change over time: the ``[[timeline]]`` of a scenario file.

A policy is rarely constant for ten years: a pilot's money stops after three, a package is
phased in. Each ``[[timeline]]`` entry names a month and the ``policy.*`` keys that take
new values from that month on::

    [[timeline]]
    month = 37                                   # from the 37th month on
    policy.purchase.annual_budget = 0            # the pilot money stops

The model applies an entry at the start of its month (:func:`apply`, called first thing in
``step()``), so a run with a timeline is the same run as without it, draw for draw, up to
the month before the first change (common random numbers). Yearly decisions (purchase
lots, community funds, venture philanthropy, incubation) read the new value at their next
yearly round (months 1, 13, 25, 37, ...): a contract signed is honoured. Monthly rules
(wages, posts, evaluation weights, priorities, deliberation) act in the month itself.

Parsing lives here; :mod:`sanshe.inputs.scenario` passes its per-key checker so every value is
validated by the schema exactly as a value in the file's own tables.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sanshe.inputs import money
from sanshe.inputs.errors import InputError
from sanshe.inputs.schema import flatten

if TYPE_CHECKING:
    from sanshe.sim.model import CommunityGovernanceModel

#: Checks one dotted key and value; returns the normalised value or raises InputError.
Checker = Callable[[str, Any, str], Any]


@dataclass(frozen=True)
class Change:
    """One ``[[timeline]]`` entry: from ``month`` (1-based) on, these policy values."""

    month: int
    values: tuple[tuple[str, Any], ...]

    @property
    def settings(self) -> dict[str, Any]:
        """The changed keys and their new values, in the file's order."""
        return dict(self.values)

    def to_dict(self) -> dict[str, Any]:
        """The entry shaped as in the TOML file (nested tables under ``policy``)."""
        out: dict[str, Any] = {"month": self.month}
        for key, value in self.values:
            *tables, leaf = key.split(".")
            node = out
            for table in tables:
                node = node.setdefault(table, {})
            node[leaf] = value
        return out

    def describe(self, lang: str = "en") -> str:
        """One line: "from month 37: policy.purchase.annual_budget = 0, ..."."""
        settings = ", ".join(f"{k} = {show(v)}" for k, v in self.values)
        return (f"从第 {self.month} 个月起：{settings}" if lang == "zh"
                else f"from month {self.month}: {settings}")


Timeline = tuple[Change, ...]


def parse(raw: Any, origin: str, check: Checker) -> Timeline:
    """The ``timeline`` array of a file or dict, validated entry by entry.

    Months must be whole numbers from 1, strictly increasing (so no month twice); every
    other key must be a ``policy.*`` setting with a valid value. The run length is checked
    separately (:func:`check_months`) once ``extends`` has resolved ``run.months``.
    """
    if not isinstance(raw, list) or not all(isinstance(e, Mapping) for e in raw):
        raise InputError(
            f"{origin}: 'timeline' must be an array of tables, written as [[timeline]] "
            "entries, each with month = N and the policy keys that change from that month "
            "on (e.g. policy.purchase.annual_budget = 0)."
        )
    changes: list[Change] = []
    for number, entry in enumerate(raw, start=1):
        change = _parse_entry(dict(entry), f"{origin}: [[timeline]] entry {number}", check)
        if changes and change.month <= changes[-1].month:
            same = change.month == changes[-1].month
            raise InputError(
                f"{origin}: [[timeline]] entry {number} has month = {change.month}, "
                f"{'the same month as' if same else 'earlier than'} entry {number - 1} "
                f"(month = {changes[-1].month}); list the entries in increasing month order "
                "and put every change of one month in one entry."
            )
        changes.append(change)
    return tuple(changes)


def _parse_entry(entry: dict[str, Any], where: str, check: Checker) -> Change:
    """One entry: its month and at least one valid policy change."""
    month = entry.pop("month", None)
    if isinstance(month, bool) or not isinstance(month, int):
        shown = "missing" if month is None else f"{month!r}, not a whole number"
        raise InputError(
            f"{where}: 'month' is {shown}; each entry starts with month = N, the month "
            "(1 = the first) from which its changes hold."
        )
    if month < 1:
        raise InputError(f"{where}: month = {month} is before the run; months start at 1.")
    where = f"{where} (month {month})"
    values = flatten(entry)
    if not values:
        raise InputError(
            f"{where}: changes nothing; add the policy keys that change from this month on, "
            "e.g. policy.purchase.annual_budget = 0."
        )
    checked = []
    for key, value in values.items():
        if not key.startswith("policy."):
            raise InputError(
                f"{where}: '{key}' cannot change during a run; a timeline changes policy "
                "levers only (keys starting with 'policy.'). District, run settings and "
                "behavioural constants hold for the whole run."
            )
        checked.append((key, check(key, value, where)))
    return Change(month, tuple(checked))


def check_months(timeline: Timeline, months: int, origin: str, inherited: str | None) -> None:
    """Every change falls within a run of ``months`` months (the resolved ``run.months``)."""
    for number, change in enumerate(timeline, start=1):
        if change.month > months:
            source = f" (inherited from '{inherited}')" if inherited else ""
            raise InputError(
                f"{origin}: [[timeline]] entry {number}{source} has month = {change.month}, "
                f"after the end of the run (run.months = {months}); use a month from 1 to "
                f"{months} or lengthen the run."
            )


def values_at(base: Mapping[str, Any], timeline: Timeline, month: int) -> dict[str, Any]:
    """The settings in force during ``month`` (1-based): the base with earlier changes."""
    values = dict(base)
    for change in timeline:
        if change.month <= month:
            values.update(change.values)
    return values


def change_months(timeline: Timeline) -> list[int]:
    """The months at which something changes (for markers on trajectories)."""
    return [c.month for c in timeline]


def from_stored(parameters: Mapping[str, Any]) -> Timeline:
    """The timeline of a stored run's parameters (``Scenario.to_dict()``), unchecked."""
    changes = []
    for entry in parameters.get("timeline") or []:
        settings = flatten({k: v for k, v in entry.items() if k != "month"})
        changes.append(Change(int(entry["month"]), tuple(settings.items())))
    return tuple(changes)


def to_list(timeline: Timeline) -> list[dict[str, Any]]:
    """The timeline as ``to_dict()`` stores it: a list of entries shaped like the file."""
    return [c.to_dict() for c in timeline]


def beyond(timeline: Timeline, months: int) -> list[Change]:
    """Changes a run of ``months`` months never reaches (a run shortened by ``--months``)."""
    return [c for c in timeline if c.month > months]


def cut_notes(specs: Sequence[Any]) -> list[str]:
    """One note per scenario whose shortened run ends before some of its changes."""
    notes: dict[str, str] = {}
    for spec in specs:
        missed = beyond(spec.scenario.timeline, spec.months)
        if missed and spec.scenario.name not in notes:
            months = ", ".join(str(c.month) for c in missed)
            notes[spec.scenario.name] = (
                f"note: scenario '{spec.scenario.name}': the run ends after month "
                f"{spec.months}, before its timeline change(s) at month {months}; those "
                "changes do not take effect (run longer with --months to see them)."
            )
    return list(notes.values())


def print_cut_notes(specs: Sequence[Any]) -> None:
    """:func:`cut_notes` on standard error, before any run starts."""
    import sys

    for line in cut_notes(specs):
        print(line, file=sys.stderr)


# --- the model -----------------------------------------------------------------------------
def apply(model: CommunityGovernanceModel) -> None:
    """Apply the changes due at the start of the model's coming month.

    ``model.month`` counts finished months, so the coming month is ``model.month + 1``.
    Besides ``model.v``, this updates the values the model captured when it was built: the
    bureau's purchase and venture budgets and each committee's funded posts. When posts are
    cut, station staff beyond them leave (latest hired first: no random draw, so the
    streams stay aligned with a run without the change); the communities that have a part
    post are the first in the run's queue (``model.fund_station_posts``).
    """
    due = [c for c in model.policy_scenario.timeline if c.month == model.month + 1]
    if not due:
        return
    for change in due:
        model.v.update(change.values)
    v = model.v
    model.bureau.purchase_budget = money.amount(v, "policy.purchase.annual_budget")
    model.bureau.venture_budget = money.amount(v, "policy.purchase.venture_philanthropy_budget")
    model.fund_station_posts()
    for committee in model.committees:
        while len(committee.staff) > committee.posts:
            committee.staff.pop().remove()


# --- helpers -------------------------------------------------------------------------------
def show(value: Any) -> str:
    """A value as written in TOML: true/false, 0, "directed"."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return f"{int(value):,}".replace(",", "_") if abs(value) >= 10_000 else str(int(value))
    return json.dumps(value, ensure_ascii=False) if isinstance(value, str) else str(value)
