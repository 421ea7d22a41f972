"""Chart choice by rules from the result's shape."""

from __future__ import annotations

import pandas as pd
import pytest

from bivoice_jupyter import charts
from bivoice_jupyter.models import Intent

MONTHS = pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01"])


@pytest.mark.parametrize(
    ("df", "kind"),
    [
        (pd.DataFrame({"month": MONTHS, "revenue": [1.0, 2.0, 3.0]}), "line"),
        (pd.DataFrame({"region": ["EU", "US"], "revenue": [1.0, 2.0]}), "bar"),
        (pd.DataFrame({"price": [1.0, 2.0], "quantity": [3, 4]}), "scatter"),
        (pd.DataFrame({"total": [42.0]}), "indicator"),
        (pd.DataFrame({"name": ["a", "b"], "city": ["x", "y"]}), "table"),
        (pd.DataFrame({"region": [], "revenue": []}), "none"),
    ],
)
def test_choose(df: pd.DataFrame, kind: str) -> None:
    assert charts.choose(df) == kind
    fig = charts.figure(df)
    assert (fig is None) == (kind in ("table", "none"))


def test_intent_chart_wins() -> None:
    df = pd.DataFrame({"region": ["EU", "US"], "revenue": [1.0, 2.0]})
    intent = Intent(table="t", chart="none")
    assert charts.figure(df, intent) is None


def test_grouped_line_per_series() -> None:
    df = pd.DataFrame({"month": list(MONTHS) * 2, "region": ["EU"] * 3 + ["US"] * 3, "revenue": range(6)})
    fig = charts.figure(df)
    assert [t.name for t in fig.data] == ["EU", "US"] and fig.data[0].mode == "lines+markers"
