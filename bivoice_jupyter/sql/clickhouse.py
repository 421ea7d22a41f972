"""ClickHouse execution through clickhouse-connect: chDB embedded or a server over HTTP.

Queries run only as a :class:`~bivoice_jupyter.sql.guard.GuardedSQL`, and every one is sent
with ClickHouse's own read-only and limit settings (``readonly=1`` last), so even a guard bug
cannot write or run away. Writes (loads) go through :meth:`Connection.command` with sqlglot
expressions, never through the read path.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from sqlglot import exp

from ..config import DSN, Limits
from ..errors import BivoiceError, QueryError, WorkspaceError
from .guard import DIALECT, GuardedSQL, is_guarded

# chDB runs one embedded server per process, bound to one data directory. We keep the one
# client and refuse a second path with a clear error instead of ClickHouse's BAD_ARGUMENTS.
_CHDB_LOCK = threading.Lock()
_CHDB: dict[str, Any] = {}

# Bumped by every write or DDL statement in this process, so every Workspace sharing a
# connection sees a load made through another one (their schema caches compare against it).
_SCHEMA_GENERATION = [0]


def schema_generation() -> int:
    return _SCHEMA_GENERATION[0]


_CODE = re.compile(r"Code:\s*(\d+)")
_HINTS = {
    47: "a column name is wrong: Workspace.describe(table) lists the columns",
    60: "the table does not exist: Workspace.tables() lists the tables",
    159: "the query ran past max_execution_time: narrow it or raise the workspace's limit",
    158: "the query read more rows than allowed: add filters",
    241: "the query needed more memory than max_memory_usage: aggregate more or filter",
    164: "the workspace is read-only",
}


@dataclass(frozen=True)
class Result:
    """A query's rows, whether they were cut at the row cap, and its duration in seconds."""

    df: pd.DataFrame
    truncated: bool
    seconds: float


def _open_chdb(dsn: DSN) -> Any:
    import clickhouse_connect

    key = dsn.path or ":memory:"
    with _CHDB_LOCK:
        if key in _CHDB:
            return _CHDB[key]
        if _CHDB:
            (opened,) = _CHDB
            raise WorkspaceError(
                f"This process already opened the embedded database at {opened}; chDB allows one "
                f"data directory per process, so {key} cannot be opened too.",
                hint=f"use dsn='chdb://{opened}' or restart the kernel to switch",
            )
        if dsn.path:
            Path(dsn.path).mkdir(parents=True, exist_ok=True)
        try:
            client = clickhouse_connect.get_client(dsn=dsn.raw)
        except Exception as exc:  # clickhouse-connect raises its own and chDB's errors here
            raise WorkspaceError(f"Could not open the embedded database at {key}: {exc}") from exc
        _CHDB[key] = client
        return client


def _open_http(dsn: DSN) -> Any:
    import clickhouse_connect

    try:
        return clickhouse_connect.get_client(dsn=dsn.raw)
    except Exception as exc:
        raise WorkspaceError(
            f"Could not connect to ClickHouse at {dsn.display}: {exc}",
            hint="check the host, port (8123 for HTTP) and credentials in the DSN",
        ) from exc


def query_settings(limits: Limits) -> dict[str, Any]:
    """The settings sent with every read. The result cap is exact: ClickHouse may return up to
    a block more than ``max_result_rows`` in 'break' mode, so we ask for one row more than the
    cap, and trim here (the extra row tells us the result was cut). ``readonly`` comes last."""
    cap = int(limits.max_result_rows) + 1
    return {
        "max_execution_time": float(limits.max_execution_time),
        "max_memory_usage": int(limits.max_memory_usage),
        "max_result_rows": cap,
        "result_overflow_mode": "break",
        "max_block_size": min(cap, 65_536),
        "readonly": 1,
    }


class Connection:
    """One ClickHouse client and the limits every read is sent with."""

    def __init__(self, dsn: DSN, limits: Limits) -> None:
        self.dsn = dsn
        self.limits = limits
        self.client = _open_chdb(dsn) if dsn.kind == "chdb" else _open_http(dsn)
        self.embedded = dsn.kind == "chdb"

    def run(self, query: GuardedSQL) -> Result:
        """Run a guarded read; anything that is not a GuardedSQL is refused."""
        if not is_guarded(query):
            raise BivoiceError(
                f"Only a GuardedSQL from the guard can run, not {type(query).__name__}.",
                hint="pass SQL text to Workspace.sql(), which guards it",
            )
        start = time.perf_counter()
        df = self._read(query.sql, query_settings(self.limits))
        truncated = len(df) > self.limits.max_result_rows
        if truncated:
            df = df.iloc[: self.limits.max_result_rows].reset_index(drop=True)
        return Result(df=df, truncated=truncated, seconds=time.perf_counter() - start)

    def read_meta(self, query: exp.Expression) -> pd.DataFrame:
        """Internal catalog reads (system.columns and the like), built from sqlglot expressions.
        Read-only and time limits apply; the user's result-row cap does not (a catalog cut at
        ``max_result_rows`` would silently lose columns)."""
        settings = {"max_execution_time": float(self.limits.max_execution_time), "readonly": 1}
        return self._read(query.sql(DIALECT), settings)

    def _read(self, sql: str, settings: dict[str, Any]) -> pd.DataFrame:
        try:
            return self.client.query_df(sql, settings=settings)
        except Exception as exc:  # clickhouse-connect wraps server errors in DatabaseError
            raise _query_error(exc, sql) from exc

    def command(self, statement: exp.Expression) -> None:
        """A write or DDL statement for loads (never reachable from user SQL)."""
        sql = statement.sql(DIALECT)
        _SCHEMA_GENERATION[0] += 1
        try:
            self.client.command(sql)
        except Exception as exc:
            raise _query_error(exc, sql) from exc

    def insert_df(self, database: str, table: str, df: pd.DataFrame) -> None:
        _SCHEMA_GENERATION[0] += 1  # row counts change
        try:
            self.client.insert_df(table=table, df=df, database=database)
        except Exception as exc:
            raise _query_error(exc, f"INSERT INTO {database}.{table}") from exc


def _query_error(exc: Exception, sql: str) -> QueryError:
    text = str(exc).strip()
    m = _CODE.search(text)
    code = int(m.group(1)) if m else None
    first = text.splitlines()[0] if text else type(exc).__name__
    # ClickHouse echoes a long stack trace on some errors; keep its first sentence.
    first = first.split(". Stack trace")[0][:500]
    return QueryError(f"ClickHouse refused the query: {first}", code=code, sql=sql, hint=_HINTS.get(code or -1))
