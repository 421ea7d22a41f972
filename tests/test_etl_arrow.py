"""A pyarrow Table as a source keeps Arrow's types: the same as the table written to Parquet and
loaded (no detour through pandas, which turns integers with nulls and decimals into floats and
lists into text)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bivoice_jupyter import Workspace

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")


def _table():
    return pa.table({"id": pa.array([9007199254740993, None], pa.int64()),
                     "amount": pa.array([Decimal("12345678901234567.89"), None], pa.decimal128(20, 2)),
                     "tags": pa.array([[1, 2], [3]], pa.list_(pa.int64())),
                     "Name": pa.array(["a", None], pa.string())})


def test_arrow_table_keeps_its_types_and_values(etl: Workspace) -> None:
    report = etl.load(_table(), table="arrow_exact", if_exists="replace")
    cols = dict(report.columns)
    assert cols["id"] == "Nullable(Int64)" and cols["amount"] == "Nullable(Decimal(20, 2))"
    assert cols["tags"].startswith("Array(") and "Name" in cols  # a table's column names are kept, like a DataFrame's
    rows = etl.sql("SELECT toString(id) AS id, toString(amount) AS amount, tags FROM arrow_exact ORDER BY id NULLS LAST")
    assert rows["id"].tolist()[0] == "9007199254740993" and rows["amount"].tolist()[0] == "12345678901234567.89"
    assert [list(t) for t in rows["tags"]] == [[1, 2], [3]]


def test_arrow_table_loads_like_its_parquet_file(etl: Workspace, tmp_path) -> None:
    path = tmp_path / "same.parquet"
    pq.write_table(_table(), path)
    from_file = etl.load(path, table="arrow_file", if_exists="replace", clean_names=False)
    from_table = etl.load(_table(), table="arrow_table", if_exists="replace")
    assert from_table.columns == from_file.columns
    assert from_table.rows_loaded == from_file.rows_loaded == 2
