"""The interactive page: its parts in Python, and the served page in headless Chromium.

The browser test starts ``python -m sanshe dashboard`` on a free port, loads the page in
Debian's Chromium driven by Playwright (never a downloaded browser) and uses it as a
workshop would: it reads each lever's value and unit, moves a lever, resets, steps, plays,
switches language and scenario, and checks that none of Mesa's generic controls shows and
that no per-community map is drawn before the first month. It is skipped only when
Chromium or Playwright is missing.

``SANSHE_SCREENSHOT=docs/dashboard.png pytest tests/test_dashboard.py -k browser`` also
runs the full package for three years and saves a screenshot of the page there.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("solara")
pytest.importorskip("mesa.visualization")

from sanshe import dashboard  # noqa: E402
from sanshe.inputs.errors import InputError  # noqa: E402
from sanshe.inputs.scenario import Scenario, library_names  # noqa: E402
from sanshe.inputs.schema import BY_KEY  # noqa: E402
from sanshe.ui.cli import main  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("SANSHE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOT_ENV = "SANSHE_SCREENSHOT"

#: Texts of SolaraViz's generic controls and tabs, which mean nothing to an official.
MESA_GENERIC = (
    "Play Interval",
    "Render Interval",
    "Use Threads",
    "Page 0",
    "Model Parameters",
    "Command Console",
    "Step:",
)
SLIDERS = [lever for lever in dashboard.LEVERS if lever[3]]


# --- the page's parts, without a browser -----------------------------------------------
def test_levers_follow_schema_and_scenario():
    """Every control is a schema key, starts at the scenario's value, within schema range."""
    scenario = Scenario.load("full_linkage")
    params = dashboard.model_params("full_linkage", scenario, "en")
    assert params["scenario_name"] == "full_linkage"
    for key, _, _, unit in dashboard.LEVERS:
        setting, control = BY_KEY[key], params[key]
        assert control["value"] == scenario.values[key], key
        if setting.choices:
            assert control["type"] == "Select" and control["values"] == list(setting.choices)
        elif setting.type is bool:
            assert control["type"] == "Checkbox"
        else:
            assert control["min"] == setting.low <= control["value"] <= control["max"], key
            assert control["max"] <= setting.high
            assert control["type"] == ("SliderInt" if setting.type is int else "SliderFloat")
        assert bool(unit) == control["type"].startswith("Slider"), key  # a slider has a unit


def test_slider_steps_land_on_every_library_value():
    """A slider snaps its value to a step as it appears; no library value may move."""
    for name in library_names():
        scenario = Scenario.load(name)
        for key, control in dashboard.model_params(name, scenario, "en").items():
            if isinstance(control, dict) and control["type"].startswith("Slider"):
                steps = (control["value"] - control["min"]) / control["step"]
                assert abs(steps - round(steps)) < 1e-6, (name, key, control)


def test_every_policy_group_has_a_lever_under_its_heading():
    groups = {key.rsplit(".", 1)[0] for key in BY_KEY if key.startswith("policy.")}
    on_page = {key.rsplit(".", 1)[0] for key, *_ in dashboard.LEVERS}
    assert groups == on_page == {prefix for prefix, _, _ in dashboard.GROUPS}


@pytest.mark.parametrize(
    ("key", "value", "en", "zh"),
    [
        ("policy.purchase.annual_budget", 3_000_000.0, "3.0 M yuan / year", "300 万元/年"),
        ("policy.purchase.annual_budget", 1_250_000.0, "1.25 M yuan / year", "125 万元/年"),
        ("policy.purchase.annual_budget", 500_000.0, "500,000 yuan / year", "50 万元/年"),
        ("policy.purchase.satisfaction_weight", 0.4, "40% of the score", "占评分 40%"),
        ("policy.incubation.places", 10, "10 places / year", "10 个/年"),
        (
            "policy.social_work.salary_index",
            1.2,
            "1.20 × local average wage",
            "当地平均工资的 1.20 倍",
        ),
        ("policy.community.service_fund", 0.0, "0 yuan / year per community", "每社区 0 元/年"),
        ("policy.linkage.mode", "demand_driven", "demand-driven", "需求导向"),
        ("policy.community.deliberation", True, "✓", "✓"),
    ],
)
def test_a_lever_value_is_written_with_its_unit(key, value, en, zh):
    assert dashboard.lever_value(key, value, "en") == en
    assert dashboard.lever_value(key, value, "zh") == zh


def test_every_choice_has_words_in_both_languages():
    for key, *_ in dashboard.LEVERS:
        for choice in BY_KEY[key].choices or ():
            assert choice in dashboard.CHOICE_WORDS, (key, choice)


def test_a_slider_round_off_is_not_a_moved_lever():
    """A browser slider steps 0.21 places by 0.01 and may give back 0.21000000000000002:
    the page does not call that a change of the scenario; 0.22 is one."""
    values = dashboard.start_values(
        dashboard.model_params("full_linkage", Scenario.load("full_linkage"), "en"))
    values["policy.incubation.places"] = 0.21 + 2e-17 * 2 ** 3
    assert values["policy.incubation.places"] != 0.21
    model = dashboard.DashboardModel(**values, scenario=object())
    assert model.changed_levers() == []
    model.v["policy.incubation.places"] = 0.22
    assert model.changed_levers() == ["policy.incubation.places"]


def test_the_model_is_built_as_mesas_reset_builds_it():
    """Reset passes every control by name; Mesa >= 3.5 adds a ``scenario`` of its own."""
    values = dashboard.start_values(
        dashboard.model_params("baseline", Scenario.load("baseline"), "zh")
    )
    values["policy.purchase.annual_budget"] = 2_000_000.0
    values["seed"] = "7"
    model = dashboard.DashboardModel(**values, scenario=object())
    assert model.seed == 7
    assert model.v["policy.purchase.annual_budget"] == 2_000_000.0
    assert model.changed_levers() == ["policy.purchase.annual_budget"]
    model.step()
    assert 0 <= model.current["need_coverage"] <= 1
    text = dashboard.status_html(model, "zh")
    assert "月份: 1" in text and "购买服务预算: 200 万元/年 (1 万元/年)" in text


def test_per_community_counts_come_from_the_public_month_record():
    """The page reads what the model publishes each month, not a private method."""
    assert "_measure" not in vars(dashboard.DashboardModel)
    model = dashboard.DashboardModel(scenario_name="full_linkage", seed=1)
    assert np.isnan(model.community_coverage()).all()
    for _ in range(2):
        model.step()
        served, lapsed = model.served_this_month, model.lapsed_this_month
        assert model.community_met[-1].sum() == served.size
        assert model.community_closed[-1].sum() == served.size + lapsed.size
    coverage = model.community_coverage()
    assert coverage.shape == (model.pop.communities,)
    met = np.sum(model.community_met, axis=0)
    closed = np.sum(model.community_closed, axis=0)
    assert np.allclose(coverage[closed > 0], met[closed > 0] / closed[closed > 0])


def test_seed_text_that_is_not_a_number_falls_back_to_the_scenario_seed():
    model = dashboard.DashboardModel(scenario_name="baseline", seed="abc")
    assert model.seed == Scenario.load("baseline").values["run.seed"]
    assert "abc" in dashboard.status_html(model, "en")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_figure_draws_before_and_after_steps(lang):
    model = dashboard.DashboardModel(scenario_name="full_linkage", seed=1)
    for figure in dashboard.FIGURES:
        figure(model, lang)
    for _ in range(3):
        model.step()
    for figure in dashboard.FIGURES:
        assert figure(model, lang).axes


def test_the_community_map_has_a_fixed_labelled_scale():
    """0-100 % in every run and month, labelled, grey where nothing is known yet."""
    model = dashboard.DashboardModel(scenario_name="baseline", seed=1)
    model.step()
    figure = dashboard.communities_figure(model, "en")
    images = [image for ax in figure.axes for image in ax.get_images()]
    assert len(images) == 2
    for image in images:
        assert (image.norm.vmin, image.norm.vmax) == (0, 1)
        red, green, _, _ = image.cmap(0.0)
        assert green > 0.9 and red > 0.9  # low is a pale colour, not a red alarm
    bar = figure.axes[-1]
    assert bar.get_ylabel() == dashboard.TEXT["en"]["community_scale"]
    assert bar.yaxis.get_major_formatter()(1.0, 0) == "100%"
    grey = dashboard.COMMUNITY_COLOURS.get_bad()
    assert np.allclose(grey[:3], grey[0])  # no data: a neutral grey


def test_make_page_rejects_bad_input():
    with pytest.raises(InputError):
        dashboard.make_page("no_such_scenario")
    with pytest.raises(InputError):
        dashboard.make_page("baseline", lang="fr")


def test_a_scenario_file_outside_the_library(tmp_path):
    path = tmp_path / "pilot.toml"
    path.write_text(
        '[scenario]\nname = "pilot"\nextends = "baseline"\n'
        "[policy.community]\ndeliberation = true\n",
        encoding="utf-8",
    )
    assert dashboard.make_page(str(path), lang="zh") is not None
    params = dashboard.model_params(str(path), Scenario.load(path), "en")
    assert params["policy.community.deliberation"]["value"] is True
    model = dashboard.DashboardModel(**dashboard.start_values(params))
    assert model.v["policy.community.deliberation"] is True
    assert "All levers as in the scenario" in dashboard.status_html(model, "en")


def test_command_rejects_unknown_scenario_and_busy_port(capsys):
    assert main(["dashboard", "--scenario", "no_such_scenario"]) == 2
    assert "no_such_scenario" in capsys.readouterr().err
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["dashboard", "--port", str(port)]) == 2
    assert "--port" in capsys.readouterr().err


# --- the page rendered in Python (Solara's widget tree, no browser) ----------------------
def _widgets(widget):
    yield widget
    for child in getattr(widget, "children", None) or []:
        if not isinstance(child, str):
            yield from _widgets(child)


def _texts(widget) -> list[str]:
    """Every text a widget and its children show: labels, values, plain strings."""
    out = []
    for part in _widgets(widget):
        for name in ("label", "v_model", "value", "placeholder"):
            text = getattr(part, name, None)
            if isinstance(text, str) and text != "!!disabled!!":  # ipyvuetify's "unset"
                out.append(text)
        out.extend(c for c in getattr(part, "children", None) or [] if isinstance(c, str))
    return out


def _with_class(root, name: str) -> list:
    def classes(widget) -> list[str]:
        attributes = getattr(widget, "attributes", None) or {}  # solara.HTML's
        return f"{getattr(widget, 'class_', '') or ''} {attributes.get('class', '')}".split()

    return [w for w in _widgets(root) if name in classes(w)]


@pytest.fixture
def rendered():
    """The page for baseline in English, inside Solara's app layout as ``solara run`` shows it."""
    import solara

    @solara.component
    def Served():
        with solara.AppLayout():
            dashboard.make_page("baseline", "en")

    box, context = solara.render(Served(), handle_error=False)
    yield box, context
    context.close()


def test_rendered_page_shows_levers_with_values_and_reset_applies_them(rendered):
    import ipyvuetify as v

    box, context = rendered
    texts = " ".join(_texts(box)).lower()
    for generic in MESA_GENERIC:
        assert generic.lower() not in texts, generic
    values = Scenario.load("baseline").values
    levers = {}
    for lever in _with_class(box, "sanshe-lever"):
        label = next(t for t in _texts(lever) if t)
        levers[label] = lever
    assert set(levers) == {en for _, _, en, _ in dashboard.LEVERS}
    for key, _, label, _ in SLIDERS:
        assert dashboard.lever_value(key, values[key], "en") in _texts(levers[label]), key
    slider = next(w for w in _widgets(levers["Purchase budget"]) if isinstance(w, v.Slider))
    slider.v_model = 2_000_000.0
    budget = next(lv for lv in _with_class(box, "sanshe-lever") if "Purchase budget" in _texts(lv))
    assert "2.0 M yuan / year" in _texts(budget)

    # a switch and a choice, then Reset: the new run has all three levers moved
    for label, value in (("Deliberation platform", True), ("Linkage mode", "demand_driven")):
        kind = v.Checkbox if isinstance(value, bool) else v.Select
        next(w for w in _widgets(levers[label]) if isinstance(w, kind)).v_model = value
    context.find(v.Btn, children=["Reset"]).widget.click()
    (status,) = _with_class(box, "sanshe-status")
    for moved in (
        "Purchase budget: 2.0 M yuan / year (10,000 yuan / year)",
        "Deliberation platform: ✓ (✗)",
        "Linkage mode: demand-driven (government-led)",
    ):
        assert moved in status.unsafe_innerHTML, moved


def test_rendered_page_has_no_map_until_a_month_has_run(rendered):
    import ipyvuetify as v
    import ipywidgets

    box, context = rendered
    (map_view,) = _with_class(box, "sanshe-map")
    assert dashboard.TEXT["en"]["map_waits"] in _texts(map_view)
    assert not [w for w in _widgets(map_view) if isinstance(w, ipywidgets.Image)]
    (status,) = _with_class(box, "sanshe-status")
    assert "Month: 0</b>" in status.unsafe_innerHTML
    context.find(v.Btn, children=["Step"]).widget.click()
    (status,) = _with_class(box, "sanshe-status")
    assert "Month: 1</b>" in status.unsafe_innerHTML
    (map_view,) = _with_class(box, "sanshe-map")
    assert [w for w in _widgets(map_view) if isinstance(w, ipywidgets.Image)]


# --- the served page in headless Chromium --------------------------------------------
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_server(url: str, process: subprocess.Popen, timeout: float = 90.0) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the dashboard exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"the dashboard did not answer at {url} within {timeout:.0f} s")


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """``python -m sanshe dashboard`` on a free port; yields its URL and terminal log."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    pytest.importorskip("playwright.sync_api", reason="the playwright package is missing")
    port = _free_port()
    log = tmp_path_factory.mktemp("dashboard") / "server.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "sanshe", "dashboard", "--port", str(port)],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_for_server(url, process)
        yield url, log
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n--- server log ---\n{log.read_text()}") from None
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def _status(page) -> str:
    return page.locator(".sanshe-status").inner_text()


def _wait_status(page, pattern: str, timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        text = _status(page)
        if re.search(pattern, text):
            return text
        time.sleep(0.2)
    raise AssertionError(f"status never matched {pattern!r}; last: {text!r}")


def _lever(page, label: str):
    """The lever whose label is exactly ``label``."""
    return page.locator(".sanshe-lever").filter(has=page.get_by_text(label, exact=True))


def _shown_value(page, label: str) -> str:
    return _lever(page, label).locator(".sanshe-value").inner_text().strip()


def _month(status: str) -> int:
    return int(re.search(r"(?:Month|月份): (\d+)", status).group(1))


def _settled_month(page, quiet: float = 3.0, timeout: float = 30.0) -> int:
    """The month shown once it has not changed for ``quiet`` seconds."""
    deadline = time.monotonic() + timeout
    month, since = _month(_status(page)), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.2)
        now = _month(_status(page))
        if now != month:
            month, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return month
    raise AssertionError(f"the month kept changing for {timeout:.0f} s after ❚❚")


def _check_sliders_show_values(page, scenario: str, lang: str) -> None:
    values = Scenario.load(scenario).values
    for key, zh, en, _ in SLIDERS:
        label = zh if lang == "zh" else en
        assert _shown_value(page, label) == dashboard.lever_value(key, values[key], lang), key


def _check_no_generic_mesa_controls(page) -> None:
    """Neither shown nor hidden anywhere in the page."""
    shown = page.locator("body").inner_text().lower()
    source = page.content().lower()
    for text in MESA_GENERIC:
        assert text.lower() not in shown, text
        assert text.lower() not in source, text


def _check_no_map_before_the_first_month(page, lang: str) -> None:
    """A note where the map will be, and no map image (no colour at all) yet."""
    waits = dashboard.TEXT[lang]["map_waits"]
    page.locator(".sanshe-map").get_by_text(waits).wait_for(timeout=20_000)
    assert page.locator(".sanshe-map img").count() == 0


@pytest.mark.browser
def test_browser_page_shows_what_an_official_needs(served):
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 1100})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            url, log = served
            page.goto(url)
            page.get_by_role("button", name="Step").wait_for(timeout=60_000)
            page.wait_for_function("document.querySelectorAll('img').length >= 6", timeout=30_000)
            _use_the_page(page)
        finally:
            browser.close()
    assert not errors, f"browser console errors: {errors}"
    terminal = log.read_text()  # what the trainer sees where the page was started
    assert "Traceback" not in terminal and "Warning" not in terminal, terminal


def _use_the_page(page) -> None:
    en, zh = dashboard.TEXT["en"], dashboard.TEXT["zh"]
    # only what an official needs: title, scenario, seed, run controls, speed, levers
    assert page.title() == en["app"]
    _check_no_generic_mesa_controls(page)
    body = page.locator("body").inner_text().lower()  # buttons are shown in capitals
    for word in (en["scenario"], en["seed"], en["speed"], en["slow"], en["normal"], en["fast"]):
        assert word.lower() in body, word
    for name in ("Reset", "▶", "Step"):
        assert page.get_by_role("button", name=name, exact=True).count() == 1, name
    for _, _, label, _ in dashboard.LEVERS:
        assert _lever(page, label).count() == 1, label
    _check_sliders_show_values(page, "baseline", "en")
    assert "Month: 0" in _status(page)
    _check_no_map_before_the_first_month(page, "en")
    before = len(page.locator("img").all())

    # a step: the month advances, the map appears, the plots are redrawn
    page.get_by_role("button", name="Step").click()
    first = _wait_status(page, r"Month: 1\b")
    page.locator(".sanshe-map img").wait_for(timeout=20_000)
    assert len(page.locator("img").all()) == before + 1

    # a lever: the shown value follows the slider; Reset and Step: the month costs more
    budget = _lever(page, "Purchase budget").get_by_role("slider")
    budget.focus()
    budget.press("End")
    top = dashboard.slider_range(BY_KEY["policy.purchase.annual_budget"], Scenario.load("baseline"))
    shown = dashboard.lever_value("policy.purchase.annual_budget", top[1], "en")
    page.wait_for_function(
        "t => [...document.querySelectorAll('.sanshe-value')].some(e => e.innerText.trim() == t)",
        arg=shown,
        timeout=20_000,
    )
    assert _shown_value(page, "Purchase budget") == shown
    page.get_by_role("button", name="Reset").click()
    _wait_status(page, rf"Month: 0\b(.|\n)*Purchase budget: {re.escape(shown)}")
    _check_no_map_before_the_first_month(page, "en")
    page.get_by_role("button", name="Step").click()
    again = _wait_status(page, r"Month: 1\b")
    assert _spending(again) > _spending(first)

    # ▶ at the fast speed plays months on; ❚❚ stops
    page.get_by_role("button", name=en["fast"]).click()
    page.get_by_role("button", name="▶").click()
    _wait_status(page, r"Month: ([3-9]|\d\d+)\b")
    page.get_by_role("button", name="❚❚").click()
    page.get_by_role("button", name="▶").wait_for(timeout=20_000)
    paused = _settled_month(page)  # Mesa may finish the month under way when paused
    time.sleep(3)
    assert _month(_status(page)) == paused  # ❚❚ stopped the run

    # the language switch relabels the page and keeps the run and the moved lever
    page.get_by_role("button", name="中文").click()
    page.get_by_text(zh["status"]).wait_for(timeout=20_000)
    page.wait_for_function("t => document.title == t", arg=zh["app"], timeout=20_000)
    _wait_status(page, rf"月份: {paused}\b")
    for word in (zh["slow"], zh["normal"], zh["fast"]):
        page.get_by_role("button", name=word, exact=True).wait_for(timeout=20_000)
    moved = dashboard.lever_value("policy.purchase.annual_budget", top[1], "zh")
    _lever(page, "购买服务预算").locator(".sanshe-value", has_text=moved).wait_for(timeout=20_000)

    # the scenario picker: a new run, every lever at the new scenario's value
    third_party = _lever(page, "第三方评估").locator("input")
    assert not third_party.is_checked()  # baseline evaluates itself
    page.locator(".v-select", has_text="情景").first.click()
    page.get_by_role("option", name="full_linkage").click()
    page.get_by_text("三社联动全套政策").first.wait_for(timeout=30_000)
    status = _wait_status(page, r"月份: 0\b")
    assert "所有政策杠杆与情景设定一致" in status  # the moved budget is gone
    assert _lever(page, "第三方评估").locator("input").is_checked()
    _check_sliders_show_values(page, "full_linkage", "zh")
    _check_no_map_before_the_first_month(page, "zh")
    # a Reset rebuilds the model from the new scenario's levers, unchanged
    page.get_by_role("button", name="Step").click()
    _wait_status(page, r"月份: 1\b")
    page.get_by_role("button", name="Reset").click()
    status = _wait_status(page, r"月份: 0\b")
    assert "full_linkage · 随机种子: 1" in status, status
    assert "所有政策杠杆与情景设定一致" in status, status
    _check_no_generic_mesa_controls(page)

    if os.environ.get(SCREENSHOT_ENV):
        _screenshot(page, Path(os.environ[SCREENSHOT_ENV]))


def _spending(status: str) -> float:
    """Government spending this month, in yuan, from the English status card."""
    match = re.search(r"Government spending\s+([\d,.]+)( M)? yuan", status)
    assert match, status
    return float(match.group(1).replace(",", "")) * (1e6 if match.group(2) else 1)


def _screenshot(page, path: Path) -> None:
    """Three years of the full package in Chinese, then the page as an image (docs)."""
    page.get_by_role("button", name=dashboard.TEXT["zh"]["normal"], exact=True).click()
    for month in range(1, 37):
        page.get_by_role("button", name="Step").click()
        _wait_status(page, rf"月份: {month}\b", timeout=60)
    page.set_viewport_size({"width": 1500, "height": 1750})  # every panel in one image
    time.sleep(2)
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
