"""ClickHouse execution through clickhouse-connect: chDB embedded or a server over HTTP.

Queries run only as a :class:`~bivoice_jupyter.sql.guard.GuardedSQL`, and every one is sent
with ClickHouse's own read-only and limit settings (``readonly=1`` last, see
:func:`query_settings`), so even a guard bug cannot write or run away; the query cannot lift
them (the guard refuses SETTINGS clauses, and readonly=1 forbids changing settings). A query
stopped by a limit raises a :class:`QueryError` that names the limit and how to change it.

Against a server, the connection also checks, once, that the user cannot write
(:class:`WritableUserWarning` otherwise; README.md, "Running against a ClickHouse server", has
the recipe for a read-only user) and that the server accepts the limits (a profile with
``readonly=1`` forbids them: the connection is refused rather than run without limits).

Writes (loads) go through :meth:`Connection.command` with sqlglot expressions, never through
the read path.
"""

from __future__ import annotations

import re
import threading
import time
import warnings
from collections.abc import Iterable
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

# ClickHouse checks max_execution_time (and a cancel) between blocks, never inside a function:
# smaller blocks stop a slow query closer to its limit. 8,192 rows is one MergeTree granule.
MAX_BLOCK_SIZE = 8192


class WritableUserWarning(UserWarning):
    """The ClickHouse server user of a workspace can write or change data.

    Queries still run with ``readonly=1``, but a read-only user is the layer that holds when
    everything above it fails: README.md, "Running against a ClickHouse server", has the recipe.
    """


def schema_generation() -> int:
    return _SCHEMA_GENERATION[0]


_CODE = re.compile(r"Code:\s*(\d+)")
_HINTS = {
    47: "a column name is wrong: Workspace.describe(table) lists the columns",
    60: "the table does not exist: Workspace.tables() lists the tables",
    164: "the workspace is read-only",
}
# The limits a query can run into: ClickHouse's error code -> what it ran past, and the
# Workspace keyword that raises it (TOO_MANY_ROWS and TOO_MANY_BYTES are also the codes of the
# read limits; the text tells the result limits apart).
_LIMIT_CODES = {159: "max_execution_time", 241: "max_memory_usage", 158: "max_rows_to_read",
                307: "max_bytes_to_read", 396: "max_result_bytes"}
_LIMIT_TEXT = {
    "max_execution_time": ("ran longer than max_execution_time", "{:g} s",
                           "filter or aggregate more, or raise the limit: Workspace(max_execution_time=...)"),
    "max_memory_usage": ("needed more memory than max_memory_usage", "{:,} bytes",
                         "aggregate or filter more, or raise the limit: Workspace(max_memory_usage=...)"),
    "max_rows_to_read": ("read more rows than max_rows_to_read", "{:,} rows",
                         "filter on the table's sorting key or a date, avoid joining a large table "
                         "with itself, or raise the limit: Workspace(max_rows_to_read=...)"),
    "max_bytes_to_read": ("read more data than max_bytes_to_read", "{:,} bytes",
                          "read fewer columns or rows, or raise the limit: Workspace(max_bytes_to_read=...)"),
    "max_result_bytes": ("returned more data than max_result_bytes", "{:,} bytes",
                         "select fewer or smaller columns, aggregate, or raise the limit: "
                         "Workspace(max_result_bytes=...)"),
    "max_result_rows": ("returned more rows than max_result_rows", "{:,} rows",
                        "aggregate or add a LIMIT, or raise the limit: Workspace(max_result_rows=...)"),
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


def query_settings(limits: Limits, *, readonly: bool = True) -> dict[str, Any]:
    """The settings sent with every read, ``readonly`` last (ClickHouse applies them in order,
    and after readonly=1 no other setting may change).

    The result cap is exact: the ``limit`` setting caps the outermost result (not subqueries)
    at one row more than ``max_result_rows``, and the extra row tells :meth:`Connection.run`
    that the result was cut. ``max_result_rows`` and ``max_result_bytes`` then *throw* rather
    than break: in 'break' mode ClickHouse stops at a block boundary and a result over the byte
    cap would come back cut without a word. The overflow modes are sent too, so a server
    profile cannot turn a stop into a silent cut. ``readonly=False`` leaves readonly out, for a
    server whose profile already sets readonly=2 (which forbids changing it, and writes).
    """
    cap = int(limits.max_result_rows) + 1
    settings: dict[str, Any] = {
        "max_execution_time": float(limits.max_execution_time),
        "timeout_overflow_mode": "throw",
        "max_memory_usage": int(limits.max_memory_usage),
        "max_rows_to_read": int(limits.max_rows_to_read),
        "max_bytes_to_read": int(limits.max_bytes_to_read),
        "read_overflow_mode": "throw",
        "limit": cap,
        "max_result_rows": cap,
        "max_result_bytes": int(limits.max_result_bytes),
        "result_overflow_mode": "throw",
        "max_block_size": MAX_BLOCK_SIZE,
    }
    if readonly:
        settings["readonly"] = 1
    return settings


# The parser's limits for the statements a load builds (never for user SQL, which keeps the
# engine's defaults): a load's read spells out every column's cleaning and checks, about
# 3.6 KB of SQL a column, so a file of some 50 columns or more went past the default 256 KiB
# ``max_query_size`` and could not be loaded at all. A statement is parsed before its own
# SETTINGS clause applies, so the limits go with the call (see
# :meth:`Connection.generated_settings`), and only with a statement the server's own limit
# would refuse: on chDB each call's settings cost a read of system.settings and two SETs.
_QUERY_SIZE_MARGIN = 64 << 10  # what the driver appends (SETTINGS, FORMAT), and more
_LONG_SQL = 64 << 10  # a statement shorter than this passes the engine's default limits
_AST_LIMITS = {"max_ast_elements": 50_000_000, "max_expanded_ast_elements": 50_000_000}


def _setting(known: dict[str, Any], name: str, default: int) -> int:
    """A numeric server setting's value from ``client.server_settings``, or ``default``."""
    value = str(getattr(known.get(name), "value", "") or "")
    return int(value) if value.isdigit() else default


class Connection:
    """One ClickHouse client and the limits every read is sent with."""

    def __init__(self, dsn: DSN, limits: Limits) -> None:
        self.dsn = dsn
        self.limits = limits
        self.embedded = dsn.kind == "chdb"
        self.client = _open_chdb(dsn) if self.embedded else _open_http(dsn)
        # readonly of the server user's profile: 0, or 2 (writes refused already; readonly may not
        # be set per query). chDB has no users: 0.
        self.server_readonly = 0 if self.embedded else _server_readonly(self.client, dsn)
        if not self.embedded:
            _check_limits_accepted(self.client, dsn, self.settings())
            if self.server_readonly == 0:
                reasons = write_access(self.client)
                if reasons:
                    warnings.warn(WritableUserWarning(_writable_message(dsn, reasons)), stacklevel=3)

    def settings(self) -> dict[str, Any]:
        """What every read is sent with (:func:`query_settings` for this server)."""
        return query_settings(self.limits, readonly=self.server_readonly == 0)

    def run(self, query: GuardedSQL) -> Result:
        """Run a guarded read; anything that is not a GuardedSQL is refused."""
        if not is_guarded(query):
            raise BivoiceError(
                f"Only a GuardedSQL from the guard can run, not {type(query).__name__}.",
                hint="pass SQL text to Workspace.sql(), which guards it",
            )
        start = time.perf_counter()
        df = self._read(query.sql, self.settings())
        truncated = len(df) > self.limits.max_result_rows
        if truncated:
            df = df.iloc[: self.limits.max_result_rows].reset_index(drop=True)
        return Result(df=df, truncated=truncated, seconds=time.perf_counter() - start)

    def read_meta(self, query: exp.Expression) -> pd.DataFrame:
        """Internal catalog reads (system.columns and the like), built from sqlglot expressions.
        Read-only and time limits apply; the user's result-row cap does not (a catalog cut at
        ``max_result_rows`` would silently lose columns)."""
        settings: dict[str, Any] = {"max_execution_time": float(self.limits.max_execution_time)}
        if self.server_readonly == 0:
            settings["readonly"] = 1
        return self._read(query.sql(DIALECT), settings)

    def _read(self, sql: str, settings: dict[str, Any]) -> pd.DataFrame:
        try:
            return self.client.query_df(sql, settings=settings)
        except Exception as exc:  # clickhouse-connect wraps server errors in DatabaseError
            raise _query_error(exc, sql, self.limits) from exc

    def command(self, statement: exp.Expression) -> None:
        """A write or DDL statement for loads (never reachable from user SQL)."""
        sql = statement.sql(DIALECT, copy=False)  # built for this call alone: no copy (it cost a wide load 0.1 s)
        _SCHEMA_GENERATION[0] += 1
        try:
            self.client.command(sql, settings=self.generated_settings(sql))
        except Exception as exc:
            raise _query_error(exc, sql) from exc

    def generated_settings(self, sql: str) -> dict[str, Any] | None:
        """The parser's limits for a long statement a load built (None for a short one):
        ``max_query_size`` sized to it where the server's own would refuse it, and the AST
        limits where the server lets this user raise them (a statement well under the size
        limit may still pass 50,000 AST elements). Only :meth:`command` can use them on chDB,
        whose reads take their settings in a trailing SETTINGS clause, parsed with the query."""
        size = len(sql.encode())
        if size <= _LONG_SQL:
            return None
        known = getattr(self.client, "server_settings", {}) or {}
        out: dict[str, Any] = {}
        if size + _QUERY_SIZE_MARGIN > _setting(known, "max_query_size", 262_144):
            out["max_query_size"] = size + _QUERY_SIZE_MARGIN
        for k, v in _AST_LIMITS.items():
            d, current = known.get(k), _setting(known, k, 0)
            if d is not None and not d.readonly and 0 < current < v:  # 0: no limit
                out[k] = v
        return out or None

    def insert_df(self, database: str, table: str, df: pd.DataFrame) -> None:
        _SCHEMA_GENERATION[0] += 1  # row counts change
        try:
            self.client.insert_df(table=table, df=df, database=database)
        except Exception as exc:
            raise _query_error(exc, f"INSERT INTO {database}.{table}") from exc


# the head and tail of a nested error's line ("Code: 27. DB::Exception: ... (version 26.9.2.1).")
_NESTED = re.compile(r"^(Code:\s*\d+\.\s*)?(DB::Exception:\s*)?|\s*\(version [^)]*\)\.?$")


def error_message(exc: Exception) -> str:
    """ClickHouse's message for ``exc``, on one line: its first line (a stack trace left out),
    and where that line ends by announcing its reason ("... from a JSONEachRow format file.
    Error:"), the first line of the reason, which ClickHouse puts on the next line."""
    text = str(exc).strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return type(exc).__name__
    # ClickHouse echoes a long stack trace on some errors; keep its first sentence.
    first = lines[0].split(". Stack trace")[0][:500]
    if first.endswith(":") and len(lines) > 1:
        reason = _NESTED.sub("", lines[1].split(". Stack trace")[0])
        first += " " + (reason if len(reason) <= 300 else reason[:297] + "...")
    return first


def _query_error(exc: Exception, sql: str, limits: Limits | None = None) -> QueryError:
    text = str(exc).strip()
    m = _CODE.search(text)
    code = int(m.group(1)) if m else None
    first = error_message(exc)
    limit = _LIMIT_CODES.get(code or -1)
    if limit == "max_result_bytes" and "max rows" in first:
        limit = "max_result_rows"
    if limit and limits is not None:
        what, unit, hint = _LIMIT_TEXT[limit]
        value = unit.format(getattr(limits, limit))
        detail = first.split("DB::Exception:", 1)[-1].split(": While executing", 1)[0].strip()
        return QueryError(f"ClickHouse stopped the query: it {what} ({value}). ClickHouse said: {detail}",
                          code=code, sql=sql, hint=hint)
    return QueryError(f"ClickHouse refused the query: {first}", code=code, sql=sql, hint=_HINTS.get(code or -1))


# ---------------------------------------------------------------- a server's user


def _server_readonly(client: Any, dsn: DSN) -> int:
    """The ``readonly`` of the user's profile, as clickhouse-connect read it at connect."""
    setting = getattr(client, "server_settings", {}).get("readonly")
    try:
        value = int(setting.value) if setting is not None else 0
    except (TypeError, ValueError):
        value = 0
    if value == 1:
        raise WorkspaceError(
            f"The ClickHouse user of {dsn.display} has readonly=1 in its profile, which forbids the "
            "per-query limits (max_execution_time, max_memory_usage, ...) every workspace query is sent with.",
            hint="give the user only SELECT grants and readonly=0, or readonly=2 (README.md: Running "
            "against a ClickHouse server)",
        )
    return value


def _check_limits_accepted(client: Any, dsn: DSN, settings: dict[str, Any]) -> None:
    """Refuse to connect where the server would drop or refuse a limit: fail closed, at once,
    rather than run queries without their limits or fail every one of them."""
    known = getattr(client, "server_settings", {})
    if not known:  # nothing to compare against: ClickHouse itself refuses what it does not accept
        return
    missing = [k for k in settings if k not in known]
    fixed = [k for k in settings if k in known and known[k].readonly and not _same_value(known[k].value, settings[k])]
    if missing or fixed:
        parts = ([f"unknown to this server: {', '.join(missing)}"] if missing else []) + (
            [f"fixed by the user's profile: {', '.join(fixed)}"] if fixed else [])
        raise WorkspaceError(
            f"ClickHouse at {dsn.display} would not apply every limit a workspace query is sent with ("
            + "; ".join(parts) + ").",
            hint="use a ClickHouse server recent enough to know these settings, and a user whose profile "
            "lets them change (README.md: Running against a ClickHouse server)",
        )


def _same_value(server: Any, ours: Any) -> bool:
    try:
        return float(server) == float(ours)
    except (TypeError, ValueError):
        return str(server) == str(ours)


# What a grant may hold and still not write: reading tables and their metadata. Anything else
# (INSERT, ALTER, CREATE, DROP, TRUNCATE, OPTIMIZE, SYSTEM, KILL, ALL, access management, the
# table functions' SOURCES, ...) counts as writing, and so does an unknown privilege.
READ_PRIVILEGES = frozenset({"SELECT", "SHOW", "CHECK", "DICTGET", "NONE", "USAGE"})
_GRANT = re.compile(r"^\s*GRANT\s+(?P<what>.+?)(?:\s+ON\s+(?P<on>\S+))?\s+TO\s+\S.*$", re.I | re.S)


def _split_privileges(text: str) -> list[str]:
    """``SELECT(a, b), INSERT, ALTER UPDATE`` -> the privileges, commas inside brackets kept."""
    parts, depth, current = [], 0, ""
    for ch in text:
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    return [p.strip() for p in parts if p.strip()]


def write_privileges(grants: Iterable[str], *, roles_resolved: bool) -> list[str]:
    """The grants (lines of ``SHOW GRANTS``) that let a user write, each as ``PRIVILEGE ON target``.

    ``REVOKE`` lines only take away. A line granting roles (``GRANT role TO user``) counts only
    when ``roles_resolved`` is false: ``SHOW GRANTS FINAL`` already folds the roles' privileges
    into the user's own lines, a plain ``SHOW GRANTS`` does not.
    """
    found: list[str] = []
    for line in grants:
        m = _GRANT.match(line or "")
        if not m:
            continue
        if m["on"] is None:  # GRANT role1, role2 TO user
            if not roles_resolved:
                found += [f"role {r} (its privileges could not be listed)" for r in _split_privileges(m["what"])]
            continue
        for privilege in _split_privileges(m["what"]):
            name = " ".join(privilege.split("(", 1)[0].split()).upper()
            if name in READ_PRIVILEGES or name.startswith("SHOW"):
                continue
            found.append(f"{name} ON {m['on']}")
    return list(dict.fromkeys(found))


def write_access(client: Any) -> list[str]:
    """How the connected server user could write, from ``SHOW GRANTS FINAL`` (falling back to
    ``SHOW GRANTS`` on servers without FINAL); empty when it cannot. A server with no grants
    at all (before ClickHouse 20.4) lets a user with readonly=0 write."""
    settings = {"readonly": 1}  # a read; only called when the profile's readonly is 0
    for statement, resolved in (("SHOW GRANTS FINAL", True), ("SHOW GRANTS", False)):
        try:
            df = client.query_df(statement, settings=settings)
        except Exception:  # an old server: no FINAL, or no grants at all
            continue
        lines = [str(v) for v in df.iloc[:, 0]] if len(df.columns) else []
        return write_privileges(lines, roles_resolved=resolved)
    return ["readonly=0, and the server does not list grants (SHOW GRANTS failed)"]


def _writable_message(dsn: DSN, reasons: list[str]) -> str:
    shown = "; ".join(reasons[:6]) + (f"; and {len(reasons) - 6} more" if len(reasons) > 6 else "")
    return (
        f"The ClickHouse user of {dsn.display} can write: {shown}. Every query is still sent with "
        "readonly=1, but connect as a read-only user with SELECT grants on the workspace's databases "
        "only (README.md: Running against a ClickHouse server); loads need a separate, writing user."
    )
