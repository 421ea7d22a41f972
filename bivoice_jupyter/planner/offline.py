"""The offline planner: a question -> an Intent (or a short reply), with no key and no network.

It knows no table by name: every word is matched against the schema catalog (column names split
into words, abbreviations expanded, a little general business vocabulary) and the values of
low-cardinality text columns. A word it cannot place raises :class:`UnmatchedTerm` naming the
word and the columns that exist, instead of guessing.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from dataclasses import dataclass

from ..errors import PlanningError, UnmatchedTerm
from ..models import Filter, Intent, Measure, Order, TimeRange
from ..sql.schema import Catalog, ColumnInfo, TableInfo
from .words import SYNONYMS, identifier_words, normalise, singular, strip_accents


@dataclass(frozen=True)
class Reply:
    """A non-data answer (greeting, list of tables, help): text only, no SQL runs."""

    text: str


AGG_WORDS: dict[tuple[str, ...], str] = {
    ("total",): "sum", ("sum", "of"): "sum", ("sum",): "sum", ("overall",): "sum",
    ("average",): "avg", ("avg",): "avg", ("mean",): "avg", ("typical",): "median",
    ("median",): "median", ("maximum",): "max", ("max",): "max", ("biggest",): "max",
    ("largest",): "max", ("minimum",): "min", ("min",): "min", ("smallest",): "min",
    ("number", "of"): "count", ("count", "of"): "count", ("how", "many"): "count",
    ("count",): "count", ("distinct",): "count_distinct", ("unique",): "count_distinct",
}
DIM_WORDS = (("broken", "down", "by"), ("split", "by"), ("for", "each"), ("by",), ("per",), ("each",), ("across",), ("every",))
ROW_NOUNS = {"order", "row", "record", "transaction", "sale", "entry", "line", "purchase", "item", "event"}
GRAINS = {"day": "day", "daily": "day", "week": "week", "weekly": "week", "month": "month", "monthly": "month",
          "quarter": "quarter", "quarterly": "quarter", "year": "year", "yearly": "year", "annual": "year",
          "annually": "year"}
AVERAGED = {"price", "rate", "percent", "percentage", "discount", "ratio", "age", "score", "average",
            "temperature", "margin", "share", "rating", "pct", "speed"}
STOP = {"the", "a", "an", "of", "all", "our", "my", "their", "in", "for", "with", "what", "was", "were", "is",
        "are", "show", "me", "give", "list", "tell", "please", "and", "to", "from", "on", "at", "how", "much",
        "did", "do", "does", "we", "have", "had", "has", "get", "make", "made", "which", "who", "that", "this",
        "there", "it", "its", "by", "per", "each", "than", "more", "less", "over", "under", "top", "bottom"}
# Words that carry no data meaning of their own: a question may hold them anywhere. Any other
# word that matched nothing makes the planner refuse (naming it) rather than answer around it.
FILLER = STOP | {
    "i", "you", "your", "us", "they", "them", "these", "those", "be", "been", "being", "can", "could",
    "would", "should", "will", "like", "want", "know", "see", "look", "find", "got", "sold", "sell",
    "sells", "selling", "bought", "buy", "spent", "spend", "earn", "earned", "generate", "generated",
    "bring", "brought", "or", "vs", "versus", "between", "during", "since", "after", "before", "until",
    "through", "so", "far", "now", "then", "only", "just", "also", "about", "as", "up", "out",
    "compare", "comparison", "breakdown", "broken", "down", "split", "trend", "time", "overall", "data",
    "table", "figure", "figures", "number", "numbers", "count", "total", "sum", "average", "avg", "mean",
    "median", "typical", "maximum", "max", "minimum", "min", "most", "least", "highest", "lowest",
    "largest", "smallest", "biggest", "best", "worst", "fewest", "distinct", "unique", "many", "much",
    "where", "when", "across", "every", "year", "years", "month", "months", "quarter", "quarters", "week",
    "weeks", "day", "days", "daily", "weekly", "monthly", "quarterly", "yearly", "annual", "annually",
    "last", "previous", "latest", "recent", "current", "not", "no", "exactly", "equal", "higher",
    "greater", "lower", "fewer", "larger", "least", "value", "amount", "performance", "happened",
    "happen", "there", "here", "again", "ever", "within", "overall", "together", "combined", "altogether",
}
MONTHS = {m: i for i, m in enumerate(["january", "february", "march", "april", "may", "june", "july", "august",
                                       "september", "october", "november", "december"], start=1)}
COMPARATORS = [
    ("more than", ">"), ("greater than", ">"), ("higher than", ">"), ("larger than", ">"), ("over", ">"),
    ("above", ">"), ("at least", ">="), ("less than", "<"), ("fewer than", "<"), ("lower than", "<"),
    ("below", "<"), ("under", "<"), ("at most", "<="), ("exactly", "="), ("equal to", "="),
]


@dataclass
class _Mention:
    column: ColumnInfo
    start: int
    end: int  # exclusive token index


def _phrases(col: ColumnInfo, table: TableInfo) -> list[tuple[tuple[str, ...], int]]:
    """Word sequences that name a column, with a score (higher is more specific)."""
    words = identifier_words(col.name)
    out = [(tuple(words), 3), (tuple(singular(w) for w in words), 3)]
    if words:
        head = words[-1]
        heads = [identifier_words(c.name)[-1:] for c in table.columns]
        if heads.count([head]) == 1 and head != "id":
            out += [((head,), 2), ((singular(head),), 2)]
    return out


def _period(newest: dt.date, unit: str, back: int) -> tuple[dt.date, dt.date]:
    """The calendar year/quarter/month holding ``newest``, moved ``back`` periods earlier."""
    months = {"year": 12, "quarter": 3, "month": 1}[unit]
    first_month = {"year": 1, "quarter": (newest.month - 1) // 3 * 3 + 1, "month": newest.month}[unit]
    index = newest.year * 12 + (first_month - 1) - back * months
    start = dt.date(index // 12, index % 12 + 1, 1)
    index += months
    return start, dt.date(index // 12, index % 12 + 1, 1)


class OfflinePlanner:
    """Plans questions over one catalog; reuse it while the catalog is unchanged."""

    name = "offline"

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    # ---------------------------------------------------------------- public

    def plan(self, question: str) -> Intent | Reply:
        q = normalise(question)
        if not q.strip():
            raise PlanningError("The question is empty.", hint="ask something like: total revenue by region")
        reply = self._conversation(q)
        if reply is not None:
            return reply
        if not self.catalog.tables:
            raise PlanningError("The workspace has no tables yet.", hint="load one with %etl load PATH --table NAME")
        tokens = q.split()
        table = self._pick_table(tokens)
        return self._plan_table(q, tokens, table)

    # ---------------------------------------------------------------- conversation

    def _conversation(self, q: str) -> Reply | None:
        names = ", ".join(t.name for t in self.catalog.tables) or "none yet"
        if re.fullmatch(r"(hi|hello|hey|good (morning|afternoon|evening))( there)?( \w+)?", q):
            return Reply(f"Hello! Ask me about your data, for example about these tables: {names}.")
        if re.search(r"\b(what|which|list|show)( me)?( the| all| your)? tables\b|\btables do you have\b", q):
            lines = [f"{t.name} ({t.rows:,} rows, {len(t.columns)} columns)" for t in self.catalog.tables]
            return Reply("Tables: " + ("; ".join(lines) if lines else "none yet"))
        m = re.search(r"\b(?:describe|columns (?:does|do|of|in)|fields (?:does|do|of|in)) (?:the )?(?:table )?(\w+)", q)
        if m:
            t = self._table_by_word(m.group(1))
            if t is not None:
                cols = ", ".join(f"{c.name} ({c.kind})" for c in t.columns)
                return Reply(f"{t.name} has {t.rows:,} rows and columns: {cols}.")
        if re.search(r"\bwhat can you do\b|^help\b", q):
            return Reply(
                "Ask for totals, averages, counts, medians, minimums or maximums, by a category or by "
                "month/quarter/year, with filters like 'in 2023' or 'in Europe', and top or bottom N. "
                f"Tables: {names}."
            )
        return None

    def _table_by_word(self, word: str) -> TableInfo | None:
        for t in self.catalog.tables:
            if word in (t.name.lower(), singular(t.name.lower())) or singular(word) == singular(t.name.lower()):
                return t
        return None

    # ---------------------------------------------------------------- table choice

    def _pick_table(self, tokens: list[str]) -> TableInfo:
        if len(self.catalog.tables) == 1:
            return self.catalog.tables[0]
        best: tuple[float, int, TableInfo] | None = None
        for t in self.catalog.tables:
            score = len(self._mentions(tokens, t)) * 2 + len(self._value_matches(tokens, t)) * 2
            tname = set(identifier_words(t.name)) | {singular(w) for w in identifier_words(t.name)}
            score += 3 * sum(1 for tok in tokens if tok in tname or singular(tok) in tname)
            key = (score, t.rows, t)
            if best is None or key[:2] > best[:2]:
                best = key
        assert best is not None
        return best[2]

    # ---------------------------------------------------------------- matching

    def _mentions(self, tokens: list[str], table: TableInfo, taken: set[int] | None = None) -> list[_Mention]:
        taken = set() if taken is None else taken
        candidates: list[tuple[int, int, int, ColumnInfo]] = []  # (-length, -score, start, col)
        for col in table.columns:
            for phrase, score in _phrases(col, table):
                n = len(phrase)
                for i in range(len(tokens) - n + 1):
                    if tuple(tokens[i : i + n]) == phrase or tuple(singular(w) for w in tokens[i : i + n]) == phrase:
                        candidates.append((-n, -score, i, col))
        # synonyms ("sales" -> revenue) where no column phrase matched the token
        for i, tok in enumerate(tokens):
            for meaning in SYNONYMS.get(tok, ()):
                target = tuple(meaning.split())
                for col in table.columns:
                    words = tuple(identifier_words(col.name))
                    if words == target or (len(target) == 1 and words[-1:] == target):
                        candidates.append((-1, 0, i, col))
                        break
                else:
                    continue
                break
        candidates.sort(key=lambda c: (c[0], c[1], c[2]))
        found: list[_Mention] = []
        used = set(taken)
        for negn, _, start, col in candidates:
            span = set(range(start, start - negn))
            if span & used:
                continue
            used |= span
            found.append(_Mention(col, start, start - negn))
        return sorted(found, key=lambda m: m.start)

    def _value_matches(self, tokens: list[str], table: TableInfo) -> list[tuple[ColumnInfo, str, int, int]]:
        out: list[tuple[ColumnInfo, str, int, int]] = []
        used: set[int] = set()
        options: list[tuple[tuple[str, ...], ColumnInfo, str]] = []
        for col in table.columns:
            for v in col.values:
                words = tuple(re.sub(r"[^a-z0-9]+", " ", strip_accents(v).lower()).split())
                if words:
                    options.append((words, col, v))
        options.sort(key=lambda o: -len(o[0]))
        for words, col, v in options:
            n = len(words)
            for i in range(len(tokens) - n + 1):
                span = set(range(i, i + n))
                if span & used:
                    continue
                window = tuple(tokens[i : i + n])
                if window == words or tuple(singular(w) for w in window) == tuple(singular(w) for w in words) or (
                    n == 1 and len(words[0]) >= 6 and difflib.SequenceMatcher(None, window[0], words[0]).ratio() >= 0.85
                ):
                    used |= span
                    out.append((col, v, i, i + n))
        return out

    # ---------------------------------------------------------------- planning one table

    def _plan_table(self, q: str, tokens: list[str], table: TableInfo) -> Intent:
        taken: set[int] = set()
        filters: list[Filter] = []
        date_cols = [c for c in table.columns if c.kind == "date"]
        time_col = date_cols[0].name if date_cols else None

        # top / bottom N, "which X has the highest Y"
        limit: int | None = None
        desc = True
        m = re.search(r"\b(top|bottom|best|worst|highest|lowest|largest|smallest|biggest)\s+(\d+)\b", q)
        if m:
            limit = max(1, int(m.group(2)))
            desc = m.group(1) not in ("bottom", "worst", "lowest", "smallest")
            taken |= self._span_of(tokens, m.group(0))
        elif (nm := re.search(r"\b(?:which|what|the)?\s*(\d{1,3}) \w+\b.*\b(most|highest|largest|biggest|best|top|least|lowest|smallest|fewest|worst)\b", q)):
            # "which five products have the most revenue", "5 products with the lowest price"
            limit = max(1, int(nm.group(1)))
            desc = nm.group(2) not in ("least", "lowest", "smallest", "fewest", "worst")
            taken |= self._span_of(tokens, nm.group(1))
        elif re.search(r"\b(which|what)\b.*\b(the )?(most|highest|largest|biggest|best|top)\b", q):
            limit = 1
        elif re.search(r"\b(which|what)\b.*\b(the )?(least|lowest|smallest|fewest|worst)\b", q):
            limit, desc = 1, False

        # time grain
        grain = None
        gm = re.search(r"\b(?:by|per|each|every|for each)\s+(day|week|month|quarter|year)s?\b|\b(daily|weekly|monthly|quarterly|yearly|annually|annual)\b", q)
        if gm:
            grain = GRAINS[gm.group(1) or gm.group(2)]
            taken |= self._span_of(tokens, gm.group(0))
        elif re.search(r"\bover time\b|\btrend\b", q):
            grain = "month"

        # years and months
        time_range = None
        if time_col:
            newest = next((c.newest for c in date_cols if c.name == time_col), None)
            time_range, spans = self._time_range(q, tokens, time_col, newest)
            taken |= spans
        if (grain or time_range) and not time_col:
            raise PlanningError(f"Table {table.name} has no date column to filter or group by time.")

        # values of text columns ("in Europe")
        by_col: dict[str, list[str]] = {}
        for col, value, s, e in self._value_matches(tokens, table):
            if set(range(s, e)) & taken:
                continue
            by_col.setdefault(col.name, []).append(value)
            taken |= set(range(s, e))
        for col_name, values in by_col.items():
            vals = list(dict.fromkeys(values))
            filters.append(Filter(column=col_name, op="=", value=vals[0]) if len(vals) == 1 else Filter(column=col_name, op="in", value=vals))

        mentions = self._mentions(tokens, table, taken)

        # numeric comparisons after a column: "unit price over 100"
        for phrase, op in COMPARATORS:
            for cm in re.finditer(rf"\b{phrase} (\d+(?:\.\d+)?)\b", q):
                pos = len(q[: cm.start()].split())
                target = next((mm for mm in reversed(mentions) if mm.end <= pos and pos - mm.end <= 2 and mm.column.kind == "number"), None)
                if target is None:
                    continue
                num = float(cm.group(1))
                filters.append(Filter(column=target.column.name, op=op, value=int(num) if num.is_integer() else num))
                mentions.remove(target)
                taken |= set(range(target.start, pos + 1 + len(phrase.split())))

        measures: list[Measure] = []
        dims: list[str] = []
        for men in mentions:
            before = tokens[max(0, men.start - 3) : men.start]
            agg = self._agg_before(before)
            dim_before = self._dim_before(before)
            col = men.column
            if dim_before and col.kind != "number":
                agg = None  # "order count by category": category is the grouping, not counted
            if agg is not None:
                if agg == "count":
                    agg = "count_distinct" if col.kind in ("text", "other") or col.name.lower().endswith("id") else "count"
                if agg in ("sum", "avg", "median") and col.kind != "number":
                    agg = "count_distinct"
                measures.append(self._measure(agg, col))
            elif dim_before and col.kind in ("text", "bool", "other"):
                dims.append(col.name)
            elif dim_before and col.kind == "date":
                grain = grain or "day"
                time_col = col.name
            elif col.kind == "number":
                measures.append(self._measure(self._default_agg(col), col))
            elif col.kind in ("text", "bool") and col.name not in by_col:
                dims.append(col.name)

        # words after an aggregation word or "by" that matched nothing: say so, do not guess
        self._check_unmatched(tokens, mentions, taken, table)
        self._check_leftovers(tokens, mentions, taken, table)

        if not measures:
            agg_word = re.search(r"\b(total|sum|average|avg|mean|median|maximum|max|minimum|min|typical)\b(?: of)?(?: the)? (\w+)", q)
            if agg_word and singular(agg_word.group(2)) not in ROW_NOUNS | {"number", "count"}:
                cols = [c.name for c in table.columns]
                raise UnmatchedTerm(agg_word.group(2), cols, table=table.name)
            if agg_word:
                cols = [c.name for c in table.columns]
                rest = q[agg_word.end() :].split()
                raise UnmatchedTerm(" ".join([agg_word.group(2), *rest[:1]]), cols, table=table.name)
            if re.search(r"\bhow many\b|\bnumber of\b|\bcount\b", q) or dims or grain or limit:
                measures.append(Measure(agg="count", column=None, alias="count"))
            elif filters or time_range:
                measures.append(Measure(agg="count", column=None, alias="count"))
            else:
                cols = [c.name for c in table.columns]
                raise UnmatchedTerm(" ".join(t for t in tokens if t not in STOP)[:60] or q, cols, table=table.name)

        if not dims and not grain:
            # "compare Europe and North America": several values of one column become its groups
            dims = [f.column for f in filters if f.op == "in"][:1]
        measures = list(dict.fromkeys(measures))
        dims = list(dict.fromkeys(dims))
        order: list[Order] = []
        if limit is not None:
            order.append(Order(by=measures[0].name, desc=desc))
        elif grain:
            order.append(Order(by=grain, desc=False))
        elif dims:
            order.append(Order(by=measures[0].name, desc=True))
        return Intent(
            table=table.name,
            database=table.database,
            measures=measures,
            dimensions=dims,
            filters=filters,
            time_range=time_range,
            time_column=time_col if grain else None,
            time_grain=grain,
            order=order,
            limit=limit,
        )

    # ---------------------------------------------------------------- helpers

    @staticmethod
    def _span_of(tokens: list[str], phrase: str) -> set[int]:
        words = phrase.split()
        for i in range(len(tokens) - len(words) + 1):
            if tokens[i : i + len(words)] == words:
                return set(range(i, i + len(words)))
        return set()

    @staticmethod
    def _agg_before(before: list[str]) -> str | None:
        words = [w for w in before if w not in ("the", "of", "a", "an", "all")] or before
        for n in (2, 1):
            for i in range(len(before) - n + 1):
                key = tuple(before[i : i + n])
                if key in AGG_WORDS and i + n >= len(before) - 1:
                    return AGG_WORDS[key]
        if words and (words[-1],) in AGG_WORDS:
            return AGG_WORDS[(words[-1],)]
        return None

    @staticmethod
    def _dim_before(before: list[str]) -> bool:
        for phrase in DIM_WORDS:
            n = len(phrase)
            if tuple(before[-n:]) == phrase or (len(before) > n and tuple(before[-n - 1 : -1]) == phrase and before[-1] == "the"):
                return True
        return False

    @staticmethod
    def _default_agg(col: ColumnInfo) -> str:
        return "avg" if set(identifier_words(col.name)) & AVERAGED else "sum"

    @staticmethod
    def _measure(agg: str, col: ColumnInfo) -> Measure:
        prefix = {"sum": "total", "avg": "avg", "median": "median", "min": "min", "max": "max",
                  "count": "count", "count_distinct": "distinct"}[agg]
        return Measure(agg=agg, column=col.name, alias=f"{prefix}_{col.name}")  # type: ignore[arg-type]

    def _time_range(self, q: str, tokens: list[str], col: str, newest: str | None) -> tuple[TimeRange | None, set[int]]:
        spans: set[int] = set()
        rel = re.search(r"\b(this|last|previous|latest|most recent|current) (year|quarter|month)\b", q)
        if rel:
            if newest is None:
                raise PlanningError(f"{rel.group(0)!r} is relative to the newest date, and {col} has none.")
            which, unit = rel.group(1), rel.group(2)
            back = 1 if which in ("last", "previous") else 0
            start, end = _period(dt.date.fromisoformat(newest), unit, back)
            return TimeRange(column=col, start=start, end=end), self._span_of(tokens, rel.group(0))
        m = re.search(r"\bbetween (\d{4}) and (\d{4})\b|\bfrom (\d{4}) (?:to|until|through) (\d{4})\b", q)
        if m:
            a, b = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
            lo, hi = sorted((int(a), int(b)))
            return TimeRange(column=col, start=dt.date(lo, 1, 1), end=dt.date(hi + 1, 1, 1)), self._span_of(tokens, m.group(0))
        month_names = "|".join(MONTHS)
        m = re.search(rf"\b(?:in |during |for )?({month_names}) (?:of )?(\d{{4}})\b", q)
        if m:
            y, mo = int(m.group(2)), MONTHS[m.group(1)]
            end = dt.date(y + (mo == 12), mo % 12 + 1, 1)
            return TimeRange(column=col, start=dt.date(y, mo, 1), end=end), self._span_of(tokens, m.group(0))
        m = re.search(r"\b(since|after|from|before|until|in|during|for|of)? ?((?:19|20)\d\d)\b", q)
        if m:
            word, y = m.group(1), int(m.group(2))
            spans = self._span_of(tokens, m.group(0).strip())
            if word in ("since", "from"):
                return TimeRange(column=col, start=dt.date(y, 1, 1)), spans
            if word == "after":
                return TimeRange(column=col, start=dt.date(y + 1, 1, 1)), spans
            if word in ("before",):
                return TimeRange(column=col, end=dt.date(y, 1, 1)), spans
            if word == "until":
                return TimeRange(column=col, end=dt.date(y + 1, 1, 1)), spans
            return TimeRange(column=col, start=dt.date(y, 1, 1), end=dt.date(y + 1, 1, 1)), spans
        return None, spans

    def _check_leftovers(self, tokens: list[str], mentions: list[_Mention], taken: set[int], table: TableInfo) -> None:
        """Any content word that matched nothing is refused: a misheard word ("product
        cyberadoop") must not quietly become a different question."""
        covered = set(taken)
        for men in mentions:
            covered |= set(range(men.start, men.end))
        table_words = {singular(w) for w in identifier_words(table.name)}
        for i, word in enumerate(tokens):
            if i in covered or word in FILLER or word in MONTHS or word in SYNONYMS:
                continue
            if re.fullmatch(r"\d+(\.\d+)?", word) or singular(word) in ROW_NOUNS or singular(word) in table_words:
                continue
            if any(word == p for phrase, op in COMPARATORS for p in phrase.split()):
                continue
            raise UnmatchedTerm(word, [c.name for c in table.columns], table=table.name)

    def _check_unmatched(self, tokens: list[str], mentions: list[_Mention], taken: set[int], table: TableInfo) -> None:
        covered = set(taken)
        for men in mentions:
            covered |= set(range(men.start, men.end))
        cols = [c.name for c in table.columns]
        triggers = {w for key in AGG_WORDS for w in key if w not in ("of", "how")} | {"by", "per"}
        for i, tok in enumerate(tokens):
            if tok not in triggers or i in covered:
                continue
            j = i + 1
            while j < len(tokens) and tokens[j] in ("the", "of", "a", "an", "many", "all", "each"):
                j += 1
            if j >= len(tokens) or j in covered:
                continue
            word = tokens[j]
            if word in STOP or word in triggers or singular(word) in ROW_NOUNS or word in GRAINS or word.isdigit():
                continue
            if singular(word) in {singular(w) for w in identifier_words(table.name)}:
                continue
            raise UnmatchedTerm(word, cols, table=table.name)
