"""Words: normalising spoken questions and splitting identifiers into words.

Pure functions, shared by the planner (and later by the speech prompt).
"""

from __future__ import annotations

import re
import unicodedata

ABBREVIATIONS = {
    "qty": "quantity", "amt": "amount", "pct": "percent", "perc": "percent", "num": "number",
    "no": "number", "nr": "number", "avg": "average", "yr": "year", "mo": "month", "dt": "date",
    "exp": "expense", "cap": "capacity", "cust": "customer", "prod": "product", "cat": "category",
    "emp": "employees", "dept": "department", "desc": "description", "rev": "revenue",
    "ltv": "lifetime value", "val": "value", "ord": "order", "qtr": "quarter", "tx": "transaction",
    "txn": "transaction", "addr": "address", "cnt": "count", "tot": "total", "temp": "temperature",
    "pop": "population", "sal": "salary", "id": "id",
}

# General business vocabulary, never a table's own names: a spoken word -> words it may mean.
SYNONYMS = {
    "sales": ("revenue", "amount", "sales"),
    "turnover": ("revenue", "sales"),
    "income": ("revenue", "income"),
    "earnings": ("revenue", "income"),
    "money": ("revenue", "amount"),
    "value": ("value", "revenue", "amount"),
    "units": ("quantity",),
    "volume": ("quantity", "volume"),
    "clients": ("customer",),
    "client": ("customer",),
    "buyers": ("customer",),
    "price": ("price", "unit price"),
    "prices": ("price", "unit price"),
    "cost": ("cost", "price"),
    "markets": ("country", "region"),
    "market": ("country", "region"),
    "nations": ("country",),
    "nation": ("country",),
    "areas": ("region",),
    "area": ("region",),
    "items": ("product",),
    "item": ("product",),
}

_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
_SCALES = {"hundred": 100, "thousand": 1_000, "million": 1_000_000}


def strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def identifier_words(name: str) -> list[str]:
    """``unitPrice`` -> [unit, price]; ``cust_ltv`` -> [customer, lifetime, value]."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    spaced = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1 \2", spaced)
    parts = [p for p in re.split(r"[^A-Za-z0-9]+", spaced) if p]
    words: list[str] = []
    for p in parts:
        low = p.lower()
        words.extend(ABBREVIATIONS.get(low, low).split())
    return words


def singular(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith(("ses", "xes", "ches", "shes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _number_words(tokens: list[str]) -> list[str]:
    """Turn runs of number words into digits: "twenty five" -> 25, "two thousand" -> 2000,
    and spoken years "twenty twenty three" -> 2023, "nineteen ninety" -> 1990."""
    out: list[str] = []
    i = 0
    while i < len(tokens):
        t = tokens[i]
        if t not in _UNITS and t not in _TENS:
            out.append(t)
            i += 1
            continue
        # spoken year: (nineteen|twenty) + (tens [unit] | "oh" unit | unit>=10)
        if t in ("nineteen", "twenty") and i + 1 < len(tokens):
            nxt = tokens[i + 1]
            if nxt in _TENS or (nxt in _UNITS and _UNITS[nxt] >= 10):
                century = 1900 if t == "nineteen" else 2000
                rest = _TENS.get(nxt, _UNITS.get(nxt, 0))
                j = i + 2
                if nxt in _TENS and j < len(tokens) and tokens[j] in _UNITS and 0 < _UNITS[tokens[j]] < 10:
                    rest += _UNITS[tokens[j]]
                    j += 1
                out.append(str(century + rest))
                i = j
                continue
        total, current, j = 0, 0, i
        while j < len(tokens):
            w = tokens[j]
            if w in _UNITS:
                current += _UNITS[w]
            elif w in _TENS:
                current += _TENS[w]
            elif w in _SCALES and (current or total):
                if w == "hundred":
                    current *= 100
                else:
                    total += current * _SCALES[w]
                    current = 0
            elif w == "and" and j + 1 < len(tokens) and (tokens[j + 1] in _UNITS or tokens[j + 1] in _TENS) and (current >= 100 or total):
                pass
            else:
                break
            j += 1
        out.append(str(total + current))
        i = j
    return out


def normalise(question: str) -> str:
    """Lower-case, accents off, punctuation out, number words as digits, "10k" as 10000."""
    text = strip_accents(question).lower()
    text = text.replace("%", " percent ").replace("&", " and ")
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)  # 10,000 -> 10000
    text = re.sub(r"\$\s*(\d)", r"\1", text)
    text = re.sub(r"[^a-z0-9.\s'-]", " ", text)
    text = re.sub(r"(?<![0-9])\.|\.(?![0-9])", " ", text)
    text = text.replace("'s", "").replace("'", "").replace("-", " ")
    tokens = _number_words(text.split())
    joined = " ".join(tokens)
    joined = re.sub(r"\b(\d+(?:\.\d+)?)\s*k\b", lambda m: str(int(float(m.group(1)) * 1000)), joined)
    joined = re.sub(r"\b(\d+(?:\.\d+)?)\s*(?:m|million)\b", lambda m: str(int(float(m.group(1)) * 1_000_000)), joined)
    return joined
