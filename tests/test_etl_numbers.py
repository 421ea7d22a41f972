"""Numbers on real chDB: values are never changed silently. A decimal comma is read from the
column's evidence, integers beyond Int64 stay exact, leading-zero codes after the sample stay
text, and a value with more decimal places than its Decimal column holds is rejected."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pandas as pd

from bivoice_jupyter import Workspace


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8", newline="")
    return path


def texts(etl: Workspace, table: str, column: str, where: str = "1") -> list[str]:
    """The stored values as ClickHouse writes them (exact, whatever pandas makes of the type)."""
    return etl.sql(f"SELECT toString({column}) AS v FROM {table} WHERE {where} ORDER BY id")["v"].tolist()


def test_three_decimals_after_a_decimal_comma(etl: Workspace, files: Path) -> None:
    """"0,500" cannot be a thousands separator, so the column uses decimal commas: "2,125" is 2.125."""
    report = etl.load(write(files / "kg.csv", "id;kg\n1;0,5\n2;1,25\n3;2,125\n4;0,500\n"), table="kg", if_exists="replace")
    assert dict(report.columns)["kg"] == "Float64" and report.rows_rejected == 0
    assert etl.sql("SELECT kg FROM kg ORDER BY id")["kg"].tolist() == [0.5, 1.25, 2.125, 0.5]


def test_ambiguous_commas_alone_read_as_thousands_with_a_warning(etl: Workspace, files: Path) -> None:
    report = etl.load(write(files / "amb.csv", 'id,v\n1,"1,234"\n2,"2,500"\n3,17\n'), table="amb", if_exists="replace")
    assert dict(report.columns)["v"] == "Int64"
    assert texts(etl, "amb", "v") == ["1234", "2500", "17"]
    assert any(w.startswith("v:") and "thousands comma" in w for w in report.warnings)


def test_integers_beyond_int64_stay_exact(etl: Workspace, files: Path) -> None:
    body = "order_id,v\n" + "".join(f"{12345678901234567890 + j},x{j}\n" for j in range(100))
    report = etl.load(write(files / "big.csv", body), table="big", if_exists="replace")
    assert dict(report.columns)["order_id"] == "Int128" and report.rows_rejected == 0
    got = etl.sql("SELECT uniqExact(order_id) AS n, toString(max(order_id)) AS top FROM big").iloc[0]
    assert (got["n"], got["top"]) == (100, str(12345678901234567890 + 99))


def test_integers_beyond_int64_after_the_sample_replan_exact(etl: Workspace, files: Path) -> None:
    body = ("id,n\n" + "".join(f"{i},{i}\n" for i in range(10_500))
            + "".join(f"{10_500 + j},{10**19 + j}\n" for j in range(10)))
    report = etl.load(write(files / "late_big.csv", body), table="late_big", if_exists="replace")
    assert dict(report.columns)["n"] == "Int128" and report.rows_rejected == 0
    assert texts(etl, "late_big", "n", "id >= 10500")[:2] == [str(10**19), str(10**19 + 1)]


def test_integers_beyond_int64_in_a_column_empty_in_the_sample_are_int128(etl: Workspace, files: Path) -> None:
    body = "id,big\n" + "".join(f"{i},\n" for i in range(10_500)) + "".join(
        f"{10_500 + i},{12345678901234567890 + i}\n" for i in range(50))
    report = etl.load(write(files / "empty_then_big.csv", body), table="empty_big", if_exists="replace")
    assert dict(report.columns)["big"] == "Nullable(Int128)" and report.rows_rejected == 0
    assert texts(etl, "empty_big", "big", "id >= 10500")[:2] == ["12345678901234567890", "12345678901234567891"]


def test_leading_zero_codes_in_a_column_empty_in_the_sample_stay_text(etl: Workspace, files: Path) -> None:
    body = "id,code\n" + "".join(f"{i},\n" for i in range(10_500)) + "".join(f"{10_500 + i},{i:03d}\n" for i in range(50))
    report = etl.load(write(files / "empty_codes.csv", body), table="empty_codes", if_exists="replace")
    assert dict(report.columns)["code"] in ("Nullable(String)", "LowCardinality(Nullable(String))")
    assert etl.sql("SELECT code FROM empty_codes WHERE id = 10507")["code"].tolist() == ["007"]
    # counted with the values: no read as Int64 in between (which took two more reads)
    assert report.warnings == ("code: kept as text: 50 values have a leading zero (codes like 007)",)


def test_decimal_commas_in_a_column_empty_in_the_sample_load_in_one_more_read(etl: Workspace, files: Path) -> None:
    body = "id;kg\n" + "".join(f"{i};\n" for i in range(10_500)) + "".join(
        f"{10_500 + i};{('0,5', '1,25', '2,125')[i % 3]}\n" for i in range(30))
    report = etl.load(write(files / "empty_commas.csv", body), table="empty_commas", if_exists="replace")
    assert dict(report.columns)["kg"] == "Nullable(Float64)" and report.rows_rejected == 0
    assert texts(etl, "empty_commas", "kg", "id BETWEEN 10500 AND 10502") == ["0.5", "1.25", "2.125"]
    assert sum("loaded again" in w for w in report.warnings) == 1


def test_integers_too_long_for_any_exact_type_stay_text(etl: Workspace, files: Path) -> None:
    """ClickHouse would read a 41-digit value into an Int128 modulo 2^128, and a Float64 would round it."""
    body = "id,n\n" + "".join(f"{i},{10**40 + i}\n" for i in range(50))
    report = etl.load(write(files / "huge.csv", body), table="huge", if_exists="replace")
    assert dict(report.columns)["n"] == "String"
    assert texts(etl, "huge", "n", "id = 7") == [str(10**40 + 7)]


def test_leading_zero_codes_after_the_sample_keep_the_column_text(etl: Workspace, files: Path) -> None:
    body = ("id,code\n" + "".join(f"{i},{i + 1}\n" for i in range(10_500))
            + "".join(f"{10_500 + j},00{j}\n" for j in range(10)))
    report = etl.load(write(files / "codes.csv", body), table="late_codes", if_exists="replace")
    assert dict(report.columns)["code"] == "String" and report.rows_rejected == 0
    assert texts(etl, "late_codes", "code", "id >= 10500")[:3] == ["000", "001", "002"]


def test_appended_decimals_with_more_places_are_rejected_not_truncated(etl: Workspace, files: Path) -> None:
    etl.load(write(files / "m1.csv", "id,amt\n1,$1.25\n2,$2.50\n"), table="money", if_exists="replace")
    more = write(files / "m2.csv", "id,amt\n3,1.999\n4,$0.005\n5,$1.2.3\n6,1.500\n7,$3.10\n")
    report = etl.load(more, table="money", if_exists="append", max_bad_share=0.9)
    assert (report.rows_loaded, report.rows_rejected) == (2, 3)
    assert texts(etl, "money", "amt") == ["1.25", "2.5", "1.5", "3.1"]  # 1.500 fits: only zeros are dropped
    rejected = etl.sql("SELECT value FROM money_rejected ORDER BY source_row")["value"].tolist()
    assert rejected == ["1.999", "$0.005", "$1.2.3"]


def test_more_decimal_places_after_the_sample_widen_the_scale(etl: Workspace, files: Path) -> None:
    """200 late values (above 1%) fail Decimal(18, 2) for their places alone: the column widens
    to Decimal(18, 3) instead of falling back to Float64; "$1.2.3" is no number at all."""
    body = ("id,amt\n" + "".join(f"{i},${i}.25\n" for i in range(10_500))
            + "".join(f"{10_500 + j},$1.{j % 10}99\n" for j in range(200)) + "10700,$1.2.3\n")
    report = etl.load(write(files / "late_money.csv", body), table="late_money", if_exists="replace")
    assert dict(report.columns)["amt"] == "Decimal(18, 3)" and report.rows_rejected == 1
    assert texts(etl, "late_money", "amt", "id >= 10500")[:2] == ["1.099", "1.199"]
    assert etl.sql("SELECT value FROM late_money_rejected")["value"].tolist() == ["$1.2.3"]


def test_decimal_comma_money_keeps_its_places(etl: Workspace, files: Path) -> None:
    path = write(files / "euro4.csv", 'id,price\n1,"€0,0125"\n2,"€0,0199"\n3,"€1,2345"\n')
    report = etl.load(path, table="euro4", if_exists="replace")
    assert dict(report.columns)["price"] == "Decimal(18, 4)" and report.rows_rejected == 0
    assert etl.sql("SELECT price FROM euro4 ORDER BY id")["price"].tolist() == [
        Decimal("0.0125"), Decimal("0.0199"), Decimal("1.2345")]


def test_an_append_reads_commas_as_the_table_and_its_own_values_say(etl: Workspace, files: Path) -> None:
    """The table's first load showed decimal commas ("12,5", "1.234,5"): an appended "2,125" and
    "1,000", which could be either, are 2.125 and 1.0, not 2125 and 1000."""
    etl.load(write(files / "eu1.csv", "id;kg\n1;12,5\n2;3,25\n3;1.234,5\n"), table="eu_kg", if_exists="replace")
    report = etl.load(write(files / "eu2.csv", "id;kg\n4;2,125\n5;1,000\n"), table="eu_kg", if_exists="append")
    assert (report.rows_loaded, report.rows_rejected) == (2, 0) and not report.warnings
    assert texts(etl, "eu_kg", "kg") == ["12.5", "3.25", "1234.5", "2.125", "1"]
    # a table whose loads never showed a comma: the appended file's own "7,5" decides
    etl.load(write(files / "plain.csv", "id;kg\n1;4\n2;5.5\n"), table="plain_kg", if_exists="replace")
    report = etl.load(write(files / "eu3.csv", "id;kg\n3;2,125\n4;7,5\n"), table="plain_kg", if_exists="append")
    assert texts(etl, "plain_kg", "kg") == ["4", "5.5", "2.125", "7.5"]
    assert any(w.startswith("kg: the source's numbers use decimal commas") for w in report.warnings)
    # ... and it is recorded: the next append's lone "3,500" is 3.5
    etl.load(write(files / "eu4.csv", "id;kg\n5;3,500\n"), table="plain_kg", if_exists="append")
    assert texts(etl, "plain_kg", "kg", "id = 5") == ["3.5"]


def test_an_append_with_commas_nothing_explains_reads_thousands_and_says_so(etl: Workspace, files: Path) -> None:
    etl.load(write(files / "n1.csv", "id,n\n1,17\n2,40\n"), table="counts_n", if_exists="replace")
    report = etl.load(write(files / "n2.csv", 'id,n\n3,"1,234"\n4,5\n'), table="counts_n", if_exists="append")
    assert texts(etl, "counts_n", "n") == ["17", "40", "1234", "5"]
    assert any(w.startswith("n: 1 value like 1,234 read with a thousands comma: neither the source") for w in report.warnings)


def test_points_group_thousands_in_a_column_of_decimal_commas(etl: Workspace, files: Path) -> None:
    """Where values show decimal commas ("12,5", "1.234,5"), "2.500.000" is two and a half
    million (it was rejected), in a Float64 and in a Decimal column; so is a lone "1.234" one
    thousand two hundred and thirty-four, as "1.234,5" shows points grouping thousands ("7.5"
    keeps its point); in a column of point decimals with one stray "0,5", "2.037" is no 2037."""
    body = "id;kg\n" + "".join(f"{i};{i},5\n" for i in range(1, 101)) + "101;1.234\n102;2.500.000\n103;1.234,5\n104;7.5\n"
    report = etl.load(write(files / "dots.csv", body), table="dots", if_exists="replace")
    assert dict(report.columns)["kg"] == "Float64" and report.rows_rejected == 0
    assert texts(etl, "dots", "kg", "id > 100") == ["1234", "2500000", "1234.5", "7.5"]
    assert texts(etl, "dots", "kg", "id < 3") == ["1.5", "2.5"]
    money = "id;eur\n" + "".join(f"{i};{i},50 €\n" for i in range(1, 101)) + "101;2.500.000 €\n102;1.234,56 €\n"
    report = etl.load(write(files / "dots_eur.csv", money), table="dots_eur", if_exists="replace")
    assert dict(report.columns)["eur"] == "Decimal(18, 2)" and report.rows_rejected == 0
    assert texts(etl, "dots_eur", "eur", "id > 100") == ["2500000", "1234.56"]
    stray = "id;v\n" + "".join(f"{i};{i % 9 + 1}.{i % 1000:03d}\n" for i in range(1, 1000)) + "1000;0,5\n"
    etl.load(write(files / "stray.csv", stray), table="stray", if_exists="replace")
    assert texts(etl, "stray", "v", "id IN (1, 2, 1000)") == ["2.001", "3.002", "0.5"]


def test_point_decimals_outweigh_a_stray_decimal_comma(etl: Workspace, files: Path) -> None:
    """A column of point decimals with one "0,5" in it: its "1,234" values are thousands (they
    were read as 1.234, the stray value alone deciding that the column used decimal commas)."""
    body = "id;v\n" + "".join(f"{i};{i}.5\n" for i in range(1, 101)) + "101;0,5\n102;1,234\n103;2,500\n"
    report = etl.load(write(files / "stray_comma.csv", body), table="stray_comma", if_exists="replace")
    assert dict(report.columns)["v"] == "Float64" and report.rows_rejected == 0
    assert texts(etl, "stray_comma", "v", "id > 99") == ["100.5", "0.5", "1234", "2500"]
    assert not [w for w in report.warnings if "thousands comma" in w]  # the point decimals said so


ODD_VALUES = ["12.5", " 7 ", "1e3", "-0.25", "+3", "1234567.89", "(4.50)", "0.125", "N/A", "1,234.5"]


def _odd_file(path: Path, filler: str) -> Path:
    body = "id,amount\n" + "".join(f"{i},{filler}\n" for i in range(200)) + '200,"$5.00"\n'
    body += "".join(f'{201 + j},"{v}"\n' for j, v in enumerate(ODD_VALUES))
    return write(path, body)


def test_a_column_that_mostly_needs_cleaning_reads_plain_values_the_same(etl: Workspace, files: Path) -> None:
    """Where most of a number column's sample needs cleaning ("$1,234.50"), the load does not
    try the cheap cast first (speed: ``ColumnPlan.quick``); every value reads as it does in a
    column of plain numbers, where the cheap cast is tried first."""
    got = {}
    for name, filler in (("money", '"$1,234.50"'), ("plain", "1234.50")):
        report = etl.load(_odd_file(files / f"odd_{name}.csv", filler), table=f"odd_{name}", if_exists="replace")
        rejected = etl.sql(f"SELECT source_row FROM odd_{name}_rejected ORDER BY source_row")["source_row"].tolist()
        got[name] = (dict(report.columns)["amount"], texts(etl, f"odd_{name}", "amount", "id > 200"), rejected)
    assert got["money"] == got["plain"]
    assert got["plain"][0] == "Nullable(Decimal(18, 3))"  # 0.125
    values, rejected = got["plain"][1:]
    assert [None if v is pd.NA else v for v in values] == ["12.5", "7", "-0.25", "3", "1234567.89", "-4.5", "0.125",
                                                          None, "1234.5"]
    assert rejected == [204]  # 1e3 (the 204th row after the header): a Decimal column takes no exponent


def test_a_real_plan_skips_the_cheap_cast_only_for_the_column_that_mostly_needs_cleaning(etl: Workspace,
                                                                                        files: Path) -> None:
    """The plans the load makes from the two files above: the money column skips the cheap
    cast, the plain one tries it first (so the comparison above compares the two routes)."""
    import importlib

    from bivoice_jupyter.etl import infer
    from bivoice_jupyter.etl.progress import Progress
    from bivoice_jupyter.etl.sources import ReadOptions, Scratch, resolve

    load = importlib.import_module("bivoice_jupyter.etl.load")
    got = {}
    for name, filler in (("money", '"$1,234.50"'), ("plain", "1234.50")):
        scratch = Scratch(etl._conn, "etl_numbers", f"quick{name}")
        try:
            raw = resolve(_odd_file(files / f"quick_{name}.csv", filler), ReadOptions()).open(
                etl._conn, scratch, Progress(False), stage=False)
            plans = load._speculate(etl._conn, raw, infer.MAX_BAD_SHARE, True, scratch=scratch)[0]
        finally:
            scratch.cleanup()
        amount = {p.name: p for p in plans}["amount"]
        got[name] = (amount.kind, amount.quick, amount.fast() is None)
    assert got == {"money": ("decimal", False, True), "plain": ("decimal", True, False)}


def test_the_cheap_cast_is_tried_first_only_where_the_sample_reads_plain() -> None:
    from bivoice_jupyter.etl.infer import ColumnPlan, quick

    plans = [ColumnPlan("a", "a", "String", "decimal", "Decimal(18, 2)", False, 0),
             ColumnPlan("b", "b", "String", "int", "Int64", False, 1),
             ColumnPlan("t", "t", "String", "text", "String", False, 2)]
    row = {"c0_n": 100, "c0_plain": 10, "c1_n": 100, "c1_plain": 90, "c2_n": 100, "c2_plain": 0}
    assert [p.quick for p in quick(plans, row)] == [False, True, True]
    assert [p.fast() is None for p in quick(plans, row)] == [True, False, True]


def test_a_lone_thousands_point_follows_the_column(etl: Workspace, files: Path) -> None:
    """"1.500" is fifteen hundred where the column's values like "1.234,56" show points grouping
    thousands (also where most values are like it, which the cheap cast would read as 1.5, and in a
    Decimal column, whose scale it does not widen); where nothing shows that, it is 1.5 and the
    report says so."""
    def amount(i: int) -> str:  # two in three like "2.001", the third like "4.003,50"
        return f"{i % 9 + 1}.{i % 1000:03d}" + (",50" if i % 3 == 0 else "")

    body = "id;v;eur\n" + "".join(f"{i};{amount(i)};{amount(i)} €\n" for i in range(1, 301)) + "301;12,5;12,50 €\n"
    report = etl.load(write(files / "lone.csv", body), table="lone", if_exists="replace")
    assert dict(report.columns)["v"] == "Float64" and dict(report.columns)["eur"] == "Decimal(18, 2)"
    assert report.rows_rejected == 0
    assert texts(etl, "lone", "v", "id IN (1, 2, 3, 301)") == ["2001", "3002", "4003.5", "12.5"]
    assert texts(etl, "lone", "eur", "id IN (1, 3)") == ["2001", "4003.5"]
    assert any(w.startswith("v: 200 values like 1.500 read as thousands") for w in report.warnings)
    plain = "id;v\n" + "".join(f"{i};{i},5\n" for i in range(1, 101)) + "101;1.500\n"
    report = etl.load(write(files / "lone_plain.csv", plain), table="lone_plain", if_exists="replace")
    assert texts(etl, "lone_plain", "v", "id = 101") == ["1.5"]
    assert any(w.startswith("v: 1 value like 1.500 read with a decimal point") for w in report.warnings)
    # one stray "1.234,5" among values with three decimal places does not make them thousands
    stray = "id;v\n" + "".join(f"{i};{i % 9 + 1}.{i % 1000:03d}\n" for i in range(1, 1000)) + "1000;1.234,5\n"
    report = etl.load(write(files / "stray_grouped.csv", stray), table="stray_grouped", if_exists="replace")
    assert texts(etl, "stray_grouped", "v", "id IN (1, 2, 1000)") == ["2.001", "3.002", "1234.5"]
    assert any("999 values like 1.500 read with a decimal point" in w and "only 1 value like 1.234,56" in w
               for w in report.warnings)


def test_thousands_points_after_the_sample_reload_the_lone_ones(etl: Workspace, files: Path) -> None:
    body = "id;v\n" + "".join(f"{i};{i % 50},5\n" if i % 2 else f"{i};1.500\n" for i in range(1, 10_501))
    body += "".join(f"{i};2.345,75\n" for i in range(10_501, 11_501))
    report = etl.load(write(files / "late_dots.csv", body), table="late_dots", if_exists="replace")
    assert texts(etl, "late_dots", "v", "id IN (1, 2, 10501)") == ["1.5", "1500", "2345.75"]
    assert report.rows_rejected == 0
    assert any("v Float64 -> Float64, with thousands points)" in w and "loaded again" in w for w in report.warnings)
    # thousands points after the sample with no lone one to read otherwise: no second read
    body = "id;v\n" + "".join(f"{i};{i % 50},5\n" for i in range(1, 10_501)) + "10501;2.345,75\n"
    report = etl.load(write(files / "late_grouped.csv", body), table="late_grouped", if_exists="replace")
    assert texts(etl, "late_grouped", "v", "id IN (1, 10501)") == ["1.5", "2345.75"]
    assert not any("loaded again" in w for w in report.warnings)


def test_an_append_keeps_the_tables_thousands_points(etl: Workspace, files: Path) -> None:
    etl.load(write(files / "pts1.csv", "id;v\n1;1.234,56\n2;12,5\n3;1.500\n"), table="pts", if_exists="replace")
    report = etl.load(write(files / "pts2.csv", "id;v\n4;2.500\n5;7,25\n"), table="pts", if_exists="append")
    assert report.rows_rejected == 0
    assert report.warnings == ("v: 1 value like 1.500 read as thousands (1500), as the table's recorded loads read the column",)
    assert texts(etl, "pts", "v") == ["1234.56", "12.5", "1500", "2500", "7.25"]


def test_a_float_column_that_mostly_needs_cleaning_reads_plain_values_the_same(etl: Workspace, files: Path) -> None:
    """As above, for Float64 (its cheap cast skips "NaN" and checks that integers of more than
    15 digits round-trip) and for Int64."""
    odd = ["12.5", " 7 ", "1e3", "NaN", "inf", "-0.25", "12345678901234567", "N/A"]
    got = {}
    for name, filler in (("pct", "12.5%"), ("plain", "12.5")):
        body = "id,x,n\n" + "".join(f"{i},{filler},{'10%' if name == 'pct' else '10'}\n" for i in range(200))
        body += "".join(f'{200 + j},"{v}",{j}\n' for j, v in enumerate(odd))
        report = etl.load(write(files / f"oddf_{name}.csv", body), table=f"oddf_{name}", if_exists="replace")
        rejected = etl.sql(f"SELECT source_row FROM oddf_{name}_rejected ORDER BY source_row")["source_row"].tolist()
        got[name] = (dict(report.columns), texts(etl, f"oddf_{name}", "x", "id >= 200"),
                     texts(etl, f"oddf_{name}", "n", "id >= 200"), rejected)
    assert got["pct"] == got["plain"]
    columns, values, ints, rejected = got["plain"]
    assert columns["x"] == "Nullable(Float64)" and columns["n"] == "Int64"
    assert [None if v is pd.NA else v for v in values] == ["12.5", "7", "1000", None, "inf", "-0.25", None]
    assert rejected == [207] and ints == [str(j) for j in range(8) if j != 6]  # 17 digits do not fit a Float64
