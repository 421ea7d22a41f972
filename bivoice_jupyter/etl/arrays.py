"""Columns that share one expression, computed together as arrays.

A load's read spells out each column's cleaning, checks and evidence in layers
(:func:`infer.layer`), one expression per column and step, named by the column's number
(``__bv_c5``, ``__bv_s_c5_lead0``). The engine analyses every expression of a statement before
it reads a row, and that analysis, not the rows, was most of the time a file of many columns
took to load: 64 columns of 1,000 rows, 1.3 s of analysis for the read.

Most wide files repeat one plan across many columns: their expressions differ only in the
column number. :func:`vectorize` rewrites such a group of items, in each layer, as one
``arrayMap`` over arrays of the group's columns (written, and analysed, once), and unpacks
the results into the same names in a layer of its own just above, so that every later layer,
view and name stays as it was. Expressions are grouped by their tree with the column number
taken out, so two columns share an array only where their SQL would be the same.
:func:`gather` does the same for the per-row counts the stats view sums.

Arrays cost more per row (each value is copied into an array and back, among other things not
measured apart: see :data:`MAX_ROWS`), so :func:`worth` keeps them to sources of a few tens of
thousands of rows, where the analysis saved outweighs it; a preview reads its first rows with
them whatever the source's length (``load._shown_with_arrays``), as few as they are.
"""

from __future__ import annotations

import re

from sqlglot import exp

from . import clean as c
from .names import DIALECT

# a name that belongs to one column: __bv_<letters><number>, or a per-row count __bv_s_c<number>_<what>
# (the arrays' own names, __bv_arr_<k>, and their lambdas' parameters, __bv_x_<k>, are not)
_OWN = re.compile(r"^__bv_(?:s_c(\d+)_(\w+)|([a-z]+)(\d+))$")
# at least this many columns with the same expression are computed as arrays (a 1,000-row file
# of 64 columns, 13 of each plan: 2.4-2.5 s with 16, 1.8-2.1 s with 4, 1.7-2.0 s with 2)
MINIMUM = 4
# ... and only for sources of at most this many rows (known, or estimated from the sample: see
# load._rows_about), as arrays cost more per row (a lambda's if() still skips what it need not
# compute, as a column's does; the rest of the cost was not taken apart). A file of 64 number
# columns loaded in 2.8-3.2 s with arrays against 4.5-5.4 s without at 10,000 rows, 3.7-3.8
# against 5.6-6.0 at 30,000, 4.6-5.0 against 5.5-5.9 at 60,000, and 6.4-6.9 against 5.8-6.2 at
# 100,000
MAX_ROWS = 50_000
ARRAY_PREFIX = "__bv_arr_"  # an array's name: this and a number

__all__ = ["MAX_ROWS", "MINIMUM", "gather", "spread", "vectorize", "worth"]


def worth(rows: float | None) -> bool:
    """Whether a read of about ``rows`` rows is computed with arrays (None: not known, no)."""
    return rows is not None and rows <= MAX_ROWS


def spread(values: list | None, names: list[str]) -> dict[str, object]:
    """An array of counts, one per column, under each column's name (NULL, or none at all, as
    where there were no rows: 0)."""
    values = values or []
    return {n: values[k] if k < len(values) and values[k] is not None else 0 for k, n in enumerate(names)}


def _own(name: str) -> tuple[int, str] | None:
    """The column number a name belongs to, and the name with that number as ``#``."""
    m = _OWN.match(name)
    if m is None:
        return None
    if m.group(1) is not None:
        return int(m.group(1)), f"__bv_s_c#_{m.group(2)}"
    return int(m.group(4)), f"__bv_{m.group(3)}#"


def _layers(top: exp.Select) -> list[exp.Select]:
    """The selects below ``top``, innermost first (each layer's FROM is the one below)."""
    out: list[exp.Select] = []
    q = top
    while True:
        src = q.args.get("from_")
        if src is None or not isinstance(src.this, exp.Subquery) or not isinstance(src.this.this, exp.Select):
            break
        q = src.this.this
        out.append(q)
    return out[::-1]


def vectorize(top: exp.Select, types: dict[int, str], minimum: int | None = None) -> int:
    """Rewrite the layers below ``top`` (in place), each group of at least ``minimum`` items
    (:data:`MINIMUM`) that compute one expression for different columns of one source type
    (``types``: each column number's) becoming one array item. Returns how many arrays it made.

    The type is part of the group: an array holds one type, and columns of different types
    (a DataFrame's Int64 and DateTime64 columns, whose checks read alike) would make it a
    Variant, or fail where the engine has no common type for them."""
    minimum = MINIMUM if minimum is None else minimum
    layers = _layers(top)
    arrays: dict[tuple[str, tuple[int, ...]], str] = {}  # (name with #, columns) -> array's name
    made = 0
    for n, q in enumerate(layers):
        # a source column read under a column's own name in this layer ("c5" AS __bv_r5)
        sources: dict[str, tuple[int, str]] = {}
        for e in q.expressions:
            if isinstance(e, exp.Alias) and isinstance(e.this, exp.Column) and (own := _own(e.alias)):
                sources[e.this.name] = own
        groups: dict[tuple[str, str | None, object], list[tuple[int, exp.Alias, dict[str, str]]]] = {}
        kept: list[exp.Expression] = []
        for e in q.expressions:
            item = _generic(e, sources) if isinstance(e, exp.Alias) else None
            if item is None:
                kept.append(e)
                continue
            i, name, shape, refs = item
            groups.setdefault((name, types.get(i), shape), []).append((i, e, refs))
        unpacked: list[exp.Expression] = []
        for (name, _, _), members in groups.items():
            if len(members) < minimum:
                kept += [e for _, e, _ in members]
                continue
            columns = tuple(i for i, _, _ in members)
            first, refs = members[0][1], members[0][2]
            generic = sorted(refs)
            params = {refs[g]: f"__bv_x_{k}" for k, g in enumerate(generic)}
            body = first.this.copy()
            for x in list(body.find_all(exp.Column)):
                x.replace(exp.column(params[x.name]))
            args: list[exp.Expression] = []
            for g in generic:
                have = arrays.get((g, columns))
                args.append(c.col(have) if have else exp.Array(expressions=[c.col(r[g]) for _, _, r in members]))
            array = f"{ARRAY_PREFIX}{made}"
            made += 1
            arrays[(name, columns)] = array
            kept.append(exp.alias_(c.fn("arrayMap", exp.Lambda(this=body, expressions=[
                exp.to_identifier(params[refs[g]]) for g in generic]), *args), array, quoted=True, copy=False))
            unpacked += [exp.alias_(c.fn("arrayElement", c.col(array), c.lit(k + 1)), e.alias, quoted=True, copy=False)
                         for k, (_, e, _) in enumerate(members)]
        if not unpacked:
            continue
        q.set("expressions", kept)
        above = layers[n + 1] if n + 1 < len(layers) else top
        below = above.args["from_"].this
        alias = below.alias
        unpack = exp.select(exp.Star(), *unpacked, copy=False).from_(
            exp.Subquery(this=q, alias=exp.TableAlias(this=exp.to_identifier(f"{alias}_arrays"))), copy=False)
        above.args["from_"].set("this", unpack.subquery(alias, copy=False))
    return made


def _generic(item: exp.Alias, sources: dict[str, tuple[int, str]]
             ) -> tuple[int, str, object, dict[str, str]] | None:
    """An item that belongs to one column and reads only that column's names: its column, its
    name with ``#`` for the number, the shape of its expression (the same for two columns
    whose SQL differs only in the number), and each generic name read -> the real one. None
    for anything else (a row-level item, or one that reads several columns)."""
    own = _own(item.alias)
    if own is None or isinstance(item.this, exp.Column) and item.this.name in sources:
        return None
    found = _form(item.this, own[0], sources)
    return (own[0], own[1], *found) if found else None


def _form(e: exp.Expression, i: int, sources: dict[str, tuple[int, str]] | None = None
          ) -> tuple[object, dict[str, str]] | None:
    """The shape of ``e`` with column ``i``'s names made generic, and each generic name read ->
    the real one; None where ``e`` reads another column's name, or none of its own."""
    refs: dict[str, str] = {}

    def shape(node: object) -> object:
        if isinstance(node, exp.Column):
            read = _own(node.name) or (sources or {}).get(node.name)
            if read is None or read[0] != i or node.table:
                raise LookupError
            refs[read[1]] = node.name
            return read[1]
        if isinstance(node, exp.Expression):
            return (type(node).__name__, *[(k, shape(v)) for k, v in node.args.items() if v is not None])
        if isinstance(node, list):
            return tuple(shape(v) for v in node)
        return node

    try:
        form = shape(e)
    except LookupError:
        return None
    return (form, refs) if refs else None


# a count's name: column number, then what it counts (infer.stat_alias)
_COUNT = re.compile(r"^c(\d+)_(\w+)$")


def gather(counts: list[exp.Expression], minimum: int | None = None) -> tuple[list[exp.Expression], dict[str, list[str]]]:
    """The per-row counts of a load's stats view (``countIf(<condition>) AS c<i>_<what>``), each
    group of at least ``minimum`` (:data:`MINIMUM`) that counts one condition for different
    columns made one ``countIfForEach`` over an array of their conditions, named ``g<k>``:
    analysed once where each count was analysed for itself (the view's query is analysed
    again for every block). Returns the counts, and each array's count names in order (sum
    arrays with ``sumForEach``)."""
    minimum = MINIMUM if minimum is None else minimum
    groups: dict[tuple[str, object], list[tuple[exp.Expression, exp.Expression]]] = {}
    out: list[exp.Expression] = []
    for x in counts:
        m = _COUNT.match(str(x.alias)) if isinstance(x, exp.Alias) else None
        agg = x.this if m else None
        found = _form(agg.expressions[0], int(m.group(1))) if isinstance(agg, exp.Anonymous) and \
            agg.name == "countIf" and len(agg.expressions) == 1 else None
        if found is None:
            out.append(x)
            continue
        groups.setdefault((m.group(2), found[0]), []).append((x, agg.expressions[0]))
    names: dict[str, list[str]] = {}
    for members in groups.values():
        if len(members) < minimum:
            out += [x for x, _ in members]
            continue
        alias = f"g{len(names)}"
        names[alias] = [str(x.alias) for x, _ in members]
        out.append(c.fn("countIfForEach", exp.Array(expressions=[cond for _, cond in members])).as_(alias, copy=False))
    return out, names
