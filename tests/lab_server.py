"""A headless JupyterLab for the real-browser tests (test_browser.py, test_labextension.py):
the ``jupyterlab`` fixture, the notebook and REST helpers, and the playwright-core driver runner
(tests/browser). Import the fixture into a test module: ``from lab_server import jupyterlab``."""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import IN_CI

DRIVER = Path(__file__).parent / "browser"


def require_driver() -> None:
    if not (DRIVER / "node_modules" / "playwright-core").is_dir():
        message = "playwright-core is not installed: run `npm ci` in tests/browser"
        pytest.fail(message) if IN_CI else pytest.skip(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def notebook(cells: list[str]) -> dict:
    """The contents-API body of a notebook with these code cells and a Python 3 kernel."""
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


def request(url: str, token: str, method: str = "GET", body: dict | None = None) -> bytes:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Authorization": f"token {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:  # loopback only
        return resp.read()


def run_driver(node: str, script: str, options: dict, timeout: float = 180) -> dict:
    """Run a driver in tests/browser with its options as JSON; its last printed line, parsed."""
    proc = subprocess.run([node, str(DRIVER / script), json.dumps(options)], cwd=DRIVER,
                          capture_output=True, text=True, timeout=timeout)
    lines = proc.stdout.strip().splitlines()
    assert lines, f"the driver printed nothing (exit {proc.returncode}):\n{proc.stderr[-3000:]}"
    return json.loads(lines[-1])


@pytest.fixture
def jupyterlab(tmp_path: Path):
    """A headless JupyterLab on 127.0.0.1 with its own BIVOICE_HOME; yields (base URL, token, root)."""
    jupyter = Path(sys.executable).with_name("jupyter")
    if not jupyter.exists():
        pytest.fail("jupyter is not installed in the test environment (pip install -e '.[test,lab]')")
    port, token = free_port(), secrets.token_hex(16)
    root = tmp_path / "lab"
    root.mkdir()
    env = {**os.environ, "BIVOICE_HOME": str(tmp_path / "home"), "BIVOICE_DEVICE": "cpu"}
    env.pop("BIVOICE_DSN", None)
    log = (tmp_path / "jupyter.log").open("w")
    proc = subprocess.Popen(
        [str(jupyter), "lab", "--no-browser", "--allow-root", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
         "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
         "--LabApp.expose_app_in_browser=True", "--JupyterNotebookApp.expose_app_in_browser=True",
         "--LabApp.news_url=None",
         "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                request(f"{base}/api/status", token)
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
