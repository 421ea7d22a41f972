"""Value objects passed between the layers: Transcript, Intent, Answer, LoadReport.

``GuardedSQL`` is not here on purpose: only the guard may create one, so it lives in
``bivoice_jupyter.sql.guard`` beside the seal that proves it.
"""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    import plotly.graph_objects as go


@dataclass(frozen=True)
class Transcript:
    """What speech recognition heard.

    ``duration_s`` is the audio's length and ``seconds`` the time recognition took, both in
    seconds; ``device``/``compute_type`` say where it ran (``cpu``/``int8``, ``cuda``/``float16``).
    """

    text: str
    language: str
    duration_s: float
    seconds: float
    model: str
    device: str
    compute_type: str


Aggregation = Literal["sum", "avg", "median", "min", "max", "count", "count_distinct"]
Grain = Literal["day", "week", "month", "quarter", "year"]
ChartKind = Literal["auto", "bar", "line", "scatter", "indicator", "table", "none"]


class Measure(BaseModel):
    """An aggregate: ``agg`` of ``column`` (``column=None`` with ``count`` counts rows)."""

    model_config = ConfigDict(frozen=True)
    agg: Aggregation
    column: str | None = None
    alias: str | None = None

    @property
    def name(self) -> str:
        if self.alias:
            return self.alias
        if self.column is None:
            return "rows"
        return f"{self.agg}_{self.column}"


class Filter(BaseModel):
    """A condition on one column. ``op`` ``in`` takes a list; ``between`` takes [low, high]."""

    model_config = ConfigDict(frozen=True)
    column: str
    op: Literal["=", "!=", ">", ">=", "<", "<=", "in", "between"]
    value: Any


class TimeRange(BaseModel):
    """Rows with ``start <= column < end`` (either bound may be open)."""

    model_config = ConfigDict(frozen=True)
    column: str
    start: dt.date | None = None
    end: dt.date | None = None


class Order(BaseModel):
    model_config = ConfigDict(frozen=True)
    by: str
    desc: bool = True


class Intent(BaseModel):
    """A question's meaning, between words and SQL. The compiler turns it into SQL."""

    model_config = ConfigDict(frozen=True)
    table: str
    database: str | None = None
    measures: list[Measure] = Field(default_factory=list)
    dimensions: list[str] = Field(default_factory=list)
    filters: list[Filter] = Field(default_factory=list)
    time_range: TimeRange | None = None
    time_column: str | None = None
    time_grain: Grain | None = None
    order: list[Order] = Field(default_factory=list)
    limit: int | None = Field(default=None, ge=1)
    chart: ChartKind = "auto"

    def describe(self) -> str:
        """A one-line reading of the intent, for people."""
        parts = [", ".join(m.name for m in self.measures) or "rows"]
        if self.time_grain:
            parts.append(f"by {self.time_grain}")
        if self.dimensions:
            parts.append("by " + ", ".join(self.dimensions))
        for f in self.filters:
            parts.append(f"where {f.column} {f.op} {f.value!r}")
        if self.time_range:
            parts.append(f"from {self.time_range.start or '...'} to {self.time_range.end or '...'}")
        if self.limit:
            parts.append(f"limit {self.limit}")
        return f"{self.table}: " + " ".join(parts)


@dataclass(frozen=True)
class LoadReport:
    """What a load did: rows in and out, the schema written, and how long it took (seconds)."""

    table: str
    database: str
    mode: str
    source: str
    rows_loaded: int
    rows_rejected: int
    columns: tuple[tuple[str, str], ...]
    seconds: float

    def _repr_html_(self) -> str:
        cols = ", ".join(f"{html.escape(n)} {html.escape(t)}" for n, t in self.columns)
        return (
            f"<b>Loaded {self.rows_loaded:,} rows</b> into <code>{html.escape(self.database)}."
            f"{html.escape(self.table)}</code> ({self.mode}, {self.seconds:.2f} s); "
            f"{self.rows_rejected:,} rejected.<br><small>{cols}</small>"
        )


@dataclass(frozen=True)
class Answer:
    """The answer to one question, with everything needed to check it.

    ``question`` is what was asked (typed, or the transcript), ``transcript`` is set when the
    question was spoken, ``intent`` and ``sql`` show how it was read, ``df`` and ``figure`` are
    the result, ``text`` a one-line summary (or the whole reply to a non-data question),
    ``timings`` per-stage durations in seconds, ``notices`` things the reader must know (a
    result cut at the row limit, say).
    """

    question: str
    text: str
    transcript: Transcript | None = None
    intent: Intent | None = None
    sql: str | None = None
    df: pd.DataFrame | None = None
    figure: go.Figure | None = None
    timings: dict[str, float] = field(default_factory=dict)
    notices: tuple[str, ...] = ()
    planner: str = "offline"

    def __repr__(self) -> str:
        rows = "no rows" if self.df is None else f"{len(self.df)} rows"
        return f"<Answer {self.question!r}: {self.text} ({rows})>"

    def details_html(self) -> str:
        """The summary, table and a collapsible block with transcript, intent, SQL and timings."""
        esc = html.escape
        out = [f"<div class='bivoice-answer'><p><b>{esc(self.text)}</b></p>"]
        for n in self.notices:
            out.append(f"<p style='color:#a15c00'>&#9888; {esc(n)}</p>")
        if self.df is not None:
            out.append(self.df.head(50).to_html(index=False, max_cols=30, border=0))
            if len(self.df) > 50:
                out.append(f"<p><small>showing 50 of {len(self.df):,} rows</small></p>")
        out.append("<details><summary>how this was answered</summary><dl>")
        if self.transcript is not None:
            t = self.transcript
            out.append(
                f"<dt>heard</dt><dd>{esc(t.text)} <small>({t.model}, {t.device}/{t.compute_type}, "
                f"{t.duration_s:.1f} s of audio)</small></dd>"
            )
        out.append(f"<dt>question</dt><dd>{esc(self.question)}</dd>")
        if self.intent is not None:
            out.append(f"<dt>intent ({esc(self.planner)})</dt><dd><code>{esc(self.intent.describe())}</code></dd>")
        if self.sql:
            out.append(f"<dt>SQL</dt><dd><pre>{esc(self.sql)}</pre></dd>")
        if self.timings:
            timing = ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in self.timings.items())
            out.append(f"<dt>timings</dt><dd>{esc(timing)}</dd>")
        out.append("</dl></details></div>")
        return "".join(out)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        # Without IPython in this layer, the chart is embedded as HTML that loads plotly.js from
        # its CDN. The magics and the widget display the figure natively instead (offline).
        body = self.details_html()
        if self.figure is not None:
            body = self.figure.to_html(full_html=False, include_plotlyjs="cdn") + body
        return {"text/plain": repr(self), "text/html": body}
