"""Question -> answer, scored by execution against gold SQL (tests/fixtures/planner/*.sql)."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd
import pytest

from bivoice_jupyter.errors import UnmatchedTerm
from bivoice_jupyter.planner.words import identifier_words, normalise

FIXTURES = Path(__file__).parent / "fixtures" / "planner"


def read_cases(path: Path) -> list[dict[str, str]]:
    cases: list[dict[str, str]] = []
    current: dict[str, str] | None = None
    for line in path.read_text().splitlines():
        header = re.match(r"--\s*(id|q|ordered|error|reply):\s*(.*)$", line)
        if header:
            key, value = header.groups()
            if key == "id":
                current = {"id": value.strip(), "sql": ""}
                cases.append(current)
            elif current is not None:
                current[key] = value.strip()
        elif current is not None and not line.startswith("--"):
            current["sql"] += line + "\n"
    return cases


CASES = read_cases(FIXTURES / "sales.sql")


def _rows(df: pd.DataFrame, ordered: bool) -> list[tuple]:
    def cell(v: object) -> object:
        if isinstance(v, float):
            return round(v, 2) if not math.isnan(v) else None
        if isinstance(v, pd.Timestamp):
            return v.date()
        if hasattr(v, "item"):
            return cell(v.item())
        return v

    rows = [tuple(cell(v) for v in r) for r in df.itertuples(index=False)]
    return rows if ordered else sorted(rows, key=repr)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_question(ws, case: dict[str, str]) -> None:
    if "error" in case:
        with pytest.raises(UnmatchedTerm) as info:
            ws.ask(case["q"])
        assert info.value.term == case["error"]
        assert "region" in info.value.candidates  # it names the columns that exist
        return
    answer = ws.ask(case["q"])
    if "reply" in case:
        assert answer.sql is None and answer.df is None
        assert case["reply"] in answer.text
        return
    gold = ws.sql(case["sql"])
    ordered = case.get("ordered") == "yes"
    assert _rows(answer.df, ordered) == _rows(gold, ordered), answer.sql


def test_fixture_file_is_well_formed() -> None:
    assert len(CASES) >= 25
    assert len({c["id"] for c in CASES}) == len(CASES)
    for c in CASES:
        assert "q" in c and (c["sql"].strip() or "error" in c or "reply" in c), c["id"]


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("unitPrice", ["unit", "price"]),
        ("avgOrdVal", ["average", "order", "value"]),
        ("cust_ltv", ["customer", "lifetime", "value"]),
        ("num_emp", ["number", "employees"]),
        ("HTTPStatus", ["http", "status"]),
    ],
)
def test_identifier_words(name: str, words: list[str]) -> None:
    assert identifier_words(name) == words


@pytest.mark.parametrize(
    ("spoken", "normal"),
    [
        ("Top five products", "top 5 products"),
        ("in twenty twenty three", "in 2023"),
        ("nineteen ninety nine", "1999"),
        ("two thousand and five", "2005"),
        ("orders over 10k", "orders over 10000"),
        ("revenue over $1,500", "revenue over 1500"),
        ("sales in Perú", "sales in peru"),
    ],
)
def test_normalise(spoken: str, normal: str) -> None:
    assert normalise(spoken) == normal


def test_intent_is_shown_and_sql_is_guarded(ws) -> None:
    answer = ws.ask("total revenue by region")
    assert answer.intent is not None and answer.intent.dimensions == ["region"]
    assert answer.intent.measures[0].agg == "sum"
    assert '"default"."sales"' in answer.sql  # qualified by the guard
    assert answer.planner == "offline"


def test_sql_only_does_not_run(ws) -> None:
    answer = ws.ask("total revenue by region", sql_only=True)
    assert answer.df is None and answer.sql and "LIMIT" in answer.sql
