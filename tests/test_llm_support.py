"""Helpers shared by the LLM planner's tests (test_llm*.py); it holds no tests itself.

``require_module`` skips a test whose library (of the ``llm`` extra, or the test model) is
missing, and fails it under CI=true, so CI never passes by skipping.
"""

from __future__ import annotations

import importlib.util
import os

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require_module(name: str) -> None:
    """Skip (or, under CI, fail) when module ``name`` is not installed."""
    if importlib.util.find_spec(name) is None:
        message = f"{name} is not installed (make test installs it)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
