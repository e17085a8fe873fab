"""The platform: any tested Python with the Mesa pip resolves there (3.3.x or 3.5.x).

Mesa 3.5's ``Model`` took ``scenario`` for itself and every run died; these tests hold the
rule that would have caught it (no name Mesa reserves is set or defined by our models and
agents, on the installed Mesa and on the names later Mesas add), and that nothing we call
is deprecated in Mesa.
"""

from __future__ import annotations

import inspect
import multiprocessing
import subprocess
import sys
import tomllib
import warnings
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import mesa
import pandas as pd
import pytest

import sanshe
from sanshe import CommunityGovernanceModel
from sanshe.sim.agents.government import CommunityCommittee, DistrictBureau, StreetOffice
from sanshe.sim.agents.group_org import GroupOrganization
from sanshe.sim.agents.social_org import SocialOrganization
from sanshe.sim.agents.social_worker import SocialWorker
from tests.helpers import SMALL, STATIONED, with_community_sos

ROOT = Path(__file__).resolve().parents[1]

#: Names Mesa 3.5 and 4.0 give ``Model`` beyond those of the installed Mesa (read from
#: their ``mesa/model.py``), so a test on Mesa 3.3 still catches a clash to come.
LATER_MODEL_NAMES = {
    "scenario", "time", "steps", "rng", "random", "running", "agents", "agent_types",
    "agents_by_type", "agent_id_counter", "data_registry", "observables", "subscribers",
    "schedule_event", "schedule_recurring", "run_for", "run_until", "run_model",
    "remove_all_agents", "reset_rng", "register_agent", "deregister_agent",
}
#: The same for ``Agent`` (Mesa 4.0 adds actions; cell agents own ``cell``).
LATER_AGENT_NAMES = {
    "model", "unique_id", "pos", "cell", "scenario", "random", "rng", "remove", "step",
    "advance", "create_agents", "from_dataframe", "current_action", "start_action",
    "interrupt_for", "cancel_action", "is_busy",
}
#: What Mesa means a subclass to set or override: ``running`` stops ``run_model`` and
#: ``batch_run``; ``step`` and ``__init__`` are the model's own.
MEANT_TO_SET = {"running"}
MEANT_TO_OVERRIDE = {"__init__", "step"}
AGENT_CLASSES = (DistrictBureau, StreetOffice, CommunityCommittee, GroupOrganization,
                 SocialOrganization, SocialWorker)
DEPRECATIONS = (DeprecationWarning, PendingDeprecationWarning, FutureWarning)


def _reserved(bare: Any, later: set[str]) -> set[str]:
    """What a bare Mesa object has, with what later Mesas add."""
    return set(dir(bare)) | later


def _defined_by_us(cls: type, base: type) -> set[str]:
    """Names our classes define (not Python's dunders), less what Mesa's machinery puts on
    any subclass."""
    probe = type("Probe", (base,), {})
    ours = {name for klass in cls.__mro__ if klass.__module__.startswith("sanshe")
            for name in vars(klass) if not name.startswith("__")}
    return ours - set(vars(probe)) - MEANT_TO_OVERRIDE


@pytest.fixture
def names_we_set(monkeypatch: pytest.MonkeyPatch) -> dict[type, set[str]]:
    """Every attribute name our code assigns on a Mesa model or agent (Mesa's own
    assignments are left out: they come from frames in mesa's modules)."""
    recorded: dict[type, set[str]] = {mesa.Model: set(), mesa.Agent: set()}
    for base in recorded:
        original = base.__setattr__

        def recording(self: Any, name: str, value: Any, _base: type = base,
                      _original: Any = original) -> None:
            if sys._getframe(1).f_globals.get("__name__", "").startswith("sanshe"):
                recorded[_base].add(name)
            _original(self, name, value)

        monkeypatch.setattr(base, "__setattr__", recording)
    return recorded


@pytest.fixture
def start_method() -> Iterator[None]:
    """Mesa's batch_run forces the 'spawn' start method on the whole process: undo it."""
    before = multiprocessing.get_start_method(allow_none=True)
    yield
    multiprocessing.set_start_method(before, force=True)


def test_model_sets_and_defines_no_name_mesa_reserves(names_we_set):
    model = CommunityGovernanceModel("full_linkage", seed=3, **SMALL)
    model.run(13)  # a yearly round, closures and hiring: most assignments happen
    reserved = _reserved(mesa.Model(rng=0), LATER_MODEL_NAMES)
    assert "policy_scenario" in names_we_set[mesa.Model]  # the recorder sees our code
    assert names_we_set[mesa.Model] & reserved <= MEANT_TO_SET
    assert not _defined_by_us(CommunityGovernanceModel, mesa.Model) & reserved
    assert model.seed == 3 and model.policy_scenario.name == "full_linkage"


def test_agents_set_and_define_no_name_mesa_reserves(names_we_set):
    model = with_community_sos(CommunityGovernanceModel("full_linkage", seed=3, **SMALL,
                                                        **STATIONED)).run(13)
    reserved = _reserved(mesa.Agent(mesa.Model(rng=0)), LATER_AGENT_NAMES)
    assert {type(agent) for agent in model.agents} == set(AGENT_CLASSES)
    assert {"capacity", "employer"} <= names_we_set[mesa.Agent]
    assert not names_we_set[mesa.Agent] & reserved
    for cls in AGENT_CLASSES:
        assert not _defined_by_us(cls, mesa.Agent) & reserved, cls.__name__


def test_dashboard_model_sets_no_name_mesa_reserves(names_we_set):
    pytest.importorskip("solara")
    from sanshe.ui.dashboard import DashboardModel

    DashboardModel("baseline", seed="2", **SMALL).step()
    reserved = _reserved(mesa.Model(rng=0), LATER_MODEL_NAMES)
    assert names_we_set[mesa.Model] & reserved <= MEANT_TO_SET
    assert not _defined_by_us(DashboardModel, mesa.Model) & reserved


def test_building_and_stepping_warns_of_no_deprecation():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = CommunityGovernanceModel("full_linkage", seed=5, **SMALL)
        model.run(13)
        model.datacollector.get_model_vars_dataframe()
    assert [str(w.message) for w in caught if issubclass(w.category, DEPRECATIONS)] == []
    assert model.seed == 5  # recorded as before: the regression baseline keys on it


def test_a_mesa_deprecation_fails_the_tests():
    """pyproject's filterwarnings: raised in Mesa, or blamed on our call into Mesa."""
    for category, module in ((FutureWarning, "mesa.model"),
                             (DeprecationWarning, "sanshe.sim.model"),
                             (PendingDeprecationWarning, "mesa.visualization"),
                             (DeprecationWarning, "test_model")):
        with pytest.raises(category):
            warnings.warn_explicit("an API Mesa will remove", category, "x.py", 1, module=module)


def test_the_outcome_collector_keeps_what_mesas_datacollector_keeps():
    """The model fills its DataCollector in one pass; Mesa's own ``collect`` (every
    reporter called, its value deep-copied) must record the same months, values and, on
    Mesa 3.5+, steps; a reporter a user adds is collected too."""
    from sanshe.inputs.outcomes import OUTCOME_NAMES
    from sanshe.sim.model import read_outcome

    model = CommunityGovernanceModel("full_linkage", seed=3, **SMALL)
    mesas = mesa.DataCollector(
        model_reporters={name: partial(read_outcome, name=name) for name in OUTCOME_NAMES})
    for _ in range(4):
        model.step()
        mesas.collect(model)
    ours = model.datacollector
    pd.testing.assert_frame_equal(ours.get_model_vars_dataframe(),
                                  mesas.get_model_vars_dataframe())
    assert getattr(ours, "_collection_steps", None) == getattr(mesas, "_collection_steps", None)
    assert len(ours.get_model_vars_dataframe()) == 4
    ours._new_model_reporter("sos", lambda m: len(m.sos))
    model.step()
    assert ours.model_vars["sos"] == [len(model.sos)]
    assert len(ours.model_vars["need_coverage"]) == 5
    assert ours.model_vars["need_coverage"][-1] == model.current["need_coverage"]


@pytest.mark.usefixtures("start_method")
def test_batch_run_with_dotted_overrides_works_on_the_installed_mesa():
    """README: ``rng=[...]`` on Mesa 3.5+ (``iterations`` is deprecated there),
    ``iterations=`` on Mesa 3.3 (which has no ``rng``); levers arrive as dotted keys."""
    parameters = {"scenario": "baseline", **SMALL,
                  "policy.purchase.annual_budget": [1e6, 5e6]}
    if "rng" in inspect.signature(mesa.batch_run).parameters:
        repeat: dict[str, Any] = {"rng": [1, 2]}
    else:
        repeat = {"iterations": 2}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rows = mesa.batch_run(CommunityGovernanceModel, parameters=parameters, max_steps=3,
                              display_progress=False, **repeat)
    assert [str(w.message) for w in caught if issubclass(w.category, DEPRECATIONS)] == []
    assert len(rows) == 4 and {row["Step"] for row in rows} == {3}
    assert sorted(row["policy.purchase.annual_budget"] for row in rows) == [1e6, 1e6, 5e6, 5e6]
    # the iterations are different seeds: a continuous outcome (a mean over a thousand
    # residents' satisfaction) differs, where need coverage on this small district after
    # three months is coarse enough for two fresh seeds to tie (Mesa 3.3's iterations
    # draw fresh entropy, so that tie made this test fail now and then)
    first, second = ([row["mean_satisfaction"] for row in rows if row["iteration"] == i]
                     for i in (0, 1))
    assert first != second


def test_import_sanshe_beside_a_users_own_model_py(tmp_path):
    """Mesa's tutorials put a ``model.py`` beside the notebook: sanshe must not import it."""
    (tmp_path / "model.py").write_text(
        'raise ImportError("the user\'s own model.py was imported")\n', encoding="utf-8")
    code = ("import sanshe\n"
            "m = sanshe.CommunityGovernanceModel('baseline', seed=1, **{'district.streets': 1,"
            " 'district.communities_per_street': 2, 'district.residents_per_community': 100})\n"
            "m.step()\n"
            "print('month', m.month)\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "month 1"


def test_import_model_gives_the_same_classes_as_import_sanshe():
    import model.scenario  # binds ``model`` too

    assert model.CommunityGovernanceModel is sanshe.CommunityGovernanceModel
    assert model.scenario.Scenario is sanshe.Scenario
    assert isinstance(model.CommunityGovernanceModel("baseline", seed=1, **SMALL),
                      sanshe.CommunityGovernanceModel)


def test_pyproject_declares_what_mesa_needs_and_what_is_tested():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    names = {dep.split(">")[0].split("<")[0].split("=")[0].strip().lower()
             for dep in project["dependencies"]}
    assert {"mesa", "networkx"} <= names  # Mesa 3.5 imports networkx without declaring it
    running = f"Programming Language :: Python :: {sys.version_info[0]}.{sys.version_info[1]}"
    assert running in project["classifiers"]  # the interpreter under test is a tested one
    assert "mesa>=3.3,<4" in project["dependencies"]
