"""Reading one question against one table: an ordered list of rules over its words.

``Reader.RULES`` run in order, each consuming the tokens it understood: ``lexing`` (columns,
values, a lookup for values the catalog does not list), ``ranking`` (top N, superlatives,
sorting), ``grain`` (by month, over time), ``time`` (years, months, days, quarters, ranges and
periods relative to the newest date), ``comparisons`` (over 100, between, above the average),
``ratios`` (per, as a percentage of, ratio of), ``columns`` (the remaining columns become
measures, groupings or flags, with shares, HAVING and subqueries decided here), ``leftovers``
(values become filters; any word nothing explained is refused, naming it). The result is a
``Draft``: the slots the question said, before defaults (the planner fills those).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..errors import PlanningError, UnmatchedTerm
from ..models import Filter, Having, Measure, TimeRange
from .dates import DateRules
from .lexicon import CONNECTORS, ColumnLex, Mention, TableLex, ValueHit, find_mentions, find_values
from .lexicon import GENERIC as GENERIC_WORDS
from .vocabulary import (
    ADJECTIVE_NOUNS,
    AGG_WORDS,
    CMP_OPS,
    CMP_RE,
    COUNT_NOUNS,
    DIM_WORDS,
    FILLER,
    GRAINS,
    MONTHS,
    NEGATIONS,
    NUM,
    POSTFIX,
    RANKING_SUPS,
    ROW_NOUNS,
    SHARE_WORDS,
    SKIP,
    STOP,
    SUBJECT_LINKS,
    SUP_ASC,
    SUP_DESC,
    UNIT_WORDS,
    CURRENCIES,
    DIRECTION_WORDS,
    LOWER_IS_BETTER,
    MONEY_WORDS,
)
from .words import SYNONYMS, identifier_words, singular, word_match

if TYPE_CHECKING:  # pragma: no cover
    from .offline import OfflinePlanner


class AskBack(Exception):
    """Two readings are equally likely: ask which one (caught in ``plan``)."""

    def __init__(self, term: str, kind: str, options: list[tuple[str, tuple[str, ...]]], why: str = "") -> None:
        super().__init__(term)
        self.term, self.kind, self.options, self.why = term, kind, options, why


def _number(text: str) -> int | float:
    v = float(text)
    return int(v) if v.is_integer() else v


# ------------------------------------------------------------------ a question's reading


@dataclass
class SaidComparison:
    """A comparison said in the question, before it is known to be WHERE or HAVING."""

    op: str
    value: object
    against: str | None
    target: Mention | None
    row_noun: bool
    start: int
    end: int
    subject_dim: bool = False
    agg: str | None = None


@dataclass
class Draft:
    """The slots one question said, before the planner fills the defaults (a count, an order):
    a follow-up changes only the slots it says."""

    lex: TableLex
    measures: list[Measure] = field(default_factory=list)
    dims: list[str] = field(default_factory=list)
    grain: str | None = None
    time_col: str | None = None
    filters: list[Filter] = field(default_factory=list)
    time_filters: list[Filter] = field(default_factory=list)
    time_range: TimeRange | None = None
    having: list[Having] = field(default_factory=list)
    limit: int | None = None
    desc: bool = True
    ordered: bool = False
    columns: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    agg_word: str | None = None
    agg_of: str | None = None  # the word after an aggregation word that found no column
    agg_of_value: bool = False  # ... and that word is a value ("total signups")
    value_noun: bool = False  # a value is said as a noun, not after "in"/"for" ("the most visits")
    said: set[str] = field(default_factory=set)  # what the words set: measure, count, dims, filters, time, limit ...


class Reader(DateRules):
    """Reads one question against one table: each rule consumes the tokens it understood."""

    RULES = ("lexing", "ranking", "grain", "time", "comparisons", "ratios", "columns", "leftovers")

    def __init__(self, planner: OfflinePlanner, tokens: list[str], lex: TableLex) -> None:
        self.p = planner
        self.t = tokens
        self.q = " ".join(tokens)
        self.lex = lex
        self.used: set[int] = set()
        self.d = Draft(lex)
        self.mentions: list[Mention] = []
        self.values: list[ValueHit] = []
        self.cmps: list[SaidComparison] = []
        self.sup: tuple[int, bool] | None = None
        self.share_at: int | None = None
        self.ratio: tuple[Measure, Measure, bool] | None = None
        self.row_noun_at: list[int] = []
        self.reserved: set[int] = set()
        self.full_measures: list[Mention] = []

    def read(self) -> Draft:
        for rule in self.RULES:
            getattr(self, rule)()
        return self.d

    # ------------------------------------------------------------ helpers

    def _tok(self, pos: int) -> int:
        """The token index of a character offset in ``self.q``."""
        return self.q.count(" ", 0, pos)

    def _span(self, m: re.Match[str], group: int = 0) -> range:
        start = self._tok(m.start(group))
        return range(start, start + len(m.group(group).split()))

    def _free(self, span: range) -> bool:
        return not (set(span) & (self.used | self.reserved))

    def _take(self, span: range | set[int]) -> None:
        self.used |= set(span)

    def _before(self, i: int, n: int = 3, skip: frozenset[str] | set[str] = frozenset({"the", "a", "an", "of", "all"})) -> list[str]:
        out: list[str] = []
        j = i - 1
        while j >= 0 and len(out) < n:
            if self.t[j] not in skip:
                out.append(self.t[j])
            j -= 1
        return list(reversed(out))

    def _dim_before(self, i: int) -> bool:
        before = self.t[max(0, i - 4) : i]
        if before and before[-1] == "the":
            before = before[:-1]
        return any(tuple(before[-len(p) :]) == p for p in DIM_WORDS)

    def _is_row_noun(self, i: int) -> bool:
        w = singular(self.t[i])
        lex = self.lex
        for m in self.mentions:
            if i in m.span and not m.column.key and m.column.role in ("dimension", "text"):
                return m.column.label and not m.full  # "products" for product_name: the rows
        return w in ROW_NOUNS or w in lex.name_words or self.t[i] in lex.name_words or w in lex.entity_words

    def _mention_at(self, i: int) -> Mention | None:
        return next((m for m in self.mentions if m.start == i), None)

    def _mention_ending(self, i: int) -> Mention | None:
        return next((m for m in self.mentions if m.end == i), None)

    def _agg_for(self, m: Mention) -> str | None:
        """An aggregation said just before the column: "average unit price", "how many farms"."""
        j = m.start - 1
        seen = 0
        while j >= 0 and seen < 4:
            w = self.t[j]
            if w in ("the", "of", "a", "an", "all", "our", "my", "their", "its", "annual"):
                j -= 1
                continue
            if j in self.used and w not in AGG_WORDS and w not in SUP_DESC | SUP_ASC:
                break
            if w == "many" and j > 0 and self.t[j - 1] == "how":
                return "count"
            if w == "number" and j + 1 < len(self.t) and self.t[j + 1] == "of":
                return "count"
            if w in AGG_WORDS and not (w == "total" and j + 1 < len(self.t) and self.t[j + 1] == "number"):
                return AGG_WORDS[w]
            if w in SUP_DESC | SUP_ASC:
                seen += 1
                j -= 1
                continue
            if self._mention_ending(j + 1) is not None or w in ("by", "per", "with", "in", "for", "and", "where"):
                break
            seen += 1
            j -= 1
        if m.end < len(self.t) and self.t[m.end] in ("count", "total", "average", "median") and m.end not in self.used:
            word = self.t[m.end]
            if m.end + 1 >= len(self.t) or self.t[m.end + 1] not in ("by", "per", "of") or word == "count":
                self._take({m.end})
                return AGG_WORDS[word]
        return None

    # ------------------------------------------------------------ rules

    def lexing(self) -> None:
        lex = self.lex
        mentions, ambiguous = find_mentions(self.t, lex, strict=self.p.strict)
        # the word of the table's own id names its rows: "orders", "tickets", "employees"
        named = {i for m in mentions if not m.column.key and m.column.role in ("dimension", "text") for i in m.span}
        rows = {i for i in range(len(self.t)) if (singular(self.t[i]) in lex.entity_words
                or singular(self.t[i]) in lex.name_words and i not in named)
                and not (i > 0 and AGG_WORDS.get(self.t[i - 1]) in ("sum", "avg", "median", "min", "max") and self.t[i] in SYNONYMS)}
        mentions = [m for m in mentions if m.full and not (m.column.key and len(m.span) == 1) or not set(m.span) & rows]
        ambiguous = [a for a in ambiguous if not set(range(a.start, a.end)) & rows]
        forced = self.p.session.forced_columns
        for amb in ambiguous:
            choice = forced.get(amb.term)
            col = lex.column(choice) if choice else None
            if col is not None:
                mentions.append(Mention(col, amb.start, amb.end, 1.0, False, "chosen"))
        values = find_values(self.t, lex, known=self.p.known)
        values += self._look_up(mentions, values)
        keep_values: list[ValueHit] = []
        for v in values:
            vspan = set(range(v.start, v.end))
            over = [m for m in mentions if set(m.span) & vspan]
            if any(m.full and (m.end - m.start) > (v.end - v.start) and m.column is not v.column for m in over):
                continue
            if any(m.via == "synonym" and m.column.role == "measure" and self._before(m.start, 1) and self._before(m.start, 1)[0] in AGG_WORDS for m in over):
                continue
            mentions = [m for m in mentions if not (set(m.span) & vspan)]
            keep_values.append(v)
        # a column word beside one of its values only qualifies it: "the billing area", "enterprise customers"
        absorbed = []
        for m in mentions:
            for v in keep_values:
                related = v.column is m.column or (
                    m.column.role in ("dimension", "text") and bool({singular(w) for w in m.column.words if w not in GENERIC_WORDS}
                                                                     & {singular(w) for w in v.column.words}))
                if not related:
                    continue
                gap_after = self.t[v.end : m.start]
                gap_before = self.t[m.end : v.start]
                links = ("the", "of", "is", "a") if v.column is m.column else ("the", "of", "is", "a", "in", "at", "from", "on")
                if (m.start >= v.end and all(w in ("the", "of") for w in gap_after) and len(gap_after) <= 1) or (
                    m.end <= v.start and all(w in links for w in gap_before) and len(gap_before) <= 2
                ):
                    absorbed.append(m)
                    self._take(m.span)
                    break
        self.mentions = sorted([m for m in mentions if m not in absorbed], key=lambda m: m.start)
        self.values = keep_values
        taken_by_values = {i for v in keep_values for i in range(v.start, v.end)}
        self.reserved = set(taken_by_values)
        self.ambiguous = [a for a in ambiguous if not (set(range(a.start, a.end)) & taken_by_values)
                          and not any(m.via == "chosen" and m.start == a.start for m in self.mentions)]
        # "the longest petals": an adjective says which of two columns a shared word means
        resolved = []
        for amb in self.ambiguous:
            near = self.t[max(0, amb.start - 3) : amb.end + 2]
            nouns = {n for w in near for n in ADJECTIVE_NOUNS.get(w, ())}
            fits = [c for c in amb.columns if nouns & set(c.words)]
            if len(fits) == 1:
                self.mentions.append(Mention(fits[0], amb.start, amb.end, 0.9, False, "adjective"))
                self.mentions.sort(key=lambda m: m.start)
                resolved.append(amb)
        self.ambiguous = [a for a in self.ambiguous if a not in resolved]
        # "resolution time": a unit word right after one of the columns it could mean
        kept = []
        for amb in self.ambiguous:
            prev = self._mention_ending(amb.start)
            if prev is not None and prev.column in amb.columns:
                self._take(range(amb.start, amb.end))
                continue
            kept.append(amb)
        self.ambiguous = kept
        for i, w in enumerate(self.t):
            if i not in self.used and not any(i in m.span for m in self.mentions) and i not in taken_by_values and self._is_row_noun(i):
                self.row_noun_at.append(i)

    def ranking(self) -> None:
        q = self.q
        sup_words = "|".join(sorted(SUP_DESC | SUP_ASC, key=len, reverse=True))
        m = re.search(r"\b(top|bottom|first|last)\s+(\d{1,4})\b(?!\s+(?:years?|quarters?|months?|weeks?|days?)\b)", q)
        if m and m.group(1) in ("first", "last") and not re.search(r"\b(first|last) \d+ (?!years?|quarters?|months?|weeks?|days?)\w+", q):
            m = None
        if m:
            self.d.limit = max(1, int(m.group(2)))
            self.d.desc = m.group(1) in ("top", "first")
            self._take(self._span(m))
            self.d.said.add("limit")
        else:
            m = re.search(rf"\b(?:the\s+)?(\d{{1,4}})\s+({sup_words})\b", q) or re.search(rf"(?<!\bat )(?<!\bno )\b({sup_words})\s+(\d{{1,4}})\b(?![.\d])", q)
            if m:
                num, word = (m.group(1), m.group(2)) if m.group(1).isdigit() else (m.group(2), m.group(1))
                self.d.limit = max(1, int(num))
                self.d.desc = word in SUP_DESC
                self._take(self._span(m))
                self.d.said.add("limit")
            else:
                m = re.search(rf"\b(?:which|what|the)\s+(\d{{1,3}})\s+\w+.*?\b({sup_words})\b", q) or re.search(
                    rf"\b(\d{{1,3}})\s+\w+(?:\s+\w+)?\s+(?:with|by|having|that have|that had)\s+(?:the\s+)?({sup_words})\b", q)
                if m and not re.fullmatch(r"(19|20)\d\d", m.group(1)):
                    self.d.limit = max(1, int(m.group(1)))
                    self.d.desc = m.group(2) in SUP_DESC
                    self._take(self._span(m, 1))
                    self._take(self._span(m, 2))
                    self.d.said.add("limit")
        for i, w in enumerate(self.t):
            if i in self.used:
                continue
            if w in ("least", "most") and i > 0 and self.t[i - 1] in ("at", "no", "not"):
                continue  # "at least 4.5": a comparison
            if w in SUP_DESC | SUP_ASC and not (w in ("top", "bottom") and i + 1 < len(self.t) and self.t[i + 1].isdigit()):
                if w in ("latest", "earliest") and i + 1 < len(self.t) and self.t[i + 1] in GRAINS:
                    continue  # "the latest year": a date, read by ``time``
                if w == "most" and i + 1 < len(self.t) and self.t[i + 1] == "recent":
                    continue
                self.sup = (i, w in SUP_DESC)
                break
        if self.d.limit is not None and self.sup is not None:
            self._take({self.sup[0]})
        om = re.search(r"^(?:please )?(rank|sort|order|arrange)\b(?:\s+\w+){0,4}?\s+by\b|\b(ranked|ranking|sorted|ordered|arranged|rank|sort|order) by\b", q)
        if om or re.search(r"\b(descending|ascending|highest to lowest|lowest to highest|largest to smallest|smallest to largest)\b", q):
            self.d.ordered = True
            self.d.said.add("order")
            if re.search(r"\b(ascending|lowest to highest|smallest to largest|lowest first|increasing)\b", q):
                self.d.desc = False
            if om:
                g = 1 if om.group(1) else 2
                self._take({self._tok(om.start(g))})

    def grain(self) -> None:
        q = self.q
        gm = re.search(r"\b(?:by|per|each|every|for each|for every|in each|a|which|what)\s+(?:the\s+)?(day|week|month|quarter|year)s?\b|\b(daily|weekly|monthly|quarterly|yearly|annually|annual)\b|\bover (?:the )?(days|weeks|months|quarters|years)\b", q)
        if gm:
            word = next(g for g in gm.groups() if g)
            grain = GRAINS[word]
            span = self._span(gm)
            if gm.group(0).startswith("per") and span.stop + 1 < len(self.t) and self.t[span.stop] == "of" and self._mention_at(span.stop + 1):
                return  # "cost per day of stay": a ratio, not a time grain
            if gm.group(0).startswith("a ") and not (gm.end() == len(q) or q[gm.end() :].startswith(" ")):
                return
            if gm.group(0).startswith("a "):
                span = range(span.start + 1, span.stop)
        elif (tm := re.search(r"\bover time\b|\btrends?\b|\btime series\b|\byear over year\b|\bevolution\b|\bevolved\b|\bhistory\b|\bhistorical(?:ly)?\b", q)):
            span = self._span(tm)
            grain = "year" if self.lex.by_role("year") and not self.lex.by_role("date", "textdate") or "year" in tm.group(0) else "month"
        else:
            return
        if not self._free(span) or any(m.full and set(m.span) & set(span) and len(m.span) > 1 for m in self.mentions):
            return
        if any(m.full and m.column.role not in ("date", "textdate", "year") and set(m.span) & set(span) for m in self.mentions):
            return  # a column called "day" or "month" (text): grouped by it, not by a date
        self._take(span)
        self._set_grain(grain)

    def _set_grain(self, grain: str) -> None:
        self.d.said.add("dims")
        years = self.lex.by_role("year")
        dates = self._time_columns(("date", "textdate"))
        if grain == "year" and years and (not dates or any(m.column in years for m in self.mentions)):
            self.d.dims.append(years[0].name)
            self.d.said.add("year-dim")
            return
        if not dates:
            if years:
                raise PlanningError(f"Table {self.lex.name} has years ({years[0].name}) but no dates, so no {grain}s.",
                                    hint=f"ask by year instead, e.g. '... by {years[0].name}'")
            raise PlanningError(f"Table {self.lex.name} has no date column to group by {grain}.")
        self.d.grain = grain
        self.d.time_col = dates[0].name

    def _time_columns(self, roles: tuple[str, ...]) -> list[ColumnLex]:
        cols = self.lex.by_role(*roles)
        said = [m.column for m in self.mentions if m.column.role in roles]
        return list(dict.fromkeys(said + cols))

    # ------------------------------------------------------------ comparisons

    def comparisons(self) -> None:
        q = self.q
        found: list[tuple[range, str, object, str | None, int]] = []  # span, op, value, against, position of value
        for m in re.finditer(rf"\b({CMP_RE}) (?:the |an |a )?(?:overall )?(average|mean|median)\b", q):
            found.append((self._span(m), CMP_OPS[m.group(1)], 0, "median" if m.group(2) == "median" else "avg", self._span(m).stop))
        for m in re.finditer(r"\b(above|below|over|under|higher than|lower than|more than|less than)(?: the)? (average|mean)\b|\b(above|below) (?:the )?(average|mean)\b", q):
            span = self._span(m)
            if any(set(span) & set(s) for s, *_ in found):
                continue
            word = m.group(1) or m.group(3)
            found.append((span, ">" if word in ("above", "over", "higher than", "more than") else "<", 0, "avg", span.stop))
        for m in re.finditer(rf"\bbetween ({NUM}) and ({NUM})\b", q):
            span = self._span(m)
            if self._free(span):
                found.append((span, "between", [_number(m.group(1)), _number(m.group(2))], None, span.stop))
        for m in re.finditer(rf"\b({CMP_RE}) ({NUM})\b", q):
            span = self._span(m)
            if self._free(span) and not any(set(span) & set(s) for s, *_ in found):
                found.append((span, CMP_OPS[m.group(1)], _number(m.group(2)), None, span.stop))
        for m in re.finditer(rf"\b({NUM}) or (more|greater|higher|above|over|less|fewer|lower|below|under)\b", q):
            span = self._span(m)
            if self._free(span) and not any(set(span) & set(s) for s, *_ in found):
                found.append((span, POSTFIX[m.group(2)], _number(m.group(1)), None, span.start + 1))
        # "have 0 availability", "with 2 bathrooms": a number right before a numeric column
        for mn in self.mentions:
            if mn.column.role != "measure" or mn.start < 2:
                continue
            if re.fullmatch(NUM, self.t[mn.start - 1]) and self.t[mn.start - 2] in ("have", "has", "had", "with", "having") and mn.start - 1 not in self.used:
                span = range(mn.start - 1, mn.start)
                if not any(set(span) & set(s) for s, *_ in found):
                    found.append((span, "=", _number(self.t[mn.start - 1]), None, mn.start))
        # "a csat of 1", "quantity is 3": a number right after a numeric column
        for mn in self.mentions:
            if mn.column.role != "measure" or mn.end + 1 >= len(self.t):
                continue
            if self.t[mn.end] in ("of", "is", "was", "equals", "=") and re.fullmatch(NUM, self.t[mn.end + 1]) and mn.end + 1 not in self.used:
                span = range(mn.end, mn.end + 2)
                if not any(set(span) & set(s) for s, *_ in found):
                    found.append((span, "=", _number(self.t[mn.end + 1]), None, mn.end + 2))
        for span, op, value, against, stop in sorted(found, key=lambda f: f[0].start):
            if not self._free(span):
                continue
            target, row_noun, tspan = self._cmp_target(span, stop, against)
            if target is None and not row_noun:
                if against is None and any(re.fullmatch(r"(19|20)\d\d", str(v)) for v in (value if isinstance(value, list) else [value])):
                    continue  # "after 2020", "between 2005 and 2010": dates, read by ``time``
                numbers = [c.name for c in self.lex.columns if c.role == "measure"]
                raise UnmatchedTerm(" ".join(self.t[span.start : span.stop]), numbers, table=self.lex.name)
            self._take(span)
            self._take(tspan)
            first = min(span.start, tspan.start if tspan else span.start)
            if target is not None:  # "more than 48 hours to resolve": the same column said again
                end = max(span.stop, tspan.stop if tspan else 0)
                for mn in self.mentions:
                    if mn.column is not target.column or mn is target:
                        continue
                    if 0 <= mn.start - end <= 2 and all(w in SKIP | {"to"} for w in self.t[end : mn.start]):
                        self._take(mn.span)
                    gap = [w for w in self.t[mn.end : span.start] if w not in ("time", "duration")]
                    if 0 <= span.start - mn.end <= 3 and all(w in SKIP for w in gap):
                        self._take(mn.span)
                        first = min(first, mn.start)
            cmp = SaidComparison(op, value, against, target, row_noun, span.start, span.stop)
            # "countries with total revenue over 1m", "cities where the average salary is above"
            before = self._before(first, 3, skip={"the", "a", "an", "is", "was", "are", "were"})
            for w in before[::-1]:
                if w in AGG_WORDS and AGG_WORDS[w] != "count":
                    cmp.agg = AGG_WORDS[w]
                    break
                if w not in ("total", "average", "mean", "median"):
                    break
            cmp.subject_dim = self._subject_is_dim(first)
            self.cmps.append(cmp)
        # "with a discount" / "with no direct reports": more than zero / zero
        for mn in self.mentions:
            if mn.column.role != "measure" or set(mn.span) & self.used:
                continue
            before = self.t[max(0, mn.start - 2) : mn.start]
            after = self.t[mn.end] if mn.end < len(self.t) else ""
            if after in ("of", "over", "above", "below", "under", "between", "than") or (after and after[0].isdigit()):
                continue
            if before[-1:] in (["without"], ["no"]) or before == ["with", "no"] or before == ["without", "any"]:
                self.d.filters.append(Filter(column=mn.column.name, op="=", value=0))
            elif before[-1:] in (["with"],) or before in (["with", "a"], ["with", "an"], ["with", "any"], ["had", "a"], ["have", "a"], ["has", "a"]):
                self.d.filters.append(Filter(column=mn.column.name, op=">", value=0))
            else:
                continue
            self.d.said.add("filters")
            self._take(mn.span)
            self._take(range(mn.start - len(before), mn.start))

    def _cmp_target(self, span: range, stop: int, against: str | None) -> tuple[Mention | None, bool, range]:
        """The column a comparison is about: said right after the number ("more than 10 years of
        experience", "over 500 farms", "48 hours"), else the nearest number column before it."""
        t = self.t
        j = stop
        while j < len(t) and t[j] in ("the", "of", "a", "an", "in", "total"):
            j += 1
        after = self._mention_at(j) if j < len(t) else None
        if after is not None and not (set(after.span) & self.used) and after.column.role in ("measure", "year", "dimension", "text") and (
            against or after.column.role == "measure" or after.column.role in ("dimension", "text")
        ):
            if after.column.role in ("dimension", "text") and against:
                after = None
            if after is not None:
                return after, False, after.span
        if j < len(t) and j not in self.used and self._is_row_noun(j) and against is None:
            return None, True, range(j, j + 1)
        # "over 80 years old": a word after the number that means a column
        for k in (j, j + 1):
            if k < len(t) and k not in self.used and against is None:
                cols = [c for c in self.lex.columns if c.role == "measure" and any(m in c.words for m in SYNONYMS.get(t[k], ()))]
                if len(cols) == 1 and t[k] not in ("more", "less", "over", "under"):
                    return Mention(cols[0], k, k + 1, 0.6, False, "adjective"), False, range(j, k + 1)
        # "above 25 degrees": the one number column measured in that unit; "over 100 dollars": money
        if j < len(t) and t[j] in UNIT_WORDS | {"volts", "celsius", "degrees"} and against is None:
            cols = [c for c in self.lex.columns if c.role == "measure" and any(word_match(p, t[j]) >= 0.75 for p in c.parts)]
            if not cols and t[j] in CURRENCIES:
                money = [c for c in self.lex.columns if c.role == "measure" and set(c.words) & MONEY_WORDS]
                cols = money[:1] if len(money) == 1 else []
            before_m = self._mention_ending(span.start) or self._mention_ending(span.start - 1)
            if len(cols) == 1 and not (before_m is not None and before_m.column.role == "measure" and before_m.column is not cols[0]):
                return Mention(cols[0], j, j + 1, 0.7, False, "unit"), False, range(j, j + 1)
        # before: skipping words like "is", "was", "the", "had"
        k = span.start - 1
        while k >= 0 and (t[k] in SKIP | {"to", "than"} and k not in self.used or t[k] in ("time", "duration") and k in self.used):
            k -= 1
        before = self._mention_ending(k + 1) if k >= 0 else None
        if before is not None and before.column.role in ("measure", "year") and not (set(before.span) & self.used):
            # a unit said after the number names the same column: take it too
            extra = range(stop, stop)
            if after is not None and after.column is before.column:
                extra = after.span
            elif stop < len(t) and t[stop] in UNIT_WORDS:
                extra = range(stop, stop + 1)
            if extra:
                self._take(extra)
            return before, False, before.span
        if after is not None and after.column.role == "measure":
            return after, False, after.span
        # "how many men are over 60": said of people, a bare number is an age
        people = {"man", "woman", "person", "people", "men", "women", "male", "female", "boy", "girl", "adult", "child"}
        if against is None and re.fullmatch(NUM, str(t[span.stop - 1])) and any(singular(w) in people or w in people for w in t) \
                or (j < len(t) and t[j] in ("years", "year", "yrs")):
            ages = [c for c in self.lex.columns if c.role == "measure" and "age" in c.words]
            if len(ages) == 1:
                return Mention(ages[0], span.start, span.start + 1, 0.6, False, "age"), False, range(j, min(len(t), j + 2)) if j < len(t) and t[j] in ("years", "year", "yrs") else range(0)
        # "older than 65": the column the adjective measures
        for w in t[span.start : span.stop]:
            for meaning in SYNONYMS.get(w, ()) if w not in ("more", "less", "over", "under") else ():
                cols = [c for c in self.lex.columns if c.role == "measure" and meaning in c.words]
                if len(cols) == 1:
                    return Mention(cols[0], span.start, span.start + 1, 0.6, False, "adjective"), False, range(0)
        return None, False, range(0)

    def _subject_is_dim(self, first: int) -> bool:
        """Whether the comparison follows "<a dimension> with/whose/that have": a condition on groups."""
        k = first - 1
        while k >= 0 and self.t[k] in ("a", "an", "the", "total", "average", "mean", "median", "is", "was", "are", "were"):
            k -= 1
        if k < 0 or self.t[k] not in SUBJECT_LINKS:
            return False
        k -= 1
        if k >= 0 and self.t[k] in ("that", "which", "who"):
            k -= 1
        m = self._mention_ending(k + 1)
        return m is not None and m.column.role in ("dimension", "text", "year") and not (m.column.label and not m.full)

    # ------------------------------------------------------------ shares and ratios

    def _side(self, i: int, forward: bool = True) -> tuple[Measure | None, range]:
        """The measure named at token i: a column (its natural aggregate), or rows ("orders")."""
        t = self.t
        j = i
        step = 1 if forward else -1
        while 0 <= j < len(t) and t[j] in ("the", "a", "an", "total", "of", "our"):
            j += step
        if not 0 <= j < len(t):
            return None, range(0)
        m = self._mention_at(j) if forward else self._mention_ending(j + 1)
        if m is not None and not (set(m.span) & self.used):
            agg = self._agg_for(m) if not forward else None
            return self._measure_of(m, agg), m.span
        if self._is_row_noun(j) or t[j] in COUNT_NOUNS:
            return Measure(agg="count", alias="count"), range(j, j + 1)
        return None, range(0)

    def _measure_of(self, m: Mention, agg: str | None = None) -> Measure:
        col = m.column
        if col.role in ("dimension", "text", "id", "yesno"):
            return named_measure("count_distinct", col.name)
        if agg is None or agg == "count":
            agg = "avg" if col.averaged else "sum"
        return named_measure(agg, col.name)

    def ratios(self) -> None:
        q = self.q
        # "discount as a percentage of the unit price", "ratio of output to area", "revenue per unit"
        for m in re.finditer(r"\bas an? (percentage|percent|share|proportion|fraction|ratio) of\b", q):
            span = self._span(m)
            top, tspan = self._side(span.start - 1, forward=False)
            bottom, bspan = self._side(span.stop)
            if top and bottom and self._free(span):
                self.ratio = (top, bottom, m.group(1) != "ratio")
                self._take(span), self._take(tspan), self._take(bspan)
                return
        for m in re.finditer(r"\bratio (?:of|between) (.+?) (?:to|and) ", q + " "):
            top, tspan = self._side(self._tok(m.start(1)))
            bottom, bspan = self._side(self._tok(m.end(0)) if m.end(0) < len(q) else len(self.t))
            if top and bottom:
                self.ratio = (top, bottom, False)
                self._take(self._span(m, 0)), self._take(tspan), self._take(bspan)
                return
        for m in re.finditer(r"\b(per|divided by|for every)\b", q):
            span = self._span(m)
            if not self._free(span) or span.stop >= len(self.t) or any(set(span) & set(x.span) for x in self.mentions):
                continue  # "gdp per capita" may be one column's name
            k = span.stop
            while k + 1 < len(self.t) and (self.t[k] in UNIT_WORDS | {"of", "the", "each", "day", "unit"} and self._mention_at(k) is None):
                k += 1  # "per day of stay"
            after = self._mention_at(k) if self._mention_at(span.stop) is None else self._mention_at(span.stop)
            nxt = self.t[span.stop]
            bottom: Measure | None = None
            if after is not None and after.column.role == "measure" and not (set(after.span) & self.used):
                bottom, bspan = named_measure("sum", after.column.name), after.span
            elif after is not None and after.column.role in ("text", "id") and not (set(after.span) & self.used):
                bottom, bspan = named_measure("count_distinct", after.column.name), after.span
            elif self._is_row_noun(span.stop) and span.stop not in self.used:
                bottom, bspan = Measure(agg="count", alias="count"), range(span.stop, span.stop + 1)
            if bottom is None or nxt in GRAINS and not (after is not None and after.start > span.stop):
                continue
            if after is not None and bottom.column == after.column.name:
                bspan = range(span.stop, after.end)
            top, tspan = self._side(span.start - 1, forward=False)
            if top is None or top.agg == "count" and bottom.agg == "count":
                continue
            if bottom.agg == "count" and bottom.column is None and top.agg in ("avg", "median", "min", "max"):
                self._take(span), self._take(bspan)  # "average revenue per order" is the average
                return
            self.ratio = (top, bottom, False)
            self._take(span), self._take(tspan), self._take(bspan)
            return
        # share words: the measure is decided in ``columns``
        for i, w in enumerate(self.t):
            if w in SHARE_WORDS and i not in self.used and not any(i in m.span for m in self.mentions):
                self.share_at = i
                self._take({i})
                break

    # ------------------------------------------------------------ columns

    def columns(self) -> None:
        d = self.d
        by_measure: list[tuple[Mention, str | None]] = []
        pending: list[Mention] = []
        said_dims: set[str] = set()
        last_dim_end = -1
        for mn in self.mentions:
            if set(mn.span) & self.used:
                continue
            col = mn.column
            agg = self._agg_for(mn)
            by_number = self.t[max(0, mn.start - 3) : mn.start] in (["by", "number", "of"], ["per", "number", "of"])
            if by_number:
                agg = None
            dim_before = by_number or self._dim_before(mn.start) or (
                mn.start >= 2 and self.t[mn.start - 1] in ("and", "or") and last_dim_end == mn.start - 1
            ) or (mn.start >= 3 and self.t[mn.start - 2 : mn.start] == ["and", "by"])
            self._take(mn.span)
            loose = [w for w in self.t[mn.start : mn.end] if w not in CONNECTORS and 0 < max(word_match(p, w) for p in col.parts) < 0.7]
            if loose and mn.via in ("name", "part"):
                d.notes.append(f"read '{' '.join(self.t[mn.start:mn.end])}' as {col.name}")
            if col.role == "measure":
                if mn.full and mn.via == "name":
                    self.full_measures.append(mn)
                if agg == "count":  # "how many farms", "how many passengers survived": this column counts
                    for k in range(max(0, mn.start - 5), mn.start - 1):
                        if self.t[k : k + 2] == ["how", "many"] or self.t[k : k + 2] == ["number", "of"]:
                            self._take({k, k + 1})
                if agg is None and mn.end < len(self.t) and self.t[mn.end] == "rate" and mn.end not in self.used:
                    agg = "avg"  # "survival rate"
                    self._take({mn.end})
                if dim_before and agg is None and self.t[mn.start - 1] != "per":
                    by_measure.append((mn, None))
                    continue
                by_measure.append((mn, agg or "_"))
            elif col.role == "year":
                if agg == "count" and self.t[max(0, mn.start - 2) : mn.start] not in (["how", "many"], ["number", "of"], ["count", "of"]):
                    continue  # "number of products released each year": "released" names the year
                if agg in ("min", "max"):
                    d.measures.append(named_measure(agg, col.name))
                elif agg in ("count", "count_distinct"):
                    d.measures.append(named_measure("count_distinct", col.name))
                else:
                    d.dims.append(col.name)
                    d.said.add("year-dim")
                d.said.add("dims")
            elif col.role in ("dimension", "text", "id"):
                if agg in ("count", "count_distinct") and not dim_before:
                    d.measures.append(named_measure("count_distinct", col.name))
                    d.said.add("measure")
                elif dim_before:
                    d.dims.append(col.name)
                    said_dims.add(col.name)
                    last_dim_end = mn.end
                    d.said.add("dims")
                else:
                    pending.append(mn)
            elif col.role in ("yesno", "bool"):
                both = [x for x in self.mentions if x.column is col]
                if len(both) > 1 and negated_at(self.t, both[-1].start) != negated_at(self.t, both[0].start):
                    dim_before = True  # "smokers vs non smokers": the flag's two groups
                    for x in both:
                        self._take(x.span)
                        if x.start > 0 and self.t[x.start - 1] in NEGATIONS:
                            self._take({x.start - 1})
                    if col.name in d.dims:
                        continue
                if dim_before:
                    d.dims.append(col.name)
                    d.said.add("dims")
                    continue
                after = self.t[mn.end] if mn.end < len(self.t) else ""
                if after in ("rate", "rates", "percentage", "share", "ratio", "proportion") and mn.end not in self.used:
                    # "churn rate": the share of rows with the flag set
                    flag = Filter(column=col.name, op="=", value=True if col.role == "bool" else col.yes_value)
                    rows = Measure(agg="count", alias="count")
                    d.measures.append(rows.model_copy(update={"where": (flag,), "over": rows, "percent": True, "alias": f"pct_{col.name}"}))
                    d.said.add("measure")
                    self._take({mn.end})
                    continue
                before = self.t[max(0, mn.start - 2) : mn.start]
                negated = bool(set(before) & NEGATIONS) or (mn.start > 0 and self.t[mn.start - 1] == "non") or before == ["out", "of"]
                value: object = (not negated) if col.role == "bool" else (col.no_value if negated else col.yes_value)
                d.filters.append(Filter(column=col.name, op="=", value=value))
                d.said.add("filters")
                self._take(range(mn.start - len(before), mn.start) if negated else range(0))
            elif col.role in ("date", "textdate"):
                if dim_before:
                    self._set_grain("day")
                    d.time_col = col.name
                    d.grain = d.grain or "day"
        # a text column not said after "by": the grouping, unless the groups were said elsewhere
        # ("customers per region": customers are counted)
        for mn in pending:
            if mn.start > 0 and self.t[mn.start - 1] in ("any", "all"):
                continue  # "for any crop", "across all regions": the whole table
            before = [w for w in self.t[max(0, mn.start - 2) : mn.start] if w not in ("the", "a")]
            asked = bool(before) and (before[-1] in ("which", "what", "each", "every") or before[-1].isdigit())
            if mn.column.label and not mn.full and not asked:
                self.row_noun_at.append(mn.start)  # "products with a rating above 4.5": rows, not groups
                continue
            counted_per_period = bool(d.grain) and not d.measures and not by_measure and mn.column.role in ("text", "id")
            if said_dims or counted_per_period:  # "customers per region", "daily active users"
                d.measures.append(named_measure("count_distinct", mn.column.name))
                d.said.add("measure")
            else:
                d.dims.insert(0, mn.column.name)
                d.said.add("dims")
        # number columns after "by": a grouping when something else is measured, else the measure
        others = [m for m, a in by_measure if a is not None]
        counting = bool(self.row_noun_at) or re.search(r"\bhow many\b|\bnumber of\b|\bcount\b|\bheadcount\b", self.q)
        for mn, agg in by_measure:
            if agg == "_" and any(x.column == mn.column.name for x in d.measures):
                continue  # "first reply time in minutes": the same column twice
            if agg is None and (others or counting or d.measures) and d.limit is None and not d.ordered:
                d.dims.append(mn.column.name)
                d.said.add("dims")
                continue
            agg = None if agg in (None, "_") else agg
            d.measures.append(self._measure_of(mn, agg) if agg != "count_distinct" else named_measure("count_distinct", mn.column.name))
            d.said.add("measure")
        # "the worst delay" is the longest: best and worst of a cost, a time or an error flip
        said_best = next((w for w in self.t if w in ("best", "worst", "better", "worse")), None)
        first_col = d.measures[0].column if d.measures else None
        if said_best and first_col and set(identifier_words(first_col)) & LOWER_IS_BETTER:
            if self.sup is not None and self.t[self.sup[0]] in ("best", "worst"):
                self.sup = (self.sup[0], not self.sup[1])
            elif d.limit is not None:
                d.desc = not d.desc
        # a superlative with nothing to rank is an aggregate: "the highest discount"
        if self.sup is not None and d.limit is None:
            i, desc = self.sup
            asks_which = bool(re.search(r"\b(which|what)\b|\bwith the\b|\b(has|have|had|having|got|gets|get) the\b", self.q))
            ranks_groups = bool(d.dims or d.grain) and (self.t[i] in RANKING_SUPS or asks_which)
            measured_first = any(m.end <= i and m.column.role == "measure" for m in self.mentions)
            heads = [r for r in self.row_noun_at if (r > i or r > 0 and self.t[r - 1] in ("which", "what"))
                     and not (self._mention_at(r + 1) and self._mention_at(r + 1).column.role == "measure")]
            ranks_rows = not (d.dims or d.grain) and bool(heads) and self.t[i] not in ("most", "least") \
                and not measured_first  # "age of the youngest patient" is an age; "smallest order quantity" too
            if ranks_groups or ranks_rows and d.measures:
                d.limit, d.desc = 1, desc  # rows: "which order had the highest revenue", "the heaviest product"
                d.said.add("limit")
            elif d.measures and self.t[i] not in RANKING_SUPS:
                first = d.measures[0]
                explicit = self._agg_for_index(i)
                if first.column and (explicit is None or explicit == first.agg or first.agg in ("sum", "avg")):
                    d.measures[0] = named_measure("max" if desc else "min", first.column)
            self._take({i})
        # share of a whole, or of a part
        self._shares()
        # comparisons: WHERE on rows or HAVING on groups
        grouped = bool(d.dims or d.grain)
        for c in self.cmps:
            if c.row_noun:
                m = Measure(agg="count", alias="count")
                d.having.append(Having(measure=m, op=c.op, value=c.value))  # type: ignore[arg-type]
                if not any(x.name == m.name for x in d.measures):
                    d.measures.append(m)
                continue
            col = c.target.column if c.target else None
            if col is None:
                continue
            on_groups = grouped and (c.agg is not None or c.subject_dim or col.role in ("dimension", "text"))
            if on_groups:
                if col.role in ("dimension", "text"):
                    m = named_measure("count_distinct", col.name)
                else:
                    m = named_measure(c.agg or ("avg" if col.averaged else "sum"), col.name)
                if c.against:
                    d.having.append(Having(measure=m, op=c.op if c.op != "between" else ">", against="avg"))  # type: ignore[arg-type]
                else:
                    d.having.append(Having(measure=m, op=c.op, value=c.value))  # type: ignore[arg-type]
                if not any(x.name == m.name for x in d.measures):
                    d.measures.append(m)
                d.measures = [x for x in d.measures if not (x.column == col.name and x.agg != m.agg and x.name != m.name and x.agg in ("sum", "avg"))]
            elif col.role not in ("measure", "year"):
                # "over 100 neighbourhood": a number compared with text, and no groups to count
                numbers = [x.name for x in self.lex.columns if x.role == "measure"]
                raise UnmatchedTerm(" ".join(self.t[c.start : c.end]), numbers, table=self.lex.name)
            elif c.against:
                d.filters.append(Filter(column=col.name, op=c.op if c.op != "between" else ">", value=0, against=c.against))  # type: ignore[arg-type]
            else:
                d.filters.append(Filter(column=col.name, op=c.op, value=c.value))  # type: ignore[arg-type]
            d.said.add("filters")
        # "how many employees earn more than ...": the rows are counted, whatever else is said
        for r in self.row_noun_at:
            idx = [k for k in range(max(0, r - 4), r) if self.t[k] not in ("the", "of", "a", "an") and k not in self.used or k == r - 1]
            before = [self.t[k] for k in idx]
            if before[-2:] == ["how", "many"] or before[-1:] == ["number"] or before[-2:] == ["count", "of"] or (
                len(before) >= 3 and before[-3:-1] == ["how", "many"] and r - 1 in self.used
            ):
                if not any(m.agg == "count" and m.column is None for m in d.measures) and self.share_at is None:
                    d.measures.insert(0, Measure(agg="count", alias="count"))
                break
        if d.having:
            d.said.add("measure")
        # a ratio said with "per", "as a percentage of", "ratio of ... to"
        if self.ratio is not None:
            top, bottom, pct = self.ratio
            alias = f"{top.column or 'rows'}_per_{bottom.column or 'row'}" if not pct else f"{top.column or 'rows'}_pct_of_{bottom.column or 'rows'}"
            d.measures.insert(0, top.model_copy(update={"over": bottom, "percent": pct, "alias": alias}))
            d.said.add("measure")
        # aggregation words with no column ("and the median"): for follow-ups
        for i, w in enumerate(self.t):
            if i in self.used or w not in AGG_WORDS:
                continue
            if AGG_WORDS[w] in ("avg", "median", "sum", "min", "max") and not d.measures:
                d.agg_word = AGG_WORDS[w]
                nxt = [k for k in range(i + 1, len(self.t)) if self.t[k] not in ("of", "the", "a", "an", "all")]
                d.agg_of = self.t[nxt[0]] if nxt else w
                d.agg_of_value = bool(nxt) and nxt[0] in self.reserved
        # a value said as the thing measured: "total signups", "the most visits", "monthly revenue"
        # (in a long table: metric = 'signups', value = ...)
        for v in self.values:
            k = v.start - 1
            while k >= 0 and self.t[k] in ("the", "a", "an", "our", "all"):
                k -= 1
            if k < 0 or self.t[k] not in ("in", "for", "from", "at", "on", "by", "of", "with", "to", "excluding", "except",
                                         "not", "without", "outside", "and", "or", "vs", "versus", "than", "between", "per"):
                d.value_noun = True
        if self.row_noun_at or re.search(r"\bhow many\b|\bnumber of\b|\bcount\b|\bheadcount\b", self.q):
            d.said.add("count")

    def _agg_for_index(self, i: int) -> str | None:
        for w in self.t[i + 1 : i + 3]:
            if w in AGG_WORDS:
                return AGG_WORDS[w]
        return None

    def _shares(self) -> None:
        """'share of revenue by region' (of the whole, per group) or 'what percentage of orders
        came from Europe' (the rows that pass a condition, of all rows)."""
        d = self.d
        if self.share_at is None:
            return
        i = self.share_at
        j = i + 1
        while j < len(self.t) and self.t[j] in ("of", "the", "our", "all", "total"):
            j += 1
        base: Measure | None = None
        if j < len(self.t) and self._is_row_noun(j):
            base = Measure(agg="count", alias="count")  # "what percentage of patients ..."
        for m in d.measures if base is None else ():
            if m.column and any(mn.column.name == m.column and mn.start >= i - 2 for mn in self.mentions):
                base = m
                break
        if base is None:
            base = d.measures[0] if d.measures else Measure(agg="count", alias="count")
        d.measures = [m for m in d.measures if m is not base]
        conditions = [f for f in d.filters]
        value_filters = self._value_filters()
        conditions += value_filters
        self.values = []
        name = base.column or "rows"
        numbers = [m for m in d.measures if m.column and m.agg in ("sum", "avg")]
        if not conditions and base.column is None and numbers and not (d.dims or d.grain):
            top = named_measure("sum", numbers[0].column)  # type: ignore[arg-type]
            d.measures = [top.model_copy(update={"over": base, "percent": True, "alias": f"pct_{numbers[0].column}"})]
            d.said.add("measure")
            return
        if conditions:
            d.filters = []
            top = base.model_copy(update={"where": tuple(conditions)})
            d.measures.insert(0, top.model_copy(update={"over": base, "percent": True, "alias": f"pct_{name}"}))
        else:
            d.measures.insert(0, base.model_copy(update={"share": True, "alias": f"share_{name}_pct"}))
        d.said.add("measure")

    # ------------------------------------------------------------ values

    def _value_filters(self) -> list[Filter]:
        out: list[Filter] = []
        by_span: dict[tuple[int, int], list[ValueHit]] = {}
        for v in self.values:
            by_span.setdefault((v.start, v.end), []).append(v)
        per_col: dict[str, list[tuple[ValueHit, bool]]] = {}
        for (s, e), hits in sorted(by_span.items()):
            cols = list(dict.fromkeys(h.column.name for h in hits))
            if len(hits) > 1:
                said = {m.column.name for m in self.mentions}
                narrowed = [h for h in hits if h.column.name in said]
                prep = self.t[s - 1] if s > 0 else ""
                hinted = [h for h in hits if set(h.column.words) & DIRECTION_WORDS.get(prep, set())]
                if len(narrowed) != 1 and len(hinted) == 1:
                    narrowed = hinted  # "flights from JFK": the origin, not the destination
                if len(narrowed) == 1:
                    hits = narrowed
                else:
                    term = " ".join(self.t[s:e])
                    if len(cols) > 1:
                        options = [(h.column.name, ("column-value", term, h.column.name)) for h in hits]
                        forced = self.p.session.forced_columns.get(term)
                        chosen = [h for h in hits if h.column.name == forced]
                        if not chosen:
                            raise AskBack(term, "value", options, f"'{term}' is a value of {len(cols)} columns")
                        hits = chosen
                    else:
                        options = [(h.value, ("value", term, h.value)) for h in hits]
                        forced = self.p.session.forced_columns.get(term)
                        chosen = [h for h in hits if h.value == forced]
                        if not chosen:
                            raise AskBack(term, "value", options, f"'{term}' is close to {len(hits)} values")
                        hits = chosen
            h = hits[0]
            if not h.exact:
                self.d.notes.append(f"heard '{' '.join(self.t[s:e])}' as {h.value!r} ({h.column.name})")
            before = self.t[max(0, s - 2) : s]
            negated = bool(set(before) & (NEGATIONS - {"no"})) or before[-2:] == ["other", "than"] or (before[-1:] == ["of"] and s >= 2 and self.t[s - 2] == "outside")
            if s >= 3 and self.t[s - 3 : s - 1] == ["other", "than"]:
                negated = True
            per_col.setdefault(h.column.name, []).append((h, negated))
            self._take(range(s, e))
        for col, hits in per_col.items():
            keep = [h.value for h, neg in hits if not neg]
            drop = [h.value for h, neg in hits if neg]
            keep, drop = list(dict.fromkeys(keep)), list(dict.fromkeys(drop))
            if keep:
                out.append(Filter(column=col, op="=", value=keep[0]) if len(keep) == 1 else Filter(column=col, op="in", value=keep))
            if drop:
                out.append(Filter(column=col, op="!=", value=drop[0]) if len(drop) == 1 else Filter(column=col, op="not in", value=drop))
        return out

    def _explained(self, i: int) -> bool:
        word = self.t[i]
        lex = self.lex
        if i in self.used or i in self.reserved or word in FILLER or word in MONTHS or word in SYNONYMS or word in AGG_WORDS:
            return True
        if re.fullmatch(r"\d+(\.\d+)?(th)?", word) or singular(word) in ROW_NOUNS or singular(word) in lex.name_words or word in lex.name_words:
            return True
        if word in COUNT_NOUNS or word in SHARE_WORDS or word in SUP_DESC | SUP_ASC or word in NEGATIONS:
            return True
        return word in ("name", "names", "id", "ids")

    def _look_up(self, mentions: list[Mention], values: list[ValueHit]) -> list[ValueHit]:
        """Unknown words may be values of a text column too large for the catalog ("in Japan",
        "host K296"): asked of the data itself, a phrase of up to four words at a time."""
        lookup = self.p.lookup
        cols = [c for c in self.lex.columns if c.role in ("text", "id") and c.info.kind == "text"]
        if lookup is None or not cols:
            return []
        known = self.p.known
        in_values = {i for v in values for i in range(v.start, v.end)}
        in_mentions = {i: m for m in mentions for i in m.span}
        unknown = [i for i, w in enumerate(self.t) if i not in in_values and i not in in_mentions
                   and (w not in known or w not in self.lex.vocabulary and not w.isalpha() and not w.isdigit())
                   and not re.fullmatch(r"\d+(\.\d+)?(th)?", w)]
        if not unknown:
            return []
        windows: dict[str, range] = {}
        for i in unknown:
            for n in (4, 3, 2, 1):
                for start in range(i - n + 1, i + 1):
                    span = range(start, start + n)
                    if start < 0 or span.stop > len(self.t) or set(span) & in_values:
                        continue
                    windows.setdefault(" ".join(self.t[start : start + n]), span)
        hits = lookup(self.lex.info.database, self.lex.name, [c.name for c in cols], list(windows))
        out: list[ValueHit] = []
        taken: set[int] = set()
        for col, phrase, value in sorted(hits, key=lambda h: -len(windows[h[1]])):
            span = windows[phrase]
            if set(span) & taken:
                continue
            column = self.lex.column(col)
            if column is None:
                continue
            same = [h for h in hits if h[1] == phrase]
            out.extend(ValueHit(self.lex.column(h[0]), h[2], span.start, span.stop, True) for h in same)  # type: ignore[arg-type]
            taken |= set(span)
        return out

    def _unknown_rows(self) -> None:
        """"how many flowers", "passengers by class": an unknown noun that is counted names the rows."""
        for i in range(len(self.t)):
            if self._explained(i):
                continue
            before = [w for w in self.t[max(0, i - 3) : i] if w not in ("the", "of", "a", "an", "all")]
            counted = before[-2:] == ["how", "many"] or before[-1:] == ["number"] or before[-1:] == ["count"]
            values_between = False
            if not counted and i >= 1 and (i - 1) in self.reserved:
                k = i - 1
                while k >= 0 and k in self.reserved:
                    k -= 1
                b = [w for w in self.t[max(0, k - 2) : k + 1] if w not in ("the", "of", "a", "an")]
                counted = b[-2:] == ["how", "many"] or b[-1:] == ["number"]
                values_between = counted
            after_value = i >= 1 and (i - 1) in self.reserved and self.t[i].endswith("s") and not self.t[i].endswith(("ss", "ness"))
            if after_value and not counted:  # "gentoo penguins", "female passengers": the rows, named
                self.row_noun_at.append(i)
                self._take({i})
                continue
            subject = i == next((j for j in range(len(self.t)) if self.t[j] not in FILLER), -1) and i + 1 < len(self.t) \
                and self.t[i + 1] in ("by", "per") and not any(w in AGG_WORDS for w in self.t[:i])
            plural = self.t[i].endswith("s") and not self.t[i].endswith(("ss", "ness", "us", "is"))
            if (counted or subject) and plural or values_between:
                self.row_noun_at.append(i)
                self._take({i})
                self.d.notes.append(f"counted rows as '{self.t[i]}'")
                if not self.d.measures:
                    self.d.measures.append(Measure(agg="count", alias="count"))
                    self.d.said.add("count")

    def leftovers(self) -> None:
        d = self.d
        for amb in self.ambiguous:
            if set(range(amb.start, amb.end)) & self.used:
                continue
            options = [(c.name, ("column", amb.term, c.name)) for c in amb.columns]
            raise AskBack(amb.term, "column", options, f"'{amb.term}' fits {len(options)} columns")
        self._unknown_rows()
        filters = self._value_filters()
        if filters:
            d.filters.extend(filters)
            d.said.add("filters")
        # "compare Europe and North America": several values of one column become its groups
        if not d.dims and not d.grain and not re.search(r"\b(or|combined|together|altogether|overall|in total|sum of|total of)\b", self.q):
            grouped = [f.column for f in d.filters if f.op == "in"][:1]
            if grouped and not any(m.over is not None or m.share for m in d.measures):
                d.dims = grouped
        lex = self.lex
        cols = [c.name for c in lex.columns]
        # the word a grouping or an aggregate is about must name something ("revenue by type")
        for i, word in enumerate(self.t):
            if word not in ("by", "per", "across") and word not in AGG_WORDS or i in self.used:
                continue
            j = i + 1
            while j < len(self.t) and self.t[j] in ("the", "a", "an", "each", "every", "all", "of", "our"):
                j += 1
            if j >= len(self.t) or j in self.used or j in self.reserved:
                continue
            nxt = self.t[j]
            if nxt in GRAINS or nxt in AGG_WORDS or nxt in STOP or re.fullmatch(r"\d+(\.\d+)?(th)?", nxt) or self._is_row_noun(j):
                continue
            if nxt in FILLER and nxt not in ("type", "types", "kind", "kinds", "status", "level", "levels", "value",
                                             "amount", "cost", "costs", "rate", "performance", "category", "group"):
                continue
            raise UnmatchedTerm(nxt, closest(nxt, cols), table=lex.name)
        for i, word in enumerate(self.t):
            if self._explained(i):
                continue
            beside = [m for m in self.full_measures if m.end == i or m.start == i + 1]
            alone = (i + 1 >= len(self.t) or self._explained(i + 1)) and (i == 0 or self._explained(i - 1))
            if beside and alone and len(word) >= 4 and not word.isdigit():
                self.used.add(i)
                d.notes.append(f"ignored '{word}' beside {beside[0].column.name}")
                continue
            raise UnmatchedTerm(word, closest(word, cols), table=lex.name)


def negated_at(tokens: list[str], i: int) -> bool:
    return bool(set(tokens[max(0, i - 2) : i]) & NEGATIONS)


def named_measure(agg: str, column: str) -> Measure:
    prefix = {"sum": "total", "avg": "avg", "median": "median", "min": "min", "max": "max",
              "count": "count", "count_distinct": "distinct"}[agg]
    return Measure(agg=agg, column=column, alias=f"{prefix}_{column}")  # type: ignore[arg-type]


def closest(word: str, names: list[str]) -> list[str]:
    """Names ordered by how close they sound to ``word`` (closest first), all of them."""
    def score(name: str) -> float:
        words = identifier_words(name) + [name.lower()]
        return max(difflib.SequenceMatcher(None, word, w).ratio() for w in words)

    return sorted(names, key=lambda n: -score(n))


