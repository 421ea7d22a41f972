"""The offline planner: a question -> an Intent (or a short reply), with no key and no network.

It knows no table by name: every word is matched against the schema catalog (``lexicon.py``)
and read by the ordered rules of ``reader.py``. It picks the table the words fit best (asking
when two fit equally), answers conversation from the schema (``_conversation``), fills the
defaults a question leaves unsaid (a count, an order), and keeps the conversation in a
:class:`~bivoice_jupyter.planner.session.Session`: a follow-up ("now by country", "only for
2023") changes the last reading, and an answer to a question asked back ("revenue") is used.

Honesty: a word nothing explains is refused, naming it and the closest columns
(:class:`~bivoice_jupyter.errors.UnmatchedTerm`); two equally likely readings make it ask back
(a :class:`Reply` with the candidates and a confidence) instead of guessing; a reading it
accepted on a near spelling is said in ``Intent.notes``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import PlanningError, UnmatchedTerm
from ..models import Intent, Measure, Order
from ..sql.schema import Catalog
from .lexicon import TableLex, build_table, find_mentions, find_values
from .lookup import ValueLookup
from .reader import AskBack, Draft, Reader, closest, named_measure
from .session import Pending, Session
from .vocabulary import AGG_WORDS, COUNT_NOUNS, FILLER, GRAINS, MONTHS, NEGATIONS, ROW_NOUNS, SHARE_WORDS, SUP_ASC, SUP_DESC
from .words import SYNONYMS, identifier_words, normalise, singular


@dataclass(frozen=True)
class Reply:
    """A non-data answer (greeting, list of tables, help, a question back): text only, no SQL
    runs. A question back lists its ``candidates`` and the planner's ``confidence`` (0..1) in
    the likeliest one."""

    text: str
    candidates: tuple[str, ...] = ()
    confidence: float | None = None


# ------------------------------------------------------------------ the planner


class OfflinePlanner:
    """Plans questions over one catalog; reuse it while the catalog is unchanged. It remembers
    the conversation in ``session`` (follow-ups, questions asked back)."""

    name = "offline"

    def __init__(self, catalog: Catalog, session: Session | None = None, lookup: ValueLookup | None = None) -> None:
        """``lookup`` finds values of text columns with too many values for the catalog to list
        (``ValueLookup(connection)``); without it such words are refused as unknown."""
        self.catalog = catalog
        self.session = session if session is not None else Session()
        self.lookup = lookup
        self._scores: list[tuple[float, TableLex]] = []
        self._people_named = False
        self.tables = [build_table(t) for t in catalog.tables]
        vocab: set[str] = set(FILLER) | set(AGG_WORDS) | set(SYNONYMS) | ROW_NOUNS | COUNT_NOUNS | set(MONTHS)
        vocab |= SUP_DESC | SUP_ASC | SHARE_WORDS | set(GRAINS) | NEGATIONS
        for lex in self.tables:
            vocab |= {w for c in lex.columns for w in (*c.parts, *c.words)}
        self.known = frozenset(vocab)
        self._column_words = frozenset(singular(w) for lex in self.tables for c in lex.columns for w in (*c.parts, *c.words))
        words = frozenset(w for lex in self.tables for c in lex.columns for w in (*c.parts, *c.words))
        #: words of the tables' column names, as said (planner.hearing repairs "my job level")
        self.column_words = words | self._column_words
        #: the words a misheard one may be put right to (planner.hearing: "medium" -> "median")
        self.spoken_words = sorted(words | set(AGG_WORDS) | set(GRAINS) | SUP_DESC | SUP_ASC)
        self.strict = frozenset(FILLER | set(AGG_WORDS) | SUP_DESC | SUP_ASC | set(GRAINS) | COUNT_NOUNS | set(MONTHS))

    # ---------------------------------------------------------------- public

    def plan(self, question: str) -> Intent | Reply:
        """The question's Intent, or a Reply (conversation, or a question back). Raises
        :class:`~bivoice_jupyter.errors.UnmatchedTerm` naming a word it cannot place, and
        :class:`~bivoice_jupyter.errors.PlanningError` for a question it cannot read."""
        try:
            return self._plan(question)
        except (IndexError, KeyError, ValueError, TypeError) as exc:  # a reading the rules did not foresee
            raise PlanningError(f"The offline planner could not read this question ({type(exc).__name__}: {exc}).",
                                hint="rephrase it, or write the SQL yourself with --sql") from exc

    def _plan(self, question: str) -> Intent | Reply:
        q = normalise(question)
        if not q.strip():
            raise PlanningError("The question is empty.", hint="ask something like: total revenue by region")
        reply = self._conversation(q)
        if reply is not None:
            return reply
        if not self.catalog.tables:
            raise PlanningError("The workspace has no tables yet.", hint="load one with %etl load PATH --table NAME")
        tokens = q.split()
        pending = self.session.pending
        if pending is not None:
            choice = self._answer_to(pending, tokens)
            if choice is not None:
                self.session.pending = None
                if choice[0] == "table":
                    return self._run(pending.question, normalise(pending.question).split(), table=choice[1])
                self.session.forced_columns[choice[1]] = choice[2]
                try:
                    return self._run(pending.question, normalise(pending.question).split())
                finally:
                    self.session.forced_columns.pop(choice[1], None)
            self.session.pending = None
        return self._run(question, tokens)

    # ---------------------------------------------------------------- one question

    def _run(self, question: str, tokens: list[str], table: str | None = None) -> Intent | Reply:
        try:
            if table is None and self.session.last is not None:
                merged = self._follow_up(tokens)
                if merged is not None:
                    self.session.remember(question, merged)
                    return merged
            lex = self._table(table) if table else self._pick_table(tokens)
            try:
                draft = Reader(self, tokens, lex).read()
                intent = self._intent(draft, tokens)
            except PlanningError as exc:
                # the likeliest table cannot do it ("on the first of april" in a table of years,
                # a word it has no column for): another table the words also fit may
                if table is not None:
                    raise
                intent = self._next_table(tokens, lex, exc)
        except AskBack as ask:
            return self._ask(question, ask)
        self.session.remember(question, intent)
        return intent

    def _ask(self, question: str, ask: AskBack) -> Reply:
        names = [o[0] for o in ask.options]
        self.session.pending = Pending(question, dict(ask.options))
        confidence = round(1 / len(names), 2) if names else None
        listed = ", ".join(names[:-1]) + f" or {names[-1]}" if len(names) > 1 else names[0]
        what = "Which table do you mean" if ask.kind == "table" else "Did you mean"
        why = f" ({ask.why}; I am {confidence:.0%} sure of any one.)" if confidence is not None else ""
        return Reply(f"{what}: {listed}?{why} Say one of them and I will answer.", tuple(names), confidence)

    def _answer_to(self, pending: Pending, tokens: list[str]) -> tuple[str, ...] | None:
        names = list(pending.choices)
        text = " ".join(t for t in tokens if t not in ("the", "i", "mean", "meant", "one", "column", "table", "please", "use"))
        ordinals = {"first": 0, "1th": 0, "1": 0, "second": 1, "2th": 1, "2": 1, "third": 2, "3": 2, "last": len(names) - 1}
        if text in ordinals and ordinals[text] < len(names):
            return pending.choices[names[ordinals[text]]]
        for name in names:
            spoken = " ".join(identifier_words(name))
            if text in (name.lower(), spoken, " ".join(normalise(name).split())) or text.replace(" ", "") == name.lower().replace("_", ""):
                return pending.choices[name]
        return None

    def _table(self, name: str) -> TableLex:
        return next(t for t in self.tables if t.name == name)

    # ---------------------------------------------------------------- follow-ups

    # A follow-up starts like one: "now by country", "what about 2020" (strong: even a whole question
    # after them changes the last one), "in 2023", "only for chat" (weak: only when nothing is measured).
    _STRONG = ("now", "and", "also", "what about", "how about", "same", "instead", "but", "then", "ok", "okay",
               "so", "what if", "show it", "make it", "make that", "change", "switch", "this time", "do the same",
               "plus", "add", "as a", "as an")
    _WEAK = ("only", "just", "for", "in", "by", "split", "break", "as", "with", "without", "excluding", "except",
             "during", "since", "after", "before", "between", "from", "top", "bottom", "sorted", "per", "over",
             "limit", "exclude", "not", "try", "use", "what about", "how about")

    def _follow_up(self, tokens: list[str]) -> Intent | None:
        prev = self.session.last
        assert prev is not None
        lex = next((t for t in self.tables if t.name == prev.table and t.info.database == (prev.database or t.info.database)), None)
        if lex is None:
            return None
        text = " ".join(tokens)
        strong = any(text == m or text.startswith(m + " ") for m in self._STRONG)
        weak = any(text == m or text.startswith(m + " ") for m in self._WEAK) or bool(re.match(r"\d", text))
        try:
            draft = Reader(self, tokens, lex).read()
        except (UnmatchedTerm, PlanningError):
            return None
        explicit_agg = any(w in AGG_WORDS for w in tokens) or bool(re.search(r"\bhow many\b|\bnumber of\b", text))
        complete = "measure" in draft.said or bool(draft.measures) or explicit_agg
        if not (strong or (weak and not complete)):
            return None
        if not (draft.said or draft.agg_word or draft.measures):
            return None
        return self._merge(prev, draft, tokens)

    def _merge(self, prev: Intent, d: Draft, tokens: list[str]) -> Intent:
        lex = d.lex
        measures = list(prev.measures)
        old_names = [m.name for m in prev.measures]
        if d.measures:
            new: list[Measure] = []
            for m in d.measures:
                keep_agg = prev.measures[0].agg if prev.measures and prev.measures[0].column else None
                col = lex.column(m.column) if m.column else None
                if keep_agg in ("avg", "median", "min", "max") and col is not None and col.role == "measure" and not re.search(r"\b(total|sum|average|avg|mean|median|max|maximum|min|minimum)\b", " ".join(tokens)):
                    m = named_measure(keep_agg, m.column)  # type: ignore[arg-type]
                new.append(m)
            measures = new
        elif d.agg_word:
            measures = [named_measure(d.agg_word, m.column) if m.column and m.over is None else m for m in prev.measures]
        dims, grain, time_col = list(prev.dimensions), prev.time_grain, prev.time_column
        if "dims" in d.said:
            also = bool(re.search(r"\b(also|add|as well|too)\b", " ".join(tokens)))
            dims = (dims if also else []) + [x for x in d.dims if x not in dims or not also]
            grain, time_col = (d.grain, d.time_col) if (d.grain or not also) else (grain, time_col)
        time_cols = {c.name for c in lex.columns if c.role in ("year", "date", "textdate")}
        filters = list(prev.filters)
        time_range = prev.time_range
        if d.time_range is not None or d.time_filters:
            time_range = d.time_range
            filters = [f for f in filters if f.column not in time_cols]
        for f in d.filters:
            filters = [g for g in filters if g.column != f.column]
        filters += d.filters + d.time_filters
        if re.search(r"\b(all (?:the )?(?:years|time|dates|data)|no filters?|without (?:the |any )?filters?|everything|overall)\b", " ".join(tokens)):
            filters, time_range = [f for f in filters if f in d.filters], None
        having = d.having or list(prev.having)
        limit = d.limit if d.limit is not None else prev.limit
        draft = Draft(lex, measures=measures, dims=dims, grain=grain, time_col=time_col, filters=filters,
                       time_range=time_range, having=having, limit=limit, desc=d.desc if (d.limit or d.ordered) else
                       (prev.order[0].desc if prev.order else True), ordered=d.ordered or bool(prev.order and not prev.limit and not prev.time_grain and dims),
                       columns=list(prev.columns), notes=d.notes)
        intent = self._intent(draft, tokens, follow_up=True)
        if prev.chart != "auto":
            intent = intent.model_copy(update={"chart": prev.chart})
        # keep a listing's columns pointing at the new measure
        if prev.columns and d.measures:
            intent = intent.model_copy(update={"columns": [c for c in prev.columns if c not in old_names]})
        return intent

    # ---------------------------------------------------------------- assembling

    def _intent(self, d: Draft, tokens: list[str], follow_up: bool = False) -> Intent:
        lex = d.lex
        q = " ".join(tokens)
        measures = list(d.measures)
        seen: set[str] = set()
        measures = [m for m in measures if not (m.name in seen or seen.add(m.name))]  # type: ignore[func-returns-value]
        dims = list(dict.fromkeys(d.dims))
        columns: list[str] = list(d.columns)
        if not measures and not follow_up:
            listing = re.match(r"^(list|show|name|which|what are|what were|give me|what is the|what was the|whats the)\b", q) \
                and dims and not d.limit and not d.having and not re.search(r"\bhow many\b|\bnumber of\b|\bcount\b|\bheadcount\b", q)
            if listing:
                return self._finish(d, [], dims, [], [])
            numbers = [c.name for c in lex.columns if c.role == "measure"]
            counting = re.search(r"\bhow many\b|\bnumber of\b|\bcount\b|\bheadcount\b", q)
            generic = [c for c in lex.columns if c.role == "measure" and set(c.words) & self._GENERIC_MEASURES]
            if len(numbers) == 1 and generic and not counting and (d.agg_of_value or d.value_noun):
                # a long table: "total signups by region" sums the one value column where metric = signups
                col = generic[0]
                agg = d.agg_word or ("avg" if col.averaged else "sum")
                measures.append(named_measure(agg, col.name))
                d.notes.append(f"measured with {col.name}")
            word = d.agg_of
            if measures:
                pass
            elif word is not None and not self._is_rows(word, lex) and word not in ("number", "count"):
                raise UnmatchedTerm(word, closest(word, [c.name for c in lex.columns]), table=lex.name)
            elif re.search(r"\bhow much\b", q):
                # "how much did we sell": money, if the table has a column for it; never a row count
                money = next((c for w in SYNONYMS["sales"] + SYNONYMS["money"] for c in lex.columns
                              if c.role == "measure" and w in c.words), None)
                if money is None:
                    raise UnmatchedTerm("how much", numbers, table=lex.name)
                measures.append(named_measure("avg" if money.averaged else "sum", money.name))
                d.notes.append(f"read 'how much' as {money.name}")
            else:
                measures.append(Measure(agg="count", alias="count"))
        if d.limit is not None and not dims and not d.grain and measures and measures[0].column and not follow_up:
            # "the five highest paid employees": rows, not groups
            m0 = measures[0]
            col = lex.column(m0.column) if m0.column else None
            if col is not None and col.role == "measure" and m0.over is None and not m0.share:
                label = lex.label_column()
                columns = ([label.name] if label else []) + [col.name]
                return self._finish(d, [], [], columns, [Order(by=col.name, desc=d.desc)])
        order: list[Order] = []
        year_dims = [x for x in dims if (c := lex.column(x)) is not None and c.role == "year"]
        if d.limit is not None or (d.ordered and measures):
            order.append(Order(by=measures[0].name, desc=d.desc))
        elif d.grain:
            order.append(Order(by=d.grain, desc=False))
        elif year_dims:
            order.append(Order(by=year_dims[0], desc=False))
        elif dims and measures:
            order.append(Order(by=measures[0].name, desc=True))
        return self._finish(d, measures, dims, columns, order)

    @staticmethod
    def _is_rows(word: str, lex: TableLex) -> bool:
        w = singular(word)
        return w in ROW_NOUNS or w in COUNT_NOUNS or w in lex.name_words or w in lex.entity_words

    def _finish(self, d: Draft, measures: list[Measure], dims: list[str], columns: list[str], order: list[Order]) -> Intent:
        lex = d.lex
        text_dates = [c.name for c in lex.columns if c.role == "textdate"]
        return Intent(
            table=lex.name,
            database=lex.info.database,
            measures=measures,
            dimensions=dims,
            filters=d.filters + d.time_filters,
            time_range=d.time_range,
            time_column=d.time_col if d.grain else None,
            time_grain=d.grain,  # type: ignore[arg-type]
            order=order,
            limit=d.limit if measures or columns else None,
            columns=columns,
            having=d.having,
            text_dates=text_dates,
            notes=list(dict.fromkeys(d.notes)),
        )

    # ---------------------------------------------------------------- conversation

    def _conversation(self, q: str) -> Reply | None:
        names = ", ".join(t.name for t in self.catalog.tables) or "none yet"
        if re.fullmatch(r"(hi|hello|hey|hiya|howdy|good (morning|afternoon|evening))( there)?( \w+)?", q):
            return Reply(f"Hello! Ask me about your data, for example about these tables: {names}.")
        if re.fullmatch(r"(thanks|thank you|thx|cheers|great|perfect|awesome|nice|cool)( (a lot|so much|very much|again))?( \w+)?", q):
            return Reply("You're welcome. Ask another question whenever you like.")
        if re.fullmatch(r"(bye|goodbye|see you( later)?)", q):
            return Reply("Goodbye!")
        if re.search(r"\b(what|which|list|show)( me)?( the| all| your)? tables\b|\btables do you (have|know)\b|\bwhat data do you have\b", q):
            lines = [f"{t.name} ({t.rows:,} rows, {len(t.columns)} columns)" for t in self.catalog.tables]
            return Reply("Tables: " + ("; ".join(lines) if lines else "none yet"))
        m = re.search(r"\b(?:describe|columns|fields|tell me about|what is in|whats in|schema|structure)\b", q)
        if m:
            t = next((t for w in q[m.end() :].split() if (t := self._table_by_word(w)) is not None), None)
            if t is not None:
                cols = ", ".join(f"{c.name} ({c.kind})" for c in t.columns)
                return Reply(f"{t.name} has {t.rows:,} rows and columns: {cols}.")
        if re.search(r"\bwhat can you do\b|^help\b|\bwhat can i ask\b|\bhow do(?:es)? (?:this|it|you) work\b", q):
            return Reply(
                "Ask for totals, averages, counts, medians, minimums or maximums, by a category or by "
                "month/quarter/year, with filters like 'in 2023', 'over 100' or 'in Europe', shares "
                "('share of revenue by region'), ratios ('revenue per unit'), top or bottom N, and "
                f"follow-ups like 'now by country'. Tables: {names}."
            )
        return None

    def _table_by_word(self, word: str) -> object | None:
        for t in self.catalog.tables:
            if word in (t.name.lower(), singular(t.name.lower())) or singular(word) == singular(t.name.lower()):
                return t
        return None

    # ---------------------------------------------------------------- table choice

    # Names of the one number column of a long table (metric, value): it measures whatever is named.
    _GENERIC_MEASURES = frozenset({"value", "values", "amount", "total", "quantity", "qty", "measure", "metric",
                                   "val", "amt", "sum", "reading", "figure", "n", "number"})
    _PEOPLE = frozenset({"people", "person", "persons", "employee", "staff", "worker", "member", "user", "customer",
                         "student", "patient", "player", "client", "who", "someone", "anyone"})
    _PERSON_HINTS = frozenset({"employee", "staff", "person", "people", "member", "user", "student", "patient", "player",
                               "worker", "customer", "client", "hire", "salary", "full", "first", "surname", "host",
                               "guest", "passenger", "manager", "agent", "age", "gender", "sex", "birth"})

    def _table_score(self, tokens: list[str], lex: TableLex) -> float:
        mentions, ambiguous = find_mentions(tokens, lex, strict=self.strict)
        values = find_values(tokens, lex, known=self.known)
        value_spans = {(v.start, v.end): v.exact for v in values}
        score = 0.0
        for m in mentions:
            if any(s <= m.start < e for s, e in value_spans):
                continue
            weight = 1.0 if m.full else 0.8
            if m.column.role in ("year", "date", "textdate") and all(t in GRAINS or t in FILLER for t in tokens[m.start : m.end]):
                weight = 0.0  # "last year", "by month": time words, not this table's own
            elif all(t in GRAINS for t in tokens[m.start : m.end]):
                weight = 0.2  # "monthly" said of time, not of monthly_fee
            elif m.column.role in ("year", "date", "textdate"):
                weight *= 0.5
            if m.column.role != "measure" and m.start > 0 and tokens[m.start - 1] in ("total", "average", "avg", "mean", "median", "sum"):
                weight *= 0.3  # "total area": a number is meant, not a category
            score += (m.end - m.start) * m.quality * weight
        score += sum((e - s) * (0.9 if exact else 0.6) for (s, e), exact in value_spans.items())  # a column name weighs more
        score += 0.45 * sum(1 for a in ambiguous if not (a.start > 0 and tokens[a.start - 1] == "over"))
        has_dates = bool(lex.by_role("date", "textdate"))
        has_years = bool(lex.by_role("year"))
        if not has_dates and any(t in MONTHS or t in ("month", "months", "monthly", "week", "weekly", "day", "daily", "quarter", "quarterly") or re.fullmatch(r"\d+th", t) for t in tokens):
            score -= 0.5  # a day, month or quarter: tables with dates
        elif not has_dates and not has_years and any(re.fullmatch(r"(19|20)\d\d", t) for t in tokens):
            score -= 0.5
        others = self._column_words
        score += sum(2.0 if singular(t) not in others else 1.0 for t in tokens if t in lex.name_words or singular(t) in lex.name_words)
        score += 1.0 * sum(1 for t in tokens if singular(t) in lex.entity_words)
        if any(singular(t) in self._PEOPLE for t in tokens) and not self._people_named:
            # "how many people joined": the table whose columns speak of people
            words = {singular(w) for c in lex.columns for w in c.parts} | set(lex.name_words) | set(lex.entity_words)
            score += 0.3 * min(3, len(words & self._PERSON_HINTS))
        return score

    def _next_table(self, tokens: list[str], failed: TableLex, exc: PlanningError) -> Intent:
        best = self._scores[0][0] if self._scores else 0.0
        for score, lex in self._scores:
            if lex is failed or score <= 0 or isinstance(exc, UnmatchedTerm) and score < best - 1.5:
                continue
            try:
                return self._intent(Reader(self, tokens, lex).read(), tokens)
            except (PlanningError, AskBack):
                continue
        raise exc

    def _pick_table(self, tokens: list[str]) -> TableLex:
        self._scores: list[tuple[float, TableLex]] = []
        if len(self.tables) == 1:
            return self.tables[0]
        # "users" said and some table has a user column: no table wins just for being about people
        people = {i for i, t in enumerate(tokens) if singular(t) in self._PEOPLE}
        self._people_named = bool(people) and any(
            set(m.span) & people for lex in self.tables for m in find_mentions(tokens, lex, strict=self.strict)[0])
        scored = sorted(((self._table_score(tokens, lex), lex) for lex in self.tables), key=lambda s: -s[0])
        self._scores = scored
        best = scored[0][0]
        tied = [lex for score, lex in scored if abs(score - best) < 1e-6]
        if len(tied) == 1:
            return tied[0]
        # equally likely tables: keep those that can read every word; ask if several can
        readable: list[TableLex] = []
        first_error: Exception | None = None
        for lex in tied:
            try:
                Reader(self, tokens, lex).read()
                readable.append(lex)
            except (UnmatchedTerm, PlanningError) as exc:
                first_error = first_error or exc
            except AskBack:
                readable.append(lex)
        if len(readable) == 1:
            return readable[0]
        if not readable and first_error is not None:
            raise first_error
        if best == 0:
            names = [t.name for t in (readable or tied)]
            raise AskBack(" ".join(tokens), "table", [(n, ("table", n)) for n in names], "no word of the question names a table or column")
        raise AskBack(" ".join(tokens), "table", [(t.name, ("table", t.name)) for t in readable],
                   f"the words fit {len(readable)} tables equally")
