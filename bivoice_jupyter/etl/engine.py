"""The two ways a load talks to ClickHouse: :meth:`Connection.command` for writes and DDL, and
:func:`read` for its own profiling reads.

:meth:`Connection.read_meta` sends ``readonly=1``, which refuses table functions (``file()``,
``url()``, ``postgresql()``) outright; a load's reads run with ``readonly=2`` instead: still no
writes, but table functions and per-query settings are allowed. User SQL never comes here.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd
from sqlglot import exp

from ..errors import QueryError
from ..sql.clickhouse import Connection, error_message
from .names import DIALECT

_CODE = re.compile(r"Code:\s*(\d+)")

# The engine's JIT compiles an expression, or a set of aggregates, the third time it meets
# one, and a load's statements are new SQL for every file: a load paid for compiling and
# gained nothing back (see load.STAGE_SETTINGS). The aggregates of the planning and counts
# reads are the same SQL when one file is loaded again, so the third such load in a process
# compiled them: a 1,000-row load then took 2.0 s instead of 1.0 (the counts' sum over the
# stats table 0.19 s instead of 0.015).
NO_JIT = {"compile_expressions": 0, "compile_aggregate_expressions": 0}
# Two passes whose cost grew faster than a load's statements, which spell out every column's
# cleaning and checks in layers (sub-selects): the analyzer's and-compare-chain pass (it adds
# the comparisons an AND chain implies; the statements compare no two columns for it to
# chain), and the query plan's merging of the layers' expression steps into one. The read of
# a 1,000-row file of 64 columns: 3.9 s with both, 2.5 s without the first, 1.3 s without
# either (16 columns 0.52 -> 0.32 s, 32 columns 1.26 -> 0.69 s without the merging; the
# merging gained the 1 M-row read of bench/RESULTS.md nothing: 1.38-1.82 s with, 1.48-1.65 s
# without). In each statement's SETTINGS clause, which applies before its analysis.
ANALYSIS = {"optimize_and_compare_chain": 0, "query_plan_merge_expressions": 0}


def analysis(conn: Connection) -> dict[str, int]:
    """:data:`ANALYSIS`, less what the server does not know (an older ClickHouse refuses a
    statement that names a setting it lacks)."""
    known = getattr(conn.client, "server_settings", None)
    return {k: v for k, v in ANALYSIS.items() if not known or k in known}


def settings(**values: Any) -> list[exp.Expression]:
    """``name = value`` nodes for a statement's SETTINGS clause (text quoted, numbers as is)."""
    return [exp.EQ(this=exp.column(k), expression=exp.Literal.string(v) if isinstance(v, str)
                   else exp.Literal.number(v if isinstance(v, float) else int(v)))
            for k, v in values.items()]


def read(conn: Connection, query: exp.Expression) -> pd.DataFrame:
    """Rows of a read built from sqlglot expressions (no writes: ``readonly=2``)."""
    return _query(conn, query, conn.client.query_df)


def one_row(conn: Connection, query: exp.Expression) -> dict[str, Any]:
    """The first row of a read, by column name, a missing value as 0 (counts of an empty
    relation). Plain Python values, without a DataFrame: the planning reads return one row of
    150 columns or more, which pandas took about 45 ms to build."""
    result = _query(conn, query, conn.client.query)
    if not result.result_rows:
        raise QueryError("ClickHouse returned no row where one was expected.", sql=query.sql(DIALECT))
    return {k: (0 if v is None or v != v else v) for k, v in zip(result.column_names, result.result_rows[0])}


def _query(conn: Connection, query: exp.Expression, how: Any) -> Any:
    sql = query.sql(DIALECT, copy=False)  # built for this read alone (see Connection.command)
    try:
        return how(sql, settings={"readonly": 2, **NO_JIT})
    except Exception as exc:  # clickhouse-connect wraps the engine's errors in its own
        raise error(exc, sql) from exc


def count(conn: Connection, relation: exp.Expression) -> int:
    return int(one_row(conn, exp.select(exp.Count(this=exp.Star()).as_("n")).from_(relation))["n"])


def error(exc: Exception, sql: str) -> QueryError:
    text = str(exc).strip()
    m = _CODE.search(text)
    return QueryError(f"ClickHouse refused the query: {error_message(exc)}", code=int(m.group(1)) if m else None, sql=sql)
