"""The notebooks in real kernels: `make demo` end to end (papermill, HTML export, the spoken
answer), and nbval comparing the cells marked ``# NBVAL_CHECK_OUTPUT`` of every notebook in
notebooks/ with the outputs stored in it (refresh them with ``python notebooks/run_demo.py
--store`` for the quickstart, ``bivoice report freeze NOTEBOOK`` for a report template).

Each run is a process with its own BIVOICE_HOME: chDB lets one process use a data folder, and
this test process may hold the session's.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

pytestmark = [pytest.mark.notebook, pytest.mark.speech, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[1]
QUICKSTART = REPO / "notebooks" / "quickstart.ipynb"
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
TEMPLATES = [p for p in NOTEBOOKS if p != QUICKSTART]


def _run(cmd: list[str], home: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ}
    env.pop("BIVOICE_DSN", None)
    if home is not None:
        env["BIVOICE_HOME"] = str(home)
    return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)


def _text(output: dict) -> str:
    """All the text an output shows (stream text, text/plain and text/html)."""
    if output.get("output_type") == "stream":
        return output.get("text", "")
    data = output.get("data", {})
    return "".join(str(data.get(mime, "")) for mime in ("text/plain", "text/html"))


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """`make demo` into a temporary folder: (the folder, what it printed)."""
    out = tmp_path_factory.mktemp("demo-out")
    result = _run([sys.executable, "notebooks/run_demo.py", "--out", str(out)])
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return out, result.stdout


def test_quickstart_runs_without_errors(demo: tuple[Path, str]) -> None:
    nb = nbformat.read(demo[0] / "quickstart.ipynb", as_version=4)
    errors = [_text(o) or o.get("evalue", "") for c in nb.cells for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors
    assert all(c.get("execution_count") for c in nb.cells if c.cell_type == "code")


def test_spoken_cell_shows_transcript_sql_and_rows(demo: tuple[Path, str]) -> None:
    nb = nbformat.read(demo[0] / "quickstart.ipynb", as_version=4)
    (cell,) = [c for c in nb.cells if "spoken-answer" in c.metadata.get("tags", [])]
    assert cell.source.startswith("%voice --audio")
    outputs = cell.outputs
    assert any("application/vnd.plotly.v1+json" in o.get("data", {}) for o in outputs)
    shown = " ".join(_text(o) for o in outputs).lower()
    for word in ("heard", "revenue", "region", "select", "sum(", "europe", "north america"):
        assert word in shown, word


def test_html_export_draws_every_chart(demo: tuple[Path, str]) -> None:
    page = (demo[0] / "quickstart.html").read_text(encoding="utf-8")
    assert page.count("* plotly.js v") == 1  # plotly.js inline once: the charts need no network
    assert page.count("Plotly.newPlot(") >= 6


def test_demo_prints_a_spoken_answer(demo: tuple[Path, str]) -> None:
    printed = demo[1]
    assert "heard:" in printed and "SQL:    SELECT" in printed
    assert "region" in printed.lower() and "Europe" in printed


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_stored_outputs_match_a_fresh_run(tmp_path: Path, notebook: Path) -> None:
    """nbval --nbval-lax: every cell runs, and the marked cells print what the notebook stores
    (refresh a report template's outputs with `bivoice report freeze NOTEBOOK`)."""
    result = _run(
        [sys.executable, "-m", "pytest", "--nbval-lax", "--nbval-current-env", str(notebook),
         "-p", "no:cacheprovider", "-q"],
        home=tmp_path / "home",
    )
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_stored_notebook_is_small(notebook: Path) -> None:
    """No plotly.js (4.8 MB) and no widget state in the committed file."""
    assert notebook.stat().st_size < 300_000
    text = notebook.read_text(encoding="utf-8")
    assert "* plotly.js v" not in text and "widget-state" not in text
    audio = sum(p.stat().st_size for p in (REPO / "notebooks" / "audio").glob("*.wav"))
    assert 0 < audio < 1_000_000


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("q1.wav", ("total", "revenue", "region")),
        ("q2.wav", ("revenue", "top", "products")),
        ("q3.wav", ("monthly", "revenue", "2023")),
    ],
    ids=["q1-revenue-by-region", "q2-top-products", "q3-monthly-2023"],
)
def test_committed_audio_is_heard(name: str, words: tuple[str, ...]) -> None:
    """The committed questions still come through tiny.en (see notebooks/audio/README.md)."""
    from bivoice_jupyter import transcribe

    text = transcribe(REPO / "notebooks" / "audio" / name).text.lower()
    assert all(w in text for w in words), text


@pytest.mark.parametrize("template", TEMPLATES, ids=[p.stem for p in TEMPLATES])
def test_report_templates_store_every_answer(template: Path) -> None:
    """A report run replays each question from the answer stored in the template (frozen by
    `bivoice report freeze`): every %voice/%%voice cell has one, with its intent and SQL."""
    nb = nbformat.read(template, as_version=4)
    asks = [c for c in nb.cells if c.cell_type == "code" and c.source.lstrip().startswith(("%%voice", "%voice"))]
    assert asks and any("parameters" in c.metadata.get("tags", []) for c in nb.cells)
    for cell in asks:
        (stored,) = cell.metadata["bivoice"]["answers"]
        assert stored["intent"]["table"] and stored["sql"].startswith("SELECT"), cell.source
