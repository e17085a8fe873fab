"""Group organisations (群团, seed 000): duplication arises from overlapping choices in
silos, coordination divides the same budgets and channels, and can still duplicate."""

from __future__ import annotations

import numpy as np
import pytest

from sanshe.sim.agents.group_org import GROUP_ORG_KINDS, GroupOrganization
from sanshe.sim.mechanisms import group_orgs
from sanshe.sim.model import CommunityGovernanceModel
from sanshe.sim.population import DOMAIN_INDEX, D
from tests.helpers import with_community_sos

TINY = {"district.streets": 1, "district.communities_per_street": 4,
        "district.residents_per_community": 150, "district.rural_share": 0.25}
KIND = {k.name: k for k in GROUP_ORG_KINDS}
CHILDREN = DOMAIN_INDEX["children_youth"]


@pytest.fixture
def model() -> CommunityGovernanceModel:
    return with_community_sos(CommunityGovernanceModel("baseline", seed=3, **TINY))


def org(model: CommunityGovernanceModel, name: str, reach: list[bool],
        projects: int) -> GroupOrganization:
    """An informed organisation of kind ``name`` with budget for ``projects`` projects."""
    return GroupOrganization(model, KIND[name], np.array(reach, bool),
                             projects * model.p["group_project_size"])


def children_need(peak: float) -> dict[str, np.ndarray]:
    """Children's needs seen: ``peak`` in community 0, 10 in the others (children_youth)."""
    seen = np.zeros((4, D))
    seen[:, CHILDREN] = [peak, 10, 10, 10]
    return {"children": seen}


def test_silo_organisations_serving_one_group_stack_up(model):
    both = [org(model, "youth_league", [True] * 4, 1),
            org(model, "womens_federation", [True] * 4, 1)]
    rng = np.random.default_rng(0)
    silo = group_orgs.silo_plans(both, children_need(15), rng)
    assert [(c, d) for _, c, d in silo] == [(0, CHILDREN)] * 2
    assert group_orgs.duplicated([(o.unique_id, c, d) for o, c, d in silo]) == 2
    joint = group_orgs.joint_plan(both, children_need(15), rng)
    assert group_orgs.duplicated([(o.unique_id, c, d) for o, c, d in joint]) == 0


def test_a_joint_meeting_stacks_projects_only_where_need_outweighs_free_cells(model):
    both = [org(model, "youth_league", [True] * 4, 1),
            org(model, "womens_federation", [True] * 4, 1)]
    rng = np.random.default_rng(1)
    joint = group_orgs.joint_plan(both, children_need(30), rng)  # 30 / 2 > 10
    assert [(c, d) for _, c, d in joint] == [(0, CHILDREN)] * 2
    joint = group_orgs.joint_plan(both, children_need(15), rng)  # 15 / 2 < 10
    assert len({(c, d) for _, c, d in joint}) == 2


def test_coordinated_organisations_duplicate_where_their_channels_are_narrow(model):
    """The youth league reaches one community, where the women's federation has claimed
    the children's cell; its other cell there (culture and sports) shows no need, so at
    the joint meeting it still funds the claimed cell: coordination can duplicate."""
    women = org(model, "womens_federation", [True] * 4, 1)
    league = org(model, "youth_league", [True, False, False, False], 1)
    joint = group_orgs.joint_plan([women, league], children_need(20), np.random.default_rng(2))
    assert [(c, d) for _, c, d in joint] == [(0, CHILDREN)] * 2
    assert group_orgs.duplicated([(o.unique_id, c, d) for o, c, d in joint]) == 2


def test_an_organisation_without_channels_funds_nothing(model):
    none = org(model, "taiwan_federation", [False] * 4, 3)
    rng = np.random.default_rng(3)
    assert group_orgs.silo_plans([none], children_need(10) | {"elderly": np.ones((4, D))},
                                 rng) == []
    assert group_orgs.joint_plan([none], {"elderly": np.ones((4, D))}, rng) == []


def test_duplication_counts_projects_of_different_organisations_in_one_cell():
    assert group_orgs.duplicated([(1, 0, 0), (1, 0, 0), (2, 0, 1)]) == 0
    assert group_orgs.duplicated([(1, 0, 0), (2, 0, 0), (3, 1, 1), (2, 0, 0)]) == 3


@pytest.mark.parametrize("seed", [0, 1])
def test_coordination_divides_the_same_budgets_and_channels(seed):
    """Both arms fund the same number of projects per organisation and reach the same
    residents (coordination lends no channels); only where the projects go differs."""
    arms = [CommunityGovernanceModel("baseline", seed=seed, **TINY,
                                     **{"policy.linkage.group_coordination": on})
            for on in (False, True)]
    for m in arms:
        m.step()
    counts = [sorted(np.unique([o for o, _, _ in m.group_projects], return_counts=True)[1])
              for m in arms]
    assert counts[0] == counts[1]
    for a, b in zip(*(group_orgs.targets(m) for m in arms), strict=True):
        assert np.array_equal(a, b)


def test_group_needs_seen_are_the_groups_expressed_unmet_needs(model):
    for _ in range(13):
        model.step()
    pop = model.pop
    seen = group_orgs.seen_need(model, "elderly")
    waiting = pop.groups["elderly"] & (pop.need_domain >= 0) & pop.need_expressed
    assert seen.sum() == waiting.sum()
    assert seen.shape == (pop.communities, D)


def test_a_bought_project_funds_its_services_and_the_organisation_spends_the_rest(model):
    """The share reaching services goes into the SO's account; the organisation spends the
    rest itself while the project runs, as it spends a self-run project whole."""
    from sanshe.sim.so_directory import SODirectory

    so = next(s for s in model.sos if s.is_community)
    buyer = org(model, "womens_federation", [True] * 4, 1)
    share = model.p["group_project_slots_share"]
    so.contracts, model.group_offers = [], []
    group_orgs._commission(model, buyer, so.community, so.domain, np.random.default_rng(0),
                           SODirectory([so]))
    (contract,) = so.contracts
    assert contract.value == pytest.approx(buyer.project_value * share)
    model.group_month = 0.0
    group_orgs.pay_own_projects(model)
    assert model.group_month == pytest.approx(buyer.project_value * (1 - share) / 12)


def test_a_budget_worth_part_of_a_project_funds_one_in_that_share_of_years():
    """Money per resident means the same at any district size: an organisation whose
    yearly budget is 30% of a project (a small district's share) funds one project in
    about 3 years of 10, not none ever; a budget of whole projects draws nothing extra."""
    model = CommunityGovernanceModel("baseline", seed=5, **TINY)
    size = model.p["group_project_size"]
    for o in model.group_orgs:
        o.budget = 0.3 * size
    counts = []
    for _ in range(300):
        group_orgs.yearly(model)
        counts += [o.project_count for o in model.group_orgs]
    assert set(counts) == {0, 1}
    assert abs(np.mean(counts) - 0.3) < 0.05
    for o in model.group_orgs:
        o.budget = 2 * size
    group_orgs.yearly(model)
    assert [o.project_count for o in model.group_orgs] == [2] * len(model.group_orgs)


def test_target_tables_hold_each_organisations_channels_times_its_target_group(model):
    """One array for all organisations (first axis), each layer the organisation's reach
    by community times whether a combination of special groups includes its target; and
    residents' mobilisation adds the organisations' pulls one after another, exactly as
    the formula written organisation by organisation."""
    from sanshe.sim.mechanisms import participation, priorities

    pop, orgs = model.pop, model.group_orgs
    orgs[0].reach = np.array([True, False, True, False])
    tables = group_orgs.target_tables(model)
    assert tables.shape == (len(orgs), pop.communities, pop.need_table.shape[0])
    for table, organisation in zip(tables, orgs, strict=True):
        assert np.array_equal(table, np.outer(organisation.reach,
                                              pop.profile_has(organisation.kind.target)))
    assert not tables[0][[1, 3]].any()  # no channels there, whoever lives there
    outreach, p = priorities.outreach(model), model.p
    pull = p["sw_mobilisation"] * outreach[:, None]
    for table in tables:
        pull = (pull + p["group_mobilisation"] * table / len(orgs)
                * p["group_mobilisation_scale"])
    assert np.array_equal(participation.mobilisation(model, outreach), pop.by_profile(pull))


def test_who_is_reached_is_kept_through_a_run_and_follows_new_channels(model):
    """The residents reached are worked out once while channels are the same arrays; a
    new channel array is read afresh (the answer is read-only: nobody edits a shared one)."""
    pop, orgs = model.pop, model.group_orgs
    first = group_orgs.reached(model)
    assert group_orgs.reached(model) is first and not first.flags.writeable
    for org in orgs:
        org.reach = np.zeros(pop.communities, bool)
    assert not group_orgs.reached(model).any()
    orgs[0].reach = np.ones(pop.communities, bool)
    expected = pop.by_profile(np.repeat(pop.profile_has(orgs[0].kind.target)[None, :],
                                        pop.communities, axis=0))
    assert np.array_equal(group_orgs.reached(model), expected)
