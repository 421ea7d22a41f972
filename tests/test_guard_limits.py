"""What the guard leaves to ClickHouse: the limits sent with every query, on real chDB, and the
connect-time check of a server's user.

Every limit is shown stopping a real query with a QueryError that names it (small limits keep
each test fast). There is no ClickHouse server here: the server check runs against clients
that answer as a server would, against chDB's own ``SHOW GRANTS`` (the same ClickHouse code),
and the README's recipe is parsed by ClickHouse's own parser (``EXPLAIN AST``).
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from clickhouse_connect.driver.exceptions import DatabaseError

from bivoice_jupyter.config import Limits, parse_dsn
from bivoice_jupyter.errors import ConfigError, QueryError, WorkspaceError
from bivoice_jupyter.sql import clickhouse
from bivoice_jupyter.sql.guard import guard
from bivoice_jupyter.sql.clickhouse import (
    Connection,
    WritableUserWarning,
    query_settings,
    write_access,
    write_privileges,
)

README = Path(__file__).resolve().parents[1] / "README.md"


def small(**limits: Any):
    """A Workspace on the session's chDB folder with some limits lowered."""
    from bivoice_jupyter import Workspace

    return Workspace(**limits)


# ---------------------------------------------------------------- the settings sent


def test_every_limit_is_sent_and_readonly_comes_last(ws) -> None:
    limits = Limits(max_execution_time=7, max_memory_usage=123_456_789, max_result_rows=50,
                    max_rows_to_read=9_876_543, max_bytes_to_read=87_654_321, max_result_bytes=7_654_321)
    sent = query_settings(limits)
    assert list(sent)[-1] == "readonly" and sent["readonly"] == 1
    names = [k for k in sent if k != "readonly"]
    seen = ws._conn.client.query_df(
        "SELECT " + ", ".join(f"toString(getSetting('{k}')) AS {k}" for k in [*names, "readonly"]), settings=sent
    ).iloc[0]
    assert float(seen["max_execution_time"]) == 7
    assert int(seen["max_memory_usage"]) == 123_456_789
    assert int(seen["max_rows_to_read"]) == 9_876_543
    assert int(seen["max_bytes_to_read"]) == 87_654_321
    assert int(seen["max_result_bytes"]) == 7_654_321
    assert int(seen["max_result_rows"]) == 51  # one more than the cap: it tells a cut result
    assert sent["limit"] == 51  # getSetting cannot show it: ClickHouse clears it below the top query
    assert seen["result_overflow_mode"] == seen["read_overflow_mode"] == seen["timeout_overflow_mode"] == "throw"
    assert int(seen["readonly"]) == 1


@pytest.mark.parametrize("clause", ["SETTINGS max_execution_time = 1000", "SETTINGS readonly = 0",
                                    "SETTINGS max_rows_to_read = 0, max_result_rows = 0"])
def test_a_query_cannot_lift_the_settings_even_past_the_guard(ws, clause: str) -> None:
    """The guard refuses SETTINGS (deny.sql); were it bypassed, readonly=1 refuses it too."""
    with pytest.raises(DatabaseError, match="READONLY|readonly"):
        ws._conn.client.query_df(f"SELECT count() FROM sales {clause}", settings=query_settings(ws.limits))


def test_the_server_settings_check_knows_every_setting_sent(ws) -> None:
    """What a server connection compares against: chDB's system.settings knows every name."""
    known = ws._conn.client.server_settings
    assert set(query_settings(ws.limits)) <= set(known)
    clickhouse._check_limits_accepted(ws._conn.client, parse_dsn("http://h:8123"), query_settings(ws.limits))


@pytest.mark.parametrize("bad", [dict(max_rows_to_read=0), dict(max_bytes_to_read=-1), dict(max_result_bytes=1.5),
                                 dict(max_rows_to_read=float("inf")), dict(max_result_bytes=True)])
def test_limits_are_checked(bad: dict) -> None:
    with pytest.raises(ConfigError):
        Limits(**bad)


# ---------------------------------------------------------------- each limit stops a query


def _stopped(ws, sql: str) -> QueryError:
    with pytest.raises(QueryError) as caught:
        ws.sql(sql)
    return caught.value


def test_max_rows_to_read_stops_a_self_cross_join(ws) -> None:
    # each side reads the 20,000 rows of sales: 40,000 in all
    error = _stopped(small(max_rows_to_read=30_000), "SELECT count() FROM sales AS a CROSS JOIN sales AS b")
    assert error.code == 158
    assert "max_rows_to_read (30,000 rows)" in str(error)
    assert "Workspace(max_rows_to_read=" in error.hint


def test_max_bytes_to_read_stops_a_wide_read(ws) -> None:
    error = _stopped(small(max_bytes_to_read=50_000), "SELECT sum(length(product)), sum(length(customer)) FROM sales")
    assert error.code == 307 and "max_bytes_to_read (50,000 bytes)" in str(error)


def test_max_memory_usage_stops_a_big_aggregate(ws) -> None:
    error = _stopped(small(max_memory_usage=20_000_000),
                     "SELECT length(groupArray(leftPad(product, 10000, 'x'))) FROM sales")
    assert error.code == 241 and "max_memory_usage (20,000,000 bytes)" in str(error)


def test_max_execution_time_stops_a_cross_join(ws) -> None:
    # 400 million pairs hashed: seconds of work, stopped at half a second
    error = _stopped(small(max_execution_time=0.5),
                     "SELECT count() FROM sales AS a CROSS JOIN sales AS b WHERE sipHash64(a.customer, b.product) = 0")
    assert error.code == 159 and "max_execution_time (0.5 s)" in str(error)


def test_max_result_bytes_stops_a_big_result_instead_of_cutting_it(ws) -> None:
    error = _stopped(small(max_result_bytes=100_000), "SELECT * FROM sales ORDER BY order_id LIMIT 5000")
    assert error.code == 396 and "max_result_bytes (100,000 bytes)" in str(error)


def test_the_result_cap_does_not_touch_subqueries(ws) -> None:
    """``limit`` and ``max_result_rows`` cap the outermost result only: aggregates over
    subqueries, IN and joins see every row."""
    capped = small(max_result_rows=5)
    sql = ("SELECT (SELECT count() FROM (SELECT * FROM sales)) AS a, "
           "(SELECT count() FROM sales WHERE order_id IN (SELECT order_id FROM sales)) AS b, "
           "(SELECT count() FROM sales AS x JOIN (SELECT order_id FROM sales) AS y USING (order_id)) AS c")
    row = capped.sql(sql).iloc[0]
    assert (row["a"], row["b"], row["c"]) == (20_000, 20_000, 20_000)
    cut = capped._conn.run(guard("SELECT order_id FROM sales UNION ALL SELECT order_id FROM sales", capped.policy()))
    assert cut.truncated and len(cut.df) == 5


# ---------------------------------------------------------------- the server user check


@dataclass
class _Setting:
    name: str
    value: str
    readonly: int = 0


class _FakeServer:
    """Answers as a ClickHouse server's client would: settings read at connect, and SHOW GRANTS."""

    def __init__(self, grants: list[str] | None, *, readonly: int = 0, final: bool = True,
                 fixed: dict[str, str] | None = None, unknown: tuple[str, ...] = ()) -> None:
        self.grants = grants
        self.final = final
        self.asked: list[str] = []
        names = [n for n in query_settings(Limits()) if n not in unknown]
        self.server_settings = {n: _Setting(n, "0") for n in names}
        self.server_settings["readonly"] = _Setting("readonly", str(readonly), int(readonly > 0))
        for name, value in (fixed or {}).items():
            self.server_settings[name] = _Setting(name, value, 1)

    def query_df(self, sql: str, settings: dict | None = None) -> pd.DataFrame:
        self.asked.append(sql)
        if self.grants is None or (sql.endswith("FINAL") and not self.final):
            raise DatabaseError("Code: 62. DB::Exception: Syntax error")
        return pd.DataFrame({sql.removeprefix("SHOW "): self.grants})


def _connect(monkeypatch, server: _FakeServer) -> Connection:
    monkeypatch.setattr(clickhouse, "_open_http", lambda dsn: server)
    return Connection(parse_dsn("http://bivoice_reader:secret@db.example:8123"), Limits())


READER = ["GRANT SELECT ON sales_db.* TO bivoice_reader", "GRANT SHOW TABLES, SELECT(a, b) ON ref.rates TO bivoice_reader"]


def test_a_read_only_user_connects_without_a_warning(monkeypatch) -> None:
    server = _FakeServer(READER)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        conn = _connect(monkeypatch, server)
    assert server.asked == ["SHOW GRANTS FINAL"]
    assert conn.settings()["readonly"] == 1


@pytest.mark.parametrize(
    ("grants", "named"),
    [
        ([*READER, "GRANT INSERT ON sales_db.* TO bivoice_reader"], "INSERT ON sales_db.*"),
        (["GRANT ALL ON *.* TO bivoice_reader WITH GRANT OPTION"], "ALL ON *.*"),
        (["GRANT SELECT, ALTER UPDATE ON sales_db.orders TO bivoice_reader"], "ALTER UPDATE ON sales_db.orders"),
        (["GRANT CREATE TEMPORARY TABLE, FILE ON *.* TO bivoice_reader"], "CREATE TEMPORARY TABLE ON *.*"),
        (["GRANT SYSTEM DROP CACHE ON *.* TO bivoice_reader"], "SYSTEM DROP CACHE ON *.*"),
    ],
)
def test_a_user_that_can_write_is_warned_about(monkeypatch, grants: list[str], named: str) -> None:
    with pytest.warns(WritableUserWarning, match=re.escape(named)) as caught:
        _connect(monkeypatch, _FakeServer(grants))
    message = str(caught[0].message)
    assert "secret" not in message and "bivoice_reader@db.example" in message
    assert "README.md: Running against a ClickHouse server" in message


def test_roles_are_resolved_by_final_and_suspected_without_it(monkeypatch) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _connect(monkeypatch, _FakeServer([*READER, "GRANT analysts TO bivoice_reader"]))  # FINAL folded them in
    old = _FakeServer([*READER, "GRANT analysts TO bivoice_reader"], final=False)
    with pytest.warns(WritableUserWarning, match="role analysts"):
        _connect(monkeypatch, old)
    assert old.asked == ["SHOW GRANTS FINAL", "SHOW GRANTS"]


def test_a_server_without_grants_is_warned_about(monkeypatch) -> None:
    with pytest.warns(WritableUserWarning, match="SHOW GRANTS failed"):
        _connect(monkeypatch, _FakeServer(None))


def test_a_readonly_2_profile_needs_no_check_and_gets_no_readonly_setting(monkeypatch) -> None:
    server = _FakeServer(["GRANT ALL ON *.* TO bivoice_reader"], readonly=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        conn = _connect(monkeypatch, server)
    assert server.asked == []  # readonly=2 refuses every write whatever the grants
    assert "readonly" not in conn.settings() and conn.settings()["max_execution_time"] == 10.0


def test_a_readonly_1_profile_is_refused_at_connect(monkeypatch) -> None:
    with pytest.raises(WorkspaceError, match="readonly=1") as caught:
        _connect(monkeypatch, _FakeServer(READER, readonly=1))
    assert "README.md" in caught.value.hint


@pytest.mark.parametrize(("server", "said"), [
    (_FakeServer(READER, fixed={"max_execution_time": "3600"}), "fixed by the user's profile: max_execution_time"),
    (_FakeServer(READER, unknown=("limit",)), "unknown to this server: limit"),
])
def test_a_server_that_would_drop_a_limit_is_refused_at_connect(monkeypatch, server: _FakeServer, said: str) -> None:
    with pytest.raises(WorkspaceError, match=re.escape(said)):
        _connect(monkeypatch, server)


def test_a_limit_fixed_at_the_same_value_is_accepted(monkeypatch) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _connect(monkeypatch, _FakeServer(READER, fixed={"max_execution_time": "10", "max_block_size": "8192"}))


def test_the_grants_check_reads_real_clickhouse_output(ws) -> None:
    """chDB's user is ClickHouse's ``default``, which may do anything: SHOW GRANTS FINAL, run by
    ClickHouse itself, is read as writable. (The check never runs for chDB, which has no users.)"""
    found = write_access(ws._conn.client)
    assert {"INSERT ON *.*", "DROP ON *.*", "ALTER ON *.*"} <= set(found)
    assert not any(f.startswith(("SELECT", "SHOW")) for f in found)


def test_grant_lines_are_parsed_as_clickhouse_writes_them() -> None:
    lines = [
        "GRANT SELECT(order_id, revenue), SHOW COLUMNS ON sales_db.orders TO r",
        "REVOKE INSERT ON sales_db.orders FROM r",
        "GRANT dictGet ON sales_db.* TO r",
        "GRANT TRUNCATE ON sales_db.* TO r",
        "GRANT r1, r2 TO r",
    ]
    assert write_privileges(lines, roles_resolved=True) == ["TRUNCATE ON sales_db.*"]
    assert write_privileges(lines, roles_resolved=False)[1:] == [
        "role r1 (its privileges could not be listed)", "role r2 (its privileges could not be listed)"]


def test_chdb_is_not_checked(ws) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert small()._conn.server_readonly == 0


def _readme_recipe() -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Running against a ClickHouse server", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(r"```sql\n(.*?)```", section, re.S)
    return [s.strip() for s in block.split(";") if s.strip()]


def test_the_readme_recipe_is_clickhouse_sql(ws) -> None:
    """Every statement of the recipe parses in ClickHouse itself (chDB cannot create users)."""
    statements = _readme_recipe()
    assert any(s.startswith("CREATE USER") for s in statements)
    assert any(re.match(r"GRANT SELECT ON \w+\.\* TO", s) for s in statements)
    for statement in statements:
        plan = ws._conn.client.query_df(f"EXPLAIN AST {statement}")
        assert len(plan), statement
    # and the grants it gives pass the check
    grants = [s for s in statements if s.startswith("GRANT")]
    assert write_privileges(grants, roles_resolved=True) == []
