"""Who delivers the services, at what quality (服务供给结构): why mean quality moves.

Mean service quality averages every service delivered, whoever delivered it, so it moves
with the mix of providers as well as with their quality. A package that founds many small
community SOs (whose quality follows their low capacity) can lower the mean while every
kind of provider does as well as before or better. To tell the two apart, this module
reruns one replication of two scenarios with their stored seed (a run is a pure function
of scenario and seed), records each month's services by kind of provider, and splits the
difference of the mean into a *mix* part (shares of services moved between kinds) and a
*within* part (quality changed within each kind), weighting each part by the average of
the two scenarios so that neither is favoured (a symmetric shift-share decomposition):

    Δq = Σ_k (s'_k − s_k)·(q̄_k − c)  +  Σ_k s̄_k·(q'_k − q_k)

with s a kind's share of services, q its quality, q̄_k and s̄_k their averages over the two
scenarios and c the average of the two means (so more services from a kind below the mean
lower it). A kind missing from one scenario takes its quality from the other. The quality
is the one offered (before the small personal noise of each service), pooled over the last
12 months of the replications rerun.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sanshe.inputs.errors import InputError
from sanshe.inputs.outcomes import FINAL_WINDOW
from sanshe.inputs.scenario import Scenario
from sanshe.sim.agents.group_org import GroupOrganization
from sanshe.sim.agents.social_worker import SocialWorker
from sanshe.sim.model import CommunityGovernanceModel

if TYPE_CHECKING:
    from sanshe.experiments.comparison import Comparison

#: Kinds of provider, with their labels (English, Chinese).
PROVIDERS: dict[str, tuple[str, str]] = {
    "professional_so": ("professional SOs", "专业社会组织"),
    "community_so_contract": ("community SOs under contract", "社区社会组织(承接合同)"),
    "community_so_own": ("community SOs' own activities", "社区社会组织(自主活动)"),
    "committee": ("residents' committees", "居委会"),
    "social_worker": ("committee social workers", "社区社工"),
    "group_org": ("group organizations", "群团组织"),
}


def provider_kind(provider: object) -> str:
    """The kind of one offer's provider (see :data:`PROVIDERS`)."""
    if isinstance(provider, tuple):  # (SO, contract or None, on spec, charged)
        so, contract = provider[0], provider[1]
        if not so.is_community:
            return "professional_so"
        return "community_so_own" if contract is None else "community_so_contract"
    if isinstance(provider, SocialWorker):
        return "social_worker"
    if isinstance(provider, GroupOrganization):
        return "group_org"
    return "committee"


class _RecordingModel(CommunityGovernanceModel):
    """The model, keeping each month's services and quality × services by provider kind."""

    def step(self) -> None:
        super().step()
        offers, delivery = self.offers_this_month, self.delivery_this_month
        kinds = list(PROVIDERS)
        served = np.zeros(len(kinds))
        weighted = np.zeros(len(kinds))
        for provider, used, quality in zip(
            offers.provider, delivery.offer_served, offers.quality, strict=True
        ):
            index = kinds.index(provider_kind(provider))
            served[index] += used
            weighted[index] += used * quality
        if not hasattr(self, "mix_log"):
            self.mix_log: list[tuple[np.ndarray, np.ndarray]] = []
        self.mix_log.append((served, weighted))


def provider_mix(
    parameters: dict[str, Any], seeds: list[int], months: int
) -> tuple[pd.DataFrame, list[float]]:
    """Services per month and their quality by provider kind, last 12 months, pooled.

    One rerun per seed. Also each rerun's final mean service quality, to check that it
    reproduces the stored run.
    """
    served = np.zeros(len(PROVIDERS))
    weighted = np.zeros(len(PROVIDERS))
    finals, count = [], 0
    for seed in seeds:
        model = _RecordingModel(scenario=Scenario.from_dict(parameters), seed=int(seed))
        model.run(int(months))
        for month_served, month_weighted in getattr(model, "mix_log", [])[-FINAL_WINDOW:]:
            served, weighted, count = served + month_served, weighted + month_weighted, count + 1
        quality = model.series()["mean_service_quality"][-FINAL_WINDOW:]
        rated = [q for q in quality if not math.isnan(q)]  # no SO served: undefined
        finals.append(float(np.mean(rated)) if rated else math.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_quality = np.where(served > 0, weighted / served, np.nan)
    frame = pd.DataFrame(
        {"services": served / max(count, 1), "quality": mean_quality}, index=list(PROVIDERS)
    )
    return frame, finals


def decompose(reference: pd.DataFrame, other: pd.DataFrame) -> pd.DataFrame:
    """Symmetric shift-share split of the difference in mean quality, one row per kind.

    Columns: share and quality in each scenario, ``mix`` and ``within`` contributions.
    Their sums equal the difference of the services-weighted means exactly.
    """
    frame = pd.DataFrame(index=list(PROVIDERS))
    frame["share_ref"] = reference.services / reference.services.sum()
    frame["share"] = other.services / other.services.sum()
    frame["quality_ref"] = reference.quality
    frame["quality"] = other.quality
    before = frame.quality_ref.fillna(frame.quality).fillna(0.0)
    after = frame.quality.fillna(frame.quality_ref).fillna(0.0)
    centre = (weighted_mean(reference) + weighted_mean(other)) / 2
    frame["mix"] = (frame.share - frame.share_ref) * ((before + after) / 2 - centre)
    frame["within"] = (frame.share + frame.share_ref) / 2 * (after - before)
    return frame


def weighted_mean(mix: pd.DataFrame) -> float:
    """The services-weighted mean quality of a :func:`provider_mix` frame."""
    used = mix.services > 0
    return float((mix.services[used] * mix.quality[used]).sum() / mix.services[used].sum())


# --- the report's explanation ----------------------------------------------------------
#: At most this many replications are rerun per scenario (each rerun takes seconds).
MAX_RERUNS = 3

TEXT = {
    "en": {
        "heading": "Why mean service quality is lower under {scenario}",
        "lead": (
            "Mean service quality is {diff} lower (0–1 index) under {scenario} than under "
            "{ref}. Rerunning {runs} replication(s) with their seeds, the services of the last "
            "12 months averaged {q_ref} under {ref} and {q} under {scenario} ({dq}): the mix "
            "of providers contributes {mix} and the quality within each kind of provider "
            "{within}, so the fall comes mainly from {main}."
        ),
        "main_mix": "who delivers the services",
        "main_within": "lower quality within kinds of provider",
        "shift": (
            "{kind} deliver {share}% of services instead of {share_ref}%, at quality {q} "
            "({side} the average of {centre})"
        ),
        "above": "above",
        "below": "below",
        "change": "{kind}: quality {q_ref} → {q}",
        "shifts": "The shifts in who delivers that lower the mean most: {items}.",
        "changes": "Within kinds of provider: {items}.",
        "stale": (
            "The reruns do not reproduce the stored runs exactly (the code changed since "
            "they ran): the split describes this code."
        ),
        "headers": ["Provider", "Share of services ({ref} → {scenario}, %)",
                    "Quality ({ref} → {scenario}, index 0–1)", "Mix", "Within"],
    },
    "zh": {
        "heading": "为什么 {scenario} 下平均服务质量较低",
        "lead": (
            "{scenario} 的平均服务质量比 {ref} 低 {diff}(0–1指数)。用原种子重新运行 {runs} "
            "次重复,最后12个月的服务质量均值:{ref} 为 {q_ref},{scenario} 为 {q}({dq});"
            "其中服务提供者构成的变化贡献 {mix},各类提供者自身质量的变化贡献 {within},"
            "因此下降主要来自{main}。"
        ),
        "main_mix": "由谁提供服务的变化",
        "main_within": "各类提供者自身质量的下降",
        "shift": "{kind}提供 {share}% 的服务(原为 {share_ref}%),质量 {q}({side}平均值 {centre})",
        "above": "高于",
        "below": "低于",
        "change": "{kind}:质量 {q_ref} → {q}",
        "shifts": "拉低均值最多的提供者构成变化:{items}。",
        "changes": "各类提供者自身:{items}。",
        "stale": "重新运行的结果与存储的运行不完全一致(代码已修改):此分解反映当前代码。",
        "headers": ["服务提供者", "服务占比({ref} → {scenario},%)",
                    "质量({ref} → {scenario},0–1指数)", "构成效应", "质量效应"],
    },
}


@dataclass(frozen=True)
class QualityStory:
    """The computed explanation of a fall in mean service quality, for the report."""

    heading: str
    text: list[str]
    headers: list[str]
    rows: list[list[str]]


def explain_quality(comparison: Comparison, table: pd.DataFrame, lang: str) -> list[QualityStory]:
    """For each scenario whose mean service quality is below the reference's: why."""
    rows = table[(table.outcome == "mean_service_quality") & (table["diff"] < 0)]
    if rows.empty:
        return []
    reference = comparison.scenarios[0]
    base = _rerun(comparison, reference)
    if base is None:
        return []
    stories = []
    for row in rows.itertuples():
        other = _rerun(comparison, row.scenario)
        if other is not None:
            stories.append(_story(base, other, reference, row.scenario, float(row.diff), lang))
    return stories


def _rerun(comparison: Comparison, scenario: str) -> tuple[pd.DataFrame, bool, int] | None:
    """The provider mix of a scenario's first replications, whether they reproduce, count."""
    parameters = comparison.parameters.get(scenario)
    runs = comparison.runs[comparison.runs.scenario == scenario].sort_values("replication")
    if not parameters or runs.empty:
        return None
    runs = runs.head(MAX_RERUNS)
    try:
        mix, finals = provider_mix(
            parameters, [int(s) for s in runs.seed], int(runs.months.iloc[0])
        )
    except InputError:  # settings this version cannot read: no explanation, not a failure
        return None
    stored = runs.mean_service_quality.to_numpy(dtype=float)
    same = bool(np.allclose(finals, stored, rtol=1e-9, atol=1e-12, equal_nan=True))
    return mix, same, len(runs)


def _story(
    base: tuple[pd.DataFrame, bool, int],
    other: tuple[pd.DataFrame, bool, int],
    reference: str,
    scenario: str,
    diff: float,
    lang: str,
) -> QualityStory:
    words = TEXT[lang]
    split = decompose(base[0], other[0])
    mix, within = float(split.mix.sum()), float(split.within.sum())
    before, after = weighted_mean(base[0]), weighted_mean(other[0])
    names = {"scenario": scenario, "ref": reference}
    text = [
        words["lead"].format(
            diff=f"{abs(diff):.3f}", runs=min(base[2], other[2]), q_ref=f"{before:.3f}",
            q=f"{after:.3f}", dq=f"{after - before:+.3f}", mix=f"{mix:+.3f}",
            within=f"{within:+.3f}",
            main=words["main_mix" if mix < 0 and abs(mix) >= abs(within) else "main_within"],
            **names,
        ),
    ]
    shifts = _shifts(split, (before + after) / 2, lang)
    if shifts:
        text.append(words["shifts"].format(items=_join(shifts, lang)))
    changes = _changes(split, lang)
    if changes:
        text.append(words["changes"].format(items=_join(changes, lang)))
    if not (base[1] and other[1]):
        text.append(words["stale"])
    return QualityStory(
        heading=words["heading"].format(**names),
        text=text,
        headers=[h.format(**names) for h in words["headers"]],
        rows=_rows(split, lang),
    )


def _join(items: list[str], lang: str) -> str:
    return (";" if lang == "zh" else "; ").join(items)


def _label(kind: str, lang: str) -> str:
    return PROVIDERS[kind][lang == "zh"]


def _shifts(split: pd.DataFrame, centre: float, lang: str) -> list[str]:
    """The (at most two) kinds whose change of share lowered the mean most."""
    words = TEXT[lang]
    found = []
    for kind in split[split.mix < 0].mix.sort_values().index[:2]:
        row = split.loc[kind]
        shown = [f"{q:.2f}" for q in (row.quality_ref, row.quality) if math.isfinite(q)]
        quality = float(np.nanmean([row.quality_ref, row.quality]))
        found.append(
            words["shift"].format(
                kind=_label(str(kind), lang), share=f"{row.share * 100:.0f}",
                share_ref=f"{row.share_ref * 100:.0f}", q=" → ".join(shown),
                side=words["above" if quality > centre else "below"], centre=f"{centre:.2f}",
            )
        )
    return found


def _changes(split: pd.DataFrame, lang: str) -> list[str]:
    """Kinds present in both scenarios, with their quality before and after."""
    both = split[(split.share > 0) & (split.share_ref > 0)]
    order = both.within.abs().sort_values(ascending=False).index
    return [
        TEXT[lang]["change"].format(
            kind=_label(k, lang), q_ref=f"{both.quality_ref[k]:.2f}", q=f"{both.quality[k]:.2f}"
        )
        for k in order
    ]


def _rows(split: pd.DataFrame, lang: str) -> list[list[str]]:
    def share(v: float) -> str:
        return f"{v * 100:.1f}" if v > 0 else "–"

    def level(v: float) -> str:
        return f"{v:.3f}" if math.isfinite(v) else "–"

    rows = []
    for kind, row in split.iterrows():
        if row.share <= 0 and row.share_ref <= 0:
            continue
        rows.append([
            _label(str(kind), lang),
            f"{share(row.share_ref)} → {share(row.share)}",
            f"{level(row.quality_ref)} → {level(row.quality)}",
            f"{row.mix:+.3f}",
            f"{row.within:+.3f}",
        ])
    return rows
