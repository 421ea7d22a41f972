"""Settings of the LLM planner: which OpenAI-compatible endpoint, which model, which key.

Any OpenAI-compatible endpoint works: OpenAI, OpenRouter, vLLM, Ollama, a llama.cpp server.
Each setting is read from the environment, else from a ``.env`` file (``BIVOICE_ENV_FILE``, or
the first ``.env`` in the working folder or above it). The file is read, never loaded into
``os.environ``, so the key does not leak into child processes.

``BIVOICE_LLM_BASE_URL``
    The endpoint, e.g. ``http://127.0.0.1:8080/v1`` (else ``OPENAI_BASE_URL``, else OpenAI's).
``BIVOICE_LLM_MODEL``
    The model name as the endpoint knows it (else ``OPENAI_MODEL``). Required.
``BIVOICE_LLM_API_KEY``
    The key (else ``OPENAI_API_KEY``, or ``OPENROUTER_API_KEY`` for openrouter.ai). Local
    servers need none. Put it in the environment or ``.env``: a key typed into a notebook cell
    (or ``%env``) is saved with the notebook.
``BIVOICE_LLM_TIMEOUT``
    Seconds one request may take (default 60).
``BIVOICE_LLM_RETRIES``
    Retries after a rate limit (429) or an overloaded server (503), with backoff (default 3).
``BIVOICE_LLM_CONTEXT_TOKENS``
    Token budget of the schema context sent with each question (default 1000).
``BIVOICE_LLM_RESPONSE_FORMAT``
    ``auto`` (default: ``json_schema``, then ``json_object`` with the schema if the endpoint
    refuses it, as llama.cpp's server does), ``json_schema``, ``json_object``, or ``none`` for
    an endpoint that takes no response format (the prompt alone asks for JSON; the reply is
    still validated, and repaired when it does not fit).
``BIVOICE_LLM_MAX_TOKENS``
    Most tokens the model may write per request (default 600).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from ..errors import ConfigError
from .llm_errors import LLMNotConfigured

RESPONSE_FORMATS = ("auto", "json_schema", "json_object", "none")


class Secret:
    """A key that never shows: its repr and str are masked; ``reveal()`` gives the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __copy__(self) -> Secret:
        return self

    def __deepcopy__(self, memo: dict) -> Secret:
        return self

    def __reduce__(self) -> Any:  # a key is never pickled into a cache, a checkpoint or a file
        raise TypeError("a Secret cannot be pickled")


@dataclass(frozen=True)
class LLMSettings:
    """One endpoint and model. ``timeout`` is in seconds, ``context_tokens`` and ``max_tokens``
    in tokens. ``api_key`` is a :class:`Secret`: its repr is masked."""

    model: str | None = None
    base_url: str | None = None
    api_key: Secret | None = field(default=None, repr=False)
    timeout: float = 60.0
    retries: int = 3
    context_tokens: int = 1000
    response_format: str = "auto"
    max_tokens: int = 600
    source: str = field(default="arguments", compare=False)

    def __post_init__(self) -> None:
        if isinstance(self.api_key, str):  # accept a plain string, keep it masked from here on
            object.__setattr__(self, "api_key", Secret(self.api_key) if self.api_key else None)
        if self.response_format not in RESPONSE_FORMATS:
            raise ConfigError(
                f"BIVOICE_LLM_RESPONSE_FORMAT must be one of {', '.join(RESPONSE_FORMATS)}, not {self.response_format!r}."
            )
        for name in ("timeout", "context_tokens", "max_tokens"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise ConfigError(f"LLM setting {name} must be a positive number, got {value!r}.")
        if isinstance(self.retries, bool) or not isinstance(self.retries, int) or self.retries < 0:
            raise ConfigError(f"LLM setting retries must be a whole number >= 0, got {self.retries!r}.")
        if self.base_url:
            u = urlparse(self.base_url)
            if u.scheme not in ("http", "https") or not u.hostname:
                raise ConfigError(
                    f"BIVOICE_LLM_BASE_URL {display_url(self.base_url)!r} is not an http(s) URL.",
                    hint="write it like http://127.0.0.1:8080/v1 or https://openrouter.ai/api/v1",
                )

    def __repr__(self) -> str:
        key = "set" if self.api_key is not None else "none"
        return (f"LLMSettings(model={self.model!r}, base_url={display_url(self.base_url)!r}, api_key={key}, "
                f"timeout={self.timeout!r}, source={self.source!r})")

    @property
    def configured(self) -> bool:
        return bool(self.model)

    def require(self) -> LLMSettings:
        """These settings, or :class:`LLMNotConfigured` when no model is named."""
        if not self.model:
            raise LLMNotConfigured("No LLM is configured for the llm planner.")
        return self

    @property
    def display_base_url(self) -> str:
        """The endpoint without any credentials in it, safe to print."""
        return display_url(self.base_url) or "https://api.openai.com/v1"

    def secrets(self) -> tuple[str, ...]:
        """Every secret string these settings hold (to scrub from messages)."""
        out = []
        if self.api_key is not None and self.api_key.reveal():
            out.append(self.api_key.reveal())
        if self.base_url:
            u = urlparse(self.base_url)
            if u.password:
                out.append(u.password)
        return tuple(out)

    @classmethod
    def load(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> LLMSettings:
        """Settings from ``env`` (default ``os.environ``), then the ``.env`` file, then
        ``overrides`` (keyword arguments named like the fields; None ones are ignored)."""
        environ = dict(os.environ if env is None else env)
        path = env_file(environ)
        dotenv = read_env_file(path) if path is not None else {}

        def get(*names: str) -> str | None:
            for name in names:
                value = environ.get(name)
                if value:
                    return value
            for name in names:
                value = dotenv.get(name)
                if value:
                    return value
            return None

        base_url = get("BIVOICE_LLM_BASE_URL", "OPENAI_BASE_URL")
        key_names = ["BIVOICE_LLM_API_KEY", "OPENAI_API_KEY"]
        if base_url and "openrouter.ai" in base_url:
            key_names.insert(1, "OPENROUTER_API_KEY")
        values: dict[str, Any] = {
            "model": get("BIVOICE_LLM_MODEL", "OPENAI_MODEL"),
            "base_url": base_url,
            "api_key": get(*key_names),
            "timeout": _number(get("BIVOICE_LLM_TIMEOUT"), "BIVOICE_LLM_TIMEOUT", float, 60.0),
            "retries": _number(get("BIVOICE_LLM_RETRIES"), "BIVOICE_LLM_RETRIES", int, 3),
            "context_tokens": _number(get("BIVOICE_LLM_CONTEXT_TOKENS"), "BIVOICE_LLM_CONTEXT_TOKENS", int, 1000),
            "response_format": get("BIVOICE_LLM_RESPONSE_FORMAT") or "auto",
            "max_tokens": _number(get("BIVOICE_LLM_MAX_TOKENS"), "BIVOICE_LLM_MAX_TOKENS", int, 600),
            "source": f"environment and {path}" if path is not None else "environment",
        }
        names = {f.name for f in fields(cls)}
        unknown = set(overrides) - names
        if unknown:
            raise ConfigError(f"Unknown LLM setting(s): {', '.join(sorted(unknown))}.")
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def but(self, **changes: Any) -> LLMSettings:
        """A copy with some settings changed."""
        return replace(self, **changes)


def _number(raw: str | None, name: str, kind: type, default: float) -> Any:
    if raw is None or raw.strip() == "":
        return default
    try:
        return kind(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}.") from None


def display_url(url: str | None) -> str | None:
    """``url`` without user and password, safe to print."""
    if not url:
        return url
    u = urlparse(url)
    if not (u.username or u.password):
        return url
    netloc = (u.hostname or "") + (f":{u.port}" if u.port else "")
    return u._replace(netloc=netloc).geturl()


def env_file(environ: Mapping[str, str]) -> Path | None:
    """``BIVOICE_ENV_FILE``, else the nearest ``.env`` in the working folder or above it."""
    explicit = environ.get("BIVOICE_ENV_FILE")
    if explicit:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise ConfigError(f"BIVOICE_ENV_FILE names {path}, which is not a file.")
        return path
    here = Path.cwd()
    for folder in (here, *here.parents):
        candidate = folder / ".env"
        if candidate.is_file():
            return candidate
    return None


_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$")


def read_env_file(path: Path) -> dict[str, str]:
    """``NAME=value`` lines of a .env file (``export``, quotes and ``#`` comments allowed)."""
    out: dict[str, str] = {}
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"Cannot read {path}: {exc.strerror}.") from None
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = _LINE.match(line)
        if not m:
            continue
        name, value = m.group(1), m.group(2)
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        else:
            value = re.split(r"\s+#", value, maxsplit=1)[0].strip()
        out[name] = value
    return out
