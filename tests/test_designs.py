"""Designs (sanshe/experiments/designs.py): reproducible draws, the scipy seed shim, axes."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import qmc

from sanshe.experiments import designs
from sanshe.experiments.designs import Axis, make_design

BUDGET = Axis("policy.purchase.annual_budget", "float", low=1e5, high=5e6)
POSTS = Axis("policy.social_work.posts_per_community", "int", low=0, high=3)
MODE = Axis("policy.purchase.mode", "levels", levels=("competitive", "directed", "mixed"))


def test_an_int_seed_draws_what_stored_designs_were_drawn_from() -> None:
    # calibration and robustness designs were drawn with scipy's ``seed=int``
    expected = qmc.LatinHypercube(d=3, seed=5).random(8)
    assert np.array_equal(designs.latin_hypercube(3, 8, 5), expected)


def test_a_generator_seed_draws_what_sweeps_were_drawn_from() -> None:
    expected = qmc.LatinHypercube(3, rng=np.random.default_rng(9)).random(8)
    assert np.array_equal(designs.latin_hypercube(3, 8, np.random.default_rng(9)), expected)


def test_the_shim_falls_back_when_scipy_lacks_a_keyword() -> None:
    class OldScipy:  # scipy < 1.15: no ``rng=``
        def __init__(self, d: int, *, seed: object = None) -> None:
            self.d, self.seed = d, seed

    class NewScipy:  # a scipy that dropped ``seed=``
        def __init__(self, d: int, *, rng: object = None) -> None:
            self.d, self.rng = d, rng

    generator = np.random.default_rng(1)
    assert designs.qmc_engine(OldScipy, 2, generator).seed is generator
    assert designs.qmc_engine(NewScipy, 2, 7).rng == 7


def test_latin_hypercube_puts_one_point_in_each_cell_of_each_axis() -> None:
    unit = designs.latin_hypercube(2, 10, 3)
    for column in unit.T:
        assert sorted(np.floor(column * 10)) == list(range(10))


def test_scale_maps_the_unit_box_onto_the_ranges() -> None:
    scaled = designs.scale(np.array([[0.0, 1.0], [0.5, 0.25]]), [10.0, -1.0], [20.0, 1.0])
    assert np.allclose(scaled, [[10.0, 1.0], [15.0, -0.5]])


@pytest.mark.parametrize("method", ["lhs", "sobol", "morris"])
def test_the_same_seed_gives_the_same_design(method: str) -> None:
    first = make_design((BUDGET, POSTS, MODE), 4, method, seed=11)
    again = make_design((BUDGET, POSTS, MODE), 4, method, seed=11)
    other = make_design((BUDGET, POSTS, MODE), 4, method, seed=12)
    assert first.checksum() == again.checksum() != other.checksum()


def test_sweep_still_exports_the_design_names() -> None:
    from sanshe.experiments import sweep

    assert sweep.Axis is Axis and sweep.make_design is make_design
    assert sweep.MORRIS_LEVELS == designs.MORRIS_LEVELS


def test_levels_and_integers_get_equal_shares_of_the_unit_interval() -> None:
    assert [MODE.from_unit(u) for u in (0.0, 0.33, 0.34, 0.67, 1.0)] == [
        "competitive", "competitive", "directed", "mixed", "mixed"
    ]
    assert [POSTS.from_unit(u) for u in (0.0, 0.24, 0.26, 0.99, 1.0)] == [0, 0, 1, 3, 3]
    assert POSTS.to_unit(1) == pytest.approx(0.375)
    assert MODE.to_unit("mixed") == pytest.approx(5 / 6)
    assert BUDGET.from_unit(1.0) == 5e6  # never past the end through rounding


def test_a_grid_crosses_every_value_of_every_axis() -> None:
    design = designs.grid((POSTS, MODE), 3)
    assert len(design) == 3 * 3  # posts 0, 2 (1.5 rounds to 2), 3 — deduplicated ints
    assert {p["policy.social_work.posts_per_community"] for p in design.points} == {0, 2, 3}
    assert design.method == "grid" and design.unit.shape == (9, 2)
