"""Behavioural constants: one table, one line each, with unit, range and source.

Policy levers (what a policymaker sets) live in scenarios; these are the uncertain
behavioural constants (what nobody controls). A scenario may override any of them under
``[parameters]``; the ranges are the plausible ranges used by sensitivity analysis.
Seed numbers (000–004) refer to the source documents listed in docs/ODD.md.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Parameter:
    """A behavioural constant with its plausible range and where it comes from."""

    name: str
    default: float
    low: float
    high: float
    unit: str
    source: str
    uncertain: bool = False  # among the most uncertain: used by robustness checks

    @property
    def is_integer(self) -> bool:
        return float(self.default).is_integer() and self.unit in ("count", "months")


_P = Parameter
TABLE: tuple[Parameter, ...] = (
    # --- population (居民) -------------------------------------------------------------
    _P("elderly_share_urban", 0.20, 0.10, 0.35, "share", "China 2020 census: 18.7% aged 60+"),
    _P("elderly_share_rural", 0.30, 0.15, 0.45, "share", "census: rural ageing ~24% (+ outmigration)"),
    _P("children_household_share", 0.25, 0.10, 0.40, "share", "seed 000 special groups; census"),
    _P("disabled_share", 0.06, 0.03, 0.10, "share", "CDPF: ~6.3% of population"),
    _P("low_income_share", 0.06, 0.02, 0.15, "share", "seed 000 困难家庭; dibao+edge ~5-8%"),
    _P("migrant_share_urban", 0.20, 0.0, 0.50, "share", "seed 000 外来务工人员; urban census"),
    _P("migrant_share_rural", 0.03, 0.0, 0.15, "share", "rural communities host few migrants"),
    _P("leader_share", 0.02, 0.005, 0.05, "share", "seeds 000/003/004 社区能人; assumption"),
    _P("leader_emergence", 0.0005, 0.0, 0.003, "per participant-month", "active residents become 骨干; social workers train them (seed 004)"),
    _P("ties_per_resident", 8, 2, 20, "count", "neighbourhood ties; assumption"),
    _P("disposition_mean", 0.1402, 0.10, 0.45, "0-1", "Fischbacher & Gaechter 2010: ~half cond. cooperators; joint calibration (issue 14, docs/validation.md)", True),
    _P("threshold_mean", 0.5553, 0.25, 0.65, "0-1", "Granovetter 1978 threshold model; calibrated to low participation; joint calibration (issue 14, docs/validation.md)", True),
    _P("free_rider_share", 0.3, 0.1, 0.5, "share", "Fischbacher, Gaechter & Fehr 2001: about a third free riders ignore peers"),
    _P("threshold_sd", 0.15, 0.05, 0.30, "0-1", "Granovetter 1978: spread of thresholds"),
    _P("trust_initial", 0.30, 0.10, 0.50, "0-1", "seed 000: residents misunderstand SOs"),
    _P("satisfaction_initial", 0.50, 0.30, 0.70, "0-1", "neutral start"),
    _P("young_share_nonelderly", 0.45, 0.30, 0.60, "share", "residents under 40 among the non-elderly; census, rounded"),
    _P("non_elderly_share", 0.8, 0.65, 0.9, "share", "converts the share of households with children into a share of non-elderly residents; census"),
    _P("disposition_concentration", 2.0, 1.0, 5.0, "beta b", "spread of civic disposition: Beta(b·m/(1−m), b) has mean m; assumption"),
    _P("attitude_sd", 0.1, 0.02, 0.2, "sd", "residents differ in initial trust and satisfaction; assumption"),
    # --- needs (需求) -------------------------------------------------------------------
    _P("need_rate_general", 0.010, 0.003, 0.03, "per resident-month", "culture/mediation needs of everyone; assumption"),
    _P("need_rate_special", 0.025, 0.01, 0.06, "per flag-month", "special groups' needs (seed 000); assumption"),
    _P("general_needs_culture_share", 0.6, 0.3, 0.8, "share", "everyone's general needs: culture and sports, the rest mediation (seeds 001, 002); assumption"),
    _P("need_patience_months", 4, 1, 12, "months", "mean months before an unmet need lapses; assumption"),
    _P("hidden_grievance_share", 0.5, 0.0, 1.0, "ratio", "an unmet need nobody was told of hurts less than one left unanswered (Epstein 2002); assumption"),
    _P("expression_base", 0.12, 0.03, 0.30, "per month", "grid staff, hotline (seed 001)"),
    _P("expression_platform", 0.15, 0.0, 0.40, "per month", "information platform (seeds 001, 004), for the residents on it (online_use_share, online_use_elderly)"),
    _P("expression_trust", 0.25, 0.0, 0.50, "per month at trust 1", "trust brings needs to SOs (Epstein 2002 legitimacy)"),
    _P("expression_landing", 0.10, 0.0, 0.30, "per month", "at full visibility of SOs' open activities in the community under the landing priority (seed 001)"),
    _P("expression_outreach", 0.25, 0.0, 0.50, "per month at full outreach", "social-worker outreach (seed 004)"),
    _P("expression_deliberation", 0.15, 0.0, 0.40, "per month", "needs raised at deliberation meetings (seed 001)"),
    _P("expression_group", 0.1, 0.0, 0.3, "per month", "group organisations bring their groups' needs forward (seed 000)"),
    _P("landing_outreach_share", 0.5, 0.1, 0.9, "share", "landing obligation: time a landed agency's social workers spend reaching residents and coaching leaders where it holds contracts, taken from service hours unless it hires for it (seeds 001, 004); assumption", True),
    _P("outreach_residents_per_sw", 600, 200, 2000, "residents", "caseload a community social worker can reach; assumption"),
    _P("outreach_leader_effect", 1.0, 0.0, 3.0, "ratio at full outreach", "social workers find and coach leaders: full outreach multiplies founding and leaders' emergence by 1 + this (seed 004); assumption"),
    # --- service production (服务) --------------------------------------------------------
    _P("unit_cost", 1000, 500, 2000, "yuan per need met or member", "what donors and firms reckon a need met (or a member) is worth when they give to an SO's record (donation_rate); purchased units are priced by cost accounting instead (成本核算, sanshe/sim/mechanisms/costing.py); assumption", True),
    _P("slots_per_sw", 12, 5, 25, "services per month", "caseload of one social worker; assumption"),
    _P("slots_per_volunteer", 0.6, 0.1, 2.0, "services per month", "volunteer contribution; assumption"),
    _P("unskilled_productivity", 0.5, 0.2, 0.9, "share", "an unskilled social worker does this share of what a fully skilled one does (caseload, outreach); assumption"),
    _P("station_casework_share", 0.5, 0.2, 1.0, "share", "time a community station's social worker spends on casework rather than committee tasks (seed 002 行政化); assumption"),
    _P("service_quality_noise", 0.05, 0.0, 0.15, "sd", "residents experience the same service differently; assumption"),
    _P("admin_quality", 0.30, 0.15, 0.50, "0-1", "committee's own administrative provision (seed 002 行政化)"),
    _P("admin_efficiency", 0.6, 0.3, 1.0, "share", "committee delivers fewer services per yuan; assumption"),
    _P("real_service_cost", 1.5, 1.0, 2.5, "ratio", "real casework costs more than showcase activities (seed 002 内卷化)"),
    _P("overload_penalty", 1.0, 0.3, 2.0, "exponent", "quality loss when contracts exceed capacity (seed 002)"),
    _P("orientation_adaptation", 0.3, 0.05, 0.8, "per year", "SOs adapt toward what evaluation rewards; assumption"),
    _P("professional_norm", 0.4, 0.0, 0.8, "share", "social-work ethics keep some real service under any evaluation; assumption"),
    _P("showcase_visibility_self", 1.2, 0.8, 2.0, "ratio", "self-evaluation counts showcase output (seed 000 运动员裁判员)"),
    _P("showcase_visibility_third", 0.2, 0.0, 0.6, "ratio", "a third party discounts showcase output"),
    _P("self_eval_noise", 0.25, 0.05, 0.5, "sd", "self-reported quality is noisy (seed 000)"),
    _P("third_eval_noise", 0.05, 0.01, 0.2, "sd", "third-party evaluation error"),
    _P("contract_flexibility", 0.5, 0.0, 1.0, "share", "share of a contract's services an SO may steer to residents' own requests when their satisfaction counts (seed 002: 需求调研, 向下负责); assumption"),
    _P("reputation_memory", 0.5, 0.2, 0.9, "weight", "weight of the past in reputation (Fiorino et al. 2018)"),
    # --- procurement (采购) ----------------------------------------------------------------
    _P("lot_size", 100_000, 30_000, 300_000, "yuan", "typical community project contract; seeds 001, 004"),
    _P("bid_probability", 0.5, 0.2, 0.9, "share", "thin markets: few bidders per lot (Girth et al. 2012; Savas 2002)"),
    _P("incumbency_weight", 0.3, 0.0, 0.8, "score", "relationships persist even in open bidding (Jing & Chen 2012)", True),
    _P("tie_weight_directed", 1.0, 0.3, 2.0, "score", "directed awards follow ties (seed 002 定向购买)"),
    _P("award_noise", 0.15, 0.02, 0.4, "sd", "idiosyncrasy of award decisions; assumption"),
    _P("reputation_weight_directed", 0.2, 0.0, 0.5, "score", "directed buyers still glance at reputation; assumption"),
    _P("tie_weight_competitive", 0.1, 0.0, 0.3, "score", "relationships weigh a little in open bids too (Jing & Chen 2012)"),
    _P("tie_gain_per_contract", 0.05, 0.0, 0.15, "per contract", "working for a buyer builds relationships (seed 002)"),
    _P("eval_output_weight", 0.5, 0.3, 0.7, "share", "evaluation's weight on reported output vs seen quality; assumption"),
    _P("self_eval_inflation", 0.15, 0.0, 0.3, "0-1", "buyers evaluating their own purchases inflate quality (seed 002)"),
    _P("orientation_steepness", 10.0, 2.0, 30.0, "1/score", "how sharply SOs follow what evaluation rewards; assumption"),
    _P("orientation_initial", 0.6, 0.3, 0.9, "share", "new SOs' effort on real needs before any evaluation; assumption"),
    _P("gov_led_needs_weight", 0.2, 0.0, 0.6, "share", "share of residents' needs in officials' lists (seed 004)", True),
    _P("official_deliverable_event", 0.5, 0.2, 0.8, "weight", "government-led: officials' lots buy large events (配合社会性的大型活动, seed 004) — held in a domain, they meet needs only where residents have them; mean of a Dirichlet draw each year; assumption (the source says 'many', no share)", True),
    _P("official_deliverable_campaign", 0.2, 0.05, 0.4, "weight", "officials' lots buy publicity campaigns (宣传, 创建 tasks: 配合上级政府的任务要求, seed 004) that meet no need; assumption"),
    _P("official_deliverable_report", 0.15, 0.05, 0.3, "weight", "officials' lots buy reports and ledgers (台账, 报表: SOs doing administrative work, 行政化, seeds 000, 002) that meet no need; assumption"),
    _P("official_deliverable_inspection", 0.15, 0.05, 0.3, "weight", "officials' lots buy inspections and surveys (检查, 排查: superiors' task requirements, seed 004) that meet no need; assumption"),
    _P("official_priority_concentration", 20.0, 2.0, 200.0, "Dirichlet concentration", "how closely each year's officials' priorities (domains, deliverables) follow their means: low = the year's 中心工作 swings (seed 002 运动型治理); assumption", True),
    _P("official_priority_elder_care", 0.20, 0.05, 0.40, "weight", "officials' domain priorities under government-led lists: visible activities first (seed 004); assumption"),
    _P("official_priority_children_youth", 0.10, 0.02, 0.30, "weight", "officials' domain priorities (seed 004); assumption"),
    _P("official_priority_disability", 0.05, 0.0, 0.20, "weight", "officials' domain priorities (seed 004); assumption"),
    _P("official_priority_assistance", 0.10, 0.02, 0.30, "weight", "officials' domain priorities (seed 004); assumption"),
    _P("official_priority_culture_sports", 0.40, 0.20, 0.60, "weight", "officials' domain priorities: large events and culture (seed 004 大型活动); assumption"),
    _P("official_priority_mediation", 0.15, 0.05, 0.30, "weight", "officials' domain priorities: stability (seed 004); assumption"),
    _P("project_led_needs_weight", 0.5, 0.2, 0.8, "share", "share of residents' needs in SO proposals (seed 004)"),
    _P("projects_priority_match", 0.25, 0.0, 0.5, "share", "projects landing in communities match needs better (seed 001)"),
    _P("project_partner_share", 0.3, 0.0, 0.6, "share", "with the projects priority, share of an agency's project a local community SO carries out (seed 001 公益项目优先落地社区; Watkins 2001 in seed 004); assumption"),
    _P("platform_needs_visibility", 0.5, 0.0, 1.0, "share", "hidden needs of residents on the platform that it shows planners (seed 001)"),
    _P("min_bid_capacity", 0.25, 0.05, 0.5, "0-1", "capacity an SO needs to take a contract (seed 000: few can)"),
    _P("small_project_capacity_share", 0.5, 0.2, 1.0, "ratio", "capacity a community SO needs for a community-fund project or a share of a landed project, × min_bid_capacity; assumption"),
    _P("max_contract_load", 3.0, 1.5, 6.0, "ratio", "contracted slots an SO accepts relative to its output"),
    # --- social organizations (社会组织) ----------------------------------------------------
    _P("local_wage", 6000, 3000, 12000, "yuan/month", "local average wage; Shenzhen new SW ~3,000 (2014)"),
    _P("rent_per_month", 3000, 500, 8000, "yuan/month", "office rent of a small SO; assumption"),
    _P("space_without_priority", 0.2, 0.0, 0.6, "share", "space committees hand SOs without the resources priority (seed 001)"),
    _P("venue_base", 0.4, 0.1, 1.0, "share", "community SOs without given space still find somewhere to meet; assumption"),
    _P("community_so_cost", 50, 20, 1000, "yuan/month", "running cost of a volunteer community SO that pays no rent (materials, printing, tea: ~600 yuan a year), met from small dues and in-kind help; set with member_dues at the sources' scale (issue 14: at 30 yuan of dues a member-month a 200-yuan cost was what members paid; at a few yuan, a 200-yuan cost closes nearly every unfunded group, which the national 1.25 community SOs per 1,000 rules out); assumption"),
    _P("member_dues", 2, 0, 10, "yuan per member-month", "community SOs' dues are small, tens of yuan a year if any (a few yuan a month: 0-120 yuan a year); they run on in-kind help and space; assumption"),
    _P("community_project_size", 20_000, 5_000, 50_000, "yuan", "one community-fund micro-project (微项目, seed 001); assumption"),
    _P("reserve_spending_months", 12, 3, 24, "months", "an SO hires against what its contracts' staff lines pay plus its reserve spread over this many months, and lets a worker go when its reserve cannot carry the salaries its contracts leave unpaid for this many months; assumption"),
    _P("debt_months_to_close", 3.0, 1.0, 12.0, "months of costs", "an SO closes when its debts exceed this many months of costs (the larger of this month's and their running mean over cost_memory_months, so a layoff does not shrink the scale); assumption"),
    _P("cost_memory_months", 12, 3, 24, "months", "the span of the running mean of an SO's monthly costs that its debts are judged against (debt_months_to_close): a manager reads her costs over the budget year (年度预算) she plans by, so a layoff does not at once shrink the scale of the debt left; assumption"),
    _P("donation_rate", 0.04, 0.0, 0.15, "per month of reputation", "what donors and firms would give an SO fundraising at full effort, × its reputation × (needs met + members) × unit_cost (seeds 000, 001)"),
    _P("crowding", 0.1, -0.5, 0.5, "elasticity", "donors' response to an SO's government share of revenue: crowd-in (+, a quality signal: Heutel 2014) or crowd-out (-, Andreoni & Payne 2011); the sign is uncertain", True),
    _P("donor_pool", 10, 2, 60, "yuan per resident per year", "what local firms and donors give community causes through SOs: Yuhuatai linked >30M yuan of corporate money (seed 001), ~10 yuan per resident a year if over its ~6 years, ~60 if in one; national giving ~108 yuan per person in 2019 (China Charity Alliance), mostly not to community SOs", True),
    _P("donor_reach_base", 0.5, 0.2, 1.0, "share", "share of the district's donors and firms an SO reaches on its own; the information platform (三社联动平台, seed 001: linking firms) reaches them all; assumption"),
    _P("fundraising_cost", 0.2, 0.05, 0.4, "yuan per yuan raised", "cost of raising a yuan (staff time, events); charities' fundraising cost ratios are typically 0.1-0.3; assumption"),
    _P("activity_cost_share", 0.25, 0.05, 0.6, "share of a unit's direct cost", "materials, venues and insurance (活动经费) as a share of a unit's direct cost (real casework's staff time at the local wage plus these costs; 250 yuan at the defaults): the buyer's price counts them (成本核算) and a contract pays them on each unit delivered on it, volunteers' units too; assumption (no seed document splits a unit's cost)", True),
    _P("contract_overhead_share", 0.1, 0.0, 0.2, "share of direct costs", "management fee (管理费) a contract pays its SO on the staff time and activity costs it draws: 财政部《政府购买服务管理办法》(2020) lets purchased-service money pay reasonable management costs but sets no rate, and no seed document gives the figure; assumption", True),
    _P("agency_office_staff", 5, 2, 20, "count", "social workers a professional agency's office is set up for: it shares its rent over their caseload when it reckons whether a lot's price pays its way (成本核算, Girth et al. 2012); small agencies employ a handful to a few dozen staff; assumption", True),
    _P("fee_share", 0.05, 0.0, 0.2, "share", "fees as share of a unit's cost-accounted price (成本核算, costing.unit_price); assumption"),
    _P("capacity_learning", 0.01, 0.0, 0.04, "per month of service", "learning by doing; assumption"),
    _P("learning_full_services", 10, 3, 30, "count", "services a month at which learning by doing is full; assumption"),
    _P("capacity_spread", 0.05, 0.0, 0.15, "sd", "new SOs differ in starting capacity; assumption"),
    _P("capacity_floor_new", 0.02, 0.0, 0.1, "0-1", "lowest starting capacity of a new SO; assumption"),
    _P("capacity_ceiling_new", 0.9, 0.6, 1.0, "0-1", "highest starting capacity of a new SO; assumption"),
    _P("reputation_initial_share", 0.5, 0.2, 1.0, "ratio", "a new SO's standing before any record, × its capacity; assumption"),
    _P("capacity_decay", 0.004, 0.0, 0.02, "per month", "capacity erodes without activity; assumption"),
    _P("training_gain", 0.03, 0.0, 0.08, "per month at full training", "incubator/in-service training (seeds 001, 004)"),
    _P("initial_capacity_community", 0.15, 0.05, 0.30, "0-1", "new community SOs start weak (seed 000)"),
    _P("initial_capacity_professional", 0.40, 0.2, 0.6, "0-1", "new professional agencies; assumption"),
    _P("newness_hazard", 0.009524, 0.0, 0.03, "per month", "liability of newness (Hannan & Carroll 1992; Bielefeld 1994: ~20%/8y); joint calibration (issue 14, docs/validation.md)"),
    _P("newness_months", 36, 12, 72, "months", "age after which newness hazard fades"),
    _P("legitimacy_protection", 0.5, 0.0, 0.9, "share", "registration/incubation cut early death (Singh, Tucker & House 1986)"),
    _P("inactive_months_to_close", 12, 3, 24, "months", "an SO with no members or money closes; assumption"),
    _P("min_members", 5, 2, 15, "count", "members a community SO needs to stay active"),
    _P("cash_months_initial", 3, 0, 12, "months", "starting reserve in months of costs"),
    _P("recruit_disposition_floor", 0.05, 0.0, 0.2, "0-1", "founders recruit the civic-minded first, but anyone may join; assumption"),
    _P("founding_domain_prior", 1.0, 0.1, 10.0, "needs", "founders also follow their own interests: visible needs plus this in every domain; assumption"),
    # --- founding and rating (成立与评级) ----------------------------------------------------
    _P("founding_rate", 0.001946, 0.0005, 0.02, "per active leader-month", "leaders found community SOs (seeds 000, 003, 004); joint calibration (issue 14, docs/validation.md)", True),
    _P("founding_threshold_low_mult", 2.5, 1.0, 5.0, "ratio", "low filing threshold multiplies foundings (seeds 000, 003)"),
    _P("density_legitimation", 3.0, 0.5, 10.0, "SOs per 1,000 residents", "Hannan & Carroll 1992: legitimation"),
    _P("density_competition", 12.0, 4.0, 40.0, "SOs per 1,000 residents", "Hannan & Carroll 1992: competition"),
    _P("space_founding_mult", 1.5, 1.0, 3.0, "ratio", "free space lowers founding cost (seed 001)"),
    _P("open_work_founding_effect", 0.02, 0.0, 0.1, "per yuan per resident-year", "founding rises with last year's community-fund work offered to SOs that they left undone (McPherson 1983: unused resources are niches; Baum & Oliver 1996: resources and institutional linkages open to a population raise foundings); 0.02: 50 yuan per resident a year left undone doubles founding; assumption"),
    _P("professional_entry_rate", 0.02, 0.0, 0.1, "per month", "agencies enter as purchase markets grow (Guangzhou 10→267)"),
    _P("market_per_agency", 300_000, 100_000, 1_000_000, "yuan/year", "purchase money one agency needs to enter"),
    _P("venture_grant", 100_000, 30_000, 300_000, "yuan", "Taicang: 1.5M → 13 projects (seed 004)"),
    _P("rating_4a_threshold", 0.50, 0.40, 0.70, "score", "seed 000: few SOs reach 4A"),
    _P("rating_3a_threshold", 0.35, 0.25, 0.50, "score", "rating rules; assumption"),
    _P("rating_5a_threshold", 0.65, 0.55, 0.85, "score", "rating rules; assumption"),
    _P("rating_weight_capacity", 0.5, 0.3, 0.7, "weight", "MCA assessment (社会组织评估): basic conditions and governance; weights an assumption"),
    _P("rating_weight_reputation", 0.25, 0.1, 0.4, "weight", "MCA assessment: performance and social evaluation (社会评价)"),
    _P("rating_weight_maturity", 0.15, 0.05, 0.3, "weight", "MCA assessment: an established record"),
    _P("rating_weight_certified", 0.1, 0.0, 0.2, "weight", "MCA assessment: professional staff"),
    _P("rating_maturity_months", 60, 24, 120, "months", "age at which the record counts in full; assumption"),
    _P("ties_new_community_so", 0.1, 0.0, 0.5, "0-1", "SOs residents found on their own know few officials; assumption"),
    _P("ties_programme_community_so", 0.2, 0.0, 0.5, "0-1", "SOs founded through an incubator or venture grant are known to the bureau; assumption"),
    _P("ties_new_agency", 0.1, 0.0, 0.4, "0-1", "agencies entering a market know few officials; assumption"),
    _P("ties_seeded_community_so", 0.3, 0.0, 0.6, "0-1", "SOs that predate the policy know the committee; assumption"),
    _P("ties_seeded_agency", 0.6, 0.2, 0.9, "0-1", "incumbent agencies are close to officials (seed 002)"),
    _P("seeded_community_sos_per_1000", 0.41, 0.1, 1.0, "per 1,000 residents", "community SOs an urban community has before the policy, per 1,000 residents: Yuhuatai had under 200 registered SOs in 2013 for ~486,000 residents (seed 001), 0.41 per 1,000; set per resident so that the status quo's density does not hang on how large communities are drawn; range from a quarter of that to about the national density of all registered SOs in 2017 (80.5万 / 13.9亿 = 0.58) with unfiled groups on top (assumption)"),
    _P("seeded_rural_so_share", 0.5, 0.0, 1.0, "multiplier", "a rural community's pre-policy community SOs per resident, as a share of an urban one's (fewer organisers, sparser services); assumption"),
    _P("seeded_extra_members", 2, 0, 10, "count", "members a pre-existing community SO has beyond min_members; assumption"),
    _P("seeded_community_so_age_low", 12, 0, 24, "months", "youngest pre-existing community SO; assumption"),
    _P("seeded_community_so_age_high", 60, 36, 120, "months", "oldest pre-existing community SO (exclusive); assumption"),
    _P("seeded_agencies", 3, 0, 10, "count", "professional agencies in the district before the policy; assumption"),
    _P("seeded_agency_workers", 2, 1, 6, "count", "social workers of each pre-existing agency; assumption"),
    _P("seeded_agency_age_low", 24, 0, 36, "months", "youngest pre-existing agency; assumption"),
    _P("seeded_agency_age_high", 96, 48, 180, "months", "oldest pre-existing agency (exclusive); assumption"),
    _P("seeded_agency_capacity_bonus", 0.1, 0.0, 0.3, "0-1", "pre-existing agencies are more capable than new ones; assumption"),
    _P("seeded_agency_reputation", 0.5, 0.2, 0.8, "0-1", "standing of pre-existing agencies with the bureau (seed 002); assumption"),
    _P("venture_selection_noise", 0.1, 0.0, 0.3, "sd", "idiosyncrasy of programme juries (venture philanthropy, incubator admission) ranking applicants by capacity; assumption"),
    _P("venture_young_months", 36, 12, 60, "months", "age under which an SO counts as young for venture grants; assumption"),
    _P("venture_small_capacity", 0.4, 0.2, 0.6, "0-1", "capacity under which an SO counts as small for venture grants; assumption"),
    _P("incubation_young_months", 24, 6, 48, "months", "age under which a community SO may enter the incubator; assumption"),
    # --- social workers (社工) ----------------------------------------------------------------
    _P("turnover_annual", 0.2081, 0.12, 0.30, "hazard per year at salary index 0.8", "Shenzhen 17.6-22.2%; ~20% elsewhere (leavers a year over staff, a rate: a month's chance is 1 - exp(-hazard/12)); fitted to that figure alone (sanshe calibrate with the sw_turnover target and this constant free, 39 runs), after the joint fit's sparse 6-constant design left it at 0.16 (turnover 0.12), its loss dominated by the volunteering misses; since the hazard is read as a rate the figure is 0.198 at 40 replications (docs/validation.md)", True),
    _P("pay_elasticity_turnover", 1.5, 0.5, 3.0, "elasticity", "pay drives exit (seeds 000, 004)"),
    _P("salary_index_today", 0.8, 0.5, 1.0, "ratio", "social workers' pay today relative to the local wage, where turnover_annual and hire_fill_rate hold (seeds 000, 004: ~3,000 yuan in Shenzhen 2014)"),
    _P("turnover_floor", 0.01, 0.0, 0.05, "per year", "some leave whatever the pay (moves, family); assumption"),
    _P("turnover_ceiling", 0.95, 0.5, 1.0, "per year", "highest annual turnover at very low pay; assumption"),
    _P("pay_elasticity_hiring", 0.5, 0.0, 1.5, "elasticity", "better pay attracts applicants; assumption"),
    _P("training_retention", 0.3, 0.0, 0.6, "share", "training and career paths cut exit (seed 004)"),
    _P("hire_fill_rate", 0.3, 0.1, 0.8, "per month at index 0.8", "vacancies filled per month; assumption"),
    _P("certified_share_new", 0.3, 0.1, 0.6, "share", "certified among new hires; national stats"),
    _P("certification_rate", 0.01, 0.0, 0.05, "per month", "passing the national exam; assumption"),
    _P("certification_support_mult", 3.0, 1.0, 6.0, "ratio", "support multiplies passing (seed 004)"),
    _P("skill_initial", 0.35, 0.2, 0.5, "0-1", "new social workers; assumption"),
    _P("skill_gain_experience", 0.006, 0.0, 0.02, "per month", "learning on the job; assumption"),
    _P("skill_gain_training", 0.01, 0.0, 0.03, "per month at full training", "in-service training (seed 004)"),
    _P("certified_skill_bonus", 0.1, 0.0, 0.2, "0-1", "certificate signals training"),
    _P("sw_quality_weight", 0.5, 0.2, 0.8, "share", "staff skill in service quality vs organisation capacity"),
    # --- group organizations (群团) -----------------------------------------------------------
    _P("group_budget", 2_000, 0, 8_000, "yuan per 1,000 residents per year", "each group organisation's community-project money grows with the district it serves; small, and not assured (seed 000: 经费得不到保障: the range starts at none): one project (group_project_size) a year per 10,000 residents, all eight together ~16 yuan per resident, about a third of the government's (Yuhuatai ~41, seed 001); the upper end is the 64 yuan per resident of the flat 80,000 yuan before issue 14; assumption", True),
    _P("group_project_size", 20_000, 5_000, 50_000, "yuan", "one group-organisation community project (seed 000: small budgets); assumption"),
    _P("union_reach", 0.3, 0.0, 1.0, "share", "seed 000: unions reach communities via enterprises"),
    _P("group_reach_partial", 0.5, 0.1, 1.0, "share", "communities reached by the science association, family-planning association and Red Cross (seed 000: uneven reach); assumption"),
    _P("group_reach_sparse", 0.2, 0.0, 0.6, "share", "communities reached by the Taiwan compatriots' federation (seed 000); assumption"),
    _P("group_mobilisation", 0.06, 0.0, 0.2, "propensity", "group orgs mobilise volunteers (seed 000)"),
    _P("group_mobilisation_scale", 2.0, 1.0, 4.0, "organisations", "group orgs targeting one resident's group: the pull per organisation is group_mobilisation × this / the number of organisations; assumption"),
    _P("cadre_turnover", 0.2, 0.0, 0.5, "per year", "seed 000: cadre turnover"),
    _P("group_project_slots_share", 0.5, 0.2, 1.0, "share", "share of a group org's budget reaching services"),
    # --- participation (参与) -----------------------------------------------------------------
    _P("peer_weight", 0.6, 0.2, 1.0, "score", "Granovetter 1978; Oliver, Marwell & Teixeira 1985", True),
    _P("age_effect_young", -0.15, -0.3, 0.0, "score", "Shanghai: 13.8% of 18-29 vote"),
    _P("age_effect_elderly", 0.15, 0.0, 0.3, "score", "Shanghai: 77.7% of 70-79 vote"),
    _P("trust_weight", 0.2, 0.0, 0.5, "score", "Epstein 2002: legitimacy and engagement"),
    _P("satisfaction_weight_part", 0.15, 0.0, 0.4, "score", "satisfied residents engage; assumption"),
    _P("efficacy_gain", 0.03, 0.0, 0.1, "score per decision", "Choi & Robertson 2014: decisions reward attendance"),
    _P("efficacy_loss", 0.03, 0.0, 0.1, "score per failed meeting", "attenders of a meeting that could not be held for want of a quorum lose efficacy, as those of one that decided gain it (Choi & Robertson 2014; Fischbacher & Gaechter 2010: unrewarded cooperation decays); assumption: as large as the gain", True),
    _P("efficacy_decay", 0.1, 0.02, 0.3, "per month", "Fischbacher & Gaechter 2010: unsupported cooperation decays"),
    _P("points_effect", 0.05, -0.05, 0.15, "score", "volunteer points (积分银行, seed 004) on starting and on staying; Frey & Jegen 2001 vs Fiorillo 2011: rewards may crowd out intrinsic motivation", True),
    _P("points_value", 10.0, 2.0, 30.0, "yuan per volunteer-month", "what a month's volunteer points (积分银行, seed 004) are redeemed for (daily goods, services), paid from the committee's own part of its fund: points are usually earned by the hour (1 point an hour, often worth about 1 yuan), and a volunteer who turns out gives a few hours to a day a month; assumption", True),
    _P("sw_mobilisation", 0.08, 0.0, 0.2, "score at full outreach", "social workers find and train activists (seed 004)"),
    _P("reconsider_rate", 0.25, 0.05, 0.6, "per month", "residents revisit participation; inertia"),
    _P("membership_attachment", 0.3, 0.0, 0.6, "score", "members stay in groups they belong to (sunk ties); assumption"),
    _P("idle_member_cost", 0.3, 0.0, 1.0, "score", "a member whose group has nothing for her to do weighs leaving, and a recruit joining (volunteers not given meaningful work do not stay: Hager & Brudney 2004, Eisner et al. 2009; groups compete for members' time: McPherson et al. 1992); at the default a wholly idle group cancels membership_attachment; assumption", True),
    _P("choice_noise", 0.1, 0.02, 0.3, "sd", "idiosyncratic shocks to participation"),
    _P("volunteer_supervision", 0.02, 0.005, 0.045, "coordinator-months per volunteer-month", "recruiting, scheduling, training and thanking a volunteer takes organisers' time (~3-4 hours a month; 社工+义工, seed 004); the time is taken from casework; assumption", True),
    _P("volunteer_occasion_cost", 0.3645, 0.0, 0.4, "score", "turning out for a dated volunteering occasion (活动: 2-4 hours on a set day, seed 004's 社区志愿活动) weighs against the month's other calls on one's time, beyond the willingness to join a team (登记/注册) that the threshold stands for; set like a meeting's extra cost (deliberation_extra_threshold: a meeting is also a dated occasion); registered ≫ active (Ningbo 2022: ~4 hours a year per registered volunteer, MODEL.md) says most registered volunteers do not turn out in a month, not by how much; default from the joint calibration to Ningbo's months per registered volunteer (issue 14, docs/validation.md)", True),
    _P("volunteer_availability", 0.6415, 0.2, 1.0, "probability per registered volunteer-month", "a registered volunteer is free for a dated occasion (活动, on a set day) in some months and not in others (shifts, overtime, family care, travel): a circumstance of the month, drawn afresh each month and apart from her lasting pull; episodic volunteers fit volunteering around such commitments (Macduff 2005; Cnaan & Handy 2005; Handy, Brodeur & Cnaan 2006) and volunteering grows intermittent (reflexive volunteering: Hustinx & Lammertyn 2003), but none gives a monthly share (1 = always free, the rule off); default from the joint calibration, with volunteer_occasion_cost, to Ningbo's months per registered volunteer (issue 14, docs/validation.md)", True),
    _P("household_size", 2.62, 2.3, 3.1, "residents per household", "China 2020 census: 2.62 persons per household (urban lower, rural higher)"),
    _P("households_per_group", 40, 15, 80, "households", "a residents' group (居民小组) is a building or courtyard (楼栋, 院落: seed 001's 立足小区院落与楼栋); 城市居民委员会组织法 sets committees at 100-700 households but not the group size; assumption", True),
    _P("representatives_per_group", 2.5, 2, 3, "representatives", "城市居民委员会组织法 (2018) art. 9: each residents' group may elect two to three representatives"),
    _P("deliberation_extra_threshold", 0.2, 0.0, 0.4, "score", "meetings cost more than volunteering"),
    _P("convening_pull", 0.1, 0.0, 0.3, "score", "a personal visit before the meeting (召集, 入户动员: the committee convenes the residents' meeting, 城市居民委员会组织法 art. 9) draws a representative who stayed away; being asked in person is the strongest predictor of taking part (Verba, Schlozman & Brady 1995), door-to-door canvassing raised turnout by about 9 points (Gerber & Green 2000); size in this score uncertain", True),
    _P("convening_visit_time", 0.012, 0.006, 0.03, "coordinator-months per visit", "a home visit with its travel and follow-up takes about two hours of a 165-hour month; taken from the staff's coordination of volunteers; assumption", True),
    # --- satisfaction and trust (满意与信任) ---------------------------------------------------
    _P("service_relief", 0.4, 0.0, 0.8, "0-1", "a met need is worth something whatever its quality; assumption"),
    _P("satisfaction_learning", 0.3, 0.05, 0.6, "weight per experience", "satisfaction moves toward its judgement of each experience (a met or a lapsed need)"),
    _P("disconfirmation_weight", 1.5, 1.0, 2.5, "per unit above expectation", "Oliver 1980 (J. Marketing Research 17(4)): satisfaction = expectation level + disconfirmation; 1 = level only, more = the comparison counts more; assumption", True),
    _P("expectation_adaptation", 0.1, 0.02, 0.3, "weight per experience", "the reference point moves toward experienced service (adaptation level: Helson 1964; hedonic adaptation: Frederick & Loewenstein 1999); assumption", True),
    _P("trust_learning", 0.15, 0.02, 0.4, "weight", "trust moves toward received quality"),
    _P("unmet_penalty", 0.1, 0.0, 0.3, "trust lost per lapsed expressed need", "grievance (Epstein 2002)"),
    _P("landing_trust_gain", 0.004, 0.0, 0.02, "per month", "at full visibility of SOs' open activities in the community under the landing priority (seed 001)"),
    _P("landing_activity_reach", 30, 10, 100, "residents per slot", "residents an SO's open activity in the community reaches (sees it at work) per slot of its unused service time; a slot is a twelfth of a social worker's month (slots_per_sw), about 14 hours with preparation, and a community event of that size draws tens of residents; assumption", True),
    # --- community affairs (社区事务, the 622 rule) ----------------------------------------------
    _P("affairs_per_1000", 4, 1, 15, "per 1000 residents-month", "parking, pets, environment (seeds 001, 002)"),
    _P("deliberable_share", 0.75, 0.5, 0.9, "share", "public affairs fit for residents' decision (seed 001)"),
    _P("quorum_share", 0.5, 0.5, 0.67, "share of representatives present", "城市居民委员会组织法 (2018) art. 9: a residents' meeting of group representatives is held only when more than half of them attend (居民小组选举的代表的过半数出席); 村民委员会组织法 art. 26 asks two thirds of a villagers' representatives' meeting"),
    _P("affair_so_slots", 1.0, 0.5, 3.0, "service slots a matter", "an SO settles a service matter the committee passes on (a family's care, a dispute to mediate: seed 001's 个性化专业服务) with the service time its month left unused, about one resident's service for a month (a rule: a matter is a case, like a need met); half a slot (a phone call) to three (a mediation over several visits); assumption", True),
    _P("so_public_affair_share", 0.15, 0.0, 0.4, "share", "public matters no meeting decided that the committee passes to SOs (with or without a platform), settled where SOs have time left; assumption"),
    _P("online_use_share", 0.5, 0.0, 0.9, "share of residents under 60", "residents under 60 on their community's online platform (掌上社区APP, community or building WeChat group: seed 001's 线上协商); CNNIC 49th report (2022): internet use 73% of all residents, 97.5% of users on instant messaging, so most adults under 60 could be; how many are on the community's platform has no national figure (from none, an app nobody installed, to most); assumption", True),
    _P("online_use_elderly", 0.2, 0.0, 0.43, "share of residents 60+", "CNNIC 49th report (2022): 43.2% of those aged 60+ use the internet (the high end), and 46.2% of them can look up information on their own: 0.43 × 0.46 ≈ 0.2; assumption", True),
    _P("online_post_ease", 0.3, 0.0, 0.6, "score", "posting one's own matter on the platform (minutes, no date, no standing commitment) asks less than the threshold for joining in (a team, a meeting); by how much nobody has measured: mid-range of 0 (as hard as registering) to 0.6 (most users); assumption", True),
    _P("community_workers_per_10k", 12, 6, 18, "per 10,000 residents", "社区工作者, the residents' committee's paid staff (in every scenario; not a 三社联动 lever): a worker per ~300 households (786 residents at 2.62 a household) is a common staffing rule; the national 14th five-year plan for community services (2021) sets 18 per 10,000 urban residents as its 2025 target, above the 2014-2016 Yuhuatai years; assumption", True),
    _P("community_worker_outreach_share", 0.1, 0.03, 0.3, "share of a worker's month", "community workers' time for 民情大走访, 网格化管理 and convening meetings (seed 001); most of their month goes to administrative tasks passed down to the committee (the 社区减负 campaigns since 2015 aim to cut them) and to counter services; half a day a week as default; assumption", True),
    _P("agenda_visit_share", 0.2, 0.05, 0.4, "share of staff time", "民情大走访 (seed 001): station staff spend part of their month visiting households to gather residents' concerns, taken from coordinating volunteers; one day a week as default; assumption", True),
    _P("contact_ease", 0.3, 0.0, 0.6, "score", "after a visit, passing one's matter on to the worker who called (a call or a WeChat message to someone one has met, 民情联系卡) asks less than the threshold for joining in, as a post does (online_post_ease); by how much nobody has measured: the same mid-range of 0 (as hard as registering) to 0.6 (most residents); assumption", True),
    _P("visit_contact_months", 12, 3, 24, "months", "after a visit the household can reach the worker who called (民情联系卡, her WeChat), and a resident passes her matter on when willing to speak up (contact_ease); a yearly round of 民情大走访 as default; assumption", True),
)

PARAMETERS: dict[str, Parameter] = {p.name: p for p in TABLE}


def defaults() -> dict[str, float]:
    """Every behavioural constant at its default value."""
    return {p.name: p.default for p in TABLE}


def most_uncertain() -> list[Parameter]:
    """The constants flagged as most uncertain (robustness checks use them)."""
    return [p for p in TABLE if p.uncertain]
