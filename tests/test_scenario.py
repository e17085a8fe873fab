"""Scenario loading, inheritance, validation and overrides (sanshe/inputs/scenario.py)."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest

from sanshe.inputs.errors import InputError
from sanshe.inputs.parameters import PARAMETERS
from sanshe.inputs.scenario import (
    Scenario,
    library_dir,
    list_scenarios,
    parse_override,
    parse_overrides,
)
from sanshe.inputs.schema import SETTINGS

UNIT_COST_RANGE = f"{PARAMETERS['unit_cost'].low:g} to {PARAMETERS['unit_cost'].high:g}"


def write(directory: Path, name: str, body: str, *, header: bool = True) -> Path:
    """A scenario file ``name.toml`` in ``directory`` (with a matching [scenario] table)."""
    path = directory / f"{name}.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    text = f'[scenario]\nname = "{path.stem}"\n{body}' if header else body
    path.write_text(text, encoding="utf-8")
    return path


def load_error(directory: Path, name: str, body: str, *, header: bool = True) -> str:
    """The InputError message from loading a bad file."""
    path = write(directory, name, body, header=header)
    with pytest.raises(InputError) as info:
        Scenario.load(path)
    return str(info.value)


# --- loading and resolution ---------------------------------------------------------------
def test_minimal_file_resolves_every_key_to_defaults(tmp_path):
    scenario = Scenario.load(write(tmp_path, "minimal", ""))
    assert set(scenario.values) == {s.key for s in SETTINGS}
    assert set(scenario.parameters) == set(PARAMETERS)
    assert scenario.values["policy.purchase.mode"] == "directed"
    assert scenario.title == "minimal" and scenario.description == ""
    assert scenario.source == tmp_path / "minimal.toml"


def test_int_for_float_key_is_stored_as_float(tmp_path):
    scenario = Scenario.load(write(tmp_path, "s", "[policy.purchase]\nannual_budget = 3_000_000\n"))
    value = scenario.values["policy.purchase.annual_budget"]
    assert value == 3e6 and isinstance(value, float)
    assert isinstance(scenario.values["district.streets"], int)


def test_load_accepts_str_path_and_scenario(tmp_path):
    path = write(tmp_path, "s", "[run]\nmonths = 24\n")
    scenario = Scenario.load(str(path))
    assert Scenario.load(path) == scenario
    assert Scenario.load(scenario) is scenario


def test_extends_sibling_file_then_child_overrides(tmp_path):
    write(tmp_path, "parent", "[run]\nmonths = 24\nseed = 7\n[parameters]\nunit_cost = 800\n")
    child = Scenario.load(write(tmp_path, "child", 'extends = "parent"\n[run]\nmonths = 36\n'))
    assert child.values["run.months"] == 36  # child wins
    assert child.values["run.seed"] == 7  # inherited
    assert child.parameters["unit_cost"] == 800.0  # inherited parameter
    assert child.extends == "parent" and child.name == "child"


def test_extends_chain_and_relative_path(tmp_path):
    write(tmp_path / "base", "grand", "[district]\nstreets = 3\n[run]\nmonths = 12\n")
    write(tmp_path / "base", "parent", 'extends = "grand"\n[run]\nmonths = 24\nseed = 5\n')
    child = Scenario.load(
        write(tmp_path, "child", 'extends = "base/parent.toml"\n[run]\nseed = 9\n')
    )
    assert child.values["district.streets"] == 3
    assert child.values["run.months"] == 24
    assert child.values["run.seed"] == 9


def test_extends_library_name(tmp_path):
    child = Scenario.load(write(tmp_path, "mine", 'extends = "full_linkage"\n[run]\nmonths = 6\n'))
    full = Scenario.load("full_linkage")
    assert child.differences(full) == {"run.months": (6, 120)}


def test_library_dir_env_override(tmp_path, monkeypatch):
    write(tmp_path, "zeta", "")
    write(tmp_path, "alpha", 'title = "甲 / Alpha"\n')
    monkeypatch.setenv("SANSHE_SCENARIOS", str(tmp_path))
    assert library_dir() == tmp_path.resolve()
    assert [s.name for s in list_scenarios()] == ["alpha", "zeta"]
    assert Scenario.load("alpha").title_en == "Alpha"


def test_library_dir_default_is_repository_scenarios(monkeypatch):
    monkeypatch.delenv("SANSHE_SCENARIOS", raising=False)
    assert library_dir() == Path(__file__).resolve().parent.parent / "scenarios"


def test_unknown_library_name_lists_available():
    with pytest.raises(InputError) as info:
        Scenario.load("basline")
    message = str(info.value)
    assert "'basline'" in message and "Did you mean 'baseline'" in message
    assert "full_linkage" in message  # the available names are listed


def test_missing_file_path():
    with pytest.raises(InputError, match="does not exist"):
        Scenario.load("no/such/file.toml")


# --- bad input: each message names the file and the key ------------------------------------
BAD_FILES = [
    # (file body after the [scenario] name line, substrings the message must contain)
    (
        "[policy.purchase]\nbudget = 3\n",
        ["'policy.purchase.budget'", "Did you mean 'policy.purchase.annual_budget'"],
    ),
    (
        "[policy.purchse]\nmode = 'directed'\n",
        ["unknown table 'policy.purchse'", "Did you mean 'policy.purchase'"],
    ),
    ("[distrct]\nstreets = 2\n", ["unknown table 'distrct'", "Did you mean 'district'"]),
    (  # nothing close: the table's keys, so the reader sees what is allowed
        "[district]\nhouseholds = 2\n",
        ["unknown key 'district.households'", "Keys of [district]: streets, "],
    ),
    (
        "[policy.purchase]\ntraining = 0.5\n",
        ["'policy.purchase.training'", "'policy.incubation.training'"],
    ),
    ("[district]\nstreets = 2.0\n", ["'district.streets'", "wrong type", "an integer"]),
    ("[district]\nstreets = true\n", ["'district.streets'", "wrong type", "an integer"]),
    ("[district]\nrural_share = '0.5'\n", ["'district.rural_share'", "wrong type", "a number"]),
    ("[policy.incubation]\nenabled = 1\n", ["'policy.incubation.enabled'", "true or false"]),
    ("[policy.purchase]\nmode = 3\n", ["'policy.purchase.mode'", "wrong type"]),
    ("[district]\nstreets = 0\n", ["'district.streets'", "out of range", "from 1 to 50"]),
    ("[district]\nrural_share = nan\n", ["'district.rural_share'", "out of range"]),
    (
        "[policy.purchase]\nsatisfaction_weight = 1.5\n",
        ["'policy.purchase.satisfaction_weight'", "from 0 to 1"],
    ),
    (
        "[policy.purchase]\nmode = 'direct'\n",
        ["'policy.purchase.mode'", "'competitive', 'directed', 'mixed'"],
    ),
    (
        "[policy.linkage]\nmode = 'bottom_up'\n",
        ["'policy.linkage.mode'", "'demand_driven', 'government_led', 'project_led'"],
    ),
    ("[policy.purchase]\nmode = ['directed']\n", ["'policy.purchase.mode'", "an array"]),
    (
        "[parameters]\nunit_cot = 700\n",
        ["'parameters.unit_cot'", "Did you mean 'parameters.unit_cost'"],
    ),
    ("[parameters]\nunit_cost = 5000\n", ["'parameters.unit_cost'",
                                          UNIT_COST_RANGE]),
    ("[parameters]\nunit_cost = true\n", ["'parameters.unit_cost'", "wrong type"]),
    ("[parameters]\nunit_cost = '700'\n", ["'parameters.unit_cost'", "wrong type"]),
    ("[policy]\npurchase = 3\n", ["'policy.purchase' is a table"]),
    ("[policy.purchase.mode]\nx = 1\n", ["'policy.purchase.mode' is a value, not a table"]),
    ("[run]\nmonths = 0\n", ["'run.months'", "from 1 to 600"]),
    ('titel = "x"\n', ["'scenario.titel'", "Did you mean 'title'"]),
    ("title = 3\n", ["'scenario.title'", "must be a string"]),
]


@pytest.mark.parametrize(("body", "expected"), BAD_FILES, ids=[b for b, _ in BAD_FILES])
def test_bad_file_names_file_and_key(tmp_path, body, expected):
    message = load_error(tmp_path, "bad", body)
    assert "bad.toml" in message
    for text in expected:
        assert text in message
    assert "\n" not in message  # one paragraph


def test_parameters_must_be_a_table(tmp_path):
    message = load_error(
        tmp_path, "flat", 'parameters = 3\n[scenario]\nname = "flat"\n', header=False
    )
    assert "flat.toml" in message and "'parameters' must be a table" in message


def test_name_must_equal_file_stem(tmp_path):
    message = load_error(tmp_path, "stem", '[scenario]\nname = "other"\n', header=False)
    assert "stem.toml" in message and "'scenario.name'" in message and "'stem'" in message


def test_missing_scenario_table(tmp_path):
    message = load_error(tmp_path, "nometa", "[run]\nmonths = 3\n", header=False)
    assert "nometa.toml" in message and "[scenario]" in message


def test_missing_name(tmp_path):
    message = load_error(tmp_path, "noname", '[scenario]\ntitle = "x"\n', header=False)
    assert "noname.toml" in message and "'name'" in message


def test_toml_syntax_error_names_file_and_line(tmp_path):
    message = load_error(tmp_path, "syntax", '[scenario]\nname = "syntax\n', header=False)
    assert "syntax.toml" in message and "not valid TOML" in message and "line 2" in message


def test_extends_cycle_shows_chain(tmp_path):
    write(tmp_path, "b", 'extends = "c"\n')
    write(tmp_path, "c", 'extends = "a.toml"\n')
    message = load_error(tmp_path, "a", 'extends = "b"\n')
    assert "cycle" in message and "a.toml → b.toml → c.toml → a.toml" in message


def test_extends_itself_is_a_cycle(tmp_path):
    assert "cycle" in load_error(tmp_path, "selfish", 'extends = "selfish"\n')


def test_extends_missing_path(tmp_path):
    message = load_error(tmp_path, "orphan", 'extends = "gone/parent.toml"\n')
    assert "orphan.toml" in message and "'gone/parent.toml'" in message
    assert "does not exist" in message


def test_extends_missing_name_suggests(tmp_path):
    message = load_error(tmp_path, "orphan", 'extends = "basline"\n')
    assert "orphan.toml" in message and "extends = 'basline'" in message
    assert "Did you mean 'baseline'" in message


def test_error_in_parent_names_parent_file(tmp_path):
    write(tmp_path, "parent", "[district]\nstreets = 99\n")
    message = load_error(tmp_path, "child", 'extends = "parent"\n')
    assert "parent.toml" in message and "'district.streets'" in message


def test_not_utf8(tmp_path):
    path = tmp_path / "latin.toml"
    path.write_bytes(b'[scenario]\nname = "latin"\ntitle = "\xe9"\n')
    with pytest.raises(InputError, match="latin.toml"):
        Scenario.load(path)


# --- overrides ---------------------------------------------------------------------------
def test_with_overrides_settings_and_parameters():
    base = Scenario.load("baseline")
    changed = base.with_overrides(
        {
            "policy.purchase.mode": "competitive",
            "policy.purchase.annual_budget": 5_000_000,
            "parameters.unit_cost": 900,
        }
    )
    assert changed.values["policy.purchase.mode"] == "competitive"
    assert changed.values["policy.purchase.annual_budget"] == 5e6
    assert changed.parameters["unit_cost"] == 900.0
    assert base.values["policy.purchase.mode"] == "directed"  # the original is untouched
    assert base.parameters["unit_cost"] == PARAMETERS["unit_cost"].default
    assert changed.name == base.name
    assert set(changed.differences(base)) == {
        "policy.purchase.mode",
        "policy.purchase.annual_budget",
        "parameters.unit_cost",
    }


def test_overrides_take_precedence_over_file_and_parent(tmp_path):
    write(tmp_path, "parent", "[run]\nmonths = 24\n")
    child = Scenario.load(write(tmp_path, "child", 'extends = "parent"\n[run]\nmonths = 36\n'))
    assert child.with_overrides({"run.months": 48}).values["run.months"] == 48
    twice = child.with_overrides({"run.months": 48}).with_overrides({"run.months": 60})
    assert twice.values["run.months"] == 60


def test_with_overrides_nested_dict_and_rename():
    scenario = Scenario.load("baseline").with_overrides(
        {
            "policy.purchase": {"mode": "mixed", "directed_share": 0.3},
            "parameters": {"crowding": -0.2},
        },
        name="point_1",
    )
    assert scenario.values["policy.purchase.mode"] == "mixed"
    assert scenario.values["policy.purchase.directed_share"] == 0.3
    assert scenario.parameters["crowding"] == -0.2
    assert scenario.name == "point_1"


def test_with_overrides_accepts_numpy_scalars():
    scenario = Scenario.load("baseline").with_overrides(
        {
            "district.streets": np.int64(3),
            "district.rural_share": np.float64(0.25),
            "policy.community.deliberation": np.bool_(True),
            "parameters.unit_cost": np.float32(700),
        }
    )
    assert type(scenario.values["district.streets"]) is int
    assert type(scenario.values["policy.community.deliberation"]) is bool
    json.dumps(scenario.to_dict())


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"policy.purchase.mode": "direct"}, ["'policy.purchase.mode'", "'competitive'"]),
        ({"district.streets": 2.0}, ["'district.streets'", "an integer"]),
        ({"district.streets": True}, ["'district.streets'", "wrong type"]),
        ({"policy.purchase.budget": 1}, ["Did you mean 'policy.purchase.annual_budget'"]),
        ({"parameters.unit_cot": 700}, ["Did you mean 'parameters.unit_cost'"]),
        ({"parameters.unit_cost": 1e6}, ["'parameters.unit_cost'", UNIT_COST_RANGE]),
        ({"scenario.name": "x"}, ["'scenario.name'", "metadata"]),
    ],
)
def test_bad_override_says_override(overrides, expected):
    with pytest.raises(InputError) as info:
        Scenario.load("baseline").with_overrides(overrides)
    message = str(info.value)
    assert "override" in message and "baseline" in message
    for text in expected:
        assert text in message


# --- --set KEY=VALUE ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("policy.purchase.annual_budget=5e6", ("policy.purchase.annual_budget", 5e6)),
        ("district.streets=3", ("district.streets", 3)),
        (
            "policy.purchase.third_party_evaluation=true",
            ("policy.purchase.third_party_evaluation", True),
        ),
        ("policy.purchase.mode=directed", ("policy.purchase.mode", "directed")),
        ('policy.purchase.mode="competitive"', ("policy.purchase.mode", "competitive")),
        (" parameters.unit_cost = 800 ", ("parameters.unit_cost", 800)),
        ("policy.purchase.annual_budget=3_000_000", ("policy.purchase.annual_budget", 3_000_000)),
        ("a=x=1", ("a", "x=1")),
    ],
)
def test_parse_override(text, expected):
    assert parse_override(text) == expected


@pytest.mark.parametrize("text", ["policy.purchase.mode", "=3", "district.streets=", ""])
def test_parse_override_bad_syntax(text):
    with pytest.raises(InputError, match="KEY=VALUE"):
        parse_override(text)


def test_parsed_overrides_apply():
    overrides = parse_overrides(
        ["policy.purchase.mode=competitive", "district.streets=4", "district.streets=5"]
    )
    scenario = Scenario.load("baseline").with_overrides(overrides)
    assert scenario.values["policy.purchase.mode"] == "competitive"
    assert scenario.values["district.streets"] == 5  # the later --set wins
    assert parse_overrides(None) == {}


# --- access, equality, serialisation -------------------------------------------------------
def test_get():
    scenario = Scenario.load("full_linkage")
    assert scenario.get("policy.linkage.mode") == "demand_driven"
    assert scenario.get("parameters.unit_cost") == PARAMETERS["unit_cost"].default
    assert scenario.get("scenario.name") == "full_linkage"
    with pytest.raises(InputError, match="Did you mean 'policy.linkage.mode'"):
        scenario.get("policy.linkage.mod")


def test_pickle_round_trip():
    scenario = Scenario.load("full_linkage").with_overrides({"parameters.crowding": -0.3})
    copy = pickle.loads(pickle.dumps(scenario))
    assert copy == scenario and hash(copy) == hash(scenario)
    assert copy.source == scenario.source


def test_to_dict_from_dict_round_trip():
    scenario = Scenario.load("full_linkage").with_overrides({"parameters.unit_cost": 750})
    data = json.loads(json.dumps(scenario.to_dict(), ensure_ascii=False))
    assert data["scenario"] == {
        "name": "full_linkage",
        "title": scenario.title,
        "description": scenario.description,
    }
    assert data["policy"]["purchase"]["mode"] == "competitive"
    assert data["district"]["streets"] == 2 and data["run"]["months"] == 120
    assert data["parameters"]["unit_cost"] == 750
    again = Scenario.from_dict(data)
    assert again == scenario and again.source is None


def test_from_dict_validates_and_fills_defaults():
    partial = Scenario.from_dict({"scenario": {"name": "p"}, "run": {"months": 6}})
    assert partial.values["run.months"] == 6
    assert partial.values["district.streets"] == 2
    with pytest.raises(InputError, match="scenario dict.*'run.months'"):
        Scenario.from_dict({"scenario": {"name": "p"}, "run": {"months": -1}})
    with pytest.raises(InputError, match=r"\[scenario\]"):
        Scenario.from_dict({"run": {"months": 6}})


def test_from_dict_extends_library():
    scenario = Scenario.from_dict({"scenario": {"name": "x", "extends": "rural"}})
    assert scenario.values["district.rural_share"] == 1.0


def test_equality_ignores_source(tmp_path):
    library = Scenario.load("baseline")
    copy = tmp_path / "baseline.toml"
    copy.write_text(library.source.read_text(encoding="utf-8"), encoding="utf-8")
    assert Scenario.load(copy) == library
    assert Scenario.load(copy) != library.with_overrides({"run.seed": 2})
    assert library != "baseline"


def test_title_halves():
    assert Scenario.load("baseline").title_zh == "弱支持现状"
    assert Scenario.load("baseline").title_en == "Weak-support status quo"
    english = Scenario.from_dict({"scenario": {"name": "e", "title": "Only English"}})
    assert (english.title_zh, english.title_en) == ("", "Only English")


def test_flat_holds_settings_and_parameters():
    flat = Scenario.load("baseline").flat()
    assert len(flat) == len(SETTINGS) + len(PARAMETERS)
    assert flat["parameters.unit_cost"] == PARAMETERS["unit_cost"].default
    assert flat["policy.purchase.mode"] == "directed"
