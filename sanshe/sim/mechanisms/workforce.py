"""The social-work workforce (社工队伍): hiring, quits, certification and skill.

Social workers work for a professional SO or a community social-work station (社工站). Pay
relative to the local wage drives exit (seeds 000, 004; Shenzhen turnover 17.6–22.2% a year
at about 3,000 yuan a month); training and certification raise skill and keep people,
and training takes some of a worker's month from casework (:func:`caseload`).
Vacancies are filled now and then, more often when pay is better.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from sanshe.sim.agents.social_worker import SocialWorker

if TYPE_CHECKING:
    from sanshe.sim.agents.government import CommunityCommittee
    from sanshe.sim.agents.social_org import SocialOrganization
    from sanshe.sim.model import CommunityGovernanceModel

#: Quits, certification and hiring draw from this stream only.
STREAM = "workforce"
#: Which communities have the fraction of a post draws from this stream, once per run.
STATIONS_STREAM = "stations"


def station_order(communities: int, rng: np.random.Generator) -> np.ndarray:
    """Each community's place in the queue for a part post, in [0, 1): a random order with
    one random start (systematic sampling), drawn once per run, so that a fraction ``f`` of
    a post per community gives ``f`` × communities posts over the district, give or take
    one, and a change of posts moves the same communities first."""
    return (rng.permutation(communities) + rng.random()) / communities


def station_posts(per_community: float, order: np.ndarray) -> np.ndarray:
    """Posts each community's station has (社工站): the whole part of ``per_community`` in
    every community, one more where the community's place in the queue (:func:`station_order`)
    falls below the fraction. On communities smaller than the reference the posts of
    ``policy.social_work.posts_per_community`` scale down (docs/ODD.md 7.13): a post then
    serves the community it sits in, and its neighbours have none."""
    whole, part = divmod(float(per_community), 1.0)
    return (int(whole) + (order < part)).astype(int)


def working_share(p: dict[str, float], v: Mapping[str, Any]) -> float:
    """Share of a social worker's month left for work, casework and outreach alike:
    1 − ``sw_training_time`` × training. In-service training (继续教育, about 72 hours a
    year) is working time spent in courses."""
    return 1.0 - p["sw_training_time"] * float(v["policy.social_work.training"])


def caseload(p: dict[str, float], v: Mapping[str, Any]) -> float:
    """Service slots a fully skilled social worker works in a month: ``slots_per_sw`` ×
    :func:`working_share`. The buyers' unit price (成本核算, costing) counts the standard
    caseload ``slots_per_sw``: the employer bears the training hours."""
    return p["slots_per_sw"] * working_share(p, v)


def exit_probability(p: dict[str, float], salary_index: float, training: float) -> float:
    """Monthly chance that a social worker quits, from pay and training.

    The annual hazard is ``turnover_annual`` at today's pay (``salary_index_today``) and
    scales with (pay / today's) ** −elasticity; training and career paths cut it. A hazard
    is a rate (leavers a year over staff, as turnover surveys count it and
    ``sw_turnover_rate`` measures it), so a month's chance is 1 − exp(−hazard / 12); read as
    a chance of leaving within the year and compounded, it ran about a tenth above
    the figure (0.231 for 0.208).
    """
    relative = salary_index / p["salary_index_today"]
    annual = p["turnover_annual"] * relative ** (-p["pay_elasticity_turnover"])
    annual *= 1.0 - p["training_retention"] * training
    annual = min(max(annual, p["turnover_floor"]), p["turnover_ceiling"])
    return -math.expm1(-annual / 12.0)


def fill_probability(p: dict[str, float], salary_index: float) -> float:
    """Monthly chance that a vacancy is filled; better pay attracts applicants."""
    relative = salary_index / p["salary_index_today"]
    return min(max(p["hire_fill_rate"] * relative ** p["pay_elasticity_hiring"], 0.0), 1.0)


def hire(model: CommunityGovernanceModel, employer: SocialOrganization | CommunityCommittee,
         rng: np.random.Generator) -> SocialWorker:
    """A new social worker joins ``employer``; some arrive certified (and more skilled).

    ``rng`` is the stream of the mechanism that hires: this one monthly, the founding
    mechanism when a new agency enters with its first worker."""
    p = model.p
    certified = bool(rng.random() < p["certified_share_new"])
    skill = p["skill_initial"] + (p["certified_skill_bonus"] if certified else 0.0)
    worker = SocialWorker(model, employer, certified, min(max(skill, 0.0), 1.0))
    employer.staff.append(worker)
    return worker


def employed(model: CommunityGovernanceModel) -> list[SocialWorker]:
    """Every social worker in the district: SOs' staff, then the stations'."""
    return [w for employer in (*model.sos, *model.committees) for w in employer.staff]


def monthly(model: CommunityGovernanceModel) -> None:
    """Quits, certification and skill growth of those who stay, then hiring."""
    v, p, rng = model.v, model.p, model.streams[STREAM]
    salary = float(v["policy.social_work.salary_index"])
    training = float(v["policy.social_work.training"])
    employers = [*model.sos, *model.committees]
    quit_chance = exit_probability(p, salary, training)
    certify = p["certification_rate"] * (
        p["certification_support_mult"] if v["policy.social_work.certification_support"]
        else 1.0)
    for employer in employers:
        if employer.staff:  # most community SOs have no paid staff
            employer.staff = _stayers(model, employer.staff, quit_chance, certify, training,
                                      rng)
    fill = fill_probability(p, salary)
    for employer in (*[so for so in model.sos if so.contracts or so.staff], *model.committees):
        # an SO with no contract and no staff opens no post and lets nobody go
        for _ in range(employer.posts_to_fill(p, salary)):
            if rng.random() < fill:
                hire(model, employer, rng)


def _stayers(model: CommunityGovernanceModel, staff: list[SocialWorker], quit_chance: float,
             certify: float, training: float, rng: np.random.Generator) -> list[SocialWorker]:
    """Who stays this month; they gain skill, and some pass the national exam."""
    p = model.p
    stay = []
    for worker in staff:
        if rng.random() < quit_chance:
            model.exits_month += 1
            worker.remove()
            continue
        worker.tenure += 1
        worker.skill = min(1.0, worker.skill + p["skill_gain_experience"]
                           + p["skill_gain_training"] * training)
        if not worker.certified and rng.random() < certify:
            worker.certified = True
            worker.skill = min(1.0, worker.skill + p["certified_skill_bonus"])
        stay.append(worker)
    return stay
