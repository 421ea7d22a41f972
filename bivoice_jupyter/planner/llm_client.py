"""One OpenAI-compatible chat endpoint, asked for JSON that fits a pydantic model.

This is the only module that imports ``openai``. Every failure of the client (timeout, rate
limit, refused key, network down, invalid JSON, refusal, empty answer) leaves it as an
:class:`~bivoice_jupyter.planner.llm_errors.LLMError` whose message never holds the key, and
whose ``__cause__`` and ``__context__`` are empty: the client's exceptions keep the request,
and so the key's header, reachable.

The response format: ``json_schema`` (OpenAI, OpenRouter, vLLM, Ollama) sends the pydantic
model's JSON schema; llama.cpp's server refuses that type and takes ``json_object`` with a
``schema`` instead, which it turns into a grammar. ``auto`` tries the first and, when the
endpoint refuses the request as malformed (400/422), switches to the second for good.
"""

from __future__ import annotations

import json
import re
import time
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from .._optional import import_extra
from .llm_config import LLMSettings
from .llm_errors import (
    LLMAuthError,
    LLMEmptyAnswer,
    LLMError,
    LLMInvalidResponse,
    LLMRateLimited,
    LLMRefused,
    LLMRequestError,
    LLMTimeout,
    LLMUnavailable,
)

M = TypeVar("M", bound=BaseModel)

BACKOFF_BASE_S = 1.0  # first wait after a 429 without Retry-After; doubles each time
BACKOFF_MAX_S = 30.0  # no single wait is longer, whatever Retry-After says
RETRIED_STATUS = (429, 503, 529)
KEPT_EXCHANGES = 20


@dataclass
class Usage:
    """What the calls so far cost: tokens as the provider counted them, seconds waited."""

    model: str = ""
    tokens_in: int = 0
    tokens_out: int = 0
    latency_s: float = 0.0
    calls: int = 0
    retries: int = 0

    def since(self, before: Usage) -> Usage:
        return Usage(self.model, self.tokens_in - before.tokens_in, self.tokens_out - before.tokens_out,
                     self.latency_s - before.latency_s, self.calls - before.calls, self.retries - before.retries)

    def copy(self) -> Usage:
        return Usage(self.model, self.tokens_in, self.tokens_out, self.latency_s, self.calls, self.retries)


@dataclass(frozen=True)
class Exchange:
    """One request and its reply, kept for checking what the model was told (no key in it)."""

    name: str
    messages: tuple[dict[str, str], ...]
    response_format: str
    reply: str | None
    error: str | None = None
    finish_reason: str | None = None
    tokens: tuple[int, int] = (0, 0)
    seconds: float = 0.0


@dataclass
class ChatClient:
    """Chat completions against ``settings``' endpoint. ``usage`` adds up every call;
    ``exchanges`` keeps the last few requests and replies."""

    settings: LLMSettings
    usage: Usage = field(default_factory=Usage)
    exchanges: deque = field(default_factory=lambda: deque(maxlen=KEPT_EXCHANGES))
    sleep: Any = time.sleep  # seconds -> None; replaced in tests to keep backoff quick
    _client: Any = field(default=None, repr=False)
    _format: str | None = field(default=None, repr=False)
    # sampling parameters the endpoint refused (reasoning models refuse temperature and want
    # max_completion_tokens): left out of later requests
    _adapted: dict[str, Any] = field(default_factory=dict, repr=False)

    def __repr__(self) -> str:
        return f"ChatClient({self.settings!r}, calls={self.usage.calls})"

    @property
    def response_format(self) -> str:
        """The response format in use: ``json_schema``, ``json_object`` (``auto`` after a refusal) or ``none``."""
        return self._format or ("json_schema" if self.settings.response_format == "auto" else self.settings.response_format)

    def _openai_client(self) -> Any:
        if self._client is None:
            openai = import_extra("openai", "llm")
            key = self.settings.api_key.reveal() if self.settings.api_key is not None else None
            self._client = openai.OpenAI(
                api_key=key or "no-key",  # local servers need none; the SDK insists on a value
                base_url=self.settings.base_url or None,
                timeout=self.settings.timeout,
                max_retries=0,  # retries and backoff are ours: counted in the receipt
            )
        return self._client

    # ----------------------------------------------------------------- the one call

    def complete(self, messages: list[dict[str, str]], schema: type[M], *, name: str,
                 max_tokens: int | None = None, require: Mapping[str, Iterable[str]] | None = None) -> M:
        """Ask for JSON that fits ``schema``; return it validated.

        ``require`` names fields the model must write although the schema gives them a default
        (``{"Measure": ["column"]}``: write the column, or null); small models leave them out.

        Raises an :class:`LLMError` (never a client exception): :class:`LLMInvalidResponse` for
        a reply that is not JSON or does not fit (its ``errors`` lists pydantic's complaints).
        """
        text = self._chat(messages, schema, name=name, max_tokens=max_tokens or self.settings.max_tokens,
                          require=require)
        return parse_json(text, schema)

    def _chat(self, messages: list[dict[str, str]], schema: type[BaseModel], *, name: str, max_tokens: int,
              require: Mapping[str, Iterable[str]] | None = None) -> str:
        openai = import_extra("openai", "llm")
        client = self._openai_client()
        json_schema = portable_schema(schema.model_json_schema(), require)
        attempt = 0
        error: LLMError | None = None
        while True:
            params: dict[str, Any] = {"max_tokens": max_tokens, "temperature": 0, "seed": 0}
            fmt = self.response_format
            if fmt == "json_schema":
                params["response_format"] = {"type": "json_schema",
                                             "json_schema": {"name": name, "schema": json_schema, "strict": False}}
            elif fmt == "json_object":
                params["response_format"] = {"type": "json_object", "schema": json_schema}
            if self._adapted.get("max_completion_tokens"):
                params["max_completion_tokens"] = params.pop("max_tokens")
            for dropped in self._adapted.get("drop", ()):
                params.pop(dropped, None)
            started = time.perf_counter()
            retry_after: float | None = None
            switch_format = adapted = False
            try:
                resp = client.chat.completions.create(
                    model=self.settings.model, messages=messages, **params)
            except openai.APITimeoutError:
                error = LLMTimeout(f"The model did not answer within {self.settings.timeout:g} s.")
            except openai.APIConnectionError as exc:
                error = LLMUnavailable(f"Cannot reach the LLM endpoint {self.settings.display_base_url}: "
                                       f"{self._scrub(_root_cause(exc))}.")
            except openai.APIStatusError as exc:
                status = exc.status_code
                detail = self._scrub(_error_detail(exc))
                if status in RETRIED_STATUS:
                    retry_after = _retry_after(exc)
                    tries = f"{attempt + 1} tr{'ies' if attempt else 'y'}"
                    error = LLMRateLimited(f"The provider answered {status} ({detail}) to every try ({tries}).",
                                           status=status)
                elif status in (401, 403):
                    error = LLMAuthError(f"The provider refused the key ({status}): {detail}.", status=status)
                elif (status in (400, 422, 500) and fmt == "json_schema" and self.settings.response_format == "auto"
                      and self._format is None and ("response_format" in detail or "json_schema" in detail)):
                    # llama-cpp-python's server answers 500 with its validation error here
                    switch_format = True
                    error = None
                elif status in (400, 422) and self._adapt(detail, params):
                    adapted = True
                    error = None
                else:
                    error = LLMRequestError(f"The provider refused the request ({status}): {detail}.", status=status)
            except openai.OpenAIError as exc:  # anything else the SDK raises
                error = LLMRequestError(f"The LLM client failed: {self._scrub(str(exc))[:300]}.")
            else:
                seconds = time.perf_counter() - started
                return self._reply(resp, messages, name, fmt, seconds, max_tokens)
            seconds = time.perf_counter() - started
            self.usage.latency_s += seconds
            self.usage.calls += 1
            self.exchanges.append(Exchange(name, tuple(messages), fmt, None, seconds=seconds,
                                           error=str(error) if error else "request adapted to the endpoint"))
            if switch_format:
                self._format = "json_object"
                continue
            if adapted:
                continue
            assert error is not None
            if isinstance(error, LLMRateLimited) and attempt < self.settings.retries:
                wait = retry_after if retry_after is not None else BACKOFF_BASE_S * 2**attempt
                self.sleep(min(max(wait, 0.0), BACKOFF_MAX_S))
                attempt += 1
                self.usage.retries += 1
                continue
            break
        # raised here, outside every except block, so the client's exception (which holds the
        # request and its Authorization header) is neither the cause nor the context
        raise error

    def _adapt(self, detail: str, params: dict[str, Any]) -> bool:
        """Leave out (or rename) a sampling parameter the endpoint refused; False if none."""
        text = detail.lower()
        if "max_tokens" in params and "max_tokens" in text and "max_completion_tokens" in text:
            self._adapted["max_completion_tokens"] = True
            return True
        for name in ("temperature", "seed"):
            if name in params and name in text and name not in self._adapted.get("drop", ()):
                self._adapted.setdefault("drop", []).append(name)
                return True
        return False

    def _reply(self, resp: Any, messages: list[dict[str, str]], name: str, fmt: str, seconds: float,
               max_tokens: int) -> str:
        usage = getattr(resp, "usage", None)
        tokens_in = int(getattr(usage, "prompt_tokens", 0) or 0)
        tokens_out = int(getattr(usage, "completion_tokens", 0) or 0)
        self.usage.tokens_in += tokens_in
        self.usage.tokens_out += tokens_out
        self.usage.latency_s += seconds
        self.usage.calls += 1
        self.usage.model = str(getattr(resp, "model", "") or self.settings.model or "")
        choices = getattr(resp, "choices", None) or []
        if not choices:
            self.exchanges.append(Exchange(name, tuple(messages), fmt, None, "no choices", None, (tokens_in, tokens_out), seconds))
            raise LLMEmptyAnswer("The model answered with no message at all.")
        choice = choices[0]
        message = choice.message
        content = message.content
        finish = getattr(choice, "finish_reason", None)
        refusal = getattr(message, "refusal", None)
        self.exchanges.append(Exchange(name, tuple(messages), fmt, content, None, finish, (tokens_in, tokens_out), seconds))
        if refusal:
            raise LLMRefused(f"The model refused: {self._scrub(str(refusal))[:300]}")
        if finish == "content_filter":
            raise LLMRefused("The provider's content filter stopped the answer.")
        if content is None or not str(content).strip():
            raise LLMEmptyAnswer("The model answered with an empty message.")
        if finish == "length":
            # cut at max_tokens: the JSON is very likely unfinished; parse_json says so if it is
            content = str(content)
            try:
                json.loads(_strip_fences(content), strict=False)
            except ValueError:
                raise LLMInvalidResponse(
                    f"The model's answer was cut at {max_tokens} tokens before its JSON ended.",
                    hint="raise BIVOICE_LLM_MAX_TOKENS",
                ) from None
        return str(content)

    def _scrub(self, text: str) -> str:
        for secret in self.settings.secrets():
            text = text.replace(secret, "********")
        # providers echo keys back partly masked ("sk-abc***xyz"); show none of it
        return re.sub(r"\b(sk|rk|or|gsk|key)-[A-Za-z0-9_\-*]{6,}", r"\1-********", text)


_SCALAR = [{"type": "string"}, {"type": "number"}, {"type": "boolean"}, {"type": "null"}]
_ANY_VALUE = {"anyOf": [*_SCALAR, {"type": "array", "items": {"anyOf": _SCALAR[:2]}}]}
_SHAPE_KEYS = {"type", "$ref", "anyOf", "oneOf", "allOf", "enum", "const", "properties", "items", "prefixItems"}


def portable_schema(schema: Any, require: Mapping[str, Iterable[str]] | None = None) -> Any:
    """``schema`` with every "any value" (pydantic's ``Any``: a schema without a type) spelled
    out as a scalar or a list of scalars. llama.cpp's server turns a schema into a grammar, but
    silently falls back to *any* JSON when it meets a schema it cannot read, such as ``{}``.
    ``require`` adds fields to a definition's (or the top's, under ``""``) required list."""
    out = _portable(schema)
    for name, fields in (require or {}).items():
        target = out if name == "" else out.get("$defs", {}).get(name)
        if isinstance(target, dict):
            target["required"] = list(dict.fromkeys([*target.get("required", []), *fields]))
    return out


def _portable(schema: Any) -> Any:
    if isinstance(schema, list):
        return [_portable(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _portable(v) if k not in ("default", "examples", "const", "enum") else v for k, v in schema.items()}
    for key in ("properties", "$defs"):
        if isinstance(schema.get(key), dict):
            out[key] = {name: _any_if_untyped(_portable(sub)) for name, sub in schema[key].items()}
    if isinstance(schema.get("items"), dict):
        out["items"] = _any_if_untyped(out["items"])
    return out


def _any_if_untyped(sub: Any) -> Any:
    if isinstance(sub, dict) and not (_SHAPE_KEYS & sub.keys()):
        return {**{k: v for k, v in sub.items() if k in ("title", "description")}, **_ANY_VALUE}
    return sub


def _strip_fences(text: str) -> str:
    t = text.strip()
    m = re.fullmatch(r"```(?:json)?\s*(.*?)\s*```", t, flags=re.S)
    return m.group(1) if m else t


def parse_json(text: str, schema: type[M]) -> M:
    """``text`` as JSON validated against ``schema``, or :class:`LLMInvalidResponse`."""
    body = _strip_fences(text)
    try:
        # strict=False: a raw newline inside a string (some grammars let one through) is kept
        data = json.loads(body, strict=False)
    except ValueError as exc:
        err = LLMInvalidResponse(f"The model's answer is not valid JSON ({exc.msg} at character {exc.pos}).")
        err.errors = [f"not JSON: {exc.msg}"]  # type: ignore[attr-defined]
        err.reply = text[:2000]  # type: ignore[attr-defined]
        raise err from None
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        problems = [f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in exc.errors()[:8]]
        err = LLMInvalidResponse(f"The model's JSON does not fit the {schema.__name__} schema: " + "; ".join(problems))
        err.errors = problems  # type: ignore[attr-defined]
        err.reply = text[:2000]  # type: ignore[attr-defined]
        raise err from None


def _root_cause(exc: BaseException) -> str:
    seen = exc
    while seen.__cause__ is not None and seen.__cause__ is not seen:
        seen = seen.__cause__
    text = str(seen) or type(seen).__name__
    return text.splitlines()[0][:200] if text else type(seen).__name__


def _error_detail(exc: Any) -> str:
    """The provider's error message on one line (some servers add a traceback)."""
    return re.sub(r"\s+", " ", _error_text(exc)).strip()[:300]


def _error_text(exc: Any) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])[:2000]
        if isinstance(inner, str):
            return inner[:2000]
        if body.get("detail"):
            return json.dumps(body["detail"])[:2000]
    return (getattr(exc, "message", None) or str(exc))[:2000]


def _retry_after(exc: Any) -> float | None:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None) or {}
    for name in ("retry-after-ms", "retry-after"):
        raw = headers.get(name)
        if raw is None:
            continue
        try:
            value = float(raw)
        except ValueError:
            continue
        return value / 1000 if name.endswith("-ms") else value
    return None
