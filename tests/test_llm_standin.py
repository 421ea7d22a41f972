"""The LLM planner against a stand-in OpenAI-compatible server, for what the real local server
(llama.cpp with SmolLM2, in test_llm.py) cannot do on this machine: answer 429 with Retry-After,
refuse through the ``refusal`` field or a content filter, answer an empty message, echo a key back
in a 401, fail with a 500, or refuse the parameters that OpenAI's reasoning models refuse.

The stand-in is a tiny HTTP server on 127.0.0.1 speaking the OpenAI chat-completions wire format;
the planner reaches it through the real ``openai`` client, exactly as it reaches a provider.
Every test here that talks to it says ``stand_in`` in its name. The real model's tests are in
test_llm.py.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from test_llm_support import require_module

pytestmark = pytest.mark.llm

KEY = "sk-standin-0123456789abcdef"

Reply = tuple[int, dict[str, str], dict[str, Any]]


def completion(content: str | None, *, refusal: str | None = None, finish: str = "stop", model: str = "stand-in") -> Reply:
    """A 200 chat.completion body, as OpenAI sends it."""
    return 200, {}, {
        "id": "chatcmpl-standin", "object": "chat.completion", "created": int(time.time()), "model": model,
        "choices": [{"index": 0, "finish_reason": finish,
                     "message": {"role": "assistant", "content": content, "refusal": refusal}}],
        "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18},
    }


def error(status: int, message: str, code: str, headers: dict[str, str] | None = None) -> Reply:
    """An error body, as OpenAI sends it."""
    return status, headers or {}, {"error": {"message": message, "type": "invalid_request_error", "param": None, "code": code}}


class StandIn:
    """Answers each POST /v1/chat/completions with the next scripted reply (a function of the
    request's JSON and headers), and records the requests."""

    def __init__(self) -> None:
        self.script: list[Callable[[dict[str, Any], dict[str, str]], Reply]] = []
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
                headers = {k.lower(): v for k, v in self.headers.items()}
                owner.requests.append(body)
                owner.headers.append(headers)
                step = owner.script.pop(0) if owner.script else (lambda b, h: error(500, "script ran out", "server_error"))
                status, extra, payload = step(body, headers)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                for k, v in extra.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def then(self, *replies: Reply | Callable[[dict[str, Any], dict[str, str]], Reply]) -> StandIn:
        for r in replies:
            self.script.append(r if callable(r) else (lambda b, h, r=r: r))
        return self

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def stand_in():
    require_module("openai")
    require_module("langgraph")
    server = StandIn()
    yield server
    server.close()


@pytest.fixture
def settings(stand_in: StandIn):
    from bivoice_jupyter.planner.llm_config import LLMSettings

    return LLMSettings(model="stand-in", base_url=stand_in.base_url, api_key=KEY, timeout=10, retries=3)


@pytest.fixture
def planner(ws, settings):
    from bivoice_jupyter.planner.llm import LLMPlanner

    p = LLMPlanner(lambda: ws.catalog, settings=settings)
    p.client.sleep = SLEEPS.append  # backoff waits are recorded, not slept
    SLEEPS.clear()
    return p


SLEEPS: list[float] = []


def ask(ws, planner, question: str, **kwargs: Any):
    from bivoice_jupyter.pipeline import run_sql

    def execute(sql: str, intent: Any):
        return run_sql(sql, question=question, conn=ws._conn, policy=ws.policy(), intent=intent)

    return planner.answer(question, execute=execute, policy=ws.policy(), **kwargs)


ROUTE = completion('{"kind": "analytic"}')
PLAN = completion(json.dumps({"intent": {"table": "sales", "measures": [{"agg": "sum", "column": "revenue"}],
                                         "dimensions": ["region"]}, "needs_sql": False}))


# --------------------------------------------------------------------------- rate limits


def test_stand_in_rate_limit_backs_off_and_retries(ws, planner, stand_in: StandIn) -> None:
    limited = error(429, "Rate limit reached for requests", "rate_limit_exceeded")
    stand_in.then(limited, error(429, "Rate limit reached", "rate_limit_exceeded", {"retry-after": "0.25"}), ROUTE, PLAN)
    ans = ask(ws, planner, "revenue by region")
    assert ans.planner == "llm" and ans.df is not None and len(ans.df) == 4
    assert ans.receipt.retries == 2 and ans.receipt.calls == 4
    # no Retry-After: exponential backoff from 1 s; with one: what the provider asked for
    assert SLEEPS == [1.0, 0.25]


def test_stand_in_rate_limit_that_never_lifts_is_an_llm_error(ws, planner, stand_in: StandIn) -> None:
    from bivoice_jupyter.planner.llm_errors import LLMRateLimited

    stand_in.then(*[error(429, "Rate limit reached", "rate_limit_exceeded", {"retry-after-ms": "10"})] * 4)
    with pytest.raises(LLMRateLimited, match="429") as info:
        ask(ws, planner, "revenue by region")
    assert len(stand_in.requests) == 4  # the first try and 3 retries
    assert SLEEPS == [0.01, 0.01, 0.01]
    assert info.value.__cause__ is None and info.value.__context__ is None


# --------------------------------------------------------------------------- the key


def test_stand_in_key_is_sent_but_never_shown(ws, planner, stand_in: StandIn, tmp_path) -> None:
    from bivoice_jupyter import history
    from bivoice_jupyter.planner.llm_errors import LLMAuthError

    # a provider that echoes the key it was sent back in its 401 message, as some do
    def echo(body: dict[str, Any], headers: dict[str, str]) -> Reply:
        return error(401, f"Incorrect API key provided: {headers['authorization'].split()[-1]}.", "invalid_api_key")

    stand_in.then(echo)
    with pytest.raises(LLMAuthError) as info:
        ask(ws, planner, "revenue by region")
    assert stand_in.headers[0]["authorization"] == f"Bearer {KEY}"
    err = info.value
    shown = [str(err), repr(err), "\n".join(err._render_traceback_()), repr(planner), repr(planner.settings()),
             repr(planner.client), repr(planner.exchanges)]
    assert all(KEY not in s and KEY[3:] not in s for s in shown)
    # the client's exception holds the request (and so the Authorization header): it is not kept
    assert err.__cause__ is None and err.__context__ is None

    stand_in.then(ROUTE, PLAN)
    ans = ask(ws, planner, "revenue by region")
    ws._remember(ans)
    text = repr(ans) + ans.details_html() + repr(ans.receipt) + history.history_path().read_text()
    assert KEY not in text


# --------------------------------------------------------------------------- unusable answers


def test_stand_in_refusal_is_an_llm_error(ws, planner, stand_in: StandIn) -> None:
    from bivoice_jupyter.planner.llm_errors import LLMRefused

    stand_in.then(ROUTE, completion(None, refusal="I can't help with that."))
    with pytest.raises(LLMRefused, match="can't help"):
        ask(ws, planner, "revenue by region")


def test_stand_in_content_filter_is_a_refusal(ws, planner, stand_in: StandIn) -> None:
    from bivoice_jupyter.planner.llm_errors import LLMRefused

    stand_in.then(completion("", finish="content_filter"))
    with pytest.raises(LLMRefused, match="content filter"):
        ask(ws, planner, "revenue by region")


def test_stand_in_empty_answer_is_an_llm_error(ws, planner, stand_in: StandIn) -> None:
    from bivoice_jupyter.planner.llm_errors import LLMEmptyAnswer

    stand_in.then(completion("   "))
    with pytest.raises(LLMEmptyAnswer):
        ask(ws, planner, "revenue by region")


def test_stand_in_server_error_is_an_llm_error(ws, planner, stand_in: StandIn) -> None:
    from bivoice_jupyter.planner.llm_errors import LLMRequestError

    stand_in.then(error(500, "The server had an error while processing your request.", "server_error"))
    with pytest.raises(LLMRequestError, match="500"):
        ask(ws, planner, "revenue by region")


def test_stand_in_reasoning_model_parameters_are_adapted(ws, planner, stand_in: StandIn) -> None:
    # OpenAI's reasoning models refuse max_tokens and a temperature of 0, with these messages
    stand_in.then(
        error(400, "Unsupported parameter: 'max_tokens' is not supported with this model. "
                   "Use 'max_completion_tokens' instead.", "unsupported_parameter"),
        error(400, "Unsupported value: 'temperature' does not support 0 with this model. "
                   "Only the default (1) value is supported.", "unsupported_value"),
        ROUTE, PLAN)
    ans = ask(ws, planner, "revenue by region")
    assert ans.df is not None
    first, second, third, fourth = stand_in.requests
    assert "max_tokens" in first and "max_completion_tokens" not in first
    assert "max_completion_tokens" in second and second["temperature"] == 0
    assert "temperature" not in third and "temperature" not in fourth and "max_tokens" not in fourth


# --------------------------------------------------------------------------- auto falls back


def test_stand_in_auto_falls_back_to_offline_when_the_model_fails(ws, settings, stand_in: StandIn, monkeypatch) -> None:
    from bivoice_jupyter.errors import UnmatchedTerm

    monkeypatch.setattr(ws, "llm", settings)
    stand_in.then(completion(None, refusal="no"))
    with pytest.raises(UnmatchedTerm) as info:
        ws.ask("total revenue by flavour", planner="auto")
    assert "flavour" in str(info.value)
    assert "LLMRefused" in info.value.hint  # says why the LLM did not answer instead


