"""Names: which table names are allowed, how messy headers become column names, and how
identifiers are quoted (always through sqlglot, never pasted into SQL text)."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from sqlglot import exp

from ..errors import SourceError

DIALECT = "clickhouse"
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
STAGE_PREFIX = "_bivoice_stage_"  # hidden from the catalog (it skips names that start with _)
AUDIT_TABLE = "_bivoice_loads"
RESERVED = {"_bivoice_row", "_bivoice_extra"}

# Letters NFKD does not split into ASCII: spell them out rather than drop them.
_SPELL = str.maketrans({"ß": "ss", "æ": "ae", "Æ": "AE", "ø": "o", "Ø": "O", "œ": "oe", "Œ": "OE",
                        "ð": "d", "þ": "th", "ł": "l", "Ł": "L", "%": " pct ", "#": " num ", "&": " and "})
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_NOT_WORD = re.compile(r"[^A-Za-z0-9]+")


def ident(name: str) -> exp.Identifier:
    return exp.to_identifier(name, quoted=True)


@lru_cache(maxsize=512)
def _parsed_type(text: str) -> exp.DataType:
    return exp.DataType.build(text, dialect=DIALECT)


def dtype(text: str) -> exp.DataType:
    """A ClickHouse type as a sqlglot node. Parsing a type's text took 0.5 ms, and a load builds
    some 240 of them (about 0.12 s of a 1,000-row load's 1.1 s), mostly the same few: each is
    parsed once, and every caller gets its own copy (a node belongs to one tree)."""
    return _parsed_type(text).copy()


def table(database: str, name: str) -> exp.Table:
    return exp.table_(ident(name), db=ident(database))


def qualified(database: str, name: str) -> str:
    """``database.name`` quoted for ClickHouse, for the few statements sqlglot cannot build."""
    return table(database, name).sql(DIALECT)


def check_table_name(name: object, what: str = "table") -> str:
    if not isinstance(name, str) or not IDENTIFIER.match(name) or name.startswith("_bivoice"):
        raise SourceError(
            f"{name!r} is not a valid {what} name.",
            hint="use letters, digits and _, starting with a letter (at most 128 characters)",
        )
    return name


def snake(text: object) -> str:
    """``"Order ID"`` -> ``order_id``, ``"Amount ($)"`` -> ``amount``, ``"Größe"`` -> ``grosse``,
    ``"unitPrice"`` -> ``unit_price``; empty when nothing word-like is left."""
    s = unicodedata.normalize("NFKD", str(text).translate(_SPELL))
    s = s.encode("ascii", "ignore").decode("ascii")
    s = _CAMEL.sub("_", s.strip())
    s = _NOT_WORD.sub("_", s).strip("_").lower()
    return s[:120]


def clean_names(raw: list[str]) -> list[str]:
    """snake_case, unique names for a header: blanks become ``column_N``, a leading digit gets
    ``c_``, repeats get ``_2``, ``_3`` ... in order."""
    out: list[str] = []
    seen: set[str] = set()
    for i, name in enumerate(raw, start=1):
        base = snake(name) or f"column_{i}"
        if base[0].isdigit():
            base = f"c_{base}"
        if base in RESERVED:
            base = base.lstrip("_")
        candidate, n = base, 2
        while candidate in seen:
            candidate, n = f"{base}_{n}", n + 1
        seen.add(candidate)
        out.append(candidate)
    return out


def check_names(raw: list[str]) -> list[str]:
    """Names kept as given (a DataFrame's columns, chosen in code): each must be an identifier."""
    dup = sorted({n for n in raw if raw.count(n) > 1})
    if dup:
        raise SourceError(f"Duplicate column names: {', '.join(map(str, dup))}.",
                          hint="rename them, or pass clean_names=True")
    for name in raw:
        if not isinstance(name, str) or not IDENTIFIER.match(name) or name in RESERVED or name.startswith("__bv_"):
            raise SourceError(f"Column name {name!r} is not an identifier.",
                              hint="use letters, digits and _ only, or pass clean_names=True")
    return list(raw)
