"""Values too many to list in the catalog, looked up when a question says one ("in Japan").

The catalog keeps the values of text columns with few of them; a country, customer or product
column with hundreds is not listed. When a question holds words that nothing else explains, the
planner asks this lookup whether they are values of such a column: one small read-only query
per question (built with sqlglot, run with the catalog's own read-only settings), accents, case
and punctuation aside, cached per table and phrase.
"""

from __future__ import annotations

from sqlglot import exp

from ..errors import BivoiceError
from ..sql.clickhouse import Connection

MAX_HITS = 20


def _key(col: exp.Expression) -> exp.Expression:
    """lower case, accents and apostrophes off, other punctuation as single spaces."""
    def fn(name: str, *args: exp.Expression) -> exp.Expression:
        return exp.Anonymous(this=name, expressions=list(args))

    plain = fn("replaceRegexpAll", fn("normalizeUTF8NFKD", fn("toString", col)), exp.Literal.string(r"\p{Mn}|'"), exp.Literal.string(""))
    spaced = fn("replaceRegexpAll", fn("lowerUTF8", plain), exp.Literal.string("[^a-z0-9]+"), exp.Literal.string(" "))
    return fn("trimBoth", spaced)


class ValueLookup:
    """``lookup(database, table, columns, phrases)`` -> [(column, phrase, value)]: which of the
    normalised ``phrases`` are values of which of ``columns``."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._cache: dict[tuple[str, str, str, str], str | None] = {}

    def __call__(self, database: str, table: str, columns: list[str], phrases: list[str]) -> list[tuple[str, str, str]]:
        wanted = [(c, p) for c in columns for p in phrases if (database, table, c, p) not in self._cache]
        if wanted:
            ask_cols = sorted({c for c, _ in wanted})
            ask_phrases = sorted({p for _, p in wanted})
            found = self._query(database, table, ask_cols, ask_phrases)
            for c, p in wanted:
                self._cache[(database, table, c, p)] = found.get((c, p))
        out = []
        for c in columns:
            for p in phrases:
                v = self._cache.get((database, table, c, p))
                if v is not None:
                    out.append((c, p, v))
        return out

    def _query(self, database: str, table: str, columns: list[str], phrases: list[str]) -> dict[tuple[str, str], str]:
        ref = exp.table_(exp.to_identifier(table, quoted=True), db=exp.to_identifier(database, quoted=True))
        selects = []
        for i, c in enumerate(columns):
            col = exp.column(c, quoted=True)
            key = _key(col)
            selects.append(
                exp.select(exp.Literal.number(i).as_("c"), key.copy().as_("k"), exp.Anonymous(this="any", expressions=[exp.Anonymous(this="toString", expressions=[col.copy()])]).as_("v"))
                .from_(ref.copy())
                .where(key.isin(*[exp.Literal.string(p) for p in phrases]))
                .group_by(exp.column("k"))
                .limit(MAX_HITS)
            )
        query: exp.Expression = selects[0]
        for s in selects[1:]:
            query = exp.union(query, s, distinct=False)
        try:
            df = self.conn.read_meta(query)
        except BivoiceError:  # a failed lookup only means no value was found: the word stays unknown
            return {}
        return {(columns[int(r.c)], str(r.k)): str(r.v) for r in df.itertuples()}
