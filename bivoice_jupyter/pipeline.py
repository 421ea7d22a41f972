"""Question (typed or spoken) -> plan -> guard -> execute -> DataFrame -> chart. No IPython.

Each stage is timed (seconds) into ``Answer.timings``.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Callable

import pandas as pd

from . import charts
from .models import HEARD_NOTHING, Answer, ChartKind, Intent, Transcript
from .planner import OfflinePlanner, Reply, compile_intent
from .sql.clickhouse import Connection
from .sql.guard import Policy, guard

if TYPE_CHECKING:  # pragma: no cover - the LLM planner loads only when asked for
    from .planner.llm import AutoPlanner, LLMPlanner


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.0f}" if value.is_integer() else f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d") if value == value.normalize() else str(value)
    return str(value)


def summarise(df: pd.DataFrame, intent: Intent | None) -> str:
    """One line about the result, in words."""
    if df.empty:
        return "No rows matched."
    numbers = [c for c in df.columns if df[c].dtype.kind in "iuf"]
    labels = [c for c in df.columns if c not in numbers]
    if len(df) == 1:
        row = df.iloc[0]
        return "; ".join(f"{c}: {_fmt(row[c].item() if hasattr(row[c], 'item') else row[c])}" for c in df.columns[:6]) + "."
    if intent is not None and intent.measures and labels:
        m = intent.measures[0].name
        if m in numbers:
            top = df.loc[df[m].idxmax()]
            label = ", ".join(_fmt(top[c])[:30] for c in labels)
            return f"{len(df):,} rows; highest {m}: {label} ({_fmt(top[m].item())})."
    return f"{len(df):,} rows."


def answer(
    question: str,
    *,
    conn: Connection,
    policy: Policy,
    planner: OfflinePlanner | LLMPlanner | AutoPlanner,
    chart: ChartKind | None = None,
    sql_only: bool = False,
    transcript: Transcript | None = None,
    timings: dict[str, float] | None = None,
    on_stage: Callable[[str], None] | None = None,
) -> Answer:
    """Answer a question in words; ``transcript`` is passed when the words were spoken.
    ``on_stage(name)`` is called as planning and querying start (a status line shows it)."""
    timings = dict(timings or {})
    if transcript is not None and not transcript.text.strip():
        return Answer(question="", text=HEARD_NOTHING,
                      transcript=transcript, timings=timings)
    if not isinstance(planner, OfflinePlanner):
        # the llm and auto planners run their own graph: plan -> guard -> execute, with repairs
        def execute(sql: str, intent: Intent | None) -> Answer:
            if chart is not None and intent is not None:
                intent = intent.model_copy(update={"chart": chart})
            return run_sql(sql, question=question, conn=conn, policy=policy, intent=intent, sql_only=sql_only,
                           transcript=transcript, timings=timings, chart=chart, on_stage=on_stage)

        if on_stage is not None:
            on_stage("planning")
        return planner.answer(question, execute=execute, policy=policy, transcript=transcript, timings=timings)
    if on_stage is not None:
        on_stage("planning")
    t = time.perf_counter()
    plan = planner.plan(question)
    timings["plan"] = time.perf_counter() - t
    if isinstance(plan, Reply):
        return Answer(question=question, text=plan.text, transcript=transcript, timings=timings, planner=planner.name)
    if chart is not None:
        plan = plan.model_copy(update={"chart": chart})
    sql = compile_intent(plan)
    return run_sql(sql, question=question, conn=conn, policy=policy, intent=plan, sql_only=sql_only,
                   transcript=transcript, timings=timings, planner=planner.name, on_stage=on_stage)


def run_sql(
    sql: str,
    *,
    question: str,
    conn: Connection,
    policy: Policy,
    intent: Intent | None = None,
    sql_only: bool = False,
    transcript: Transcript | None = None,
    timings: dict[str, float] | None = None,
    planner: str = "sql",
    chart: ChartKind | None = None,
    on_stage: Callable[[str], None] | None = None,
) -> Answer:
    """Guard, run and chart one SQL text (``on_stage("querying")`` just before it runs)."""
    timings = dict(timings or {})
    t = time.perf_counter()
    guarded = guard(sql, policy)
    timings["guard"] = time.perf_counter() - t
    if sql_only:
        return Answer(question=question, text="SQL only; not run.", transcript=transcript, intent=intent,
                      sql=guarded.sql, timings=timings, planner=planner)
    if on_stage is not None:
        on_stage("querying")
    result = conn.run(guarded)
    timings["execute"] = result.seconds
    notices: list[str] = []
    if result.truncated:
        notices.append(f"The result was cut at {conn.limits.max_result_rows:,} rows (max_result_rows).")
    elif guarded.limit_added and len(result.df) >= (guarded.limit or 0):
        notices.append(f"Showing the first {guarded.limit:,} rows: a LIMIT was added (--limit to change it).")
    t = time.perf_counter()
    fig = charts.figure(result.df, intent, kind=chart, title=question[:90])
    timings["chart"] = time.perf_counter() - t
    return Answer(
        question=question,
        text=summarise(result.df, intent),
        transcript=transcript,
        intent=intent,
        sql=guarded.sql,
        df=result.df,
        figure=fig,
        timings=timings,
        notices=tuple(notices),
        planner=planner,
    )

