"""Speed and memory of the model (plain Python: ``python benchmarks/bench_model.py``).

Prints, for the baseline district (10 communities × 1,000 residents, 120 months) and for a
100,000-resident district: wall time, resident-steps per second and peak memory; and, in the
same run, the resident-steps per second of a trivial one-line Mesa agent model of the same
size, and the ratio of the two. Each case runs in its own process so peak memory is its own.

Targets (issue 2): baseline ≤ 1 s, i.e. ≥ 2× the trivial Mesa agent's resident-steps per
second; 100,000 residents × 120 months ≤ 15 s and ≤ 1 GB.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

CASES = {
    "baseline district": {"district.streets": 2, "district.communities_per_street": 5,
                          "district.residents_per_community": 1000},
    "100,000 residents": {"district.streets": 10, "district.communities_per_street": 10,
                          "district.residents_per_community": 1000},
}


def peak_mb() -> float:
    """This process's peak resident memory in MB (Linux reports kB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def full_model(overrides: dict, months: int, scenario: str) -> dict:
    from sanshe import CommunityGovernanceModel

    started = time.perf_counter()
    sim = CommunityGovernanceModel(scenario, seed=1, **overrides)
    sim.run(months)
    elapsed = time.perf_counter() - started
    return {"seconds": elapsed, "residents": sim.pop.size, "peak_mb": peak_mb()}


def trivial_mesa(residents: int, months: int) -> dict:
    """The simplest Mesa model of the same size: each agent does one line per step."""
    import mesa

    class Resident(mesa.Agent):
        def step(self) -> None:
            self.wealth += 1

    class Trivial(mesa.Model):
        def __init__(self, n: int) -> None:
            super().__init__(seed=1)
            for _ in range(n):
                Resident(self).wealth = 0

        def step(self) -> None:
            self.agents.shuffle_do("step")

    started = time.perf_counter()
    model = Trivial(residents)
    for _ in range(months):
        model.step()
    return {"seconds": time.perf_counter() - started, "residents": residents,
            "peak_mb": peak_mb()}


def child(kind: str, case: str, months: int, scenario: str) -> None:
    """Run one measurement in this process and print it as JSON."""
    overrides = CASES[case]
    if kind == "model":
        result = full_model(overrides, months, scenario)
    else:
        residents = 1
        for key in overrides:
            residents *= overrides[key]
        result = trivial_mesa(residents, months)
    print(json.dumps(result))


def measure(kind: str, case: str, months: int, scenario: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", kind, case, "--months",
                          str(months), "--scenario", scenario],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--months", type=int, default=120)
    parser.add_argument("--scenario", default="baseline")
    parser.add_argument("--child", nargs=2, metavar=("KIND", "CASE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child, args.months, args.scenario)
        return
    print(f"scenario {args.scenario}, {args.months} months, one process per measurement")
    header = f"{'case':20s} {'model':8s} {'wall s':>8s} {'res-steps/s':>14s} {'peak MB':>9s}"
    print(header)
    print("-" * len(header))
    for case in CASES:
        rates = {}
        for kind in ("model", "trivial"):
            m = measure(kind, case, args.months, args.scenario)
            rates[kind] = m["residents"] * args.months / m["seconds"]
            print(f"{case:20s} {kind:8s} {m['seconds']:8.2f} {rates[kind]:14,.0f} "
                  f"{m['peak_mb']:9.0f}")
        print(f"{case:20s} ratio full/trivial resident-steps per second: "
              f"{rates['model'] / rates['trivial']:.1f}x")


if __name__ == "__main__":
    main()
