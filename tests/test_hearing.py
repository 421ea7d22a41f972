"""Choosing which reading of a spoken question to answer (bivoice_jupyter.planner.hearing).

The readings are Transcripts built by hand where the point is the choice, and real tiny.en
recognitions of espeak-ng speech where the point is the whole path; the planner is the real
offline planner over the demo ``sales`` table.
"""

from __future__ import annotations

import pytest

from bivoice_jupyter.models import Transcript
from bivoice_jupyter.planner.hearing import REFUSED, choose, read
from bivoice_jupyter.speech.whisper import collapse_repeat


def heard(text: str, *alternatives: str) -> Transcript:
    return Transcript(text, "en", 2.0, 0.2, "tiny.en", "cpu", "int8", alternatives=alternatives)


def test_a_clean_first_reading_is_answered_as_heard(ws):
    t = heard("total revenue by region", "total revenue my region", "total revenue I region")
    assert choose(t, ws.planner) is t


def test_a_later_reading_that_fits_the_tables_wins_and_the_first_is_kept(ws):
    t = heard("Number of orders, I region.", "Number of orders by region.")
    chosen = choose(t, ws.planner)
    assert chosen.text == "Number of orders by region."
    assert chosen.first_heard == "Number of orders, I region."
    assert "Number of orders, I region." in chosen.alternatives
    intent = ws.planner.plan(chosen.text)
    assert intent.dimensions == ["region"]


@pytest.mark.parametrize(
    ("spoken", "dimension", "agg", "column"),
    [
        ("average discount my region", "region", "avg", "discount"),  # "by" heard as "my"
        ("Medium quantity by product.", "product", "median", "quantity"),  # "median" heard as "medium"
        ("Medium, quantity my product.", "product", "median", "quantity"),  # both at once
    ],
)
def test_one_or_two_misheard_words_are_put_right(ws, spoken, dimension, agg, column):
    chosen = choose(heard(spoken), ws.planner)
    assert chosen.first_heard == spoken
    intent = ws.planner.plan(chosen.text)
    assert intent.dimensions == [dimension]
    assert (intent.measures[0].agg, intent.measures[0].column) == (agg, column)


def test_a_word_is_not_cut_back_to_a_column_word_it_starts_with(ws):
    """tiny.en hears "quarterly" as "Orderly"; "order" (of order_date) is the closest spelling,
    but what was heard after it was said: no silent "order revenue by region". The first reading
    stays, and its answer says which word it ignored."""
    t = heard("Orderly revenue by region.")
    assert choose(t, ws.planner) is t
    assert "ignored 'orderly' beside revenue" in ws.planner.plan(t.text).notes


def test_free_heard_for_three_after_bottom(ws):
    chosen = choose(heard("bottom free products by quantity"), ws.planner)
    assert ws.planner.plan(chosen.text).limit == 3


def test_a_reading_cut_short_loses_to_a_whole_one(ws):
    t = heard("How many orders in", "How many orders in Canada?")
    assert choose(t, ws.planner).text == "How many orders in Canada?"


def test_nothing_fits_so_the_first_reading_stays_for_the_error_to_name(ws):
    t = heard("Which category does not always travel to?", "which category does not always travel.")
    assert read(ws.planner, t.text).cost >= REFUSED
    assert choose(t, ws.planner) is t


def test_choosing_leaves_the_conversation_as_it_was(ws):
    ws.planner.session.forget()
    ws.ask("total revenue by region")
    before = ws.planner.session.last
    choose(heard("Number of orders, I region.", "now by country", "Number of orders by region."), ws.planner)
    assert ws.planner.session.last == before
    assert ws.ask("now by country").intent.dimensions == ["country"]  # the follow-up still follows the first
    ws.planner.session.forget()


def test_a_phrase_said_twice_comes_back_once():
    assert collapse_repeat("Total revenue by region. Total revenue by region.") == "Total revenue by region."
    assert collapse_repeat("revenue by region by region") == "revenue by region by region"  # halves differ
    assert collapse_repeat("sales sales") == "sales sales"  # too short to be a loop
    assert collapse_repeat("total revenue by region") == "total revenue by region"


@pytest.mark.speech
def test_spoken_by_heard_as_i_is_answered_by_region(ws, speak):
    """espeak-ng's "by" is heard as "I" by tiny.en ("Number of orders, I region." first);
    the beam's other reading, or the repair, gives the grouped answer typed text gives."""
    stages: list[str] = []
    ans = ws.ask_audio(speak("number of orders by region"), on_stage=stages.append)
    typed = ws.ask("number of orders by region")
    assert ans.intent == typed.intent.model_copy(update={"notes": ans.intent.notes})
    assert ans.df.sort_values("region").reset_index(drop=True).equals(typed.df.sort_values("region").reset_index(drop=True))
    assert stages == ["planning", "querying"]
    assert "first heard" in ans.details_html() or ans.transcript.first_heard is None


def test_stages_are_reported_for_typed_questions_too(ws):
    from bivoice_jupyter.pipeline import answer

    stages: list[str] = []
    ans = answer("total revenue by region", conn=ws._conn, policy=ws.policy(None), planner=ws.planner,
                 on_stage=stages.append)
    assert stages == ["planning", "querying"]
    assert ans.df is not None
    stages.clear()
    answer("total revenue by region", conn=ws._conn, policy=ws.policy(None), planner=ws.planner, sql_only=True,
           on_stage=stages.append)
    assert stages == ["planning"]
