"""Answering in a report: replay a frozen intent, or plan afresh, then narrow it to the scope.

Replaying needs neither speech nor a planner: the stored intent goes through the scope, the
compiler, the guard and ClickHouse, so a scheduled run is deterministic and costs one query.
"""

from __future__ import annotations

import dataclasses
import time
from typing import TYPE_CHECKING, Any

from .. import history
from ..errors import BivoiceError
from ..models import Answer, ChartKind, Intent
from ..pipeline import run_sql
from ..planner import compile_intent
from .frozen import FrozenAnswer, freeze, in_report_run
from .scope import Scope

if TYPE_CHECKING:  # pragma: no cover
    from ..workspace import Workspace


def replay(
    frozen: FrozenAnswer,
    workspace: Workspace,
    *,
    scope: Scope | None = None,
    limit: int | None = None,
    chart: ChartKind | None = None,
    sql_only: bool = False,
    timings: dict[str, float] | None = None,
) -> Answer:
    """Run a frozen answer's intent again (narrowed to ``scope``) and return a fresh Answer.

    ``timings`` (seconds) are those of stages already done (planning an answer afresh)."""
    timings = dict(timings or {})
    t = time.perf_counter()
    intent = scope.apply(frozen.intent) if scope is not None else frozen.intent
    if chart is not None:
        intent = intent.model_copy(update={"chart": chart})
    sql = compile_intent(intent)
    timings["compile"] = time.perf_counter() - t
    # Workspace has no public "answer this intent" yet; the connection and the policy are
    # exactly what Workspace.ask would use.
    answer = run_sql(sql, question=frozen.question, conn=workspace._conn, policy=workspace.policy(limit),
                     intent=intent, sql_only=sql_only, transcript=frozen.transcript_object(),
                     timings=timings, planner=frozen.planner, chart=chart)
    replaced = scope.overrides(frozen.intent) if scope is not None else []
    if replaced:
        notice = f"The report's scope ({scope.describe()}) replaced {' and '.join(replaced)}."  # type: ignore[union-attr]
        answer = dataclasses.replace(answer, notices=(*answer.notices, notice))
    history.record(answer, dsn=workspace.dsn, database=workspace.database)
    return answer


def answer_in_scope(
    workspace: Workspace,
    *,
    question: str = "",
    audio: Any = None,
    frozen: FrozenAnswer | None = None,
    scope: Scope | None = None,
    limit: int | None = None,
    chart: ChartKind | None = None,
    sql_only: bool = False,
    planner: str = "offline",
) -> tuple[Answer, Intent | None]:
    """A question's answer in a report, and the intent *as asked* (before the scope narrowed
    it: what the notebook stores, so the next run's scope replaces the dates afresh).

    The frozen answer is replayed when there is one; else the question is planned afresh
    (offline only in a report run: no LLM calls on a schedule) and, within a scope, narrowed
    to it before it runs."""
    if frozen is not None:
        return replay(frozen, workspace, scope=scope, limit=limit, chart=chart, sql_only=sql_only), frozen.intent
    if planner != "offline" and in_report_run():
        raise BivoiceError(
            f"This cell has no frozen answer to replay, and a report run does not call the {planner} planner.",
            hint="run the cell once in JupyterLab (or `bivoice report freeze`) so its answer is stored, or use --planner offline",
        )
    ask = dict(limit=limit, chart=chart, planner=planner)
    if scope is None:
        answer = workspace.ask_audio(audio, sql_only=sql_only, **ask) if audio is not None else workspace.ask(question, sql_only=sql_only, **ask)
        return answer, answer.intent
    # plan without running, then run the intent narrowed to the scope (one query, not two)
    planned = workspace.ask_audio(audio, sql_only=True, **ask) if audio is not None else workspace.ask(question, sql_only=True, **ask)
    fresh = freeze(planned)
    if fresh is None:  # a reply in words: nothing to narrow
        return planned, None
    answer = replay(fresh, workspace, scope=scope, limit=limit, chart=chart, sql_only=sql_only,
                    timings={k: v for k, v in planned.timings.items() if k in ("transcribe", "plan")})
    return answer, fresh.intent
