"""Calibration: targets file, --free parsing, distances, and a tiny end-to-end fit."""

from __future__ import annotations

from pathlib import Path

import pytest

from sanshe.experiments import calibration
from sanshe.inputs.errors import InputError

TARGETS = Path(__file__).resolve().parent.parent / "calibration" / "yuhuatai_targets.toml"


def test_yuhuatai_targets_cite_sources():
    targets = calibration.load_targets(TARGETS)
    assert {t.outcome for t in targets} >= {"so_count", "volunteers", "initial_so_count"}
    assert all(t.source.startswith(("seed 00", "derived")) for t in targets)


def test_free_must_be_a_known_constant_inside_its_range():
    assert calibration.parse_free(["founding_rate=0.001:0.01"])[0].high == 0.01
    for bad in (["nope=0:1"], ["founding_rate=0.01"], ["founding_rate=0.01:0.001"],
                ["founding_rate=0.0:0.5"], []):
        with pytest.raises(InputError):
            calibration.parse_free(bad)


def test_inequality_targets_count_only_when_violated():
    t = calibration.Target("v", "volunteers", "at_least", 100.0)
    assert calibration.error(t, 150.0) == 0.0
    assert calibration.error(t, 50.0) < 0
    eq = calibration.Target("s", "so_count", "equal", 100.0, tolerance=0.1)
    assert calibration.error(eq, 110.0) == pytest.approx(1.0)


def test_bad_targets_file(tmp_path):
    bad = tmp_path / "t.toml"
    bad.write_text('[[target]]\nname="x"\noutcome="so_count"\nkind="about"\nvalue=1\n')
    with pytest.raises(InputError):
        calibration.load_targets(bad)
    with pytest.raises(InputError):
        calibration.load_targets(tmp_path / "missing.toml")


def test_tiny_fit_moves_toward_the_target(tmp_path):
    """Four points on founding_rate in a tiny district: the best point is closest."""
    scenario = tmp_path / "tiny.toml"
    scenario.write_text('[scenario]\nname="tiny"\nextends="incubation_only"\n'
                        '[district]\nstreets=1\ncommunities_per_street=2\n'
                        'residents_per_community=200\n')
    targets = tmp_path / "targets.toml"
    targets.write_text('[[target]]\nname="SOs"\noutcome="so_count"\nkind="equal"\n'
                       'value=12\ntolerance=0.2\nsource="test"\n')
    result = calibration.calibrate(str(scenario), calibration.load_targets(targets),
                                   calibration.parse_free(["founding_rate=0.001:0.02"]),
                                   points=4, replications=1, months=24, seed=1)
    assert result.distances[result.best] == result.distances.min()
    assert len(result.accepted) >= 2
    paths = calibration.write(result, tmp_path / "out")
    assert all(p.exists() for p in paths)
    assert "founding_rate" in paths[1].read_text()
