"""Social workers (社会工作者): skill, certification, pay and turnover.

They work for a professional SO or a community social-work station (社工站). How they are
hired, quit, get certified and gain skill is in :mod:`sanshe.sim.mechanisms.workforce`.
"""

from __future__ import annotations

import mesa


class SocialWorker(mesa.Agent):
    """One social worker: employer, skill, certificate and months in post."""

    __slots__ = ("employer", "certified", "skill", "tenure")  # as SocialOrganization's

    def __init__(self, model: mesa.Model, employer: object, certified: bool,
                 skill: float) -> None:
        super().__init__(model)
        self.employer = employer  # a SocialOrganization or a CommunityCommittee (station)
        self.certified = certified
        self.skill = skill
        self.tenure = 0

