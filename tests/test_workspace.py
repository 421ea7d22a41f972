"""The Workspace contract on real chDB: sql / ask / load / tables / describe / history."""

from __future__ import annotations

import pandas as pd
import pytest

from bivoice_jupyter import Workspace
from bivoice_jupyter.config import parse_dsn
from bivoice_jupyter.errors import BivoiceError, ConfigError, GuardRejected, LoadError, QueryError, SourceError, WorkspaceError
from bivoice_jupyter.workspace import ResultTruncatedWarning


def test_tables_and_describe(ws: Workspace) -> None:
    tables = ws.tables()
    assert "sales" in set(tables["table"])
    assert int(tables.loc[tables["table"] == "sales", "rows"].iloc[0]) == 20_000
    cols = ws.describe("sales")
    assert list(cols["column"])[:3] == ["order_id", "order_date", "region"]
    region = cols.loc[cols["column"] == "region", "values"].iloc[0]
    assert "Europe" in region  # low-cardinality values come from the data itself


def test_describe_unknown_table_names_the_tables(ws: Workspace) -> None:
    with pytest.raises(WorkspaceError, match="sales"):
        ws.describe("nope")


def test_sql_reads(ws: Workspace) -> None:
    df = ws.sql("SELECT region, count() AS n FROM sales GROUP BY region ORDER BY region")
    assert df["n"].sum() == 20_000 and len(df) == 4


@pytest.mark.parametrize(
    ("sql", "rule"),
    [
        ("DROP TABLE sales", "not_select"),
        ("SELECT * FROM other.sales", "foreign_database"),
        ("SELECT file('/etc/passwd')", "function_not_allowed"),
        ("SELECT * FROM system.users", "system_tables"),
        ("SELECT 1; DROP TABLE sales", "multiple_statements"),
        ("SELECT * FROM numbers(10)", "table_function"),
        ("SELECT 1 SETTINGS readonly = 0", "settings_clause"),
    ],
)
def test_refusals_are_guard_rejections(ws: Workspace, sql: str, rule: str) -> None:
    with pytest.raises(GuardRejected) as info:
        ws.sql(sql)
    assert info.value.rule == rule
    assert info.value.sql == sql
    assert ws.sql("SELECT count() AS n FROM sales")["n"].iloc[0] == 20_000  # nothing changed


def test_clickhouse_errors_are_bivoice_errors(ws: Workspace) -> None:
    with pytest.raises(QueryError) as info:
        ws.sql("SELECT no_such_column FROM sales")
    assert info.value.code == 47 and "describe" in info.value.hint


def test_result_cut_at_max_result_rows_with_a_warning(ws: Workspace) -> None:
    small = Workspace(max_result_rows=7)  # same chDB folder: one per process
    with pytest.warns(ResultTruncatedWarning):
        df = small.sql("SELECT order_id FROM sales")
    assert len(df) == 7
    answer = small.ask("revenue by country")  # 16 countries > 7
    assert len(answer.df) == 7 and any("cut at 7" in n for n in answer.notices)


def test_limit_is_added_and_announced(ws: Workspace) -> None:
    answer = ws.ask("number of orders by month", limit=5)
    assert len(answer.df) == 5 and "LIMIT 5" in answer.sql
    assert any("first 5 rows" in n for n in answer.notices)


def test_second_chdb_path_is_a_clear_error(ws: Workspace, tmp_path) -> None:
    with pytest.raises(WorkspaceError, match="one data directory per process"):
        Workspace(dsn=f"chdb://{tmp_path}/other")


@pytest.mark.parametrize("dsn", ["chdb://relative/dir", "ftp://host/x", "http://"])
def test_bad_dsn(dsn: str) -> None:
    with pytest.raises(ConfigError):
        parse_dsn(dsn)


def test_dsn_display_hides_password() -> None:
    assert parse_dsn("http://bob:secret@ch.example:8123/").display == "http://bob@ch.example:8123/"


def test_ask_gives_dataframe_chart_and_receipt(ws: Workspace) -> None:
    answer = ws.ask("total revenue by region")
    assert list(answer.df.columns) == ["region", "total_revenue"]
    assert answer.figure is not None and answer.figure.data[0].type == "bar"
    assert set(answer.timings) == {"plan", "guard", "execute", "chart"}
    html = answer._repr_mimebundle_()["text/html"]
    assert "Europe" in html and "SELECT" in html


def test_history_is_persisted(ws: Workspace) -> None:
    before = len(ws.history())
    ws.ask("average discount")
    hist = ws.history()
    assert len(hist) == before + 1
    last = hist.iloc[-1]
    assert last["question"] == "average discount" and "avg" in last["sql"].lower()
    assert Workspace().history().shape == hist.shape  # read back from disk by a new object


def test_load_csv_and_refresh(ws: Workspace, tmp_path) -> None:
    path = tmp_path / "targets.csv"
    path.write_text("region,target,start_date\nEurope,100.5,2024-01-01\nAsia Pacific,80,2024-02-01\n")
    report = ws.load(path, table="targets", if_exists="replace")
    assert report.rows_loaded == 2 and report.rows_rejected == 0
    assert dict(report.columns) == {"region": "String", "target": "Float64", "start_date": "Date32"}
    assert "targets" in set(ws.tables()["table"])  # the catalog refreshed
    assert ws.sql("SELECT sum(target) AS s FROM targets")["s"].iloc[0] == pytest.approx(180.5)


def test_load_modes(ws: Workspace) -> None:
    df = pd.DataFrame({"k": [1, 2], "v": ["a", "b"]})
    ws.load(df, table="modes", if_exists="replace")
    with pytest.raises(LoadError, match="already exists"):
        ws.load(df, table="modes")
    ws.load(df, table="modes", if_exists="append")
    assert len(ws.sql("SELECT * FROM modes")) == 4
    ws.load(df.head(1), table="modes", if_exists="replace")
    assert len(ws.sql("SELECT * FROM modes")) == 1


def test_failed_load_leaves_table_and_no_staging(ws: Workspace) -> None:
    ws.load(pd.DataFrame({"k": [1, 2, 3]}), table="atomic", if_exists="replace")
    bad = pd.DataFrame({"k": ["x", "y"]})  # strings into the existing Int64 column: ClickHouse refuses
    with pytest.raises(LoadError, match="unchanged"):
        ws.load(bad, table="atomic", if_exists="append")
    assert list(ws.sql("SELECT k FROM atomic ORDER BY k")["k"]) == [1, 2, 3]
    staging = ws._conn.client.query_df("SELECT name FROM system.tables WHERE name LIKE '_bivoice_stage%'")
    assert staging.empty


@pytest.mark.parametrize(
    ("source", "table", "error"),
    [
        ("/no/such/file.csv", "t", SourceError),
        (pd.DataFrame({"a": [1]}), "bad name", SourceError),
        (pd.DataFrame({"a": [1]}), "1abc", SourceError),
        (pd.DataFrame({"bad col": [1]}), "t_ok", SourceError),
        (42, "t_ok", SourceError),
    ],
)
def test_bad_load_input(ws: Workspace, source, table: str, error: type) -> None:
    with pytest.raises(error):
        ws.load(source, table=table, if_exists="replace")
    assert table not in set(ws.tables()["table"])


def test_empty_csv_is_refused(ws: Workspace, tmp_path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("")
    with pytest.raises(SourceError, match="empty"):
        ws.load(path, table="empty_t")


def test_workspace_confines_to_listed_databases(ws: Workspace) -> None:
    other = Workspace(database="archive")  # created on demand in chDB
    other.load(pd.DataFrame({"x": [1]}), table="old", if_exists="replace")
    with pytest.raises(GuardRejected, match="outside this workspace"):
        ws.sql("SELECT * FROM archive.old")
    both = Workspace(databases=["archive"])
    assert both.sql("SELECT x FROM archive.old")["x"].tolist() == [1]
    assert "old" in set(both.tables()["table"])


def test_catalog_follows_loads_made_through_another_workspace(ws: Workspace) -> None:
    before = ws.catalog  # cached
    Workspace().load(pd.DataFrame({"team": ["a", "b"], "score": [3, 4]}), table="games", if_exists="replace")
    assert ws.catalog is not before and ws.catalog.table("games") is not None
    assert ws.ask("total score by team").df["total_score"].sum() == 7


def test_empty_database_has_no_tables_and_says_so() -> None:
    empty = Workspace(database="nothing_here")
    assert empty.tables().empty
    with pytest.raises(BivoiceError, match="no tables"):
        empty.ask("total revenue")


def test_planner_follows_loads_made_through_another_workspace(ws: Workspace) -> None:
    ws.ask("total revenue by region")  # builds and caches the planner
    Workspace().load(pd.DataFrame({"crew": ["x", "y"], "hours": [2, 5]}), table="shifts", if_exists="replace")
    assert ws.planner.catalog.table("shifts") is not None
