"""Intent -> SQL, built with sqlglot expressions (never string formatting).

The result is plain ClickHouse SQL text that then goes through the guard like any other query.
"""

from __future__ import annotations

from sqlglot import exp

from ..models import Filter, Having, Intent, Measure, TimeRange
from ..sql.guard import DIALECT

_GRAIN_FUNCS = {
    "day": "toDate",
    "week": "toMonday",
    "month": "toStartOfMonth",
    "quarter": "toStartOfQuarter",
    "year": "toStartOfYear",
}
_ADD_FUNCS = {"day": "addDays", "week": "addWeeks", "month": "addMonths", "quarter": "addQuarters", "year": "addYears"}
_PART_FUNCS = {"year": "toYear", "quarter": "toQuarter", "month": "toMonth", "day": "toDayOfMonth", "weekday": "toDayOfWeek"}
_IF_FUNCS = {"sum": "sumIf", "avg": "avgIf", "min": "minIf", "max": "maxIf", "count_distinct": "uniqExactIf"}
_OPS = {"=": exp.EQ, "!=": exp.NEQ, ">": exp.GT, ">=": exp.GTE, "<": exp.LT, "<=": exp.LTE}


def _col(name: str) -> exp.Column:
    return exp.column(name, quoted=True)


def _fn(name: str, *args: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=name, expressions=list(args))


def _value(v: object) -> exp.Expression:
    if isinstance(v, bool):
        return exp.Boolean(this=v)
    if isinstance(v, (int, float)):
        return exp.Literal.number(v)
    return exp.Literal.string(str(v))


class _Compiler:
    """Compiles one intent; knows which columns hold dates as text."""

    def __init__(self, intent: Intent) -> None:
        self.intent = intent
        self.text_dates = set(intent.text_dates)
        self.table = exp.table_(
            exp.to_identifier(intent.table, quoted=True),
            db=exp.to_identifier(intent.database, quoted=True) if intent.database else None,
        )

    # ------------------------------------------------------------ columns

    def date(self, name: str) -> exp.Expression:
        """A date column as a date, parsing it when it is stored as text."""
        if name in self.text_dates:
            return _fn("toDate", _fn("parseDateTimeBestEffortOrNull", _col(name)))
        return _col(name)

    # ------------------------------------------------------------ measures

    def raw(self, m: Measure) -> exp.Expression:
        """The aggregate, unrounded."""
        col = _col(m.column) if m.column else None
        cond = exp.and_(*[self.filter(f) for f in m.where]) if m.where else None
        if m.agg == "count":
            if cond is not None:
                return _fn("countIf", cond if col is None else exp.and_(cond, exp.Not(this=exp.Is(this=col, expression=exp.Null()))))
            return exp.Count(this=col) if col is not None else exp.Count(this=exp.Star())
        if col is None:
            raise ValueError(f"{m.agg} needs a column")
        if cond is not None:
            if m.agg in _IF_FUNCS:
                return _fn(_IF_FUNCS[m.agg], col, cond)
            return _fn("median", exp.If(this=cond, true=col, false=exp.Null()))
        if m.agg == "count_distinct":
            return _fn("uniqExact", col)
        if m.agg == "sum":
            return exp.Sum(this=col)
        if m.agg == "avg":
            return exp.Avg(this=col)
        if m.agg == "median":
            return _fn("median", col)
        if m.agg == "min":
            return exp.Min(this=col)
        if m.agg == "max":
            return exp.Max(this=col)
        raise ValueError(m.agg)  # pragma: no cover - the Literal type forbids it

    def measure(self, m: Measure, rounded: bool = True) -> exp.Expression:
        value = self.raw(m)
        plain = m.over is None and not m.share and not m.percent
        if m.over is not None:
            value = exp.Div(this=value, expression=self.raw(m.over))
        if m.share:
            value = exp.Div(this=value, expression=exp.Window(this=exp.Sum(this=self.raw(m)), over="OVER"))
        if m.percent or m.share:
            value = exp.Mul(this=exp.Literal.number(100), expression=exp.paren(value))
        if not rounded or plain and m.agg in ("count", "count_distinct", "min", "max"):
            return value
        return exp.Round(this=value, decimals=exp.Literal.number(2))

    # ------------------------------------------------------------ filters

    def filter(self, f: Filter) -> exp.Expression:
        target: exp.Expression = self.date(f.column) if f.column in self.text_dates else _col(f.column)
        if f.part:
            target = _fn(_PART_FUNCS[f.part], self.date(f.column))
        if f.against:
            return _OPS[f.op](this=target, expression=self.against(f))
        if f.op == "in":
            return target.isin(*[_value(v) for v in f.value])
        if f.op == "not in":
            return exp.Not(this=target.isin(*[_value(v) for v in f.value]))
        if f.op == "between":
            low, high = f.value
            return exp.Between(this=target, low=_value(low), high=_value(high))
        if isinstance(f.value, bool) and f.op in ("=", "!="):
            truth = f.value if f.op == "=" else not f.value
            return target if truth else exp.Not(this=target)
        return _OPS[f.op](this=target, expression=_value(f.value))

    def against(self, f: Filter) -> exp.Expression:
        """(SELECT agg(column) FROM table WHERE the other filters) + value."""
        agg = {"avg": exp.Avg, "min": exp.Min, "max": exp.Max}.get(f.against or "")
        inner = agg(this=_col(f.column)) if agg else _fn("median", _col(f.column))
        sub = exp.select(inner).from_(self.table.copy())
        others = [self.filter(g) for g in self.intent.filters if g is not f and not g.against]
        if others:
            sub = sub.where(exp.and_(*others))
        value: exp.Expression = sub.subquery()
        if f.value:
            value = exp.Add(this=value, expression=_value(f.value))
        return value

    def time_range(self, tr: TimeRange) -> list[exp.Expression]:
        col = self.date(tr.column)
        if tr.unit is None:
            out: list[exp.Expression] = []
            if tr.start is not None:
                out.append(exp.GTE(this=col, expression=self._date_literal(tr.start.isoformat())))
            if tr.end is not None:
                out.append(exp.LT(this=col, expression=self._date_literal(tr.end.isoformat())))
            return out
        newest = exp.select(exp.Max(this=self.date(tr.column))).from_(self.table.copy()).subquery()
        start_of = _fn(_GRAIN_FUNCS[tr.unit], newest)
        first = _fn(_ADD_FUNCS[tr.unit], start_of, exp.Literal.number(-(tr.back + tr.span - 1)))
        out = [exp.GTE(this=col, expression=first)]
        if tr.back:
            last = _fn(_ADD_FUNCS[tr.unit], start_of.copy(), exp.Literal.number(-(tr.back - 1)))
            out.append(exp.LT(this=col, expression=last))
        return out

    def _date_literal(self, iso: str) -> exp.Expression:
        return exp.Literal.string(iso)

    def having(self, h: Having) -> exp.Expression:
        target = self.raw(h.measure)
        if h.measure.over is not None or h.measure.percent or h.measure.share:
            target = self.measure(h.measure)
        if h.against:
            value = self._group_average(h.measure)
        elif h.op == "between":
            low, high = h.value
            return exp.Between(this=target, low=_value(low), high=_value(high))
        else:
            value = _value(h.value)
        return _OPS[h.op](this=target, expression=value)

    def _group_average(self, m: Measure) -> exp.Expression:
        """The average of a measure over the groups: of the groups' totals for sums and counts,
        of the column itself for an average (the overall average price, not a mean of means)."""
        where = self.where()
        if m.agg in ("avg", "median") and m.column and m.over is None:
            sub = exp.select(self.raw(m)).from_(self.table.copy())
            if where is not None:
                sub = sub.where(where)
            return sub.subquery()
        inner = exp.select(self.raw(m).as_("_m", quoted=True)).from_(self.table.copy())
        if where is not None:
            inner = inner.where(where)
        groups = self.groups()
        if groups:
            inner = inner.group_by(*groups)
        outer = exp.select(exp.Avg(this=exp.column("_m", quoted=True))).from_(inner.subquery("_g", copy=False))
        return outer.subquery()

    # ------------------------------------------------------------ the query

    def groups(self) -> list[exp.Expression]:
        out: list[exp.Expression] = []
        i = self.intent
        if i.time_grain and i.time_column:
            out.append(_fn(_GRAIN_FUNCS[i.time_grain], self.date(i.time_column)))
        out.extend(_col(d) for d in i.dimensions)
        return out

    def where(self) -> exp.Expression | None:
        conditions = [self.filter(f) for f in self.intent.filters]
        if self.intent.time_range is not None:
            conditions.extend(self.time_range(self.intent.time_range))
        return exp.and_(*conditions) if conditions else None

    def select(self) -> exp.Select:
        i = self.intent
        select = exp.select()
        group: list[exp.Expression] = []
        if i.time_grain and i.time_column:
            select = select.select(_fn(_GRAIN_FUNCS[i.time_grain], self.date(i.time_column)).as_(i.time_grain, quoted=True))
            group.append(exp.column(i.time_grain, quoted=True))
        for d in i.dimensions:
            select = select.select(_col(d))
            group.append(_col(d))
        for c in i.columns:
            select = select.select(_col(c))
        for m in i.measures:
            select = select.select(self.measure(m).as_(m.name, quoted=True))
        if not i.measures and not group and not i.columns:
            select = select.select(exp.Star())
        select = select.from_(self.table.copy())
        where = self.where()
        if where is not None:
            select = select.where(where)
        if group and (i.measures or not i.columns):
            select = select.group_by(*group)
        if i.having:
            select = select.having(exp.and_(*[self.having(h) for h in i.having]))
        by_name = {m.name: m for m in i.measures}
        for o in i.order:
            # a measure is ordered by its exact value: rounding must not decide a ranking's ties
            key = self.measure(by_name[o.by], rounded=False) if o.by in by_name else exp.column(o.by, quoted=True)
            select = select.order_by(exp.Ordered(this=key, desc=o.desc))
        if i.limit:
            select = select.limit(i.limit)
        return select


def measure_expression(m: Measure) -> exp.Expression:
    """A measure's SQL expression, outside any intent (no text dates)."""
    return _Compiler(Intent(table="_")).measure(m)


def filter_expression(f: Filter) -> exp.Expression:
    return _Compiler(Intent(table="_")).filter(f)


def compile_intent(intent: Intent) -> str:
    """The SQL text of an intent, in ClickHouse's dialect."""
    return _Compiler(intent).select().sql(DIALECT)
