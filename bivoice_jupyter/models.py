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


# What a spoken question with no words in it is answered (an empty Transcript.text).
HEARD_NOTHING = "I heard nothing. Try again, a little closer to the microphone."


@dataclass(frozen=True)
class Transcript:
    """What speech recognition heard.

    ``duration_s`` is the audio's length and ``seconds`` the time recognition took, both in
    seconds; ``device``/``compute_type`` say where it ran (``cpu``/``int8``, ``cuda``/``float16``).
    ``alternatives`` are the recogniser's other close readings of a short question, best first;
    ``first_heard`` is set when one of them was answered instead of its first reading
    (``text`` is then the reading answered).
    """

    text: str
    language: str
    duration_s: float
    seconds: float
    model: str
    device: str
    compute_type: str
    alternatives: tuple[str, ...] = ()
    first_heard: str | None = None


Aggregation = Literal["sum", "avg", "median", "min", "max", "count", "count_distinct"]
Grain = Literal["day", "week", "month", "quarter", "year"]
ChartKind = Literal["auto", "bar", "line", "scatter", "indicator", "table", "none"]
Comparison = Literal["=", "!=", ">", ">=", "<", "<="]
DatePart = Literal["year", "quarter", "month", "day", "weekday"]


class Filter(BaseModel):
    """A condition on one column. ``op`` ``in``/``not in`` take a list; ``between`` takes
    [low, high]. ``part`` compares a part of a date column (``month`` = 12: any December).
    ``against`` compares with that aggregate of the column over the rows the intent's other
    filters keep (a subquery: "above the average"); ``value`` is then added to it (``max`` - 1
    is the year before the latest)."""

    model_config = ConfigDict(frozen=True)
    column: str
    op: Literal["=", "!=", ">", ">=", "<", "<=", "in", "not in", "between"]
    value: Any = None
    part: DatePart | None = None
    against: Literal["avg", "median", "min", "max"] | None = None


class Measure(BaseModel):
    """An aggregate: ``agg`` of ``column`` (``column=None`` with ``count`` counts rows).

    ``where`` keeps only the rows that pass these filters (``countIf``); ``over`` divides by
    another measure (a ratio: revenue per unit); ``share`` divides by the total over all the
    result's groups; ``percent`` multiplies by 100."""

    model_config = ConfigDict(frozen=True)
    agg: Aggregation
    column: str | None = None
    alias: str | None = None
    where: tuple[Filter, ...] = ()
    over: Measure | None = None
    share: bool = False
    percent: bool = False

    @property
    def name(self) -> str:
        if self.alias:
            return self.alias
        if self.column is None:
            return "rows"
        return f"{self.agg}_{self.column}"


class Having(BaseModel):
    """A condition on a group's measure (SQL HAVING). ``against="avg"`` compares with the
    average of the measure over the groups (``value`` is then unused)."""

    model_config = ConfigDict(frozen=True)
    measure: Measure
    op: Comparison | Literal["between"]
    value: Any = None
    against: Literal["avg"] | None = None


class TimeRange(BaseModel):
    """Rows with ``start <= column < end`` (either bound may be open).

    With ``unit`` the range is relative to the newest date in the data instead, read when the
    query runs: the ``span`` periods of ``unit`` that end ``back`` periods before the newest one
    (``unit="month", back=1``: the month before the latest)."""

    model_config = ConfigDict(frozen=True)
    column: str
    start: dt.date | None = None
    end: dt.date | None = None
    unit: Grain | None = None
    back: int = Field(default=0, ge=0)
    span: int = Field(default=1, ge=1)


class Order(BaseModel):
    model_config = ConfigDict(frozen=True)
    by: str
    desc: bool = True


class Intent(BaseModel):
    """A question's meaning, between words and SQL. The compiler turns it into SQL.

    ``columns`` are plain columns for a listing of rows (no aggregate); ``having`` conditions
    on the groups' measures; ``text_dates`` names text columns read as dates; ``notes`` says
    what the planner assumed that the reader should know (a near spelling it accepted)."""

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
    columns: list[str] = Field(default_factory=list)
    having: list[Having] = Field(default_factory=list)
    text_dates: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)

    def describe(self) -> str:
        """A one-line reading of the intent, for people."""
        parts = [", ".join(m.name for m in self.measures) or ", ".join(self.columns) or "rows"]
        if self.time_grain:
            parts.append(f"by {self.time_grain}")
        if self.dimensions:
            parts.append("by " + ", ".join(self.dimensions))
        for f in self.filters:
            target = f"{f.part}({f.column})" if f.part else f.column
            value = f"{f.against}({f.column}){f.value:+g}" if f.against and f.value else (f.against and f"{f.against}({f.column})") or repr(f.value)
            parts.append(f"where {target} {f.op} {value}")
        if self.time_range:
            tr = self.time_range
            if tr.unit:
                parts.append(f"in the {tr.span} {tr.unit}(s) ending {tr.back} before the newest {tr.column}")
            else:
                parts.append(f"from {tr.start or '...'} to {tr.end or '...'}")
        for h in self.having:
            parts.append(f"having {h.measure.name} {h.op} {'the average' if h.against else repr(h.value)}")
        if self.order:
            parts.append("order by " + ", ".join(f"{o.by}{' desc' if o.desc else ''}" for o in self.order))
        if self.limit:
            parts.append(f"limit {self.limit}")
        if self.notes:
            parts.append("(" + "; ".join(self.notes) + ")")
        return f"{self.table}: " + " ".join(parts)


Measure.model_rebuild()


@dataclass(frozen=True)
class LoadReport:
    """What a load did: rows in and out, the schema written, and how long it took (seconds).

    ``rows_read`` came from the source; ``rows_loaded`` are in the table; ``rows_rejected``
    could not be cast and are in ``rejected_table`` (with their raw text and the reason);
    ``rows_duplicate`` were dropped by ``dedup``. ``load_id`` finds the run in the audit
    (``%etl history``) and its rejected rows; ``warnings`` are what a reader must know (a
    column kept as text, values rejected); ``details`` how the source was read (encoding,
    delimiter, header, sheet ...).
    """

    table: str
    database: str
    mode: str
    source: str
    rows_loaded: int
    rows_rejected: int
    columns: tuple[tuple[str, str], ...]
    seconds: float
    rows_read: int = 0
    rows_duplicate: int = 0
    load_id: str = ""
    rejected_table: str | None = None
    warnings: tuple[str, ...] = ()
    details: tuple[tuple[str, str], ...] = ()

    def __str__(self) -> str:
        rate = f", {self.rows_read / self.seconds:,.0f} rows/s" if self.seconds > 0 and self.rows_read else ""
        text = (f"Loaded {self.rows_loaded:,} rows into {self.database}.{self.table} ({self.mode}, "
                f"{self.seconds:.2f} s{rate}); {self.rows_rejected:,} rejected")
        if self.rows_rejected and self.rejected_table:
            text += f" (in {self.database}.{self.rejected_table})"
        if self.rows_duplicate:
            text += f"; {self.rows_duplicate:,} duplicates dropped"
        return text + "".join(f"\n  - {w}" for w in self.warnings)

    def _repr_html_(self) -> str:
        cols = ", ".join(f"{html.escape(n)} {html.escape(t)}" for n, t in self.columns)
        rate = f", {self.rows_read / self.seconds:,.0f} rows/s" if self.seconds > 0 and self.rows_read else ""
        where = ""
        if self.rows_rejected and self.rejected_table:
            where = f" (in <code>{html.escape(self.database)}.{html.escape(self.rejected_table)}</code>)"
        dups = f"; {self.rows_duplicate:,} duplicates dropped" if self.rows_duplicate else ""
        notes = "".join(f"<li>{html.escape(w)}</li>" for w in self.warnings)
        return (
            f"<b>Loaded {self.rows_loaded:,} rows</b> into <code>{html.escape(self.database)}."
            f"{html.escape(self.table)}</code> ({self.mode}, {self.seconds:.2f} s{rate}); "
            f"{self.rows_rejected:,} rejected{where}{dups}.<br><small>{cols}</small>"
            + (f"<ul><small>{notes}</small></ul>" if notes else "")
        )


@dataclass(frozen=True)
class Receipt:
    """What an LLM-planned answer cost, for checking and for the bill.

    ``model`` is the model that answered (as the provider named it), ``tokens_in``/``tokens_out``
    the prompt and completion tokens the provider counted (summed over ``calls`` requests; 0 when
    it counts none), ``latency_s`` the seconds spent waiting on the model, ``retries`` requests
    sent again after a rate limit or an overloaded server, ``repairs`` attempts after a guard
    refusal, a ClickHouse error or an invalid plan, each described in ``failures``.
    ``context_tokens`` is the size of the schema context sent, counted by ``counter``.
    No key or secret is ever part of a receipt.
    """

    model: str
    tokens_in: int = 0
    tokens_out: int = 0
    latency_s: float = 0.0
    calls: int = 0
    retries: int = 0
    repairs: int = 0
    failures: tuple[str, ...] = ()
    context_tokens: int = 0
    counter: str = ""

    def describe(self) -> str:
        """One line for people: model, tokens, seconds, repairs."""
        text = (f"{self.model}: {self.tokens_in:,} tokens in, {self.tokens_out:,} out, "
                f"{self.latency_s:.2f} s over {self.calls} call{'s' if self.calls != 1 else ''}")
        if self.retries:
            text += f", {self.retries} retr{'ies' if self.retries != 1 else 'y'}"
        if self.repairs:
            text += f", {self.repairs} repair{'s' if self.repairs != 1 else ''}"
        return text


@dataclass(frozen=True)
class Answer:
    """The answer to one question, with everything needed to check it.

    ``question`` is what was asked (typed, or the transcript), ``transcript`` is set when the
    question was spoken, ``intent`` and ``sql`` show how it was read, ``df`` and ``figure`` are
    the result, ``text`` a one-line summary (or the whole reply to a non-data question),
    ``timings`` per-stage durations in seconds, ``notices`` things the reader must know (a
    result cut at the row limit, say), ``planner`` which planner answered (``offline``, ``llm`` or
    ``sql``) and ``receipt`` what the LLM cost when one planned it.
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
    receipt: Receipt | None = None  # set when an LLM planned the answer

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
            if t.first_heard:
                out.append(f"<dt>first heard</dt><dd>{esc(t.first_heard)} <small>(another reading the recogniser "
                           "kept fits the tables better, so that one was answered)</small></dd>")
        out.append(f"<dt>question</dt><dd>{esc(self.question)}</dd>")
        if self.intent is not None:
            out.append(f"<dt>intent ({esc(self.planner)})</dt><dd><code>{esc(self.intent.describe())}</code></dd>")
        if self.sql:
            out.append(f"<dt>SQL</dt><dd><pre>{esc(self.sql)}</pre></dd>")
        if self.receipt is not None:
            out.append(f"<dt>model</dt><dd>{esc(self.receipt.describe())}</dd>")
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
