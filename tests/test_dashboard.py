"""The interactive page: its parts in Python, and the served page in headless Chromium.

The browser test starts ``python -m sanshe dashboard`` on a free port, loads the page in
Debian's Chromium driven by Playwright (never a downloaded browser), checks that the
controls and plots render, moves a lever, resets, steps, and checks that the displayed
values and the plots change, with no errors in the browser console. It is skipped only
when Chromium or Playwright is missing.

``SANSHE_SCREENSHOT=docs/dashboard.png pytest tests/test_dashboard.py -k browser`` also
runs the model for a few years and saves a screenshot of the page there.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("solara")
pytest.importorskip("mesa.visualization")

from mesa.visualization.solara_viz import _check_model_params  # noqa: E402

from sanshe import dashboard  # noqa: E402
from sanshe.cli import main  # noqa: E402
from sanshe.scenario import Scenario  # noqa: E402
from sanshe.schema import BY_KEY  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("SANSHE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOT_ENV = "SANSHE_SCREENSHOT"


# --- the page's parts, without a browser -----------------------------------------------
def test_levers_follow_schema_and_scenario():
    """Every control is a schema key, starts at the scenario's value, within schema range."""
    scenario = Scenario.load("full_linkage")
    params = dashboard.model_params("full_linkage", scenario, "en")
    assert params["scenario"] == "full_linkage"
    for key, _, _ in dashboard.LEVERS:
        setting, control = BY_KEY[key], params[key]
        assert control["value"] == scenario.values[key], key
        if setting.choices:
            assert control["type"] == "Select" and control["values"] == list(setting.choices)
        elif setting.type is bool:
            assert control["type"] == "Checkbox"
        else:
            assert setting.low <= control["min"] <= control["value"] <= control["max"]
            assert control["max"] <= setting.high
            assert control["type"] == ("SliderInt" if setting.type is int else "SliderFloat")


def test_slider_steps_land_on_every_library_value():
    """A slider snaps its value to a step as it appears; no library value may move."""
    from sanshe.scenario import library_names

    for name in library_names():
        scenario = Scenario.load(name)
        for key, control in dashboard.model_params(name, scenario, "en").items():
            if isinstance(control, dict) and control["type"].startswith("Slider"):
                steps = (control["value"] - control["min"]) / control["step"]
                assert abs(steps - round(steps)) < 1e-6, (name, key, control)


def test_every_policy_group_has_a_lever():
    groups = {key.rsplit(".", 1)[0] for key in BY_KEY if key.startswith("policy.")}
    on_page = {key.rsplit(".", 1)[0] for key, _, _ in dashboard.LEVERS}
    assert groups == on_page


def test_solaraviz_accepts_the_params_and_builds_the_model():
    """What SolaraViz's ModelCreator checks and what its Reset does, done here directly."""
    params = dashboard.model_params("baseline", Scenario.load("baseline"), "zh")
    _check_model_params(dashboard.DashboardModel.__init__, params)
    values = {k: (v["value"] if isinstance(v, dict) else v) for k, v in params.items()}
    values["policy.purchase.annual_budget"] = 2_000_000.0
    values["seed"] = "7"
    model = dashboard.DashboardModel(**values)
    assert model.seed == 7
    assert model.v["policy.purchase.annual_budget"] == 2_000_000.0
    model.step()
    assert 0 <= model.current["need_coverage"] <= 1
    coverage = model.community_coverage()
    assert coverage.shape == (model.pop.communities,)
    text = dashboard.status_html(model, "zh")
    assert "月份: 1" in text and "2,000,000" in text


def test_seed_text_that_is_not_a_number_falls_back_to_the_scenario_seed():
    model = dashboard.DashboardModel(scenario="baseline", seed="abc")
    assert model.seed == Scenario.load("baseline").values["run.seed"]
    assert "abc" in dashboard.status_html(model, "en")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_figure_draws_before_and_after_steps(lang):
    model = dashboard.DashboardModel(scenario="full_linkage", seed=1)
    for figure in dashboard.FIGURES:
        figure(model, lang)
    for _ in range(3):
        model.step()
    for figure in dashboard.FIGURES:
        assert figure(model, lang).axes


def test_make_page_rejects_bad_input():
    from sanshe.errors import InputError

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
    model = dashboard.DashboardModel(scenario=params["scenario"], seed="3")
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
    """``python -m sanshe dashboard`` on a free port; yields the URL, then stops it."""
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
        yield url
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


def _gov_spending(status: str, label: str) -> str:
    match = re.search(rf"{re.escape(label)}\s+([\d,]+)", status)
    assert match, status
    return match.group(1)


def _plot_sources(page) -> list[str]:
    return page.eval_on_selector_all("img", "els => els.map(e => e.src)")


@pytest.mark.browser
def test_browser_page_renders_steps_and_reacts_to_a_lever(served):
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 1100})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(served)
            page.get_by_role("button", name="Step").wait_for(timeout=60_000)
            page.wait_for_function("document.querySelectorAll('img').length >= 7", timeout=30_000)

            # controls: every lever's label, the scenario picker, seed, play/step/reset
            body = page.locator("body").inner_text()
            for _, _, label in dashboard.LEVERS:
                assert label in body, label
            for word in ("Scenario", "Random seed", "Reset"):
                assert word in body, word
            assert page.get_by_role("slider").count() >= 6
            before = _plot_sources(page)
            assert len(before) >= len(dashboard.FIGURES)
            assert "Month: 0" in _status(page)

            # a step: the month advances, values appear, the plots are redrawn
            page.get_by_role("button", name="Step").click()
            first = _wait_status(page, r"Month: 1\b")
            spending_label = "Government spending"
            spent = _gov_spending(first, spending_label)
            after = _plot_sources(page)
            assert (
                sum(a != b for a, b in zip(before, after, strict=False))
                >= len(dashboard.FIGURES) - 1
            )

            # a lever: budget to its maximum, Reset, Step: the same month costs more
            budget = page.locator(".v-input", has_text="Purchase budget").get_by_role("slider")
            budget.focus()
            budget.press("End")
            page.get_by_role("button", name="Reset").click()
            _wait_status(page, r"Month: 0\b")
            budget_setting = BY_KEY["policy.purchase.annual_budget"]
            top = dashboard.slider_range(budget_setting, Scenario.load("baseline"))[1]
            _wait_status(page, rf"Purchase budget.*{top:,.0f}")
            page.get_by_role("button", name="Step").click()
            again = _wait_status(page, r"Month: 1\b")
            assert _gov_spending(again, spending_label) != spent

            # the language switch relabels the page and keeps the model
            page.get_by_role("button", name="中文").click()
            page.get_by_text("本月概况").wait_for(timeout=20_000)
            assert "月份: 1" in _status(page)

            # the scenario picker: a new model, every lever at the new scenario's value
            third_party = page.locator(".v-input", has_text="第三方评估").locator("input")
            assert not third_party.is_checked()  # baseline evaluates itself
            page.locator(".v-select", has_text="情景").first.click()
            page.get_by_role("option", name="full_linkage").click()
            page.get_by_text("三社联动全套政策").first.wait_for(timeout=30_000)
            status = _wait_status(page, r"月份: 0\b")
            assert "所有政策杠杆与情景设定一致" in status  # the moved budget is gone
            third_party = page.locator(".v-input", has_text="第三方评估").locator("input")
            assert third_party.is_checked()
            # a Reset rebuilds the model from the new scenario's controls, unchanged
            page.get_by_role("button", name="Step").click()
            _wait_status(page, r"月份: 1\b")
            page.get_by_role("button", name="Reset").click()
            status = _wait_status(page, r"月份: 0\b")
            assert "full_linkage · 随机种子: 1" in status, status
            assert "所有政策杠杆与情景设定一致" in status, status

            if os.environ.get(SCREENSHOT_ENV):
                _screenshot(page, Path(os.environ[SCREENSHOT_ENV]))
        finally:
            browser.close()
    assert not errors, f"browser console errors: {errors}"


def _screenshot(page, path: Path) -> None:
    """Three years of the full package in Chinese, then the page as an image (docs)."""
    # Mesa's "Render Interval" slider: one Step click then runs a year
    interval = page.locator(".v-input", has_text="Render Interval").get_by_role("slider")
    interval.focus()
    while int(interval.get_attribute("aria-valuenow")) < 12:
        interval.press("ArrowRight")
        time.sleep(0.5)  # one change at a time, or the page's round trips undo some
    months = int(interval.get_attribute("aria-valuenow"))
    for year in range(1, 4):
        page.get_by_role("button", name="Step").click()
        _wait_status(page, rf"月份: {year * months}\b", timeout=60)
    page.set_viewport_size({"width": 1500, "height": 1750})  # every panel in one image
    time.sleep(2)
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
