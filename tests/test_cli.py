"""The `bivoice` command, in its own process (so its own chDB folder)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def bivoice(home, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "BIVOICE_HOME": str(home)}
    return subprocess.run([sys.executable, "-m", "bivoice_jupyter.cli", *args], capture_output=True, text=True, env=env, timeout=120)


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    home = tmp_path_factory.mktemp("cli-home")
    result = bivoice(home, "demo-data", "--orders", "2000")
    assert result.returncode == 0, result.stderr
    assert "loaded 2,000 rows" in result.stdout
    return home


def test_ask_prints_sql_and_rows(home) -> None:
    result = bivoice(home, "ask", "total", "revenue", "by", "region")
    assert result.returncode == 0, result.stderr
    assert "SQL:    SELECT" in result.stdout and "Europe" in result.stdout


def test_error_is_one_line_and_exit_2(home) -> None:
    result = bivoice(home, "ask", "average", "profit", "by", "region")
    assert result.returncode == 2
    assert result.stderr.startswith("error: I could not match 'profit'")
    assert "Traceback" not in result.stderr


@pytest.mark.speech
def test_ask_audio(home, speak) -> None:
    result = bivoice(home, "ask", "--audio", str(speak("what was the total revenue by region")))
    assert result.returncode == 0, result.stderr
    assert "heard:" in result.stdout and "revenue" in result.stdout.lower()
