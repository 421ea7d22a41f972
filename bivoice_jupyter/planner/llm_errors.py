"""The LLM planner's errors: every way a model or its provider can fail, as BivoiceErrors.

No raw client exception (openai, httpx) ever leaves the LLM planner: each is mapped to one of
these, with a message that never holds the API key. They are PlanningErrors, so code that
handles "the planner could not plan" handles them too; the ``auto`` planner falls back to the
offline planner on any :class:`LLMError`.
"""

from __future__ import annotations

from ..errors import PlanningError


class LLMError(PlanningError):
    """The model or its provider gave no usable answer. ``status`` is the HTTP status, if any."""

    hint = "check BIVOICE_LLM_BASE_URL, BIVOICE_LLM_MODEL and the provider's status"

    def __init__(self, message: str, *, hint: str | None = None, status: int | None = None) -> None:
        super().__init__(message, hint=hint)
        self.status = status


class LLMNotConfigured(LLMError):
    """No model is configured."""

    hint = "set BIVOICE_LLM_MODEL (and BIVOICE_LLM_BASE_URL, BIVOICE_LLM_API_KEY) in the environment or a .env file"


class LLMUnavailable(LLMError):
    """The endpoint cannot be reached (network down, server not running, DNS)."""

    hint = "is the server running and BIVOICE_LLM_BASE_URL right? --planner offline works without one"


class LLMTimeout(LLMError):
    """The model did not answer within the timeout (BIVOICE_LLM_TIMEOUT seconds)."""

    hint = "raise BIVOICE_LLM_TIMEOUT, or try a smaller model"


class LLMRateLimited(LLMError):
    """The provider kept answering 429 (or 503) after every retry with backoff."""

    hint = "wait a minute, or raise BIVOICE_LLM_RETRIES"


class LLMAuthError(LLMError):
    """The provider refused the key (401/403)."""

    hint = "check BIVOICE_LLM_API_KEY (in the environment or .env, never in a notebook)"


class LLMRequestError(LLMError):
    """The provider refused the request itself (unknown model, bad parameters, server error)."""


class LLMInvalidResponse(LLMError):
    """The model's reply was not valid JSON, or did not fit the schema asked for."""

    hint = "a larger model follows schemas better; --planner offline needs none"


class LLMRefused(LLMError):
    """The model refused to answer (a refusal message or a content filter)."""

    hint = "rephrase the question"


class LLMEmptyAnswer(LLMError):
    """The model answered nothing."""

    hint = "try again, or a larger model"


class LLMRepairFailed(PlanningError):
    """The model's query was still refused by the guard or by ClickHouse after every repair.

    ``failures`` describes each attempt's failure in order, ``sql`` is the last SQL tried and
    ``receipt`` what the attempts cost (a :class:`~bivoice_jupyter.models.Receipt`).
    """

    def __init__(self, message: str, *, failures: tuple[str, ...], sql: str, receipt: object, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.failures = failures
        self.sql = sql
        self.receipt = receipt
