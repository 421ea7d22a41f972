"""Question -> answer, scored by execution against gold SQL (tests/fixtures/planner/*.sql)."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd
import pytest

from bivoice_jupyter.errors import UnmatchedTerm
from bivoice_jupyter.models import Filter
from bivoice_jupyter.planner import OfflinePlanner, Reply
from bivoice_jupyter.planner.words import identifier_parts, identifier_words, normalise, split_match, word_match
from bivoice_jupyter.sql.schema import Catalog, ColumnInfo, TableInfo

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


# ---------------------------------------------------------------- words

@pytest.mark.parametrize(
    ("spoken", "normal"),
    [
        ("orders on the fifteenth of March twenty twenty three", "orders on the 15th of march 2023"),
        ("March 15th, 2023", "march 15th 2023"),
        ("the twenty first of june", "the 21th of june"),
        ("revenue in the first quarter of 2023", "revenue in the 1th quarter of 2023"),
        ("revenue in Q3 2024", "revenue in 3th quarter 2024"),
        ("median first reply time", "median first reply time"),  # "first" stays a word
        ("since 2024-06-01", "since june 1th 2024"),
        ("over 1.5 million", "over 1500000"),
        ("more than a thousand", "more than 1000"),
        ("twenty oh five", "2005"),
    ],
)
def test_normalise_dates_and_numbers(spoken: str, normal: str) -> None:
    assert normalise(spoken) == normal


@pytest.mark.parametrize(
    ("name", "parts"),
    [("co2Tons", ["co2", "tons"]), ("yield_t_ha", ["yield", "t", "ha"]), ("gdpPerCap", ["gdp", "per", "cap"]),
     ("Miles_per_Gallon", ["miles", "per", "gallon"])],
)
def test_identifier_parts(name: str, parts: list[str]) -> None:
    assert identifier_parts(name) == parts


def test_word_matching() -> None:
    assert word_match("qty", "quantity") > 0.7          # an abbreviation's letters in order
    assert word_match("emp", "employees") > 0.7         # an abbreviation's beginning
    assert word_match("hrs", "hours") > 0.9             # a listed abbreviation
    assert word_match("age", "agents") == 0             # a word, not an abbreviation
    assert word_match("country", "count") == 0
    assert split_match("percap", ("per", "capita")) and split_match("csat", ("customer", "satisfaction"))
    assert not split_match("percap", ("percent", "of"))


# ---------------------------------------------------------------- planning on a catalog alone

def _catalog(*tables: tuple[str, list[tuple[str, str, tuple[str, ...]]]]) -> Catalog:
    kinds = {"Float64": "number", "Int64": "number", "String": "text", "Date": "date", "Bool": "bool"}
    return Catalog(tuple(
        TableInfo("db", name, tuple(ColumnInfo(c, t, kinds[t], v, "2024-12-31" if t == "Date" else None) for c, t, v in cols), 100)
        for name, cols in tables
    ))


SHOP = ("shop", [("order_id", "Int64", ()), ("day", "Date", ()), ("city", "String", ("Lyon", "Nice")),
                 ("unit_price", "Float64", ()), ("list_price", "Float64", ()), ("qty", "Int64", ())])
TEAMS = ("teams", [("home_team", "String", ("Lyon", "Paris")), ("away_team", "String", ("Lyon", "Paris")),
                   ("goals", "Int64", ())])


def test_two_close_columns_are_asked_about_and_the_answer_is_used() -> None:
    planner = OfflinePlanner(_catalog(SHOP))
    reply = planner.plan("average price by city")
    assert isinstance(reply, Reply) and set(reply.candidates) == {"unit_price", "list_price"}
    assert reply.confidence == 0.5 and "unit_price" in reply.text and "50%" in reply.text
    intent = planner.plan("list price")
    assert intent.measures[0].column == "list_price" and intent.dimensions == ["city"]


def test_a_value_of_two_columns_is_asked_about() -> None:
    reply = OfflinePlanner(_catalog(TEAMS)).plan("total goals for lyon")
    assert isinstance(reply, Reply) and set(reply.candidates) == {"home_team", "away_team"}


def test_an_unknown_word_names_the_closest_columns_first() -> None:
    with pytest.raises(UnmatchedTerm) as info:
        OfflinePlanner(_catalog(SHOP)).plan("average profit by city")
    assert info.value.term == "profit" and info.value.candidates[0] in ("unit_price", "list_price")


def test_a_misheard_column_word_is_read_and_said() -> None:
    intent = OfflinePlanner(_catalog(SHOP)).plan("average unit prize by city")
    assert intent.measures[0].column == "unit_price" and "prize" in " ".join(intent.notes)


def test_a_near_spelling_is_read_and_said() -> None:
    intent = OfflinePlanner(_catalog(SHOP)).plan("total qty in lion")  # Lyon, misheard
    assert intent.filters[0].value == "Lyon" and "lion" in " ".join(intent.notes)


def test_follow_ups_change_the_last_question() -> None:
    planner = OfflinePlanner(_catalog(SHOP))
    first = planner.plan("total qty by city in 2024")
    assert first.dimensions == ["city"] and first.time_range is not None
    assert planner.plan("now the average").measures[0].agg == "avg"
    assert planner.plan("only lyon").filters == [Filter(column="city", op="=", value="Lyon")]
    monthly = planner.plan("by month instead")
    assert monthly.time_grain == "month" and monthly.dimensions == [] and monthly.filters
    planner.session.forget()
    assert planner.plan("total qty").dimensions == []


# ---------------------------------------------------------------- the compiler's new shapes pass the guard

@pytest.mark.parametrize(
    "question",
    [
        "share of revenue by region",
        "what percentage of orders came from europe",
        "revenue per unit by category",
        "discount as a percentage of unit price by region",
        "countries with above average revenue",
        "how many orders had revenue above the average",
        "products with more than 1000 orders",
        "revenue in the last 3 months by category",
        "average discount in december",
        "the five largest orders by revenue",
        "list the categories",
    ],
)
def test_new_shapes_compile_and_pass_the_guard(ws, question: str) -> None:
    answer = ws.ask(question)
    assert answer.sql and answer.df is not None and len(answer.df) > 0, answer.sql


def test_follow_up_through_workspace_ask(ws) -> None:
    ws.ask("total revenue by region")
    answer = ws.ask("now by country")
    assert answer.intent.dimensions == ["country"] and answer.intent.measures[0].column == "revenue"
    assert len(answer.df) == 16


def test_value_lookup_finds_values_the_catalog_does_not_list(ws) -> None:
    answer = ws.ask("total revenue for customer c0157")  # 1,500 customers: too many to list
    gold = ws.sql("SELECT round(sum(revenue), 2) FROM sales WHERE customer = 'C0157'")
    assert answer.df.iloc[0, 0] == gold.iloc[0, 0]


@pytest.mark.parametrize(
    ("question", "column"),
    [
        ("average unit price by region", "unitPrice"),
        ("average order value by region", "avgOrdVal"),
        ("total customer lifetime value", "cust_ltv"),
        ("total number of employees by region", "num_emp"),
        ("total qty in the north", "qty"),
    ],
)
def test_spoken_words_find_abbreviated_columns(question: str, column: str) -> None:
    firms = ("firms", [("region", "String", ("North", "South")), ("unitPrice", "Float64", ()), ("avgOrdVal", "Float64", ()),
                       ("cust_ltv", "Float64", ()), ("num_emp", "Int64", ()), ("qty", "Int64", ())])
    intent = OfflinePlanner(_catalog(firms)).plan(question)
    assert intent.measures[0].column == column
