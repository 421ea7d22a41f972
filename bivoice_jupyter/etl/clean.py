"""Cleaning rules as ClickHouse expressions (sqlglot trees), applied in the engine to every value.

Each raw text value goes through the same small pipeline:

1. ``text``: a value that is not valid UTF-8 (a Windows-1252 row in a UTF-8 file) is converted
   from Windows-1252 instead of being kept as broken bytes (only where the profile found some);
2. ``value``: whitespace trimmed, and null tokens (``""``, NA, N/A, null, None, -, NaN, #N/A,
   ``\\N``) become NULL;
3. ``number``: currency signs, percent signs, spaces and thousands separators removed, and an
   accounting negative ``(1,234.50)`` read as -1234.50 (``12%`` is read as 12: the value is kept
   as written);
4. a cast to the column's type that yields NULL when the value does not fit (``...OrNull`` and
   ``accurateCastOrNull``): such a value is a *failure*, and its row is rejected, never dropped
   silently.

Dates accept mixed formats (ISO, ``31/01/2024``, ``Jan 5, 2024``, ``5 Jan 2024`` ...) through
ClickHouse's best-effort parser behind a cheap pattern check, so a number is never a timestamp.
Day-first is assumed for ``01/02/2024`` unless the column shows month-first values (``12/25``).
"""

from __future__ import annotations

import re

from sqlglot import exp

from .names import dtype

NULL_TOKENS = ("", "NA", "N/A", "n/a", "na", "Na", "null", "NULL", "Null", "None", "none", "NONE",
               "-", "--", "NaN", "nan", "NAN", "#N/A", "#NA", "\\N", "nil", "NIL")
TRUE_TOKENS = ("true", "t", "yes", "y")
FALSE_TOKENS = ("false", "f", "no", "n")
WHITESPACE = " \t\r\n"

_MONTH = "(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\\.?"
# 2024-01-31, 2024/1/31, 31/01/2024, 31.01.24 (a time may follow)
# a time of day that follows must be in range (25:00, 10:61, 10:00:60 fail: the parser would
# carry them over into the next hour or day), checked by the same pattern at no extra cost
_TIME = "([ T]([01]?[0-9]|2[0-3])(:[0-5][0-9]){0,2}([^0-9:]|$)|$)"
NUMERIC_DATE = "^[0-9]{1,4}[-/.][0-9]{1,2}[-/.][0-9]{1,4}" + _TIME
# The same, in one day/month order: the parser would swap a value written in the other order
# (12/25/2024 read day-first is December 25th), so such a value must not reach it.
_DM = "(0?[1-9]|1[0-2])"
_DAY = "(1[3-9]|2[0-9]|3[01])"  # a first or second part that can only be a day
NUMERIC_DATE_DAY_FIRST = f"^([0-9]{{3,4}}[-/.][0-9]{{1,2}}|[0-9]{{1,2}}[-/.]{_DM})[-/.][0-9]{{1,4}}{_TIME}"
NUMERIC_DATE_MONTH_FIRST = f"^([0-9]{{3,4}}[-/.][0-9]{{1,2}}|{_DM}[-/.][0-9]{{1,2}})[-/.][0-9]{{1,4}}{_TIME}"
DAY_MONTH = "^[0-9]{1,2}[-/.][0-9]{1,2}[-/.]"  # 01/02/2024-like: the order matters
DAY_FIRST = f"^{_DAY}[-/.]{_DM}[-/.]"  # 25/12/2024
MONTH_FIRST = f"^{_DM}[-/.]{_DAY}[-/.]"  # 12/25/2024
# a time of day out of range, in a text date (Jan 5, 2024 25:00)
BAD_TIME = "[ T](2[4-9]|[3-9][0-9]|[0-9]{3,}):|:([6-9][0-9]|[0-9]{3,})"
ORDINAL = "(?i)([0-9])(st|nd|rd|th)\\b"  # January 5th: the parser reads January 5
# 5 Jan 2024, 05-Jan-24, Friday, January 5th, 2024
TEXT_DATE = (f"(?i)^([0-9]{{1,2}}[ -]{_MONTH}[-, ]*[0-9]{{2,4}}"
             f"|([a-z]+,? )?{_MONTH} [0-9]{{1,2}}(st|nd|rd|th)?,? [0-9]{{4}})([ T,].*)?$")
TEXT_DATE_PLAIN = TEXT_DATE.replace("(st|nd|rd|th)?", "")  # the same, without an ordinal
TEXT_DATE_START = "^([0-9]{1,2}[ -][A-Za-z]|[A-Za-z]{3,9},? [A-Za-z0-9])"
# thousands commas ("1,234", "1,234,567.50"; a first group never starts with 0: "0,500" is not)
THOUSANDS = "^[^0-9,]*[1-9][0-9]{0,2}(,[0-9]{3})+([.][0-9]*)?[^0-9,]*$"
# a decimal comma, where it cannot be a thousands separator: "1.234,56" (dots group the
# thousands), "12,5" or "0,75" (a thousands comma has exactly three digits after it), "0,500"
# or "1234,567" (a thousands group has one to three digits, the first not 0)
DECIMAL_COMMA = ("^[^0-9,.]*[0-9]{1,3}([.][0-9]{3})+,[0-9]*[^0-9,.]*$"
                 "|^[^0-9,.]*([0-9]+,([0-9]{1,2}|[0-9]{4,})|0,[0-9]+|[0-9]{4,},[0-9]+)[^0-9,.]*$")


def _dotted(groups: str) -> str:
    """A whole number whose thousands are grouped by points, ``groups`` times (a regex quantifier),
    and no comma; signs around it."""
    return f"^[^0-9,.]*[1-9][0-9]{{0,2}}([.][0-9]{{3}}){groups}[^0-9,.]*$"


# two or more thousands points and no comma ("2.500.000", which no decimal point explains): in a
# column of decimal commas, two and a half million. A lone "1.234" stays 1.234 unless enough of
# the column's values show thousands points ("1.234,56": ``DOTTED_ANY``, infer.points_group): a
# column of point decimals with a stray "0,5" would otherwise read all its "2.037" as 2037.
DOTTED_THOUSANDS = _dotted("{2,}")
# one or more: where the column's decimal commas come with thousands points ("1.234,56"), a
# lone "1.500" is fifteen hundred too (``number(..., dotted=True)``, see ColumnPlan.dotted)
DOTTED_ANY = _dotted("+")
# exactly one such group ("1.500", "€12.500"): 1.5 or 1500, as the column's other values say
LONE_DOT = _dotted("")
# either: "1,234" or "2,125" is one thousand two hundred and thirty-four, or 1.234: the column
# decides (``number(..., comma=True)`` where its other values show decimal commas)
DROPPED = "($€£¥%) \u00a0\u202f"  # "(" becomes "-"; the rest are deleted
DROPPED_ASCII = "".join(ch for ch in DROPPED if ch.isascii())  # the same for ASCII text ("(" first)
MONEY = "\\$|€|£|¥"
LEADING_ZERO = "^[-+]?0[0-9]"


def fn(name: str, *args: exp.Expression) -> exp.Anonymous:
    """A ClickHouse function call, by its exact name."""
    return exp.Anonymous(this=name, expressions=list(args))


def lit(value: str | int | float) -> exp.Literal:
    return exp.Literal.string(value) if isinstance(value, str) else exp.Literal.number(value)


def col(name: str) -> exp.Column:
    return exp.column(name, quoted=True)


def if_(cond: exp.Expression, then: exp.Expression, other: exp.Expression) -> exp.Anonymous:
    return fn("if", cond, then, other)


def is_null(e: exp.Expression) -> exp.Expression:
    return exp.Is(this=e, expression=exp.Null())


def not_null(e: exp.Expression) -> exp.Expression:
    return exp.not_(is_null(e), copy=False)


def matches(e: exp.Expression, pattern: str) -> exp.Anonymous:
    return fn("match", e, lit(pattern))


def text(raw: exp.Expression, fix_encoding: bool = False) -> exp.Expression:
    if not fix_encoding:
        return raw
    return if_(fn("isValidUTF8", raw), raw, fn("convertCharset", raw, lit("windows-1252"), lit("UTF-8")))


def value(raw: exp.Expression, *, fix_encoding: bool = False, null_tokens: tuple[str, ...] = NULL_TOKENS) -> exp.Expression:
    """Trimmed text, NULL for a null token (ClickHouse computes the repeated trim once)."""
    trimmed = fn("trimBoth", text(raw, fix_encoding), lit(WHITESPACE))
    return if_(trimmed.isin(*[lit(t) for t in null_tokens], copy=False), exp.Null(), trimmed)


# what may follow a number's last digit (``12.50 %``, ``(1.5)``, ``$12.50"``)
TRAILING_SIGNS = " %)$€£¥\"'\u00a0"


# how a value writes its commas (:func:`comma_kind`)
NO_COMMA, DECIMAL_ONLY, THOUSANDS_MANY, THOUSANDS_ONE, OTHER_COMMA = 0, 1, 2, 3, 4
# and, for a column's evidence, a value with no comma whose one point no thousands group
# explains ("1.5", "12.25", "1234.5678"): a point decimal (see infer.decide)
POINT_DECIMAL = 5
# a decimal comma after thousands points ("1.234,56"), and a lone thousands-like point with
# no comma ("1.500"): whether points group thousands in the column (see infer.decide)
GROUPED, LONE_DOTTED = 6, 7


def point_decimal(v: exp.Expression) -> exp.Expression:
    """One point, not followed by exactly three characters (trailing signs aside: ``1.500 €``
    is no point decimal): three position() calls, a trim and a length."""
    dot = fn("position", v, lit("."))
    return exp.and_(exp.GT(this=dot, expression=lit(0)),
                    exp.NEQ(this=exp.Sub(this=fn("length", fn("trimRight", v.copy(), lit(TRAILING_SIGNS))),
                                         expression=dot.copy()), expression=lit(3)),
                    exp.EQ(this=fn("position", v.copy(), lit("."), exp.Add(this=dot.copy(), expression=lit(1))),
                           expression=lit(0)), copy=False)


def comma_kind(v: exp.Expression) -> exp.Expression:
    """How ``v`` uses commas: :data:`NO_COMMA`; :data:`DECIMAL_ONLY`, a comma that can only be a
    decimal one (``12,5``, ``0,500``, ``1.234,56``: :data:`DECIMAL_COMMA`); thousands commas
    (:data:`THOUSANDS`), :data:`THOUSANDS_ONE` where there is one and no point (``1,234``,
    which may also be 1.234), else :data:`THOUSANDS_MANY`;
    :data:`OTHER_COMMA`, neither. One pattern for most values with a comma, two for decimal
    commas; none without one. Computed once per value (a column, see ``infer.layers``), it
    serves both :func:`number` and the column's comma evidence."""
    comma = fn("position", v, lit(","))
    one = exp.and_(exp.EQ(this=fn("position", v, lit(".")), expression=lit(0)),
                   exp.EQ(this=fn("position", v, lit(","), exp.Add(this=comma, expression=lit(1))), expression=lit(0)), copy=False)
    return fn("multiIf", exp.EQ(this=comma, expression=lit(0)), lit(NO_COMMA),
              matches(v, THOUSANDS), if_(one, lit(THOUSANDS_ONE), lit(THOUSANDS_MANY)),
              matches(v, DECIMAL_COMMA), lit(DECIMAL_ONLY), lit(OTHER_COMMA))


def number(v: exp.Expression, *, comma: bool = False, kind: exp.Expression | None = None,
           dotted: bool = False) -> exp.Expression:
    """Digits only: thousands separators (``1,234,567.50``; only where the commas are really
    thousands separators), currency and percent signs and spaces removed, a decimal comma read
    as a point (``1.234,56``, ``12,5``: only where the comma cannot be a thousands separator;
    ``1,234`` is one thousand two hundred and thirty-four, unless ``comma``: the column's other
    values use decimal commas, and it is 1.234; there, ``2.500.000`` is a whole number, while
    ``7.5`` and ``1.234`` keep their point, unless ``dotted``), and an accounting negative
    ``(12.50)`` read as ``-12.50``. ``v`` should be a column: it appears several times;
    ``kind``: its :func:`comma_kind`, computed already (a column); ``dotted`` (with ``comma``):
    the column's points group thousands, and ``1.500`` is fifteen hundred too."""
    k = comma_kind(v) if kind is None else kind
    as_point = fn("replaceAll", fn("replaceAll", v, lit("."), lit("")), lit(","), lit("."))
    thousands = (THOUSANDS_MANY,) if comma else (THOUSANDS_MANY, THOUSANDS_ONE)
    decimal = (DECIMAL_ONLY, THOUSANDS_ONE) if comma else (DECIMAL_ONLY,)
    grouped = [exp.and_(exp.EQ(this=k.copy(), expression=lit(NO_COMMA)),
                        matches(v, DOTTED_ANY if dotted else DOTTED_THOUSANDS), copy=False),
               fn("replaceAll", v, lit("."), lit(""))] if comma else []
    no_commas = fn("multiIf", k.isin(*map(lit, thousands), copy=False), fn("replaceAll", v, lit(","), lit("")),
                   k.copy().isin(*map(lit, decimal), copy=False), as_point, *grouped, v)
    # translateUTF8 maps "(" to "-" and deletes every other listed character; an ASCII value
    # (no byte beyond one per character) takes the byte-wise translate, twice as fast, of the
    # same characters less those that are not ASCII
    # (the comma rewrites touch ASCII bytes only: ``v`` answers for their result)
    ascii_only = exp.EQ(this=fn("length", v), expression=fn("lengthUTF8", v.copy()))
    return if_(ascii_only, fn("translate", no_commas, lit(DROPPED_ASCII), lit("-")),
               fn("translateUTF8", no_commas.copy(), lit(DROPPED), lit("-")))


def boolean(v: exp.Expression) -> exp.Expression:
    words = exp.Array(expressions=[lit(t) for t in (*TRUE_TOKENS, *FALSE_TOKENS)])
    bits = exp.Array(expressions=[lit(1)] * len(TRUE_TOKENS) + [lit(0)] * len(FALSE_TOKENS))
    picked = fn("transform", fn("lower", v), words, bits, exp.Null())
    return exp.cast(picked, dtype("Nullable(Bool)"))


def bad_time(v: exp.Expression) -> exp.Expression:
    """A time of day out of range (``25:00``, ``10:61``) in a text date: the parser would carry
    it over into the next hour or day (numeric dates check it in their pattern)."""
    return exp.and_(exp.GT(this=fn("position", v, lit(":")), expression=lit(0)), matches(v, BAD_TIME), copy=False)


def datetime(v: exp.Expression, *, us: bool | None = None) -> exp.Expression:
    """DateTime64(3) from mixed formats, or NULL; ``us`` reads 01/02 as January 2nd, ``False``
    as February 1st, and either one rejects (NULL) a value written in the other order
    (``12/25/2024`` day-first); ``None`` (profiling only) reads either order. A time of day
    out of range is NULL too. Text dates are read by the day-first parser whatever the order
    (the US one fails on ``05-Jan-24``), an ordinal (``5th``) dropped first. ``v`` should be a
    column: it appears several times.

    Cost per value, over the patterns and the parser before: none for numeric dates (the
    order and the time are in their one pattern); for text dates, a ``position`` (a colon:
    the time's pattern then), and for values that are no date (or a date with an ordinal) the
    text patterns once more (and a replace for an ordinal)."""
    pattern = NUMERIC_DATE if us is None else NUMERIC_DATE_MONTH_FIRST if us else NUMERIC_DATE_DAY_FIRST
    parse = "parseDateTime64BestEffortUSOrNull" if us else "parseDateTime64BestEffortOrNull"
    numeric = matches(v, pattern)
    starts = matches(v, TEXT_DATE_START)
    plain = exp.and_(starts, matches(v, TEXT_DATE_PLAIN), exp.not_(bad_time(v), copy=False), copy=False)
    textual = exp.and_(starts, matches(v, TEXT_DATE), exp.not_(bad_time(v), copy=False), copy=False)
    words = if_(textual,
                fn("parseDateTime64BestEffortOrNull", fn("replaceRegexpOne", v, lit(ORDINAL), lit("\\1")), lit(3)),
                exp.Null())
    if us:  # the US parser reads numeric dates only
        return if_(numeric, fn(parse, v, lit(3)),
                   if_(plain, fn("parseDateTime64BestEffortOrNull", v, lit(3)), words))
    return if_(exp.or_(numeric, plain, copy=False), fn(parse, v, lit(3)), words)


NAN_TOKENS = ("NaN", "nan", "NAN")


def fast(raw: exp.Expression, kind: str, inner: str) -> exp.Expression | None:
    """The cheap cast that reads a clean value directly (``1234``, ``12.5``, ``true``), or
    None for kinds without one. Dates have none: ClickHouse's plain date parser accepts
    ``2024-02-30`` (as March 1st), so every date goes through the validating parser."""
    if kind in ("int", "decimal"):
        return numeric_cast(raw, kind, inner)
    if kind == "float":  # "NaN" is a null token, not a number
        return if_(raw.isin(*map(lit, NAN_TOKENS), copy=False), exp.Null(), numeric_cast(raw, kind, inner))
    if kind == "bool":
        return boolean(raw)
    return None


# text longer than this may not fit (ClickHouse reads a 40-digit value into an Int128 modulo 2^128)
WIDE_DIGITS = {"Int128": 38, "UInt128": 38, "Int256": 76, "UInt256": 77}


def _decimal_scale(inner: str) -> int | None:
    found = re.fullmatch(r"Decimal\(\s*\d+\s*,\s*(\d+)\s*\)", inner)
    return int(found.group(1)) if found else None


def separator(t: exp.Expression, *, comma: bool = False, dotted: bool = False) -> exp.Expression:
    """The position of ``t``'s decimal separator (0: none): its first point, or with ``comma``
    the last of its first comma and its first point (``1.234,5678``: the comma); ``dotted``:
    as :func:`number` reads it."""
    dot = fn("position", t, lit("."))
    if not comma:
        return dot
    # "2.500.000" in a column of decimal commas: its points group thousands (see number())
    if dotted:
        grouped = exp.and_(exp.GT(this=dot.copy(), expression=lit(0)), matches(t.copy(), DOTTED_ANY), copy=False)
    else:
        grouped = exp.and_(exp.GT(this=fn("position", t.copy(), lit("."), exp.Add(this=dot.copy(), expression=lit(1))),
                                  expression=lit(0)), matches(t.copy(), DOTTED_THOUSANDS), copy=False)
    return if_(grouped, lit(0), fn("greatest", fn("position", t.copy(), lit(",")), dot))


def numeric_cast(x: exp.Expression, kind: str, inner: str, *, text: exp.Expression | None = None,
                 comma: bool = False, dotted: bool = False) -> exp.Expression:
    """``accurateCastOrNull`` of number text ``x``, NULL also where ClickHouse would change the
    value: a Decimal cast truncates ``1.999`` to 1.99 and reads ``1.2.3`` as 1.23, so more
    decimal places than the scale (trailing zeros aside), a point after the decimal separator or
    an exponent fail; a Float64 cannot hold every integer of more than 15 digits, so one that
    does not round-trip fails; an Int128 cast wraps past 38 digits, so a longer value fails.

    The checks read ``text``, the value as written (a column: ``x`` may be the cleaned text,
    computed again for each use inside ``if``/``and``), with ``comma`` its decimal separator.
    Per value: a Decimal adds a few short scans (position, length, trimRight), a Float64 or an
    Int128 a length (the rest runs only on the rare values longer than 15 characters)."""
    t = x if text is None else text
    cast = fn("accurateCastOrNull", x, lit(inner))
    scale = _decimal_scale(inner) if kind == "decimal" else None
    if scale is not None:
        sep = separator(t, comma=comma, dotted=dotted)
        digits = fn("trimRight", fn("trimRight", t, lit(TRAILING_SIGNS)), lit("0"))
        # arithmetic, not and/or: each short-circuit step filters its arguments, which costs
        # more than these scans of a short value
        places = fn("greater", fn("minus", fn("length", digits), sep), lit(scale))
        second = fn("greater", fn("position", t, lit("."), fn("plus", sep, lit(1))), lit(0))
        too_fine = fn("multiply", fn("greater", sep, lit(0)), fn("plus", places, second))
        exponent = fn("greater", fn("positionCaseInsensitive", t, lit("e")), lit(0))
        # the checks run on every value, even where the cast failed: an ``if`` around them cost
        # more than they do (short-circuit evaluation copies a value's inputs for its branch)
        return if_(fn("greater", fn("plus", too_fine, exponent), lit(0)), exp.Null(), cast)
    if kind == "float":
        whole_text = t if comma or text is None else fn("replaceAll", t, lit(","), lit(""))
        whole = fn("accurateCastOrNull", whole_text, lit("Int128"))
        lossy = exp.and_(exp.GT(this=fn("length", t), expression=lit(15)),
                         exp.EQ(this=fn("position", t, lit(".")), expression=lit(0)),
                         matches(whole_text, "^[-+]?[0-9]+$"),
                         exp.or_(exp.GT(this=fn("length", whole_text), expression=lit(WIDE_DIGITS["Int128"])),
                                 fn("ifNull", exp.NEQ(this=fn("accurateCastOrNull", fn("toFloat64", whole), lit("Int128")),
                                                      expression=whole), lit(1)), copy=False), copy=False)
        return if_(lossy, exp.Null(), cast)
    if kind == "int" and inner in WIDE_DIGITS:
        return if_(exp.GT(this=fn("length", t), expression=lit(WIDE_DIGITS[inner])), exp.Null(), cast)
    return cast


def slow(v: exp.Expression, kind: str, inner: str, *, us: bool | None = None, comma: bool = False,
         digits: exp.Expression | None = None, dotted: bool = False) -> exp.Expression:
    """The cleaning cast of a trimmed, null-token-free value ``v``: NULL when it does not fit;
    ``comma``: ``1,234`` is 1.234 (the column uses decimal commas); ``digits``: a number's
    :func:`number` of ``v``, computed already (a column); ``dotted``: see :func:`number`."""
    if kind in ("int", "float", "decimal"):
        return numeric_cast(number(v, comma=comma, dotted=dotted) if digits is None else digits, kind, inner, text=v,
                            comma=comma, dotted=dotted)
    if kind == "bool":
        return boolean(v)
    if kind in ("date", "datetime"):
        parsed = datetime(v, us=us)
        return parsed if inner == "DateTime64(3)" else fn("accurateCastOrNull", parsed, lit(inner))
    if kind == "text":
        return v
    return fn("accurateCastOrNull", v, lit(inner))


def either(fast_value: exp.Expression | None, slow_value: exp.Expression) -> exp.Expression:
    """The fast cast where it worked, else the cleaning one (evaluated only for those rows)."""
    if fast_value is None:
        return slow_value
    return if_(not_null(fast_value), fast_value, slow_value)


# the day/month order a value shows (:func:`date_order`)
NOT_DAY_MONTH, SHOWS_DAY_FIRST, SHOWS_MONTH_FIRST, EITHER_ORDER = 0, 1, 2, 3


def date_order(v: exp.Expression) -> exp.Expression:
    """Among 01/02/2024-like values (``/``, ``-`` or ``.``: :data:`DAY_MONTH`), those whose
    first part can only be a day (:data:`SHOWS_DAY_FIRST`: 25/12/2024), those whose second part
    can only be a day (:data:`SHOWS_MONTH_FIRST`: 12/25/2024), and the rest
    (:data:`EITHER_ORDER`: 01/02/2024); :data:`NOT_DAY_MONTH` for other values. Each order is
    the other's contradiction. One pattern per value; one or two more for 01/02-like ones."""
    return fn("multiIf", exp.not_(matches(v, DAY_MONTH), copy=False), lit(NOT_DAY_MONTH), matches(v, DAY_FIRST), lit(SHOWS_DAY_FIRST),
              matches(v, MONTH_FIRST), lit(SHOWS_MONTH_FIRST), lit(EITHER_ORDER))


# a time of day (then perhaps AM/PM) followed by a time-zone offset or a name the parser knows:
# "10:00+02:00", "10:00:00.5 -0500", "10:00 +2", "T10+02:00", "100000Z", "10:00 UTC", "10:00 UTC+2",
# "10:00 PM MSK" (it reads no other name: "EST" fails, "FRI" is a weekday it skips)
TZ_OFFSET = ("[0-9]( *[AaPp][Mm])? *([Zz]|(?i:utc|gmt)([+-][0-9]{1,2}(:?[0-9]{2})?)?|MSK"
             "|[+-][0-9]{1,2}(:?[0-9]{2})?)$")


def has_offset(v: exp.Expression) -> exp.Expression:
    """A moment written with a time-zone offset or zone name, which the parser converts to the
    database's time zone. A pattern only for values with a time (a colon, or a T)."""
    timed = exp.or_(exp.GT(this=fn("position", v, lit(":")), expression=lit(0)),
                    exp.GT(this=fn("position", v.copy(), lit("T")), expression=lit(0)), copy=False)
    return exp.and_(timed, matches(v.copy(), TZ_OFFSET), copy=False)


def has_time(moment: exp.Expression) -> exp.Expression:
    """A parsed moment with a time of day. Compared with its own day (``Date32``, 1900-2299 and
    beyond) brought back to DateTime64: ``toStartOfDay`` returns a 32-bit DateTime, clamped to
    1970-2106, so every earlier or later date looked like it had a time."""
    day = fn("toDateTime64", fn("toDate32", moment), lit(3))
    return exp.and_(not_null(moment), exp.NEQ(this=moment, expression=day), copy=False)
