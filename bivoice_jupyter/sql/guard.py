"""The SQL guard: an ordered tuple of pure rules over the sqlglot tree, failing closed.

``guard(sql, policy)`` parses the text with sqlglot's ClickHouse dialect, runs every rule in
``RULES`` in order, and returns a :class:`GuardedSQL` holding SQL *regenerated from the checked
tree* (never the text as given, so comments, escapes and lexer quirks cannot smuggle anything
past the check). The last rule checks that regenerated SQL again with every other rule, so the
checks hold for the SQL that runs, not only for sqlglot's reading of the text given. Any rule
may refuse with :class:`GuardRejected`; any parse error, unknown node or unknown function is a
refusal too, and so is a query too big or too deep to check. The executor accepts nothing but a
``GuardedSQL``, and only this module can make one.

Every refusal names the rule (``GuardRejected.rule``), quotes the offending part of the query
(``.fragment``, also in the message) and says in its hint what would be allowed instead: the LLM
planner feeds all three back for repair.

The rules decide purely, but they do not copy the tree: a tree belongs to one run of the guard,
``tables_in_workspace`` and ``add_limit`` rewrite it in place, and no earlier Context is read
again. (Copying it at each step took a quarter of the guard's time.)

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
from .functions import function_allowed, refusal_reason

DIALECT = "clickhouse"
# No query a person or an LLM writes comes near 20,000 characters (some 300 lines). Up to that
# size the slowest shapes we know are checked in a fraction of a second; at 100,000 characters
# sqlglot alone took 1 to 3 s. Longer text is refused before it is read.
MAX_SQL_CHARS = 20_000
MAX_TOKENS = 10_000
MAX_NODES = 10_000
# sqlglot parses recursively, about 25 Python frames per level of brackets: 24 levels still parse
# from a caller 200 frames deep (a notebook cell's stack is deeper than a test's). Trees that
# sqlglot copies or writes recursively (x::T::T::...) end in a RecursionError: refused too.
MAX_NESTING = 24
# The SQL the guard writes is checked again (``render``). Qualified names, a LIMIT and the
# subquery around a UNION make it longer and one level deeper than the text given, so the second
# pass allows this much more; the first pass has already bounded the work.
RECHECK_GROWTH = 4
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
    tree, every node of the tree (walked once, breadth first), and at the end the SQL to run."""

    source: str
    policy: Policy
    tokens: tuple[Token, ...] = ()
    statements: tuple[exp.Expression, ...] = ()
    nodes: tuple[exp.Expression, ...] = ()
    tables: tuple[str, ...] = ()
    limit: int | None = None
    limit_added: bool = False
    sql: str = ""
    recheck: bool = False  # the second pass, over the SQL the guard wrote (see RECHECK_GROWTH)

    @property
    def tree(self) -> exp.Expression:
        return self.statements[0]


Rule = Callable[[Context], Context]

_DIALECT = Dialect.get_or_raise(DIALECT)

# What each rule allows instead: the hint of its refusals, unless a refusal says more.
HINTS = {
    "empty": "write one SELECT statement",
    "too_long": f"keep a query under {MAX_SQL_CHARS:,} characters: name intermediate results in a WITH "
    "clause, or filter with IN (SELECT ...) instead of a long list",
    "parse_error": "write one plain ClickHouse SELECT statement",
    "too_complex": "name intermediate results in a WITH clause instead of nesting them",
    "multiple_statements": "send one SELECT at a time, with nothing after its ';'",
    "not_select": "only reads are allowed: SELECT, WITH ... SELECT, UNION of SELECTs; the workspace is "
    "read-only, load data with %etl / Workspace.load",
    "unknown_node": "use plain SELECT syntax: columns, functions, joins, subqueries, GROUP BY, ORDER BY",
    "into_clause": "results come back as a DataFrame; save them with pandas (df.to_csv, df.to_parquet)",
    "settings_clause": "limits are set by the workspace: Workspace(max_execution_time=..., max_rows_to_read=...)",
    "format_clause": "results come back as a DataFrame; export them with pandas",
    "table_function": "read the workspace's tables by name (FROM table or FROM database.table); unroll "
    "an array column with arrayJoin(column) or ARRAY JOIN",
    "function_not_allowed": "allowed are aggregate, window, date, string, array, JSON, math, conditional and "
    "conversion functions over the workspace's tables; nothing that reads files, the network, other "
    "databases or the server, waits, or makes up rows",
    "foreign_database": "name only tables of this workspace's databases",
    "system_tables": "ask about the workspace's tables: Workspace.tables() and Workspace.describe(table) list them",
}


def _fragment_text(fragment: exp.Expression | str) -> str:
    if isinstance(fragment, str):
        return fragment
    try:
        return fragment.sql(DIALECT, comments=False)
    except Exception:  # the fragment only illustrates the refusal; never fail on it
        return ""


def _refusal(source: str, rule: str, message: str, fragment: str = "", hint: str = "") -> GuardRejected:
    """A refusal: the rule, a message quoting the offending part, and what would be allowed."""
    fragment = " ".join(fragment.split())[:200]  # one line: it is quoted in messages and prompts
    shown = fragment if len(fragment) <= 80 else fragment[:77] + "..."
    if shown and shown not in message:
        message = f"{message} Offending part: {shown}"
    return GuardRejected(rule, message, sql=source, fragment=fragment, hint=hint or HINTS.get(rule) or None)


def _reject(ctx: Context, rule: str, message: str, fragment: exp.Expression | str = "", hint: str = "") -> GuardRejected:
    return _refusal(ctx.source, rule, message, _fragment_text(fragment), hint)


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
    growth = RECHECK_GROWTH if ctx.recheck else 1
    max_chars, max_tokens, max_nesting = MAX_SQL_CHARS * growth, MAX_TOKENS * growth, MAX_NESTING + ctx.recheck
    if not text or not text.strip():
        raise _reject(ctx, "empty", "The query is empty.")
    if len(text) > max_chars:
        raise _reject(ctx, "too_long", f"The query has {len(text):,} characters; at most {max_chars:,} are accepted.")
    if "\x00" in text:
        raise _reject(ctx, "parse_error", "The query contains a NUL byte.", hint="send the query as plain text")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: ClickHouse could not be sent this text at all
        raise _reject(ctx, "parse_error", "The query is not valid Unicode text.",
                      hint="send the query as plain text") from None
    try:
        tokens = tuple(_DIALECT.tokenize(text))
    except Exception as exc:  # fail closed: whatever the tokenizer trips on is a refusal
        raise _reject(ctx, "parse_error", f"The query could not be read: {_first_line(exc)}") from None
    if not tokens:
        raise _reject(ctx, "empty", "The query has no statement.")
    if len(tokens) > max_tokens:
        raise _reject(ctx, "too_complex", f"The query has {len(tokens):,} tokens; at most {max_tokens:,} are accepted.")
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
    if deepest > max_nesting:
        raise _reject(
            ctx, "too_complex", f"Brackets are nested {deepest} deep; at most {max_nesting} levels are accepted."
        )
    return replace(ctx, tokens=tokens)


def _parse_error_fragment(exc: Exception) -> str:
    """Where sqlglot stopped: the text just before the error and the token it tripped on."""
    errors = getattr(exc, "errors", None)
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
        return f"{first.get('start_context') or ''}{first.get('highlight') or ''}".strip()[-80:]
    return ""


def parse(ctx: Context) -> Context:
    """Any parse error is a refusal (fail closed)."""
    try:
        parsed = _DIALECT.parser().parse(list(ctx.tokens), ctx.source)
    except Exception as exc:  # ParseError, and RecursionError or worse from sqlglot on odd input
        raise _reject(
            ctx, "parse_error", f"The query could not be parsed: {_first_line(exc)}", _parse_error_fragment(exc)
        ) from None
    statements = tuple(s for s in parsed if s is not None)
    if not statements:
        raise _reject(ctx, "empty", "The query has no statement.")
    return replace(ctx, statements=statements)


def single_statement(ctx: Context) -> Context:
    """Exactly one statement: a second one is refused before anything runs."""
    if len(ctx.statements) != 1:
        raise _reject(
            ctx,
            "multiple_statements",
            f"The text holds {len(ctx.statements)} statements; exactly one is allowed.",
            next((h for h in map(_statement_head, ctx.statements[1:]) if h.strip()), ""),
        )
    return ctx


def _statement_head(tree: exp.Expression) -> str:
    try:
        return tree.sql(DIALECT, comments=False)[:60]
    except Exception:  # sqlglot cannot write every statement it reads; quote its kind then
        return str(tree.this)[:60] if isinstance(tree, exp.Command) else tree.key.upper()


def select_only(ctx: Context) -> Context:
    """The statement is a SELECT, a WITH ... SELECT, or a UNION/INTERSECT/EXCEPT of them."""
    tree = ctx.tree
    if not isinstance(tree, (exp.Select, exp.SetOperation)):
        kind = tree.key.upper() if not isinstance(tree, exp.Command) else str(tree.this).upper()
        raise _reject(ctx, "not_select", f"Only SELECT queries are allowed; this is {kind}.", _statement_head(tree))
    return ctx


def bounded_size(ctx: Context) -> Context:
    """A tree of more than MAX_NODES nodes is refused (the guard must not be the bomb). The walk
    is kept: the rules after this one read ``ctx.nodes`` instead of walking the tree again."""
    most = MAX_NODES * (RECHECK_GROWTH if ctx.recheck else 1)
    nodes = []
    for node in ctx.tree.walk():
        nodes.append(node)
        if len(nodes) > most:
            raise _reject(ctx, "too_complex", f"The query has more than {most:,} parts.")
    return replace(ctx, nodes=tuple(nodes))


_ALLOWED_NODES: tuple[type[exp.Expression], ...] = (
    exp.Select, exp.Union, exp.Intersect, exp.Except, exp.Subquery, exp.With, exp.CTE,
    exp.TableAlias, exp.From, exp.Join, exp.Where, exp.Group, exp.Having, exp.Order, exp.Ordered,
    exp.Limit, exp.Offset, exp.Table, exp.Column, exp.Identifier, exp.Star, exp.Alias,
    exp.Literal, exp.Null, exp.Boolean, exp.Paren, exp.Tuple, exp.Array, exp.Distinct,
    exp.Window, exp.WindowSpec, exp.Final, exp.TableSample, exp.Interval, exp.Var, exp.DataType,
    exp.DataTypeParam, exp.Cast, exp.TryCast, exp.Case, exp.If, exp.Bracket, exp.Lambda,
    exp.WithFill, exp.Rollup, exp.Cube, exp.GroupingSets, exp.Dot, exp.PreWhere, exp.Qualify,
    exp.LimitOptions,  # LIMIT n WITH TIES
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
_NODE_HINT = HINTS["unknown_node"]
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")  # what a Var (a unit, a keyword) may hold


def _unfinal(node: exp.Expression) -> exp.Expression:
    return node.this if isinstance(node, exp.Final) else node


def known_nodes(ctx: Context) -> Context:
    """Every node is of an allowed kind; anything sqlglot knows but we did not vet is refused.

    What a FROM or JOIN reads must be a table (``FINAL`` or not) or a subquery: inside ARRAY
    JOIN (SELECT ...) sqlglot parses ``FROM system.tables`` as a *column*, which the table rule
    would not see. A SELECT lists at least one column (``SELECT --x`` is SELECT and a comment).
    """
    for node in ctx.nodes:
        if not isinstance(node, _ALLOWED_NODES):
            raise _reject(ctx, "unknown_node", f"{type(node).__name__} is not allowed here.", node)
        if isinstance(node, (exp.From, exp.Join)) and not isinstance(_unfinal(node.this), (exp.Table, exp.Subquery)):
            if not (isinstance(node, exp.Join) and node.kind == "ARRAY"):  # ARRAY JOIN reads an expression
                raise _reject(
                    ctx, "unknown_node", f"A {type(node.this).__name__} is not allowed as a table here.",
                    node, hint="read a table by its name, or a subquery; move subqueries out of ARRAY JOIN",
                )
        if isinstance(node, exp.Select):
            if not node.expressions:
                raise _reject(ctx, "parse_error", "A SELECT lists no columns.", node)
            if node.args.get("sample"):  # FROM t FINAL SAMPLE k: sqlglot writes the SAMPLE after WHERE
                raise _reject(ctx, "unknown_node", "FINAL together with SAMPLE cannot be written back safely.",
                              node.args["sample"], hint="use FINAL or SAMPLE, not both in one SELECT")
            if node.args.get("into"):
                raise _reject(ctx, "into_clause", "SELECT ... INTO is not allowed.", node.args["into"])
        if isinstance(node, exp.Var) and not _WORD.fullmatch(node.name):
            # sqlglot writes a Var as it is: dateDiff('day) FROM x --', a, b) would become SQL
            raise _reject(ctx, "unknown_node", "A date unit or keyword is not one plain word.", node.name,
                          hint="write a date unit as one word: 'day', 'month', 'year'")
    return ctx


def no_settings_or_format(ctx: Context) -> Context:
    """No SETTINGS, FORMAT or INTO OUTFILE clause: the limits are ours to set, not the query's."""
    for node in ctx.nodes:
        if not isinstance(node, exp.Query):
            continue
        if node.args.get("settings"):
            raise _reject(ctx, "settings_clause", "A SETTINGS clause is not allowed.", node.args["settings"][0])
        if node.args.get("format"):
            raise _reject(ctx, "format_clause", "A FORMAT clause is not allowed.", node.args["format"])
    return ctx


def _function_name(node: exp.Func) -> tuple[str, bool]:
    if isinstance(node, (exp.Anonymous, exp.AnonymousAggFunc, exp.ParameterizedAgg, exp.CombinedAggFunc,
                         exp.CombinedParameterizedAgg)):
        return node.name, True
    return node.key, False


def functions_allowlisted(ctx: Context) -> Context:
    """Every function is on the allowlist (``sql/functions.py``); table functions are refused."""
    for node in ctx.nodes:
        if isinstance(node, exp.Table) and not isinstance(node.this, exp.Identifier):
            raise _reject(ctx, "table_function", "Table functions are not allowed.", node)
        if isinstance(node, exp.TableAlias) and node.columns and not node.this:
            # dictionary('d'): sqlglot reads a keyword-named table function as a table with an
            # unnamed column list; it is a table function to ClickHouse
            raise _reject(ctx, "table_function", "Table functions are not allowed.", node.parent or node)
        if isinstance(node, exp.Func) and type(node) not in _SYNTAX_FUNCS:
            name, anonymous = _function_name(node)
            if not function_allowed(name, anonymous=anonymous):
                why = refusal_reason(name)
                written = _fragment_text(node)  # the name as ClickHouse reads it, not sqlglot's key
                shown = written.split("(", 1)[0].strip() if not anonymous and "(" in written else name
                raise _reject(
                    ctx, "function_not_allowed",
                    f"The function {shown}() is not allowed" + (f": {why}." if why else " (it is not on the allowlist)."),
                    node,
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
        raise _reject(ctx, "system_tables", f"Database {db} is not readable from a workspace.", node)
    if db not in policy.databases:
        allowed = ", ".join(sorted(policy.databases))
        raise _reject(
            ctx, "foreign_database", f"Database {db} is outside this workspace.", node,
            hint=f"this workspace reads {allowed}; name its tables, or open a Workspace with databases=[...]",
        )


def tables_in_workspace(ctx: Context) -> Context:
    """Every table resolves to a workspace database; unqualified names to the default one.

    Names are rewritten fully qualified (``db.table``) so ClickHouse cannot resolve them
    elsewhere. An unqualified name that is a CTE in scope stays a CTE reference. A name on the
    right of IN is a table to ClickHouse too: it must name a workspace database or a CTE.
    """
    policy = ctx.policy
    for node in ctx.nodes:
        if not isinstance(node, exp.In):
            continue
        target = _in_target(node)
        if target is None:
            continue
        parts = [p.name for p in target.parts] if isinstance(target, (exp.Column, exp.Dot)) else [target.name]
        if len(parts) > 2:
            raise _reject(ctx, "foreign_database", "Three-part names are not allowed after IN.", target,
                          hint="write IN (SELECT column FROM database.table)")
        if len(parts) == 2:
            _check_database(ctx, parts[0], target)
        elif not _cte_in_scope(node, parts[0]):
            raise _reject(
                ctx, "foreign_database",
                f"IN {parts[0]} may read a table of that name from outside this workspace.", node,
                hint="write IN (SELECT column FROM table), or compare columns with =",
            )
    seen: list[str] = []
    for table in ctx.nodes:
        if isinstance(table, exp.Column) and table.text("db").lower() in SYSTEM_DATABASES:
            # system.one.dummy: harmless where ClickHouse reads system.one anyway (no FROM), but
            # a column names no database of a workspace
            _check_database(ctx, table.text("db"), table)
        if not isinstance(table, exp.Table):
            continue
        if table.args.get("catalog"):
            raise _reject(ctx, "foreign_database", "Three-part names (catalog.db.table) are not allowed.", table,
                          hint="name a table as table or database.table")
        name = table.name
        db = table.text("db")
        if not db and table.args.get("db") is not None:
            raise _reject(ctx, "foreign_database", "The database name is empty.", table,
                          hint="name a table as table or database.table")
        if not db and _cte_in_scope(table, name):
            continue
        if not name:
            raise _reject(ctx, "table_function", "This table reference is not a plain name.", table)
        db = db or policy.default
        _check_database(ctx, db, table)
        table.set("db", exp.to_identifier(db, quoted=True))
        table.set("this", exp.to_identifier(name, quoted=True))
        seen.append(f"{db}.{name}")
    return replace(ctx, tables=tuple(dict.fromkeys(seen)))


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
        tree = tree.limit(n, copy=False)
    else:
        alias = "_bivoice_union" if isinstance(tree, exp.SetOperation) else "_bivoice_limit"
        tree = exp.select("*").from_(tree.subquery(alias, copy=False), copy=False).limit(n, copy=False)
    return replace(ctx, statements=(tree,), limit=n, limit_added=True)


def _write(ctx: Context) -> str:
    # copy=False: sqlglot copies a tree before writing it, because its generator may change the
    # tree; each tree here is written once and not read again, so the copy (a fifth of the
    # guard's time) is not needed.
    try:
        return _DIALECT.generate(ctx.tree, copy=False, comments=False, unsupported_level=ErrorLevel.RAISE)
    except RecursionError:
        raise _reject(ctx, "too_complex", "The query is nested too deeply to check.") from None
    except Exception as exc:  # UnsupportedError, or a sqlglot generator bug on an odd tree
        raise _reject(ctx, "unknown_node", f"The query cannot be written back safely: {_first_line(exc)}") from None


def render(ctx: Context) -> Context:
    """The SQL to run, written from the checked tree, without comments (ClickHouse nests
    ``/* */``), then checked again: what runs must pass every rule and write back to itself.

    The second pass is what makes the guard's checks hold for the SQL that runs, not only for
    sqlglot's reading of the SQL given: wherever the generator writes text as it is (a date
    unit, say), a mismatch between the two shows here, and the query is refused.
    """
    sql = _write(ctx)
    again = Context(source=sql, policy=ctx.policy, recheck=True)
    try:
        for check in CHECKS:
            again = check(again)
    except GuardRejected as exc:
        reason = exc.args[0].split("] ", 1)[-1]
        raise _refusal(ctx.source, exc.rule, f"Written back, the query is refused: {reason}", exc.fragment,
                       exc.hint or "") from None
    if _write(again) != sql:
        raise _reject(ctx, "unknown_node", "The query does not survive being written back unchanged.")
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
        raise GuardRejected("parse_error", f"SQL must be text, not {type(sql).__name__}.", sql=repr(sql)[:200],
                            hint="pass the query as a str")
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
