"""Words: normalising spoken questions and splitting identifiers into words.

Pure functions, shared by the planner (and later by the speech prompt). Nothing here knows a
table: abbreviations and synonyms are general business and measurement vocabulary.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# An identifier part -> the words it most likely stands for (the first is its reading in
# ``identifier_words``; the others are also accepted when matching spoken words).
ABBREVIATIONS: dict[str, tuple[str, ...]] = {
    "qty": ("quantity",), "amt": ("amount",), "pct": ("percent", "percentage"), "perc": ("percent", "percentage"),
    "num": ("number",), "no": ("number",), "nr": ("number",), "nbr": ("number",), "avg": ("average",),
    "yr": ("year",), "yrs": ("years",), "mo": ("month",), "mth": ("month",), "dt": ("date",),
    "exp": ("expense", "expectancy", "experience", "expenditure"), "cap": ("capacity", "capita", "capital"),
    "cust": ("customer",), "prod": ("product",), "cat": ("category",), "emp": ("employees", "employee"),
    "dept": ("department",), "desc": ("description",), "rev": ("revenue",), "ltv": ("lifetime value",),
    "val": ("value",), "ord": ("order",), "qtr": ("quarter",), "tx": ("transaction",), "txn": ("transaction",),
    "addr": ("address",), "cnt": ("count",), "tot": ("total",), "temp": ("temperature",),
    "pop": ("population",), "sal": ("salary",), "id": ("id",), "hrs": ("hours",), "hr": ("hours", "hour"),
    "mins": ("minutes",), "min": ("minimum", "minutes"), "max": ("maximum",), "secs": ("seconds",),
    "sec": ("seconds",), "ha": ("hectares", "hectare"), "mm": ("millimetres", "millimeters"),
    "km": ("kilometres", "kilometers"), "kg": ("kilograms",), "lbs": ("pounds",), "perf": ("performance",),
    "mgr": ("manager",), "acct": ("account",), "bal": ("balance",), "pmt": ("payment",), "inv": ("invoice",),
    "loc": ("location",), "wt": ("weight",), "ht": ("height",), "dur": ("duration",), "est": ("estimated",),
    "sqft": ("square feet",), "sq": ("square",), "ft": ("feet",), "usd": ("dollars",), "eur": ("euros",),
    "gdp": ("gdp",), "csat": ("customer satisfaction", "satisfaction"), "nps": ("net promoter score",),
    "roi": ("return on investment",), "bp": ("blood pressure",), "bmi": ("body mass index",), "aov": ("average order value",), "ctr": ("click through rate",),
    "arr": ("arrival", "arrivals"), "dep": ("departure", "departures"), "hp": ("horsepower",),
    "v": ("volts", "voltage"), "c": ("celsius", "degrees"), "f": ("fahrenheit", "degrees"), "g": ("grams",),
    "t": ("tons", "tonnes"), "w": ("watts",), "mn": ("millions",), "bn": ("billions",),
}

# General business vocabulary, never a table's own names: a spoken word -> words it may mean,
# tried in order against the words of the columns.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "sales": ("revenue", "sales", "amount"),
    "turnover": ("revenue", "sales"),
    "income": ("revenue", "income"),
    "earnings": ("revenue", "income", "earnings", "salary"),
    "money": ("revenue", "amount"),
    "value": ("value", "revenue", "amount"),
    "units": ("quantity", "units"),
    "unit": ("quantity", "units"),
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
    "areas": ("region", "area"),
    "area": ("region", "area"),
    "items": ("product",),
    "item": ("product",),
    "pay": ("salary", "pay", "wage", "compensation"),
    "paid": ("salary", "pay", "wage", "compensation"),
    "earn": ("salary", "income", "earnings", "revenue"),
    "earns": ("salary", "income", "earnings", "revenue"),
    "earning": ("salary", "income", "earnings", "revenue"),
    "wages": ("salary", "wage"),
    "spend": ("amount", "spend", "cost", "expense", "spending"),
    "spending": ("amount", "spend", "cost", "expense", "spending"),
    "spent": ("amount", "spend", "cost", "expense", "spending"),
    "expenses": ("expense", "amount", "cost"),
    "rain": ("rainfall", "precipitation"),
    "satisfaction": ("satisfaction", "customer satisfaction"),
    "experience": ("experience",),
    "level": ("level",),
    "expensive": ("price", "cost"),
    "cheap": ("price", "cost"),
    "cheapest": ("price", "cost"),
    "heavy": ("weight",),
    "heaviest": ("weight",),
    "tall": ("height",),
    "tallest": ("height",),
    "old": ("age",),
    "oldest": ("age",),
    "young": ("age",),
    "youngest": ("age",),
    "older": ("age",),
    "younger": ("age",),
    "heavier": ("weight",),
    "lighter": ("weight",),
    "taller": ("height",),
    "cheaper": ("price", "cost"),
    "hot": ("temperature",),
    "hottest": ("temperature",),
    "warmest": ("temperature",),
    "coldest": ("temperature",),
}

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# Values people say in other words: a stored value (lower case) -> words that name it.
VALUE_ALIASES: dict[str, tuple[str, ...]] = {
    "female": ("women", "woman", "ladies", "lady", "girls", "females"),
    "male": ("men", "man", "gentlemen", "boys", "males"),
    "f": ("women", "woman", "female", "females", "ladies"),
    "m": ("men", "man", "male", "males"),
    "usa": ("united states", "america", "us"),
    "us": ("united states", "america", "usa"),
    "united states": ("usa", "america", "us"),
    "uk": ("united kingdom", "britain", "great britain"),
    "united kingdom": ("uk", "britain", "great britain"),
}

# Parts of a column name that are its unit, never the word that names it ("area_ha" is an area).
UNIT_PARTS = frozenset({"ha", "mm", "cm", "km", "kg", "g", "lbs", "hrs", "hr", "mins", "min", "secs", "sec", "pct",
                        "perc", "t", "c", "f", "usd", "eur", "gbp", "ms", "s", "m", "ft", "sqft", "pc", "units", "v",
                        "millions", "million", "mn", "thousands", "k", "bn", "billions", "tons", "tonnes", "pounds",
                        "dollars", "euros", "years", "yrs", "days", "hours", "minutes", "seconds", "percent", "w"})
# Parts of a column name that say it measures time ("resolution_hrs"): "time" may name it.
TIME_UNITS = frozenset({"hours", "hour", "minutes", "seconds", "days", "duration", "time"})

_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
_SCALES = {"hundred": 100, "thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000}
_ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
    "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13, "fourteenth": 14,
    "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18, "nineteenth": 19,
    "twentieth": 20, "thirtieth": 30,
}
MONTH_NAMES = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
               "october", "november", "december")
_MONTH_ABBR = {m[:3]: m for m in MONTH_NAMES} | {"sept": "september"}


def strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def identifier_parts(name: str) -> list[str]:
    """``unitPrice`` -> [unit, price]; ``yield_t_ha`` -> [yield, t, ha] (lower case, not expanded)."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", strip_accents(name))
    spaced = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1 \2", spaced)
    return [p.lower() for p in re.split(r"[^A-Za-z0-9]+", spaced) if p]


# An abbreviation whose meaning the part before it settles: ``yrsExp`` is years of experience.
IN_CONTEXT: dict[tuple[str, str], str] = {
    ("yrs", "exp"): "experience", ("years", "exp"): "experience", ("yr", "exp"): "experience",
    ("life", "exp"): "expectancy",
}


def identifier_words(name: str) -> list[str]:
    """``unitPrice`` -> [unit, price]; ``cust_ltv`` -> [customer, lifetime, value];
    ``yrsExp`` -> [years, experience]."""
    words: list[str] = []
    previous = ""
    for p in identifier_parts(name):
        words.extend((IN_CONTEXT.get((previous, p)) or ABBREVIATIONS.get(p, (p,))[0]).split())
        previous = p
    return words


_IRREGULAR = {"leaves": "leaf", "lives": "life", "knives": "knife", "wives": "wife", "halves": "half",
              "shelves": "shelf", "calves": "calf", "wolves": "wolf", "people": "person", "children": "child",
              "men": "man", "women": "woman", "mice": "mouse", "geese": "goose", "feet": "foot", "teeth": "tooth",
              "indices": "index", "matrices": "matrix", "analyses": "analysis", "criteria": "criterion"}


@lru_cache(maxsize=8192)
def singular(word: str) -> str:
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith(("sses", "xes", "ches", "shes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _number_words(tokens: list[str]) -> list[str]:
    """Turn runs of number words into digits: "twenty five" -> 25, "two thousand" -> 2000,
    and spoken years "twenty twenty three" -> 2023, "nineteen ninety" -> 1990."""
    out: list[str] = []
    i = 0
    while i < len(tokens):
        t = tokens[i]
        if t == "a" and i + 1 < len(tokens) and tokens[i + 1] in ("hundred", "thousand", "million", "billion"):
            out.append(str(_SCALES[tokens[i + 1]]))
            i += 2
            continue
        if t not in _UNITS and t not in _TENS or (t in _TENS and i + 1 < len(tokens) and tokens[i + 1] in _ORDINALS):
            out.append(t)  # "twenty first" stays words: it is an ordinal, read with the dates
            i += 1
            continue
        # spoken year: (nineteen|twenty) + (tens [unit] | unit>=10 | "oh" unit)
        if t in ("nineteen", "twenty") and i + 1 < len(tokens):
            nxt = tokens[i + 1]
            oh = nxt in ("oh", "o") and i + 2 < len(tokens) and 0 < _UNITS.get(tokens[i + 2], 0) < 10
            if nxt in _TENS or (nxt in _UNITS and _UNITS[nxt] >= 10) or oh:
                century = 1900 if t == "nineteen" else 2000
                if oh:
                    out.append(str(century + _UNITS[tokens[i + 2]]))
                    i += 3
                    continue
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


def _ordinal(tokens: list[str], i: int) -> tuple[int, int] | None:
    """The ordinal at tokens[i] ("fifteenth", "twenty first", "15th") -> (value, tokens used)."""
    t = tokens[i]
    m = re.fullmatch(r"(\d{1,2})(?:st|nd|rd|th)", t)
    if m:
        return int(m.group(1)), 1
    if t in _ORDINALS:
        return _ORDINALS[t], 1
    if t in ("twenty", "thirty") and i + 1 < len(tokens) and tokens[i + 1] in _ORDINALS and _ORDINALS[tokens[i + 1]] < 10:
        return _TENS[t] + _ORDINALS[tokens[i + 1]], 2
    return None


def _dates_and_ordinals(tokens: list[str]) -> list[str]:
    """Ordinals only where they are dates or quarters ("the fifteenth of march" -> "15th of
    march", "first quarter" -> "1th quarter": one canonical ``<n>th`` form, which the date rules
    read, never shown); elsewhere "first" stays a word (``first_reply``)."""
    out: list[str] = []
    i = 0
    months = set(MONTH_NAMES)
    while i < len(tokens):
        t = tokens[i]
        if t in _MONTH_ABBR and (i + 1 < len(tokens) and re.fullmatch(r"\d+(st|nd|rd|th)?", tokens[i + 1])):
            t = _MONTH_ABBR[t]
        ordv = _ordinal(tokens, i)
        if ordv is not None:
            value, used = ordv
            after = tokens[i + used : i + used + 2]
            before = out[-2:]
            is_date = (after[:1] and after[0] in months) or (after[:2] and after[0] == "of" and len(after) > 1 and after[1] in months)
            is_date = is_date or bool(before and (before[-1] in months or (len(before) > 1 and before[-1] == "the" and before[-2] in months)))
            is_quarter = bool(after[:1]) and after[0] in ("quarter", "half", "week") and value <= 53
            if is_date or is_quarter:
                out.append(f"{value}th")
                i += used
                continue
        out.append(t)
        i += 1
    return out


def normalise(question: str) -> str:
    """Lower-case, accents off, punctuation out, number words as digits, "10k" as 10000,
    ordinal dates as "15th", ISO dates as "march 15th 2023"."""
    text = strip_accents(question)
    text = re.sub(
        r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b",
        lambda m: f" {MONTH_NAMES[int(m.group(2)) - 1]} {int(m.group(3))}th {m.group(1)} " if 1 <= int(m.group(2)) <= 12 else m.group(0),
        text,
    )
    text = text.lower()
    text = text.replace("%", " percent ").replace("&", " and ").replace("#", " number ")
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)  # 10,000 -> 10000
    text = re.sub(r"[$€£]\s*(\d)", r"\1", text)
    text = re.sub(r"[^a-z0-9.\s'-]", " ", text)
    text = re.sub(r"(?<![0-9])\.|\.(?![0-9])", " ", text)
    text = text.replace("'s ", " ").replace("'", "").replace("-", " ")
    tokens = _number_words(text.split())
    tokens = _dates_and_ordinals(tokens)
    joined = " ".join(tokens)
    joined = re.sub(r"\b(\d+) point (\d+)\b", r"\1.\2", joined)
    joined = re.sub(r"\b(\d+(?:\.\d+)?)\s*k\b", lambda m: _num(float(m.group(1)) * 1000), joined)
    joined = re.sub(r"\b(\d+(?:\.\d+)?)\s*(?:m|mn|million|millions)\b", lambda m: _num(float(m.group(1)) * 1_000_000), joined)
    joined = re.sub(r"\b(\d+(?:\.\d+)?)\s*(?:bn|billion|billions)\b", lambda m: _num(float(m.group(1)) * 1_000_000_000), joined)
    joined = re.sub(r"\b(\d+(?:\.\d+)?)\s*(?:thousand)\b", lambda m: _num(float(m.group(1)) * 1000), joined)
    joined = re.sub(r"\bq ?([1-4])\b", r"\1th quarter", joined)
    return joined


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


# ------------------------------------------------------------------ matching one word


def _skeleton(part: str, word: str) -> bool:
    """``qty`` in ``quantity``, ``hrs`` in ``hours``: the part's letters in order, the same first
    and last letter (not ``arr`` in "airport")."""
    if not part or not word or part[0] != word[0]:
        return False
    stem = word[:-1] if word.endswith("s") and not part.endswith("s") else word
    if part[-1] != stem[-1]:
        return False
    it = iter(word)
    return all(c in it for c in part)


def edit_distance(a: str, b: str, limit: int = 3) -> int:
    """Levenshtein distance, stopping early past ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        if min(cur) > limit:
            return limit + 1
        prev = cur
    return prev[-1]


def close_spelling(spoken: str, word: str) -> bool:
    """A small speech or spelling slip: one edit in 4+ letters, two in 8+ ("brasil", "toskana")."""
    if spoken == word or len(word) < 4 or len(spoken) < 4 or spoken[0] != word[0]:
        return False
    allowed = 1 if len(word) < 8 else 2
    return edit_distance(spoken, word, allowed) <= allowed


@lru_cache(maxsize=65536)
def word_match(part: str, spoken: str) -> float:
    """How well one spoken word names one identifier part, 0 (not at all) to 1 (exactly)."""
    if spoken == part:
        return 1.0
    if singular(spoken) == singular(part):
        return 0.97
    for exp in ABBREVIATIONS.get(part, ()):
        if " " not in exp and (spoken == exp or singular(spoken) == singular(exp)):
            return 0.95
    if len(part) >= 3 and spoken.startswith(part) and len(spoken) > len(part) and not part.endswith("e") \
            and spoken[len(part):] not in ("s", "es", "ed", "ing", "er", "ers", "ings"):
        return 0.8  # num -> number, emp -> employees, cap -> capita (not age -> agents, bill -> billing)
    if spoken in ABBREVIATIONS and part.startswith(spoken):
        return 0.8  # temp -> temperature
    if len(part) >= 2 and part not in ABBREVIATIONS and not any(c in "aeiou" for c in part[1:]) and _skeleton(part, spoken):
        return 0.75  # qty -> quantity, hrs -> hours, mm -> millimetres
    if len(spoken) >= 5 and len(part) >= 5:
        common = 0
        for a, b in zip(spoken, part):
            if a != b:
                break
            common += 1
        shorter, longer = sorted((spoken, part), key=len)
        grown = common == len(shorter) and longer[common:] not in ("d", "s", "ed", "es", "ing", "al", "ly", "ion", "ions")
        if common >= 5 and common >= 0.6 * len(shorter) and not grown:
            return 0.6  # resolve -> resolution, experienced -> experience (not count -> country)
        if close_spelling(spoken, part):
            return 0.6
    return 0.0


def split_match(part: str, spoken: tuple[str, ...]) -> bool:
    """One identifier part spelled over several spoken words by their beginnings:
    ``percap`` = "per capita", ``csat`` = "customer satisfaction", ``mpg`` = "miles per gallon"."""
    if not spoken:
        return not part
    if not part:
        return False
    word = spoken[0]
    for k in range(min(len(part), len(word)), 0, -1):
        if word.startswith(part[:k]) and split_match(part[k:], spoken[1:]):
            return True
    return False
