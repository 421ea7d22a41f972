"""The shape of a source on real chDB, beyond its values: a DataFrame's index, blank lines,
a title or comments above the header, classic Mac line ends, a key an upsert's file repeats.
Each row is accounted for: loaded, rejected, counted as a duplicate, or named in a warning."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from bivoice_jupyter import Workspace


def write(path: Path, text: str | bytes) -> Path:
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


def counts(report) -> tuple[int, int, int, int]:
    return report.rows_read, report.rows_loaded, report.rows_rejected, report.rows_duplicate


# ------------------------------------------------------------------ a DataFrame's index


def test_a_groupby_result_keeps_its_keys(etl: Workspace) -> None:
    sales = pd.DataFrame({"country": ["US", "DE", "US"], "sales": [1, 2, 3]}).groupby("country").sum()
    report = etl.load(sales, table="by_country", if_exists="replace")
    assert [n for n, _ in report.columns] == ["country", "sales"]
    assert etl.sql("SELECT country, sales FROM by_country ORDER BY country").values.tolist() == [["DE", 2], ["US", 4]]
    assert any("index was loaded as column country" in w for w in report.warnings)
    preview = etl.preview(sales)  # says the same before anything is loaded
    assert [w for w in report.warnings if "index" in w] == list(preview.warnings)
    assert "warning: the DataFrame's index was loaded as column country" in repr(preview)


def test_set_index_and_a_multiindex_become_columns(etl: Workspace) -> None:
    df = pd.DataFrame({"id": [7, 8], "v": ["a", "b"]}).set_index("id")
    report = etl.load(df, table="by_id", if_exists="replace")
    assert dict(report.columns) == {"id": "Int64", "v": "String"}
    assert etl.sql("SELECT id FROM by_id ORDER BY id")["id"].tolist() == [7, 8]
    multi = pd.DataFrame({"region": ["e", "e", "w"], "year": [2023, 2024, 2024], "n": [1, 2, 3]}).set_index(["region", "year"])
    report = etl.load(multi, table="by_two", if_exists="replace")
    assert [n for n, _ in report.columns] == ["region", "year", "n"]
    assert etl.sql("SELECT region, year, n FROM by_two ORDER BY n").values.tolist() == [["e", 2023, 1], ["e", 2024, 2],
                                                                                       ["w", 2024, 3]]


def test_the_default_index_is_not_a_column(etl: Workspace) -> None:
    report = etl.load(pd.DataFrame({"a": [1, 2]}), table="plain_frame", if_exists="replace")
    assert [n for n, _ in report.columns] == ["a"] and report.warnings == ()


def test_row_numbers_left_by_a_filter_are_not_a_column_but_times_are(etl: Workspace) -> None:
    df = pd.DataFrame({"a": [1, -2, 3, 4]})
    report = etl.load(df[df.a > 0].sort_values("a", ascending=False), table="filtered_frame", if_exists="replace")
    assert [n for n, _ in report.columns] == ["a"] and report.warnings == ()
    series = pd.DataFrame({"v": [1.5, 2.5]}, index=pd.date_range("2024-01-01", periods=2, freq="D"))
    report = etl.load(series, table="time_frame", if_exists="replace")
    assert [n for n, _ in report.columns] == ["index", "v"]
    assert etl.sql("SELECT toString(toDate(index)) AS d FROM time_frame ORDER BY d")["d"].tolist() == ["2024-01-01", "2024-01-02"]


# ------------------------------------------------------------------ blank lines


def test_trailing_blank_lines_are_not_rows(etl: Workspace, files: Path) -> None:
    report = etl.load(write(files / "trailing.csv", "a,b\n1,2\n3,4\n\n\n"), table="trailing", if_exists="replace")
    assert counts(report) == (2, 2, 0, 0)
    assert not any("fewer fields" in w for w in report.warnings)


def test_blank_lines_within_are_counted_not_rejected(etl: Workspace, files: Path) -> None:
    path = write(files / "gaps.csv", "a,b,c\n1,x,2\n\n3,y,4\n\r\n5,z\n6,w,7\n")
    report = etl.load(path, table="gaps", if_exists="replace")
    assert counts(report) == (4, 3, 1, 0)  # the short row "5,z" is still rejected
    assert "2 blank lines skipped" in report.warnings
    rejected = etl.sql("SELECT source_row, column FROM gaps_rejected").values.tolist()
    assert rejected == [[5, "(missing fields)"]]  # numbered by its line, blank lines counted
    # appended: the rejects table keeps its rows, and still holds no blank line
    report = etl.load(write(files / "gaps2.csv", "a,b,c\n8,v,9\n\n9,u\n"), table="gaps", if_exists="append")
    assert counts(report) == (2, 1, 1, 0) and "1 blank line skipped" in report.warnings
    assert etl.sql("SELECT count() AS n FROM gaps_rejected")["n"].iloc[0] == 2


def test_blank_lines_in_a_tsv(etl: Workspace, files: Path) -> None:
    report = etl.load(write(files / "gaps.tsv", "a\tb\n1\tx\n\n2\ty\n\n\n"), table="gaps_tsv", if_exists="replace")
    assert counts(report) == (2, 2, 0, 0) and "1 blank line skipped" in report.warnings


# ------------------------------------------------------------------ lines above the header


@pytest.mark.parametrize(("first", "quoted"), [
    ("Sales report 2024\n", "'Sales report 2024'"),
    ("# exported by the shop, v2\n", "'# exported by the shop, v2'"),
    ("Sales report,,\nGenerated 2024-05-01\n\n", "'Sales report'"),
], ids=["title", "comment", "two-lines-and-a-blank"])
def test_a_title_above_the_header_is_skipped_and_named(etl: Workspace, files: Path, first: str, quoted: str) -> None:
    path = write(files / "titled.csv", first + "region,amount,day\neast,1,2024-01-01\nwest,2,2024-01-02\n")
    report = etl.load(path, table="titled", if_exists="replace")
    assert dict(report.columns) == {"region": "String", "amount": "Int64", "day": "Date32"}
    assert counts(report) == (2, 2, 0, 0)
    assert any(w.startswith("skipped") and quoted in w for w in report.warnings)


def test_a_title_above_a_tsv_and_a_windows_1252_file(etl: Workspace, files: Path) -> None:
    report = etl.load(write(files / "titled.tsv", "Report\nregion\tamount\neast\t1\nwest\t2\n"), table="titled_tsv",
                      if_exists="replace")
    assert dict(report.columns) == {"region": "String", "amount": "Int64"} and counts(report) == (2, 2, 0, 0)
    path = write(files / "titled_1252.csv", "Café report\r\nid;name\r\n1;é\r\n2;ü\r\n".encode("cp1252"))
    report = etl.load(path, table="titled_1252", if_exists="replace")
    assert etl.sql("SELECT name FROM titled_1252 ORDER BY id")["name"].tolist() == ["é", "ü"]
    assert any("'Café report'" in w for w in report.warnings)


def test_a_title_above_rows_without_a_header(etl: Workspace, files: Path) -> None:
    report = etl.load(write(files / "titled_nohead.csv", "Readings\n1,2.5\n2,3.5\n"), table="titled_nohead",
                      if_exists="replace")
    assert dict(report.columns) == {"column_1": "Int64", "column_2": "Float64"} and counts(report) == (2, 2, 0, 0)


def test_a_short_first_data_row_is_not_a_title(etl: Workspace, files: Path) -> None:
    """A narrow first line of data (numbers, several fields) stays a row, rejected as short."""
    report = etl.load(write(files / "short_first.csv", "1,2\n3,4,5\n6,7,8\n"), table="short_first", if_exists="replace")
    assert counts(report) == (3, 2, 1, 0) and not any(w.startswith("skipped") for w in report.warnings)
    report = etl.load(write(files / "short_second.csv", "a,b,c\n1,2\n3,4,5\n6,7,8\n"), table="short_second",
                      if_exists="replace")
    assert [n for n, _ in report.columns] == ["a", "b", "c"] and counts(report) == (3, 2, 1, 0)


def test_trailing_delimiters_under_the_header_are_not_a_title(etl: Workspace, files: Path) -> None:
    report = etl.load(write(files / "trailing_commas.csv", "a,b,c\n1,2,3,\n4,5,6,\n"), table="trailing_commas",
                      if_exists="replace")
    assert [n for n, _ in report.columns] == ["a", "b", "c"] and counts(report) == (2, 2, 0, 0)


# ------------------------------------------------------------------ classic Mac line ends


def test_lone_cr_line_ends(etl: Workspace, files: Path) -> None:
    report = etl.load(write(files / "mac.csv", "id,name\r1,x\r2,y\r"), table="mac", if_exists="replace")
    assert dict(report.columns) == {"id": "Int64", "name": "String"} and counts(report) == (2, 2, 0, 0)
    assert etl.sql("SELECT name FROM mac ORDER BY id")["name"].tolist() == ["x", "y"]
    path = write(files / "mac_1252.csv", "Title\rid,name\r1,é\r\r2,y\r".encode("cp1252"))
    report = etl.load(path, table="mac_1252", if_exists="replace")
    assert etl.sql("SELECT name FROM mac_1252 ORDER BY id")["name"].tolist() == ["é", "y"]
    assert counts(report) == (2, 2, 0, 0) and "1 blank line skipped" in report.warnings


# ------------------------------------------------------------------ an upsert's repeated keys


def test_a_key_repeated_in_the_file_is_a_duplicate_not_a_mystery(etl: Workspace, files: Path) -> None:
    path = write(files / "repeat.csv", "id,v\n1,a\n2,b\n3,c\n3,C\n")
    report = etl.load(path, table="repeat", if_exists="upsert", key="id")
    assert counts(report) == (4, 3, 0, 1)
    assert not any("did the source change" in w for w in report.warnings)
    assert any("1 row repeated a key (id)" in w and "last" in w for w in report.warnings)
    assert etl.sql("SELECT v FROM repeat WHERE id = 3")["v"].tolist() == ["C"]


def test_the_last_row_of_a_key_wins_across_blocks(etl: Workspace, files: Path) -> None:
    """Blocks are 131,072 rows: the first and last rows of key 1 are in different parts."""
    lines = ["id,v", "1,first", *(f"{i},r{i}" for i in range(2, 300_001)), "1,last"]
    report = etl.load(write(files / "repeat_big.csv", "\n".join(lines) + "\n"), table="repeat_big",
                      if_exists="upsert", key="id")
    assert counts(report) == (300_001, 300_000, 0, 1)
    assert etl.sql("SELECT v FROM repeat_big WHERE id = 1")["v"].tolist() == ["last"]
