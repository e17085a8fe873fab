"""The comparison report: a directory a policymaker can open, quote and forward.

``results/<experiment>/`` gets ``report.html`` (self-contained: figures embedded),
``report.md`` (figures linked), the PNG figures, ``table.csv`` (the key table as numbers),
``runs.csv`` (every finished run's final outcomes) and, when runs failed,
``failures.csv``. Both reports are built from the same pieces, and the key table is the
one the console prints (:func:`sanshe.reporting.tables.table_rows`); the HTML page is
rendered from sanshe/reporting/templates/report.html.j2 (:mod:`sanshe.reporting.pages`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sanshe.inputs.outcomes import FINAL_WINDOW, describe
from sanshe.reporting import pages, plotting
from sanshe.reporting.conclusions import meaning, warnings_for
from sanshe.reporting.provider_mix import explain_quality
from sanshe.reporting.stats import METHOD
from sanshe.reporting.sustainability import WORDS, section
from sanshe.reporting.tables import describe_difference, format_setting, format_value, table_rows

if TYPE_CHECKING:
    from sanshe.experiments.comparison import Comparison

#: Figure files, in report order.
FIGURES = ("trajectories", "finals", "coverage_groups", "so_dynamics", "affairs_622")

TEXT = {
    "en": {
        "title": "Scenario comparison",
        "generated": "Generated {when} by sanshe {version} (code commit {commit}).",
        "design": (
            "{scenarios} scenarios × {replications} replications, {months} months each, "
            "master seed {seed}. Common random numbers: replication r uses the same "
            "seed in every scenario. Runs finished: {finished}; failed: {failed}."
        ),
        "scale": "District: {size}. Government spending per resident in the final year: {money}.",
        "scenarios": "Scenarios",
        "compared": "What was compared",
        "levers": "Settings that differ between the scenarios ({arrow}):",
        "no_levers": "The scenarios have identical settings.",
        "same_start": "The scenarios start with identical settings; their timelines differ:",
        "common": "Applied to every scenario (--set):",
        "timeline": "Policies that change over time ([[timeline]]; dashed lines in the figures):",
        "key": "Key outcomes",
        "key_note": (
            "Mean over replications with its {method}. The difference from {ref} pairs "
            "the runs of each replication (same seed), with its own 95% CI and a paired "
            "t-test p-value. Each outcome's unit is under its name; shares are in %, their "
            "differences in percentage points (pp). Spending per resident is the final "
            "year's spending over the district's residents; total spending adds group "
            "organizations' spending and non-government funds to the government's. Final "
            "values: rates are means of the last {window} months, flows sums over the last "
            "{window} months (a year), stocks the last month's value."
        ),
        "warnings": "Warnings",
        "meaning": "What this means",
        "meaning_note": (
            "Credible: the paired 95% CI of the difference excludes zero. Cost: the "
            "difference in government spending per resident over the difference in the "
            "outcome, given when both are credible."
        ),
        "figures": "Figures",
        "failures": "Failed runs",
        "failures_note": "Their full tracebacks are in failures.csv and the results database.",
        "files": "Files: runs.csv (every run's final outcomes), table.csv (this table in numbers).",
        "reading": "Reading this report",
        "reading_text": (
            "A difference is credible when its 95% CI excludes zero (equivalently p < 0.05). "
            "The paired difference is tighter than the two scenarios' own intervals because "
            "both scenarios meet the same random draws in each replication. With few "
            "replications, intervals are wide: rerun with more (--replications) before "
            "quoting a small effect. These are model results under stated assumptions "
            "(docs/ODD.md), not forecasts. Levels (how many take part, how many needs are "
            "met) follow money per resident, shown in the key table: the sources' districts "
            "put about 40-50 yuan per resident a year through their funds (Yuhuatai: 20 M "
            "yuan for 486,000 residents), so read the levels of scenarios far above that as "
            "illustrative and their differences as the result. Cost per need met divides all "
            "government and group spending by all needs met, most of them by community SOs' "
            "own activity; the purchase cost per need met (the last row, where purchase met "
            "any need) divides what SOs drew from purchase contracts by the needs those "
            "contracts met."
        ),
        "captions": {
            "trajectories": "Key outcomes month by month: mean over replications, band = 95% CI.",
            "finals": "Final values of the key outcomes and spending per resident: mean with "
            "95% CI error bars, in the table's units.",
            "coverage_groups": "Need coverage of each special group at the end of the run.",
            "so_dynamics": "Social-organization population: count, births, closures, 4A+ rated.",
            "affairs_622": "How community affairs are settled: deliberation, SO services, "
            "referral upward (the 6-2-2 target split).",
        },
    },
    "zh": {
        "title": "情景比较",
        "generated": "生成时间 {when},sanshe {version}(代码提交 {commit})。",
        "design": (
            "{scenarios} 个情景 × {replications} 次重复,每次 {months} 个月,主随机种子 "
            "{seed}。共同随机数:第 r 次重复在每个情景中使用相同的种子。"
            "完成 {finished} 次,失败 {failed} 次。"
        ),
        "scale": "辖区:{size}。最后一年人均政府支出:{money}。",
        "scenarios": "情景",
        "compared": "比较的内容",
        "levers": "各情景之间不同的设置({arrow}):",
        "no_levers": "各情景的设置完全相同。",
        "same_start": "各情景的初始设置相同,但时间表不同:",
        "common": "对所有情景统一修改(--set):",
        "timeline": "随时间变化的政策([[timeline]];图中虚线为变化月份):",
        "key": "主要结果",
        "key_note": (
            "各次重复的均值及其{method}。与 {ref} 之差按重复配对(相同种子),"
            "附95%置信区间和配对t检验p值。各指标的单位写在名称下方;比例以%表示,其差以"
            "百分点(pp)表示。人均支出为最后一年的支出除以辖区居民数;总支出为政府支出、"
            "群团组织支出与撬动的社会资金之和。"
            "期末值:比率取最后 {window} 个月均值,流量取最后 {window} 个月之和(一年),"
            "存量取最后一个月的值。"
        ),
        "warnings": "提示",
        "meaning": "结论",
        "meaning_note": (
            "可信:差值的配对95%置信区间不包含0。成本:人均政府支出之差除以该指标之差,"
            "仅在两者都可信时给出。"
        ),
        "figures": "图表",
        "failures": "失败的运行",
        "failures_note": "完整的错误信息见 failures.csv 和结果数据库。",
        "files": "文件:runs.csv(每次运行的期末结果),table.csv(本表的数值)。",
        "reading": "如何阅读本报告",
        "reading_text": (
            "若差值的95%置信区间不包含0(即 p < 0.05),该差异可信。由于每次重复中两个情景面对"
            "相同的随机抽样,配对差值的区间比各情景自身的区间更窄。重复次数少时区间较宽:"
            "引用较小的效应前请增加重复次数(--replications)。这些是在既定假设下的模型结果"
            "(见 docs/ODD.md),不是预测。"
            "参与率、需求满足率等水平值取决于主要结果表中的人均资金:资料中的辖区通过各项资金"
            "约每人每年40–50元(雨花台区:2000万元,48.6万居民),远高于此的情景其水平值仅作示意,"
            "情景之间的差异才是结论。每满足一项需求成本以全部政府和群团支出除以全部满足的需求,"
            "其中大多由社区社会组织自身活动满足;购买服务每满足一项需求成本(表格最后一行,"
            "仅在购买服务满足过需求时显示)以社会组织从购买合同中支取的资金除以这些合同满足的需求。"
        ),
        "captions": {
            "trajectories": "主要指标的逐月变化:各次重复的均值,阴影为95%置信区间。",
            "finals": "主要指标与人均支出的期末值:均值与95%置信区间,单位与表格相同。",
            "coverage_groups": "期末各特殊群体的需求满足率。",
            "so_dynamics": "社会组织生态:数量、新成立、注销、4A及以上。",
            "affairs_622": "社区事务的解决方式:议事协商、社会组织服务、上报转介(622结构)。",
        },
    },
}


def write_report(comparison: Comparison, out: Path, lang: str = "en") -> Path:
    """Write every report file of ``comparison`` into ``out``; the path of report.html."""
    lang = plotting.resolve_lang(lang)
    out.mkdir(parents=True, exist_ok=True)
    table = comparison.table(lang)
    table.to_csv(out / "table.csv", index=False)
    comparison.runs.to_csv(out / "runs.csv", index=False)
    failures_csv = out / "failures.csv"
    if comparison.failed:
        comparison.failures[["key", "scenario", "replication", "seed", "error"]].to_csv(
            failures_csv, index=False
        )
    elif failures_csv.exists():
        failures_csv.unlink()  # a resumed experiment whose failures were retried
    figures = comparison.figures(lang)
    for stem, figure in figures.items():
        with plotting.style(lang):
            figure.savefig(out / f"{stem}.png", pil_kwargs={"compress_level": 4})
    parts = _parts(comparison, table, lang)
    (out / "report.md").write_text(_markdown(parts), encoding="utf-8")
    page = out / "report.html"
    page.write_text(_html(parts, out), encoding="utf-8")
    return page


def _parts(comparison: Comparison, table: Any, lang: str) -> dict[str, Any]:
    """The content both reports render: text, table rows, lever list, failures."""
    text = TEXT[lang]
    runs = comparison.runs
    spec = comparison.spec
    months = sorted(set((spec.get("months") or {}).values())) or sorted(set(runs.months))
    headers, rows, starts = table_rows(table, lang)
    arrow = (
        " → ".join(comparison.scenarios)
        if len(comparison.scenarios) == 2
        else ", ".join(comparison.scenarios)
    )
    common = [
        f"{key} = {format_setting(value)}"
        for key, value in sorted((spec.get("overrides") or {}).items())
    ]
    scenarios = []
    for name in comparison.scenarios:
        meta = comparison.parameters.get(name, {}).get("scenario", {})
        scenarios.append((name, meta.get("title", ""), meta.get("description", "")))
    failures = [(r.key, _last_line(r.error)) for r in comparison.failures.itertuples()]
    return {
        "lang": lang,
        "text": text,
        "name": comparison.name,
        "generated": text["generated"].format(
            when=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            version=_distinct(runs.get("version")),
            commit=_distinct(runs.get("git_commit")),
        ),
        "scale": text["scale"].format(size=_size(comparison, lang),
                                      money=_money_per_resident(table, lang)),
        "design": text["design"].format(
            scenarios=len(comparison.scenarios),
            replications=comparison.replications,
            months="/".join(str(m) for m in months),
            seed=spec.get("seed", "?"),
            finished=len(runs),
            failed=comparison.failed,
        ),
        "scenarios": scenarios,
        "levers": [describe_difference(d) for d in comparison.differences()],
        "levers_intro": text["levers"].format(arrow=arrow),
        "common": common,
        "timelines": [(name, [change.describe(lang) for change in changes])
                      for name, changes in comparison.timelines().items() if changes],
        "sustained": section(comparison, lang),
        "key_note": text["key_note"].format(
            ref=comparison.scenarios[0], window=FINAL_WINDOW, method=METHOD[lang]
        ),
        "warnings": warnings_for(comparison, table, lang),
        "meaning": meaning(table, lang),
        "quality": explain_quality(comparison, table, lang),
        "headers": headers,
        "rows": rows,
        "starts": starts,
        "significant": [
            (r.p_value < 0.05) if r.p_value == r.p_value else False for r in table.itertuples()
        ],
        "failures": failures,
    }


def _residents(district: dict[str, Any]) -> tuple[int, int]:
    """Communities and residents per community of a scenario's district."""
    communities = int(district.get("streets", 0)) * int(district.get("communities_per_street", 0))
    return communities, int(district.get("residents_per_community", 0))


def _size(comparison: Comparison, lang: str) -> str:
    sizes = {_residents(comparison.parameters.get(n, {}).get("district", {}))
             for n in comparison.scenarios}
    unit = "{c} 个社区 × {r:,} 名居民" if lang == "zh" else "{c} communities × {r:,} residents"
    return "; ".join(unit.format(c=c, r=r) for c, r in sorted(sizes))


def _money_per_resident(table: Any, lang: str) -> str:
    """Government spending per resident in the final year, per scenario (the table's row)."""
    rows = table[table.outcome == "gov_spending_per_resident"]
    unit = describe("gov_spending_per_resident").unit_label(lang)
    parts = [f"{r.scenario} {format_value(r.mean, 'yuan')}" for r in rows.itertuples()
             if r.mean == r.mean]
    return (", ".join(parts) + f" ({unit})") if parts else "—"


def _distinct(values: Any) -> str:
    if values is None:
        return "unknown"
    found = sorted({str(v) for v in values if v is not None and v == v})
    if not found:
        return "unknown"
    return ", ".join(v[:12] + ("-dirty" if v.endswith("-dirty") else "") for v in found)


def _last_line(error: Any) -> str:
    lines = [line for line in str(error or "").strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else ""


# --- markdown ---------------------------------------------------------------------------
def _markdown(p: dict[str, Any]) -> str:
    t = p["text"]
    out = [
        f"# {t['title']}: {p['name']}",
        "",
        p["generated"],
        "",
        p["design"],
        "",
        p["scale"],
        "",
    ]
    out += _md_front(p)
    out += [f"## {t['scenarios']}", ""]
    out += [
        f"- **{n}** — {title}" + (f": {desc}" if desc else "") for n, title, desc in p["scenarios"]
    ]
    out += ["", f"## {t['compared']}", ""]
    if p["levers"]:
        out += [p["levers_intro"], ""] + [f"- {_md_lever(line)}" for line in p["levers"]]
    elif not p["timelines"]:
        out.append(t["no_levers"])
    if p["common"]:
        out += ["", t["common"], ""] + [f"- `{c}`" for c in p["common"]]
    if p["timelines"]:
        out += ["", t["timeline" if p["levers"] else "same_start"], ""]
        for name, changes in p["timelines"]:
            out += [f"- **{name}**: " + "; ".join(_md_escape(c) for c in changes)]
    out += [
        "",
        f"## {t['key']}",
        "",
        _md_table(p["headers"], p["rows"], p["significant"], p["starts"]),
        "",
        p["key_note"],
        "",
        t["files"],
        "",
    ]
    out += _md_sustained(p)
    if p["failures"]:
        out += [f"## {t['failures']} ({len(p['failures'])})", ""]
        out += [f"- `{key}`: {_md_escape(err)}" for key, err in p["failures"]]
        out += ["", t["failures_note"], ""]
    out += [f"## {t['figures']}", ""]
    for stem in FIGURES:
        caption = t["captions"][stem]
        out += [f"![{caption}]({stem}.png)", "", f"*{caption}*", ""]
    out += [f"## {t['reading']}", "", t["reading_text"], ""]
    return "\n".join(out)


def _md_sustained(p: dict[str, Any]) -> list[str]:
    """After a timeline's first change: what is kept (sanshe/reporting/sustainability.py)."""
    out = [f"## {WORDS[p['lang']]['title']}", ""] if p["sustained"] else []
    for part in p["sustained"]:
        out += [f"{_md_escape(text)}\n" for text in part["text"]]
        if part["rows"]:
            out += [_md_plain_table(part["headers"], part["rows"]), ""]
    return out


def _md_front(p: dict[str, Any]) -> list[str]:
    """Warnings, then what the comparison means and why service quality moved."""
    t, out = p["text"], []
    if p["warnings"]:
        out += [f"## {t['warnings']}", ""] + [f"- {_md_escape(w)}" for w in p["warnings"]] + [""]
    if p["meaning"]:
        out += [f"## {t['meaning']}", ""]
        for heading, sentences in p["meaning"]:
            out += [f"**{heading}**", ""] + [f"- {_md_escape(s)}" for s in sentences] + [""]
        out += [f"*{t['meaning_note']}*", ""]
    for story in p["quality"]:
        out += [f"### {story.heading}", ""]
        for paragraph in story.text:
            out += [_md_escape(paragraph), ""]
        out += [_md_plain_table(story.headers, story.rows), ""]
    return out


def _md_plain_table(headers: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("*", "\\*")


def _md_lever(line: str) -> str:
    key, _, rest = line.partition(": ")
    return f"`{key}`: {_md_escape(rest)}"


def _md_table(
    headers: list[str], rows: list[list[str]], bold: list[bool], starts: list[bool]
) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    for row, strong, start in zip(rows, bold, starts, strict=True):
        cells = [c.replace("|", "\\|") for c in row]
        if start:
            cells[0] = f"**{cells[0]}**"
        if strong:
            cells[3], cells[4] = f"**{cells[3]}**", f"**{cells[4]}**"
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


# --- html (sanshe/reporting/templates/report.html.j2) ------------------------------------
def _html(p: dict[str, Any], out: Path) -> str:
    """The self-contained HTML page of the report's parts (figures read from ``out``)."""
    return pages.render(
        "report.html.j2",
        lang=p["lang"],
        title=f"{p['text']['title']}: {p['name']}",
        t=p["text"],
        p=p,
        levers=[line.partition(": ")[::2] for line in p["levers"]],
        key_rows=list(zip(p["rows"], p["significant"], p["starts"], strict=True)),
        sustained_title=WORDS[p["lang"]]["title"],
        figures=FIGURES,
        out=out,
    )


def html_table(
    headers: list[str], rows: list[list[str]], bold: list[bool], starts: list[bool]
) -> str:
    """The key table as HTML; ``bold`` marks significant rows, ``starts`` each outcome's first."""
    return pages.render(
        "key_table.html.j2", headers=headers, key_rows=list(zip(rows, bold, starts, strict=True))
    )


__all__ = ["FIGURES", "write_report"]
