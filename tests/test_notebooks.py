"""Every notebook under notebooks/ runs top to bottom in a real Jupyter kernel.

Each notebook is executed by nbclient with the ``python3`` kernel of this interpreter,
``SANSHE_NOTEBOOK_SMALL=1`` (tiny runs) and its results in a temporary folder
(``SANSHE_NOTEBOOK_RESULTS``); any cell that raises fails the test with the cell's
traceback. The notebooks run concurrently, each in its own kernel, to keep this quick.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
EXPECTED = (
    "01_quickstart",
    "02_compare_policies",
    "03_parameter_sweep",
    "04_workshop_exercises",
    "05_build_your_own_scenario",
)
CELL_TIMEOUT = 300  # seconds; a small run takes a few


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
    client.execute(env=env)  # passed on to the kernel's start
    return notebook


def test_notebooks_run_top_to_bottom(tmp_path):
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
            errors = [
                o
                for cell in notebook.cells
                if cell.cell_type == "code"
                for o in cell.get("outputs", [])
                if o.get("output_type") == "error"
            ]
            if errors:
                failures[name] = "\n".join(f"{e['ename']}: {e['evalue']}" for e in errors)
    assert not failures, "\n\n".join(f"{name}:\n{text}" for name, text in failures.items())
