"""Load modes and atomicity on real chDB: create / replace / append / upsert, a load that fails
half-way (in the engine, and at the swap), an interrupt during the insert, and the audit."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pandas as pd
import pytest

from bivoice_jupyter import Workspace
from bivoice_jupyter.errors import LoadError, QueryError, SourceError
from bivoice_jupyter.sql.clickhouse import Connection
from fixtures.etl import messy


def rows(etl: Workspace, table: str, order: str = "id") -> list[tuple]:
    return [tuple(r) for r in etl.sql(f"SELECT * FROM {table} ORDER BY {order}").itertuples(index=False)]


def staging_left(etl: Workspace) -> list[str]:
    result = etl._conn.client.query("SELECT name FROM system.tables WHERE startsWith(name, '_bivoice_stage')")
    return [r[0] for r in result.result_rows]


def csv(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_create_replace_and_the_rejects_table_follows(etl: Workspace, tmp_path: Path) -> None:
    first = csv(tmp_path / "a.csv", "id,qty\n1,5\n2,x\n" + "".join(f"{i},{i}\n" for i in range(3, 300)))
    report = etl.load(first, table="items", if_exists="replace")
    assert report.mode == "create" and report.rows_rejected == 1 and report.rejected_table == "items_rejected"
    with pytest.raises(LoadError, match="already exists"):
        etl.load(first, table="items")
    second = csv(tmp_path / "b.csv", "id,name\n7,seven\n8,eight\n")
    report = etl.load(second, table="items", if_exists="replace")
    assert report.mode == "replace" and rows(etl, "items") == [(7, "seven"), (8, "eight")]
    assert "items_rejected" not in set(etl.tables()["table"])  # the old rejects described the old table
    assert staging_left(etl) == []


def test_append_casts_to_the_table_and_appends_rejects(etl: Workspace, tmp_path: Path) -> None:
    etl.load(pd.DataFrame({"id": [1, 2], "amount": [1.5, 2.5], "day": pd.to_datetime(["2024-01-01", "2024-01-02"])}),
             table="ledger", if_exists="replace")
    more = csv(tmp_path / "more.csv", "id,amount,day\n" + "".join(f"{i},\"${i},000.50\",{i % 28 + 1:02d}/03/2024\n"
                                                                  for i in range(3, 203)) + "203,oops,01/04/2024\n")
    report = etl.load(more, table="ledger", if_exists="append")
    assert report.mode == "append" and report.rows_loaded == 200 and report.rows_rejected == 1
    assert dict(report.columns) == {"id": "Int64", "amount": "Float64", "day": "Date32"}
    assert etl.sql("SELECT amount FROM ledger WHERE id = 3")["amount"].iloc[0] == 3000.5
    assert etl.sql("SELECT count() AS n FROM ledger")["n"].iloc[0] == 202
    assert etl.sql("SELECT value FROM ledger_rejected")["value"].tolist() == ["oops"]


def test_append_refuses_other_columns_and_too_many_failures(etl: Workspace, tmp_path: Path) -> None:
    etl.load(pd.DataFrame({"id": range(1, 101), "n": range(1, 101)}), table="strict", if_exists="replace")
    before = rows(etl, "strict")
    with pytest.raises(LoadError, match="do not match") as info:
        etl.load(csv(tmp_path / "c.csv", "id,other\n1,2\n"), table="strict", if_exists="append")
    assert "missing: n" in info.value.hint
    bad = csv(tmp_path / "d.csv", "id,n\n" + "".join(f"{i},{'x' if i % 10 == 0 else i}\n" for i in range(1, 101)))
    with pytest.raises(LoadError, match="above the 1% threshold"):
        etl.load(bad, table="strict", if_exists="append")
    assert rows(etl, "strict") == before and staging_left(etl) == []


def test_upsert_by_key(etl: Workspace, tmp_path: Path) -> None:
    report = etl.load(csv(tmp_path / "u1.csv", "sku,price\nA,1\nB,2\nC,3\n"), table="prices", if_exists="upsert", key="sku")
    assert report.mode == "upsert"
    engine = etl._conn.client.query_df("SELECT engine, sorting_key FROM system.tables WHERE name = 'prices'")
    assert engine.values.tolist() == [["ReplacingMergeTree", "sku"]]
    report = etl.load(csv(tmp_path / "u2.csv", "sku,price\nB,20\nD,4\n,9\n"), table="prices", if_exists="upsert", key="sku")
    assert report.rows_loaded == 2 and report.rows_rejected == 1  # an empty key is rejected
    assert rows(etl, "prices", "sku") == [("A", 1), ("B", 20), ("C", 3), ("D", 4)]
    with pytest.raises(LoadError, match="ReplacingMergeTree"):
        etl.load(csv(tmp_path / "u3.csv", "id,n\n1,1\n"), table="strict", if_exists="upsert", key="id")
    with pytest.raises(SourceError, match="key"):
        etl.load(csv(tmp_path / "u4.csv", "id\n1\n"), table="nokey", if_exists="upsert")


def test_dedup(etl: Workspace, tmp_path: Path) -> None:
    report = etl.load(csv(tmp_path / "dup.csv", "a,b\n1,x\n1,x\n2,y\n1,x\n"), table="dups", if_exists="replace", dedup=True)
    assert (report.rows_read, report.rows_loaded, report.rows_duplicate) == (4, 2, 2)


def test_failure_at_the_swap_leaves_the_table(etl: Workspace, tmp_path: Path, monkeypatch) -> None:
    etl.load(pd.DataFrame({"id": [1, 2, 3]}), table="keep", if_exists="replace")
    real = Connection.command

    def failing(self, statement):
        if statement.sql("clickhouse").startswith("EXCHANGE"):
            raise QueryError("ClickHouse refused the query: injected failure at the swap")
        return real(self, statement)

    monkeypatch.setattr(Connection, "command", failing)
    with pytest.raises(LoadError, match="unchanged.*injected"):
        etl.load(pd.DataFrame({"id": [9]}), table="keep", if_exists="replace")
    monkeypatch.undo()
    assert rows(etl, "keep") == [(1,), (2,), (3,)] and staging_left(etl) == []
    last = etl.load_history(1).iloc[0]
    assert last["status"] == "failed" and "injected" in last["error"] and last["target"] == "etl_atomic.keep"


def test_engine_failure_half_way_leaves_the_table(etl: Workspace, tmp_path: Path) -> None:
    etl.load(pd.DataFrame({"id": [1, 2]}), table="halfway", if_exists="replace")
    broken = tmp_path / "broken.csv"
    # quoted fields with text after their closing quote: a few such rows are rejected, but from
    # line 60,000 on every row is one, so the parser gives up there (over 100 rows and 1%)
    broken.write_text("id,name\n" + "".join(f"{i},n{i}\n" for i in range(1, 60_000))
                      + "".join(f'{i},"closed"garbage\n' for i in range(60_000, 62_000)))
    with pytest.raises(LoadError, match=r"unchanged.*near line 6[012],\d{3}"):
        etl.load(broken, table="halfway", if_exists="replace")
    assert rows(etl, "halfway") == [(1,), (2,)] and staging_left(etl) == []


def test_interrupt_during_the_insert_leaves_the_table(etl: Workspace, tmp_path: Path, monkeypatch) -> None:
    etl.load(pd.DataFrame({"id": [1, 2, 3]}), table="intr", if_exists="replace")
    path = messy.orders_csv(tmp_path / "big.csv", rows=5_000)
    real = Connection.command

    def interrupted(self, statement):
        sql = statement.sql("clickhouse")
        if sql.startswith("INSERT INTO") and "_bivoice_stage_fan" in sql.split("SELECT")[0]:
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C while the engine inserts
        return real(self, statement)

    monkeypatch.setattr(Connection, "command", interrupted)
    with pytest.raises(KeyboardInterrupt):
        etl.load(path, table="intr", if_exists="replace")
    monkeypatch.undo()
    assert rows(etl, "intr") == [(1,), (2,), (3,)] and staging_left(etl) == []
    assert etl.load_history(1).iloc[0]["status"] == "interrupted"


def test_interrupt_raised_inside_the_driver(etl: Workspace, tmp_path: Path, monkeypatch) -> None:
    etl.load(pd.DataFrame({"id": [1]}), table="intr2", if_exists="replace")
    real = Connection.command

    def raising(self, statement):
        if statement.sql("clickhouse").startswith("INSERT INTO"):
            raise KeyboardInterrupt
        return real(self, statement)

    monkeypatch.setattr(Connection, "command", raising)
    with pytest.raises(KeyboardInterrupt):
        etl.load(pd.DataFrame({"id": [5, 6]}), table="intr2", if_exists="replace")
    monkeypatch.undo()
    assert rows(etl, "intr2") == [(1,)] and staging_left(etl) == []


def test_a_foreign_rejected_table_is_not_touched(etl: Workspace, tmp_path: Path) -> None:
    etl.load(pd.DataFrame({"x": [1]}), table="mine_rejected", if_exists="replace")
    with pytest.raises(LoadError, match="not a rejects table"):
        etl.load(csv(tmp_path / "m.csv", "id\n1\n2\nx\n"), table="mine", if_exists="replace")
    assert rows(etl, "mine_rejected", "x") == [(1,)]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"table": "bad name"}, SourceError, "not a valid table name"),
        ({"table": "_bivoice_x"}, SourceError, "not a valid table name"),
        ({"table": "ok", "if_exists": "merge"}, SourceError, "if_exists"),
        ({"table": "ok", "max_bad_share": 1.5}, SourceError, "max_bad_share"),
    ],
)
def test_bad_arguments(etl: Workspace, kwargs: dict, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        etl.load(pd.DataFrame({"a": [1]}), **kwargs)


def test_history_records_every_run(etl: Workspace) -> None:
    hist = etl.load_history()
    assert {"ok", "failed", "interrupted"} <= set(hist["status"])
    ok = hist[(hist["status"] == "ok") & (hist["target"] == "etl_atomic.ledger")].iloc[0]
    assert ok["rows_loaded"] == 200 and ok["rows_rejected"] == 1 and ok["mode"] == "append"
    assert json.loads(ok["columns"])[0] == ["id", "Int64"]
    assert (hist["started_at"].diff().dropna() <= pd.Timedelta(0)).all()  # newest first
