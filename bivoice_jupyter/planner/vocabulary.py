"""The planner's own words: aggregations, superlatives, comparisons, fillers, units.

General English and business vocabulary only, never a table's or a column's name. A word a
question holds that is neither here nor in the catalog makes the planner refuse it.
"""

from __future__ import annotations

import re

from .words import MONTH_NAMES

AGG_WORDS = {
    "total": "sum", "sum": "sum", "overall": "sum", "combined": "sum", "cumulative": "sum",
    "average": "avg", "avg": "avg", "mean": "avg", "median": "median", "typical": "median",
    "maximum": "max", "max": "max", "peak": "max", "minimum": "min", "min": "min",
    "count": "count", "distinct": "count_distinct", "unique": "count_distinct", "different": "count_distinct",
}
SUP_DESC = {"highest", "largest", "biggest", "most", "greatest", "top", "best", "longest", "widest", "deepest", "busiest",
            "slowest", "hottest", "warmest", "oldest", "tallest", "heaviest", "priciest", "latest"}
SUP_ASC = {"lowest", "smallest", "least", "fewest", "worst", "bottom", "shortest", "cheapest", "narrowest", "lightest",
           "fastest", "quickest", "coldest", "youngest", "earliest"}
# Adjectives that say which measurement a word means ("the longest petals": a length).
ADJECTIVE_NOUNS = {
    "longest": ("length", "duration"), "longer": ("length", "duration"), "long": ("length", "duration"),
    "shortest": ("length", "duration"), "shorter": ("length", "duration"), "short": ("length", "duration"),
    "widest": ("width",), "wider": ("width",), "wide": ("width",), "narrowest": ("width",),
    "deepest": ("depth",), "deep": ("depth",), "tallest": ("height",), "tall": ("height",), "highest": (),
    "heaviest": ("weight", "mass"), "heavy": ("weight", "mass"), "lightest": ("weight", "mass"),
    "oldest": ("age",), "youngest": ("age",), "fastest": ("speed",), "slowest": ("speed", "duration"),
    "biggest": ("size",), "largest": ("size",), "smallest": ("size",),
}
# Superlatives that rank groups whenever there are groups ("the most orders"); the others rank
# only in "which X has the highest Y" / "the X with the highest Y", else they are max / min.
RANKING_SUPS = {"most", "least", "fewest", "top", "bottom", "best", "worst", "busiest"}
DIM_WORDS = (("broken", "down", "by"), ("split", "by"), ("grouped", "by"), ("group", "by"), ("for", "each"),
             ("for", "every"), ("in", "each"), ("by",), ("per",), ("each",), ("across",), ("every",))
ROW_NOUNS = {"order", "row", "record", "transaction", "sale", "entry", "line", "purchase", "event", "employee",
             "people", "person", "staff", "worker", "member", "case", "observation", "instance", "hire", "visit",
             "item", "ticket", "booking", "trip", "shipment", "call", "session", "request", "incident", "one",
             "customer", "client", "guest", "passenger", "patient", "student", "user", "visitor", "player",
             "account", "sample", "entrie", "datapoint", "measurement", "reading", "result", "response",
             "applicant", "candidate", "subscriber", "buyer", "seller", "resident", "individual", "participant"}
COUNT_NOUNS = {"headcount", "volume", "count", "number", "frequency", "occurrence"}
GRAINS = {"day": "day", "daily": "day", "week": "week", "weekly": "week", "month": "month", "monthly": "month",
          "quarter": "quarter", "quarterly": "quarter", "year": "year", "yearly": "year", "annual": "year",
          "annually": "year", "days": "day", "weeks": "week", "months": "month", "quarters": "quarter", "years": "year"}
NEGATIONS = {"excluding", "except", "not", "without", "outside", "non", "exclude", "excludes", "minus", "never", "no"}
CURRENCIES = {"dollars", "dollar", "euros", "euro", "pounds", "usd", "eur", "gbp", "bucks", "yen", "francs"}
MONEY_WORDS = {"amount", "price", "cost", "revenue", "sales", "fee", "fare", "spend", "salary", "income", "value",
               "payment", "total", "charge", "charges", "budget", "expense", "profit"}
# "from JFK" is an origin, "to LAX" a destination: the words of the columns each preposition means.
DIRECTION_WORDS = {
    "from": {"origin", "from", "source", "departure", "start", "sender", "pickup", "home", "src"},
    "to": {"destination", "dest", "to", "target", "arrival", "end", "recipient", "dropoff", "away"},
}
# Measures where less is better: "the best resolution time" is the shortest.
LOWER_IS_BETTER = {"delay", "time", "duration", "cost", "price", "error", "errors", "defect", "defects", "complaint",
                   "complaints", "churn", "latency", "wait", "hours", "minutes", "seconds", "days", "expense", "loss",
                   "debt", "risk", "rank", "mortality", "crime", "unemployment", "emissions", "co2", "pollution"}
SHARE_WORDS = {"share", "percentage", "percent", "proportion", "fraction", "pct"}
UNIT_WORDS = {"hours", "hour", "minutes", "minute", "seconds", "second", "days", "degrees", "celsius", "fahrenheit",
              "percent", "millimetres", "millimeters", "mm", "metres", "meters", "km", "kilometres", "kilometers",
              "kilograms", "kg", "tons", "tonnes", "dollars", "euros", "usd", "eur", "hectares", "hectare", "points",
              "times", "pounds", "grams", "miles", "litres", "liters"}
STOP = {"the", "a", "an", "of", "all", "our", "my", "their", "in", "for", "with", "what", "was", "were", "is",
        "are", "show", "me", "give", "list", "tell", "please", "and", "to", "from", "on", "at", "how", "much",
        "did", "do", "does", "we", "have", "had", "has", "get", "make", "made", "which", "who", "that", "this",
        "there", "it", "its", "by", "per", "each", "than", "more", "less", "over", "under", "top", "bottom"}
# Words that carry no data meaning of their own: a question may hold them anywhere. Any other
# word that matched nothing makes the planner refuse (naming it) rather than answer around it.
FILLER = STOP | UNIT_WORDS | {
    "i", "you", "your", "us", "they", "them", "these", "those", "be", "been", "being", "can", "could",
    "would", "should", "will", "like", "want", "know", "see", "look", "find", "got", "sold", "sell",
    "sells", "selling", "bought", "buy", "spent", "spend", "earned", "generate", "generated", "ones",
    "bring", "brought", "or", "vs", "versus", "between", "during", "since", "after", "before", "until",
    "through", "so", "far", "now", "then", "only", "just", "also", "about", "as", "up", "out", "whats",
    "compare", "comparison", "breakdown", "broken", "down", "split", "trend", "trends", "time", "overall", "data",
    "table", "figure", "figures", "number", "numbers", "count", "total", "sum", "average", "avg", "mean",
    "median", "typical", "maximum", "max", "minimum", "min", "most", "least", "highest", "lowest",
    "largest", "smallest", "biggest", "best", "worst", "fewest", "distinct", "unique", "many", "much",
    "where", "when", "across", "every", "year", "years", "month", "months", "quarter", "quarters", "week",
    "weeks", "day", "days", "daily", "weekly", "monthly", "quarterly", "yearly", "annual", "annually",
    "last", "previous", "latest", "recent", "current", "not", "no", "exactly", "equal", "higher",
    "greater", "lower", "fewer", "larger", "least", "value", "amount", "performance", "happened",
    "happen", "here", "again", "ever", "within", "together", "combined", "altogether", "different",
    "gave", "give", "given", "came", "come", "comes", "coming", "work", "works", "working", "worked",
    "joined", "join", "handled", "handle", "took", "take", "takes", "taken", "track", "tracked", "recorded",
    "record", "records", "mention", "mentions", "closed", "changed", "change", "go", "went", "going", "doing",
    "group", "grouped", "order", "ordered", "sort", "sorted", "rank", "ranked", "ranking", "arrange", "descending",
    "ascending", "highest", "lowest", "first", "each", "separately", "respectively", "any", "some", "per",
    "other", "apart", "rest", "exclude", "excluding", "except", "outside", "non", "never", "whose", "whom",
    "having", "exceeding", "exceeds", "exceed", "above", "below", "beneath", "longer", "shorter", "later",
    "earlier", "bigger", "smaller", "equals", "both", "either", "neither", "show", "display", "plot", "chart",
    "graph", "visualize", "visualise", "draw", "overview", "summary", "summarize", "summarise", "break",
    "since", "ago", "past", "prior", "current", "this", "recent", "so", "far", "date", "period", "periods",
    "over", "under", "up", "upto", "till", "til", "ytd", "ok", "okay", "well", "hey", "right", "actually",
    "instead", "same", "again", "only", "what", "about", "how", "if", "but", "then", "thing", "things",
    "stuff", "level", "levels", "kind", "kinds", "type", "types", "way", "ways", "status", "happy",
    "opened", "open", "raised", "created", "filed", "submitted", "received", "placed", "logged", "reported",
    "hired", "started", "registered", "signed", "entered", "produced", "harvested", "grown", "grew",
    "paid", "pay", "earn", "earns", "earning", "cost", "costs", "spent", "make", "makes", "making",
    "ratio", "rate", "share", "percentage", "percent", "proportion", "fraction", "divided", "relative",
    "to", "vs", "against", "versus", "respective", "more", "less", "fewer", "higher", "lower", "among",
    "amongst", "whole", "entire", "full", "complete", "everything", "anything", "all", "everyone", "everybody",
    "currently", "still", "yet", "today", "ever", "usually", "typically", "generally", "roughly", "approximately",
    "around", "exactly", "precisely", "per", "via", "using", "within", "dataset", "database", "sheet", "set",
    "gets", "getting", "receive", "receives", "received", "receiving", "too", "well", "please", "can", "could",
    "tell", "show", "want", "need", "like", "would", "see", "let", "lets", "look", "looking", "interested",
    "wondering", "curious", "quick", "quickly", "again", "also", "versus", "vs", "onwards", "onward", "later",
    "method", "methods", "mode", "modes", "option", "options", "older", "younger", "cheaper", "heavier", "lighter",
    "taller", "who", "whose", "lasted", "lasting", "lasts", "stayed", "old", "active", "flown", "flew", "fly",
    "flying", "travelled", "traveled", "driven", "drove", "ridden", "rode", "shipped", "delivered", "served",
    "earlier", "beyond", "ever", "happen", "happened", "occurred", "occur", "took", "place", "places",
}
MONTHS = {m: i for i, m in enumerate(MONTH_NAMES, start=1)}
MONTHS_RE = "|".join(MONTH_NAMES)
NUM = r"\d+(?:\.\d+)?"
COMPARATORS: list[tuple[str, str]] = sorted(
    [
        ("more than", ">"), ("greater than", ">"), ("higher than", ">"), ("larger than", ">"), ("bigger than", ">"),
        ("longer than", ">"), ("later than", ">"), ("over", ">"), ("above", ">"), ("exceeding", ">"), ("exceeds", ">"),
        ("exceed", ">"), ("in excess of", ">"), ("at least", ">="), ("no less than", ">="), ("not less than", ">="),
        ("greater than or equal to", ">="), ("a minimum of", ">="), ("less than", "<"), ("fewer than", "<"),
        ("lower than", "<"), ("smaller than", "<"), ("shorter than", "<"), ("earlier than", "<"), ("under", "<"),
        ("below", "<"), ("beneath", "<"), ("at most", "<="), ("no more than", "<="), ("not more than", "<="),
        ("up to", "<="), ("a maximum of", "<="), ("less than or equal to", "<="), ("exactly", "="),
        ("equal to", "="), ("equals", "="), ("not equal to", "!="), ("older than", ">"), ("younger than", "<"),
        ("cheaper than", "<"), ("more expensive than", ">"), ("heavier than", ">"), ("lighter than", "<"),
        ("taller than", ">"),
    ],
    key=lambda c: -len(c[0]),
)
CMP_RE = "|".join(re.escape(p) for p, _ in COMPARATORS)
CMP_OPS = dict(COMPARATORS)
POSTFIX = {"more": ">=", "greater": ">=", "higher": ">=", "above": ">=", "over": ">=", "less": "<=",
            "fewer": "<=", "lower": "<=", "below": "<=", "under": "<="}
SKIP = {"the", "a", "an", "of", "is", "was", "were", "are", "be", "been", "that", "which", "whose", "where", "when",
         "with", "had", "has", "have", "having", "took", "take", "takes", "it", "its", "their", "total", "got", "get",
         "gets", "there", "in", "lasted", "lasting", "lasts", "stayed", "spent"}
SUBJECT_LINKS = {"with", "whose", "where", "having", "have", "has", "had", "that", "which", "who"}


