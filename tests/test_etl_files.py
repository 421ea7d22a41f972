"""%etl's file sources on real chDB: messy CSV/TSV, encodings, JSON, Parquet, Excel, DataFrames,
Arrow tables, gzip and http(s) URLs. Each file has known defects (tests/fixtures/etl/messy.py);
the tests check what was detected, cleaned, rejected and kept."""

from __future__ import annotations

import datetime as dt
import functools
import http.server
import json
import threading
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from bivoice_jupyter import Workspace
from bivoice_jupyter.errors import SourceError
from fixtures.etl import messy


def columns(report) -> dict[str, str]:
    return dict(report.columns)


def test_messy_csv_is_detected_cleaned_and_rejected(etl: Workspace, files: Path) -> None:
    path = messy.orders_csv(files / "orders.csv", rows=2_000, bad_from=1_500, bad_every=250)
    report = etl.load(path, table="orders", if_exists="replace")
    assert columns(report) == {
        "order_id": "Int64",
        "order_date": "Date32",
        "region": "LowCardinality(String)",
        "amount": "Decimal(18, 2)",
        "discount": "Int64",
        "qty": "Nullable(Int64)",
        "active": "Bool",
        "note": "LowCardinality(Nullable(String))",  # five distinct values in 2,000 rows
    }
    assert report.rows_read == 2_000 and report.rows_rejected == 3 and report.rows_loaded == 1_997
    assert dict(report.details)["delimiter"] == "," and dict(report.details)["encoding"] == "utf-8"
    row = etl.sql("SELECT * FROM orders WHERE order_id = 500")
    assert row["amount"].iloc[0] < 0  # "($1,234.50)" is an accounting negative
    assert row["region"].iloc[0] == "Europe"  # trimmed
    day = etl.sql("SELECT order_date, region FROM orders WHERE order_id IN (3, 4, 5) ORDER BY order_id")
    assert all(isinstance(v, (pd.Timestamp, dt.date)) for v in day["order_date"])
    nulls = etl.sql("SELECT countIf(qty IS NULL) AS q, countIf(note IS NULL) AS n FROM orders")
    assert nulls["q"].iloc[0] > 40 and nulls["n"].iloc[0] > 700  # "N/A", "-", "" and "NULL"
    rejected = etl.sql("SELECT * FROM orders_rejected ORDER BY source_row")
    assert list(rejected["column"]) == ["qty"] * 3 and list(rejected["value"]) == ["twelve"] * 3
    assert list(rejected["source_row"]) == [1500, 1750, 2000]
    assert json.loads(rejected["raw"].iloc[0])["order_id"] == "1500"
    assert "cannot be read as Int64" in rejected["reason"].iloc[0]
    assert all(r == report.load_id for r in rejected["load_id"])
    assert any("qty: 3 values rejected" in w for w in report.warnings)


def test_bad_values_after_row_130000_are_planned_for(etl: Workspace, files: Path) -> None:
    path = messy.late_bad_csv(files / "late.csv")
    # ClickHouse's own inference reads the first rows, calls qty an integer, and fails mid-load
    with pytest.raises(Exception, match="Cannot parse input"):
        etl._conn.client.command(f"CREATE TABLE etl_files.raw_late ENGINE = MergeTree ORDER BY tuple() "
                                 f"AS SELECT * FROM file('{path}')")
    report = etl.load(path, table="late", if_exists="replace")
    assert columns(report) == {"id": "Int64", "qty": "Int64", "price": "Float64"}
    assert report.rows_rejected == 41 and report.rows_loaded == 150_000 - 41
    reasons = etl.sql("SELECT column, count() AS n FROM late_rejected GROUP BY column ORDER BY column")
    assert dict(zip(reasons["column"], reasons["n"])) == {"price": 20, "qty": 21}
    assert etl.sql("SELECT min(source_row) AS m FROM late_rejected")["m"].iloc[0] >= 130_000


def test_windows_1252_semicolons(etl: Workspace, files: Path) -> None:
    report = etl.load(messy.latin1_csv(files / "latin1.csv"), table="latin", if_exists="replace")
    assert dict(report.details)["encoding"] in ("cp1252", "windows-1252", "cp1250", "iso8859-1", "latin-1")
    assert dict(report.details)["delimiter"] == ";"
    assert columns(report) == {"citta": "String", "prezzo": "Float64", "nota": "String"}
    df = etl.sql("SELECT * FROM latin ORDER BY prezzo")
    assert list(df["citta"]) == ["São Paulo", "Zürich", "München"]
    assert df["nota"].iloc[0] == "naïve – “quoted”"


def test_mostly_utf8_with_a_pasted_windows_row(etl: Workspace, files: Path) -> None:
    report = etl.load(messy.mixed_utf8_csv(files / "mixed.csv"), table="mixed", if_exists="replace")
    assert dict(report.details)["encoding"] == "utf-8"
    assert etl.sql("SELECT uniqExact(city) AS n, any(city) AS c FROM mixed")[["n", "c"]].values.tolist() == [[1, "Zürich"]]
    assert any("not UTF-8" in w for w in report.warnings)


def test_utf16_tsv(etl: Workspace, files: Path) -> None:
    report = etl.load(messy.utf16_tsv(files / "scores.tsv"), table="scores", if_exists="replace")
    assert dict(report.details)["delimiter"] == "\t" and columns(report) == {"name": "String", "score": "Int64"}
    assert etl.sql("SELECT name FROM scores ORDER BY score")["name"].tolist() == ["Åsa", "Björn"]


def test_no_header(etl: Workspace, files: Path) -> None:
    report = etl.load(messy.no_header_csv(files / "nohead.csv"), table="nohead", if_exists="replace")
    assert columns(report) == {"column_1": "Int64", "column_2": "Date32", "column_3": "Float64"}
    assert report.rows_loaded == 3


def test_header_only_makes_an_empty_table(etl: Workspace, files: Path) -> None:
    report = etl.load(messy.header_only_csv(files / "head.csv"), table="head_only", if_exists="replace")
    assert report.rows_loaded == 0 and [n for n, _ in report.columns] == ["a", "b", "c"]
    assert any("no rows" in w for w in report.warnings)


def test_ragged_rows_are_rejected_not_dropped(etl: Workspace, files: Path) -> None:
    report = etl.load(messy.ragged_csv(files / "ragged.csv"), table="ragged", if_exists="replace")
    assert report.rows_loaded == 2 and report.rows_rejected == 2 and report.rows_read == 4
    rej = etl.sql("SELECT source_row, column, ifNull(value, '-') AS value, reason FROM ragged_rejected ORDER BY source_row")
    # the spill column keeps the first extra field; the whole line is in the raw text
    assert rej.values.tolist() == [[3, "(extra fields)", "EXTRA", "more fields than the header"],
                                   [4, "(missing fields)", "-", "fewer fields than the header"]]
    # the short row does not make the column Nullable: its missing value is not a null
    assert dict(report.columns)["c"] == "Date32"
    # an empty last field is a value (NULL after cleaning), not a missing one
    assert etl.sql("SELECT a FROM ragged ORDER BY a")["a"].tolist() == [1, 2]


def test_rejected_rows_keep_their_row_number_on_a_machine_of_many_cores(etl: Workspace, files: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """With a header line, the engine's parallel parsing numbers the rows of every chunk after
    the first one too high (``_row_number``), so a rejected row far into a file named the next
    row. Parallel parsing is what the engine does on a machine of more than two cores."""
    monkeypatch.setattr("os.cpu_count", lambda: 16)
    path = files / "many_cores.csv"
    path.write_text("id,name,qty\n" + "".join(f"{i},name {i},{'twelve' if i in (5, 250_000) else i}\n"
                                               for i in range(1, 300_001)))
    report = etl.load(path, table="many_cores", if_exists="replace")
    assert (report.rows_loaded, report.rows_rejected) == (299_998, 2)
    rej = etl.sql("SELECT source_row, value, raw FROM many_cores_rejected ORDER BY source_row")
    assert rej["source_row"].tolist() == [5, 250_000]
    assert [json.loads(r)["id"] for r in rej["raw"]] == ["5", "250000"]


def test_malformed_rows_are_rejected_with_their_line(etl: Workspace, files: Path) -> None:
    path = messy.malformed_csv(files / "malformed.csv")
    report = etl.load(path, table="malformed", if_exists="replace")
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (3_000, 2_995, 5)
    rej = etl.sql("SELECT column, value, reason FROM malformed_rejected ORDER BY value")
    byc = dict(zip(rej["value"].fillna(""), rej["column"]))
    assert byc['1500,"quoted"after,7.5,2024-01-01'] == "(row)"
    assert byc['2500,"x""y"z,1,2024-01-02'] == "(row)"
    assert "cannot be read as CSV" in rej[rej["column"] == "(row)"]["reason"].iloc[0]
    assert sorted(rej["column"]) == ["(extra fields)", "(missing fields)", "(row)", "(row)", "amount"]
    # each by its row in the file: the rows the parser skipped too, and the rows after them
    numbered = etl.sql("SELECT source_row, column FROM malformed_rejected ORDER BY source_row").values.tolist()
    assert numbered == [[700, "(extra fields)"], [1500, "(row)"], [2000, "(missing fields)"], [2500, "(row)"],
                        [2800, "amount"]]
    assert any("could not be read as CSV" in w for w in report.warnings)
    loaded = etl.sql("SELECT count() AS n, countIf(note = '') AS empty_text, min(id) AS lo, max(id) AS hi FROM malformed")
    assert loaded.values.tolist() == [[2_995, 0, 1, 3_000]]
    # the neighbours of a bad row are whole
    assert etl.sql("SELECT id, note FROM malformed WHERE id IN (1499, 1501) ORDER BY id").values.tolist() == \
        [[1499, "n1499"], [1501, "n1501"]]


def _unclosed(path: Path, bad: dict[int, str], sep: str = ",", rows: int = 2_000) -> Path:
    """``rows`` rows of id, name, amount; the rows in ``bad`` (by row number) replaced."""
    lines = [sep.join(("id", "name", "amount"))] + [sep.join((str(i), f"name {i}", f"{i * 1.5}")) for i in range(1, rows + 1)]
    for i, line in bad.items():
        lines[i] = line
    path.write_text("\n".join(lines) + "\n")
    return path


# issue #4: a quote that is never closed swallowed the rest of the file into one value
UNCLOSED = {
    # the row ends up short (was: "1 rejected (fewer fields than the header)", 1,500 rows gone)
    "short-to-the-end": ({500: '500,"broken name,750'}, ",", ["row 500, column name", "1,500 lines",
                                                              "to the end of the file"]),
    # the quote opens in the last column: the row is whole, and failed its cast (Float64)
    "last-column-cast": ({500: '500,broken name,"750'}, ",", ["row 500, column amount", "to the end of the file"]),
    # one row swallowed, the last one
    "one-line": ({1_999: '1999,"broken name,750'}, ",", ["row 1,999, column name", "1 line after it (to the end"]),
    # after a row the parser skipped (which takes no row number)
    "after-a-skipped-row": ({100: '100,"ab"c,5', 1_999: '1999,"broken name,750'}, ",",
                            ["row 1,999, column name", "(to the end"]),
    # the parser fails at the next quote (row 600): rows 500-600 were skipped as one bad row
    "to-the-next-quote": ({500: '500,"broken name,750', 600: '600,"Smith, J",900'}, ",",
                          ["the row '500,\"broken name,750'", "never closed"]),
    # tab-separated files are CSV with tabs, quotes and all
    "tsv": ({500: '500\t"broken name\t750'}, "\t", ["never closed"]),
}


@pytest.mark.parametrize("bad,sep,said", UNCLOSED.values(), ids=UNCLOSED.keys())
def test_an_unclosed_quote_stops_the_load(etl: Workspace, files: Path, bad: dict[int, str], sep: str,
                                          said: list[str]) -> None:
    suffix = "tsv" if sep == "\t" else "csv"
    etl.load(_unclosed(files / f"uq_good.{suffix}", {}, sep, rows=3), table="uq", if_exists="replace")
    before = etl.sql("SELECT * FROM uq ORDER BY id").values.tolist()
    path = _unclosed(files / f"uq_bad.{suffix}", bad, sep)
    with pytest.raises(SourceError, match="a quote opens in") as caught:
        etl.load(path, table="uq", if_exists="replace")
    message = str(caught.value)
    for words in said:
        assert words in message
    assert "the table is unchanged" in message and "load again" in message
    assert etl.sql("SELECT * FROM uq ORDER BY id").values.tolist() == before == [[1, "name 1", 1.5], [2, "name 2", 3.0],
                                                                                  [3, "name 3", 4.5]]
    assert "uq_rejected" not in set(etl.tables()["table"])
    left = etl._conn.client.query("SELECT name FROM system.tables WHERE startsWith(name, '_bivoice_stage')")
    assert not left.result_rows
    last = etl.load_history().iloc[0]
    assert (last["target"], last["status"]) == ("etl_files.uq", "failed") and "a quote opens in" in last["error"]


def test_a_quoted_value_of_a_few_lines_still_loads(etl: Workspace, files: Path) -> None:
    """A quoted address over three lines (with the file's delimiter in them) is a value, not an
    unclosed quote; so is one in the last row."""
    path = _unclosed(files / "address.csv", {500: '500,"12 Main St\nSpringfield, IL\nUSA",750',
                                              2_000: '2000,"PO Box 9\nAnytown, 12345",3000'})
    report = etl.load(path, table="addresses", if_exists="replace")
    assert (report.rows_loaded, report.rows_rejected) == (2_000, 0)
    got = etl.sql("SELECT name FROM addresses WHERE id IN (500, 2000) ORDER BY id")["name"].tolist()
    assert got == ["12 Main St\nSpringfield, IL\nUSA", "PO Box 9\nAnytown, 12345"]


def test_one_column_file_with_quoted_lines(etl: Workspace, files: Path) -> None:
    """In a file of one column every line looks like a whole row: quoted comments of a few lines
    load (also in the last row); an unclosed quote that runs to the end of the file does not."""
    comments = [f"comment {i}" for i in range(1, 201)]
    comments[50] = '"first line\nsecond line\nthird line"'
    comments[199] = '"last one\nover\nthree lines"'
    path = files / "comments.csv"
    path.write_text("comment\n" + "\n".join(comments) + "\n")
    report = etl.load(path, table="comments", if_exists="replace")
    assert (report.rows_loaded, report.rows_rejected) == (200, 0)
    comments[99] = '"never closed'
    path.write_text("comment\n" + "\n".join(comments[:199]) + "\n")
    with pytest.raises(SourceError, match="a quote opens in row 100, column comment"):
        etl.load(path, table="comments", if_exists="replace")
    assert etl.sql("SELECT count() AS n FROM comments")["n"].tolist() == [200]


def test_decimal_commas(etl: Workspace, files: Path) -> None:
    report = etl.load(messy.decimal_comma_csv(files / "euro.csv"), table="euro", if_exists="replace")
    kinds = columns(report)
    assert kinds["price"].startswith("Decimal(") and kinds["rate"] == "Float64" and kinds["qty"] == "Int64"
    assert (report.rows_loaded, report.rows_rejected) == (999, 1)
    row = etl.sql("SELECT price, rate FROM euro WHERE id = 3").iloc[0]
    assert row["price"] == Decimal("1.021") * 1000 + Decimal("0.03") and row["rate"] == 3.3
    assert etl.sql("SELECT column, value FROM euro_rejected").values.tolist() == [["price", "n. a."]]


def test_tsv_short_row_is_rejected(etl: Workspace, files: Path) -> None:
    path = files / "short.tsv"
    path.write_text("a\tb\tc\n1\tx\t\n2\ty\tz\n3\tw\n")
    report = etl.load(path, table="short_tsv", if_exists="replace")
    assert (report.rows_loaded, report.rows_rejected) == (2, 1)
    assert etl.sql("SELECT column FROM short_tsv_rejected")["column"].tolist() == ["(missing fields)"]


def test_codes_us_dates_booleans_and_a_column_over_the_threshold(etl: Workspace, files: Path) -> None:
    report = etl.load(messy.codes_csv(files / "codes.csv"), table="codes", if_exists="replace")
    assert columns(report) == {"zip": "String", "mostly_text": "String", "us_date": "Date32", "flag": "Bool",
                               "rate": "Int64"}
    assert etl.sql("SELECT zip FROM codes ORDER BY zip LIMIT 1")["zip"].iloc[0] == "02101"
    christmas = etl.sql("SELECT count() AS n FROM codes WHERE us_date = toDate('2024-12-25')")
    assert christmas["n"].iloc[0] == 1  # 12/25/2024 is month-first, so the column is
    assert etl.sql("SELECT us_date FROM codes WHERE zip = '02101'")["us_date"].iloc[0] == pd.Timestamp("2024-02-02")
    assert any("month-first" in w for w in report.warnings)
    assert report.rows_rejected == 0


def test_json_array_and_ndjson(etl: Workspace, files: Path) -> None:
    report = etl.load(messy.orders_json(files / "orders.json"), table="j_orders", if_exists="replace")
    assert columns(report)["id"] == "Int64" and columns(report)["paid"] == "Bool"
    assert columns(report)["total"] == "Nullable(Float64)" and columns(report)["day"] == "Date32"
    df = etl.sql("SELECT customer, tags FROM j_orders ORDER BY id")
    assert json.loads(df["customer"].iloc[0]) == {"name": "Ann"}
    report = etl.load(messy.orders_ndjson(files / "orders.ndjson"), table="nd_orders", if_exists="replace")
    assert columns(report) == {"order_id": "Int64", "amount": "Decimal(18, 2)", "when": "DateTime64(3)"}
    assert report.rows_loaded == 500


def test_parquet_keeps_types_and_cleans_text(etl: Workspace, files: Path) -> None:
    report = etl.load(messy.orders_parquet(files / "orders.parquet"), table="pq", if_exists="replace")
    cols = columns(report)
    assert cols["id"] == "Int64" and cols["price"] == "Nullable(Float64)" and cols["ok"] == "Nullable(Bool)"
    assert cols["at"].startswith("DateTime64")
    assert cols["amount_text"] == "Nullable(Decimal(18, 2))"
    assert etl.sql("SELECT amount_text FROM pq ORDER BY id")["amount_text"].tolist()[:2] == [Decimal("1000"), Decimal("2500.5")]


def test_excel_sheets(etl: Workspace, files: Path) -> None:
    path = messy.orders_xlsx(files / "orders.xlsx")
    report = etl.load(path, table="xl", if_exists="replace")
    assert columns(report) == {"order_id": "Int64", "order_date": "Date32", "amount": "Float64", "paid": "Bool",
                               "comment": "Nullable(String)"}
    assert report.rows_loaded == 100 and dict(report.details)["sheet"] == "Orders"
    notes = etl.load(path, table="xl_notes", if_exists="replace", sheet="Notes")
    assert notes.rows_loaded == 1
    with pytest.raises(SourceError, match="no sheet"):
        etl.load(path, table="xl_nope", sheet="Missing")


def test_dataframe_and_arrow(etl: Workspace) -> None:
    import pyarrow as pa

    df = pd.DataFrame({"when": pd.to_datetime(["2024-01-01", "2024-01-02"]), "n": [1, 2],
                       "price": ["$1,000.50", "N/A"], "label": ["x", None]})
    report = etl.load(df, table="frame", if_exists="replace")
    assert columns(report) == {"when": "Date32", "n": "Int64", "price": "Nullable(Decimal(18, 2))",
                               "label": "Nullable(String)"}
    report = etl.load(pa.Table.from_pandas(df), table="arrow", if_exists="replace")
    assert report.rows_loaded == 2 and report.source.startswith("Table")  # read as Arrow (test_etl_arrow.py)


def test_gzip_csv(etl: Workspace, files: Path) -> None:
    report = etl.load(messy.gz_csv(files / "kv.csv.gz"), table="kv", if_exists="replace")
    assert report.rows_loaded == 2 and columns(report) == {"k": "Int64", "v": "String"}


@pytest.fixture(scope="module")
def http_root(files: Path):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(files))
    handler.log_message = lambda *a, **k: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_http_url(etl: Workspace, files: Path, http_root: str) -> None:
    messy.orders_csv(files / "web.csv", rows=300)
    report = etl.load(f"{http_root}/web.csv", table="web", if_exists="replace")
    assert report.rows_loaded == 300 and columns(report)["amount"] == "Decimal(18, 2)"
    assert report.source == f"{http_root}/web.csv"
    messy.latin1_csv(files / "web_latin.csv")
    report = etl.load(f"{http_root}/web_latin.csv", table="web_latin", if_exists="replace")
    assert "München" in set(etl.sql("SELECT citta FROM web_latin")["citta"])
    with pytest.raises(SourceError, match="HTTP 404"):
        etl.load(f"{http_root}/missing.csv", table="web_missing")


@pytest.mark.parametrize(
    ("maker", "match"),
    [
        (messy.empty_file, "empty"),
        (messy.binary_file, "does not look like"),
    ],
)
def test_unreadable_files(etl: Workspace, files: Path, maker, match: str) -> None:
    path = maker(files / f"bad_{maker.__name__}.csv")
    with pytest.raises(SourceError, match=match):
        etl.load(path, table="never")
    assert "never" not in set(etl.tables()["table"])


def test_wrong_encoding_given(etl: Workspace, files: Path) -> None:
    with pytest.raises(SourceError, match="not readable as utf-8"):
        etl.load(messy.latin1_csv(files / "latin1b.csv"), table="never", encoding="utf-8")


def test_a_file_streamed_to_a_server_stages_the_same_rows(etl: Workspace, files: Path) -> None:
    """A ClickHouse server cannot open the notebook's files: they are streamed to a staging
    table instead (exercised here on chDB through the same client call)."""
    from bivoice_jupyter.etl.progress import Progress
    from bivoice_jupyter.etl.sources import ReadOptions, Scratch, resolve

    path = messy.orders_csv(files / "stream.csv", rows=500)
    scratch = Scratch(etl._conn, "etl_files", "streamtest")
    try:
        raw = resolve(path, ReadOptions()).open(etl._conn, scratch, Progress(False), stage=True)
        assert raw.staged and [c.name for c in raw.columns][:2] == ["order_id", "order_date"]
        n = etl._conn.client.command(f"SELECT count() FROM etl_files.{scratch.tables[0]}")
        assert int(n) == 500
    finally:
        scratch.cleanup()


def test_preview_loads_nothing(etl: Workspace, files: Path) -> None:
    path = messy.orders_csv(files / "preview.csv", rows=300, bad_from=10, bad_every=150)
    before = set(etl.tables()["table"])
    p = etl.preview(path, rows=5)
    assert len(p.rows) == 5 and p.sampled == 300
    assert dict(zip(p.schema["column"], p.schema["type"]))["qty"] == "Nullable(Int64)"
    assert set(etl.tables()["table"]) == before
    assert "Preview of" in p._repr_html_()


@pytest.mark.parametrize("source", ["csv", "dataframe"])
def test_fan_with_declared_types_loads_what_the_engine_typed_fan_loads(etl: Workspace, files: Path, source: str,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """The staging read's table is created from types the load declares (no analysis of the
    read); where it cannot declare them it asks the engine. Both must load the same values and
    the same rejects: a declared type that changed a value would show here."""
    import importlib

    load_module = importlib.import_module("bivoice_jupyter.etl.load")
    if source == "csv":
        src: object = messy.orders_csv(files / "fan.csv", rows=3_000, bad_from=1_000, bad_every=300)
    else:
        src = pd.DataFrame({"id": range(6), "big": [2**62, -1, 0, 7, None, 9], "price": [1.5, None, 2.25, 0.0, -3.0, 1e300],
                            "when": pd.to_datetime(["2024-01-05 10:30", None, "1969-07-20 00:00", "2024-02-29 00:00", "2100-01-01 00:00", "2024-01-05 23:59"]),
                            "ok": [True, False, None, True, False, True], "txt": ["a", None, "NA", " b ", "", "ü"],
                            "tags": [[1, 2], [], [3], [4, 5], [6], [7]]}).astype({"big": "Int64", "ok": "boolean"})

    def snapshot(table: str) -> tuple[list[tuple[str, str]], list[list[object]], list[list[object]]]:
        report = etl.load(src, table=table, if_exists="replace")
        rows = etl.sql(f"SELECT * FROM {table} ORDER BY tuple(*)").astype(str).values.tolist()
        rejects = etl.sql(f"SELECT source_row, column, value, reason, raw FROM {table}_rejected ORDER BY source_row"
                          ).values.tolist() if report.rows_rejected else []
        return list(report.columns), rows, rejects

    declared = snapshot(f"fan_declared_{source}")
    monkeypatch.setattr(load_module, "_fan_types", lambda *a, **k: None)  # the engine types the fan
    analysed = snapshot(f"fan_analysed_{source}")
    assert declared == analysed
    assert declared[1]  # rows were loaded
    if source == "csv":
        assert declared[2]  # and some rejected


@pytest.mark.parametrize("kind", ["csv", "dataframe"])
def test_a_wide_sample_counted_a_few_columns_at_a_time_counts_the_same(etl: Workspace, files: Path, kind: str,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """A source wider than ``SAMPLE_CHUNK`` columns (4 here, 256 in use) has its sample rows
    copied once and counted that many columns at a time: every count, and so every plan, is the one a
    single query over the source gives (column numbers, the spill column, short rows, null
    tokens, typed columns' nulls, text columns of two raw types and all), and the copy is gone
    afterwards."""
    import importlib

    from bivoice_jupyter.etl import infer
    from bivoice_jupyter.etl.progress import Progress
    from bivoice_jupyter.etl.sources import ReadOptions, Scratch, resolve

    load = importlib.import_module("bivoice_jupyter.etl.load")
    monkeypatch.setattr(load, "SAMPLE_CHUNK", 4)
    if kind == "csv":
        lines = ["id,day,amount,code,name,ok,price,when,qty,note,ratio"]
        for i in range(1, 400):
            lines.append(f"{i},{1 + i % 28:02d}/{1 + i % 12:02d}/2024,\"{i},5\",{i % 50:03d},n{i % 7},"
                         f"{('yes', 'no')[i % 2]},\"${i * 3:,}.25\",2024-03-{1 + i % 28:02d} 10:{i % 60:02d},"
                         f"{'N/A' if i % 9 == 0 else i % 13},{'' if i % 4 else 'x'},{i / 8}")
        lines[50] += ",spill"  # a row with more fields than the header
        lines[60] = "60,01/01/2024"  # and one with fewer
        source: object = files / "wide.csv"
        source.write_text("\n".join(lines) + "\n", encoding="utf-8")  # type: ignore[attr-defined]
        rows, counted = 397, "c8_n"  # the spill row and the short one are not sampled
    else:  # typed columns (counted for their nulls) among text ones
        n = 300
        source = pd.DataFrame({
            "id": range(n), "price": [None if i % 7 == 0 else i / 4 for i in range(n)],
            "when": pd.date_range("2024-01-01", periods=n, freq="h"), "code": [f"{i % 50:03d}" for i in range(n)],
            "amount": [f"{i},5" for i in range(n)], "ok": [i % 2 == 0 for i in range(n)],
            "note": [None if i % 3 else "x" for i in range(n)], "qty": [str(i % 13) if i % 9 else "N/A" for i in range(n)],
            "big": pd.array([None if i % 5 == 0 else i for i in range(n)], dtype="Int64"),
        })
        rows, counted = n, "c8_nulls"
    scratch = Scratch(etl._conn, "etl_files", f"widetest{kind}")
    try:
        raw = resolve(source, ReadOptions()).open(etl._conn, scratch, Progress(False), stage=False)
        assert len(raw.columns) > load.SAMPLE_CHUNK
        if kind == "csv":  # the last column may be NULL (a short row): counted in arrays of its own
            assert len({rc.type for rc in raw.columns if rc.text}) == 2, raw.columns
        one = load._speculate(etl._conn, raw, infer.MAX_BAD_SHARE, True)
        chunked = load._speculate(etl._conn, raw, infer.MAX_BAD_SHARE, True, scratch=scratch)
        assert chunked[2] == one[2] and chunked[0] == one[0] and chunked[1] == one[1]
        assert one[2]["rows"] == rows and one[2][counted] > 0
        assert {p.name: p.type for p in one[0]}["amount"] == "Float64"  # its commas are decimal ones
        assert not [t for t in scratch.tables if "sample" in t]
        left = etl._conn.client.command("SELECT count() FROM system.tables WHERE database = 'etl_files' "
                                        "AND name LIKE '%sample%'")
        assert int(left) == 0
    finally:
        scratch.cleanup()


def test_a_file_of_eighty_columns_loads_and_user_sql_keeps_the_parser_limits(etl: Workspace, files: Path,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A load spells out every column's cleaning, about 3.6 KB of SQL a column: from 73
    columns on, its read went past the engine's 256 KiB query size and nothing could be
    loaded. The load's statements now carry their own parser limits, for themselves alone.
    Computed as arrays (:mod:`etl.arrays`), this read is about half as long; a file of 80
    different plans is not, and here the arrays are off."""
    import importlib

    monkeypatch.setattr(importlib.import_module("bivoice_jupyter.etl.load"), "worth", lambda rows: False)
    kinds = [lambda i, r: str(r * 7 + i), lambda i, r: f"\"{r},{i % 10}\"", lambda i, r: f"2024-0{1 + r % 9}-1{i % 10}",
             lambda i, r: f"\"${r * 1000 + i:,}.50\"", lambda i, r: ("yes", "no")[r % 2]]
    n = 80
    lines = [",".join(f"Col {i}" for i in range(n))]
    lines += [",".join(kinds[i % 5](i, r) for i in range(n)) for r in range(1, 41)]
    path = files / "eighty.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    sent = _statements(etl, monkeypatch)
    report = etl.load(path, table="eighty", if_exists="replace")
    longest = max(len(s.encode()) for s in sent)
    assert longest > 262_144  # so the default limit would refuse it
    assert etl.preview(path, rows=3).rows.shape == (3, n)  # a preview reads every column's cleaning too
    assert report.rows_loaded == 40 and report.rows_rejected == 0
    types = dict(zip(etl.describe("eighty")["column"], etl.describe("eighty")["type"]))
    assert len(types) == n
    assert (types["col_0"], types["col_1"], types["col_2"], types["col_3"], types["col_4"]) == \
        ("Int64", "Float64", "Date32", "Decimal(18, 2)", "Bool")
    assert types["col_79"] == "Bool" and types["col_76"] == "Float64"
    assert etl.sql("SELECT sum(col_75) AS s FROM eighty")["s"].iloc[0] == sum(r * 7 + 75 for r in range(1, 41))
    # the session (user SQL) still parses under the engine's own limit
    assert int(etl._conn.client.command("SELECT getSetting('max_query_size')")) == 262_144


def _side_by_side(files: Path, name: str, copies: int, rows: int) -> Path:
    """``copies`` of ``messy.orders_csv``'s eight columns side by side (each copy's header
    numbered, its values drawn with a seed of its own, and two late bad quantities in rows of
    its own), then a row with fewer fields and one with more."""
    parts = [messy.orders_csv(files / f"{name}_{k}.csv", rows=rows, bad_from=rows // 3 + k, bad_every=rows // 2,
                              seed=k + 1).read_text(encoding="utf-8").splitlines() for k in range(copies)]
    header = ",".join(",".join(f"{h} {k}" for h in lines[0].split(",")) for k, lines in enumerate(parts))
    body = [",".join(row) for row in zip(*[lines[1:] for lines in parts])]
    body.insert(rows // 2, "1,2024-01-05")
    body.insert(rows // 4, body[0] + ",spill")
    path = files / f"{name}.csv"
    path.write_text("\n".join([header, *body]) + "\n", encoding="utf-8")
    return path


def _statements(etl: Workspace, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every command the session sends from now on."""
    client, sent = etl._conn.client, []

    def command(sql, *args, **kwargs):
        sent.append(sql if isinstance(sql, str) else sql.decode())
        return type(client).command(client, sql, *args, **kwargs)

    monkeypatch.setattr(client, "command", command, raising=False)
    return sent


def test_columns_that_share_a_plan_load_the_same_computed_as_arrays(etl: Workspace, files: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Columns whose cleaning, checks and evidence are one expression apart from their number
    are computed together as arrays, and so are their counts (:mod:`etl.arrays`): the same
    table, the same rejects (the first failing column, its value, the reason, the raw row), the
    same types and every count the same as with one expression per column, short and spilled
    rows included."""
    import importlib

    from bivoice_jupyter.etl import arrays

    load = importlib.import_module("bivoice_jupyter.etl.load")
    path = _side_by_side(files, "sidebyside", copies=3, rows=300)
    sent = _statements(etl, monkeypatch)
    stage_rows, counted = load._stage_rows, []

    def staged(*args, **kwargs):  # every count the plan is checked against, as the read returned it
        counted.append(stage_rows(*args, **kwargs))
        return counted[-1]

    monkeypatch.setattr(load, "_stage_rows", staged)

    def loaded(on: bool) -> tuple[object, ...]:
        sent.clear()
        counted.clear()
        monkeypatch.setattr(load, "worth", lambda rows: on)
        monkeypatch.setattr(arrays, "MINIMUM", 2)  # the three copies of each column
        report = etl.load(path, table="sidebyside", if_exists="replace")
        fan = [s for s in sent if s.startswith("INSERT INTO") and "_bivoice_stage_fan_" in s]
        views = [s for s in sent if s.startswith("CREATE MATERIALIZED VIEW") and "_bivoice_stage_mv_stats_" in s]
        assert fan and views
        assert all(("arrayMap(" in s) == on for s in fan) and all(("countIfForEach(" in s) == on for s in views)
        table = etl.sql("SELECT * FROM sidebyside ORDER BY ALL").values.tolist()
        rejects = etl.sql("SELECT source_row, column, value, reason, raw FROM sidebyside_rejected ORDER BY ALL"
                          ).values.tolist()
        types = etl.describe("sidebyside")[["column", "type"]].values.tolist()
        return report.rows_loaded, report.rows_rejected, table, rejects, types, list(counted)

    with_arrays, without = loaded(True), loaded(False)
    assert with_arrays == without
    rows_loaded, rows_rejected, _, rejects, types, counts = without
    assert len(counts[0]) > 150 and counts[0]["c13_fail0"] == 2  # qty_1's two bad values
    # each qty's values: 300 less 9 nulls (N/A every 50th row, - every 77th), where copy 0's
    # two bad values replace two N/A (rows 100 and 250)
    assert [counts[0][f"c{i}_n"] for i in (5, 13, 21)] == [293, 291, 291]
    assert (rows_loaded, rows_rejected) == (294, 8)
    assert [r[1] for r in rejects] == ["(extra fields)", "qty_0", "qty_1", "qty_2", "(missing fields)", "qty_0", "qty_1", "qty_2"]
    assert len({tuple(row[1::8]) for row in without[2]}) > 1  # the copies differ (a mixed-up array would show)
    assert dict(types)["qty_2"] == "Nullable(Int64)" and dict(types)["amount_1"] == "Decimal(18, 2)"


def test_a_preview_of_columns_that_share_a_plan_shows_the_same_rows_read_as_arrays(etl: Workspace, files: Path,
                                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A preview reads a wide file's first rows with arrays, into a table, then shows the first
    good rows among them: the same rows, typed alike, as one expression per column shows, the
    spilled and short rows and the bad quantities left out. Where the rows read hold too few
    good ones, it reads again, one expression per column."""
    import importlib

    from bivoice_jupyter.etl import arrays

    load = importlib.import_module("bivoice_jupyter.etl.load")
    path = _side_by_side(files, "previewed", copies=3, rows=300)
    sent = _statements(etl, monkeypatch)

    def shown(minimum: int) -> pd.DataFrame:
        sent.clear()
        monkeypatch.setattr(arrays, "MINIMUM", minimum)
        return etl.preview(path, rows=105).rows

    with_arrays = shown(2)
    assert any("arrayMap(" in s for s in sent)
    without = shown(10**6)
    assert not any("arrayMap(" in s for s in sent)
    assert with_arrays.equals(without) and with_arrays.shape == (105, 24)
    # the copies' rows 1-300, a spilled row (row 1 again, one field more) after row 75, a short
    # one after row 150; rows 100, 101 and 102 hold the copies' first bad quantities
    assert list(with_arrays["order_id_0"]) == [r for r in range(1, 109) if r not in (100, 101, 102)]
    monkeypatch.setattr(load, "PREVIEW_READS", 1)  # 105 rows read, 101 of them good: read again
    again = shown(2)
    assert any("arrayMap(" in s for s in sent) and again.equals(without)
    # the same where that second read is a wide source's too (via a table of its own)
    monkeypatch.setattr(importlib.import_module("bivoice_jupyter.sql.clickhouse"), "_LONG_SQL", 0)
    assert shown(2).equals(without)
    with pytest.raises(SourceError, match="rows=-1 must be 0 or more"):
        etl.preview(path, rows=-1)


def test_the_arrays_read_each_name_of_one_column_as_that_column() -> None:
    """``etl.arrays`` groups a layer's items by the column a name belongs to, from the names'
    pattern (``arrays._own``, ``arrays._COUNT``), not from the helpers that write them: each
    helper's name reads back as its column, the same name for every column, and a row's own
    names (row number, spill, reject fields, the arrays' own) as no column's."""
    import importlib

    from bivoice_jupyter.etl import arrays, infer

    load = importlib.import_module("bivoice_jupyter.etl.load")
    per_column = [infer.raw_name, infer.value_name, infer.fast_name, infer.comma_name, infer.digits_name,
                  infer.cast_name, infer.present_name, load._fail_name,
                  lambda i: infer.stat_name(infer.stat_alias(i, "comma_scale"))]
    for name in per_column:
        assert arrays._own(name(17)) == (17, arrays._own(name(3))[1]) != (17, name(17))
    assert len({arrays._own(name(5))[1] for name in per_column}) == len(per_column)
    for row in (infer.ROW_NAME, infer.EXTRA_NAME, load.BAD_NAME, load.QUOTE_NAME, load._reject_name("raw"),
                f"{arrays.ARRAY_PREFIX}3", "__bv_x_3"):
        assert arrays._own(row) is None
    assert arrays._COUNT.match(infer.stat_alias(17, "comma_scale")).groups() == ("17", "comma_scale")


def test_typed_columns_of_different_types_never_share_an_array(etl: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    """A DataFrame's typed columns are checked alike (a NULL test each), but an array holds one
    type: columns of different types share none, and the load runs where the engine has no
    common type for them (``use_variant_as_common_type = 0``, as on older servers)."""
    import importlib

    from bivoice_jupyter.etl import arrays

    load = importlib.import_module("bivoice_jupyter.etl.load")
    monkeypatch.setattr(load, "worth", lambda rows: True)
    monkeypatch.setattr(arrays, "MINIMUM", 2)
    n = 6
    df = pd.DataFrame({"id": range(n), "big": pd.array([2**62, -1, 0, 7, None, 9], dtype="Int64"),
                       "price": [1.5, None, 2.25, 0.0, -3.0, 1e300],
                       "when": pd.to_datetime(["2024-01-05 10:30", None, "1969-07-20 00:00", "2024-02-29 00:00", "2100-01-01 00:00",
                                              "2024-01-05 23:59"]),
                       "ok": pd.array([True, False, None, True, False, True], dtype="boolean"),
                       "qty": pd.array([1, 2, None, 4, 5, 6], dtype="Int64"), "txt": ["a", None, "NA", " b ", "", "ü"]})
    client = etl._conn.client
    before = client.command("SELECT getSetting('use_variant_as_common_type')")
    client.command("SET use_variant_as_common_type = 0")
    try:
        report = etl.load(df, table="typed_arrays", if_exists="replace")
    finally:
        client.command(f"SET use_variant_as_common_type = {int(before in (1, '1', True, 'true'))}")
    assert report.rows_loaded == n and report.rows_rejected == 0
    got = etl.sql("SELECT big, qty, price FROM typed_arrays ORDER BY id")
    assert got["big"].tolist()[0] == 2**62 and got["qty"].isna().tolist() == [False, False, True, False, False, False]


def test_a_wide_file_of_few_rows_is_read_with_arrays_and_a_long_one_is_not(etl: Workspace, files: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Arrays cost time for each row and save analysis for each column: a file of at least
    ``arrays.MINIMUM`` columns of one plan is read with them when the sample says it holds at
    most ``arrays.MAX_ROWS`` rows (all of it sampled, or its size over the sampled bytes)."""
    import importlib

    from bivoice_jupyter.etl import arrays, infer
    from bivoice_jupyter.etl.progress import Progress
    from bivoice_jupyter.etl.sources import ReadOptions, Scratch, resolve

    load = importlib.import_module("bivoice_jupyter.etl.load")
    n, rows = arrays.MINIMUM + 4, 60
    path = files / "shared.csv"
    path.write_text("\n".join([",".join(f"m{i}" for i in range(n))]
                              + [",".join(str(100_000 + r * n + i) for i in range(n)) for r in range(rows)]) + "\n")
    sums = "SELECT " + ", ".join(f"sum(m{i}) AS s{i}" for i in range(n)) + " FROM shared"
    expected = [sum(100_000 + r * n + i for r in range(rows)) for i in range(n)]
    sent = _statements(etl, monkeypatch)
    etl.load(path, table="shared", if_exists="replace")
    assert any("arrayMap(" in s for s in sent if "_bivoice_stage_fan_" in s and s.startswith("INSERT"))
    assert etl.sql(sums).iloc[0].tolist() == expected
    monkeypatch.setattr(arrays, "MAX_ROWS", rows - 1)
    sent.clear()
    report = etl.load(path, table="shared", if_exists="replace")
    assert not any("arrayMap(" in s for s in sent if "_bivoice_stage_fan_" in s)
    assert report.rows_loaded == rows
    assert etl.sql(sums).iloc[0].tolist() == expected
    # a sample of a few rows (as long as the others): the source's size over their bytes
    scratch = Scratch(etl._conn, "etl_files", "rowsabout")
    try:
        raw = resolve(path, ReadOptions()).open(etl._conn, scratch, Progress(False), stage=False)
        whole = load._speculate(etl._conn, raw, infer.MAX_BAD_SHARE, True)[2]
        assert load._rows_about(raw, whole) == rows
        few = load._speculate(etl._conn, raw, infer.MAX_BAD_SHARE, True, sample_rows=10)[2]
        assert rows <= load._rows_about(raw, few, sample_rows=10) <= rows * 1.25
    finally:
        scratch.cleanup()


def test_a_preview_too_long_for_a_read_shows_the_same_rows_through_a_table(etl: Workspace, files: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """A preview reads every column's cleaning; for a file wide enough that its read is longer
    than the engine's parser takes (a read's settings come after it, so they cannot raise the
    limits) it goes through a table instead. Here every statement counts as long."""
    from bivoice_jupyter.sql import clickhouse

    path = messy.orders_csv(files / "longpreview.csv", rows=200, bad_from=10, bad_every=50)
    plain = etl.preview(path, rows=6)
    monkeypatch.setattr(clickhouse, "_LONG_SQL", 0)
    sent = _statements(etl, monkeypatch)
    long = etl.preview(path, rows=6)
    assert [s for s in sent if s.startswith("CREATE TABLE") and "_bivoice_stage_preview_" in s]
    pd.testing.assert_frame_equal(long.rows, plain.rows)
    assert long.schema.equals(plain.schema) and long.sampled == plain.sampled == 200
    left = etl._conn.client.command("SELECT count() FROM system.tables WHERE database = 'etl_files' "
                                    "AND startsWith(name, '_bivoice_stage_')")
    assert int(left) == 0
