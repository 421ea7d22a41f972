"""A load: read a source, stage it, and swap it in only on success.

v1 reads CSV files and pandas DataFrames. Rows land in a hidden staging table first; the target
appears (``RENAME``), is replaced (``EXCHANGE TABLES``) or grows (``INSERT ... SELECT``) only when
staging succeeded, so a failed load leaves the previous table exactly as it was.
"""

from __future__ import annotations

import re
import time
import uuid
from pathlib import Path
from typing import Any

import pandas as pd
from sqlglot import exp

from ..errors import BivoiceError, LoadError, SourceError
from ..models import LoadReport
from ..sql.clickhouse import Connection

IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
MODES = ("fail", "replace", "append")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?$")


def _ident(name: str) -> exp.Identifier:
    return exp.to_identifier(name, quoted=True)


def _table(db: str, name: str) -> exp.Table:
    return exp.table_(_ident(name), db=_ident(db))


def _qualified(db: str, name: str) -> str:
    return _table(db, name).sql("clickhouse")


def read_source(source: Any) -> tuple[pd.DataFrame, str]:
    """The rows of ``source`` (a DataFrame or a CSV path) and a label for the audit."""
    if isinstance(source, pd.DataFrame):
        return source, "DataFrame"
    if isinstance(source, (str, Path)):
        path = Path(source).expanduser()
        if not path.is_file():
            raise SourceError(f"No file at {path}.", hint="check the path, or pass a DataFrame")
        if path.suffix.lower() not in (".csv", ".tsv", ".txt"):
            raise SourceError(f"{path.name}: only CSV/TSV files and DataFrames load in this version.")
        if path.stat().st_size == 0:
            raise SourceError(f"{path} is empty.", hint="a CSV needs at least a header row")
        try:
            df = pd.read_csv(path, sep="\t" if path.suffix.lower() == ".tsv" else None, engine="python")
        except (UnicodeDecodeError, pd.errors.ParserError, ValueError) as exc:
            raise SourceError(f"{path.name} could not be read as CSV: {exc}") from exc
        return _parse_dates(df), str(path)
    raise SourceError(f"Cannot load a {type(source).__name__}.", hint="pass a CSV path or a pandas DataFrame")


def _parse_dates(df: pd.DataFrame) -> pd.DataFrame:
    for col in df.columns:
        s = df[col]
        if s.dtype == object or pd.api.types.is_string_dtype(s):
            sample = s.dropna().astype(str).head(200)
            if len(sample) and sample.map(lambda v: bool(_ISO_DATE.match(v))).all():
                try:
                    df[col] = pd.to_datetime(s, format="ISO8601")
                except (ValueError, TypeError):
                    pass
    return df


def clickhouse_type(s: pd.Series) -> str:
    """The ClickHouse type for a pandas column (Nullable when it has missing values)."""
    nullable = bool(s.isna().any())
    kind = s.dtype.kind
    if pd.api.types.is_bool_dtype(s):
        base = "Bool"
    elif kind == "i":
        base = "Int64"
    elif kind == "u":
        base = "UInt64"
    elif kind == "f":
        base = "Float64"
    elif pd.api.types.is_datetime64_any_dtype(s):
        valid = s.dropna()
        midnight = bool(len(valid)) and bool((valid == valid.dt.normalize()).all())
        base = "Date32" if midnight else "DateTime64(3)"
    else:
        base = "String"
    return f"Nullable({base})" if nullable else base


def _prepare(df: pd.DataFrame) -> tuple[pd.DataFrame, list[tuple[str, str]]]:
    if df.columns.duplicated().any():
        dup = sorted({str(c) for c in df.columns[df.columns.duplicated()]})
        raise SourceError(f"Duplicate column names: {', '.join(dup)}.", hint="rename them before loading")
    out = df.copy()
    columns: list[tuple[str, str]] = []
    for col in out.columns:
        name = str(col)
        if not IDENTIFIER.match(name):
            raise SourceError(f"Column name {name!r} is not an identifier.", hint="use letters, digits and _ only")
        t = clickhouse_type(out[col])
        if "String" in t:
            out[col] = out[col].astype(object).where(out[col].notna(), None).map(lambda v: v if v is None else str(v))
        if t.startswith("Date32") or t.startswith("Nullable(Date32"):
            out[col] = pd.to_datetime(out[col]).dt.date.where(out[col].notna(), None)
        columns.append((name, t))
    return out, columns


def _create(db: str, name: str, columns: list[tuple[str, str]]) -> exp.Create:
    defs = [exp.ColumnDef(this=_ident(c), kind=exp.DataType.build(t, dialect="clickhouse")) for c, t in columns]
    props = exp.Properties(
        expressions=[
            exp.EngineProperty(this=exp.to_identifier("MergeTree")),
            exp.Order(expressions=[exp.Ordered(this=exp.Struct())])  # ORDER BY tuple(),
        ]
    )
    return exp.Create(this=exp.Schema(this=_table(db, name), expressions=defs), kind="TABLE", properties=props)


def _drop(db: str, name: str) -> exp.Drop:
    return exp.Drop(tables=[_table(db, name)], kind="TABLE", exists=True)


def _exists(conn: Connection, db: str, name: str) -> list[tuple[str, str]] | None:
    df = conn.read_meta(
        exp.select("name", "type")
        .from_(exp.table_("columns", db="system"))
        .where(exp.and_(exp.column("database").eq(exp.Literal.string(db)), exp.column("table").eq(exp.Literal.string(name))))
        .order_by("position")
    )
    return [(str(r.name), str(r.type)) for r in df.itertuples()] or None


def load(conn: Connection, source: Any, *, table: str, database: str, if_exists: str = "fail") -> LoadReport:
    """Load ``source`` into ``database.table``; see the module docstring for the guarantees."""
    start = time.perf_counter()
    if not isinstance(table, str) or not IDENTIFIER.match(table) or table.startswith("_bivoice"):
        raise SourceError(f"{table!r} is not a valid table name.", hint="use letters, digits and _, starting with a letter")
    if if_exists not in MODES:
        raise SourceError(f"if_exists={if_exists!r} is not one of {', '.join(MODES)}.")
    existing = _exists(conn, database, table)
    if existing is not None and if_exists == "fail":
        raise LoadError(
            f"Table {database}.{table} already exists.", hint="pass if_exists='replace' or 'append' (%etl load ... --replace)"
        )
    df, label = read_source(source)
    if len(df.columns) == 0:
        raise SourceError("The source has no columns.")
    prepared, columns = _prepare(df)
    if existing is not None and if_exists == "append" and [c for c, _ in existing] != [c for c, _ in columns]:
        raise LoadError(
            f"The source's columns do not match {database}.{table}.",
            hint=f"the table has {', '.join(c for c, _ in existing)}",
        )
    stage = f"_bivoice_stage_{table}_{uuid.uuid4().hex[:8]}"
    try:
        conn.command(_create(database, stage, existing if if_exists == "append" and existing else columns))
        if len(prepared):
            conn.insert_df(database, stage, prepared)
        if existing is None:
            conn.command(exp.Command(this="RENAME", expression=f"TABLE {_qualified(database, stage)} TO {_qualified(database, table)}"))
        elif if_exists == "replace":
            conn.command(exp.Command(this="EXCHANGE", expression=f"TABLES {_qualified(database, stage)} AND {_qualified(database, table)}"))
        else:
            conn.command(exp.insert(exp.select("*").from_(_table(database, stage)), _table(database, table)))
    except BivoiceError as exc:
        raise LoadError(f"Loading {label} into {database}.{table} failed; the table is unchanged. {exc}") from exc
    finally:
        conn.command(_drop(database, stage))  # IF EXISTS: after a RENAME there is nothing left
    return LoadReport(
        table=table,
        database=database,
        mode="create" if existing is None else if_exists,
        source=label,
        rows_loaded=len(prepared),
        rows_rejected=0,
        columns=tuple(columns),
        seconds=time.perf_counter() - start,
    )
