"""What a table's names and values sound like: built once per catalog, read on every question.

A column is named by the words of its identifier (``avgOrdVal`` -> average order value), by
abbreviations spelled out (``qty`` -> quantity, ``percap`` -> per capita), by the unique words
of its name alone ("price" for ``unit_price``), and by general synonyms ("sales" -> revenue).
A value is named by its own words, accents and case aside, or by a near spelling. Nothing here
names a table or a column of any dataset: every rule reads the catalog.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from ..sql.schema import ColumnInfo, TableInfo
from .words import (
    ABBREVIATIONS,
    SYNONYMS,
    MONTH_NAMES,
    TIME_UNITS,
    UNIT_PARTS,
    VALUE_ALIASES,
    WEEKDAYS,
    close_spelling,
    identifier_parts,
    identifier_words,
    singular,
    split_match,
    strip_accents,
    word_match,
)

# Words that name no column on their own even when a column's name holds them.
GENERIC = frozenset({
    "id", "number", "num", "no", "nr", "total", "tot", "sum", "avg", "average", "mean", "count", "cnt",
    "value", "val", "amount", "amt", "is", "has", "was", "of",
    "per", "the", "a", "in", "on", "at", "to", "by", "and", "t", "s", "max", "min", "maximum", "minimum",
    "first", "last", "new", "old", "is", "data", "info", "pct", "percent", "percentage", "share", "ratio",
})
# Parts of a name that may be left unsaid: units of one letter, "is"/"has" flags.
OPTIONAL = frozenset({"is", "has", "was", "t", "s", "c", "f", "the", "of", "per", "in"})
# Between two words of a name, a speaker may say these ("number of employees", "yield per hectare").
CONNECTORS = frozenset({"of", "per", "in", "the", "a", "an"})
# A word here makes a column's natural total an average ("average" of a price, not its sum).
AVERAGED = frozenset({
    "price", "rate", "percent", "percentage", "discount", "ratio", "age", "score", "average", "mean",
    "temperature", "margin", "share", "rating", "pct", "speed", "salary", "wage", "yield", "expectancy",
    "capita", "experience", "hours", "minutes", "seconds", "duration", "time", "latitude", "longitude",
    "lat", "lon", "lng", "height", "weight", "density", "index", "humidity", "pressure", "rainfall",
    "satisfaction", "csat", "level", "tenure", "bmi", "probability", "efficiency", "growth", "length",
    "width", "depth", "elevation", "altitude", "mpg", "horsepower", "grade", "gpa", "percentile",
})
DATE_WORDS = frozenset({"date", "dt", "day", "timestamp", "datetime", "time", "when", "period", "created", "updated"})
YEAR_WORDS = frozenset({"year", "yr", "yyyy"})
LABEL_WORDS = frozenset({"name", "title", "label", "full", "description"})
YES = frozenset({"yes", "y", "true", "t", "1"})
NO = frozenset({"no", "n", "false", "f", "0"})
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}")


def value_words(value: str) -> tuple[str, ...]:
    text = strip_accents(value).lower().replace("'s ", " ").replace("'", "")
    return tuple(re.sub(r"[^a-z0-9]+", " ", text).split())


@dataclass(eq=False)
class ColumnLex:
    """One column as the planner sees it. ``role``: measure, year, id, date, textdate, dimension
    (a text column with known values), text (a text column with too many values to list),
    yesno (a text column holding yes/no), bool."""

    info: ColumnInfo
    index: int
    parts: tuple[str, ...]
    words: tuple[str, ...]
    role: str
    averaged: bool
    time_unit: bool
    label: bool
    yes_value: str | None = None
    no_value: str | None = None
    newest: str | None = None
    key: bool = False  # the table's own id (its first column): its word names the rows ("orders")

    @property
    def name(self) -> str:
        return self.info.name


@dataclass(frozen=True)
class Mention:
    """Tokens [start, end) name a column; ``quality`` 0..1; ``full`` when every word of its
    name was said; ``via`` how (name, part, synonym)."""

    column: ColumnLex
    start: int
    end: int
    quality: float
    full: bool
    via: str = "name"

    @property
    def span(self) -> range:
        return range(self.start, self.end)


@dataclass(frozen=True)
class ValueHit:
    column: ColumnLex
    value: str
    start: int
    end: int
    exact: bool


@dataclass(frozen=True)
class Ambiguity:
    """Tokens [start, end) fit several columns equally well."""

    term: str
    start: int
    end: int
    columns: tuple[ColumnLex, ...]


@dataclass(eq=False)
class TableLex:
    info: TableInfo
    columns: list[ColumnLex]
    name_words: frozenset[str]
    part_columns: dict[str, set[int]] = field(default_factory=dict)
    entity_words: frozenset[str] = frozenset()
    values: list[tuple[tuple[str, ...], ColumnLex, str]] = field(default_factory=list)
    value_first: dict[str, list[int]] = field(default_factory=dict)
    vocabulary: frozenset[str] = frozenset()
    initials: dict[str, ColumnLex] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.info.name

    def column(self, name: str) -> ColumnLex | None:
        return next((c for c in self.columns if c.name == name), None)

    def by_role(self, *roles: str) -> list[ColumnLex]:
        return [c for c in self.columns if c.role in roles]

    def label_column(self, noun: str | None = None) -> ColumnLex | None:
        """The column that names a row: a high-cardinality name/title, else an id."""
        names = [c for c in self.columns if c.label]
        if names:
            return names[0]
        ids = [c for c in self.columns if c.role == "id"]
        if noun:
            for c in ids:
                if singular(noun) in c.words:
                    return c
        return ids[0] if ids else None


def _role(col: ColumnInfo, parts: list[str], words: list[str]) -> tuple[str, str | None, str | None]:
    kind = col.kind
    if kind == "number":
        if parts and parts[-1] == "id" or (len(parts) == 1 and parts[0].endswith("id") and len(parts[0]) <= 4):
            return "id", None, None
        if parts and parts[-1] in YEAR_WORDS and "Int" in col.type:  # year, fiscal_year, release_year
            return "year", None, None
        return "measure", None, None
    if kind == "date":
        return "date", None, None
    if kind == "bool":
        return "bool", None, None
    if kind == "text":
        if parts and parts[-1] in ("id", "uuid", "guid") and len(parts) > 1 and not col.values:
            return "id", None, None  # too many to list: an identifier (with few, it is a category)
        if col.values:
            low = {strip_accents(v).strip().lower() for v in col.values}
            if low and low <= YES | NO and low & YES and low & NO:
                yes = next(v for v in col.values if strip_accents(v).strip().lower() in YES)
                no = next(v for v in col.values if strip_accents(v).strip().lower() in NO)
                return "yesno", yes, no
            if all(_ISO_DAY.match(v) for v in col.values):
                return "textdate", None, None
            return "dimension", None, None
        if set(parts) & DATE_WORDS or set(words) & {"date", "timestamp"}:
            return "textdate", None, None
        return "text", None, None
    return "dimension" if col.values else "text", None, None


def build_table(table: TableInfo) -> TableLex:
    columns: list[ColumnLex] = []
    for i, col in enumerate(table.columns):
        parts = identifier_parts(col.name)
        words = identifier_words(col.name)
        role, yes, no = _role(col, parts, words)
        alts = {w for p in parts for e in ABBREVIATIONS.get(p, (p,)) for w in e.split()}
        averaged = bool((alts | set(parts)) & AVERAGED) and role == "measure"
        time_unit = bool((alts | set(parts)) & TIME_UNITS) and role == "measure"
        label = role == "text" and bool(set(parts) & LABEL_WORDS)
        newest = col.newest
        if role == "textdate" and col.values:
            newest = max(v[:10] for v in col.values)
        columns.append(ColumnLex(col, i, tuple(parts), tuple(words), role, averaged, time_unit, label, yes, no, newest))
    name_words = frozenset({singular(w) for w in identifier_words(table.name)} | {w for w in identifier_words(table.name)})
    if columns and columns[0].role == "id":
        columns[0].key = True
    entity = frozenset(singular(w) for c in columns if c.key for w in c.words if w != "id" and w not in GENERIC)
    lex = TableLex(table, columns, name_words, entity_words=entity)
    for c in columns:
        for p in set(c.parts) | set(c.words):
            lex.part_columns.setdefault(p, set()).add(c.index)
            lex.part_columns.setdefault(singular(p), set()).add(c.index)
        for v in c.info.values if c.role == "dimension" else ():
            w = value_words(v)
            if not w:
                continue
            lex.values.append((w, c, v))
            # "sunday" for Sun, "january" for Jan, "women" for F
            if len(w) == 1 and len(w[0]) >= 3 and not w[0].isdigit():
                for name in WEEKDAYS + MONTH_NAMES:
                    if name.startswith(w[0]) and name != w[0]:
                        lex.values.append(((name,), c, v))
            for alias in VALUE_ALIASES.get(" ".join(w), ()):
                lex.values.append((tuple(alias.split()), c, v))
        spoken_parts = [p for p in c.parts if len(p) > 1]
        if len(spoken_parts) >= 3:
            lex.initials.setdefault("".join(p[0] for p in spoken_parts), c)
    lex.values.sort(key=lambda o: -len(o[0]))
    for i, (w, _, _) in enumerate(lex.values):
        lex.value_first.setdefault(w[0], []).append(i)
    vocab = set(lex.part_columns) | {w for ws, _, _ in lex.values for w in ws} | set(name_words)
    lex.vocabulary = frozenset(vocab)
    return lex


# ------------------------------------------------------------------ columns


def _part_options(part: str, tokens: list[str], i: int) -> tuple[tuple[int, float], ...]:
    """Ways the part can be said at tokens[i]: (tokens used, quality)."""
    return _options(part, tuple(tokens[i : i + 3]))


@lru_cache(maxsize=65536)
def _options(part: str, tokens: tuple[str, ...]) -> tuple[tuple[int, float], ...]:
    i = 0
    out: list[tuple[int, float]] = []
    q = word_match(part, tokens[i])
    if q:
        out.append((1, q))
    for exp in ABBREVIATIONS.get(part, ()):
        ws = exp.split()
        if len(ws) > 1 and i + len(ws) <= len(tokens) and all(singular(a) == singular(b) for a, b in zip(tokens[i : i + len(ws)], ws)):
            out.append((len(ws), 0.95))
    if len(part) >= 3 and not q and part[0] == tokens[i][:1] and part not in ABBREVIATIONS:
        for n in (2, 3):
            window = tuple(tokens[i : i + n])
            if len(window) == n and not set(window[1:]) & {"the", "a", "of", "and", "by"} and split_match(part, window):
                out.append((n, 0.7))
                break
    return tuple(out)


def _align(col: ColumnLex, tokens: list[str], start: int, blocked: set[int], strict: frozenset[str] = frozenset()) -> list[tuple[int, float, int, int]]:
    """Spans from ``start`` naming ``col``: (end, summed quality, parts said, required parts)."""
    parts = col.parts
    needed = [p for p in parts if p not in OPTIONAL and p not in UNIT_PARTS] or [p for p in parts if p not in OPTIONAL]
    required = len(needed)
    needed_set = set(needed)
    results: list[tuple[int, float, int, int]] = []

    def walk(j: int, i: int, score: float, said: int, matched: int, began: bool) -> None:
        if began:
            results.append((i, score / max(1, matched), said, required))
        if j >= len(parts) or i >= len(tokens) or i in blocked:
            return
        part = parts[j]
        for used, q in _part_options(part, tokens, i):
            if any(k in blocked for k in range(i, i + used)) or (q <= 0.6 and tokens[i] in strict):
                continue
            walk(j + 1, i + used, score + q, said + (part in needed_set), matched + 1, True)
        if began and (part not in needed_set or (len(part) <= 2 and part not in ABBREVIATIONS)):
            walk(j + 1, i, score, said, matched, began)
        if began and tokens[i] in CONNECTORS and i + 1 < len(tokens):
            if _part_options(parts[j], tokens, i + 1):
                walk(j, i + 1, score, said, matched, began)

    for j0 in range(len(parts)):
        if _part_options(parts[j0], tokens, start):
            walk(j0, start, 0.0, 0, 0, False)
    return results


def find_mentions(
    tokens: list[str], lex: TableLex, blocked: set[int] | None = None, strict: frozenset[str] = frozenset()
) -> tuple[list[Mention], list[Ambiguity]]:
    """Column mentions in ``tokens``, longest and best first, never overlapping, and the spans
    that fit several columns equally (for the planner to ask about). Words in ``strict`` are
    matched only closely (no stems or near spellings: "count" is not "country")."""
    blocked = blocked or set()
    found: list[Mention] = []
    for i, tok in enumerate(tokens):
        if i in blocked or tok in CONNECTORS or tok.isdigit():
            continue
        for col in lex.columns:
            for end, quality, said, required in _align(col, tokens, i, blocked, strict):
                if said == 0 or end <= i:
                    continue
                if said >= required:
                    found.append(Mention(col, i, end, min(1.0, quality), True))
                    continue
                # part of a name: only a word no other column holds, said well enough
                said_words = {w for w in tokens[i:end] if w not in CONNECTORS}
                if said >= 2 and quality >= 0.75:
                    found.append(Mention(col, i, end, quality * 0.8, False, "part"))
                    continue
                if len(said_words) == 1:
                    (w,) = said_words
                    owners = _owners(lex, w, col)
                    if w in GENERIC or singular(w) in GENERIC or quality < 0.6:
                        continue
                    if owners == {col.index}:
                        required = [p for p in col.parts if p not in OPTIONAL and p not in UNIT_PARTS and p not in GENERIC] or list(col.parts)
                        head = bool(required) and word_match(required[-1], w) > 0
                        found.append(Mention(col, i, end, quality * (0.7 if head else 0.45), False, "part"))
                    elif len(owners) > 1 and quality >= 0.95:
                        found.append(Mention(col, i, end, quality * 0.5, False, "shared"))
    # synonyms ("sales" -> revenue, "time" -> a column measured in hours)
    # initials: "mpg" for miles_per_gallon
    for i, tok in enumerate(tokens):
        col = lex.initials.get(tok)
        if col is not None and i not in blocked and len(tok) >= 2 and tok not in strict:
            found.append(Mention(col, i, i + 1, 0.8, True, "initials"))
    direct = {i for m in found if m.quality >= 0.5 for i in m.span}
    for i, tok in enumerate(tokens):
        if i in blocked or i in direct:
            continue
        meanings = SYNONYMS.get(tok, ())
        hit = False
        for rank, meaning in enumerate(meanings):
            target = tuple(meaning.split())
            cols = [c for c in lex.columns if tuple(c.words) == target or (len(target) == 1 and target[0] in c.words[-1:])]
            if not cols:
                cols = [c for c in lex.columns if len(target) == 1 and target[0] in c.words and target[0] not in GENERIC]
            for c in cols:  # the first meanings are the likeliest
                found.append(Mention(c, i, i + 1, 0.5 - 0.02 * rank, False, "synonym"))
                hit = True
            if hit:
                break
        if not hit and tok in ("time", "duration"):
            for c in lex.columns:
                if c.time_unit:
                    found.append(Mention(c, i, i + 1, 0.45, False, "synonym"))
    found.sort(key=lambda m: (-(m.end - m.start) * (2 if m.full else 1) * m.quality, -m.quality, m.start))
    chosen: list[Mention] = []
    ambiguous: list[Ambiguity] = []
    used: set[int] = set()
    for m in found:
        span = set(m.span)
        if span & used:
            continue
        rivals = [r for r in found if r.start == m.start and r.end == m.end and r.column is not m.column
                  and abs(r.quality - m.quality) < 1e-9 and r.full == m.full]
        if rivals and not m.full:
            cols = tuple(dict.fromkeys([m.column, *(r.column for r in rivals)]))
            ambiguous.append(Ambiguity(" ".join(tokens[m.start : m.end]), m.start, m.end, cols))
            used |= span
            continue
        used |= span
        chosen.append(m)
    chosen.sort(key=lambda m: m.start)
    return chosen, ambiguous


def _owners(lex: TableLex, word: str, col: ColumnLex) -> set[int]:
    owners = set(lex.part_columns.get(word, set())) | set(lex.part_columns.get(singular(word), set()))
    if not owners:
        owners = {c.index for c in lex.columns if any(word_match(p, word) >= 0.75 for p in c.parts)}
    return owners or {col.index}


# ------------------------------------------------------------------ values


def find_values(tokens: list[str], lex: TableLex, blocked: set[int] | None = None, known: frozenset[str] = frozenset()) -> list[ValueHit]:
    """Values of text columns said in ``tokens``: exactly (accents and case aside, plurals
    allowed) or, for a word the planner does not otherwise know, with a small slip."""
    blocked = blocked or set()
    hits: list[ValueHit] = []
    used: set[int] = set(blocked)
    sing = [singular(t) for t in tokens]
    # exact, longest first
    for i in range(len(tokens)):
        if i in used:
            continue
        best: tuple[int, ColumnLex, str] | None = None
        for k in lex.value_first.get(tokens[i], []) + lex.value_first.get(sing[i], []):
            words, col, v = lex.values[k]
            n = len(words)
            window = tokens[i : i + n]
            if len(window) == n and not (set(range(i, i + n)) & used):
                if tuple(window) == words or tuple(sing[i : i + n]) == tuple(singular(w) for w in words):
                    if best is None or n > best[0]:
                        best = (n, col, v)
        if best is not None:
            n, col, v = best
            same = {(c.index, val): ValueHit(c, val, i, i + n, True) for (ws, c, val) in lex.values
                    if len(ws) == n and (ws == tuple(tokens[i : i + n]) or tuple(singular(w) for w in ws) == tuple(sing[i : i + n]))}
            hits.extend(same.values() or [ValueHit(col, v, i, i + n, True)])
            used |= set(range(i, i + n))
    # a word grown from a value: "failures" for FAIL, "warnings" for WARN
    for i, tok in enumerate(tokens):
        if i in used or tok in known and tok not in lex.vocabulary or len(tok) < 5:
            continue
        grown = [(ws, c, v) for ws, c, v in lex.values if len(ws) == 1 and len(ws[0]) >= 4 and tok != ws[0]
                 and tok.startswith(ws[0]) and len(tok) - len(ws[0]) <= 5 and not ws[0].isdigit()]
        if grown and len({v for _, _, v in grown}) == 1:
            hits.extend(ValueHit(c, v, i, i + 1, True) for _, c, v in grown[:1])
            used.add(i)
    # a small slip, one value only
    for i, tok in enumerate(tokens):
        if i in used or tok in known or tok.isdigit() or len(tok) < 4:
            continue
        for n in (1, 2, 3):
            window = tokens[i : i + n]
            if len(window) < n or set(range(i, i + n)) & used:
                break
            if n > 1 and any(t in known and t not in lex.vocabulary for t in window[1:]):
                break
            joined = " ".join(window)
            close = [(ws, c, v) for ws, c, v in lex.values if len(ws) == n and " ".join(ws) != joined and close_spelling(joined, " ".join(ws))]
            if close:
                for ws, c, v in close:
                    hits.append(ValueHit(c, v, i, i + n, False))
                used |= set(range(i, i + n))
                break
    return sorted(hits, key=lambda h: h.start)
