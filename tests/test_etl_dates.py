"""Dates on real chDB: day/month order (on create and on append), dates outside 1970-2106,
text dates with a month name, and invalid times of day. A value is never changed silently: it
is read as written, or its row is rejected."""

from __future__ import annotations

from pathlib import Path

import pytest

from bivoice_jupyter import Workspace


def csv(files: Path, name: str, text: str) -> Path:
    path = files / name
    path.write_text(text, newline="")
    return path


def stored(etl: Workspace, table: str, column: str = "d") -> list[str]:
    return etl.sql(f"SELECT toString({column}) AS v FROM {table} ORDER BY id")["v"].tolist()


def rejected(etl: Workspace, table: str) -> list[str]:
    return etl.sql(f"SELECT value FROM {table}_rejected ORDER BY source_row")["value"].tolist()


# ------------------------------------------------------------------ day/month order


def test_append_keeps_the_month_first_order_the_table_was_loaded_with(etl: Workspace, files: Path) -> None:
    first = etl.load(csv(files, "us1.csv", "id,d\n1,12/25/2024\n2,12/31/2024\n"), table="us_append", if_exists="replace")
    assert dict(first.columns)["d"] == "Date32"
    # no evidence either way in the new file: the table's order (month-first) holds
    report = etl.load(csv(files, "us2.csv", "id,d\n3,01/03/2025\n4,01/05/2025\n"), table="us_append", if_exists="append")
    assert report.rows_rejected == 0
    assert stored(etl, "us_append") == ["2024-12-25", "2024-12-31", "2025-01-03", "2025-01-05"]


def test_append_reads_the_order_the_new_file_shows(etl: Workspace, files: Path) -> None:
    etl.load(csv(files, "eu1.csv", "id,d\n1,25/12/2024\n2,2024-12-30\n"), table="order_append", if_exists="replace")
    # the table was day-first; this file says month-first (01/13) and is read so
    report = etl.load(csv(files, "eu2.csv", "id,d\n3,01/13/2025\n4,02/03/2025\n"), table="order_append",
                      if_exists="append")
    assert report.rows_rejected == 0
    assert stored(etl, "order_append") == ["2024-12-25", "2024-12-30", "2025-01-13", "2025-02-03"]


def test_append_with_no_order_anywhere_warns_that_it_read_day_first(etl: Workspace, files: Path) -> None:
    etl.load(csv(files, "iso.csv", "id,d\n1,2024-12-25\n"), table="iso_append", if_exists="replace")
    report = etl.load(csv(files, "amb.csv", "id,d\n2,01/03/2025\n"), table="iso_append", if_exists="append")
    assert stored(etl, "iso_append") == ["2024-12-25", "2025-03-01"]
    assert any("day-first" in w and "d:" in w for w in report.warnings)


def test_a_date_against_the_column_order_is_rejected_not_swapped(etl: Workspace, files: Path) -> None:
    rows = "".join(f"{i},{13 + i % 15:02d}/01/2024\n" for i in range(1, 201)) + "201,12/25/2024\n"
    report = etl.load(csv(files, "mixed.csv", "id,d\n" + rows), table="mixed_order", if_exists="replace")
    assert dict(report.columns)["d"] == "Date32"
    assert report.rows_rejected == 1 and rejected(etl, "mixed_order") == ["12/25/2024"]
    # and on append to that (day-first) table, when the file is mostly day-first too
    more = "".join(f"{i},{13 + i % 15:02d}/02/2024\n" for i in range(300, 400)) + "400,01/31/2024\n"
    report = etl.load(csv(files, "mixed2.csv", "id,d\n" + more), table="mixed_order", if_exists="append")
    assert report.rows_rejected == 1 and sorted(rejected(etl, "mixed_order")) == ["01/31/2024", "12/25/2024"]


def test_month_first_text_dates_are_read_too(etl: Workspace, files: Path) -> None:
    path = csv(files, "us_text.csv", 'id,d\n1,12/25/2024\n2,05-Jan-24\n3,"January 5, 2024"\n')
    report = etl.load(path, table="us_text", if_exists="replace")
    assert report.rows_rejected == 0 and dict(report.columns)["d"] == "Date32"
    assert stored(etl, "us_text") == ["2024-12-25", "2024-01-05", "2024-01-05"]


# ------------------------------------------------------------------ range


def test_dates_before_1970_and_after_2106_stay_dates(etl: Workspace, files: Path) -> None:
    report = etl.load(csv(files, "old.csv", "id,birth\n1,1965-03-04\n2,1980-05-06\n3,1899-12-31\n4,2200-01-01\n"),
                      table="old_dates", if_exists="replace")
    assert dict(report.columns)["birth"] == "Date32" and report.rows_rejected == 0
    assert stored(etl, "old_dates", "birth") == ["1965-03-04", "1980-05-06", "1899-12-31", "2200-01-01"]
    report = etl.load(csv(files, "old_ts.csv", "id,at\n1,1965-03-04 10:30\n2,1965-03-05\n"), table="old_ts",
                      if_exists="replace")
    assert dict(report.columns)["at"] == "DateTime64(3)"
    assert stored(etl, "old_ts", "at") == ["1965-03-04 10:30:00.000", "1965-03-05 00:00:00.000"]


# ------------------------------------------------------------------ text dates


@pytest.mark.parametrize("values, expected", [
    (["05-Jan-24", "17-Feb-24"], ["2024-01-05", "2024-02-17"]),
    (["January 5th, 2024", "February 1st, 2024", "March 22nd, 2024", "Friday, May 3rd, 2024"],
     ["2024-01-05", "2024-02-01", "2024-03-22", "2024-05-03"]),
], ids=["dd-mon-yy", "ordinals"])
def test_text_dates_the_docstring_promises_are_dates(etl: Workspace, files: Path, values: list[str],
                                                     expected: list[str]) -> None:
    path = csv(files, "text_dates.csv", "id,d\n" + "".join(f'{i},"{v}"\n' for i, v in enumerate(values)))
    report = etl.load(path, table="text_dates", if_exists="replace")
    assert dict(report.columns)["d"] == "Date32" and report.rows_rejected == 0
    assert stored(etl, "text_dates") == expected


# ------------------------------------------------------------------ times


def test_invalid_times_are_rejected_not_normalized(etl: Workspace, files: Path) -> None:
    path = csv(files, "times.csv", "id,ts\n" + "".join(f"{i},2024-01-05 10:{i % 60:02d}\n" for i in range(1, 300))
               + "300,2024-01-05 25:00\n301,2024-01-05 10:61\n302,2024-01-05T10:00:60\n303,2024-01-05 23:59:59\n")
    report = etl.load(path, table="times", if_exists="replace")
    assert dict(report.columns)["ts"] == "DateTime64(3)"
    assert report.rows_rejected == 3
    assert rejected(etl, "times") == ["2024-01-05 25:00", "2024-01-05 10:61", "2024-01-05T10:00:60"]
    assert etl.sql("SELECT toString(ts) AS v FROM times WHERE id = 303")["v"].tolist() == ["2024-01-05 23:59:59.000"]


def test_append_of_times_to_a_date_column_rejects_them(etl: Workspace, files: Path) -> None:
    """A value with a time of day does not go into a Date column with its time dropped."""
    first = files / "days.csv"
    first.write_text("id,d\n1,2024-01-05\n")
    etl.load(first, table="days", if_exists="replace")
    more = files / "days_more.csv"
    more.write_text("id,d\n2,2024-01-06 10:30\n3,2024-01-07\n")
    report = etl.load(more, table="days", if_exists="append", max_bad_share=0.6)
    assert (report.rows_loaded, report.rows_rejected) == (1, 1)
    assert etl.sql("SELECT id, toString(d) AS d FROM days ORDER BY id").values.tolist() == [[1, "2024-01-05"], [3, "2024-01-07"]]
    rej = etl.sql("SELECT source_row, value, reason FROM days_rejected").values.tolist()
    assert rej == [[1, "2024-01-06 10:30", "cannot be read as Date32"]]


# ------------------------------------------------------------------ time-zone offsets


def test_moments_with_a_time_zone_offset_are_converted_and_the_report_says_so(etl: Workspace, files: Path) -> None:
    path = csv(files, "tz.csv", "id,d\n1,2024-01-05T10:00:00+02:00\n2,2024-01-05T10:00:00Z\n"
                                "3,2024-01-05 10:00:00\n4,2024-01-05T10:00:00.250-0500\n5,2024-01-05 11:30 UTC\n"
                                "6,2024-01-05 10:00:00 UTC+2\n")
    report = etl.load(path, table="tz", if_exists="replace")
    assert dict(report.columns)["d"] == "DateTime64(3)" and report.rows_rejected == 0
    assert stored(etl, "tz") == ["2024-01-05 08:00:00.000", "2024-01-05 10:00:00.000", "2024-01-05 10:00:00.000",
                                 "2024-01-05 15:00:00.250", "2024-01-05 11:30:00.000", "2024-01-05 08:00:00.000"]
    assert [w for w in report.warnings if w.startswith("d:")] == [
        "d: 5 values with a time-zone offset (such as +02:00 or Z) converted to the database's time zone; "
        "1 without one read as its local time"]
    plain = etl.load(csv(files, "naive.csv", "id,d\n1,2024-01-05 10:00:00\n2,2024-01-06 11:00:00\n"), table="naive",
                     if_exists="replace")
    assert not [w for w in plain.warnings if "time-zone" in w]


def test_times_in_a_column_empty_in_the_sample_stay_moments(etl: Workspace, files: Path) -> None:
    """A column empty in the first 10,000 rows is typed by every row's counts: its times of day
    make it a DateTime64, not a Date (whose cast would fail them all and leave the column text)."""
    body = "id,d\n" + "".join(f"{i},\n" for i in range(10_500)) + "".join(
        f"{10_500 + i},2024-01-{1 + i % 28:02d} 10:{i % 60:02d}\n" for i in range(50)) + "10550,2024-02-01\n"
    report = etl.load(csv(files, "empty_then_times.csv", body), table="empty_times", if_exists="replace")
    assert dict(report.columns)["d"] == "Nullable(DateTime64(3))" and report.rows_rejected == 0
    got = etl.sql("SELECT toString(d) AS v FROM empty_times WHERE id >= 10500 ORDER BY id")["v"].tolist()
    assert got[:2] == ["2024-01-01 10:00:00.000", "2024-01-02 10:01:00.000"] and got[-1] == "2024-02-01 00:00:00.000"


def test_month_first_dates_in_a_column_empty_in_the_sample_load_in_one_more_read(etl: Workspace, files: Path) -> None:
    """Its day/month order is counted with its values: one more read, in the right order (not
    a day-first read that rejects 12/25/2024, then a third)."""
    body = "id,d\n" + "".join(f"{i},\n" for i in range(10_500)) + "".join(
        f"{10_500 + i},12/{1 + i % 28:02d}/2024\n" for i in range(50))
    report = etl.load(csv(files, "empty_then_us.csv", body), table="empty_us", if_exists="replace")
    assert dict(report.columns)["d"] == "Nullable(Date32)" and report.rows_rejected == 0
    assert etl.sql("SELECT toString(d) AS v FROM empty_us WHERE id = 10513")["v"].tolist() == ["2024-12-14"]
    assert sum("loaded again" in w for w in report.warnings) == 1
