"""The NL-to-SQL dev set (tests/fixtures/planner/dev/): every case scored by execution.

The dev tables load into their own database beside the demo table, so every question also
chooses its table among several. ``bench/nl2sql.py`` scores the same cases per category and
times the planner; here each case is a test. A case known to fail carries ``-- known: reason``
and is a strict expected failure.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

DEV = Path(__file__).parent / "fixtures" / "planner" / "dev"


def _devset():
    spec = importlib.util.spec_from_file_location("nl2sql_devset", DEV / "devset.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("nl2sql_devset", module)
    spec.loader.exec_module(module)
    return module


devset = _devset()
CASES = devset.all_cases()


@pytest.fixture(scope="module")
def dev_ws(ws):
    """A workspace on the session's chDB folder whose database holds the dev tables."""
    from bivoice_jupyter import Workspace

    workspace = Workspace(database=devset.DATABASE)
    devset.load_tables(workspace)
    return workspace


def _param(case):
    marks = [pytest.mark.xfail(reason=case.known, strict=True)] if case.known else []
    return pytest.param(case, id=case.id, marks=marks)


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_dev_case(dev_ws, case) -> None:
    outcome = devset.run_case(dev_ws, case)
    assert outcome.ok, f"{case.q!r}: {outcome.reason}"


def test_dev_set_is_well_formed() -> None:
    assert len(CASES) >= 200
    assert len({c.id for c in CASES}) == len(CASES)
    tables = {t for c in CASES for t in ("sales", "staff", "tickets", "harvest") if f" {t}" in c.sql}
    assert len(tables) >= 3
    for c in CASES:
        assert c.q and c.category, c.id
        assert c.sql.strip() or c.reply or c.error or c.clarify, c.id


def test_clarification_is_answered_by_a_candidate(dev_ws) -> None:
    """Asked back which table, the user names one and the original question is answered."""
    dev_ws.planner.session.forget()
    first = dev_ws.ask("how many regions are there")
    assert first.sql is None and "harvest" in first.text and "%" in first.text
    answer = dev_ws.ask("harvest")
    gold = dev_ws.sql("SELECT uniqExact(region) FROM harvest")
    assert answer.df.iloc[0, 0] == gold.iloc[0, 0]


def test_a_full_question_after_another_is_not_a_follow_up(dev_ws) -> None:
    dev_ws.planner.session.forget()
    dev_ws.ask("average salary by department")
    answer = dev_ws.ask("total revenue by region")
    assert answer.intent.table == "sales" and answer.intent.dimensions == ["region"] and not answer.intent.filters
