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

from sqlglot import exp

NULL_TOKENS = ("", "NA", "N/A", "n/a", "na", "Na", "null", "NULL", "Null", "None", "none", "NONE",
               "-", "--", "NaN", "nan", "NAN", "#N/A", "#NA", "\\N", "nil", "NIL")
TRUE_TOKENS = ("true", "t", "yes", "y")
FALSE_TOKENS = ("false", "f", "no", "n")
WHITESPACE = " \t\r\n"

_MONTH = "(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\\.?"
# 2024-01-31, 2024/1/31, 31/01/2024, 31.01.24 (a time may follow)
NUMERIC_DATE = "^[0-9]{1,4}[-/.][0-9]{1,2}[-/.][0-9]{1,4}([ T][0-9]|$)"
# 5 Jan 2024, 05-Jan-24, Friday, January 5th, 2024
TEXT_DATE = (f"(?i)^([0-9]{{1,2}}[ -]{_MONTH}[ -,]*[0-9]{{2,4}}"
             f"|([a-z]+,? )?{_MONTH} [0-9]{{1,2}}(st|nd|rd|th)?,? [0-9]{{4}})([ T,].*)?$")
TEXT_DATE_START = "^([0-9]{1,2}[ -][A-Za-z]|[A-Za-z]{3,9},? [A-Za-z0-9])"
THOUSANDS = "^[^0-9,]*[0-9]{1,3}(,[0-9]{3})+([.][0-9]*)?[^0-9,]*$"
# a decimal comma, where it cannot be a thousands separator: "1.234,56" (dots group the
# thousands), "12,5" or "0,75" (a thousands comma has exactly three digits after it)
DECIMAL_COMMA = ("^[^0-9,.]*[0-9]{1,3}([.][0-9]{3})+,[0-9]*[^0-9,.]*$"
                 "|^[^0-9,.]*[0-9]+,([0-9]{1,2}|[0-9]{4,})[^0-9,.]*$")
DROPPED = "($€£¥%) \u00a0\u202f"  # "(" becomes "-"; the rest are deleted
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
    return exp.not_(is_null(e))


def matches(e: exp.Expression, pattern: str) -> exp.Anonymous:
    return fn("match", e, lit(pattern))


def text(raw: exp.Expression, fix_encoding: bool = False) -> exp.Expression:
    if not fix_encoding:
        return raw
    return if_(fn("isValidUTF8", raw), raw, fn("convertCharset", raw, lit("windows-1252"), lit("UTF-8")))


def value(raw: exp.Expression, *, fix_encoding: bool = False, null_tokens: tuple[str, ...] = NULL_TOKENS) -> exp.Expression:
    """Trimmed text, NULL for a null token (ClickHouse computes the repeated trim once)."""
    trimmed = fn("trimBoth", text(raw, fix_encoding), lit(WHITESPACE))
    return if_(trimmed.isin(*[lit(t) for t in null_tokens]), exp.Null(), trimmed)


def number(v: exp.Expression) -> exp.Expression:
    """Digits only: thousands separators (``1,234,567.50``; only where the commas are really
    thousands separators), currency and percent signs and spaces removed, a decimal comma read
    as a point (``1.234,56``, ``12,5``: only where the comma cannot be a thousands separator;
    ``1,234`` is one thousand two hundred and thirty-four), and an accounting negative
    ``(12.50)`` read as ``-12.50``. ``v`` should be a column: it appears several times. The
    patterns run only on values with a comma."""
    no_commas = fn("multiIf", exp.EQ(this=fn("position", v, lit(",")), expression=lit(0)), v,
                   matches(v, THOUSANDS), fn("replaceAll", v, lit(","), lit("")),
                   matches(v, DECIMAL_COMMA), fn("replaceAll", fn("replaceAll", v, lit("."), lit("")), lit(","), lit(".")),
                   v)
    # translateUTF8 maps "(" to "-" and deletes every other listed character
    return fn("translateUTF8", no_commas, lit(DROPPED), lit("-"))


def boolean(v: exp.Expression) -> exp.Expression:
    words = exp.Array(expressions=[lit(t) for t in (*TRUE_TOKENS, *FALSE_TOKENS)])
    bits = exp.Array(expressions=[lit(1)] * len(TRUE_TOKENS) + [lit(0)] * len(FALSE_TOKENS))
    picked = fn("transform", fn("lower", v), words, bits, exp.Null())
    return exp.cast(picked, exp.DataType.build("Nullable(Bool)", dialect="clickhouse"))


def looks_like_date(v: exp.Expression) -> exp.Expression:
    """A cheap test before the date parser: digits-and-separators dates, or (only for values
    that start like one: "5 Jan", "Jan 5", "Friday,") month names."""
    textual = exp.and_(matches(v, TEXT_DATE_START), matches(v, TEXT_DATE))
    return exp.or_(matches(v, NUMERIC_DATE), textual)


def datetime(v: exp.Expression, *, us: bool = False) -> exp.Expression:
    """DateTime64(3) from mixed formats, or NULL; ``us`` reads 01/02 as January 2nd."""
    parse = "parseDateTime64BestEffortUSOrNull" if us else "parseDateTime64BestEffortOrNull"
    return if_(looks_like_date(v), fn(parse, v, lit(3)), exp.Null())


NAN_TOKENS = ("NaN", "nan", "NAN")


def fast(raw: exp.Expression, kind: str, inner: str) -> exp.Expression | None:
    """The cheap cast that reads a clean value directly (``1234``, ``12.5``, ``true``), or
    None for kinds without one. Dates have none: ClickHouse's plain date parser accepts
    ``2024-02-30`` (as March 1st), so every date goes through the validating parser."""
    if kind in ("int", "decimal"):
        return fn("accurateCastOrNull", raw, lit(inner))
    if kind == "float":  # "NaN" is a null token, not a number
        return if_(raw.isin(*map(lit, NAN_TOKENS)), exp.Null(), fn("accurateCastOrNull", raw, lit(inner)))
    if kind == "bool":
        return boolean(raw)
    return None


def slow(v: exp.Expression, kind: str, inner: str, *, us: bool = False) -> exp.Expression:
    """The cleaning cast of a trimmed, null-token-free value ``v``: NULL when it does not fit."""
    if kind in ("int", "float", "decimal"):
        return fn("accurateCastOrNull", number(v), lit(inner))
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


def month_first_evidence(v: exp.Expression) -> tuple[exp.Expression, exp.Expression]:
    """(values whose first part is > 12, values whose second part is > 12) among 01/02/2024-like
    values: the first says day-first, the second month-first."""
    parts = fn("splitByChar", lit("/"), v)
    first = fn("toUInt8OrZero", fn("arrayElement", parts, lit(1)))
    second = fn("toUInt8OrZero", fn("arrayElement", parts, lit(2)))
    return exp.GT(this=first, expression=lit(12)), exp.GT(this=second, expression=lit(12))
