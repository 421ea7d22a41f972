"""The audit: every load, successful or not, is one row of ``<database>._bivoice_loads``.

The table lives beside the data (so a ClickHouse server user who can load can also audit),
and its leading underscore hides it from the schema catalog the planner reads. Rejected rows
live in ``<table>_rejected`` and carry the load's id.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlglot import exp

from ..errors import BivoiceError
from ..sql.clickhouse import Connection
from . import engine
from .names import AUDIT_TABLE, DIALECT, dtype, ident, table

AUDIT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("load_id", "String"),
    ("started_at", "DateTime64(3)"),
    ("seconds", "Float64"),
    ("status", "LowCardinality(String)"),  # ok, failed, interrupted
    ("source", "String"),
    ("source_kind", "LowCardinality(String)"),
    ("target", "String"),
    ("mode", "LowCardinality(String)"),
    ("rows_read", "UInt64"),
    ("rows_loaded", "UInt64"),
    ("rows_rejected", "UInt64"),
    ("rows_duplicate", "UInt64"),
    ("columns", "String"),  # JSON: [[name, type], ...]
    ("details", "String"),  # JSON: encoding, delimiter, header, notes
    ("error", "String"),
)

REJECT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("load_id", "String"),
    ("source_row", "Nullable(UInt64)"),
    ("column", "String"),
    ("value", "Nullable(String)"),
    ("reason", "String"),
    ("raw", "String"),  # the whole row as JSON text, as it was read
)


@dataclass
class Entry:
    load_id: str
    started_at: dt.datetime
    source: str = ""
    source_kind: str = ""
    target: str = ""
    mode: str = ""
    status: str = "failed"
    seconds: float = 0.0
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    rows_duplicate: int = 0
    columns: list[tuple[str, str]] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    error: str = ""


def sort_key(order: list[str]) -> exp.Expression:
    """``ORDER BY`` of a new table: ``tuple()``, one column, or a tuple of them."""
    if len(order) == 1:
        return exp.column(order[0], quoted=True)
    return exp.Tuple(expressions=[exp.column(o, quoted=True) for o in order])


def create_statement(database: str, name: str, columns: tuple[tuple[str, str], ...], order: list[str]) -> exp.Create:
    defs = [exp.ColumnDef(this=ident(n), kind=dtype(t)) for n, t in columns]
    key = sort_key(order)
    return exp.Create(
        this=exp.Schema(this=table(database, name), expressions=defs),
        kind="TABLE",
        exists=True,
        properties=exp.Properties(expressions=[exp.EngineProperty(this=exp.to_identifier("MergeTree")),
                                               exp.Order(expressions=[exp.Ordered(this=key)])]),
    )


def record(conn: Connection, database: str, entry: Entry) -> str | None:
    """Write one audit row; returns a warning instead of raising (the load's outcome stands)."""
    row = {
        "load_id": entry.load_id,
        "started_at": entry.started_at,
        "seconds": float(entry.seconds),
        "status": entry.status,
        "source": entry.source,
        "source_kind": entry.source_kind,
        "target": entry.target,
        "mode": entry.mode,
        "rows_read": int(entry.rows_read),
        "rows_loaded": int(entry.rows_loaded),
        "rows_rejected": int(entry.rows_rejected),
        "rows_duplicate": int(entry.rows_duplicate),
        "columns": json.dumps([list(c) for c in entry.columns]),
        "details": json.dumps(entry.details, default=str),
        "error": entry.error[:2000],
    }
    try:
        conn.command(create_statement(database, AUDIT_TABLE, AUDIT_COLUMNS, ["started_at"]))
        conn.insert_df(database, AUDIT_TABLE, pd.DataFrame([row]))
    except BivoiceError as exc:
        return f"the audit row could not be written: {exc}"
    return None


def _exists(conn: Connection, database: str) -> bool:
    """Whether ``database`` has the audit table (it is created by the first load)."""
    return engine.count(conn, exp.select(exp.Star()).from_(exp.table_("tables", db="system")).where(
        exp.and_(exp.column("database").eq(exp.Literal.string(database)),
                 exp.column("name").eq(exp.Literal.string(AUDIT_TABLE)))).subquery("_t")) > 0


def history(conn: Connection, database: str, limit: int = 50) -> pd.DataFrame:
    """The latest ``limit`` loads into ``database``, newest first (empty before the first)."""
    names = [n for n, _ in AUDIT_COLUMNS]
    if not _exists(conn, database):
        return pd.DataFrame(columns=names)
    q = (exp.select(*[exp.column(n, quoted=True) for n in names]).from_(table(database, AUDIT_TABLE))
         .order_by(exp.Ordered(this=exp.column("started_at"), desc=True)).limit(int(limit)))
    return engine.read(conn, q)


DATE_ORDER = "date_order"  # a key of ``details``: {column: "day-first" | "month-first"}
DECIMAL_COMMA = "commas"  # a key of ``details``: {column: "decimal" | DOTTED | "thousands"}, how its numbers use commas
DOTTED = "decimal, thousands points"  # the same as "decimal", and a lone "1.500" is fifteen hundred


def conventions(conn: Connection, database: str, name: str, limit: int = 50) -> dict[str, dict[str, str]]:
    """How the columns of ``database.name`` were last read, as recorded by its successful
    loads, newest first back to the load that created or replaced the table: for each key of
    ``details`` (:data:`DATE_ORDER`, :data:`DECIMAL_COMMA`), column -> what was recorded.
    Empty when nothing is recorded (the audit table is missing, or no load saw a 01/02/2024-like
    date or a number with a comma)."""
    out: dict[str, dict[str, str]] = {DATE_ORDER: {}, DECIMAL_COMMA: {}}
    if not _exists(conn, database):
        return out
    q = (exp.select("mode", "details").from_(table(database, AUDIT_TABLE))
         .where(exp.and_(exp.column("target").eq(exp.Literal.string(f"{database}.{name}")),
                         exp.column("status").eq(exp.Literal.string("ok"))))
         .order_by(exp.Ordered(this=exp.column("started_at"), desc=True)).limit(int(limit)))
    for mode, details in engine.read(conn, q).itertuples(index=False):
        try:
            found = json.loads(str(details))
        except ValueError:
            found = {}
        for key, seen in out.items():
            recorded = found.get(key) if isinstance(found, dict) else None
            for column, value in (recorded if isinstance(recorded, dict) else {}).items():
                seen.setdefault(str(column), str(value))
        if mode in ("create", "replace"):  # what came before described another table
            break
    return out
