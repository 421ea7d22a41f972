"""A load: read a source, plan its types in ClickHouse, clean and cast it there, swap it in
atomically.

The steps, each a statement run by the engine (rows never pass through Python unless the
source lives in Python: a DataFrame, a spreadsheet, a database query):

1. **read**: the source as a raw relation of text columns (``sources``);
2. **plan**: one aggregate query over the first 10,000 rows picks each column's type (``infer``);
3. **stage**: one read of the whole source casts every value and computes every per-row
   check (``_fan``), and splits the rows, through a Null-engine table and four materialized
   views that only pick and sum its columns, into a staging table (the good rows), a staging
   rejects table (raw text and reason), the counts of every column's failures, nulls and
   fallbacks, and the values that may hold an unclosed quote. The plan is checked against
   those counts; where every row asks for another type (bad values from row 130,000, a column
   over the reject threshold), the staging tables are dropped and the source is read again by
   the corrected plan;
4. **swap**, only when all of that succeeded:

   ========  ====================================================================
   create    ``RENAME`` the staging table to the target (fails if it exists)
   replace   ``EXCHANGE TABLES`` staging and target (atomic)
   append    ``ALTER TABLE target ATTACH PARTITION ... FROM staging`` (atomic per
             partition; a table we created has one)
   upsert    the same into a ReplacingMergeTree ordered by the key, then
             ``OPTIMIZE ... FINAL`` so every key has one row again
   ========  ====================================================================

A failure or an interrupt before the swap leaves the target exactly as it was (an interrupt is
deferred to the end of the running statement, see ``progress``); the staging tables are dropped
whatever happens. Every run, successful or not, is audited (``audit``), and rejected rows land
in ``<table>_rejected``: replaced with the table on create/replace, appended to on
append/upsert.
"""

from __future__ import annotations

import datetime as dt
import re
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd
from sqlglot import exp

from ..errors import BivoiceError, LoadError, QueryError, SourceError
from ..models import LoadReport
from ..sql.clickhouse import Connection
from . import audit, engine
from .arrays import gather, spread, vectorize, worth
from . import clean as c
from .infer import (
    EXTRA_NAME,
    raw_name,
    LADDERS,
    MAX_BAD_SHARE,
    NUMBER_KINDS,
    ROW_NAME,
    SAMPLE_CHUNK,
    SAMPLE_ROWS,
    ColumnPlan,
    RawColumn,
    base,
    both_orders,
    candidates,
    cast_name,
    counted,
    decide,
    from_sample,
    ladder,
    layer,
    layers,
    order_counts,
    order_key,
    quick,
    kind_of,
    present_name,
    comma_counts,
    dotted_counts,
    lone_dots_note,
    points_group,
    reordered,
    stat_alias,
    same_plan,
    sample_query,
    unpack_sample,
    stats_parts,
    target_plans,
    unwrap,
)
from .names import DIALECT, IDENTIFIER, check_table_name, dtype, ident, qualified, table
from .progress import Progress, watching
from .sources import MALFORMED_SHARE, Raw, ReadOptions, Scratch, Source, resolve

MODES = ("fail", "create", "replace", "append", "upsert")
_AT_ROW = re.compile(r"\(at row (\d+)\)")
MAX_ATTEMPTS = 3  # a plan from the sample, then at most two corrections from every row's counts
# The staging read: every block carries the columns the four views read (see ``_fan``), so
# each block costs a fixed overhead (the views' queries, analysed again for each block) and
# memory (several blocks in flight). 98,304-row blocks kept a 10 M-row load's peak under 1 GiB
# when the views computed their own columns (982 MiB on bench/RESULTS.md's file, with the file
# read by pread(): see ``sources.READ_IN_PLACE``; 131,072-row blocks peaked at 1,090 MiB in
# 21.4 s, 65,536 at 866 MiB in 23.6 s; 262,144-row blocks once peaked at 1.4 GiB). Two insert
# threads cast blocks in parallel and the views run side by side: without them one core does
# it all (parallel_view_processing = 0: a 1 M-row read took 4.5 s of wall time against 2.2).
#
# Delimited text is parsed on one thread (``input_format_parallel_parsing = 0``), on every
# machine. With a header line, the engine's parallel parsing numbers the rows of each chunk
# after the first one too high (``_row_number``, and the row of a skipped row in the error
# file): a rejected row named the next row of the file (chDB 4.4 / ClickHouse 26.9; a file
# without a header is numbered right). The casts and views still run on two streams after
# the read. On bench/RESULTS.md's 2-core machine one thread was also the faster (a 1 M-row
# load: wall 2.7 -> 2.2 s, CPU 4.3 -> 3.4 s: no segmenting thread, no chunks handed between
# threads); on a machine of many cores the read is now one thread where it could be several.
#
# What the views write is gathered into parts of up to 262,144 rows (or 128 MiB) before it is
# written: 98,304-row parts made the staging table merge all through the load (a 10 M-row load
# wrote 100 parts, merged as it went). The read of bench/RESULTS.md's 10 M-row file, in
# interleaved runs: 98,304-row parts 20.4-21.2 s at a peak of 752-754 MiB; 262,144-row parts
# 17.1-19.9 s at 848-870 MiB; 1,048,576-row parts 17.5-19.2 s at 919-936 MiB, but a 1 M-row
# load then wrote its one part after the read instead of during it.
#
# ``engine.NO_JIT`` (here and for every read of a load): the engine's JIT compiles each
# expression it meets a third time, and a load's expressions are new to every load, so each
# load paid for compiling them and gained nothing back (a 1 M-row load in fresh processes,
# 6 interleaved runs each: 2.62 s median without, 3.04 s with; the 10 M-row read 15.5-17.7 s
# either way).
STAGE_SETTINGS = {"max_block_size": 98_304, "min_insert_block_size_rows": 98_304,
                  "min_insert_block_size_rows_for_materialized_views": 262_144,
                  "min_insert_block_size_bytes_for_materialized_views": 128 << 20,
                  "max_insert_threads": 2, "parallel_view_processing": 1, "input_format_parallel_parsing": 0,
                  **engine.NO_JIT}  # and engine.analysis(conn)

__all__ = ["IDENTIFIER", "MODES", "Preview", "load", "preview"]


@dataclass
class _Target:
    database: str
    name: str
    columns: list[tuple[str, str]] | None
    engine: str = ""
    sorting_key: str = ""

    @property
    def exists(self) -> bool:
        return self.columns is not None


def _target(conn: Connection, database: str, name: str) -> _Target:
    cols = engine.read(conn, exp.select("name", "type").from_(exp.table_("columns", db="system"))
                       .where(exp.and_(exp.column("database").eq(exp.Literal.string(database)),
                                       exp.column("table").eq(exp.Literal.string(name)), copy=False))
                       .order_by("position"))
    if cols.empty:
        return _Target(database, name, None)
    info = engine.read(conn, exp.select("engine", "sorting_key").from_(exp.table_("tables", db="system"))
                       .where(exp.and_(exp.column("database").eq(exp.Literal.string(database)),
                                       exp.column("name").eq(exp.Literal.string(name)), copy=False)))
    eng, key = (str(info["engine"].iloc[0]), str(info["sorting_key"].iloc[0])) if len(info) else ("", "")
    return _Target(database, name, [(str(r.name), str(r.type)) for r in cols.itertuples()], eng, key)


def _mode(if_exists: str) -> str:
    if if_exists not in MODES:
        raise SourceError(f"if_exists={if_exists!r} is not one of {', '.join(MODES)}.")
    return "create" if if_exists == "fail" else if_exists


def _keys(key: str | list[str] | tuple[str, ...] | None) -> list[str]:
    if key is None:
        return []
    keys = [k.strip() for k in key.split(",")] if isinstance(key, str) else [str(k) for k in key]
    for k in keys:
        if not IDENTIFIER.match(k):
            raise SourceError(f"Key column {k!r} is not an identifier.")
    return keys


def _command(name: str, text: str) -> exp.Command:
    """A ClickHouse statement sqlglot has no node for; every identifier in ``text`` was quoted
    by sqlglot (``qualified``) and every value is a sqlglot literal."""
    return exp.Command(this=name, expression=text)


def _with_settings(q: exp.Select, raw: Raw | None, **values: Any) -> exp.Select:
    """``q`` with the source's read settings (``raw``'s), then ``values``, in its SETTINGS clause."""
    added = [*(raw.settings if raw is not None else []), *engine.settings(**values)]
    if added:
        q.set("settings", [*(q.args.get("settings") or []), *added])
    return q


# ------------------------------------------------------------------ planning


def _speculate(conn: Connection, raw: Raw, share: float, infer: bool, sample_rows: int = SAMPLE_ROWS,
               scratch: Scratch | None = None) -> tuple[list[ColumnPlan], dict[int, tuple[str, ...]], dict[str, Any]]:
    """Plans from the first rows, the casts to count for each column while loading, and the
    sample's counts (see :mod:`infer`). With ``scratch``, a source of more than
    :data:`SAMPLE_CHUNK` columns has its sample rows copied once into a table there, and their
    counts asked for that many columns at a time."""
    well_formed = [exp.EQ(this=c.col(raw.extra), expression=c.lit(""))] if raw.extra else []
    if any(m.count == "short" for m in _malformed(raw)):
        well_formed.append(c.not_null(c.col(raw.columns[-1].source)))
    where = exp.and_(*well_formed, copy=False) if well_formed else None
    # a few thousand rows: one thread, no parallel parsing (which reads megabytes ahead), blocks
    # of the sample's size (the first layer's trims ran on a whole 65,536-row block)
    settings = {"max_threads": 1, "input_format_parallel_parsing": 0, "max_block_size": max(1024, sample_rows),
                **engine.analysis(conn)}

    def counts(relation: exp.Expression, columns: list[RawColumn], first: int, *, source: bool) -> dict[str, Any]:
        q = sample_query(relation, columns, sample_rows, text_source=raw.text_source, extra=raw.extra if first == 0 else None,
                         where=where if source else None, null_tokens=raw.null_tokens, first=first)
        return unpack_sample(engine.one_row(conn, _with_settings(q, raw if source else None, **settings)), columns, first)

    if scratch is None or len(raw.columns) <= SAMPLE_CHUNK:
        row = counts(raw.relation, raw.columns, 0, source=True)
    else:  # the source read once (a URL, a database), its sample rows kept in memory
        rows_table = scratch.table("sample")
        copy = exp.select(exp.Star()).from_(raw.relation.copy(), copy=False)  # the source's relation is shared
        if where is not None:
            copy = copy.where(where.copy(), copy=False)
        copy = _with_settings(copy.limit(sample_rows, copy=False), raw, **settings)
        conn.command(exp.Create(this=table(scratch.database, rows_table), kind="TABLE", expression=copy,
                                properties=exp.Properties(expressions=[exp.EngineProperty(this=exp.to_identifier("Memory"))])))
        try:
            row: dict[str, Any] = {}
            for first in range(0, len(raw.columns), SAMPLE_CHUNK):
                chunk = counts(table(scratch.database, rows_table), raw.columns[first:first + SAMPLE_CHUNK], first,
                               source=False)
                row.update(chunk, bytes=row.get("bytes", 0) + chunk["bytes"])
        finally:
            try:
                conn.command(exp.Drop(tables=[table(scratch.database, rows_table)], kind="TABLE", exists=True))
                scratch.tables.remove(rows_table)
            except BivoiceError:  # left to the scratch's cleanup: an error on the way out hid the first one
                pass
    cands = candidates(row, raw.columns, share) if infer else {i: "text" for i, rc in enumerate(raw.columns) if rc.text}
    ladders = {i: LADDERS.get(k, ()) for i, k in cands.items()}
    # with infer=False text stays plain String (no LowCardinality either)
    distinct = {i: int(row.get(stat_alias(i, "distinct"), 0) or 0) for i in cands} if infer else {}
    plans = decide(from_sample(row, raw.columns, cands), raw.columns, ladders, share, text_source=raw.text_source,
                   distinct=distinct)
    if raw.text_source:  # repair stray non-UTF-8 values in text columns wherever they turn up
        plans = [replace(p, fix_encoding=True) if p.kind == "text" else p for p in plans]
    plans = quick(plans, row)
    counting = {p.index: ladder(p, cands.get(p.index)) for p in plans}
    return plans, counting, {**row, "_distinct": distinct, "_cands": cands}


def _rows_about(raw: Raw, sample: dict[str, Any], sample_rows: int = SAMPLE_ROWS) -> float | None:
    """About how many rows the source holds: known; all of them, where the sample read fewer
    rows than it asked for; else a text file's size over the sampled rows' text (and a
    delimiter a field). None where nothing tells (an append reads no sample; a Parquet file's
    size is compressed)."""
    if raw.rows is not None:
        return raw.rows
    n = int(sample.get("rows", 0) or 0)
    if sample and n < sample_rows:
        return n
    if not raw.text_source:  # a Parquet file's size is compressed: it says nothing of the rows
        return None
    per_row = int(sample.get("bytes", 0) or 0) / n + len(raw.columns) if n else 0
    return raw.size_bytes / per_row if raw.size_bytes and per_row else None


def _check_columns(raw: Raw, target: _Target) -> None:
    have = {n for n, _ in target.columns or []}
    got = [rc.name for rc in raw.columns]
    if set(got) != have:
        missing, extra = sorted(have - set(got)), sorted(set(got) - have)
        raise LoadError(
            f"The source's columns do not match {target.database}.{target.name}; the table is unchanged.",
            hint="; ".join(x for x in (f"missing: {', '.join(missing)}" if missing else "",
                                       f"not in the table: {', '.join(extra)}" if extra else "") if x)
            + f" (the table has {', '.join(n for n, _ in target.columns or [])})",
        )


def _check_share(plans: list[ColumnPlan], rows: int, share: float, database: str, name: str) -> None:
    """An existing table's types cannot fall back to text: too many failures stop the load."""
    for p in plans:
        bad = p.failures + (p.nulls if not p.nullable and p.kind != "text" else 0)
        present = max(rows - p.nulls, 1)
        if bad and bad > share * max(present if p.nullable else rows, 1):
            raise LoadError(
                f"Column {p.name}: {bad:,} of {rows:,} values cannot be stored as {p.type} "
                f"({bad / max(rows, 1):.1%}, above the {share:.0%} threshold); the table is unchanged.",
                hint="fix the source, or load it into a new table (its column then stays text)",
            )


def _conventions(plans: list[ColumnPlan], counts: dict[str, Any], orders: dict[str, bool],
                 commas: dict[str, bool]) -> dict[str, dict[str, str]]:
    """How each column was read where the data showed it or the table had it, for the audit
    (:func:`audit.conventions` reads it back on the next append): the day/month order of
    date columns, and whether numbers' commas are decimal or thousands ones (and with decimal
    ones, whether points group thousands: :data:`audit.DOTTED`)."""
    out: dict[str, dict[str, str]] = {audit.DATE_ORDER: {}, audit.DECIMAL_COMMA: {}}
    for p in plans:
        if p.kind in ("date", "datetime") and (any(order_counts(counts, p.index)[:2]) or p.name in orders):
            out[audit.DATE_ORDER][p.name] = "month-first" if p.us_dates else "day-first"
        if p.kind in NUMBER_KINDS and (any(comma_counts(counts, p.index)[:2]) or p.name in commas):
            # points that group thousands are recorded where the values show it, lone ones or not
            dotted = p.dotted or points_group(p.decimal_comma, *dotted_counts(counts, p.index))
            out[audit.DECIMAL_COMMA][p.name] = audit.DOTTED if dotted else "decimal" if p.decimal_comma else "thousands"
    return {k: v for k, v in out.items() if v}


def _offset_warnings(plans: list[ColumnPlan], counts: dict[str, Any]) -> list[str]:
    """Moments written with a time-zone offset ("10:00+02:00", "10:00Z"): the parser converts
    them to the database's time zone, where the others are read as its local time."""
    out = []
    for p in plans:
        k = int(counts.get(stat_alias(p.index, "tz"), 0) or 0) if p.kind == "datetime" else 0
        if k:
            rest = int(counts.get(stat_alias(p.index, "n"), 0) or 0) - p.failures - k
            out.append(f"{p.name}: {k:,} value{'s' if k != 1 else ''} with a time-zone offset (such as +02:00 or Z) "
                       "converted to the database's time zone"
                       + (f"; {rest:,} without one read as its local time" if rest > 0 else ""))
    return out


def _append_warnings(plans: list[ColumnPlan], counts: dict[str, Any], orders: dict[str, bool],
                     commas: dict[str, bool]) -> list[str]:
    """An append's reading of dates and numbers, where it is not plain: both day/month orders
    in the source (the minority rejected), 01/02/2024-like dates that nothing orders (read
    day-first), 1,234-like numbers that nothing says the commas of (read as thousands), or
    1.500-like numbers among decimal commas (read as the column's points say)."""
    out = []
    for p in plans:
        if p.kind in ("date", "datetime"):
            dmy, mdy, dm = order_counts(counts, p.index)
            if dmy and mdy:
                out.append(f"{p.name}: {both_orders(dmy, mdy, p.us_dates)}")
            elif dm and not dmy and not mdy and p.name not in orders:
                out.append(f"{p.name}: {dm:,} dates like 01/02/2024 read day-first (February 1st): neither the "
                           "source nor the table's recorded loads show the day/month order")
        elif p.kind in NUMBER_KINDS:
            dcomma, thousands, ambiguous, points = comma_counts(counts, p.index)
            if ambiguous and not dcomma and not thousands and not points and p.name not in commas:
                out.append(f"{p.name}: {ambiguous:,} value{'s' if ambiguous != 1 else ''} like 1,234 read with a "
                           "thousands comma: neither the source nor the table's recorded loads show whether the "
                           "column's commas are decimal ones")
            grouped, lone = dotted_counts(counts, p.index)
            if p.decimal_comma and lone:
                out.append(f"{p.name}: {lone_dots_note(lone, grouped, p.dotted, recorded=True)}")
    return out


def _plan_change(a: ColumnPlan, b: ColumnPlan) -> str:
    """How plan ``b`` reads a column differently from ``a``: its type, and the readings the type
    does not show."""
    out = f"{a.type} -> {b.type}"
    if a.kind != b.kind:
        return out
    flags = {"decimal commas": (a.decimal_comma, b.decimal_comma), "thousands points": (a.dotted, b.dotted),
             "month-first dates": (a.us_dates, b.us_dates)}
    return ", ".join([out, *[f"{'with' if new else 'without'} {what}" for what, (old, new) in flags.items() if old != new]])


def _key_plans(plans: list[ColumnPlan], keys: list[str]) -> list[ColumnPlan]:
    """Key columns cannot be Nullable: a row with an empty key is rejected instead."""
    names = {p.name for p in plans}
    for k in keys:
        if k not in names:
            raise SourceError(f"Key column {k!r} is not in the source.", hint=f"columns are: {', '.join(sorted(names))}")
    out = []
    for p in plans:
        if p.name in keys:
            inner = unwrap(p.type)
            t = f"LowCardinality({inner})" if p.type.startswith("LowCardinality") else inner
            p = replace(p, type=t, nullable=False, key=True)
        out.append(p)
    return out


def _failed(p: ColumnPlan) -> exp.Expression | None:
    """Where this column makes a row fail: a value that does not fit, or (for a column that is
    not Nullable, text aside) no value at all. Over the cast layers (:func:`infer.layers`)."""
    cast = c.col(cast_name(p.index))
    if p.kind == "text":
        return c.is_null(cast) if p.key else None
    if p.kind == "kept" and unwrap(p.raw_type) == p.inner and (p.nullable or "Nullable" not in p.raw_type):
        return None
    if not p.nullable:
        return c.is_null(cast)
    return exp.and_(c.col(present_name(p.index)), c.is_null(cast), copy=False)


def _fail_name(i: int) -> str:
    return f"__bv_f{i}"


@dataclass(frozen=True)
class _Malformed:
    """A row-level defect of delimited text, found before any column is cast: ``flag`` names a
    column of the flagged layer that is true for such rows."""

    flag: str
    test: exp.Expression
    column: str
    value: exp.Expression
    reason: str
    count: str  # its total among the counts


def _malformed(raw: Raw) -> list[_Malformed]:
    """A blank line (no fields: the first empty, the last missing; it is no row, and is taken
    out of the rejects again, see :data:`BLANK`), more fields than the header (the spill column
    holds them), fewer (the last column, read as Nullable, is NULL only then: see
    ``sources.text_columns``)."""
    if not raw.extra:
        return []
    out = []
    last = len(raw.columns) - 1
    short = last >= 0 and raw.columns[last].type.startswith("Nullable(")
    if short and last >= 1:
        empty = [exp.EQ(this=c.col(raw_name(i)), expression=c.lit("")) for i in range(last)]
        out.append(_Malformed("__bv_blank", exp.and_(*empty, c.is_null(c.col(raw_name(last))), copy=False), BLANK, exp.Null(),
                              "a blank line", "blank"))
    out.append(_Malformed("__bv_more", exp.NEQ(this=c.col(EXTRA_NAME), expression=c.lit("")), "(extra fields)",
                          c.col(EXTRA_NAME), "more fields than the header", "extra"))
    if short:
        out.append(_Malformed("__bv_short", c.is_null(c.col(raw_name(last))), "(missing fields)", exp.Null(),
                              "fewer fields than the header", "short"))
    return out


# A blank line within delimited text reads as a row whose fields are all missing (blank lines
# at the end are skipped by the reader): it goes with the rejects, where it is counted, then
# out again. The test cannot tell it from a line of empty fields one or more short of the
# header (",," under five columns), which holds no value either.
BLANK = "(blank line)"


def _cast(raw: Raw, plans: list[ColumnPlan], limit: int | None = None
          ) -> tuple[exp.Expression, list[ColumnPlan], list[_Malformed]]:
    """Every row (the first ``limit``) with each column cast (``__bv_c<i>``) and a flag per
    column that can fail (``__bv_f<i>``), in layers over :func:`infer.base` so that each step is
    computed once. Returns the relation, the plans that can fail, and the row-level checks
    (flags of the same layer)."""
    b = base(raw.relation, raw.columns, values={p.index for p in plans if p.needs_value}, row=raw.row,
             extra=raw.extra, fix={p.index for p in plans if p.fix_encoding}, null_tokens=raw.null_tokens, limit=limit)
    failing = [p for p in plans if _failed(p) is not None]
    checks = _malformed(raw)
    flags = [(m.flag, m.test) for m in checks] + [(_fail_name(p.index), _failed(p)) for p in failing]
    flagged = layer(layers(b, plans), flags, "_flagged")  # type: ignore[arg-type]
    return flagged, failing, checks


def _reason(p: ColumnPlan) -> exp.Expression:
    bad = c.lit(f"cannot be read as {p.inner}")
    if p.nullable:
        return bad
    return c.if_(exp.not_(c.col(present_name(p.index)), copy=False), c.lit("empty, but the column is not Nullable"), bad)


# ------------------------------------------------------------------ statements


def _create(database: str, name: str, plans: list[ColumnPlan], order: list[str], replacing: bool) -> exp.Create:
    defs = [exp.ColumnDef(this=ident(p.name), kind=dtype(p.type)) for p in plans]
    key = audit.sort_key(order)
    return exp.Create(
        this=exp.Schema(this=table(database, name), expressions=defs),
        kind="TABLE",
        properties=exp.Properties(expressions=[
            exp.EngineProperty(this=exp.to_identifier("ReplacingMergeTree" if replacing else "MergeTree")),
            exp.Order(expressions=[exp.Ordered(this=key)]),
        ]),
    )


def _bad(failing: list[ColumnPlan], checks: list[_Malformed]) -> exp.Expression | None:
    conds = [c.col(m.flag) for m in checks] + [c.col(_fail_name(p.index)) for p in failing]
    return exp.or_(*conds, copy=False) if conds else None


BAD_NAME = "__bv_bad"  # the row is rejected (a column of the fan, see :func:`_fan`)
QUOTE_NAME = "__bv_quote"  # values holding a line break (see :func:`_quote_item`)
# the rejected row's fields (column, value, reason, raw), computed in the read for rejected rows only
_REJECT_FIELDS = ("column", "value", "reason", "raw")


def _reject_name(what: str) -> str:
    return f"__bv_j_{what}"


def _rows_select(fan: exp.Expression, plans: list[ColumnPlan], has_bad: bool) -> exp.Select:
    select = exp.select(*[exp.alias_(c.col(cast_name(p.index)), p.name, quoted=True, copy=False) for p in plans],
                        copy=False).from_(fan)
    return select.where(exp.not_(c.col(BAD_NAME), copy=False), copy=False) if has_bad else select


def _reject_items(plans: list[ColumnPlan], failing: list[ColumnPlan], checks: list[_Malformed],
                  has_extra: bool) -> list[tuple[str, exp.Expression]]:
    """For a rejected row (``__bv_bad``; for others an empty value, not computed): the first
    problem (a malformed row first, then the first failing column), its raw value, why, and the
    whole raw row."""

    def pick(row_level: list[exp.Expression], values: list[exp.Expression], last: exp.Expression) -> exp.Expression:
        args: list[exp.Expression] = []
        for m, v in zip(checks, row_level):
            args += [c.col(m.flag), v]
        for p, v in zip(failing, values):
            args += [c.col(_fail_name(p.index)), v]
        return c.fn("multiIf", *args, last) if args else last

    as_text = [c.fn("toString", p.raw()) if p.kind == "kept" else p.raw() for p in failing]
    column = pick([c.lit(m.column) for m in checks], [c.lit(p.name) for p in failing], c.lit(""))
    value = exp.cast(pick([m.value for m in checks], as_text, exp.Null()),
                     dtype("Nullable(String)"))
    reason = pick([c.lit(m.reason) for m in checks], [_reason(p) for p in failing], c.lit(""))
    pairs: list[exp.Expression] = []
    for p in plans:
        pairs += [c.lit(p.name), c.fn("ifNull", c.fn("toString", p.raw()), c.lit(""))]
    if has_extra:
        pairs += [c.lit("(extra fields)"), c.col(EXTRA_NAME)]
    raw = c.fn("toJSONString", c.fn("map", *pairs))
    bad = c.col(BAD_NAME)
    return [(_reject_name("column"), c.if_(bad, column, c.lit(""))), (_reject_name("value"), c.if_(bad, value, exp.Null())),
            (_reject_name("reason"), c.if_(bad, reason, c.lit(""))), (_reject_name("raw"), c.if_(bad, raw, c.lit("")))]


def _rejects_select(fan: exp.Expression, load_id: str) -> exp.Select:
    return exp.select(
        c.lit(load_id).as_("load_id"),
        exp.cast(c.col(ROW_NAME), dtype("Nullable(UInt64)")).as_("source_row"),
        *[exp.alias_(c.col(_reject_name(w)), w, quoted=True, copy=False) for w in _REJECT_FIELDS], copy=False,
    ).from_(fan).where(c.col(BAD_NAME), copy=False)


@dataclass
class _Fan:
    """What one read of the source computes for every row (``relation``, inserted into a
    Null-engine table, the fan), and the views over that table: ``views`` maps ``rows``,
    ``rejects``, ``stats`` and ``quotes`` (those that apply) to their query over ``fan``.

    A materialized view's query is analysed again for every block it receives (about 0.1 CPU s
    a block, in chDB 4.4, for a view of 16 KB), so every per-row expression lives in the read,
    analysed once, and the views only pick columns and sum them."""

    relation: exp.Expression
    views: dict[str, exp.Select]
    counts: list[exp.Expression]  # the stats view's columns (see infer.Stats)
    maxima: set[str]  # those of them that are a largest value, not a sum
    checks: list[_Malformed]
    types: dict[str, str] | None  # the fan's columns and their types, where known (see _fan_types)
    arrays: dict[str, list[str]] = field(default_factory=dict)  # counts kept as arrays: their names (arrays.gather)


def _fan(raw: Raw, plans: list[ColumnPlan], counting: dict[int, tuple[str, ...]], load_id: str,
         fan: exp.Expression, *, arrays: bool = False) -> _Fan:
    """The read and its views; ``arrays``: columns that share an expression compute it as
    arrays (see :mod:`arrays`)."""
    rel, failing, checks = _cast(raw, plans)
    bad = _bad(failing, checks)
    stats = stats_parts(plans, counting, text_source=raw.text_source)
    items = list(stats.columns)  # the counts' per-row evidence (see infer.Stats)
    quotes = _quote_item(raw)
    if quotes is not None:
        items.append(quotes)
    if bad is not None:
        items.append((BAD_NAME, bad))
    rel = layer(rel, items, "_checked")
    views = {"rows": _rows_select(fan, plans, bad is not None)}
    if bad is not None:
        rel = layer(rel, _reject_items(plans, failing, checks, raw.extra is not None), "_rejects")
        views["rejects"] = _rejects_select(fan, load_id)
    # the plan is checked against well-formed rows only (a short row's missing values are not
    # nulls); the malformed ones are counted among the rejects
    counts = [exp.Count(this=exp.Star()).as_("rows"), *stats.counts]
    gathered: dict[str, list[str]] = {}
    if arrays:
        counts, gathered = gather(counts)
    counted = exp.select(*counts, copy=False).from_(fan)
    if checks:
        counted = counted.where(exp.not_(exp.or_(*[c.col(m.flag) for m in checks], copy=False), copy=False), copy=False)
    views["stats"] = counted
    if quotes is not None:
        views["quotes"] = _quotes_select(fan)
    # the fan holds only what the views read: the layers' other columns (raw and trimmed text,
    # fast casts, cleaned numbers, flags) end with the read, and every block the views receive
    # is that much smaller
    read = dict.fromkeys(x.name for v in views.values() for x in v.find_all(exp.Column) if x.name.startswith("__bv_"))
    flags = {present_name(p.index) for p in plans} | {_fail_name(p.index) for p in failing} | {m.flag for m in checks}
    types = _fan_types(list(read), plans, {**stats.types, **dict.fromkeys(flags, "Nullable(UInt8)")})
    picked: list[exp.Expression] = [c.col(n) for n in read]
    if types is not None:  # each column cast to its declared type: an identity, or a Nullable wrapper
        picked = [exp.alias_(exp.cast(x, dtype(types[n])), n, quoted=True, copy=False)
                  for x, n in zip(picked, read)]
    final = exp.select(*picked, copy=False).from_(rel, copy=False)
    if arrays:
        vectorize(final, {i: rc.type for i, rc in enumerate(raw.columns)})
    rel = final.subquery("_fan", copy=False)
    return _Fan(rel, views, counts, stats.maxima, checks, types, gathered)


# the types of the fan's columns (see :func:`_fan_types`) other than the casts, the flags and
# the per-row counts; every flag and per-row count is a Nullable(UInt8), which keeps a NULL
# condition NULL (not counted, not true)
_FAN_TYPES = {ROW_NAME: "Nullable(UInt64)", BAD_NAME: "Nullable(UInt8)", QUOTE_NAME: "Array(Tuple(String, Int64, UInt64))",
              _reject_name("column"): "String", _reject_name("value"): "Nullable(String)",
              _reject_name("reason"): "String", _reject_name("raw"): "String"}
_CANNOT_BE_NULLABLE = ("Array(", "Map(", "Tuple(", "Nested(", "Object(", "JSON", "Variant(", "Dynamic", "LowCardinality(",
                       "AggregateFunction(", "SimpleAggregateFunction(")


def _fan_types(names: list[str], plans: list[ColumnPlan], known: dict[str, str]) -> dict[str, str] | None:
    """Each fan column's type, known without asking the engine, so that creating the fan costs
    no analysis of the read (the largest statement of a load, analysed again by the insert:
    about 0.15 s each time, in chDB 4.4). Every type is the one the column's expression yields,
    or that type made Nullable; ``known`` gives the per-row counts' and the flags'. None where
    a column's type is not known (a typed source's column that cannot be Nullable, say): the
    fan is then created from the read."""
    out: dict[str, str] = {}
    casts = {cast_name(p.index): p for p in plans}
    for n in names:
        if n in _FAN_TYPES:
            out[n] = _FAN_TYPES[n]
        elif n in known:
            out[n] = known[n]
        elif n in casts:
            p = casts[n]
            if p.kind == "kept" and unwrap(p.raw_type) == p.inner:
                out[n] = p.raw_type  # the source's column as it is
            elif p.kind == "text":
                out[n] = "Nullable(String)"
            elif p.inner.startswith(_CANNOT_BE_NULLABLE):
                return None
            else:
                out[n] = f"Nullable({p.inner})"
        else:
            return None
    return out


def _into(database: str, name: str, columns: list[str]) -> exp.Schema:
    return exp.Schema(this=table(database, name), expressions=[ident(n) for n in columns])


def _stage_rows(conn: Connection, scratch: Scratch, raw: Raw, plans: list[ColumnPlan], counting: dict[int, tuple[str, ...]],
                stage: str, rejected: str, load_id: str, in_order: bool = False, arrays: bool = False) -> dict[str, Any]:
    """Cast every row once, in one read of the source: the rows go into a Null-engine table
    whose materialized views keep the good rows, the rejected ones, and the counts the plan is
    checked against (one row per block). Returns the counts, summed. ``in_order``: blocks are
    cast and written one after another, in the source's order (an upsert's ReplacingMergeTree
    then keeps the last row of a key the source repeats). One insert thread is not enough: the
    read still fans out to ``max_threads`` streams after the file and back (a Resize each way),
    so a later block could be written first; a CI run kept a key's first row that way."""
    database = scratch.database
    fan = scratch.table("fan")
    built = _fan(raw, plans, counting, load_id, table(database, fan), arrays=arrays)
    rel, checks = built.relation, built.checks
    null = exp.Properties(expressions=[exp.EngineProperty(this=exp.to_identifier("Null"))])
    if built.types is not None:
        conn.command(exp.Create(this=exp.Schema(this=table(database, fan), expressions=[
            exp.ColumnDef(this=ident(n), kind=dtype(t)) for n, t in built.types.items()]),
            kind="TABLE", properties=null))
    else:
        probe = exp.select(exp.Star()).from_(rel).limit(0, copy=False)  # a copy: ``rel`` is read again below
        conn.command(exp.Create(this=table(database, fan), kind="TABLE", expression=_with_settings(probe, raw),
                                properties=null))
    stats = scratch.table("stats")
    # each count's type in the stats table, and how its blocks add up: a UInt64 summed, a largest
    # value (an Int64) or an array of counts (arrays.gather) summed element by element
    parts = {str(x.alias): ("Int64", "max") if str(x.alias) in built.maxima else
             ("Array(UInt64)", "sumForEach") if str(x.alias) in built.arrays else ("UInt64", "sum") for x in built.counts}
    # one row per block: a Memory table, its columns declared, so that creating it costs no
    # analysis of the counts
    conn.command(exp.Create(
        this=exp.Schema(this=table(database, stats), expressions=[
            exp.ColumnDef(this=ident(n), kind=dtype(t)) for n, (t, _) in parts.items()]),
        kind="TABLE", properties=exp.Properties(expressions=[exp.EngineProperty(this=exp.to_identifier("Memory"))])))
    quotes = None
    if "quotes" in built.views:  # unclosed quotes, see _check_quotes
        quotes = scratch.table("quotes")
        conn.command(_quotes_table(database, quotes))
    views = []
    targets = [("rows", stage, built.views["rows"], [p.name for p in plans])]
    if "rejects" in built.views:
        targets.append(("rejects", rejected, built.views["rejects"], [n for n, _ in audit.REJECT_COLUMNS]))
    targets.append(("stats", stats, built.views["stats"], list(parts)))
    if quotes is not None:
        targets.append(("quotes", quotes, built.views["quotes"], list(_QUOTE_COLUMNS)))
    for what, target, select, cols in targets:
        view = scratch.table(f"mv_{what}")
        views.append(view)
        conn.command(exp.Create(
            this=table(database, view), kind="VIEW", expression=select,
            properties=exp.Properties(expressions=[exp.MaterializedProperty(),
                                                   exp.ToTableProperty(this=_into(database, target, cols))]),
        ))
    settings: dict[str, Any] = {**STAGE_SETTINGS, **engine.analysis(conn),
                                **({"max_insert_threads": 1, "max_threads": 1} if in_order else {})}
    if raw.malformed is not None:  # rows the parser cannot read are written there, not fatal
        raw.malformed.unlink(missing_ok=True)
        settings.update(input_format_record_errors_file_path=str(raw.malformed), input_format_allow_errors_ratio=MALFORMED_SHARE)
    try:
        select = _with_settings(exp.select(exp.Star()).from_(rel, copy=False), raw, **settings)
        conn.command(exp.insert(select, table(database, fan), copy=False))
    finally:  # the views must be gone before the staging tables become the target
        for view in reversed(views):
            conn.command(exp.Drop(tables=[table(database, view)], kind="TABLE", exists=True))
        conn.command(exp.Drop(tables=[table(database, fan)], kind="TABLE", exists=True))
    totals = [c.fn(how, c.col(n)).as_(n) for n, (_, how) in parts.items()]
    counts = engine.one_row(conn, exp.select(*totals).from_(table(database, stats)))
    for name, names in built.arrays.items():  # each array's counts under their own names
        counts.update(spread(counts.pop(name), names))
    conn.command(exp.Drop(tables=[table(database, stats)], kind="TABLE", exists=True))
    scratch.tables[:] = [t for t in scratch.tables if t not in (fan, stats, *views)]  # a second attempt makes its own
    if checks:
        found = engine.read(conn, exp.select("column", exp.Count(this=exp.Star()).as_("n")).from_(table(database, rejected))
                            .where(exp.column("column").isin(*[c.lit(m.column) for m in checks], copy=False)).group_by("column"))
        by_column = {str(r.column): int(r.n) for r in found.itertuples()}
        for m in checks:
            counts[m.count] = by_column.get(m.column, 0)
        if counts.get("blank"):  # not rows: out of the rejects (a lightweight delete, rarely run)
            conn.command(exp.delete(table(database, rejected), where=exp.column("column").eq(c.lit(BLANK))))
    found_quotes = _found_quotes(conn, scratch, quotes)
    if raw.malformed is not None and raw.malformed.exists() and raw.malformed.stat().st_size:
        steps = _steps(_skipped_rows(conn, raw.malformed))
        _renumber(conn, scratch, steps, rejected)
        found_quotes = [(_true_row(row, steps), *rest) for row, *rest in found_quotes]
        counts["malformed"] = _reject_unparsed(conn, raw.malformed, database, rejected, load_id)
    # "rows" (what the plan is checked against) are the well-formed ones
    counts["rows_read"] = int(counts["rows"]) + sum(int(counts.get(k, 0) or 0) for k in ("extra", "short", "malformed"))
    counts["_quotes"] = found_quotes
    return counts


# The file ClickHouse writes for each row it skipped (input_format_record_errors_file_path)
_ERRORS_STRUCTURE = "time String, database Nullable(String), table Nullable(String), offset Nullable(UInt64), " \
                    "reason String, raw_data String"


def _errors(path: Path) -> exp.Table:
    return exp.Table(this=c.fn("file", c.lit(str(path)), c.lit("CSV"), c.lit(_ERRORS_STRUCTURE)))


def _skipped_rows(conn: Connection, path: Path) -> list[int]:
    """The rows the parser skipped, by their number in the file (1 = the first data row), in
    order. The error file numbers them right: the read is on one thread (``STAGE_SETTINGS``)."""
    df = engine.read(conn, exp.select(c.fn("assumeNotNull", c.col("offset")).as_("row")).from_(_errors(path)).order_by("row"))
    return [int(r) for r in df["row"]]


def _steps(skipped: list[int]) -> dict[int, int]:
    """For the rows the parser skipped (their numbers in the file, in order): how many parsed
    rows come before each, and how many skipped rows then lie behind (the last of equal
    counts): a row the engine numbered above a count is that many rows further on."""
    return {s - k: k for k, s in enumerate(skipped, 1)}


def _true_row(row: int, steps: dict[int, int]) -> int:
    """A row's number in the file from the one the engine gave it (``_row_number``), which does
    not count the rows it skipped: ``row`` plus the skipped rows that come before it."""
    return row + max((k for t, k in steps.items() if t < row), default=0)


def _renumber(conn: Connection, scratch: Scratch, steps: dict[int, int], rejected: str) -> None:
    """Give the rejected rows their number in the file (see :func:`_true_row`) where the parser
    skipped rows: the rejects table is rebuilt, each row's number raised by the count of skipped
    rows before it (an ASOF join on ``skipped - k``, the parsed rows before the k-th skipped
    one). Every number was one row too low per skipped row above it."""
    database = scratch.database
    pairs = exp.Array(expressions=[exp.Tuple(expressions=[c.lit(t), c.lit(k)]) for t, k in steps.items()])
    step = exp.column("p")
    table_of_steps = exp.select(c.lit(1).as_("one"), c.fn("toInt64", c.fn("tupleElement", step, c.lit(1))).as_("t"),
                                c.fn("tupleElement", step, c.lit(2)).as_("k")) \
        .from_(exp.select(c.fn("arrayJoin", pairs).as_("p")).subquery("_pairs"))
    rows = exp.select(exp.Star(), c.lit(1).as_("one"), c.fn("toInt64", c.fn("ifNull", c.col("source_row"), c.lit(0))).as_("n")) \
        .from_(table(database, rejected))
    names = [n for n, _ in audit.REJECT_COLUMNS]
    number = c.if_(c.is_null(exp.column("source_row", "r")), exp.Null(),
                   exp.Add(this=exp.column("source_row", "r"), expression=exp.column("k", "s")))
    picked = [number.as_("source_row") if n == "source_row" else exp.column(n, "r", quoted=True).as_(n, quoted=True)
              for n in names]
    on = exp.and_(exp.EQ(this=exp.column("one", "r"), expression=exp.column("one", "s")),
                  exp.GT(this=exp.column("n", "r"), expression=exp.column("t", "s")), copy=False)
    select = exp.select(*picked).from_(rows.subquery("r"))
    select.set("joins", [exp.Join(this=table_of_steps.subquery("s"), on=on, side="LEFT", kind="ASOF")])
    fixed = scratch.table("renumbered")
    conn.command(exp.Create(this=table(database, fixed), kind="TABLE", expression=table(database, rejected)))
    conn.command(exp.insert(select, _into(database, fixed, names)))
    conn.command(exp.Drop(tables=[table(database, rejected)], kind="TABLE"))
    conn.command(_rename(database, fixed, rejected))
    scratch.tables.remove(fixed)


def _reject_unparsed(conn: Connection, path: Path, database: str, rejected: str, load_id: str) -> int:
    """The rows the CSV parser skipped (bad quoting: ``"ab"c``), as rejected rows with their
    number in the file, their line as written (``value``) and the parser's reason."""
    source = _errors(path)
    why = c.fn("regexpExtract", c.col("reason"), c.lit("ERROR: ([^\n]*)"), c.lit(1))
    select = exp.select(
        c.lit(load_id).as_("load_id"), exp.cast(c.col("offset"), dtype("Nullable(UInt64)")).as_("source_row"),
        c.lit("(row)").as_("column", quoted=True), c.col("raw_data").as_("value"),
        c.fn("concat", c.lit("the row cannot be read as CSV: "), why).as_("reason"),
        c.fn("toJSONString", c.fn("map", c.lit("(line)"), c.col("raw_data"))).as_("raw"),
    ).from_(source)
    before = engine.count(conn, table(database, rejected))
    conn.command(exp.insert(select, _into(database, rejected, [n for n, _ in audit.REJECT_COLUMNS])))
    return engine.count(conn, table(database, rejected)) - before


# ------------------------------------------------------------------ unclosed quotes

# A quote that opens a field of delimited text and is never closed makes the parser read on,
# across line breaks, to the next quote or to the end of the file: the rows it runs over become
# one value (the row is then loaded, or rejected as short or as a failed cast) or the parser
# fails at that next quote (the row is skipped, and so are all the lines it ran over). Either
# way rows are lost while the report shows one bad row, so such a load stops instead (issue #4).
#
# The rule. The lines it runs over contain no lone quote (the parser stops at the first one),
# so in an otherwise well-formed file each of them reads as a whole row: exactly as many fields
# as the header, no quote. A value is an unclosed quote when, among its lines after the first,
#   * at least UNCLOSED_QUOTE_ROWS read as whole rows, or
#   * at least one does and the value ran to the end of the file (its row is the last read);
# and a row the parser skipped is one when its line opens a quote it does not close (an odd
# number of quotes), or when the parser lost the row's text ("Buffer has gone": the row ran
# past its read buffer, which a quoted field running to the end of a tab-separated file does).
# A legitimately quoted value of a few lines (an address) has no such lines and loads as before;
# one whose later lines do look like whole rows of the file is refused, a false alarm the error
# names precisely. Cost: one more view on the staging read, whose filter is one position() per
# text value; the lines are only split for values that hold a line break.
UNCLOSED_QUOTE_ROWS = 2
# In a file of one column every line reads as a whole row, so there a value is an unclosed quote
# only when it ran to the end of the file over at least this many lines (a quoted comment of a
# few lines, even in the last row, still loads).
UNCLOSED_QUOTE_LINES_ALONE = 10
_QUOTE_COLUMNS = ("row", "column", "lines", "rows_like")


def _quote_values(raw: Raw) -> list[tuple[str, exp.Expression]]:
    """The text values of delimited text (with the spill column), by the name shown in errors."""
    values = [(rc.name, c.fn("ifNull", c.col(raw_name(i)), c.lit(""))) for i, rc in enumerate(raw.columns)]
    return [*values, ("(extra fields)", c.col(EXTRA_NAME))]


def _rows_like(x: exp.Expression, delimiter: str, width: int) -> exp.Expression:
    """How many lines of ``x`` after its first read as a whole row: ``width`` fields, no quote."""
    line = exp.column("l")
    whole = (exp.EQ(this=c.fn("countSubstrings", line, c.lit(delimiter)), expression=c.lit(width - 1)) if width > 1
             else exp.NEQ(this=line, expression=c.lit("")))
    test = exp.and_(exp.EQ(this=c.fn("position", line, c.lit('"')), expression=c.lit(0)), whole, copy=False)
    return c.fn("arrayCount", exp.Lambda(this=test, expressions=[exp.to_identifier("l")]),
                c.fn("arrayPopFront", c.fn("splitByChar", c.lit("\n"), x)))


def _quote_item(raw: Raw) -> tuple[str, exp.Expression] | None:
    """For delimited text, every value of the row holding a line break with at least one line
    that reads as a whole row: (column, the lines it holds after its first, how many of them read
    as whole rows); an empty array for other rows (the lines are split only for rows with a line
    break). None for other sources."""
    if not raw.extra or not raw.columns:
        return None
    delimiter, width = raw.details.get("delimiter", ","), len(raw.columns)
    values = _quote_values(raw)
    # one scan for a line break per value, arithmetic rather than or/and: each short-circuit step
    # copied its inputs for the next, and searching only the values whose cast failed cost more
    # (0.2 CPU s a million rows of eight columns) than scanning them all
    has_break = exp.GT(this=c.fn("greatest", *[c.fn("position", x, c.lit("\n")) for _, x in values]),
                       expression=c.lit(0))
    found = c.fn("array", *[c.fn("tuple", c.lit(name), exp.Sub(this=c.fn("countSubstrings", x, c.lit("\n")),
                                                                  expression=c.fn("endsWith", x, c.lit("\n"))),
                                    _rows_like(x, delimiter, width)) for name, x in values])
    t = exp.column("t")
    kept = c.fn("arrayFilter", exp.Lambda(this=exp.GT(this=c.fn("tupleElement", t, c.lit(3)), expression=c.lit(0)),
                                          expressions=[exp.to_identifier("t")]), found)
    return QUOTE_NAME, c.if_(has_break, kept, exp.Array(expressions=[]))


def _quotes_select(fan: exp.Expression) -> exp.Select:
    """One row per value :func:`_quote_item` kept (rare: a small Memory table)."""
    inner = exp.select(c.fn("toUInt64", c.col(ROW_NAME)).as_("row"), c.fn("arrayJoin", c.col(QUOTE_NAME)).as_("q")) \
        .from_(fan).where(c.fn("notEmpty", c.col(QUOTE_NAME)))
    return exp.select("row", *[c.fn("tupleElement", exp.column("q"), c.lit(k)).as_(n, quoted=True)
                               for k, n in enumerate(_QUOTE_COLUMNS[1:], 1)]).from_(inner.subquery("_q"))


def _quotes_table(database: str, name: str) -> exp.Create:
    types = {"row": "UInt64", "column": "String", "lines": "Int64", "rows_like": "UInt64"}
    return exp.Create(this=exp.Schema(this=table(database, name), expressions=[
        exp.ColumnDef(this=ident(n), kind=dtype(types[n])) for n in _QUOTE_COLUMNS]),
        kind="TABLE", properties=exp.Properties(expressions=[exp.EngineProperty(this=exp.to_identifier("Memory"))]))


def _found_quotes(conn: Connection, scratch: Scratch, quotes: str | None) -> list[tuple[int, str, int, int]]:
    """What the view of :func:`_quotes_select` kept (by row), and its table dropped."""
    if quotes is None:
        return []
    df = engine.read(conn, exp.select(*[exp.column(n, quoted=True) for n in _QUOTE_COLUMNS])
                     .from_(table(scratch.database, quotes)).order_by("row"))
    conn.command(exp.Drop(tables=[table(scratch.database, quotes)], kind="TABLE", exists=True))
    scratch.tables.remove(quotes)
    return [(int(r.row), str(r.column), int(r.lines), int(r.rows_like)) for r in df.itertuples(index=False)]


def _check_quotes(conn: Connection, counts: dict[str, Any], database: str, rejected: str, label: str,
                  width: int) -> None:
    """Stop the load (before anything is swapped in) at the first unclosed quote, by the rule
    above; ``counts`` are :func:`_stage_rows`'s, ``width`` the source's number of columns."""
    todo = "fix the quote (close it, or double a quote that is part of the text: \"\") or remove it, then load again"
    last = int(counts.get("rows_read", 0) or 0)  # the last row's number (rows are numbered in the file)
    for row, column, lines, rows_like in counts.get("_quotes", []):
        to_end = row >= last
        alone = width == 1 and not (to_end and lines >= UNCLOSED_QUOTE_LINES_ALONE)
        if (rows_like >= UNCLOSED_QUOTE_ROWS or to_end) and not alone:
            raise SourceError(
                f"{label}: a quote opens in row {row:,}, column {column}, and is never closed: the {lines:,} "
                f"line{'' if lines == 1 else 's'} after it{' (to the end of the file)' if to_end else ''} became "
                f"part of that one value ({rows_like:,} of them look like whole rows). Nothing was loaded; the table is unchanged.", hint=todo)
    if not counts.get("malformed"):
        return
    value, reason = c.col("value"), c.col("reason")
    odd = exp.EQ(this=exp.Mod(this=c.fn("countSubstrings", value, c.lit('"')), expression=c.lit(2)), expression=c.lit(1))
    # the engine's words where it lost the row's text (in the reason or, as here, the line)
    lost = exp.or_(*[exp.GT(this=c.fn("position", x, c.lit("Buffer has gone")), expression=c.lit(0)) for x in (reason, value)], copy=False)
    df = engine.read(conn, exp.select("value", lost.as_("lost")).from_(table(database, rejected))
                     .where(exp.and_(exp.column("column").eq(c.lit("(row)")), exp.or_(odd, lost, copy=False), copy=False)).limit(1))
    if df.empty:
        return
    where = "a row" if bool(df["lost"].iloc[0]) else f"the row {str(df['value'].iloc[0])[:200]!r}"
    raise SourceError(
        f"{label}: a quote opens in {where} and is never closed: the parser read on across the lines after it "
        "until it failed, and those rows could not be read. Nothing was loaded; the table is unchanged.", hint=todo)


def _partitions(conn: Connection, database: str, name: str) -> list[str]:
    df = engine.read(conn, exp.select("partition_id").distinct().from_(exp.table_("parts", db="system"))
                     .where(exp.and_(exp.column("database").eq(exp.Literal.string(database)),
                                     exp.column("table").eq(exp.Literal.string(name)), exp.column("active"), copy=False)))
    return [str(x) for x in df["partition_id"]]


def _move_rows(conn: Connection, database: str, source: str, target: _Target, warnings: list[str]) -> None:
    """Add the staging table's rows to the target: by attaching its parts (atomic, no copy)
    where the target is a MergeTree, else by INSERT ... SELECT."""
    if target.engine.endswith("MergeTree"):
        for pid in _partitions(conn, database, source):
            conn.command(_command("ALTER", f"TABLE {qualified(database, target.name)} ATTACH PARTITION ID "
                                           f"{exp.Literal.string(pid).sql(DIALECT)} FROM {qualified(database, source)}"))
        return
    warnings.append(f"{target.name} is a {target.engine} table: rows were copied with INSERT ... SELECT, "
                    "which is not atomic")
    conn.command(exp.insert(exp.select(exp.Star()).from_(table(database, source)), table(database, target.name)))


def _rename(database: str, old: str, new: str) -> exp.Command:
    return _command("RENAME", f"TABLE {qualified(database, old)} TO {qualified(database, new)}")


def _exchange(database: str, a: str, b: str) -> exp.Command:
    return _command("EXCHANGE", f"TABLES {qualified(database, a)} AND {qualified(database, b)}")


def _check_rejects_table(target: _Target) -> None:
    if target.exists and [tuple(x) for x in target.columns or []] != [tuple(x) for x in audit.REJECT_COLUMNS]:
        raise LoadError(
            f"{target.database}.{target.name} exists and is not a rejects table; the load would overwrite it.",
            hint="rename that table, or load under another name",
        )


# ------------------------------------------------------------------ the load


@dataclass
class _Run:
    """What one run knows so far; written to the audit whatever happens."""

    entry: audit.Entry
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    plans: list[ColumnPlan] = field(default_factory=list)


def load(
    conn: Connection,
    source: Any,
    *,
    table: str,
    database: str,
    if_exists: str = "fail",
    key: str | list[str] | None = None,
    dedup: bool = False,
    max_bad_share: float = MAX_BAD_SHARE,
    infer: bool = True,
    order_by: list[str] | None = None,
    final: bool = True,
    progress: bool | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    header: bool | None = None,
    sheet: str | int | None = None,
    query: str | None = None,
    clean_names: bool | None = None,
    fmt: str | None = None,
    null_tokens: Iterable[str] | None = None,
) -> LoadReport:
    """Load ``source`` into ``database.table``; see the module docstring for the guarantees.

    ``if_exists``: ``fail``/``create`` (default: refuse an existing table), ``replace``,
    ``append`` or ``upsert`` (with ``key``: one or more columns; a ReplacingMergeTree ordered
    by them, optimised with ``FINAL`` after the load unless ``final=False``).
    ``max_bad_share``: the share of a column's values (0.01 = 1%) that may fail its type; their
    rows go to ``<table>_rejected``. ``dedup`` drops repeated rows. ``infer=False`` keeps every
    text column as text. ``null_tokens``: the text values read as missing, instead of
    :data:`clean.NULL_TOKENS` (``NA``, ``N/A``, ``null``, ``-`` ...); the empty value always is
    (``null_tokens=[]`` keeps "NA" as a value, for instance Namibia's country code). The rest
    say how to read the source (see :class:`ReadOptions`).
    """
    started = time.perf_counter()
    check_table_name(table)
    check_table_name(database, "database")
    mode = _mode(if_exists)
    keys = _keys(key)
    if mode == "upsert" and not keys:
        raise SourceError("An upsert needs key=: the column(s) that identify a row.")
    if not 0 <= float(max_bad_share) < 1:
        raise SourceError(f"max_bad_share={max_bad_share!r} must be at least 0 and below 1.")
    options = ReadOptions(encoding, delimiter, header, sheet, query, clean_names, fmt, _null_tokens(null_tokens))
    load_id = uuid.uuid4().hex[:16]
    run = _Run(audit.Entry(load_id, dt.datetime.now(), target=f"{database}.{table}", mode=mode))
    scratch = Scratch(conn, database, load_id)
    bar = Progress(progress, label=table)
    secrets: list[str] = []
    try:
        with bar.deferring(), watching(conn.client, bar):
            report = _run(conn, source, options, table, database, mode, keys, dedup, float(max_bad_share), infer,
                          order_by, final, scratch, bar, run, secrets)
        run.entry.status = "ok"
        if bar.interrupted:  # Ctrl-C during the swap: too late to stop, and the load is whole
            run.warnings.append("an interrupt arrived while the table was being swapped in; the load had completed")
    except KeyboardInterrupt:
        run.entry.status, run.entry.error = "interrupted", "interrupted before the swap; the table is unchanged"
        raise
    except LoadError as exc:
        run.entry.error = _scrub(str(exc), secrets)
        raise
    except SourceError as exc:
        run.entry.error = _scrub(str(exc), secrets)
        raise
    except BivoiceError as exc:
        message = _scrub(str(exc), secrets)
        where = _AT_ROW.search(str(exc.__cause__ or ""))
        if where:
            message += f" (the engine stopped near line {int(where.group(1)):,} of the source)"
        run.entry.error = message
        raise LoadError(f"Loading {run.entry.source or type(source).__name__} into {database}.{table} failed; "
                        f"the table is unchanged. {message}") from (None if secrets else exc)
    finally:
        left = scratch.cleanup()
        bar.close(complete=run.entry.status == "ok")
        run.entry.seconds = time.perf_counter() - started
        if left:
            run.warnings.append(f"staging tables left behind: {', '.join(left)}")
        warning = audit.record(conn, database, run.entry)
        if warning:
            run.warnings.append(warning)
    return replace(report, seconds=run.entry.seconds, warnings=tuple(run.warnings))


def _null_tokens(tokens: Iterable[str] | None) -> tuple[str, ...] | None:
    """The null tokens as the cleaning compares them (trimmed, the empty value first), or None
    for the default."""
    if tokens is None:
        return None
    if isinstance(tokens, str) or not all(isinstance(t, str) for t in tokens):
        raise SourceError(f"null_tokens={tokens!r} must be a list of strings, such as ['N/A', '-'].",
                          hint="null_tokens=[] reads only the empty value as missing")
    return tuple(dict.fromkeys(["", *(t.strip() for t in tokens)]))


def _rows_had(n: int) -> str:
    return "row had" if n == 1 else "rows had"


def _were(n: int) -> str:
    return "was" if n == 1 else "were"


def _scrub(text: str, secrets: list[str]) -> str:
    for s in secrets:
        if s:
            text = text.replace(s, "***")
    return text


def _run(conn: Connection, source: Any, options: ReadOptions, name: str, database: str, mode: str, keys: list[str],
         dedup: bool, share: float, infer: bool, order_by: list[str] | None, final: bool, scratch: Scratch,
         bar: Progress, run: _Run, secrets: list[str]) -> LoadReport:
    src: Source = resolve(source, options)
    secrets.extend(_secrets(src))
    run.entry.source, run.entry.source_kind = src.label, src.kind
    target = _target(conn, database, name)
    if target.exists and mode == "create":
        raise LoadError(f"Table {database}.{name} already exists.",
                        hint="pass if_exists='replace', 'append' or 'upsert' (%etl load ... --replace)")
    if target.exists and mode == "upsert":
        want = ", ".join(keys)
        if target.engine != "ReplacingMergeTree" or target.sorting_key.replace(" ", "") != want.replace(" ", ""):
            raise LoadError(f"{database}.{name} is a {target.engine} ordered by ({target.sorting_key}); an upsert by "
                            f"({want}) needs a ReplacingMergeTree ordered by exactly that key. The table is unchanged.",
                            hint="replace it once with if_exists='upsert' into a new table, or use append")
    rejects_target = _target(conn, database, f"{name}_rejected")
    _check_rejects_table(rejects_target)
    bar.plan(4)
    raw = src.open(conn, scratch, bar, stage=False)
    if options.null_tokens is not None:
        raw.null_tokens = options.null_tokens
    run.entry.details.update(raw.details)
    run.warnings += raw.notes
    mode_used = mode if target.exists else "create" if mode != "upsert" else "upsert"
    run.entry.mode = mode_used

    appending = target.exists and mode in ("append", "upsert")
    orders: dict[str, bool] = {}
    commas: dict[str, bool] = {}
    if appending:
        _check_columns(raw, target)
        read_as = {kind_of(t) for _, t in target.columns or []}
        recorded = audit.conventions(conn, database, name) if read_as & {"date", "datetime", *NUMBER_KINDS} else {}
        # the table's day/month orders and decimal commas, as its earlier loads read them
        orders = {k: v == "month-first" for k, v in recorded.get(audit.DATE_ORDER, {}).items()}
        read = recorded.get(audit.DECIMAL_COMMA, {})
        commas, dotted = {k: v in ("decimal", audit.DOTTED) for k, v in read.items()}, {k: v == audit.DOTTED for k, v in read.items()}
        plans = target_plans(raw.columns, target.columns or [], text_source=raw.text_source, orders=orders,
                             commas=commas, dotted=dotted)
        plans = [replace(p, key=p.name in keys) for p in plans]
        counting = {p.index: (p.kind,) for p in plans if p.kind not in ("text",)}
        sample: dict[str, Any] = {}
    else:
        bar.step("sampling")
        plans, counting, sample = _speculate(conn, raw, share, infer, scratch=scratch)
        if keys:
            plans = _key_plans(plans, keys)

    for attempt in range(1, MAX_ATTEMPTS + 1):
        order = order_key(plans, keys or order_by)
        missing = [o for o in order if o not in {p.name for p in plans}]
        if missing:
            raise SourceError(f"order_by names unknown columns: {', '.join(missing)}.")
        stage = scratch.table(f"load{attempt}")
        if appending:
            conn.command(exp.Create(this=table(database, stage), kind="TABLE", expression=table(database, name)))
        else:
            conn.command(_create(database, stage, plans, order, replacing=mode == "upsert"))
        rejected_stage = scratch.table(f"rejected{attempt}")
        conn.command(audit.create_statement(database, rejected_stage, audit.REJECT_COLUMNS, []))
        bar.step("loading" if attempt == 1 else "loading again, by the plan every row asked for",
                 size_bytes=raw.size_bytes, rows=raw.rows)
        counts = _stage_rows(conn, scratch, raw, plans, counting, stage, rejected_stage, run.entry.load_id,
                             in_order=mode == "upsert", arrays=worth(_rows_about(raw, sample)))
        if attempt == 1:  # before anything is swapped in; the values are the same on a second read
            _check_quotes(conn, counts, database, rejected_stage, src.label, len(raw.columns))
        bar.advance()
        bar.check()
        if appending:
            again = reordered(plans, counts) if attempt < MAX_ATTEMPTS else []
            if again:  # the source shows the other day/month order, or use of commas: read it so
                run.notes += [f"{b.name}: the source's dates are {'month' if b.us_dates else 'day'}-first "
                              f"({'January 13th is 01/13' if b.us_dates else '13th January is 13/01'}), unlike the "
                              "order assumed (the table's earlier loads', or day-first): loaded again in that order"
                              for a, b in zip(plans, again) if a.us_dates != b.us_dates]
                run.notes += [f"{b.name}: the source's numbers use {'decimal' if b.decimal_comma else 'thousands'} "
                              f"commas ({'2,5 is two and a half' if b.decimal_comma else '1,250 is one thousand two hundred and fifty'}), "
                              "unlike what was assumed (the table's earlier loads', or thousands): loaded again so"
                              for a, b in zip(plans, again) if a.decimal_comma != b.decimal_comma]
                run.notes += [f"{b.name}: the source's thousands points (1.234,56) make a lone 1.500 fifteen hundred: "
                              "loaded again so" for a, b in zip(plans, again)
                              if b.dotted and not a.dotted and a.decimal_comma == b.decimal_comma]
                for t in (stage, rejected_stage):
                    conn.command(exp.Drop(tables=[table(database, t)], kind="TABLE", exists=True))
                    scratch.tables.remove(t)
                plans = again
                continue
            plans = counted(plans, counts)
            _check_share(plans, int(counts["rows"]), share, database, name)
            break
        verified = decide(counts, raw.columns, counting, share, text_source=raw.text_source,
                          distinct=sample.get("_distinct"))
        if keys:
            verified = _key_plans(verified, keys)
        if all(same_plan(a, b) for a, b in zip(plans, verified)) or attempt == MAX_ATTEMPTS:
            plans = [replace(a, failures=b.failures, nulls=b.nulls, note=b.note) for a, b in zip(plans, verified)]
            break
        changed = [f"{a.name} {_plan_change(a, b)}" for a, b in zip(plans, verified) if not same_plan(a, b)]
        run.notes.append(f"the first {SAMPLE_ROWS:,} rows did not tell the whole story ({'; '.join(changed)}): "
                         "loaded again")
        for t in (stage, rejected_stage):  # this attempt's tables go now, not at the end
            conn.command(exp.Drop(tables=[table(database, t)], kind="TABLE", exists=True))
            scratch.tables.remove(t)
        cands = sample.get("_cands", {})
        if raw.text_source:
            verified = [replace(p, fix_encoding=True) if p.kind == "text" else p for p in verified]
        plans = quick(verified, sample)
        counting = {p.index: ladder(p, cands.get(p.index) if p.kind == "text" else None) for p in plans}

    rows_read = int(counts["rows_read"])
    extra_rows = int(counts.get("extra", 0) or 0)
    run.entry.rows_read = rows_read
    run.plans = plans
    run.entry.columns = [(p.name, p.type) for p in plans]
    run.warnings += run.notes + [f"{p.name}: {p.note}" for p in plans if p.note]
    run.warnings += _offset_warnings(plans, counts)
    if appending:
        run.warnings += _append_warnings(plans, counts, orders, commas)
    run.entry.details.update(_conventions(plans, counts, orders, commas))
    bad8 = {p.name: int(counts.get(stat_alias(p.index, "bad8"), 0) or 0) for p in plans if p.kind == "text"}
    run.warnings += [f"{n}: {k:,} values were not UTF-8 and were read as Windows-1252" for n, k in bad8.items() if k]
    named = list(dict.fromkeys(t.lower() for t in raw.null_tokens if t))  # "NA" for NA, na, Na
    shown = [next(t for t in raw.null_tokens if t.lower() == low) for low in named[:5]]
    tokens = ", ".join(shown) + (", ..." if len(named) > 5 else "")
    run.warnings += [f"{p.name}: {k:,} {'value was a null token' if k == 1 else 'values were null tokens'} ({tokens}) "
                     "and were read as missing; "
                     "null_tokens= (%etl --null-tokens) keeps such values"
                     for p in plans if p.kind == "text" and (k := int(counts.get(stat_alias(p.index, "tokens"), 0) or 0))]
    if extra_rows:
        run.warnings.append(f"{extra_rows:,} {_rows_had(extra_rows)} more fields than the header and {_were(extra_rows)} rejected")
    short_rows = int(counts.get("short", 0) or 0)
    if short_rows:
        run.warnings.append(f"{short_rows:,} {_rows_had(short_rows)} fewer fields than the header and {_were(short_rows)} rejected")
    blank = int(counts.get("blank", 0) or 0)
    if blank:
        run.warnings.append(f"{blank:,} blank line{'s' if blank > 1 else ''} skipped")
    unparsed = int(counts.get("malformed", 0) or 0)
    if unparsed:
        run.warnings.append(f"{unparsed:,} {'row' if unparsed == 1 else 'rows'} could not be read as CSV (bad quoting) and {_were(unparsed)} rejected")
    if not rows_read:
        run.warnings.append("the source has no rows")
    if dedup:
        unique = scratch.table("unique")
        conn.command(exp.Create(this=table(database, unique), kind="TABLE", expression=table(database, stage)))
        conn.command(exp.insert(exp.select(exp.Star()).distinct().from_(table(database, stage)), table(database, unique)))
        stage = unique
    if mode == "upsert":  # a ReplacingMergeTree: a key repeated in the source keeps one row
        conn.command(_command("OPTIMIZE", f"TABLE {qualified(database, stage)} FINAL"))
    rows_loaded = engine.count(conn, table(database, stage))
    rows_rejected = engine.count(conn, table(database, rejected_stage))
    merged = dedup or mode == "upsert"
    rows_duplicate = max(rows_read - rows_rejected - rows_loaded, 0) if merged else 0
    if mode == "upsert" and rows_duplicate and not dedup:
        run.warnings.append(f"{rows_duplicate:,} row{'s' if rows_duplicate > 1 else ''} repeated a key ({', '.join(keys)}) "
                            "already in the source; the last row of each key was kept")
    if not merged and rows_loaded + rows_rejected != rows_read:
        run.warnings.append(f"read {rows_read:,} rows but staged {rows_loaded + rows_rejected:,}: "
                            "did the source change during the load?")
    run.entry.rows_loaded, run.entry.rows_rejected, run.entry.rows_duplicate = rows_loaded, rows_rejected, rows_duplicate
    if not rows_rejected:
        rejected_stage = None

    # ---- the swap: the last interrupt check comes first; from here on the load completes
    bar.check()
    bar.step("swapping in")
    if not target.exists:
        conn.command(_rename(database, stage, name))
        scratch.tables.remove(stage)
    elif mode == "replace":
        conn.command(_exchange(database, stage, name))  # the old rows are now in the staging table
    else:
        _move_rows(conn, database, stage, target, run.warnings)
        if mode == "upsert" and final:
            conn.command(_command("OPTIMIZE", f"TABLE {qualified(database, name)} FINAL"))
    rejected_name = f"{name}_rejected"
    if rejected_stage is not None:
        if not rejects_target.exists:
            conn.command(_rename(database, rejected_stage, rejected_name))
            scratch.tables.remove(rejected_stage)
        elif mode_used in ("create", "replace"):
            conn.command(_exchange(database, rejected_stage, rejected_name))
        else:
            _move_rows(conn, database, rejected_stage, rejects_target, run.warnings)
    elif rejects_target.exists and mode_used in ("create", "replace"):
        # the old rejects described the old table
        conn.command(exp.Drop(tables=[table(database, rejected_name)], kind="TABLE", exists=True))
    bar.advance()
    return LoadReport(
        table=name,
        database=database,
        mode=mode_used,
        source=src.label,
        rows_loaded=rows_loaded,
        rows_rejected=rows_rejected,
        columns=tuple((p.name, p.type) for p in plans),
        seconds=0.0,  # set by load() once the audit row is written
        rows_read=rows_read,
        rows_duplicate=rows_duplicate,
        load_id=run.entry.load_id,
        rejected_table=rejected_name if rejected_stage is not None or (rejects_target.exists and mode_used in ("append", "upsert")) else None,
        warnings=tuple(run.warnings),
        details=tuple((str(k), str(v)) for k, v in raw.details.items()),
    )


def _secrets(src: Source) -> list[str]:
    db = getattr(src, "db", None)
    # a URL's password and query-string tokens (sources.Url.secrets)
    return ([db.password] if db is not None and getattr(db, "password", "") else []) + list(getattr(src, "secrets", []))


# ------------------------------------------------------------------ preview


@dataclass(frozen=True)
class Preview:
    """What a load would do, with nothing loaded: the detected ``schema`` (one row per column:
    name, source name, type, nulls, failures, note), the first ``rows`` cleaned and typed, and
    how the source was read (``details``). Detected on the first ``sampled`` rows. ``warnings``:
    what the load would report about reading the source (lines skipped above the header, a
    DataFrame's index loaded as columns), worded as the load's ``LoadReport.warnings``."""

    source: str
    details: dict[str, str]
    schema: pd.DataFrame
    rows: pd.DataFrame
    sampled: int
    warnings: tuple[str, ...] = ()

    def _repr_html_(self) -> str:
        import html

        info = ", ".join(f"{html.escape(k)}: {html.escape(repr(v) if k == 'delimiter' else v)}" for k, v in self.details.items())
        notes = "".join(f"<li>{html.escape(w)}</li>" for w in self.warnings)
        return (f"<b>Preview of {html.escape(self.source)}</b> <small>({info}; types from the first "
                f"{self.sampled:,} rows; nothing loaded)</small>"
                + (f"<ul style='color:#8a5a00'>{notes}</ul>" if notes else "")
                + self.schema.to_html(index=False, border=0) + self.rows.to_html(index=False, border=0, max_cols=40))

    def __repr__(self) -> str:
        notes = "".join(f"\n  warning: {w}" for w in self.warnings)
        return f"<Preview {self.source}: {len(self.schema)} columns, {self.sampled:,} rows sampled>{notes}"


# A preview of columns that share a plan reads its first rows with arrays (see arrays.vectorize):
# this many times the rows it shows, into a table first. The rows it shows are then the first
# good ones among them. Filtering the read itself (WHERE NOT the failure flags) is what the
# preview without arrays does, but with the flags unpacked from arrays the engine's plan of
# that filter grew past use (an 80-column file of 40 rows: over 60 s, where the read without
# the filter took 0.25 s).
PREVIEW_READS = 20


def _memory_table(conn: Connection, scratch: Scratch, database: str, q: exp.Select, what: str) -> str:
    kept = scratch.table(what)
    conn.command(exp.Create(this=table(database, kept), kind="TABLE", expression=q, properties=exp.Properties(
        expressions=[exp.EngineProperty(this=exp.to_identifier("Memory"))])))
    return kept


def _shown_with_arrays(conn: Connection, raw: Raw, plans: list[ColumnPlan], rows: int, scratch: Scratch,
                       database: str) -> pd.DataFrame | None:
    """The first ``rows`` good rows, cleaned and typed, read with arrays; None where no columns
    share a plan, where the rows to read are too many for arrays (:func:`arrays.worth`), or
    where they held fewer good ones (and the source may hold more): the preview then reads them
    one expression per column, as it did before arrays."""
    reads = rows * PREVIEW_READS
    if rows <= 0 or not worth(reads):
        return None
    rel, failing, checks = _cast(raw, plans, limit=reads)
    bad = _bad(failing, checks)
    q = exp.select(*[c.col(cast_name(p.index)) for p in plans], c.col(ROW_NAME),
                   exp.alias_(bad if bad is not None else exp.false(), BAD_NAME, quoted=True, copy=False),
                   copy=False).from_(rel, copy=False)  # built for this preview alone
    if not vectorize(q, {i: rc.type for i, rc in enumerate(raw.columns)}):
        return None
    # one stream (the source's first rows, as the sample reads them: see _speculate)
    kept = _memory_table(conn, scratch, database, _with_settings(q, raw, max_threads=1, **engine.NO_JIT, **engine.analysis(conn)),
                         "preview_arrays")
    back = exp.select(*[exp.alias_(c.col(cast_name(p.index)), p.name, quoted=True, copy=False) for p in plans],
                      copy=False).from_(table(database, kept)).where(exp.not_(c.col(BAD_NAME), copy=False), copy=False)
    shown = engine.read(conn, back.order_by(c.col(ROW_NAME), copy=False).limit(rows, copy=False))
    if len(shown) < rows and engine.count(conn, table(database, kept)) >= reads:
        return None
    return shown


def preview(conn: Connection, source: Any, *, database: str, rows: int = 10, sample_rows: int = 100_000,
            max_bad_share: float = MAX_BAD_SHARE, **read: Any) -> Preview:
    """Detect the schema of ``source`` on its first ``sample_rows`` rows and show ``rows`` of
    them cleaned and typed; nothing is loaded (a source that lives in Python is staged in a
    hidden table and dropped)."""
    if int(rows) < 0:
        raise SourceError(f"rows={rows} must be 0 or more: the number of rows the preview shows.",
                          hint="rows=10 shows the first ten")
    options = ReadOptions(**{**read, "null_tokens": _null_tokens(read.get("null_tokens"))})
    src = resolve(source, options)
    scratch = Scratch(conn, database, uuid.uuid4().hex[:16])
    bar = Progress(False)
    secrets = _secrets(src)
    try:
        raw = src.open(conn, scratch, bar, stage=False)
        if options.null_tokens is not None:
            raw.null_tokens = options.null_tokens
        plans, _, sample = _speculate(conn, raw, float(max_bad_share), True, sample_rows=int(sample_rows), scratch=scratch)
        sampled = int(sample["rows"])
        schema = pd.DataFrame(
            [(p.name, p.source, p.type, p.nulls, p.failures, p.note) for p in plans],
            columns=["column", "source column", "type", "nulls", "failures", "note"],
        )
        shown = _shown_with_arrays(conn, raw, plans, int(rows), scratch, database)
        if shown is None:
            rel, failing, checks = _cast(raw, plans)
            q = exp.select(*[exp.alias_(c.col(cast_name(p.index)), p.name, quoted=True, copy=False) for p in plans],
                           copy=False).from_(rel, copy=False)  # built for this preview alone
            bad = _bad(failing, checks)
            if bad is not None:
                q = q.where(exp.not_(bad, copy=False), copy=False)
            q = _with_settings(q.limit(int(rows)), raw, **engine.NO_JIT, **engine.analysis(conn))
            if conn.generated_settings(q.sql(DIALECT)) is None:
                shown = engine.read(conn, q)
            else:  # a wide source's cleaning is too long for a read (its settings come after it): via a table
                kept = _memory_table(conn, scratch, database, q, "preview")
                back = exp.select(exp.Star()).from_(table(database, kept))
                shown = engine.read(conn, _with_settings(back, None, max_threads=1))  # one stream: in order
        return Preview(src.label, dict(raw.details), schema, shown, sampled, tuple(raw.notes))
    except QueryError as exc:
        raise SourceError(_scrub(f"Could not preview {src.label}: {exc}", secrets)) from (None if secrets else exc)
    finally:
        scratch.cleanup()
