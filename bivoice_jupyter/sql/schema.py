"""The schema catalog: tables, columns, types and the values of low-cardinality text columns.

The planner matches spoken words against this; the speech prompt (later) uses it too. It is
read once per workspace and refreshed after a load, never on every question.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from .clickhouse import Connection

MAX_VALUES = 50  # a text column with at most this many distinct values is a "dimension"


def _kind(ch_type: str) -> str:
    t = ch_type
    for wrapper in ("Nullable(", "LowCardinality("):
        while t.startswith(wrapper):
            t = t[len(wrapper) : -1]
    if t.startswith(("Int", "UInt", "Float", "Decimal")):
        return "number"
    if t.startswith(("Date", "DateTime")):
        return "date"
    if t.startswith(("String", "FixedString", "Enum")):
        return "text"
    if t == "Bool":
        return "bool"
    return "other"


@dataclass(frozen=True)
class ColumnInfo:
    """A column; ``kind`` is number, date, text, bool or other; ``values`` are the distinct
    values of a text column with at most MAX_VALUES of them (else empty); ``newest`` is the
    latest date of a date column ("last year" is relative to it, not to the clock);
    ``frequent`` holds the same values as ``values``, the most frequent first (the speech
    prompt names those)."""

    name: str
    type: str
    kind: str
    values: tuple[str, ...] = ()
    newest: str | None = None  # for a date column: its latest value (ISO date), if any rows
    frequent: tuple[str, ...] = ()


@dataclass(frozen=True)
class TableInfo:
    database: str
    name: str
    columns: tuple[ColumnInfo, ...]
    rows: int

    @property
    def qualified(self) -> str:
        return f"{self.database}.{self.name}"

    def column(self, name: str) -> ColumnInfo | None:
        return next((c for c in self.columns if c.name == name), None)


@dataclass(frozen=True)
class Catalog:
    tables: tuple[TableInfo, ...]

    def table(self, name: str, database: str | None = None) -> TableInfo | None:
        if "." in name and database is None:
            database, name = name.split(".", 1)
        for t in self.tables:
            if t.name == name and (database is None or t.database == database):
                return t
        return None


def _str_list(values: object) -> tuple[str, ...]:
    try:
        return tuple(str(v) for v in values if v is not None and str(v) != "")  # type: ignore[union-attr]
    except TypeError:
        return ()


def read_catalog(conn: Connection, databases: list[str]) -> Catalog:
    """Read tables and columns of ``databases`` (internal tables starting with _ are hidden)."""
    cols = conn.read_meta(
        exp.select("database", "table", "name", "type")
        .from_(exp.table_("columns", db="system"))
        .where(exp.column("database").isin(*[exp.Literal.string(d) for d in databases]))
        .order_by("database", "table", "position")
    )
    rows = conn.read_meta(
        exp.select("database", "name", "total_rows")
        .from_(exp.table_("tables", db="system"))
        .where(exp.column("database").isin(*[exp.Literal.string(d) for d in databases]))
    )
    if cols.empty:  # a workspace with no tables yet (the frame may even lack its columns)
        return Catalog(())
    counts = {(r.database, r.name): int(r.total_rows or 0) for r in rows.itertuples() if r.total_rows == r.total_rows}
    tables: list[TableInfo] = []
    for (db, name), group in cols.groupby(["database", "table"], sort=False):
        if str(name).startswith("_"):
            continue
        columns = [ColumnInfo(str(r.name), str(r.type), _kind(str(r.type))) for r in group.itertuples()]
        columns = _with_values(conn, str(db), str(name), columns)
        tables.append(TableInfo(str(db), str(name), tuple(columns), counts.get((db, name), 0)))
    return Catalog(tuple(tables))


def _with_values(conn: Connection, db: str, table: str, columns: list[ColumnInfo]) -> list[ColumnInfo]:
    text = [c for c in columns if c.kind == "text"]
    dates = [c for c in columns if c.kind == "date"]
    if not text and not dates:
        return columns
    # One scan per table: up to MAX_VALUES + 1 distinct values per text column, most frequent
    # first, and the max per date. topK keeps 3 x N counters, so with at most N distinct values
    # its counts (and so its order) are exact.
    parts: list[exp.Expression] = [
        exp.ParameterizedAgg(
            this="topK",
            expressions=[exp.Literal.number(MAX_VALUES + 1)],
            params=[exp.column(c.name, quoted=True)],
        ).as_(f"v{i}")
        for i, c in enumerate(text)
    ]
    parts += [
        exp.Anonymous(this="toString", expressions=[exp.Max(this=exp.column(c.name, quoted=True))]).as_(f"d{i}")
        for i, c in enumerate(dates)
    ]
    table_ref = exp.table_(exp.to_identifier(table, quoted=True), db=exp.to_identifier(db, quoted=True))
    df = conn.read_meta(exp.select(*parts).from_(table_ref))
    found: dict[str, tuple[str, ...]] = {}
    newest: dict[str, str] = {}
    if len(df):
        row = df.iloc[0]
        for i, c in enumerate(text):
            values = _str_list(row[f"v{i}"])
            if len(values) <= MAX_VALUES:
                found[c.name] = values
        for i, c in enumerate(dates):
            value = str(row[f"d{i}"] or "")[:10]
            if value and not value.startswith(("1970-01-01", "1900-01-01")):
                newest[c.name] = value
    return [ColumnInfo(c.name, c.type, c.kind, tuple(sorted(found.get(c.name, ()))), newest.get(c.name),
                       found.get(c.name, ())) for c in columns]
