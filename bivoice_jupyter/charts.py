"""A Plotly figure chosen by rules from the result's shape. Never by running generated code.

time + measure -> line; category + measure -> bar; two measures -> scatter; one value ->
indicator; anything else -> no chart (the table stands alone).
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from .models import ChartKind, Intent

_NUMERIC = ("i", "u", "f")


def _is_time(s: pd.Series) -> bool:
    return pd.api.types.is_datetime64_any_dtype(s)


def _is_number(s: pd.Series) -> bool:
    return s.dtype.kind in _NUMERIC


def choose(df: pd.DataFrame, intent: Intent | None = None) -> ChartKind:
    """The chart kind for ``df`` (``intent.chart`` wins unless it is ``auto``)."""
    if intent is not None and intent.chart != "auto":
        return intent.chart
    if df is None or df.empty:
        return "none"
    cols = list(df.columns)
    numbers = [c for c in cols if _is_number(df[c])]
    times = [c for c in cols if _is_time(df[c])]
    others = [c for c in cols if c not in numbers and c not in times]
    if len(df) == 1 and len(numbers) == 1 and len(cols) == 1:
        return "indicator"
    if times and numbers:
        return "line"
    if others and numbers and len(df) <= 200:
        return "bar"
    if len(numbers) >= 2 and not others:
        return "scatter"
    return "table" if len(cols) else "none"


def figure(df: pd.DataFrame, intent: Intent | None = None, *, kind: ChartKind | None = None, title: str = "") -> go.Figure | None:
    """A figure for ``df``, or None when a table says it better."""
    kind = kind or choose(df, intent)
    if kind in ("none", "table") or df is None or df.empty:
        return None
    cols = list(df.columns)
    numbers = [c for c in cols if _is_number(df[c])]
    times = [c for c in cols if _is_time(df[c])]
    others = [c for c in cols if c not in numbers and c not in times]
    fig = go.Figure()
    if kind == "indicator":
        col = numbers[0] if numbers else cols[0]
        fig.add_trace(go.Indicator(mode="number", value=float(df[col].iloc[0]), title={"text": str(col)}))
    elif kind == "line":
        x = times[0] if times else cols[0]
        series = others[0] if others else None
        for measure in numbers[:3] if series is None else numbers[:1]:
            if series is None:
                fig.add_trace(go.Scatter(x=df[x], y=df[measure], mode="lines+markers", name=str(measure)))
            else:
                for key, part in df.groupby(series, sort=True):
                    fig.add_trace(go.Scatter(x=part[x], y=part[measure], mode="lines+markers", name=str(key)))
        fig.update_layout(xaxis_title=str(x), yaxis_title=str(numbers[0]) if numbers else "")
    elif kind == "bar":
        x = others[0] if others else cols[0]
        stack = others[1] if len(others) > 1 else None
        measure = numbers[0]
        if stack is None:
            fig.add_trace(go.Bar(x=df[x].astype(str), y=df[measure], name=str(measure)))
        else:
            for key, part in df.groupby(stack, sort=True):
                fig.add_trace(go.Bar(x=part[x].astype(str), y=part[measure], name=str(key)))
            fig.update_layout(barmode="group")
        fig.update_layout(xaxis_title=str(x), yaxis_title=str(measure))
    elif kind == "scatter":
        fig.add_trace(go.Scatter(x=df[numbers[0]], y=df[numbers[1]], mode="markers"))
        fig.update_layout(xaxis_title=str(numbers[0]), yaxis_title=str(numbers[1]))
    else:
        return None
    fig.update_layout(title=title or None, template="plotly_white", margin={"l": 40, "r": 20, "t": 50 if title else 20, "b": 40}, height=380)
    return fig
