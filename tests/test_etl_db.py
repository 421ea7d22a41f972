"""Databases as sources: a real PostgreSQL and a real MariaDB (Debian packages), started on
127.0.0.1 for the session, read by ClickHouse's postgresql()/mysql() table functions (tables)
and by psycopg / PyMySQL (queries). Without the servers these tests skip; under CI=true they
fail (make system-deps installs them)."""

from __future__ import annotations

import subprocess
from decimal import Decimal

import pytest

from bivoice_jupyter import Workspace
from bivoice_jupyter.errors import SourceError
from conftest import IN_CI
from fixtures.etl import servers


def _start(kind: str) -> servers.Server:
    try:
        return servers.start_postgres() if kind == "postgresql" else servers.start_mariadb()
    except FileNotFoundError as exc:
        message = f"{exc} (make system-deps installs it)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="session")
def postgres():
    server = _start("postgresql")
    psql = servers.find("psql", ("/usr/lib/postgresql/*/bin",))
    sql = """
        CREATE SCHEMA sales;
        CREATE TABLE orders (id int PRIMARY KEY, name text, amount numeric(10,2), placed timestamp,
                             amount_text text, flag text);
        INSERT INTO orders
          SELECT g, CASE WHEN g % 10 = 0 THEN NULL ELSE 'name ' || g END, g * 1.25,
                 timestamp '2024-01-01' + g * interval '1 hour',
                 CASE WHEN g = 4000 THEN 'n/a?' ELSE '$' || to_char(g * 10.5, 'FM999,999.00') END,
                 CASE WHEN g % 2 = 0 THEN 'yes' ELSE 'no' END
          FROM generate_series(1, 5000) AS g;
        CREATE TABLE sales.items (sku text, qty int);
        INSERT INTO sales.items VALUES ('A', 1), ('B', 2);
    """
    env = {"PGPASSWORD": servers.PASSWORD}
    try:
        subprocess.run([psql, "-h", "127.0.0.1", "-p", str(server.port), "-U", servers.USER, "-d", "shop",
                        "-v", "ON_ERROR_STOP=1", "-c", sql], check=True, capture_output=True, env=env, timeout=60)
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def mariadb():
    server = _start("mysql")
    client = servers.find("mariadb") or servers.find("mysql")
    sql = """
        CREATE TABLE customers (id INT PRIMARY KEY, name VARCHAR(50), since DATE, spend DECIMAL(10,2),
                                     spend_text VARCHAR(20), city VARCHAR(30) CHARACTER SET utf8mb4);
        INSERT INTO customers SELECT seq, CONCAT('c', seq), DATE_ADD('2020-01-01', INTERVAL seq DAY),
               seq / 4, CONCAT(FORMAT(seq * 1000 / 3, 2), ' €'), IF(seq % 3 = 0, 'Zürich', 'Köln')
          FROM seq_1_to_3000;
    """
    try:
        subprocess.run([client, f"--socket={server.folder / 'sock'}", "-u", "root", "--default-character-set=utf8mb4",
                        "shop", "-e", sql], check=True, capture_output=True, timeout=60)
        yield server
    finally:
        server.stop()


def test_postgres_table_through_the_engine(etl: Workspace, postgres: servers.Server) -> None:
    report = etl.load(postgres.url("shop", "orders"), table="pg_orders", if_exists="replace")
    cols = dict(report.columns)
    assert cols["id"] == "Int32" and cols["amount"] == "Decimal(10, 2)" and cols["placed"].startswith("DateTime64")
    assert cols["name"] == "Nullable(String)" and cols["flag"] == "Bool"
    assert cols["amount_text"] == "Decimal(18, 2)"  # "$1,234.50" text, cleaned; one "n/a?" rejected
    assert report.rows_read == 5_000 and report.rows_rejected == 1
    assert etl.sql("SELECT amount_text FROM pg_orders WHERE id = 1000")["amount_text"].iloc[0] == Decimal("10500")
    assert servers.PASSWORD not in report.source and report.source.startswith("postgresql://etl@127.0.0.1")


def test_postgres_schema_table_and_query(etl: Workspace, postgres: servers.Server) -> None:
    report = etl.load(postgres.url("shop", "sales.items"), table="pg_items", if_exists="replace")
    assert report.rows_loaded == 2
    report = etl.load(postgres.url("shop"), table="pg_query", if_exists="replace",
                      query="SELECT id, amount, placed, flag FROM orders WHERE id <= 100")
    assert report.rows_loaded == 100
    # numeric(10,2) keeps the driver's type; the rest is text inspected
    assert dict(report.columns) == {"id": "Int64", "amount": "Decimal(10, 2)", "placed": "DateTime64(3)", "flag": "Bool"}


def test_mariadb_table_and_query(etl: Workspace, mariadb: servers.Server) -> None:
    report = etl.load(mariadb.url("shop", "customers"), table="my_customers", if_exists="replace")
    cols = dict(report.columns)
    assert cols["id"] == "Int32" and cols["spend"].startswith("Decimal") and cols["since"].startswith("Date")
    assert cols["spend_text"] == "Decimal(18, 2)" and cols["city"] == "LowCardinality(String)"
    assert report.rows_loaded == 3_000
    assert set(etl.sql("SELECT DISTINCT city FROM my_customers")["city"]) == {"Zürich", "Köln"}
    report = etl.load(mariadb.url("shop"), table="my_query", if_exists="replace",
                      query="SELECT id, since, city FROM customers WHERE id <= 10")
    assert report.rows_loaded == 10 and dict(report.columns)["since"] == "Date32"


def test_preview_of_a_database_table(etl: Workspace, postgres: servers.Server) -> None:
    p = etl.preview(postgres.url("shop", "orders"), rows=3)
    assert len(p.rows) == 3 and "amount_text" in set(p.schema["column"])
    assert "pg_preview" not in set(etl.tables()["table"])


@pytest.mark.parametrize("kind", ["postgresql", "mysql"])
def test_refused_connection_is_a_clear_error(etl: Workspace, kind: str) -> None:
    port = servers.free_port()  # nothing listens there
    url = f"{kind}://{servers.USER}:{servers.PASSWORD}@127.0.0.1:{port}/shop/orders"
    with pytest.raises(SourceError, match="Could not connect") as info:
        etl.load(url, table="refused")
    assert servers.PASSWORD not in str(info.value) and servers.PASSWORD not in repr(info.value.__cause__)
    assert "refused" not in set(etl.tables()["table"])
    with pytest.raises(SourceError, match="Could not connect"):
        etl.load(url.rsplit("/", 1)[0], table="refused", query="SELECT 1")


def test_wrong_password_and_missing_table(etl: Workspace, postgres: servers.Server, mariadb: servers.Server) -> None:
    with pytest.raises(SourceError) as info:
        etl.load(postgres.url("shop", "orders", password="wrong-one"), table="nope")
    assert "wrong-one" not in str(info.value)
    with pytest.raises(SourceError, match="nope_table|doesn't exist|does not exist"):
        etl.load(mariadb.url("shop", "nope_table"), table="nope")
    history = etl.load_history(3)
    assert (history["status"] == "failed").all()
    assert not history["error"].str.contains("wrong-one").any()


def _mariadb_run(server: servers.Server, *statements: str) -> None:
    import pymysql

    con = pymysql.connect(host="127.0.0.1", port=server.port, user=servers.USER, password=servers.PASSWORD,
                          database="shop", autocommit=True)
    try:
        with con.cursor() as cur:
            for statement in statements:
                cur.execute(statement)
    finally:
        con.close()


def _postgres_run(server: servers.Server, *statements: str) -> None:
    import psycopg

    with psycopg.connect(host="127.0.0.1", port=server.port, user=servers.USER, password=servers.PASSWORD,
                         dbname="shop", autocommit=True) as con:
        for statement in statements:
            con.execute(statement)


def test_mariadb_query_keeps_the_driver_types(etl: Workspace, mariadb: servers.Server) -> None:
    _mariadb_run(mariadb, "DROP TABLE IF EXISTS exact",
                 "CREATE TABLE exact (id INT, tm TIME, bl BLOB, bits BIT(8), amt DECIMAL(30,10), at DATETIME(6))",
                 "INSERT INTO exact VALUES (1, '-838:59:59', x'00ff', b'10101010', 12345678901234567890.0123456789, "
                 "'2024-01-01 12:00:00.123456'), (2, '25:00:00', x'c328', b'0', 0.1, '2024-01-01 00:00:00')")
    report = etl.load(mariadb.url("shop"), table="my_exact", if_exists="replace", query="SELECT * FROM exact")
    cols = dict(report.columns)
    assert cols["amt"] == "Decimal(30, 10)" and cols["at"] == "DateTime64(6)" and cols["bits"] == "UInt64"
    rows = etl.sql("SELECT tm, hex(bl) AS bl, bits, toString(amt) AS amt, toString(at) AS at FROM my_exact ORDER BY id")
    assert rows.to_dict("list") == {"tm": ["-838:59:59", "25:00:00"], "bl": ["00FF", "C328"], "bits": [170, 0],
                                    "amt": ["12345678901234567890.0123456789", "0.1"],
                                    "at": ["2024-01-01 12:00:00.123456", "2024-01-01 00:00:00.000000"]}


def test_postgres_numeric_without_precision_is_exact(etl: Workspace, postgres: servers.Server) -> None:
    _postgres_run(postgres, "DROP TABLE IF EXISTS wide",
                  "CREATE TABLE wide (id int, big numeric, amount numeric(12, 3))",
                  "INSERT INTO wide VALUES (1, 12345678901234567890.123456789, 1.5), (2, 1.5, NULL)")
    for how, options in (("table", {}), ("query", {"query": "SELECT * FROM wide"})):
        url = postgres.url("shop", "wide") if how == "table" else postgres.url("shop")
        report = etl.load(url, table=f"pg_wide_{how}", if_exists="replace", **options)
        cols = dict(report.columns)
        assert cols["big"] == "Decimal(29, 9)" and cols["amount"] == "Nullable(Decimal(12, 3))", how
        big = etl.sql(f"SELECT toString(big) AS big FROM pg_wide_{how} ORDER BY id")["big"].tolist()
        assert big == ["12345678901234567890.123456789", "1.5"], how
    _postgres_run(postgres, "INSERT INTO wide VALUES (3, 'NaN', 1)")
    with pytest.raises(SourceError, match="not plain numbers") as info:
        etl.load(postgres.url("shop", "wide"), table="pg_wide_nan", if_exists="replace")
    assert "NULLIF" in (info.value.hint or "")


def test_mariadb_zero_dates_become_null_with_a_warning(etl: Workspace, mariadb: servers.Server) -> None:
    _mariadb_run(mariadb, "SET SESSION sql_mode = ''", "DROP TABLE IF EXISTS zero_dates",
                 "CREATE TABLE zero_dates (id INT, d DATE, at DATETIME)",
                 "INSERT INTO zero_dates VALUES (1, '0000-00-00', '0000-00-00 00:00:00'), (2, '1970-01-01', '2024-01-01 10:00:00')")
    for how, options in (("table", {}), ("query", {"query": "SELECT * FROM zero_dates"})):
        url = mariadb.url("shop", "zero_dates") if how == "table" else mariadb.url("shop")
        report = etl.load(url, table=f"my_zero_{how}", if_exists="replace", **options)
        assert any("d: 1 zero date" in w for w in report.warnings), how
        rows = etl.sql(f"SELECT toString(d) AS d, toString(at) AS at FROM my_zero_{how} ORDER BY id")
        assert rows["d"].isna().tolist() == [True, False] and rows["d"].iloc[1] == "1970-01-01", how
        assert rows["at"].isna().tolist() == [True, False], how


@pytest.mark.parametrize("kind", ["postgresql", "mysql"])
def test_missing_table_is_named_not_a_connection_failure(etl: Workspace, postgres: servers.Server,
                                                          mariadb: servers.Server, kind: str) -> None:
    server = postgres if kind == "postgresql" else mariadb
    with pytest.raises(SourceError, match="there is no table 'no_such_table'") as info:
        etl.load(server.url("shop", "no_such_table"), table="nope")
    assert "Could not connect" not in str(info.value) and "lists the tables" in (info.value.hint or "")
    assert servers.PASSWORD not in str(info.value) + (info.value.hint or "")


def test_database_rejects_are_numbered_from_one_whichever_way_the_rows_are_read(etl: Workspace,
                                                                                postgres: servers.Server) -> None:
    """A table through the engine, a query through the driver, and a table read through the
    driver for its unbounded numeric: the rejected 150th row is row 150 in each, as in a file."""
    values = ", ".join(f"({i}, '{'twelve' if i == 150 else i}', {i})" for i in range(1, 201))
    _postgres_run(postgres, "DROP TABLE IF EXISTS numbered", "DROP TABLE IF EXISTS numbered_wide",
                  "CREATE TABLE numbered (id int, qty text, big int)", "CREATE TABLE numbered_wide (id int, qty text, big numeric)",
                  f"INSERT INTO numbered VALUES {values}", f"INSERT INTO numbered_wide VALUES {values}")
    loads = {"table": (postgres.url("shop", "numbered"), {}),
             "query": (postgres.url("shop"), {"query": "SELECT * FROM numbered ORDER BY id"}),
             "driver": (postgres.url("shop", "numbered_wide"), {})}
    for how, (url, options) in loads.items():
        report = etl.load(url, table=f"pg_numbered_{how}", if_exists="replace", **options)
        assert report.rows_rejected == 1 and dict(report.columns)["qty"] == "Int64", how
        rejected = etl.sql(f"SELECT source_row, value FROM pg_numbered_{how}_rejected").values.tolist()
        assert rejected == [[150, "twelve"]], how
