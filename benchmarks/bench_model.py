"""Speed and memory of the model (plain Python: ``python benchmarks/bench_model.py``).

Cases (``--cases``, comma-separated; default ``library,1M``):

- ``library``: the baseline and the full package (``full_linkage``) at their library
  district (10 communities × 1,000 residents), 120 months, against a trivial one-line Mesa
  agent model of the same size run in the same benchmark (``--scenario`` runs one);
- ``sizes``: the full package and the trivial agent at 1,000, 10,000 and 30,000 residents
  (the library's 10 communities of 100, 1,000 and 3,000 residents), 120 months: how the
  ratio moves with the district, because part of a month's cost is fixed (a few hundred
  NumPy and Python calls whatever the residents) and part grows with residents;
- ``100k``: the full package at 100,000 residents (10 × 10 communities of 1,000), 120
  months, against the trivial agent of that size (issue 2's target: ≤ 15 s, ≤ 1 GB);
- ``1M``: the full package in a district of 1,000,000 residents (5 streets × 20 communities
  × 10,000), 120 months;
- ``growth``: the full package for 36 months at 1M, 2M, 4M and 10M residents (communities
  of 10,000) and the growth exponent of its cost (slope of log time on log residents; 1 is
  linear), for the run and for building the district;
- ``city``: a city of 10 million residents (50 streets × 20 communities × 10,000) × 120
  months of the full package: wall time, peak memory and bytes per resident.

Every measurement runs in its own process, so peak memory (``ru_maxrss``) is its own. Times
are wall clock and CPU (the process's own: on a shared machine CPU time is the steadier of
the two); the load average is printed with them. The trivial agent is measured at the
library size and at 100,000 agents; at a million agents and more it would take longer than
the model, so larger cases are compared with its per-agent rate at 100,000 (extrapolated,
and said so in the table).

On a shared machine the trivial agent's time moves with the host's state far more than the
model's (it walks 10,000 Python objects in random order), so the ratio of two best-of
figures taken minutes apart says as much about the moment as about the model. The library
and sizes cases therefore also measure in pairs: in each fresh process the trivial agent
runs first, before sanshe is imported, then the scenario, and the pairs' ratios are
printed as a median and range.

Targets (issues 2 and 16): both library runs at ≥ 2× the trivial agent's resident-steps
per second; cost linear in residents (growth exponent ≈ 1); the city ≤ 300 s and ≤ 8 GB
peak memory on a 2-core, 23 GB machine.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np

LIBRARY = {"district.streets": 2, "district.communities_per_street": 5,
           "district.residents_per_community": 1000}
#: Residents per community in the large districts (as issue 16 measured them).
COMMUNITY = 10_000
#: Trivial-agent sizes measured directly; larger cases use the rate at the largest.
TRIVIAL_SIZES = (10_000, 100_000)
GROWTH = (1_000_000, 2_000_000, 4_000_000, 10_000_000)
CASES = ("library", "sizes", "100k", "1M", "growth", "city")
#: Residents per community of the ``sizes`` case (10 communities each).
SIZES = (100, 1_000, 3_000)
HUNDRED_K = {"district.streets": 10, "district.communities_per_street": 10,
             "district.residents_per_community": 1000}


def district(residents: int) -> dict[str, int]:
    """Streets of 20 communities of 10,000 residents (fewer communities below 200,000)."""
    communities = max(residents // COMMUNITY, 1)
    per_street = min(communities, 20)
    return {"district.streets": communities // per_street,
            "district.communities_per_street": per_street,
            "district.residents_per_community": COMMUNITY}


def peak_mb() -> float:
    """This process's peak resident memory in MB (Linux reports kB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def full_model(overrides: dict, months: int, scenario: str) -> dict:
    """Build and run the model; times for building and running separately."""
    from sanshe import CommunityGovernanceModel

    wall, cpu = time.perf_counter(), time.process_time()
    sim = CommunityGovernanceModel(scenario, seed=1, **overrides)
    built_wall, built_cpu = time.perf_counter() - wall, time.process_time() - cpu
    state = population_bytes(sim.pop)
    sim.run(months)
    return {"seconds": time.perf_counter() - wall, "cpu": time.process_time() - cpu,
            "build_seconds": built_wall, "build_cpu": built_cpu,
            "residents": sim.pop.size, "sos": len(sim.sos), "peak_mb": peak_mb(),
            "state_bytes": state}


def population_bytes(pop: object) -> int:
    """Bytes of the residents' own state: every per-resident array and the tie matrix."""
    total = 0
    for value in vars(pop).values():
        if isinstance(value, np.ndarray):
            total += value.nbytes
        elif isinstance(value, dict):
            total += sum(v.nbytes for v in value.values() if isinstance(v, np.ndarray))
        elif hasattr(value, "indptr"):  # the sparse tie matrix
            total += value.data.nbytes + value.indices.nbytes + value.indptr.nbytes
    return total


def trivial_mesa(residents: int, months: int) -> dict:
    """The simplest Mesa model of the same size: each agent does one line per step."""
    import mesa

    class Resident(mesa.Agent):
        def step(self) -> None:
            self.wealth += 1

    class Trivial(mesa.Model):
        def __init__(self, n: int) -> None:
            super().__init__(rng=1)  # Mesa 3.5 deprecates seed=
            for _ in range(n):
                Resident(self).wealth = 0

        def step(self) -> None:
            self.agents.shuffle_do("step")

    wall, cpu = time.perf_counter(), time.process_time()
    model = Trivial(residents)
    for _ in range(months):
        model.step()
    return {"seconds": time.perf_counter() - wall, "cpu": time.process_time() - cpu,
            "residents": residents, "peak_mb": peak_mb()}


def child(spec: dict) -> None:
    """Run one measurement in this process and print it as JSON."""
    if spec["kind"] == "model":
        result = full_model(spec["overrides"], spec["months"], spec["scenario"])
    elif spec["kind"] == "pair":  # the trivial agent first, before sanshe is imported
        trivial = trivial_mesa(spec["residents"], spec["months"])
        result = {"trivial": trivial,
                  "model": full_model(spec["overrides"], spec["months"], spec["scenario"])}
    else:
        result = trivial_mesa(spec["residents"], spec["months"])
    print(json.dumps(result))


def measure(kind: str, months: int, scenario: str = "", overrides: dict | None = None,
            residents: int = 0, repeat: int = 1) -> dict:
    """The best (least CPU) of ``repeat`` measurements, each in a fresh process."""
    return min(measurements(kind, months, scenario, overrides, residents, repeat),
               key=lambda r: r["cpu"])


def measurements(kind: str, months: int, scenario: str = "", overrides: dict | None = None,
                 residents: int = 0, repeat: int = 1) -> list[dict]:
    """``repeat`` measurements, each in a fresh process."""
    spec = {"kind": kind, "months": months, "scenario": scenario,
            "overrides": overrides or {}, "residents": residents}
    runs = []
    for _ in range(repeat):
        out = subprocess.run([sys.executable, __file__, "--child", json.dumps(spec)],
                             capture_output=True, text=True, check=True)
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return runs


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min)"


def rate(m: dict, months: int, clock: str = "cpu") -> float:
    """Resident-steps per second."""
    return m["residents"] * months / m[clock]


def row(label: str, m: dict, months: int, ratio: str = "") -> str:
    per = m["peak_mb"] * 2**20 / m["residents"]
    return (f"{label:34s} {m['seconds']:9.2f} {m['cpu']:9.2f} {rate(m, months):13,.0f} "
            f"{m['peak_mb']:8.0f} {per:8.0f} {ratio}")


HEADER = (f"{'case':34s} {'wall s':>9s} {'cpu s':>9s} {'res-steps/s':>13s} "
          f"{'peak MB':>8s} {'B/res':>8s} ratio to trivial (CPU)")


def against_trivial(label: str, overrides: dict, scenarios: list[str], months: int,
                    repeat: int) -> None:
    """Scenarios in a district against the trivial agent of the same size."""
    size = 1
    for value in overrides.values():
        size *= value
    trivial = measure("trivial", months, residents=size, repeat=repeat)
    print(row(f"trivial Mesa agent ({size:,})", trivial, months))
    for scenario in scenarios:
        m = measure("model", months, scenario, overrides, repeat=repeat)
        ratio = rate(m, months) / rate(trivial, months)
        print(row(f"{scenario} {label}", m, months, f"{ratio:.2f}x"), flush=True)
    for scenario in scenarios:
        print(paired(scenario, overrides, months, size, repeat), flush=True)


def paired(scenario: str, overrides: dict, months: int, size: int, repeat: int) -> str:
    """The ratio measured in pairs: in each of ``repeat`` fresh processes the trivial agent
    runs first (before sanshe is imported, so its garbage collections walk none of
    sanshe's objects), then ``scenario``; a pair shares the host's state of that moment,
    which moves both times on a shared machine. Their CPU ratios' median and range."""
    pairs = measurements("pair", months, scenario, overrides, size, repeat)
    ratios = sorted(p["trivial"]["cpu"] / p["model"]["cpu"] for p in pairs)
    trivial = [p["trivial"]["cpu"] for p in pairs]
    model = [p["model"]["cpu"] for p in pairs]
    return (f"  {scenario}, paired in one process ({repeat}): ratio median "
            f"{float(np.median(ratios)):.2f}x, range {ratios[0]:.2f}-{ratios[-1]:.2f}x "
            f"(trivial {min(trivial):.2f}-{max(trivial):.2f} s, "
            f"{scenario} {min(model):.2f}-{max(model):.2f} s CPU)")


def trivial_rate(months: int, repeat: int) -> float:
    """The trivial agent's resident-steps per CPU second at 100,000 agents."""
    m = measure("trivial", months, residents=TRIVIAL_SIZES[-1], repeat=repeat)
    print(row(f"trivial Mesa agent ({TRIVIAL_SIZES[-1]:,})", m, months))
    return rate(m, months)


def large(residents: int, months: int, trivial: float, label: str) -> dict:
    """The full package at ``residents`` (one run), with its ratio to the trivial rate."""
    m = measure("model", months, "full_linkage", district(residents))
    ratio = rate(m, months) / trivial
    print(row(label, m, months, f"{ratio:.2f}x (trivial at 100,000, extrapolated)"))
    print(f"{'':34s} built in {m['build_seconds']:.1f} s wall, {m['build_cpu']:.1f} s CPU; "
          f"{m['sos']:,} SOs at the end; residents' state "
          f"{m['state_bytes'] / m['residents']:.0f} B/resident", flush=True)
    return m


def growth(months: int, trivial: float, sizes: tuple[int, ...]) -> None:
    """The full package at growing sizes and the exponent of its cost."""
    runs = [large(n, months, trivial, f"full_linkage {n / 1e6:g}M, {months} months")
            for n in sizes]
    x = np.log([m["residents"] for m in runs])
    for clock, build in (("cpu", "build_cpu"), ("seconds", "build_seconds")):
        run = [m[clock] - m[build] for m in runs]
        slope = np.polyfit(x, np.log(run), 1)[0]
        setup = np.polyfit(x, np.log([m[build] for m in runs]), 1)[0]
        name = "CPU" if clock == "cpu" else "wall"
        print(f"growth exponent ({name}): months {slope:.2f}, building the district "
              f"{setup:.2f} (1 = linear in residents)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default="library,1M",
                        help=f"comma-separated, of: {', '.join(CASES)}")
    parser.add_argument("--months", type=int, default=120, help="months of the library, "
                        "1M and city cases (growth runs 36)")
    parser.add_argument("--growth-months", type=int, default=36)
    parser.add_argument("--growth-sizes", default="1,2,4,10",
                        help="millions of residents for the growth case")
    parser.add_argument("--repeat", type=int, default=3,
                        help="library runs: best of this many (CPU)")
    parser.add_argument("--scenario", help="library case: only this scenario "
                        "(default: baseline and full_linkage)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(json.loads(args.child))
        return
    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = sorted(set(cases) - set(CASES))
    if unknown:
        parser.error(f"unknown case(s) {', '.join(unknown)}; choose from {', '.join(CASES)}")
    print(f"one process per measurement or pair; {load()}")
    print(HEADER)
    print("-" * len(HEADER))
    if "library" in cases:
        scenarios = [args.scenario] if args.scenario else ["baseline", "full_linkage"]
        against_trivial("library district", LIBRARY, scenarios, args.months, args.repeat)
    if "sizes" in cases:
        for per_community in SIZES:
            against_trivial(f"{10 * per_community:,} residents",
                            {**LIBRARY, "district.residents_per_community": per_community},
                            ["full_linkage"], args.months, args.repeat)
    if "100k" in cases:
        against_trivial("100,000 residents", HUNDRED_K, ["full_linkage"], args.months, 1)
    if {"1M", "growth", "city"} & set(cases):
        trivial = trivial_rate(args.months, 1)
        if "1M" in cases:
            large(1_000_000, args.months, trivial, f"full_linkage 1M, {args.months} months")
        if "growth" in cases:
            sizes = tuple(int(float(s) * 1e6) for s in args.growth_sizes.split(","))
            growth(args.growth_months, trivial, sizes)
        if "city" in cases:
            m = large(10_000_000, args.months, trivial,
                      f"city 10M, {args.months} months")
            print(f"city: {m['seconds']:.0f} s wall (target ≤ 300), peak "
                  f"{m['peak_mb'] / 1024:.2f} GB (target ≤ 8), "
                  f"{m['peak_mb'] * 2**20 / m['residents']:.0f} bytes per resident at peak")
    print(f"done; {load()}")


if __name__ == "__main__":
    main()
