"""The SQL guard: an ordered tuple of pure rules over the sqlglot tree, failing closed.

``guard(sql, policy)`` parses the text with sqlglot's ClickHouse dialect, runs every rule in
``RULES`` in order, and returns a :class:`GuardedSQL` holding SQL *regenerated from the checked
tree* (never the text as given, so comments, escapes and lexer quirks cannot smuggle anything
past the check). The last rule checks that regenerated SQL again with every other rule, so the
checks hold for the SQL that runs, not only for sqlglot's reading of the text given. Any rule
may refuse with :class:`GuardRejected`; any parse error, unknown node or unknown function is a
refusal too, and so is a query too big or too deep to check. The executor accepts nothing but a
``GuardedSQL``, and only this module can make one.

Behaviour lives in ``tests/fixtures/guard/{allow,deny,rewrite}.sql``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ErrorLevel
from sqlglot.tokens import Token, TokenType

from ..errors import GuardRejected
from .functions import function_allowed

DIALECT = "clickhouse"
MAX_SQL_CHARS = 100_000
MAX_TOKENS = 20_000
MAX_NODES = 20_000
# sqlglot parses recursively, about 25 Python frames per level of brackets: 24 levels still parse
# from a caller 200 frames deep (a notebook cell's stack is deeper than a test's). Trees that
# sqlglot copies or writes recursively (x::T::T::...) end in a RecursionError: refused too.
MAX_NESTING = 24
SYSTEM_DATABASES = frozenset({"system", "information_schema"})


class _Seal:
    """Proof that a GuardedSQL came from this module: one instance, kept by copy and deepcopy."""

    def __copy__(self) -> _Seal:
        return self

    def __deepcopy__(self, memo: dict) -> _Seal:
        return self


_SEAL = _Seal()


def _make_seal(
    sql: str, source: str, tables: tuple[str, ...], limit: int | None, limit_added: bool
) -> tuple[object, ...]:
    # The seal carries the fields it vouches for, so dataclasses.replace() (which re-runs
    # __init__ with the old seal) or object.__setattr__ cannot pass other SQL off as guarded.
    return (_SEAL, sql, source, tables, limit, limit_added)


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
        if not _sealed(self):
            raise TypeError("GuardedSQL is created only by bivoice_jupyter.sql.guard.guard()")

    def __str__(self) -> str:
        return self.sql


def _sealed(query: GuardedSQL) -> bool:
    seal = query._seal
    return (
        type(seal) is tuple
        and len(seal) == 6
        and seal[0] is _SEAL
        and seal[1:] == (query.sql, query.source, query.tables, query.limit, query.limit_added)
    )


def is_guarded(query: object) -> bool:
    """True only for a GuardedSQL made by :func:`guard`, unaltered since."""
    return isinstance(query, GuardedSQL) and _sealed(query)


@dataclass(frozen=True)
class Policy:
    """What a query may touch: ``databases`` it may read, the ``default`` one for unqualified
    names, and the LIMIT (rows) added to a query without one."""

    default: str
    databases: frozenset[str]
    limit: int = 1000


@dataclass(frozen=True)
class Context:
    """What flows through the rules: the source text, the policy, the tokens, the statements or
    tree, and at the end the SQL to run."""

    source: str
    policy: Policy
    tokens: tuple[Token, ...] = ()
    statements: tuple[exp.Expression, ...] = ()
    tables: tuple[str, ...] = ()
    limit: int | None = None
    limit_added: bool = False
    sql: str = ""

    @property
    def tree(self) -> exp.Expression:
        return self.statements[0]


Rule = Callable[[Context], Context]

_DIALECT = Dialect.get_or_raise(DIALECT)


def _reject(ctx: Context, rule: str, message: str, fragment: exp.Expression | str = "", hint: str = "") -> GuardRejected:
    if isinstance(fragment, str):
        frag = fragment
    else:
        try:
            frag = fragment.sql(DIALECT, comments=False)
        except Exception:  # the fragment only illustrates the refusal; never fail on it
            frag = ""
    return GuardRejected(rule, message, sql=ctx.source, fragment=frag[:200], hint=hint or None)


# ---------------------------------------------------------------- the rules, in order

_OPENERS = frozenset({TokenType.L_PAREN, TokenType.L_BRACKET, TokenType.L_BRACE})
_CLOSERS = frozenset({TokenType.R_PAREN, TokenType.R_BRACKET, TokenType.R_BRACE})


def _first_line(exc: BaseException) -> str:
    text = str(exc)
    return text.splitlines()[0] if text else type(exc).__name__


def tokenize(ctx: Context) -> Context:
    """Bounded input: empty, too long, NUL bytes, too many tokens or brackets nested too deep are
    refused before the (recursive) parser sees the text."""
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
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: ClickHouse could not be sent this text at all
        raise _reject(ctx, "parse_error", "The query is not valid Unicode text.") from None
    try:
        tokens = tuple(_DIALECT.tokenize(text))
    except Exception as exc:  # fail closed: whatever the tokenizer trips on is a refusal
        raise _reject(ctx, "parse_error", f"The query could not be read: {_first_line(exc)}",
                      hint="write one plain SELECT statement") from None
    if not tokens:
        raise _reject(ctx, "empty", "The query has no statement.", hint="write one SELECT statement")
    if len(tokens) > MAX_TOKENS:
        raise _reject(
            ctx, "too_complex", f"The query has {len(tokens):,} tokens; at most {MAX_TOKENS:,} are accepted."
        )
    depth = deepest = chain = 0
    previous = None
    for token in tokens:
        kind = token.token_type
        if kind in _OPENERS:
            depth += 1
            deepest = max(deepest, depth)
        elif kind in _CLOSERS:
            depth -= 1
        if kind is TokenType.L_BRACKET:  # x[1][2]...: sqlglot parses a chain of subscripts recursively too
            chain = chain + 1 if previous is TokenType.R_BRACKET else 1
            deepest = max(deepest, chain)
        previous = kind
    if deepest > MAX_NESTING:
        raise _reject(
            ctx, "too_complex", f"Brackets are nested {deepest} deep; at most {MAX_NESTING} levels are accepted.",
            hint="name intermediate results in a WITH clause",
        )
    return replace(ctx, tokens=tokens)


def parse(ctx: Context) -> Context:
    """Any parse error is a refusal (fail closed), and so is a SELECT without columns."""
    try:
        parsed = _DIALECT.parser().parse(list(ctx.tokens), ctx.source)
    except Exception as exc:  # ParseError, and RecursionError or worse from sqlglot on odd input
        raise _reject(
            ctx, "parse_error", f"The query could not be parsed: {_first_line(exc)}",
            hint="write one plain SELECT statement",
        ) from None
    statements = tuple(s for s in parsed if s is not None)
    if not statements:
        raise _reject(ctx, "empty", "The query has no statement.", hint="write one SELECT statement")
    for statement in statements:
        for select in statement.find_all(exp.Select):
            if not select.expressions:  # `SELECT --x` is SELECT and a comment
                raise _reject(ctx, "parse_error", "A SELECT lists no columns.", select,
                              hint="write one plain SELECT statement")
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
            tree.sql(DIALECT, comments=False)[:60],
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
    exp.WithFill, exp.Rollup, exp.Cube, exp.GroupingSets, exp.Dot, exp.PreWhere,
    exp.JSONPath, exp.JSONPathRoot, exp.JSONPathKey, exp.JSONPathSubscript,  # JSONExtract*(s, 'key', 1)
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
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")  # what a Var (a unit, a keyword) may hold


def known_nodes(ctx: Context) -> Context:
    """Every node is of an allowed kind; anything sqlglot knows but we did not vet is refused.

    What a FROM or JOIN reads must be a table or a subquery: inside ARRAY JOIN (SELECT ...)
    sqlglot parses ``FROM system.tables`` as a *column*, which the table rule would not see.
    """
    for node in ctx.tree.walk():
        if not isinstance(node, _ALLOWED_NODES):
            raise _reject(ctx, "unknown_node", f"{type(node).__name__} is not allowed here.", node, _NODE_HINT)
        if isinstance(node, (exp.From, exp.Join)) and not isinstance(node.this, (exp.Table, exp.Subquery)):
            if not (isinstance(node, exp.Join) and node.kind == "ARRAY"):  # ARRAY JOIN reads an expression
                raise _reject(
                    ctx, "unknown_node", f"A {type(node.this).__name__} is not allowed as a table here.",
                    node, hint="read a table by its name, or a subquery; move subqueries out of ARRAY JOIN",
                )
        if isinstance(node, exp.Select) and node.args.get("into"):
            raise _reject(ctx, "into_clause", "SELECT ... INTO is not allowed.", node.args["into"])
        if isinstance(node, exp.Var) and not _WORD.fullmatch(node.name):
            # sqlglot writes a Var as it is: dateDiff('day) FROM x --', a, b) would become SQL
            raise _reject(
                ctx, "unknown_node", f"{node.name[:40]!r} is not a plain unit or keyword.", hint=_NODE_HINT
            )
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


def _cte_in_scope(node: exp.Expression, name: str) -> bool:
    """Whether ClickHouse reads the unqualified ``name`` at ``node`` as a CTE of the query.

    Only a WITH of an enclosing query counts (not one inside a sibling subquery), only a table
    CTE (``WITH name AS (SELECT ...)``, not ``WITH expr AS name``), and not from inside that CTE's
    own body unless the WITH is RECURSIVE: there ClickHouse reads the *table* of that name. When
    unsure the answer is no, and the name is then qualified with a workspace database.
    """
    inside: list[exp.CTE] = []
    parent = node.parent
    while parent is not None:
        if isinstance(parent, exp.CTE):
            inside.append(parent)
        with_ = parent.args.get("with_") if isinstance(parent, exp.Query) else None
        if isinstance(with_, exp.With):
            for cte in with_.expressions:
                if cte.alias_or_name != name or cte.args.get("scalar"):
                    continue
                if any(cte is own for own in inside) and not with_.args.get("recursive"):
                    return False  # its own body: ClickHouse reads the table of that name
                return True
        parent = parent.parent
    return False


def _in_target(node: exp.In) -> exp.Expression | None:
    """The name on the right of ``x IN name``, ``x IN (name)`` or ``x IN db.name``, if it is one:
    ClickHouse reads such a name as a table (when no column of that name is in scope)."""
    target = node.args.get("field")
    if target is None:
        if node.args.get("query") is not None or len(node.expressions) != 1:
            return None
        target = node.expressions[0]
    while isinstance(target, (exp.Paren, exp.Alias)):
        target = target.this
    return target if isinstance(target, (exp.Column, exp.Dot, exp.Identifier)) else None


def _check_database(ctx: Context, db: str, node: exp.Expression) -> None:
    policy = ctx.policy
    if db.lower() in SYSTEM_DATABASES:
        raise _reject(
            ctx, "system_tables", f"Database {db} is not readable from a workspace.", node,
            hint="ask about the workspace's tables: Workspace.tables() lists them",
        )
    if db not in policy.databases:
        allowed = ", ".join(sorted(policy.databases))
        raise _reject(
            ctx, "foreign_database", f"Database {db} is outside this workspace.", node,
            hint=f"this workspace reads {allowed}; open a Workspace with databases=[...] to add one",
        )


def tables_in_workspace(ctx: Context) -> Context:
    """Every table resolves to a workspace database; unqualified names to the default one.

    Names are rewritten fully qualified (``db.table``) so ClickHouse cannot resolve them
    elsewhere. An unqualified name that is a CTE in scope stays a CTE reference. A name on the
    right of IN is a table to ClickHouse too: it must name a workspace database or a CTE.
    """
    policy = ctx.policy
    tree = ctx.tree.copy()
    for node in tree.find_all(exp.In):
        target = _in_target(node)
        if target is None:
            continue
        parts = [p.name for p in target.parts] if isinstance(target, (exp.Column, exp.Dot)) else [target.name]
        if len(parts) > 2:
            raise _reject(ctx, "foreign_database", "Three-part names are not allowed after IN.", target)
        if len(parts) == 2:
            _check_database(ctx, parts[0], target)
        elif not _cte_in_scope(node, parts[0]):
            raise _reject(
                ctx, "foreign_database",
                f"IN {parts[0]} may read a table of that name from outside this workspace.", node,
                hint="write IN (SELECT column FROM table), or compare columns with =",
            )
    seen: list[str] = []
    for table in list(tree.find_all(exp.Table)):
        if table.args.get("catalog"):
            raise _reject(ctx, "foreign_database", "Three-part names (catalog.db.table) are not allowed.", table)
        name = table.name
        db = table.text("db")
        if not db and table.args.get("db") is not None:
            raise _reject(ctx, "foreign_database", "The database name is empty.", table)
        if not db and _cte_in_scope(table, name):
            continue
        if not name:
            raise _reject(ctx, "table_function", "This table reference is not a plain name.", table)
        db = db or policy.default
        _check_database(ctx, db, table)
        table.set("db", exp.to_identifier(db, quoted=True))
        table.set("this", exp.to_identifier(name, quoted=True))
        seen.append(f"{db}.{name}")
    return replace(ctx, statements=(tree,), tables=tuple(dict.fromkeys(seen)))


def add_limit(ctx: Context) -> Context:
    """A query without a LIMIT gets the policy's. A UNION is wrapped so the LIMIT covers it all,
    and so is a query with only LIMIT n BY (sqlglot holds one LIMIT per SELECT)."""
    tree = ctx.tree
    limit = tree.args.get("limit")
    if limit is not None and not limit.args.get("expressions"):
        try:
            return replace(ctx, limit=int(limit.expression.this))
        except (AttributeError, TypeError, ValueError):
            return replace(ctx, limit=None)
    n = ctx.policy.limit
    if isinstance(tree, exp.Select) and limit is None:
        tree = tree.copy().limit(n)
    else:
        alias = "_bivoice_union" if isinstance(tree, exp.SetOperation) else "_bivoice_limit"
        tree = exp.select("*").from_(tree.subquery(alias)).limit(n)
    return replace(ctx, statements=(tree,), limit=n, limit_added=True)


def _write(ctx: Context) -> str:
    try:
        return ctx.tree.sql(DIALECT, comments=False, unsupported_level=ErrorLevel.RAISE)
    except RecursionError:
        raise _reject(ctx, "too_complex", "The query is nested too deeply to check.") from None
    except Exception as exc:  # UnsupportedError, or a sqlglot generator bug on an odd tree
        raise _reject(ctx, "unknown_node", f"The query cannot be written back safely: {_first_line(exc)}",
                      hint=_NODE_HINT) from None


def render(ctx: Context) -> Context:
    """The SQL to run, written from the checked tree, without comments (ClickHouse nests
    ``/* */``), then checked again: what runs must pass every rule and write back to itself.

    The second pass is what makes the guard's checks hold for the SQL that runs, not only for
    sqlglot's reading of the SQL given: wherever the generator writes text as it is (a date
    unit, say), a mismatch between the two shows here, and the query is refused.
    """
    sql = _write(ctx)
    again = Context(source=sql, policy=ctx.policy)
    try:
        for check in CHECKS:
            again = check(again)
    except GuardRejected as exc:
        reason = exc.args[0].split("] ", 1)[-1]
        raise _reject(ctx, exc.rule, f"Written back, the query is refused: {reason}", exc.fragment,
                      hint=exc.hint or "") from None
    if _write(again) != sql:
        raise _reject(ctx, "unknown_node", "The query does not survive being written back unchanged.",
                      hint=_NODE_HINT)
    return replace(ctx, sql=sql)


CHECKS: tuple[Rule, ...] = (
    tokenize,
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
RULES: tuple[Rule, ...] = (*CHECKS, render)


def guard(sql: str, policy: Policy) -> GuardedSQL:
    """Check ``sql`` against ``policy``; return a GuardedSQL or raise GuardRejected."""
    if not isinstance(sql, str):
        raise GuardRejected("parse_error", f"SQL must be text, not {type(sql).__name__}.", sql=repr(sql)[:200])
    ctx = Context(source=sql, policy=policy)
    try:
        for rule in RULES:
            ctx = rule(ctx)
    except RecursionError:  # a rule recursed past Python's limit: refuse, never crash
        raise _reject(ctx, "too_complex", "The query is nested too deeply to check.") from None
    seal = _make_seal(ctx.sql, sql, ctx.tables, ctx.limit, ctx.limit_added)
    return GuardedSQL(
        sql=ctx.sql,
        source=sql,
        tables=ctx.tables,
        limit=ctx.limit,
        limit_added=ctx.limit_added,
        _seal=seal,
    )
