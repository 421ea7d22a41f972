"""The magics in an in-process IPython shell whose failures re-raise."""

from __future__ import annotations

import pandas as pd
import pytest
from IPython.utils.capture import capture_output

from bivoice_jupyter.errors import BivoiceError, GuardRejected, UnmatchedTerm
from bivoice_jupyter.models import Answer, LoadReport


def run(ip, code: str):
    with capture_output() as captured:
        result = ip.run_cell(code)
    result.raise_error()
    return captured


def test_cell_magic_answers_and_displays(ip) -> None:
    captured = run(ip, "%%voice --out a\ntotal revenue by region")
    answer = ip.user_ns["a"]
    assert isinstance(answer, Answer) and len(answer.df) == 4
    bundles = [o.data for o in captured.outputs]
    assert any("application/vnd.plotly.v1+json" in b for b in bundles)  # the chart, natively
    assert any("Europe" in b.get("text/html", "") for b in bundles)  # table and details


def test_line_magic_question_and_sql_only(ip) -> None:
    run(ip, "%voice --sql-only --out s top 3 countries by revenue")
    answer = ip.user_ns["s"]
    assert answer.df is None and "LIMIT 3" in answer.sql


def test_sql_cell_is_guarded(ip) -> None:
    run(ip, "%%voice --sql --out q --chart none\nSELECT category, count() AS n FROM sales GROUP BY category")
    assert ip.user_ns["q"].figure is None and len(ip.user_ns["q"].df) == 3
    with pytest.raises(GuardRejected):
        run(ip, "%%voice --sql\nDROP TABLE sales")


def test_failed_question_fails_the_cell_with_one_line(ip) -> None:
    with pytest.raises(UnmatchedTerm) as info:
        run(ip, "%%voice\naverage profit by region")
    lines = info.value._render_traceback_()
    assert lines[0].startswith("UnmatchedTerm: I could not match 'profit'")
    assert lines[1].startswith("hint: columns are:") and len(lines) == 2


def test_no_variable_expansion_in_questions(ip) -> None:
    ip.user_ns["region"] = "SHOULD NOT APPEAR"
    run(ip, "%voice --sql-only --out e total revenue by $region")
    assert "SHOULD NOT APPEAR" not in ip.user_ns["e"].question


def test_config_limit(ip) -> None:
    run(ip, "%config VoiceMagics.limit = 3")
    try:
        run(ip, "%%voice --out m\nnumber of orders by month")
    finally:
        run(ip, "%config VoiceMagics.limit = 1000")
    assert len(ip.user_ns["m"].df) == 3


def test_bad_chart_kind(ip) -> None:
    with pytest.raises(BivoiceError, match="chart kind"):
        run(ip, "%%voice --chart pie\ntotal revenue by region")


def test_etl_load_dataframe_variable(ip) -> None:
    ip.user_ns["targets_df"] = pd.DataFrame({"region": ["Europe"], "target": [1.5]})
    run(ip, "%etl load targets_df --table magic_targets --replace --out rep")
    assert isinstance(ip.user_ns["rep"], LoadReport) and ip.user_ns["rep"].rows_loaded == 1
    with pytest.raises(BivoiceError, match="already exists"):
        run(ip, "%etl load targets_df --table magic_targets")


def test_voice_alone_shows_the_microphone(ip) -> None:
    captured = run(ip, "%voice")
    data = captured.outputs[0].data
    assert "application/vnd.jupyter.widget-view+json" in data


@pytest.mark.speech
def test_audio_option(ip, speak) -> None:
    # tiny.en hears "top five products by revenue" as "Top 5 Product Cyberadoop" (see notebooks/audio)
    path = speak("total revenue for the top five products")
    run(ip, f"%voice --audio {path} --out sp")
    answer = ip.user_ns["sp"]
    assert "product" in answer.transcript.text.lower()
    assert len(answer.df) == 5


def test_help_comes_from_magic_arguments(ip) -> None:
    from bivoice_jupyter.magics.voice import VoiceMagics

    doc = VoiceMagics.voice.__doc__
    assert "--sql-only" in doc and "--audio PATH" in doc


@pytest.mark.speech
def test_audio_from_a_variable(ip, speak) -> None:
    ip.user_ns["clip"] = speak("what was the total revenue by region").read_bytes()
    run(ip, "%voice --audio clip --out from_var")
    assert len(ip.user_ns["from_var"].df) == 4
