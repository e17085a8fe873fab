"""Social workers (社会工作者): skill, certification, pay and turnover.

They work for a professional SO or a community social-work station (社工站). Pay relative
to the local wage drives exit (seeds 000, 004; Shenzhen turnover 17.6–22.2% a year at
about 3,000 yuan a month); training and certification raise skill and keep people.
"""

from __future__ import annotations

import mesa
import numpy as np


class SocialWorker(mesa.Agent):
    """One social worker: employer, skill, certificate and months in post."""

    def __init__(self, model: mesa.Model, employer: object, certified: bool,
                 skill: float) -> None:
        super().__init__(model)
        self.employer = employer  # a SocialOrganization or a CommunityCommittee (station)
        self.certified = certified
        self.skill = skill
        self.tenure = 0


def exit_probability(p: dict[str, float], salary_index: float, training: float) -> float:
    """Monthly chance that a social worker quits, from pay and training.

    The annual hazard is ``turnover_annual`` at a salary index of 0.8 (today's pay) and
    scales with (pay / 0.8) ** −elasticity; training and career paths cut it.
    """
    annual = p["turnover_annual"] * (salary_index / 0.8) ** (-p["pay_elasticity_turnover"])
    annual *= 1.0 - p["training_retention"] * training
    annual = float(np.clip(annual, 0.01, 0.95))
    return 1.0 - (1.0 - annual) ** (1.0 / 12.0)


def fill_probability(p: dict[str, float], salary_index: float) -> float:
    """Monthly chance that a vacancy is filled; better pay attracts applicants."""
    return float(np.clip(p["hire_fill_rate"] * (salary_index / 0.8) ** 0.5, 0.0, 1.0))
