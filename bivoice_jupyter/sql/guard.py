"""The SQL guard: an ordered tuple of pure rules over the sqlglot tree, failing closed.

``guard(sql, policy)`` parses the text with sqlglot's ClickHouse dialect, runs every rule in
``RULES`` in order, and returns a :class:`GuardedSQL` holding SQL *regenerated from the checked
tree* (never the text as given, so comments, escapes and lexer quirks cannot smuggle anything
past the check). Any rule may refuse with :class:`GuardRejected`; any parse error, unknown node
or unknown function is a refusal too. The executor accepts nothing but a ``GuardedSQL``, and
only this module can make one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from ..errors import GuardRejected
from .functions import function_allowed

DIALECT = "clickhouse"
MAX_SQL_CHARS = 100_000
MAX_NODES = 20_000
SYSTEM_DATABASES = frozenset({"system", "information_schema"})

_SEAL = object()  # proof that a GuardedSQL came from this module


@dataclass(frozen=True)
class GuardedSQL:
    """SQL that passed every rule. ``sql`` is what runs; ``source`` what was given.

    ``tables`` are the fully qualified tables it reads; ``limit_added`` tells whether the guard
    added the LIMIT (``limit`` rows).
    """

    sql: str
    source: str
    tables: tuple[str, ...]
    limit: int | None
    limit_added: bool
    _seal: object = field(repr=False, compare=False)

    def __post_init__(self) -> None:
        if self._seal is not _SEAL:
            raise TypeError("GuardedSQL is created only by bivoice_jupyter.sql.guard.guard()")

    def __str__(self) -> str:
        return self.sql


def is_guarded(query: object) -> bool:
    """True only for a GuardedSQL made by :func:`guard`."""
    return isinstance(query, GuardedSQL) and query._seal is _SEAL


@dataclass(frozen=True)
class Policy:
    """What a query may touch: ``databases`` it may read, the ``default`` one for unqualified
    names, and the LIMIT (rows) added to a query without one."""

    default: str
    databases: frozenset[str]
    limit: int = 1000


@dataclass(frozen=True)
class Context:
    """What flows through the rules: the source text, the policy, the statements or tree."""

    source: str
    policy: Policy
    statements: tuple[exp.Expression, ...] = ()
    tables: tuple[str, ...] = ()
    limit: int | None = None
    limit_added: bool = False

    @property
    def tree(self) -> exp.Expression:
        return self.statements[0]


Rule = Callable[[Context], Context]


def _reject(ctx: Context, rule: str, message: str, fragment: exp.Expression | str = "", hint: str = "") -> GuardRejected:
    frag = fragment if isinstance(fragment, str) else fragment.sql(DIALECT)
    return GuardRejected(rule, message, sql=ctx.source, fragment=frag[:200], hint=hint or None)


# ---------------------------------------------------------------- the rules, in order


def parse(ctx: Context) -> Context:
    """Bounded parse; any error or empty input is a refusal (fail closed)."""
    text = ctx.source
    if not text or not text.strip():
        raise _reject(ctx, "empty", "The query is empty.", hint="write one SELECT statement")
    if len(text) > MAX_SQL_CHARS:
        raise _reject(
            ctx, "too_long", f"The query has {len(text):,} characters; at most {MAX_SQL_CHARS:,} are accepted."
        )
    if "\x00" in text:
        raise _reject(ctx, "parse_error", "The query contains a NUL byte.")
    try:
        statements = tuple(s for s in sqlglot.parse(text, read=DIALECT) if s is not None)
    except (SqlglotError, RecursionError, ValueError, TypeError, KeyError, IndexError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise _reject(
            ctx, "parse_error", f"The query could not be parsed: {first}", hint="write one plain SELECT statement"
        ) from None
    if not statements:
        raise _reject(ctx, "empty", "The query has no statement.", hint="write one SELECT statement")
    return replace(ctx, statements=statements)


def single_statement(ctx: Context) -> Context:
    """Exactly one statement: a second one is refused before anything runs."""
    if len(ctx.statements) != 1:
        raise _reject(
            ctx,
            "multiple_statements",
            f"The text holds {len(ctx.statements)} statements; exactly one is allowed.",
            ctx.statements[1],
            hint="send one SELECT at a time",
        )
    return ctx


def select_only(ctx: Context) -> Context:
    """The statement is a SELECT, a WITH ... SELECT, or a UNION/INTERSECT/EXCEPT of them."""
    tree = ctx.tree
    if not isinstance(tree, (exp.Select, exp.SetOperation)):
        kind = tree.key.upper() if not isinstance(tree, exp.Command) else str(tree.this).upper()
        raise _reject(
            ctx,
            "not_select",
            f"Only SELECT queries are allowed; this is {kind}.",
            tree.sql(DIALECT)[:60],
            hint="the workspace is read-only: load data with %etl / Workspace.load",
        )
    return ctx


def bounded_size(ctx: Context) -> Context:
    """A tree of more than MAX_NODES nodes is refused (the guard must not be the bomb)."""
    count = 0
    for _ in ctx.tree.walk():
        count += 1
        if count > MAX_NODES:
            raise _reject(ctx, "too_complex", f"The query has more than {MAX_NODES:,} parts.")
    return ctx


_ALLOWED_NODES: tuple[type[exp.Expression], ...] = (
    exp.Select, exp.Union, exp.Intersect, exp.Except, exp.Subquery, exp.With, exp.CTE,
    exp.TableAlias, exp.From, exp.Join, exp.Where, exp.Group, exp.Having, exp.Order, exp.Ordered,
    exp.Limit, exp.Offset, exp.Table, exp.Column, exp.Identifier, exp.Star, exp.Alias,
    exp.Literal, exp.Null, exp.Boolean, exp.Paren, exp.Tuple, exp.Array, exp.Distinct,
    exp.Window, exp.WindowSpec, exp.Final, exp.TableSample, exp.Interval, exp.Var, exp.DataType,
    exp.DataTypeParam, exp.Cast, exp.TryCast, exp.Case, exp.If, exp.Bracket, exp.Lambda,
    exp.WithFill, exp.Rollup, exp.Cube, exp.GroupingSets, exp.Dot,
    exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.And, exp.Or, exp.Not, exp.Xor,
    exp.Add, exp.Sub, exp.Mul, exp.Div, exp.IntDiv, exp.Mod, exp.Neg, exp.DPipe, exp.Like,
    exp.ILike, exp.In, exp.Between, exp.Is, exp.NullSafeEQ, exp.NullSafeNEQ,
    exp.BitwiseAnd, exp.BitwiseOr, exp.BitwiseXor, exp.BitwiseNot,
    exp.Func,  # every function is then checked by name in `functions_allowlisted`
)
# Nodes above that sqlglot models as functions but that are syntax (CAST, AND, CASE, [..]):
# exact types, so a function class derived from one of them is still checked by name.
_SYNTAX_FUNCS = frozenset(n for n in _ALLOWED_NODES if n is not exp.Func and issubclass(n, exp.Func))
_NODE_HINT = "use plain SELECT syntax: columns, functions, joins, subqueries, GROUP BY, ORDER BY"


def known_nodes(ctx: Context) -> Context:
    """Every node is of an allowed kind; anything sqlglot knows but we did not vet is refused."""
    for node in ctx.tree.walk():
        if not isinstance(node, _ALLOWED_NODES):
            raise _reject(ctx, "unknown_node", f"{type(node).__name__} is not allowed here.", node, _NODE_HINT)
        if isinstance(node, exp.Select) and node.args.get("into"):
            raise _reject(ctx, "into_clause", "SELECT ... INTO is not allowed.", node.args["into"])
    return ctx


def no_settings_or_format(ctx: Context) -> Context:
    """No SETTINGS, FORMAT or INTO OUTFILE clause: the limits are ours to set, not the query's."""
    for node in ctx.tree.walk():
        if not isinstance(node, (exp.Query)):
            continue
        if node.args.get("settings"):
            raise _reject(
                ctx, "settings_clause", "A SETTINGS clause is not allowed.", node.args["settings"][0],
                hint="limits are set by the workspace (Workspace(max_execution_time=...))",
            )
        if node.args.get("format"):
            raise _reject(
                ctx, "format_clause", "A FORMAT clause is not allowed.", node.args["format"],
                hint="results come back as a DataFrame; export it with pandas",
            )
    return ctx


def _function_name(node: exp.Func) -> tuple[str, bool]:
    if isinstance(node, (exp.Anonymous, exp.AnonymousAggFunc, exp.ParameterizedAgg, exp.CombinedAggFunc,
                         exp.CombinedParameterizedAgg)):
        return node.name, True
    return node.key, False


def functions_allowlisted(ctx: Context) -> Context:
    """Every function is on the allowlist (``sql/functions.py``); table functions are refused."""
    for node in ctx.tree.walk():
        if isinstance(node, exp.Table) and not isinstance(node.this, exp.Identifier):
            raise _reject(
                ctx, "table_function", "Table functions are not allowed.", node,
                hint="read tables of the workspace by name",
            )
        if isinstance(node, exp.Func) and type(node) not in _SYNTAX_FUNCS:
            name, anonymous = _function_name(node)
            if not function_allowed(name, anonymous=anonymous):
                raise _reject(
                    ctx, "function_not_allowed", f"The function {name}() is not allowed.", node,
                    hint="allowed are analytic, date, string, array and math functions on workspace tables",
                )
    return ctx


def _cte_names(tree: exp.Expression) -> set[str]:
    return {cte.alias_or_name for cte in tree.find_all(exp.CTE)}


def tables_in_workspace(ctx: Context) -> Context:
    """Every table resolves to a workspace database; unqualified names to the default one.

    Names are rewritten fully qualified (``db.table``) so ClickHouse cannot resolve them
    elsewhere. An unqualified name that is a CTE of the query stays a CTE reference.
    """
    policy = ctx.policy
    tree = ctx.tree.copy()
    ctes = _cte_names(tree)
    seen: list[str] = []
    for table in list(tree.find_all(exp.Table)):
        if table.args.get("catalog"):
            raise _reject(ctx, "foreign_database", "Three-part names (catalog.db.table) are not allowed.", table)
        name = table.name
        db = table.text("db")
        if not db and name in ctes:
            continue
        if not name:
            raise _reject(ctx, "table_function", "This table reference is not a plain name.", table)
        db = db or policy.default
        if db.lower() in SYSTEM_DATABASES:
            raise _reject(
                ctx, "system_tables", f"Database {db} is not readable from a workspace.", table,
                hint="ask about the workspace's tables: Workspace.tables() lists them",
            )
        if db not in policy.databases:
            allowed = ", ".join(sorted(policy.databases))
            raise _reject(
                ctx, "foreign_database", f"Database {db} is outside this workspace.", table,
                hint=f"this workspace reads {allowed}; open a Workspace with databases=[...] to add one",
            )
        table.set("db", exp.to_identifier(db, quoted=True))
        table.set("this", exp.to_identifier(name, quoted=True))
        seen.append(f"{db}.{name}")
    return replace(ctx, statements=(tree,), tables=tuple(dict.fromkeys(seen)))


def add_limit(ctx: Context) -> Context:
    """A query without a LIMIT gets the policy's; a UNION is wrapped so the LIMIT covers it all."""
    tree = ctx.tree
    limit = tree.args.get("limit")
    if limit is not None and not limit.args.get("expressions"):  # LIMIT n BY ... is no row cap
        try:
            return replace(ctx, limit=int(limit.expression.this))
        except (AttributeError, TypeError, ValueError):
            return replace(ctx, limit=None)
    n = ctx.policy.limit
    if isinstance(tree, exp.Select):
        tree = tree.copy().limit(n)
    else:
        tree = exp.select("*").from_(tree.subquery("_bivoice_union")).limit(n)
    return replace(ctx, statements=(tree,), limit=n, limit_added=True)


RULES: tuple[Rule, ...] = (
    parse,
    single_statement,
    select_only,
    bounded_size,
    known_nodes,
    no_settings_or_format,
    functions_allowlisted,
    tables_in_workspace,
    add_limit,
)


def guard(sql: str, policy: Policy) -> GuardedSQL:
    """Check ``sql`` against ``policy``; return a GuardedSQL or raise GuardRejected."""
    if not isinstance(sql, str):
        raise GuardRejected("parse_error", f"SQL must be text, not {type(sql).__name__}.", sql=repr(sql)[:200])
    ctx = Context(source=sql, policy=policy)
    for rule in RULES:
        ctx = rule(ctx)
    return GuardedSQL(
        sql=ctx.tree.sql(DIALECT),
        source=sql,
        tables=ctx.tables,
        limit=ctx.limit,
        limit_added=ctx.limit_added,
        _seal=_SEAL,
    )
