"""The microphone in a real browser: JupyterLab 4 on 127.0.0.1, Debian's Chromium driven by
playwright-core (tests/browser/voice.mjs), Chromium's fake microphone playing a question spoken
by espeak-ng. A notebook runs ``%voice``; the test clicks Record and Stop, and checks that the
transcript and a Plotly chart appear in the page; then hold-to-talk, and a corrected transcript
asked again from the text box. Screenshots are kept in out/browser/ (voice-spoken.png after the
spoken question, voice.png at the end).

Needs Debian ``chromium``, ``node`` and ``npm ci`` in tests/browser (no browser download).
Under CI=true a missing piece fails the test instead of skipping it.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import IN_CI, require_tool

pytestmark = [pytest.mark.browser, pytest.mark.speech, pytest.mark.slow]

ROOT = Path(__file__).parents[1]
DRIVER = Path(__file__).parent / "browser"
QUESTION = "what was the total revenue by region"
SETUP = """\
%load_ext bivoice_jupyter
from bivoice_jupyter import Workspace
from bivoice_jupyter.demo import sales_frame
Workspace().load(sales_frame(), table="sales", if_exists="replace");"""


def _require_driver() -> None:
    if not (DRIVER / "node_modules" / "playwright-core").is_dir():
        message = "playwright-core is not installed: run `npm ci` in tests/browser"
        pytest.fail(message) if IN_CI else pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _notebook(cells: list[str]) -> dict:
    return {
        "type": "notebook",
        "content": {
            "nbformat": 4,
            "nbformat_minor": 5,
            "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
            "cells": [
                {"cell_type": "code", "id": f"c{i}", "metadata": {}, "source": src, "outputs": [], "execution_count": None}
                for i, src in enumerate(cells)
            ],
        },
    }


def _request(url: str, token: str, method: str = "GET", body: dict | None = None) -> bytes:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Authorization": f"token {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:  # loopback only
        return resp.read()


@pytest.fixture
def jupyterlab(tmp_path: Path):
    """A headless JupyterLab on 127.0.0.1 with its own BIVOICE_HOME; yields (base URL, token, root)."""
    jupyter = Path(sys.executable).with_name("jupyter")
    if not jupyter.exists():
        pytest.fail("jupyter is not installed in the test environment (pip install -e '.[test,lab]')")
    port, token = _free_port(), secrets.token_hex(16)
    root = tmp_path / "lab"
    root.mkdir()
    env = {**os.environ, "BIVOICE_HOME": str(tmp_path / "home"), "BIVOICE_DEVICE": "cpu"}
    env.pop("BIVOICE_DSN", None)
    log = (tmp_path / "jupyter.log").open("w")
    proc = subprocess.Popen(
        [str(jupyter), "lab", "--no-browser", "--allow-root", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
         "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
         "--LabApp.expose_app_in_browser=True", "--LabApp.news_url=None",
         "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                _request(f"{base}/api/status", token)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("JupyterLab did not start:\n" + (tmp_path / "jupyter.log").read_text()[-3000:])
                time.sleep(0.5)
        yield base, token, root
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # the server and the kernels it started, nothing else
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


def test_record_and_stop_in_jupyterlab(jupyterlab, speak, tmp_path: Path) -> None:
    chromium = require_tool("chromium")
    node = require_tool("node")
    _require_driver()
    base, token, _root = jupyterlab
    wav = speak(QUESTION)
    seconds = wav.stat().st_size / (16_000 * 2)  # 16 kHz, 16-bit mono
    _request(f"{base}/api/contents/voice.ipynb", token, "PUT", _notebook([SETUP, "%voice"]))
    out = ROOT / "out" / "browser"
    out.mkdir(parents=True, exist_ok=True)
    screenshot = out / "voice.png"
    options = {"base": base, "token": token, "notebook": "voice.ipynb", "wav": str(wav.resolve()),
               "speechSeconds": seconds, "screenshot": str(screenshot), "chromium": chromium,
               "corrected": "average unit price by category"}
    started = time.monotonic()
    proc = subprocess.run([node, str(DRIVER / "voice.mjs"), json.dumps(options)], cwd=DRIVER,
                          capture_output=True, text=True, timeout=180)
    lines = proc.stdout.strip().splitlines()
    assert lines, f"the driver printed nothing (exit {proc.returncode}):\n{proc.stderr[-3000:]}"
    result = json.loads(lines[-1])
    shutil.copy(screenshot, tmp_path / "voice.png") if screenshot.exists() else None
    report = json.dumps(result, indent=1)[:4000]
    assert result.get("secureContext") is True, report
    assert result["ok"], report
    assert "revenue" in result["transcript"].lower() and "region" in result["transcript"].lower(), report
    assert result["error"] == "", report
    assert "average unit price by category" in result["corrected"], report  # the edited transcript, re-planned
    assert result["afterHold"] in ("transcribing", "planning", "done", "error"), report  # letting go stopped it
    assert screenshot.stat().st_size > 10_000 and (out / "voice-spoken.png").stat().st_size > 10_000
    assert time.monotonic() - started < 150, report  # the whole browser part; usually 20 to 40 s
