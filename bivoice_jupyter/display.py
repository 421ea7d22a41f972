"""Showing an Answer in a notebook: the Plotly figure, then summary, table and details.

This layer may import IPython (beside magics/ and widgets/); nothing below it does.

The figure goes out as an explicit MIME bundle rather than through plotly's renderer
auto-detection (which differs between a kernel, a terminal and papermill, and may open a
browser): ``application/vnd.plotly.v1+json`` for JupyterLab, Notebook 7 and VS Code, plus
``text/html`` for nbconvert's HTML export and other front ends. The HTML carries plotly.js
inline once per process (as plotly's own "notebook" renderer does), so an exported report's
charts work offline; later figures reuse it.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio
from IPython.display import HTML, display

from .models import Answer

PLOTLY_JSON = "application/vnd.plotly.v1+json"
_PLOTLYJS_SENT = threading.Event()


class FigureOutput:
    """A Plotly figure with a fixed MIME bundle (see the module docstring)."""

    def __init__(self, figure: go.Figure) -> None:
        self.figure = figure
        self._bundle: dict[str, Any] | None = None

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        if self._bundle is None:
            # what plotly's "plotly_mimetype" renderer returns, without pio.renderers: importing
            # it imports nbformat and jsonschema, seconds of a report's run
            bundle = {PLOTLY_JSON: json.loads(pio.to_json(self.figure.to_dict(), validate=False, remove_uids=False))}
            first = not _PLOTLYJS_SENT.is_set()
            _PLOTLYJS_SENT.set()
            bundle["text/html"] = self.figure.to_html(
                full_html=False, include_plotlyjs=first, config={"displaylogo": False}
            )
            self._bundle = bundle
        return self._bundle


def answer_outputs(answer: Answer) -> list[Any]:
    """The objects to display for an answer, in order (a figure first when there is one)."""
    items: list[Any] = []
    if answer.figure is not None:
        items.append(FigureOutput(answer.figure))
    items.append(HTML(answer.details_html()))
    return items


def show_answer(answer: Answer, metadata: dict[str, Any] | None = None) -> None:
    """Display an answer; ``metadata`` goes on its last output (the summary, always shown), where
    the notebook saves it: %%voice stores the frozen answer there (reports/frozen.py)."""
    items = answer_outputs(answer)
    for i, item in enumerate(items):
        display(item, metadata=metadata if i == len(items) - 1 else None)
