"""Showing an Answer in a notebook: the Plotly figure natively, then summary, table and details.

This layer may import IPython (beside magics/ and widgets/); nothing below it does.
"""

from __future__ import annotations

from typing import Any

from IPython.display import HTML, display

from .models import Answer


def answer_outputs(answer: Answer) -> list[Any]:
    """The objects to display for an answer, in order (a figure first when there is one)."""
    items: list[Any] = []
    if answer.figure is not None:
        items.append(answer.figure)
    items.append(HTML(answer.details_html()))
    return items


def show_answer(answer: Answer) -> None:
    for item in answer_outputs(answer):
        display(item)
