"""Scenarios: load, inherit, validate and override — the policy memo as code.

A scenario is a TOML file in the library (``scenarios/``) or anywhere on disk. It names
itself under ``[scenario]``, may ``extends`` another scenario and sets policy levers
(``[policy.*]``), structure (``[district]``), run settings (``[run]``) and behavioural
constants (``[parameters]``), and may change policy levers from a month on
(``[[timeline]]``, :mod:`sanshe.inputs.timeline`). Every key is checked against
:mod:`sanshe.inputs.schema` and :mod:`sanshe.inputs.parameters`; anything a user could get
wrong raises :class:`InputError` with one paragraph naming the file, the key and what is allowed.

A child that states ``[[timeline]]`` replaces its parent's timeline (``timeline = []`` at
the top of the file, before ``[scenario]``, removes it); a child that does not inherits it.
"""

from __future__ import annotations

import difflib
import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sanshe.inputs import money
from sanshe.inputs import timeline as timelines
from sanshe.inputs.errors import InputError
from sanshe.inputs.parameters import PARAMETERS
from sanshe.inputs.parameters import defaults as parameter_defaults
from sanshe.inputs.schema import BY_KEY, META_KEYS, SETTINGS, Setting, flatten

#: Environment variable that points the library at another directory.
LIBRARY_ENV = "SANSHE_SCENARIOS"

#: Tables a setting may live in ("policy", "policy.purchase", ...), for "unknown table".
_TABLES: frozenset[str] = frozenset(
    ".".join(s.key.split(".")[:i]) for s in SETTINGS for i in range(1, s.key.count(".") + 1)
)


def library_dir() -> Path:
    """The scenario library: ``scenarios/`` at the repository root, or ``$SANSHE_SCENARIOS``."""
    override = os.environ.get(LIBRARY_ENV)
    if override:
        return Path(override).expanduser().resolve()
    return Path(__file__).resolve().parents[2] / "scenarios"


def library_names() -> list[str]:
    """Names of the scenarios in the library, sorted."""
    directory = library_dir()
    if not directory.is_dir():
        return []
    return sorted(p.stem for p in directory.glob("*.toml"))


def list_scenarios() -> list[Scenario]:
    """Every library scenario, loaded and validated, sorted by name."""
    return [Scenario.load(name) for name in library_names()]


@dataclass(frozen=True)
class Scenario:
    """A fully resolved scenario: every setting and behavioural constant has a value.

    ``values`` holds every :data:`sanshe.inputs.schema.SETTINGS` key (dotted) as the run starts,
    ``parameters`` every behavioural constant, ``timeline`` the policy changes from later
    months (:class:`sanshe.inputs.timeline.Change`, in month order). Build one with :meth:`load`,
    :meth:`from_dict` or :meth:`with_overrides`; treat it as immutable (the methods return
    new scenarios). ``source`` (the file it came from) is provenance and does not take
    part in equality.
    """

    name: str
    title: str
    description: str
    values: dict[str, Any]
    parameters: dict[str, float]
    source: Path | None = field(default=None, compare=False)
    extends: str | None = field(default=None, compare=False)
    timeline: timelines.Timeline = ()

    # --- construction ------------------------------------------------------------------
    @classmethod
    def load(cls, name_or_path: str | os.PathLike[str] | Scenario) -> Scenario:
        """A library scenario by name (``"baseline"``) or a scenario file by path."""
        if isinstance(name_or_path, Scenario):
            return name_or_path
        return _load_file(_locate(name_or_path), chain=())

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Scenario:
        """The inverse of :meth:`to_dict`: a nested dict validated like a file.

        Missing keys take their defaults; an ``extends`` names a library scenario.
        """
        if not isinstance(data, Mapping):
            raise InputError(f"a scenario dict must be a mapping, got {type(data).__name__}.")
        return _build(dict(data), origin="scenario dict", path=None, chain=())

    def with_overrides(self, overrides: Mapping[str, Any], *, name: str | None = None) -> Scenario:
        """A copy with dotted keys replaced, validated like file values.

        Keys are settings (``"policy.purchase.mode"``) or behavioural constants
        (``"parameters.unit_cost"``); a nested dict value is read as a table. ``name``
        optionally renames the result (e.g. for a sweep point). An override sets the value
        the run starts with; the timeline still changes it at its months. The money
        reference (:mod:`sanshe.inputs.money`) stays: money amounts, overridden or not,
        are for the scenario's stated district and scale per resident on another one.
        """
        origin = f"override (applied to scenario '{self.name}')"
        values, parameters = dict(self.values), dict(self.parameters)
        for key, value in flatten(dict(overrides)).items():
            if key.startswith("parameters."):
                pname = key.removeprefix("parameters.")
                parameters[pname] = _check_parameter(pname, value, origin)
            elif key.split(".")[0] in _FIXED:
                raise InputError(
                    f"{origin}: '{key}' is {_FIXED.get(key.split('.')[0], '')} and cannot "
                    "be overridden; override settings such as 'policy.purchase.mode' or "
                    "'parameters.unit_cost' instead."
                )
            else:
                values[key] = _check_setting(key, value, origin)
        return Scenario(
            name=self.name if name is None else _check_name(name, origin),
            title=self.title,
            description=self.description,
            values=money.with_reference(values),
            parameters=parameters,
            source=self.source,
            extends=self.extends,
            timeline=self.timeline,
        )

    # --- access ------------------------------------------------------------------------
    def get(self, key: str) -> Any:
        """The value of a dotted key: a setting, ``parameters.X`` or ``scenario.X``."""
        flat = self.flat()
        if key in flat:
            return flat[key]
        if key in ("scenario.name", "scenario.title", "scenario.description"):
            return getattr(self, key.removeprefix("scenario."))
        raise InputError(f"unknown scenario key '{key}'.{_did_you_mean(key, flat)}")

    def flat(self) -> dict[str, Any]:
        """Settings and ``parameters.X`` constants in one dict of dotted keys."""
        return {**self.values, **{f"parameters.{k}": v for k, v in self.parameters.items()}}

    @property
    def title_zh(self) -> str:
        """The Chinese half of a "中文 / English" title."""
        return _title_halves(self.title)[0]

    @property
    def title_en(self) -> str:
        """The English half of a "中文 / English" title."""
        return _title_halves(self.title)[1]

    def values_at(self, month: int) -> dict[str, Any]:
        """The settings in force during ``month`` (1 = the first), timeline applied."""
        return timelines.values_at(self.values, self.timeline, month)

    def differences(self, other: Scenario) -> dict[str, tuple[Any, Any]]:
        """Keys whose values differ from ``other``: key → (this value, other value).

        Differing timelines show as the key ``timeline`` (each side's entries as dicts).
        """
        theirs = other.flat()
        found = {k: (v, theirs.get(k)) for k, v in self.flat().items() if theirs.get(k) != v}
        if self.timeline != other.timeline:
            found["timeline"] = (timelines.to_list(self.timeline),
                                 timelines.to_list(other.timeline))
        return found

    def to_dict(self) -> dict[str, Any]:
        """A nested, JSON-serialisable dict shaped like the TOML file (fully resolved)."""
        out: dict[str, Any] = {
            "scenario": {"name": self.name, "title": self.title, "description": self.description}
        }
        for key, value in self.values.items():
            *tables, leaf = key.split(".")
            node = out
            for table in tables:
                node = node.setdefault(table, {})
            node[leaf] = value
        out["parameters"] = dict(self.parameters)
        if self.timeline:  # absent when empty: scenarios without one keep their stored hash
            out["timeline"] = timelines.to_list(self.timeline)
        return out

    def __hash__(self) -> int:
        return hash(
            (
                self.name,
                self.title,
                self.description,
                tuple(sorted(self.values.items())),
                tuple(sorted(self.parameters.items())),
                self.timeline,
            )
        )

    def __repr__(self) -> str:
        where = f", source={str(self.source)!r}" if self.source else ""
        return f"Scenario(name={self.name!r}, title={self.title!r}{where})"


def _title_halves(title: str) -> tuple[str, str]:
    """Split "中文 / English"; an unsplit title goes to the half its script suggests."""
    if " / " in title:
        zh, en = title.split(" / ", 1)
        return zh.strip(), en.strip()
    has_cjk = any("\u4e00" <= ch <= "\u9fff" for ch in title)
    return (title, "") if has_cjk else ("", title)


# --- command-line overrides ---------------------------------------------------------------
def parse_override(text: str) -> tuple[str, Any]:
    """Parse ``--set KEY=VALUE``: the value as TOML, else as a bare string.

    ``policy.purchase.annual_budget=5e6`` gives a float, ``...third_party_evaluation=true``
    a bool and ``policy.purchase.mode=directed`` the string "directed" (no quotes needed).
    """
    key, sep, raw = text.partition("=")
    key, raw = key.strip(), raw.strip()
    if not sep or not key or not raw:
        raise InputError(
            f"--set {text!r}: expected KEY=VALUE with a dotted key, e.g. "
            "--set policy.purchase.annual_budget=5e6 or --set parameters.unit_cost=800."
        )
    try:
        parsed = tomllib.loads(f"v = {raw}")
    except tomllib.TOMLDecodeError:
        return key, raw
    return (key, parsed["v"]) if len(parsed) == 1 else (key, raw)


def parse_overrides(texts: list[str] | None) -> dict[str, Any]:
    """Several ``--set`` options as one dict (a later key wins)."""
    return dict(parse_override(t) for t in texts or ())


# --- loading ------------------------------------------------------------------------------
def _locate(name_or_path: str | os.PathLike[str]) -> Path:
    """A path as given, or a library name resolved to its file."""
    text = os.fspath(name_or_path)
    path = Path(text).expanduser()
    if text.endswith(".toml") or os.sep in text or "/" in text or path.is_file():
        if not path.is_file():
            hint = f" (the library has '{path.stem}')" if path.stem in library_names() else ""
            raise InputError(f"scenario file '{path}' does not exist{hint}.")
        return path.resolve()
    return _library_file(text, needed_by=None)


def _library_file(name: str, needed_by: str | None) -> Path:
    """The library file for ``name``, or an error listing what the library holds."""
    path = library_dir() / f"{name}.toml"
    if path.is_file():
        return path.resolve()
    names = library_names()
    prefix = f"{needed_by}: " if needed_by else ""
    if not names:
        raise InputError(
            f"{prefix}no scenario '{name}': the scenario library '{library_dir()}' "
            f"has no .toml files (set ${LIBRARY_ENV} or give a path to a .toml "
            "file)."
        )
    raise InputError(
        f"{prefix}no scenario '{name}' in the library '{library_dir()}'."
        f"{_did_you_mean(name, names)} Available: {', '.join(names)}; "
        "or give a path to a .toml file."
    )


def _read_toml(path: Path) -> dict[str, Any]:
    """Parse one file; syntax errors name the file and the line tomllib reports."""
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: not valid TOML: {exc}.") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text ({exc.reason}).") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror}).") from None


def _load_file(path: Path, chain: tuple[Path, ...]) -> Scenario:
    """Load, validate and resolve one file (and, through ``extends``, its ancestors)."""
    if path in chain:
        shown = " → ".join(p.name for p in (*chain, path))
        raise InputError(f"{chain[-1]}: 'extends' forms a cycle: {shown}.")
    return _build(_read_toml(path), origin=str(path), path=path, chain=(*chain, path))


def _build(
    data: dict[str, Any], origin: str, path: Path | None, chain: tuple[Path, ...]
) -> Scenario:
    """Validate one document's own keys, then lay them over its parent (or the defaults)."""
    meta = _check_meta(data.pop("scenario", None), origin, path)
    params_raw = data.pop("parameters", {})
    if not isinstance(params_raw, dict):
        raise InputError(f"{origin}: 'parameters' must be a table of behavioural constants.")
    own_timeline = (timelines.parse(data.pop("timeline"), origin, _check_setting)
                     if "timeline" in data else None)
    values = {k: _check_setting(k, v, origin) for k, v in flatten(data).items()}
    params = {k: _check_parameter(k, v, origin) for k, v in flatten(params_raw).items()}
    inherited: tuple[timelines.Change, ...] = ()
    if meta.get("extends"):
        parent = _load_file(_parent_file(meta["extends"], origin, path), chain)
        base_values, base_params = parent.values, parent.parameters
        inherited = parent.timeline
    else:
        base_values = {s.key: _normalise(s, s.default) for s in SETTINGS}
        base_params = {k: float(v) for k, v in parameter_defaults().items()}
    resolved = {**base_values, **values}
    resolved = (money.rebase(resolved, base_values, values) if meta.get("extends")
                else money.with_reference(resolved))
    timeline = _own_or_inherited(own_timeline, inherited, resolved, origin, meta.get("extends"))
    return Scenario(
        name=meta["name"],
        title=meta.get("title") or meta["name"],
        description=meta.get("description", ""),
        values=resolved,
        parameters={**base_params, **params},
        source=path,
        extends=meta.get("extends"),
        timeline=timeline,
    )


def _own_or_inherited(own: timelines.Timeline | None, inherited: timelines.Timeline,
                      values: dict[str, Any], origin: str,
                      parent: str | None) -> timelines.Timeline:
    """A file's own [[timeline]] replaces its parent's; either must fit in its run."""
    timeline = inherited if own is None else own
    timelines.check_months(timeline, int(values["run.months"]), origin,
                           parent if own is None else None)
    return timeline


def _parent_file(extends: str, origin: str, path: Path | None) -> Path:
    """Resolve ``extends``: a path relative to the child, a sibling file, or a library name."""
    here = path.parent if path else None
    if extends.endswith(".toml") or "/" in extends or os.sep in extends:
        candidate = Path(extends).expanduser()
        if here and not candidate.is_absolute():
            candidate = here / candidate
        if not candidate.is_file():
            raise InputError(
                f"{origin}: [scenario] extends = '{extends}', but '{candidate}' does not exist."
            )
        return candidate.resolve()
    if here and (here / f"{extends}.toml").is_file():
        return (here / f"{extends}.toml").resolve()
    return _library_file(extends, needed_by=f"{origin}: [scenario] extends = '{extends}'")


# --- validation ---------------------------------------------------------------------------
def _check_meta(meta: Any, origin: str, path: Path | None) -> dict[str, str]:
    """The [scenario] table: a name (equal to the file stem), optional title etc."""
    if not isinstance(meta, dict):
        raise InputError(
            f"{origin}: missing the [scenario] table; every scenario starts with "
            '[scenario] name = "...", title = "中文 / English", description = "...".'
        )
    for key, value in meta.items():
        if key == "timeline":
            raise InputError(
                f"{origin}: 'timeline' is inside [scenario]; a timeline is a list of "
                "[[timeline]] entries after the tables (to drop an inherited one, write "
                "timeline = [] at the top of the file, before [scenario])."
            )
        if key not in META_KEYS:
            raise InputError(
                f"{origin}: unknown key 'scenario.{key}' in [scenario]."
                f"{_did_you_mean(key, META_KEYS)} Allowed: {', '.join(META_KEYS)}."
            )
        if not isinstance(value, str):
            raise InputError(
                f"{origin}: 'scenario.{key}' must be a string, got {_describe(value)}."
            )
    if "name" not in meta:
        raise InputError(
            f"{origin}: [scenario] has no 'name'; add name = \"...\" "
            "(for a file, its file name without .toml)."
        )
    _check_name(meta["name"], origin)
    if path is not None and meta["name"] != path.stem:
        raise InputError(
            f"{origin}: 'scenario.name' is '{meta['name']}' but must equal the "
            f"file name without .toml, '{path.stem}'; rename one of them."
        )
    return meta


def _check_name(name: Any, origin: str) -> str:
    """Scenario names are non-blank strings (the library uses lowercase_with_underscores)."""
    if not isinstance(name, str) or not name.strip():
        raise InputError(f"{origin}: 'scenario.name' must be a non-empty string, got {name!r}.")
    return name


#: What the keys an override may not touch are, for its error message.
_FIXED = {"scenario": "scenario metadata",
          "timeline": "the scenario's timeline (edit the [[timeline]] entries in its file)"}


def _check_setting(key: str, value: Any, origin: str) -> Any:
    """A validated, normalised value for a schema key; otherwise InputError."""
    setting = BY_KEY.get(key)
    if setting is None:
        raise InputError(_unknown_setting(key, origin))
    value = _plain(value)
    problem = _type_problem(setting, value) or _value_problem(setting, value)
    if problem:
        raise InputError(
            f"{origin}: '{key}' = {_show(value)} is {problem}; it must be "
            f"{setting.allowed()} ({setting.help})."
        )
    return _normalise(setting, value)


def _type_problem(setting: Setting, value: Any) -> str | None:
    """Why ``value`` has the wrong type for ``setting`` (bool is not a number here)."""
    if setting.type is bool:
        ok = isinstance(value, bool)
    elif setting.type is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif setting.type is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    else:
        ok = isinstance(value, setting.type)
    return None if ok else f"the wrong type ({_describe(value)})"


def _value_problem(setting: Setting, value: Any) -> str | None:
    """Why a value of the right type is not allowed (NaN is out of every range)."""
    if setting.choices is not None:
        return None if value in setting.choices else "not an allowed value"
    if setting.type is bool or setting.low <= value <= setting.high:
        return None
    return "out of range"


def _normalise(setting: Setting, value: Any) -> Any:
    """Floats as float (TOML ``3_000_000`` is an int), everything else as given."""
    return float(value) if setting.type is float else value


def _check_parameter(name: str, value: Any, origin: str) -> float:
    """A validated behavioural constant inside its plausible [low, high] range."""
    param = PARAMETERS.get(name)
    if param is None:
        raise InputError(
            f"{origin}: unknown behavioural constant 'parameters.{name}'."
            f"{_did_you_mean(name, PARAMETERS, prefix='parameters.')} "
            "The constants are listed in sanshe/inputs/parameters.py."
        )
    value = _plain(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(
            f"{origin}: 'parameters.{name}' = {_show(value)} has the wrong type "
            f"({_describe(value)}); it must be a number from {param.low:g} to "
            f"{param.high:g} ({param.unit})."
        )
    if math.isnan(value) or not param.low <= value <= param.high:
        raise InputError(
            f"{origin}: 'parameters.{name}' = {value!r} is outside its plausible "
            f"range {param.low:g} to {param.high:g} ({param.unit}; {param.source})."
        )
    return float(value)


def _unknown_setting(key: str, origin: str) -> str:
    """The message for a key the schema does not know: unknown table, key or misuse."""
    table = key.rpartition(".")[0]
    if key in _TABLES:
        return (
            f"{origin}: '{key}' is a table, not a value; set its keys instead "
            f"(e.g. '{_first_key(key)}')."
        )
    if table in BY_KEY:
        return f"{origin}: '{table}' is a value, not a table; it cannot contain '{key}'."
    if table and table not in _TABLES:
        bad = _outermost_unknown(key)
        return (
            f"{origin}: unknown table '{bad}' (at '{key}')."
            f"{_did_you_mean(bad, sorted(_TABLES))} Known tables: "
            f"{', '.join(sorted(t for t in _TABLES))}, scenario, parameters."
        )
    hint = _did_you_mean(key, BY_KEY)
    if not hint and table:  # nothing close: the keys the table has
        keys = [k.rpartition(".")[2] for k in BY_KEY if k.rpartition(".")[0] == table]
        hint = f" Keys of [{table}]: {', '.join(keys)}." if keys else ""
    return f"{origin}: unknown key '{key}'.{hint}"


def _outermost_unknown(key: str) -> str:
    """The first prefix of ``key`` that is not a known table (``policy.purchse``)."""
    parts = key.split(".")
    for i in range(1, len(parts)):
        prefix = ".".join(parts[:i])
        if prefix not in _TABLES:
            return prefix
    return ".".join(parts[:-1])


def _first_key(table: str) -> str:
    return next(s.key for s in SETTINGS if s.key.startswith(f"{table}."))


def _did_you_mean(key: str, known: Any, prefix: str = "") -> str:
    """ " Did you mean 'x'?": the same leaf in another table, a close leaf, or a close key."""
    known = list(known)
    table, _, leaf = key.rpartition(".")
    same_leaf = [k for k in known if k != key and "." in k and k.rpartition(".")[2] == leaf]
    siblings = {k.rpartition(".")[2]: k for k in known if k.rpartition(".")[0] == table}
    close = (
        same_leaf
        or [siblings[m] for m in difflib.get_close_matches(leaf, list(siblings), 2, 0.6)]
        or difflib.get_close_matches(key, known, n=2, cutoff=0.7)
    )
    if not close:
        return ""
    return " Did you mean " + " or ".join(f"'{prefix}{c}'" for c in close) + "?"


def _plain(value: Any) -> Any:
    """numpy scalars (from sweeps and batch_run) → the Python value they hold."""
    if type(value).__module__ == "numpy" and hasattr(value, "item"):
        return value.item()
    return value


def _describe(value: Any) -> str:
    names = {
        bool: "true/false",
        int: "an integer",
        float: "a number with a decimal point",
        str: "a string",
        list: "an array",
    }
    return names.get(type(value), type(value).__name__)


def _show(value: Any) -> str:
    """A value as the user would have written it in TOML."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)
