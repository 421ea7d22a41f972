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
