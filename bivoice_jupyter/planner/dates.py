"""Dates in a question: years, months, quarters, days, ranges and periods relative to the data.

A mixin of :class:`~bivoice_jupyter.planner.reader.Reader` (the ``time`` rule): it reads "in
2007", "between 1990 and 2000", "after 2000", "2020 or later", "in March 2023", "the fifteenth
of March", "the first quarter of 2023", "in December" (any year), "this year", "the latest
quarter", "last month", "the last 3 months" and "year to date", and writes them as a
``TimeRange`` on a date column (literal dates when the newest date is known, else relative to
the newest row, read when the query runs), or as filters on an integer year column. "Last"
and "latest" are relative to the newest date in the data, never to the clock.
"""

from __future__ import annotations

import datetime as dt
import re

from ..errors import PlanningError
from ..models import Filter, TimeRange
from .lexicon import ColumnLex
from .vocabulary import GRAINS, MONTHS, MONTHS_RE, UNIT_WORDS
from .words import word_match


def _period(newest: dt.date, unit: str, back: int) -> tuple[dt.date, dt.date]:
    """The calendar period of ``unit`` holding ``newest``, moved ``back`` periods earlier."""
    if unit == "day":
        start = newest - dt.timedelta(days=back)
        return start, start + dt.timedelta(days=1)
    if unit == "week":
        start = newest - dt.timedelta(days=newest.weekday()) - dt.timedelta(weeks=back)
        return start, start + dt.timedelta(weeks=1)
    months = {"year": 12, "quarter": 3, "month": 1}[unit]
    first_month = {"year": 1, "quarter": (newest.month - 1) // 3 * 3 + 1, "month": newest.month}[unit]
    index = newest.year * 12 + (first_month - 1) - back * months
    start = dt.date(index // 12, index % 12 + 1, 1)
    index += months
    return start, dt.date(index // 12, index % 12 + 1, 1)


class DateRules:
    """The ``time`` rule and its helpers; mixed into ``Reader`` (which provides ``t``, ``q``,
    ``d``, ``mentions``, ``used`` and the span helpers)."""

    def time(self) -> None:
        q = self.q
        dates = self._time_columns(("date", "textdate"))
        years = self._time_columns(("year",))
        said_year = any(m.column.role == "year" for m in self.mentions)
        col = years[0] if years and (said_year or not dates) else (dates[0] if dates else None)
        # take the mention that only names the time column ("hired in 2019")
        found_any = False

        def need() -> ColumnLex:
            if col is None:
                raise PlanningError(f"Table {self.lex.name} has no date column to filter by time.",
                                    hint="columns are: " + ", ".join(c.name for c in self.lex.columns))
            return col

        # relative to the newest date: this/last/latest year|quarter|month|week|day, last N months
        for m in re.finditer(r"\b(?:in |during |for |over |within |from )?(?:the )?(this|last|previous|past|latest|most recent|current|prior|newest|recent)(?: (\d{1,3}))? (years?|quarters?|months?|weeks?|days?)\b", q):
            span = self._span(m)
            if not self._free(span):
                continue
            which, n, unit = m.group(1), m.group(2), GRAINS[m.group(3)]
            if n:
                back, count = 0, int(n)
            else:
                back, count = (1 if which in ("last", "previous", "prior", "past") else 0), 1
            self._relative(need(), unit, back, count)
            self._take(span)
            found_any = True
        for m in re.finditer(r"\b(?:year to date|ytd|so far this year|this year so far)\b", q):
            if self._free(self._span(m)):
                self._relative(need(), "year", 0, 1)
                self._take(self._span(m))
                found_any = True
        # a day: "the 15th of march 2023", "march 15th 2023", "on 2024 01 02" was made "january 2th 2024"
        day_res = [
            rf"\b(on |since |after |before |until |from |by )?(?:the )?(\d{{1,2}})th (?:of )?({MONTHS_RE})(?: (\d{{4}}))?\b",
            rf"\b(on |since |after |before |until |from |by )?({MONTHS_RE}) (?:the )?(\d{{1,2}})(?:th)?(?: (\d{{4}}))?\b",
        ]
        for k, pattern in enumerate(day_res):
            for m in re.finditer(pattern, q):
                span = self._span(m)
                if not self._free(span):
                    continue
                word = (m.group(1) or "").strip()
                day, month = (m.group(2), m.group(3)) if k == 0 else (m.group(3), m.group(2))
                year = m.group(4)
                c = need()
                if year is None:
                    newest = self._newest(c)
                    if newest is None:
                        continue
                    year = str(newest.year)
                try:
                    first = dt.date(int(year), MONTHS[month], int(day))
                except ValueError:
                    continue
                if c.role == "year":
                    raise PlanningError(f"{c.name} holds years, not days.")
                nxt = first + dt.timedelta(days=1)
                self._absolute(c, word, first, nxt)
                self._take(span)
                found_any = True
        # quarters
        for m in re.finditer(r"\b(on |since |after |before |until |from |in |during |for )?(?:the )?(\d)th quarter(?: of| in)? (\d{4})\b|\b(\d{4}) (\d)th quarter\b", q):
            span = self._span(m)
            if not self._free(span):
                continue
            qn, year = (m.group(2), m.group(3)) if m.group(2) else (m.group(5), m.group(4))
            if not 1 <= int(qn) <= 4:
                continue
            first = dt.date(int(year), 3 * int(qn) - 2, 1)
            end = dt.date(int(year) + (qn == "4"), 1 if qn == "4" else 3 * int(qn) + 1, 1)
            c = need()
            if c.role == "year":
                raise PlanningError(f"{c.name} holds years, not quarters.")
            self._absolute(c, (m.group(1) or "").strip(), first, end)
            self._take(span)
            found_any = True
        for m in re.finditer(r"\b(?:in |during |for )?(?:the )?(\d)th quarter\b", q):
            span = self._span(m)
            if self._free(span) and 1 <= int(m.group(1)) <= 4:
                c = need()
                self.d.time_filters.append(Filter(column=c.name, op="=", value=int(m.group(1)), part="quarter"))
                self._take(span)
                found_any = True
        # months of a year
        for m in re.finditer(rf"\b(since |after |before |until |from |in |during |for |of )?({MONTHS_RE}) (?:of )?(\d{{4}})\b", q):
            span = self._span(m)
            if not self._free(span):
                continue
            y, mo = int(m.group(3)), MONTHS[m.group(2)]
            first = dt.date(y, mo, 1)
            end = dt.date(y + (mo == 12), mo % 12 + 1, 1)
            c = need()
            if c.role == "year":
                raise PlanningError(f"{c.name} holds years, not months.")
            self._absolute(c, (m.group(1) or "").strip(), first, end)
            self._take(span)
            found_any = True
        # a month of any year: "in december"
        for m in re.finditer(rf"\b(in |during |for |of )?({MONTHS_RE})\b", q):
            span = self._span(m)
            if not self._free(span) or (m.group(2) == "may" and not m.group(1)):
                continue
            c = need()
            if c.role == "year":
                raise PlanningError(f"{c.name} holds years, not months.")
            self.d.time_filters.append(Filter(column=c.name, op="=", value=MONTHS[m.group(2)], part="month"))
            self._take(span)
            found_any = True
        # ranges of years
        for m in re.finditer(r"\b(?:between |from )?(?:the years? )?((?:19|20)\d\d) (?:and|to|until|through|till|thru) ((?:19|20)\d\d)\b", q):
            span = self._span(m)
            if not self._free(span):
                continue
            if not m.group(0).startswith(("between", "from")) and " and " in m.group(0):
                continue
            lo, hi = sorted((int(m.group(1)), int(m.group(2))))
            c = need()
            if c.role == "year":
                self.d.time_filters.append(Filter(column=c.name, op="between", value=[lo, hi]))
            else:
                self._set_range(c, dt.date(lo, 1, 1), dt.date(hi + 1, 1, 1))
            self._take(span)
            found_any = True
        # one year, open-ended: "2020 or later", "from 2015 onwards", "2010 or earlier"
        for m in re.finditer(r"\b(?:in |from |since )?((?:19|20)\d\d) (?:(?:or|and) (later|after|newer|more recent|since|onwards?|beyond|earlier|before|older)|(onwards?|and up))\b", q):
            span = self._span(m)
            if not self._free(span):
                continue
            y = int(m.group(1))
            later = (m.group(2) or m.group(3)) not in ("earlier", "before", "older")
            c = need()
            if c.role == "year":
                self.d.time_filters.append(Filter(column=c.name, op=">=" if later else "<=", value=y))
            else:
                self._absolute(c, "since" if later else "until", dt.date(y, 1, 1), dt.date(y + 1, 1, 1))
            self._take(span)
            found_any = True
        # one year
        for m in re.finditer(r"\b(since |after |from |before |until |through |till |in |during |for |of |prior to |by |as of )?(?:the )?(?:year )?((?:19|20)\d\d)\b", q):
            span = self._span(m)
            if not self._free(span):
                continue
            first = span.start
            prev = self.t[first - 1] if first > 0 else ""
            if prev in ("than", "over", "above", "under", "below", "least", "most", "top", "bottom", "exceeding", "exactly"):
                continue
            after = span.stop
            if after < len(self.t) and (self._is_row_noun(after) or self.t[after] in UNIT_WORDS or (self._mention_at(after) and self._mention_at(after).column.role == "measure")):
                continue
            word = (m.group(1) or "").strip()
            y = int(m.group(2))
            c = need()
            if c.role == "year":
                op = {"since": ">=", "from": ">=", "as of": ">=", "after": ">", "before": "<", "prior to": "<",
                      "until": "<=", "through": "<=", "till": "<=", "by": "<="}.get(word, "=")
                self.d.time_filters.append(Filter(column=c.name, op=op, value=y))
            else:
                self._absolute(c, word, dt.date(y, 1, 1), dt.date(y + 1, 1, 1))
            self._take(span)
            found_any = True
        if found_any:
            self.d.said.add("time")
            # "reviewed since 2023": a verb of the time column's own word
            if col is not None:
                for i, w in enumerate(self.t):
                    if i not in self.used and w.endswith(("ed", "ing")) and any(word_match(p, w) >= 0.6 for p in col.parts):
                        self._take({i})
            # the words that named the time column ("hired", "open date") were part of it
            for mn in list(self.mentions):
                if mn.column is col and mn.column.role in ("date", "textdate") and not self._dim_before(mn.start):
                    self._take(mn.span)

    def _newest(self, c: ColumnLex) -> dt.date | None:
        try:
            return dt.date.fromisoformat(c.newest[:10]) if c.newest else None
        except ValueError:
            return None

    def _relative(self, c: ColumnLex, unit: str, back: int, count: int) -> None:
        if c.role == "year":
            if unit != "year":
                raise PlanningError(f"Table {self.lex.name} has years ({c.name}) but no dates, so no {unit}s.")
            if count > 1:
                self.d.time_filters.append(Filter(column=c.name, op=">", value=-count, against="max"))
            else:
                self.d.time_filters.append(Filter(column=c.name, op="=", value=-back, against="max"))
            return
        newest = self._newest(c)
        if newest is None:
            self.d.time_range = TimeRange(column=c.name, unit=unit, back=back, span=count)  # type: ignore[arg-type]
            return
        start, end = _period(newest, unit, back + count - 1)
        if back == 0:
            self._set_range(c, start, None)
        else:
            self._set_range(c, start, _period(newest, unit, back)[1])

    def _absolute(self, c: ColumnLex, word: str, first: dt.date, end: dt.date) -> None:
        if word in ("since", "from", "as of"):
            self._set_range(c, first, None)
        elif word == "after":
            self._set_range(c, end, None)
        elif word in ("before", "prior to"):
            self._set_range(c, None, first)
        elif word in ("until", "through", "till", "by"):
            self._set_range(c, None, end)
        else:
            self._set_range(c, first, end)

    def _set_range(self, c: ColumnLex, start: dt.date | None, end: dt.date | None) -> None:
        old = self.d.time_range
        if old is not None and old.column == c.name and old.unit is None:
            start = max(filter(None, [start, old.start]), default=None)
            end = min(filter(None, [end, old.end]), default=None)
        self.d.time_range = TimeRange(column=c.name, start=start, end=end)
