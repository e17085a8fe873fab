"""The policy levers as people see them: Chinese and English labels, groups and units.

One place for the words the dashboard's sliders, the discovery report's boxes and other
views use for a lever (STYLE.md: defaults and labels live in one place); the schema
(:mod:`sanshe.inputs.schema`) holds the ranges and defaults.
"""

from __future__ import annotations

#: The policy groups, in the page's order: key prefix, Chinese, English heading.
GROUPS: tuple[tuple[str, str, str], ...] = (
    ("policy.purchase", "政府购买服务", "Purchase of services"),
    ("policy.incubation", "孵化培育", "Incubation"),
    ("policy.four_priorities", "四个优先", "Four priorities"),
    ("policy.linkage", "三社联动", "Linkage"),
    ("policy.community", "社区", "Community"),
    ("policy.social_work", "社会工作", "Social work"),
)

#: The levers on the page, policy group by policy group: dotted key, Chinese and English
#: label, and the unit its value is shown in (a key of :data:`UNITS`; "" for a switch or a
#: choice, which show their own state).
LEVERS: tuple[tuple[str, str, str, str], ...] = (
    ("policy.purchase.annual_budget", "购买服务预算", "Purchase budget", "yuan_year"),
    ("policy.purchase.mode", "采购方式", "Procurement mode", ""),
    ("policy.purchase.third_party_evaluation", "第三方评估", "Third-party evaluation", ""),
    ("policy.purchase.satisfaction_weight", "评估中满意度权重", "Satisfaction weight", "score"),
    (
        "policy.purchase.venture_philanthropy_budget",
        "公益创投",
        "Venture philanthropy",
        "yuan_year",
    ),
    ("policy.incubation.enabled", "孵化基地", "Incubator", ""),
    ("policy.incubation.places", "孵化名额", "Incubator places", "places"),
    ("policy.incubation.training", "孵化培训强度", "Incubation training", "intensity"),
    ("policy.incubation.registration_threshold", "登记备案门槛", "Registration threshold", ""),
    ("policy.four_priorities.resources", "资源优先", "Priority: resources", ""),
    ("policy.four_priorities.services", "服务优先", "Priority: services", ""),
    ("policy.four_priorities.landing", "落地优先", "Priority: landing", ""),
    ("policy.four_priorities.projects", "项目优先", "Priority: projects", ""),
    ("policy.linkage.mode", "联动模式", "Linkage mode", ""),
    ("policy.linkage.info_platform", "信息平台", "Information platform", ""),
    ("policy.linkage.group_coordination", "群团协同", "Group-organization coordination", ""),
    (
        "policy.community.service_fund",
        "社区服务资金",
        "Community service fund",
        "yuan_year_community",
    ),
    ("policy.community.deliberation", "议事协商平台", "Deliberation platform", ""),
    ("policy.community.volunteer_points", "志愿积分", "Volunteer points", ""),
    ("policy.social_work.salary_index", "社工薪酬", "Social-worker pay", "wage"),
    ("policy.social_work.posts_per_community", "社工岗位", "Social-work posts", "posts"),
)

#: The words of a choice lever's values (the schema's choices), Chinese and English.
CHOICE_WORDS: dict[str, tuple[str, str]] = {
    "competitive": ("公开竞争", "competitive bidding"),
    "directed": ("定向委托", "directed (entrusted)"),
    "mixed": ("混合", "mixed"),
    "low": ("低(降低准入门槛)", "low"),
    "high": ("高", "high"),
    "demand_driven": ("需求导向", "demand-driven"),
    "government_led": ("政府主导", "government-led"),
    "project_led": ("项目主导", "project-led"),
}
