"""Type detection pushed down into ClickHouse: every text column is profiled by the engine.

1. **sample** (the first 10,000 rows, one aggregate query for up to :data:`SAMPLE_CHUNK`
   columns, all text columns counted together as arrays: :func:`sample_query`): which type does each text column
   look like? Integers, decimals (money), floats, booleans, dates, datetimes, or text; whether it
   has nulls, times of day, day-first or month-first dates, how many decimal places, how many
   distinct values. A number with a leading zero (``007``, ZIP codes) keeps the column text.
   That is a *speculative* plan.
2. **every row**: the load itself casts every value by that plan, and counts as it goes (per-row
   evidence computed by the read, summed by a materialized view beside the staging tables:
   :func:`stats_parts`) how many values of each
   column fail their cast and the fallbacks behind it (integer -> float, decimal -> float),
   nulls, non-UTF-8 values, times of day, day/month order and decimal places. The same
   :func:`decide` then runs on those counts; where it disagrees with the sample, the load runs
   once more with the plan the whole data asked for. A file whose bad values start at row
   130,000 is therefore planned from all of its rows, where ClickHouse's own inference (first
   rows only) fails mid-load, and a clean file is read once.

A column gets a type when at most ``max_bad_share`` (default 1%, :data:`MAX_BAD_SHARE`) of its
non-null values fail to cast; those values' rows are rejected (kept in ``<table>_rejected``
with the raw text and the reason). Above the share, the column stays text and nothing is
rejected for it.

The queries are built in layers (``SELECT *, <new columns> FROM (<layer below>)``): the raw
values, then the cheap casts, then the cleaning casts only for the values the cheap ones could
not read (a number column whose sample mostly needs cleaning, ``$1,234.50``, has no cheap cast:
:func:`quick`). An expression repeated inside ``if``/``and``/``or`` is evaluated lazily and once per
use, so anything that more than one step needs gets its own layer.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field, replace
from typing import Any

from sqlglot import exp

from . import clean as c
from .arrays import spread

MAX_BAD_SHARE = 0.01
SAMPLE_ROWS = 10_000
# The sample's counts are asked for this many columns at a time, from one copy of the sample
# rows (load._speculate), so that a read stays under the engine's parser limit (a read's own
# settings cannot raise it on chDB). Counted as arrays (see sample_query), a read is about
# 13.5 KB and 60 bytes a column: 29 KB at 256 columns. Written out for each column (5 KB a
# column), a file of some 50 columns was too long, and the counts' analysis grew faster than
# the columns: 1,000-row files of 8, 16 and 32 text columns took 0.35, 0.96 and 3.0 s.
SAMPLE_CHUNK = 256
LOWCARD_MAX = 10_000  # at most this many distinct values (and under 10% of rows): LowCardinality
MAX_SCALE = 6  # money with more decimal places than this is a float

# candidate -> the casts tried in order on the full data (each a fallback for the one before)
LADDERS: dict[str, tuple[str, ...]] = {
    "bool": ("bool",),
    "int": ("int", "wide", "float"),  # wide: beyond Int64, exact in Int128 (never a lossy Float64)
    "decimal": ("decimal", "float"),
    "float": ("float",),
    "date": ("date",),
    "datetime": ("datetime",),
    "text": (),
}
# a column with no values in the sample: counted each (Int128 after Int64, as for integers)
UNKNOWN = ("int", "wide", "float", "date", "bool")
INNER = {"int": "Int64", "float": "Float64", "bool": "Bool", "date": "Date32", "datetime": "DateTime64(3)",
         "decimal": "Decimal(18, 6)", "wide": "Int128"}
STEP_KIND = {"wide": "int"}  # a ladder step that is another kind's cast at a wider type
NUMBER_KINDS = ("int", "float", "decimal")
# kinds whose trimmed text (``__bv_v<i>``) is a column of the base layer, computed once per row:
# every kind read from text. (Computed inside each use instead, as it once was for numbers, the
# trim ran up to four times per value in the cleaning cast and again in the counts.)
VALUE_KINDS = ("text", "date", "datetime", "other", "int", "float", "decimal", "bool")

ROW_NAME = "__bv_row"
EXTRA_NAME = "__bv_extra"


def raw_name(i: int) -> str:
    return f"__bv_r{i}"


def value_name(i: int) -> str:
    return f"__bv_v{i}"


def fast_name(i: int) -> str:
    return f"__bv_q{i}"


def comma_name(i: int) -> str:
    return f"__bv_k{i}"


def digits_name(i: int) -> str:
    return f"__bv_n{i}"


def cast_name(i: int) -> str:
    return f"__bv_c{i}"


def present_name(i: int) -> str:
    return f"__bv_p{i}"


@dataclass(frozen=True)
class RawColumn:
    """A column of the raw relation: ``source`` is its name there, ``name`` the target's,
    ``type`` ``String`` for text to inspect, or a ClickHouse type that is kept."""

    name: str
    source: str
    type: str = "String"

    @property
    def text(self) -> bool:
        t = unwrap(self.type)
        return t == "String" or t.startswith("FixedString")


@dataclass(frozen=True)
class ColumnPlan:
    """How one column is read: its final ClickHouse ``type``, the ``kind`` of cast (``int``,
    ``float``, ``decimal``, ``bool``, ``date``, ``datetime``, ``text``, ``other``, or ``kept``
    for a typed source column), and what the profile counted."""

    name: str
    source: str
    raw_type: str
    kind: str
    type: str
    nullable: bool
    index: int = 0
    fix_encoding: bool = False
    us_dates: bool = False
    failures: int = 0
    nulls: int = 0
    distinct: int | None = None
    note: str = ""
    key: bool = False  # part of an upsert key: a missing value rejects the row
    decimal_comma: bool = False  # numbers: "2,125" is 2.125 (the column's other values use decimal commas)
    # and its points group thousands: "1.500" is 1500 (its values like "1.234,56" show it)
    dotted: bool = False
    # numbers: the cheap cast is tried before the cleaning (see :func:`quick`); where most of the
    # column's values need cleaning ("$1,234.50", "10%") it only fails, and costs more than it saves
    quick: bool = True

    @property
    def inner(self) -> str:
        return unwrap(self.type)

    @property
    def needs_value(self) -> bool:
        return self.kind in VALUE_KINDS

    def raw(self) -> exp.Expression:
        return c.col(raw_name(self.index))

    def fast(self) -> exp.Expression | None:
        """The first layer's value: the cheap cast of a number or boolean, or the parsed moment
        of a date (kept at DateTime64(3), so that times of day can be counted); None for a typed
        source column, and for a number column that the sample showed mostly needs cleaning
        (``quick``) or whose points group thousands (``dotted``: the cast would read ``1.500``
        as 1.5)."""
        if not self.has_fast:
            return None
        if self.kind in ("date", "datetime"):
            return c.datetime(c.col(value_name(self.index)), us=self.us_dates)
        return c.fast(self.raw(), self.kind, self.inner)

    @property
    def has_fast(self) -> bool:
        """Whether :meth:`fast` gives an expression (without building it)."""
        if self.kind in NUMBER_KINDS:
            return self.quick and not self.dotted
        return self.kind in ("date", "datetime", "bool")

    def cleaned(self) -> exp.Expression:
        """The value as the target column receives it (Nullable; NULL when it failed), over the
        fast layer (see :func:`layers`)."""
        if self.kind == "kept":
            if unwrap(self.raw_type) == self.inner:
                return self.raw()
            return c.fn("accurateCastOrNull", self.raw(), c.lit(self.inner))
        if self.kind in ("date", "datetime"):
            moment = c.col(fast_name(self.index))
            if self.inner == "DateTime64(3)":
                return moment
            # a cast that would lose something fails: the time of day going into a Date (an
            # append to a table of dates), the milliseconds into a DateTime
            cast = c.fn("accurateCastOrNull", moment, c.lit(self.inner))
            lost = exp.NEQ(this=c.fn("toDateTime64", cast, c.lit(3)), expression=moment)
            return c.if_(lost, exp.Null(), cast)
        v = c.col(value_name(self.index)) if self.needs_value else c.value(self.raw(), fix_encoding=self.fix_encoding)
        if self.kind == "text" and not self.nullable and not self.key:
            return c.fn("ifNull", v, c.lit(""))  # a missing value in a text column that is not Nullable
        quick = c.col(fast_name(self.index)) if self.has_fast else None
        return c.either(quick, c.slow(v, self.kind, self.inner, us=self.us_dates, comma=self.decimal_comma,
                                      digits=self.digits(), dotted=self.dotted))

    def digits(self) -> exp.Expression | None:
        """A number's cleaned text (:func:`clean.number`) in the numbers layer (:func:`layers`),
        for the values the cheap cast could not read (every value where there is none); None for
        other kinds."""
        return c.col(digits_name(self.index)) if self.has_digits else None

    @property
    def has_digits(self) -> bool:
        return self.kind in NUMBER_KINDS

    def text_value(self) -> exp.Expression:
        """The trimmed text or NULL (a column in the base layer, or computed for this use)."""
        if self.needs_value:
            return c.col(value_name(self.index))
        return c.value(self.raw(), fix_encoding=self.fix_encoding)

    def present(self) -> exp.Expression:
        """A value is there (not NULL, not a null token), over the fast layer."""
        if self.kind == "kept":
            return c.not_null(self.raw())
        if self.needs_value:  # every kind read from text
            return c.not_null(c.col(value_name(self.index)))
        return c.not_null(c.value(self.raw(), fix_encoding=self.fix_encoding))


def unwrap(t: str) -> str:
    """``LowCardinality(Nullable(String))`` -> ``String``."""
    for wrapper in ("LowCardinality(", "Nullable("):
        while t.startswith(wrapper):
            t = t[len(wrapper) : -1]
    return t


def kind_of(ch_type: str) -> str:
    """The cast family of a ClickHouse type (for appending text to an existing table)."""
    t = unwrap(ch_type)
    if t.startswith(("Int", "UInt")):
        return "int"
    if t.startswith("Float"):
        return "float"
    if t.startswith("Decimal"):
        return "decimal"
    if t == "Bool":
        return "bool"
    if t in ("Date", "Date32"):
        return "date"
    if t.startswith("DateTime"):
        return "datetime"
    if t == "String" or t.startswith("FixedString"):
        return "text"
    return "other"


def layer(relation: exp.Expression, items: list[tuple[str, exp.Expression]], alias: str) -> exp.Expression:
    """``SELECT *, <items> FROM relation``: each item computed once per row, read by name above."""
    if not items:
        return relation
    # no copies: every item and ``relation`` are built for this query alone, and copying the
    # layers below at each layer made building a wide load's statement quadratic (most of a
    # small load's time went to sqlglot's deep copies)
    return (exp.select(exp.Star(), *[exp.alias_(e, n, quoted=True, copy=False) for n, e in items], copy=False)
            .from_(relation, copy=False).subquery(alias, copy=False))


def base(relation: exp.Expression, columns: list[RawColumn], *, values: set[int] | frozenset[int],
         row: exp.Expression | None = None, extra: str | None = None, fix: set[int] | frozenset[int] = frozenset(),
         limit: int | None = None, where: exp.Expression | None = None,
         null_tokens: tuple[str, ...] = c.NULL_TOKENS, first: int = 0) -> exp.Expression:
    """The relation every later step reads: each raw column as ``__bv_r<i>``, the trimmed text
    of the columns in ``values`` as ``__bv_v<i>`` (NULL for ``null_tokens``), the row number and
    the spill column. Internal names keep the engine from mistaking an output alias for a source
    column of the same name. ``columns`` are the source's from its ``first`` one on (their
    numbers ``i`` count from there)."""
    parts: list[exp.Expression] = []
    for i, rc in enumerate(columns, first):  # built here for this query alone: aliased without copies
        parts.append(exp.alias_(c.col(rc.source), raw_name(i), quoted=True, copy=False))
        if i in values:
            parts.append(exp.alias_(c.value(c.col(rc.source), fix_encoding=i in fix, null_tokens=null_tokens),
                                    value_name(i), quoted=True, copy=False))
    if row is not None:  # the source's own expression, shared between its reads: copied
        parts.append(exp.alias_(row, ROW_NAME, quoted=True))
    if extra:
        parts.append(exp.alias_(c.col(extra), EXTRA_NAME, quoted=True, copy=False))
    # the source's relation is shared: copied (alone: from_ with copy=True copies the select,
    # every column's parts, too: 0.4 s of a 64-column load)
    q = exp.select(*parts, copy=False).from_(relation.copy(), copy=False)
    if where is not None:
        q = q.where(where, copy=False)
    if limit is not None:
        q = q.limit(limit, copy=False)
    return q.subquery("_base", copy=False)


def layers(b: exp.Expression, plans: list[ColumnPlan]) -> exp.Expression:
    """Fast casts (and how numbers use commas, ``__bv_k<i>``), then numbers' cleaned text where the fast cast failed
    or there is none (``__bv_n<i>``: the
    cleaning cast, its fallbacks and the counts read it), then each column's cast
    (``__bv_c<i>``) and presence (``__bv_p<i>``)."""
    quick = layer(b, [(fast_name(p.index), f) for p in plans if (f := p.fast()) is not None]
                  + [(comma_name(p.index), c.comma_kind(p.text_value())) for p in plans if p.has_digits], "_fast")
    digits = layer(quick, [(digits_name(p.index), _digits(p)) for p in plans if p.has_digits], "_digits")
    items: list[tuple[str, exp.Expression]] = []
    for p in plans:
        items += [(cast_name(p.index), p.cleaned()), (present_name(p.index), p.present())]
    return layer(digits, items, "_cast")


def _digits(p: ColumnPlan) -> exp.Expression:
    """Column ``p``'s cleaned number text: where its cheap cast failed, or for every value
    where it has none (see :func:`quick`)."""
    cleaned = c.number(p.text_value(), comma=p.decimal_comma, kind=c.col(comma_name(p.index)), dotted=p.dotted)
    if not p.has_fast:
        return cleaned
    return c.if_(c.is_null(c.col(fast_name(p.index))), cleaned, exp.Null())


# the share of a number column's sample values that its cheap cast must read for the load to
# try it first (see :func:`quick`)
QUICK_SHARE = 0.5


def quick(plans: list[ColumnPlan], row: dict[str, Any]) -> list[ColumnPlan]:
    """Whether each number column's cheap cast is tried before its cleaning, from the sample's
    counts (``row``): only where it read at least :data:`QUICK_SHARE` of the values as written
    (``plain``). Elsewhere it would fail on most rows, and its failure costs more than the
    cleaning it would save: a column of ``$1,234.50`` amounts alone took 1.2 CPU s per million
    values with it, 0.4 to 0.5 without (in memory, one thread). Speed only: the cleaning reads
    what the cheap cast reads."""
    out = []
    for p in plans:
        n = int(row.get(stat_alias(p.index, "n"), 0) or 0)
        plain = row.get(stat_alias(p.index, "plain"))
        if p.kind in NUMBER_KINDS and plain is not None and n:
            p = replace(p, quick=int(plain) >= QUICK_SHARE * n)
        out.append(p)
    return out


def stat_alias(i: int, what: str) -> str:
    """The name of column ``i``'s count ``what`` in the sample's and the load's counts."""
    return f"c{i}_{what}"



def _count(cond: exp.Expression) -> exp.Expression:
    return c.fn("countIf", cond)


# ------------------------------------------------------------------ pass 1: the sample


COMMA_CLASSES = {c.DECIMAL_ONLY: "dcomma", c.THOUSANDS_MANY: "thousands", c.THOUSANDS_ONE: "ambiguous",
                 c.POINT_DECIMAL: "points", c.GROUPED: "grouped", c.LONE_DOTTED: "lone_dots"}


def _comma_class(v: exp.Expression, kind: exp.Expression) -> exp.Expression:
    """How a value with a comma writes its number, from its :func:`clean.comma_kind` (a column),
    one of :data:`COMMA_CLASSES`: only a decimal comma (``0,5``, ``0,500``), only
    thousands (``1,234,567``, ``1,234.50``), either (the ambiguous ``1,234``, see
    :func:`decide`), a decimal comma after thousands points (``1.234,56``: :data:`clean.GROUPED`);
    for a value without a comma, a point decimal (``1.5``: :func:`clean.point_decimal`) or a
    lone thousands-like point (``1.500``: :data:`clean.LONE_DOTTED`); 0 otherwise. A point
    after the comma says thousands, whatever else the value holds."""
    dot = c.fn("position", v, c.lit("."))
    point_after = exp.GT(this=dot, expression=c.fn("position", v, c.lit(",")))
    no_comma = c.fn("multiIf", c.point_decimal(v.copy()), c.lit(c.POINT_DECIMAL),
                    exp.and_(exp.GT(this=dot.copy(), expression=c.lit(0)), c.matches(v.copy(), c.LONE_DOT), copy=False),
                    c.lit(c.LONE_DOTTED), c.lit(0))
    grouped = exp.and_(exp.EQ(this=kind.copy(), expression=c.lit(c.DECIMAL_ONLY)), exp.GT(this=dot.copy(), expression=c.lit(0)), copy=False)
    return c.fn("multiIf", exp.EQ(this=kind, expression=c.lit(c.NO_COMMA)), no_comma, point_after, c.lit(c.THOUSANDS_MANY),
                exp.EQ(this=kind.copy(), expression=c.lit(c.OTHER_COMMA)), c.lit(0), grouped, c.lit(c.GROUPED), kind.copy())


def _lead0(v: exp.Expression) -> exp.Expression:
    """``007``, ``-05``: the pattern runs only on values whose first or second character is 0."""
    zero = c.fn("position", v, c.lit("0"))
    early = exp.and_(exp.GT(this=zero, expression=c.lit(0)), exp.LTE(this=zero, expression=c.lit(2)), copy=False)
    return exp.and_(early, c.matches(v, c.LEADING_ZERO), copy=False)


def _places(raw: exp.Expression, *, comma: bool = False, dotted: bool = False) -> exp.Expression:
    """Digits after the decimal point (trailing signs aside), without a regular expression;
    ``comma``: after the last of the first comma and the first point (``1.234,5678``: 4);
    ``dotted``: none in a lone thousands group (``1.500``, see :func:`clean.number`).
    Per row: the largest is the scale a column needs."""
    dot = c.separator(raw, comma=comma, dotted=dotted)
    digits = exp.Sub(this=c.fn("length", c.fn("trimRight", raw, c.lit(c.TRAILING_SIGNS))), expression=dot)
    return c.if_(exp.GT(this=dot, expression=c.lit(0)), digits, c.lit(0))


def _each(body: exp.Expression, *arrays: tuple[str, str | exp.Expression]) -> exp.Expression:
    """``arrayMap((x, ...) -> body, arrays...)``: ``arrays`` are (parameter, array) pairs, an
    array by its column name or as an expression."""
    return c.fn("arrayMap", exp.Lambda(this=body, expressions=[exp.to_identifier(p) for p, _ in arrays]),
                *[c.col(a) if isinstance(a, str) else a for _, a in arrays])


def _groups(columns: list[RawColumn], first: int) -> list[list[int]]:
    """The text columns' numbers, by raw type: each group is counted as arrays of one element type."""
    out: dict[str, list[int]] = {}
    for i, rc in enumerate(columns, first):
        if rc.text:
            out.setdefault(rc.type, []).append(i)
    return list(out.values())


def sample_query(relation: exp.Expression, columns: list[RawColumn], rows: int = SAMPLE_ROWS,
                 *, text_source: bool = False, extra: str | None = None,
                 where: exp.Expression | None = None, null_tokens: tuple[str, ...] = c.NULL_TOKENS,
                 first: int = 0) -> exp.Select:
    """Everything :func:`candidates` and :func:`from_sample` need, on the first ``rows`` rows
    (those that pass ``where``: the well-formed ones); read it with :func:`unpack_sample`.
    ``columns`` may be some of the source's, from its ``first`` one on: their counts keep the
    numbers of the whole source's columns (see :data:`SAMPLE_CHUNK`).

    The text columns of one raw type are counted together, as arrays (``arrayMap`` and the
    ``-ForEach`` aggregates): each count is written, and analysed by the engine, once for all
    of them. Written once per column, the counts' analysis was most of a small load's planning
    time, and grew faster than the columns."""
    groups = _groups(columns, first)
    b = base(relation, columns, values=frozenset(), extra=extra, limit=rows, where=where, null_tokens=null_tokens,
             first=first)
    x, y = "__bv_x", "__bv_y"
    X, Y = c.col(x), c.col(y)
    arrays: list[tuple[str, exp.Expression]] = []
    for g, idx in enumerate(groups):  # each value's raw text, and its trimmed text (NULL for a null token)
        arrays += [(f"__bv_rs{g}", exp.Array(expressions=[c.col(raw_name(i)) for i in idx])),
                   (f"__bv_vs{g}", _each(c.value(X, null_tokens=null_tokens),
                                         (x, exp.Array(expressions=[c.col(raw_name(i)) for i in idx]))))]
    b = layer(b, arrays, "_values")
    # each value's parsed moment and comma use, read by several counts below (a copy in each
    # count made the query larger and its analysis longer: about 60 µs a node)
    b = layer(b, [item for g in range(len(groups)) for item in (
        (f"__bv_ts{g}", _each(c.datetime(X), (x, f"__bv_vs{g}"))),
        (f"__bv_ks{g}", _each(c.comma_kind(X), (x, f"__bv_vs{g}"))))], "_moments")
    # its cleaned number text, comma class, day/month order and decimal places
    b = layer(b, [item for g in range(len(groups)) for item in (
        (f"__bv_ds{g}", _each(c.number(X, kind=Y), (x, f"__bv_vs{g}"), (y, f"__bv_ks{g}"))),
        (f"__bv_cs{g}", _each(_comma_class(X, Y), (x, f"__bv_vs{g}"), (y, f"__bv_ks{g}"))),
        (f"__bv_os{g}", _each(c.date_order(X), (x, f"__bv_vs{g}"))),
        (f"__bv_ps{g}", _each(_places(X, comma=True), (x, f"__bv_rs{g}"))))], "_digits")
    parts: list[exp.Expression] = []
    for i, rc in enumerate(columns, first):
        if not rc.text:
            parts.append(_count(c.is_null(c.col(raw_name(i)))).as_(stat_alias(i, "nulls"), copy=False))

    def each_if(body: exp.Expression, *arrays: tuple[str, str]) -> exp.Expression:
        return c.fn("countIfForEach", _each(body, *arrays))

    def ints(e: exp.Expression) -> exp.Expression:
        return _each(c.fn("toInt64", X), (x, e))

    for g in range(len(groups)):
        v, r, t = f"__bv_vs{g}", f"__bv_rs{g}", f"__bv_ts{g}"
        counts = {
            "n": c.fn("countForEach", c.col(v)),
            "plain": c.fn("countForEach", _each(c.fn("accurateCastOrNull", X, c.lit("Float64")), (x, r))),
            **{what: c.fn("countForEach", _each(c.slow(X, "int" if what == "wide" else what, INNER[what], digits=Y),
                                                 (x, v), (y, f"__bv_ds{g}")))
               for what in ("int", "wide", "float")},
            "bool": c.fn("countForEach", _each(c.boolean(X), (x, v))),
            "date": c.fn("countForEach", c.col(t)),
            "time": each_if(c.has_time(X), (x, t)),
            "money": each_if(c.matches(X, c.MONEY), (x, v)),
            "lead0": each_if(_lead0(X), (x, v)),
            "distinct": c.fn("uniqCombinedForEach", c.col(v)),
            "scale": ints(c.fn("maxForEach", _each(_places(X), (x, r)))),
            "comma_scale": ints(c.fn("maxForEach", c.col(f"__bv_ps{g}"))),
            # the same where a lone thousands point is no decimal one ("1.500": see decide)
            "dotted_scale": ints(c.fn("maxIfForEach", c.col(f"__bv_ps{g}"), _each(
                exp.NEQ(this=X, expression=c.lit(c.LONE_DOTTED)), (x, f"__bv_cs{g}")))),
            **{what: each_if(exp.EQ(this=X, expression=c.lit(k)), (x, f"__bv_cs{g}")) for k, what in COMMA_CLASSES.items()},
            "dmy": each_if(exp.EQ(this=X, expression=c.lit(c.SHOWS_DAY_FIRST)), (x, f"__bv_os{g}")),
            "mdy": each_if(exp.EQ(this=X, expression=c.lit(c.SHOWS_MONTH_FIRST)), (x, f"__bv_os{g}")),
        }
        if text_source:
            counts["bad8"] = each_if(exp.not_(c.fn("isValidUTF8", X), copy=False), (x, r))
        parts += [e.as_(f"g{g}_{what}", copy=False) for what, e in counts.items()]
    # the sampled text's bytes: with the source's size, about how many rows it holds (load._rows_about)
    sizes = [c.fn("arraySum", _each(c.fn("length", c.fn("ifNull", X, c.lit(""))), (x, f"__bv_rs{g}")))
             for g in range(len(groups))]
    total = functools.reduce(lambda a, b: exp.Add(this=a, expression=b), sizes) if sizes else None
    parts.append((c.fn("sum", total) if total is not None else c.lit(0)).as_("bytes", copy=False))
    if extra:
        parts.append(_count(exp.NEQ(this=c.col(EXTRA_NAME), expression=c.lit(""))).as_("extra"))
    parts.append(exp.Count(this=exp.Star()).as_("rows"))
    return exp.select(*parts, copy=False).from_(b, copy=False)


_GROUP_COUNT = re.compile(r"g([0-9]+)_(.+)")


def unpack_sample(row: dict[str, Any], columns: list[RawColumn], first: int = 0) -> dict[str, Any]:
    """:func:`sample_query`'s row, each text column's counts under its own name (:func:`stat_alias`);
    a count of no rows (an empty array) or of no values (NULL) is 0, as in :func:`engine.one_row`."""
    groups = _groups(columns, first)
    out: dict[str, Any] = {}
    for key, values in row.items():
        if not (m := _GROUP_COUNT.fullmatch(key)):
            out[key] = values
            continue
        out.update(spread(values, [stat_alias(i, m.group(2)) for i in groups[int(m.group(1))]]))
    return out


def candidates(row: dict[str, Any], columns: list[RawColumn], share: float) -> dict[int, str]:
    """The type each text column looks like in the sample (``unknown``: no values in it)."""
    out: dict[int, str] = {}
    for i, rc in enumerate(columns):
        if not rc.text:
            continue
        n = int(row[stat_alias(i, "n")])
        enough = n * (1 - share)

        def ok(what: str, i: int = i, enough: float = enough) -> bool:
            return int(row[stat_alias(i, what)]) >= enough

        if n == 0:
            out[i] = "unknown"
        elif ok("bool"):
            out[i] = "bool"
        elif int(row[stat_alias(i, "lead0")]) and ok("float"):
            out[i] = "text"  # 007, 02134: codes, not numbers
        elif ok("wide"):  # Int64, or Int128 where it is too small (never a lossy Float64)
            out[i] = "int"
        elif ok("float"):
            out[i] = "decimal" if int(row[stat_alias(i, "money")]) else "float"
        elif ok("date"):
            out[i] = "datetime" if int(row[stat_alias(i, "time")]) else "date"
        else:
            out[i] = "text"
    return out


def from_sample(row: dict[str, Any], columns: list[RawColumn], cands: dict[int, str]) -> dict[str, Any]:
    """The sample's counts in the shape of the full counts (:func:`stats_parts`), so that
    :func:`decide` reads both."""
    out = dict(row)
    for i, rc in enumerate(columns):
        if not rc.text:
            continue
        n = int(row[stat_alias(i, "n")])
        ok = {"int": "int", "wide": "wide", "float": "float", "decimal": "float", "bool": "bool", "date": "date",
              "datetime": "date"}
        for j, k in enumerate(LADDERS.get(cands[i], ())):
            out[stat_alias(i, f"fail{j}")] = n - int(row[stat_alias(i, ok[k])])
    return out


# ------------------------------------------------------------------ every row, while loading


def ladder(plan: ColumnPlan, cand: str | None) -> tuple[str, ...]:
    """The casts counted for a column while it loads: its own kind, then the fallbacks."""
    if plan.kind == "text" and cand == "unknown":
        return UNKNOWN
    if plan.kind in ("text", "kept", "other"):
        return ()
    full = LADDERS.get(plan.kind, (plan.kind,))
    step = "wide" if plan.kind == "int" and plan.inner == INNER["wide"] else plan.kind
    return full[full.index(step):] if step in full else (plan.kind,)


def stat_name(name: str) -> str:
    return f"__bv_s_{name}"


@dataclass
class Stats:
    """The counts a load checks its plan against (:func:`stats_parts`): ``columns`` are
    computed for every row in the layer the rows are read through (once per row, by the read's
    one query), ``counts`` aggregate them per block (a materialized view; each holds its
    alias). A view's query is analysed again for every block it receives, so the expressions
    live in the read and the view only sums columns: with them in the view, a 1 M-row load spent
    about 0.1 CPU s a block analysing them."""

    columns: list[tuple[str, exp.Expression]] = field(default_factory=list)
    counts: list[exp.Expression] = field(default_factory=list)
    types: dict[str, str] = field(default_factory=dict)  # each column's type (a supertype of what it computes)
    maxima: set[str] = field(default_factory=set)  # the counts that are a largest value (Int64), not a sum

    def count(self, name: str, cond: exp.Expression) -> None:
        """How many rows ``cond`` holds for (NULL: not counted)."""
        if not isinstance(cond, exp.Column):
            self.columns.append((stat_name(name), cond))
            self.types[stat_name(name)] = "Nullable(UInt8)"
            cond = c.col(stat_name(name))
        self.counts.append(_count(cond).as_(name, copy=False))

    def classes(self, name: str, value: exp.Expression, counts: dict[str, tuple[str, int]]) -> None:
        """One per-row class ``value`` (a small integer); each count is of the rows whose class
        compares (``=`` or ``>``) with a number."""
        self.columns.append((stat_name(name), value))
        self.types[stat_name(name)] = "Nullable(UInt8)"
        ops = {"=": exp.EQ, ">": exp.GT}
        for what, (op, k) in counts.items():
            self.counts.append(_count(ops[op](this=c.col(stat_name(name)), expression=c.lit(k))).as_(what, copy=False))

    def most(self, name: str, value: exp.Expression) -> None:
        """The largest ``value`` (an Int64)."""
        self.columns.append((stat_name(name), value))
        self.types[stat_name(name)] = "Nullable(Int64)"
        self.counts.append(c.fn("toInt64", c.fn("max", c.col(stat_name(name)))).as_(name, copy=False))
        self.maxima.add(name)


def stats_parts(plans: list[ColumnPlan], ladders: dict[int, tuple[str, ...]], *, text_source: bool) -> Stats:
    """Per-row evidence over the cast layers (:func:`layers`), and its counts, each summable over
    blocks (or a max), see :class:`Stats`."""
    out = Stats()
    for p in plans:
        i = p.index
        raw = p.raw()
        if p.kind == "kept":
            out.count(stat_alias(i, "nulls"), c.is_null(raw))
            out.count(stat_alias(i, "fail0"), exp.and_(c.not_null(raw), c.is_null(c.col(cast_name(i))), copy=False))
            continue
        present = c.col(present_name(i))
        out.count(stat_alias(i, "n"), present)
        if p.kind == "text":  # values read as missing for being a null token ("NA"), not for being empty
            written = c.fn("notEmpty", c.fn("trimBoth", c.fn("ifNull", raw, c.lit("")), c.lit(c.WHITESPACE)))
            out.count(stat_alias(i, "tokens"), exp.and_(exp.not_(present, copy=False), written, copy=False))
        if text_source:
            out.count(stat_alias(i, "bad8"), exp.not_(c.fn("isValidUTF8", raw), copy=False))
        kinds = ladders.get(i, ())
        v = p.text_value()
        # a column with no values in the sample is counted as each kind it may turn out to be,
        # with the evidence of both dates and numbers below (times of day, day/month order,
        # leading zeros, commas), as the sample counts it for the others: without it, the next
        # read typed dates with times as Date32, or 007 as Int64, and a third read undid it
        unknown = kinds == UNKNOWN
        if unknown:
            for j, k in enumerate(kinds):
                out.count(stat_alias(i, f"fail{j}"), exp.and_(present, c.is_null(c.slow(v, STEP_KIND.get(k, k), INNER[k])), copy=False))
        elif kinds:
            # the ladder's first step that reads the value: 0, its own cast (or no value), then
            # each fallback in turn, len(kinds) for none; fail<j> counts the values no step up to
            # j reads. A fallback is tried only for values the steps below it failed.
            first = c.col(cast_name(i))
            head = c.is_null(first) if not p.nullable else exp.and_(present, c.is_null(first), copy=False)
            steps: list[exp.Expression] = [exp.not_(head, copy=False), c.lit(0)]
            if not p.nullable and len(kinds) > 1:  # no value: fails the column, no fallback counted
                steps += [exp.not_(present, copy=False), c.lit(1)]
            for j, x in enumerate(kinds[1:], 1):
                steps += [c.not_null(c.slow(v, STEP_KIND.get(x, x), INNER[x], comma=p.decimal_comma, digits=p.digits(),
                                            dotted=p.dotted)),
                          c.lit(j)]
            out.classes(stat_alias(i, "step"), c.fn("multiIf", *steps, c.lit(len(kinds))) if len(kinds) > 1 else
                        c.if_(head, c.lit(1), c.lit(0)),
                        {stat_alias(i, f"fail{j}"): (">", j) for j in range(len(kinds))})
        if p.kind in ("date", "datetime") or unknown:
            moment = c.datetime(v.copy()) if unknown else c.col(fast_name(i))
            out.count(stat_alias(i, "time"), c.has_time(moment))
            if p.kind == "datetime":  # converted from their own offsets: said in the report
                out.count(stat_alias(i, "tz"), exp.and_(c.not_null(c.col(cast_name(i))), c.has_offset(v), copy=False))
            # the day/month order: evidence for each (the other's contradictions), 01/02-like
            # values ("dm": ambiguous where neither shows), and the values that failed for
            # contradicting this plan's order ("swap", see :func:`decide`). One anchored pattern
            # per value; two more for 01/02-like ones; one for failed ones.
            out.classes(stat_alias(i, "order"), c.date_order(v.copy()),
                        {stat_alias(i, "dmy"): ("=", c.SHOWS_DAY_FIRST), stat_alias(i, "mdy"): ("=", c.SHOWS_MONTH_FIRST),
                         stat_alias(i, "dm"): (">", c.NOT_DAY_MONTH)})
            if not unknown:  # (the unknown column's date step reads either order: nothing swapped)
                against = exp.EQ(this=c.date_order(v.copy()),
                                 expression=c.lit(c.SHOWS_DAY_FIRST if p.us_dates else c.SHOWS_MONTH_FIRST))
                out.count(stat_alias(i, "swap"), exp.and_(present, c.is_null(c.col(cast_name(i))), against, copy=False))
        if p.kind in NUMBER_KINDS or unknown:
            # per value: a position() and a comparison (the pattern runs on values like "0..."),
            # and a NULL test (the rest only on values the cheap cast could not read)
            out.count(stat_alias(i, "lead0"), _lead0(v.copy()))
            # a value with a comma never passes the cheap cast: every such value has its kind
            kind = c.comma_kind(v.copy()) if unknown else c.col(comma_name(i))
            out.classes(stat_alias(i, "comma"), _comma_class(v.copy(), kind),
                        {stat_alias(i, what): ("=", k) for k, what in COMMA_CLASSES.items()})
        if p.kind == "decimal":
            out.most(stat_alias(i, "scale"), _places(raw))
            out.most(stat_alias(i, "comma_scale"), _places(raw, comma=True))
            out.most(stat_alias(i, "dotted_scale"), _places(raw, comma=True, dotted=True))
            # values that failed for their decimal places alone: a wider scale reads them
            finer = c.slow(v, "decimal", f"Decimal(38, {MAX_SCALE})", comma=p.decimal_comma, digits=p.digits(),
                           dotted=p.dotted)
            out.count(stat_alias(i, "finer"), exp.and_(present, c.is_null(c.col(cast_name(i))), c.not_null(finer), copy=False))
    return out


def _text_plan(rc: RawColumn, index: int, rows: int, n: int, distinct: int | None, fix: bool, note: str = "") -> ColumnPlan:
    nullable = rows > n
    low = distinct is not None and n >= 1000 and distinct <= LOWCARD_MAX and distinct * 10 <= n
    base_type = "Nullable(String)" if nullable else "String"
    t = f"LowCardinality({base_type})" if low else base_type
    return ColumnPlan(rc.name, rc.source, rc.type, "text", t, nullable, index, fix_encoding=fix,
                      nulls=rows - n, distinct=distinct, note=note)


def decide(
    row: dict[str, Any], columns: list[RawColumn], ladders: dict[int, tuple[str, ...]], share: float, *,
    text_source: bool, distinct: dict[int, int] | None = None, low_share: float | None = None,
) -> list[ColumnPlan]:
    """Each column's plan from counts (the sample's, via :func:`from_sample`, or every row's).
    ``ladders``: the casts counted for each text column (``fail<j>``), in fallback order;
    ``distinct``: distinct values per text column (from the sample)."""
    rows = int(row["rows"])
    distinct = distinct or {}
    plans: list[ColumnPlan] = []
    for i, rc in enumerate(columns):
        if not rc.text:
            nulls = int(row[stat_alias(i, "nulls")])
            t = rc.type if nulls else unwrap(rc.type)
            if not nulls and rc.type.startswith("LowCardinality("):
                t = f"LowCardinality({unwrap(rc.type)})"
            plans.append(ColumnPlan(rc.name, rc.source, rc.type, "kept", t,
                                    t.startswith(("Nullable", "LowCardinality(Nullable")), i, nulls=nulls))
            continue
        n = int(row[stat_alias(i, "n")])
        fix = text_source and int(row.get(stat_alias(i, "bad8"), 0) or 0) > 0
        kinds = ladders.get(i, ())
        if n == 0 or not kinds:
            plans.append(_text_plan(rc, i, rows, n, distinct.get(i), fix, "no values" if n == 0 else ""))
            continue
        # "2,125" reads as 2.125 where the column's unambiguous values are mostly decimal commas
        # ("0,5", "1.234,56"), as 2125 where they are thousands, point decimals ("1.5": a stray
        # "0,5" among them turned every "1,234" into 1.234) or there are none
        dcomma, thousands, ambiguous, points = comma_counts(row, i)
        comma = dcomma > thousands + points
        grouped, lone = dotted_counts(row, i)
        chosen, failures = None, 0
        for j, k in enumerate(kinds):
            if comma and ambiguous and k in ("int", "wide"):
                continue  # counted as thousands, the ambiguous values are fractions now
            f = int(row.get(stat_alias(i, f"fail{j}"), n) or 0)
            if k == "decimal" and j == 0:  # too many decimal places for the planned scale: a wider one
                f -= int(row.get(stat_alias(i, "finer"), 0) or 0)
            if k == "int" and kinds[j + 1 : j + 2] == ("wide",) and int(row.get(stat_alias(i, f"fail{j + 1}"), n) or 0) < f:
                continue  # integers beyond Int64 are not bad values: Int128 holds them
            if k in ("date", "datetime"):  # counted in one day/month order: in the one chosen
                f += against_order(row, i)
            if f <= share * n:
                chosen, failures = k, f
                break
        if chosen is None:
            worst = int(row.get(stat_alias(i, "fail0"), n) or 0)
            plans.append(_text_plan(rc, i, rows, n, distinct.get(i), fix,
                                    "" if kinds == UNKNOWN else
                                    f"kept as text: {worst:,} of {n:,} values ({worst / n:.1%}) are not "
                                    f"{INNER.get(kinds[0], kinds[0])}, above the {share:.0%} threshold"))
            continue
        lead0 = int(row.get(stat_alias(i, "lead0"), 0) or 0)
        if lead0 and chosen in (*NUMBER_KINDS, "wide"):  # as in the sample (candidates): 007 is a code
            plans.append(_text_plan(rc, i, rows, n, distinct.get(i), fix,
                                    f"kept as text: {lead0:,} values have a leading zero (codes like 007)"))
            continue
        kind, inner, note, us = STEP_KIND.get(chosen, chosen), INNER[chosen], "", False
        if kind in NUMBER_KINDS and ambiguous and not dcomma and not thousands and not points:
            note = (f"{ambiguous:,} values like 1,234 read with a thousands comma (no value shows whether "
                    "the column's commas are decimal ones)")
        dotted = kind in NUMBER_KINDS and points_group(comma, grouped, lone) and lone > 0  # else it changes nothing
        if kind in NUMBER_KINDS and comma and lone:
            note = (note + "; " if note else "") + lone_dots_note(lone, grouped, dotted)
        if kind == "decimal":
            which = "dotted_scale" if dotted else "comma_scale" if comma else "scale"
            scale = int(row.get(stat_alias(i, which), 0) or 0)
            if scale > MAX_SCALE:
                kind, inner = "float", "Float64"
            else:
                inner = f"Decimal(18, {max(scale, 2)})"
        if kind in ("date", "datetime"):
            kind = "datetime" if int(row.get(stat_alias(i, "time"), 0) or 0) else "date"
            inner = INNER[kind]
            dmy, mdy, _ = order_counts(row, i)
            us = month_first(dmy, mdy)
            if dmy and mdy:
                note = both_orders(dmy, mdy, us)
            elif us:
                note = "month-first dates (01/02/2024 is January 2nd)"
        nullable = rows > n
        t = f"Nullable({inner})" if nullable else inner
        if failures:
            note = (note + "; " if note else "") + f"{failures:,} values rejected ({failures / n:.2%})"
        plans.append(ColumnPlan(rc.name, rc.source, rc.type, kind, t, nullable, i, fix_encoding=fix, us_dates=us,
                                failures=failures, nulls=rows - n, note=note,
                                decimal_comma=comma and kind in NUMBER_KINDS,
                                dotted=dotted))
    return plans


# a column's values like 1.234,56 must be at least this share of its values like 1.500 for
# those to read as thousands: one stray "1.234,5" among 999 values like "2.001" (three decimal
# places) does not make them 2001
DOTTED_SHARE = 0.1


def points_group(comma: bool, grouped: int, lone: int) -> bool:
    """Whether a column's points group thousands, so that a lone ``1.500`` is fifteen hundred:
    it uses decimal commas, and enough of its values show points before one (``1.234,56``,
    :data:`DOTTED_SHARE`)."""
    return comma and grouped > 0 and grouped >= DOTTED_SHARE * lone


def lone_dots_note(lone: int, grouped: int, dotted: bool, *, recorded: bool = False) -> str:
    """What became of a decimal-comma column's values like ``1.500`` (``recorded``: an append,
    which reads the column as the table's earlier loads did where its own values do not say)."""
    values = f"{lone:,} value{'s' if lone != 1 else ''} like 1.500"
    shown = (f"{grouped:,} value{'s' if grouped != 1 else ''} like 1.234,56 show{'s' if grouped == 1 else ''}"
             if grouped else "no value like 1.234,56 shows")
    if dotted and recorded and not points_group(True, grouped, lone):
        return f"{values} read as thousands (1500), as the table's recorded loads read the column"
    if dotted:
        return f"{values} read as thousands (1500): {shown} the column's points grouping thousands"
    return (f"{values} read with a decimal point (1.5): the column uses decimal commas, but "
            f"{'only ' if grouped else ''}{shown} its points grouping thousands"
            + (", nor do the table's recorded loads" if recorded else ""))


def month_first(dmy: int, mdy: int, default: bool = False) -> bool:
    """The day/month order of a date column from its evidence (values that can only be read
    day-first, month-first): the larger one's; ``default`` (day-first) where they tie. A value
    written in the other order is rejected (see :func:`clean.datetime`)."""
    return mdy > dmy if mdy != dmy else default


def order_counts(row: dict[str, Any], i: int) -> tuple[int, int, int]:
    """Column ``i``'s date values that show day-first, that show month-first, and that look
    like 01/02/2024 (the last counted while loading only)."""
    return tuple(int(row.get(stat_alias(i, k), 0) or 0) for k in ("dmy", "mdy", "dm"))  # type: ignore[return-value]


def both_orders(dmy: int, mdy: int, us: bool) -> str:
    """The note for a date column that shows both orders, read in order ``us`` (month-first)."""
    return (f"both day-first ({dmy:,}) and month-first ({mdy:,}) dates: read "
            f"{'month' if us else 'day'}-first, the {min(dmy, mdy):,} others rejected")


def against_order(row: dict[str, Any], i: int) -> int:
    """What a date column's failure count (``fail0``) gains in the order :func:`month_first`
    picks: the values contradicting it, less those that failed for contradicting the order the
    count was made in (``swap``; none in the sample, whose parse reads either order)."""
    dmy, mdy, _ = order_counts(row, i)
    return (dmy if month_first(dmy, mdy) else mdy) - int(row.get(stat_alias(i, "swap"), 0) or 0)


def same_plan(a: ColumnPlan, b: ColumnPlan) -> bool:
    """Whether a load by plan ``a`` wrote what plan ``b`` asks for (LowCardinality aside, which
    is decided on the sample, and the encoding repair, which text columns of text files always
    get: a valid UTF-8 value passes through it unchanged)."""
    return ((a.kind, unwrap(a.type), a.nullable, a.us_dates, a.decimal_comma, a.dotted)
            == (b.kind, unwrap(b.type), b.nullable, b.us_dates, b.decimal_comma, b.dotted))


def target_plans(columns: list[RawColumn], target: list[tuple[str, str]], *, text_source: bool,
                 orders: dict[str, bool] | None = None, commas: dict[str, bool] | None = None,
                 dotted: dict[str, bool] | None = None) -> list[ColumnPlan]:
    """Plans for appending to an existing table: each source column cast to the target column
    of the same name (the caller has matched the names); date columns read in the day/month
    order ``orders`` gives (the table's, as recorded), else day-first; number columns with the
    decimal commas ``commas`` gives (likewise; ``dotted``: and thousands points), else thousands
    commas. The load's counts then
    say whether the source shows otherwise (:func:`reordered`)."""
    types = dict(target)
    orders, commas, dotted = orders or {}, commas or {}, dotted or {}
    plans = []
    for i, rc in enumerate(columns):
        t = types[rc.name]
        kind = kind_of(t) if rc.text else "kept"
        plans.append(ColumnPlan(rc.name, rc.source, rc.type, kind, t, t.startswith(("Nullable", "LowCardinality(Nullable")),
                                i, fix_encoding=text_source and kind == "text",
                                us_dates=kind in ("date", "datetime") and orders.get(rc.name, False),
                                decimal_comma=kind in NUMBER_KINDS and commas.get(rc.name, False),
                                dotted=kind in NUMBER_KINDS and dotted.get(rc.name, False)))
    return plans


def comma_counts(row: dict[str, Any], i: int) -> tuple[int, int, int, int]:
    """Column ``i``'s values with a comma (only a decimal comma, with or without thousands
    points; only thousands; either) and its point decimals without one (:data:`COMMA_CLASSES`)."""
    def n(what: str) -> int:
        return int(row.get(stat_alias(i, what), 0) or 0)

    return n("dcomma") + n("grouped"), n("thousands"), n("ambiguous"), n("points")


def dotted_counts(row: dict[str, Any], i: int) -> tuple[int, int]:
    """Column ``i``'s decimal commas after thousands points (``1.234,56``), and its values with a
    lone thousands-like point and no comma (``1.500``)."""
    return int(row.get(stat_alias(i, "grouped"), 0) or 0), int(row.get(stat_alias(i, "lone_dots"), 0) or 0)


def reordered(plans: list[ColumnPlan], row: dict[str, Any]) -> list[ColumnPlan]:
    """Append ``plans`` whose date columns the load's counts (``row``) ask to read in the other
    day/month order, or whose numbers to read with the other use of commas (the source's own
    evidence outweighs what was assumed), or an empty list."""
    out, changed = [], False
    for p in plans:
        if p.kind in ("date", "datetime"):
            dmy, mdy = int(row.get(stat_alias(p.index, "dmy"), 0) or 0), int(row.get(stat_alias(p.index, "mdy"), 0) or 0)
            us = month_first(dmy, mdy, default=p.us_dates)
            if us != p.us_dates:
                p, changed = replace(p, us_dates=us), True
        elif p.kind in NUMBER_KINDS:
            dcomma, thousands, ambiguous, points = comma_counts(row, p.index)
            shown = dcomma or thousands or (points and ambiguous)  # point decimals alone change no reading
            comma = dcomma > thousands + points if shown else p.decimal_comma  # as decide() reads a new column
            grouped, lone = dotted_counts(row, p.index)
            # the table's reading holds; the source's own evidence matters only with lone values
            dotted = comma and (p.dotted or (points_group(comma, grouped, lone) and lone > 0))
            if (comma, dotted) != (p.decimal_comma, p.dotted):
                p, changed = replace(p, decimal_comma=comma, dotted=dotted), True
        out.append(p)
    return out if changed else []


def counted(plans: list[ColumnPlan], row: dict[str, Any]) -> list[ColumnPlan]:
    """``plans`` with the failures and nulls the load counted."""
    rows = int(row["rows"])
    out = []
    for p in plans:
        fails = int(row.get(stat_alias(p.index, "fail0"), 0) or 0)
        nulls = int(row[stat_alias(p.index, "nulls")]) if p.kind == "kept" else rows - int(row[stat_alias(p.index, "n")])
        if not p.nullable and p.kind != "text":
            fails = max(fails - nulls, 0)  # counted apart: a missing value in a column that is not Nullable
        out.append(ColumnPlan(**{**p.__dict__, "failures": fails, "nulls": nulls}))
    return out


def order_key(plans: list[ColumnPlan], key: list[str] | None = None) -> list[str]:
    """A sensible ORDER BY: the given key; else up to two low-cardinality text columns (fewest
    values first) and the first date column; else an ``id``-like integer; else none. Nullable
    columns are never part of it."""
    if key:
        return list(key)
    solid = [p for p in plans if not p.nullable]
    low = sorted((p for p in solid if p.type.startswith("LowCardinality") and p.distinct), key=lambda p: p.distinct or 0)
    dates = [p for p in solid if kind_of(p.type) in ("date", "datetime")]
    out = [p.name for p in low[:2]] + [p.name for p in dates[:1]]
    if out:
        return out
    ids = [p for p in solid if kind_of(p.type) == "int" and (p.name == "id" or p.name.endswith("_id"))]
    return [ids[0].name] if ids else []
