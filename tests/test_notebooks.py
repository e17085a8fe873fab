"""Every notebook under notebooks/ runs top to bottom in a real Jupyter kernel.

Each notebook is executed by nbclient with the ``python3`` kernel of this interpreter,
``SANSHE_NOTEBOOK_SMALL=1`` (tiny runs) and its results in a temporary folder
(``SANSHE_NOTEBOOK_RESULTS``); any cell that raises fails the test with the cell's
traceback. The notebooks run concurrently, each in its own kernel, to keep this quick.
Every figure must reach the notebook as an ``image/png`` output: a figure shown as its text
(``<Figure size 900x320 with 2 Axes>``) fails, as does a notebook showing fewer or more
figures than :data:`FIGURES` lists.
"""

from __future__ import annotations

import base64
import os
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

from IPython.core.formatters import DisplayFormatter  # noqa: E402 - after the skips
from jupyter_core.utils import ensure_event_loop  # noqa: E402 - nbclient installs it
from matplotlib.figure import Figure  # noqa: E402

from sanshe.ui.notebook import show_figures_as_images  # noqa: E402

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
EXPECTED = (
    "01_quickstart",
    "02_compare_policies",
    "03_parameter_sweep",
    "04_workshop_exercises",
    "05_build_your_own_scenario",
    "06_pilot_ends",
)
CELL_TIMEOUT = 300  # seconds; a small run takes a few
#: Figures each notebook shows (cells ending in a figure); update when a notebook changes.
FIGURES = {
    "01_quickstart": 1,
    "02_compare_policies": 2,
    "03_parameter_sweep": 2,
    "04_workshop_exercises": 0,
    "05_build_your_own_scenario": 0,
    "06_pilot_ends": 4,
}
#: How matplotlib writes a figure it cannot show as an image (its repr).
FIGURE_AS_TEXT = re.compile(r"<Figure size [\d.]+x[\d.]+ with \d+ Axes>")
PNG_MAGIC = b"\x89PNG"


def test_every_workshop_notebook_is_present():
    present = sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb"))
    assert present == sorted(EXPECTED)


def test_the_exercise_answer_is_hidden_by_default():
    notebook = nbformat.read(NOTEBOOKS / "04_workshop_exercises.ipynb", as_version=4)
    folded = [c for c in notebook.cells if c.cell_type == "markdown" and "<details>" in c.source]
    hidden = [
        c
        for c in notebook.cells
        if c.cell_type == "code" and c.metadata.get("jupyter", {}).get("source_hidden")
    ]
    assert folded and hidden
    assert "hide-input" in hidden[0].metadata.get("tags", [])
    assert hidden[0].metadata["jupyter"].get("outputs_hidden")


def test_notebooks_are_stored_without_outputs():
    """Trainees start from clean notebooks (and the answer's output stays unseen)."""
    for name in EXPECTED:
        notebook = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
        assert all(not c.get("outputs") for c in notebook.cells if c.cell_type == "code"), name


def execute(path: Path, results: Path) -> nbformat.NotebookNode:
    """Run one notebook in a fresh kernel; raises CellExecutionError on a failing cell."""
    notebook = nbformat.read(path, as_version=4)
    env = {**os.environ, "SANSHE_NOTEBOOK_SMALL": "1", "SANSHE_NOTEBOOK_RESULTS": str(results)}
    client = nbclient.NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    try:
        client.execute(env=env)  # passed on to the kernel's start
    finally:  # the event loop nbclient made for this thread, which it leaves open
        ensure_event_loop().close()
    return notebook


def errors(notebook: nbformat.NotebookNode) -> list[str]:
    """The errors raised by the notebook's cells."""
    return [
        f"{o['ename']}: {o['evalue']}"
        for cell in notebook.cells
        if cell.cell_type == "code"
        for o in cell.get("outputs", [])
        if o.get("output_type") == "error"
    ]


def figure_problems(name: str, notebook: nbformat.NotebookNode) -> list[str]:
    """Figures shown as text instead of an image, and a wrong count of images."""
    problems, images = [], 0
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            text = str(data.get("text/plain", "")) + str(output.get("text", ""))
            if "image/png" in data:
                images += base64.b64decode(data["image/png"]).startswith(PNG_MAGIC)
            elif FIGURE_AS_TEXT.search(text):
                problems.append(f"cell {index} shows a figure as text, not an image: {text!r}")
    if images != FIGURES[name]:
        problems.append(f"{images} PNG figures shown, FIGURES expects {FIGURES[name]}")
    return problems


def test_show_figures_as_images_gives_ipython_a_png_of_a_figure():
    """The root cause: IPython draws a bare Figure as text until something registers PNG."""
    display = DisplayFormatter()
    figure = Figure()
    figure.subplots().plot([0, 1])
    assert "image/png" not in display.format(figure)[0]
    assert show_figures_as_images(display)
    shown = display.format(figure)[0]
    assert base64.b64decode(shown["image/png"]).startswith(PNG_MAGIC)
    assert not show_figures_as_images(display)  # once is enough


def test_a_figure_format_already_chosen_is_kept():
    """After ``%config InlineBackend.figure_formats = ['svg']``, figures stay SVG only."""
    display = DisplayFormatter()
    display.formatters["image/svg+xml"].for_type(Figure, lambda figure: "<svg/>")
    assert not show_figures_as_images(display)
    figure = Figure()
    figure.subplots()
    assert sorted(display.format(figure)[0]) == ["image/svg+xml", "text/plain"]


def test_a_figure_shown_as_text_fails_the_notebook_check():
    new_output = nbformat.v4.new_output
    figure_text = {"text/plain": "<Figure size 900x320 with 2 Axes>"}
    image = {**figure_text, "image/png": base64.b64encode(PNG_MAGIC + b"...").decode()}
    as_text = new_output("execute_result", figure_text, execution_count=1)
    as_image = new_output("execute_result", image, execution_count=1)
    printed = new_output("stream", name="stdout", text="[<Figure size 640x480 with 1 Axes>]\n")

    def notebook(*outputs: nbformat.NotebookNode) -> nbformat.NotebookNode:
        cell = nbformat.v4.new_code_cell("comparison.plot('need_coverage')", outputs=list(outputs))
        return nbformat.v4.new_notebook(cells=[cell])

    assert not figure_problems("01_quickstart", notebook(as_image))
    assert len(figure_problems("01_quickstart", notebook(as_text))) == 2  # as text; none shown
    assert len(figure_problems("01_quickstart", notebook(as_image, printed))) == 1
    assert len(figure_problems("01_quickstart", notebook())) == 1  # the figure went missing


def test_notebooks_run_top_to_bottom_and_show_their_figures(tmp_path):
    paths = [NOTEBOOKS / f"{name}.ipynb" for name in EXPECTED]
    with ThreadPoolExecutor(max_workers=len(paths)) as pool:
        futures = {path.stem: pool.submit(execute, path, tmp_path / path.stem) for path in paths}
        failures = {}
        for name, future in futures.items():
            try:
                notebook = future.result()
            except Exception as exc:  # noqa: BLE001 - reported below, per notebook
                failures[name] = str(exc)
                continue
            problems = errors(notebook) + figure_problems(name, notebook)
            if problems:
                failures[name] = "\n".join(problems)
    assert not failures, "\n\n".join(f"{name}:\n{text}" for name, text in failures.items())
