"""%etl in an in-process IPython shell whose failures re-raise: load, preview, history."""

from __future__ import annotations

import pandas as pd
import pytest
from IPython.utils.capture import capture_output

from bivoice_jupyter.errors import BivoiceError, SourceError
from bivoice_jupyter.etl import Preview
from bivoice_jupyter.models import LoadReport
from fixtures.etl import messy


def run(ip, code: str):
    with capture_output() as captured:
        result = ip.run_cell(code)
    result.raise_error()
    return captured


def test_load_preview_history(ip, tmp_path) -> None:
    path = messy.orders_csv(tmp_path / "orders.csv", rows=400, bad_from=100, bad_every=1000)
    captured = run(ip, f"%etl load {path} --table magic_orders --replace --database etl_magic --out rep")
    report = ip.user_ns["rep"]
    assert isinstance(report, LoadReport) and report.rows_loaded == 399 and report.rows_rejected == 1
    assert len(captured.outputs) == 1 and "Loaded 399 rows" in report._repr_html_()
    run(ip, f"%etl preview {path} --rows 3 --database etl_magic --out pre")
    assert isinstance(ip.user_ns["pre"], Preview) and len(ip.user_ns["pre"].rows) == 3
    run(ip, "%etl history --rows 5 --database etl_magic --out hist")
    assert ip.user_ns["hist"].iloc[0]["target"] == "etl_magic.magic_orders"


def test_options_reach_the_load(ip, tmp_path) -> None:
    path = tmp_path / "semi.txt"
    path.write_text("k;v\n1;a\n1;a\n2;b\n")
    run(ip, f"%etl load {path} --table magic_semi --database etl_magic --replace --delimiter ';' --dedup --out r")
    assert ip.user_ns["r"].rows_loaded == 2 and ip.user_ns["r"].rows_duplicate == 1
    ip.user_ns["frame"] = pd.DataFrame({"id": [1, 2], "n": ["5", "x"]})
    run(ip, "%etl load frame --table magic_up --database etl_magic --upsert id --max-bad 60 --out u")
    assert ip.user_ns["u"].mode == "upsert" and ip.user_ns["u"].rows_rejected == 1


def test_null_tokens_option(ip, ws, tmp_path) -> None:
    """"NA" is Namibia's country code: by default a null token (with a warning that says so),
    kept as a value with --null-tokens ''; --null-tokens '-' reads only "-" (and "") as missing."""
    path = tmp_path / "countries.csv"
    path.write_text("country,pop\nUS,331\nNA,2.5\nDE,83\n - ,1\n,2\n")
    run(ip, f"%etl load {path} --table magic_na --database etl_magic --replace --out r")
    assert ip.user_ns["r"].rows_loaded == 5
    assert any("country: 2 values were null tokens (NA, N/A" in w for w in ip.user_ns["r"].warnings)
    for option, kept, said in (("''", ["US", "DE", "NA", None, "-"], []),
                               ("'-'", ["US", "DE", "NA", None, None], ["country: 1 value was a null token (-)"])):
        run(ip, f"%etl load {path} --table magic_na --database etl_magic --replace --null-tokens {option} --out r")
        got = ws._conn.client.query("SELECT country FROM etl_magic.magic_na ORDER BY pop DESC").result_rows
        assert [v for (v,) in got] == kept
        assert [w.split(" and ")[0] for w in ip.user_ns["r"].warnings if "null token" in w] == said
    with pytest.raises(SourceError, match="must be a list of strings"):
        ws.load(path, table="never", null_tokens="NA")


def test_errors_fail_the_cell_in_one_line(ip, tmp_path) -> None:
    with pytest.raises(SourceError) as info:
        run(ip, f"%etl load {tmp_path / 'missing.csv'} --table never --database etl_magic")
    lines = info.value._render_traceback_()
    assert lines[0].startswith("SourceError: No file at") and len(lines) == 2
    with pytest.raises(BivoiceError, match="needs --table"):
        run(ip, f"%etl load {tmp_path / 'missing.csv'}")
    with pytest.raises(BivoiceError, match="exclude each other"):
        run(ip, "%etl load frame --table t --replace --append")
