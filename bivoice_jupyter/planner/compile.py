"""Intent -> SQL, built with sqlglot expressions (never string formatting).

The result is plain ClickHouse SQL text that then goes through the guard like any other query.
"""

from __future__ import annotations

from sqlglot import exp

from ..models import Filter, Intent, Measure
from ..sql.guard import DIALECT

_GRAIN_FUNCS = {
    "day": "toDate",
    "week": "toMonday",
    "month": "toStartOfMonth",
    "quarter": "toStartOfQuarter",
    "year": "toStartOfYear",
}


def _col(name: str) -> exp.Column:
    return exp.column(name, quoted=True)


def _value(v: object) -> exp.Expression:
    if isinstance(v, bool):
        return exp.Boolean(this=v)
    if isinstance(v, (int, float)):
        return exp.Literal.number(v)
    return exp.Literal.string(str(v))


def measure_expression(m: Measure) -> exp.Expression:
    col = _col(m.column) if m.column else None
    if m.agg == "count":
        return exp.Count(this=col) if col is not None else exp.Count(this=exp.Star())
    if col is None:
        raise ValueError(f"{m.agg} needs a column")
    if m.agg == "count_distinct":
        return exp.Anonymous(this="uniqExact", expressions=[col])
    if m.agg == "sum":
        agg: exp.Expression = exp.Sum(this=col)
    elif m.agg == "avg":
        agg = exp.Avg(this=col)
    elif m.agg == "median":
        agg = exp.Anonymous(this="median", expressions=[col])
    elif m.agg == "min":
        return exp.Min(this=col)
    elif m.agg == "max":
        return exp.Max(this=col)
    else:  # pragma: no cover - the Literal type forbids it
        raise ValueError(m.agg)
    return exp.Round(this=agg, decimals=exp.Literal.number(2))


def filter_expression(f: Filter) -> exp.Expression:
    col = _col(f.column)
    if f.op == "in":
        return col.isin(*[_value(v) for v in f.value])
    if f.op == "between":
        low, high = f.value
        return exp.Between(this=col, low=_value(low), high=_value(high))
    ops = {"=": exp.EQ, "!=": exp.NEQ, ">": exp.GT, ">=": exp.GTE, "<": exp.LT, "<=": exp.LTE}
    return ops[f.op](this=col, expression=_value(f.value))


def grain_expression(intent: Intent) -> exp.Expression:
    assert intent.time_column and intent.time_grain
    return exp.Anonymous(this=_GRAIN_FUNCS[intent.time_grain], expressions=[_col(intent.time_column)])


def compile_intent(intent: Intent) -> str:
    """The SQL text of an intent, in ClickHouse's dialect."""
    select = exp.select()
    group: list[exp.Expression] = []
    if intent.time_grain and intent.time_column:
        select = select.select(grain_expression(intent).as_(intent.time_grain, quoted=True))
        group.append(exp.column(intent.time_grain, quoted=True))
    for d in intent.dimensions:
        select = select.select(_col(d))
        group.append(_col(d))
    for m in intent.measures:
        select = select.select(measure_expression(m).as_(m.name, quoted=True))
    if not intent.measures and not group:
        select = select.select(exp.Star())
    table = exp.table_(exp.to_identifier(intent.table, quoted=True),
                       db=exp.to_identifier(intent.database, quoted=True) if intent.database else None)
    select = select.from_(table)
    conditions = [filter_expression(f) for f in intent.filters]
    tr = intent.time_range
    if tr is not None:
        if tr.start is not None:
            conditions.append(exp.GTE(this=_col(tr.column), expression=exp.Literal.string(tr.start.isoformat())))
        if tr.end is not None:
            conditions.append(exp.LT(this=_col(tr.column), expression=exp.Literal.string(tr.end.isoformat())))
    if conditions:
        select = select.where(exp.and_(*conditions))
    if group and intent.measures:
        select = select.group_by(*group)
    for o in intent.order:
        select = select.order_by(exp.Ordered(this=exp.column(o.by, quoted=True), desc=o.desc))
    if intent.limit:
        select = select.limit(intent.limit)
    return select.sql(DIALECT)
