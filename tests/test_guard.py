"""The SQL guard, driven by the fixture files in ``tests/fixtures/guard``.

``allow.sql`` holds queries the guard must let through (each is also run on chDB and compared
with the query as written), ``deny.sql`` queries it must refuse with a named rule, and
``rewrite.sql`` the exact SQL it must produce. The format, shared by all three::

    -- id: some_case_id
    -- rule: expected_rule          (deny.sql only)
    SELECT ...                      (the SQL: every line up to the next header)
    -- expect:                      (rewrite.sql only: the SQL the guard must produce; its lines
    SELECT ...                       are joined with single spaces)

Lines before the first ``-- id:`` are the file's own comments. Any other ``--`` line is SQL.

Allowed and rewritten queries are also checked against ClickHouse's own reading of the SQL the
guard writes (``EXPLAIN AST`` and ``EXPLAIN QUERY TREE`` name every table it would read), and
hypothesis mutates allowed queries (foreign tables, forbidden calls, SQL-looking strings) to
check that nothing outside the workspace gets through.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import math
import re
import time
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
import sqlglot
from clickhouse_connect.driver.exceptions import DatabaseError
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlglot import exp

from bivoice_jupyter.errors import BivoiceError, GuardRejected, QueryError
from bivoice_jupyter.sql import guard as guard_module
from bivoice_jupyter.sql.clickhouse import query_settings
from bivoice_jupyter.sql.guard import DIALECT, GuardedSQL, Policy, guard, is_guarded

GUARD_FIXTURES = Path(__file__).parent / "fixtures" / "guard"
RULE_NAMES = frozenset(
    """parse_error empty too_long multiple_statements not_select too_complex unknown_node
    into_clause settings_clause format_clause table_function function_not_allowed
    foreign_database system_tables""".split()
)
POLICY = Policy(default="default", databases=frozenset({"default"}), limit=1000)


# ---------------------------------------------------------------- the fixture format


@dataclass(frozen=True)
class Case:
    id: str
    sql: str
    rule: str | None = None
    expect: str | None = None
    line: int = 0


_HEADER = re.compile(r"^-- (id|rule|expect):[ \t]*(.*?)\s*$")


def load_cases(name: str) -> list[Case]:
    """The cases of one fixture file, checked for the shape that file needs."""
    path = GUARD_FIXTURES / name
    cases: list[Case] = []
    current: dict | None = None

    def finish() -> None:
        if current is not None:
            sql = "\n".join(current["sql"]).strip("\n")
            expect = " ".join(s.strip() for s in current["expect"] if s.strip()) if current["in_expect"] else None
            cases.append(Case(current["id"], sql, current["rule"], expect, current["line"]))

    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        header = _HEADER.match(line)
        if header and header[1] == "id":
            finish()
            current = {"id": header[2], "rule": None, "sql": [], "expect": [], "in_expect": False, "line": number}
        elif current is None:
            continue  # the file's preamble
        elif header and header[1] == "rule":
            current["rule"] = header[2]
        elif header and header[1] == "expect":
            current["in_expect"] = True
            current["expect"].append(header[2])
        else:
            current["expect" if current["in_expect"] else "sql"].append(line)
    finish()

    where = {c.id: f"{name}:{c.line}" for c in cases}
    ids = [c.id for c in cases]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"{name}: duplicate case ids {duplicates}")
    for c in cases:
        if not re.fullmatch(r"[a-z0-9_]+", c.id):
            raise ValueError(f"{where[c.id]}: case id {c.id!r} is not snake_case")
        if (c.rule is not None) != (name == "deny.sql"):
            raise ValueError(f"{where[c.id]}: '-- rule:' belongs to deny.sql cases, and every one needs it")
        if c.rule is not None and c.rule not in RULE_NAMES:
            raise ValueError(f"{where[c.id]}: unknown rule {c.rule!r}")
        if (c.expect is not None) != (name == "rewrite.sql") or c.expect == "":
            raise ValueError(f"{where[c.id]}: '-- expect:' belongs to rewrite.sql cases, and every one needs it")
    return cases


def params(name: str) -> list:
    return [pytest.param(case, id=case.id) for case in load_cases(name)]


ALLOW = load_cases("allow.sql")
DENY = load_cases("deny.sql")


# ---------------------------------------------------------------- the workspace


# `events`: what the demo tables lack: array and map columns, a ReplacingMergeTree (FINAL) and a
# sampling key (SAMPLE). 6,000 events, then 100 of them again with a higher version.
EVENTS = (
    "CREATE TABLE default.events (event_id UInt64, user_id UInt32, ts DateTime, kind LowCardinality(String), "
    "tags Array(String), amounts Array(Float64), attrs Map(String, String), version UInt32) "
    "ENGINE = ReplacingMergeTree(version) ORDER BY (intHash32(user_id), event_id) SAMPLE BY intHash32(user_id)",
    "INSERT INTO default.events SELECT number, number % 300, toDateTime('2024-01-01 00:00:00', 'UTC') + number * 617, "
    "['view', 'click', 'buy'][number % 3 + 1], arrayMap(i -> concat('t', toString((number + i) % 7)), range(number % 4)), "
    "arrayMap(i -> round(((number * 7 + i) % 100) / 3, 2), range(number % 3)), "
    "map('device', ['web', 'ios', 'android'][number % 3 + 1]), 1 FROM numbers(6000)",
    "INSERT INTO default.events SELECT number, number % 300, toDateTime('2024-01-01 00:00:00', 'UTC') + number * 617, "
    "'refund', [], [], map('device', 'web'), 5 FROM numbers(100)",
)


@pytest.fixture(scope="module")
def guard_ws(ws):
    """The session workspace with two more tables, ``customers`` and ``events``, dropped again
    afterwards so the other test modules see the workspace as the fixture made it."""
    customers = pd.DataFrame(
        {
            "customer": [f"C{n:04d}" for n in range(1, 1500)],
            "segment": [("Enterprise", "SMB", "Consumer")[n % 3] for n in range(1, 1500)],
            "signup_year": [2015 + n % 8 for n in range(1, 1500)],
        }
    )
    ws.load(customers, table="customers", if_exists="replace")
    ws._conn.command(exp.Drop(tables=[exp.table_("events", db="default", quoted=True)], kind="TABLE", exists=True))
    for statement in EVENTS:  # test data, written as text: not user SQL, never guarded
        ws._conn.client.command(statement)
    ws.refresh()
    yield ws
    for name in ("customers", "events"):
        ws._conn.command(exp.Drop(tables=[exp.table_(name, db="default", quoted=True)], kind="TABLE", exists=True))
    ws.refresh()


def _cell(value: object) -> str:
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.9g}"
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return _cell(value.tolist())
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_cell(v) for v in value) + "]"
    return str(value)


def _rows(df: pd.DataFrame) -> list[tuple[str, ...]]:
    """The rows as sorted tuples of text: comparable across column names and row order, and
    blind to the last bits of float sums that ClickHouse adds up in a different order."""
    return sorted(tuple(_cell(v) for v in row) for row in df.itertuples(index=False))


def _explain(ws, kind: str, sql: str) -> str | None:
    try:
        plan = ws._conn.client.query_df(f"EXPLAIN {kind} {sql}", settings=query_settings(ws.limits))
    except Exception:  # ClickHouse cannot parse or resolve it: then it cannot run it either
        return None
    return "\n".join(plan.iloc[:, 0])


def assert_reads_only_the_workspace(ws, sql: str, *, runs: bool = True) -> None:
    """ClickHouse's own reading of the guard's SQL names no table outside the workspace.

    ``EXPLAIN AST`` is its parser: every table written in the query, and no table function,
    even in a query it would then refuse. ``EXPLAIN QUERY TREE`` is its analyzer: every table
    it resolves, ``x IN name`` and scalar subqueries included. ``runs``: the query is valid.
    """
    ast = _explain(ws, "AST", sql)
    assert ast is not None or not runs, f"ClickHouse cannot parse {sql}"
    if ast is None:
        return
    assert not re.findall(r"TableExpression[^\n]*\n\s*Function (\S+)", ast), f"{sql} calls a table function"
    for name in re.findall(r"TableIdentifier (\S+)", ast):
        database = name.rpartition(".")[0]
        assert not database or database in ws.databases, f"{sql} names {name}"  # unqualified: a CTE
    tree = _explain(ws, "QUERY TREE", sql)
    assert tree is not None or not runs, f"ClickHouse cannot resolve {sql}"
    for name in re.findall(r"\btable_name: (\S+)", tree or ""):
        database = name.split(".")[0]
        # system.one is where ClickHouse reads a SELECT without FROM (no query may name it), and
        # a recursive CTE is kept in a temporary table of the query's own
        assert name == "system.one" or database in ws.databases or database == "_temporary_and_external_tables", (
            f"{sql} reads {name}"
        )
    assert "TABLE_FUNCTION" not in (tree or "")


# ---------------------------------------------------------------- the three fixture files


@pytest.mark.parametrize("case", params("allow.sql"))
def test_allowed(case: Case, guard_ws) -> None:
    guarded = guard(case.sql, guard_ws.policy())
    assert is_guarded(guarded)
    assert all(t.split(".")[0] in guard_ws.databases for t in guarded.tables)
    df = guard_ws.sql(case.sql)
    assert isinstance(df, pd.DataFrame)
    assert_reads_only_the_workspace(guard_ws, guarded.sql)
    # The same rows as the query as the user wrote it, run without the guard (the guard adds
    # at most a LIMIT the demo data does not reach, so only smaller results are compared).
    raw = guard_ws._conn.client.query_df(case.sql.rstrip().rstrip(";"), settings=query_settings(guard_ws.limits))
    if len(raw) < POLICY.limit:
        assert _rows(df) == _rows(raw), f"the guard changed the result of {case.id}: {guarded.sql}"


# Rules whose refusals point at a part of the query: the fragment is set and quoted in the message.
RULES_WITH_A_FRAGMENT = RULE_NAMES - {"empty", "too_long", "too_complex", "parse_error"}


@pytest.mark.parametrize("case", params("deny.sql"))
def test_denied(case: Case) -> None:
    with pytest.raises(GuardRejected) as caught:
        guard(case.sql, POLICY)
    error = caught.value
    assert error.rule == case.rule, f"{case.id}: {error}"
    # what the LLM planner gets back for repair: the rule, the offending part, what is allowed
    assert error.hint, f"{case.id}: no hint says what would be allowed"
    assert str(error).startswith(f"[{error.rule}] ")
    if error.rule in RULES_WITH_A_FRAGMENT:
        assert error.fragment, f"{case.id}: no fragment"
        assert error.fragment[:60] in str(error), f"{case.id}: the message does not quote {error.fragment!r}"


@pytest.mark.parametrize("case", params("rewrite.sql"))
def test_rewritten(case: Case, guard_ws) -> None:
    guarded = guard(case.sql, POLICY)
    assert guarded.sql == case.expect
    guard_ws.sql(case.sql)  # and what it writes runs
    assert_reads_only_the_workspace(guard_ws, guarded.sql)


def test_deny_cases_cover_every_rule() -> None:
    assert {c.rule for c in DENY} | {rule for _, rule in PATHOLOGICAL.values()} == RULE_NAMES
    assert set(guard_module.HINTS) == RULE_NAMES  # every rule says what would be allowed


def test_the_corpus_is_as_large_as_the_issue_asks() -> None:
    assert len(DENY) >= 300 and len(ALLOW) >= 120


def test_workspace_policy_is_the_one_the_cases_assume(ws) -> None:
    assert ws.policy() == POLICY


# ---------------------------------------------------------------- text a fixture file cannot hold well


def _nested(depth: int) -> str:
    return "SELECT " + "(" * depth + "1" + ")" * depth


PATHOLOGICAL = {
    "empty_string": ("", "empty"),
    "only_spaces": ("   ", "empty"),
    "only_whitespace_mix": (" \t\r\n\f\v ", "empty"),
    "only_a_line_comment": ("-- nothing here", "empty"),
    "only_a_block_comment": ("/* SELECT 1 */", "empty"),
    "only_semicolons": (";;;", "empty"),
    "nul_byte_inside": ("SELECT 1\x00; DROP TABLE sales", "parse_error"),
    "nul_byte_in_string": ("SELECT 'a\x00b'", "parse_error"),
    "binary_garbage": (bytes(range(256)).decode("latin-1"), "parse_error"),
    "random_bytes": ("\x8b\x1f\xff\xfe\x01\x02SELECT\x7f\x80", "not_select"),  # read as `x AS y`
    "unicode_noncharacters": ("\ufeff\ufffe", "not_select"),  # read as a column name
    "lone_surrogate": ("SELECT '\udcff'", "parse_error"),
    "one_megabyte": ("SELECT 1 " + " " * 1_000_000, "too_long"),
    "one_megabyte_of_unions": ("SELECT 1 UNION ALL " * 60_000 + "SELECT 1", "too_long"),
    "just_over_the_limit": ("SELECT 1" + " " * guard_module.MAX_SQL_CHARS, "too_long"),
    "too_many_tokens": ("SELECT " + "+".join(["1"] * 6_000), "too_complex"),
    "nested_parentheses_25": (_nested(25), "too_complex"),
    "nested_parentheses_1000": (_nested(1000), "too_complex"),
    "nested_parentheses_9000": (_nested(9000), "too_complex"),
    "nested_parentheses_20000": (_nested(20_000), "too_long"),
    "nested_brackets_5000": ("SELECT " + "[" * 5000 + "1" + "]" * 5000, "too_complex"),
    "unbalanced_open_parentheses": ("SELECT " + "(" * 15_000, "too_complex"),
    "unbalanced_open_parentheses_too_long": ("SELECT " + "(" * 30_000, "too_long"),
    "nested_subqueries_30": ("SELECT * FROM " + "(SELECT * FROM " * 30 + "sales" + ")" * 30, "too_complex"),
    "nested_functions_30": ("SELECT " + "abs(" * 30 + "1" + ")" * 30, "too_complex"),
    "deep_cast_chain": ("SELECT 1" + "::Int64" * 2000, "too_complex"),
    "deep_tuple_index_chain": ("SELECT tuple(1)" + ".1" * 3000, "too_complex"),
    "deep_dot_chain": ("SELECT a" + ".b" * 3000 + " FROM sales", "too_complex"),
    "deep_unary_minus": ("SELECT " + "- " * 3000 + "1", "parse_error"),
    "long_subscript_chain": ("SELECT [1]" + "[1]" * 3000, "too_complex"),
    "nbsp_between_keywords": ("SELECT * FROM sales UNION\u00a0ALL SELECT * FROM system.tables", "system_tables"),
    "em_space_before_system": ("SELECT * FROM\u2003system.tables", "system_tables"),
    "zero_width_space_in_database": ("SELECT * FROM system\u200b.tables", "foreign_database"),
    "cyrillic_lookalike_system": ("SELECT * FROM \u0455ystem.tables", "foreign_database"),
    "cyrillic_lookalike_default": ("SELECT * FROM d\u0435fault.sales", "foreign_database"),
}


@pytest.mark.parametrize(("text", "rule"), list(PATHOLOGICAL.values()), ids=list(PATHOLOGICAL))
def test_text_a_fixture_file_cannot_hold_is_refused_fast(text: str, rule: str) -> None:
    started = time.thread_time()  # CPU time: a busy machine does not make it flaky
    with pytest.raises(GuardRejected) as caught:
        guard(text, POLICY)
    assert caught.value.rule == rule
    assert caught.value.hint
    # the slowest of these takes about 0.15 s of CPU; a guard that is itself the bomb takes seconds
    assert time.thread_time() - started < 2.0


def test_a_tree_with_too_many_parts_is_refused(monkeypatch) -> None:
    """MAX_NODES bounds the walk; the text limits make it hard to reach, so it is lowered here."""
    monkeypatch.setattr(guard_module, "MAX_NODES", 50)
    with pytest.raises(GuardRejected) as caught:
        guard("SELECT count() FROM sales WHERE " + " AND ".join(["region = 'x'"] * 20), POLICY)
    assert caught.value.rule == "too_complex"
    assert guard("SELECT count() FROM sales WHERE region = 'x'", POLICY)


def test_the_sql_the_guard_writes_may_outgrow_the_text_limit() -> None:
    """Qualified names make the written SQL longer than the text: the second pass allows it."""
    text = "SELECT count() FROM sales WHERE " + " OR ".join(
        ["order_id IN (SELECT order_id FROM sales)"] * (guard_module.MAX_SQL_CHARS // 45))
    assert len(text) <= guard_module.MAX_SQL_CHARS
    assert len(guard(text, POLICY).sql) > guard_module.MAX_SQL_CHARS


@pytest.mark.parametrize("name", ['"system.tables"', "`system.tables`", '"default.sales"', "`system.one`"])
def test_a_quoted_name_with_a_dot_is_one_table_name(guard_ws, name: str) -> None:
    """``"system.tables"`` names a table called system.tables in the default database: the guard
    qualifies it so, and ClickHouse finds no such table (it reads nothing)."""
    made = guard(f"SELECT * FROM {name}", POLICY)
    assert made.sql == f'SELECT * FROM "default"."{name[1:-1]}" LIMIT 1000'
    with pytest.raises(QueryError) as caught:
        guard_ws._conn.run(made)
    assert caught.value.code == 60  # UNKNOWN_TABLE


@pytest.mark.parametrize("text", [None, b"SELECT 1", 1, ["SELECT 1"]], ids=["none", "bytes", "int", "list"])
def test_only_text_is_guarded(text: object) -> None:
    with pytest.raises(GuardRejected) as caught:
        guard(text, POLICY)  # type: ignore[arg-type]
    assert caught.value.rule == "parse_error"


def test_refusal_does_not_depend_on_the_callers_stack_depth() -> None:
    """A notebook cell calls the guard from deeper in the stack than a test does."""

    def at_depth(n: int) -> str:
        if n:
            return at_depth(n - 1)
        try:
            guard(_nested(guard_module.MAX_NESTING), POLICY)
            return "allowed"
        except GuardRejected as exc:
            return exc.rule

    assert at_depth(0) == "allowed"
    assert at_depth(200) == "allowed"


def test_a_policy_on_another_database_qualifies_and_confines() -> None:
    policy = Policy(default="analytics", databases=frozenset({"analytics", "shared"}))
    assert guard("SELECT * FROM sales", policy).sql == 'SELECT * FROM "analytics"."sales" LIMIT 1000'
    assert guard("SELECT * FROM shared.rates", policy).tables == ("shared.rates",)
    for text in ("SELECT * FROM default.sales", "SELECT 1 IN default.sales"):
        with pytest.raises(GuardRejected) as caught:
            guard(text, policy)
        assert caught.value.rule == "foreign_database"
    # a name that is a CTE only inside a subquery is a table outside it: qualified, so
    # ClickHouse cannot read it from its current database ("default")
    sql = guard("SELECT * FROM (WITH t AS (SELECT 1) SELECT * FROM t) AS a, t", policy).sql
    assert sql.endswith('CROSS JOIN "analytics"."t" LIMIT 1000')


# ---------------------------------------------------------------- GuardedSQL and the executor


def test_guard_rejected_carries_rule_fragment_and_sql() -> None:
    text = "SELECT region FROM sales JOIN system.tables ON 1 = 1"
    with pytest.raises(GuardRejected) as caught:
        guard(text, POLICY)
    error = caught.value
    assert isinstance(error, BivoiceError)
    assert error.rule == "system_tables"
    assert error.fragment == "system.tables"
    assert error.sql == text
    assert str(error).startswith("[system_tables] ")
    assert error.hint


def test_guarded_sql_is_made_only_by_the_guard() -> None:
    made = guard("SELECT count() FROM sales", POLICY)
    fields = {f.name: getattr(made, f.name) for f in dataclasses.fields(made)}
    with pytest.raises(TypeError):
        GuardedSQL(**{**fields, "_seal": object()})
    with pytest.raises(TypeError):
        GuardedSQL(**{**fields, "sql": "SELECT * FROM system.tables"})  # the real seal, other SQL
    with pytest.raises(TypeError):
        GuardedSQL("SELECT 1", "SELECT 1", (), None, False, None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        dataclasses.replace(made, sql="SELECT * FROM system.tables")
    assert is_guarded(copy.copy(made)) and is_guarded(copy.deepcopy(made))


def test_executor_refuses_anything_but_guarded_sql(guard_ws) -> None:
    made = guard("SELECT count() FROM sales", POLICY)
    lookalike = SimpleNamespace(**{f.name: getattr(made, f.name) for f in dataclasses.fields(made)})
    lookalike.sql = "SELECT name FROM system.tables"
    tampered = copy.copy(made)
    object.__setattr__(tampered, "sql", "SELECT name FROM system.tables")
    for query in ("SELECT 1", lookalike, tampered, None):
        with pytest.raises(BivoiceError, match="Only a GuardedSQL"):
            guard_ws._conn.run(query)
    assert guard_ws._conn.run(made).df.iloc[0, 0] == 20_000


def test_every_query_is_sent_read_only(ws) -> None:
    settings_sent = query_settings(ws.limits)
    assert list(settings_sent)[-1] == "readonly" and settings_sent["readonly"] == 1
    assert settings_sent["max_result_rows"] == settings_sent["limit"] == ws.limits.max_result_rows + 1
    assert ws._conn.settings() == settings_sent  # chDB: what Connection.run sends
    # ClickHouse receives them: the query sees readonly=1, and a write is refused
    seen = ws._conn.client.query_df("SELECT getSetting('readonly') AS r", settings=settings_sent)
    assert int(seen["r"][0]) == 1
    with pytest.raises(DatabaseError, match="READONLY"):
        ws._conn.client.query_df("SELECT * FROM file('bivoice-guard-test.csv', 'CSV', 'a String')",
                                 settings=settings_sent)


def test_results_are_cut_exactly_at_max_result_rows(guard_ws) -> None:
    from bivoice_jupyter import Workspace
    from bivoice_jupyter.workspace import ResultTruncatedWarning

    small = Workspace(max_result_rows=7)  # same chDB path as the session's workspace
    cut = small._conn.run(guard("SELECT order_id FROM sales ORDER BY order_id LIMIT 100", small.policy()))
    assert cut.truncated and list(cut.df["order_id"]) == [1, 2, 3, 4, 5, 6, 7]
    exact = small._conn.run(guard("SELECT order_id FROM sales ORDER BY order_id LIMIT 7", small.policy()))
    assert not exact.truncated and len(exact.df) == 7
    one_over = small._conn.run(guard("SELECT order_id FROM sales ORDER BY order_id LIMIT 8", small.policy()))
    assert one_over.truncated and len(one_over.df) == 7
    with pytest.warns(ResultTruncatedWarning):
        assert len(small.sql("SELECT * FROM sales")) == 7


# ---------------------------------------------------------------- properties

FOREIGN_TABLES = [
    ("system", "tables"), ("system", "one"), ("system", "users"), ("SYSTEM", "tables"), ("System", "Tables"),
    ("information_schema", "tables"), ("INFORMATION_SCHEMA", "COLUMNS"), ("other", "secret"),
    ("default2", "sales"), ("Default", "sales"), ("default ", "sales"), ("", "x"),
]
FORBIDDEN_CALLS = [
    "file('/etc/passwd', 'LineAsString')", "url('http://127.0.0.1/', 'CSV', 'a String')",
    "s3('http://x/b', 'CSV')", "dictGet('d', 'a', toUInt64(1))", "joinGet('j', 'v', 1)",
    "hasColumnInTable('system', 'tables', 'name')", "getSetting('readonly')", "currentUser()",
    "hostName()", "sleep(3)", "sleepEachRow(1)", "repeat('x', 1000000000)", "range(1000000000)",
    "arrayWithConstant(1000000000, 1)", "Python('import os')", "currentDatabase()", "version()",
    "notIn(1, system.one)", "globalIn(1, system.one)", "generateRandom('a Int8')", "randomString(10)",
    "FILE('x')", "`file`('x')", "getMacro('x')", "executable('x', 'CSV', 'a String')",
]


@functools.cache
def _allowed_trees() -> dict[str, exp.Expression]:
    return {c.id: sqlglot.parse_one(c.sql, read=DIALECT) for c in ALLOW}


def _draw_tree(data: st.DataObject, *, with_tables: bool = False) -> exp.Expression:
    trees = _allowed_trees()
    ids = [i for i, t in trees.items() if not with_tables or t.find(exp.Table)]
    return trees[data.draw(st.sampled_from(ids), label="allowed case")].copy()


def _refused(text: str) -> GuardRejected:
    try:
        made = guard(text, POLICY)
    except GuardRejected as exc:
        return exc
    raise AssertionError(f"the guard let through {text!r} as {made.sql!r}")


@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_a_foreign_table_swapped_into_an_allowed_query_is_refused(data) -> None:
    tree = _draw_tree(data, with_tables=True)
    tables = list(tree.find_all(exp.Table))
    target = tables[data.draw(st.integers(0, len(tables) - 1), label="table")]
    db, name = data.draw(st.sampled_from(FOREIGN_TABLES))
    quoted = data.draw(st.booleans())
    replacement = exp.Table(this=exp.to_identifier(name, quoted=quoted), db=exp.to_identifier(db, quoted=True))
    if target.alias:
        replacement.set("alias", target.args["alias"])
    target.replace(replacement)
    text = tree.sql(DIALECT)
    if data.draw(st.booleans()):
        text = text.replace('"', "`")
    assert _refused(text).rule in {"system_tables", "foreign_database", "parse_error", "table_function"}


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_a_forbidden_call_inserted_into_an_allowed_query_is_refused(data) -> None:
    tree = _draw_tree(data)
    selects = list(tree.find_all(exp.Select))
    select = selects[data.draw(st.integers(0, len(selects) - 1), label="select")]
    call = data.draw(st.sampled_from(FORBIDDEN_CALLS))
    wrapper = data.draw(st.sampled_from(["{}", "toString({})", "length(toString({}))", "arrayMap(x -> {}, [1])",
                                         "if(1, {}, NULL)", "({})", "[{}]"]))
    select.select(exp.maybe_parse(wrapper.format(call), dialect=DIALECT), copy=False)
    assert _refused(tree.sql(DIALECT)).rule in {"function_not_allowed", "table_function"}


@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_a_foreign_table_after_in_is_refused(data) -> None:
    tree = _draw_tree(data)
    selects = list(tree.find_all(exp.Select))
    select = selects[data.draw(st.integers(0, len(selects) - 1), label="select")]
    db, name = data.draw(st.sampled_from([t for t in FOREIGN_TABLES if t[0]]))
    shape = data.draw(st.sampled_from(["1 IN {}", "1 NOT IN ({})", "1 GLOBAL IN (({}))", "(1, 2) IN {}"]))
    select.where(shape.format(f"`{db}`.`{name}`"), dialect=DIALECT, copy=False)
    assert _refused(tree.sql(DIALECT)).rule in {"system_tables", "foreign_database"}


PAYLOADS = [
    "day) FROM system.one --", "day, NOW(), NOW()) AS D, TABLE_NAME FROM INFORMATION_SCHEMA.TABLES --",
    "x' UNION ALL SELECT name FROM system.tables --", "month') FROM INFORMATION_SCHEMA.TABLES --",
    "*/ FROM system.tables /*", "\\' FROM system.one --", "x\" FROM system.one --", "`) FROM system.one #",
    "$$ FROM system.one $$", "day\n; DROP TABLE sales",
]


@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_a_payload_in_a_string_or_name_never_reaches_clickhouse_as_sql(ws, data) -> None:
    """Strings and quoted names of allowed queries replaced by SQL-looking text: the guard may
    refuse, and what it lets through makes ClickHouse read nothing outside the workspace."""
    # a string, a name, or a unit (sqlglot reads dateDiff('day', ...) as a Var)
    kind = data.draw(st.sampled_from([exp.Literal, exp.Identifier, exp.Var]), label="kind")

    def spots_in(tree: exp.Expression) -> list[exp.Expression]:
        return [n for n in tree.walk() if isinstance(n, kind) and not n.is_number]

    trees = _allowed_trees()
    tree = trees[data.draw(st.sampled_from([i for i, t in trees.items() if spots_in(t)]), label="case")].copy()
    spots = spots_in(tree)
    spot = spots[data.draw(st.integers(0, len(spots) - 1), label="spot")]
    payload = data.draw(st.sampled_from(PAYLOADS), label="payload")
    # write the query with a marker at the spot, then put the payload in as a person would type
    # it (sqlglot itself writes some units unquoted, which is what this test is about)
    if isinstance(spot, exp.Identifier):
        spot.replace(exp.to_identifier("PAYLOAD_MARK", quoted=True))
        typed = '"' + payload.replace("\\", "\\\\").replace('"', '\\"') + '"'
        text = tree.sql(DIALECT).replace('"PAYLOAD_MARK"', typed)
    else:
        spot.replace(exp.Literal.string("PAYLOAD_MARK"))
        typed = "'" + payload.replace("\\", "\\\\").replace("'", "\\'") + "'"
        text = tree.sql(DIALECT).replace("'PAYLOAD_MARK'", typed).replace("PAYLOAD_MARK", typed)
    try:
        made = guard(text, POLICY)
    except GuardRejected:
        return
    assert_reads_only_the_workspace(ws, made.sql, runs=False)


SQL_WORDS = st.sampled_from(
    "SELECT FROM WHERE sales system.tables default.sales ( ) , ; * 1 'x' -- /* */ UNION ALL IN "
    "JOIN ON AS WITH SETTINGS FORMAT INTO OUTFILE file url sleep count() region = AND OR NOT "
    "DROP TABLE INSERT VALUES LIMIT GROUP BY ORDER ARRAY numbers(10) `system` \"one\" . :: [ ]".split()
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=200), st.lists(SQL_WORDS, max_size=40).map(" ".join)))
def test_the_guard_only_ever_returns_guarded_sql_or_refuses(text: str) -> None:
    try:
        made = guard(text, POLICY)
    except GuardRejected as exc:
        assert exc.rule in RULE_NAMES
        return
    assert is_guarded(made)
    assert all(t.startswith("default.") for t in made.tables)


@settings(max_examples=40, deadline=None)
@given(value=st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), max_size=30))
def test_literals_and_names_reach_clickhouse_unchanged(ws, value: str) -> None:
    """The guard writes the SQL afresh: its quoting must mean to ClickHouse what it meant to
    sqlglot, or a string could end early and the rest run as SQL."""
    text = exp.select(exp.Literal.string(value).as_(exp.to_identifier(value or "v", quoted=True))).sql(DIALECT)
    df = ws._conn.run(guard(text, POLICY)).df
    assert list(df.columns) == [value or "v"]
    assert df.iloc[0, 0] == value
