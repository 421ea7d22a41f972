"""The schema sentence: the workspace's own words, given to Whisper before each question.

Whisper reads its ``initial_prompt`` as the text that came just before the audio, so words in it
are more likely to be heard. One natural sentence names the tables, their columns spelled as
words (``unitPrice`` -> "unit price", ``dept`` -> "department") and the most frequent values of
low-cardinality columns:

    Questions about sales by order date, region, country, ... and customer, regions such as
    Europe, North America and Asia Pacific, and products such as Laptop, Phone and Desk.

Measured in bench/speech_accuracy.py: this form cuts the word error rate; a bare comma list of
identifiers (``order_date, unit_price``) leaked into transcripts, and the word "like" did too
("average quantity like country"), so the sentence says "such as". "sales by region, country"
rather than "sales, with its region, country" cut a few more errors: questions say "X by Y".

The sentence is built once per catalog object (a Workspace makes a new one after each load) and
cached by identity: building it costs a few hundred microseconds, a question should not.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Callable, Iterable
from typing import Any

WordSplitter = Callable[[str], list[str]]

MAX_CHARS = 800  # about 170 Whisper tokens: the model keeps at most 223 (600 and 900 measured alike)
MAX_COLUMNS = 24  # per table: a wide table names its first columns only
MAX_VALUES = 8  # per column, the most frequent first
MAX_VALUE_CHARS = 32  # longer values (free text, descriptions) do not help recognition
_CODE = re.compile(r"^[\W\d_]*$|^[A-Z]{0,3}[-_]?\d[\w-]*$")  # "C0042", "12", "A-17": codes, not words

_CACHE: dict[tuple[int, Any], tuple[weakref.ref[Any], str]] = {}


def split_identifier(name: str) -> list[str]:
    """``unitPrice`` -> [unit, price]; ``order_date`` -> [order, date] (no abbreviations).

    The default splitter. The Workspace passes the planner's ``identifier_words`` instead, which
    also expands abbreviations (``qty`` -> quantity): speech/ and planner/ are sibling layers
    and may not import each other, so the one that knows both hands it over.
    """
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    spaced = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1 \2", spaced)
    return [p.lower() for p in re.split(r"[^A-Za-z0-9]+", spaced) if p]


def schema_prompt(catalog: Any, *, words: WordSplitter | None = None) -> str:
    """One sentence naming ``catalog``'s tables, columns and frequent values ("" when empty).

    ``catalog`` is a :class:`~bivoice_jupyter.sql.schema.Catalog`; ``words`` splits an
    identifier into spoken words (default :func:`split_identifier`). Cached per catalog object.
    """
    key = (id(catalog), words)
    hit = _CACHE.get(key)
    if hit is not None and hit[0]() is catalog:
        return hit[1]
    text = build_sentence(catalog, words or split_identifier)

    def forget(_ref: Any, key: tuple[int, Any] = key) -> None:
        entry = _CACHE.get(key)
        if entry is not None and entry[0]() is None:
            del _CACHE[key]

    _CACHE[key] = (weakref.ref(catalog, forget), text)
    return text


def build_sentence(catalog: Any, words: WordSplitter = split_identifier, max_chars: int = MAX_CHARS) -> str:
    """The sentence for ``catalog``, uncached (see :func:`schema_prompt`)."""
    tables = [t for t in getattr(catalog, "tables", ()) if t.columns]
    if not tables:
        return ""
    parts = []
    for t in tables:
        cols = _unique(_spoken(c.name, words) for c in t.columns[:MAX_COLUMNS])
        parts.append(f"{_spoken(t.name, words)} by {_and(cols)}" if cols else _spoken(t.name, words))
    head = "Questions about " + "; and about ".join(parts)
    if len(head) > max_chars:  # very wide schemas: table names only, then as many columns as fit
        head = "Questions about " + _and([_spoken(t.name, words) for t in tables])[:max_chars]
    groups = _value_groups(tables, words)
    chosen: dict[str, list[str]] = {label: [] for label, _ in groups}
    length = len(head) + 1
    # round robin over the columns, most frequent value first, until the sentence is full
    for rank in range(MAX_VALUES):
        for label, values in groups:
            if rank >= len(values):
                continue
            extra = len(values[rank]) + (len(label) + 14 if rank == 0 else 2)
            if length + extra > max_chars:
                continue
            chosen[label].append(values[rank])
            length += extra
    tails = [f"{label} such as {_and(vals)}" for label, vals in chosen.items() if vals]
    if not tails:
        return head + "."
    return head + ", " + _and(tails, sep=", ") + "."


def _value_groups(tables: list[Any], words: WordSplitter) -> list[tuple[str, list[str]]]:
    groups: list[tuple[str, list[str]]] = []
    seen: set[str] = set()
    for t in tables:
        for c in t.columns:
            ordered = getattr(c, "frequent", ()) or c.values  # most frequent first, when the catalog knows
            values = []
            for v in ordered:
                v = " ".join(str(v).replace("_", " ").split())
                if v and len(v) <= MAX_VALUE_CHARS and not _CODE.match(v) and v.lower() not in seen:
                    seen.add(v.lower())
                    values.append(v)
            if values:
                groups.append((_plural(_spoken(c.name, words)), values))
    return groups


def _spoken(name: str, words: WordSplitter) -> str:
    return " ".join(words(name)) or name


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(i for i in items if i))


def _and(items: list[str], sep: str = ", ") -> str:
    if len(items) <= 1:
        return "".join(items)
    return sep.join(items[:-1]) + " and " + items[-1]


def _plural(phrase: str) -> str:
    head, _, last = phrase.rpartition(" ")
    if last.endswith("y") and last[-2:-1] not in tuple("aeiou"):
        last = last[:-1] + "ies"
    elif last.endswith(("x", "ch", "sh")):
        last += "es"
    elif not last.endswith("s"):  # "sales", "status": already plural, or best left alone
        last += "s"
    return f"{head} {last}" if head else last
