"""The microphone in a real browser: JupyterLab 4 and Notebook 7 (served by the same server) on
127.0.0.1, Debian's Chromium driven by playwright-core (tests/browser/voice.mjs), Chromium's fake
microphone playing a question spoken by espeak-ng. A notebook runs ``%voice``; the test clicks
Record and Stop, and checks that the transcript and a Plotly chart appear in the page; then
hold-to-talk, and a corrected transcript asked again from the text box. Screenshots are kept in
out/browser/ (voice-spoken.png after the spoken question, voice.png at the end; voice-notebook*
for Notebook 7).

Needs Debian ``chromium``, ``node`` and ``npm ci`` in tests/browser (no browser download).
Under CI=true a missing piece fails the test instead of skipping it.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest
from conftest import require_tool
from lab_server import jupyterlab, notebook, request, require_driver, run_driver  # noqa: F401 - a fixture

pytestmark = [pytest.mark.browser, pytest.mark.speech, pytest.mark.slow]

ROOT = Path(__file__).parents[1]
QUESTION = "what was the total revenue by region"
SETUP = """\
%load_ext bivoice_jupyter
from bivoice_jupyter import Workspace
from bivoice_jupyter.demo import sales_frame
Workspace().load(sales_frame(), table="sales", if_exists="replace");"""


@pytest.mark.parametrize("app", ["lab", "notebook"])
def test_record_and_stop(app: str, jupyterlab, speak, tmp_path: Path) -> None:
    """The same person at the microphone in JupyterLab 4 and in Notebook 7 (same server)."""
    chromium = require_tool("chromium")
    node = require_tool("node")
    require_driver()
    base, token, _root = jupyterlab
    wav = speak(QUESTION)
    seconds = wav.stat().st_size / (16_000 * 2)  # 16 kHz, 16-bit mono
    request(f"{base}/api/contents/voice.ipynb", token, "PUT", notebook([SETUP, "%voice"]))
    out = ROOT / "out" / "browser"
    out.mkdir(parents=True, exist_ok=True)
    screenshot = out / ("voice.png" if app == "lab" else f"voice-{app}.png")
    options = {"base": base, "token": token, "notebook": "voice.ipynb", "wav": str(wav.resolve()), "app": app,
               "speechSeconds": seconds, "screenshot": str(screenshot), "chromium": chromium,
               "corrected": "average unit price by category"}
    started = time.monotonic()
    result = run_driver(node, "voice.mjs", options)
    shutil.copy(screenshot, tmp_path / "voice.png") if screenshot.exists() else None
    report = json.dumps(result, indent=1)[:4000]
    assert result.get("secureContext") is True, report
    assert result["ok"], report
    assert "revenue" in result["transcript"].lower() and "region" in result["transcript"].lower(), report
    assert result["error"] == "", report
    assert "average unit price by category" in result["corrected"], report  # the edited transcript, re-planned
    assert result["afterHold"] in ("transcribing", "planning", "done", "error"), report  # letting go stopped it
    assert screenshot.stat().st_size > 10_000
    assert screenshot.with_name(screenshot.stem + "-spoken.png").stat().st_size > 10_000
    assert time.monotonic() - started < 150, report  # the whole browser part; usually 20 to 40 s
