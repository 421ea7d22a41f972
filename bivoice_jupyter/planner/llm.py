"""The LLM planner: any OpenAI-compatible model answers what the offline planner cannot.

A LangGraph graph runs each question::

    classify --> plan -------------> guard --> execute --> answer
       |          \\--> write_sql --/    |          |         ^
       |                  ^    ^        v          v         |
       |                  |    +----- repair <-----+         |   (at most max_repairs, then answer)
       +------------------+--------------------------------->+   (a reply in words, or a question back)

``classify`` sorts the message: analytic, conversational (answered in words, no SQL) or in need
of clarification (answered with a question back). ``plan`` asks the model for a typed
:class:`~bivoice_jupyter.models.Intent` (its pydantic JSON schema is the response format), checks
it against the catalog and compiles it like the offline planner's; only when the model says an
Intent cannot express the question (a join, a subquery) does ``write_sql`` ask for raw SQL.
Either way the SQL goes through the same guard, and runs only as a ``GuardedSQL``. A refusal or
an error goes back to the model with its structured reason (rule, fragment, ClickHouse code) for
at most ``max_repairs`` repairs. ``answer`` puts together the Answer with its receipt, or, when
the repairs did not help, :class:`LLMRepairFailed` saying what failed each time (raised, so the
notebook cell fails rather than showing a failure as a result).

``AutoPlanner`` uses the offline planner when it is confident (it returns a plan instead of
raising ``PlanningError``), the LLM otherwise, and falls back to the offline planner's answer
when the LLM fails. ``Answer.planner`` says which one answered, ``Answer.receipt`` what the
model cost.

Only this module imports langgraph (lazily, on the first LLM question).
"""

from __future__ import annotations

import dataclasses
import json
import re
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any, Literal, TypedDict

from pydantic import BaseModel, Field

from .._optional import import_extra
from ..errors import BivoiceError, GuardRejected, PlanningError, QueryError
from ..models import Answer, Intent, Receipt, Transcript
from ..sql.guard import Policy, guard
from ..sql.schema import Catalog, TableInfo
from .compile import compile_intent
from .llm_client import ChatClient, Usage
from .llm_config import LLMSettings
from .llm_context import SchemaContext, TokenCounter, Turn, schema_context, token_counter, turn_messages
from .llm_errors import LLMError, LLMInvalidResponse, LLMRepairFailed
from .offline import OfflinePlanner, Reply

Execute = Callable[[str, "Intent | None"], Answer]
"""Guard and run one SQL text (with the intent it came from, if any) -> an Answer; raises
GuardRejected or QueryError. The pipeline passes ``run_sql`` bound to the workspace."""

MAX_REPAIRS = 2
TURNS = 4


# --------------------------------------------------------------------------- what the model returns


class Route(BaseModel):
    """How to handle a message: ``analytic`` (needs the data), ``conversational`` (answered in
    words: ``reply``) or ``clarify`` (too vague to answer: ``reply`` asks what is meant)."""

    kind: Literal["analytic", "conversational", "clarify"]
    reply: str = ""


class PlanReply(BaseModel):
    """The question as an Intent, or ``needs_sql`` when only SQL can express it."""

    intent: Intent | None = None
    needs_sql: bool = False


class SQLReply(BaseModel):
    """One ClickHouse SELECT statement."""

    sql: str = Field(description="one ClickHouse SELECT statement over the tables listed")


# --------------------------------------------------------------------------- the prompts

# One system prompt for every step of every question over a catalog: servers that cache a
# prompt's prefix (llama.cpp's, OpenAI's) then read the schema and the instructions once, and
# each step, repair or later question adds only its own few tokens.
SYSTEM_PROMPT = """You are the planner of a data assistant. The data is in these ClickHouse tables, and \
only these:
{schema}

You take one of three steps; the user's message ends by naming it. Answer with JSON only.
route: sort the message. {{"kind": "analytic"}} when it asks about the data (totals, counts, lists, \
trends, comparisons); {{"kind": "conversational", "reply": "..."}} for greetings, thanks or questions \
about you, with a short reply; {{"kind": "clarify", "reply": "..."}} when it is too vague to answer, \
with a question asking what is meant.
plan: turn the question into {{"intent": INTENT, "needs_sql": false}}. INTENT has: "table"; \
"measures": a list of {{"agg": one of sum, avg, median, min, max, count, count_distinct, "column": a \
column (null with count counts rows)}}; "dimensions": columns to group by; "filters": a list of \
{{"column", "op": one of = != > >= < <= in between, "value"}}; "time_range": {{"column", "start", \
"end"}} as YYYY-MM-DD (end excluded); "time_column" and "time_grain" (day, week, month, quarter or \
year) for a trend; "order": a list of {{"by": a measure's alias or a dimension, "desc": true}}; \
"limit". Example: {example}
If the question needs a join, a subquery or logic that INTENT cannot express, answer \
{{"intent": null, "needs_sql": true}}.
sql: write one ClickHouse SELECT statement that answers the question: {{"sql": "SELECT ..."}}. Read \
only the tables above: no other database, no system tables, no table functions, no INSERT, ALTER, \
DROP, SETTINGS or FORMAT."""

STEP = "\n\n(step: {step})"

REPAIR_PROMPT = """That failed: {reason}
Fix it and answer with JSON only, in the same form.""" + STEP


def _example(catalog: Catalog) -> str:
    """An example intent over the catalog's own columns (a made-up one would mislead)."""
    for t in catalog.tables:
        numbers = [c.name for c in t.columns if c.kind == "number"]
        number = next((n for n in numbers if not n.lower().endswith("id")), numbers[0] if numbers else None)
        label = next((c.name for c in t.columns if c.kind == "text"), None)
        if number:
            intent: dict[str, Any] = {"table": t.name, "measures": [{"agg": "sum", "column": number}]}
            if label:
                intent["dimensions"] = [label]
            return json.dumps({"intent": intent, "needs_sql": False})
    return json.dumps({"intent": {"table": "t", "measures": [{"agg": "count", "column": None}]}, "needs_sql": False})


# --------------------------------------------------------------------------- intent checks


def check_intent(intent: Intent, catalog: Catalog, policy: Policy) -> tuple[Intent, list[str]]:
    """The intent with unambiguous gaps filled (database, the one date column for a grain,
    an order by a measure's column), and the problems a repair must fix (unknown columns...)."""
    table = _find_table(intent, catalog, policy)
    if table is None:
        names = ", ".join(t.name for t in catalog.tables) or "none"
        return intent, [f"there is no table {intent.table!r}; tables are: {names}"]
    cols = {c.name: c for c in table.columns}
    listing = ", ".join(cols)
    problems: list[str] = []
    update: dict[str, Any] = {"table": table.name, "database": table.database}

    def known(name: str | None, what: str) -> None:
        if name is not None and name not in cols:
            problems.append(f"{what} {name!r} is not a column of {table.name}; columns are: {listing}")

    def check_filter(f: Any, where: str) -> None:
        known(f.column, f"{where} column")
        if f.op in ("in", "not in") and not isinstance(f.value, list):
            problems.append(f"{where} on {f.column!r} with op {f.op!r} needs a list value")
        if f.op == "between" and not (isinstance(f.value, list) and len(f.value) == 2):
            problems.append(f"{where} on {f.column!r} with op 'between' needs [low, high]")
        if f.op not in ("in", "not in", "between") and isinstance(f.value, (list, dict)):
            problems.append(f"{where} on {f.column!r} with op {f.op!r} needs one value, not a list")
        if f.value is None and getattr(f, "against", None) is None:
            problems.append(f"{where} on {f.column!r} needs a value")

    def check_measure(m: Any) -> None:
        known(m.column, "measure column")
        if m.column is None and m.agg != "count":
            numbers = ", ".join(c.name for c in table.columns if c.kind == "number") or "none"
            problems.append(f'{m.agg} needs a "column": one of {numbers}')
        elif m.column in cols and m.agg in ("sum", "avg", "median") and cols[m.column].kind != "number":
            problems.append(f"{m.agg} of {m.column!r} is not possible: it is {cols[m.column].type}, not a number")
        for f in getattr(m, "where", ()):
            check_filter(f, "measure filter")
        if getattr(m, "over", None) is not None:
            check_measure(m.over)

    for m in intent.measures:
        check_measure(m)
    for h in getattr(intent, "having", ()):
        check_measure(h.measure)
    for d in intent.dimensions:
        known(d, "dimension")
    for c in getattr(intent, "columns", ()):
        known(c, "listed column")
    for f in intent.filters:
        check_filter(f, "filter")
    if intent.time_range is not None:
        known(intent.time_range.column, "time_range column")
    if intent.time_grain and not intent.time_column:
        dates = [c.name for c in table.columns if c.kind == "date"]
        if len(dates) == 1:
            update["time_column"] = dates[0]
        else:
            problems.append(f"time_grain needs a time_column, one of: {', '.join(dates) or 'none (no date column)'}")
    known(intent.time_column, "time_column")
    names = ({m.name for m in intent.measures} | set(intent.dimensions) | set(getattr(intent, "columns", ()))
             | ({intent.time_grain} if intent.time_grain else set()))
    order = []
    for o in intent.order:
        if o.by in names:
            order.append(o)
            continue
        by_column = next((m.name for m in intent.measures if m.column == o.by), None)
        if by_column is not None:
            order.append(o.model_copy(update={"by": by_column}))
        else:
            problems.append(f"order by {o.by!r} names no measure alias or dimension; use one of: {', '.join(sorted(names)) or 'none'}")
    update["order"] = order
    return intent.model_copy(update=update), problems


def _find_table(intent: Intent, catalog: Catalog, policy: Policy) -> TableInfo | None:
    name, db = intent.table, intent.database
    if "." in name and db is None:
        db, name = name.split(".", 1)
    matches = [t for t in catalog.tables if t.name == name and (db is None or t.database == db)]
    if len(matches) > 1:
        matches = [t for t in matches if t.database == policy.default] or matches
    return matches[0] if matches else None


def _reason(failure: Mapping[str, Any]) -> str:
    """A failure as the JSON the model reads back."""
    return json.dumps({k: v for k, v in failure.items() if v not in (None, "")}, ensure_ascii=False)


def _failure_line(failure: Mapping[str, Any]) -> str:
    """A failure in words, for people (receipts and errors)."""
    stage = failure.get("stage")
    if stage == "guard":
        rule = failure.get("rule")
        message = str(failure.get("message") or "").removeprefix(f"[{rule}] ")
        fragment = failure.get("fragment") or ""
        at = f" at {fragment!r}" if fragment and fragment not in message else ""
        return f"guard refused [{rule}]{at}: {message}"
    if stage == "clickhouse":
        code = f" (code {failure['code']})" if failure.get("code") is not None else ""
        return f"ClickHouse error{code}: {failure.get('message')}"
    return f"invalid {stage}: {failure.get('message')}"


# --------------------------------------------------------------------------- the planner


class _State(TypedDict, total=False):
    run: _Run  # this question's model client, schema, policy and execute step
    question: str
    route: str
    reply: str
    intent: Intent | None
    sql: str | None
    source: str  # "intent" or "sql": which node a repair goes back to
    output: str  # the model's last JSON, shown back to it with the failure
    failures: list[dict[str, Any]]
    tried: list[str]  # the model's answer at each failure, to notice a repair that repeats it
    failed: bool
    repairs: int
    answer: Answer | None
    error: BivoiceError | None  # what the answer node found failed, raised after the graph


class LLMPlanner:
    """Plans, guards, runs and repairs questions with an OpenAI-compatible model.

    ``catalog``: the schema (or a function returning the current one). ``settings``: the
    endpoint (or a function returning it); None reads :class:`LLMSettings` from the
    environment and ``.env`` at every question, and a mapping overrides some of those
    (``{"model": "gpt-4o-mini"}``). ``notes``: descriptions the model sees, keyed ``table`` or
    ``table.column``. ``turns``: how many earlier questions go with each one, for follow-ups.
    """

    name = "llm"

    def __init__(
        self,
        catalog: Catalog | Callable[[], Catalog],
        *,
        settings: LLMSettings | Mapping[str, Any] | Callable[[], LLMSettings | Mapping[str, Any] | None] | None = None,
        notes: Mapping[str, str] | None = None,
        turns: int = TURNS,
        max_repairs: int = MAX_REPAIRS,
        counter: TokenCounter | None = None,
    ) -> None:
        self._catalog = catalog
        self._settings = settings
        self.notes = notes if notes is not None else {}
        self.turns: deque[Turn] = deque(maxlen=turns)
        self.max_repairs = max_repairs
        self._counter = counter
        self._client: ChatClient | None = None
        self.last_context: SchemaContext | None = None

    def __repr__(self) -> str:
        return f"LLMPlanner({self.settings()!r})"

    # ----------------------------------------------------------------- parts

    @property
    def catalog(self) -> Catalog:
        return self._catalog() if callable(self._catalog) else self._catalog

    def settings(self) -> LLMSettings:
        """The settings in force: the ones given, else the environment's and .env's now."""
        given = self._settings() if callable(self._settings) else self._settings
        if isinstance(given, Mapping):  # overrides of the environment's settings (%config)
            return LLMSettings.load(**given)
        return given if given is not None else LLMSettings.load()

    @property
    def client(self) -> ChatClient:
        """The chat client for the current settings (a new one when they changed)."""
        settings = self.settings().require()
        if self._client is None or self._client.settings != settings:
            self._client = ChatClient(settings)
        return self._client

    @property
    def exchanges(self) -> list[Any]:
        """The last requests sent to the model and its replies (never the key)."""
        return list(self._client.exchanges) if self._client is not None else []

    def remember(self, question: str, answer: Answer) -> None:
        """Keep a turn for follow-ups (the auto planner calls this for offline answers too)."""
        reading = answer.intent.describe() if answer.intent is not None else (answer.sql or "a reply")
        self.turns.append(Turn(question, reading, answer.text))

    def context(self, question: str) -> SchemaContext:
        counter = self._counter or token_counter()
        budget = self.settings().context_tokens
        self.last_context = schema_context(self.catalog, budget=budget, counter=counter, question=question, notes=self.notes)
        return self.last_context

    # ----------------------------------------------------------------- answering

    def answer(
        self,
        question: str,
        *,
        execute: Execute,
        policy: Policy,
        transcript: Transcript | None = None,
        timings: dict[str, float] | None = None,
        sql: str | None = None,
    ) -> Answer:
        """Answer ``question`` through the graph. ``sql``, when given, is a draft to start from
        (a person's, or an earlier model's): it skips classify and plan, and is guarded, run and
        repaired like the model's own. Raises :class:`LLMError` when the model fails and
        :class:`LLMRepairFailed` when its query still fails after every repair."""
        started = time.perf_counter()
        client = self.client
        run = _Run(question=question, context=self.context(question), client=client, policy=policy, execute=execute,
                   catalog=self.catalog, history=turn_messages(self.turns), max_repairs=self.max_repairs,
                   planner=self.name, transcript=transcript, timings=dict(timings or {}), started=started,
                   before=client.usage.copy())
        state: _State = {"run": run, "question": question, "repairs": 0, "failures": [], "failed": False}
        if sql is not None:
            state.update({"sql": sql, "source": "sql", "output": SQLReply(sql=sql).model_dump_json(), "route": "analytic"})
        final = _graph().invoke(state, {"recursion_limit": 12 + 4 * self.max_repairs})
        error = final.get("error")
        if error is not None:
            raise error  # raised here, not in the graph: a short traceback, no chained context
        ans = final["answer"]
        self.remember(question, ans)
        return ans


# --------------------------------------------------------------------------- the graph


@dataclasses.dataclass(frozen=True)
class _Run:
    """What the graph's nodes share during one question. It travels in the state (the graph
    has no checkpointer, so nothing is serialised), and the compiled graph is built once."""

    question: str
    context: SchemaContext
    client: ChatClient
    policy: Policy
    execute: Execute
    catalog: Catalog
    history: list[dict[str, str]]
    max_repairs: int
    planner: str
    transcript: Transcript | None
    timings: dict[str, float]  # earlier stages' seconds (transcribe)
    started: float  # perf_counter() when the question came
    before: Usage  # the client's usage then: the receipt is the difference
    executing: list[float] = dataclasses.field(default_factory=list)  # seconds in execute, per call

    def run_sql(self, sql: str, intent: Intent | None) -> Answer:
        t = time.perf_counter()
        try:
            return self.execute(sql, intent)
        finally:
            self.executing.append(time.perf_counter() - t)

    def messages(self, step: str, state: _State) -> list[dict[str, str]]:
        """The chat for one step: the shared system prompt, earlier turns, the question and,
        for a repair, the model's failed answer and the structured reason it failed."""
        system = SYSTEM_PROMPT.format(schema=self.context.text or "(none yet)", example=_example(self.catalog))
        out = [{"role": "system", "content": system}, *self.history,
               {"role": "user", "content": self.question + STEP.format(step=step)}]
        if state.get("failed") and state.get("output"):
            out.append({"role": "assistant", "content": state["output"]})
            out.append({"role": "user", "content": REPAIR_PROMPT.format(reason=_reason(state["failures"][-1]), step=step)})
        return out


def _run(state: _State) -> _Run:
    return state["run"]


def _fail(state: _State, failure: dict[str, Any], **extra: Any) -> dict[str, Any]:
    tried = extra.get("output", state.get("output"))
    return {"failures": [*state.get("failures", []), failure], "tried": [*state.get("tried", []), tried],
            "failed": True, **extra}


def _repeated(state: _State) -> bool:
    """The repair gave back the answer that had just failed: at temperature 0 the next repair's
    prompt would be the same too, and so would its answer."""
    tried = state.get("tried", [])
    return len(tried) >= 2 and tried[-1] == tried[-2]


def _classify(state: _State) -> dict[str, Any]:
    run = _run(state)
    try:
        route = run.client.complete(run.messages("route", state), Route,
                                    name="route", max_tokens=min(120, run.client.settings.max_tokens))
    except LLMInvalidResponse:
        # an unreadable route is no reason to stop: plan, whose answer is checked and repaired
        return {"route": "analytic", "reply": ""}
    reply = route.reply.strip()
    if not re.search(r"[^\W\d_]{2}", reply):  # "..." or nothing: no reply at all
        reply = ""
    return {"route": route.kind, "reply": reply}


def _plan(state: _State) -> dict[str, Any]:
    run = _run(state)
    try:
        # a measure must name its column (null counts rows): small models otherwise leave it out
        reply = run.client.complete(run.messages("plan", state), PlanReply, name="plan", require={"Measure": ["column"]})
    except LLMInvalidResponse as exc:
        if not getattr(exc, "errors", None):  # cut short, not malformed: a repair would repeat it
            raise
        return _fail(state, {"stage": "json", "message": "; ".join(exc.errors)}, output=getattr(exc, "reply", ""),
                     source="intent", sql=None)
    output = reply.model_dump_json(exclude_defaults=True)
    if reply.intent is None or reply.needs_sql:
        return {"source": "sql", "failed": False, "output": output, "intent": None, "sql": None}
    intent, problems = check_intent(reply.intent, run.catalog, run.policy)
    if problems:
        return _fail(state, {"stage": "intent", "message": "; ".join(problems)}, output=output, source="intent",
                     sql=None, intent=intent)
    try:
        sql_text = compile_intent(intent)
    except (ValueError, TypeError, AttributeError, KeyError) as exc:
        return _fail(state, {"stage": "intent", "message": str(exc) or type(exc).__name__}, output=output,
                     source="intent", sql=None)
    return {"intent": intent, "sql": sql_text, "source": "intent", "output": output, "failed": False}


def _write_sql(state: _State) -> dict[str, Any]:
    run = _run(state)
    try:
        reply = run.client.complete(run.messages("sql", state), SQLReply, name="sql")
    except LLMInvalidResponse as exc:
        if not getattr(exc, "errors", None):
            raise
        return _fail(state, {"stage": "json", "message": "; ".join(exc.errors)}, output=getattr(exc, "reply", ""),
                     source="sql", sql=None)
    if not reply.sql.strip():
        return _fail(state, {"stage": "sql", "message": "the sql is empty"}, output=reply.model_dump_json(),
                     source="sql", sql=None)
    return {"sql": reply.sql, "intent": None, "source": "sql", "output": reply.model_dump_json(), "failed": False}


def _guard_failure(exc: GuardRejected) -> dict[str, Any]:
    return {"stage": "guard", "rule": exc.rule, "fragment": exc.fragment, "message": Exception.__str__(exc),
            "hint": exc.hint}


def _check(state: _State) -> dict[str, Any]:
    try:
        guard(state.get("sql") or "", _run(state).policy)
    except GuardRejected as exc:
        return _fail(state, _guard_failure(exc))
    return {"failed": False}


def _execute(state: _State) -> dict[str, Any]:
    try:
        ans = _run(state).run_sql(state.get("sql") or "", state.get("intent"))
    except GuardRejected as exc:  # the pipeline guards again: same rules, same answer
        return _fail(state, _guard_failure(exc))
    except QueryError as exc:
        return _fail(state, {"stage": "clickhouse", "code": exc.code, "message": Exception.__str__(exc)[:600],
                             "hint": exc.hint})
    return {"answer": ans, "failed": False}


def _answer(state: _State) -> dict[str, Any]:
    """The outcome: the answer with its receipt and timings, a reply in words, or the error
    that says what failed."""
    run = _run(state)
    usage = run.client.usage.since(run.before)
    failures = tuple(_failure_line(f) for f in state.get("failures", []))
    receipt = Receipt(
        model=usage.model or run.client.settings.model or "",
        tokens_in=usage.tokens_in,
        tokens_out=usage.tokens_out,
        latency_s=round(usage.latency_s, 6),
        calls=usage.calls,
        retries=usage.retries,
        repairs=state.get("repairs", 0),
        failures=failures,
        context_tokens=run.context.tokens,
        counter=run.context.counter,
    )
    timings = {**run.timings, "plan": time.perf_counter() - run.started - sum(run.executing)}
    route = state.get("route")
    if route in ("conversational", "clarify"):
        text = state.get("reply") or ("Could you say a little more about what you want to know?"
                                      if route == "clarify" else "Ask me about your data.")
        notices = ("The question needs clarification; this is a question back.",) if route == "clarify" else ()
        return {"answer": Answer(question=run.question, text=text, transcript=run.transcript, timings=timings,
                                 notices=notices, planner=run.planner, receipt=receipt)}
    ans = state.get("answer")
    if ans is None or state.get("failed"):
        last = state["failures"][-1] if state.get("failures") else {}
        if last.get("stage") == "json":
            err: BivoiceError = LLMInvalidResponse(
                f"The model's answer did not fit the schema after {receipt.repairs} repair(s): {last.get('message')}")
            err.receipt = receipt  # type: ignore[attr-defined]
        else:
            again = " (its repair repeated the failed answer, so it was not asked again)" if _repeated(state) else ""
            err = LLMRepairFailed(
                f"The model's query failed {len(failures)} time(s){again}; last: {failures[-1] if failures else 'unknown'}",
                failures=failures, sql=state.get("sql") or "", receipt=receipt,
                hint="rephrase the question, or write the SQL yourself with --sql",
            )
        return {"error": err}
    timings.update({k: v for k, v in ans.timings.items() if k not in timings})
    notices = ans.notices
    if receipt.repairs:
        notices += (f"The model's first query failed; it was repaired {receipt.repairs} time(s): " + "; ".join(failures),)
    return {"answer": dataclasses.replace(ans, timings=timings, planner=run.planner, receipt=receipt, notices=notices)}


def _repair(state: _State) -> dict[str, Any]:
    return {"repairs": state.get("repairs", 0) + 1}


def _on_failure(state: _State) -> str:
    if _repeated(state):
        return "answer"
    return "repair" if state.get("repairs", 0) < _run(state).max_repairs else "answer"


def _after_plan(state: _State) -> str:
    if state.get("failed"):
        return _on_failure(state)
    return "write_sql" if state.get("source") == "sql" else "guard"


def _then(next_node: str) -> Callable[[_State], str]:
    def route(state: _State) -> str:
        return _on_failure(state) if state.get("failed") else next_node

    return route


_COMPILED: Any = None


def _graph() -> Any:
    """The compiled graph, built once per process (what differs per question is in the state)."""
    global _COMPILED
    if _COMPILED is None:
        lg = import_extra("langgraph.graph", "llm", package="langgraph")
        g = lg.StateGraph(_State)
        for name, node in (("classify", _classify), ("plan", _plan), ("write_sql", _write_sql), ("guard", _check),
                           ("execute", _execute), ("repair", _repair), ("answer", _answer)):
            g.add_node(name, node)
        g.add_conditional_edges(lg.START, lambda s: "guard" if s.get("sql") else "classify", ["guard", "classify"])
        g.add_conditional_edges("classify", lambda s: "plan" if s.get("route") == "analytic" else "answer",
                                ["plan", "answer"])
        g.add_conditional_edges("plan", _after_plan, ["repair", "answer", "write_sql", "guard"])
        g.add_conditional_edges("write_sql", _then("guard"), ["repair", "answer", "guard"])
        g.add_conditional_edges("guard", _then("execute"), ["repair", "answer", "execute"])
        g.add_conditional_edges("execute", _then("answer"), ["repair", "answer"])
        g.add_conditional_edges("repair", lambda s: "write_sql" if s.get("source") == "sql" else "plan",
                                ["plan", "write_sql"])
        g.add_edge("answer", lg.END)
        _COMPILED = g.compile()
    return _COMPILED


class AutoPlanner:
    """The offline planner when it is confident, the LLM otherwise; the offline planner's
    answer (its refusal, naming what it could not place) when the LLM fails."""

    name = "auto"

    def __init__(self, offline: OfflinePlanner, llm: LLMPlanner) -> None:
        self.offline = offline
        self.llm = llm

    def __repr__(self) -> str:
        return f"AutoPlanner(offline, {self.llm!r})"

    def answer(
        self,
        question: str,
        *,
        execute: Execute,
        policy: Policy,
        transcript: Transcript | None = None,
        timings: dict[str, float] | None = None,
    ) -> Answer:
        base = dict(timings or {})
        t = time.perf_counter()
        try:
            plan = self.offline.plan(question)
        except PlanningError as exc:
            offline_error = exc
        else:
            plan_s = time.perf_counter() - t
            if isinstance(plan, Reply):
                ans = Answer(question=question, text=plan.text, transcript=transcript, timings={**base, "plan": plan_s},
                             planner=self.offline.name)
            else:
                ans = execute(compile_intent(plan), plan)
                merged = {**base, "plan": plan_s, **{k: v for k, v in ans.timings.items() if k not in base}}
                ans = dataclasses.replace(ans, timings=merged, planner=self.offline.name)
            self.llm.remember(question, ans)
            return ans

        settings = self.llm.settings()
        if not settings.configured:
            offline_error.hint = _join_hint(offline_error.hint, "or set BIVOICE_LLM_MODEL so that an LLM can try (--planner auto)")
            raise offline_error
        try:
            ans = self.llm.answer(question, execute=execute, policy=policy, transcript=transcript, timings=base)
        except LLMError as llm_error:
            # fall back: the offline planner's own answer, which names the word it could not place
            offline_error.hint = _join_hint(
                offline_error.hint, f"the LLM planner could not help either ({type(llm_error).__name__}: {llm_error})")
            offline_error.llm_error = llm_error  # type: ignore[attr-defined]
            raise offline_error from None
        first_line = Exception.__str__(offline_error)
        note = f"The offline planner was not sure ({first_line}); {ans.receipt.model if ans.receipt else 'the LLM'} answered."
        return dataclasses.replace(ans, notices=(*ans.notices, note))


def _join_hint(hint: str, more: str) -> str:
    return f"{hint}; {more}" if hint else more


__all__ = ["AutoPlanner", "LLMPlanner", "LLMSettings", "PlanReply", "Route", "SQLReply", "check_intent", "Usage"]
