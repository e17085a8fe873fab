"""Purchase of services (政府购买服务): needs list → lots → award → delivery → evaluation.

Yearly cycle (seed 001: 立项评审、中期评估、结项评估). Whose needs list drives the lots depends
on the linkage mode (seed 004): residents' expressed needs (demand-driven), officials'
priorities (government-led) or SOs' proposals (project-led). Awards follow quality signals
and some incumbency even in open bidding (Jing & Chen 2012; Savas 2002: few bidders), and
follow ties when purchase is directed (seed 002 定向购买). Under government-led linkage
officials' lots buy their own deliverables too — events, campaigns, reports, inspections —
drawn each year from their priorities; these cost the SO the same effort as a service and
meet residents' needs only where an event coincides with them. Evaluation by the buyer itself
counts showy activity and is noisy (seed 000: 既当运动员又当裁判员); a third party sees true
quality; a satisfaction weight rewards meeting real needs (seeds 001, 002, 004).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from sanshe.sim.agents.social_org import (  # noqa: F401 (Lot, responsive_split: re-exported)
    DELIVERABLES,
    Contract,
    Lot,
    SocialOrganization,
    overheads,
    responsive_split,
)
from sanshe.sim.mechanisms import costing, needs, priorities
from sanshe.sim.population import DOMAINS, D
from sanshe.sim.so_directory import SODirectory

if TYPE_CHECKING:
    from sanshe.sim.model import CommunityGovernanceModel

#: Awards and evaluations draw from this stream only.
STREAM = "procurement"



def evaluate_year(model: CommunityGovernanceModel) -> set[int]:
    """中期/结项评估: score last year's purchase contracts and note who held them (the
    incumbents of the coming awards); the ids of the SOs that were evaluated."""
    rng = model.streams[STREAM]
    third = bool(model.v["policy.purchase.third_party_evaluation"])
    weight = float(model.v["policy.purchase.satisfaction_weight"])
    model.incumbents = set()
    evaluated: set[int] = set()
    for so in model.sos:
        for contract in so.contracts:
            if contract.buyer == "purchase" and not contract.evaluated:
                evaluate(so, contract, third, weight, model.p, rng)
                model.incumbents.add((so.unique_id, contract.community, contract.domain))
                evaluated.add(so.unique_id)
        so.contracts = [c for c in so.contracts if c.months_left > 0]
    return evaluated


def supply_map(model: CommunityGovernanceModel) -> np.ndarray:
    """SOs' capacity by (community, domain): what SOs would propose (project-led)."""
    supply = np.zeros((model.pop.communities, D))
    for so in model.sos:
        if so.is_community:
            supply[so.community, so.domain] += so.capacity
        else:
            supply[:, so.domain] += so.capacity / model.pop.communities
    return supply


def procure(model: CommunityGovernanceModel) -> None:
    """政府购买服务: this year's lots, awarded by the procurement mode."""
    v, p, rng = model.v, model.p, model.streams[STREAM]
    linkage, projects = v["policy.linkage.mode"], bool(v["policy.four_priorities.projects"])
    demand, budget = needs.known_demand(model), evaluated_budget(model)
    if linkage == "government_led":
        lots = officials_lots(demand, budget, projects, p, rng)
    else:
        weights = needs_list(linkage, demand, supply_map(model), projects, p)
        lots = make_lots(weights, budget, p["lot_size"])
    mode = v["policy.purchase.mode"]
    directed_share = {"directed": 1.0, "competitive": 0.0}.get(
        mode, float(v["policy.purchase.directed_share"]))
    model.year_contract_value = {}
    model.bureau.unawarded = 0.0
    bidders = SODirectory(model.sos, p["min_bid_capacity"])  # who may bid, where
    held: dict[tuple[int, int], set[int]] = {}  # incumbents by (community, domain)
    for so_id, c, d in model.incumbents:
        held.setdefault((c, d), set()).add(so_id)
    partners = priorities.partner_index(model)
    bids = bid_rule(model)
    for lot in lots:
        candidates = bidders.serving(lot.community, lot.domain, any_domain=True)
        incumbents = held.get((lot.community, lot.domain), set())
        winner = award(lot, candidates, rng.random() < directed_share, incumbents, p, rng,
                       bids)
        if winner is None:
            model.bureau.unawarded += lot.value
            continue
        for so, part in priorities.project_partners(model, winner, lot, partners):
            sign(so, replace(part, kind=lot.kind), "purchase", p, costing.price_for(model, so))
            model.year_contract_value[so.unique_id] = (
                model.year_contract_value.get(so.unique_id, 0.0) + part.value)


def evaluated_budget(model: CommunityGovernanceModel) -> float:
    """This year's purchase budget left for lots once a third-party evaluator (第三方评估)
    is paid ``third_eval_cost_share`` of it; self-evaluation costs the buyer nothing. It
    sets the year's fee (``bureau.evaluation_fee``, spent through the year:
    finance.public_spending) when the lots are bought, so a timeline's later change to the
    budget or the evaluator does not move a fee already agreed."""
    budget = model.bureau.purchase_budget
    third = bool(model.v["policy.purchase.third_party_evaluation"])
    model.bureau.evaluation_fee = budget * model.p["third_eval_cost_share"] if third else 0.0
    return budget - model.bureau.evaluation_fee


def bid_rule(model: CommunityGovernanceModel) -> Callable[[SocialOrganization, Lot], bool]:
    """Whether an SO bids on a competitive lot, as far as money goes: only when the price
    of its units (:func:`costing.price_for`) pays its way (:func:`costing.pays_its_way`:
    its staff time, activity costs and its rent, less free space, shared over what it can
    carry)."""
    p, salary = model.p, float(model.v["policy.social_work.salary_index"])
    rent = np.array(priorities.rent_factors(model, model.sos), float)
    overhead_of = dict(zip([so.unique_id for so in model.sos],
                           overheads(model.sos, p, rent).tolist(), strict=True))

    def bids(so: SocialOrganization, lot: Lot) -> bool:
        overhead = overhead_of.get(so.unique_id)
        if overhead is None:  # founded since the round began: no free space yet
            overhead = so.overhead(p, 1.0)
        return costing.pays_its_way(so, lot, costing.price_for(model, so), p, salary,
                                    overhead)
    return bids


def _always(so: SocialOrganization, lot: Lot) -> bool:
    return True


def needs_list(mode: str, demand: np.ndarray, supply: np.ndarray, projects_priority: bool,
               p: dict[str, float], domains: np.ndarray | None = None) -> np.ndarray:
    """Weights over (community, domain) that decide where the money goes.

    ``demand`` is what the buyer knows of residents' needs; ``supply`` the capacity of SOs
    by (community, domain), i.e. what SOs would propose; ``domains`` officials' weights on
    the domains this year (government-led; their mean priorities when not given).
    """
    needs = _normalise(demand)
    if mode == "demand_driven":
        return needs
    if mode == "government_led":
        weight = needs_weight(p, projects_priority)
        return weight * needs + official_list(demand, p, domains, projects_priority)
    # project_led
    official = _normalise(supply) if supply.sum() > 0 else needs
    weight = needs_weight(p, projects_priority, "project_led_needs_weight")
    return weight * needs + (1.0 - weight) * official


def needs_weight(p: dict[str, float], projects_priority: bool,
                 base: str = "gov_led_needs_weight") -> float:
    """Share of a government- or project-led list taken from residents' needs (日常性活动,
    seed 004); the projects priority adds ``projects_priority_match``."""
    match = p["projects_priority_match"] if projects_priority else 0.0
    return min(p[base] + match, 1.0)


def official_list(demand: np.ndarray, p: dict[str, float], domains: np.ndarray | None,
                  projects_priority: bool) -> np.ndarray:
    """Officials' own part of a government-led list over (community, domain): their domain
    weights in each community in proportion to its known needs (its size)."""
    domains = official_priorities(p) if domains is None else domains
    sizes = demand.sum(axis=1, keepdims=True) + 1e-9
    share = 1.0 - needs_weight(p, projects_priority)
    return share * _normalise(sizes * _normalise(domains)[None, :])


def official_priorities(p: dict[str, float]) -> np.ndarray:
    """Officials' mean weight on each domain under government-led linkage: visible
    activities first (seed 004), as ``official_priority_<domain>`` in the parameter table."""
    return np.array([p[f"official_priority_{domain}"] for domain in DOMAINS])


def deliverable_priorities(p: dict[str, float]) -> np.ndarray:
    """Officials' mean weight on each kind of deliverable they buy (in ``DELIVERABLES``
    order), as ``official_deliverable_<kind>`` in the parameter table."""
    return np.array([p[f"official_deliverable_{kind}"] for kind in DELIVERABLES])


def draw_priorities(mean: np.ndarray, concentration: float,
                    rng: np.random.Generator) -> np.ndarray:
    """This year's priorities: a Dirichlet draw around ``mean`` (each year's 中心工作
    differs; ``concentration`` sets how little). Zero weights stay zero."""
    weights = _normalise(np.asarray(mean, float))
    draw = np.zeros_like(weights)
    keep = weights > 0
    draw[keep] = rng.dirichlet(concentration * weights[keep])
    return draw


def officials_lots(demand: np.ndarray, budget: float, projects_priority: bool,
                   p: dict[str, float], rng: np.random.Generator) -> list[Lot]:
    """政府主导型 (seed 004): this year's lots from officials' priorities. A lot in a cell
    comes from residents' needs (a service) or from officials' own list in proportion to
    the two parts there; an officials' lot buys a deliverable drawn from this year's
    weights on events, campaigns, reports and inspections."""
    concentration = p["official_priority_concentration"]
    domains = draw_priorities(official_priorities(p), concentration, rng)
    kinds = draw_priorities(deliverable_priorities(p), concentration, rng)
    weights = needs_list("government_led", demand, demand, projects_priority, p, domains)
    officials = official_list(demand, p, domains, projects_priority).ravel()
    lots = make_lots(weights, budget, p["lot_size"])
    if not lots:
        return lots
    cells = np.array([lot.community * D + lot.domain for lot in lots])
    from_officials = rng.random(len(lots)) < officials[cells] / weights.ravel()[cells]
    drawn = rng.choice(len(DELIVERABLES), size=len(lots), p=kinds)
    return [replace(lot, kind=DELIVERABLES[k]) if official else lot
            for lot, official, k in zip(lots, from_officials, drawn, strict=True)]


def make_lots(weights: np.ndarray, budget: float, lot_size: float) -> list[Lot]:
    """Split the budget into lots placed by the largest-remainder rule on ``weights``: lots
    of about ``lot_size``, at least one, so that any budget is spent whatever the district's
    size (money per resident means the same at any size)."""
    count = max(int(round(budget / lot_size)), 1) if budget > 0 else 0
    if count <= 0 or weights.sum() <= 0:
        return []
    quota = weights.ravel() / weights.sum() * count
    lots_per_cell = np.floor(quota).astype(int)
    remainder = count - lots_per_cell.sum()
    if remainder > 0:
        lots_per_cell[np.argsort(-(quota - lots_per_cell))[:remainder]] += 1
    value = budget / count
    cells = np.repeat(np.arange(quota.size), lots_per_cell)
    return [Lot(int(k // D), int(k % D), value) for k in cells]


def eligible(so: SocialOrganization, lot: Lot, min_capacity: float) -> bool:
    """Whether ``so`` can take ``lot``: capable enough; a community SO only in its own
    community and domain, a professional agency (综合性社工机构) anywhere in any domain."""
    if so.capacity < min_capacity:
        return False
    if not so.is_community:
        return True
    return so.domain == lot.domain and so.community == lot.community


def award(lot: Lot, candidates: list[SocialOrganization], directed: bool,
          incumbents: set[int], p: dict[str, float], rng: np.random.Generator,
          pays: Callable[[SocialOrganization, Lot], bool] = _always,
          ) -> SocialOrganization | None:
    """The winner of ``lot`` among ``candidates``, or None when nobody can take it.

    Competitive: only SOs that bid — with ``bid_probability`` (few bidders), when the
    price pays their way (``pays``: :func:`bid_rule`) — and are not overloaded, ranked on
    reputation with a residual incumbency weight. Directed: the buyer entrusts whom it
    trusts — ties and incumbency decide, load and price are ignored (an SO entrusted by
    its patron rarely refuses).
    """
    if directed:
        pool = candidates
    else:
        bids = rng.random(len(candidates)) < p["bid_probability"]
        pool = [so for so, bid in zip(candidates, bids, strict=True)
                if bid and so.load(p) < p["max_contract_load"] and pays(so, lot)]
    if not pool:
        return None
    incumbent = np.array([so.unique_id in incumbents for so in pool], float)
    reputation = np.array([so.reputation for so in pool])
    ties = np.array([so.ties for so in pool])
    if directed:
        score = p["tie_weight_directed"] * ties + p["incumbency_weight"] * incumbent
        score += p["reputation_weight_directed"] * reputation
    else:
        score = reputation + p["incumbency_weight"] * incumbent
        score += p["tie_weight_competitive"] * ties
    score += rng.normal(0.0, p["award_noise"], len(pool))
    return pool[int(np.argmax(score))]


def sign(so: SocialOrganization, lot: Lot, buyer: str, p: dict[str, float],
         price: float) -> Contract:
    """Contract ``lot`` to ``so``; working for the buyer also builds ties (relationships).
    Every unit, service or officials' deliverable (the same effort, §7.5), is priced at
    ``price`` (成本核算: :func:`costing.unit_price`)."""
    slots = costing.units_bought(lot.value, price)
    contract = Contract(buyer=buyer, community=lot.community, domain=lot.domain,
                        value=lot.value, slots=slots, kind=lot.kind,
                        staff_line=costing.staff_line(p, lot.value / 12.0, slots))
    so.contracts.append(contract)
    so.ties = min(1.0, so.ties + p["tie_gain_per_contract"])
    return contract


def evaluate(so: SocialOrganization, contract: Contract, third_party: bool,
             satisfaction_weight: float, p: dict[str, float], rng: np.random.Generator) -> float:
    """Score a finished contract and update the SO's reputation and orientation.

    The score mixes an output-and-quality signal, seen by the evaluator, with what served
    residents experienced (``satisfaction_weight``).
    """
    expected = contract.slots * 12.0
    produced = contract.served + contract.deliverables
    true_quality = contract.quality_sum / produced if produced > 0 else 0.0
    visibility = p["showcase_visibility_third"] if third_party else p["showcase_visibility_self"]
    noise = p["third_eval_noise"] if third_party else p["self_eval_noise"]
    # the audit counts deliverables in the contracted domain and officials' paperwork;
    # residents count any need met
    reported = min((contract.served_spec + contract.deliverables
                    + visibility * contract.showcase) / max(expected, 1e-9), 1.0)
    seen_quality = true_quality + rng.normal(0.0, noise) + (
        0.0 if third_party else p["self_eval_inflation"])
    experienced = min(contract.served / max(expected, 1e-9), 1.0) * true_quality
    w = p["eval_output_weight"]
    seen = float(np.clip(seen_quality, 0, 1))
    score = (1 - satisfaction_weight) * (w * reported + (1 - w) * seen)
    score += satisfaction_weight * experienced
    memory = p["reputation_memory"]
    so.reputation = memory * so.reputation + (1 - memory) * score
    _adapt_orientation(so, visibility, satisfaction_weight, true_quality, p)
    _adapt_responsiveness(so, satisfaction_weight, p)
    contract.evaluated = True
    return score


def _adapt_orientation(so: SocialOrganization, visibility: float, satisfaction_weight: float,
                       quality: float, p: dict[str, float]) -> None:
    """SOs move effort toward what evaluation rewards (real needs vs showcase activity);
    professional norms of social work keep a floor of real service whatever the regime."""
    output_weight = p["eval_output_weight"] * (1 - satisfaction_weight)
    real = (output_weight + satisfaction_weight * quality) / p["real_service_cost"]
    showcase = output_weight * visibility
    norm = p["professional_norm"]
    target = norm + (1.0 - norm) / (1.0 + math.exp(-p["orientation_steepness"] * (real - showcase)))
    so.orientation += p["orientation_adaptation"] * (target - so.orientation)


def _adapt_responsiveness(so: SocialOrganization, satisfaction_weight: float,
                          p: dict[str, float]) -> None:
    """Accountability downward (向下负责, seed 002): the part of the evaluation that served
    residents decide rewards needs met in any domain, the rest audits the contracted
    deliverables — so an SO places that share of its real service, as far as contracts
    leave room (``contract_flexibility``), by what residents of the community ask for."""
    target = p["contract_flexibility"] * satisfaction_weight
    so.responsiveness += p["orientation_adaptation"] * (target - so.responsiveness)


def hhi(values_by_so: dict[int, float]) -> float:
    """Herfindahl–Hirschman index of contract value shares (0..1)."""
    total = sum(values_by_so.values())
    if total <= 0:
        return 0.0
    return float(sum((v / total) ** 2 for v in values_by_so.values()))


def _normalise(weights: np.ndarray) -> np.ndarray:
    total = weights.sum()
    return weights / total if total > 0 else np.full(weights.shape, 1.0 / weights.size)

