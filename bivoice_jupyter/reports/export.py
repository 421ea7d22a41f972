"""Executed notebooks -> a self-contained HTML page; notebooks kept small for committing.

nbconvert cannot draw plotly's JSON mimetype, which is all plotly emits for a figure shown in
a headless kernel (and all JupyterLab needs). :func:`draw_charts` gives each such output an
HTML twin; plotly.js (about 4.8 MB) goes inline once, in the first chart unless an earlier
output carries it already (``display.FigureOutput`` does), so the page works offline.
"""

from __future__ import annotations

import html as _html
import os
import tempfile
from pathlib import Path
from typing import Any

from .._optional import import_extra
from .errors import ReportError
from .frozen import iter_frozen

PLOTLY_JSON = "application/vnd.plotly.v1+json"
PLOTLY_JS = "* plotly.js v"  # the banner at the top of plotly.min.js
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
# cells tagged so keep their output and lose their code in the page (the names JupyterBook uses)
REMOVE_INPUT_TAGS = {"remove-input", "hide-input"}
REMOVE_CELL_TAGS = {"remove-cell"}


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def draw_charts(nb: Any) -> int:
    """Give every Plotly output an HTML version the exported page can draw offline (see the
    module docstring). Returns the number of charts the page draws."""
    import plotly.io as pio

    charts, have_js = 0, False
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if PLOTLY_JSON in data and "text/html" not in data:
                data["text/html"] = pio.to_html(
                    data[PLOTLY_JSON], include_plotlyjs=not have_js, full_html=False, validate=False,
                    default_width="100%", default_height=450,
                )
            page = _text(data.get("text/html", ""))
            have_js = have_js or PLOTLY_JS in page
            charts += page.count("Plotly.newPlot(")
    return charts


def to_html(nb: Any, *, title: str | None = None, hide_code: bool = False) -> tuple[str, int]:
    """The page and its number of charts. ``hide_code`` leaves out every cell's code."""
    nbconvert = import_extra("nbconvert", "reports")
    from nbconvert.preprocessors import TagRemovePreprocessor

    charts = draw_charts(nb)
    exporter = nbconvert.HTMLExporter(exclude_input=hide_code, exclude_input_prompt=hide_code,
                                      exclude_output_prompt=hide_code)
    exporter.register_preprocessor(
        TagRemovePreprocessor(remove_input_tags=REMOVE_INPUT_TAGS, remove_cell_tags=REMOVE_CELL_TAGS, enabled=True),
        enabled=True,
    )
    resources = {"metadata": {"name": title}} if title else None
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    if charts and body.count(PLOTLY_JS) != 1:
        raise ReportError(f"The page would not draw its {charts} charts offline "
                          f"(plotly.js embedded {body.count(PLOTLY_JS)} times).")
    return body, charts


def slim(nb: Any) -> Any:
    """A notebook fit to commit: no run metadata; no HTML twin of a chart (it may carry
    plotly.js, 4.8 MB: JupyterLab draws the Plotly JSON and :func:`draw_charts` rebuilds the
    HTML); no microphone output or saved widget state (a stored copy of its JavaScript would go
    stale, and the widget only works with a live kernel anyway)."""
    nb.metadata.pop("papermill", None)
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        if cell.cell_type != "code":
            continue
        cell.outputs = [o for o in cell.outputs if WIDGET_VIEW not in o.get("data", {})]
        for out in cell.outputs:
            if PLOTLY_JSON in out.get("data", {}):
                out["data"].pop("text/html", None)
    return nb


def errors_in(nb: Any) -> list[str]:
    """The error outputs of an executed notebook, one line each."""
    return [
        f"cell {i}: {out.get('ename')}: {out.get('evalue')}"
        for i, cell in enumerate(nb.cells)
        for out in cell.get("outputs", [])
        if out.get("output_type") == "error"
    ]


def summary(nb: Any) -> list[tuple[str, str]]:
    """(question, one-line answer) for each answer of an executed notebook, in order."""
    return [(f.question, f.summary) for f in iter_frozen(nb)]


def summary_html(title: str, lines: list[tuple[str, str]], scope: str = "") -> str:
    esc = _html.escape
    items = "".join(f"<li><b>{esc(q)}</b><br>{esc(a)}</li>" for q, a in lines)
    sub = f"<p>{esc(scope)}</p>" if scope else ""
    return (f"<html><body><h2>{esc(title)}</h2>{sub}<ul>{items}</ul>"
            "<p><small>The full report, with its charts, is attached.</small></p></body></html>")


def atomic_write(path: Path, data: str | bytes) -> None:
    """Write ``path`` whole or not at all: a temporary file beside it, then a rename."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    except OSError as exc:
        raise ReportError(f"Cannot write {path}: {exc.strerror or exc}.") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the file the usual mode
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
