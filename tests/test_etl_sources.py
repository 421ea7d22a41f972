"""How sources are read, on real chDB: JSON keys the engine's sampling would miss, the reason of
an engine error, a title above an Excel table, and http(s) URLs (basic authentication,
compression, formats a URL cannot carry, and no password or token in anything shown or stored)."""

from __future__ import annotations

import functools
import gzip
import http.server
import json
import threading
from pathlib import Path

import pytest

from bivoice_jupyter import Workspace
from bivoice_jupyter.errors import SourceError
from bivoice_jupyter.etl import sources
from bivoice_jupyter.sql.clickhouse import error_message

USER, PASSWORD, TOKEN, SIGNATURE = "alice", "S3CRET-pw", "S3CRETTOKEN", "f00dfeedbeef42"


def late_key_rows(n: int = 30_000) -> list[dict]:
    """``n`` objects with an ``id``; only the last has ``late`` (past ClickHouse's 25,000-row
    schema sample)."""
    return [{"id": i, **({"late": "LATE VALUE"} if i == n - 1 else {})} for i in range(n)]


# ------------------------------------------------------------------ JSON keys first seen late


@pytest.mark.parametrize("layout", ["ndjson", "array"])
def test_a_json_key_first_seen_after_the_engines_sample_is_loaded(etl: Workspace, files: Path, layout: str) -> None:
    rows = late_key_rows()
    path = files / f"late.{'ndjson' if layout == 'ndjson' else 'json'}"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n" if layout == "ndjson" else json.dumps(rows))
    report = etl.load(path, table=f"late_{layout}", if_exists="replace")
    assert [name for name, _ in report.columns] == ["id", "late"]
    df = etl.sql(f"SELECT id, late FROM late_{layout} WHERE late IS NOT NULL")
    assert df.to_dict("records") == [{"id": 29_999, "late": "LATE VALUE"}]


def test_json_keys_are_kept_in_the_order_they_first_appear(etl: Workspace, files: Path) -> None:
    rows = [{"b": 1, "a": 2}] * 26_000 + [{"b": 3, "z": "z1"}, {"c": "c1", "a": 4}]
    path = files / "order.ndjson"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    report = etl.load(path, table="key_order", if_exists="replace")
    assert [name for name, _ in report.columns] == ["b", "a", "z", "c"]


# ------------------------------------------------------------------ the reason of an engine error


def test_an_engine_error_keeps_the_reason_on_its_next_line() -> None:
    exc = RuntimeError("Code: 636. DB::Exception: The table structure cannot be extracted from a JSONEachRow "
                       "format file. Error:\nCode: 27. DB::Exception: Cannot parse input: expected ','. "
                       "(CANNOT_PARSE_INPUT_ASSERTION_FAILED) (version 26.9.2.1).\nYou can specify the structure "
                       "manually: (in file/uri /x.ndjson). (CANNOT_EXTRACT_TABLE_STRUCTURE)")
    assert error_message(exc) == ("Code: 636. DB::Exception: The table structure cannot be extracted from a "
                                  "JSONEachRow format file. Error: Cannot parse input: expected ','. "
                                  "(CANNOT_PARSE_INPUT_ASSERTION_FAILED)")
    # a message complete on its first line is kept as it was
    assert error_message(RuntimeError("Code: 47. DB::Exception: Unknown identifier `x`.\nmore")) == \
        "Code: 47. DB::Exception: Unknown identifier `x`."


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("bad.ndjson", b'{"id":1,"v":"a"}\n{"id":2,"v":"b"\n{"id":3,"v":"c"}\n', "Error: Cannot parse input"),
        ("corrupt.parquet", b"PAR1" + b"\x00" * 60, "Error: Not a Parquet file"),
    ],
)
def test_a_file_the_engine_cannot_read_says_why(etl: Workspace, files: Path, name: str, content: bytes,
                                                reason: str) -> None:
    path = files / name
    path.write_bytes(content)
    with pytest.raises(SourceError, match=reason):
        etl.load(path, table="unreadable")
    with pytest.raises(SourceError, match=reason):
        etl.preview(path)


# ------------------------------------------------------------------ Excel: a title above the table


def test_a_title_above_an_excel_table_is_skipped_with_the_csv_warning(etl: Workspace, files: Path) -> None:
    import xlsxwriter

    path = files / "title.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    sheet = wb.add_worksheet("Report")
    sheet.write_row(0, 0, ["Sales report 2024"])
    sheet.write_row(2, 0, ["id", "amount"])
    sheet.write_row(3, 0, [1, 2.5])
    sheet.write_row(4, 0, [2, 3.5])
    wb.close()
    report = etl.load(path, table="titled_xlsx", if_exists="replace")
    assert dict(report.columns) == {"id": "Int64", "amount": "Float64"}
    assert etl.sql("SELECT id, amount FROM titled_xlsx ORDER BY id").to_dict("records") == [
        {"id": 1, "amount": 2.5}, {"id": 2, "amount": 3.5}]
    csv = files / "title.csv"
    csv.write_text("Sales report 2024\n\nid,amount\n1,2.5\n2,3.5\n")
    same = etl.load(csv, table="titled_csv", if_exists="replace")
    skipped = [w for w in report.warnings if w.startswith("skipped")]
    assert skipped == [w for w in same.warnings if w.startswith("skipped")] and skipped == [
        "skipped 1 line above the header (a title or comments, narrower than the table): 'Sales report 2024'"]
    for source in (path, csv):  # preview warns as the load does, with nothing loaded
        preview = etl.preview(source)
        assert list(preview.warnings) == skipped and "Sales report 2024" in preview._repr_html_()


def test_an_excel_table_without_a_title_loads_as_before(etl: Workspace, files: Path) -> None:
    import xlsxwriter

    path = files / "plain.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    sheet = wb.add_worksheet("Data")
    for r, row in enumerate([["name", "city"], ["Ann", "Rome"], ["Bob", "Oslo"]]):
        sheet.write_row(r, 0, row)
    wb.close()
    report = etl.load(path, table="plain_xlsx", if_exists="replace")
    assert [n for n, _ in report.columns] == ["name", "city"] and report.rows_loaded == 2
    assert not [w for w in report.warnings if w.startswith("skipped")]


# ------------------------------------------------------------------ http(s) URLs


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Files under /private/ need basic authentication as alice; files under /ranged/ are
    served only to a request for a range (our sample fetch), so the engine's own read fails."""

    seen: list[dict[str, str | None]] = []

    def log_message(self, *args, **kwargs) -> None:  # noqa: ARG002 - quiet
        pass

    def _route(self) -> bool:
        self.seen.append({"path": self.path, "auth": self.headers.get("Authorization")})
        if self.path.startswith("/private/"):
            import base64

            want = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
            if self.headers.get("Authorization") != want:
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="test"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return False
            self.path = self.path[len("/private"):]
        if self.path.startswith("/ranged/"):
            if not self.headers.get("Range"):
                self.send_error(404)
                return False
            self.path = self.path[len("/ranged"):]
        return True

    def do_GET(self) -> None:
        if self._route():
            super().do_GET()

    def do_HEAD(self) -> None:
        if self._route():
            super().do_HEAD()


@pytest.fixture(scope="module")
def http_root(files: Path):
    (files / "ok.csv").write_text("id,v\n1,one\n2,two\n")
    with gzip.open(files / "ok.csv.gz", "wt") as f:
        f.write("id,v\n1,one\n2,two\n3,three\n")
    with gzip.open(files / "rows.ndjson.gz", "wt") as f:
        f.write('{"id": 1, "v": "a"}\n{"id": 2, "v": "b"}\n')
    (files / "late.ndjson").write_text("".join(json.dumps(r) + "\n" for r in late_key_rows()))
    _workbook(files / "book.xlsx")
    with open(files / "book.xlsx", "rb") as src, gzip.open(files / "packed.xlsx.gz", "wb") as dst:
        dst.write(src.read())
    book = (files / "book.xlsx").read_bytes()  # two gzip members put together, as bgzip or cat make
    (files / "members.xlsx.gz").write_bytes(gzip.compress(book[:999]) + gzip.compress(book[999:]))
    (files / "broken.xlsx").write_bytes(b"PK\x03\x04" + b"\x00" * 200)
    handler = functools.partial(_Handler, directory=str(files))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def _history_text(etl: Workspace) -> str:
    return etl.load_history().astype(str).to_string()


def test_a_url_with_user_and_password_is_read_with_basic_authentication(etl: Workspace, http_root: str) -> None:
    _Handler.seen.clear()
    report = etl.load(f"http://{USER}:{PASSWORD}@{http_root}/private/ok.csv", table="web_auth", if_exists="replace")
    assert report.rows_loaded == 2
    # both the sample fetch and the engine's url() read were let in
    assert sum(1 for s in _Handler.seen if s["auth"]) >= 2
    assert report.source == f"http://{USER}@{http_root}/private/ok.csv"
    assert PASSWORD not in repr(report) and PASSWORD not in _history_text(etl)


def test_a_wrong_password_says_so_without_showing_it(etl: Workspace, http_root: str) -> None:
    with pytest.raises(SourceError, match="HTTP 401") as caught:
        etl.load(f"http://{USER}:wrong-{PASSWORD}@{http_root}/private/ok.csv", table="web_denied")
    assert PASSWORD not in str(caught.value) and "user and password" in caught.value.hint


def test_a_query_string_token_is_redacted_everywhere_but_sent(etl: Workspace, http_root: str) -> None:
    url = f"http://{http_root}/ok.csv?token={TOKEN}&X-Amz-Signature={SIGNATURE}"
    report = etl.load(url, table="web_token", if_exists="replace")
    assert report.rows_loaded == 2
    assert report.source == f"http://{http_root}/ok.csv?token=***&X-Amz-Signature=***"
    preview = etl.preview(url)
    for shown in (repr(report), str(report.warnings), preview.source, repr(preview), preview._repr_html_(),
                  _history_text(etl)):
        assert TOKEN not in shown and SIGNATURE not in shown


def test_an_engine_error_on_a_url_does_not_show_its_token(etl: Workspace, http_root: str) -> None:
    url = f"http://{http_root}/ranged/ok.csv?token={TOKEN}"
    with pytest.raises(Exception) as caught:  # noqa: PT011 - LoadError or SourceError, the text is the point
        etl.load(url, table="web_failing")
    assert "404" in str(caught.value) and TOKEN not in str(caught.value)
    assert caught.value.__cause__ is None or TOKEN not in str(caught.value.__cause__)
    assert TOKEN not in _history_text(etl)


@pytest.mark.parametrize(("name", "rows"), [("ok.csv.gz", 3), ("rows.ndjson.gz", 2)])
def test_a_compressed_url_is_read(etl: Workspace, http_root: str, name: str, rows: int) -> None:
    report = etl.load(f"http://{http_root}/{name}", table="web_gz", if_exists="replace")
    assert report.rows_loaded == rows and [n for n, _ in report.columns] == ["id", "v"]


def _workbook(path: Path) -> None:
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path))
    first = wb.add_worksheet("Orders")
    for r, row in enumerate([["Order ID", "Amount"], [1, 2.5], [2, 3.25], [3, 4]]):
        first.write_row(r, 0, row)
    wb.add_worksheet("Notes").write_row(0, 0, ["note"])
    wb.close()


def test_an_excel_url_is_downloaded_and_read_as_a_workbook(etl: Workspace, http_root: str) -> None:
    """The engine reads no Excel: the workbook is fetched whole (with the URL's user and
    password, and gzip undone) and read like a local one, sheet choice included."""
    _Handler.seen.clear()
    url = f"http://{USER}:{PASSWORD}@{http_root}/private/book.xlsx"
    report = etl.load(url, table="web_xlsx", if_exists="replace")
    assert dict(report.columns) == {"order_id": "Int64", "amount": "Float64"} and report.rows_loaded == 3
    assert etl.sql("SELECT sum(amount) AS s FROM web_xlsx")["s"].iloc[0] == 9.75
    assert report.source == f"http://{USER}@{http_root}/private/book.xlsx" and PASSWORD not in repr(report)
    assert all(s["auth"] for s in _Handler.seen)
    preview = etl.preview(f"http://{http_root}/book.xlsx")
    assert list(preview.rows.columns) == ["order_id", "amount"] and preview.details["format"] == "Excel (downloaded)"
    for name in ("packed.xlsx.gz", "members.xlsx.gz"):
        packed = etl.load(f"http://{http_root}/{name}", table="web_xlsx_gz", if_exists="replace")
        assert packed.rows_loaded == 3
    with pytest.raises(SourceError, match="packed.xlsx has no sheet 'Missing'"):  # named as the URL names it
        etl.load(f"http://{http_root}/packed.xlsx.gz", table="web_xlsx_gz_none", sheet="Missing")
    with pytest.raises(SourceError, match="book.xlsx has no sheet 'Missing'") as caught:
        etl.load(f"http://{http_root}/book.xlsx", table="web_xlsx_none", sheet="Missing")
    assert "Orders, Notes" in caught.value.hint


def _zipped(name: str, data: bytes) -> bytes:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(name, data)
    return buf.getvalue()


def test_a_broken_or_oversized_excel_url_fails_clearly_and_creates_nothing(etl: Workspace, http_root: str,
                                                                          files: Path, monkeypatch) -> None:
    with pytest.raises(SourceError, match="broken.xlsx could not be read as a spreadsheet"):
        etl.load(f"http://{http_root}/broken.xlsx", table="web_broken")
    (files / "cut.xlsx.gz").write_bytes((files / "packed.xlsx.gz").read_bytes()[:-200])
    with pytest.raises(SourceError, match="ends before its gzip stream does") as caught:
        etl.load(f"http://{http_root}/cut.xlsx.gz", table="web_cut")
    assert "network" in caught.value.hint
    (files / "data.zip").write_bytes(_zipped("data.csv", b"id,v\n1,2\n"))
    with pytest.raises(SourceError, match="data.zip is a zip archive, not a workbook") as caught:
        etl.load(f"http://{http_root}/data.zip", table="web_zip")
    assert "unzip" in caught.value.hint
    monkeypatch.setattr(sources, "MAX_DOWNLOAD", 1000)
    for name in ("book.xlsx", "packed.xlsx.gz"):  # counted as unpacked: a small body can unpack to gigabytes
        with pytest.raises(SourceError, match="larger than 1,000 bytes") as caught:
            etl.load(f"http://{http_root}/{name}", table="web_big")
        assert "save it as CSV" in caught.value.hint
    tables = {r[0] for r in etl._conn.client.query("SELECT name FROM system.tables").result_rows}
    assert not {"web_broken", "web_cut", "web_zip", "web_big"} & tables and not [t for t in tables if t.startswith("_bivoice_stage")]


def test_a_json_key_first_seen_late_is_loaded_from_a_url(etl: Workspace, http_root: str) -> None:
    report = etl.load(f"http://{http_root}/late.ndjson", table="web_late", if_exists="replace")
    assert [name for name, _ in report.columns] == ["id", "late"]
    assert etl.sql("SELECT count() AS n FROM web_late WHERE late = 'LATE VALUE'")["n"].iloc[0] == 1


def test_a_json_url_is_fetched_once_and_read_from_that_copy(etl: Workspace, http_root: str,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """A JSON source is read more than once (every key, then the sample, then the rows): a JSON
    URL is fetched whole once and read as a local file, so that the keys, the sample and the
    rows come from one answer. Past ``MAX_DOWNLOAD`` it is read from the URL itself, as before."""
    def gets() -> int:
        return sum(1 for s in _Handler.seen if s["path"] == "/late.ndjson")

    _Handler.seen.clear()
    report = etl.load(f"http://{http_root}/late.ndjson", table="web_once", if_exists="replace")
    assert gets() == 2  # the first megabyte (format, compression), then the whole body
    assert [name for name, _ in report.columns] == ["id", "late"] and report.rows_loaded == 30_000
    assert etl.sql("SELECT id FROM web_once WHERE late = 'LATE VALUE'")["id"].tolist() == [29_999]
    assert etl.preview(f"http://{http_root}/late.ndjson").details["format"] == "JSONEachRow (downloaded)"
    monkeypatch.setattr(sources, "MAX_DOWNLOAD", 1000)
    _Handler.seen.clear()
    report = etl.load(f"http://{http_root}/late.ndjson", table="web_once", if_exists="replace")
    assert gets() > 2 and report.rows_loaded == 30_000 and [name for name, _ in report.columns] == ["id", "late"]
    assert etl.preview(f"http://{http_root}/late.ndjson").details["format"] == "JSONEachRow"
    gz = etl.load(f"http://{http_root}/rows.ndjson.gz", table="web_once_gz", if_exists="replace")
    assert gz.rows_loaded == 2 and etl.preview(f"http://{http_root}/rows.ndjson.gz").details["format"] == \
        "JSONEachRow (downloaded)"


def test_a_json_url_the_download_cannot_unpack_or_read_says_so_by_its_url(etl: Workspace, files: Path,
                                                                          http_root: str) -> None:
    """A JSON URL compressed in a way only the engine reads (zstd, lz4: its format given) is read
    from the URL as before; one that holds no JSON objects is named by its URL, not by the
    downloaded copy."""
    import zstandard

    (files / "rows.ndjson.zst").write_bytes(zstandard.ZstdCompressor().compress(b'{"id": 1, "v": "a"}\n{"id": 2, "v": "b"}\n'))
    report = etl.load(f"http://{http_root}/rows.ndjson.zst", table="web_zst", if_exists="replace", fmt="json")
    assert report.rows_loaded == 2 and [n for n, _ in report.columns] == ["id", "v"]
    assert etl.preview(f"http://{http_root}/rows.ndjson.zst", fmt="json").details["format"] == "JSONEachRow"
    (files / "numbers.json").write_text("1\n2\n")
    with pytest.raises(SourceError, match="is not JSON objects") as caught:
        etl.load(f"http://{http_root}/numbers.json?token={TOKEN}", table="web_numbers")
    assert f"http://{http_root}/numbers.json?token=***" in str(caught.value)
    assert "bivoice-etl-" not in str(caught.value) and TOKEN not in str(caught.value)
